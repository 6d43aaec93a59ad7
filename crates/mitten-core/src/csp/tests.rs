use super::*;

fn nonce() -> CspNonce {
    CspNonce::from_random_bytes([0; 18])
}

fn rendered(csp: ContentSecurityPolicy) -> String {
    let compiled = csp.compile().expect("valid policy");
    compiled
        .render(&nonce(), None)
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default()
}

#[test]
fn strict_policy_renders_with_nonces() {
    assert_eq!(
        rendered(ContentSecurityPolicy::strict()),
        "default-src 'self'; script-src 'nonce-AAAAAAAAAAAAAAAAAAAAAAAA' 'strict-dynamic'; \
         style-src 'nonce-AAAAAAAAAAAAAAAAAAAAAAAA' 'self'; img-src 'self' data:; \
         object-src 'none'; base-uri 'none'; form-action 'self'"
    );
}

#[test]
fn nonce_only_goes_into_present_directives_and_never_into_none() {
    let csp = ContentSecurityPolicy::empty()
        .default_src([Source::SelfOrigin])
        .style_src([Source::None]);
    assert_eq!(rendered(csp), "default-src 'self'; style-src 'none'");
}

#[test]
fn talisman_policy_matches_flask_talisman_default() {
    assert_eq!(
        rendered(ContentSecurityPolicy::talisman()),
        "default-src 'self'; object-src 'none'"
    );
}

#[test]
fn frame_ancestors_are_appended() {
    let compiled = ContentSecurityPolicy::api().compile().expect("valid");
    let value = compiled
        .render(&nonce(), Some("frame-ancestors 'none'"))
        .expect("value");
    assert_eq!(value, "default-src 'none'; frame-ancestors 'none'");
}

#[test]
fn parse_round_trips_and_keeps_order() {
    let text = "default-src 'self'; img-src * data:; sandbox allow-forms allow-scripts; \
                upgrade-insecure-requests; report-uri /csp-report";
    let csp = ContentSecurityPolicy::parse(text)
        .expect("parses")
        .nonce_in([]);
    assert_eq!(rendered(csp), text);
}

#[test]
fn parse_ignores_empty_directives() {
    let csp = ContentSecurityPolicy::parse("default-src 'self';  ;").expect("parses");
    assert_eq!(rendered(csp), "default-src 'self'");
}

#[test]
fn unknown_directive_is_a_start_up_error() {
    assert_eq!(
        ContentSecurityPolicy::parse("default-src 'self'; scirpt-src 'self'"),
        Err(ConfigError::UnknownDirective("scirpt-src".into()))
    );
}

#[test]
fn duplicate_directive_is_a_start_up_error() {
    assert_eq!(
        ContentSecurityPolicy::parse("img-src 'self'; img-src *"),
        Err(ConfigError::DuplicateDirective("img-src"))
    );
}

#[test]
fn host_source_with_directive_injection_is_a_start_up_error() {
    let err = ContentSecurityPolicy::strict()
        .script_src([Source::host("example.com; script-src *")])
        .compile()
        .expect_err("must be rejected");
    assert!(matches!(
        err,
        ConfigError::InvalidSource {
            directive: "script-src",
            ..
        }
    ));
}

#[test]
fn crlf_in_a_policy_is_a_start_up_error() {
    assert!(matches!(
        ContentSecurityPolicy::parse("default-src 'self'\r\nSet-Cookie: a=b"),
        Err(ConfigError::InvalidHeaderValue { .. })
    ));
    let err = ContentSecurityPolicy::strict()
        .report_uri("/r\r\nX-Evil: 1")
        .compile()
        .expect_err("must be rejected");
    assert!(matches!(
        err,
        ConfigError::InvalidDirectiveValue {
            directive: "report-uri",
            ..
        }
    ));
    let err = ContentSecurityPolicy::strict()
        .report_to("csp", "/r\"\r\n")
        .compile()
        .expect_err("must be rejected");
    assert!(matches!(err, ConfigError::InvalidHeaderValue { .. }));
}

#[test]
fn a_reporting_endpoint_is_named_as_a_structured_field_key() {
    for bad in ["CSP", "9csp", "-csp", "csp endpoint", "cs\u{e9}p"] {
        assert!(
            ContentSecurityPolicy::strict()
                .report_to(bad, "/r")
                .compile()
                .is_err(),
            "{bad:?}"
        );
    }
    for good in ["csp", "csp-endpoint", "csp_1"] {
        let compiled = ContentSecurityPolicy::strict()
            .report_to(good, "/r")
            .compile()
            .expect(good);
        let endpoints = compiled.reporting_endpoints().expect("declared");
        assert_eq!(endpoints.to_str().expect("ascii"), format!("{good}=\"/r\""));
    }
}

#[test]
fn a_backslash_cannot_break_the_reporting_endpoint_out_of_its_quotes() {
    // `Reporting-Endpoints: csp="/r\"` would escape the closing quote: a malformed header, so
    // no report would be sent at all.
    let err = ContentSecurityPolicy::strict()
        .report_to("csp", "/r\\")
        .compile()
        .expect_err("must be rejected");
    assert!(matches!(err, ConfigError::InvalidHeaderValue { .. }));
    assert!(
        ContentSecurityPolicy::strict()
            .report_uri("/r\\x")
            .compile()
            .is_err()
    );
}

#[test]
fn none_must_stand_alone() {
    let err = ContentSecurityPolicy::empty()
        .object_src([Source::None, Source::SelfOrigin])
        .compile()
        .expect_err("must be rejected");
    assert_eq!(err, ConfigError::NoneNotAlone("object-src"));
}

#[test]
fn value_kinds_are_enforced() {
    assert!(
        ContentSecurityPolicy::empty()
            .sandbox(["allow-everything"])
            .compile()
            .is_err()
    );
    assert!(
        ContentSecurityPolicy::empty()
            .directive(Directive::Sandbox, [Source::SelfOrigin])
            .compile()
            .is_err()
    );
    assert!(
        ContentSecurityPolicy::empty()
            .directive_tokens(Directive::ScriptSrc, ["'self'"])
            .compile()
            .is_err()
    );
    assert!(
        ContentSecurityPolicy::empty()
            .directive_tokens(Directive::Webrtc, ["'maybe'"])
            .compile()
            .is_err()
    );
    assert!(
        ContentSecurityPolicy::empty()
            .directive_tokens(Directive::UpgradeInsecureRequests, ["x"])
            .compile()
            .is_err()
    );
    assert!(
        ContentSecurityPolicy::empty()
            .require_trusted_types_for_script()
            .trusted_types(["default", "'allow-duplicates'"])
            .compile()
            .is_ok()
    );
}

#[test]
fn report_only_needs_an_endpoint() {
    assert_eq!(
        ContentSecurityPolicy::strict()
            .report_only()
            .compile()
            .err(),
        Some(ConfigError::ReportOnlyWithoutEndpoint)
    );
    let compiled = ContentSecurityPolicy::strict()
        .report_only()
        .report_to("csp-endpoint", "https://example.com/reports")
        .compile()
        .expect("valid");
    assert_eq!(compiled.header_name(), CONTENT_SECURITY_POLICY_REPORT_ONLY);
    assert_eq!(
        compiled.reporting_endpoints().expect("endpoint"),
        "csp-endpoint=\"https://example.com/reports\""
    );
    assert!(
        rendered(ContentSecurityPolicy::strict().report_to("csp-endpoint", "/reports"))
            .ends_with("; report-to csp-endpoint")
    );
}

#[test]
fn every_directive_name_parses_back() {
    for directive in Directive::ALL {
        assert_eq!(directive.as_str().parse::<Directive>(), Ok(*directive));
    }
}
