//! The CSRF check inside the Mitten layer, and the state the `CsrfToken` extractor renders from.
//! The service decides tier 1 at once; the token tier, which may read the body, and the refusal
//! of either tier (or its report-only pass) are in `csrf_verify`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::Body;
use mitten_core::csrf::{Binding, COOKIE_NAME, CookieSecret, CsrfPolicy, Precheck, TokenMode};
use mitten_core::{Policy, RequestView};
use tower_service::Service;

use crate::csrf_verify::{BodyRead, Refusal, Refused, refusal, report_only, verify_token};
use crate::reject;

/// What a handler needs to render a token for this request; in the request's
/// [`MittenRequest`](crate::MittenRequest).
#[derive(Debug, Clone)]
pub struct CsrfContext {
    policy: Arc<CsrfPolicy>,
    cookie_secret: Option<CookieSecret>,
    /// Without sessions: the cookie secret made for this response, if a token was rendered
    /// and the browser had none. (With sessions the secret goes in the session.)
    new_secret: Option<Arc<Mutex<Option<CookieSecret>>>>,
}

impl CsrfContext {
    /// A masked token for this request's binding: the session if it is stored, else the CSRF
    /// cookie's secret (made now, and set on the response, if the browser has none). With
    /// sessions on, pass the request's session; without it this is an error.
    pub async fn render(
        &self,
        session: Option<&mitten_core::session::Session>,
    ) -> Result<String, mitten_core::session::StoreError> {
        // Only one-time tokens carry the time.
        let now = match self.policy.mode() {
            TokenMode::PerSession => 0,
            TokenMode::OneTime { .. } => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        if let Some(session) = session {
            session.load().await?;
            // Made with the session if it has none, and written back with this response
            // (Django's CSRF_USE_SESSIONS): the token rendered now verifies on the next request.
            let secret = session.binding_secret();
            return Ok(self.policy.render(
                Binding::Session(secret.as_bytes()),
                session.user_id().as_deref(),
                now,
            ));
        }
        let secret = match &self.cookie_secret {
            Some(secret) => secret.clone(),
            None => match &self.new_secret {
                Some(new_secret) => {
                    let mut new = new_secret
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    new.get_or_insert_with(CookieSecret::generate).clone()
                }
                // With sessions on, tokens are checked against the session's secret: one
                // rendered without the session could never verify.
                None => {
                    return Err(mitten_core::session::StoreError::new(
                        "sessions are on: render the CSRF token with the request's session",
                    ));
                }
            },
        };
        Ok(self.policy.render(secret.binding(), None, now))
    }
}

/// The CSRF part of [`MittenService`](crate::MittenService): a pass-through unless
/// [`Mitten::with_csrf`](crate::Mitten::with_csrf) configured it.
#[derive(Debug, Clone)]
pub struct CsrfService<S> {
    inner: S,
    policy: Arc<Policy>,
    csrf: Option<Arc<CsrfPolicy>>,
}

impl<S> CsrfService<S> {
    pub(crate) fn new(inner: S, policy: Arc<Policy>, csrf: Option<Arc<CsrfPolicy>>) -> Self {
        Self {
            inner,
            policy,
            csrf,
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

pin_project_lite::pin_project! {
    /// Response future of [`CsrfService`].
    pub struct CsrfFuture<S, F, ReqBody, ResBody> {
        #[pin]
        state: State<S, F, ReqBody, ResBody>,
    }
}

impl<S, F, ReqBody, ResBody> CsrfFuture<S, F, ReqBody, ResBody> {
    fn new(state: State<S, F, ReqBody, ResBody>) -> Self {
        Self { state }
    }
}

pin_project_lite::pin_project! {
    #[project = StateProj]
    enum State<S, F, ReqBody, ResBody> {
        /// No CSRF configured: the inner future as it is.
        Passthrough { #[pin] future: F },
        /// The token is being read (from the body, perhaps) and checked; the inner service waits.
        Verifying {
            verify: BoxFuture<Result<Request<ReqBody>, Refused>>,
            inner: Option<S>,
            after: Option<After>,
            wants_json: bool,
        },
        /// The request passed (or needed no check): the inner service answers.
        Calling { #[pin] future: F, after: After },
        /// Refused before the inner service was called.
        Refused { response: Option<Response<ResBody>> },
    }
}

/// What the response gets once the application (or the refusal) answered.
#[derive(Debug)]
struct After {
    /// The request was examined: caches must key on what the check read.
    checked: bool,
    /// Without sessions: the slot of the secret cookie a handler's token made, for the
    /// response. (Per request: no reference to anything shared between requests.)
    new_secret: Option<Arc<Mutex<Option<CookieSecret>>>>,
}

impl After {
    fn finish<B>(&self, mut response: Response<B>) -> Response<B> {
        let headers = response.headers_mut();
        if self.checked {
            headers.append(VARY, HeaderValue::from_static("Origin, Sec-Fetch-Site"));
        }
        let new_secret = self.new_secret.as_ref().and_then(|slot| {
            slot.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take()
        });
        if let Some(secret) = new_secret {
            let cookie = format!(
                "{COOKIE_NAME}={}; Path=/; Secure; HttpOnly; SameSite=Lax",
                secret.to_cookie_value()
            );
            if let Ok(mut value) = HeaderValue::from_str(&cookie) {
                value.set_sensitive(true);
                headers.append(SET_COOKIE, value);
            }
        }
        response
    }
}

impl<S, F, ReqBody, ResBody, E> Future for CsrfFuture<S, F, ReqBody, ResBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>, Error = E, Future = F>,
    F: Future<Output = Result<Response<ResBody>, E>>,
    ResBody: From<Bytes>,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Passthrough { future } => {
                    return future.poll(cx);
                }
                StateProj::Calling { future, after } => {
                    let response = std::task::ready!(future.poll(cx))?;
                    return Poll::Ready(Ok(after.finish(response)));
                }
                StateProj::Verifying {
                    verify,
                    inner,
                    after,
                    wants_json,
                } => {
                    let outcome = std::task::ready!(verify.as_mut().poll(cx));
                    // Both are only taken here, on the way out of this state.
                    let (Some(after), Some(mut inner)) = (after.take(), inner.take()) else {
                        return Poll::Pending;
                    };
                    match outcome {
                        Ok(request) => {
                            let future = inner.call(request);
                            state.set(State::Calling { future, after });
                        }
                        Err(refused) => {
                            return Poll::Ready(Ok(after.finish(refusal(refused, *wants_json))));
                        }
                    }
                }
                StateProj::Refused { response } => {
                    // Polled again after completion: there is nothing left to give.
                    return response
                        .take()
                        .map_or(Poll::Pending, |r| Poll::Ready(Ok(r)));
                }
            }
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CsrfService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Body<Data = Bytes> + From<Bytes> + Send + 'static,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send,
    ResBody: From<Bytes> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = CsrfFuture<S, S::Future, ReqBody, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // Shared policies are borrowed here and cloned only where a request keeps them: every
        // clone is an atomic write to a cache line all cores share.
        let Some(csrf) = &self.csrf else {
            return CsrfFuture::new(State::Passthrough {
                future: self.inner.call(request),
            });
        };
        let Prepared {
            precheck,
            after,
            session,
            cookie_secret,
            wants_json,
        } = prepare(&mut request, &self.policy, csrf);
        let passed = match precheck {
            Precheck::Skip => Ok(request),
            Precheck::Refuse(failure) => {
                let read = BodyRead::none_of(request.headers(), request.body());
                report_only(csrf, Refusal::Csrf(failure), request, read)
            }
            Precheck::NeedToken => {
                // The inner service was made ready for this call: it waits in the future for
                // the check, and a fresh clone stays here for the next call.
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                let csrf = Arc::clone(csrf);
                return CsrfFuture::new(State::Verifying {
                    verify: {
                        let (parts, body) = request.into_parts();
                        Box::pin(verify_token(parts, body, csrf, session, cookie_secret))
                    },
                    inner: Some(inner),
                    after: Some(after),
                    wants_json,
                });
            }
        };
        CsrfFuture::new(match passed {
            Ok(request) => State::Calling {
                future: self.inner.call(request),
                after,
            },
            Err(refused) => State::Refused {
                response: Some(after.finish(refusal(refused, wants_json))),
            },
        })
    }
}

/// What [`prepare`] found: the tier-1 verdict and what the rest of the check needs.
struct Prepared {
    precheck: Precheck,
    after: After,
    session: Option<mitten_core::session::Session>,
    cookie_secret: Option<CookieSecret>,
    wants_json: bool,
}

/// The part of the check that needs no I/O: the tier-1 verdict, and the token context put in
/// the request's extensions for the handler.
fn prepare<B>(request: &mut Request<B>, policy: &Policy, csrf: &Arc<CsrfPolicy>) -> Prepared {
    let context = crate::MittenRequest::of(request);
    let facts = context.map(crate::MittenRequest::facts);
    let session = context.and_then(crate::MittenRequest::session).cloned();
    // The connection only matters for a request the check will look at (and the request's own
    // origin only when tier 1 compares one).
    let mut view = RequestView {
        method: request.method(),
        uri: request.uri(),
        headers: request.headers(),
        connection: mitten_core::ConnectionInfo::default(),
    };
    let unsafe_method = !mitten_core::csrf::is_safe_method(view.method);
    let examined = unsafe_method || mitten_core::csrf::is_websocket_upgrade(&view);
    let precheck = if examined {
        view.connection = crate::service::connection_info(request);
        let secure = facts.map_or_else(
            || policy.scheme(&view) == mitten_core::Scheme::Https,
            |f| f.secure,
        );
        csrf.precheck(&view, secure, || policy.request_origin(&view))
    } else {
        Precheck::Skip
    };
    let checked = unsafe_method || precheck != Precheck::Skip;
    let wants_json = facts.map_or_else(|| reject::wants_json(request.headers()), |f| f.wants_json);
    // With sessions the secret lives in the session; the cookie is only read without them.
    let cookie_secret = session
        .is_none()
        .then(|| cookie_secret(request.headers()))
        .flatten();
    let new_secret = session.is_none().then(Arc::default);
    let after = After {
        checked,
        new_secret: new_secret.clone(),
    };
    if let Some(context) = request.extensions_mut().get_mut::<crate::MittenRequest>() {
        context.set_csrf(CsrfContext {
            policy: Arc::clone(csrf),
            cookie_secret: cookie_secret.clone(),
            new_secret,
        });
    }
    Prepared {
        precheck,
        after,
        session,
        cookie_secret,
        wants_json,
    }
}

/// The CSRF cookie's secret, if the request carries exactly one well-formed one.
fn cookie_secret(headers: &HeaderMap) -> Option<CookieSecret> {
    match mitten_core::request_cookie(headers, COOKIE_NAME) {
        mitten_core::RequestCookie::One(value) => CookieSecret::parse(value),
        _ => None,
    }
}
