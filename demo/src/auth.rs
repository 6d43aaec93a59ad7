//! `POST /login`, `POST /logout`, `GET /whoami`: sessions that defeat fixation.

use axum::Form;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mitten::Session;
use serde::Deserialize;
use serde_json::json;

/// Usernames are 1 to 64 visible characters.
const MAX_USERNAME_CHARS: usize = 64;

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    username: String,
}

/// Logs in (no password: it is a demo of the session mechanics). The session ID is regenerated,
/// so an ID planted before login is worth nothing after it.
pub(crate) async fn login(session: Session, Form(form): Form<LoginForm>) -> Response {
    let username = form.username.trim();
    let valid = !username.is_empty()
        && username.chars().count() <= MAX_USERNAME_CHARS
        && !username.chars().any(char::is_control);
    if !valid {
        return (
            StatusCode::BAD_REQUEST,
            "A username is 1 to 64 visible characters.",
        )
            .into_response();
    }
    if session.insert("user", username).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    session.set_user_id(Some(username));
    session.regenerate();
    Redirect::to("/").into_response()
}

/// Logs out: the record is deleted and the cookie cleared.
pub(crate) async fn logout(session: Session) -> Redirect {
    session.destroy();
    Redirect::to("/")
}

pub(crate) async fn whoami(session: Session) -> Json<serde_json::Value> {
    Json(json!({ "user": session.get::<String>("user") }))
}
