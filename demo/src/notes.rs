//! The notes: the page, the form, the JSON list.

use axum::Json;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use mitten::{CsrfToken, Nonce, Session};
use serde::{Deserialize, Serialize};

use crate::app::AppState;

/// At most this many notes are kept (the oldest go first), each at most this long.
const MAX_NOTES: usize = 500;
const MAX_NOTE_CHARS: usize = 2000;

/// A stored note.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Note {
    id: u64,
    text: String,
    author: Option<String>,
}

/// The notes, newest last.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    next_id: u64,
    list: Vec<Note>,
}

pub(crate) async fn index(
    State(state): State<AppState>,
    Nonce(nonce): Nonce,
    session: Session,
    token: CsrfToken,
) -> Html<String> {
    let (meta, field) = (token.meta_tag(), token.hidden_input());
    let user = session.get::<String>("user");
    let greeting = match &user {
        Some(user) => format!(
            "Signed in as <strong id=\"user\">{}</strong>.",
            escape_html(user)
        ),
        None => "Not signed in.".to_owned(),
    };
    let notes = state.snapshot();
    let mut items = String::new();
    for note in notes.iter().rev() {
        let author = note
            .author
            .as_deref()
            .map(|a| format!(" <em>({})</em>", escape_html(a)))
            .unwrap_or_default();
        items.push_str(&format!(
            "      <li>{}{author}</li>\n",
            escape_html(&note.text)
        ));
    }
    if items.is_empty() {
        items.push_str("      <li class=\"empty\">No notes yet.</li>\n");
    }
    Html(format!(
        r#"<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Mitten demo: notes</title>
    {meta}
    <style nonce="{nonce}">
      body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }}
      .empty {{ color: #777; }}
    </style>
  </head>
  <body>
    <h1>Notes</h1>
    <p>{greeting}</p>
    <form method="post" action="/login">
      {field}
      <label>Username <input name="username" required maxlength="64"></label>
      <button type="submit">Sign in</button>
    </form>
    <form method="post" action="/logout">
      {field}
      <button type="submit">Sign out</button>
    </form>
    <ul id="notes">
{items}    </ul>
    <form method="post" action="/notes">
      {field}
      <label>Note <input name="text" required maxlength="{MAX_NOTE_CHARS}"></label>
      <button type="submit">Add</button>
    </form>
    <form method="post" action="/upload" enctype="multipart/form-data">
      {field}
      <label>File <input type="file" name="file" required></label>
      <button type="submit">Upload</button>
    </form>
    <script nonce="{nonce}">
      document.documentElement.dataset.nonce = "ok";
      if (window.top !== window) window.parent.postMessage("mitten-demo-framed", "*");
    </script>
    <script>document.documentElement.dataset.canary = "ran";</script>
  </body>
</html>
"#
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct NoteForm {
    text: String,
}

pub(crate) async fn add_note(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<NoteForm>,
) -> Response {
    let text = form.text.trim();
    if text.is_empty() || text.chars().count() > MAX_NOTE_CHARS {
        return (
            StatusCode::BAD_REQUEST,
            format!("A note is 1 to {MAX_NOTE_CHARS} characters."),
        )
            .into_response();
    }
    let _ = state.add(text.to_owned(), session.get::<String>("user"));
    Redirect::to("/").into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct NewNote {
    text: String,
}

/// `POST /api/notes`: JSON `{"text": …}` with the token in `X-CSRF-Token`; anything but
/// `application/json` is a 415 (axum's `Json`), so a `text/plain` form cannot smuggle JSON.
pub(crate) async fn create_note(
    State(state): State<AppState>,
    session: Session,
    Json(note): Json<NewNote>,
) -> Response {
    let text = note.text.trim();
    if text.is_empty() || text.chars().count() > MAX_NOTE_CHARS {
        return (
            StatusCode::BAD_REQUEST,
            format!("A note is 1 to {MAX_NOTE_CHARS} characters."),
        )
            .into_response();
    }
    let stored = state.add(text.to_owned(), session.get::<String>("user"));
    (StatusCode::CREATED, Json(stored)).into_response()
}

pub(crate) async fn list_notes(State(state): State<AppState>) -> Json<Vec<Note>> {
    Json(state.snapshot())
}

pub(crate) async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "Not found.")
}

impl AppState {
    pub(crate) fn snapshot(&self) -> Vec<Note> {
        match self.notes().read() {
            Ok(notes) => notes.list.clone(),
            Err(poisoned) => poisoned.into_inner().list.clone(),
        }
    }

    pub(crate) fn add(&self, text: String, author: Option<String>) -> Note {
        let mut notes = match self.notes().write() {
            Ok(notes) => notes,
            Err(poisoned) => poisoned.into_inner(),
        };
        notes.next_id += 1;
        let id = notes.next_id;
        let note = Note { id, text, author };
        notes.list.push(note.clone());
        if notes.list.len() > MAX_NOTES {
            notes.list.remove(0);
        }
        note
    }
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape_html(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }
}
