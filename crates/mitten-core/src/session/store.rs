//! The store trait every backend implements, and its errors.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::{Record, StoreKey};

/// A boxed, sendable future: what the object-safe store methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The store could not answer. Mitten fails closed on it: the request gets 503, never a fresh
/// session that would silently log the user out (or in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    message: String,
}

impl StoreError {
    /// An error with a message (never containing a session ID or data).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "session store error: {}", self.message)
    }
}

impl std::error::Error for StoreError {}

/// What a compare-and-set write found.
#[derive(Debug, Clone, PartialEq)]
pub enum Cas {
    /// Written: the record now has the new version.
    Written,
    /// Another write came first; here is the record as it is now.
    Conflict(Arc<Record>),
    /// The record is gone (expired, destroyed, or logged out everywhere).
    Missing,
}

/// Where sessions live. Every backend passes the same conformance suite.
///
/// Records are kept under a [`StoreKey`] (a hash of the session ID) until `expires_at`
/// (seconds since the epoch). Writes are compare-and-set on [`Record::version`].
pub trait SessionStore: Send + Sync + fmt::Debug + 'static {
    /// The record, if it exists and has not expired.
    fn load(&self, key: StoreKey) -> BoxFuture<'_, Result<Option<Arc<Record>>, StoreError>>;

    /// Stores a new record, at version 1; `false` if the key is already taken (the caller draws
    /// a new ID). The record is shared, not copied: the session engine keeps it as the
    /// request's view, and sends it with `version` already 1.
    fn create(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expires_at: u64,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;

    /// Replaces the record if its stored version is still `expected_version`; the new record
    /// has version `expected_version + 1` (the engine sends it so).
    fn update(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expected_version: u64,
        expires_at: u64,
    ) -> BoxFuture<'_, Result<Cas, StoreError>>;

    /// Deletes the record (and its entry in the user index).
    fn delete(&self, key: StoreKey) -> BoxFuture<'_, Result<(), StoreError>>;

    /// Deletes every record of `user_id`; returns how many.
    fn delete_all_for_user<'a>(
        &'a self,
        user_id: &'a str,
    ) -> BoxFuture<'a, Result<u64, StoreError>>;
}
