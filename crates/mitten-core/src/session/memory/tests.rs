//! The memory store's tests: eviction order, the rings of slots, compaction, and a model test
//! against a list that evicts as the store promises to.

use std::collections::{HashSet, VecDeque};

use super::shard::{Kind, NUMBER_MASK, Place, Ring, SECOND_CHANCES, Shard};
use super::*;
use crate::session::SessionId;

#[test]
fn evicted_sessions_leave_the_user_index() {
    // One session evicted at a time (10 per shard), and sixteen at a time (1 024).
    for max in [160, 16 * 1_024] {
        // Seven users with thousands of sessions each: no cap on them here.
        let store = MemoryStore::new(max).max_sessions_per_user(usize::MAX);
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

/// Whether `store` holds a live session under `key`, looked at without using it (a load would
/// count as a use, and change what is evicted next).
fn held(store: &MemoryStore, key: StoreKey) -> bool {
    store
        .shard(&key)
        .get(&key)
        .is_some_and(|entry| entry.expires_at > 2)
}

/// Uses the session under `key`, as a request that sends its cookie does.
fn use_session(store: &MemoryStore, key: StoreKey) {
    let loaded = crate::session::tests::block_on(store.load_at(key, 2)).expect("load");
    assert!(loaded.is_some());
}

/// The shard [`key_in_first_shard`] keys land in.
fn first_shard(store: &MemoryStore) -> MutexGuard<'_, Shard> {
    lock(&store.shards[0])
}

fn ring(shard: &Shard, kind: Kind) -> &Ring {
    &shard.rings[kind as usize]
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
    assert_eq!(ring(&first_shard(&store), Kind::Anonymous).slots.len(), 2);
    create(newest);
    assert!(!held(oldest) && held(newer) && held(newest));
    create(last);
    assert!(!held(newer) && held(newest) && held(last));
    assert_eq!(ring(&first_shard(&store), Kind::Anonymous).slots.len(), 2);
}

#[test]
fn a_full_shards_ring_is_the_size_of_its_bound() {
    // 100 per shard: a ring grown by doubling would hold 128.
    let store = MemoryStore::new(SHARDS * 100);
    let capacity = || ring(&first_shard(&store), Kind::Anonymous).slots.capacity();
    for _ in 0..300 {
        assert!(create(&store, key_in_first_shard(), u64::MAX));
    }
    assert_eq!(capacity(), 100);
    // Holes let it grow past the bound, to twice it and no further: the creation that would
    // go past drops the holes first, and gives the room back.
    let slots = || ring(&first_shard(&store), Kind::Anonymous).slots.len();
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

/// Whether `store` created a session for `user` under `key`.
fn create_signed_in(store: &MemoryStore, key: StoreKey, user: &str) -> bool {
    let mut record = Record::new(1);
    record.user_id = Some(user.to_owned());
    crate::session::tests::block_on(store.create(key, Arc::new(record), u64::MAX)).expect("create")
}

#[test]
fn a_flood_of_new_visitors_evicts_no_signed_in_session() {
    let store = MemoryStore::new(SHARDS * 64);
    // Users in three quarters of the shard: their share.
    let users: Vec<StoreKey> = (0..48).map(|_| key_in_first_shard()).collect();
    for (i, key) in users.iter().enumerate() {
        assert!(create_signed_in(&store, *key, &format!("user{i}")));
    }
    // Ten times the shard's bound in new anonymous sessions, none of the users active.
    let visitors: Vec<StoreKey> = (0..640).map(|_| key_in_first_shard()).collect();
    for key in &visitors {
        assert!(create(&store, *key, u64::MAX));
    }
    assert!(users.iter().all(|key| held(&store, *key)));
    // The sixteen places left went to the newest visitors.
    assert_eq!(store.len(), 64);
    assert!(visitors[624..].iter().all(|key| held(&store, *key)));
}

#[test]
fn users_beyond_three_quarters_of_a_full_shard_make_room_for_visitors() {
    let store = MemoryStore::new(SHARDS * 64);
    let users: Vec<StoreKey> = (0..64).map(|_| key_in_first_shard()).collect();
    for (i, key) in users.iter().enumerate() {
        assert!(create_signed_in(&store, *key, &format!("user{i}")));
    }
    // One user comes back; the others have been idle since they logged in.
    use_session(&store, users[0]);
    let visitors: Vec<StoreKey> = (0..640).map(|_| key_in_first_shard()).collect();
    for key in &visitors {
        assert!(create(&store, *key, u64::MAX));
    }
    // The users are evicted down to their share, the idle ones that waited longest first.
    let (gone, kept) = users[1..].split_at(16);
    assert!(held(&store, users[0]));
    assert!(!gone.iter().any(|key| held(&store, *key)));
    assert!(kept.iter().all(|key| held(&store, *key)));
    assert_eq!(first_shard(&store).signed_in, 48);
    assert!(visitors[624..].iter().all(|key| held(&store, *key)));
}

#[test]
fn expired_sessions_with_a_user_are_evicted_before_live_ones() {
    let clock = Arc::new(crate::session::ManualClock::new(1));
    let store = MemoryStore::with_clock(SHARDS * 8, clock.clone());
    let create_for = |key, user: Option<&str>, expires_at| {
        let mut record = Record::new(1);
        record.user_id = user.map(str::to_owned);
        crate::session::tests::block_on(store.create(key, Arc::new(record), expires_at))
            .expect("create")
    };
    let held = |key| first_shard(&store).get(&key).is_some();
    let [ann, bob, cat, dan] = [(); 4].map(|_| key_in_first_shard());
    // Three users who log in, stay ten seconds and leave without logging out; one who stays.
    assert!(create_for(ann, Some("ann"), 10));
    assert!(create_for(bob, Some("bob"), 10));
    assert!(create_for(cat, Some("cat"), 10));
    assert!(create_for(dan, Some("dan"), u64::MAX));
    let visitors: Vec<StoreKey> = (0..4).map(|_| key_in_first_shard()).collect();
    for key in &visitors {
        assert!(create_for(*key, None, u64::MAX));
    }
    // Cat was active just before her session expired: no second chance once expired.
    clock.advance(4);
    use_session(&store, cat);
    clock.advance(20);
    let newer: Vec<StoreKey> = (0..3).map(|_| key_in_first_shard()).collect();
    for key in &newer {
        assert!(create_for(*key, None, u64::MAX));
    }
    assert!(!held(ann) && !held(bob) && !held(cat));
    assert!(held(dan) && visitors.iter().all(|key| held(*key)));
    // The expired are gone: visitors again before the user who stays.
    assert!(create_for(key_in_first_shard(), None, u64::MAX));
    assert!(held(dan) && !held(visitors[0]));
    assert_eq!(first_shard(&store).signed_in, 1);
    assert!(first_shard(&store).users.keys().eq(["dan"]));
}

/// A record of `user` last seen at `last_seen`.
fn seen(user: &str, last_seen: u64) -> Arc<Record> {
    let mut record = Record::new(last_seen);
    record.user_id = Some(user.to_owned());
    Arc::new(record)
}

/// The keys of `user`'s sessions in the whole store.
fn sessions_of(store: &MemoryStore, user: &str) -> HashSet<StoreKey> {
    store
        .shards
        .iter()
        .flat_map(|shard| lock(shard).users.get(user).cloned().unwrap_or_default())
        .collect()
}

#[test]
fn a_login_beyond_the_cap_ends_the_users_stalest_sessions() {
    use crate::session::tests::block_on;
    let store = MemoryStore::new(SHARDS * 64).max_sessions_per_user(3);
    let [a, b, c, d, e] = [(); 5].map(|_| SessionId::generate().store_key());
    for (key, last_seen) in [(a, 30), (b, 10), (c, 20)] {
        assert!(block_on(store.create(key, seen("ann", last_seen), u64::MAX)).expect("create"));
    }
    assert!(block_on(store.create(d, seen("bob", 5), u64::MAX)).expect("create"));
    assert_eq!(sessions_of(&store, "ann"), HashSet::from([a, b, c]));
    // A fourth login, a new session: the one seen longest ago ends. Bob's are not counted.
    assert!(block_on(store.create(e, seen("ann", 40), u64::MAX)).expect("create"));
    assert_eq!(sessions_of(&store, "ann"), HashSet::from([a, c, e]));
    assert_eq!(sessions_of(&store, "bob"), HashSet::from([d]));
    // A fifth, a user set on a session that had none (seen long ago itself): it stays.
    let visitor = SessionId::generate().store_key();
    assert!(block_on(store.create(visitor, Arc::new(Record::new(1)), u64::MAX)).expect("create"));
    let written = block_on(store.update(visitor, seen("ann", 2), 1, u64::MAX));
    assert!(matches!(written, Ok(Cas::Written)));
    assert_eq!(sessions_of(&store, "ann"), HashSet::from([a, e, visitor]));
    assert_eq!(store.len(), 4);
    // Writes that keep the user count nothing and end nothing.
    let written = block_on(store.update(c, seen("ann", 50), 1, u64::MAX));
    assert!(matches!(written, Ok(Cas::Missing)));
    let written = block_on(store.update(a, seen("ann", 60), 1, u64::MAX));
    assert!(matches!(written, Ok(Cas::Written)));
    assert_eq!(sessions_of(&store, "ann"), HashSet::from([a, e, visitor]));
    // Ann's session passes to Bob: it counts for Bob, who is within his cap, and no longer for
    // Ann, whose next login then ends nothing.
    let written = block_on(store.update(a, seen("bob", 70), 2, u64::MAX));
    assert!(matches!(written, Ok(Cas::Written)));
    assert_eq!(sessions_of(&store, "bob"), HashSet::from([a, d]));
    let f = SessionId::generate().store_key();
    assert!(block_on(store.create(f, seen("ann", 80), u64::MAX)).expect("create"));
    assert_eq!(sessions_of(&store, "ann"), HashSet::from([e, visitor, f]));
    for shard in store.shards.iter() {
        assert_consistent(&lock(shard));
    }
}

#[test]
fn one_account_logging_in_again_and_again_logs_no_other_user_out() {
    use crate::session::tests::block_on;
    // Sixteen a shard: users may hold twelve of them before they are evicted for visitors.
    let store = MemoryStore::new(SHARDS * 16).max_sessions_per_user(4);
    let users: Vec<StoreKey> = (0..6).map(|_| key_in_first_shard()).collect();
    for (n, key) in users.iter().enumerate() {
        let user = format!("user{n}");
        assert!(block_on(store.create(*key, seen(&user, 1), u64::MAX)).expect("create"));
    }
    // One account logs in 2 000 times, among a flood of new visitors that keeps every shard
    // full. Without the cap its sessions would soon hold more than twelve of shard 0's sixteen,
    // and the oldest sessions with a user, the six users', would make room.
    for login in 0..2_000 {
        let key = SessionId::generate().store_key();
        assert!(block_on(store.create(key, seen("mallory", 2 + login), u64::MAX)).expect("create"));
        let visitor = SessionId::generate().store_key();
        assert!(
            block_on(store.create(visitor, Arc::new(Record::new(1)), u64::MAX)).expect("create")
        );
    }
    assert_eq!(sessions_of(&store, "mallory").len(), 4);
    assert!(users.iter().all(|key| held(&store, *key)));
    for shard in store.shards.iter() {
        assert_consistent(&lock(shard));
    }
}

#[test]
fn a_login_moves_a_session_out_of_the_floods_reach() {
    use crate::session::tests::block_on;
    let store = MemoryStore::new(SHARDS * 8);
    let visitor = key_in_first_shard();
    assert!(create(&store, visitor, u64::MAX));
    // The oldest session logs in (the session engine writes the user with a compare-and-set).
    let mut record = Record::new(1);
    record.user_id = Some("ann".to_owned());
    let written = block_on(store.update(visitor, Arc::new(record), 1, u64::MAX));
    assert!(matches!(written, Ok(Cas::Written)));
    for _ in 0..100 {
        assert!(create(&store, key_in_first_shard(), u64::MAX));
    }
    assert!(held(&store, visitor));
    // And logs out: anonymous again, and evicted in its turn like any other (after one pass
    // over it, the logout being a use).
    let written = block_on(store.update(visitor, Arc::new(Record::new(1)), 2, u64::MAX));
    assert!(matches!(written, Ok(Cas::Written)));
    for _ in 0..7 {
        assert!(create(&store, key_in_first_shard(), u64::MAX));
    }
    assert!(held(&store, visitor));
    for _ in 0..8 {
        assert!(create(&store, key_in_first_shard(), u64::MAX));
    }
    assert!(!held(&store, visitor));
}

#[test]
fn signed_in_sessions_are_evicted_beyond_their_share_or_when_no_anonymous_one_is_left() {
    let store = MemoryStore::new(SHARDS * 4);
    let [ann, bob, cat, dan, eve, fay] = [(); 6].map(|_| key_in_first_shard());
    let held = |key| held(&store, key);
    for (key, user) in [(ann, "ann"), (bob, "bob"), (cat, "cat"), (dan, "dan")] {
        assert!(create_signed_in(&store, key, user));
    }
    // Full of users: the oldest of them goes, for a user or a visitor alike.
    assert!(create_signed_in(&store, eve, "eve"));
    assert!(!held(ann) && held(bob));
    let [v1, v2, v3] = [(); 3].map(|_| key_in_first_shard());
    assert!(create(&store, v1, u64::MAX));
    assert!(!held(bob) && held(cat) && held(v1));
    // Three users of four places: their share. The anonymous session goes, though older ones
    // have a user, and a new user's session takes its place as well.
    assert!(create(&store, v2, u64::MAX));
    assert!(!held(v1) && held(v2) && held(cat));
    assert!(create_signed_in(&store, fay, "fay"));
    assert!(!held(v2) && held(cat));
    // Four users again: over their share.
    assert!(create(&store, v3, u64::MAX));
    assert!(!held(cat) && held(dan) && held(eve) && held(fay) && held(v3));
    assert!(
        first_shard(&store)
            .users
            .keys()
            .all(|u| ["dan", "eve", "fay"].contains(&u.as_str()))
    );
}

#[test]
fn a_session_used_since_it_came_up_is_passed_over_once() {
    let store = MemoryStore::new(SHARDS * 4);
    let keys: Vec<StoreKey> = (0..8).map(|_| key_in_first_shard()).collect();
    for key in &keys[..4] {
        assert!(create(&store, *key, u64::MAX));
    }
    use_session(&store, keys[0]);
    // The oldest was used: the next oldest goes, and the oldest is now the newest but one.
    assert!(create(&store, keys[4], u64::MAX));
    assert!(held(&store, keys[0]) && !held(&store, keys[1]));
    assert!(create(&store, keys[5], u64::MAX));
    assert!(create(&store, keys[6], u64::MAX));
    assert!(held(&store, keys[0]) && !held(&store, keys[2]) && !held(&store, keys[3]));
    // Not used since: its turn.
    assert!(create(&store, keys[7], u64::MAX));
    assert!(!held(&store, keys[0]));
    assert!(keys[4..].iter().all(|key| held(&store, *key)));
}

#[test]
fn one_eviction_passes_over_a_bounded_number_of_used_sessions() {
    let per_shard = SECOND_CHANCES + 8;
    let store = MemoryStore::new(SHARDS * per_shard);
    let keys: Vec<StoreKey> = (0..per_shard).map(|_| key_in_first_shard()).collect();
    for key in &keys {
        assert!(create(&store, *key, u64::MAX));
        use_session(&store, *key);
    }
    // Every session is in use: the first `SECOND_CHANCES` are passed over, the next one goes.
    assert!(create(&store, key_in_first_shard(), u64::MAX));
    let (passed_over, rest) = keys.split_at(SECOND_CHANCES);
    assert!(passed_over.iter().all(|key| held(&store, *key)));
    assert!(!held(&store, rest[0]));
    assert!(rest[1..].iter().all(|key| held(&store, *key)));
}

/// Checks that the table, the rings and the user index of `shard` agree.
fn assert_consistent(shard: &Shard) {
    let mut live = Vec::new();
    for kind in [Kind::Anonymous, Kind::SignedIn] {
        let ring = ring(shard, kind);
        assert!(ring.slots.front().is_none_or(|slot| slot.entry.is_some()));
        let front = ring.front_number();
        for (i, slot) in (0u32..).zip(&ring.slots) {
            let Some(entry) = &slot.entry else { continue };
            assert_eq!(entry.has_user, kind == Kind::SignedIn);
            let place = Place::new(kind, front.wrapping_add(i));
            assert_eq!(shard.find(&slot.key), Some(place));
            live.push(entry);
        }
    }
    assert_eq!(shard.table.len(), live.len());
    let with_user = live.iter().filter(|entry| entry.has_user).count();
    let indexed: usize = shard.users.values().map(HashSet::len).sum();
    assert_eq!(indexed, with_user);
    assert_eq!(shard.signed_in, with_user);
}

/// A session as the model of a shard holds it.
#[derive(Debug, Clone)]
struct Modelled {
    key: StoreKey,
    version: u64,
    /// Which write made the record.
    mark: u64,
    user: Option<String>,
    used: bool,
    /// When it expires: a session is live before this second.
    expires_at: u64,
}

/// A shard as the store promises it behaves, written plainly: two lists, oldest first.
#[derive(Debug, Default)]
struct Model {
    rings: [VecDeque<Modelled>; 2],
}

impl Model {
    fn len(&self) -> usize {
        self.rings.iter().map(VecDeque::len).sum()
    }

    fn find(&mut self, key: StoreKey) -> Option<&mut Modelled> {
        self.rings.iter_mut().flatten().find(|s| s.key == key)
    }

    fn remove(&mut self, key: StoreKey) -> Option<Modelled> {
        let ring = self
            .rings
            .iter_mut()
            .find(|r| r.iter().any(|s| s.key == key))?;
        let at = ring.iter().position(|s| s.key == key)?;
        ring.remove(at)
    }

    fn push(&mut self, session: Modelled) {
        self.rings[usize::from(session.user.is_some())].push_back(session);
    }

    /// Anonymous sessions first, unless the users hold more than three quarters of the
    /// `bound`, the oldest session with a user has expired at `now`, or no anonymous session is
    /// left; the front one that was not used since it came up or has expired, passing over at
    /// most `SECOND_CHANCES`.
    fn evict(&mut self, bound: usize, now: u64) {
        let over_their_share = 4 * self.rings[1].len() > 3 * bound;
        let oldest_user_expired = self.rings[1].front().is_some_and(|s| s.expires_at <= now);
        let ring = match self.rings[0].is_empty() || over_their_share || oldest_user_expired {
            true => &mut self.rings[1],
            false => &mut self.rings[0],
        };
        for _ in 0..SECOND_CHANCES {
            match ring.front_mut() {
                Some(front) if front.used && front.expires_at > now => front.used = false,
                _ => break,
            }
            ring.rotate_left(1);
        }
        ring.pop_front();
    }
}

#[test]
fn a_shard_evicts_as_its_model_does() {
    use crate::session::tests::block_on;
    // Random creations, deletions, updates (some changing the user), loads and logouts
    // everywhere of a few keys of one shard, against the model, while the clock runs and
    // sessions expire. Small shards, so that eviction, second chances, holes and compaction all
    // happen often, and ring numbers that wrap.
    for per_shard in [1, 4, 8, 128] {
        let clock = Arc::new(crate::session::ManualClock::new(1));
        let store = MemoryStore::with_clock(SHARDS * per_shard, clock.clone())
            .max_sessions_per_user(usize::MAX);
        let mut now = 1;
        for ring in &mut first_shard(&store).rings {
            ring.next = NUMBER_MASK - 1_000;
        }
        let keys: Vec<StoreKey> = (0..3 * per_shard + 2)
            .map(|_| key_in_first_shard())
            .collect();
        let mut model = Model::default();
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
        for mark in 0..30_000u64 {
            // A second passes every sixteen steps or so; a session lives for up to 24 of them,
            // or for ever.
            if next(16) == 0 {
                clock.advance(1);
                now += 1;
            }
            let expires_at = match next(4) {
                0 => u64::MAX,
                _ => now + 1 + next(24) as u64,
            };
            let key = keys[next(keys.len())];
            // Anonymous or one of six users: logging out everywhere removes a sixth of them.
            let user = ["", "", "ann", "bob", "cat", "dan", "eve", "fay"][next(8)];
            let user = Some(user.to_owned()).filter(|u| !u.is_empty());
            match next(9) {
                0..=2 => {
                    let created = block_on(store.create(key, record(mark, &user), expires_at));
                    // An expired session under the key is removed, and the key is new again.
                    if model.find(key).is_some_and(|s| s.expires_at <= now) {
                        model.remove(key);
                    }
                    let new = model.find(key).is_none();
                    assert_eq!(created.expect("create"), new);
                    if new {
                        if model.len() >= per_shard {
                            model.evict(per_shard, now);
                        }
                        let version = 1;
                        let used = false;
                        model.push(Modelled {
                            key,
                            version,
                            mark,
                            user,
                            used,
                            expires_at,
                        });
                    }
                }
                3 => {
                    block_on(store.delete(key)).expect("delete");
                    model.remove(key);
                }
                4 | 5 => {
                    let expected = model.find(key).map_or(1, |s| s.version);
                    let outcome =
                        block_on(store.update(key, record(mark, &user), expected, expires_at));
                    if model.find(key).is_some_and(|s| s.expires_at <= now) {
                        model.remove(key);
                    }
                    match model.find(key) {
                        Some(found) => {
                            assert!(matches!(outcome, Ok(Cas::Written)));
                            let moves = found.user.is_some() != user.is_some();
                            found.version += 1;
                            found.mark = mark;
                            found.user = user;
                            found.used = true;
                            found.expires_at = expires_at;
                            // A session keeps its place unless its user came or went: then it
                            // goes to the back of the other ring.
                            if let Some(moved) = moves.then(|| model.remove(key)).flatten() {
                                model.push(moved);
                            }
                        }
                        None => assert!(matches!(outcome, Ok(Cas::Missing))),
                    }
                }
                6 => {
                    if let Some(user) = &user {
                        let removed =
                            block_on(store.delete_all_for_user(user, None)).expect("logout");
                        let before = model.len();
                        for ring in &mut model.rings {
                            ring.retain(|s| s.user.as_ref() != Some(user));
                        }
                        assert_eq!(removed, (before - model.len()) as u64);
                    }
                }
                _ => {
                    let found = block_on(store.load(key)).expect("load");
                    if model.find(key).is_some_and(|s| s.expires_at <= now) {
                        model.remove(key);
                    }
                    let expected = model.find(key).map(|s| {
                        s.used = true;
                        (s.version, s.mark, s.user.clone())
                    });
                    let found = found.map(|r| (r.version, r.created_at, r.user_id.clone()));
                    assert_eq!(found, expected);
                }
            }
            assert_eq!(store.len(), model.len());
            let shard = first_shard(&store);
            for ring in &shard.rings {
                assert!(ring.slots.len() <= 2 * per_shard);
            }
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
