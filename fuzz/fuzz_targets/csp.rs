//! CSP parsing, building and compiling: no panic; whatever compiles renders a valid header value
//! that parses back; and nothing given to the builder (a host, a scheme, a hash, sandbox flags,
//! Trusted Types names, a report URI, a reporting endpoint) can add a directive, a second policy
//! or a second reporting endpoint.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitten_core::csp::{ContentSecurityPolicy, CspNonce, Source};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    parsed(text);
    built(text);
});

fn nonce() -> CspNonce {
    CspNonce::from_random_bytes([0; 18])
}

/// A policy parsed from text.
fn parsed(text: &str) {
    let Ok(policy) = ContentSecurityPolicy::parse(text) else { return };
    let Ok(compiled) = policy.nonce_in([]).compile() else { return };
    if let Some(value) = compiled.render(&nonce(), None) {
        let rendered = value.to_str().expect("visible ASCII");
        assert!(!rendered.contains(['\r', '\n']));
        let _reparsed = ContentSecurityPolicy::parse(rendered).expect("a rendered policy parses back");
    }
}

/// A policy built from untrusted pieces, `\u{1}`-separated, beside a reference built the same
/// way from known-good pieces: the two must have as many directives.
fn built(text: &str) {
    let mut parts = text.split('\u{1}');
    let mut next = || parts.next().unwrap_or_default();
    let (host, scheme, hash, sandbox, types, uri, group, url) =
        (next(), next(), next(), next(), next(), next(), next(), next());
    // Without nonces: a rendered nonce is not a source `parse` takes back.
    let mut policy = ContentSecurityPolicy::strict()
        .nonce_in([])
        .img_src([Source::host(host), Source::scheme(scheme), Source::sha256(hash)]);
    let mut reference = ContentSecurityPolicy::strict().nonce_in([]).img_src([Source::SelfOrigin]);
    if !sandbox.is_empty() {
        policy = policy.sandbox(sandbox.split(' '));
        reference = reference.sandbox(["allow-forms"]);
    }
    if !types.is_empty() {
        policy = policy.trusted_types(types.split(' '));
        reference = reference.trusted_types(["app"]);
    }
    if !uri.is_empty() {
        policy = policy.report_uri(uri);
        reference = reference.report_uri("/csp-report");
    }
    if !group.is_empty() {
        policy = policy.report_to(group, url);
        reference = reference.report_to("csp", "/csp-report");
    }
    let Ok(compiled) = policy.compile() else { return };
    let reference = reference.compile().expect("the reference compiles");
    let rendered = compiled.render(&nonce(), None).expect("a policy");
    let rendered = rendered.to_str().expect("visible ASCII");
    let expected = reference.render(&nonce(), None).expect("a policy");
    let expected = expected.to_str().expect("visible ASCII");
    assert_eq!(rendered.matches(';').count(), expected.matches(';').count(), "{rendered}");
    assert!(!rendered.contains(','), "a second policy: {rendered}");
    let _reparsed = ContentSecurityPolicy::parse(rendered).expect("a rendered policy parses back");
    if let Some(endpoints) = compiled.reporting_endpoints() {
        let endpoints = endpoints.to_str().expect("visible ASCII");
        let (name, quoted) = endpoints.split_once('=').expect("name=\"url\"");
        assert_eq!(name, group);
        let mut key = name.bytes();
        assert!(
            key.next().is_some_and(|b| b.is_ascii_lowercase() || b == b'*')
                && key.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.*".contains(&b)),
            "a structured-field key: {endpoints}"
        );
        let inner = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"'));
        assert!(
            inner.is_some_and(|url| !url.contains(['"', '\\', ','])),
            "one endpoint, one well-formed string: {endpoints}"
        );
    }
}
