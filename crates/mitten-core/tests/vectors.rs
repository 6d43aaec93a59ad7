//! Known answers from the real itsdangerous, Flask and werkzeug (`scripts/vectors/generate.py`).

#![cfg(all(feature = "signing", feature = "files"))]

use mitten_core::files::{safe_join, secure_filename, stays_inside};
use mitten_core::sign::{
    Digest, FlaskSession, KeyDerivation, Serializer, SignatureError, Signer, TimedSerializer,
    TimestampSigner,
};
use mitten_core::{Keyring, SecretKey};
use serde_json::Value;

fn vectors(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("vectors")).expect("json")
}

fn keyring(secret: &Value) -> Keyring {
    Keyring::new(SecretKey::from_bytes_unchecked(
        secret.as_str().expect("secret").as_bytes().to_vec(),
    ))
}

fn text(value: &Value) -> &str {
    value.as_str().expect("string")
}

fn signer(v: &Value) -> Signer {
    let key_derivation = match text(&v["key_derivation"]) {
        "django-concat" => KeyDerivation::DjangoConcat,
        "concat" => KeyDerivation::Concat,
        "hmac" => KeyDerivation::Hmac,
        _ => KeyDerivation::None,
    };
    let digest = match text(&v["digest"]) {
        "sha1" => Digest::Sha1,
        "sha256" => Digest::Sha256,
        _ => Digest::Sha512,
    };
    Signer::builder(&keyring(&v["secret"]))
        .salt(text(&v["salt"]))
        .key_derivation(key_derivation)
        .digest(digest)
        .separator(text(&v["separator"]).chars().next().expect("separator"))
        .build()
        .expect("valid signer")
}

#[test]
fn signer_matches_itsdangerous() {
    let all = vectors("itsdangerous.json");
    let cases = all["signer"].as_array().expect("cases");
    assert!(cases.len() > 100);
    for v in cases {
        let signer = signer(v);
        assert_eq!(signer.sign(text(&v["value"])), text(&v["token"]), "{v}");
        assert_eq!(
            signer.unsign(text(&v["token"])),
            Ok(text(&v["value"])),
            "{v}"
        );
    }
}

#[test]
fn timestamp_signer_matches_itsdangerous() {
    let all = vectors("itsdangerous.json");
    for v in all["timestamp_signer"].as_array().expect("cases") {
        let signer = TimestampSigner::new(&keyring(&v["secret"]), text(&v["salt"]));
        let ts = v["timestamp"].as_u64().expect("ts");
        assert_eq!(
            signer.sign_at(text(&v["value"]), ts),
            text(&v["token"]),
            "{v}"
        );
        assert_eq!(
            signer.unsign_at(text(&v["token"]), Some(10), ts + 10),
            Ok((text(&v["value"]), ts))
        );
        assert!(matches!(
            signer.unsign_at(text(&v["token"]), Some(10), ts + 11),
            Err(SignatureError::Expired { age: 11, .. })
        ));
    }
}

#[test]
fn serializers_match_itsdangerous() {
    let all = vectors("itsdangerous.json");
    for v in all["serializer"].as_array().expect("cases") {
        let mut keys = keyring(&v["secret"]);
        if let Some(old) = v["old_secrets"].as_array() {
            for secret in old {
                keys = keys.with_fallback(SecretKey::from_bytes_unchecked(
                    text(secret).as_bytes().to_vec(),
                ));
            }
        }
        let salt = text(&v["salt"]);
        let token = text(&v["token"]);
        let payload = &v["payload"];
        match text(&v["kind"]) {
            kind @ ("Serializer" | "URLSafeSerializer") => {
                let serializer = if kind == "Serializer" {
                    Serializer::new(&keys, salt)
                } else {
                    Serializer::url_safe(&keys, salt)
                };
                assert_eq!(serializer.dumps(payload).expect("dumps"), token, "{v}");
                assert_eq!(
                    &serializer.loads::<Value>(token).expect("loads"),
                    payload,
                    "{v}"
                );
            }
            kind => {
                let serializer = if kind == "TimedSerializer" {
                    TimedSerializer::new(&keys, salt)
                } else {
                    TimedSerializer::url_safe(&keys, salt)
                };
                let ts = v["timestamp"].as_u64().expect("ts");
                if v["verifies_with_rotated_keyring"].as_bool() == Some(true) {
                    let rotated = keyring(&Value::from("test-secret"))
                        .with_fallback(SecretKey::from_bytes_unchecked(b"old-secret".to_vec()));
                    let serializer = TimedSerializer::url_safe(&rotated, salt);
                    let (loaded, _) = serializer
                        .loads_at::<Value>(token, Some(60), ts)
                        .expect("an older key still verifies");
                    assert_eq!(&loaded, payload);
                    continue;
                }
                assert_eq!(
                    serializer.dumps_at(payload, ts).expect("dumps"),
                    token,
                    "{v}"
                );
                assert_eq!(
                    &serializer
                        .loads_at::<Value>(token, None, ts)
                        .expect("loads")
                        .0,
                    payload,
                    "{v}"
                );
            }
        }
    }
}

#[test]
fn flask_session_cookies_read_and_written() {
    let all = vectors("itsdangerous.json");
    for v in all["flask_session"].as_array().expect("cases") {
        let flask = FlaskSession::new(&keyring(&v["secret"]));
        let ts = v["timestamp"].as_u64().expect("ts");
        let cookie = text(&v["cookie"]);
        let decoded = flask
            .decode_at(cookie, Some(mitten_core::sign::FLASK_SESSION_MAX_AGE), ts)
            .expect("decodes");
        match v.get("decoded") {
            Some(expected) => assert_eq!(&decoded, expected),
            None => {
                assert_eq!(&decoded, &v["session"]);
                assert_eq!(flask.encode_at(&v["session"], ts).expect("encodes"), cookie);
            }
        }
    }
}

#[test]
fn tampering_any_byte_is_rejected() {
    let all = vectors("itsdangerous.json");
    let keys = keyring(&Value::from("test-secret"));
    let serializer = TimedSerializer::url_safe(&keys, "test-salt");
    let tokens: Vec<&str> = all["serializer"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|v| {
            v["kind"] == "URLSafeTimedSerializer"
                && v["secret"] == "test-secret"
                && v["old_secrets"].is_null()
        })
        .map(|v| text(&v["token"]))
        .collect();
    assert!(tokens.len() >= 5);
    for token in tokens {
        assert!(
            serializer
                .loads_at::<Value>(token, None, 1_700_000_000)
                .is_ok()
        );
        for position in 0..token.len() {
            for replacement in ['A', 'B', '_', '.', '-', 'z'] {
                let mut bytes = token.as_bytes().to_vec();
                if bytes[position] == replacement as u8 {
                    continue;
                }
                bytes[position] = replacement as u8;
                let tampered = String::from_utf8(bytes).expect("ascii");
                assert!(
                    serializer
                        .loads_at::<Value>(&tampered, None, 1_700_000_000)
                        .is_err(),
                    "{tampered} accepted"
                );
            }
        }
        assert!(
            serializer
                .loads_at::<Value>(&token[..token.len() - 1], None, 1_700_000_000)
                .is_err()
        );
        assert!(
            serializer
                .loads_at::<Value>(&format!("{token}="), None, 1_700_000_000)
                .is_err()
        );
    }
}

#[test]
fn salts_are_purposes() {
    let keys = keyring(&Value::from("test-secret"));
    let token = Serializer::url_safe(&keys, "password-reset")
        .dumps(&42)
        .expect("dumps");
    assert_eq!(
        Serializer::url_safe(&keys, "email-confirm").loads::<u32>(&token),
        Err(SignatureError::BadSignature)
    );
}

#[test]
fn secure_filename_matches_werkzeug_on_windows() {
    let all = vectors("werkzeug.json");
    for v in all["secure_filename"].as_array().expect("cases") {
        assert_eq!(
            secure_filename(text(&v["input"])),
            text(&v["windows"]),
            "{v}"
        );
    }
}

#[test]
fn safe_join_matches_werkzeug_on_windows() {
    let all = vectors("werkzeug.json");
    for v in all["safe_join"].as_array().expect("cases") {
        let directory = text(&v["directory"]);
        let parts: Vec<&str> = v["parts"]
            .as_array()
            .expect("parts")
            .iter()
            .map(text)
            .collect();
        let expected = v["windows"].as_str();
        assert_eq!(
            safe_join(directory, parts.iter().copied()).as_deref(),
            expected,
            "{v}"
        );
        if let Some(joined) = expected {
            assert!(stays_inside(directory, joined), "{joined}");
        }
    }
}

#[test]
fn safe_join_stricter_than_werkzeug() {
    assert_eq!(safe_join("/var/www", ["a\0b"]), None);
    assert_eq!(safe_join("/var/www", ["C:x"]), None);
    assert_eq!(
        safe_join("/var/www", ["file.txt:stream"]).as_deref(),
        Some("/var/www/file.txt:stream")
    );
}

#[test]
fn safe_join_never_leaves_the_base_for_random_input() {
    use rand::Rng as _;
    let alphabet: Vec<char> = "./\\:aC%2e\0 N".chars().chain("UL".chars()).collect();
    let mut rng = rand::rng();
    for _ in 0..20_000 {
        let len = rng.random_range(0..12);
        let part: String = (0..len)
            .map(|_| alphabet[rng.random_range(0..alphabet.len())])
            .collect();
        if let Some(joined) = safe_join("/srv/files", [part.as_str()]) {
            assert!(
                stays_inside("/srv/files", &joined),
                "{part:?} -> {joined:?}"
            );
        }
    }
}
