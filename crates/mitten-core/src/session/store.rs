//! The store trait every backend implements, and its errors.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::{Record, StoreKey};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the store methods return: the answer itself when the store has it at once (the memory
/// store: nothing to allocate), or a boxed future for a store that waits on I/O.
///
/// ```
/// use mitten_core::session::StoreFuture;
///
/// # async fn demo() {
/// let at_once: StoreFuture<'_, u32> = StoreFuture::ready(1);
/// let later: StoreFuture<'_, u32> = StoreFuture::new(async { 2 });
/// assert_eq!(at_once.await + later.await, 3);
/// # }
/// ```
#[must_use = "a store future does nothing unless awaited"]
pub struct StoreFuture<'a, T>(Answer<'a, T>);

enum Answer<'a, T> {
    Ready(Option<T>),
    Pending(BoxFuture<'a, T>),
}

impl<'a, T> StoreFuture<'a, T> {
    /// An answer already at hand.
    pub fn ready(value: T) -> Self {
        Self(Answer::Ready(Some(value)))
    }

    /// An answer to wait for (boxed).
    pub fn new(future: impl Future<Output = T> + Send + 'a) -> Self {
        Self(Answer::Pending(Box::pin(future)))
    }
}

impl<'a, T> From<BoxFuture<'a, T>> for StoreFuture<'a, T> {
    fn from(future: BoxFuture<'a, T>) -> Self {
        Self(Answer::Pending(future))
    }
}

impl<T> fmt::Debug for StoreFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Answer::Ready(_) => "StoreFuture::Ready",
            Answer::Pending(_) => "StoreFuture::Pending",
        })
    }
}

// The answer is never pinned: it is moved out whole when ready.
impl<T> Unpin for StoreFuture<'_, T> {}

impl<T> Future for StoreFuture<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<T> {
        match &mut self.get_mut().0 {
            Answer::Ready(value) => match value.take() {
                Some(value) => std::task::Poll::Ready(value),
                // Polled again after completion: there is nothing left to give.
                None => std::task::Poll::Pending,
            },
            Answer::Pending(future) => future.as_mut().poll(cx),
        }
    }
}

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
    /// The record is gone (expired, destroyed, logged out everywhere, or ended by the store:
    /// evicted from a full memory store, or over its per-user cap).
    Missing,
}

/// How many forwards [`SessionStore::delete`] follows at most, one per renewal of the ID made
/// while the request that deletes was under way.
pub const MAX_FORWARDS: usize = 8;

/// Where a renewed session's old key points, for a while: see
/// [`SessionStore::delete_renewed`].
///
/// ```
/// use mitten_core::session::{Forward, SessionId};
///
/// let renewed = SessionId::generate();
/// let forward = Forward { to: renewed.store_key(), until: 1_700_000_300 };
/// assert_eq!(forward.to, renewed.store_key());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forward {
    /// The key the session was renewed under.
    pub to: StoreKey,
    /// Until when (seconds since the epoch) a [`SessionStore::delete`] of the old key follows
    /// it.
    pub until: u64,
}

/// Where sessions live. Every backend passes the same conformance suite.
///
/// Records are kept under a [`StoreKey`] (a hash of the session ID) until `expires_at`
/// (seconds since the epoch). Writes are compare-and-set on [`Record::version`].
pub trait SessionStore: Send + Sync + fmt::Debug + 'static {
    /// The record, if it exists and has not expired.
    fn load(&self, key: StoreKey) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>>;

    /// The same, for a caller that has read the clock already (the session engine, which
    /// judges the timeouts by it): a store that judges expiry by a clock of its own may take
    /// `now` (seconds since the epoch) instead of reading it again. By default, [`load`].
    ///
    /// [`load`]: Self::load
    fn load_at(
        &self,
        key: StoreKey,
        now: u64,
    ) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>> {
        let _ = now;
        self.load(key)
    }

    /// Stores a new record, at version 1; `false` if the key is already taken (the caller draws
    /// a new ID). The record is shared, not copied: the session engine keeps it as the
    /// request's view, and sends it with `version` already 1.
    fn create(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expires_at: u64,
    ) -> StoreFuture<'_, Result<bool, StoreError>>;

    /// The same, for a session that renews its ID ([`regenerate`]): the new record takes the
    /// place of the one under `replaced`, which the caller deletes next. A store that limits
    /// each user's sessions does not count `replaced` against the new one, so that renewing the
    /// ID of a user at the limit ends none of the user's other sessions. By default, [`create`].
    ///
    /// [`regenerate`]: crate::session::Session::regenerate
    /// [`create`]: Self::create
    fn create_in_place_of(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expires_at: u64,
        replaced: StoreKey,
    ) -> StoreFuture<'_, Result<bool, StoreError>> {
        let _ = replaced;
        self.create(key, record, expires_at)
    }

    /// Replaces the record if its stored version is still `expected_version`; the new record
    /// has version `expected_version + 1` (the engine sends it so).
    fn update(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expected_version: u64,
        expires_at: u64,
    ) -> StoreFuture<'_, Result<Cas, StoreError>>;

    /// Deletes the record (and its entry in the user index), and hands back the live record it
    /// deleted, as stored (with its version), which only the call that removed it may do. (The
    /// session engine renews a session's ID by storing a copy and deleting the original: if
    /// that was gone, destroyed meanwhile, the copy is deleted too; if another request wrote it
    /// meanwhile, that write goes into the copy.)
    ///
    /// If `key` holds no record but an unexpired [`Forward`] that [`delete_renewed`] left, the
    /// forward is removed and the session it points to is deleted instead (through at most
    /// [`MAX_FORWARDS`] forwards), and that record handed back: a logout that read the session
    /// before another request renewed its ID still ends it.
    ///
    /// [`delete_renewed`]: Self::delete_renewed
    fn delete(&self, key: StoreKey) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>>;

    /// Deletes the session under `key` whose ID a renewal replaces, as [`delete`] does, except
    /// that it never follows a forward (with `forward` `None`, it is a delete that does not
    /// follow one); and if it deleted a live record and `forward` is given, leaves `key`
    /// pointing to `forward.to` until `forward.until`, for [`delete`] to follow. (Only one
    /// renewal can delete the live record, so only one forward is ever left under a key.)
    /// Nothing else sees a forward: a load of `key` finds nothing, an update is
    /// [`Cas::Missing`].
    ///
    /// By default, [`delete`], and no forward is left. A store that overrides `delete` to
    /// follow forwards must override this too, and so must a store that wraps another one and
    /// hands its calls on (or the forwards are silently not left).
    ///
    /// [`delete`]: Self::delete
    fn delete_renewed(
        &self,
        key: StoreKey,
        forward: Option<Forward>,
    ) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>> {
        let _ = forward;
        self.delete(key)
    }

    /// Deletes every record of `user_id` but the one under `except`, if given; returns how
    /// many. Atomic with respect to [`create`](Self::create): a record created while it runs is
    /// either deleted with the others or created after all of them are gone (a sweep key by key
    /// could miss the copy a renewal stores while it runs, and log nobody out of that session).
    /// `except` is the session of a request that ends its user's other sessions and keeps its
    /// own under a new ID: its renewal then finds its original still there, unless another
    /// request ended it meanwhile.
    fn delete_all_for_user<'a>(
        &'a self,
        user_id: &'a str,
        except: Option<StoreKey>,
    ) -> StoreFuture<'a, Result<u64, StoreError>>;
}
