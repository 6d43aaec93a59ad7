//! The embedded store: sharded, bounded, expiring.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

use hashbrown::HashTable;

use super::store::{Cas, SessionStore, StoreError, StoreFuture};
use super::{Clock, Record, StoreKey, SystemClock};

const SHARDS: usize = 16;

/// The default store: sessions in this process's memory.
///
/// Sixteen shards, each behind its own lock, so requests on two cores rarely wait for each
/// other. Bounded: a new session in a full shard evicts the shard's oldest-created session,
/// active or not, so a flood of new sessions pushes out established ones: size the bound for
/// the traffic (or use Redis) until eviction is least-recently-used. Expired records are never
/// returned and are removed when found. Keeps a per-user index for "log out everywhere".
/// Everything is lost when the process exits, and each process has its own sessions: use the
/// Redis store for more than one instance.
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
    clock: Arc<dyn Clock>,
}

#[derive(Debug, Default)]
struct Shard {
    /// The live sessions, found by key: each a creation number, the place of its slot in
    /// `slots`. Four bytes a session, so the table stays in the cache, and a new session writes
    /// no cold line to it (a lookup compares the key in the slot it finds).
    table: HashTable<u32>,
    /// The sessions in the order they were created, each in a slot, with the holes the ones
    /// removed since left. Slots are numbered by the creation that made them, and the numbers
    /// run on without a gap, so they need not be stored: the slot at the front was made by
    /// creation `creations - slots.len()`. A new session goes at the back, next to the last
    /// one written; eviction takes the front, which is never a hole (holes that reach it are
    /// dropped at once).
    slots: VecDeque<Slot>,
    /// How many creations this shard has made (wrapping; the slots are far fewer than 2^32,
    /// so two of them never share a number).
    creations: u32,
    users: HashMap<String, HashSet<StoreKey, ByKeyBytes>>,
}

/// A session's place in the creation order: its key, and its entry until it is removed.
#[derive(Debug)]
struct Slot {
    key: StoreKey,
    entry: Option<Entry>,
}

#[derive(Debug)]
struct Entry {
    record: Arc<Record>,
    expires_at: u64,
    /// Whether the record has a user (and so a place in the user index). Kept here so that
    /// evicting a session does not read its record, which is cold by then, under the lock.
    has_user: bool,
}

impl Entry {
    fn new(record: Arc<Record>, expires_at: u64) -> Self {
        Self {
            has_user: record.user_id.is_some(),
            record,
            expires_at,
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

/// Where the slot of creation `creation` is, in slots whose front slot was made by creation
/// `front`.
fn index_of(front: u32, creation: u32) -> usize {
    creation.wrapping_sub(front) as usize
}

/// Whether the slot a creation number names holds `key`: the table's equality.
fn holds<'a>(
    slots: &'a VecDeque<Slot>,
    front: u32,
    key: &'a StoreKey,
) -> impl Fn(&u32) -> bool + 'a {
    move |&creation| {
        slots
            .get(index_of(front, creation))
            .is_some_and(|slot| slot.key == *key)
    }
}

/// The hash of a number in the table: that of its slot's key (for the table's growth).
fn rehash(slots: &VecDeque<Slot>, front: u32) -> impl Fn(&u32) -> u64 + '_ {
    move |&creation| {
        slots
            .get(index_of(front, creation))
            .map_or(0, |slot| key_hash(&slot.key))
    }
}

/// Makes room in a full ring of slots for one more, growing it to exact sizes: by doubling up to
/// `bound`, then once to twice the bound, where compaction stops it (and gives the room back).
///
/// Without holes, a shard holds at most `bound` slots, so its ring is then exactly the size of
/// the bound, and full when the shard is: each new slot is written where eviction has just read
/// one, in a line still in the cache, rather than in one last written a whole ring ago.
fn make_room(slots: &mut VecDeque<Slot>, bound: usize) {
    let len = slots.len();
    if len < slots.capacity() {
        return;
    }
    let target = if len < bound {
        len.saturating_mul(2).max(4).min(bound)
    } else {
        bound.saturating_mul(2)
    };
    slots.reserve_exact(target.saturating_sub(len).max(1));
}

impl Shard {
    /// The number of the creation that made the slot at the front.
    fn front_creation(&self) -> u32 {
        self.creations.wrapping_sub(self.slots.len() as u32)
    }

    /// The creation number of the live session under `key`.
    fn find(&self, key: &StoreKey) -> Option<u32> {
        let holds = holds(&self.slots, self.front_creation(), key);
        self.table.find(key_hash(key), holds).copied()
    }

    /// Where in `slots` the live session under `key` is.
    fn position(&self, key: &StoreKey) -> Option<usize> {
        Some(index_of(self.front_creation(), self.find(key)?))
    }

    /// The live session under `key`.
    fn get(&self, key: &StoreKey) -> Option<&Entry> {
        self.slots.get(self.position(key)?)?.entry.as_ref()
    }

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

    /// Adds a session under `key`, which holds none, as the newest. `bound` is the shard's
    /// bound on live sessions.
    fn push(&mut self, key: StoreKey, entry: Entry, bound: usize) {
        let creation = self.creations;
        self.creations = creation.wrapping_add(1);
        make_room(&mut self.slots, bound);
        self.slots.push_back(Slot {
            key,
            entry: Some(entry),
        });
        let front = self.front_creation();
        let Self { table, slots, .. } = self;
        table.insert_unique(key_hash(&key), creation, rehash(slots, front));
    }

    /// Removes `key`, handing back its entry so that the caller can drop it after the lock.
    fn remove(&mut self, key: &StoreKey) -> Option<Entry> {
        let front = self.front_creation();
        let Self { table, slots, .. } = self;
        let found = table
            .find_entry(key_hash(key), holds(slots, front, key))
            .ok()?;
        let (creation, _) = found.remove();
        let entry = slots.get_mut(index_of(front, creation))?.entry.take()?;
        self.drop_front_holes();
        if entry.has_user {
            self.index_user(*key, entry.record.user_id.as_deref(), None);
        }
        Some(entry)
    }

    /// Drops the holes at the front, so that the oldest slot is a session's.
    fn drop_front_holes(&mut self) {
        while self.slots.front().is_some_and(|slot| slot.entry.is_none()) {
            self.slots.pop_front();
        }
    }

    /// Removes the oldest session (the front slot's: there is never a hole at the front).
    fn evict_one(&mut self) -> Option<Entry> {
        let creation = self.front_creation();
        let slot = self.slots.pop_front()?;
        let entry = slot.entry?;
        if let Ok(found) = self
            .table
            .find_entry(key_hash(&slot.key), |&c| c == creation)
        {
            found.remove();
        }
        self.drop_front_holes();
        if entry.has_user {
            self.index_user(slot.key, entry.record.user_id.as_deref(), None);
        }
        Some(entry)
    }

    /// Drops the holes, and numbers the slots again so that they run on without a gap up to
    /// the last creation. The ring is given back the size of the bound (see [`make_room`]).
    fn compact(&mut self, bound: usize) {
        self.slots.retain(|slot| slot.entry.is_some());
        self.slots.shrink_to(bound);
        let front = self.front_creation();
        let Self { table, slots, .. } = self;
        table.clear();
        for (i, slot) in slots.iter().enumerate() {
            table.insert_unique(
                key_hash(&slot.key),
                front.wrapping_add(i as u32),
                rehash(slots, front),
            );
        }
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
        let found = match shard.get(&key) {
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
        let taken = match shard.get(&key) {
            Some(entry) if entry.expires_at > now() => true,
            Some(_) => {
                removed = shard.remove(&key);
                false
            }
            None => false,
        };
        let mut evicted = None;
        if !taken {
            if shard.table.len() >= self.max_per_shard {
                // One out for one in. The record is freed after the lock, on this thread, whose
                // allocator cache then serves the next new record from the freed memory. Freeing
                // several at once overflows that cache: the rest go back to the allocating
                // thread's arena (glibc's), under a lock the other worker threads wait for.
                evicted = shard.evict_one();
            }
            if shard.slots.len() >= 2 * self.max_per_shard {
                // Drop the holes, so that the slots (and their ring) stay bounded.
                shard.compact(self.max_per_shard);
            }
            shard.index_user(key, None, record.user_id.as_deref());
            shard.push(key, Entry::new(record, expires_at), self.max_per_shard);
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
        // Found once: nothing below moves the slots.
        let at = shard.position(&key);
        let found = at.and_then(|at| shard.slots.get(at)?.entry.as_ref());
        let outcome = match (at, found) {
            (_, Some(entry)) if entry.expires_at <= now => {
                let _expired = shard.remove(&key);
                Cas::Missing
            }
            (Some(_), Some(entry)) if entry.record.version != expected_version => {
                Cas::Conflict(Arc::clone(&entry.record))
            }
            (Some(at), Some(entry)) => {
                let old_user = entry.record.user_id.clone();
                let record = at_version(record, expected_version + 1);
                shard.index_user(key, old_user.as_deref(), record.user_id.as_deref());
                if let Some(slot) = shard.slots.get_mut(at) {
                    slot.entry = Some(Entry::new(record, expires_at));
                }
                Cas::Written
            }
            _ => Cas::Missing,
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
                    if shard.remove(&key).is_some() {
                        removed += 1;
                    }
                }
            }
        }
        StoreFuture::ready(Ok(removed))
    }
}

#[cfg(test)]
mod tests;
