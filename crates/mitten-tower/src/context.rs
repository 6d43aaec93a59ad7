//! [`MittenRequest`]: what the layer gives one request, in one request extension.

use http::Request;
use mitten_core::csp::CspNonce;

/// What Mitten's layer gives one request: its CSP nonce, its session and the context to render
/// CSRF tokens from. The layer puts it in the request's extensions, once (one allocation for
/// the three); the axum extractors ([`Nonce`](crate::Nonce), `Session`, `CsrfToken`) read it,
/// and other tower services read it with [`MittenRequest::of`].
///
/// ```
/// use http::Request;
/// use mitten_tower::MittenRequest;
///
/// fn script_tag<B>(request: &Request<B>) -> Option<String> {
///     let nonce = MittenRequest::of(request)?.nonce();
///     Some(format!(r#"<script nonce="{nonce}">/* … */</script>"#))
/// }
///
/// // Outside Mitten's layer there is none.
/// assert_eq!(script_tag(&Request::new(())), None);
/// ```
#[derive(Debug, Clone)]
pub struct MittenRequest {
    nonce: CspNonce,
    /// What the outer service learnt of the request, for the inner ones (read once).
    facts: RequestFacts,
    #[cfg(feature = "sessions")]
    session: Option<mitten_core::session::Session>,
    #[cfg(feature = "csrf")]
    csrf: Option<crate::CsrfContext>,
}

/// What [`MittenService`](crate::MittenService) learnt of a request and the inner services
/// reuse instead of working it out again.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(any(feature = "sessions", feature = "csrf")), allow(dead_code))]
pub(crate) struct RequestFacts {
    /// HTTPS, or HTTPS at a trusted proxy.
    #[cfg_attr(not(feature = "csrf"), allow(dead_code))]
    pub(crate) secure: bool,
    /// A refusal of this request is answered in JSON.
    pub(crate) wants_json: bool,
}

impl MittenRequest {
    pub(crate) fn new(nonce: CspNonce, facts: RequestFacts) -> Self {
        Self {
            nonce,
            facts,
            #[cfg(feature = "sessions")]
            session: None,
            #[cfg(feature = "csrf")]
            csrf: None,
        }
    }

    /// Inside another Mitten layer: this layer's nonce and facts.
    pub(crate) fn set_nonce(&mut self, nonce: CspNonce, facts: RequestFacts) {
        self.nonce = nonce;
        self.facts = facts;
    }

    #[cfg_attr(not(any(feature = "sessions", feature = "csrf")), allow(dead_code))]
    pub(crate) fn facts(&self) -> RequestFacts {
        self.facts
    }

    /// The one `request` carries, if Mitten's layer wraps the service that got it.
    pub fn of<B>(request: &Request<B>) -> Option<&Self> {
        request.extensions().get()
    }

    /// The CSP nonce of this response, for the `nonce` attribute of inline scripts and styles.
    pub fn nonce(&self) -> CspNonce {
        self.nonce
    }

    /// The request's session (not loaded yet: call
    /// [`Session::load`](mitten_core::session::Session::load) before reading it), if sessions
    /// are configured.
    #[cfg(feature = "sessions")]
    pub fn session(&self) -> Option<&mitten_core::session::Session> {
        self.session.as_ref()
    }

    #[cfg(feature = "sessions")]
    pub(crate) fn set_session(&mut self, session: mitten_core::session::Session) {
        self.session = Some(session);
    }

    /// What a token for this request is rendered from, if CSRF protection is configured.
    #[cfg(feature = "csrf")]
    pub fn csrf(&self) -> Option<&crate::CsrfContext> {
        self.csrf.as_ref()
    }

    #[cfg(feature = "csrf")]
    pub(crate) fn set_csrf(&mut self, csrf: crate::CsrfContext) {
        self.csrf = Some(csrf);
    }
}
