//! Session load and save in process, Mitten's `MemoryStore` against tower-sessions's, with
//! 100 000 live sessions in each.
//!
//! `cargo bench -p mitten-benches --bench sessions`

#![allow(missing_docs)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use mitten::session::{MemoryStore, Record, SessionId, SessionStore, StoreKey};
use mitten_benches::ready;
use serde_json::json;
use tower_sessions::session::{Id, Record as TsRecord};
use tower_sessions::session_store::SessionStore as TsStore;

const LIVE: usize = 100_000;

fn sessions(c: &mut Criterion) {
    let far = u64::MAX / 2;
    let store = MemoryStore::new(2 * LIVE);
    let keys: Vec<StoreKey> = (0..LIVE)
        .map(|_| SessionId::generate().store_key())
        .collect();
    for key in &keys {
        let mut record = Record::new(1);
        record.data.insert("user".into(), json!("alice"));
        record.version = 1;
        ready(store.create(*key, Arc::new(record), far)).expect("create");
    }
    let ts_store = tower_sessions::MemoryStore::default();
    let expiry = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let mut ts_ids = Vec::with_capacity(LIVE);
    for _ in 0..LIVE {
        let mut record = TsRecord {
            id: Id::default(),
            data: HashMap::from([("user".to_owned(), json!("alice"))]),
            expiry_date: expiry,
        };
        ready(ts_store.create(&mut record)).expect("create");
        ts_ids.push(record.id);
    }

    let mut group = c.benchmark_group("session load, 100k live");
    let mut i = 0;
    group.bench_function("mitten MemoryStore", |b| {
        b.iter(|| {
            i = (i + 7919) % LIVE;
            black_box(ready(store.load(keys[i])).expect("load"))
        })
    });
    group.bench_function("tower-sessions MemoryStore", |b| {
        b.iter(|| {
            i = (i + 7919) % LIVE;
            black_box(ready(ts_store.load(&ts_ids[i])).expect("load"))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("session load + save, 100k live");
    group.bench_function("mitten MemoryStore", |b| {
        b.iter(|| {
            i = (i + 7919) % LIVE;
            let record = ready(store.load(keys[i])).expect("load").expect("present");
            let mut next = (*record).clone();
            next.data.insert("n".into(), json!(i));
            next.version = record.version + 1;
            black_box(
                ready(store.update(keys[i], Arc::new(next), record.version, far)).expect("update"),
            )
        })
    });
    group.bench_function("tower-sessions MemoryStore", |b| {
        b.iter(|| {
            i = (i + 7919) % LIVE;
            let mut record = ready(ts_store.load(&ts_ids[i]))
                .expect("load")
                .expect("present");
            record.data.insert("n".into(), json!(i));
            ready(ts_store.save(black_box(&record))).expect("save");
        })
    });
    group.finish();
}

criterion_group!(benches, sessions);
criterion_main!(benches);
