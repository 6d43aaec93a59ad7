//! The CSRF layer over real sockets: bodies reach the handler byte for byte, methods, proxies,
//! report-only mode, one-time and user-bound tokens, and the typed reason.

#![allow(clippy::panic)] // A test fails by panicking.

mod support;

use axum::Router;
use axum::body::Bytes;
use axum::routing::{any, get, post};
use mitten::csrf::{CsrfConfig, TokenMode};
use mitten::session::{MemoryStore, SessionConfig, Sessions};
use mitten::{Config, CsrfToken, Mitten, Session, TrustedProxies};
use mitten_testkit::serve;
use rand::Rng as _;
use support::{Client, percent_encode, with_sessions};

fn app(config: Config, csrf: CsrfConfig) -> Router {
    let mitten = with_sessions(config, csrf);
    Router::new()
        .route(
            "/token",
            get(|token: CsrfToken| async move { token.to_string() }),
        )
        .route("/echo", post(|body: Bytes| async move { body }))
        .route("/any", any(|| async { "ok" }))
        .route("/post-only", post(|| async { "posted" }))
        .route(
            "/logout",
            post(|session: Session| async move {
                session.destroy();
                "out"
            }),
        )
        .route(
            "/set-user",
            post(|session: Session| async move {
                // Signs in without renewing the session (its ID and secret stay).
                session.set_user_id(Some("u"));
                "set"
            }),
        )
        .route(
            "/login",
            post(|session: Session| async move {
                session.insert("user", "u").expect("insert");
                session.set_user_id(Some("u"));
                session.regenerate();
                "in"
            }),
        )
        .layer(mitten.layer())
}

#[tokio::test]
async fn bodies_reach_the_handler_byte_for_byte() {
    let addr = serve(app(
        Config::strict(),
        CsrfConfig::new().token_in_json().body_limit(300_000),
    ))
    .await;
    let mut client = Client::new(addr);
    let token = client.token().await;
    let same_origin = [("sec-fetch-site", "same-origin")];
    let mut rng = rand::rng();
    for round in 0..90 {
        let fields = rng.random_range(0..20);
        let (content_type, body) = match round % 3 {
            0 => {
                let mut pairs: Vec<String> = (0..fields)
                    .map(|_| {
                        let value: Vec<u8> = (0..rng.random_range(0..2000))
                            .map(|_| rng.random())
                            .collect();
                        format!("f{}={}", rng.random::<u16>(), percent_encode(&value))
                    })
                    .collect();
                pairs.insert(
                    rng.random_range(0..=pairs.len()),
                    format!("_csrf_token={token}"),
                );
                (
                    "application/x-www-form-urlencoded".to_owned(),
                    pairs.join("&").into_bytes(),
                )
            }
            1 => {
                let boundary: String = (0..32)
                    .map(|_| char::from(rng.random_range(b'a'..=b'z')))
                    .collect();
                let mut body = Vec::new();
                let token_at = rng.random_range(0..=fields);
                for i in 0..=fields {
                    if i == token_at {
                        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf_token\"\r\n\r\n{token}\r\n").as_bytes());
                    }
                    if i < fields {
                        let content: Vec<u8> = (0..rng.random_range(0..5000))
                            .map(|_| rng.random())
                            .collect();
                        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file{i}\"; filename=\"f{i}.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
                        body.extend_from_slice(&content);
                        body.extend_from_slice(b"\r\n");
                    }
                }
                body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
                (format!("multipart/form-data; boundary={boundary}"), body)
            }
            _ => {
                let mut object = serde_json::Map::new();
                for i in 0..fields {
                    let text: String = (0..rng.random_range(0..500))
                        .map(|_| char::from_u32(rng.random_range(0x20..0x3000)).unwrap_or('x'))
                        .collect();
                    object.insert(format!("k{i}"), serde_json::Value::String(text));
                }
                object.insert(
                    "_csrf_token".into(),
                    serde_json::Value::String(token.clone()),
                );
                (
                    "application/json".to_owned(),
                    serde_json::to_vec(&object).expect("json"),
                )
            }
        };
        let response = client
            .post("/echo", &content_type, body.clone(), &same_origin)
            .await;
        assert_eq!(
            response.status().as_u16(),
            200,
            "round {round} ({content_type})"
        );
        assert_eq!(
            response.bytes().await.expect("body").as_ref(),
            body.as_slice(),
            "round {round}: the handler got other bytes"
        );
    }
}

#[tokio::test]
async fn head_never_reaches_a_post_handler_and_custom_methods_are_checked() {
    let addr = serve(app(Config::strict(), CsrfConfig::new())).await;
    let http = reqwest::Client::new();
    let head = http
        .head(format!("http://{addr}/post-only"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("head");
    assert_eq!(
        head.status().as_u16(),
        405,
        "HEAD is not routed to a POST handler"
    );
    for method in ["PROPFIND", "FOO", "post", "TRACE"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = http
            .request(method.clone(), format!("http://{addr}/any"))
            .header("sec-fetch-site", "cross-site")
            .send()
            .await
            .expect("response");
        assert_eq!(response.status().as_u16(), 403, "{method}");
    }
    let get = http
        .get(format!("http://{addr}/any"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("get");
    assert_eq!(get.status().as_u16(), 200, "GET is not checked");
}

#[tokio::test]
async fn referer_check_behind_a_trusted_proxy() {
    let config =
        Config::strict().trusted_proxies(TrustedProxies::new(["127.0.0.1"]).expect("valid"));
    let addr = serve(app(
        config,
        CsrfConfig::new().public_origin("https://app.example"),
    ))
    .await;
    let mut client = Client::new(addr);
    let token = client.token().await;
    let body = format!("_csrf_token={token}").into_bytes();
    let form = "application/x-www-form-urlencoded";
    let behind_tls = [("x-forwarded-proto", "https"), ("host", "app.example")];
    let evil = client
        .post(
            "/echo",
            form,
            body.clone(),
            &[
                behind_tls[0],
                behind_tls[1],
                ("referer", "https://evil.example/x"),
            ],
        )
        .await;
    assert_eq!(
        evil.status().as_u16(),
        403,
        "a cross-origin Referer behind TLS"
    );
    let ours = client
        .post(
            "/echo",
            form,
            body.clone(),
            &[
                behind_tls[0],
                behind_tls[1],
                ("referer", "https://app.example/form"),
            ],
        )
        .await;
    assert_eq!(ours.status().as_u16(), 200);
    let spoofed = client
        .post(
            "/echo",
            form,
            body,
            &[
                ("host", "app.example"),
                ("referer", "https://evil.example/"),
            ],
        )
        .await;
    assert_eq!(
        spoofed.status().as_u16(),
        301,
        "plain HTTP without the proxy's word is redirected, not checked as HTTPS"
    );
}

#[tokio::test]
async fn report_only_lets_requests_through() {
    let addr = serve(app(Config::strict(), CsrfConfig::new().report_only())).await;
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/echo"))
        .header("sec-fetch-site", "cross-site")
        .body("x")
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn report_only_passes_a_body_over_the_read_limit_whole() {
    let addr = serve(app(
        Config::strict(),
        CsrfConfig::new().report_only().body_limit(64),
    ))
    .await;
    let body: String = (0..1_000u32)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    // Announced by its length: passed on unread, as it came.
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/echo"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .body(body.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text().await.expect("body"), body);
    // Chunked, on the wire (its length is unknown until its end): the same.
    let request = chunked_post(addr, &one_chunk(&body));
    let response = mitten_testkit::exchange_until_closed(addr, request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with(&format!("\r\n\r\n{body}")), "{response}");
}

/// A same-origin urlencoded POST to `/echo` as it goes on the wire, its body sent chunked as
/// `chunks` (the framing written out), asking for a refusal as JSON.
fn chunked_post(addr: std::net::SocketAddr, chunks: &str) -> String {
    format!(
        "POST /echo HTTP/1.1\r\nhost: {addr}\r\nsec-fetch-site: same-origin\r\n\
         content-type: application/x-www-form-urlencoded\r\ntransfer-encoding: chunked\r\n\
         accept: application/json\r\nconnection: close\r\n\r\n{chunks}"
    )
}

/// `body` framed as one chunk and the last.
fn one_chunk(body: &str) -> String {
    format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len())
}

/// Sends `request` on a connection of its own and checks the refusal read back: its status line
/// and the reason in its JSON body.
async fn assert_refused(addr: std::net::SocketAddr, request: &str, status: u16, reason: &str) {
    let response = mitten_testkit::exchange_until_closed(addr, request.as_bytes()).await;
    assert!(
        response.starts_with(&format!("HTTP/1.1 {status} ")),
        "{response}"
    );
    assert!(
        response.contains(&format!(r#""error":"{reason}""#)),
        "{response}"
    );
}

#[tokio::test]
async fn enforcing_mode_reads_a_chunked_body_for_its_token() {
    // The length of a chunked body is unknown until its end: report-only mode passes it on
    // unread, enforcing mode reads it (to the limit) and decides.
    let addr = serve(app(Config::strict(), CsrfConfig::new().body_limit(64))).await;
    // A token in the body and no session: refused for having nothing to bind it to, which is
    // only known once the token was found (unread, it would be `csrf_token_missing`).
    let token_no_session = chunked_post(addr, &one_chunk("a=1&_csrf_token=abc"));
    assert_refused(addr, &token_no_session, 403, "csrf_no_binding").await;
    let too_large = chunked_post(addr, &one_chunk(&"a".repeat(100)));
    assert_refused(addr, &too_large, 413, "payload_too_large").await;
}

#[tokio::test]
async fn a_body_stopped_by_a_limit_outside_is_too_large_not_broken() {
    // tower-http's limit, around the routes, stops a chunked body (its length unknown until its
    // end) while Mitten reads it for the token: the error reaches Mitten wrapped in axum's.
    let app = app(Config::strict(), CsrfConfig::new())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(32));
    let addr = serve(app).await;
    let request = chunked_post(addr, &one_chunk(&"a".repeat(100)));
    assert_refused(addr, &request, 413, "payload_too_large").await;
}

#[tokio::test]
async fn a_body_that_breaks_off_is_a_bad_request_not_a_large_one() {
    let addr = serve(app(Config::strict(), CsrfConfig::new())).await;
    // A chunk-size line that is not hexadecimal: the body fails after its first chunk.
    let request = chunked_post(addr, "3\r\na=1\r\nzz\r\n");
    assert_refused(addr, &request, 400, "body_unreadable").await;
}

/// That `response` is a 403 whose typed [`mitten::Rejection`] is the CSRF check's `failure`.
fn assert_csrf_refusal<B>(response: &axum::http::Response<B>, failure: mitten::csrf::CsrfFailure) {
    assert_eq!(response.status().as_u16(), 403);
    assert_eq!(
        response.extensions().get::<mitten::Rejection>(),
        Some(&mitten::Rejection::Csrf(failure))
    );
}

/// A `POST /echo` to call the app in process, with `headers` beside its `Host`.
fn echo_post(
    headers: &[(&str, &str)],
    body: axum::body::Body,
) -> axum::http::Request<axum::body::Body> {
    headers
        .iter()
        .fold(
            axum::http::Request::post("/echo").header("host", "127.0.0.1"),
            |request, (name, value)| request.header(*name, *value),
        )
        .body(body)
        .expect("request")
}

#[tokio::test]
async fn a_broken_multipart_body_is_refused_as_malformed_not_as_a_duplicate() {
    use tower::ServiceExt as _;
    let app = app(Config::strict(), CsrfConfig::new());
    // Opened by its boundary, never closed.
    let request = echo_post(
        &[
            ("sec-fetch-site", "same-origin"),
            ("content-type", "multipart/form-data; boundary=XYZ"),
        ],
        "--XYZ\r\ncontent-disposition: form-data; name=\"_csrf_token\"\r\n\r\nabc".into(),
    );
    let response = app.oneshot(request).await.expect("response");
    assert_csrf_refusal(&response, mitten::csrf::CsrfFailure::MalformedBody);
}

#[tokio::test]
async fn one_time_tokens_cannot_be_replayed() {
    let addr = serve(app(
        Config::strict(),
        CsrfConfig::new().mode(TokenMode::OneTime { max_age: 600 }),
    ))
    .await;
    let mut client = Client::new(addr);

    // Rendering a token starts the session that remembers the used ones.
    let token = client.token().await;
    assert!(client.cookies.get("__Host-mitten-session").is_some());
    let second_token = client.token().await;
    assert_ne!(token, second_token, "a fresh token per render");
    let first = client.post_token("/echo", &token).await;
    assert_eq!(first.status().as_u16(), 200);
    let replay = client.post_token("/echo", &token).await;
    assert_eq!(replay.status().as_u16(), 403);
    assert!(
        replay
            .text()
            .await
            .expect("body")
            .contains("csrf_token_reused")
    );
    let other = client.post_token("/echo", &second_token).await;
    assert_eq!(
        other.status().as_u16(),
        200,
        "another render's token still works once"
    );
}

/// An app with one-time tokens whose `/transfer` is slow enough that requests sent together are
/// all checked before the first is answered.
fn one_time_app() -> Router {
    let mitten = with_sessions(
        Config::strict(),
        CsrfConfig::new().mode(TokenMode::OneTime { max_age: 600 }),
    );
    Router::new()
        .route(
            "/token",
            get(|token: CsrfToken| async move { token.to_string() }),
        )
        .route(
            "/transfer",
            post(|| async {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                "done"
            }),
        )
        .layer(mitten.layer())
}

/// Posts each token to `/transfer` with `client`'s cookies, all at once. Each answer, sorted:
/// `"200"`, or the status and the refusal's reason code.
async fn transfer_at_once(client: &Client, tokens: &[String]) -> Vec<String> {
    let posts: Vec<_> = tokens
        .iter()
        .map(|token| {
            let request = client
                .http
                .post(format!("{}/transfer", client.base))
                .header("cookie", client.cookie_header())
                .header("sec-fetch-site", "same-origin")
                .header("accept", "application/json")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!("_csrf_token={token}"));
            tokio::spawn(async move {
                let response = request.send().await.expect("post");
                let status = response.status().as_u16();
                let body = response.text().await.expect("body");
                match status {
                    200 => "200".to_owned(),
                    _ if body.contains("csrf_token_reused") => format!("{status} reused"),
                    _ => format!("{status} {body}"),
                }
            })
        })
        .collect();
    let mut answers = Vec::new();
    for post in posts {
        answers.push(post.await.expect("task"));
    }
    answers.sort_unstable();
    answers
}

/// A leaked one-time token replayed by many requests at the same moment passes once: its use is
/// stored before the handler runs, not with the session after the response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_time_token_replayed_at_once_passes_once() {
    let mut client = Client::new(serve(one_time_app()).await);
    let token = client.token().await;
    let replays = vec![token; 8];
    let mut expected = vec!["403 reused"; 7];
    expected.insert(0, "200");
    assert_eq!(transfer_at_once(&client, &replays).await, expected);
}

/// Tokens of one session used at the same moment are all remembered: no request's record of
/// its token overwrites another's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_time_tokens_used_at_once_are_all_remembered() {
    let mut client = Client::new(serve(one_time_app()).await);
    let mut tokens = Vec::new();
    for _ in 0..4 {
        tokens.push(client.token().await);
    }
    assert_eq!(transfer_at_once(&client, &tokens).await, ["200"; 4]);
    for token in &tokens {
        assert_eq!(
            transfer_at_once(&client, std::slice::from_ref(token)).await,
            ["403 reused"],
            "a token used once passes again"
        );
    }
}

#[tokio::test]
async fn user_bound_tokens_follow_the_user() {
    let addr = serve(app(Config::strict(), CsrfConfig::new().bind_to_user())).await;
    let mut client = Client::new(addr);
    let anonymous = client.token().await;
    let login = client.post_token("/login", &anonymous).await;
    assert_eq!(login.status().as_u16(), 200);
    let token = client.token().await;
    assert_eq!(
        client.post_token("/echo", &token).await.status().as_u16(),
        200
    );
    // The pre-login token is dead after login. Both the user and the secret changed here (the
    // login renews the session); each alone is tested by
    // `user_bound_tokens_die_with_the_user_change_alone` and the demo's `login_flow`.
    assert_eq!(
        client
            .post_token("/echo", &anonymous)
            .await
            .status()
            .as_u16(),
        403
    );
}

/// With `bind_to_user`, a token rendered before the user signed in is refused after it even
/// when the session keeps its ID and its secret (no `regenerate()`): per-session and one-time
/// tokens alike. Without it (the control) the same token passes.
#[tokio::test]
async fn user_bound_tokens_die_with_the_user_change_alone() {
    for mode in [TokenMode::PerSession, TokenMode::OneTime { max_age: 600 }] {
        for bind_to_user in [true, false] {
            let csrf = CsrfConfig::new().mode(mode);
            let csrf = if bind_to_user {
                csrf.bind_to_user()
            } else {
                csrf
            };
            let mut client = Client::new(serve(app(Config::strict(), csrf)).await);
            let for_sign_in = client.token().await;
            let rendered_before = client.token().await;
            let signed_in = client.post_token("/set-user", &for_sign_in).await;
            assert_eq!(signed_in.status().as_u16(), 200, "{mode:?}");
            let after = client.post_token("/echo", &rendered_before).await;
            let (status, body) = (after.status().as_u16(), after.text().await.expect("body"));
            match bind_to_user {
                true => {
                    assert_eq!(status, 403, "{mode:?}: {body}");
                    assert!(body.contains("csrf_token_invalid"), "{mode:?}: {body}");
                }
                false => assert_eq!(status, 200, "{mode:?} without bind_to_user: {body}"),
            }
            let fresh = client.token().await;
            let now = client.post_token("/echo", &fresh).await;
            assert_eq!(
                now.status().as_u16(),
                200,
                "{mode:?}: a token rendered for the user"
            );
        }
    }
}

/// A token does not outlive its session: after logout (`destroy()`), neither the old cookie
/// kept by an attacker nor the browser's next session makes it pass again.
#[tokio::test]
async fn a_token_from_before_logout_is_refused_after_it() {
    let addr = serve(app(Config::strict(), CsrfConfig::new())).await;
    let mut client = Client::new(addr);
    let same_origin = [
        ("sec-fetch-site", "same-origin"),
        ("accept", "application/json"),
    ];
    let form = "application/x-www-form-urlencoded";
    let token = client.token().await;
    let body = || format!("_csrf_token={token}").into_bytes();
    let old_cookies = client.cookie_header();
    let before = client.post("/echo", form, body(), &same_origin).await;
    assert_eq!(before.status().as_u16(), 200, "the token passes before");
    let logout = client.post("/logout", form, body(), &same_origin).await;
    assert_eq!(logout.status().as_u16(), 200);

    // Replayed with the cookies from before the logout.
    let mut replay = reqwest::Client::new()
        .post(format!("http://{addr}/echo"))
        .header("cookie", &old_cookies)
        .header("content-type", form)
        .body(body());
    for (name, value) in same_origin {
        replay = replay.header(name, value);
    }
    let replayed = replay.send().await.expect("post");
    assert_eq!(replayed.status().as_u16(), 403);
    let reason = replayed.text().await.expect("body");
    assert!(reason.contains("csrf_no_binding"), "{reason}");

    // In the browser's next session.
    client.token().await;
    let next = client.post("/echo", form, body(), &same_origin).await;
    assert_eq!(next.status().as_u16(), 403);
    let reason = next.text().await.expect("body");
    assert!(reason.contains("csrf_token_invalid"), "{reason}");
}

#[tokio::test]
async fn a_refusal_that_leaves_the_body_unread_ends_the_connection() {
    let addr = serve(app(Config::strict(), CsrfConfig::new().body_limit(64))).await;
    let mut client = Client::new(addr);
    client.token().await;
    let origin = format!("http://{addr}");
    let same_origin = [
        ("origin", origin.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];
    let cross_site = [("sec-fetch-site", "cross-site")];
    let form = "application/x-www-form-urlencoded";
    let connection = |response: &reqwest::Response| {
        response
            .headers()
            .get("connection")
            .map(|v| v.to_str().expect("ascii").to_owned())
    };
    // Refused before the body is read, and after reading part of it (too large).
    let cross = client
        .post("/echo", form, b"a=1".to_vec(), &cross_site)
        .await;
    assert_eq!(cross.status(), 403);
    assert_eq!(connection(&cross).as_deref(), Some("close"));
    let large = client
        .post("/echo", form, vec![b'a'; 1_000], &same_origin)
        .await;
    assert_eq!(large.status(), 413);
    assert_eq!(connection(&large).as_deref(), Some("close"));
    // Refused after reading all of it (the form's token is wrong), or with no body: the
    // connection can take the next request.
    let wrong = client
        .post("/echo", form, b"_csrf_token=wrong".to_vec(), &same_origin)
        .await;
    assert_eq!(wrong.status(), 403);
    assert_eq!(connection(&wrong), None);
    let empty = client.post("/echo", form, Vec::new(), &cross_site).await;
    assert_eq!(empty.status(), 403);
    assert_eq!(connection(&empty), None);

    // On the wire: the refusal is the connection's last response, even for a body small enough
    // that the server could have skipped it (the client would otherwise send its next request
    // on a connection that may be dropped under it).
    let request = format!(
        "POST /echo HTTP/1.1\r\nhost: {addr}\r\nsec-fetch-site: cross-site\r\n\
         content-length: 3\r\n\r\na=1"
    );
    let response = mitten_testkit::exchange_until_closed(addr, request.as_bytes())
        .await
        .to_ascii_lowercase();
    assert!(response.starts_with("http/1.1 403"), "{response}");
    assert!(response.contains("\r\nconnection: close\r\n"), "{response}");
}

#[tokio::test]
async fn a_refusal_of_a_body_without_a_length_ends_the_connection() {
    use tower::ServiceExt as _;
    // Chunked, on the wire: `Transfer-Encoding` announces the body.
    let addr = serve(app(Config::strict(), CsrfConfig::new())).await;
    let request = format!(
        "POST /echo HTTP/1.1\r\nhost: {addr}\r\nsec-fetch-site: cross-site\r\n\
         transfer-encoding: chunked\r\n\r\n3\r\na=1\r\n0\r\n\r\n"
    );
    let response = mitten_testkit::exchange_until_closed(addr, request.as_bytes())
        .await
        .to_ascii_lowercase();
    assert!(response.starts_with("http/1.1 403"), "{response}");
    assert!(response.contains("\r\nconnection: close\r\n"), "{response}");

    // No length header at all, as a request-decompression layer outside leaves a compressed
    // request: the body has not ended, so it is there, unread.
    let app = app(Config::strict(), CsrfConfig::new());
    let refuse = |body: axum::body::Body| {
        app.clone()
            .oneshot(echo_post(&[("sec-fetch-site", "cross-site")], body))
    };
    let unannounced = refuse(axum::body::Body::from("a=1"))
        .await
        .expect("response");
    assert_eq!(unannounced.status(), 403);
    assert_eq!(unannounced.headers()["connection"], "close");
    let empty = refuse(axum::body::Body::empty()).await.expect("response");
    assert_eq!(empty.status(), 403);
    assert!(!empty.headers().contains_key("connection"));
}

#[tokio::test]
async fn refusals_carry_a_typed_reason_and_a_json_body() {
    use tower::ServiceExt as _;
    let app = app(Config::strict(), CsrfConfig::new());
    let request = echo_post(
        &[
            ("sec-fetch-site", "cross-site"),
            ("accept", "application/json"),
        ],
        "x".into(),
    );
    let response = app.oneshot(request).await.expect("response");
    assert_csrf_refusal(&response, mitten::csrf::CsrfFailure::CrossSite);
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("body");
    assert_eq!(
        body.as_ref(),
        br#"{"error":"csrf_cross_site","message":"Cross-site request refused (CSRF)."}"#
    );
}

#[tokio::test]
async fn a_nested_layer_keeps_the_outer_session_and_sends_its_own_nonce() {
    use tower::ServiceExt as _;
    let sessions = Sessions::new(MemoryStore::new(1_000), SessionConfig::new()).expect("valid");
    let outer = Mitten::new(Config::strict())
        .expect("valid")
        .with_sessions(sessions)
        .with_csrf(CsrfConfig::new())
        .expect("valid");
    let inner = Mitten::new(Config::strict()).expect("valid");
    let app = Router::new()
        .route(
            "/",
            get(
                |session: Session, token: CsrfToken, mitten::Nonce(nonce): mitten::Nonce| async move {
                    session.insert("seen", true).expect("insert");
                    format!("{nonce} {}", token.as_str().len())
                },
            ),
        )
        .layer(inner.layer())
        .layer(outer.layer());
    let request = axum::http::Request::get("/")
        .header("host", "127.0.0.1")
        .body(axum::body::Body::empty())
        .expect("request");
    let response = app.oneshot(request).await.expect("response");
    // The inner layer did not take the outer layer's session away (it used to be a 500).
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers().contains_key("set-cookie"));
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("body");
    let body = String::from_utf8_lossy(&body);
    let nonce = body.split(' ').next().expect("nonce");
    // The inner layer's headers are applied first, so its nonce is the one in the policy.
    assert!(csp.contains(&format!("'nonce-{nonce}'")), "{csp} / {body}");
}
