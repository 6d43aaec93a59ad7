//! The CSRF check's token tier for one request: the token found in the headers or the body (read
//! whole only then, and passed on byte for byte) and its verdict against the session or the CSRF
//! cookie. Also the refusal of a request either tier fails, or, in report-only mode, its pass.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use mitten_core::Rejection;
use mitten_core::csrf::{
    CookieSecret, CsrfFailure, CsrfPolicy, TokenMode, USED_TOKENS_KEY, record_use,
    token_from_headers,
};
use mitten_core::session::UpdateNow;

use crate::csrf_body::{BodyReadError, BodyTokenError, read_body, token_body, token_in_body};
use crate::reject;

/// Why the check refused a request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Refusal {
    Csrf(CsrfFailure),
    TooLarge,
    BodyUnreadable,
    StoreUnavailable,
}

/// A refusal, with the method and path it is logged with.
pub(crate) struct Refused {
    refusal: Refusal,
    method: http::Method,
    path: String,
    /// The request announced a body that was not read to its end.
    body_unread: bool,
}

impl Refused {
    fn new(refusal: Refusal, parts: &http::request::Parts, body_read: BodyRead) -> Self {
        Self {
            refusal,
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
            body_unread: match body_read {
                BodyRead::Whole => false,
                BodyRead::Partly => true,
                BodyRead::No { body_left } => body_left,
            },
        }
    }
}

/// How much of the request's body the check read before its verdict.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BodyRead {
    /// None of it; `body_left` if the request has one (see [`reject::has_body`]).
    No {
        body_left: bool,
    },
    Partly,
    Whole,
}

impl BodyRead {
    /// None of `body`, the body of a request with `headers`.
    pub(crate) fn none_of<B: Body>(headers: &http::HeaderMap, body: &B) -> Self {
        Self::No {
            body_left: reject::has_body(headers, body),
        }
    }
}

/// In report-only mode a refusal is logged and the request goes on; otherwise it is refused.
pub(crate) fn report_only<B>(
    csrf: &CsrfPolicy,
    refusal: Refusal,
    request: Request<B>,
    body_read: BodyRead,
) -> Result<Request<B>, Refused> {
    if csrf.is_report_only() {
        if let Refusal::Csrf(failure) = refusal {
            tracing::warn!(target: "mitten", reason = failure.code(), method = %request.method(), path = request.uri().path(), "CSRF check would refuse this request (report-only)");
        }
        return Ok(request);
    }
    let (parts, _body) = request.into_parts();
    Err(Refused::new(refusal, &parts, body_read))
}

/// The token tier for one request. The request travels as its parts and body until the end, so
/// that the boxed future holds one copy of them (it is allocated for every checked request).
pub(crate) async fn verify_token<B>(
    parts: http::request::Parts,
    body: B,
    csrf: Arc<CsrfPolicy>,
    session: Option<mitten_core::session::Session>,
    cookie_secret: Option<CookieSecret>,
) -> Result<Request<B>, Refused>
where
    B: Body<Data = Bytes> + From<Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let csrf = &*csrf;
    let header_token = match token_from_headers(&parts.headers) {
        Ok(token) => token.map(str::to_owned),
        Err(failure) => {
            let read = BodyRead::none_of(&parts.headers, &body);
            let request = Request::from_parts(parts, body);
            return report_only(csrf, Refusal::Csrf(failure), request, read);
        }
    };
    // The body as it came, or its bytes when the token had to be read from them (the token then
    // borrows from them until the verdict).
    let kind = match header_token {
        Some(_) => None,
        None => token_body(&parts.headers, csrf.token_in_json()),
    };
    let body = match kind {
        Some(kind) => {
            let limit = csrf.body_limit(parts.uri.path());
            let over = |length: u64| usize::try_from(length).map_or(true, |length| length > limit);
            if csrf.is_report_only() && body.size_hint().exact().is_none_or(over) {
                // Report-only refuses nothing, so a body that is, or may be, over the limit is
                // passed on unread: read to the limit, it could not be given back whole.
                tracing::warn!(target: "mitten", reason = "csrf_body_not_read", method = %parts.method, path = parts.uri.path(), "CSRF token not checked: the body may be over the read limit (report-only)");
                return Ok(Request::from_parts(parts, body));
            }
            match read_body(body, limit).await {
                Ok(bytes) => CheckedBody::Read(kind, bytes),
                // Never passed on unchecked, nor in part.
                Err(error) => {
                    let refusal = match error {
                        BodyReadError::TooLarge => Refusal::TooLarge,
                        BodyReadError::Failed => Refusal::BodyUnreadable,
                    };
                    return Err(Refused::new(refusal, &parts, BodyRead::Partly));
                }
            }
        }
        None => CheckedBody::Stream(body),
    };
    let body_token = match &body {
        CheckedBody::Read(kind, bytes) => token_in_body(kind, bytes).await,
        CheckedBody::Stream(_) => Ok(None),
    };
    let body_token = match body_token {
        Ok(token) => token,
        Err(error) => {
            let read = body.read(&parts.headers);
            let request = Request::from_parts(parts, body.into_body());
            let failure = match error {
                BodyTokenError::Duplicate => CsrfFailure::DuplicateToken,
                BodyTokenError::Malformed => CsrfFailure::MalformedBody,
            };
            return report_only(csrf, Refusal::Csrf(failure), request, read);
        }
    };
    let token = header_token.as_deref().or(body_token.as_deref());
    let verdict = match &session {
        Some(session) => match session.load().await {
            Ok(()) => verdict(csrf, token, session).await,
            // The store is down: fail closed, as the session layer does.
            Err(_) => Err(Refusal::StoreUnavailable),
        },
        None => csrf
            .verify(
                token,
                cookie_secret.as_ref().map(CookieSecret::binding),
                None,
            )
            .map_err(Refusal::Csrf),
    };
    drop(body_token);
    let Err(refusal) = verdict else {
        return Ok(Request::from_parts(parts, body.into_body()));
    };
    let read = body.read(&parts.headers);
    match refusal {
        Refusal::Csrf(_) => {
            let request = Request::from_parts(parts, body.into_body());
            report_only(csrf, refusal, request, read)
        }
        // Not the check's doubt but the store's failure: refused even in report-only mode.
        _ => Err(Refused::new(refusal, &parts, read)),
    }
}

/// A checked request's body: passed on as it came, or read whole because the token is in it.
enum CheckedBody<B> {
    Stream(B),
    Read(crate::csrf_body::TokenBody, Bytes),
}

impl<B: Body> CheckedBody<B> {
    /// How much of the body, that of a request with `headers`, the check read.
    fn read(&self, headers: &http::HeaderMap) -> BodyRead {
        match self {
            Self::Stream(body) => BodyRead::none_of(headers, body),
            Self::Read(..) => BodyRead::Whole,
        }
    }
}

impl<B: From<Bytes>> CheckedBody<B> {
    /// The body for the application: the same stream, or the same bytes.
    fn into_body(self) -> B {
        match self {
            Self::Stream(body) => body,
            Self::Read(_, bytes) => B::from(bytes),
        }
    }
}

/// The token's verdict against the session. A one-time token is recorded as used in the store
/// before the request goes on (compare-and-set: of two requests replaying it at once, one
/// passes).
async fn verdict(
    csrf: &CsrfPolicy,
    token: Option<&str>,
    session: &mitten_core::session::Session,
) -> Result<(), Refusal> {
    let bound = session.existing_token_binding();
    let binding = bound
        .as_ref()
        .map(mitten_core::session::TokenBinding::binding);
    let user = bound
        .as_ref()
        .and_then(mitten_core::session::TokenBinding::user);
    match csrf.mode() {
        TokenMode::PerSession => csrf.verify(token, binding, user).map_err(Refusal::Csrf),
        TokenMode::OneTime { max_age } => {
            let token = token.ok_or(Refusal::Csrf(CsrfFailure::TokenMissing))?;
            let binding = binding.ok_or(Refusal::Csrf(CsrfFailure::NoBinding))?;
            let user = if csrf.binds_user() { user } else { None };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let nonce = csrf
                .token_key()
                .verify_once(token, binding, user, now, max_age)
                .ok_or(Refusal::Csrf(CsrfFailure::TokenInvalid))?;
            let record =
                |stored: Option<&serde_json::Value>| record_use(stored, &nonce, now, max_age);
            match session.update_now(USED_TOKENS_KEY, record).await {
                Ok(UpdateNow::Written) => Ok(()),
                Ok(UpdateNow::Refused(failure)) => Err(Refusal::Csrf(failure)),
                // Destroyed since it was loaded: the token's binding is gone with it.
                Ok(_) => Err(Refusal::Csrf(CsrfFailure::NoBinding)),
                Err(_) => Err(Refusal::StoreUnavailable),
            }
        }
    }
}

/// The response to a refused request, logged without any secret. A request whose body was left
/// unread is answered with the connection's end.
pub(crate) fn refusal<B: From<Bytes>>(refused: Refused, wants_json: bool) -> Response<B> {
    let Refused {
        refusal,
        method,
        path,
        body_unread,
    } = refused;
    let rejection = match refusal {
        Refusal::Csrf(failure) => Rejection::Csrf(failure),
        Refusal::TooLarge => Rejection::PayloadTooLarge,
        Refusal::BodyUnreadable => Rejection::BodyUnreadable,
        Refusal::StoreUnavailable => Rejection::SessionStoreUnavailable,
    };
    tracing::warn!(target: "mitten", reason = rejection.code(), %method, path, "CSRF check refused a request");
    let mut response = reject::rejection_response(rejection, wants_json);
    if body_unread {
        reject::close_connection(&mut response);
    }
    response
}
