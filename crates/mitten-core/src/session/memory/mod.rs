//! The embedded store: sharded, bounded, expiring.

mod forward;
mod shard;
mod user_cap;

use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use self::shard::{Entry, Shard};
use super::store::{Cas, Forward, MAX_FORWARDS, SessionStore, StoreError, StoreFuture};
use super::{Clock, Record, StoreKey, SystemClock};

use self::user_cap::DEFAULT_MAX_SESSIONS_PER_USER;

const SHARDS: usize = 16;

/// The default store: sessions in this process's memory.
///
/// Sixteen shards, each behind its own lock, so requests on two cores rarely wait for each
/// other. Bounded: a new session in a full shard evicts one, anonymous sessions before those
/// with a user as long as these take at most three quarters of the shard, so a flood of new
/// visitors cannot log users out, and users who left cannot crowd out new visitors. An expired
/// session with a user goes first. Among the sessions it may evict, the shard takes the one
/// that has waited longest, passing over (up to 32 times) those used since they last came up
/// and not expired: the CLOCK approximation of least-recently-used. Expired records are never
/// returned and are removed when found. Keeps a per-user index for "log out everywhere", and
/// holds at most 64 sessions for one user (see [`max_sessions_per_user`]), so that one account
/// logging in again and again cannot by itself fill the users' three quarters. A renewal of a
/// signed-in session's ID that keeps its user leaves a forward from the old key for a delete to
/// follow (see [`SessionStore::delete_renewed`]), as many in a shard as its bound at most.
/// Everything is
/// lost when the process exits, and each process has its own sessions: use the Redis store for
/// more than one instance.
///
/// ```
/// use mitten_core::session::MemoryStore;
///
/// let store = MemoryStore::new(100_000);
/// ```
///
/// [`max_sessions_per_user`]: MemoryStore::max_sessions_per_user
#[derive(Debug)]
pub struct MemoryStore {
    shards: Box<[Mutex<Shard>]>,
    max_per_shard: usize,
    max_per_user: usize,
    clock: Arc<dyn Clock>,
}

impl MemoryStore {
    /// A store holding at most `max_sessions` sessions.
    pub fn new(max_sessions: usize) -> Self {
        Self::with_clock(max_sessions, Arc::new(SystemClock))
    }

    /// The same, with a clock of your own (tests).
    pub fn with_clock(max_sessions: usize, clock: Arc<dyn Clock>) -> Self {
        // A shard's slots are numbered in 31 bits; 2^30 a shard is more than memory holds.
        let max_per_shard = max_sessions.div_ceil(SHARDS).clamp(1, 1 << 30);
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            max_per_shard,
            max_per_user: DEFAULT_MAX_SESSIONS_PER_USER,
            clock,
        }
    }

    /// How many sessions are held (expired ones not yet removed included).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).table.len()).sum()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, key: &StoreKey) -> MutexGuard<'_, Shard> {
        lock(&self.shards[usize::from(key.0[0]) % SHARDS])
    }

    /// Stores a new record under `key`, in place of the session under `replaced` if any (which
    /// the caller deletes next): whether the key was free.
    fn create_in_place(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expires_at: u64,
        replaced: Option<&StoreKey>,
    ) -> bool {
        let record = at_version(record, 1);
        // What this removes is dropped after the lock is released (freeing a cold record is the
        // slowest part of an eviction).
        let mut removed = None;
        let mut shard = self.shard(&key);
        // The clock is read only when needed: a new key (the usual case) finds nothing. (Under
        // the shard's lock then: a `Clock` must not block.)
        let mut now = None;
        let mut now = || *now.get_or_insert_with(|| self.clock.now());
        let taken = match shard.get(&key) {
            Some(entry) if entry.expires_at > now() => true,
            Some(_) => {
                removed = shard.remove(&key);
                false
            }
            None => false,
        };
        let mut evicted = None;
        // A new session with a user: the user's sessions are counted once the lock is released.
        let signed_in = (!taken && record.user_id.is_some()).then(|| Arc::clone(&record));
        if !taken {
            if shard.table.len() >= self.max_per_shard {
                // One out for one in. The record is freed after the lock, on this thread, whose
                // allocator cache then serves the next new record from the freed memory. Freeing
                // several at once overflows that cache: the rest go back to the allocating
                // thread's arena (glibc's), under a lock the other worker threads wait for.
                evicted = shard.evict_one(self.max_per_shard, &mut now);
            }
            shard.index_user(key, None, record.user_id.as_deref());
            let entry = Entry::new(record, expires_at, false);
            shard.push(key, entry, self.max_per_shard);
        }
        drop(shard);
        drop(removed);
        drop(evicted);
        if let Some(user) = signed_in
            .as_ref()
            .and_then(|record| record.user_id.as_deref())
        {
            self.end_sessions_beyond_the_cap(user, &key, replaced);
        }
        !taken
    }
}

/// A store key's hash: eight of its own bytes. Keys are SHA-256 digests of IDs the server drew
/// (a client's ID is only ever looked up, never stored), so they are spread evenly already and
/// a keyed hash (the standard SipHash) would only cost time. Bytes 8..16: byte 0 picks the shard.
fn key_hash(key: &StoreKey) -> u64 {
    let mut middle = [0u8; 8];
    middle.copy_from_slice(&key.0[8..16]);
    u64::from_le_bytes(middle)
}

/// Hashes the keys of the user index as [`key_hash`] does.
type ByKeyBytes = BuildHasherDefault<KeyBytesHasher>;

#[derive(Default)]
struct KeyBytesHasher(u64);

impl Hasher for KeyBytesHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        match <&[u8; 32]>::try_from(bytes) {
            // The key's 32 bytes.
            Ok(key) => self.0 = key_hash(&StoreKey(*key)),
            // Anything else (a length prefix): mixed in, never relied on.
            Err(_) => {
                for &b in bytes {
                    self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
                }
            }
        }
    }
}

/// `record` at `version`: as given when the caller set it (the session engine does), else a
/// copy with it set.
fn at_version(record: Arc<Record>, version: u64) -> Arc<Record> {
    if record.version == version {
        return record;
    }
    let mut record = Arc::unwrap_or_clone(record);
    record.version = version;
    Arc::new(record)
}

/// A poisoned shard still holds consistent data: nothing between the steps of a mutation can
/// panic (only an allocation can fail there, and that aborts).
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl SessionStore for MemoryStore {
    fn load(&self, key: StoreKey) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>> {
        self.load_at(key, self.clock.now())
    }

    fn load_at(
        &self,
        key: StoreKey,
        now: u64,
    ) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>> {
        let mut shard = self.shard(&key);
        // An expired session found is removed, and dropped after the lock is released.
        let mut expired = None;
        let found = match shard.get_mut(&key) {
            Some(entry) if entry.expires_at > now => {
                entry.recently_used = true;
                Some(Arc::clone(&entry.record))
            }
            Some(_) => {
                expired = shard.remove(&key);
                None
            }
            None => None,
        };
        drop(shard);
        drop(expired);
        StoreFuture::ready(Ok(found))
    }

    fn create(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expires_at: u64,
    ) -> StoreFuture<'_, Result<bool, StoreError>> {
        StoreFuture::ready(Ok(self.create_in_place(key, record, expires_at, None)))
    }

    fn create_in_place_of(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expires_at: u64,
        replaced: StoreKey,
    ) -> StoreFuture<'_, Result<bool, StoreError>> {
        let created = self.create_in_place(key, record, expires_at, Some(&replaced));
        StoreFuture::ready(Ok(created))
    }

    fn update(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expected_version: u64,
        expires_at: u64,
    ) -> StoreFuture<'_, Result<Cas, StoreError>> {
        let now = self.clock.now();
        let mut shard = self.shard(&key);
        // What this replaces is dropped after the lock is released.
        let mut replaced = None;
        // A user set on the session: the user's sessions are counted once the lock is released.
        let mut signed_in = None;
        let outcome = match shard.get(&key) {
            Some(entry) if entry.expires_at <= now => {
                replaced = shard.remove(&key);
                Cas::Missing
            }
            Some(entry) if entry.record.version != expected_version => {
                Cas::Conflict(Arc::clone(&entry.record))
            }
            Some(entry) => {
                let old_user = entry.record.user_id.clone();
                let record = at_version(record, expected_version + 1);
                if record.user_id.is_some() && record.user_id != old_user {
                    signed_in = Some(Arc::clone(&record));
                }
                shard.index_user(key, old_user.as_deref(), record.user_id.as_deref());
                let entry = Entry::new(record, expires_at, true);
                replaced = shard.replace(&key, entry, self.max_per_shard);
                Cas::Written
            }
            None => Cas::Missing,
        };
        drop(shard);
        drop(replaced);
        if let Some(user) = signed_in
            .as_ref()
            .and_then(|record| record.user_id.as_deref())
        {
            self.end_sessions_beyond_the_cap(user, &key, None);
        }
        StoreFuture::ready(Ok(outcome))
    }

    fn delete(&self, key: StoreKey) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>> {
        let mut key = key;
        // The key, then each forward's target in turn. Each shard is locked on its own: a
        // renewal that moves the session on meanwhile leaves a forward for the next step.
        for followed in 0..=MAX_FORWARDS {
            let now = self.clock.now();
            let mut shard = self.shard(&key);
            let removed = shard.remove(&key);
            let next = match removed {
                Some(_) => None,
                None if followed == MAX_FORWARDS => None,
                None => shard.forwards.take(&key, now),
            };
            drop(shard);
            if let Some(entry) = removed {
                let live = (entry.expires_at > now).then_some(entry.record);
                return StoreFuture::ready(Ok(live));
            }
            match next {
                Some(to) => key = to,
                None => break,
            }
        }
        StoreFuture::ready(Ok(None))
    }

    fn delete_renewed(
        &self,
        key: StoreKey,
        forward: Option<Forward>,
    ) -> StoreFuture<'_, Result<Option<Arc<Record>>, StoreError>> {
        let now = self.clock.now();
        let mut shard = self.shard(&key);
        // What this removes is dropped after the lock is released.
        let removed = shard.remove(&key);
        let live = removed.as_ref().is_some_and(|entry| entry.expires_at > now);
        if let (true, Some(forward)) = (live, forward) {
            shard.forwards.leave(key, forward, now, self.max_per_shard);
        }
        drop(shard);
        let live = removed.filter(|_| live).map(|entry| entry.record);
        StoreFuture::ready(Ok(live))
    }

    fn delete_all_for_user<'a>(
        &'a self,
        user_id: &'a str,
        except: Option<StoreKey>,
    ) -> StoreFuture<'a, Result<u64, StoreError>> {
        // Every shard locked at once (in order; nothing else holds two), so that the sweep is
        // one moment for the sessions it removes: a session that renews its ID meanwhile stores
        // its copy either before that moment (and the copy is removed) or after it (and finds
        // its original gone, and deletes the copy).
        let mut shards: Vec<MutexGuard<'_, Shard>> = self.shards.iter().map(lock).collect();
        let held = shards
            .iter()
            .map(|shard| shard.users.get(user_id).map_or(0, |keys| keys.len()));
        let mut removed: Vec<Entry> = Vec::with_capacity(held.sum());
        for shard in &mut shards {
            // Each removal takes its key out of the user's set (and the count of sessions with
            // a user).
            let keys: Vec<StoreKey> = shard
                .users
                .get(user_id)
                .map(|keys| {
                    keys.iter()
                        .copied()
                        .filter(|k| Some(*k) != except)
                        .collect()
                })
                .unwrap_or_default();
            removed.extend(keys.iter().filter_map(|key| shard.remove(key)));
        }
        drop(shards);
        // The records are dropped after the locks are released.
        StoreFuture::ready(Ok(removed.len() as u64))
    }
}

#[cfg(test)]
mod tests;
