//! What a stack costs per request when two threads serve it at once, against one thread: the
//! cost of what the threads share (locks, reference counts, the allocator's arenas), which the
//! single-threaded criterion benches cannot see.
//!
//! Each thread runs its own current-thread runtime on a clone of the same router, warms up, and
//! then serves requests built in batches of eight outside the timing, as the `stacks` bench
//! does. Both threads of the returning visitor's GET and of the POST use one visit (one
//! session), so those two also measure two requests of one session racing.
//!
//! `cargo run --release -p mitten-benches --example two_threads [REQUESTS]`, optionally with
//! `STACK="mitten full"` and `KIND=new|returning|post` to run one case.

use std::sync::Barrier;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use mitten_benches::stacks;
use mitten_benches::visit::{Visit, get as new_visitor};
use tower::ServiceExt as _;

const WARM_UP: usize = 20_000;
const BATCH: usize = 8;
const KINDS: [&str; 3] = ["new", "returning", "post"];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

/// The request of `kind` for `visit`.
fn request(kind: &str, visit: &Visit) -> Request<Body> {
    match kind {
        "new" => new_visitor(),
        "returning" => visit.get(),
        _ => visit.post(),
    }
}

/// Nanoseconds per request of `kind` on `app`, averaged over `threads` threads serving
/// `requests` each at the same time.
fn per_request(app: &Router, kind: &str, threads: usize, requests: usize) -> f64 {
    let visit = runtime().block_on(Visit::first(app));
    let start = Barrier::new(threads);
    let each: Vec<f64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let (app, visit, start) = (app.clone(), visit.clone(), &start);
                scope.spawn(move || {
                    let runtime = runtime();
                    let serve = |request: Request<Body>| {
                        let response = runtime.block_on(app.clone().oneshot(request));
                        std::hint::black_box(response.expect("response").status())
                    };
                    for _ in 0..WARM_UP {
                        serve(request(kind, &visit));
                    }
                    start.wait();
                    let mut seconds = 0.0;
                    for _ in 0..requests / BATCH {
                        let batch: Vec<_> = (0..BATCH).map(|_| request(kind, &visit)).collect();
                        let timer = Instant::now();
                        for request in batch {
                            serve(request);
                        }
                        seconds += timer.elapsed().as_secs_f64();
                    }
                    seconds / (requests / BATCH * BATCH) as f64 * 1e9
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker"))
            .collect()
    });
    each.iter().sum::<f64>() / each.len() as f64
}

fn main() {
    let requests = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    let stack = std::env::var("STACK").ok();
    let kind = std::env::var("KIND").ok();
    for (name, app) in stacks::all() {
        if stack.as_deref().is_some_and(|s| s != name) {
            continue;
        }
        for k in KINDS
            .into_iter()
            .filter(|k| kind.as_deref().is_none_or(|o| o == *k))
        {
            let one = per_request(&app, k, 1, requests);
            let two = per_request(&app, k, 2, requests);
            println!(
                "{name}, {k}: one thread {one:.0} ns, two threads {two:.0} ns ({:+.0})",
                two - one
            );
        }
    }
}
