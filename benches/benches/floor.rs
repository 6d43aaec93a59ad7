//! The floor under the full stack: the work Mitten's full stack does for each request of the
//! stacks bench, called directly on the core, with no adapter (no tower service, no axum router
//! or extractor, no request body, no future but the store's, which answers at once). What the
//! layer costs beyond this is its plumbing; what this costs is the protection itself.
//!
//! - GET, new visitor: a fresh nonce and the header policy; a session started without a cookie,
//!   written (`user`), its binding secret made and a token rendered for it, then stored in a full
//!   store (which evicts one) and its `Set-Cookie` added.
//! - GET, returning: the same with the session's cookie: the session loaded, the same value
//!   written (no store write), the token rendered.
//! - POST: the session loaded from its cookie, tier 1 (here decided by `Sec-Fetch-Site`), the
//!   token verified against the session, the session read, and the header policy.
//!
//! The stores hold at most 100 000 sessions, as in the stacks bench; the returning visitor has a
//! store of its own, so that new visitors cannot evict it (in the stacks bench its session sits
//! in the full store they fill).
//!
//! The floor errs low: the POST's token is taken from a header (the stacks bench sends it in the
//! form body), and the HTTPS-redirect decision, the CSRF check's `Vary` and the `Cache-Control`
//! the layer adds beside a session cookie are left out.
//!
//! `cargo bench -p mitten-benches --bench floor`

#![allow(missing_docs)]

use std::hint::black_box;

use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use criterion::{Criterion, criterion_group, criterion_main};
use mitten::csp::CspNonce;
use mitten::csrf::{CsrfConfig, CsrfPolicy, Precheck, token_from_headers};
use mitten::headers::{HeaderPolicy, ResponseContext, SecurityHeaders};
use mitten::session::{MemoryStore, SessionConfig, Sessions};
use mitten::{ConnectionInfo, RequestView};
use mitten_benches::ready;

/// The protections, configured as the stacks bench's full stack configures them.
const STORE: usize = 100_000;

struct Protections {
    headers: HeaderPolicy,
    csrf: CsrfPolicy,
}

impl Protections {
    fn new() -> Self {
        Self {
            headers: SecurityHeaders::strict().compile().expect("valid"),
            csrf: CsrfConfig::new().build().expect("valid"),
        }
    }

    /// The response's headers: the handler's content type, then the security headers with a
    /// fresh nonce.
    fn response_headers(&self, cookie: Option<HeaderValue>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        if let Some(cookie) = cookie {
            headers.append(SET_COOKIE, cookie);
        }
        let nonce = CspNonce::generate();
        let context = ResponseContext {
            secure: false,
            status: StatusCode::OK,
            nonce: &nonce,
            route: None,
        };
        self.headers.apply(&mut headers, &context);
        headers
    }

    /// A GET: the session written and a token rendered for it, then the response's headers.
    fn get(&self, sessions: &Sessions, request: &HeaderMap) -> (HeaderMap, String) {
        let session = sessions.start(request);
        ready(session.load()).expect("load");
        session.insert("user", "alice").expect("insert");
        let bound = session.token_binding();
        let token = self.csrf.render(bound.binding(), bound.user(), 0);
        drop(bound);
        let cookie = ready(session.persist()).expect("persist");
        (self.response_headers(cookie), token)
    }

    /// A POST: tier 1, the token verified against the session, the session read, then the
    /// response's headers.
    fn post(&self, sessions: &Sessions, request: &HeaderMap, uri: &Uri) -> HeaderMap {
        let view = RequestView {
            method: &Method::POST,
            uri,
            headers: request,
            connection: ConnectionInfo::default(),
        };
        assert!(matches!(
            self.csrf.precheck(&view, false, || None),
            Precheck::NeedToken
        ));
        let session = sessions.start(request);
        ready(session.load()).expect("load");
        let token = token_from_headers(request).expect("one token");
        let bound = session.existing_token_binding();
        let verdict = self
            .csrf
            .verify(token, bound.as_ref().map(|b| b.binding()), None);
        assert!(verdict.is_ok(), "the legitimate POST must pass");
        drop(bound);
        let user: Option<String> = session.get("user");
        black_box(user);
        let cookie = ready(session.persist()).expect("persist");
        self.response_headers(cookie)
    }
}

fn sessions() -> Sessions {
    Sessions::new(MemoryStore::new(STORE), SessionConfig::new()).expect("valid")
}

/// A returning visitor's request headers: the session cookie from a first GET, and for a POST
/// the browser's same-origin signals and the token.
fn returning_visitor(protections: &Protections, sessions: &Sessions) -> (HeaderMap, HeaderMap) {
    let (response, token) = protections.get(sessions, &HeaderMap::new());
    let set_cookie = response[SET_COOKIE].to_str().expect("ASCII");
    let pair = set_cookie.split(';').next().expect("name=value");
    let mut get = HeaderMap::new();
    get.insert("host", HeaderValue::from_static("127.0.0.1"));
    get.insert(COOKIE, HeaderValue::from_str(pair).expect("cookie"));
    let mut post = get.clone();
    post.insert("origin", HeaderValue::from_static("http://127.0.0.1"));
    post.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
    post.insert(
        "x-csrf-token",
        HeaderValue::from_str(&token).expect("token"),
    );
    (get, post)
}

fn floor(c: &mut Criterion) {
    let protections = Protections::new();
    let returning = sessions();
    let (get, post) = returning_visitor(&protections, &returning);
    let uri = Uri::from_static("/");
    let new_visitors = sessions();
    let no_cookie = HeaderMap::new();
    let mut group = c.benchmark_group("floor");
    group.bench_function("GET / new visitor", |b| {
        b.iter(|| black_box(protections.get(&new_visitors, &no_cookie)))
    });
    group.bench_function("GET / returning", |b| {
        b.iter(|| black_box(protections.get(&returning, &get)))
    });
    group.bench_function("POST /", |b| {
        b.iter(|| black_box(protections.post(&returning, &post, &uri)))
    });
    group.finish();
}

criterion_group!(benches, floor);
criterion_main!(benches);
