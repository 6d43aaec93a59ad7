//! The response future: applies the headers once the application answered.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::Response;
use mitten_core::csp::CspNonce;
use mitten_core::headers::ResponseContext;
use mitten_core::{Policy, RouteOverride};
use pin_project_lite::pin_project;

pin_project! {
    /// Response future of [`MittenService`](crate::MittenService).
    #[project = ResponseFutureProj]
    pub struct ResponseFuture<F, B> {
        #[pin]
        kind: Kind<F, B>,
        policy: Arc<Policy>,
        secure: bool,
        nonce: CspNonce,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B> {
        Inner { #[pin] future: F },
        Ready { response: Option<Response<B>> },
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn inner(future: F, policy: Arc<Policy>, secure: bool, nonce: CspNonce) -> Self {
        Self {
            kind: Kind::Inner { future },
            policy,
            secure,
            nonce,
        }
    }

    pub(crate) fn ready(
        response: Response<B>,
        policy: Arc<Policy>,
        secure: bool,
        nonce: CspNonce,
    ) -> Self {
        Self {
            kind: Kind::Ready {
                response: Some(response),
            },
            policy,
            secure,
            nonce,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = match this.kind.project() {
            KindProj::Inner { future } => ready!(future.poll(cx))?,
            KindProj::Ready { response } => match response.take() {
                Some(response) => response,
                // Polled again after completion: there is nothing left to give.
                None => return Poll::Pending,
            },
        };
        let route = response.extensions_mut().remove::<RouteOverride>();
        let ctx = ResponseContext {
            secure: *this.secure,
            status: response.status(),
            nonce: this.nonce,
            route: route.as_ref(),
        };
        this.policy.headers().apply(response.headers_mut(), &ctx);
        Poll::Ready(Ok(response))
    }
}
