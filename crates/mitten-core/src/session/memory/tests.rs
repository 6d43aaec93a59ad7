//! The memory store's tests: eviction order, the ring of slots, compaction, and a model test
//! against a map that evicts oldest first.

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
fn a_full_shard_evicts_one_session_for_each_new_one() {
    for per_shard in [1, 64, 1_024] {
        let store = MemoryStore::new(SHARDS * per_shard);
        let keys: Vec<StoreKey> = (0..per_shard + 3).map(|_| key_in_first_shard()).collect();
        let (first, more) = keys.split_at(per_shard);
        assert!(first.iter().all(|key| create(&store, *key, u64::MAX)));
        assert_eq!(store.len(), per_shard);
        for (i, key) in more.iter().enumerate() {
            assert!(create(&store, *key, u64::MAX));
            // Full, and exactly the newest `per_shard` sessions held: the oldest one went.
            assert_eq!(store.len(), per_shard, "{per_shard}");
            let held = |key: &StoreKey| held(&store, *key);
            let (gone, kept) = keys[..per_shard + i + 1].split_at(i + 1);
            assert!(!gone.iter().any(held), "{per_shard}");
            assert!(kept.iter().all(held), "{per_shard}");
        }
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
fn compacting_the_slots_keeps_the_creation_order() {
    // Two sessions per shard: a creation that finds four slots compacts them first.
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
    // The fifth slot: the three holes are dropped, and the slots are `oldest`, `newer`,
    // numbered again.
    create(newer);
    assert_eq!(lock(&store.shards[0]).slots.len(), 2);
    create(newest);
    assert!(!held(oldest) && held(newer) && held(newest));
    create(last);
    assert!(!held(newer) && held(newest) && held(last));
    assert_eq!(lock(&store.shards[0]).slots.len(), 2);
}

#[test]
fn a_full_shards_ring_is_the_size_of_its_bound() {
    // 100 per shard: a ring grown by doubling would hold 128.
    let store = MemoryStore::new(SHARDS * 100);
    let capacity = || lock(&store.shards[0]).slots.capacity();
    for _ in 0..300 {
        assert!(create(&store, key_in_first_shard(), u64::MAX));
    }
    assert_eq!(capacity(), 100);
    // Holes let it grow past the bound, to twice it and no further: the creation that would
    // go past drops the holes first, and gives the room back.
    let slots = || lock(&store.shards[0]).slots.len();
    let hole = || {
        let gone = key_in_first_shard();
        assert!(create(&store, gone, u64::MAX));
        crate::session::tests::block_on(store.delete(gone)).expect("delete");
    };
    for _ in 0..1_000 {
        if slots() == 200 {
            break;
        }
        hole();
    }
    assert_eq!((slots(), capacity()), (200, 200));
    hole();
    assert!(slots() <= 100);
    assert_eq!(capacity(), 100);
}

#[test]
fn a_full_shard_evicts_its_oldest_sessions_first() {
    // 1 024 per shard: each new session in a full shard evicts one.
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
            .table
            .len();
        assert_eq!(len, 1_024);
        // Exactly the newest sessions of the shard are held.
        let (gone, kept) = keys.split_at(keys.len() - len);
        assert!(kept.iter().all(held));
        assert!(!gone.iter().any(held));
    }
}

/// Checks that the table, the slots and the user index of `shard` agree.
fn assert_consistent(shard: &Shard) {
    let front = shard.front_creation();
    let live: Vec<(u32, &Slot)> = (0u32..)
        .zip(&shard.slots)
        .map(|(i, slot)| (front.wrapping_add(i), slot))
        .filter(|(_, slot)| slot.entry.is_some())
        .collect();
    assert_eq!(shard.table.len(), live.len());
    for (creation, slot) in &live {
        assert_eq!(shard.find(&slot.key), Some(*creation));
    }
    assert!(shard.slots.front().is_none_or(|slot| slot.entry.is_some()));
    let with_user = live
        .iter()
        .filter(|(_, slot)| slot.entry.as_ref().is_some_and(|e| e.has_user))
        .count();
    let indexed: usize = shard.users.values().map(HashSet::len).sum();
    assert_eq!(indexed, with_user);
}

#[test]
fn a_shard_is_a_map_that_evicts_in_creation_order() {
    use crate::session::tests::block_on;
    use std::collections::VecDeque;
    // Random creations, deletions, updates (some changing the user), loads and logouts
    // everywhere of a few keys of one shard, against a model: the keys held, oldest first,
    // each with its record's version and mark. Small shards, so that eviction, holes and
    // compaction all happen often, and creation numbers that wrap.
    for per_shard in [1, 4, 128] {
        let store = MemoryStore::new(SHARDS * per_shard);
        lock(&store.shards[0]).creations = u32::MAX - 1_000;
        let keys: Vec<StoreKey> = (0..3 * per_shard + 2)
            .map(|_| key_in_first_shard())
            .collect();
        // (key, version, mark, user)
        let mut model: VecDeque<(StoreKey, u64, u64, Option<String>)> = VecDeque::new();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        // A record that says which write made it.
        let record = |mark: u64, user: &Option<String>| {
            let mut record = Record::new(1);
            record.created_at = mark;
            record.user_id = user.clone();
            Arc::new(record)
        };
        for mark in 0..20_000u64 {
            let key = keys[next(keys.len())];
            let at = model.iter().position(|(k, ..)| *k == key);
            let user = [None, Some("ann".to_owned()), Some("bob".to_owned())][next(3)].clone();
            match next(9) {
                0..=2 => {
                    let created = block_on(store.create(key, record(mark, &user), u64::MAX));
                    assert_eq!(created.expect("create"), at.is_none());
                    if at.is_none() {
                        if model.len() >= per_shard {
                            model.pop_front();
                        }
                        model.push_back((key, 1, mark, user));
                    }
                }
                3 => {
                    block_on(store.delete(key)).expect("delete");
                    if let Some(at) = at {
                        model.remove(at);
                    }
                }
                4 | 5 => {
                    let expected = at.map_or(1, |at| model[at].1);
                    let outcome =
                        block_on(store.update(key, record(mark, &user), expected, u64::MAX));
                    match at {
                        Some(at) => {
                            assert!(matches!(outcome, Ok(Cas::Written)));
                            model[at].1 += 1;
                            model[at].2 = mark;
                            model[at].3 = user;
                        }
                        None => assert!(matches!(outcome, Ok(Cas::Missing))),
                    }
                }
                6 => {
                    if let Some(user) = &user {
                        let removed = block_on(store.delete_all_for_user(user)).expect("logout");
                        let before = model.len();
                        model.retain(|(.., u)| u.as_ref() != Some(user));
                        assert_eq!(removed, (before - model.len()) as u64);
                    }
                }
                _ => {
                    let found = block_on(store.load(key)).expect("load");
                    let expected = at.map(|at| (model[at].1, model[at].2, model[at].3.clone()));
                    let found = found.map(|r| (r.version, r.created_at, r.user_id.clone()));
                    assert_eq!(found, expected);
                }
            }
            assert_eq!(store.len(), model.len());
            let shard = lock(&store.shards[0]);
            assert!(shard.slots.len() <= 2 * per_shard);
            assert_consistent(&shard);
        }
    }
}

#[test]
fn key_hashes_spread_within_a_shard() {
    let hashes: HashSet<u64> = (0..2_000)
        .map(|_| SessionId::generate().store_key())
        .filter(|key| key.0[0] % 16 == 0)
        .map(|key| key_hash(&key))
        .collect();
    // About 125 keys land in shard 0; their hashes must not collide (nor share low bits).
    assert!(hashes.len() > 60, "{}", hashes.len());
    let low_bits: HashSet<u64> = hashes.iter().map(|h| h & 0xff).collect();
    assert!(low_bits.len() > 40, "{}", low_bits.len());
}
