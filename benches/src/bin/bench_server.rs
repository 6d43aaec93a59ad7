//! Serves one of the benchmark stacks for the load test (all from this one binary, so every
//! stack runs with the same allocator and runtime).
//!
//! usage: bench_server STACK ADDR   (STACK: bare, mitten-headers, mitten-full, mitten-bytes,
//! mitten-header-bytes, peer-headers, peer-full)

use std::net::SocketAddr;

use mitten_benches::stacks;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(stack), Some(addr)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: bench_server STACK ADDR");
        std::process::exit(2);
    };
    let app = match stack.as_str() {
        "bare" => stacks::bare(),
        "mitten-headers" => stacks::mitten_headers(),
        "mitten-full" => stacks::mitten_full(),
        "peer-headers" => stacks::peer_headers(),
        "peer-full" => stacks::peer_full(),
        "mitten-bytes" => stacks::mitten_bytes().await,
        "mitten-header-bytes" => stacks::mitten_header_bytes().await,
        other => {
            eprintln!("unknown stack {other}");
            std::process::exit(2);
        }
    };
    let addr: SocketAddr = addr.parse().expect("ADDR is HOST:PORT");
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    println!(
        "listening on http://{}",
        listener.local_addr().expect("addr")
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .expect("serve");
}
