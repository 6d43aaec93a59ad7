//! A load test of the Redis stores on loopback: 32 concurrent clients each loading and saving
//! sessions for 5 s, Mitten's `RedisStore` and tower-sessions's (fred), against one
//! `redis-server` started here.
//!
//! `cargo bench -p mitten-benches --bench redis_load`

#![allow(missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mitten::session::{Record, SessionId, SessionStore, StoreKey};
use mitten_redis::RedisStore;
use mitten_testkit::RedisServer;
use serde_json::json;
use tower_sessions_core_014::session::{Id, Record as TsRecord};
use tower_sessions_core_014::session_store::SessionStore as TsStore;

const CLIENTS: usize = 32;
const SESSIONS: usize = 1_000;
const RUN: Duration = Duration::from_secs(5);

async fn mitten_rate(url: &str) -> f64 {
    let store = Arc::new(
        RedisStore::connect_with_prefix(url, "bench:")
            .await
            .expect("connect"),
    );
    let far = u64::from(u32::MAX);
    let keys: Arc<Vec<StoreKey>> = Arc::new(
        (0..SESSIONS)
            .map(|_| SessionId::generate().store_key())
            .collect(),
    );
    for key in keys.iter() {
        let mut record = Record::new(1);
        record.data.insert("user".into(), json!("alice"));
        record.version = 1;
        store
            .create(*key, Arc::new(record), far)
            .await
            .expect("create");
    }
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (store, keys, done) = (store.clone(), keys.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = client;
            while start.elapsed() < RUN {
                i = (i + CLIENTS) % SESSIONS;
                let record = store.load(keys[i]).await.expect("load").expect("present");
                let mut next = (*record).clone();
                next.data.insert("n".into(), json!(i));
                next.version = record.version + 1;
                let _ = store
                    .update(keys[i], Arc::new(next), record.version, far)
                    .await
                    .expect("update");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

async fn tower_sessions_rate(url: &str) -> f64 {
    use fred::prelude::*;
    let config = Config::from_url(url).expect("url");
    let pool = Builder::from_config(config).build_pool(4).expect("pool");
    pool.init().await.expect("connect");
    let store = Arc::new(tower_sessions_redis_store::RedisStore::new(pool));
    let expiry = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let mut ids = Vec::new();
    for _ in 0..SESSIONS {
        let mut record = TsRecord {
            id: Id::default(),
            data: HashMap::from([("user".to_owned(), json!("alice"))]),
            expiry_date: expiry,
        };
        store.create(&mut record).await.expect("create");
        ids.push(record.id);
    }
    let ids = Arc::new(ids);
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (store, ids, done) = (store.clone(), ids.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = client;
            while start.elapsed() < RUN {
                i = (i + CLIENTS) % SESSIONS;
                let mut record = store.load(&ids[i]).await.expect("load").expect("present");
                record.data.insert("n".into(), json!(i));
                store.save(&record).await.expect("save");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let Some(redis) = RedisServer::start("the Redis load test") else {
        eprintln!("redis_load: redis-server is needed");
        std::process::exit(1);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "Redis load test: {CLIENTS} clients, load + save of one of {SESSIONS} sessions, {RUN:?} each, redis-server on loopback"
    );
    for round in 1..=2 {
        let mitten = runtime.block_on(mitten_rate(&redis.url()));
        let peer = runtime.block_on(tower_sessions_rate(&redis.url()));
        println!(
            "  round {round}: mitten RedisStore {mitten:.0} sessions/s, tower-sessions RedisStore (fred) {peer:.0} sessions/s"
        );
    }
}
