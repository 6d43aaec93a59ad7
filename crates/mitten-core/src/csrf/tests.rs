//! Tier 1 and the decision routing, one test per bypass class known in the field.

use http::{HeaderMap, HeaderValue, Method, Uri};

use super::*;
use crate::request::ConnectionInfo;

const PUBLIC: &str = "https://app.example";

fn policy(config: CsrfConfig) -> CsrfPolicy {
    config.public_origin(PUBLIC).build().expect("valid")
}

/// `f` on a view of a request with these headers.
fn with_view<R>(
    method: Method,
    path: &str,
    headers: &[(&'static str, &'static str)],
    f: impl FnOnce(&RequestView<'_>) -> R,
) -> R {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(*name, HeaderValue::from_static(value));
    }
    let uri: Uri = path.parse().expect("uri");
    f(&RequestView {
        method: &method,
        uri: &uri,
        headers: &map,
        connection: ConnectionInfo::default(),
    })
}

fn precheck_with(
    policy: &CsrfPolicy,
    method: Method,
    path: &str,
    secure: bool,
    headers: &[(&'static str, &'static str)],
) -> Precheck {
    with_view(method, path, headers, |view| {
        policy.precheck(view, secure, || None)
    })
}

fn post(headers: &[(&'static str, &'static str)]) -> Precheck {
    precheck_with(
        &policy(CsrfConfig::new()),
        Method::POST,
        "/notes",
        true,
        headers,
    )
}

fn refused(failure: CsrfFailure) -> Precheck {
    Precheck::Refuse(failure)
}

#[test]
fn same_origin_fetch_metadata_goes_on_to_the_token() {
    assert_eq!(
        post(&[("sec-fetch-site", "same-origin")]),
        Precheck::NeedToken
    );
    assert_eq!(
        precheck_with(
            &policy(CsrfConfig::new().without_token()),
            Method::POST,
            "/",
            true,
            &[("sec-fetch-site", "same-origin")]
        ),
        Precheck::Skip
    );
}

/// The default policy's first answer to a cross-site request with `method`.
fn cross_site_with(method: Method) -> Precheck {
    precheck_with(
        &policy(CsrfConfig::new()),
        method,
        "/",
        true,
        &[("sec-fetch-site", "cross-site")],
    )
}

#[test]
fn head_get_options_are_never_checked_but_every_other_method_is() {
    for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
        assert_eq!(cross_site_with(method.clone()), Precheck::Skip, "{method}");
    }
    // Every other standard method (the custom ones are below), cross-site, is refused.
    for method in [
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::CONNECT,
        Method::TRACE,
    ] {
        assert_eq!(
            cross_site_with(method.clone()),
            refused(CsrfFailure::CrossSite),
            "{method}"
        );
    }
}

#[test]
fn custom_trace_propfind_and_lower_case_methods_are_unsafe() {
    for method in ["TRACE", "PROPFIND", "FOO", "post", "Patch", "QUERY"] {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        assert_eq!(
            cross_site_with(method.clone()),
            refused(CsrfFailure::CrossSite),
            "{method}"
        );
    }
}

#[test]
fn method_override_fields_are_ignored() {
    // The method is what the request line says: `?_method=GET` does not make a POST safe.
    assert_eq!(
        precheck_with(
            &policy(CsrfConfig::new()),
            Method::POST,
            "/notes?_method=GET",
            true,
            &[
                ("sec-fetch-site", "cross-site"),
                ("x-http-method-override", "GET")
            ]
        ),
        refused(CsrfFailure::CrossSite)
    );
}

#[test]
fn cross_site_same_site_and_none() {
    assert_eq!(
        post(&[("sec-fetch-site", "cross-site")]),
        refused(CsrfFailure::CrossSite)
    );
    assert_eq!(
        post(&[("sec-fetch-site", "same-site")]),
        refused(CsrfFailure::SameSite)
    );
    assert_eq!(
        post(&[("sec-fetch-site", "none")]),
        refused(CsrfFailure::UserNavigation)
    );
    let lenient = policy(CsrfConfig::new().trust_same_site().allow_user_navigation());
    assert_eq!(
        precheck_with(
            &lenient,
            Method::POST,
            "/",
            true,
            &[("sec-fetch-site", "same-site")]
        ),
        Precheck::NeedToken
    );
    assert_eq!(
        precheck_with(
            &lenient,
            Method::POST,
            "/",
            true,
            &[("sec-fetch-site", "none")]
        ),
        Precheck::NeedToken
    );
    assert_eq!(
        precheck_with(
            &lenient,
            Method::POST,
            "/",
            true,
            &[
                ("sec-fetch-site", "none"),
                ("origin", "https://evil.example")
            ]
        ),
        refused(CsrfFailure::CrossOrigin),
        "none never with a foreign Origin"
    );
}

#[test]
fn malformed_and_duplicate_sec_fetch_site_fail_and_never_fall_back() {
    for value in ["Cross-Site", "Same-Origin", "same-origin ", "garbage", ""] {
        assert_eq!(
            post(&[("sec-fetch-site", value_static(value)), ("origin", PUBLIC)]),
            refused(CsrfFailure::MalformedFetchMetadata),
            "{value:?}"
        );
    }
    assert_eq!(
        post(&[
            ("sec-fetch-site", "same-origin"),
            ("sec-fetch-site", "cross-site")
        ]),
        refused(CsrfFailure::MalformedFetchMetadata)
    );
    assert_eq!(
        post(&[
            ("sec-fetch-site", "same-origin"),
            ("sec-fetch-site", "same-origin")
        ]),
        refused(CsrfFailure::MalformedFetchMetadata)
    );
}

fn value_static(value: &str) -> &'static str {
    Box::leak(value.to_owned().into_boxed_str())
}

#[test]
fn origin_null_is_refused() {
    assert_eq!(
        post(&[("origin", "null")]),
        refused(CsrfFailure::NullOrigin)
    );
    assert_eq!(
        post(&[("origin", "null"), ("sec-fetch-site", "cross-site")]),
        refused(CsrfFailure::CrossSite)
    );
}

#[test]
fn origin_fallback_is_exact() {
    assert_eq!(post(&[("origin", PUBLIC)]), Precheck::NeedToken);
    assert_eq!(
        post(&[("origin", "https://APP.example:443")]),
        Precheck::NeedToken,
        "normalised"
    );
    for (hostile, failure) in [
        ("http://app.example", CsrfFailure::CrossOrigin),
        ("https://app.example:8443", CsrfFailure::CrossOrigin),
        ("https://app.example.evil.net", CsrfFailure::CrossOrigin),
        ("https://evilapp.example", CsrfFailure::CrossOrigin),
        ("https://evil@app.example", CsrfFailure::MalformedOrigin),
        ("https://app.example/", CsrfFailure::MalformedOrigin),
        ("https://app.example/path", CsrfFailure::MalformedOrigin),
        ("app.example", CsrfFailure::MalformedOrigin),
    ] {
        assert_eq!(post(&[("origin", hostile)]), refused(failure), "{hostile}");
    }
    assert_eq!(
        post(&[("origin", PUBLIC), ("origin", PUBLIC)]),
        refused(CsrfFailure::MalformedOrigin)
    );
}

#[test]
fn scheme_mismatch_http_origin_on_https_app() {
    assert_eq!(
        post(&[("origin", "http://app.example")]),
        refused(CsrfFailure::CrossOrigin)
    );
}

#[test]
fn trusted_origins_exact_and_wildcard() {
    let trusting = policy(
        CsrfConfig::new()
            .trusted_origin("https://admin.example")
            .trusted_origin("https://*.partner.example"),
    );
    let check = |origin: &'static str| {
        precheck_with(&trusting, Method::POST, "/", true, &[("origin", origin)])
    };
    assert_eq!(check("https://admin.example"), Precheck::NeedToken);
    assert_eq!(check("https://a.partner.example"), Precheck::NeedToken);
    assert_eq!(
        check("https://partner.example"),
        refused(CsrfFailure::CrossOrigin),
        "the parent is not a subdomain"
    );
    assert_eq!(
        check("https://evilpartner.example"),
        refused(CsrfFailure::CrossOrigin)
    );
    assert_eq!(
        check("http://a.partner.example"),
        refused(CsrfFailure::CrossOrigin),
        "scheme-aware"
    );
}

#[test]
fn referer_on_https_without_origin() {
    assert_eq!(
        post(&[("referer", "https://app.example/form?x=1")]),
        Precheck::NeedToken
    );
    assert_eq!(
        post(&[("referer", "https://evil.example/x")]),
        refused(CsrfFailure::RefererMismatch)
    );
    assert_eq!(
        post(&[("referer", "http://app.example/form")]),
        refused(CsrfFailure::RefererMismatch),
        "downgraded"
    );
    assert_eq!(
        post(&[("referer", "https://evil@app.example/")]),
        refused(CsrfFailure::RefererMismatch)
    );
    assert_eq!(
        post(&[("referer", "https://app.example.evil.net/")]),
        refused(CsrfFailure::RefererMismatch)
    );
}

#[test]
fn a_referer_port_is_read_as_a_url_parser_reads_it() {
    // The default port, however written, is the origin's own (as the WHATWG URL parser reads
    // `0443`; found by the csrf_origin fuzz target, whose oracle expected `:443` only). Any
    // other port is another origin.
    for ours in [
        "https://app.example:443/x",
        "https://app.example:0443/x",
        "https://APP.example/",
    ] {
        assert_eq!(post(&[("referer", ours)]), Precheck::NeedToken, "{ours}");
    }
    for other in ["https://app.example:444/x", "https://app.example:4430/x"] {
        assert_eq!(
            post(&[("referer", other)]),
            refused(CsrfFailure::RefererMismatch),
            "{other}"
        );
    }
}

#[test]
fn suppressed_referer_on_https_needs_the_token_or_fails() {
    assert_eq!(post(&[]), Precheck::NeedToken, "the token decides");
    let strict = policy(CsrfConfig::new().require_referer_on_https());
    assert_eq!(
        precheck_with(&strict, Method::POST, "/", true, &[]),
        refused(CsrfFailure::RefererMissing)
    );
    let tokenless = policy(CsrfConfig::new().without_token());
    assert_eq!(
        precheck_with(&tokenless, Method::POST, "/", true, &[]),
        refused(CsrfFailure::RefererMissing)
    );
}

#[test]
fn referer_is_never_compared_with_an_attackers_origin() {
    // Flask-SeaSurf compared Referer with Origin: here Origin itself must be ours.
    assert_eq!(
        post(&[
            ("origin", "https://evil.example"),
            ("referer", "https://evil.example/x")
        ]),
        refused(CsrfFailure::CrossOrigin)
    );
}

#[test]
fn both_headers_missing_over_http_needs_a_token() {
    let p = policy(CsrfConfig::new());
    assert_eq!(
        precheck_with(&p, Method::POST, "/", false, &[]),
        Precheck::NeedToken
    );
    let tokenless = policy(CsrfConfig::new().without_token());
    assert_eq!(
        precheck_with(&tokenless, Method::POST, "/", false, &[]),
        refused(CsrfFailure::NoOriginSignal)
    );
}

#[test]
fn exemptions_do_not_spill() {
    let p = policy(CsrfConfig::new().exempt("/hook"));
    let cross = [("sec-fetch-site", "cross-site")];
    assert_eq!(
        precheck_with(&p, Method::POST, "/hook", true, &cross),
        Precheck::Skip
    );
    for path in [
        "/hook/../admin",
        "/hookX",
        "//hook",
        "/HOOK",
        "/%68ook",
        "/hook%2F..%2Fadmin",
        "/hook/",
        "/./hook",
    ] {
        assert_eq!(
            precheck_with(&p, Method::POST, path, true, &cross),
            refused(CsrfFailure::CrossSite),
            "{path}"
        );
    }
}

#[test]
fn cross_site_websocket_upgrade_is_refused() {
    let p = policy(CsrfConfig::new());
    let upgrade = |headers: &[(&'static str, &'static str)]| {
        let mut all = vec![("upgrade", "websocket"), ("connection", "upgrade")];
        all.extend_from_slice(headers);
        precheck_with(&p, Method::GET, "/ws", true, &all)
    };
    assert_eq!(
        upgrade(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example")
        ]),
        refused(CsrfFailure::CrossSite)
    );
    assert_eq!(
        upgrade(&[("origin", "https://evil.example")]),
        refused(CsrfFailure::CrossOrigin)
    );
    assert_eq!(
        upgrade(&[("origin", "null")]),
        refused(CsrfFailure::NullOrigin)
    );
    assert_eq!(
        upgrade(&[("sec-fetch-site", "same-origin"), ("origin", PUBLIC)]),
        Precheck::Skip
    );
    assert_eq!(upgrade(&[("origin", PUBLIC)]), Precheck::Skip);
}

/// `Upgrade: websocket` makes a handshake of a `GET` only: on a POST it must not skip the token
/// tier (nor, without tokens, the refusal of a request that shows no origin).
#[test]
fn upgrade_header_on_an_unsafe_method_is_no_websocket_handshake() {
    let upgrade = [("upgrade", "websocket"), ("connection", "upgrade")];
    for method in [Method::POST, Method::PUT, Method::DELETE] {
        assert_eq!(
            precheck_with(
                &policy(CsrfConfig::new()),
                method.clone(),
                "/notes",
                false,
                &upgrade
            ),
            Precheck::NeedToken,
            "{method}"
        );
        assert_eq!(
            precheck_with(
                &policy(CsrfConfig::new().without_token()),
                method.clone(),
                "/notes",
                false,
                &upgrade
            ),
            refused(CsrfFailure::NoOriginSignal),
            "{method}"
        );
    }
    // The handshake itself, from a client that sends no Origin (not a browser), still passes.
    assert_eq!(
        precheck_with(
            &policy(CsrfConfig::new()),
            Method::GET,
            "/ws",
            false,
            &upgrade
        ),
        Precheck::Skip
    );
}

/// HTTP/2's WebSocket handshake is a `CONNECT` with `Sec-WebSocket-Version` (RFC 8441): judged by
/// tier 1 alone, as the HTTP/1.1 one, with and without tokens. Before, it needed a token no
/// browser sends with it. A `CONNECT` without that header is no handshake.
#[test]
fn connect_is_judged_as_a_websocket_handshake() {
    const VERSION: (&str, &str) = ("sec-websocket-version", "13");
    for config in [CsrfConfig::new(), CsrfConfig::new().without_token()] {
        let p = policy(config);
        let connect = |headers: &[(&'static str, &'static str)]| {
            let mut all = vec![VERSION];
            all.extend_from_slice(headers);
            precheck_with(&p, Method::CONNECT, "/ws", true, &all)
        };
        assert_eq!(
            connect(&[("sec-fetch-site", "same-origin"), ("origin", PUBLIC)]),
            Precheck::Skip
        );
        assert_eq!(connect(&[("origin", PUBLIC)]), Precheck::Skip);
        // No Origin: not a browser.
        assert_eq!(connect(&[]), Precheck::Skip);
        assert_eq!(
            connect(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.example")
            ]),
            refused(CsrfFailure::CrossSite)
        );
        assert_eq!(
            connect(&[("sec-fetch-site", "same-site"), ("origin", PUBLIC)]),
            refused(CsrfFailure::SameSite)
        );
        assert_eq!(
            connect(&[("origin", "https://evil.example")]),
            refused(CsrfFailure::CrossOrigin)
        );
        assert_eq!(
            connect(&[("origin", "null")]),
            refused(CsrfFailure::NullOrigin)
        );
    }
    // Without `Sec-WebSocket-Version`, a CONNECT is checked as any unsafe method.
    let plain = |config: CsrfConfig, headers: &[(&'static str, &'static str)]| {
        precheck_with(&policy(config), Method::CONNECT, "/ws", true, headers)
    };
    assert_eq!(
        plain(CsrfConfig::new(), &[("origin", PUBLIC)]),
        Precheck::NeedToken
    );
    // Over HTTPS with no origin signal at all: refused, where a handshake would open.
    assert_eq!(
        plain(CsrfConfig::new().without_token(), &[]),
        refused(CsrfFailure::RefererMissing)
    );
}

/// A POST to `p` (built without a public origin), asking for the request's own origin (`own`)
/// and counting the calls.
fn precheck_computed(
    p: &CsrfPolicy,
    headers: &[(&'static str, &'static str)],
    secure: bool,
    own: Option<&str>,
) -> (Precheck, usize) {
    let calls = std::cell::Cell::new(0);
    let verdict = with_view(Method::POST, "/", headers, |view| {
        p.precheck(view, secure, || {
            calls.set(calls.get() + 1);
            own.map(|o| Origin::parse(o).expect("origin"))
        })
    });
    (verdict, calls.get())
}

#[test]
fn own_origin_is_worked_out_only_to_compare_one() {
    let default = CsrfConfig::new().build().expect("valid");
    // The browser's word needs no origin, known or not, and gives the same verdict either way.
    for own in [Some("https://app.example"), None] {
        for (site, verdict) in [
            ("same-origin", Precheck::NeedToken),
            ("cross-site", refused(CsrfFailure::CrossSite)),
            ("same-site", refused(CsrfFailure::SameSite)),
            ("none", refused(CsrfFailure::UserNavigation)),
            ("Same-Origin", refused(CsrfFailure::MalformedFetchMetadata)),
        ] {
            assert_eq!(
                precheck_computed(&default, &[("sec-fetch-site", site)], true, own),
                (verdict, 0),
                "{site} {own:?}"
            );
        }
        // Over plain HTTP with neither header nothing is compared either: the token decides.
        assert_eq!(
            precheck_computed(&default, &[], false, own),
            (Precheck::NeedToken, 0)
        );
    }
    // An Origin, or the Referer over HTTPS, is compared: the own origin is worked out once.
    let own = Some("https://app.example");
    assert_eq!(
        precheck_computed(&default, &[("origin", "https://app.example")], true, own),
        (Precheck::NeedToken, 1)
    );
    assert_eq!(
        precheck_computed(
            &default,
            &[("referer", "https://app.example/form")],
            true,
            own
        ),
        (Precheck::NeedToken, 1)
    );
    // A configured public origin is the one compared: the request's own is never worked out.
    assert_eq!(
        precheck_computed(
            &policy(CsrfConfig::new()),
            &[("origin", PUBLIC)],
            true,
            None
        ),
        (Precheck::NeedToken, 0)
    );
}

#[test]
fn a_token_less_policy_without_a_known_origin() {
    let tokenless = CsrfConfig::new().without_token().build().expect("valid");
    // Same-origin Fetch Metadata is enough on its own ...
    assert_eq!(
        precheck_computed(&tokenless, &[("sec-fetch-site", "same-origin")], true, None),
        (Precheck::Skip, 0)
    );
    // ... and with no signal at all there is nothing to go on.
    assert_eq!(
        precheck_computed(&tokenless, &[], false, None),
        (refused(CsrfFailure::NoOriginSignal), 0)
    );
}

#[test]
fn an_origin_that_cannot_be_compared_is_refused() {
    // No public origin and no usable Host: an Origin or Referer proves nothing, not even one
    // of the trusted origins, and over HTTPS a missing Referer cannot be left to the token.
    let navigable = CsrfConfig::new()
        .allow_user_navigation()
        .trusted_origin("https://partner.example")
        .build()
        .expect("valid");
    for headers in [
        &[("origin", "https://app.example")][..],
        &[("origin", "https://partner.example")][..],
        &[("referer", "https://app.example/form")][..],
        &[][..],
        &[
            ("sec-fetch-site", "none"),
            ("origin", "https://app.example"),
        ][..],
        &[
            ("upgrade", "websocket"),
            ("connection", "Upgrade"),
            ("origin", "https://evil.example"),
        ][..],
    ] {
        assert_eq!(
            precheck_computed(&navigable, headers, true, None),
            (refused(CsrfFailure::NoOriginSignal), 1),
            "{headers:?}"
        );
    }
}

#[test]
fn computed_public_origin_when_none_configured() {
    let p = CsrfConfig::new().build().expect("valid");
    let origin = [("origin", "http://127.0.0.1:8080")];
    assert_eq!(
        precheck_computed(&p, &origin, false, Some("http://127.0.0.1:8080")),
        (Precheck::NeedToken, 1)
    );
    assert_eq!(
        precheck_computed(&p, &origin, false, Some("http://127.0.0.1:9090")),
        (refused(CsrfFailure::CrossOrigin), 1),
        "port-aware"
    );
}

#[test]
fn tokens_from_headers_with_aliases_and_duplicates() {
    let mut map = HeaderMap::new();
    assert_eq!(token_from_headers(&map), Ok(None));
    map.insert("x-csrftoken", HeaderValue::from_static("abc"));
    assert_eq!(token_from_headers(&map), Ok(Some("abc")));
    map.insert("x-xsrf-token", HeaderValue::from_static("abc"));
    assert_eq!(token_from_headers(&map), Ok(Some("abc")));
    map.insert("x-csrf-token", HeaderValue::from_static("def"));
    assert_eq!(token_from_headers(&map), Err(CsrfFailure::DuplicateToken));
    let mut empty = HeaderMap::new();
    empty.insert("x-csrf-token", HeaderValue::from_static(""));
    assert_eq!(
        token_from_headers(&empty),
        Ok(None),
        "an empty header is no token (and no fall-through to a cookie)"
    );
}

#[test]
fn verify_binds_tokens() {
    let p = policy(CsrfConfig::new());
    let session = [3u8; 32];
    let token = p.render(Binding::session(&session), None, 0);
    assert_eq!(
        p.verify(Some(&token), Some(Binding::session(&session)), None),
        Ok(())
    );
    assert_eq!(
        p.verify(Some(&token), Some(Binding::session(&[4u8; 32])), None),
        Err(CsrfFailure::TokenInvalid)
    );
    assert_eq!(
        p.verify(None, Some(Binding::session(&session)), None),
        Err(CsrfFailure::TokenMissing)
    );
    assert_eq!(
        p.verify(Some(&token), None, None),
        Err(CsrfFailure::NoBinding)
    );
}

#[test]
fn predicate_exemption_is_opt_in() {
    let p = policy(CsrfConfig::new().danger_exempt_if(|view| view.path() == "/internal/metrics"));
    let cross = [("sec-fetch-site", "cross-site")];
    assert_eq!(
        precheck_with(&p, Method::POST, "/internal/metrics", true, &cross),
        Precheck::Skip
    );
    assert_eq!(
        precheck_with(&p, Method::POST, "/notes", true, &cross),
        refused(CsrfFailure::CrossSite)
    );
    assert!(!format!("{p:?}").contains("key"), "no key in Debug");
}

#[test]
fn parsed_header_names_are_the_documented_ones() {
    let parsed: Vec<&str> = super::TOKEN_HEADER_NAMES
        .iter()
        .map(|n| n.as_str())
        .collect();
    assert_eq!(parsed, TOKEN_HEADERS);
}

/// Class 18: a token in a GET form travels in the URL. Only a form the browser sends as a POST
/// may carry one; HTML sends a missing, misspelt or padded `method` as a GET.
#[test]
fn only_a_post_form_may_carry_the_token() {
    for post in ["post", "POST", "Post"] {
        assert!(form_may_carry_token(post), "{post:?}");
    }
    for get in [
        "get", "GET", "", "dialog", " post", "post ", "put", "delete", "posts",
    ] {
        assert!(!form_may_carry_token(get), "{get:?}");
    }
}
