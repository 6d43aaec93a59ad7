//! The tower `Service`: decides before the application runs, decorates after.

use std::sync::Arc;
use std::task::Poll;

use http::{Request, Response};
use mitten_core::csp::CspNonce;
use mitten_core::{ConnectionInfo, Policy, RequestView, Verdict};
use tower_service::Service;

use crate::MittenRequest;
use crate::bounds::{InnerService, RequestBody, ResponseBody};
use crate::future::{ResponseFuture, Step};
use crate::reject;

/// The service [`MittenLayer`](crate::MittenLayer) wraps around an application.
///
/// For each request it:
/// 1. builds a [`RequestView`] and asks the core for a [`Verdict`] (HTTPS redirect, rejection);
/// 2. draws a fresh [`CspNonce`] and puts it in the request's extensions for the handler, in a
///    [`MittenRequest`], with the request's session and CSRF context if those are configured;
/// 3. with sessions, starts the request's session from its cookie (nothing is loaded until a
///    handler asks);
/// 4. with CSRF protection, checks an unsafe request before the application sees it: at once
///    from its headers (tier 1), then from its token, read from a header or its body (the
///    body then reaches the application byte for byte);
/// 5. once the application answered (or Mitten answered itself), writes the session back and
///    sets its cookie (a 503 with a typed [`Rejection`](mitten_core::Rejection) if the store
///    failed: never a fresh session that would silently log the user out), then applies the
///    header policy, with any [`RouteOverride`](mitten_core::RouteOverride) found in the
///    response's extensions.
///
/// What it needs of the service it wraps and of the bodies depends on the features: see
/// [`bounds`](crate::bounds).
#[derive(Debug, Clone)]
pub struct MittenService<S> {
    inner: S,
    shared: Arc<Shared>,
}

/// What the requests of one [`MittenLayer`](crate::MittenLayer) share. One `Arc` for all of it:
/// axum clones the service for every request, and each shared count it updates is a cache line
/// the server's threads pass between them.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) policy: Arc<Policy>,
    #[cfg(feature = "sessions")]
    pub(crate) sessions: Option<mitten_core::session::Sessions>,
    #[cfg(feature = "csrf")]
    pub(crate) csrf: Option<Arc<mitten_core::csrf::CsrfPolicy>>,
}

impl<S> MittenService<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Whether sessions or CSRF protection are configured: their refusals need to know whether
    /// the client wants JSON.
    fn has_checks(&self) -> bool {
        #[allow(unused_mut)]
        let mut any = false;
        #[cfg(feature = "sessions")]
        {
            any |= self.shared.sessions.is_some();
        }
        #[cfg(feature = "csrf")]
        {
            any |= self.shared.csrf.is_some();
        }
        any
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for MittenService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + InnerService,
    ReqBody: RequestBody,
    ResBody: ResponseBody,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, S::Future, ReqBody, ResBody>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let view = RequestView {
            method: request.method(),
            uri: request.uri(),
            headers: request.headers(),
            connection: connection_info(&request),
        };
        let verdict = self.shared.policy.check_request(&view);
        let nonce = CspNonce::generate();
        let shared = Arc::clone(&self.shared);
        let secure = match verdict {
            Verdict::Continue { secure } => secure,
            Verdict::Redirect { status, location } => {
                let response = reject::redirect(status, location, &request);
                return ResponseFuture::answered(response, shared, nonce);
            }
            Verdict::Reject(rejection) => {
                tracing::warn!(
                    target: "mitten",
                    reason = rejection.code(),
                    method = %request.method(),
                    path = request.uri().path(),
                    "request refused"
                );
                let response = reject::rejection(rejection, &request);
                return ResponseFuture::answered(response, shared, nonce);
            }
        };
        let wants_json = self.has_checks() && reject::wants_json(request.headers());
        #[cfg_attr(not(feature = "csrf"), allow(unused_mut))]
        let mut context = MittenRequest::new(nonce);
        #[cfg(feature = "sessions")]
        let session = self
            .shared
            .sessions
            .as_ref()
            .map(|sessions| sessions.start(request.headers()));
        #[cfg(not(feature = "sessions"))]
        let session = None;
        #[cfg(feature = "sessions")]
        context.set_session(session.clone());
        #[cfg(feature = "csrf")]
        let csrf = self.shared.csrf.as_ref().map(|csrf| {
            // Tokens are bound to this layer's session, or to an outer Mitten layer's.
            let bound_to = session
                .as_ref()
                .or_else(|| MittenRequest::of(&request).and_then(MittenRequest::session));
            let (prepared, after, token_context) =
                crate::csrf::prepare(&request, &shared.policy, csrf, secure, wants_json, bound_to);
            context.set_csrf(token_context);
            (csrf, prepared, after)
        });
        context.put_in(&mut request);
        #[cfg(feature = "csrf")]
        if let Some((csrf, prepared, after)) = csrf {
            use crate::csrf::Checked;
            let step = match crate::csrf::check(request, csrf, prepared, &mut self.inner) {
                Checked::Pass(request) => Step::Call(self.inner.call(request)),
                Checked::Verify(verification) => Step::Verify(verification),
                Checked::Refused(response) => Step::Refused(response),
            };
            return ResponseFuture::checked(
                step,
                Some(after),
                session,
                wants_json,
                shared,
                secure,
                nonce,
            );
        }
        let step = Step::Call(self.inner.call(request));
        ResponseFuture::checked(step, None, session, wants_json, shared, secure, nonce)
    }
}

/// What the server told us about the connection: [`ConnectionInfo`], else (with the `axum`
/// feature) the peer from axum's `ConnectInfo<SocketAddr>`.
pub(crate) fn connection_info<B>(request: &Request<B>) -> ConnectionInfo {
    if let Some(info) = request.extensions().get::<ConnectionInfo>() {
        return *info;
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(peer)) = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
    {
        return ConnectionInfo {
            peer: Some(*peer),
            tls: false,
        };
    }
    ConnectionInfo::default()
}
