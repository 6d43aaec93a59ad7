//! The small view of a request that every decision works on, and what proxies may tell us.

use std::net::{IpAddr, SocketAddr};

use http::{HeaderMap, Method, Uri, header::HOST};
use ipnet::IpNet;

use crate::error::ConfigError;
use crate::origin::Scheme;

/// How a request reached this process: set by the server as a request extension.
///
/// Mitten cannot see the socket. A server that terminates TLS itself inserts
/// `ConnectionInfo { tls: true, .. }`; the peer address is what trusted-proxy rules are checked
/// against. axum's `ConnectInfo<SocketAddr>` is read for the peer too.
///
/// ```
/// use mitten_core::ConnectionInfo;
///
/// let info = ConnectionInfo { peer: Some("127.0.0.1:50000".parse().unwrap()), tls: true };
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(info);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnectionInfo {
    /// The address of the other end of the TCP connection.
    pub peer: Option<SocketAddr>,
    /// Whether the connection is TLS.
    pub tls: bool,
}

/// What the decisions look at: method, URI, headers and the connection. Borrowed, never copied.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    /// The request method.
    pub method: &'a Method,
    /// The request target.
    pub uri: &'a Uri,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// How the request reached this process, when the server says so.
    pub connection: ConnectionInfo,
}

impl<'a> RequestView<'a> {
    /// The authority the client asked for: the URI's (HTTP/2, absolute-form) or the `Host` header.
    ///
    /// `None` when it is missing, duplicated or not valid UTF-8.
    pub fn authority(&self) -> Option<&'a str> {
        if let Some(authority) = self.uri.authority() {
            return Some(authority.as_str());
        }
        let mut hosts = self.headers.get_all(HOST).iter();
        let host = hosts.next()?;
        if hosts.next().is_some() {
            return None;
        }
        host.to_str().ok()
    }

    /// The request path (always starts with `/`, or is `*`).
    pub fn path(&self) -> &'a str {
        self.uri.path()
    }
}

/// The proxies whose `Forwarded` / `X-Forwarded-*` headers are believed.
///
/// **Attack:** a client that sends `X-Forwarded-Proto: https` itself to skip the HTTPS redirect or
/// to pass an origin check. **Defence:** forwarding headers count only when the TCP peer is a
/// configured proxy. **Default:** no proxy is trusted.
///
/// ```
/// use mitten_core::TrustedProxies;
///
/// let proxies = TrustedProxies::new(["10.0.0.0/8", "127.0.0.1"])?;
/// assert!(proxies.contains("10.1.2.3".parse().unwrap()));
/// assert!(!proxies.contains("192.0.2.1".parse().unwrap()));
/// assert!(TrustedProxies::new(["10.0.0.0/33"]).is_err());
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
}

impl TrustedProxies {
    /// Trusts no proxy.
    pub fn none() -> Self {
        Self::default()
    }

    /// Trusts these addresses and CIDR networks.
    pub fn new(proxies: impl IntoIterator<Item = impl AsRef<str>>) -> Result<Self, ConfigError> {
        let networks = proxies
            .into_iter()
            .map(|proxy| {
                let text = proxy.as_ref();
                text.parse::<IpNet>()
                    .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| ConfigError::InvalidProxy(text.to_owned()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { networks })
    }

    /// Whether `ip` is a trusted proxy (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// Whether the request came through a trusted proxy.
    pub fn trusts(&self, view: &RequestView<'_>) -> bool {
        !self.networks.is_empty()
            && view
                .connection
                .peer
                .is_some_and(|peer| self.contains(peer.ip()))
    }
}

/// The scheme the client used, as far as can be trusted.
///
/// In order: TLS on this connection (or an `https` request URI, as HTTP/2 gives), the
/// `always_tls` setting, then, only from a trusted proxy, the last `proto=` of `Forwarded` or
/// else the last `X-Forwarded-Proto` value. Anything else is plain HTTP.
pub fn request_scheme(
    view: &RequestView<'_>,
    proxies: &TrustedProxies,
    always_tls: bool,
) -> Scheme {
    if view.connection.tls || always_tls || view.uri.scheme_str() == Some("https") {
        return Scheme::Https;
    }
    if proxies.trusts(view) {
        if let Some(scheme) = forwarded_proto(view.headers) {
            return scheme;
        }
    }
    Scheme::Http
}

/// `X-Forwarded-Proto`, parsed once rather than on every request.
static X_FORWARDED_PROTO: http::HeaderName = http::HeaderName::from_static("x-forwarded-proto");
/// `X-Forwarded-Host`, the same (read by [`Policy`](crate::Policy)).
pub(crate) static X_FORWARDED_HOST: http::HeaderName =
    http::HeaderName::from_static("x-forwarded-host");

/// The protocol the nearest proxy reported: `Forwarded` (RFC 7239) first, then
/// `X-Forwarded-Proto`. The last element wins, since the nearest proxy appends its own.
pub fn forwarded_proto(headers: &HeaderMap) -> Option<Scheme> {
    let last_forwarded = headers
        .get_all(http::header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .last();
    if let Some(element) = last_forwarded {
        let proto = element.split(';').find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            key.eq_ignore_ascii_case("proto")
                .then(|| value.trim_matches('"'))
        });
        if let Some(proto) = proto {
            return Scheme::parse(proto);
        }
    }
    let last = headers
        .get_all(&X_FORWARDED_PROTO)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .last()?;
    Scheme::parse(last.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(uri: &'a Uri, headers: &'a HeaderMap, peer: &str, tls: bool) -> RequestView<'a> {
        RequestView {
            method: &Method::GET,
            uri,
            headers,
            connection: ConnectionInfo {
                peer: Some(peer.parse().expect("addr")),
                tls,
            },
        }
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let uri = Uri::from_static("/");
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-proto", "https".parse().expect("value"));
        let proxies = TrustedProxies::new(["10.0.0.1"]).expect("valid");
        let from_proxy = view(&uri, &headers, "10.0.0.1:4000", false);
        let from_client = view(&uri, &headers, "192.0.2.7:4000", false);
        assert_eq!(request_scheme(&from_proxy, &proxies, false), Scheme::Https);
        assert_eq!(request_scheme(&from_client, &proxies, false), Scheme::Http);
        assert_eq!(
            request_scheme(&from_proxy, &TrustedProxies::none(), false),
            Scheme::Http
        );
    }

    #[test]
    fn forwarded_takes_the_nearest_element() {
        let mut headers = HeaderMap::new();
        headers.append(
            "forwarded",
            "for=1.2.3.4;proto=http".parse().expect("value"),
        );
        headers.append(
            "forwarded",
            "for=5.6.7.8;proto=\"https\"".parse().expect("value"),
        );
        headers.insert("x-forwarded-proto", "http".parse().expect("value"));
        assert_eq!(forwarded_proto(&headers), Some(Scheme::Https));
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-proto", "https, http".parse().expect("value"));
        assert_eq!(forwarded_proto(&headers), Some(Scheme::Http));
        headers.insert("x-forwarded-proto", "gopher".parse().expect("value"));
        assert_eq!(forwarded_proto(&headers), None);
    }

    #[test]
    fn tls_connection_is_https() {
        let uri = Uri::from_static("/");
        let headers = HeaderMap::new();
        let tls = view(&uri, &headers, "192.0.2.7:4000", true);
        assert_eq!(
            request_scheme(&tls, &TrustedProxies::none(), false),
            Scheme::Https
        );
    }

    #[test]
    fn mapped_ipv6_counts_as_ipv4() {
        let proxies = TrustedProxies::new(["127.0.0.1"]).expect("valid");
        assert!(proxies.contains("::ffff:127.0.0.1".parse().expect("ip")));
    }

    #[test]
    fn duplicate_host_is_no_authority() {
        let uri = Uri::from_static("/");
        let mut headers = HeaderMap::new();
        headers.append(HOST, "a.example".parse().expect("value"));
        headers.append(HOST, "b.example".parse().expect("value"));
        assert_eq!(view(&uri, &headers, "192.0.2.7:1", false).authority(), None);
    }
}
