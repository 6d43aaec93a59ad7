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
    /// `always` and the framing header, prebuilt: a response without a route override starts
    /// from a copy of this map (no hashing), then takes the handler's headers back in.
    plain: HeaderMap,
    /// The same with `secure_only` added, for secure requests.
    secure: HeaderMap,
}

/// Room left in a prebuilt map for the handler's headers, the CSP and `Cache-Control`, so that
/// merging them in does not rehash.
const HEADROOM: usize = 12;

impl HeaderPolicy {
    pub(crate) fn new(
        always: Vec<(HeaderName, HeaderValue)>,
        secure_only: Vec<(HeaderName, HeaderValue)>,
        csp: Option<CompiledCsp>,
        framing: CompiledFraming,
        banner: Banner,
        no_store_with_nonce: bool,
    ) -> Self {
        let xfo = framing.x_frame_options.as_ref();
        let plain = prebuilt(&[&always], xfo);
        let secure = prebuilt(&[&always, &secure_only], xfo);
        Self {
            always,
            secure_only,
            csp,
            framing,
            banner,
            no_store_with_nonce,
            plain,
            secure,
        }
    }

    /// Adds the security headers to a response (never replacing one the handler set), removes
    /// the fingerprinting ones, and renders the CSP with `ctx.nonce`.
    pub fn apply(&self, headers: &mut HeaderMap, ctx: &ResponseContext<'_>) {
        self.banner.apply(headers);
        let (csp, framing, handler_set) = match ctx.route {
            Some(route) => {
                let framing = route.framing(&self.framing);
                // One allocation for everything below instead of a rehash at every doubling.
                headers.reserve(self.always.len() + self.secure_only.len() + 5);
                set_missing(headers, &self.always);
                if ctx.secure {
                    set_missing(headers, &self.secure_only);
                }
                if let Some(xfo) = &framing.x_frame_options {
                    headers
                        .entry(X_FRAME_OPTIONS)
                        .or_insert_with(|| xfo.clone());
                }
                (
                    route.csp(self.csp.as_ref()),
                    framing,
                    HandlerSet::of(headers),
                )
            }
            None => {
                // The common case: copy the prebuilt map, then put the handler's headers back,
                // each replacing ours of the same name (the handler's headers win).
                let prebuilt = if ctx.secure {
                    &self.secure
                } else {
                    &self.plain
                };
                let handler = std::mem::replace(headers, prebuilt.clone());
                // The prebuilt maps hold none of the names `HandlerSet` records, so what the
                // handler set is what the response holds.
                let handler_set = take_back(headers, handler);
                (self.csp.as_ref(), &self.framing, handler_set)
            }
        };
        if ctx.status != StatusCode::NOT_MODIFIED {
            self.apply_csp(headers, csp, framing, ctx.nonce, handler_set);
        }
    }

    fn apply_csp(
        &self,
        headers: &mut HeaderMap,
        csp: Option<&CompiledCsp>,
        framing: &CompiledFraming,
        nonce: &CspNonce,
        handler_set: HandlerSet,
    ) {
        if handler_set.csp {
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
        if nonce_sent && self.no_store_with_nonce && !handler_set.cache_control {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
}

/// A map holding `defaults` (and the `X-Frame-Options` value), with room for more.
fn prebuilt(defaults: &[&[(HeaderName, HeaderValue)]], xfo: Option<&HeaderValue>) -> HeaderMap {
    let len: usize = defaults.iter().map(|d| d.len()).sum();
    let mut map = HeaderMap::with_capacity(len + 1 + HEADROOM);
    for (name, value) in defaults.iter().flat_map(|d| d.iter()) {
        map.entry(name).or_insert_with(|| value.clone());
    }
    if let Some(xfo) = xfo {
        map.entry(X_FRAME_OPTIONS).or_insert_with(|| xfo.clone());
    }
    map
}

/// What the response already has among the headers the CSP step never overwrites.
#[derive(Debug, Clone, Copy, Default)]
struct HandlerSet {
    /// A `Content-Security-Policy` or `Content-Security-Policy-Report-Only`.
    csp: bool,
    /// A `Cache-Control`.
    cache_control: bool,
}

impl HandlerSet {
    fn of(headers: &HeaderMap) -> Self {
        Self {
            csp: headers.contains_key(CONTENT_SECURITY_POLICY)
                || headers.contains_key(CONTENT_SECURITY_POLICY_REPORT_ONLY),
            cache_control: headers.contains_key(CACHE_CONTROL),
        }
    }

    fn record(&mut self, name: &HeaderName) {
        self.csp |= name == CONTENT_SECURITY_POLICY || name == CONTENT_SECURITY_POLICY_REPORT_ONLY;
        self.cache_control |= name == CACHE_CONTROL;
    }
}

/// Moves the handler's headers into `headers`: each name's values replace any of ours. Returns
/// what the handler set among the names the CSP step looks for, so that it need not look them up.
fn take_back(headers: &mut HeaderMap, handler: HeaderMap) -> HandlerSet {
    let mut set = HandlerSet::default();
    let mut current: Option<HeaderName> = None;
    for (name, value) in handler {
        match name {
            Some(name) => {
                set.record(&name);
                headers.insert(&name, value);
                current = Some(name);
            }
            None => {
                if let Some(name) = &current {
                    headers.append(name, value);
                }
            }
        }
    }
    set
}

fn set_missing(headers: &mut HeaderMap, defaults: &[(HeaderName, HeaderValue)]) {
    for (name, value) in defaults {
        headers.entry(name).or_insert_with(|| value.clone());
    }
}
