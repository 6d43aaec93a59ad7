//! axum extractors.

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use mitten_core::csp::CspNonce;

/// The CSP nonce of this response, for the `nonce` attribute of inline scripts and styles
/// (Flask-Talisman's `csp_nonce()`).
///
/// ```
/// use axum::{Router, response::Html, routing::get};
/// use mitten_core::Config;
/// use mitten_tower::{Mitten, Nonce};
///
/// async fn page(Nonce(nonce): Nonce) -> Html<String> {
///     Html(format!(r#"<script nonce="{nonce}">console.log("allowed")</script>"#))
/// }
///
/// let app: Router = Router::new().route("/", get(page)).layer(Mitten::new(Config::strict())?.layer());
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nonce(pub CspNonce);

impl std::fmt::Display for Nonce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Nonce {
    type Rejection = NonceMissing;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CspNonce>()
            .copied()
            .map(Nonce)
            .ok_or(NonceMissing)
    }
}

/// The `Nonce` extractor was used on a route that Mitten's layer does not wrap: a programming
/// error, answered with 500 rather than a page whose scripts would all be blocked.
#[derive(Debug, Clone, Copy)]
pub struct NonceMissing;

impl IntoResponse for NonceMissing {
    fn into_response(self) -> Response {
        tracing::error!(target: "mitten", "Nonce extractor used on a route without Mitten's layer");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Mitten's layer is not installed on this route.",
        )
            .into_response()
    }
}
