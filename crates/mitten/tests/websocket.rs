//! WebSocket hijacking (bypass class 24 of `docs/attack-classes.md`) over real sockets, for both
//! handshakes a browser makes: HTTP/1.1's `GET` with `Upgrade: websocket`, and HTTP/2's extended
//! `CONNECT` with `:protocol websocket` (RFC 8441), which `axum::serve` accepts. A handshake from
//! this site opens a socket that carries messages through the layer; one from another site, or
//! from an opaque origin, is refused before the handler; one without `Origin` is not a
//! browser's, and opens. A `CONNECT` that is no WebSocket's needs a token.

#![allow(clippy::panic)] // A test fails by panicking.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{Method, Request, StatusCode};
use axum::routing::any;
use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::BodyExt as _;
use hyper_util::rt::{TokioExecutor, TokioIo};
use mitten::csrf::CsrfConfig;
use mitten::session::{MemoryStore, SessionConfig, Sessions};
use mitten::{Config, Mitten};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_tungstenite::tungstenite;

/// An echo socket at `/ws`, for either handshake (`any`: HTTP/2's is a `CONNECT`), behind
/// Mitten with sessions and CSRF protection by `csrf`, served by `axum::serve` on a real socket.
async fn serve_echo(csrf: CsrfConfig) -> SocketAddr {
    let sessions = Sessions::new(MemoryStore::new(100), SessionConfig::new()).expect("valid");
    let mitten = Mitten::new(Config::strict())
        .expect("valid")
        .with_sessions(sessions)
        .with_csrf(csrf)
        .expect("valid");
    let app = Router::new()
        .route(
            "/ws",
            any(|upgrade: WebSocketUpgrade| async move { upgrade.on_upgrade(echo) }),
        )
        .layer(mitten.layer());
    mitten_testkit::serve(app).await
}

async fn echo(mut socket: WebSocket) {
    while let Some(Ok(message)) = socket.recv().await {
        if let Message::Text(_) | Message::Binary(_) = message {
            if socket.send(message).await.is_err() {
                return;
            }
        }
    }
}

/// A connection speaking HTTP/2 without TLS (prior knowledge, as `axum::serve` accepts it),
/// once the server's settings allow extended `CONNECT`.
async fn http2(
    addr: SocketAddr,
) -> hyper::client::conn::http2::SendRequest<http_body_util::Empty<axum::body::Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (send, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/2 handshake");
    // The server's SETTINGS frame is read as the connection is polled: poll it until they allow
    // extended CONNECT (for a second at most), then leave it to a task.
    let mut connection = Box::pin(connection);
    for _ in 0..100 {
        if connection.is_extended_connect_protocol_enabled() {
            break;
        }
        let polled =
            tokio::time::timeout(std::time::Duration::from_millis(10), connection.as_mut()).await;
        assert!(polled.is_err(), "the connection stays open");
    }
    assert!(
        connection.is_extended_connect_protocol_enabled(),
        "axum::serve allows extended CONNECT"
    );
    tokio::spawn(connection);
    send
}

/// Opens `/ws` over HTTP/2 with a WebSocket's extended `CONNECT` and `headers` (see
/// [`connect_over_http2`]).
async fn open_over_http2(addr: SocketAddr, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let mut all = vec![("sec-websocket-version", "13")];
    all.extend_from_slice(headers);
    connect_over_http2(addr, &all).await
}

/// Sends an extended `CONNECT` for `/ws` with `:protocol websocket` and `headers` over HTTP/2.
/// On `200` it sends a message over the socket and returns the status with the echo; otherwise
/// the status with the refusal's reason (asked for in JSON, whose `error` names it: a 403 alone
/// could be for something else).
async fn connect_over_http2(addr: SocketAddr, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let mut send = http2(addr).await;
    let mut request = Request::builder()
        .method(Method::CONNECT)
        .uri(format!("http://{addr}/ws"))
        .extension(hyper::ext::Protocol::from_static("websocket"))
        .header("accept", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(http_body_util::Empty::new()).expect("request");
    let mut response = send.send_request(request).await.expect("response");
    let status = response.status();
    if status != StatusCode::OK {
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let refusal: serde_json::Value = serde_json::from_slice(&body).expect("a JSON refusal");
        let reason = refusal["error"].as_str().expect("a reason");
        return (status, reason.to_owned());
    }
    let upgraded = hyper::upgrade::on(&mut response).await.expect("upgraded");
    let socket = tokio_tungstenite::WebSocketStream::from_raw_socket(
        TokioIo::new(upgraded),
        tungstenite::protocol::Role::Client,
        None,
    )
    .await;
    (status, round_trip(socket).await)
}

/// Sends `ping` and returns what comes back.
async fn round_trip<S>(mut socket: tokio_tungstenite::WebSocketStream<S>) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    socket
        .send(tungstenite::Message::text("ping"))
        .await
        .expect("send");
    match socket.next().await {
        Some(Ok(tungstenite::Message::Text(text))) => text.as_str().to_owned(),
        other => panic!("no echo: {other:?}"),
    }
}

/// Opens `/ws` with HTTP/1.1's handshake and `headers`, asking for a refusal in JSON; returns
/// the status line's code and what follows the head.
async fn open_over_http1(addr: SocketAddr, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut request = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Accept: application/json\r\n"
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    // The head, then as much of the body as it announces (a 101 has none).
    let mut response = Vec::new();
    let mut buffer = [0u8; 1024];
    let (head, body) = loop {
        let text = String::from_utf8_lossy(&response).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                break (head.to_owned(), body.to_owned());
            }
        }
        match stream.read(&mut buffer).await.expect("read") {
            0 => panic!("the connection closed mid-response: {text}"),
            read => response.extend_from_slice(&buffer[..read]),
        }
    };
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (code, body)
}

/// What the page of another site (`localhost`) makes a browser with Fetch Metadata send.
const CROSS_SITE: [(&str, &str); 3] = [
    ("origin", "http://localhost:9"),
    ("sec-fetch-site", "cross-site"),
    ("sec-fetch-mode", "websocket"),
];

/// The refusals of another site's page, by Fetch Metadata, by its Origin alone (a browser
/// without Fetch Metadata), and of an opaque origin (a sandboxed frame), with their reasons.
const REFUSED: [(&[(&str, &str)], &str); 3] = [
    (&CROSS_SITE, "csrf_cross_site"),
    (&[("origin", "http://localhost:9")], "csrf_cross_origin"),
    (&[("origin", "null")], "csrf_null_origin"),
];

#[tokio::test]
async fn a_websocket_over_http2_opens_from_this_site_only() {
    let opened = (StatusCode::OK, "ping".to_owned());
    for csrf in [CsrfConfig::new(), CsrfConfig::new().without_token()] {
        let addr = serve_echo(csrf).await;
        let own = format!("http://{addr}");
        let same_origin = [
            ("origin", own.as_str()),
            ("sec-fetch-site", "same-origin"),
            ("sec-fetch-mode", "websocket"),
        ];
        assert_eq!(
            open_over_http2(addr, &same_origin).await,
            opened,
            "the site's own page opens its socket, and messages pass the layer"
        );
        // A browser without Fetch Metadata.
        assert_eq!(open_over_http2(addr, &same_origin[..1]).await, opened);
        for (headers, reason) in REFUSED {
            assert_eq!(
                open_over_http2(addr, headers).await,
                (StatusCode::FORBIDDEN, reason.to_owned()),
                "{headers:?}"
            );
        }
        // A client without Origin is no browser: no page of another site is behind it.
        assert_eq!(open_over_http2(addr, &[]).await, opened);
    }
    // A CONNECT without `Sec-WebSocket-Version` is no WebSocket handshake: checked as any
    // unsafe request, it needs a token.
    let addr = serve_echo(CsrfConfig::new()).await;
    let own = format!("http://{addr}");
    assert_eq!(
        connect_over_http2(addr, &[("origin", own.as_str())]).await,
        (StatusCode::FORBIDDEN, "csrf_token_missing".to_owned())
    );
}

#[tokio::test]
async fn the_http1_handshake_is_judged_the_same_way() {
    let addr = serve_echo(CsrfConfig::new()).await;
    let own = format!("http://{addr}");
    let same_origin = [("origin", own.as_str()), ("sec-fetch-site", "same-origin")];
    assert_eq!(open_over_http1(addr, &same_origin).await.0, 101);
    for (headers, reason) in REFUSED {
        let (code, body) = open_over_http1(addr, headers).await;
        assert_eq!(code, 403, "{headers:?}");
        let refusal: serde_json::Value = serde_json::from_str(&body).expect("a JSON refusal");
        assert_eq!(refusal["error"], reason, "{headers:?}");
    }
    assert_eq!(open_over_http1(addr, &[]).await.0, 101);
}
