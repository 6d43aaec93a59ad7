//! `safe_join` never leaves the base; `secure_filename` only ever returns safe names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitten_core::files::{UploadPolicy, safe_join, secure_filename, stays_inside};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parts: Vec<&str> = text.splitn(3, '\u{1}').collect();
    for base in ["/srv/files", "", "static/"] {
        if let Some(joined) = safe_join(base, parts.iter().copied()) {
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
