//! What the CSRF socket suites share: Mitten with in-memory sessions and CSRF, and a client that
//! keeps its cookies, as a browser does.

// Each test crate that includes this module uses a part of it.
#![allow(dead_code)]

use std::net::SocketAddr;

use mitten::csrf::CsrfConfig;
use mitten::session::{MemoryStore, SessionConfig, Sessions};
use mitten::{Config, Mitten};
use mitten_testkit::CookieJar;

/// Mitten with `config`, sessions in a small in-memory store, and CSRF protection by `csrf`.
pub(crate) fn with_sessions(config: Config, csrf: CsrfConfig) -> Mitten {
    let sessions = Sessions::new(MemoryStore::new(1_000), SessionConfig::new()).expect("valid");
    Mitten::new(config)
        .expect("valid")
        .with_sessions(sessions)
        .with_csrf(csrf)
        .expect("valid")
}

/// Cookies and same-origin headers, like the site's own page.
pub(crate) struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
    pub(crate) cookies: CookieJar,
}

impl Client {
    pub(crate) fn new(addr: SocketAddr) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: format!("http://{addr}"),
            cookies: CookieJar::default(),
        }
    }

    pub(crate) fn cookie_header(&self) -> String {
        self.cookies.header()
    }

    pub(crate) fn remember(&mut self, response: &reqwest::Response) {
        self.cookies.remember(response.headers());
    }

    pub(crate) async fn token(&mut self) -> String {
        let response = self
            .http
            .get(format!("{}/token", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("token");
        self.remember(&response);
        response.text().await.expect("body")
    }

    /// POSTs `token` alone as a same-origin form to `path`, asking for a refusal as JSON (whose
    /// `error` names the reason).
    pub(crate) async fn post_token(&mut self, path: &str, token: &str) -> reqwest::Response {
        let same_origin = [
            ("sec-fetch-site", "same-origin"),
            ("accept", "application/json"),
        ];
        let body = format!("_csrf_token={token}").into_bytes();
        self.post(
            path,
            "application/x-www-form-urlencoded",
            body,
            &same_origin,
        )
        .await
    }

    pub(crate) async fn post(
        &mut self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", content_type)
            .body(body);
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("post");
        self.remember(&response);
        response
    }
}

pub(crate) fn percent_encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(*b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
