//! Bypass classes of `docs/attack-classes.md` that the other suites covered only in part, over
//! real sockets: the CSRF cookie without sessions (16, 17), `text/plain` JSON sent cross-site
//! (5), a method override on a GET (4), an empty token header beside a query token (17),
//! duplicate tokens in multipart and JSON bodies and a JSON array (23), a proxy that rewrites
//! `Host` (27), and the form helper that keeps the token out of GET forms (18).

#![allow(clippy::panic)] // A test fails by panicking.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, post};
use mitten::csrf::CsrfConfig;
use mitten::{Config, CsrfToken, Mitten, TrustedProxies};
use mitten_testkit::serve;
use support::{Client, with_sessions};

const FORM: &str = "application/x-www-form-urlencoded";
const SAME_ORIGIN: (&str, &str) = ("sec-fetch-site", "same-origin");
/// Asks for refusals as JSON, whose `error` names the reason.
const JSON_REASON: (&str, &str) = ("accept", "application/json");

/// The reason of a refusal asked for with [`JSON_REASON`]: a 403 is not enough, since a request
/// could be refused for something other than what a test means to show.
async fn refusal(response: reqwest::Response) -> String {
    assert_eq!(response.status().as_u16(), 403);
    let body = response.bytes().await.expect("body");
    let body: serde_json::Value = serde_json::from_slice(&body).expect("a JSON refusal");
    body["error"].as_str().expect("a reason").to_owned()
}

/// `/token` renders a token, `/echo` answers with the body it got, and `/store` counts the
/// requests that reached its POST or DELETE handler (its GET only reads).
fn app(mitten: Mitten, stored: &Arc<AtomicUsize>) -> Router {
    let count = |stored: Arc<AtomicUsize>| {
        move || async move {
            stored.fetch_add(1, Ordering::SeqCst);
            "stored"
        }
    };
    Router::new()
        .route(
            "/token",
            get(|token: CsrfToken| async move { token.to_string() }),
        )
        .route(
            "/forms",
            get(|token: CsrfToken| async move {
                ["get", "", "post"]
                    .map(|method| {
                        format!(
                            r#"<form method="{method}">{}<input name="q"></form>"#,
                            token.hidden_input_for(method)
                        )
                    })
                    .join("\n")
            }),
        )
        .route("/echo", post(|body: Bytes| async move { body }))
        .route(
            "/store",
            get(|| async { "read" })
                .post(count(Arc::clone(stored)))
                .delete(count(Arc::clone(stored))),
        )
        .layer(mitten.layer())
}

/// [`app`] behind `mitten` on a real socket, with its count of stored requests.
async fn serve_app(mitten: Mitten) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let stored = Arc::new(AtomicUsize::new(0));
    (serve(app(mitten, &stored)).await, stored)
}

fn without_sessions() -> Mitten {
    Mitten::new(Config::strict())
        .expect("valid")
        .with_csrf(CsrfConfig::new())
        .expect("valid")
}

#[tokio::test]
async fn without_sessions_a_token_is_bound_to_the_host_csrf_cookie() {
    let (addr, stored) = serve_app(without_sessions()).await;

    // The first render sets the secret cookie: `__Host-`, so Secure, `Path=/` and no `Domain`
    // (a sibling subdomain cannot plant it), and out of scripts' reach.
    let first = reqwest::get(format!("http://{addr}/token"))
        .await
        .expect("get");
    let set_cookie = first
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-mitten-csrf="))
        .expect("the CSRF cookie")
        .to_ascii_lowercase();
    for attribute in ["; path=/", "; secure", "; httponly", "; samesite=lax"] {
        assert!(set_cookie.contains(attribute), "{attribute}: {set_cookie}");
    }
    assert!(!set_cookie.contains("domain"), "{set_cookie}");

    let mut victim = Client::new(addr);
    let token = victim.token().await;
    assert!(victim.cookies.get("__Host-mitten-csrf").is_some());
    let with_token = [SAME_ORIGIN, ("x-csrf-token", token.as_str())];
    let ok = victim
        .post("/echo", "text/plain", b"hi".to_vec(), &with_token)
        .await;
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().await.expect("body"), "hi");

    // The cookie alone is not a token.
    let cookie_only = victim
        .post("/store", FORM, Vec::new(), &[SAME_ORIGIN, JSON_REASON])
        .await;
    assert_eq!(refusal(cookie_only).await, "csrf_token_missing");

    // Another browser's valid token does not verify with this browser's cookie.
    let mut attacker = Client::new(addr);
    let theirs = attacker.token().await;
    let swapped = victim
        .post(
            "/store",
            FORM,
            Vec::new(),
            &[SAME_ORIGIN, JSON_REASON, ("x-csrf-token", theirs.as_str())],
        )
        .await;
    assert_eq!(refusal(swapped).await, "csrf_token_invalid");

    // A second cookie of the same name (tossed past the prefix, or sent twice) makes the secret
    // untrusted, even beside the right one.
    let ours = victim
        .cookies
        .get("__Host-mitten-csrf")
        .expect("cookie")
        .to_owned();
    let tossed = attacker
        .cookies
        .get("__Host-mitten-csrf")
        .expect("cookie")
        .to_owned();
    let doubled = victim
        .http
        .post(format!("{}/store", victim.base))
        .header(
            "cookie",
            format!("__Host-mitten-csrf={ours}; __Host-mitten-csrf={tossed}"),
        )
        .header(SAME_ORIGIN.0, SAME_ORIGIN.1)
        .header(JSON_REASON.0, JSON_REASON.1)
        .header("x-csrf-token", &token)
        .send()
        .await
        .expect("post");
    assert_eq!(refusal(doubled).await, "csrf_no_binding");
    assert_eq!(stored.load(Ordering::SeqCst), 0, "nothing was stored");
}

#[tokio::test]
async fn text_plain_json_sent_cross_site_is_refused_before_the_handler() {
    let (addr, stored) = serve_app(with_sessions(
        Config::strict(),
        CsrfConfig::new().token_in_json(),
    ))
    .await;
    let http = reqwest::Client::new();
    // What an auto-submitting `enctype="text/plain"` form sends: no preflight, a JSON-looking
    // body. Cross-site by Fetch Metadata, by Origin alone, and with neither header: then the
    // token tier decides, and never reads a token from a body that is not JSON by its type (the
    // token in it, read, would be an invalid one, not a missing one).
    let signals: [(&[(&str, &str)], &str); 3] = [
        (
            &[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.example"),
            ],
            "csrf_cross_site",
        ),
        (&[("origin", "https://evil.example")], "csrf_cross_origin"),
        (&[], "csrf_token_missing"),
    ];
    for (headers, reason) in signals {
        let mut request = http
            .post(format!("http://{addr}/store"))
            .header("content-type", "text/plain")
            .header(JSON_REASON.0, JSON_REASON.1)
            .body(r#"{"a":1,"_csrf_token":"x"}"#);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("post");
        assert_eq!(refusal(response).await, reason, "{headers:?}");
    }
    assert_eq!(stored.load(Ordering::SeqCst), 0, "nothing was stored");
}

#[tokio::test]
async fn a_method_override_never_turns_a_get_into_a_delete() {
    let (addr, stored) = serve_app(with_sessions(Config::strict(), CsrfConfig::new())).await;
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/store?_method=DELETE"))
        .header("sec-fetch-site", "cross-site")
        .header("x-http-method-override", "DELETE")
        .send()
        .await
        .expect("get");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text().await.expect("body"), "read");
    assert_eq!(
        stored.load(Ordering::SeqCst),
        0,
        "the DELETE handler never ran"
    );
}

#[tokio::test]
async fn an_empty_token_header_does_not_fall_through_to_the_query() {
    let (addr, stored) = serve_app(with_sessions(Config::strict(), CsrfConfig::new())).await;
    let mut client = Client::new(addr);
    let token = client.token().await;
    let refused = client
        .post(
            &format!("/store?_csrf_token={token}"),
            FORM,
            Vec::new(),
            &[SAME_ORIGIN, JSON_REASON, ("x-csrf-token", "")],
        )
        .await;
    assert_eq!(refusal(refused).await, "csrf_token_missing");
    // The same token in the header passes: the refusal was about where it was.
    let accepted = client
        .post(
            "/store",
            FORM,
            Vec::new(),
            &[SAME_ORIGIN, ("x-csrf-token", token.as_str())],
        )
        .await;
    assert_eq!(accepted.status().as_u16(), 200);
    assert_eq!(stored.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn duplicate_tokens_in_multipart_and_json_bodies_and_json_arrays_are_refused() {
    let (addr, stored) = serve_app(with_sessions(
        Config::strict(),
        CsrfConfig::new().token_in_json(),
    ))
    .await;
    let mut client = Client::new(addr);
    let token = client.token().await;
    let other = client.token().await; // another render: valid too, but a second value
    let part = |value: &str| {
        format!("--XyZ\r\nContent-Disposition: form-data; name=\"_csrf_token\"\r\n\r\n{value}\r\n")
    };
    let multipart = "multipart/form-data; boundary=XyZ";
    let json = "application/json";
    // Each duplicate case has two valid tokens, so that keeping either value (the first or the
    // last, as parsers do) would pass: only refusing the pair refuses them.
    let cases: [(&str, String, &str, Option<&str>); 7] = [
        (
            FORM,
            format!("_csrf_token={token}&a=1"),
            "one urlencoded token",
            None,
        ),
        (
            FORM,
            format!("_csrf_token={token}&a=1&_csrf_token={other}"),
            "two urlencoded tokens",
            Some("csrf_duplicate_token"),
        ),
        (
            multipart,
            format!("{}--XyZ--\r\n", part(&token)),
            "one multipart token",
            None,
        ),
        (
            multipart,
            format!("{}{}--XyZ--\r\n", part(&token), part(&other)),
            "two multipart tokens",
            Some("csrf_duplicate_token"),
        ),
        (
            json,
            format!(r#"{{"_csrf_token":"{token}"}}"#),
            "one JSON token",
            None,
        ),
        (
            json,
            format!(r#"{{"_csrf_token":"{token}","_csrf_token":"{other}"}}"#),
            "two JSON tokens",
            Some("csrf_duplicate_token"),
        ),
        (
            json,
            format!(r#"[{{"_csrf_token":"{token}"}}]"#),
            "a JSON array",
            Some("csrf_token_missing"),
        ),
    ];
    for (content_type, body, case, refused) in cases {
        let response = client
            .post(
                "/store",
                content_type,
                body.into_bytes(),
                &[SAME_ORIGIN, JSON_REASON],
            )
            .await;
        match refused {
            None => assert_eq!(response.status().as_u16(), 200, "{case}"),
            Some(reason) => assert_eq!(refusal(response).await, reason, "{case}"),
        }
    }
    assert_eq!(stored.load(Ordering::SeqCst), 3, "only the single tokens");
}

#[tokio::test]
async fn behind_a_proxy_that_rewrites_host_the_public_origin_decides() {
    let config =
        Config::strict().trusted_proxies(TrustedProxies::new(["127.0.0.1"]).expect("valid"));
    let (addr, stored) = serve_app(with_sessions(
        config,
        CsrfConfig::new().public_origin("https://app.example"),
    ))
    .await;
    let mut client = Client::new(addr);
    let token = client.token().await;
    let body = format!("_csrf_token={token}").into_bytes();
    // The proxy sends the upstream's own `Host`, says the client spoke HTTPS, and passes the
    // browser's Origin without Fetch Metadata.
    let host = addr.to_string();
    let via_proxy = |origin: &'static str| {
        [
            ("host", host.clone()),
            ("x-forwarded-proto", "https".to_owned()),
            ("origin", origin.to_owned()),
        ]
    };
    let cookies = client.cookie_header();
    let send = |headers: [(&'static str, String); 3]| {
        let request = client
            .http
            .post(format!("{}/store", client.base))
            .header("content-type", FORM)
            .header("cookie", &cookies)
            .body(body.clone());
        headers
            .iter()
            .fold(request, |r, (name, value)| r.header(*name, value.as_str()))
    };
    let ours = send(via_proxy("https://app.example"))
        .send()
        .await
        .expect("post");
    assert_eq!(ours.status().as_u16(), 200, "the public origin passes");
    for origin in [
        "https://evil.example",
        "http://app.example",
        // What the request's own Host would make of it: not the origin browsers use.
        "https://127.0.0.1",
    ] {
        let refused = send(via_proxy(origin)).send().await.expect("post");
        assert_eq!(refused.status().as_u16(), 403, "{origin}");
    }
    let host_origin = format!("https://{host}");
    let refused = send([
        ("host", host.clone()),
        ("x-forwarded-proto", "https".to_owned()),
        ("origin", host_origin.clone()),
    ])
    .send()
    .await
    .expect("post");
    assert_eq!(refused.status().as_u16(), 403, "{host_origin}");
    assert_eq!(stored.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_form_helper_puts_the_token_in_post_forms_only() {
    let (addr, stored) = serve_app(with_sessions(Config::strict(), CsrfConfig::new())).await;
    let mut client = Client::new(addr);
    let response = client
        .http
        .get(format!("{}/forms", client.base))
        .send()
        .await
        .expect("forms");
    client.remember(&response);
    let page = response.text().await.expect("page");
    let forms: Vec<&str> = page.lines().collect();
    assert_eq!(forms.len(), 3, "{page}");
    // A GET form (and one without a method, which the browser sends as a GET) has no token to
    // put in the URL.
    for form in &forms[..2] {
        assert!(!form.contains("_csrf_token"), "{form}");
    }
    // The POST form's token is a working one.
    let token = forms[2]
        .split(r#"name="_csrf_token" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no token in {}", forms[2]));
    let accepted = client
        .post(
            "/store",
            FORM,
            format!("_csrf_token={token}").into_bytes(),
            &[SAME_ORIGIN],
        )
        .await;
    assert_eq!(accepted.status().as_u16(), 200);
    assert_eq!(stored.load(Ordering::SeqCst), 1);
}
