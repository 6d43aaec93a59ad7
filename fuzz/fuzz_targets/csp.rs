//! CSP parsing and compiling: no panic, and whatever compiles renders a valid header value that
//! parses back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitten_core::csp::{ContentSecurityPolicy, CspNonce};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(policy) = ContentSecurityPolicy::parse(text) else { return };
    let Ok(compiled) = policy.nonce_in([]).compile() else { return };
    if let Some(value) = compiled.render(&CspNonce::from_random_bytes([0; 18]), None) {
        let rendered = value.to_str().expect("visible ASCII");
        assert!(!rendered.contains(['\r', '\n']));
        let _reparsed = ContentSecurityPolicy::parse(rendered).expect("a rendered policy parses back");
    }
});
