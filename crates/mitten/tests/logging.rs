//! What Mitten logs when it refuses a request: an event with the reason, method and path, and
//! never a token, a cookie or a body. Every event the layer emits is captured while requests
//! carrying known secrets are refused in each way it refuses them.

#![allow(clippy::panic)] // A test fails by panicking.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, post};
use mitten::csrf::CsrfConfig;
use mitten::{Config, CsrfToken, JsonGuard, JsonGuardLayer, Session};
use mitten_testkit::serve;
use support::{Client, with_sessions};

/// Everything the subscriber writes, for the test to read back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Request headers, each a name and a value.
type Headers = Vec<(&'static str, String)>;

fn app(csrf: CsrfConfig) -> Router {
    let mitten = with_sessions(Config::strict(), csrf);
    Router::new()
        .route(
            "/token",
            get(|session: Session, token: CsrfToken| async move {
                session.insert("user", "alice").expect("insert");
                token.to_string()
            }),
        )
        .route("/echo", post(|body: Bytes| async move { body }))
        .route(
            "/api/notes",
            get(|| async { ([("content-type", "application/json")], r#"["note"]"#) })
                .layer(JsonGuardLayer::new(JsonGuard::new())),
        )
        .layer(mitten.layer())
}

#[tokio::test]
async fn refusals_are_logged_without_tokens_cookies_or_bodies() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_env_filter("mitten=trace")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    )
    .expect("the only subscriber of this test binary");

    let addr = serve(app(CsrfConfig::new().body_limit(1_024))).await;
    let report_only = serve(app(CsrfConfig::new().report_only().body_limit(1_024))).await;
    let mut client = Client::new(addr);
    let token = client.token().await;
    let cookies = client.cookie_header();
    let session = client
        .cookies
        .get("__Host-mitten-session")
        .expect("a session")
        .to_owned();
    let body_marker = "body-marker-5f1c2a";
    let form = format!("text={body_marker}&_csrf_token={token}");
    let http = reqwest::Client::new();
    let send = |base: std::net::SocketAddr, headers: Headers, body: String| {
        let request = http.post(format!("http://{base}/echo")).body(body);
        headers
            .into_iter()
            .fold(request, |r, (name, value)| r.header(name, value))
            .send()
    };
    let form_type = (
        "content-type",
        "application/x-www-form-urlencoded".to_owned(),
    );
    let refusals: [(&str, Headers, String); 6] = [
        (
            "cross-site, with the victim's cookies, token and form",
            vec![
                ("sec-fetch-site", "cross-site".to_owned()),
                ("cookie", cookies.clone()),
                ("x-csrf-token", token.clone()),
                form_type.clone(),
            ],
            form.clone(),
        ),
        (
            "a token of another session",
            vec![
                ("sec-fetch-site", "same-origin".to_owned()),
                ("x-csrf-token", token.clone()),
                form_type.clone(),
            ],
            form.clone(),
        ),
        (
            "a tampered token in the form",
            vec![
                ("sec-fetch-site", "same-origin".to_owned()),
                ("cookie", cookies.clone()),
                form_type.clone(),
            ],
            format!("text={body_marker}&_csrf_token={token}x"),
        ),
        (
            "a body over the limit",
            vec![
                ("sec-fetch-site", "same-origin".to_owned()),
                ("cookie", cookies.clone()),
                form_type.clone(),
            ],
            format!("{form}&pad={}", "p".repeat(2_000)),
        ),
        (
            "a forged session cookie",
            vec![
                ("sec-fetch-site", "same-origin".to_owned()),
                ("cookie", format!("__Host-mitten-session={session}Z")),
                ("x-csrf-token", token.clone()),
            ],
            form.clone(),
        ),
        (
            "two tokens that disagree",
            vec![
                ("sec-fetch-site", "same-origin".to_owned()),
                ("cookie", cookies.clone()),
                ("x-csrf-token", token.clone()),
                ("x-xsrf-token", format!("{token}x")),
            ],
            form.clone(),
        ),
    ];
    for (case, headers, body) in refusals {
        let status = send(addr, headers, body).await.expect("post").status();
        assert!(status.is_client_error(), "{case}: {status}");
    }
    // Report-only: let through, and logged.
    let let_through = send(
        report_only,
        vec![
            ("sec-fetch-site", "cross-site".to_owned()),
            ("cookie", cookies.clone()),
            form_type.clone(),
        ],
        form.clone(),
    )
    .await
    .expect("post");
    assert_eq!(let_through.status().as_u16(), 200);
    // Report-only, a body over the limit: let through unread, and logged.
    let unread = send(
        report_only,
        vec![
            ("sec-fetch-site", "same-origin".to_owned()),
            ("cookie", cookies.clone()),
            form_type.clone(),
        ],
        format!("{form}&pad={}", "p".repeat(2_000)),
    )
    .await
    .expect("post");
    assert_eq!(unread.status().as_u16(), 200);
    // The JSON guard's refusal.
    let json = http
        .get(format!("http://{addr}/api/notes"))
        .header("sec-fetch-site", "cross-site")
        .header("sec-fetch-dest", "script")
        .header("cookie", &cookies)
        .send()
        .await
        .expect("get");
    assert_eq!(json.status().as_u16(), 403);

    let log = captured.text();
    for expected in [
        "CSRF check refused a request",
        "report-only",
        "JSON request refused",
        "malformed or forged session cookie",
        "reason=\"csrf_cross_site\"",
        "reason=\"csrf_token_invalid\"",
        "reason=\"payload_too_large\"",
        "reason=\"csrf_duplicate_token\"",
        "reason=\"csrf_body_not_read\"",
        "reason=\"json_destination\"",
        "method=POST path=\"/echo\"",
    ] {
        assert!(log.contains(expected), "{expected:?} missing from:\n{log}");
    }
    let token_body = token.get(..token.len() / 2).expect("ascii");
    for (secret, what) in [
        (token.as_str(), "the token"),
        (token_body, "half of the token"),
        (session.as_str(), "the session cookie"),
        ("__Host-mitten-session", "the cookie's name"),
        (body_marker, "the body"),
    ] {
        assert!(!log.contains(secret), "{what} is in the log:\n{log}");
    }
}
