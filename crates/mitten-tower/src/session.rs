//! Sessions inside the Mitten layer: started before the application, written back after it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_service::Service;

/// The session part of [`MittenService`](crate::MittenService): a pass-through unless
/// [`Mitten::with_sessions`](crate::Mitten::with_sessions) configured sessions.
///
/// With sessions, each request gets a [`Session`](mitten_core::session::Session) in its
/// [`MittenRequest`](crate::MittenRequest) (nothing is loaded until a handler asks), and after
/// the response the session is written back and its cookie set. If the store fails, the response
/// is replaced by a 503 with a typed [`Rejection`](mitten_core::Rejection): never a fresh session
/// that would silently log the user out, never another user's data.
#[derive(Debug, Clone)]
pub struct SessionService<S> {
    inner: S,
    #[cfg(feature = "sessions")]
    sessions: Option<mitten_core::session::Sessions>,
}

impl<S> SessionService<S> {
    #[cfg(feature = "sessions")]
    pub(crate) fn new(inner: S, sessions: Option<mitten_core::session::Sessions>) -> Self {
        Self { inner, sessions }
    }

    #[cfg(not(feature = "sessions"))]
    pub(crate) fn new(inner: S) -> Self {
        Self { inner }
    }
}

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;

#[cfg(feature = "sessions")]
type SessionHandle = mitten_core::session::Session;
/// Without the `sessions` feature there is never a session to write back.
#[cfg(not(feature = "sessions"))]
type SessionHandle = std::convert::Infallible;

pin_project! {
    /// Response future of [`SessionService`].
    #[project = SessionFutureProj]
    #[allow(missing_docs)]
    pub enum SessionFuture<F, B, E> {
        /// No sessions: the inner future as it is.
        Passthrough { #[pin] future: F },
        /// With sessions: the inner future; then, if the session has anything to write, the
        /// write-back (a request that only read its session finishes here).
        WithSession {
            #[pin] future: F,
            session: Option<SessionHandle>,
            wants_json: bool,
        },
        /// The write-back, after the inner future answered.
        Persisting { future: Boxed<Result<Response<B>, E>> },
    }
}

impl<F, B, E> Future for SessionFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: From<bytes::Bytes> + Send + 'static,
    E: Send + 'static,
{
    type Output = Result<Response<B>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.as_mut().project() {
            SessionFutureProj::Passthrough { future } => future.poll(cx),
            SessionFutureProj::WithSession {
                future,
                session,
                wants_json,
            } => {
                let response = std::task::ready!(future.poll(cx))?;
                #[cfg(feature = "sessions")]
                if let Some(session) = session.take().filter(|s| s.needs_persist()) {
                    let wants_json = *wants_json;
                    self.set(SessionFuture::Persisting {
                        future: Box::pin(write_back(response, session, wants_json)),
                    });
                    return self.poll(cx);
                }
                #[cfg(not(feature = "sessions"))]
                let _ = (session, wants_json);
                Poll::Ready(Ok(response))
            }
            SessionFutureProj::Persisting { future } => future.as_mut().poll(cx),
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: From<bytes::Bytes> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = SessionFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    #[cfg_attr(not(feature = "sessions"), allow(unused_mut))]
    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        #[cfg(feature = "sessions")]
        if let Some(sessions) = &self.sessions {
            let session = sessions.start(request.headers());
            let wants_json = match request.extensions_mut().get_mut::<crate::MittenRequest>() {
                Some(context) => {
                    context.set_session(session.clone());
                    context.facts().wants_json
                }
                None => crate::reject::wants_json(request.headers()),
            };
            return SessionFuture::WithSession {
                future: self.inner.call(request),
                session: Some(session),
                wants_json,
            };
        }
        SessionFuture::Passthrough {
            future: self.inner.call(request),
        }
    }
}

#[cfg(feature = "sessions")]
async fn write_back<B: From<bytes::Bytes>, E>(
    mut response: Response<B>,
    session: mitten_core::session::Session,
    wants_json: bool,
) -> Result<Response<B>, E> {
    use http::HeaderValue;
    use http::header::{CACHE_CONTROL, CONNECTION, SET_COOKIE};

    match session.persist().await {
        Ok(Some(cookie)) => {
            let headers = response.headers_mut();
            headers.append(SET_COOKIE, cookie);
            // A response that sets a session cookie is for this browser only.
            headers
                .entry(CACHE_CONTROL)
                .or_insert(HeaderValue::from_static("no-store"));
        }
        Ok(None) => {}
        Err(error) => {
            tracing::error!(target: "mitten", %error, "session store failed; answering 503");
            // The response replaced may have ended the connection (a refusal that left the
            // request's body unread): the 503 must too.
            let connection = response.headers_mut().remove(CONNECTION);
            response = crate::reject::rejection_response(
                mitten_core::Rejection::SessionStoreUnavailable,
                wants_json,
            );
            if let Some(connection) = connection {
                response.headers_mut().insert(CONNECTION, connection);
            }
        }
    }
    Ok(response)
}
