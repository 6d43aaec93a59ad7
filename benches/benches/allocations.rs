//! Heap allocations per request, for each stack and each kind of request: a figure that, unlike
//! time, does not move with the machine's load. Counted by an instrumented system allocator
//! over 1 000 requests after a warm-up (the requests themselves are built outside the count).
//!
//! `cargo bench -p mitten-benches --bench allocations`

#![allow(missing_docs)]

use std::alloc::System;

use mitten_benches::stacks;
use mitten_benches::visit::{Visit, get as new_visitor};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tower::ServiceExt as _;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const REQUESTS: usize = 1_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let apps = stacks::all();
    println!("| stack | GET, new visitor | GET, returning | POST |");
    println!("|---|---|---|---|");
    // Each router comes with its routes converted once, as `axum::serve` runs it.
    for (name, app) in apps {
        let visit = runtime.block_on(Visit::first(&app));
        let count = |make: &dyn Fn() -> axum::http::Request<axum::body::Body>| {
            let mut requests: Vec<_> = (0..REQUESTS + 100).map(|_| make()).collect();
            let mut run = |n: usize| {
                for request in requests.drain(..n) {
                    let response = runtime
                        .block_on(app.clone().oneshot(request))
                        .expect("call");
                    assert!(
                        response.status().is_success(),
                        "{name}: {}",
                        response.status()
                    );
                }
            };
            run(100);
            let region = Region::new(GLOBAL);
            run(REQUESTS);
            let change = region.change();
            (change.allocations + change.reallocations) as f64 / REQUESTS as f64
        };
        let get = count(&new_visitor);
        let returning = count(&|| visit.get());
        let post = count(&|| visit.post());
        println!("| {name} | {get:.1} | {returning:.1} | {post:.1} |");
    }
}
