//! Tokens go both ways between Mitten and the real itsdangerous / Flask, with the current time.
//!
//! Needs a Python with the pinned libraries: `MITTEN_PYTHON=/path/to/python` (`.ci/vectors.sh`
//! makes one). Without it the test fails in CI (`CI` set) and is reported as not run locally.

#![cfg(feature = "signing")]
#![allow(clippy::panic)] // A test fails by panicking.

use std::io::Write as _;
use std::process::{Command, Stdio};

use mitten_core::sign::{FLASK_SESSION_MAX_AGE, FlaskSession, Serializer, TimedSerializer};
use mitten_core::{Keyring, SecretKey};
use serde_json::{Value, json};

fn python() -> Option<String> {
    match std::env::var("MITTEN_PYTHON") {
        Ok(python) => Some(python),
        Err(_) if std::env::var_os("CI").is_some() => {
            panic!("CI is set but MITTEN_PYTHON is not: .ci/vectors.sh provides it")
        }
        Err(_) => None,
    }
}

fn keys(secret: &str) -> Keyring {
    Keyring::new(SecretKey::from_bytes_unchecked(secret.as_bytes().to_vec()))
}

fn run_python(python: &str, request: &Value) -> Value {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/vectors/roundtrip.py"
    );
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("python ran");
    assert!(output.status.success(), "roundtrip.py failed");
    serde_json::from_slice(&output.stdout).expect("json from python")
}

#[test]
fn tokens_round_trip_between_rust_and_itsdangerous() {
    let Some(python) = python() else {
        eprintln!("python_roundtrip: MITTEN_PYTHON not set; not run (CI runs it)");
        return;
    };
    let payloads = [
        json!({"user_id": 42, "roles": ["admin", "ops"]}),
        json!("héllo wörld \u{1F600}"),
        json!({"blob": "z".repeat(500)}),
        json!([1, 2.5, null, true]),
    ];
    let mut verify = Vec::new();
    let mut expected = Vec::new();
    for payload in &payloads {
        for kind in [
            "URLSafeTimedSerializer",
            "URLSafeSerializer",
            "TimedSerializer",
            "Serializer",
        ] {
            let ring = keys("rust-secret");
            let token = match kind {
                "URLSafeTimedSerializer" => TimedSerializer::url_safe(&ring, "rt").dumps(payload),
                "TimedSerializer" => TimedSerializer::new(&ring, "rt").dumps(payload),
                "URLSafeSerializer" => Serializer::url_safe(&ring, "rt").dumps(payload),
                _ => Serializer::new(&ring, "rt").dumps(payload),
            }
            .expect("dumps");
            verify
                .push(json!({"kind": kind, "secret": "rust-secret", "salt": "rt", "token": token}));
            expected.push(payload.clone());
        }
    }
    let session = json!({"user_id": 7, "csrf_token": "abc", "cart": [1, 2]});
    let cookie = FlaskSession::new(&keys("flask-secret"))
        .encode_at(&session, now())
        .expect("encodes");
    verify.push(json!({"kind": "FlaskSession", "secret": "flask-secret", "token": cookie}));
    expected.push(session.clone());
    // A token signed with a rotated-out key still verifies where that key is a fallback.
    let old = TimedSerializer::url_safe(&keys("old-secret"), "rt")
        .dumps(&json!(1))
        .expect("dumps");
    verify.push(json!({"kind": "URLSafeTimedSerializer", "secret": "rust-secret", "old_secrets": ["old-secret"], "salt": "rt", "token": old}));
    expected.push(json!(1));
    // A forged one does not.
    verify.push(
        json!({"kind": "URLSafeTimedSerializer", "secret": "other", "salt": "rt", "token": old}),
    );
    expected.push(json!({"error": "BadTimeSignature"}));

    let sign: Vec<Value> = payloads
        .iter()
        .map(|p| json!({"kind": "URLSafeTimedSerializer", "secret": "py-secret", "salt": "rt", "payload": p}))
        .chain([json!({"kind": "FlaskSession", "secret": "flask-secret", "payload": session})])
        .collect();

    let answer = run_python(&python, &json!({"verify": verify, "sign": sign}));
    assert_eq!(
        answer["verified"].as_array().expect("verified"),
        &expected,
        "Python read Rust's tokens"
    );

    let signed = answer["signed"].as_array().expect("signed");
    let from_python = TimedSerializer::url_safe(&keys("py-secret"), "rt");
    for (token, payload) in signed.iter().zip(&payloads) {
        let loaded: Value = from_python
            .loads(token.as_str().expect("token"), Some(3600))
            .expect("Rust reads Python's token");
        assert_eq!(&loaded, payload);
    }
    let flask_cookie = signed.last().and_then(Value::as_str).expect("cookie");
    let loaded = FlaskSession::new(&keys("flask-secret"))
        .decode(flask_cookie, Some(FLASK_SESSION_MAX_AGE))
        .expect("Rust reads Flask's cookie");
    assert_eq!(loaded, session);
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}
