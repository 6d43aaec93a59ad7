//! The tower `Service`: decides before the application runs, decorates after.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use mitten_core::csp::CspNonce;
use mitten_core::{ConnectionInfo, Policy, RequestView, Verdict};
use tower_service::Service;

use crate::MittenRequest;
use crate::context::RequestFacts;
use crate::future::ResponseFuture;
use crate::reject;

/// The service [`MittenLayer`](crate::MittenLayer) wraps around an application (with the
/// [`SessionService`](crate::SessionService) inside it).
///
/// For each request it:
/// 1. builds a [`RequestView`] and asks the core for a [`Verdict`] (HTTPS redirect, rejection);
/// 2. draws a fresh [`CspNonce`] and puts it in the request's extensions for the handler, in a
///    [`MittenRequest`] (which the inner layers complete with the session and CSRF context);
/// 3. once the application answered (or Mitten answered itself), applies the header policy,
///    with any [`RouteOverride`](mitten_core::RouteOverride) found in the response's extensions.
#[derive(Debug, Clone)]
pub struct MittenService<S> {
    inner: S,
    policy: Arc<Policy>,
    /// Sessions or CSRF run inside: they read the [`RequestFacts`] worked out here.
    inner_checks: bool,
}

impl<S> MittenService<S> {
    pub(crate) fn new(inner: S, policy: Arc<Policy>, inner_checks: bool) -> Self {
        Self {
            inner,
            policy,
            inner_checks,
        }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for MittenService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ReqBody: http_body::Body,
    ResBody: From<bytes::Bytes>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let view = RequestView {
            method: request.method(),
            uri: request.uri(),
            headers: request.headers(),
            connection: connection_info(&request),
        };
        let verdict = self.policy.check_request(&view);
        let nonce = CspNonce::generate();
        let policy = Arc::clone(&self.policy);
        match verdict {
            Verdict::Continue { secure } => {
                let facts = RequestFacts {
                    secure,
                    wants_json: self.inner_checks && reject::wants_json(request.headers()),
                };
                // Inside another Mitten layer: this layer's nonce (its headers are applied first,
                // so its CSP is the one sent) and facts, the outer layer's session and CSRF
                // context kept.
                match request.extensions_mut().get_mut::<MittenRequest>() {
                    Some(context) => context.set_nonce(nonce, facts),
                    None => {
                        request
                            .extensions_mut()
                            .insert(MittenRequest::new(nonce, facts));
                    }
                }
                ResponseFuture::inner(self.inner.call(request), policy, secure, nonce)
            }
            Verdict::Redirect { status, location } => {
                let response = reject::redirect(status, location, &request);
                ResponseFuture::ready(response, policy, false, nonce)
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
                ResponseFuture::ready(response, policy, false, nonce)
            }
        }
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
