//! The whole layer in process: a prebuilt request through a bare handler, and through the same
//! handler behind `MittenLayer` with the default (strict) configuration over TLS, so that the
//! full header set (HSTS included) and a fresh nonce are paid for.
//!
//! `cargo bench -p mitten-tower --bench layer`

#![allow(missing_docs)]

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response};
use http_body_util::Full;
use mitten_core::{Config, ConnectionInfo};
use mitten_tower::Mitten;
use tower::{Layer, Service, service_fn};

/// Polls a future that is ready at once (the handler never waits).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

fn request() -> Request<Full<Bytes>> {
    let mut request = Request::get("/")
        .header("host", "app.example")
        .body(Full::default())
        .expect("request");
    request.extensions_mut().insert(ConnectionInfo {
        peer: None,
        tls: true,
    });
    request
}

async fn hello<B>(_: Request<B>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"hello"))))
}

fn layer(c: &mut Criterion) {
    let mut bare = service_fn(hello);
    let mut protected = Mitten::new(Config::strict())
        .expect("valid")
        .layer()
        .layer(service_fn(hello));
    let mut group = c.benchmark_group("layer");
    group.bench_function("bare handler", |b| {
        b.iter(|| black_box(ready(bare.call(request()))))
    });
    group.bench_function("mitten strict (headers + nonce)", |b| {
        b.iter(|| black_box(ready(protected.call(request()))))
    });
    group.finish();
}

criterion_group!(benches, layer);
criterion_main!(benches);
