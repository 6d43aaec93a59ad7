//! The demo as a newcomer meets it: the real binary, on real sockets.

#![allow(clippy::panic)] // A test fails by panicking.

mod support;

use support::Demo;

/// A client that behaves like this site's own pages in a browser: it keeps cookies, reads the
/// CSRF token from the page's `<meta name="csrf-token">`, and sends `Sec-Fetch-Site: same-origin`.
struct Browser {
    client: reqwest::Client,
    url: String,
    cookies: mitten_testkit::CookieJar,
}

impl Browser {
    fn new(url: &str) -> Self {
        Self {
            client: plain_client(),
            url: url.to_owned(),
            cookies: Default::default(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies.header()
    }

    fn remember(&mut self, response: &reqwest::Response) {
        self.cookies.remember(response.headers());
    }

    async fn get(&mut self, path: &str) -> reqwest::Response {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .header("cookie", self.cookie_header())
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .expect("GET");
        self.remember(&response);
        response
    }

    /// GETs `/` and returns the CSRF token its meta tag carries.
    async fn token(&mut self) -> String {
        let page = self.get("/").await.text().await.expect("page");
        let start = page
            .find(r#"<meta name="csrf-token" content=""#)
            .expect("meta tag")
            + 33;
        page[start..].split('"').next().expect("token").to_owned()
    }

    /// A same-origin form POST with `fields` (the token included by the caller, or not).
    async fn post_form(&mut self, path: &str, body: &str) -> reqwest::Response {
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .header("cookie", self.cookie_header())
            .header("sec-fetch-site", "same-origin")
            .header("origin", self.url.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
            .send()
            .await
            .expect("POST");
        self.remember(&response);
        response
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
        r#"<script nonce="{nonce}">
      document.documentElement.dataset.nonce = "ok";"#
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
    let mut browser = Browser::new(&url);
    let token = browser.token().await;
    let posted = browser
        .post_form(
            "/notes",
            &format!("_csrf_token={token}&text=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E"),
        )
        .await;
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
    let addr = url.trim_start_matches("http://");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let text = mitten_testkit::exchange_until_closed(
        addr.parse().expect("a socket address"),
        request.as_bytes(),
    )
    .await;
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

fn multipart_with_token(
    token: Option<&str>,
    filename: &str,
    content_type: &str,
    content: &[u8],
) -> (String, Vec<u8>) {
    let boundary = "mittenboundary7MA4YWxkTrZu0gW";
    let field = token
        .map(|t| format!("--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf_token\"\r\n\r\n{t}\r\n"))
        .unwrap_or_default();
    let mut body = format!(
        "{field}--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
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
    let mut browser = Browser::new(&url);
    let token = browser.token().await;
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
        let (content_type_header, body) =
            multipart_with_token(Some(&token), filename, content_type, content);
        let response = client
            .post(format!("{url}/upload"))
            .header("cookie", browser.cookie_header())
            .header("sec-fetch-site", "same-origin")
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

#[tokio::test]
async fn login_regenerates_logout_destroys() {
    login_flow(&[]).await;
}

#[tokio::test]
async fn login_flow_with_sessions_in_redis() {
    let Some(redis) = mitten_testkit::RedisServer::start("the Redis demo test") else {
        return;
    };
    login_flow(&["--redis", &redis.url()]).await;
}

async fn login_flow(extra_args: &[&str]) {
    let mut args = vec!["--addr", "127.0.0.1:0"];
    args.extend_from_slice(extra_args);
    let demo = Demo::start(&args);
    let url = demo.url();
    const SESSION: &str = "__Host-mitten-session";
    let whoami = |cookie: String| {
        let request = plain_client()
            .get(format!("{url}/whoami"))
            .header("cookie", cookie);
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

    // A visitor that never touched the session (no form rendered) gets no session cookie.
    let untouched = plain_client()
        .get(format!("{url}/api/notes"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("notes");
    assert!(
        untouched
            .headers()
            .get_all("set-cookie")
            .iter()
            .all(|v| !v.to_str().unwrap_or_default().starts_with(SESSION)),
        "no session for an untouched visitor"
    );

    // The attacker gets a real session of their own...
    let mut attacker = Browser::new(&url);
    let token = attacker.token().await;
    let login = attacker
        .post_form("/login", &format!("_csrf_token={token}&username=mallory"))
        .await;
    assert_eq!(login.status().as_u16(), 303);
    let set_cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(SESSION))
        .expect("session cookie")
        .to_owned();
    assert!(
        set_cookie.ends_with("; Path=/; Secure; HttpOnly; SameSite=Lax"),
        "{set_cookie}"
    );
    let planted = attacker.cookies.get(SESSION).expect("a session").to_owned();

    // ...and plants it in the victim's browser, who then logs in.
    let mut victim = Browser::new(&url);
    victim.cookies.set(SESSION, &planted);
    let before_login = victim.token().await;
    let login = victim
        .post_form(
            "/login",
            &format!("_csrf_token={before_login}&username=alice"),
        )
        .await;
    assert_eq!(login.status().as_u16(), 303);
    let alice = victim.cookies.get(SESSION).expect("a session").to_owned();
    assert_ne!(alice, planted, "login regenerates the session ID");
    assert_eq!(whoami(format!("{SESSION}={alice}")).await, "alice");
    assert!(
        whoami(format!("{SESSION}={planted}")).await.is_null(),
        "the planted ID is not logged in as alice"
    );

    // Token fixation: the token rendered before login is dead after it.
    let stale = victim
        .post_form("/notes", &format!("_csrf_token={before_login}&text=stale"))
        .await;
    assert_eq!(stale.status().as_u16(), 403);

    // A fresh token works, and the note carries its author.
    let token = victim.token().await;
    let note = victim
        .post_form("/notes", &format!("_csrf_token={token}&text=hello"))
        .await;
    assert_eq!(note.status().as_u16(), 303);
    let notes = plain_client()
        .get(format!("{url}/api/notes"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("notes")
        .text()
        .await
        .expect("body");
    assert!(notes.contains("\"author\":\"alice\""), "{notes}");
    assert!(!notes.contains("stale"), "the refused note was not stored");

    // Logout: the cookie is cleared, and the old cookie replayed is worth nothing.
    let logout = victim
        .post_form("/logout", &format!("_csrf_token={token}"))
        .await;
    assert_eq!(logout.status().as_u16(), 303);
    let cleared = logout
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(SESSION))
        .expect("cleared")
        .to_owned();
    assert!(
        cleared.starts_with("__Host-mitten-session=; Path=/; Max-Age=0"),
        "{cleared}"
    );
    assert!(
        whoami(format!("{SESSION}={alice}")).await.is_null(),
        "a destroyed session is not replayable"
    );
    assert!(whoami(format!("{SESSION}=forged")).await.is_null());
}

/// End-to-end CSRF attacks against the demo: each is refused, carries the security headers,
/// and stores nothing; the legitimate requests pass.
#[tokio::test]
async fn csrf_attacks_are_refused_and_store_nothing() {
    let demo = Demo::start(&["--addr", "127.0.0.1:0"]);
    let url = demo.url();
    let mut browser = Browser::new(&url);
    let token = browser.token().await;
    let client = plain_client();
    let count = || {
        let request = client
            .get(format!("{url}/api/notes"))
            .header("accept", "application/json")
            .send();
        async move {
            let body = request.await.expect("notes").text().await.expect("body");
            serde_json::from_str::<serde_json::Value>(&body)
                .expect("json")
                .as_array()
                .map_or(0, Vec::len)
        }
    };
    let post = |headers: Vec<(&'static str, String)>, body: String| {
        let mut request = client
            .post(format!("{url}/notes"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    let cookies = browser.cookie_header();
    let form = |t: &str| format!("_csrf_token={t}&text=attack");

    // (name, headers, form body)
    type Attack = (&'static str, Vec<(&'static str, String)>, String);
    let attacks: Vec<Attack> = vec![
        (
            "cross-site form",
            vec![
                ("cookie", cookies.clone()),
                ("sec-fetch-site", "cross-site".into()),
                ("origin", "http://localhost:1".into()),
            ],
            form(&token),
        ),
        (
            "same-site sibling",
            vec![
                ("cookie", cookies.clone()),
                ("sec-fetch-site", "same-site".into()),
            ],
            form(&token),
        ),
        (
            "user navigation",
            vec![
                ("cookie", cookies.clone()),
                ("sec-fetch-site", "none".into()),
            ],
            form(&token),
        ),
        (
            "Origin: null",
            vec![("cookie", cookies.clone()), ("origin", "null".into())],
            form(&token),
        ),
        (
            "foreign Origin",
            vec![
                ("cookie", cookies.clone()),
                ("origin", "http://evil.example".into()),
            ],
            form(&token),
        ),
        (
            "malformed Sec-Fetch-Site",
            vec![
                ("cookie", cookies.clone()),
                ("sec-fetch-site", "Same-Origin".into()),
            ],
            form(&token),
        ),
        (
            "no token",
            vec![
                ("cookie", cookies.clone()),
                ("sec-fetch-site", "same-origin".into()),
            ],
            "text=attack".into(),
        ),
        (
            "token only in the query string",
            vec![
                ("cookie", cookies.clone()),
                ("sec-fetch-site", "same-origin".into()),
            ],
            "text=attack".into(),
        ),
        (
            "cookie tossing: a token of another browser",
            vec![
                ("cookie", cookies.clone()),
                ("sec-fetch-site", "same-origin".into()),
            ],
            form(&Browser::new(&url).token().await),
        ),
        (
            "duplicate token fields",
            vec![
                ("cookie", cookies.clone()),
                ("sec-fetch-site", "same-origin".into()),
            ],
            format!("_csrf_token={token}&_csrf_token=x&text=attack"),
        ),
        (
            "no cookie: token of nothing",
            vec![("sec-fetch-site", "same-origin".into())],
            form(&token),
        ),
    ];
    for (name, headers, body) in attacks {
        let path_query = name == "token only in the query string";
        let response = if path_query {
            client
                .post(format!("{url}/notes?_csrf_token={token}"))
                .header("cookie", cookies.clone())
                .header("sec-fetch-site", "same-origin")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
        } else {
            post(headers, body).await
        }
        .expect("response");
        assert_eq!(response.status().as_u16(), 403, "{name}");
        assert_headers(&response, name);
        assert!(
            response
                .headers()
                .get_all("vary")
                .iter()
                .any(|v| v.to_str().is_ok_and(|v| v.contains("Sec-Fetch-Site"))),
            "{name}: Vary"
        );
    }
    assert_eq!(count().await, 0, "no attack stored a note");

    // Oversized form body: 413, never passed on unchecked. The server stops reading and closes
    // the connection, so the client must not put it back in its pool for the next request.
    let huge = format!("text={}&_csrf_token={token}", "a".repeat(2 << 20));
    let response = post(
        vec![
            ("cookie", cookies.clone()),
            ("sec-fetch-site", "same-origin".into()),
            ("connection", "close".into()),
        ],
        huge,
    )
    .await
    .expect("response");
    assert_eq!(response.status().as_u16(), 413);
    assert_headers(&response, "a 413");

    // BREACH: two renders differ and both work.
    let second = browser.token().await;
    assert_ne!(second, token);
    for t in [&token, &second] {
        let response = browser
            .post_form("/notes", &format!("_csrf_token={t}&text=legit"))
            .await;
        assert_eq!(response.status().as_u16(), 303);
    }

    // fetch() with the meta token in a header, JSON body.
    let created = client
        .post(format!("{url}/api/notes"))
        .header("cookie", browser.cookie_header())
        .header("sec-fetch-site", "same-origin")
        .header("x-csrf-token", &token)
        .header("content-type", "application/json")
        .body(r#"{"text":"from fetch"}"#)
        .send()
        .await
        .expect("fetch");
    assert_eq!(created.status().as_u16(), 201);
    // text/plain cannot smuggle JSON: 415 even with a valid token.
    let smuggled = client
        .post(format!("{url}/api/notes"))
        .header("cookie", browser.cookie_header())
        .header("sec-fetch-site", "same-origin")
        .header("x-csrf-token", &token)
        .header("content-type", "text/plain")
        .body(r#"{"text":"smuggled"}"#)
        .send()
        .await
        .expect("response");
    assert_eq!(smuggled.status().as_u16(), 415);
    // The JSON token field works when enabled (the demo enables it).
    let json_token = client
        .post(format!("{url}/api/notes"))
        .header("cookie", browser.cookie_header())
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"text":"json token","_csrf_token":"{token}"}}"#
        ))
        .send()
        .await
        .expect("response");
    assert_eq!(json_token.status().as_u16(), 201);
    assert_eq!(count().await, 4);

    // The webhook is exempt, on its exact path only.
    let hook = client
        .post(format!("{url}/hooks/echo"))
        .header("sec-fetch-site", "cross-site")
        .body("12345")
        .send()
        .await
        .expect("hook");
    assert_eq!(hook.status().as_u16(), 200);
    assert_eq!(hook.text().await.expect("body"), r#"{"bytes":5}"#);
    for path in [
        "/hooks/echoX",
        "/hooks/echo/",
        "/hooks/%65cho",
        "//hooks/echo",
    ] {
        let response = client
            .post(format!("{url}{path}"))
            .header("sec-fetch-site", "cross-site")
            .body("x")
            .send()
            .await
            .expect("response");
        assert_eq!(response.status().as_u16(), 403, "{path}");
    }
}

#[tokio::test]
async fn csp_reports_are_accepted_cross_site_and_size_limited() {
    let demo = Demo::start(&["--addr", "127.0.0.1:0"]);
    let url = demo.url();
    let client = plain_client();
    let report = r#"{"csp-report":{"document-uri":"http://x/","violated-directive":"script-src-elem","blocked-uri":"inline"}}"#;
    let response = client
        .post(format!("{url}/csp-report"))
        .header("content-type", "application/csp-report")
        .body(report)
        .send()
        .await
        .expect("report");
    assert_eq!(response.status().as_u16(), 204);
    // Refused unread: the connection is not reused after it.
    let big = client
        .post(format!("{url}/csp-report"))
        .header("content-type", "application/csp-report")
        .header("connection", "close")
        .body("x".repeat(100_000))
        .send()
        .await
        .expect("report");
    assert_eq!(big.status().as_u16(), 413);
    let wrong = client
        .post(format!("{url}/csp-report"))
        .header("content-type", "text/plain")
        .body(report)
        .send()
        .await
        .expect("report");
    assert_eq!(wrong.status().as_u16(), 415);
}

/// Sends a WebSocket handshake with `headers` and returns the status line's code.
async fn websocket_status(url: &str, headers: &[(&str, &str)]) -> u16 {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut request = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buffer = vec![0u8; 1024];
    let n = stream.read(&mut buffer).await.expect("read");
    let text = String::from_utf8_lossy(&buffer[..n]);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn cross_site_websocket_hijacking_is_refused() {
    let demo = Demo::start(&["--addr", "127.0.0.1:0"]);
    let url = demo.url();
    assert_eq!(
        websocket_status(&url, &[("Origin", &url), ("Sec-Fetch-Site", "same-origin")]).await,
        101
    );
    assert_eq!(
        websocket_status(
            &url,
            &[
                ("Origin", "http://localhost:9"),
                ("Sec-Fetch-Site", "cross-site")
            ]
        )
        .await,
        403
    );
    assert_eq!(
        websocket_status(&url, &[("Origin", "http://evil.example")]).await,
        403
    );
}

#[tokio::test]
async fn referer_check_runs_behind_tls() {
    let demo = Demo::start(&["--addr", "127.0.0.1:0", "--tls"]);
    let url = demo.url();
    let client = tls_client(&demo);
    let page = client.get(format!("{url}/")).send().await.expect("page");
    let csrf_cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-mitten-session="))
        .expect("the session holding the CSRF secret")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let body = page.text().await.expect("body");
    let start = body
        .find(r#"<meta name="csrf-token" content=""#)
        .expect("meta")
        + 33;
    let token = body[start..].split('"').next().expect("token").to_owned();
    let post = |referer: Option<String>| {
        let mut request = client
            .post(format!("{url}/notes"))
            .header("cookie", csrf_cookie.clone())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("_csrf_token={token}&text=tls"));
        if let Some(referer) = referer {
            request = request.header("referer", referer);
        }
        request.send()
    };
    // No Origin, no Fetch Metadata: the strict Referer check decides. The refusal carries the
    // header bundle, HSTS included over TLS.
    let refused = post(Some("https://evil.example/x".into()))
        .await
        .expect("response");
    assert_eq!(refused.status().as_u16(), 403);
    for header in [
        "strict-transport-security",
        "content-security-policy",
        "x-frame-options",
    ] {
        assert!(
            refused.headers().contains_key(header),
            "{header} on a refusal"
        );
    }
    assert_eq!(
        post(Some(format!("{}/form", url.replace("https", "http"))))
            .await
            .expect("response")
            .status()
            .as_u16(),
        403,
        "downgraded Referer"
    );
    assert_eq!(
        post(Some(format!("{url}/")))
            .await
            .expect("response")
            .status()
            .as_u16(),
        303
    );
    // Suppressed Referer: the valid token decides (configurable).
    assert_eq!(post(None).await.expect("response").status().as_u16(), 303);
}
