//! The demo as a newcomer meets it: the real binary, on real sockets.

#![allow(clippy::panic)] // A test fails by panicking.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running demo process, stopped when dropped.
struct Demo {
    child: Child,
    lines: Vec<String>,
}

impl Demo {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mitten-demo"))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the demo");
        let stdout = child.stdout.take().expect("stdout");
        let (send, receive) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut lines = Vec::new();
        loop {
            let line = receive
                .recv_timeout(Duration::from_secs(30))
                .expect("the demo prints `listening on <url>` within 30 s");
            let done = line.starts_with("listening on ");
            lines.push(line);
            if done {
                break;
            }
        }
        Self { child, lines }
    }

    fn value_after(&self, prefix: &str) -> String {
        let line = self
            .lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting with {prefix:?} in {:?}", self.lines));
        line[prefix.len()..]
            .split_whitespace()
            .next()
            .expect("value")
            .to_owned()
    }

    fn url(&self) -> String {
        self.value_after("listening on ")
    }

    fn cert_pem(&self) -> Vec<u8> {
        let line = self
            .lines
            .iter()
            .find(|l| l.contains("written to "))
            .expect("certificate line");
        let path = line.rsplit("written to ").next().expect("path");
        std::fs::read(path).expect("read the certificate")
    }

    /// Sends SIGTERM and waits for a clean exit, keeping the test's runtime free so that open
    /// client connections can take part in the graceful shutdown.
    async fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the demo did not stop within 5 s of SIGTERM");
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn tls_client(demo: &Demo) -> reqwest::Client {
    let cert = reqwest::Certificate::from_pem(&demo.cert_pem()).expect("certificate");
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(cert)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

const SECURITY_HEADERS: &[&str] = &[
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
    "cross-origin-opener-policy",
    "cross-origin-resource-policy",
    "x-permitted-cross-domain-policies",
    "x-download-options",
    "x-xss-protection",
];

fn assert_headers(response: &reqwest::Response, what: &str) {
    for name in SECURITY_HEADERS {
        assert!(
            response.headers().contains_key(*name),
            "{name} missing on {what}"
        );
    }
    for banner in ["server", "x-powered-by"] {
        assert!(
            !response.headers().contains_key(banner),
            "{banner} present on {what}"
        );
    }
}

fn nonce_of(response: &reqwest::Response) -> String {
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .expect("ascii");
    let start = csp.find("'nonce-").expect("nonce") + "'nonce-".len();
    csp[start..start + 24].to_owned()
}

#[tokio::test]
async fn page_has_nonced_script_canary_and_headers_over_plain_http() {
    let demo = Demo::start(&["--addr", "127.0.0.1:0"]);
    let url = demo.url();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let client = plain_client();
    let response = client.get(format!("{url}/")).send().await.expect("GET /");
    assert_eq!(response.status().as_u16(), 200);
    assert_headers(&response, "GET /");
    assert!(
        !response.headers().contains_key("strict-transport-security"),
        "no HSTS over plain HTTP"
    );
    let nonce = nonce_of(&response);
    let body = response.text().await.expect("body");
    assert!(body.contains(&format!(
        r#"<script nonce="{nonce}">document.documentElement.dataset.nonce = "ok";</script>"#
    )));
    assert!(body.contains(r#"<script>document.documentElement.dataset.canary = "ran";</script>"#));
    assert!(body.contains(r#"<form method="post" action="/notes">"#));

    let second = client
        .get(format!("{url}/"))
        .send()
        .await
        .expect("GET / again");
    assert_ne!(nonce_of(&second), nonce, "a fresh nonce per response");

    let missing = client
        .get(format!("{url}/no/such/page"))
        .send()
        .await
        .expect("404");
    assert_eq!(missing.status().as_u16(), 404);
    assert_headers(&missing, "a 404");
    assert!(demo.terminate().await.success(), "clean exit on SIGTERM");
}

#[tokio::test]
async fn notes_are_stored_escaped_and_listed_as_json() {
    let demo = Demo::start(&["--addr", "127.0.0.1:0"]);
    let url = demo.url();
    let client = plain_client();
    let posted = client
        .post(format!("{url}/notes"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("text=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E")
        .send()
        .await
        .expect("POST /notes");
    assert_eq!(posted.status().as_u16(), 303);
    assert_eq!(posted.headers()["location"], "/");
    assert_headers(&posted, "the 303");

    let page = client
        .get(format!("{url}/"))
        .send()
        .await
        .expect("GET /")
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "note text is escaped"
    );
    assert!(!page.contains("<img src=x"));

    let api = client
        .get(format!("{url}/api/notes"))
        .header("sec-fetch-dest", "empty")
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .expect("GET /api/notes");
    assert_eq!(api.status().as_u16(), 200);
    assert_headers(&api, "GET /api/notes");
    let notes: serde_json::Value =
        serde_json::from_str(&api.text().await.expect("body")).expect("json");
    assert_eq!(notes[0]["text"], "<img src=x onerror=alert(1)>");
    assert_eq!(notes[0]["id"], 1);
    assert!(notes[0]["author"].is_null());
}

#[tokio::test]
async fn tls_sends_hsts_and_redirect_listener_sends_to_https() {
    let demo = Demo::start(&[
        "--addr",
        "127.0.0.1:0",
        "--tls",
        "--redirect-http",
        "127.0.0.1:0",
    ]);
    let url = demo.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let client = tls_client(&demo);
    let response = client
        .get(format!("{url}/"))
        .send()
        .await
        .expect("GET / over TLS");
    assert_eq!(response.status().as_u16(), 200);
    assert_headers(&response, "GET / over TLS");
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
    let missing = client
        .get(format!("{url}/nope"))
        .send()
        .await
        .expect("404 over TLS");
    assert_eq!(missing.status().as_u16(), 404);
    assert!(missing.headers().contains_key("strict-transport-security"));

    let plain = demo.value_after("redirecting ");
    let redirected = plain_client()
        .post(format!("{plain}/notes?from=plain"))
        .send()
        .await
        .expect("plain request");
    assert_eq!(redirected.status().as_u16(), 301);
    assert_eq!(
        redirected.headers()["location"].to_str().expect("ascii"),
        format!("{url}/notes?from=plain")
    );
    assert_headers(&redirected, "the redirect");
    assert!(
        !redirected
            .headers()
            .contains_key("strict-transport-security"),
        "no HSTS over plain HTTP"
    );
    assert!(demo.terminate().await.success());
}

#[tokio::test]
async fn public_origin_is_announced() {
    let demo = Demo::start(&[
        "--addr",
        "127.0.0.1:0",
        "--public-origin",
        "https://notes.example",
    ]);
    assert_eq!(demo.url(), "https://notes.example");
}

/// Sends a request line exactly as written (no client normalises the path) and returns the status.
async fn raw_status(url: &str, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"))
}

#[tokio::test]
async fn json_is_served_to_scripts_only() {
    let demo = Demo::start(&["--addr", "127.0.0.1:0"]);
    let url = demo.url();
    let client = plain_client();
    let get = |headers: &'static [(&'static str, &'static str)]| {
        let mut request = client.get(format!("{url}/api/notes"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    let script_tag = get(&[
        ("sec-fetch-dest", "script"),
        ("sec-fetch-site", "cross-site"),
    ])
    .await
    .expect("response");
    assert_eq!(script_tag.status().as_u16(), 403);
    assert_headers(&script_tag, "a refused JSON request");
    let navigation = get(&[("sec-fetch-dest", "document"), ("sec-fetch-site", "none")])
        .await
        .expect("response");
    assert_eq!(navigation.status().as_u16(), 403);
    let cross_site_fetch = get(&[
        ("sec-fetch-dest", "empty"),
        ("sec-fetch-site", "cross-site"),
    ])
    .await
    .expect("response");
    assert_eq!(cross_site_fetch.status().as_u16(), 403);
    let bare = get(&[]).await.expect("response");
    assert_eq!(
        bare.status().as_u16(),
        403,
        "no Fetch Metadata and no XHR marker"
    );
    let xhr = get(&[("x-requested-with", "XMLHttpRequest")])
        .await
        .expect("response");
    assert_eq!(xhr.status().as_u16(), 200);
    assert_eq!(xhr.headers()["content-type"], "application/json");
    assert_eq!(xhr.headers()["x-content-type-options"], "nosniff");
    assert_eq!(xhr.headers()["cross-origin-resource-policy"], "same-origin");
}

fn multipart(filename: &str, content_type: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "mittenboundary7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn uploads_are_downloaded_never_rendered() {
    let demo = Demo::start(&["--addr", "127.0.0.1:0"]);
    let url = demo.url();
    let client = plain_client();
    for (filename, content_type, content) in [
        (
            "page.html",
            "text/html",
            &b"<script>alert(document.cookie)</script>"[..],
        ),
        (
            "../../evil.svg",
            "image/svg+xml",
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"[..],
        ),
        ("notes.txt", "text/plain", &b"plain text"[..]),
    ] {
        let (content_type_header, body) = multipart(filename, content_type, content);
        let response = client
            .post(format!("{url}/upload"))
            .header("content-type", content_type_header)
            .body(body)
            .send()
            .await
            .expect("upload");
        assert_eq!(response.status().as_u16(), 201, "{filename}");
        let stored: serde_json::Value =
            serde_json::from_str(&response.text().await.expect("body")).expect("json");
        let name = stored["name"].as_str().expect("name");
        assert!(
            !name.contains("html") && !name.contains("svg") && !name.contains('/'),
            "{name}"
        );
        assert_eq!(stored["url"], format!("/files/{name}"));

        let download = client
            .get(format!("{url}/files/{name}"))
            .send()
            .await
            .expect("download");
        assert_eq!(download.status().as_u16(), 200);
        let headers = download.headers().clone();
        assert!(
            headers["content-disposition"]
                .to_str()
                .expect("ascii")
                .starts_with("attachment; filename="),
            "{filename}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(
            headers["content-security-policy"],
            "sandbox; default-src 'none'"
        );
        let served_type = headers["content-type"].to_str().expect("ascii");
        assert!(
            !served_type.contains("html") && !served_type.contains("svg"),
            "{served_type}"
        );
        assert_eq!(
            download.bytes().await.expect("bytes").as_ref(),
            content,
            "byte for byte"
        );
    }
    assert_eq!(
        client
            .get(format!("{url}/files/00000000000000000000000000000000.txt"))
            .send()
            .await
            .expect("response")
            .status()
            .as_u16(),
        404
    );
}

#[tokio::test]
async fn traversal_through_files_is_404() {
    let demo = Demo::start(&["--addr", "127.0.0.1:0"]);
    let url = demo.url();
    for path in [
        "/files/..",
        "/files/../Cargo.toml",
        "/files/%2e%2e",
        "/files/%2e%2e%2fCargo.toml",
        "/files/%252e%252e%252fCargo.toml",
        "/files/..%2f..%2fetc%2fpasswd",
        "/files/..%5c..%5cwindows%5cwin.ini",
        "/files/%2fetc%2fpasswd",
        "/files//etc/passwd",
        "/files/C:%5cWindows%5cwin.ini",
        "/files/.%00.txt",
        "/files/CON",
        "/files/....//....//etc/passwd",
    ] {
        let status = raw_status(&url, path).await;
        assert!(status == 404 || status == 400, "{path} gave {status}");
    }
}

/// The `name=value` of the session cookie in a `Set-Cookie`, if the response set it.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-mitten-session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn login_regenerates_logout_destroys() {
    login_flow(&[]).await;
}

#[tokio::test]
async fn login_flow_with_sessions_in_redis() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    login_flow(&["--redis", &redis.url()]).await;
}

/// A `redis-server` of the test's own on a free loopback port, stopped when dropped.
struct RedisServer {
    child: Child,
    port: u16,
}

impl RedisServer {
    fn start() -> Option<Self> {
        if Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but redis-server is not installed"
            );
            eprintln!("redis-server not found; the Redis demo test is not run (CI runs it)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server");
        // Dropped (killed and reaped) on every path from here on.
        let server = Self { child, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("redis-server did not start");
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn login_flow(extra_args: &[&str]) {
    let mut args = vec!["--addr", "127.0.0.1:0"];
    args.extend_from_slice(extra_args);
    let demo = Demo::start(&args);
    let url = demo.url();
    let client = plain_client();
    let whoami = |cookie: Option<String>| {
        let mut request = client.get(format!("{url}/whoami"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        async move {
            let body = request
                .send()
                .await
                .expect("whoami")
                .text()
                .await
                .expect("body");
            serde_json::from_str::<serde_json::Value>(&body).expect("json")["user"].clone()
        }
    };
    // Before login: a note makes no session, a read sets no cookie.
    let anonymous = client.get(format!("{url}/")).send().await.expect("GET /");
    assert_eq!(
        session_cookie(&anonymous),
        None,
        "no cookie for an untouched session"
    );

    // The attacker plants a session ID of their own (a real one, from their own visit).
    let attacker = client
        .post(format!("{url}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=mallory")
        .send()
        .await
        .expect("login");
    let planted = session_cookie(&attacker).expect("a session cookie");
    let set_cookie = attacker.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        set_cookie.ends_with("; Path=/; Secure; HttpOnly; SameSite=Lax"),
        "{set_cookie}"
    );

    // The victim logs in carrying it: a new ID.
    let login = client
        .post(format!("{url}/login"))
        .header("cookie", &planted)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=alice")
        .send()
        .await
        .expect("login");
    assert_eq!(login.status().as_u16(), 303);
    let alice = session_cookie(&login).expect("login sets a new cookie");
    assert_ne!(alice, planted);
    assert_eq!(whoami(Some(alice.clone())).await, "alice");
    assert!(
        whoami(Some(planted.clone())).await.is_null(),
        "the planted ID is not logged in as alice"
    );

    // A note carries its author.
    client
        .post(format!("{url}/notes"))
        .header("cookie", &alice)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("text=hello")
        .send()
        .await
        .expect("note");
    let notes = client
        .get(format!("{url}/api/notes"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("notes")
        .text()
        .await
        .expect("body");
    assert!(notes.contains("\"author\":\"alice\""), "{notes}");

    // Logout: cookie cleared, and the old cookie replayed is worth nothing.
    let logout = client
        .post(format!("{url}/logout"))
        .header("cookie", &alice)
        .send()
        .await
        .expect("logout");
    let cleared = logout.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        cleared.starts_with("__Host-mitten-session=; Path=/; Max-Age=0"),
        "{cleared}"
    );
    assert!(
        whoami(Some(alice)).await.is_null(),
        "a destroyed session is not replayable"
    );
    assert!(
        whoami(Some("__Host-mitten-session=forged".into()))
            .await
            .is_null()
    );
}
