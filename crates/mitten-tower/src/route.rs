//! A layer that attaches a [`RouteOverride`] to a route's responses.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;
use mitten_core::RouteOverride;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

/// Attaches a [`RouteOverride`] to every response of the routes it wraps, for the outer
/// [`MittenLayer`](crate::MittenLayer) to honour (Flask-Talisman's per-view `@talisman(...)`).
///
/// An override the handler attached itself (for example with axum's `Extension` as a response
/// part) is more specific and is kept.
///
/// ```
/// use axum::{Router, routing::get};
/// use mitten_core::csp::Source;
/// use mitten_core::headers::FrameOptions;
/// use mitten_core::{Config, RouteOverride};
/// use mitten_tower::{Mitten, RouteOverrideLayer};
///
/// let embeddable = RouteOverride::builder()
///     .frame_options(FrameOptions::AllowFrom(vec![Source::host("https://partner.example")]))
///     .build()?;
/// let app: Router = Router::new()
///     .route("/widget", get(|| async { "embed me" }).layer(RouteOverrideLayer::new(embeddable)))
///     .route("/", get(|| async { "not framable" }))
///     .layer(Mitten::new(Config::strict())?.layer());
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RouteOverrideLayer {
    route: RouteOverride,
}

impl RouteOverrideLayer {
    /// A layer attaching `route` to responses.
    pub fn new(route: RouteOverride) -> Self {
        Self { route }
    }
}

impl<S> Layer<S> for RouteOverrideLayer {
    type Service = RouteOverrideService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RouteOverrideService {
            inner,
            route: self.route.clone(),
        }
    }
}

/// The service made by [`RouteOverrideLayer`].
#[derive(Debug, Clone)]
pub struct RouteOverrideService<S> {
    inner: S,
    route: RouteOverride,
}

impl<S, Request, B> Service<Request> for RouteOverrideService<S>
where
    S: Service<Request, Response = Response<B>>,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = RouteOverrideFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        RouteOverrideFuture {
            future: self.inner.call(request),
            route: Some(self.route.clone()),
        }
    }
}

pin_project! {
    /// Response future of [`RouteOverrideService`].
    #[derive(Debug)]
    pub struct RouteOverrideFuture<F> {
        #[pin]
        future: F,
        route: Option<RouteOverride>,
    }
}

impl<F, B, E> Future for RouteOverrideFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.future.poll(cx))?;
        if let Some(route) = this.route.take() {
            if response.extensions().get::<RouteOverride>().is_none() {
                response.extensions_mut().insert(route);
            }
        }
        Poll::Ready(Ok(response))
    }
}
