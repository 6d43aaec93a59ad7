//! The per-request cost of each stack, in process (`tower::ServiceExt::oneshot` on a prebuilt
//! request, built outside the measurement), all on one current-thread runtime: `GET /` (render a
//! token, start a session) and `POST /` with a valid form token and the cookies the GET set.
//!
//! `cargo bench -p mitten-benches --bench stacks`

#![allow(missing_docs)]

use std::hint::black_box;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mitten_benches::stacks;
use mitten_benches::visit::{Visit, get as new_visitor};
use tower::ServiceExt as _;

fn stacks(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let apps = stacks::all();
    let mut group = c.benchmark_group("stack");
    for (name, app) in &apps {
        // A first visit, made again before each measurement that replays it: the new visitors
        // of the first measurement fill a bounded store, which evicts the oldest sessions, and a
        // POST whose session is gone is refused (a cheaper request than the one meant).
        let first_visit = || {
            let visit = runtime.block_on(Visit::first(app));
            let check = runtime
                .block_on(app.clone().oneshot(visit.post()))
                .expect("POST");
            assert_eq!(
                check.status(),
                StatusCode::OK,
                "{name}: the legitimate POST must pass"
            );
            visit
        };
        first_visit();
        // Each request is built before its measurement starts (a prebuilt request); the
        // response is dropped within it, as a server drops it once written.
        let serve = |request: Request<Body>| {
            let response = runtime
                .block_on(app.clone().oneshot(request))
                .expect("response");
            black_box(response.status())
        };
        group.bench_function(format!("GET / {name}"), |b| {
            b.iter_batched(new_visitor, serve, BatchSize::NumIterations(8))
        });
        let visit = first_visit();
        group.bench_function(format!("GET / returning / {name}"), |b| {
            b.iter_batched(|| visit.get(), serve, BatchSize::NumIterations(8))
        });
        group.bench_function(format!("POST / {name}"), |b| {
            b.iter_batched(
                || visit.post(),
                |request| {
                    // Every POST measured is one that passed.
                    assert_eq!(serve(request), StatusCode::OK, "{name}");
                },
                BatchSize::NumIterations(8),
            )
        });
    }
    group.finish();
}

criterion_group!(benches, stacks);
criterion_main!(benches);
