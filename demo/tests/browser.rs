//! The protections in a real browser: Debian's headless Chromium driven through ChromeDriver,
//! against the demo (on `https://127.0.0.1:<port>`) and an attacker site served here on
//! `http://localhost:<other port>` (a different site). Each attack also runs against the demo in
//! its `--danger-unprotected` control mode, where it must succeed: a case whose attack cannot
//! succeed unprotected would prove nothing.
//!
//! Needs `chromium` and `chromedriver` (Debian's `chromium` and `chromium-driver`; `.ci/run`
//! installs them). Without them the tests fail when `CI` is set, and are reported as not run
//! otherwise.

#![allow(clippy::panic)] // A test fails by panicking.

mod support;

use std::net::SocketAddr;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use support::Demo;

/// One browser at a time: four Chromiums at once on a two-core machine make every timing loose.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Chromium under ChromeDriver, with a fresh profile; both are killed when dropped.
struct Chrome {
    driver: Child,
    client: Client,
    profile: PathBuf,
}

impl Chrome {
    async fn start() -> Option<Self> {
        if !mitten_testkit::tool_available("chromedriver", "browser tests") {
            return None;
        }
        let Some(chromium) = on_path(&["chromium", "chromium-browser"]) else {
            mitten_testkit::tool_missing("chromium", "browser tests");
            return None;
        };
        let port = mitten_testkit::free_port();
        // Its own process group, with the Chromium it starts: dropped, the whole group goes.
        let driver = Command::new("chromedriver")
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = std::env::temp_dir().join(format!("mitten-chrome-{port}"));
        let _ = std::fs::remove_dir_all(&profile);
        let capabilities = json!({
            "acceptInsecureCerts": true,
            // What the browser received, from DevTools' network events (see `responses_to`).
            "goog:loggingPrefs": { "performance": "ALL" },
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let mut client = None;
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let client = client.expect("a browser session from chromedriver");
        Some(Self {
            driver,
            client,
            profile,
        })
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.expect("script")
    }

    /// Waits up to 10 s for `document.title` to become one of `expected`, and returns it.
    async fn title_among(&self, expected: &[&str]) -> String {
        let mut title = String::new();
        for _ in 0..100 {
            title = self.client.title().await.expect("title");
            if expected.contains(&title.as_str()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        title
    }

    /// Waits up to 10 s for the page to contain `text` (after a click that navigates).
    async fn wait_for_text(&self, text: &str) -> bool {
        for _ in 0..100 {
            if self.client.source().await.expect("source").contains(text) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Fills one field of the page's form posting to `action` (if given) and clicks its button.
    async fn submit(&self, action: &str, field: Option<(&str, &str)>) {
        let form = self
            .client
            .find(Locator::Css(&format!(r#"form[action="{action}"]"#)))
            .await
            .expect("form");
        if let Some((input, keys)) = field {
            form.find(Locator::Css(input))
                .await
                .expect("input")
                .send_keys(keys)
                .await
                .expect("type");
        }
        form.find(Locator::Css("button"))
            .await
            .expect("button")
            .click()
            .await
            .expect("click");
    }

    /// DevTools' network events since the last read, from ChromeDriver's performance log (a
    /// read empties it).
    async fn network_events(&self) -> Vec<Value> {
        let log = self
            .client
            .issue_cmd(PerformanceLog)
            .await
            .expect("the performance log");
        log.as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| entry["message"].as_str())
            .filter_map(|message| serde_json::from_str::<Value>(message).ok())
            .map(|event| event["message"].clone())
            .collect()
    }

    /// What the browser received for the requests to URLs ending in `suffix` made since the last
    /// read of the log, once each has ended (events are read for up to 10 s). A response the
    /// browser blocks has no `responseReceived` event, but its status is in
    /// `responseReceivedExtraInfo` and the reason in `loadingFailed`; the body's bytes are the
    /// `dataReceived` events'.
    async fn responses_to(&self, suffix: &str) -> Vec<Received> {
        let mut events = Vec::new();
        for _ in 0..100 {
            events.extend(self.network_events().await);
            let received = received_by(&events, suffix);
            if !received.is_empty() && received.iter().all(|r| r.ended && r.status.is_some()) {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        received_by(&events, suffix)
    }

    /// The headers the browser sent (as DevTools' `requestWillBeSentExtraInfo` reports them, the
    /// ones on the wire) with each request for a URL ending in `suffix` since the last read of
    /// the log, names in lower case. Events are read for up to 10 s, until there is one.
    async fn headers_sent_to(&self, suffix: &str) -> Vec<Vec<(String, String)>> {
        let mut events = Vec::new();
        for _ in 0..100 {
            events.extend(self.network_events().await);
            let sent = headers_sent(&events, suffix);
            if !sent.is_empty() {
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Vec::new()
    }

    /// Ends the browser session; dropping then stops ChromeDriver.
    async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Chrome {
    /// Also on a failed assertion: no ChromeDriver or profile left behind.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One response as the browser's network events tell it.
#[derive(Debug)]
struct Received {
    /// Its HTTP status.
    status: Option<u64>,
    /// Why the browser kept it from the page, if it did.
    blocked: Option<String>,
    /// The bytes of its body that reached the page's process.
    body_bytes: u64,
    /// Whether it finished loading or failed.
    ended: bool,
}

/// The IDs of the requests for URLs ending in `suffix` among DevTools' network `events`.
fn requests_to<'a>(events: &'a [Value], suffix: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    events
        .iter()
        .filter(|event| event["method"] == "Network.requestWillBeSent")
        .filter(move |event| {
            event["params"]["request"]["url"]
                .as_str()
                .is_some_and(|url| url.ends_with(suffix))
        })
        .map(|event| &event["params"]["requestId"])
}

/// The params of the `method` events of request `id` among DevTools' network `events`.
fn events_of<'a>(
    events: &'a [Value],
    id: &'a Value,
    method: &'a str,
) -> impl Iterator<Item = &'a Value> + 'a {
    events
        .iter()
        .filter(move |e| e["method"] == method && e["params"]["requestId"] == *id)
        .map(|e| &e["params"])
}

/// The headers sent with the requests for URLs ending in `suffix` among DevTools' network
/// `events`, names in lower case.
fn headers_sent(events: &[Value], suffix: &str) -> Vec<Vec<(String, String)>> {
    requests_to(events, suffix)
        .filter_map(|id| {
            events_of(events, id, "Network.requestWillBeSentExtraInfo")
                .find_map(|params| params["headers"].as_object())
                .map(|headers| {
                    headers
                        .iter()
                        .map(|(name, value)| {
                            let value = value.as_str().unwrap_or_default().to_owned();
                            (name.to_ascii_lowercase(), value)
                        })
                        .collect()
                })
        })
        .collect()
}

/// The responses to the requests for URLs ending in `suffix` among DevTools' network `events`.
fn received_by(events: &[Value], suffix: &str) -> Vec<Received> {
    requests_to(events, suffix)
        .map(|id| {
            let failed = events_of(events, id, "Network.loadingFailed").next();
            Received {
                status: events_of(events, id, "Network.responseReceivedExtraInfo")
                    .find_map(|p| p["statusCode"].as_u64()),
                blocked: failed.map(|p| p["blockedReason"].as_str().unwrap_or("failed").to_owned()),
                body_bytes: events_of(events, id, "Network.dataReceived")
                    .filter_map(|p| p["dataLength"].as_u64())
                    .sum(),
                ended: failed.is_some()
                    || events_of(events, id, "Network.loadingFinished")
                        .next()
                        .is_some(),
            }
        })
        .collect()
}

/// ChromeDriver's `POST /session/{id}/se/log` for the `performance` log: the DevTools events
/// recorded since the last fetch.
#[derive(Debug)]
struct PerformanceLog;

impl fantoccini::wd::WebDriverCompatibleCommand for PerformanceLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(r#"{"type":"performance"}"#.to_owned()),
        )
    }
}

/// The first of `names` found on `PATH`, as `.ci/run` looks for it.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// The attacker's pages, each aiming at `target` (the demo's URL).
async fn attacker() -> String {
    async fn frame(Query(q): Query<Vec<(String, String)>>) -> Html<String> {
        let target = param(&q, "target");
        Html(format!(
            r#"<!doctype html><title>loading</title>
<script>
  addEventListener("message", e => {{ if (e.data === "mitten-demo-framed") document.title = "framed"; }});
  // Decided only once the frame has loaded (a page, or the browser's error page for a refused
  // one), and a framed page's message has had time to arrive: never by a timer alone.
  function loaded() {{
    setTimeout(() => {{ if (document.title !== "framed") document.title = "not-framed"; }}, 1500);
  }}
</script>
<iframe src="{target}/" width="400" height="300" onload="loaded()"></iframe>"#
        ))
    }
    async fn form(Query(q): Query<Vec<(String, String)>>) -> Html<String> {
        let target = param(&q, "target");
        let text = param(&q, "text");
        let meta = if param(&q, "referrer") == "none" {
            r#"<meta name="referrer" content="no-referrer">"#
        } else {
            ""
        };
        Html(format!(
            r#"<!doctype html><html><head>{meta}<title>attack</title></head><body>
<form id="f" method="post" action="{target}/notes"><input name="text" value="{text}"></form>
<script>document.getElementById("f").submit();</script></body></html>"#
        ))
    }
    async fn fetch(Query(q): Query<Vec<(String, String)>>) -> Html<String> {
        let target = param(&q, "target");
        let text = param(&q, "text");
        Html(format!(
            r#"<!doctype html><title>sending</title><script>
fetch("{target}/notes", {{ method: "POST", mode: "no-cors", credentials: "include",
  headers: {{ "Content-Type": "application/x-www-form-urlencoded" }}, body: "text={text}" }})
  .then(() => document.title = "sent", () => document.title = "sent");
</script>"#
        ))
    }
    /// Opens a WebSocket to `target`. Chromium opens one over HTTP/2 only on an HTTP/2
    /// connection it already holds to that origin for this page's site (its pool is partitioned
    /// by the top-level site) and in the socket's credentials mode, so over TLS the page first
    /// fetches from the target with credentials; the fetch fails (the demo's CORP), but only
    /// once the connection and its settings are there.
    async fn websocket(Query(q): Query<Vec<(String, String)>>) -> Html<String> {
        let target = param(&q, "target");
        let socket = target
            .replacen("https://", "wss://", 1)
            .replacen("http://", "ws://", 1);
        let start = match target.starts_with("https://") {
            true => format!(
                r#"fetch("{target}/whoami", {{ mode: "no-cors", credentials: "include" }}).then(open, open);"#
            ),
            false => "open();".to_owned(),
        };
        Html(format!(
            r#"<!doctype html><title>connecting</title><script>
const open = () => {{
  const ws = new WebSocket("{socket}/ws");
  ws.onopen = () => document.title = "ws-open";
  ws.onerror = () => document.title = "ws-refused";
  ws.onclose = () => {{ if (document.title !== "ws-open") document.title = "ws-refused"; }};
}};
{start}
</script>"#
        ))
    }
    fn param(q: &[(String, String)], name: &str) -> String {
        q.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
    async fn script(Query(q): Query<Vec<(String, String)>>) -> Html<String> {
        let target = param(&q, "target");
        Html(format!(
            r#"<!doctype html><title>including</title>
<script src="{target}/api/notes" onload="document.title = 'script-ran'" onerror="document.title = 'script-failed'"></script>"#
        ))
    }
    let app = Router::new()
        .route("/frame", get(frame))
        .route("/script", get(script))
        .route("/form", get(form))
        .route("/fetch", get(fetch))
        .route("/ws", get(websocket));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    // Addressed as localhost: another site than 127.0.0.1.
    format!("http://localhost:{}", addr.port())
}

/// The texts of the notes the demo stored.
async fn notes(demo: &Demo) -> Vec<String> {
    let cert = reqwest::Certificate::from_pem(&demo.cert_pem()).expect("cert");
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(cert)
        .build()
        .expect("client");
    let body = client
        .get(format!("{}/api/notes", demo.url()))
        .header("accept", "application/json")
        .send()
        .await
        .expect("notes")
        .text()
        .await
        .expect("body");
    let notes: Value = serde_json::from_str(&body).expect("json");
    notes
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|n| n["text"].as_str().map(str::to_owned))
        .collect()
}

/// What a demo's log line says when Mitten refused a request for CSRF (a cross-site WebSocket
/// handshake included), with its reason, `csrf_…`, and the path. (Report-only mode logs that it
/// *would* refuse; a body too large or a store down is logged the same way, with another reason.)
const CSRF_REFUSED: [&str; 2] = ["CSRF check refused a request", "csrf_"];

/// What one cross-site request did to the demo.
#[derive(Debug, PartialEq)]
enum Landed {
    /// The note it carried was stored.
    Stored,
    /// Mitten refused it, logged so, and the note is not there.
    Refused,
    /// Neither within 10 s: the request may never have reached the demo, which proves nothing.
    Unseen,
}

/// Opens the attacker's page at `url`, which sends `text` to the demo's `/notes`, and waits until
/// the note is stored or the demo logs its refusal of a request to `/notes`.
async fn cross_site_note(chrome: &Chrome, demo: &Demo, url: &str, text: &str) -> Landed {
    let refused = [CSRF_REFUSED[0], CSRF_REFUSED[1], "/notes"];
    let refusals = demo.count_logged(&refused);
    chrome.goto(url).await;
    for _ in 0..100 {
        if notes(demo).await.iter().any(|t| t == text) {
            return Landed::Stored;
        }
        if demo.count_logged(&refused) > refusals {
            // Nothing stored after the refusal either.
            tokio::time::sleep(Duration::from_millis(300)).await;
            if notes(demo).await.iter().any(|t| t == text) {
                return Landed::Stored;
            }
            return Landed::Refused;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Landed::Unseen
}

/// What the cross-site attacks did to one demo.
struct Attacks {
    framed: bool,
    form: Landed,
    no_referrer: Landed,
    no_cors_fetch: Landed,
    websocket: WebSocketAttack,
    canary_ran: bool,
}

/// What a cross-site WebSocket did against one demo.
#[derive(Debug)]
struct WebSocketAttack {
    opened: bool,
    /// Mitten refused its handshake, and logged so.
    refused: bool,
    /// The method of each handshake Mitten logged as refused (or, in report-only mode, as one
    /// it would refuse): `CONNECT` over HTTP/2 (RFC 8441), `GET` over HTTP/1.1.
    flagged: Vec<&'static str>,
    /// The HTTP version the demo logged for the socket, if it opened.
    opened_over: Option<&'static str>,
}

/// Opens the attacker's page that opens a WebSocket to the demo's `/ws`, waits for the page to
/// tell whether it opened (10 s at most), then for Mitten's line about the handshake and, if it
/// opened, the demo's (5 s each at most).
async fn cross_site_websocket(chrome: &Chrome, demo: &Demo, evil: &str) -> WebSocketAttack {
    const METHODS: [&str; 2] = ["CONNECT", "GET"];
    const VERSIONS: [&str; 2] = ["HTTP/2.0", "HTTP/1.1"];
    const PATH: &str = r#"path="/ws""#;
    let refused = [CSRF_REFUSED[0], CSRF_REFUSED[1], PATH];
    let any_flagged = ["CSRF check ", CSRF_REFUSED[1], PATH];
    let flagged_with = |method: &str| {
        let method = format!("method={method}");
        demo.count_logged(&[&any_flagged[..], &[method.as_str()]].concat())
    };
    let opened_with = |version: &str| {
        let version = format!("version={version}");
        demo.count_logged(&["WebSocket opened", &version])
    };
    let refusals = demo.count_logged(&refused);
    let flagged_before = (demo.count_logged(&any_flagged), METHODS.map(flagged_with));
    let opened_before = (
        demo.count_logged(&["WebSocket opened"]),
        VERSIONS.map(opened_with),
    );
    chrome
        .goto(&format!("{evil}/ws?target={}", demo.url()))
        .await;
    let opened = chrome.title_among(&["ws-open", "ws-refused"]).await == "ws-open";
    demo.wait_logged(&any_flagged, flagged_before.0).await;
    if opened {
        demo.wait_logged(&["WebSocket opened"], opened_before.0)
            .await;
    }
    let flagged = METHODS
        .into_iter()
        .zip(flagged_before.1)
        .flat_map(|(method, before)| std::iter::repeat_n(method, flagged_with(method) - before))
        .collect();
    let opened_over = VERSIONS
        .into_iter()
        .zip(opened_before.1)
        .find(|(version, before)| opened_with(version) > *before)
        .map(|(version, _)| version);
    WebSocketAttack {
        opened,
        refused: demo.count_logged(&refused) > refusals,
        flagged,
        opened_over,
    }
}

/// Runs every cross-site attack against a demo.
async fn attack(chrome: &Chrome, demo: &Demo, evil: &str) -> Attacks {
    let target = demo.url();
    let _ = chrome.network_events().await;
    chrome.goto(&format!("{evil}/frame?target={target}")).await;
    let framing = chrome.title_among(&["framed", "not-framed"]).await;
    assert!(
        framing == "framed" || framing == "not-framed",
        "the framing page decided after its frame loaded: {framing:?}"
    );
    let frame_requests = chrome.responses_to(&format!("{target}/")).await;
    assert!(
        frame_requests.iter().any(|r| r.status == Some(200)),
        "the frame's request reached the demo: {frame_requests:?}"
    );
    let framed = framing == "framed";

    // The two forms differ in what the browser tells about where they come from: the first
    // sends the attacker's origin and a `Referer`, the second (`no-referrer`) `Origin: null` and
    // no `Referer`. Checked on the wire, so that the second is known to test what it says.
    let header = |sent: &[(String, String)], name: &str| {
        sent.iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.clone())
    };
    let _ = chrome.network_events().await;
    let form = cross_site_note(
        chrome,
        demo,
        &format!("{evil}/form?target={target}&text=form-attack"),
        "form-attack",
    )
    .await;
    let sent = chrome.headers_sent_to(&format!("{target}/notes")).await;
    let [sent] = sent.as_slice() else {
        panic!("one form request: {sent:?}");
    };
    assert_eq!(header(sent, "origin").as_deref(), Some(evil), "{sent:?}");
    assert!(
        header(sent, "referer").is_some_and(|r| r.starts_with(evil)),
        "{sent:?}"
    );
    let no_referrer = cross_site_note(
        chrome,
        demo,
        &format!("{evil}/form?target={target}&text=noreferrer-attack&referrer=none"),
        "noreferrer-attack",
    )
    .await;
    let sent = chrome.headers_sent_to(&format!("{target}/notes")).await;
    let [sent] = sent.as_slice() else {
        panic!("one no-referrer form request: {sent:?}");
    };
    assert_eq!(header(sent, "origin").as_deref(), Some("null"), "{sent:?}");
    assert_eq!(header(sent, "referer"), None, "{sent:?}");
    let no_cors_fetch = cross_site_note(
        chrome,
        demo,
        &format!("{evil}/fetch?target={target}&text=fetch-attack"),
        "fetch-attack",
    )
    .await;

    let websocket = cross_site_websocket(chrome, demo, evil).await;

    // The page itself: the nonce'd script and the canary, read on the same load, so that a
    // canary that did not run is known to be on a page that rendered.
    chrome.goto(&format!("{target}/")).await;
    let scripts = chrome
        .eval("const d = document.documentElement.dataset; return [d.nonce || null, d.canary || null]")
        .await;
    assert_eq!(
        scripts[0], "ok",
        "the nonce'd inline script runs: {scripts}"
    );
    Attacks {
        framed,
        form,
        no_referrer,
        no_cors_fetch,
        websocket,
        canary_ran: scripts[1] == "ran",
    }
}

#[tokio::test]
async fn attacks_fail_against_mitten_and_succeed_without_it() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let evil = attacker().await;

    let protected = Demo::start(&["--addr", "127.0.0.1:0", "--tls"]);
    chrome.goto(&format!("{}/", protected.url())).await;
    assert_eq!(
        chrome
            .eval("return document.documentElement.dataset.nonce || null")
            .await,
        "ok",
        "the nonce'd inline script runs"
    );
    let attacks = attack(&chrome, &protected, &evil).await;
    assert!(
        !attacks.canary_ran,
        "CSP blocks the inline script without the nonce"
    );
    assert!(!attacks.framed, "the attacker cannot frame the page");
    assert_eq!(
        attacks.form,
        Landed::Refused,
        "a cross-site auto-submitting form is refused"
    );
    assert_eq!(
        attacks.no_referrer,
        Landed::Refused,
        "and with Referrer-Policy: no-referrer"
    );
    assert_eq!(
        attacks.no_cors_fetch,
        Landed::Refused,
        "a no-cors fetch POST is refused"
    );
    assert!(
        !attacks.websocket.opened,
        "a cross-site WebSocket does not open"
    );
    assert!(attacks.websocket.refused, "Mitten refused its handshake");
    // The demo allows WebSockets over HTTP/2, and Chromium uses them on the connection the
    // attacker's page opened first (an HTTP/1.1 handshake is the test below): the one handshake
    // refused was an extended CONNECT.
    assert_eq!(attacks.websocket.flagged, ["CONNECT"], "over HTTP/2");

    let control = Demo::start(&["--addr", "127.0.0.1:0", "--tls", "--danger-unprotected"]);
    let attacks = attack(&chrome, &control, &evil).await;
    assert!(attacks.canary_ran, "control: without CSP the canary runs");
    assert!(
        attacks.framed,
        "control: without framing protection the frame renders"
    );
    assert_eq!(
        attacks.form,
        Landed::Stored,
        "control: the form attack stores a note"
    );
    assert_eq!(
        attacks.no_referrer,
        Landed::Stored,
        "control: and so does the no-referrer one"
    );
    assert_eq!(
        attacks.no_cors_fetch,
        Landed::Stored,
        "control: and the no-cors fetch"
    );
    assert!(
        attacks.websocket.opened,
        "control: without origin checks the cross-site WebSocket opens"
    );
    assert_eq!(
        (attacks.websocket.flagged, attacks.websocket.opened_over),
        (vec!["CONNECT"], Some("HTTP/2.0")),
        "control: over HTTP/2"
    );
    chrome.close().await;
}

/// The same cross-site WebSocket over HTTP/1.1: against the demo on plain HTTP, where Chromium
/// has no HTTP/2 (it speaks it only over TLS), its handshake is a `GET` with `Upgrade`.
#[tokio::test]
async fn a_cross_site_websocket_over_http1_does_not_open_either() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let evil = attacker().await;
    let protected = Demo::start(&["--addr", "127.0.0.1:0"]);
    let websocket = cross_site_websocket(&chrome, &protected, &evil).await;
    assert!(!websocket.opened, "a cross-site WebSocket does not open");
    assert!(websocket.refused, "Mitten refused its handshake");
    assert_eq!(websocket.flagged, ["GET"], "over HTTP/1.1");
    let control = Demo::start(&["--addr", "127.0.0.1:0", "--danger-unprotected"]);
    let websocket = cross_site_websocket(&chrome, &control, &evil).await;
    assert!(websocket.opened, "control: the cross-site WebSocket opens");
    assert_eq!(
        (websocket.flagged, websocket.opened_over),
        (vec!["GET"], Some("HTTP/1.1")),
        "control: over HTTP/1.1"
    );
    chrome.close().await;
}

/// `<script src="/api/notes">` from another site. Chromium 156 never hands a cross-site JSON
/// response to a script (Opaque Response Blocking, with no switch left to turn it off), so no
/// page reads the notes this way, protected or not. What the guard adds is that the notes never
/// leave the server. So the test reads what the browser received, from its network events:
/// protected, the script request gets a 403 (the demo logs the refusal) and the script element
/// fails; in the control (no guard, no `Cross-Origin-Resource-Policy`, no `nosniff`) the browser
/// receives the notes, a note written there first included, the script element loads, and only
/// the browser's own blocking keeps the notes' text from the page.
#[tokio::test]
async fn json_cannot_be_included_as_a_script() {
    const NOTE: &str = "a note the attacker wants to read";
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let evil = attacker().await;
    let protected = Demo::start(&["--addr", "127.0.0.1:0", "--tls"]);
    let control = Demo::start(&["--addr", "127.0.0.1:0", "--tls", "--danger-unprotected"]);
    for demo in [&protected, &control] {
        chrome.goto(&format!("{}/", demo.url())).await;
        chrome
            .submit("/notes", Some((r#"input[name="text"]"#, NOTE)))
            .await;
        assert!(chrome.wait_for_text(NOTE).await, "the note is stored");
    }
    let note_bytes = u64::try_from(NOTE.len()).expect("small");

    let _ = chrome.network_events().await;
    chrome
        .goto(&format!("{evil}/script?target={}", protected.url()))
        .await;
    assert_eq!(
        chrome.title_among(&["script-ran", "script-failed"]).await,
        "script-failed"
    );
    let received = chrome.responses_to("/api/notes").await;
    assert!(
        matches!(received.as_slice(), [r] if r.status == Some(403)),
        "the browser's script request was refused: {received:?}"
    );
    assert!(
        protected.logged("json_destination"),
        "by the guard, which logged why"
    );

    chrome
        .goto(&format!("{evil}/script?target={}", control.url()))
        .await;
    assert_eq!(
        chrome.title_among(&["script-ran", "script-failed"]).await,
        "script-ran",
        "control: the attacker's script element loads"
    );
    let received = chrome.responses_to("/api/notes").await;
    assert!(
        matches!(received.as_slice(), [r] if r.status == Some(200) && r.blocked.is_none() && r.body_bytes > note_bytes),
        "control: the notes reached the browser for the attacker's script: {received:?}"
    );
    assert!(!control.logged("json_destination"));
    chrome.close().await;
}

#[tokio::test]
async fn the_demo_works_by_clicking() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let demo = Demo::start(&["--addr", "127.0.0.1:0", "--tls"]);
    let url = demo.url();
    chrome.goto(&format!("{url}/")).await;

    // A note, by typing and clicking.
    chrome
        .submit(
            "/notes",
            Some((r#"input[name="text"]"#, "typed in a browser")),
        )
        .await;
    assert!(
        chrome.wait_for_text("typed in a browser").await,
        "the note appears"
    );

    // Login: a new session cookie, HttpOnly and SameSite=Lax as the browser sees it. The page
    // renders forms, so the visitor already has a session (it holds the CSRF secret).
    let before: Vec<String> = cookie_values(&chrome, "__Host-mitten-session").await;
    assert_eq!(before.len(), 1, "an anonymous session before login");
    chrome
        .submit("/login", Some((r#"input[name="username"]"#, "alice")))
        .await;
    let user = chrome
        .client
        .wait()
        .for_element(Locator::Css("#user"))
        .await
        .expect("signed in");
    assert_eq!(user.text().await.expect("text"), "alice");
    assert_eq!(
        whoami(&chrome).await,
        "alice",
        "what /whoami tells a script"
    );
    let after = cookie_values(&chrome, "__Host-mitten-session").await;
    assert_eq!(after.len(), 1);
    assert_ne!(before, after, "login changes the session cookie");
    for cookie in chrome.client.get_all_cookies().await.expect("cookies") {
        assert_eq!(
            cookie.http_only(),
            Some(true),
            "{} is HttpOnly",
            cookie.name()
        );
        assert_eq!(
            cookie.same_site(),
            Some(cookie::SameSite::Lax),
            "{} is SameSite=Lax",
            cookie.name()
        );
        assert_eq!(cookie.secure(), Some(true), "{} is Secure", cookie.name());
    }

    // fetch() with the meta tag's token.
    let status = chrome
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               const token = document.querySelector('meta[name="csrf-token"]').content;
               fetch("/api/notes", { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
                                     body: JSON.stringify({ text: "from fetch" }) }).then(r => done(r.status), e => done(String(e)));"#,
            vec![],
        )
        .await
        .expect("fetch");
    assert_eq!(status, 201);

    // A WebSocket opened from the demo's page opens over HTTP/2 (the demo allows it, and
    // Chromium holds the page's HTTP/2 connection), and echoes: no token is asked of a
    // handshake from this site.
    let echo = chrome
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               const ws = new WebSocket(location.origin.replace("https://", "wss://") + "/ws");
               ws.onopen = () => ws.send("ping");
               ws.onmessage = (event) => { done(event.data); ws.close(); };
               ws.onerror = () => done("error");"#,
            vec![],
        )
        .await
        .expect("websocket");
    assert_eq!(echo, "ping");
    assert_eq!(
        demo.wait_logged(&["WebSocket opened", "version=HTTP/2.0"], 0)
            .await,
        1,
        "the demo logged the socket as HTTP/2's"
    );

    // Upload, by choosing a file and clicking.
    let file = std::env::temp_dir().join(format!("mitten-upload-{}.txt", std::process::id()));
    std::fs::write(&file, "uploaded from a browser").expect("file");
    chrome.goto(&format!("{url}/")).await;
    let path = file.display().to_string();
    chrome
        .submit("/upload", Some((r#"input[type="file"]"#, &path)))
        .await;
    assert!(chrome.wait_for_text("/files/").await, "the upload answered");
    let body = chrome.eval("return document.body.innerText").await;
    let _ = std::fs::remove_file(&file);
    let stored: Value =
        serde_json::from_str(body.as_str().expect("text")).expect("the upload's JSON");
    assert!(stored["url"].as_str().expect("url").starts_with("/files/"));

    // Logout ends the session.
    chrome.goto(&format!("{url}/")).await;
    chrome.submit("/logout", None).await;
    assert!(chrome.wait_for_text("Not signed in.").await, "logged out");
    // The page after logout renders a form, so it starts a fresh anonymous session (it holds the
    // CSRF secret): never the logged-in one again.
    let after_logout = cookie_values(&chrome, "__Host-mitten-session").await;
    assert_ne!(after_logout, after, "the logged-in session is gone");
    // And gone from the server: the logged-in cookie, put back, names no session.
    let logged_in = after.first().expect("the cookie").clone();
    chrome
        .client
        .add_cookie(
            cookie::Cookie::build(("__Host-mitten-session", logged_in))
                .domain("127.0.0.1")
                .path("/")
                .secure(true)
                .http_only(true)
                .same_site(cookie::SameSite::Lax)
                .build(),
        )
        .await
        .expect("the old cookie");
    assert_eq!(
        cookie_values(&chrome, "__Host-mitten-session").await,
        after,
        "the browser holds the logged-in cookie alone again"
    );
    assert_eq!(
        whoami(&chrome).await,
        Value::Null,
        "the old session is over"
    );
    let notes = notes(&demo).await;
    assert!(
        notes.contains(&"typed in a browser".to_owned())
            && notes.contains(&"from fetch".to_owned())
    );
    chrome.close().await;
}

#[tokio::test]
async fn report_only_violations_reach_csp_report() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let Some(chrome) = Chrome::start().await else {
        return;
    };
    let demo = Demo::start(&["--addr", "127.0.0.1:0", "--tls", "--csp-report-only"]);
    chrome.goto(&format!("{}/", demo.url())).await;
    assert_eq!(
        chrome
            .eval("return document.documentElement.dataset.canary || null")
            .await,
        "ran",
        "report-only blocks nothing"
    );
    assert!(
        demo.wait_logged(&["CSP violation reported"], 0).await > 0,
        "the browser's violation report reached /csp-report"
    );
    chrome.close().await;
}

/// The user `/whoami` names for the browser's cookies, fetched by the page's script (a JSON
/// endpoint: the guard serves it to scripts only).
async fn whoami(chrome: &Chrome) -> Value {
    chrome
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               fetch("/whoami").then(r => r.ok ? r.json() : Promise.reject(r.status))
                 .then(j => done("user" in j ? j.user : "no user field"), e => done("failed: " + e));"#,
            vec![],
        )
        .await
        .expect("whoami")
}

async fn cookie_values(chrome: &Chrome, name: &str) -> Vec<String> {
    chrome
        .client
        .get_all_cookies()
        .await
        .expect("cookies")
        .into_iter()
        .filter(|c| c.name() == name)
        .map(|c| c.value().to_owned())
        .collect()
}
