//! CSRF protection in two tiers: where the request comes from, and a token. (Feature `csrf`.)
//!
//! **Attack:** cross-site request forgery: a hostile page makes the browser send a state-changing
//! request to your app with the user's cookies. **Defence**, on every request whose method is not
//! `GET`, `HEAD` or `OPTIONS` (a deny-list of safe methods: `TRACE`, `PROPFIND`, custom and
//! lower-case methods are all checked), both tiers by default:
//!
//! 1. **Origin** ([`OriginVerdict`]): `Sec-Fetch-Site`, else `Origin` compared
//!    exactly with the app's public origin, else on HTTPS a strict `Referer`. A failure here is
//!    final. WebSocket handshakes, over HTTP/1.1 and HTTP/2, get this tier alone (cross-site
//!    WebSocket hijacking): see [`is_websocket_handshake`].
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

mod config;
mod memo;
mod origin_check;
mod token;
#[cfg(feature = "sessions")]
mod used;

use http::{HeaderMap, Method};

pub use config::{CsrfConfig, ExemptIf, TokenMode};
pub use memo::TokenMemo;
use origin_check::{OriginRules, check_origin};
pub use origin_check::{OriginVerdict, TrustedOrigin};
pub use token::{Binding, CookieSecret, TokenKey};
#[cfg(feature = "sessions")]
pub use used::{USED_TOKENS_KEPT, USED_TOKENS_KEY, record_use};

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
    /// The body the token had to be read from does not parse as its `Content-Type` says (a
    /// multipart body without its boundary's structure), so no token can be taken from it
    /// unambiguously.
    MalformedBody,
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
            Self::MalformedBody => "csrf_malformed_body",
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
            Self::MalformedBody => {
                "The request body does not parse as its Content-Type says (CSRF)."
            }
            Self::TokenReused => "The CSRF token was already used.",
            Self::NoBinding => "The CSRF token has no session to match; reload the page.",
        }
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
    /// Not checked: a safe method, an exempt path, or a WebSocket handshake from this site (or
    /// from a client that is no browser).
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

/// Whether an HTML form whose `method` attribute is `method_attribute` may carry the CSRF
/// token: only `post`, in any case. A browser sends every other form as a `GET`: `get`, no
/// attribute (`""`), and any value that is not exactly a keyword (`" post"`, `"put"`). A `GET`
/// form puts its fields in the URL, where `Referer` headers, server logs and the history keep
/// them. A `dialog` form is never sent.
///
/// ```
/// use mitten_core::csrf::form_may_carry_token;
///
/// assert!(form_may_carry_token("post"));
/// assert!(form_may_carry_token("POST"));
/// assert!(!form_may_carry_token("get"));
/// assert!(!form_may_carry_token("")); // no method: a GET
/// assert!(!form_may_carry_token("put")); // not a keyword: a GET
/// ```
pub fn form_may_carry_token(method_attribute: &str) -> bool {
    // HTML matches an enumerated attribute's keywords ASCII case-insensitively and trims
    // nothing: an invalid value falls back to the default, GET.
    method_attribute.eq_ignore_ascii_case("post")
}

/// A WebSocket handshake: HTTP/1.1's `GET` with `Upgrade: websocket`, or a `CONNECT` with
/// `Sec-WebSocket-Version`, which is how a browser opens a WebSocket over HTTP/2 (RFC 8441's
/// extended `CONNECT`, whose `:protocol websocket` is a pseudo-header, not in the map; §5
/// requires `Sec-WebSocket-Version` of it) and HTTP/3 (RFC 9220). A request of another method
/// with these headers, or a `CONNECT` without `Sec-WebSocket-Version`, is no handshake, and is
/// checked as its method is.
///
/// Tier 1 alone judges a handshake: no browser sends a CSRF token with one, and every browser
/// sends `Origin` with one. A handshake with neither `Origin` nor `Sec-Fetch-Site` is no
/// browser's, and is not asked for a token, even with
/// [`without_token`](CsrfConfig::without_token) or
/// [`require_referer_on_https`](CsrfConfig::require_referer_on_https). Judging a `CONNECT` so
/// gives a page nothing: it has no other way to make a browser send one (the Fetch standard
/// forbids the method to `fetch()`, and forms cannot use it).
///
/// ```
/// use http::{HeaderMap, HeaderValue, Method, Uri};
/// use mitten_core::csrf::is_websocket_handshake;
/// use mitten_core::{ConnectionInfo, RequestView};
///
/// let uri = Uri::from_static("/ws");
/// let none = HeaderMap::new();
/// let mut upgrade = HeaderMap::new();
/// upgrade.insert("upgrade", HeaderValue::from_static("websocket"));
/// let mut version = HeaderMap::new();
/// version.insert("sec-websocket-version", HeaderValue::from_static("13"));
/// let view = |method, headers| RequestView {
///     method,
///     uri: &uri,
///     headers,
///     connection: ConnectionInfo::default(),
/// };
/// assert!(is_websocket_handshake(&view(&Method::GET, &upgrade)));
/// assert!(is_websocket_handshake(&view(&Method::CONNECT, &version)));
/// assert!(!is_websocket_handshake(&view(&Method::CONNECT, &none)));
/// assert!(!is_websocket_handshake(&view(&Method::POST, &upgrade)));
/// ```
pub fn is_websocket_handshake(view: &RequestView<'_>) -> bool {
    if *view.method == Method::GET {
        view.headers
            .get_all(http::header::UPGRADE)
            .iter()
            .any(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
    } else {
        *view.method == Method::CONNECT
            && view
                .headers
                .contains_key(http::header::SEC_WEBSOCKET_VERSION)
    }
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
        let handshake = is_websocket_handshake(view);
        if is_safe_method(view.method) && !handshake {
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
            _ if handshake => Precheck::Skip,
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
            TokenMode::OneTime { .. } => {
                self.key
                    .render_once(binding, if self.bind_user { user } else { None }, now)
            }
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
