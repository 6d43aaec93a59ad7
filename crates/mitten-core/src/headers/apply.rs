//! The per-response decision: which headers a response gets.

use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_REPORT_ONLY, X_FRAME_OPTIONS,
};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use super::{Banner, CompiledFraming};
use crate::csp::{CompiledCsp, CspNonce};
use crate::route::RouteOverride;

/// What [`HeaderPolicy::apply`] needs to know about the response it decorates.
#[derive(Debug, Clone, Copy)]
pub struct ResponseContext<'a> {
    /// Whether the request was secure (HTTPS, or HTTPS at a trusted proxy). HSTS and
    /// `Public-Key-Pins` are only sent then.
    pub secure: bool,
    /// The response status. A `304 Not Modified` gets no CSP: the browser keeps the cached
    /// page, and with it the policy and nonce that page was sent with.
    pub status: StatusCode,
    /// This response's nonce; the same one the handler rendered into the page.
    pub nonce: &'a CspNonce,
    /// The route's override, if the handler or a route layer attached one.
    pub route: Option<&'a RouteOverride>,
}

/// A compiled [`SecurityHeaders`](super::SecurityHeaders): every value that does not change
/// between responses is built once.
#[derive(Debug, Clone)]
pub struct HeaderPolicy {
    always: Vec<(HeaderName, HeaderValue)>,
    secure_only: Vec<(HeaderName, HeaderValue)>,
    csp: Option<CompiledCsp>,
    framing: CompiledFraming,
    banner: Banner,
    no_store_with_nonce: bool,
}

impl HeaderPolicy {
    pub(crate) fn new(
        always: Vec<(HeaderName, HeaderValue)>,
        secure_only: Vec<(HeaderName, HeaderValue)>,
        csp: Option<CompiledCsp>,
        framing: CompiledFraming,
        banner: Banner,
        no_store_with_nonce: bool,
    ) -> Self {
        Self {
            always,
            secure_only,
            csp,
            framing,
            banner,
            no_store_with_nonce,
        }
    }

    /// Adds the security headers to a response (never replacing one the handler set), removes
    /// the fingerprinting ones, and renders the CSP with `ctx.nonce`.
    pub fn apply(&self, headers: &mut HeaderMap, ctx: &ResponseContext<'_>) {
        self.banner.apply(headers);
        // One allocation for everything below instead of a rehash at every doubling.
        headers.reserve(self.always.len() + self.secure_only.len() + 5);
        set_missing(headers, &self.always);
        if ctx.secure {
            set_missing(headers, &self.secure_only);
        }
        let (csp, framing) = match ctx.route {
            Some(route) => (route.csp(self.csp.as_ref()), route.framing(&self.framing)),
            None => (self.csp.as_ref(), &self.framing),
        };
        if let Some(xfo) = &framing.x_frame_options {
            headers
                .entry(X_FRAME_OPTIONS)
                .or_insert_with(|| xfo.clone());
        }
        if ctx.status != StatusCode::NOT_MODIFIED {
            self.apply_csp(headers, csp, framing, ctx.nonce);
        }
    }

    fn apply_csp(
        &self,
        headers: &mut HeaderMap,
        csp: Option<&CompiledCsp>,
        framing: &CompiledFraming,
        nonce: &CspNonce,
    ) {
        if headers.contains_key(CONTENT_SECURITY_POLICY)
            || headers.contains_key(CONTENT_SECURITY_POLICY_REPORT_ONLY)
        {
            return;
        }
        let frame_ancestors = framing.frame_ancestors.as_deref();
        let mut nonce_sent = false;
        match csp {
            Some(csp) if !csp.is_report_only() => {
                if let Some(value) = csp.render(nonce, frame_ancestors) {
                    headers.insert(CONTENT_SECURITY_POLICY, value);
                    nonce_sent = csp.uses_nonce();
                }
            }
            _ => {
                // Browsers ignore frame-ancestors in a report-only policy, so framing is
                // enforced by a policy of its own.
                if let Some(value) = frame_ancestors.and_then(|f| HeaderValue::from_str(f).ok()) {
                    headers.insert(CONTENT_SECURITY_POLICY, value);
                }
                if let Some(csp) = csp {
                    if let Some(value) = csp.render(nonce, None) {
                        headers.insert(CONTENT_SECURITY_POLICY_REPORT_ONLY, value);
                        nonce_sent = csp.uses_nonce();
                    }
                }
            }
        }
        if let Some(endpoints) = csp.and_then(CompiledCsp::reporting_endpoints) {
            headers
                .entry(HeaderName::from_static("reporting-endpoints"))
                .or_insert_with(|| endpoints.clone());
        }
        if nonce_sent && self.no_store_with_nonce && !headers.contains_key(CACHE_CONTROL) {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
}

fn set_missing(headers: &mut HeaderMap, defaults: &[(HeaderName, HeaderValue)]) {
    for (name, value) in defaults {
        headers.entry(name).or_insert_with(|| value.clone());
    }
}
