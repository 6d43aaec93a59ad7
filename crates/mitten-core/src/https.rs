//! The HTTPS redirect (Flask-Talisman's `force_https`), as a pure decision.

use http::{HeaderValue, StatusCode};

use crate::error::ConfigError;
use crate::origin::{Origin, Scheme, parse_port, split_authority};
use crate::path::PathPattern;
use crate::request::RequestView;

/// The status of the redirect to HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RedirectStatus {
    /// `301 Moved Permanently` (the default; what Talisman sends with `force_https_permanent`).
    #[default]
    MovedPermanently,
    /// `308 Permanent Redirect`: the method and body are kept (a POST stays a POST).
    PermanentRedirect,
}

impl RedirectStatus {
    fn status(self) -> StatusCode {
        match self {
            Self::MovedPermanently => StatusCode::MOVED_PERMANENTLY,
            Self::PermanentRedirect => StatusCode::PERMANENT_REDIRECT,
        }
    }
}

/// Redirects plain-HTTP requests to HTTPS.
///
/// **Attack:** a page, form or cookie served over plain HTTP can be read and rewritten on the
/// network. **Defence:** answer every plain request with a redirect to the same URL over HTTPS
/// (and let HSTS keep the browser there). **Default:** on, 301, except for loopback hosts
/// (`localhost`, `*.localhost`, `127.0.0.0/8`, `[::1]`) so that local development works.
/// Whether a request is secure follows [`TrustedProxies`](crate::TrustedProxies): a client's
/// own `X-Forwarded-Proto` is never believed.
///
/// Routes are exempted by path (matched only on normalised paths, see [`PathPattern`]), because
/// the redirect has to be decided before the request is routed.
///
/// ```
/// use mitten_core::https::{HttpsRedirect, RedirectStatus};
///
/// let redirect = HttpsRedirect::new()
///     .status(RedirectStatus::PermanentRedirect)
///     .exempt_prefix("/.well-known/acme-challenge")?
///     .to_origin("https://example.com:8443")?;
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct HttpsRedirect {
    status: RedirectStatus,
    include_loopback: bool,
    exempt: Vec<PathPattern>,
    target: Option<Origin>,
}

/// What the HTTPS policy says about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpsDecision {
    /// Serve it.
    Serve,
    /// Redirect to `location` with `status`.
    Redirect {
        /// 301 or 308.
        status: StatusCode,
        /// The HTTPS URL.
        location: HeaderValue,
    },
    /// The request has no usable `Host`, so there is nowhere to redirect it: refuse it (400).
    BadHost,
}

impl HttpsRedirect {
    /// The default: 301 to the same host over HTTPS, loopback hosts left alone.
    pub fn new() -> Self {
        Self::default()
    }

    /// 301 (default) or 308.
    pub fn status(mut self, status: RedirectStatus) -> Self {
        self.status = status;
        self
    }

    /// Redirects loopback hosts too (off by default, so local development over HTTP works).
    pub fn include_loopback(mut self) -> Self {
        self.include_loopback = true;
        self
    }

    /// Serves this exact path over plain HTTP too (e.g. a load balancer's health check).
    pub fn exempt_path(mut self, path: &str) -> Result<Self, ConfigError> {
        self.exempt.push(PathPattern::exact(path)?);
        Ok(self)
    }

    /// Serves every path below `prefix` over plain HTTP too (e.g. ACME HTTP-01 challenges).
    pub fn exempt_prefix(mut self, prefix: &str) -> Result<Self, ConfigError> {
        self.exempt.push(PathPattern::prefix(prefix)?);
        Ok(self)
    }

    /// Redirects to this HTTPS origin instead of the request's own host (needed when HTTPS is
    /// served on another port, and safer: the `Host` header is the client's to choose).
    pub fn to_origin(mut self, origin: &str) -> Result<Self, ConfigError> {
        let origin = Origin::parse_config(origin)?;
        if origin.scheme() != Scheme::Https {
            return Err(ConfigError::InvalidOrigin {
                origin: origin.to_string(),
                reason: "the redirect target must be https",
            });
        }
        self.target = Some(origin);
        Ok(self)
    }

    /// Decides what to do with a request that arrived over `scheme`.
    pub fn decide(&self, view: &RequestView<'_>, scheme: Scheme) -> HttpsDecision {
        if scheme == Scheme::Https || self.exempt.iter().any(|p| p.matches(view.path())) {
            return HttpsDecision::Serve;
        }
        let Some(authority) = view.authority() else {
            return HttpsDecision::BadHost;
        };
        // The usual development hosts, known before the full parse (which would reach the same
        // answer for them, slower).
        if !self.include_loopback && is_plain_loopback_authority(authority) {
            return HttpsDecision::Serve;
        }
        let Ok((host, _port)) = split_authority(authority) else {
            return HttpsDecision::BadHost;
        };
        if !self.include_loopback && is_loopback_host(&host) {
            return HttpsDecision::Serve;
        }
        // The path and query to keep. `OPTIONS *` has no path (the asterisk would be glued onto
        // the host), and an absolute-form target (`http://host?x=1`) may have an empty one.
        let path = Some(view.uri.path())
            .filter(|path| path.starts_with('/'))
            .unwrap_or("/");
        let mut location = match &self.target {
            Some(origin) => origin.to_string(),
            None => format!("https://{host}"),
        };
        push_visible(&mut location, path);
        if let Some(query) = view.uri.query() {
            location.push('?');
            push_visible(&mut location, query);
        }
        match HeaderValue::try_from(location) {
            Ok(location) => HttpsDecision::Redirect {
                status: self.status.status(),
                location,
            },
            Err(_) => HttpsDecision::BadHost,
        }
    }
}

/// Appends `text` with every byte outside visible ASCII percent-encoded: a request target may
/// carry raw UTF-8 (a client that is not a browser), which a `Location` must not.
fn push_visible(out: &mut String, text: &str) {
    crate::percent::push_encoded(out, text, |byte| byte.is_ascii_graphic());
}

/// `localhost`, `[::1]` or a `127.0.0.0/8` address, in lower case, with a valid port or none: a
/// loopback authority that [`split_authority`] accepts, recognised without it. (The other forms,
/// `*.localhost` and upper case, are left to the full parse.)
fn is_plain_loopback_authority(authority: &str) -> bool {
    let (host, port) = match authority.rsplit_once(':') {
        // The colon of an IPv6 literal, not a port's.
        Some((_, port)) if port.ends_with(']') => (authority, None),
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    port.is_none_or(|port| parse_port(port).is_ok())
        && (host == "localhost" || host == "[::1]" || is_loopback_ipv4(host))
}

/// `localhost`, `*.localhost`, `127.0.0.0/8` and `[::1]` (RFC 6761, RFC 5735).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    host == "localhost" || host.ends_with(".localhost") || host == "[::1]" || is_loopback_ipv4(host)
}

/// A dotted-quad address in `127.0.0.0/8`.
fn is_loopback_ipv4(host: &str) -> bool {
    host.starts_with("127.")
        && host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ConnectionInfo;
    use http::{HeaderMap, Method, Uri};

    fn decide(redirect: &HttpsRedirect, uri: &str, host: Option<&str>) -> HttpsDecision {
        let uri: Uri = uri.parse().expect("uri");
        let mut headers = HeaderMap::new();
        if let Some(host) = host {
            headers.insert("host", host.parse().expect("value"));
        }
        let view = RequestView {
            method: &Method::POST,
            uri: &uri,
            headers: &headers,
            connection: ConnectionInfo::default(),
        };
        redirect.decide(&view, Scheme::Http)
    }

    fn location(decision: HttpsDecision) -> String {
        match decision {
            HttpsDecision::Redirect { location, .. } => {
                location.to_str().expect("ascii").to_owned()
            }
            other => panic!("expected a redirect, got {other:?}"),
        }
    }

    #[test]
    fn redirects_keeping_path_and_query_and_dropping_port() {
        let redirect = HttpsRedirect::new();
        assert_eq!(
            location(decide(&redirect, "/a/b?x=1&y=2", Some("example.com:8080"))),
            "https://example.com/a/b?x=1&y=2"
        );
    }

    #[test]
    fn an_asterisk_target_redirects_to_the_root() {
        assert_eq!(
            location(decide(&HttpsRedirect::new(), "*", Some("example.com"))),
            "https://example.com/"
        );
    }

    #[test]
    fn raw_utf8_in_the_target_is_percent_encoded_in_the_location() {
        assert_eq!(
            location(decide(
                &HttpsRedirect::new(),
                "/a?q=\u{e9}",
                Some("example.com")
            )),
            "https://example.com/a?q=%C3%A9"
        );
    }

    #[test]
    fn an_absolute_target_without_a_path_keeps_its_query() {
        assert_eq!(
            location(decide(
                &HttpsRedirect::new(),
                "http://example.com?x=1",
                None
            )),
            "https://example.com/?x=1"
        );
    }

    #[test]
    fn configured_target_wins_over_host() {
        let redirect = HttpsRedirect::new()
            .to_origin("https://example.com:8443")
            .expect("valid");
        assert_eq!(
            location(decide(&redirect, "/x", Some("evil.example"))),
            "https://example.com:8443/x"
        );
        assert!(
            HttpsRedirect::new()
                .to_origin("http://example.com")
                .is_err()
        );
    }

    #[test]
    fn loopback_is_left_alone_unless_asked() {
        for host in ["localhost:8080", "127.0.0.1", "[::1]:80", "app.localhost"] {
            assert_eq!(
                decide(&HttpsRedirect::new(), "/", Some(host)),
                HttpsDecision::Serve
            );
        }
        assert!(matches!(
            decide(
                &HttpsRedirect::new().include_loopback(),
                "/",
                Some("localhost")
            ),
            HttpsDecision::Redirect { .. }
        ));
    }

    #[test]
    fn the_quick_loopback_check_agrees_with_the_full_parse() {
        let full = |authority: &str| {
            split_authority(authority).is_ok_and(|(host, _)| is_loopback_host(&host))
        };
        for quick in [
            "localhost",
            "localhost:8080",
            "127.0.0.1",
            "127.0.0.1:65535",
            "127.255.0.9:1",
            "[::1]",
            "[::1]:443",
        ] {
            assert!(is_plain_loopback_authority(quick), "{quick}");
            assert!(full(quick), "{quick}");
        }
        // Left to the full parse: other forms, and anything malformed (which it refuses).
        for slow in [
            "LOCALHOST",
            "app.localhost",
            "localhost.",
            "localhost:0",
            "localhost:65536",
            "localhost:",
            "localhost:8080:80",
            "127.0.0.01",
            "127.1",
            "127.0.0.1.evil.example",
            "[::1]:x",
            "::1",
            "user@localhost",
            "localhost/x",
        ] {
            assert!(!is_plain_loopback_authority(slow), "{slow}");
        }
        assert!(full("LOCALHOST") && full("app.localhost"));
        assert!(!full("localhost:0") && !full("localhost:8080:80") && !full("[::1]:x"));
    }

    #[test]
    fn exemptions_match_normalised_paths_only() {
        let redirect = HttpsRedirect::new().exempt_path("/healthz").expect("valid");
        assert_eq!(
            decide(&redirect, "/healthz", Some("example.com")),
            HttpsDecision::Serve
        );
        assert!(matches!(
            decide(&redirect, "/healthz/../admin", Some("example.com")),
            HttpsDecision::Redirect { .. }
        ));
    }

    #[test]
    fn missing_or_hostile_host_is_refused() {
        assert_eq!(
            decide(&HttpsRedirect::new(), "/", None),
            HttpsDecision::BadHost
        );
        assert_eq!(
            decide(&HttpsRedirect::new(), "/", Some("evil.example/x")),
            HttpsDecision::BadHost
        );
        assert_eq!(
            decide(&HttpsRedirect::new(), "/", Some("user@evil.example")),
            HttpsDecision::BadHost
        );
    }

    #[test]
    fn status_is_configurable() {
        let redirect = HttpsRedirect::new().status(RedirectStatus::PermanentRedirect);
        assert!(matches!(
            decide(&redirect, "/", Some("example.com")),
            HttpsDecision::Redirect {
                status: StatusCode::PERMANENT_REDIRECT,
                ..
            }
        ));
    }
}
