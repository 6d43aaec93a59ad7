//! The CSRF check inside the Mitten layer, and the state the `CsrfToken` extractor renders from.
//! [`prepare`] and [`check`] decide tier 1 when the service is called; the token tier, which may
//! read the body, and the refusal of either tier (or its report-only pass) are in
//! `csrf_verify`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, Request, Response};
use mitten_core::csrf::{COOKIE_NAME, CookieSecret, CsrfPolicy, Precheck, TokenMode};
use mitten_core::{Policy, RequestView};

use crate::bounds::RequestBody;
use crate::csrf_verify::{BodyRead, Refusal, Refused, refusal, report_only, verify_token};

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
            let bound = session.token_binding();
            return Ok(self.policy.render(bound.binding(), bound.user(), now));
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

/// What the response gets once the application (or the refusal) answered.
#[derive(Debug)]
pub(crate) struct After {
    /// The request was examined: caches must key on what the check read.
    checked: bool,
    /// Without sessions: the slot of the secret cookie a handler's token made, for the
    /// response. (Per request: no reference to anything shared between requests.)
    new_secret: Option<Arc<Mutex<Option<CookieSecret>>>>,
}

impl After {
    pub(crate) fn finish<B>(&self, mut response: Response<B>) -> Response<B> {
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

/// The CSRF check's first step for one request, taken when
/// [`MittenService`](crate::MittenService) is called: what happens before the application is.
pub(crate) enum Checked<S, B, R> {
    /// The request passed (or needed no check): call the application.
    Pass(Request<B>),
    /// The token tier reads the token (from the body, perhaps) first; the application waits.
    Verify(Verification<S, B>),
    /// Refused at once (tier 1).
    Refused(Response<R>),
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A token check's outcome: the inner service and the request to call it with, or the refusal.
pub(crate) type Verified<S, B, R> = Result<(S, Request<B>), Response<R>>;

/// A request waiting for its token check, with the inner service it will be given to.
pub(crate) struct Verification<S, B> {
    verify: BoxFuture<Result<Request<B>, Refused>>,
    /// Made ready for this call; taken when the check is over.
    inner: Option<S>,
}

impl<S, B> Verification<S, B> {
    /// The check's outcome: the service and the request to call it with, or the refusal.
    pub(crate) fn poll<R: From<Bytes>>(
        &mut self,
        cx: &mut Context<'_>,
        wants_json: bool,
    ) -> Poll<Verified<S, B, R>> {
        let outcome = std::task::ready!(self.verify.as_mut().poll(cx));
        Poll::Ready(match (outcome, self.inner.take()) {
            (Ok(request), Some(inner)) => Ok((inner, request)),
            (Err(refused), _) => Err(refusal(refused, wants_json)),
            // Polled again after the check: the future it belongs to has moved on.
            (Ok(_), None) => return Poll::Pending,
        })
    }
}

/// The CSRF check of `request` up to where it needs I/O: tier 1, and, when the token tier must
/// read the token, the [`Verification`] to wait for (with a ready clone of `inner` left in its
/// place).
pub(crate) fn check<S, B, R>(
    request: Request<B>,
    csrf: &Arc<CsrfPolicy>,
    prepared: Prepared,
    inner: &mut S,
) -> Checked<S, B, R>
where
    S: Clone,
    B: RequestBody,
    R: From<Bytes>,
{
    let Prepared {
        precheck,
        session,
        cookie_secret,
        wants_json,
    } = prepared;
    let passed = match precheck {
        Precheck::Skip => Ok(request),
        Precheck::Refuse(failure) => {
            let read = BodyRead::none_of(request.headers(), request.body());
            report_only(csrf, Refusal::Csrf(failure), request, read)
        }
        Precheck::NeedToken => {
            // The inner service was made ready for this call: it waits with the check, and a
            // fresh clone stays for the next call.
            let clone = inner.clone();
            let inner = std::mem::replace(inner, clone);
            let (parts, body) = request.into_parts();
            return Checked::Verify(Verification {
                verify: Box::pin(verify_token(
                    parts,
                    body,
                    Arc::clone(csrf),
                    session,
                    cookie_secret,
                )),
                inner: Some(inner),
            });
        }
    };
    match passed {
        Ok(request) => Checked::Pass(request),
        Err(refused) => Checked::Refused(refusal(refused, wants_json)),
    }
}

/// What [`prepare`] found: the tier-1 verdict and what the rest of the check needs.
pub(crate) struct Prepared {
    precheck: Precheck,
    session: Option<mitten_core::session::Session>,
    cookie_secret: Option<CookieSecret>,
    wants_json: bool,
}

/// The part of the check that needs no I/O: the tier-1 verdict; what the response gets once
/// answered; and the token context, for the handler. `secure`: the request came over HTTPS;
/// `wants_json`: a refusal is answered in JSON; `session`: the one tokens are bound to, if
/// sessions are on (kept only if the token tier will need it).
pub(crate) fn prepare<B>(
    request: &Request<B>,
    policy: &Policy,
    csrf: &Arc<CsrfPolicy>,
    secure: bool,
    wants_json: bool,
    session: Option<&mitten_core::session::Session>,
) -> (Prepared, After, CsrfContext) {
    // The connection only matters for a request the check will look at (and the request's own
    // origin only when tier 1 compares one).
    let mut view = RequestView {
        method: request.method(),
        uri: request.uri(),
        headers: request.headers(),
        connection: mitten_core::ConnectionInfo::default(),
    };
    let unsafe_method = !mitten_core::csrf::is_safe_method(view.method);
    let examined = unsafe_method || mitten_core::csrf::is_websocket_handshake(&view);
    let precheck = if examined {
        view.connection = crate::service::connection_info(request);
        csrf.precheck(&view, secure, || policy.request_origin(&view))
    } else {
        Precheck::Skip
    };
    let checked = unsafe_method || precheck != Precheck::Skip;
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
    let context = CsrfContext {
        policy: Arc::clone(csrf),
        cookie_secret: cookie_secret.clone(),
        new_secret,
    };
    let prepared = Prepared {
        precheck,
        session: session.filter(|_| precheck == Precheck::NeedToken).cloned(),
        cookie_secret,
        wants_json,
    };
    (prepared, after, context)
}

/// The CSRF cookie's secret, if the request carries exactly one well-formed one.
fn cookie_secret(headers: &HeaderMap) -> Option<CookieSecret> {
    match mitten_core::request_cookie(headers, COOKIE_NAME) {
        mitten_core::RequestCookie::One(value) => CookieSecret::parse(value),
        _ => None,
    }
}
