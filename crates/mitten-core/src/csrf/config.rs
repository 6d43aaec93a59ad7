//! CSRF settings: the builder a user configures, and its validation into a [`CsrfPolicy`].

use super::origin_check::OriginRules;
use super::{CsrfPolicy, TokenKey, TrustedOrigin};
use crate::error::ConfigError;
use crate::keys::SecretKey;
use crate::origin::Origin;
use crate::path::PathPattern;
use crate::request::RequestView;

/// How tokens work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMode {
    /// One token per session (masked differently on every render). The default.
    PerSession,
    /// A fresh token per render, usable once, for at most `max_age` seconds (flask-xsrf). Needs
    /// sessions: the used tokens are remembered in the session store, each written there (with
    /// compare-and-set) before the request reaches the handler, so a token replayed by many
    /// requests at once passes once.
    OneTime {
        /// Seconds a token stays valid.
        max_age: u64,
    },
}

/// A predicate that exempts requests from the CSRF check.
pub type ExemptIf = std::sync::Arc<dyn Fn(&RequestView<'_>) -> bool + Send + Sync>;

/// CSRF settings. Secure by default: both tiers on, no exemption, no trusted origin.
#[derive(Clone)]
#[must_use]
pub struct CsrfConfig {
    public_origin: Option<String>,
    trusted: Vec<String>,
    trust_same_site: bool,
    allow_user_navigation: bool,
    token: bool,
    accept_missing_referer_with_token: bool,
    exempt: Vec<String>,
    report_only: bool,
    body_limit: usize,
    route_limits: Vec<(String, usize)>,
    json_token: bool,
    bind_user: bool,
    mode: TokenMode,
    key: Option<SecretKey>,
    exempt_if: Option<ExemptIf>,
}

impl std::fmt::Debug for CsrfConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsrfConfig")
            .field("public_origin", &self.public_origin)
            .field("trusted", &self.trusted)
            .field("exempt", &self.exempt)
            .field("exempt_if", &self.exempt_if.as_ref().map(|_| "<predicate>"))
            .field("report_only", &self.report_only)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Default for CsrfConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl CsrfConfig {
    /// Both tiers, no exemption, tokens from headers and form bodies up to 1 MiB.
    pub fn new() -> Self {
        Self {
            public_origin: None,
            trusted: Vec::new(),
            trust_same_site: false,
            allow_user_navigation: false,
            token: true,
            accept_missing_referer_with_token: true,
            exempt: Vec::new(),
            report_only: false,
            body_limit: 1 << 20,
            route_limits: Vec::new(),
            json_token: false,
            bind_user: false,
            mode: TokenMode::PerSession,
            key: None,
            exempt_if: None,
        }
    }

    /// Skips CSRF checks for every request the predicate accepts. **Dangerous**: a predicate
    /// that looks at anything the attacker controls (a header, a query parameter, a raw path
    /// prefix) turns off the protection for the attacker. Prefer [`exempt`](Self::exempt).
    ///
    /// ```
    /// use mitten_core::csrf::CsrfConfig;
    ///
    /// // Requests from the internal network's service mesh carry no browser cookies.
    /// let csrf = CsrfConfig::new().danger_exempt_if(|request| {
    ///     request.connection.peer.is_some_and(|peer| peer.ip().is_loopback())
    /// });
    /// # let _ = csrf;
    /// ```
    pub fn danger_exempt_if(
        mut self,
        predicate: impl Fn(&RequestView<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.exempt_if = Some(std::sync::Arc::new(predicate));
        self
    }

    /// The origin browsers use for the app (`https://notes.example`). Needed behind a proxy
    /// that rewrites `Host`; otherwise it comes from the request (scheme and `Host`, with the
    /// trusted-proxy rules).
    pub fn public_origin(mut self, origin: &str) -> Self {
        self.public_origin = Some(origin.to_owned());
        self
    }

    /// Trusts another origin: exact (`https://admin.example`), or every subdomain
    /// (`https://*.example.com`, weaker: any subdomain, a forgotten one included, is trusted).
    pub fn trusted_origin(mut self, origin: &str) -> Self {
        self.trusted.push(origin.to_owned());
        self
    }

    /// Accepts `Sec-Fetch-Site: same-site` (sibling subdomains). Weaker: any sibling can forge.
    pub fn trust_same_site(mut self) -> Self {
        self.trust_same_site = true;
        self
    }

    /// Accepts `Sec-Fetch-Site: none` (a URL typed or bookmarked) for unsafe methods.
    pub fn allow_user_navigation(mut self) -> Self {
        self.allow_user_navigation = true;
        self
    }

    /// Origin checks only, no token (Go's `CrossOriginProtection`, tower-http's `csrf`).
    /// Requests without Fetch Metadata and `Origin` are then refused, but for a WebSocket
    /// handshake: every browser sends `Origin` with one, and one without it is no browser's
    /// ([`is_websocket_handshake`](super::is_websocket_handshake)).
    pub fn without_token(mut self) -> Self {
        self.token = false;
        self
    }

    /// Refuses HTTPS requests that carry neither `Origin` nor `Referer` even with a valid token
    /// (by default the token decides for them). A WebSocket handshake, which carries no token,
    /// is still judged by its origin alone
    /// ([`is_websocket_handshake`](super::is_websocket_handshake)).
    pub fn require_referer_on_https(mut self) -> Self {
        self.accept_missing_referer_with_token = false;
        self
    }

    /// Skips CSRF checks for this exact path (a webhook): matched only on normalised paths, so it
    /// never extends to `/hook/../admin`, `/hookX`, `//hook` or percent-encoded forms. Such a
    /// route needs its own authentication (a signature).
    pub fn exempt(mut self, path: &str) -> Self {
        self.exempt.push(path.to_owned());
        self
    }

    /// Logs what would be refused, and refuses nothing: for rolling out. A body the token would
    /// have to be read from that is, or may be (its length unknown), over the
    /// [`body_limit`](Self::body_limit) is passed on unread, logged as `csrf_body_not_read`. Only
    /// a session store that cannot be reached, a body that breaks off while it is read, or one
    /// longer than its announced length (which a server's own framing refuses first) is still
    /// answered with an error (503, 400, 413): none of them could be served anyway.
    pub fn report_only(mut self) -> Self {
        self.report_only = true;
        self
    }

    /// The most body buffered to find a token (default 1 MiB); a larger body is refused with 413,
    /// one that breaks off with 400.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// A different body limit for one exact path (an upload form, say).
    pub fn body_limit_for(mut self, path: &str, bytes: usize) -> Self {
        self.route_limits.push((path.to_owned(), bytes));
        self
    }

    /// Also reads the token from the `_csrf_token` key of a JSON body.
    pub fn token_in_json(mut self) -> Self {
        self.json_token = true;
        self
    }

    /// Binds tokens to the session's user too, one-time tokens included (as flask-xsrf does): a
    /// token rendered before a user signed in, or for another user, is refused even when the
    /// session keeps its secret. An empty user ID counts as no user.
    pub fn bind_to_user(mut self) -> Self {
        self.bind_user = true;
        self
    }

    /// Per-session (default) or one-time tokens.
    pub fn mode(mut self, mode: TokenMode) -> Self {
        self.mode = mode;
        self
    }

    /// The application key tokens are derived from (purpose `csrf-token`). Default: a random key
    /// made at start, so tokens do not survive a restart and are not shared between instances:
    /// set one for more than one instance.
    pub fn key(mut self, key: SecretKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Validates the settings.
    pub fn build(self) -> Result<CsrfPolicy, ConfigError> {
        let public_origin = self
            .public_origin
            .as_deref()
            .map(Origin::parse_config)
            .transpose()?;
        let trusted = self
            .trusted
            .iter()
            .map(|t| TrustedOrigin::parse(t))
            .collect::<Result<_, _>>()?;
        let exempt = self
            .exempt
            .iter()
            .map(|p| PathPattern::exact(p))
            .collect::<Result<_, _>>()?;
        if self.body_limit == 0 || self.route_limits.iter().any(|(_, l)| *l == 0) {
            return Err(ConfigError::InvalidCsrf(
                "a body limit must be at least one byte",
            ));
        }
        let route_limits = self
            .route_limits
            .iter()
            .map(|(p, l)| PathPattern::exact(p).map(|p| (p, *l)))
            .collect::<Result<_, _>>()?;
        Ok(CsrfPolicy {
            rules: OriginRules {
                trust_same_site: self.trust_same_site,
                allow_user_navigation: self.allow_user_navigation,
                trusted,
            },
            public_origin,
            token: self.token,
            accept_missing_referer_with_token: self.accept_missing_referer_with_token,
            exempt,
            report_only: self.report_only,
            body_limit: self.body_limit,
            route_limits,
            json_token: self.json_token,
            bind_user: self.bind_user,
            mode: self.mode,
            key: TokenKey::new(&self.key.unwrap_or_else(SecretKey::generate)),
            exempt_if: self.exempt_if,
        })
    }
}
