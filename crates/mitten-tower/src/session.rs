//! Sessions inside the Mitten layer: the write-back after the application answered. (The
//! session is started in [`MittenService::call`](crate::MittenService), from the request's
//! cookie; nothing is loaded until a handler asks.)
//!
//! If the store fails, the response is replaced by a 503 with a typed
//! [`Rejection`](mitten_core::Rejection): never a fresh session that would silently log the
//! user out, never another user's data.

#[cfg(feature = "sessions")]
pub(crate) use enabled::{SessionHandle, WriteBack};

#[cfg(not(feature = "sessions"))]
pub(crate) use disabled::{SessionHandle, WriteBack};

#[cfg(feature = "sessions")]
mod enabled {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use http::header::{CACHE_CONTROL, CONNECTION, SET_COOKIE};
    use http::{HeaderValue, Response};

    use crate::bounds::ResponseBody;

    /// The request's session.
    pub(crate) type SessionHandle = mitten_core::session::Session;

    /// The write-back of a session to its store, with the response it will decorate.
    pub(crate) struct WriteBack<B>(Pin<Box<dyn Future<Output = Response<B>> + Send>>);

    impl<B: ResponseBody> WriteBack<B> {
        /// The write-back of `session`, if it has anything to write (a request that only read
        /// its session has not); else the response as it is.
        pub(crate) fn of(
            response: Response<B>,
            session: SessionHandle,
            wants_json: bool,
        ) -> Result<Self, Response<B>> {
            if !session.needs_persist() {
                return Err(response);
            }
            Ok(Self(Box::pin(write_back(response, session, wants_json))))
        }

        pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Response<B>> {
            self.0.as_mut().poll(cx)
        }
    }

    /// Writes `session` back, and sets its cookie on `response`; a 503 if the store failed.
    async fn write_back<B: ResponseBody>(
        mut response: Response<B>,
        session: SessionHandle,
        wants_json: bool,
    ) -> Response<B> {
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
        response
    }
}

/// Without the `sessions` feature there is never a session, nor a write-back.
#[cfg(not(feature = "sessions"))]
mod disabled {
    use std::convert::Infallible;
    use std::marker::PhantomData;
    use std::task::{Context, Poll};

    use http::Response;

    pub(crate) type SessionHandle = Infallible;

    pub(crate) struct WriteBack<B> {
        never: Infallible,
        body: PhantomData<fn() -> B>,
    }

    impl<B> WriteBack<B> {
        pub(crate) fn of(
            _response: Response<B>,
            session: SessionHandle,
            _wants_json: bool,
        ) -> Result<Self, Response<B>> {
            match session {}
        }

        pub(crate) fn poll(&mut self, _cx: &mut Context<'_>) -> Poll<Response<B>> {
            let _ = &self.body;
            match self.never {}
        }
    }
}
