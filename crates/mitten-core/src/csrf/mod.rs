//! CSRF protection in two tiers: where the request comes from, and a token. (Feature `csrf`.)
//!
//! **Attack:** cross-site request forgery: a hostile page makes the browser send a state-changing
//! request to your app with the user's cookies. **Defence**, on every request whose method is not
//! `GET`, `HEAD` or `OPTIONS` (a deny-list of safe methods: `TRACE`, `PROPFIND`, custom and
//! lower-case methods are all checked), both tiers by default:
//!
//! 1. **Origin** ([`OriginVerdict`]): `Sec-Fetch-Site`, else `Origin` compared
//!    exactly with the app's public origin, else on HTTPS a strict `Referer`. A failure here is
//!    final. WebSocket upgrades get this tier too (cross-site WebSocket hijacking).
//! 2. **Token**: an HMAC of the session (or of a `__Host-` cookie secret when there is no session),
//!    masked per render against BREACH, compared in constant time, read from `X-CSRF-Token`
//!    (`X-CSRFToken`, `X-XSRF-Token`), or the `_csrf_token` field of a form or multipart body, or
//!    (if enabled) a JSON body; never from the query string or a cookie. It rotates when the
//!    session is regenerated at login.
//!
//! **Weakening on purpose:** [`CsrfConfig::exempt`] for webhooks (matched on normalised paths
//! only), [`CsrfConfig::without_token`] (origin checks only, as Go's
//! `CrossOriginProtection`), [`CsrfConfig::report_only`] while rolling out.
//!
//! ```
//! use mitten_core::csrf::CsrfConfig;
//!
//! let csrf = CsrfConfig::new()
//!     .public_origin("https://notes.example")
//!     .exempt("/hooks/echo")
//!     .trusted_origin("https://admin.notes.example");
//! # let _ = csrf;
//! ```

mod origin_check;
mod token;

use http::{HeaderMap, Method};

use origin_check::{OriginRules, check_origin};
pub use origin_check::{OriginVerdict, TrustedOrigin};
pub use token::{Binding, CookieSecret, TokenKey};

use crate::error::ConfigError;
use crate::keys::SecretKey;
use crate::origin::Origin;
use crate::path::PathPattern;
use crate::request::RequestView;

/// The header names a token is read from, in order.
pub const TOKEN_HEADERS: &[&str] = &["x-csrf-token", "x-csrftoken", "x-xsrf-token"];
/// [`TOKEN_HEADERS`], parsed once.
static TOKEN_HEADER_NAMES: [http::HeaderName; 3] = [
    http::HeaderName::from_static("x-csrf-token"),
    http::HeaderName::from_static("x-csrftoken"),
    http::HeaderName::from_static("x-xsrf-token"),
];
/// The form field (and JSON key) a token is read from.
pub const TOKEN_FIELD: &str = "_csrf_token";
/// The cookie holding the token secret when there is no session.
pub const COOKIE_NAME: &str = "__Host-mitten-csrf";

/// Why a request failed the CSRF check. Its [`code`](Self::code) goes in logs and JSON bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsrfFailure {
    /// `Sec-Fetch-Site: cross-site`.
    CrossSite,
    /// `Sec-Fetch-Site: same-site` without trust in sibling sites.
    SameSite,
    /// `Sec-Fetch-Site: none` (a typed URL) for an unsafe method.
    UserNavigation,
    /// `Sec-Fetch-Site` repeated, in the wrong case, or not a known value.
    MalformedFetchMetadata,
    /// `Origin: null` (sandboxed frames, `data:` URLs, cross-origin redirects).
    NullOrigin,
    /// `Origin` repeated or not a strict origin (userinfo, path, …).
    MalformedOrigin,
    /// `Origin` is another origin.
    CrossOrigin,
    /// HTTPS without `Origin`, and a `Referer` of another origin (or not https).
    RefererMismatch,
    /// HTTPS without `Origin` or `Referer`, and no valid token either.
    RefererMissing,
    /// Neither Fetch Metadata nor `Origin`, and the token tier is off.
    NoOriginSignal,
    /// No token in the headers or the body.
    TokenMissing,
    /// A token that does not verify for this session (or cookie secret).
    TokenInvalid,
    /// The token was given twice, with different values.
    DuplicateToken,
    /// A one-time token used a second time.
    TokenReused,
    /// No session and no CSRF cookie: nothing the token could be bound to.
    NoBinding,
}

impl CsrfFailure {
    /// A stable name for logs and JSON.
    pub fn code(self) -> &'static str {
        match self {
            Self::CrossSite => "csrf_cross_site",
            Self::SameSite => "csrf_same_site",
            Self::UserNavigation => "csrf_user_navigation",
            Self::MalformedFetchMetadata => "csrf_malformed_fetch_metadata",
            Self::NullOrigin => "csrf_null_origin",
            Self::MalformedOrigin => "csrf_malformed_origin",
            Self::CrossOrigin => "csrf_cross_origin",
            Self::RefererMismatch => "csrf_referer_mismatch",
            Self::RefererMissing => "csrf_referer_missing",
            Self::NoOriginSignal => "csrf_no_origin_signal",
            Self::TokenMissing => "csrf_token_missing",
            Self::TokenInvalid => "csrf_token_invalid",
            Self::DuplicateToken => "csrf_duplicate_token",
            Self::TokenReused => "csrf_token_reused",
            Self::NoBinding => "csrf_no_binding",
        }
    }

    /// A short message, safe to show anyone.
    pub fn message(self) -> &'static str {
        match self {
            Self::CrossSite | Self::SameSite | Self::CrossOrigin => {
                "Cross-site request refused (CSRF)."
            }
            Self::UserNavigation => "This request must come from a page of this site (CSRF).",
            Self::MalformedFetchMetadata | Self::MalformedOrigin | Self::NullOrigin => {
                "The request's origin could not be verified (CSRF)."
            }
            Self::RefererMismatch => "Referer checking failed: it is not this site (CSRF).",
            Self::RefererMissing => "Referer checking failed: no referer (CSRF).",
            Self::NoOriginSignal => "The request's origin is unknown (CSRF).",
            Self::TokenMissing => "The CSRF token is missing.",
            Self::TokenInvalid => "The CSRF token is invalid.",
            Self::DuplicateToken => "The CSRF token was given more than once.",
            Self::TokenReused => "The CSRF token was already used.",
            Self::NoBinding => "The CSRF token has no session to match; reload the page.",
        }
    }
}

/// How tokens work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMode {
    /// One token per session (masked differently on every render). The default.
    PerSession,
    /// A fresh token per render, usable once, for at most `max_age` seconds (flask-xsrf). Needs
    /// sessions: the used tokens are remembered in the session store.
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
    /// Requests without Fetch Metadata and `Origin` are then refused.
    pub fn without_token(mut self) -> Self {
        self.token = false;
        self
    }

    /// Refuses HTTPS requests that carry neither `Origin` nor `Referer` even with a valid token
    /// (by default the token decides for them).
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

    /// Logs what would be refused, and refuses nothing: for rolling out.
    pub fn report_only(mut self) -> Self {
        self.report_only = true;
        self
    }

    /// The most body buffered to find a token (default 1 MiB); a larger body is refused with 413.
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

    /// Binds tokens to the session's user too.
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

/// Validated CSRF settings: what the adapter consults on every request.
#[derive(Clone)]
pub struct CsrfPolicy {
    rules: OriginRules,
    public_origin: Option<Origin>,
    token: bool,
    accept_missing_referer_with_token: bool,
    exempt: Vec<PathPattern>,
    report_only: bool,
    body_limit: usize,
    route_limits: Vec<(PathPattern, usize)>,
    json_token: bool,
    bind_user: bool,
    mode: TokenMode,
    key: TokenKey,
    exempt_if: Option<ExemptIf>,
}

impl std::fmt::Debug for CsrfPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsrfPolicy")
            .field("public_origin", &self.public_origin)
            .field("exempt", &self.exempt)
            .field("report_only", &self.report_only)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// What to do before looking at the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precheck {
    /// Not checked: a safe method, an exempt path, or a WebSocket upgrade from this site.
    Skip,
    /// Refused by tier 1.
    Refuse(CsrfFailure),
    /// Tier 1 passed (or could not decide): the token decides.
    NeedToken,
}

/// `GET`, `HEAD` and `OPTIONS` (exactly: `get` or `TRACE` are not safe).
pub fn is_safe_method(method: &Method) -> bool {
    *method == Method::GET || *method == Method::HEAD || *method == Method::OPTIONS
}

/// A WebSocket handshake (`GET` with `Upgrade: websocket`).
pub fn is_websocket_upgrade(view: &RequestView<'_>) -> bool {
    view.headers
        .get_all(http::header::UPGRADE)
        .iter()
        .any(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
}

impl CsrfPolicy {
    /// The token key, for rendering tokens.
    pub fn token_key(&self) -> &TokenKey {
        &self.key
    }

    /// Whether tokens are required at all.
    pub fn tokens_enabled(&self) -> bool {
        self.token
    }

    /// Report-only mode.
    pub fn is_report_only(&self) -> bool {
        self.report_only
    }

    /// The body limit for a request path.
    pub fn body_limit(&self, path: &str) -> usize {
        self.route_limits
            .iter()
            .find(|(pattern, _)| pattern.matches(path))
            .map_or(self.body_limit, |(_, limit)| *limit)
    }

    /// Whether JSON bodies are searched for a token.
    pub fn token_in_json(&self) -> bool {
        self.json_token
    }

    /// Whether tokens bind the user too.
    pub fn binds_user(&self) -> bool {
        self.bind_user
    }

    /// The token mode.
    pub fn mode(&self) -> TokenMode {
        self.mode
    }

    /// Whether a public origin is configured: then the request's own origin is never compared
    /// with, and need not be worked out for [`precheck`](Self::precheck).
    ///
    /// ```
    /// use mitten_core::csrf::CsrfConfig;
    ///
    /// let policy = CsrfConfig::new().public_origin("https://app.example").build()?;
    /// assert!(policy.has_public_origin());
    /// assert!(!CsrfConfig::new().build()?.has_public_origin());
    /// # Ok::<(), mitten_core::ConfigError>(())
    /// ```
    pub fn has_public_origin(&self) -> bool {
        self.public_origin.is_some()
    }

    /// Tier 1 and the routing of the decision. `computed` works out the request's own origin
    /// (scheme as trusted, `Host`). It is called at most once, and only when no public origin
    /// is configured and tier 1 has to compare an origin: an `Origin` header, or over HTTPS
    /// without one, the `Referer` (a browser's `Sec-Fetch-Site` needs no origin). Unknown then,
    /// the request is refused, a missing `Referer` included (it is left to the token only when
    /// the own origin is known).
    pub fn precheck(
        &self,
        view: &RequestView<'_>,
        secure: bool,
        computed: impl FnOnce() -> Option<Origin>,
    ) -> Precheck {
        let upgrade = is_websocket_upgrade(view);
        if is_safe_method(view.method) && !upgrade {
            return Precheck::Skip;
        }
        if self.exempt.iter().any(|p| p.matches(view.path()))
            || self.exempt_if.as_ref().is_some_and(|f| f(view))
        {
            return Precheck::Skip;
        }
        let computed = std::cell::Cell::new(Some(computed));
        let own = std::cell::OnceCell::new();
        let public = || {
            self.public_origin.as_ref().or_else(|| {
                own.get_or_init(|| computed.take().and_then(|compute| compute()))
                    .as_ref()
            })
        };
        let verdict = check_origin(view.headers, &public, secure, &self.rules);
        match verdict {
            OriginVerdict::Refuse(failure) => Precheck::Refuse(failure),
            // A browser always sends Origin on a WebSocket handshake: without one, it is not a
            // browser, and no cross-site page is involved.
            _ if upgrade => Precheck::Skip,
            OriginVerdict::SameOrigin if !self.token => Precheck::Skip,
            OriginVerdict::NoSignal if !self.token => Precheck::Refuse(CsrfFailure::NoOriginSignal),
            OriginVerdict::RefererMissing
                if !self.token || !self.accept_missing_referer_with_token =>
            {
                Precheck::Refuse(CsrfFailure::RefererMissing)
            }
            OriginVerdict::SameOrigin | OriginVerdict::NoSignal | OriginVerdict::RefererMissing => {
                Precheck::NeedToken
            }
        }
    }

    /// Verifies a per-session token against its binding.
    pub fn verify(
        &self,
        token: Option<&str>,
        binding: Option<Binding<'_>>,
        user: Option<&str>,
    ) -> Result<(), CsrfFailure> {
        let token = token.ok_or(CsrfFailure::TokenMissing)?;
        let binding = binding.ok_or(CsrfFailure::NoBinding)?;
        let user = if self.bind_user { user } else { None };
        if self.key.verify(token, binding, user) {
            Ok(())
        } else {
            Err(CsrfFailure::TokenInvalid)
        }
    }

    /// A masked token for one render.
    pub fn render(&self, binding: Binding<'_>, user: Option<&str>, now: u64) -> String {
        match self.mode {
            TokenMode::PerSession => self
                .key
                .render(binding, if self.bind_user { user } else { None }),
            TokenMode::OneTime { .. } => self.key.render_once(binding, now),
        }
    }
}

/// The token from the request headers: `Ok(None)` if none, an error if given twice differently.
pub fn token_from_headers(headers: &HeaderMap) -> Result<Option<&str>, CsrfFailure> {
    let mut found: Option<&str> = None;
    for name in &TOKEN_HEADER_NAMES {
        for value in headers.get_all(name) {
            let value = value
                .to_str()
                .map_err(|_| CsrfFailure::TokenInvalid)?
                .trim();
            if value.is_empty() {
                continue;
            }
            match found {
                Some(previous) if previous != value => return Err(CsrfFailure::DuplicateToken),
                _ => found = Some(value),
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests;
