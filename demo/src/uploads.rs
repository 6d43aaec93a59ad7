//! `POST /upload` and `GET /files/{name}`: stored under random names, served as downloads.

use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mitten::files::{Download, UploadPolicy, safe_join};
use serde_json::json;
use tokio::io::AsyncWriteExt as _;

use crate::app::AppState;

/// The largest upload the demo accepts.
pub(crate) const MAX_UPLOAD_BYTES: u64 = 5 << 20;

pub(crate) async fn upload(State(state): State<AppState>, mut multipart: Multipart) -> Response {
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => {
                return (StatusCode::BAD_REQUEST, "The form has no `file` field.").into_response();
            }
            Err(error) => {
                return (error.status(), "The upload is not a valid multipart form.")
                    .into_response();
            }
        };
        if field.name() != Some("file") {
            continue;
        }
        let upload = state
            .upload_policy()
            .store(field.file_name().unwrap_or_default());
        let Some(path) = safe_join(
            &state.data_dir().to_string_lossy(),
            [upload.stored_name.as_str()],
        ) else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let mut file = match tokio::fs::File::create(&path).await {
            Ok(file) => file,
            Err(error) => {
                tracing::error!(%error, "cannot create the upload file");
                return (StatusCode::INTERNAL_SERVER_ERROR, "Cannot store the file.")
                    .into_response();
            }
        };
        let mut written: u64 = 0;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    written += chunk.len() as u64;
                    if written > state.upload_policy().limit() {
                        drop(file);
                        let _ = tokio::fs::remove_file(&path).await;
                        return (StatusCode::PAYLOAD_TOO_LARGE, "The file is too large.")
                            .into_response();
                    }
                    if file.write_all(&chunk).await.is_err() {
                        let _ = tokio::fs::remove_file(&path).await;
                        return (StatusCode::INTERNAL_SERVER_ERROR, "Cannot store the file.")
                            .into_response();
                    }
                }
                Ok(None) => break,
                Err(error) => {
                    let _ = tokio::fs::remove_file(&path).await;
                    return (error.status(), "The upload was cut short.").into_response();
                }
            }
        }
        let _ = file.flush().await;
        let display = if upload.display_name.is_empty() {
            upload.stored_name.clone()
        } else {
            upload.display_name.clone()
        };
        if let Ok(mut uploads) = state.uploads().write() {
            uploads.insert(upload.stored_name.clone(), display.clone());
        }
        let body = json!({
            "name": upload.stored_name,
            "filename": display,
            "url": format!("/files/{}", upload.stored_name),
        });
        return (StatusCode::CREATED, Json(body)).into_response();
    }
}

pub(crate) async fn download(State(state): State<AppState>, Path(name): Path<String>) -> Response {
    // Only names this app generated: `..`, `/`, `\`, encodings and everything else are 404s
    // before the file system is touched.
    let display = state
        .uploads()
        .read()
        .ok()
        .and_then(|uploads| uploads.get(&name).cloned());
    let (true, Some(display)) = (UploadPolicy::is_stored_name(&name), display) else {
        return (StatusCode::NOT_FOUND, "No such file.").into_response();
    };
    let Some(path) = safe_join(&state.data_dir().to_string_lossy(), [name.as_str()]) else {
        return (StatusCode::NOT_FOUND, "No such file.").into_response();
    };
    let Ok(bytes) = tokio::fs::read(&path).await else {
        return (StatusCode::NOT_FOUND, "No such file.").into_response();
    };
    let mut response = Response::new(Body::from(bytes));
    response
        .headers_mut()
        .extend(Download::new(&display).headers());
    response
}
