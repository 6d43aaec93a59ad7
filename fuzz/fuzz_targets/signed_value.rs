//! Every decoder of signed values, on arbitrary input: no panic, and nothing verifies without
//! the key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitten_core::sign::{FlaskSession, Serializer, SignedCookies, Signer, TimedSerializer, TimestampSigner};
use mitten_core::{Keyring, SecretKey};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let keys = Keyring::new(SecretKey::from_bytes_unchecked(b"fuzz-secret".to_vec()));
    assert!(Signer::new(&keys, "s").unsign(token).is_err() || token.contains('.'));
    let _ = TimestampSigner::new(&keys, "s").unsign_at(token, Some(60), 1_700_000_000);
    let _ = Serializer::new(&keys, "s").loads::<Value>(token);
    let _ = Serializer::url_safe(&keys, "s").loads::<Value>(token);
    let _ = TimedSerializer::url_safe(&keys, "s").loads_at::<Value>(token, Some(60), 1_700_000_000);
    let _ = FlaskSession::new(&keys).decode_at(token, None, 1_700_000_000);
    let _ = SignedCookies::new(&keys).verify_at("id", token, 60, 1_700_000_000);
});
