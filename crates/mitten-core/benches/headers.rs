//! The header path on its own: the per-response cost of the full default header set with a
//! fresh nonce, against building the same bare response headers.
//!
//! `cargo bench -p mitten-core --bench headers`

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, StatusCode};
use mitten_core::csp::{ContentSecurityPolicy, CspNonce};
use mitten_core::headers::{ResponseContext, SecurityHeaders};

fn bare_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers
}

fn header_path(c: &mut Criterion) {
    let policy = SecurityHeaders::strict().compile().expect("valid");
    let mut group = c.benchmark_group("headers");
    group.bench_function("bare response headers", |b| {
        b.iter(|| black_box(bare_headers()))
    });
    group.bench_function("strict headers + fresh nonce", |b| {
        b.iter(|| {
            let mut headers = bare_headers();
            let nonce = CspNonce::generate();
            let ctx = ResponseContext {
                secure: true,
                status: StatusCode::OK,
                nonce: &nonce,
                route: None,
            };
            policy.apply(&mut headers, &ctx);
            black_box(headers)
        })
    });
    group.finish();

    let csp = ContentSecurityPolicy::strict().compile().expect("valid");
    let nonce = CspNonce::generate();
    c.bench_function("csp/nonce", |b| b.iter(|| black_box(CspNonce::generate())));
    c.bench_function("csp/render", |b| {
        b.iter(|| black_box(csp.render(black_box(&nonce), Some("frame-ancestors 'none'"))))
    });
}

criterion_group!(benches, header_path);
criterion_main!(benches);
