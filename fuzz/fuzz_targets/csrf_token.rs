//! The masked-token decoder: no panic, and random input never verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitten_core::SecretKey;
use mitten_core::csrf::{Binding, CookieSecret, TokenKey};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let key = TokenKey::new(&SecretKey::from_bytes_unchecked(vec![1; 32]));
    let session = [2u8; 32];
    assert!(!key.verify(text, Binding::session(&session), None));
    assert!(key.verify_once(text, Binding::session(&session), None, 1_700_000_000, 3600).is_none());
    if let Some(secret) = CookieSecret::parse(text) {
        assert_eq!(CookieSecret::parse(&secret.to_cookie_value()), Some(secret));
    }
});
