//! Every decoder of signed values, on arbitrary input: no panic, nothing verifies without the
//! key (a fuzzer cannot forge a MAC, so every decoder must refuse what it makes up), and what is
//! signed verifies to the same value, under its own purpose only.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitten_core::sign::{FlaskSession, Serializer, SignedCookies, Signer, TimedSerializer, TimestampSigner};
use mitten_core::{Keyring, SecretKey};
use serde_json::Value;

const NOW: u64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let keys = Keyring::new(SecretKey::from_bytes_unchecked(b"fuzz-secret".to_vec()));

    let signer = Signer::new(&keys, "s");
    let timestamped = TimestampSigner::new(&keys, "s");
    let cookies = SignedCookies::new(&keys);
    assert!(signer.unsign(text).is_err(), "forged: {text:?}");
    assert!(timestamped.unsign_at(text, Some(60), NOW).is_err(), "forged: {text:?}");
    assert!(Serializer::new(&keys, "s").loads::<Value>(text).is_err(), "forged: {text:?}");
    assert!(Serializer::url_safe(&keys, "s").loads::<Value>(text).is_err(), "forged: {text:?}");
    let timed = TimedSerializer::url_safe(&keys, "s");
    assert!(timed.loads_at::<Value>(text, Some(60), NOW).is_err(), "forged: {text:?}");
    assert!(FlaskSession::new(&keys).decode_at(text, None, NOW).is_err(), "forged: {text:?}");
    assert!(cookies.verify_at("id", text, 60, NOW).is_err(), "forged: {text:?}");

    let signed = signer.sign(text);
    assert_eq!(signer.unsign(&signed).ok(), Some(text));
    assert!(Signer::new(&keys, "other").unsign(&signed).is_err(), "another purpose");
    let stamped = timestamped.sign_at(text, NOW);
    assert_eq!(timestamped.unsign_at(&stamped, Some(60), NOW + 1).ok(), Some((text, NOW)));
    assert!(timestamped.unsign_at(&stamped, Some(60), NOW + 61).is_err(), "expired");
    let cookie = cookies.sign_at("id", text, NOW);
    assert_eq!(cookies.verify_at("id", &cookie, 60, NOW).ok(), Some(text));
    assert!(cookies.verify_at("other", &cookie, 60, NOW).is_err(), "another cookie's name");
    let dumped = timed.dumps_at(text, NOW).expect("a string serialises");
    let loaded: Option<(String, u64)> = timed.loads_at(&dumped, Some(60), NOW).ok();
    assert_eq!(loaded, Some((text.to_owned(), NOW)));
});
