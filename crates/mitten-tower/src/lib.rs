//! The tower adapter of [Mitten](https://docs.rs/mitten): one [`Layer`](tower_layer::Layer) that
//! puts the security headers (with a fresh CSP nonce) on every response and redirects plain
//! HTTP to HTTPS, for axum, hyper and anything built on tower.
//!
//! The decisions live in [`mitten_core`]; this crate only translates types.
//!
//! | feature | adds |
//! |---|---|
//! | `axum` | the [`Nonce`] extractor; the peer address from axum's `ConnectInfo` |
//! | `sessions` | [`Mitten::with_sessions`]; with `axum`, the `Session` extractor |
//! | `csrf` | [`Mitten::with_csrf`]; with `axum`, the `CsrfToken` extractor (implies `sessions`) |
//!
//! ```
//! use axum::{Router, routing::get};
//! use mitten_core::Config;
//! use mitten_tower::Mitten;
//!
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .layer(Mitten::new(Config::strict())?.layer());
//! # Ok::<(), mitten_core::ConfigError>(())
//! ```
//!
//! Put the layer outermost, so that every response gets the headers: the application's
//! errors, a catch-panic layer's 500s (put `CatchPanicLayer` *inside* Mitten), and Mitten's own
//! redirects and rejections. A handler's own security headers are kept; see
//! [`mitten_core::headers`] for the rules, and [`RouteOverrideLayer`] to change a policy for
//! some routes.
//!
//! Whether a request is secure (for HSTS and the redirect) comes from a
//! [`ConnectionInfo`](mitten_core::ConnectionInfo) request extension that a TLS-terminating
//! server inserts, from trusted proxies' `Forwarded`/`X-Forwarded-Proto`, or from
//! [`Config::always_tls`](mitten_core::Config::always_tls).
//!
//! With the `csrf` feature the request body type must implement `From<Bytes>` (a body read for
//! its token is handed on as the same bytes): axum's `Body` and `http_body_util::Full` do; map a
//! hyper `Incoming` into one of them first.

mod body;
pub mod bounds;
mod context;
#[cfg(feature = "csrf")]
mod csrf;
#[cfg(feature = "csrf")]
mod csrf_body;
#[cfg(not(feature = "csrf"))]
mod csrf_off;
#[cfg(feature = "csrf")]
mod csrf_verify;
#[cfg(feature = "axum")]
mod extract;
mod future;
mod json;
mod layer;
mod reject;
mod route;
mod service;
mod session;

pub use body::MittenBody;
pub use context::MittenRequest;
#[cfg(feature = "csrf")]
pub use csrf::CsrfContext;
#[cfg(all(feature = "axum", feature = "csrf"))]
pub use extract::CsrfToken;
#[cfg(feature = "axum")]
pub use extract::{Nonce, NonceMissing};
#[cfg(all(feature = "axum", feature = "sessions"))]
pub use extract::{Session, SessionUnavailable};
pub use future::ResponseFuture;
pub use json::{JsonGuardFuture, JsonGuardLayer, JsonGuardService};
pub use layer::{Mitten, MittenLayer};
pub use route::{RouteOverrideFuture, RouteOverrideLayer, RouteOverrideService};
pub use service::MittenService;
