//! The per-request cost of each stack, in process (`tower::ServiceExt::oneshot` on a prebuilt
//! request), all on one current-thread runtime: `GET /` (render a token, start a session) and
//! `POST /` with a valid form token and the cookies the GET set.
//!
//! `cargo bench -p mitten-benches --bench stacks`

#![allow(missing_docs)]

use std::hint::black_box;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt as _;
use mitten_benches::stacks;
use tower::ServiceExt as _;

/// What a browser holds after the first GET: its cookies and the form's token field.
struct Visit {
    cookies: String,
    form: String,
}

async fn visit(app: &Router) -> Visit {
    let response = app.clone().oneshot(get()).await.expect("GET");
    assert_eq!(response.status(), StatusCode::OK);
    let cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let page = String::from_utf8_lossy(&body).into_owned();
    let field = |name: &str| {
        page.find(&format!(r#"name="{name}" value=""#)).map(|at| {
            page[at + name.len() + 15..]
                .split('"')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
    };
    let form = match (field("_csrf_token"), field("authenticity_token")) {
        (Some(token), _) => format!("text=hello&_csrf_token={token}"),
        (_, Some(token)) => format!(
            "text=hello&authenticity_token={}",
            token
                .replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D")
        ),
        _ => "text=hello".to_owned(),
    };
    Visit { cookies, form }
}

fn get() -> Request<Body> {
    Request::get("/")
        .header("host", "127.0.0.1:8080")
        .body(Body::empty())
        .expect("request")
}

/// A returning visitor's GET: the cookies of a prior visit.
fn get_returning(visit: &Visit) -> Request<Body> {
    Request::get("/")
        .header("host", "127.0.0.1:8080")
        .header("cookie", &visit.cookies)
        .body(Body::empty())
        .expect("request")
}

fn post(visit: &Visit) -> Request<Body> {
    Request::post("/")
        .header("host", "127.0.0.1:8080")
        .header("origin", "http://127.0.0.1:8080")
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &visit.cookies)
        .body(Body::from(visit.form.clone()))
        .expect("request")
}

fn stacks(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let apps = [
        ("bare axum", stacks::bare()),
        ("mitten headers", stacks::mitten_headers()),
        ("peer headers (axum-helmet + nonce)", stacks::peer_headers()),
        ("mitten full", stacks::mitten_full()),
        (
            "peer full (helmet, nonce, tower-http csrf, axum_csrf, tower-sessions)",
            stacks::peer_full(),
        ),
    ];
    let mut group = c.benchmark_group("stack");
    for (name, app) in &apps {
        let visit = runtime.block_on(visit(app));
        let check = runtime
            .block_on(app.clone().oneshot(post(&visit)))
            .expect("POST");
        assert_eq!(
            check.status(),
            StatusCode::OK,
            "{name}: the legitimate POST must pass"
        );
        group.bench_function(format!("GET / {name}"), |b| {
            b.iter(|| black_box(runtime.block_on(app.clone().oneshot(get())).expect("GET")))
        });
        group.bench_function(format!("GET / returning / {name}"), |b| {
            b.iter(|| {
                black_box(
                    runtime
                        .block_on(app.clone().oneshot(get_returning(&visit)))
                        .expect("GET"),
                )
            })
        });
        group.bench_function(format!("POST / {name}"), |b| {
            b.iter(|| {
                black_box(
                    runtime
                        .block_on(app.clone().oneshot(post(&visit)))
                        .expect("POST"),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, stacks);
criterion_main!(benches);
