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
            .get::<crate::MittenRequest>()
            .map(|context| Nonce(context.nonce()))
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

/// The request's session (Flask-Mitten's `session`), loaded from the store.
///
/// Dereferences to [`mitten_core::session::Session`]. If the store cannot be reached, the
/// request is answered with 503 ([`SessionUnavailable`]) instead of running with an empty session.
///
/// ```
/// use axum::{Router, routing::post};
/// use mitten_core::Config;
/// use mitten_core::session::{MemoryStore, SessionConfig, Sessions};
/// use mitten_tower::{Mitten, Session};
///
/// async fn login(session: Session) -> &'static str {
///     session.set_user_id(Some("alice"));
///     session.regenerate(); // a new ID at every privilege change
///     "welcome"
/// }
///
/// let sessions = Sessions::new(MemoryStore::new(100_000), SessionConfig::new())?;
/// let app: Router = Router::new()
///     .route("/login", post(login))
///     .layer(Mitten::new(Config::strict())?.with_sessions(sessions).layer());
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[cfg(feature = "sessions")]
#[derive(Debug, Clone)]
pub struct Session(pub mitten_core::session::Session);

#[cfg(feature = "sessions")]
impl std::ops::Deref for Session {
    type Target = mitten_core::session::Session;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

#[cfg(feature = "sessions")]
impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = SessionUnavailable;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let session = parts
            .extensions
            .get::<crate::MittenRequest>()
            .and_then(crate::MittenRequest::session)
            .cloned()
            .ok_or(SessionUnavailable {
                configured: false,
                what: "sessions",
            })?;
        session.load().await.map_err(|error| {
            tracing::error!(target: "mitten", %error, "session store failed; answering 503");
            SessionUnavailable {
                configured: true,
                what: "sessions",
            }
        })?;
        Ok(Session(session))
    }
}

/// The session (or the CSRF token, which may need it) could not be had: the store failed (503),
/// or sessions or CSRF protection are not configured on this route (500, a programming error).
#[cfg(feature = "sessions")]
#[derive(Debug, Clone, Copy)]
pub struct SessionUnavailable {
    configured: bool,
    what: &'static str,
}

#[cfg(feature = "sessions")]
impl IntoResponse for SessionUnavailable {
    fn into_response(self) -> Response {
        if !self.configured {
            tracing::error!(target: "mitten", what = self.what, "extractor used on a route where Mitten does not provide it");
            let message = if self.what == "csrf" {
                "CSRF protection is not configured on this route."
            } else {
                "Sessions are not configured on this route."
            };
            return (StatusCode::INTERNAL_SERVER_ERROR, message).into_response();
        }
        let response = crate::reject::rejection_response::<axum::body::Body>(
            mitten_core::Rejection::SessionStoreUnavailable,
            false,
        );
        response.map(axum::body::Body::new)
    }
}

/// A CSRF token for the page being rendered: masked afresh for every render (BREACH), bound to
/// the session (or to the `__Host-mitten-csrf` cookie, which is set if the browser has none).
///
/// ```
/// use axum::{Router, response::Html, routing::get};
/// use mitten_core::Config;
/// use mitten_core::csrf::CsrfConfig;
/// use mitten_tower::{CsrfToken, Mitten};
///
/// async fn form(token: CsrfToken) -> Html<String> {
///     Html(format!(r#"<form method="post" action="/notes">{}<input name="text"></form>"#, token.hidden_input()))
/// }
///
/// let mitten = Mitten::new(Config::strict())?.with_csrf(CsrfConfig::new())?;
/// let app: Router = Router::new().route("/", get(form)).layer(mitten.layer());
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[cfg(feature = "csrf")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfToken(String);

#[cfg(feature = "csrf")]
impl CsrfToken {
    /// The masked token (base64url: safe in HTML attributes and headers as it is).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `<input type="hidden" name="_csrf_token" value="…">` for forms sent with
    /// `method="post"`. Never put it in a GET form: the token would travel in the URL, where
    /// `Referer` headers, logs and history keep it (and Mitten never reads a token from there).
    pub fn hidden_input(&self) -> String {
        [
            r#"<input type="hidden" name=""#,
            mitten_core::csrf::TOKEN_FIELD,
            r#"" value=""#,
            &self.0,
            r#"">"#,
        ]
        .concat()
    }

    /// The hidden input for a form whose `method` attribute is `form_method`:
    /// [`hidden_input`](Self::hidden_input) for `post`, and nothing for any form the browser
    /// sends as a `GET` (`get`, no method, an invalid one), whose fields go into the URL. The
    /// decision is [`form_may_carry_token`](mitten_core::csrf::form_may_carry_token).
    ///
    /// ```
    /// // A handler rendering one form per method: the GET form gets no token.
    /// async fn page(token: mitten_tower::CsrfToken) -> String {
    ///     ["get", "post"]
    ///         .map(|method| {
    ///             format!(
    ///                 r#"<form method="{method}" action="/notes">{}<input name="q"></form>"#,
    ///                 token.hidden_input_for(method)
    ///             )
    ///         })
    ///         .concat()
    /// }
    /// ```
    pub fn hidden_input_for(&self, form_method: &str) -> String {
        if mitten_core::csrf::form_may_carry_token(form_method) {
            self.hidden_input()
        } else {
            String::new()
        }
    }

    /// `<meta name="csrf-token" content="…">`, for scripts to send as `X-CSRF-Token`.
    pub fn meta_tag(&self) -> String {
        [r#"<meta name="csrf-token" content=""#, &self.0, r#"">"#].concat()
    }
}

#[cfg(feature = "csrf")]
impl std::fmt::Display for CsrfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(feature = "csrf")]
impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = SessionUnavailable;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Borrowed, not cloned: the context holds the shared policy.
        let request = parts.extensions.get::<crate::MittenRequest>();
        let Some(context) = request.and_then(crate::MittenRequest::csrf) else {
            return Err(SessionUnavailable {
                configured: false,
                what: "csrf",
            });
        };
        let session = request.and_then(crate::MittenRequest::session);
        context
            .render(session)
            .await
            .map(CsrfToken)
            .map_err(|_| SessionUnavailable {
                configured: true,
                what: "sessions",
            })
    }
}
