//! [`JsonGuardLayer`]: the JSON-hijacking guard for the routes that serve JSON.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use http::{HeaderName, HeaderValue, Request, Response};
use mitten_core::JsonGuard;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::body::MittenBody;
use crate::reject;

/// Applies a [`JsonGuard`] to the routes it wraps: refused requests get 403 (and, from the
/// outer [`MittenLayer`](crate::MittenLayer), the security headers); served ones get
/// `application/json`, `nosniff`, `Cross-Origin-Resource-Policy: same-origin` and, if
/// configured, the `)]}',` prefix.
///
/// ```
/// use axum::{Json, Router, routing::get};
/// use mitten_core::{Config, JsonGuard};
/// use mitten_tower::{JsonGuardLayer, Mitten};
///
/// let app: Router = Router::new()
///     .route("/api/notes", get(|| async { Json(vec!["a note"]) }).layer(JsonGuardLayer::new(JsonGuard::new())))
///     .layer(Mitten::new(Config::strict())?.layer());
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct JsonGuardLayer {
    guard: JsonGuard,
}

impl JsonGuardLayer {
    /// A layer applying `guard`.
    pub fn new(guard: JsonGuard) -> Self {
        Self { guard }
    }
}

impl<S> Layer<S> for JsonGuardLayer {
    type Service = JsonGuardService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        JsonGuardService {
            inner,
            guard: self.guard,
        }
    }
}

/// The service made by [`JsonGuardLayer`].
#[derive(Debug, Clone)]
pub struct JsonGuardService<S> {
    inner: S,
    guard: JsonGuard,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for JsonGuardService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ReqBody: http_body::Body,
    ResBody: From<bytes::Bytes>,
{
    type Response = Response<MittenBody<ResBody>>;
    type Error = S::Error;
    type Future = JsonGuardFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        match self.guard.check(request.headers()) {
            Ok(()) => JsonGuardFuture::Inner {
                future: self.inner.call(request),
                prefix: self.guard.prefix(),
            },
            Err(rejection) => {
                tracing::warn!(
                    target: "mitten",
                    reason = rejection.code(),
                    method = %request.method(),
                    path = request.uri().path(),
                    "JSON request refused"
                );
                JsonGuardFuture::Refused {
                    response: Some(reject::rejection(rejection, &request).map(MittenBody::inner)),
                }
            }
        }
    }
}

pin_project! {
    /// Response future of [`JsonGuardService`].
    #[project = JsonGuardFutureProj]
    #[allow(missing_docs)]
    pub enum JsonGuardFuture<F, B> {
        Inner { #[pin] future: F, prefix: Option<&'static [u8]> },
        Refused { response: Option<Response<MittenBody<B>>> },
    }
}

impl<F, B, E> Future for JsonGuardFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<MittenBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            JsonGuardFutureProj::Refused { response } => match response.take() {
                Some(response) => Poll::Ready(Ok(response)),
                None => Poll::Pending,
            },
            JsonGuardFutureProj::Inner { future, prefix } => {
                let response = ready!(future.poll(cx))?;
                Poll::Ready(Ok(decorate(response, *prefix)))
            }
        }
    }
}

fn decorate<B>(response: Response<B>, prefix: Option<&'static [u8]>) -> Response<MittenBody<B>> {
    let (mut parts, body) = response.into_parts();
    let is_json = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| {
            let essence = essence.trim().to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        });
    if !is_json {
        parts
            .headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    parts
        .headers
        .insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    parts.headers.insert(
        HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    let body = match prefix {
        Some(prefix) => {
            let length = parts
                .headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if let Some(length) = length {
                parts.headers.insert(
                    CONTENT_LENGTH,
                    HeaderValue::from(length + prefix.len() as u64),
                );
            }
            MittenBody::prefixed(prefix, body)
        }
        None => MittenBody::inner(body),
    };
    Response::from_parts(parts, body)
}
