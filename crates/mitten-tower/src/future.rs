//! The response future of [`MittenService`](crate::MittenService): waits for the token check if
//! there is one, then for the application; then finishes the response (the CSRF check's
//! `Vary` and cookie, the session's write-back) and applies the headers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use mitten_core::csp::CspNonce;
use mitten_core::headers::ResponseContext;
use mitten_core::{Policy, RouteOverride};
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::bounds::ResponseBody;
#[cfg(feature = "csrf")]
use crate::csrf::{After, Verification};
#[cfg(not(feature = "csrf"))]
use crate::csrf_off::{After, Verification};
use crate::service::Shared;
use crate::session::{SessionHandle, WriteBack};

pin_project! {
    /// Response future of [`MittenService`](crate::MittenService).
    #[project = ResponseFutureProj]
    pub struct ResponseFuture<S, F, ReqBody, ResBody> {
        #[pin]
        kind: Kind<S, F, ReqBody, ResBody>,
        // What the application's answer (or a CSRF refusal) gets before the headers.
        finish: Finish,
        shared: Arc<Shared>,
        secure: bool,
        nonce: CspNonce,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<S, F, ReqBody, ResBody> {
        /// Mitten answered before any check (a redirect, a rejection): only the headers left.
        Answered { response: Option<Response<ResBody>> },
        /// The token check reads the token; the application waits.
        Verifying { verification: Verification<S, ReqBody> },
        /// The application answers.
        Calling { #[pin] future: F },
        /// The CSRF check refused the request.
        Refused { response: Option<Response<ResBody>> },
        /// The session is written back.
        Persisting { write_back: WriteBack<ResBody> },
    }
}

/// What a response gets once the application (or the CSRF check) answered, before the headers.
struct Finish {
    /// The CSRF check's part, if it ran.
    after: Option<After>,
    /// The session to write back, if sessions are on.
    session: Option<SessionHandle>,
    /// A store failure is answered in JSON.
    wants_json: bool,
}

impl<S, F, ReqBody, ResBody> ResponseFuture<S, F, ReqBody, ResBody> {
    /// Mitten's own answer, before any check.
    pub(crate) fn answered(
        response: Response<ResBody>,
        shared: Arc<Shared>,
        nonce: CspNonce,
    ) -> Self {
        Self {
            kind: Kind::Answered {
                response: Some(response),
            },
            finish: Finish {
                after: None,
                session: None,
                wants_json: false,
            },
            shared,
            secure: false,
            nonce,
        }
    }

    /// The application's answer, once the checks' `step` is done.
    pub(crate) fn checked(
        step: Step<S, F, ReqBody, ResBody>,
        after: Option<After>,
        session: Option<SessionHandle>,
        wants_json: bool,
        shared: Arc<Shared>,
        secure: bool,
        nonce: CspNonce,
    ) -> Self {
        let kind = match step {
            Step::Call(future) => Kind::Calling { future },
            Step::Verify(verification) => Kind::Verifying { verification },
            Step::Refused(response) => Kind::Refused {
                response: Some(response),
            },
        };
        Self {
            kind,
            finish: Finish {
                after,
                session,
                wants_json,
            },
            shared,
            secure,
            nonce,
        }
    }
}

/// Where a checked request stands when [`MittenService`](crate::MittenService) returns.
pub(crate) enum Step<S, F, ReqBody, ResBody> {
    /// The application was called.
    Call(F),
    /// The token check is under way.
    #[cfg_attr(not(feature = "csrf"), allow(dead_code))]
    Verify(Verification<S, ReqBody>),
    /// The CSRF check refused the request.
    #[cfg_attr(not(feature = "csrf"), allow(dead_code))]
    Refused(Response<ResBody>),
}

impl<S, F, ReqBody, ResBody, E> Future for ResponseFuture<S, F, ReqBody, ResBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>, Error = E, Future = F>,
    F: Future<Output = Result<Response<ResBody>, E>>,
    ResBody: ResponseBody,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let decorate = |response| decorate(response, &this.shared.policy, *this.secure, this.nonce);
        loop {
            // What the application (or the CSRF check) answered.
            let answer = match this.kind.as_mut().project() {
                KindProj::Answered { response } => {
                    // Polled again after completion: there is nothing left to give.
                    return response
                        .take()
                        .map_or(Poll::Pending, |r| Poll::Ready(Ok(decorate(r))));
                }
                KindProj::Verifying { verification } => {
                    match ready!(verification.poll(cx, this.finish.wants_json)) {
                        Ok((mut inner, request)) => {
                            let future = inner.call(request);
                            this.kind.set(Kind::Calling { future });
                        }
                        Err(refusal) => this.kind.set(Kind::Refused {
                            response: Some(refusal),
                        }),
                    }
                    continue;
                }
                KindProj::Calling { future } => ready!(future.poll(cx))?,
                KindProj::Refused { response } => match response.take() {
                    Some(response) => response,
                    None => return Poll::Pending,
                },
                KindProj::Persisting { write_back } => {
                    return Poll::Ready(Ok(decorate(ready!(write_back.poll(cx)))));
                }
            };
            match this.finish.answered(answer) {
                Finished::Ready(response) => return Poll::Ready(Ok(decorate(response))),
                Finished::WriteBack(write_back) => this.kind.set(Kind::Persisting { write_back }),
            }
        }
    }
}

/// A response once [`Finish`] is applied.
enum Finished<B> {
    /// Ready for the headers.
    Ready(Response<B>),
    /// Its session is to be written back first.
    WriteBack(WriteBack<B>),
}

impl Finish {
    /// The CSRF check's headers on `response`; then its session's write-back, if it has
    /// anything to write.
    fn answered<B: ResponseBody>(&mut self, mut response: Response<B>) -> Finished<B> {
        if let Some(after) = self.after.take() {
            response = after.finish(response);
        }
        let Some(session) = self.session.take() else {
            return Finished::Ready(response);
        };
        match WriteBack::of(response, session, self.wants_json) {
            Ok(write_back) => Finished::WriteBack(write_back),
            Err(response) => Finished::Ready(response),
        }
    }
}

/// The header policy on `response` (with any [`RouteOverride`] the application set).
fn decorate<B>(
    mut response: Response<B>,
    policy: &Policy,
    secure: bool,
    nonce: &CspNonce,
) -> Response<B> {
    let route = response.extensions_mut().remove::<RouteOverride>();
    let ctx = ResponseContext {
        secure,
        status: response.status(),
        nonce,
        route: route.as_ref(),
    };
    policy.headers().apply(response.headers_mut(), &ctx);
    response
}
