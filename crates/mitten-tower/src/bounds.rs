//! What [`MittenService`](crate::MittenService) needs of the service it wraps and of its
//! bodies. The needs grow with the features: nothing more than a tower service by default; a
//! response body that can travel between threads with `sessions` (a session is written back
//! after the application answered); with `csrf`, a request body that can be read whole and
//! handed on as the same bytes, and a service that can be cloned (a request waits for its token
//! check with the inner service it will be given to).
//!
//! Each trait is implemented for every type that meets it: there is nothing to implement.
//!
//! ```
//! use mitten_tower::bounds::ResponseBody;
//!
//! fn answers_with<B: ResponseBody>() {}
//! answers_with::<axum::body::Body>();
//! answers_with::<http_body_util::Full<bytes::Bytes>>();
//! ```

use bytes::Bytes;

/// A response body Mitten can answer with itself (a redirect, a refusal): `From<Bytes>`, and,
/// with the `sessions` feature, `Send + 'static`.
#[cfg(feature = "sessions")]
pub trait ResponseBody: From<Bytes> + Send + 'static {}
#[cfg(feature = "sessions")]
impl<B: From<Bytes> + Send + 'static> ResponseBody for B {}

/// A response body Mitten can answer with itself (a redirect, a refusal): `From<Bytes>`, and,
/// with the `sessions` feature, `Send + 'static`.
#[cfg(not(feature = "sessions"))]
pub trait ResponseBody: From<Bytes> {}
#[cfg(not(feature = "sessions"))]
impl<B: From<Bytes>> ResponseBody for B {}

/// A request body: any [`http_body::Body`], and, with the `csrf` feature, one of `Bytes` that
/// is `From<Bytes>` (the body read for its token is handed on as the same bytes) and
/// `Send + 'static`.
#[cfg(feature = "csrf")]
pub trait RequestBody:
    http_body::Body<Data = Bytes, Error: Into<BoxError> + Send> + From<Bytes> + Send + 'static
{
}
#[cfg(feature = "csrf")]
impl<B> RequestBody for B where
    B: http_body::Body<Data = Bytes, Error: Into<BoxError> + Send> + From<Bytes> + Send + 'static
{
}

/// A request body: any [`http_body::Body`], and, with the `csrf` feature, one of `Bytes` that
/// is `From<Bytes>` (the body read for its token is handed on as the same bytes) and
/// `Send + 'static`.
#[cfg(not(feature = "csrf"))]
pub trait RequestBody: http_body::Body {}
#[cfg(not(feature = "csrf"))]
impl<B: http_body::Body> RequestBody for B {}

/// The wrapped service: with the `csrf` feature it must be `Clone` (a request whose token is
/// in its body waits for the check with a ready clone).
#[cfg(feature = "csrf")]
pub trait InnerService: Clone {}
#[cfg(feature = "csrf")]
impl<S: Clone> InnerService for S {}

/// The wrapped service: with the `csrf` feature it must be `Clone` (a request whose token is
/// in its body waits for the check with a ready clone).
#[cfg(not(feature = "csrf"))]
pub trait InnerService {}
#[cfg(not(feature = "csrf"))]
impl<S> InnerService for S {}

/// The error of a request body, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
