//! # Mitten
//!
//! The security layer for Rust web applications: what Flask-Talisman, Flask-SeaSurf,
//! Flask-Mitten and their peers give a Flask app, in one tower layer with secure defaults.
//!
//! ```
//! use axum::{Router, response::Html, routing::get};
//! use mitten::{Config, Mitten, Nonce};
//!
//! async fn index(Nonce(nonce): Nonce) -> Html<String> {
//!     Html(format!(r#"<script nonce="{nonce}">document.title = "hi"</script>"#))
//! }
//!
//! let mitten = Mitten::new(Config::strict())?; // every configuration error surfaces here
//! let app: Router = Router::new().route("/", get(index)).layer(mitten.layer());
//! # Ok::<(), mitten::ConfigError>(())
//! ```
//!
//! ## What it protects against
//!
//! | threat | defence | default | module |
//! |---|---|---|---|
//! | XSS | `Content-Security-Policy` with a fresh nonce per response, `'strict-dynamic'`, `object-src 'none'`, `base-uri 'none'`; report-only mode | on | [`csp`] |
//! | Clickjacking | `frame-ancestors` and `X-Frame-Options`, kept consistent | `'none'` / `DENY` | [`headers::FrameOptions`] |
//! | Protocol downgrade | redirect plain HTTP to HTTPS (proxy-aware); HSTS on secure responses only | on, loopback exempt | [`https`], [`headers::Hsts`] |
//! | MIME sniffing, legacy hazards | `nosniff`, `X-Permitted-Cross-Domain-Policies`, `X-Download-Options`, `X-XSS-Protection: 0` | on | [`headers`] |
//! | Cross-origin leaks | `Referrer-Policy`, `Permissions-Policy`, COOP, CORP (COEP optional) | on | [`headers`] |
//! | Banner grabbing | `Server`, `X-Powered-By` and the OWASP remove list stripped, or a custom banner | removed | [`headers::Banner`] |
//!
//! Every default, and the reason for it, is documented on the type that sets it; options that
//! weaken a protection carry `danger` or `without` in their names.
//!
//! ## Features
//!
//! | feature | default | adds |
//! |---|---|---|
//! | `tower` | yes | [`Mitten`], [`MittenLayer`], [`RouteOverrideLayer`]: the tower adapter |
//! | `axum` | no | the [`Nonce`] extractor, and the peer address from axum's `ConnectInfo` |
//!
//! ## Presets
//!
//! [`Config::strict`] is the default. [`Config::api`] suits JSON services without HTML
//! (`default-src 'none'`, `no-referrer`). [`Config::talisman`] reproduces Flask-Talisman's
//! defaults for a like-for-like migration.
//!
//! ## Per-route policies
//!
//! A route (or router) can replace or relax the CSP and framing policy with a
//! [`RouteOverride`], attached by a [`RouteOverrideLayer`] or by the handler itself as a
//! response extension (axum: `(Extension(route_override), body)`):
//!
//! ```
//! use axum::{Extension, Router, routing::get};
//! use mitten::csp::{ContentSecurityPolicy, Source};
//! use mitten::headers::FrameOptions;
//! use mitten::{Config, Mitten, RouteOverride, RouteOverrideLayer};
//!
//! let partner_frame = RouteOverride::builder()
//!     .frame_options(FrameOptions::AllowFrom(vec![Source::host("https://partner.example")]))
//!     .build()?;
//! let images_anywhere = RouteOverride::builder()
//!     .csp(ContentSecurityPolicy::strict().img_src([Source::Wildcard]))
//!     .build()?;
//!
//! let app: Router = Router::new()
//!     .route("/widget", get(|| async { "embeddable" }).layer(RouteOverrideLayer::new(partner_frame)))
//!     .route("/gallery", get(move || {
//!         let images_anywhere = images_anywhere.clone();
//!         async move { (Extension(images_anywhere), "gallery") }
//!     }))
//!     .layer(Mitten::new(Config::strict())?.layer());
//! # Ok::<(), mitten::ConfigError>(())
//! ```
//!
//! A handler that sets a security header itself (say its own `Content-Security-Policy` or
//! `Cache-Control`) keeps it: Mitten only fills in what is missing.

pub use mitten_core::*;

#[cfg(feature = "tower")]
pub use mitten_tower::{
    JsonGuardFuture, JsonGuardLayer, JsonGuardService, Mitten, MittenBody, MittenLayer,
    MittenRequest, MittenService, ResponseFuture, RouteOverrideFuture, RouteOverrideLayer,
    RouteOverrideService, bounds,
};

#[cfg(all(feature = "tower", feature = "csrf"))]
pub use mitten_tower::CsrfContext;
#[cfg(all(feature = "axum", feature = "csrf"))]
pub use mitten_tower::CsrfToken;
#[cfg(feature = "axum")]
pub use mitten_tower::{Nonce, NonceMissing};
#[cfg(all(feature = "axum", feature = "sessions"))]
pub use mitten_tower::{Session, SessionUnavailable};
