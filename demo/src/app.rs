//! The app: its state and its routes, without the security layer.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use mitten::files::UploadPolicy;
use mitten::{JsonGuard, JsonGuardLayer};

use crate::auth;
use crate::endpoints;
use crate::notes::{self, Notes};
use crate::uploads;

/// The app's state: notes and uploads, in memory and in the data directory.
#[derive(Debug, Clone)]
pub(crate) struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    notes: RwLock<Notes>,
    /// Stored name → the sanitised original name, for downloads.
    uploads: RwLock<HashMap<String, String>>,
    data_dir: PathBuf,
    upload_policy: UploadPolicy,
}

impl AppState {
    pub(crate) fn new(data_dir: PathBuf) -> Self {
        Self {
            inner: Arc::new(Inner {
                notes: RwLock::default(),
                uploads: RwLock::default(),
                data_dir,
                upload_policy: UploadPolicy::new()
                    .allow_extensions(["txt", "png", "jpg", "jpeg", "gif", "webp", "pdf", "csv"])
                    .max_bytes(uploads::MAX_UPLOAD_BYTES),
            }),
        }
    }

    pub(crate) fn notes(&self) -> &RwLock<Notes> {
        &self.inner.notes
    }

    pub(crate) fn uploads(&self) -> &RwLock<HashMap<String, String>> {
        &self.inner.uploads
    }

    pub(crate) fn data_dir(&self) -> &PathBuf {
        &self.inner.data_dir
    }

    pub(crate) fn upload_policy(&self) -> &UploadPolicy {
        &self.inner.upload_policy
    }
}

/// The routes of DEMO.md. `json_guard` is off only in the browser suite's control mode.
pub(crate) fn routes(state: AppState, json_guard: bool) -> Router {
    let list_notes = if json_guard {
        get(notes::list_notes).layer(JsonGuardLayer::new(JsonGuard::new()))
    } else {
        get(notes::list_notes)
    };
    Router::new()
        .route("/", get(notes::index))
        .route("/notes", post(notes::add_note))
        .route("/api/notes", list_notes.post(notes::create_note))
        .route("/hooks/echo", post(endpoints::echo_hook))
        .route(
            "/csp-report",
            post(endpoints::csp_report).layer(DefaultBodyLimit::max(endpoints::MAX_REPORT_BYTES)),
        )
        // Over HTTP/2 the handshake is a CONNECT (RFC 8441); other methods get the router's 405.
        .route(
            "/ws",
            get(endpoints::websocket).connect(endpoints::websocket),
        )
        .route(
            "/upload",
            post(uploads::upload).layer(DefaultBodyLimit::max(
                uploads::MAX_UPLOAD_BYTES as usize + 64 * 1024,
            )),
        )
        .route("/files/{name}", get(uploads::download))
        .route("/login", post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/whoami", get(auth::whoami))
        .fallback(notes::not_found)
        .with_state(state)
}
