//! Memory per idle session: the growth of the resident set while 200 000 sessions are created,
//! with an empty payload and with one small value (`"user": "alice"`), each store measured in a
//! fresh child process.
//!
//! `cargo bench -p mitten-benches --bench session_memory`

#![allow(missing_docs)]

use std::collections::HashMap;
use std::process::Command;

use mitten::session::{MemoryStore, Record, SessionId, SessionStore};
use mitten_benches::{ready, rss_bytes};
use tower_sessions::session::{Id, Record as TsRecord};
use tower_sessions::session_store::SessionStore as TsStore;

const SESSIONS: usize = 200_000;

fn measure(which: &str, with_value: bool) -> f64 {
    // Keys are made before the baseline: they belong to the clients, not the store.
    let keys: Vec<_> = (0..SESSIONS)
        .map(|_| SessionId::generate().store_key())
        .collect();
    let ids: Vec<Id> = (0..SESSIONS).map(|_| Id::default()).collect();
    let expiry = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let before = rss_bytes();
    match which {
        "mitten" => {
            let store = MemoryStore::new(SESSIONS);
            for key in &keys {
                ready(store.create(
                    *key,
                    std::sync::Arc::new({
                        let mut record = Record {
                            version: 1,
                            ..Record::new(1)
                        };
                        if with_value {
                            record.data.insert("user".to_owned(), "alice".into());
                        }
                        record
                    }),
                    u64::MAX / 2,
                ))
                .expect("create");
            }
            let after = rss_bytes();
            std::hint::black_box(&store);
            (after - before) as f64 / SESSIONS as f64
        }
        _ => {
            let store = tower_sessions::MemoryStore::default();
            for id in &ids {
                let mut record = TsRecord {
                    id: *id,
                    data: if with_value {
                        HashMap::from([("user".to_owned(), "alice".into())])
                    } else {
                        HashMap::new()
                    },
                    expiry_date: expiry,
                };
                ready(store.create(&mut record)).expect("create");
            }
            let after = rss_bytes();
            std::hint::black_box(&store);
            (after - before) as f64 / SESSIONS as f64
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        let which = args.get(at + 1).map_or("mitten", String::as_str);
        let with_value = args.get(at + 2).is_some_and(|a| a == "value");
        println!("{:.0}", measure(which, with_value));
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let exe = std::env::current_exe().expect("exe");
    println!("memory per idle session ({SESSIONS} sessions, resident-set growth):");
    for (payload, label) in [
        ("empty", "empty payload"),
        ("value", r#"{"user": "alice"}"#),
    ] {
        for which in ["mitten", "tower-sessions"] {
            let output = Command::new(&exe)
                .args(["--child", which, payload])
                .output()
                .expect("child");
            let bytes = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            println!("  {which:<15} MemoryStore, {label}: {bytes} bytes");
        }
    }
}
