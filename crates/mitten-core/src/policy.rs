//! The whole configuration, and the request-time decision that adapters call.

use http::{HeaderValue, StatusCode};

use crate::error::ConfigError;
use crate::headers::{HeaderPolicy, SecurityHeaders};
use crate::https::{HttpsDecision, HttpsRedirect};
use crate::origin::Scheme;
use crate::reject::Rejection;
use crate::request::{RequestView, TrustedProxies, X_FORWARDED_HOST, request_scheme};

/// Everything Mitten should do, before validation. Secure by default.
///
/// | setting | default |
/// |---|---|
/// | [`headers`](Self::headers) | [`SecurityHeaders::strict`] |
/// | [`https_redirect`](Self::https_redirect) | [`HttpsRedirect::new`]: 301, loopback hosts exempt |
/// | [`trusted_proxies`](Self::trusted_proxies) | none |
/// | [`always_tls`](Self::always_tls) | off: a request is secure when the server says its connection is TLS |
///
/// ```
/// use mitten_core::{Config, TrustedProxies};
/// use mitten_core::headers::SecurityHeaders;
///
/// // The default.
/// let policy = Config::strict().build()?;
///
/// // Behind a TLS-terminating proxy on 10.0.0.1, serving only JSON.
/// let api = Config::api().trusted_proxies(TrustedProxies::new(["10.0.0.1"])?).build()?;
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Config {
    headers: SecurityHeaders,
    https_redirect: Option<HttpsRedirect>,
    trusted_proxies: TrustedProxies,
    always_tls: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self::strict()
    }
}

impl Config {
    /// The default: [`SecurityHeaders::strict`] and the HTTPS redirect.
    pub fn strict() -> Self {
        Self {
            headers: SecurityHeaders::strict(),
            https_redirect: Some(HttpsRedirect::new()),
            trusted_proxies: TrustedProxies::none(),
            always_tls: false,
        }
    }

    /// For JSON APIs: [`SecurityHeaders::api`] and the HTTPS redirect.
    pub fn api() -> Self {
        Self::strict().headers(SecurityHeaders::api())
    }

    /// Flask-Talisman's defaults ([`SecurityHeaders::talisman`]) and the HTTPS redirect.
    pub fn talisman() -> Self {
        Self::strict().headers(SecurityHeaders::talisman())
    }

    /// The security headers.
    pub fn headers(mut self, headers: SecurityHeaders) -> Self {
        self.headers = headers;
        self
    }

    /// The HTTPS redirect policy.
    pub fn https_redirect(mut self, redirect: HttpsRedirect) -> Self {
        self.https_redirect = Some(redirect);
        self
    }

    /// Serves plain-HTTP requests instead of redirecting them. Only right when something in
    /// front (a proxy, a load balancer) already redirects; otherwise pages and cookies travel
    /// in clear text.
    pub fn without_https_redirect(mut self) -> Self {
        self.https_redirect = None;
        self
    }

    /// The proxies whose `Forwarded` / `X-Forwarded-Proto` headers are believed.
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// Treats every request as secure: for a server that only listens with TLS and does not
    /// insert [`ConnectionInfo`](crate::ConnectionInfo). Never set it on a plain listener.
    pub fn always_tls(mut self) -> Self {
        self.always_tls = true;
        self
    }

    /// Validates the configuration and builds everything that does not change per request.
    pub fn build(self) -> Result<Policy, ConfigError> {
        Ok(Policy {
            headers: self.headers.compile()?,
            https_redirect: self.https_redirect,
            trusted_proxies: self.trusted_proxies,
            always_tls: self.always_tls,
        })
    }
}

/// A validated [`Config`]: what adapters call on every request.
#[derive(Debug, Clone)]
pub struct Policy {
    headers: HeaderPolicy,
    https_redirect: Option<HttpsRedirect>,
    trusted_proxies: TrustedProxies,
    always_tls: bool,
}

/// What to do with a request before it reaches the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Pass it on.
    Continue {
        /// Whether the request is secure (decides HSTS).
        secure: bool,
    },
    /// Answer with a redirect instead.
    Redirect {
        /// 301 or 308.
        status: StatusCode,
        /// Where to.
        location: HeaderValue,
    },
    /// Refuse it.
    Reject(Rejection),
}

impl Policy {
    /// The compiled header policy, applied to every response.
    pub fn headers(&self) -> &HeaderPolicy {
        &self.headers
    }

    /// The proxies whose forwarding headers are believed.
    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.trusted_proxies
    }

    /// The scheme of a request, as far as can be trusted.
    pub fn scheme(&self, view: &RequestView<'_>) -> Scheme {
        request_scheme(view, &self.trusted_proxies, self.always_tls)
    }

    /// The origin of the request as the client addressed it: the trusted scheme and the
    /// `Host` (or, from a trusted proxy, `X-Forwarded-Host`). What origin checks compare with
    /// when no public origin is configured.
    pub fn request_origin(&self, view: &RequestView<'_>) -> Option<crate::Origin> {
        let scheme = self.scheme(view);
        let forwarded_host = self
            .trusted_proxies
            .trusts(view)
            .then(|| {
                view.headers
                    .get(&X_FORWARDED_HOST)
                    .and_then(|h| h.to_str().ok())
            })
            .flatten()
            .and_then(|h| h.rsplit(',').next())
            .map(str::trim);
        let authority = forwarded_host.or_else(|| view.authority())?;
        crate::Origin::from_scheme_and_authority(scheme, authority).ok()
    }

    /// Decides whether a request goes on to the application.
    pub fn check_request(&self, view: &RequestView<'_>) -> Verdict {
        let scheme = self.scheme(view);
        if let Some(redirect) = &self.https_redirect {
            match redirect.decide(view, scheme) {
                HttpsDecision::Serve => {}
                HttpsDecision::Redirect { status, location } => {
                    tracing::debug!(target: "mitten", path = view.path(), "redirecting plain HTTP to HTTPS");
                    return Verdict::Redirect { status, location };
                }
                HttpsDecision::BadHost => return Verdict::Reject(Rejection::BadHost),
            }
        }
        Verdict::Continue {
            secure: scheme == Scheme::Https,
        }
    }
}
