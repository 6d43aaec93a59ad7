//! `POST /hooks/echo` (a webhook, exempt from CSRF), `POST /csp-report` (violation reports) and
//! `/ws` (a WebSocket echo, over HTTP/1.1 or HTTP/2; cross-site handshakes are refused by the
//! CSRF layer).

use axum::Json;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, Version, header::CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The largest CSP report accepted.
pub(crate) const MAX_REPORT_BYTES: usize = 64 * 1024;

/// A webhook: exempt from CSRF on this exact path (it would authenticate by signature).
pub(crate) async fn echo_hook(body: Bytes) -> Json<Value> {
    Json(json!({ "bytes": body.len() }))
}

/// Receives CSP violation reports and logs what was violated (never the whole body).
pub(crate) async fn csp_report(headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if !matches!(
        content_type.as_deref(),
        Some("application/csp-report" | "application/reports+json" | "application/json")
    ) {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send application/csp-report or application/reports+json.",
        )
            .into_response();
    }
    let Ok(report) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "The report is not JSON.").into_response();
    };
    // report-uri sends {"csp-report": {...}}; the Reporting API a list of {"body": {...}}.
    let reports: Vec<&Value> = match &report {
        Value::Array(items) => items.iter().map(|item| &item["body"]).collect(),
        other => vec![&other["csp-report"]],
    };
    for report in reports {
        let directive = report
            .get("violated-directive")
            .or_else(|| report.get("effectiveDirective"))
            .and_then(Value::as_str)
            .unwrap_or("?");
        tracing::warn!(target: "mitten_demo", directive, "CSP violation reported");
    }
    StatusCode::NO_CONTENT.into_response()
}

/// A WebSocket that echoes text and binary messages: HTTP/1.1's `GET` handshake, or HTTP/2's
/// extended `CONNECT` (RFC 8441). Logs the HTTP version of each socket it opens.
pub(crate) async fn websocket(version: Version, upgrade: WebSocketUpgrade) -> impl IntoResponse {
    upgrade.on_upgrade(move |socket| {
        tracing::info!(target: "mitten_demo", ?version, "WebSocket opened");
        echo(socket)
    })
}

async fn echo(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        let reply = match message {
            Message::Text(text) => Message::Text(text),
            Message::Binary(data) => Message::Binary(data),
            Message::Close(_) => break,
            _ => continue,
        };
        if socket.send(reply).await.is_err() {
            break;
        }
    }
}
