//! `safe_join` never leaves the base; `secure_filename` only ever returns safe names. The base
//! is checked by walking the joined path's segments here, independently of the library's own
//! `stays_inside`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitten_core::files::{UploadPolicy, safe_join, secure_filename, stays_inside};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parts: Vec<&str> = text.splitn(3, '\u{1}').collect();
    for base in ["/srv/files", "", "static/"] {
        if let Some(joined) = safe_join(base, parts.iter().copied()) {
            assert!(within(base, &joined), "{base:?} + {parts:?} -> {joined:?}");
            assert!(stays_inside(base, &joined), "{base:?} + {parts:?} -> {joined:?}");
        }
    }
    let name = secure_filename(text);
    assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)), "{name:?}");
    assert!(!name.starts_with('.') && !name.ends_with('.') && !name.contains('/'), "{name:?}");
    if !name.is_empty() {
        assert_eq!(safe_join("/srv/files", [name.as_str()]).as_deref(), Some(format!("/srv/files/{name}").as_str()));
    }
    let stored = UploadPolicy::new().allow_extensions(["txt", "png"]).store(text);
    assert!(UploadPolicy::is_stored_name(&stored.stored_name));
});

/// Whether `joined` names something under `base`, resolved lexically: it starts with the base,
/// below it comes no separator of its own (`/` at once, a backslash), no NUL, and the `..`
/// segments never climb above where the base ends. (Windows' own quirks, trailing dots and
/// `:` streams, are `secure_filename`'s and `safe_join`'s known-answer tests', not this.)
fn within(base: &str, joined: &str) -> bool {
    let base = if base.is_empty() { "." } else { base.trim_end_matches('/') };
    let Some(below) = joined.strip_prefix(base).and_then(|rest| rest.strip_prefix('/').or(rest.is_empty().then_some(""))) else {
        return false;
    };
    if below.contains(['\\', '\0']) || below.starts_with('/') {
        return false;
    }
    let mut depth = 0_i32;
    for segment in below.split('/') {
        match segment {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}
