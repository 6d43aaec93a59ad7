//! One shard of the memory store, and what it evicts when full.
//!
//! A shard keeps its sessions in two rings, one for anonymous sessions and one for sessions
//! with a user, and finds them through one table. When it is full, a new session evicts an
//! anonymous one, unless the sessions with a user hold more than three quarters of the shard,
//! the longest-waiting of them has expired, or no anonymous session is left: a flood of new
//! visitors (each of which starts a session for its CSRF secret) cannot push out the users who
//! have logged in, and users who logged in and left cannot crowd out the visitors who are about
//! to. Within a ring, eviction gives a second chance: a session used since it was last at the
//! front of its ring is sent to the back instead of evicted (the CLOCK policy, an approximation
//! of least-recently-used that costs a load one flag), unless it has expired.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use hashbrown::HashTable;

use super::forward::Forwards;
use super::{ByKeyBytes, key_hash};
use crate::session::{Record, StoreKey};

/// At most this many sessions are sent to the back by one eviction; then the front one goes,
/// used or not. Bounds the time an eviction holds the shard's lock when a ring is all recently
/// used sessions, where any choice evicts an active one.
pub(super) const SECOND_CHANCES: usize = 32;

/// The ring a session is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// No user: evicted first.
    Anonymous = 0,
    /// A user is logged in: evicted only when no anonymous session is left.
    SignedIn = 1,
}

impl Kind {
    fn of(has_user: bool) -> Self {
        match has_user {
            true => Self::SignedIn,
            false => Self::Anonymous,
        }
    }
}

/// How a full shard stands when a new session needs room.
#[derive(Debug, Clone, Copy)]
pub(super) struct Occupancy {
    /// Live anonymous sessions.
    pub(super) anonymous: usize,
    /// Live sessions with a user.
    pub(super) signed_in: usize,
    /// The shard's bound on live sessions.
    pub(super) bound: usize,
    /// Whether the session with a user that has waited longest has expired.
    pub(super) oldest_signed_in_expired: bool,
}

/// Which ring the next eviction takes from: the anonymous one, unless the sessions with a user
/// hold more than three quarters of the shard, the oldest of them has expired, or there is no
/// anonymous session to take.
pub(super) fn ring_to_evict_from(shard: Occupancy) -> Kind {
    let over_their_share = 4 * shard.signed_in > 3 * shard.bound;
    match shard.anonymous == 0 || over_their_share || shard.oldest_signed_in_expired {
        true => Kind::SignedIn,
        false => Kind::Anonymous,
    }
}

/// The numbers within a ring run modulo 2^31; the top bit of a [`Place`] names the ring.
pub(super) const NUMBER_MASK: u32 = (1 << 31) - 1;

/// Where a live session's slot is: its ring (the top bit) and the number the ring gave the slot
/// (the other 31 bits). Four bytes a session in the table, so the table stays in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Place(u32);

impl Place {
    pub(super) fn new(kind: Kind, number: u32) -> Self {
        Self(((kind as u32) << 31) | (number & NUMBER_MASK))
    }

    pub(super) fn kind(self) -> Kind {
        Kind::of(self.0 >> 31 == 1)
    }

    pub(super) fn number(self) -> u32 {
        self.0 & NUMBER_MASK
    }
}

/// A session's place in its ring: its key, and its entry until it is removed.
#[derive(Debug)]
pub(super) struct Slot {
    pub(super) key: StoreKey,
    pub(super) entry: Option<Entry>,
}

#[derive(Debug)]
pub(super) struct Entry {
    pub(super) record: Arc<Record>,
    pub(super) expires_at: u64,
    /// Whether the record has a user (and so a place in the user index and the signed-in
    /// ring). Kept here so that evicting a session does not read its record, which is cold by
    /// then, under the lock.
    pub(super) has_user: bool,
    /// Loaded or written since the session was last sent to the back of its ring.
    pub(super) recently_used: bool,
}

impl Entry {
    /// A new entry; `used` says whether it counts as used (a write to a session that exists
    /// does, a new session does not).
    pub(super) fn new(record: Arc<Record>, expires_at: u64, used: bool) -> Self {
        Self {
            has_user: record.user_id.is_some(),
            record,
            expires_at,
            recently_used: used,
        }
    }

    fn kind(&self) -> Kind {
        Kind::of(self.has_user)
    }
}

/// Sessions in the order they were sent to the back, with the holes the ones removed since left.
///
/// Slots are numbered as they are pushed, and the numbers run on without a gap, so they need
/// not be stored: the slot at the front has number `next - slots.len()`. The front is never a
/// hole (holes that reach it are dropped at once).
#[derive(Debug, Default)]
pub(super) struct Ring {
    pub(super) slots: VecDeque<Slot>,
    /// The number the next slot pushed gets (modulo 2^31).
    pub(super) next: u32,
}

impl Ring {
    pub(super) fn front_number(&self) -> u32 {
        self.next.wrapping_sub(self.slots.len() as u32) & NUMBER_MASK
    }

    fn index_of(&self, number: u32) -> usize {
        (number.wrapping_sub(self.front_number()) & NUMBER_MASK) as usize
    }

    fn slot(&self, number: u32) -> Option<&Slot> {
        self.slots.get(self.index_of(number))
    }

    fn slot_mut(&mut self, number: u32) -> Option<&mut Slot> {
        let at = self.index_of(number);
        self.slots.get_mut(at)
    }

    /// Pushes `slot` at the back, and says the number it got.
    fn push(&mut self, slot: Slot, bound: usize) -> u32 {
        let number = self.next;
        self.next = self.next.wrapping_add(1) & NUMBER_MASK;
        make_room(&mut self.slots, bound);
        self.slots.push_back(slot);
        number
    }

    /// Drops the holes at the front, so that the front slot is a session's.
    fn drop_front_holes(&mut self) {
        while self.slots.front().is_some_and(|slot| slot.entry.is_none()) {
            self.slots.pop_front();
        }
    }
}

/// Makes room in a full ring of slots for one more, growing it to exact sizes: by doubling up to
/// `bound`, then once to twice the bound, where compaction stops it (and gives the room back).
///
/// Without holes, a ring holds at most `bound` slots, so it is then exactly the size of the
/// bound, and full when the shard is: each new slot is written where eviction has just read
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

/// One shard: its two rings, the table that finds a key's place in them, and the user index.
#[derive(Debug, Default)]
pub(super) struct Shard {
    /// The live sessions, found by key. A lookup compares the key in the slot the place names.
    pub(super) table: HashTable<Place>,
    /// The rings, indexed by [`Kind`].
    pub(super) rings: [Ring; 2],
    pub(super) users: HashMap<String, HashSet<StoreKey, ByKeyBytes>>,
    /// How many live sessions have a user (as many as the user index holds).
    pub(super) signed_in: usize,
    /// Where renewed sessions' old keys point, for a delete of them to follow.
    pub(super) forwards: Forwards,
}

impl Shard {
    fn ring(&self, kind: Kind) -> &Ring {
        &self.rings[kind as usize]
    }

    fn ring_mut(&mut self, kind: Kind) -> &mut Ring {
        &mut self.rings[kind as usize]
    }

    /// The place of the live session under `key`.
    pub(super) fn find(&self, key: &StoreKey) -> Option<Place> {
        let rings = &self.rings;
        self.table
            .find(key_hash(key), |place| slot_holds(rings, *place, key))
            .copied()
    }

    /// The live session under `key`.
    pub(super) fn get(&self, key: &StoreKey) -> Option<&Entry> {
        let place = self.find(key)?;
        self.ring(place.kind()).slot(place.number())?.entry.as_ref()
    }

    /// The live session under `key`, to change.
    pub(super) fn get_mut(&mut self, key: &StoreKey) -> Option<&mut Entry> {
        let place = self.find(key)?;
        self.ring_mut(place.kind())
            .slot_mut(place.number())?
            .entry
            .as_mut()
    }

    pub(super) fn index_user(&mut self, key: StoreKey, old: Option<&str>, new: Option<&str>) {
        if old == new {
            return;
        }
        if let Some(old) = old {
            if let Some(set) = self.users.get_mut(old) {
                if set.remove(&key) {
                    self.signed_in -= 1;
                }
                if set.is_empty() {
                    self.users.remove(old);
                }
            }
        }
        if let Some(new) = new {
            if self.users.entry(new.to_owned()).or_default().insert(key) {
                self.signed_in += 1;
            }
        }
    }

    /// Adds a session under `key`, which holds none, at the back of its ring. `bound` is the
    /// shard's bound on live sessions. (The caller keeps the user index.)
    pub(super) fn push(&mut self, key: StoreKey, entry: Entry, bound: usize) {
        let kind = entry.kind();
        if self.ring(kind).slots.len() >= 2 * bound {
            // Drop the holes, so that the ring stays bounded.
            self.compact(bound);
        }
        let number = self.ring_mut(kind).push(
            Slot {
                key,
                entry: Some(entry),
            },
            bound,
        );
        let Self { table, rings, .. } = self;
        table.insert_unique(key_hash(&key), Place::new(kind, number), |place| {
            slot_key_hash(rings, *place)
        });
    }

    /// Puts `entry` in place of the live session under `key`, moving it to the back of the other
    /// ring if its user came or went, and hands back the entry it replaced, to be dropped after
    /// the lock. (The caller keeps the user index.)
    pub(super) fn replace(&mut self, key: &StoreKey, entry: Entry, bound: usize) -> Option<Entry> {
        let place = self.find(key)?;
        if place.kind() == entry.kind() {
            let slot = self.ring_mut(place.kind()).slot_mut(place.number())?;
            return slot.entry.replace(entry);
        }
        if let Ok(found) = self.table.find_entry(key_hash(key), |&p| p == place) {
            found.remove();
        }
        let old = self.take(place);
        self.push(*key, entry, bound);
        old
    }

    /// Removes `key`, handing back its entry so that the caller can drop it after the lock.
    pub(super) fn remove(&mut self, key: &StoreKey) -> Option<Entry> {
        let rings = &self.rings;
        let found = self
            .table
            .find_entry(key_hash(key), |place| slot_holds(rings, *place, key))
            .ok()?;
        let (place, _) = found.remove();
        let entry = self.take(place)?;
        if entry.has_user {
            self.index_user(*key, entry.record.user_id.as_deref(), None);
        }
        Some(entry)
    }

    /// Makes room for one session: removes the front session of the ring to evict from (see
    /// [`ring_to_evict_from`]), after sending up to [`SECOND_CHANCES`] recently used ones that
    /// have not expired to the back. `now` reads the clock, which is done only when an expiry
    /// matters. Hands back the evicted entry so that the caller can drop it after the lock.
    pub(super) fn evict_one(
        &mut self,
        bound: usize,
        now: &mut impl FnMut() -> u64,
    ) -> Option<Entry> {
        let oldest_signed_in = self.ring(Kind::SignedIn).slots.front();
        let oldest_signed_in_expired = oldest_signed_in
            .and_then(|slot| slot.entry.as_ref())
            .is_some_and(|entry| entry.expires_at <= now());
        let kind = ring_to_evict_from(Occupancy {
            anonymous: self.table.len().saturating_sub(self.signed_in),
            signed_in: self.signed_in,
            bound,
            oldest_signed_in_expired,
        });
        for _ in 0..SECOND_CHANCES {
            let ring = self.ring_mut(kind);
            let front = ring.front_number();
            match ring.slots.front_mut()?.entry.as_mut() {
                Some(entry) if entry.recently_used && entry.expires_at > now() => {
                    entry.recently_used = false;
                }
                _ => break,
            }
            let Some(slot) = ring.slots.pop_front() else {
                break;
            };
            ring.drop_front_holes();
            let key = slot.key;
            let number = ring.push(slot, bound);
            self.repoint(&key, Place::new(kind, front), Place::new(kind, number));
        }
        let ring = self.ring_mut(kind);
        let place = Place::new(kind, ring.front_number());
        let slot = ring.slots.pop_front()?;
        ring.drop_front_holes();
        let entry = slot.entry?;
        if let Ok(found) = self.table.find_entry(key_hash(&slot.key), |&p| p == place) {
            found.remove();
        }
        if entry.has_user {
            self.index_user(slot.key, entry.record.user_id.as_deref(), None);
        }
        Some(entry)
    }

    /// Takes the entry out of the slot at `place`, leaving a hole (the table must no longer
    /// point at it, or must be repointed).
    fn take(&mut self, place: Place) -> Option<Entry> {
        let ring = self.ring_mut(place.kind());
        let entry = ring.slot_mut(place.number())?.entry.take();
        ring.drop_front_holes();
        entry
    }

    /// Points the table's entry for `key` from `old` to `new`.
    fn repoint(&mut self, key: &StoreKey, old: Place, new: Place) {
        if let Ok(mut found) = self.table.find_entry(key_hash(key), |&p| p == old) {
            *found.get_mut() = new;
        }
    }

    /// Drops the holes of both rings, and numbers their slots again so that they run on without
    /// a gap. Each ring is given back the size of the bound (see [`make_room`]).
    pub(super) fn compact(&mut self, bound: usize) {
        for ring in &mut self.rings {
            ring.slots.retain(|slot| slot.entry.is_some());
            ring.slots.shrink_to(bound);
        }
        let Self { table, rings, .. } = self;
        table.clear();
        for kind in [Kind::Anonymous, Kind::SignedIn] {
            let ring = &rings[kind as usize];
            let front = ring.front_number();
            for (i, slot) in (0u32..).zip(&ring.slots) {
                let place = Place::new(kind, front.wrapping_add(i));
                table.insert_unique(key_hash(&slot.key), place, |place| {
                    slot_key_hash(rings, *place)
                });
            }
        }
    }
}

/// Whether the slot at `place` holds `key`: the table's equality.
fn slot_holds(rings: &[Ring; 2], place: Place, key: &StoreKey) -> bool {
    rings[place.kind() as usize]
        .slot(place.number())
        .is_some_and(|slot| slot.key == *key)
}

/// The hash of the key in the slot at `place` (for the table's growth).
fn slot_key_hash(rings: &[Ring; 2], place: Place) -> u64 {
    rings[place.kind() as usize]
        .slot(place.number())
        .map_or(0, |slot| key_hash(&slot.key))
}
