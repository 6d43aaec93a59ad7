//! The layer over real sockets: every header on every kind of response.

#![allow(clippy::panic)] // A test fails by panicking.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};
use mitten::csp::{ContentSecurityPolicy, Source};
use mitten::headers::{Banner, FrameOptions, SecurityHeaders};
use mitten::{
    Config, ConfigError, Mitten, Nonce, RouteOverride, RouteOverrideLayer, TrustedProxies,
};
use tower_http::catch_panic::CatchPanicLayer;

use mitten_testkit::serve;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn page(Nonce(nonce): Nonce) -> Html<String> {
    Html(format!(r#"<script nonce="{nonce}">ok()</script>"#))
}

async fn boom() -> &'static str {
    panic!("handler panicked")
}

fn app(config: Config) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/boom", get(boom))
        .route(
            "/error",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "failed") }),
        )
        .route("/not-modified", get(|| async { StatusCode::NOT_MODIFIED }))
        .route(
            "/own-headers",
            get(|| async {
                (
                    [
                        ("content-security-policy", "default-src https:"),
                        ("cache-control", "public, max-age=60"),
                        ("server", "hyper/1.0"),
                        ("x-powered-by", "axum"),
                        ("x-aspnet-version", "4.0"),
                    ],
                    "mine",
                )
            }),
        )
        .layer(CatchPanicLayer::new())
        .layer(Mitten::new(config).expect("valid config").layer())
}

const EVERY_RESPONSE: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("x-permitted-cross-domain-policies", "none"),
    ("x-download-options", "noopen"),
    ("x-xss-protection", "0"),
];

fn assert_security_headers(headers: &HeaderMap, what: &str) {
    for (name, value) in EVERY_RESPONSE {
        assert_eq!(
            headers.get(*name).and_then(|v| v.to_str().ok()),
            Some(*value),
            "{name} on {what}"
        );
    }
    let csp = headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no CSP on {what}"));
    assert!(
        csp.contains("'strict-dynamic'") && csp.ends_with("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        headers.contains_key("permissions-policy"),
        "permissions-policy on {what}"
    );
    assert!(
        !headers.contains_key("strict-transport-security"),
        "no HSTS over plain HTTP ({what})"
    );
}

fn nonce_in(csp: &str) -> &str {
    let start = csp.find("'nonce-").expect("nonce in CSP") + "'nonce-".len();
    &csp[start..start + 24]
}

#[tokio::test]
async fn headers_on_ok_not_found_error_and_panic() {
    let addr = serve(app(Config::strict())).await;
    let client = client();
    for (path, status) in [
        ("/", StatusCode::OK),
        ("/missing", StatusCode::NOT_FOUND),
        ("/error", StatusCode::INTERNAL_SERVER_ERROR),
        ("/boom", StatusCode::INTERNAL_SERVER_ERROR),
    ] {
        let response = client
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .expect("response");
        assert_eq!(response.status().as_u16(), status.as_u16(), "{path}");
        assert_security_headers(response.headers(), path);
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }
}

#[tokio::test]
async fn nonce_is_fresh_per_response_and_matches_the_page() {
    let addr = serve(app(Config::strict())).await;
    let client = client();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let response = client
            .get(format!("http://{addr}/"))
            .send()
            .await
            .expect("response");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let body = response.text().await.expect("body");
        let nonce = nonce_in(&csp).to_owned();
        assert_eq!(
            csp.matches(&format!("'nonce-{nonce}'")).count(),
            2,
            "script-src and style-src"
        );
        assert!(
            body.contains(&format!(r#"nonce="{nonce}""#)),
            "page renders the header's nonce"
        );
        assert!(!seen.contains(&nonce), "nonce reused");
        seen.push(nonce);
    }
}

#[tokio::test]
async fn not_modified_gets_no_new_csp() {
    let addr = serve(app(Config::strict())).await;
    let response = client()
        .get(format!("http://{addr}/not-modified"))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status().as_u16(), 304);
    assert!(!response.headers().contains_key("content-security-policy"));
    assert_eq!(response.headers()["x-frame-options"], "DENY");
}

#[tokio::test]
async fn handler_headers_win_but_banners_go() {
    let addr = serve(app(Config::strict())).await;
    let response = client()
        .get(format!("http://{addr}/own-headers"))
        .send()
        .await
        .expect("response");
    let headers = response.headers();
    assert_eq!(headers["content-security-policy"], "default-src https:");
    assert_eq!(headers["cache-control"], "public, max-age=60");
    for banner in ["server", "x-powered-by", "x-aspnet-version"] {
        assert!(!headers.contains_key(banner), "{banner} must be removed");
    }
    assert_eq!(headers["x-frame-options"], "DENY");
}

#[tokio::test]
async fn custom_banner() {
    let config = Config::strict()
        .headers(SecurityHeaders::strict().banner(Banner::custom("Welcome!").expect("valid")));
    let addr = serve(app(config)).await;
    let response = client()
        .get(format!("http://{addr}/own-headers"))
        .send()
        .await
        .expect("response");
    assert_eq!(response.headers()["server"], "Welcome!");
    assert_eq!(response.headers().get_all("server").iter().count(), 1);
    assert!(!response.headers().contains_key("x-powered-by"));
}

#[tokio::test]
async fn report_only_mode() {
    let csp = ContentSecurityPolicy::strict()
        .report_uri("/csp-report")
        .report_to("csp", "/csp-report")
        .report_only();
    let addr = serve(app(
        Config::strict().headers(SecurityHeaders::strict().csp(csp))
    ))
    .await;
    let response = client()
        .get(format!("http://{addr}/"))
        .send()
        .await
        .expect("response");
    let headers = response.headers();
    let report_only = headers["content-security-policy-report-only"]
        .to_str()
        .expect("ascii");
    assert!(
        report_only.contains("report-uri /csp-report; report-to csp"),
        "{report_only}"
    );
    assert!(report_only.contains("'nonce-"));
    assert_eq!(
        headers["content-security-policy"], "frame-ancestors 'none'",
        "framing stays enforced"
    );
    assert_eq!(headers["reporting-endpoints"], "csp=\"/csp-report\"");
}

#[tokio::test]
async fn per_route_overrides_by_layer_and_by_extension() {
    let widget = RouteOverride::builder()
        .frame_options(FrameOptions::AllowFrom(vec![Source::host(
            "https://partner.example",
        )]))
        .build()
        .expect("valid");
    let gallery = RouteOverride::builder()
        .csp(ContentSecurityPolicy::strict().img_src([Source::Wildcard]))
        .frame_options(FrameOptions::SameOrigin)
        .build()
        .expect("valid");
    let raw = RouteOverride::builder()
        .danger_without_csp()
        .build()
        .expect("valid");
    let app = Router::new()
        .route(
            "/widget",
            get(|| async { "widget" }).layer(RouteOverrideLayer::new(widget)),
        )
        .route(
            "/gallery",
            get(move || async move { (Extension(gallery), "gallery") }),
        )
        .route("/raw", get(|| async { "raw" }))
        .route_layer(RouteOverrideLayer::new(raw))
        .route("/", get(|| async { "index" }))
        .layer(Mitten::new(Config::strict()).expect("valid").layer());
    let addr = serve(app).await;
    let client = client();
    let get = |path: &'static str| {
        let client = client.clone();
        async move {
            client
                .get(format!("http://{addr}{path}"))
                .send()
                .await
                .expect("response")
        }
    };

    let widget = get("/widget").await;
    let csp = widget.headers()["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(
        csp.ends_with("frame-ancestors https://partner.example"),
        "{csp}"
    );
    assert!(!widget.headers().contains_key("x-frame-options"));

    let gallery = get("/gallery").await;
    let csp = gallery.headers()["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(
        csp.contains("img-src *") && csp.ends_with("frame-ancestors 'self'"),
        "{csp}"
    );
    assert_eq!(gallery.headers()["x-frame-options"], "SAMEORIGIN");

    let raw = get("/raw").await;
    assert_eq!(
        raw.headers()["content-security-policy"],
        "frame-ancestors 'none'"
    );

    let index = get("/").await;
    let csp = index.headers()["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(
        csp.contains("img-src 'self' data:") && csp.ends_with("frame-ancestors 'none'"),
        "{csp}"
    );
}

#[tokio::test]
async fn https_redirect_ignores_forwarded_proto_from_untrusted_peers() {
    let addr = serve(app(Config::strict())).await;
    let response = client()
        .post(format!("http://{addr}/notes?x=1"))
        .header("host", "app.example")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("response");
    assert_eq!(response.status().as_u16(), 301);
    assert_eq!(
        response.headers()["location"],
        "https://app.example/notes?x=1"
    );
    assert_security_headers(response.headers(), "the redirect");
}

#[tokio::test]
async fn https_redirect_trusts_configured_proxy() {
    let proxies = TrustedProxies::new(["127.0.0.1/32"]).expect("valid");
    let addr = serve(app(Config::strict().trusted_proxies(proxies))).await;
    let client = client();
    let secure = client
        .get(format!("http://{addr}/"))
        .header("host", "app.example")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("response");
    assert_eq!(secure.status().as_u16(), 200);
    assert_eq!(
        secure.headers()["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );

    let forwarded = client
        .get(format!("http://{addr}/"))
        .header("host", "app.example")
        .header("forwarded", "for=192.0.2.1;proto=https")
        .send()
        .await
        .expect("response");
    assert_eq!(forwarded.status().as_u16(), 200);

    let plain = client
        .get(format!("http://{addr}/"))
        .header("host", "app.example")
        .header("x-forwarded-proto", "http")
        .send()
        .await
        .expect("response");
    assert_eq!(plain.status().as_u16(), 301);
    assert!(!plain.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn loopback_is_served_over_http_and_exemptions_work() {
    let config = Config::strict().https_redirect(
        mitten::https::HttpsRedirect::new()
            .status(mitten::https::RedirectStatus::PermanentRedirect)
            .exempt_path("/")
            .expect("valid"),
    );
    let addr = serve(app(config)).await;
    let client = client();
    let local = client
        .get(format!("http://{addr}/error"))
        .send()
        .await
        .expect("response");
    assert_eq!(
        local.status().as_u16(),
        500,
        "loopback host is not redirected"
    );
    let exempt = client
        .get(format!("http://{addr}/"))
        .header("host", "app.example")
        .send()
        .await
        .expect("response");
    assert_eq!(exempt.status().as_u16(), 200);
    let other = client
        .get(format!("http://{addr}/error"))
        .header("host", "app.example")
        .send()
        .await
        .expect("response");
    assert_eq!(other.status().as_u16(), 308);
    assert!(other.headers().get("connection").is_none());
    // A redirected POST's body is never read: the redirect ends the connection.
    let posted = client
        .post(format!("http://{addr}/error"))
        .header("host", "app.example")
        .body("a=1")
        .send()
        .await
        .expect("response");
    assert_eq!(posted.status().as_u16(), 308);
    assert_eq!(posted.headers()["connection"], "close");
}

#[tokio::test]
async fn request_without_host_is_refused_with_headers() {
    let addr = serve(app(Config::strict())).await;
    let raw = mitten_testkit::exchange_until_closed(
        addr,
        b"GET / HTTP/1.0\r\nAccept: application/json\r\n\r\n",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.0 400"), "{raw}");
    let lower = raw.to_ascii_lowercase();
    assert!(lower.contains("x-frame-options: deny"), "{raw}");
    assert!(lower.contains("content-security-policy:"), "{raw}");
    assert!(
        raw.ends_with(r#"{"error":"bad_host","message":"The request has no valid Host header."}"#),
        "{raw}"
    );
}

#[tokio::test]
async fn a_refused_request_with_a_chunked_body_ends_the_connection() {
    // Refused before any layer reads the body, which `Transfer-Encoding` announces.
    let addr = serve(app(Config::strict())).await;
    let raw = mitten_testkit::exchange_until_closed(
        addr,
        b"POST / HTTP/1.1\r\nhost: not a host\r\ntransfer-encoding: chunked\r\n\r\n\
          3\r\na=1\r\n0\r\n\r\n",
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
    assert!(
        raw.to_ascii_lowercase()
            .contains("\r\nconnection: close\r\n"),
        "{raw}"
    );

    // With no length header at all, as a request-decompression layer outside leaves a
    // compressed request: a body that has not ended is there, unread.
    use tower::ServiceExt as _;
    let refuse = |body: axum::body::Body| {
        let request = axum::http::Request::post("/")
            .header("host", "not a host")
            .body(body)
            .expect("request");
        app(Config::strict()).oneshot(request)
    };
    let unannounced = refuse(axum::body::Body::from("a=1"))
        .await
        .expect("response");
    assert_eq!(unannounced.status(), 400);
    assert_eq!(unannounced.headers()["connection"], "close");
    let empty = refuse(axum::body::Body::empty()).await.expect("response");
    assert_eq!(empty.status(), 400);
    assert!(!empty.headers().contains_key("connection"));
}

#[test]
fn invalid_policies_fail_at_start_up() {
    let unknown = ContentSecurityPolicy::parse("default-src 'self'; scirpt-src 'self'");
    assert_eq!(
        unknown.err(),
        Some(ConfigError::UnknownDirective("scirpt-src".into()))
    );

    let injection =
        ContentSecurityPolicy::strict().script_src([Source::host("example.com; script-src *")]);
    let err = Mitten::new(Config::strict().headers(SecurityHeaders::strict().csp(injection)))
        .expect_err("rejected");
    assert!(matches!(err, ConfigError::InvalidSource { .. }), "{err}");

    let crlf = ContentSecurityPolicy::strict().report_uri("/r\r\nSet-Cookie: x=1");
    let err = Mitten::new(Config::strict().headers(SecurityHeaders::strict().csp(crlf)))
        .expect_err("rejected");
    assert!(err.to_string().contains("report-uri"), "{err}");

    assert!(ContentSecurityPolicy::parse("default-src 'self'\r\nX-Evil: 1").is_err());
    assert!(Banner::custom("evil\r\nSet-Cookie: a=b").is_err());
}

#[tokio::test]
async fn nonce_extractor_without_layer_is_a_500_not_a_panic() {
    let addr = serve(Router::new().route("/", get(page))).await;
    let response = client()
        .get(format!("http://{addr}/"))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status().as_u16(), 500);
}

#[tokio::test]
async fn json_guard_prefix_and_hygiene() {
    use mitten::{JsonGuard, JsonGuardLayer};
    let app = Router::new()
        .route(
            "/api",
            get(|| async { ([("content-type", "text/plain")], "[1,2]") })
                .layer(JsonGuardLayer::new(JsonGuard::new().with_prefix())),
        )
        .layer(Mitten::new(Config::strict()).expect("valid").layer());
    let addr = serve(app).await;
    let response = client()
        .get(format!("http://{addr}/api"))
        .header("accept", "application/json")
        .send()
        .await
        .expect("response");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["content-length"], "11");
    assert_eq!(response.text().await.expect("body"), ")]}',\n[1,2]");

    let refused = client()
        .get(format!("http://{addr}/api"))
        .header("sec-fetch-dest", "script")
        .header("accept", "application/json")
        .send()
        .await
        .expect("response");
    assert_eq!(refused.status().as_u16(), 403);
    assert_security_headers(refused.headers(), "a JSON rejection");
    assert_eq!(refused.headers()["content-type"], "application/json");
    assert!(
        refused
            .text()
            .await
            .expect("body")
            .contains("\"error\":\"json_destination\"")
    );
}
