//! CSRF costs: the tier-1 decision, verifying a token from a header, and the whole layer on a
//! POST with the token in a header or in a 4 KiB form body (against the same bare handler).
//!
//! `cargo bench -p mitten-benches --bench csrf`

#![allow(missing_docs)]

use std::convert::Infallible;
use std::hint::black_box;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, Uri};
use criterion::{Criterion, criterion_group, criterion_main};
use mitten::csrf::{CookieSecret, CsrfConfig, token_from_headers};
use mitten::{Config, ConnectionInfo, Mitten, RequestView};
use mitten_benches::ready;
use tower::{Layer as _, Service as _, service_fn};

fn decisions(c: &mut Criterion) {
    let policy = CsrfConfig::new()
        .public_origin("https://app.example")
        .build()
        .expect("valid");
    let secret = CookieSecret::generate();
    let token = policy.render(secret.binding(), None, 0);
    let mut headers = HeaderMap::new();
    headers.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
    headers.insert("origin", HeaderValue::from_static("https://app.example"));
    headers.insert(
        "x-csrf-token",
        HeaderValue::from_str(&token).expect("token"),
    );
    let uri = Uri::from_static("/notes");
    let view = RequestView {
        method: &Method::POST,
        uri: &uri,
        headers: &headers,
        connection: ConnectionInfo::default(),
    };
    c.bench_function("csrf/tier-1 decision", |b| {
        b.iter(|| black_box(policy.precheck(black_box(&view), true, || None)))
    });
    c.bench_function("csrf/token from header, verified", |b| {
        b.iter(|| {
            let token = token_from_headers(black_box(&headers)).expect("one token");
            black_box(policy.verify(token, Some(secret.binding()), None))
        })
    });
}

async fn hello<B>(_: Request<B>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Body::from("ok")))
}

fn layer(c: &mut Criterion) {
    let mut bare = service_fn(hello);
    // The same key in the layer and here, so the bench can mint the token a browser would hold
    // (bound to its CSRF cookie secret).
    let secret = CookieSecret::generate();
    let csrf = CsrfConfig::new()
        .key(mitten::SecretKey::from_bytes_unchecked(vec![7; 32]))
        .build()
        .expect("valid");
    let mitten = Mitten::new(Config::strict())
        .expect("valid")
        .with_csrf(CsrfConfig::new().key(mitten::SecretKey::from_bytes_unchecked(vec![7; 32])))
        .expect("valid");
    let mut protected = mitten.layer().layer(service_fn(hello));
    let token = csrf.render(secret.binding(), None, 0);
    let cookie = format!("__Host-mitten-csrf={}", secret.to_cookie_value());
    let form = format!(
        "{}&_csrf_token={token}",
        "a=b&".repeat(4096 / 4 - 30).trim_end_matches('&')
    );
    assert!((4000..4300).contains(&form.len()), "{}", form.len());

    let mut group = c.benchmark_group("csrf layer, POST");
    group.bench_function("bare handler", |b| {
        b.iter(|| black_box(ready(bare.call(post(&cookie, Some(&token), None)))))
    });
    group.bench_function("mitten, token in header", |b| {
        b.iter(|| {
            let response =
                ready(protected.call(post(&cookie, Some(&token), None))).expect("response");
            assert_eq!(response.status(), 200);
            black_box(response)
        })
    });
    group.bench_function("mitten, token in a 4 KiB form", |b| {
        b.iter(|| {
            let response =
                ready(protected.call(post(&cookie, None, Some(&form)))).expect("response");
            assert_eq!(response.status(), 200);
            black_box(response)
        })
    });
    group.finish();
}

fn post(cookie: &str, header_token: Option<&str>, form: Option<&str>) -> Request<Body> {
    let mut builder = Request::post("/notes")
        .header("host", "127.0.0.1")
        .header("origin", "http://127.0.0.1")
        .header("sec-fetch-site", "same-origin")
        .header("cookie", cookie);
    if let Some(token) = header_token {
        builder = builder.header("x-csrf-token", token);
    }
    let body = match form {
        Some(form) => {
            builder = builder.header("content-type", "application/x-www-form-urlencoded");
            Body::from(form.to_owned())
        }
        None => Body::empty(),
    };
    let mut request = builder.body(body).expect("request");
    request.extensions_mut().insert(ConnectionInfo {
        peer: None,
        tls: false,
    });
    request
}

criterion_group!(benches, decisions, layer);
criterion_main!(benches);
