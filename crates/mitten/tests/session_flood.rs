//! Floods against a full memory store, over real sockets: of new visitors, and of logins from
//! one account. The users who have logged in, and the visitors who keep using the site, keep
//! their sessions.

#![allow(clippy::panic)] // A test fails by panicking.

mod support;

use axum::Router;
use axum::routing::{get, post};
use mitten::csrf::CsrfConfig;
use mitten::session::{MemoryStore, SessionConfig, Sessions};
use mitten::{Config, CsrfToken, Mitten, Session};
use mitten_testkit::serve;
use support::Client;

/// A store of 64 sessions: four in each of its sixteen shards.
const STORE_BOUND: usize = 64;

fn app(store: MemoryStore) -> Router {
    let sessions = Sessions::new(store, SessionConfig::new()).expect("valid");
    let mitten = Mitten::new(Config::strict())
        .expect("valid")
        .with_sessions(sessions)
        .with_csrf(CsrfConfig::new())
        .expect("valid");
    Router::new()
        // A page with a form: its token starts a session for the visitor's CSRF secret.
        .route(
            "/token",
            get(|token: CsrfToken| async move { token.to_string() }),
        )
        .route(
            "/login",
            // The form's `user` field (its token field is the layer's).
            post(|session: Session, form: String| async move {
                let user = form
                    .split('&')
                    .find_map(|field| field.strip_prefix("user="));
                session.set_user_id(user);
                session.regenerate();
                "in"
            }),
        )
        .route(
            "/whoami",
            get(|session: Session| async move {
                session.user_id().unwrap_or_else(|| "nobody".to_owned())
            }),
        )
        .route(
            "/cart",
            get(|session: Session| async move {
                let items: u32 = session.get("cart").unwrap_or(0);
                session.insert("cart", items + 1).expect("insert");
                (items + 1).to_string()
            }),
        )
        .layer(mitten.layer())
}

async fn get_text(client: &mut Client, path: &str) -> String {
    let response = client
        .http
        .get(format!("{}{path}", client.base))
        .header("cookie", client.cookie_header())
        .send()
        .await
        .expect("get");
    assert_eq!(response.status().as_u16(), 200, "{path}");
    client.remember(&response);
    response.text().await.expect("body")
}

/// Logs `client` in as `user`, with the token of a page it fetched first.
async fn log_in(client: &mut Client, user: &str) {
    let token = client.token().await;
    let login = client
        .post(
            "/login",
            "application/x-www-form-urlencoded",
            format!("_csrf_token={token}&user={user}").into_bytes(),
            &[("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(login.status().as_u16(), 200);
}

#[tokio::test]
async fn a_flood_of_new_visitors_logs_no_user_out() {
    let addr = serve(app(MemoryStore::new(STORE_BOUND))).await;
    let mut ann = Client::new(addr);
    log_in(&mut ann, "ann").await;
    assert_eq!(get_text(&mut ann, "/whoami").await, "ann");
    // A shopper who keeps using the site while the flood goes on: an anonymous session.
    let mut shopper = Client::new(addr);
    assert_eq!(get_text(&mut shopper, "/cart").await, "1");
    // Forty times the store's bound in new visitors, each starting a session (no cookies).
    let flood = reqwest::Client::new();
    let mut cart = 1;
    for visitor in 0..40 * STORE_BOUND {
        let response = flood
            .get(format!("http://{addr}/token"))
            .send()
            .await
            .expect("get");
        assert_eq!(response.status().as_u16(), 200);
        assert!(response.headers().contains_key("set-cookie"));
        // Every other visitor, the shopper comes back: at most two new sessions in a row
        // between two of its visits, where a shard makes room for four.
        if visitor % 2 == 1 {
            cart += 1;
            assert_eq!(get_text(&mut shopper, "/cart").await, cart.to_string());
        }
    }
    // Ann has not been back since the flood began, and is still logged in.
    assert_eq!(get_text(&mut ann, "/whoami").await, "ann");
    // A visitor who does not come back is evicted in time: the store stays bounded.
    let mut gone = Client::new(addr);
    assert_eq!(get_text(&mut gone, "/cart").await, "1");
    for _ in 0..4 * STORE_BOUND {
        let response = flood.get(format!("http://{addr}/cart")).send().await;
        assert_eq!(response.expect("get").status().as_u16(), 200);
    }
    assert_eq!(get_text(&mut gone, "/cart").await, "1");
    assert_eq!(get_text(&mut ann, "/whoami").await, "ann");
}

#[tokio::test]
async fn a_flood_of_logins_from_one_account_logs_no_other_user_out() {
    // Two sessions a user: in the shard Ann's session lands in, users hold at most three of the
    // four places, never more than the three quarters beyond which they are evicted.
    let store = MemoryStore::new(STORE_BOUND).max_sessions_per_user(2);
    let addr = serve(app(store)).await;
    let mut ann = Client::new(addr);
    log_in(&mut ann, "ann").await;
    // One account logs in from twice as many new clients as the store holds sessions. Without
    // the cap its sessions would fill every shard, and Ann's, the oldest, would make room.
    for _ in 0..2 * STORE_BOUND {
        let mut mallory = Client::new(addr);
        log_in(&mut mallory, "mallory").await;
        assert_eq!(get_text(&mut mallory, "/whoami").await, "mallory");
    }
    assert_eq!(get_text(&mut ann, "/whoami").await, "ann");
}
