//! Origins and path patterns: no panic; a parsed origin serialises to something that parses to
//! the same origin; a matching path is a normalised one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitten_core::{Origin, PathPattern};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(origin) = Origin::parse(text) {
        let again = Origin::parse(&origin.to_string()).expect("a serialised origin parses");
        assert_eq!(origin, again);
        assert!(!origin.host().contains(['@', '/', '?', '#', '%']));
    }
    let hook = PathPattern::exact("/hooks/echo").expect("valid");
    if hook.matches(text) {
        assert_eq!(text, "/hooks/echo");
    }
    let prefix = PathPattern::prefix("/static").expect("valid");
    if prefix.matches(text) {
        assert!(!text.contains("..") || text.split('/').all(|s| s != ".."));
        assert!(text == "/static" || text.starts_with("/static/"));
    }
});
