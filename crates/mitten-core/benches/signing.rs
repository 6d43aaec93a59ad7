//! Signing and file-name costs: `URLSafeTimedSerializer` sign and verify of a 100-byte payload
//! (compare with `scripts/bench/itsdangerous_bench.py`, run in the same session), and
//! `secure_filename` of a 100-character Unicode name.
//!
//! `cargo bench -p mitten-core --all-features --bench signing`

#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mitten_core::files::secure_filename;
use mitten_core::sign::TimedSerializer;
use mitten_core::{Keyring, SecretKey};
use serde_json::{Value, json};

/// The payload both benchmarks sign: 100 bytes of compact JSON.
pub fn payload() -> Value {
    let value = json!({"user_id": 1234567, "name": "Ada Lovelace", "roles": ["admin", "editor"], "pad": "x".repeat(23)});
    assert_eq!(serde_json::to_string(&value).expect("json").len(), 100);
    value
}

fn signing(c: &mut Criterion) {
    let keys = Keyring::new(SecretKey::from_bytes_unchecked(b"bench-secret".to_vec()));
    let serializer = TimedSerializer::url_safe(&keys, "bench-salt");
    let payload = payload();
    let token = serializer.dumps(&payload).expect("dumps");
    c.bench_function("URLSafeTimedSerializer/dumps 100 B", |b| {
        b.iter(|| black_box(serializer.dumps(black_box(&payload))))
    });
    c.bench_function("URLSafeTimedSerializer/loads 100 B", |b| {
        b.iter(|| black_box(serializer.loads::<Value>(black_box(&token), Some(3600))))
    });
    let name: String = "Résumé für Ångström – ünïcödé ﬁle №1 "
        .repeat(3)
        .chars()
        .take(96)
        .chain(".pdf".chars())
        .collect();
    assert_eq!(name.chars().count(), 100);
    c.bench_function("secure_filename/100 chars unicode", |b| {
        b.iter(|| black_box(secure_filename(black_box(&name))))
    });
}

criterion_group!(benches, signing);
criterion_main!(benches);
