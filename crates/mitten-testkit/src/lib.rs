//! Test support shared by Mitten's test suites and benchmarks (not published, not for users):
//! external tools started on free loopback ports, and the project's rule for a missing tool: a
//! test that needs it fails when `CI` is set, and is reported as not run otherwise.

// Test support: failing loudly on a broken environment is the point.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Whether `program` can be run. If not: a panic when `CI` is set (CI must have installed it),
/// else a note on standard error that `what` is not run, and `false`.
///
/// ```
/// if !mitten_testkit::tool_available("cargo", "this example") {
///     return;
/// }
/// ```
pub fn tool_available(program: &str, what: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        tool_missing(program, what);
    }
    found
}

/// Reports that `program` is missing, so `what` is not run: a panic when `CI` is set.
pub fn tool_missing(program: &str, what: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {program} is not installed (.ci/run installs it)"
    );
    eprintln!("{program} not found; {what} not run (CI runs it)");
}

/// A free TCP port on 127.0.0.1 (free when asked; the caller binds it next).
///
/// ```
/// assert_ne!(mitten_testkit::free_port(), 0);
/// ```
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Serves `app` on a fresh loopback port (with the peer's address as `ConnectInfo`) and returns
/// its address. The server runs until the test's runtime ends.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let addr = mitten_testkit::serve(axum::Router::new()).await;
/// assert!(addr.ip().is_loopback());
/// # }
/// ```
pub async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    addr
}

/// The `name=value` pair a browser sends back for a `Set-Cookie` header.
///
/// ```
/// let set_cookie = axum::http::HeaderValue::from_static("id=abc; Path=/; HttpOnly");
/// assert_eq!(mitten_testkit::cookie_pair(&set_cookie), "id=abc");
/// ```
pub fn cookie_pair(set_cookie: &axum::http::HeaderValue) -> String {
    set_cookie
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The cookies a client was given, kept by name as a browser keeps them: a later `Set-Cookie`
/// replaces an earlier one, and one with `Max-Age=0` removes it. Attributes are not checked.
///
/// ```
/// use axum::http::{HeaderMap, HeaderValue};
///
/// let mut jar = mitten_testkit::CookieJar::default();
/// let mut headers = HeaderMap::new();
/// headers.append("set-cookie", HeaderValue::from_static("a=1; Path=/"));
/// headers.append("set-cookie", HeaderValue::from_static("b=2; HttpOnly"));
/// jar.remember(&headers);
/// assert_eq!(jar.header(), "a=1; b=2");
///
/// let mut cleared = HeaderMap::new();
/// cleared.append("set-cookie", HeaderValue::from_static("a=; Max-Age=0"));
/// jar.remember(&cleared);
/// assert_eq!(jar.header(), "b=2");
/// assert_eq!(jar.get("b"), Some("2"));
/// ```
#[derive(Debug, Default, Clone)]
pub struct CookieJar(std::collections::BTreeMap<String, String>);

impl CookieJar {
    /// The `Cookie` header a browser would send: `name=value` pairs joined by `; `.
    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Takes in the `Set-Cookie` headers of a response.
    pub fn remember(&mut self, headers: &axum::http::HeaderMap) {
        for set in headers
            .get_all(axum::http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let pair = set.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if set.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// The value of cookie `name`, if the jar holds one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Sets cookie `name` as if the server had (a planted or copied cookie).
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_owned(), value.to_owned());
    }
}

/// Sends `request` to `addr` exactly as written (no client normalises it) and returns what the
/// server sends until it ends the connection. A server that keeps the connection open for five
/// seconds fails the test.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let addr = mitten_testkit::serve(axum::Router::new()).await;
/// let raw = mitten_testkit::exchange_until_closed(
///     addr,
///     b"GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n",
/// )
/// .await;
/// assert!(raw.starts_with("HTTP/1.1 404"), "{raw}");
/// # }
/// ```
pub async fn exchange_until_closed(addr: SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut response),
    )
    .await
    .expect("the server ends the connection")
    .expect("read");
    String::from_utf8_lossy(&response).into_owned()
}

/// A `redis-server` of the caller's own on a free loopback port, stopped when dropped.
///
/// ```no_run
/// let Some(redis) = mitten_testkit::RedisServer::start("this example") else {
///     return;
/// };
/// assert!(redis.url().starts_with("redis://127.0.0.1:"));
/// ```
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    /// With persistence: where the append-only file lives (removed when dropped).
    dir: Option<PathBuf>,
}

impl RedisServer {
    /// A server without persistence; `None` (or a panic under `CI`) without `redis-server`.
    pub fn start(what: &str) -> Option<Self> {
        Self::launch_on(what, free_port(), None)
    }

    /// A server whose data survives [`stop`](Self::stop) and [`restart`](Self::restart) (an
    /// append-only file, synced on every write).
    pub fn start_persistent(what: &str) -> Option<Self> {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("mitten-redis-test-{port}"));
        std::fs::create_dir_all(&dir).expect("dir");
        Self::launch_on(what, port, Some(dir))
    }

    fn launch_on(what: &str, port: u16, dir: Option<PathBuf>) -> Option<Self> {
        if !tool_available("redis-server", what) {
            return None;
        }
        let mut server = Self {
            child: None,
            port,
            dir,
        };
        server.restart();
        Some(server)
    }

    /// Starts the server again on the same port (after [`stop`](Self::stop)).
    pub fn restart(&mut self) {
        let mut command = Command::new("redis-server");
        command.args([
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ]);
        match &self.dir {
            Some(dir) => command
                .args(["--appendonly", "yes", "--appendfsync", "always", "--dir"])
                .arg(dir),
            None => command.args(["--appendonly", "no"]),
        };
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        // Killed and reaped on every path from here on (by `stop` or `drop`).
        self.child = Some(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start");
    }

    /// Stops the server (the port stays this server's for [`restart`](Self::restart)).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
