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
    #[cfg(feature = "sessions")]
    session: Option<mitten_core::session::Session>,
    #[cfg(feature = "csrf")]
    csrf: Option<crate::CsrfContext>,
}

impl MittenRequest {
    pub(crate) fn new(nonce: CspNonce) -> Self {
        Self {
            nonce,
            #[cfg(feature = "sessions")]
            session: None,
            #[cfg(feature = "csrf")]
            csrf: None,
        }
    }

    /// Puts this in `request`'s extensions (one allocation). Inside another Mitten layer, this
    /// layer's nonce replaces the outer layer's (its headers are applied first, so its
    /// CSP is the one sent), and so do its session and CSRF context where it has them.
    pub(crate) fn put_in<B>(self, request: &mut Request<B>) {
        let Some(outer) = request.extensions_mut().get_mut::<Self>() else {
            request.extensions_mut().insert(self);
            return;
        };
        outer.nonce = self.nonce;
        #[cfg(feature = "sessions")]
        if self.session.is_some() {
            outer.session = self.session;
        }
        #[cfg(feature = "csrf")]
        if self.csrf.is_some() {
            outer.csrf = self.csrf;
        }
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
    pub(crate) fn set_session(&mut self, session: Option<mitten_core::session::Session>) {
        self.session = session;
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
