//! What the layer answers when the session store fails between a request's read and its write.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, post};
use mitten::csrf::CsrfConfig;
use mitten::session::{
    Cas, Forward, MemoryStore, Record, SessionConfig, SessionStore, Sessions, StoreError,
    StoreFuture, StoreKey,
};
use mitten::{Config, CsrfToken, Mitten};

/// The memory store, whose writes fail while `failing` is set (reads still work): a store that
/// went down after the request's session was read.
#[derive(Debug)]
struct WritesFail {
    store: MemoryStore,
    failing: Arc<AtomicBool>,
}

impl WritesFail {
    fn down<T>(&self) -> Option<StoreFuture<'_, Result<T, StoreError>>> {
        self.failing
            .load(Ordering::SeqCst)
            .then(|| StoreFuture::ready(Err(StoreError::new("down"))))
    }
}

impl SessionStore for WritesFail {
    fn load(&self, key: StoreKey) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>> {
        self.store.load(key)
    }

    fn create(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expires_at: u64,
    ) -> StoreFuture<'_, Result<bool, StoreError>> {
        self.down()
            .unwrap_or_else(|| self.store.create(key, record, expires_at))
    }

    fn update(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expected_version: u64,
        expires_at: u64,
    ) -> StoreFuture<'_, Result<Cas, StoreError>> {
        self.down()
            .unwrap_or_else(|| self.store.update(key, record, expected_version, expires_at))
    }

    fn create_in_place_of(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expires_at: u64,
        replaced: StoreKey,
    ) -> StoreFuture<'_, Result<bool, StoreError>> {
        self.down().unwrap_or_else(|| {
            self.store
                .create_in_place_of(key, record, expires_at, replaced)
        })
    }

    fn delete(&self, key: StoreKey) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>> {
        self.down().unwrap_or_else(|| self.store.delete(key))
    }

    fn delete_renewed(
        &self,
        key: StoreKey,
        forward: Option<Forward>,
    ) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>> {
        self.down()
            .unwrap_or_else(|| self.store.delete_renewed(key, forward))
    }

    fn delete_all_for_user<'a>(
        &'a self,
        user_id: &'a str,
        except: Option<StoreKey>,
    ) -> StoreFuture<'a, Result<u64, StoreError>> {
        self.down()
            .unwrap_or_else(|| self.store.delete_all_for_user(user_id, except))
    }
}

/// Serves `app`, with a `/token` route that renders a CSRF token, behind Mitten with `csrf` and
/// sessions (`config`) in a memory store whose writes fail while the returned flag is set. Then
/// a first visit: the address, the flag, the session cookie and the token.
async fn serve_with_failing_writes(
    app: Router,
    config: SessionConfig,
    csrf: CsrfConfig,
) -> (std::net::SocketAddr, Arc<AtomicBool>, String, String) {
    let failing = Arc::new(AtomicBool::new(false));
    let store = WritesFail {
        store: MemoryStore::new(1_000),
        failing: Arc::clone(&failing),
    };
    let mitten = Mitten::new(Config::strict())
        .expect("valid")
        .with_sessions(Sessions::new(store, config).expect("valid"))
        .with_csrf(csrf)
        .expect("valid");
    let app = app
        .route(
            "/token",
            get(|token: CsrfToken| async move { token.to_string() }),
        )
        .layer(mitten.layer());
    let addr = mitten_testkit::serve(app).await;
    let first = reqwest::get(format!("http://{addr}/token"))
        .await
        .expect("token");
    let cookie = mitten_testkit::cookie_pair(&first.headers()["set-cookie"]);
    let token = first.text().await.expect("body");
    (addr, failing, cookie, token)
}

#[tokio::test]
async fn a_503_for_a_failed_write_still_ends_a_connection_whose_body_was_left_unread() {
    // Every request refreshes `last_seen`, so every request with a session writes.
    let config = SessionConfig::new().touch_interval(Duration::ZERO);
    let app = Router::new().route("/echo", post(|body: Bytes| async move { body }));
    let (addr, failing, cookie, _) =
        serve_with_failing_writes(app, config, CsrfConfig::new()).await;
    let client = reqwest::Client::new();

    failing.store(true, Ordering::SeqCst);
    let post = |body: Vec<u8>, content_type: &str| {
        client
            .post(format!("http://{addr}/echo"))
            .header("cookie", &cookie)
            .header("origin", format!("http://{addr}"))
            .header("sec-fetch-site", "same-origin")
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    // No token, in a body that is not searched for one: refused with the body unread, then the
    // session's write fails.
    let unread = post(b"abc".to_vec(), "application/octet-stream")
        .await
        .expect("answer");
    assert_eq!(unread.status(), 503);
    assert_eq!(unread.headers()["connection"], "close");
    assert_eq!(unread.headers()["x-frame-options"], "DENY");
    // The same failure after the whole body was read keeps the connection.
    let read = post(b"a=1".to_vec(), "application/x-www-form-urlencoded")
        .await
        .expect("answer");
    assert_eq!(read.status(), 503);
    assert!(!read.headers().contains_key("connection"));
}

/// A one-time token whose use cannot be recorded (the store's writes fail) does not reach the
/// handler: the request gets a 503 with the security headers, and the token still works once
/// the store is back.
#[tokio::test]
async fn a_one_time_token_whose_use_cannot_be_stored_is_refused() {
    let reached = Arc::new(AtomicBool::new(false));
    let handler_reached = Arc::clone(&reached);
    let app = Router::new().route(
        "/transfer",
        post(move || {
            handler_reached.store(true, Ordering::SeqCst);
            async { "done" }
        }),
    );
    let one_time = CsrfConfig::new().mode(mitten::csrf::TokenMode::OneTime { max_age: 600 });
    let (addr, failing, cookie, token) =
        serve_with_failing_writes(app, SessionConfig::new(), one_time).await;
    let client = reqwest::Client::new();
    let transfer = || {
        client
            .post(format!("http://{addr}/transfer"))
            .header("cookie", &cookie)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("_csrf_token={token}"))
            .send()
    };

    failing.store(true, Ordering::SeqCst);
    let down = transfer().await.expect("answer");
    assert_eq!(down.status(), 503);
    assert_eq!(down.headers()["x-frame-options"], "DENY");
    assert!(!reached.load(Ordering::SeqCst), "the handler ran");

    failing.store(false, Ordering::SeqCst);
    assert_eq!(transfer().await.expect("answer").status(), 200);
    assert!(reached.load(Ordering::SeqCst));
    assert_eq!(transfer().await.expect("answer").status(), 403, "used once");
}
