//! The embedded store: sharded, bounded, expiring.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use super::store::{Cas, SessionStore, StoreError, StoreFuture};
use super::{Clock, Record, StoreKey, SystemClock};

const SHARDS: usize = 16;

/// The most sessions one creation evicts from a full shard (fewer in small stores, so that a
/// shard never empties more than a sixty-fourth of itself at once).
const EVICTION_BATCH: usize = 16;

/// The sessions one creation evicted, freed after the shard's lock is released.
type Evicted = smallvec::SmallVec<[Entry; EVICTION_BATCH]>;

/// The default store: sessions in this process's memory.
///
/// Sixteen shards, each behind its own lock, so requests on two cores rarely wait for each
/// other. Bounded: a new session in a full shard evicts the shard's oldest-created sessions
/// (up to sixteen at once, at most a sixty-fourth of the shard), active or not, so a flood of
/// new sessions pushes out established ones: size the bound for the traffic (or use Redis)
/// until eviction is least-recently-used. Expired records are never returned and are removed
/// when found. Keeps a per-user index for "log out everywhere". Everything is lost when the process
/// exits, and each process has its own sessions: use the Redis store for more than one instance.
///
/// ```
/// use mitten_core::session::MemoryStore;
///
/// let store = MemoryStore::new(100_000);
/// ```
#[derive(Debug)]
pub struct MemoryStore {
    shards: Box<[Mutex<Shard>]>,
    max_per_shard: usize,
    /// How many sessions a full shard evicts at once (worked out from the bound at start-up).
    eviction_batch: usize,
    clock: Arc<dyn Clock>,
}

#[derive(Debug, Default)]
struct Shard {
    records: HashMap<StoreKey, Entry, ByKeyBytes>,
    /// Creation order, for eviction. Places are numbered by the creation that took them, and
    /// the numbers run on without a gap, so they need not be stored: the place at the front was
    /// taken by creation `creations - order.len()`. A place whose key is gone, or was created
    /// again since (its entry has a later number), is skipped when met.
    order: VecDeque<StoreKey>,
    /// How many creations this shard has made (wrapping; the queue is far shorter than 2^32,
    /// so two places it holds never share a number).
    creations: u32,
    users: HashMap<String, HashSet<StoreKey, ByKeyBytes>>,
}

#[derive(Debug)]
struct Entry {
    record: Arc<Record>,
    expires_at: u64,
    /// The number of the creation that made this entry (its place in the eviction order). In
    /// the room the other fields leave: an entry is no larger for it.
    creation: u32,
    /// Whether the record has a user (and so a place in the user index). Kept here so that
    /// evicting a session does not read its record, which is cold by then, under the lock.
    has_user: bool,
}

impl Entry {
    fn new(record: Arc<Record>, expires_at: u64, creation: u32) -> Self {
        Self {
            has_user: record.user_id.is_some(),
            record,
            expires_at,
            creation,
        }
    }
}

impl MemoryStore {
    /// A store holding at most `max_sessions` sessions.
    pub fn new(max_sessions: usize) -> Self {
        Self::with_clock(max_sessions, Arc::new(SystemClock))
    }

    /// The same, with a clock of your own (tests).
    pub fn with_clock(max_sessions: usize, clock: Arc<dyn Clock>) -> Self {
        let max_per_shard = max_sessions.div_ceil(SHARDS).max(1);
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            max_per_shard,
            eviction_batch: (max_per_shard / 64).clamp(1, EVICTION_BATCH),
            clock,
        }
    }

    /// How many sessions are held (expired ones not yet removed included).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).records.len()).sum()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, key: &StoreKey) -> MutexGuard<'_, Shard> {
        lock(&self.shards[usize::from(key.0[0]) % SHARDS])
    }
}

/// Hashes a store key by eight of its own bytes. Keys are SHA-256 digests of IDs the server drew
/// (a client's ID is only ever looked up, never stored), so they are spread evenly already and
/// a keyed hash (the standard SipHash) would only cost time. Bytes 8..16: byte 0 picks the shard.
type ByKeyBytes = BuildHasherDefault<KeyBytesHasher>;

#[derive(Default)]
struct KeyBytesHasher(u64);

impl Hasher for KeyBytesHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        match bytes.get(8..16).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            // The key's 32 bytes.
            Some(middle) if bytes.len() == 32 => self.0 = u64::from_le_bytes(middle),
            // Anything else (a length prefix): mixed in, never relied on.
            _ => {
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

/// A poisoned shard still holds consistent data (every mutation is a single map operation).
fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    shard
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shard {
    fn index_user(&mut self, key: StoreKey, old: Option<&str>, new: Option<&str>) {
        if old == new {
            return;
        }
        if let Some(old) = old {
            if let Some(set) = self.users.get_mut(old) {
                set.remove(&key);
                if set.is_empty() {
                    self.users.remove(old);
                }
            }
        }
        if let Some(new) = new {
            self.users.entry(new.to_owned()).or_default().insert(key);
        }
    }

    /// Removes `key`, handing back its entry so that the caller can drop it after the lock.
    fn remove(&mut self, key: &StoreKey) -> Option<Entry> {
        let entry = self.records.remove(key)?;
        if entry.has_user {
            self.index_user(*key, entry.record.user_id.as_deref(), None);
        }
        Some(entry)
    }

    /// The number of the creation that took the place at the front of the queue.
    fn front_creation(&self) -> u32 {
        self.creations.wrapping_sub(self.order.len() as u32)
    }

    /// Drops the queue's stale places and numbers the others again, so that they run on without
    /// a gap up to the last creation.
    fn compact_order(&mut self) {
        let mut number = self.front_creation();
        let mut kept = VecDeque::with_capacity(self.records.len());
        for key in std::mem::take(&mut self.order) {
            if self.records.get(&key).is_some_and(|e| e.creation == number) {
                kept.push_back(key);
            }
            number = number.wrapping_add(1);
        }
        let first = self.creations.wrapping_sub(kept.len() as u32);
        for (i, key) in kept.iter().enumerate() {
            if let Some(entry) = self.records.get_mut(key) {
                entry.creation = first.wrapping_add(i as u32);
            }
        }
        self.order = kept;
    }

    fn evict_one(&mut self, now: &mut impl FnMut() -> u64) -> Option<Entry> {
        while let Some(&key) = self.order.front() {
            let creation = self.front_creation();
            self.order.pop_front();
            // Only the creation this place in the queue was taken for: a key removed and
            // created again since is as new as its latest creation.
            if self
                .records
                .get(&key)
                .is_some_and(|e| e.creation == creation)
            {
                return self.remove(&key);
            }
        }
        // The order queue lost track (cannot happen); fall back to any expired, then any.
        let now = now();
        let victim = self
            .records
            .iter()
            .find(|(_, e)| e.expires_at <= now)
            .or_else(|| self.records.iter().next())
            .map(|(k, _)| *k);
        victim.and_then(|key| self.remove(&key))
    }
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
        let found = match shard.records.get(&key) {
            Some(entry) if entry.expires_at > now => Some(Arc::clone(&entry.record)),
            Some(_) => {
                shard.remove(&key);
                None
            }
            None => None,
        };
        StoreFuture::ready(Ok(found))
    }

    fn create(
        &self,
        key: StoreKey,
        record: Arc<Record>,
        expires_at: u64,
    ) -> StoreFuture<'_, Result<bool, StoreError>> {
        let record = at_version(record, 1);
        // What this removes is dropped after the lock is released (freeing a cold record is the
        // slowest part of an eviction).
        let mut removed = None;
        let mut shard = self.shard(&key);
        // The clock is read only when needed: a new key (the usual case) finds nothing. (Under
        // the shard's lock then: a `Clock` must not block.)
        let mut now = None;
        let mut now = || *now.get_or_insert_with(|| self.clock.now());
        let taken = match shard.records.get(&key) {
            Some(entry) if entry.expires_at > now() => true,
            Some(_) => {
                removed = shard.remove(&key);
                false
            }
            None => false,
        };
        let mut evicted = Evicted::new();
        if !taken {
            if shard.records.len() >= self.max_per_shard {
                // A full shard makes room for a few sessions at once: their cold slots are
                // looked up (and their records freed) one after the other, so the CPU waits for
                // several cache misses at a time instead of one per new session.
                while shard.records.len() > self.max_per_shard - self.eviction_batch {
                    match shard.evict_one(&mut now) {
                        Some(entry) => evicted.push(entry),
                        None => break,
                    }
                }
            }
            shard.index_user(key, None, record.user_id.as_deref());
            let creation = shard.creations;
            shard.creations = creation.wrapping_add(1);
            shard
                .records
                .insert(key, Entry::new(record, expires_at, creation));
            shard.order.push_back(key);
            if shard.order.len() > 2 * self.max_per_shard {
                // Drop the queue's stale places, so that it stays bounded.
                shard.compact_order();
            }
        }
        drop(shard);
        drop(removed);
        drop(evicted);
        StoreFuture::ready(Ok(!taken))
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
        let outcome = match shard.records.get(&key) {
            Some(entry) if entry.expires_at <= now => {
                let _expired = shard.remove(&key);
                Cas::Missing
            }
            None => Cas::Missing,
            Some(entry) if entry.record.version != expected_version => {
                Cas::Conflict(Arc::clone(&entry.record))
            }
            Some(entry) => {
                let old_user = entry.record.user_id.clone();
                let creation = entry.creation;
                let record = at_version(record, expected_version + 1);
                shard.index_user(key, old_user.as_deref(), record.user_id.as_deref());
                shard
                    .records
                    .insert(key, Entry::new(record, expires_at, creation));
                Cas::Written
            }
        };
        StoreFuture::ready(Ok(outcome))
    }

    fn delete(&self, key: StoreKey) -> StoreFuture<'_, Result<(), StoreError>> {
        let removed = self.shard(&key).remove(&key);
        drop(removed);
        StoreFuture::ready(Ok(()))
    }

    fn delete_all_for_user<'a>(
        &'a self,
        user_id: &'a str,
    ) -> StoreFuture<'a, Result<u64, StoreError>> {
        let mut removed = 0;
        for shard in self.shards.iter() {
            let mut shard = lock(shard);
            if let Some(keys) = shard.users.remove(user_id) {
                for key in keys {
                    if shard.records.remove(&key).is_some() {
                        removed += 1;
                    }
                }
            }
        }
        StoreFuture::ready(Ok(removed))
    }
}

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher as _;

    use super::*;
    use crate::session::SessionId;

    #[test]
    fn evicted_sessions_leave_the_user_index() {
        // One session evicted at a time (10 per shard), and sixteen at a time (1 024).
        for max in [160, 16 * 1_024] {
            let store = MemoryStore::new(max);
            for n in 0..3 * max {
                let mut record = Record::new(1);
                record.user_id = Some(format!("user{}", n % 7));
                let key = SessionId::generate().store_key();
                let created =
                    crate::session::tests::block_on(store.create(key, Arc::new(record), u64::MAX));
                assert!(created.expect("create"));
            }
            let indexed: usize = store
                .shards
                .iter()
                .map(|s| lock(s).users.values().map(HashSet::len).sum::<usize>())
                .sum();
            // Exactly the sessions still held are indexed: the evicted ones left with their records.
            assert_eq!(indexed, store.len());
            assert!(store.len() <= max);
        }
    }

    /// Whether `store` created a session with no data under `key`.
    fn create(store: &MemoryStore, key: StoreKey, expires_at: u64) -> bool {
        crate::session::tests::block_on(store.create(key, Arc::new(Record::new(1)), expires_at))
            .expect("create")
    }

    /// Whether `store` holds a live session under `key`.
    fn held(store: &MemoryStore, key: StoreKey) -> bool {
        crate::session::tests::block_on(store.load_at(key, 2))
            .expect("load")
            .is_some()
    }

    /// A new key that lands in shard 0.
    fn key_in_first_shard() -> StoreKey {
        loop {
            let key = SessionId::generate().store_key();
            if usize::from(key.0[0]) % SHARDS == 0 {
                return key;
            }
        }
    }

    #[test]
    fn a_full_shard_makes_room_for_several_sessions_at_once() {
        // (shard size, sessions evicted at once)
        for (per_shard, batch) in [(1, 1), (64, 1), (1_024, EVICTION_BATCH)] {
            let store = MemoryStore::new(SHARDS * per_shard);
            let keys: Vec<StoreKey> = (0..per_shard).map(|_| key_in_first_shard()).collect();
            assert!(keys.iter().all(|key| create(&store, *key, u64::MAX)));
            assert_eq!(store.len(), per_shard);
            assert!(create(&store, key_in_first_shard(), u64::MAX));
            assert_eq!(store.len(), per_shard - batch + 1, "{per_shard}");
            let held = |key: &StoreKey| held(&store, *key);
            // The oldest ones went.
            assert!(!keys[..batch].iter().any(held), "{per_shard}");
            assert!(keys[batch..].iter().all(held), "{per_shard}");
        }
    }

    #[test]
    fn a_key_created_again_is_as_new_as_its_latest_creation() {
        // Two sessions per shard, evicted one at a time.
        let store = MemoryStore::new(SHARDS * 2);
        let create = |key, expires_at| create(&store, key, expires_at);
        let held = |key| held(&store, key);
        let (again, older, newest) = (
            key_in_first_shard(),
            key_in_first_shard(),
            key_in_first_shard(),
        );
        // Created, then gone: deleted, or expired and found so by the next creation.
        assert!(create(again, u64::MAX));
        crate::session::tests::block_on(store.delete(again)).expect("delete");
        assert!(create(older, u64::MAX));
        assert!(create(again, 1));
        assert!(create(again, u64::MAX));
        // The shard is full: the next creation evicts the oldest session it holds, `older`,
        // not `again` by the place its first creation took in the queue.
        assert!(create(newest, u64::MAX));
        assert!(held(again));
        assert!(held(newest));
        assert!(!held(older));
    }

    #[test]
    fn compacting_the_queue_keeps_the_creation_order() {
        // Two sessions per shard: the queue is compacted when it holds more than four places.
        let store = MemoryStore::new(SHARDS * 2);
        let create = |key| assert!(create(&store, key, u64::MAX));
        let delete = |key| crate::session::tests::block_on(store.delete(key)).expect("delete");
        let held = |key| held(&store, key);
        let [oldest, newer, newest, last] = [(); 4].map(|_| key_in_first_shard());
        create(oldest);
        for _ in 0..3 {
            let gone = key_in_first_shard();
            create(gone);
            delete(gone);
        }
        // The fifth place: the three stale ones are dropped, and the queue is `oldest`, `newer`,
        // numbered again.
        create(newer);
        assert_eq!(lock(&store.shards[0]).order.len(), 2);
        create(newest);
        assert!(!held(oldest) && held(newer) && held(newest));
        create(last);
        assert!(!held(newer) && held(newest) && held(last));
        assert_eq!(lock(&store.shards[0]).order.len(), 2);
    }

    #[test]
    fn a_full_shard_evicts_its_oldest_sessions_first() {
        // 1 024 per shard: room is made sixteen sessions at a time.
        let store = MemoryStore::new(16 * 1_024);
        let mut created: Vec<Vec<StoreKey>> = vec![Vec::new(); SHARDS];
        for _ in 0..3 * 16 * 1_024 {
            let key = SessionId::generate().store_key();
            assert!(create(&store, key, u64::MAX));
            created[usize::from(key.0[0]) % SHARDS].push(key);
        }
        let held = |key: &StoreKey| held(&store, *key);
        for keys in &created {
            let len = lock(&store.shards[usize::from(keys[0].0[0]) % SHARDS])
                .records
                .len();
            assert!((1_024 - EVICTION_BATCH..=1_024).contains(&len), "{len}");
            // Exactly the newest sessions of the shard are held.
            let (gone, kept) = keys.split_at(keys.len() - len);
            assert!(kept.iter().all(held));
            assert!(!gone.iter().any(held));
        }
    }

    #[test]
    fn key_hashes_spread_within_a_shard() {
        let hashes: HashSet<u64> = (0..2_000)
            .map(|_| SessionId::generate().store_key())
            .filter(|key| key.0[0] % 16 == 0)
            .map(|key| ByKeyBytes::default().hash_one(key))
            .collect();
        // About 125 keys land in shard 0; their hashes must not collide (nor share low bits).
        assert!(hashes.len() > 60, "{}", hashes.len());
        let low_bits: HashSet<u64> = hashes.iter().map(|h| h & 0xff).collect();
        assert!(low_bits.len() > 40, "{}", low_bits.len());
    }
}
