//! The Redis store against a real Redis, started by the test on a free loopback port.
//!
//! Needs `redis-server` on the PATH (Debian's `redis-server`; `.ci/run` installs it). Without
//! it the tests fail when `CI` is set, and are reported as not run otherwise.

#![allow(clippy::panic)] // A test fails by panicking.

use std::sync::Arc;
use std::time::Duration;

use mitten_core::session::{SessionConfig, SessionStore, Sessions, conformance};
use mitten_redis::RedisStore;

use mitten_testkit::RedisServer;

#[tokio::test]
async fn redis_store_conformance() {
    let Some(server) = RedisServer::start_persistent("Redis tests") else {
        return;
    };
    let store = RedisStore::connect(&server.url()).await.expect("connect");
    conformance::run_all(Arc::new(store)).await;
}

/// Sessions with the default configuration in `server`'s Redis.
async fn sessions_in(server: &RedisServer) -> Sessions {
    let store: Arc<dyn SessionStore> =
        Arc::new(RedisStore::connect(&server.url()).await.expect("connect"));
    Sessions::with_store(store, SessionConfig::new()).expect("valid")
}

/// Sessions in `server`'s Redis, one stored session holding `value` under `key`, and the
/// `Cookie` header its requests send.
async fn stored_session(
    server: &RedisServer,
    key: &str,
    value: serde_json::Value,
) -> (Sessions, http::HeaderMap) {
    let sessions = sessions_in(server).await;
    let first = sessions.start(&http::HeaderMap::new());
    first.load().await.expect("load");
    first.insert_value(key, value);
    let cookie = first.persist().await.expect("persist").expect("cookie");
    let pair = mitten_testkit::cookie_pair(&cookie);
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::COOKIE, pair.parse().expect("value"));
    (sessions, headers)
}

#[tokio::test]
async fn concurrent_requests_do_not_lose_updates() {
    let Some(server) = RedisServer::start_persistent("Redis tests") else {
        return;
    };
    let (sessions, headers) = stored_session(&server, "start", serde_json::json!(true)).await;

    // 32 requests of one session, each writing its own key, all at once.
    let mut tasks = Vec::new();
    for i in 0..32 {
        let session = sessions.start(&headers);
        tasks.push(tokio::spawn(async move {
            session.load().await.expect("load");
            session.insert(&format!("k{i}"), i).expect("insert");
            session.persist().await.expect("persist")
        }));
    }
    for task in tasks {
        assert!(
            task.await.expect("task").is_none(),
            "no new cookie for an existing session"
        );
    }
    let check = sessions.start(&headers);
    check.load().await.expect("load");
    for i in 0..32 {
        assert_eq!(
            check.get::<i32>(&format!("k{i}")),
            Some(i),
            "update {i} was lost"
        );
    }
    assert_eq!(check.get::<bool>("start"), Some(true));
}

/// `update_now` against Redis: of requests claiming one key at once, exactly one succeeds (how a
/// one-time CSRF token is consumed), and increments made at once are all counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_made_now_are_compare_and_set() {
    use mitten_core::session::UpdateNow;
    use serde_json::{Value, json};

    let Some(server) = RedisServer::start_persistent("Redis tests") else {
        return;
    };
    let (sessions, headers) = stored_session(&server, "count", serde_json::json!(0)).await;

    // 16 requests load the same version, then each claims "once" and counts itself.
    let loaded = Arc::new(tokio::sync::Barrier::new(16));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let session = sessions.start(&headers);
        let loaded = Arc::clone(&loaded);
        tasks.push(tokio::spawn(async move {
            session.load().await.expect("load");
            loaded.wait().await;
            let claim = |stored: Option<&Value>| match stored {
                None => Ok(json!(true)),
                Some(_) => Err(()),
            };
            let claimed = session.update_now("once", claim).await.expect("store");
            let count = |stored: Option<&Value>| {
                Ok::<_, ()>(json!(stored.and_then(Value::as_u64).unwrap_or(0) + 1))
            };
            let counted = session.update_now("count", count).await.expect("store");
            (claimed, counted)
        }));
    }
    let mut claims = 0;
    for task in tasks {
        let (claimed, counted) = task.await.expect("task");
        assert_eq!(counted, UpdateNow::Written);
        if claimed == UpdateNow::Written {
            claims += 1;
        } else {
            assert_eq!(claimed, UpdateNow::Refused(()));
        }
    }
    assert_eq!(claims, 1, "exactly one request claims the key");
    let check = sessions.start(&headers);
    check.load().await.expect("load");
    assert_eq!(check.get::<u64>("count"), Some(16), "no increment lost");
}

#[tokio::test]
async fn log_out_everywhere_in_redis() {
    let Some(server) = RedisServer::start_persistent("Redis tests") else {
        return;
    };
    let sessions = sessions_in(&server).await;
    let mut devices = Vec::new();
    for user in ["alice", "alice", "alice", "bob"] {
        devices.push(log_in(&sessions, user).await);
    }
    assert_eq!(
        sessions
            .destroy_all_for_user("alice")
            .await
            .expect("destroy"),
        3
    );
    for (headers, expected) in devices.iter().zip([None, None, None, Some("bob")]) {
        let session = sessions.start(headers);
        session.load().await.expect("load");
        assert_eq!(session.user_id().as_deref(), expected);
    }
}

/// The `Cookie` header a browser sends back for `set_cookie`.
fn cookie_header(set_cookie: &http::HeaderValue) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    let pair = mitten_testkit::cookie_pair(set_cookie);
    headers.insert(http::header::COOKIE, pair.parse().expect("value"));
    headers
}

/// Logs a new visitor in as `user` (the user set, the ID renewed): the `Cookie` header its
/// browser then sends.
async fn log_in(sessions: &Sessions, user: &str) -> http::HeaderMap {
    let login = sessions.start(&http::HeaderMap::new());
    login.load().await.expect("load");
    login.set_user_id(Some(user));
    login.regenerate();
    cookie_header(&login.persist().await.expect("persist").expect("cookie"))
}

#[tokio::test]
async fn a_logout_racing_a_renewal_ends_the_renewed_session_in_redis() {
    let Some(server) = RedisServer::start_persistent("Redis tests") else {
        return;
    };
    let sessions = sessions_in(&server).await;
    let laptop = log_in(&sessions, "alice").await;
    // A logout reads the session; another request renews its ID before the logout deletes it.
    let logout = sessions.start(&laptop);
    logout.load().await.expect("load");
    logout.destroy();
    let renewal = sessions.start(&laptop);
    renewal.load().await.expect("load");
    renewal.regenerate();
    let renewed = renewal.persist().await.expect("persist").expect("cookie");
    logout.persist().await.expect("persist").expect("cleared");
    let check = sessions.start(&cookie_header(&renewed));
    check.load().await.expect("load");
    assert_eq!(check.user_id(), None, "the renewed session ended too");
    assert!(!check.is_stored());
    // The other order: the renewal lands first, and the logout, sent with the old cookie,
    // finds no session under it.
    let phone = log_in(&sessions, "alice").await;
    let renewal = sessions.start(&phone);
    renewal.load().await.expect("load");
    renewal.regenerate();
    let renewed = renewal.persist().await.expect("persist").expect("cookie");
    let logout = sessions.start(&phone);
    logout.load().await.expect("load");
    assert!(!logout.is_stored());
    logout.destroy();
    logout.persist().await.expect("persist").expect("cleared");
    let check = sessions.start(&cookie_header(&renewed));
    check.load().await.expect("load");
    assert!(!check.is_stored(), "the renewed session ended");
}

#[tokio::test]
async fn redis_down_gives_503_and_recovers() {
    use axum::routing::{get, post};
    use mitten::{Config, Mitten, Session};

    let Some(mut server) = RedisServer::start_persistent("Redis tests") else {
        return;
    };
    let store = RedisStore::connect(&server.url()).await.expect("connect");
    let sessions = Sessions::new(store, SessionConfig::new()).expect("valid");
    let app = axum::Router::new()
        .route(
            "/login",
            post(|session: Session| async move {
                session.insert("user", "alice").expect("insert");
                session.regenerate();
                "ok"
            }),
        )
        .route(
            "/whoami",
            get(
                |session: Session| async move { session.get::<String>("user").unwrap_or_default() },
            ),
        )
        .layer(
            Mitten::new(Config::strict())
                .expect("valid")
                .with_sessions(sessions)
                .layer(),
        );
    let addr = mitten_testkit::serve(app).await;
    let client = reqwest::Client::new();

    let login = client
        .post(format!("http://{addr}/login"))
        .send()
        .await
        .expect("login");
    let cookie = mitten_testkit::cookie_pair(&login.headers()["set-cookie"]);
    let whoami = || {
        client
            .get(format!("http://{addr}/whoami"))
            .header("cookie", &cookie)
            .send()
    };
    assert_eq!(
        whoami().await.expect("whoami").text().await.expect("body"),
        "alice"
    );

    server.stop();
    let down = whoami().await.expect("an answer, not a hang");
    assert_eq!(
        down.status().as_u16(),
        503,
        "fails closed while Redis is down"
    );
    assert_eq!(
        down.headers()["x-frame-options"],
        "DENY",
        "with the security headers"
    );
    assert!(down.headers().contains_key("content-security-policy"));
    let body = down.text().await.expect("body");
    assert!(
        !body.contains("alice") && body.contains("unavailable"),
        "{body}"
    );

    server.restart();
    let mut recovered = None;
    for _ in 0..50 {
        let response = whoami().await.expect("whoami");
        if response.status().as_u16() == 200 {
            recovered = Some(response.text().await.expect("body"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        recovered.as_deref(),
        Some("alice"),
        "back, and still logged in"
    );
}
