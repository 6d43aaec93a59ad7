//! The Redis session store for [Mitten](https://docs.rs/mitten): for applications that run on
//! more than one machine.
//!
//! Works with Redis 7 (and compatible servers with `EXPIRETIME` and Lua). One multiplexed
//! connection with automatic reconnection; every operation is one atomic Lua script, so a write
//! is a compare-and-set on the session's version; keys expire with the session (`EXPIREAT`);
//! a per-user set indexes sessions for "log out everywhere". A Redis error is a
//! [`StoreError`], which Mitten turns into a 503: it fails closed.
//!
//! ```no_run
//! use mitten_core::session::{SessionConfig, Sessions};
//! use mitten_redis::RedisStore;
//!
//! # async fn start() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
//! let sessions = Sessions::new(store, SessionConfig::new())?;
//! # Ok(()) }
//! ```

mod scripts;

use std::sync::Arc;
use std::time::Duration;

use mitten_core::session::{
    Cas, Forward, MAX_FORWARDS, Record, SessionStore, StoreError, StoreFuture, StoreKey,
};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};

/// How long one Redis command may take before the request fails with 503.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one connection attempt may take.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(1);

/// Sessions in Redis.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: Arc<str>,
    create: Arc<Script>,
    update: Arc<Script>,
    delete: Arc<Script>,
    delete_renewed: Arc<Script>,
    delete_all: Arc<Script>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port/db`, `rediss://` for TLS when the redis crate is
    /// built with it) with keys under `mitten:`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with_prefix(url, "mitten:").await
    }

    /// The same, with keys under `prefix` (several apps can share one Redis).
    pub async fn connect_with_prefix(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(|_| StoreError::new("invalid Redis URL"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECTION_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2);
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(redis_error)?;
        Ok(Self {
            connection,
            prefix: prefix.into(),
            create: Arc::new(Script::new(scripts::CREATE)),
            update: Arc::new(Script::new(scripts::UPDATE)),
            delete: Arc::new(Script::new(scripts::DELETE)),
            delete_renewed: Arc::new(Script::new(scripts::DELETE_RENEWED)),
            delete_all: Arc::new(Script::new(scripts::DELETE_ALL_FOR_USER)),
        })
    }

    fn session_key(&self, key: &StoreKey) -> String {
        format!("{}{}", self.session_prefix(), key.to_hex())
    }

    fn user_prefix(&self) -> String {
        format!("{}u:", self.prefix)
    }

    fn session_prefix(&self) -> String {
        format!("{}s:", self.prefix)
    }

    fn forward_prefix(&self) -> String {
        format!("{}f:", self.prefix)
    }
}

fn redis_error(error: redis::RedisError) -> StoreError {
    tracing::warn!(target: "mitten", kind = ?error.kind(), "Redis error");
    StoreError::new(format!("Redis: {:?}", error.kind()))
}

fn decode(json: &[u8], version: u64) -> Result<Arc<Record>, StoreError> {
    let mut record: Record = serde_json::from_slice(json)
        .map_err(|_| StoreError::new("a stored session does not decode"))?;
    record.version = version;
    Ok(Arc::new(record))
}

/// A record's version as a script returns it (the hash field, a string; or a number).
fn version_of(value: &Value) -> Option<u64> {
    match value {
        Value::BulkString(text) => std::str::from_utf8(text).ok()?.parse().ok(),
        Value::Int(n) => u64::try_from(*n).ok(),
        _ => None,
    }
}

/// The record a delete script deleted, if any.
fn deleted(reply: &[Value]) -> Result<Option<Arc<Record>>, StoreError> {
    match reply {
        [Value::Int(0)] => Ok(None),
        [Value::Int(1), version, Value::BulkString(json)] => {
            let version = version_of(version)
                .ok_or_else(|| StoreError::new("unexpected reply from a delete script"))?;
            decode(json, version).map(Some)
        }
        _ => Err(StoreError::new("unexpected reply from a delete script")),
    }
}

fn encode(record: &Record) -> Result<String, StoreError> {
    serde_json::to_string(record).map_err(|_| StoreError::new("a session does not encode"))
}

impl SessionStore for RedisStore {
    fn load(&self, key: StoreKey) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>> {
        StoreFuture::new(async move {
            let mut connection = self.connection.clone();
            let (version, json): (Option<u64>, Option<Vec<u8>>) = redis::cmd("HMGET")
                .arg(self.session_key(&key))
                .arg("v")
                .arg("d")
                .query_async(&mut connection)
                .await
                .map_err(redis_error)?;
            match (version, json) {
                (Some(version), Some(json)) => decode(&json, version).map(Some),
                _ => Ok(None),
            }
        })
    }

    fn create(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expires_at: u64,
    ) -> StoreFuture<'_, Result<bool, StoreError>> {
        StoreFuture::new(async move {
            let mut connection = self.connection.clone();
            let user = record.user_id.clone().unwrap_or_default();
            let created: i64 = self
                .create
                .key(self.session_key(&key))
                .key(format!("{}{user}", self.user_prefix()))
                .arg(encode(&record)?)
                .arg(expires_at)
                .arg(&user)
                .arg(key.to_hex())
                .invoke_async(&mut connection)
                .await
                .map_err(redis_error)?;
            Ok(created == 1)
        })
    }

    fn update(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expected_version: u64,
        expires_at: u64,
    ) -> StoreFuture<'_, Result<Cas, StoreError>> {
        StoreFuture::new(async move {
            let mut connection = self.connection.clone();
            let reply: Vec<Value> = self
                .update
                .key(self.session_key(&key))
                .arg(expected_version)
                .arg(encode(&record)?)
                .arg(expires_at)
                .arg(record.user_id.clone().unwrap_or_default())
                .arg(key.to_hex())
                .arg(self.user_prefix())
                .invoke_async(&mut connection)
                .await
                .map_err(redis_error)?;
            match reply.as_slice() {
                [Value::Int(1)] => Ok(Cas::Written),
                [Value::Int(-1)] => Ok(Cas::Missing),
                [Value::Int(0), Value::BulkString(json), version] => {
                    let version = version_of(version).ok_or_else(|| {
                        StoreError::new("unexpected reply from the update script")
                    })?;
                    Ok(Cas::Conflict(decode(json, version)?))
                }
                _ => Err(StoreError::new("unexpected reply from the update script")),
            }
        })
    }

    fn delete(&self, key: StoreKey) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>> {
        StoreFuture::new(async move {
            let mut connection = self.connection.clone();
            let reply: Vec<Value> = self
                .delete
                .key(self.session_key(&key))
                .arg(self.user_prefix())
                .arg(key.to_hex())
                .arg(self.session_prefix())
                .arg(self.forward_prefix())
                .arg(MAX_FORWARDS)
                .invoke_async(&mut connection)
                .await
                .map_err(redis_error)?;
            deleted(&reply)
        })
    }

    fn delete_renewed(
        &self,
        key: StoreKey,
        forward: Option<Forward>,
    ) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>> {
        StoreFuture::new(async move {
            let mut connection = self.connection.clone();
            let hex = key.to_hex();
            let reply: Vec<Value> = self
                .delete_renewed
                .key(self.session_key(&key))
                .key(format!("{}{hex}", self.forward_prefix()))
                .arg(self.user_prefix())
                .arg(&hex)
                .arg(forward.map(|f| f.to.to_hex()).unwrap_or_default())
                .arg(forward.map_or(0, |f| f.until))
                .invoke_async(&mut connection)
                .await
                .map_err(redis_error)?;
            deleted(&reply)
        })
    }

    fn delete_all_for_user<'a>(
        &'a self,
        user_id: &'a str,
        except: Option<StoreKey>,
    ) -> StoreFuture<'a, Result<u64, StoreError>> {
        StoreFuture::new(async move {
            let mut connection = self.connection.clone();
            let deleted: u64 = self
                .delete_all
                .key(format!("{}{user_id}", self.user_prefix()))
                .arg(self.session_prefix())
                .arg(except.map(|key| key.to_hex()).unwrap_or_default())
                .invoke_async(&mut connection)
                .await
                .map_err(redis_error)?;
            Ok(deleted)
        })
    }
}
