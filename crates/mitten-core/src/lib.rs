//! The framework-free core of [Mitten](https://docs.rs/mitten): every security decision as a
//! synchronous function over a small view of the request or response.
//!
//! Applications use the `mitten` crate, which re-exports this one with an adapter (tower/axum).
//! This crate has no async runtime and no web framework, so the same decisions are shared by
//! every adapter and testable in microseconds.
//!
//! | module | protects against | default |
//! |---|---|---|
//! | [`headers`] | clickjacking, MIME sniffing, cross-origin leaks, banner grabbing, SSL stripping (HSTS) | [`SecurityHeaders::strict`](headers::SecurityHeaders::strict) |
//! | [`csp`] | cross-site scripting | a strict policy with a fresh nonce per response |
//! | [`https`] | protocol downgrade | redirect plain HTTP to HTTPS, loopback exempt |
//!
//! Configuration is validated once ([`Config::build`]); everything that can be wrong with it is a
//! [`ConfigError`] at start-up, never a failure at request time.
//!
//! ```
//! use http::{HeaderMap, Method, StatusCode, Uri};
//! use mitten_core::{Config, ConnectionInfo, RequestView, Verdict};
//! use mitten_core::csp::CspNonce;
//! use mitten_core::headers::ResponseContext;
//!
//! let policy = Config::strict().build()?;
//!
//! // A plain-HTTP request for a public host is redirected.
//! let mut headers = HeaderMap::new();
//! headers.insert("host", "example.com".parse()?);
//! let uri = Uri::from_static("/notes?page=2");
//! let view = RequestView { method: &Method::GET, uri: &uri, headers: &headers, connection: ConnectionInfo::default() };
//! let Verdict::Redirect { location, .. } = policy.check_request(&view) else { unreachable!() };
//! assert_eq!(location, "https://example.com/notes?page=2");
//!
//! // Over TLS it goes through, and its response gets the headers.
//! let view = RequestView { connection: ConnectionInfo { tls: true, peer: None }, ..view };
//! assert_eq!(policy.check_request(&view), Verdict::Continue { secure: true });
//! let mut response_headers = HeaderMap::new();
//! let nonce = CspNonce::generate();
//! let ctx = ResponseContext { secure: true, status: StatusCode::OK, nonce: &nonce, route: None };
//! policy.headers().apply(&mut response_headers, &ctx);
//! assert!(response_headers.contains_key("strict-transport-security"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cookies;
pub mod csp;
#[cfg(feature = "csrf")]
pub mod csrf;
mod error;
#[cfg(feature = "files")]
pub mod files;
pub mod headers;
pub mod https;
mod json_guard;
mod keys;
mod mac;
mod origin;
mod path;
mod percent;
mod policy;
mod reject;
mod request;
mod route;
#[cfg(feature = "sessions")]
pub mod session;
#[cfg(feature = "signing")]
pub mod sign;
mod structured_field;

pub use cookies::{RequestCookie, request_cookie};
pub use error::ConfigError;
pub use json_guard::{JSON_PREFIX, JsonGuard};
pub use keys::{Keyring, MIN_KEY_BYTES, SecretKey};
pub use origin::{Origin, Scheme};
pub use path::PathPattern;
pub use policy::{Config, Policy, Verdict};
pub use reject::Rejection;
pub use request::{ConnectionInfo, RequestView, TrustedProxies, forwarded_proto, request_scheme};
pub use route::{RouteOverride, RouteOverrideBuilder};
