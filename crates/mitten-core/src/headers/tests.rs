use http::{HeaderMap, HeaderValue, StatusCode};

use super::*;
use crate::RouteOverride;
use crate::csp::{CspNonce, Source};

fn run(
    policy: &HeaderPolicy,
    headers: &mut HeaderMap,
    secure: bool,
    status: StatusCode,
    route: Option<&RouteOverride>,
) -> CspNonce {
    let nonce = CspNonce::generate();
    policy.apply(
        headers,
        &ResponseContext {
            secure,
            status,
            nonce: &nonce,
            route,
        },
    );
    nonce
}

fn applied(headers: SecurityHeaders, secure: bool) -> (HeaderMap, CspNonce) {
    let policy = headers.compile().expect("valid");
    let mut map = HeaderMap::new();
    let nonce = run(&policy, &mut map, secure, StatusCode::OK, None);
    (map, nonce)
}

#[test]
fn strict_sends_every_header() {
    let (headers, nonce) = applied(SecurityHeaders::strict(), true);
    let expected = [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "strict-origin-when-cross-origin"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        ("x-permitted-cross-domain-policies", "none"),
        ("x-download-options", "noopen"),
        ("x-xss-protection", "0"),
        ("x-frame-options", "DENY"),
        (
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        ),
        ("cache-control", "no-store"),
    ];
    for (name, value) in expected {
        assert_eq!(
            headers.get(name).map(|v| v.to_str().expect("ascii")),
            Some(value),
            "{name}"
        );
    }
    let csp = headers["content-security-policy"].to_str().expect("ascii");
    assert!(csp.contains(&format!("'nonce-{nonce}'")));
    assert!(csp.ends_with("; frame-ancestors 'none'"));
    assert!(headers.contains_key("permissions-policy"));
    assert!(!headers.contains_key("cross-origin-embedder-policy"));
}

#[test]
fn hsts_only_on_secure_requests() {
    let (plain, _) = applied(SecurityHeaders::strict(), false);
    assert!(!plain.contains_key("strict-transport-security"));
    let (secure, _) = applied(SecurityHeaders::strict(), true);
    assert!(secure.contains_key("strict-transport-security"));
}

#[test]
fn handler_headers_win() {
    let policy = SecurityHeaders::strict().compile().expect("valid");
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src *"),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("SAMEORIGIN"));
    headers.insert(
        "cache-control",
        HeaderValue::from_static("public, max-age=60"),
    );
    run(&policy, &mut headers, true, StatusCode::OK, None);
    assert_eq!(headers["content-security-policy"], "default-src *");
    assert_eq!(headers["x-frame-options"], "SAMEORIGIN");
    assert_eq!(headers["cache-control"], "public, max-age=60");
    assert_eq!(headers.get_all("content-security-policy").iter().count(), 1);

    // A report-only policy of the handler's is the page's whole CSP: none of ours is added,
    // and with no nonce of ours sent, no `Cache-Control` either.
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-security-policy-report-only",
        HeaderValue::from_static("default-src 'self'"),
    );
    run(&policy, &mut headers, true, StatusCode::OK, None);
    assert!(!headers.contains_key("content-security-policy"));
    assert_eq!(
        headers["content-security-policy-report-only"],
        "default-src 'self'"
    );
    assert!(!headers.contains_key("cache-control"));
}

#[test]
fn handler_values_survive_whole() {
    // Several values of one name (cookies), and a name of ours the handler sets twice: every
    // value of the handler's is kept, in order, and none of ours is mixed in.
    let policy = SecurityHeaders::strict().compile().expect("valid");
    let handler = || {
        let mut headers = HeaderMap::new();
        headers.append("set-cookie", HeaderValue::from_static("a=1"));
        headers.append("set-cookie", HeaderValue::from_static("b=2"));
        headers.append("referrer-policy", HeaderValue::from_static("no-referrer"));
        headers.append("referrer-policy", HeaderValue::from_static("same-origin"));
        headers.insert("content-type", HeaderValue::from_static("text/html"));
        headers
    };
    let values = |headers: &HeaderMap, name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().expect("ascii").to_owned())
            .collect()
    };
    let mut prebuilt = handler();
    run(&policy, &mut prebuilt, true, StatusCode::OK, None);
    assert_eq!(values(&prebuilt, "set-cookie"), ["a=1", "b=2"]);
    assert_eq!(
        values(&prebuilt, "referrer-policy"),
        ["no-referrer", "same-origin"]
    );
    assert_eq!(values(&prebuilt, "content-type"), ["text/html"]);

    // The prebuilt path (no route override) and the general one (an override that changes
    // nothing) agree on every header but the CSP's nonce.
    let unchanged = RouteOverride::builder().build().expect("valid");
    let mut general = handler();
    run(
        &policy,
        &mut general,
        true,
        StatusCode::OK,
        Some(&unchanged),
    );
    let names = |headers: &HeaderMap| {
        let mut names: Vec<String> = headers.keys().map(|k| k.as_str().to_owned()).collect();
        names.sort();
        names
    };
    assert_eq!(names(&prebuilt), names(&general));
    for name in names(&prebuilt) {
        if name != "content-security-policy" {
            assert_eq!(values(&prebuilt, &name), values(&general, &name), "{name}");
        }
    }
}

#[test]
fn not_modified_gets_no_new_csp() {
    let policy = SecurityHeaders::strict().compile().expect("valid");
    let mut headers = HeaderMap::new();
    run(&policy, &mut headers, true, StatusCode::NOT_MODIFIED, None);
    assert!(!headers.contains_key("content-security-policy"));
    assert!(!headers.contains_key("cache-control"));
    assert_eq!(headers["x-frame-options"], "DENY");
}

#[test]
fn report_only_keeps_framing_enforced() {
    let csp = crate::csp::ContentSecurityPolicy::strict()
        .report_uri("/csp-report")
        .report_only();
    let (headers, nonce) = applied(SecurityHeaders::strict().csp(csp), true);
    assert_eq!(headers["content-security-policy"], "frame-ancestors 'none'");
    let report_only = headers["content-security-policy-report-only"]
        .to_str()
        .expect("ascii");
    assert!(report_only.contains(nonce.as_str()));
    assert!(report_only.ends_with("report-uri /csp-report"));
    assert!(!report_only.contains("frame-ancestors"));
}

#[test]
fn reporting_endpoints_header() {
    let csp = crate::csp::ContentSecurityPolicy::strict().report_to("csp", "/csp-report");
    let (headers, _) = applied(SecurityHeaders::strict().csp(csp), false);
    assert_eq!(headers["reporting-endpoints"], "csp=\"/csp-report\"");
}

#[test]
fn frame_ancestors_belongs_to_frame_options() {
    let csp = crate::csp::ContentSecurityPolicy::strict()
        .directive(crate::csp::Directive::FrameAncestors, [Source::SelfOrigin]);
    assert_eq!(
        SecurityHeaders::strict().csp(csp).compile().err(),
        Some(ConfigError::FrameAncestorsInPolicy)
    );
}

#[test]
fn talisman_preset_matches_flask_talisman() {
    let (headers, _) = applied(SecurityHeaders::talisman(), true);
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'self'; object-src 'none'; frame-ancestors 'self'"
    );
    assert_eq!(headers["x-frame-options"], "SAMEORIGIN");
    assert_eq!(
        headers["strict-transport-security"],
        "max-age=31556926; includeSubDomains"
    );
    assert_eq!(headers["permissions-policy"], "browsing-topics=()");
    assert_eq!(
        headers["referrer-policy"],
        "strict-origin-when-cross-origin"
    );
    assert!(
        !headers.contains_key("cache-control"),
        "no nonce, no no-store"
    );
}

#[test]
fn api_preset() {
    let (headers, _) = applied(SecurityHeaders::api(), false);
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert_eq!(headers["referrer-policy"], "no-referrer");
}

#[test]
fn route_override_replaces_csp_and_framing() {
    let policy = SecurityHeaders::strict().compile().expect("valid");
    let route = RouteOverride::builder()
        .csp(crate::csp::ContentSecurityPolicy::talisman())
        .frame_options(FrameOptions::AllowFrom(vec![Source::host(
            "https://partner.example",
        )]))
        .build()
        .expect("valid");
    let mut headers = HeaderMap::new();
    run(&policy, &mut headers, true, StatusCode::OK, Some(&route));
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'self'; object-src 'none'; frame-ancestors https://partner.example"
    );
    assert!(!headers.contains_key("x-frame-options"));
    assert!(!headers.contains_key("cache-control"));

    let no_csp = RouteOverride::builder()
        .danger_without_csp()
        .build()
        .expect("valid");
    let mut headers = HeaderMap::new();
    run(&policy, &mut headers, true, StatusCode::OK, Some(&no_csp));
    assert_eq!(headers["content-security-policy"], "frame-ancestors 'none'");
    assert_eq!(headers["x-frame-options"], "DENY");
}

#[test]
fn banner_removed_or_replaced() {
    let policy = SecurityHeaders::strict().compile().expect("valid");
    let mut headers = HeaderMap::new();
    headers.insert("server", HeaderValue::from_static("hyper"));
    headers.insert("x-powered-by", HeaderValue::from_static("axum"));
    run(&policy, &mut headers, false, StatusCode::OK, None);
    assert!(!headers.contains_key("server") && !headers.contains_key("x-powered-by"));

    let policy = SecurityHeaders::strict()
        .banner(Banner::custom("Welcome!").expect("valid"))
        .compile()
        .expect("valid");
    let mut headers = HeaderMap::new();
    headers.insert("server", HeaderValue::from_static("hyper"));
    run(&policy, &mut headers, false, StatusCode::OK, None);
    assert_eq!(headers["server"], "Welcome!");
}

#[test]
fn optional_headers() {
    let headers = SecurityHeaders::strict()
        .cross_origin_embedder_policy(Some(CrossOriginEmbedderPolicy::RequireCorp))
        .document_policy(Some(DocumentPolicy::new().set("force-load-at-top", "?1")))
        .danger_public_key_pins(PublicKeyPins::new(
            [
                "cUPcTAZWKaASuYWhhneDttWpY3oBAkE3h2+soZS7sWs=",
                "M8HztCzM3elUxkcjR2S5P4hhyBNf6lHkmjAHKhpGPWE=",
            ],
            600,
        ));
    let (plain, _) = applied(headers.clone(), false);
    assert_eq!(plain["cross-origin-embedder-policy"], "require-corp");
    assert_eq!(plain["document-policy"], "force-load-at-top=?1");
    assert!(!plain.contains_key("public-key-pins"));
    let (secure, _) = applied(headers, true);
    assert!(
        secure["public-key-pins"]
            .to_str()
            .expect("ascii")
            .starts_with("pin-sha256=\"")
    );
}

#[test]
fn invalid_pieces_fail_at_compile() {
    assert!(
        SecurityHeaders::strict()
            .hsts(Some(Hsts::default().max_age(10).preload()))
            .compile()
            .is_err()
    );
    assert!(
        SecurityHeaders::strict()
            .danger_public_key_pins(PublicKeyPins::new(
                ["cUPcTAZWKaASuYWhhneDttWpY3oBAkE3h2+soZS7sWs="],
                600
            ))
            .compile()
            .is_err()
    );
    assert!(
        SecurityHeaders::strict()
            .permissions_policy(Some(PermissionsPolicy::empty().deny("camera\r\nx")))
            .compile()
            .is_err()
    );
}
