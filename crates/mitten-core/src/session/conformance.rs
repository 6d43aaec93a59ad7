//! The conformance suite every [`SessionStore`] must pass, written once: Mitten runs it against
//! [`MemoryStore`](super::MemoryStore) and the Redis store, and a store of your own can run it
//! too. Each check panics (through `assert!`) on a violation.
//!
//! ```
//! # async fn check() {
//! use std::sync::Arc;
//! use mitten_core::session::{MemoryStore, conformance};
//!
//! conformance::run_all(Arc::new(MemoryStore::new(1_000))).await;
//! # }
//! ```

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::{Cas, Forward, MAX_FORWARDS, Record, SessionId, SessionStore, StoreKey};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn key() -> StoreKey {
    SessionId::generate().store_key()
}

/// The value under `"k"` of the record stored under `key`.
async fn stored_k(store: &dyn SessionStore, key: StoreKey) -> serde_json::Value {
    let record = store.load(key).await.expect("load").expect("present");
    record.data.get("k").cloned().expect("k")
}

fn record(user: Option<&str>) -> Record {
    let mut record = Record::new(now());
    record.data.insert("k".into(), json!("v"));
    record.user_id = user.map(str::to_owned);
    record
}

/// Every check, one after the other.
pub async fn run_all(store: Arc<dyn SessionStore>) {
    create_then_load(&*store).await;
    create_refuses_a_taken_key(&*store).await;
    a_renewed_session_is_created_beside_the_one_it_replaces(&*store).await;
    update_is_compare_and_set(&*store).await;
    update_of_a_missing_record(&*store).await;
    delete_removes(&*store).await;
    expired_records_are_gone(&*store).await;
    log_out_everywhere(&*store).await;
    unknown_keys_are_not_found(&*store).await;
    a_delete_follows_a_renewal_to_the_renewed_session(&*store).await;
    a_renewal_never_follows_a_forward(&*store).await;
    forwards_are_followed_in_a_chain_until_they_expire(&*store).await;
}

/// A created record loads back as it was, at version 1.
pub async fn create_then_load(store: &dyn SessionStore) {
    let key = key();
    assert!(
        store
            .create(key, Arc::new(record(None)), now() + 60)
            .await
            .expect("create")
    );
    let loaded = store.load(key).await.expect("load").expect("present");
    assert_eq!(loaded.data.get("k").expect("k"), "v");
    assert_eq!(loaded.version, 1);
}

/// A second create on one key fails, and leaves the first record alone.
pub async fn create_refuses_a_taken_key(store: &dyn SessionStore) {
    let key = key();
    assert!(
        store
            .create(key, Arc::new(record(None)), now() + 60)
            .await
            .expect("create")
    );
    let mut other = record(None);
    other.data.insert("k".into(), json!("other"));
    assert!(
        !store
            .create(key, Arc::new(other), now() + 60)
            .await
            .expect("create")
    );
    assert_eq!(stored_k(store, key).await, "v");
}

/// A session that renews its ID is created as any other, and refused a taken key; the one it
/// replaces stays until the caller deletes it.
pub async fn a_renewed_session_is_created_beside_the_one_it_replaces(store: &dyn SessionStore) {
    let (old, new) = (key(), key());
    let expires_at = now() + 60;
    let created = store.create(old, Arc::new(record(Some("ann"))), expires_at);
    assert!(created.await.expect("create"));
    let renewed = store.create_in_place_of(new, Arc::new(record(Some("ann"))), expires_at, old);
    assert!(renewed.await.expect("create"));
    let loaded = store.load(new).await.expect("load").expect("present");
    assert_eq!(
        (loaded.version, loaded.user_id.as_deref()),
        (1, Some("ann"))
    );
    assert_eq!(stored_k(store, old).await, "v");
    let again = store.create_in_place_of(new, Arc::new(record(None)), expires_at, old);
    assert!(!again.await.expect("create"));
    store.delete(old).await.expect("delete");
    assert!(store.load(old).await.expect("load").is_none());
    assert_eq!(stored_k(store, new).await, "v");
}

/// An update with the stored version wins; one with a stale version gets the current record.
pub async fn update_is_compare_and_set(store: &dyn SessionStore) {
    let key = key();
    assert!(
        store
            .create(key, Arc::new(record(None)), now() + 60)
            .await
            .expect("create")
    );
    let mut first = record(None);
    first.data.insert("k".into(), json!("first"));
    assert_eq!(
        store
            .update(key, Arc::new(first), 1, now() + 60)
            .await
            .expect("update"),
        Cas::Written
    );
    let mut stale = record(None);
    stale.data.insert("k".into(), json!("stale"));
    let outcome = store
        .update(key, Arc::new(stale), 1, now() + 60)
        .await
        .expect("update");
    assert!(
        matches!(outcome, Cas::Conflict(_)),
        "expected a conflict, got {outcome:?}"
    );
    if let Cas::Conflict(current) = outcome {
        assert_eq!(current.version, 2);
        assert_eq!(current.data.get("k").expect("k"), "first");
    }
    assert_eq!(stored_k(store, key).await, "first");
    // Deleted, it comes back as it was last written.
    let deleted = store.delete(key).await.expect("delete").expect("live");
    assert_eq!(deleted.version, 2);
    assert_eq!(deleted.data.get("k").expect("k"), "first");
}

/// Updating a record that is not there says so and creates nothing.
pub async fn update_of_a_missing_record(store: &dyn SessionStore) {
    let key = key();
    assert_eq!(
        store
            .update(key, Arc::new(record(None)), 1, now() + 60)
            .await
            .expect("update"),
        Cas::Missing
    );
    assert!(store.load(key).await.expect("load").is_none());
}

/// A deleted record is gone.
pub async fn delete_removes(store: &dyn SessionStore) {
    let key = key();
    assert!(
        store
            .create(key, Arc::new(record(Some("deleted-user"))), now() + 60)
            .await
            .expect("create")
    );
    // The live record comes back as stored, with its version.
    let deleted = store
        .delete(key)
        .await
        .expect("delete")
        .expect("a live record");
    assert_eq!(deleted.data.get("k").expect("k"), "v");
    assert_eq!(
        (deleted.version, deleted.user_id.as_deref()),
        (1, Some("deleted-user"))
    );
    assert!(store.load(key).await.expect("load").is_none());
    assert!(
        store.delete(key).await.expect("delete").is_none(),
        "nothing left"
    );
    assert_eq!(
        store
            .delete_all_for_user("deleted-user", None)
            .await
            .expect("delete all"),
        0
    );
}

/// A record past its expiry is never returned, nor deleted as a live one.
pub async fn expired_records_are_gone(store: &dyn SessionStore) {
    let key = key();
    assert!(
        store
            .create(key, Arc::new(record(None)), now().saturating_sub(1))
            .await
            .expect("create")
    );
    assert!(store.load(key).await.expect("load").is_none());
    let expired = self::key();
    let created = store.create(expired, Arc::new(record(None)), now().saturating_sub(1));
    assert!(created.await.expect("create"));
    assert!(
        store.delete(expired).await.expect("delete").is_none(),
        "expired"
    );
    assert!(
        store
            .create(key, Arc::new(record(None)), now() + 60)
            .await
            .expect("an expired key is free again")
    );
}

/// "Log out everywhere" deletes exactly that user's sessions, following user changes, but the
/// one it is told to spare.
pub async fn log_out_everywhere(store: &dyn SessionStore) {
    let user = format!("user-{}", key().to_hex());
    let (a, b, other, moved, kept) = (key(), key(), key(), key(), key());
    for k in [a, b, kept] {
        assert!(
            store
                .create(k, Arc::new(record(Some(&user))), now() + 60)
                .await
                .expect("create")
        );
    }
    assert!(
        store
            .create(other, Arc::new(record(Some("someone-else"))), now() + 60)
            .await
            .expect("create")
    );
    assert!(
        store
            .create(moved, Arc::new(record(Some(&user))), now() + 60)
            .await
            .expect("create")
    );
    assert_eq!(
        store
            .update(moved, Arc::new(record(Some("new-owner"))), 1, now() + 60)
            .await
            .expect("update"),
        Cas::Written
    );
    // The session that asks spares itself ("log out everywhere else"), and stays the user's.
    let swept = store.delete_all_for_user(&user, Some(kept));
    assert_eq!(swept.await.expect("delete all"), 2);
    for k in [a, b] {
        assert!(store.load(k).await.expect("load").is_none());
    }
    assert!(store.load(other).await.expect("load").is_some());
    assert!(
        store.load(moved).await.expect("load").is_some(),
        "its user changed"
    );
    assert!(store.load(kept).await.expect("load").is_some(), "spared");
    let swept = store.delete_all_for_user(&user, None);
    assert_eq!(swept.await.expect("delete all"), 1);
    assert!(store.load(kept).await.expect("load").is_none());
}

/// A key nobody created is not found.
pub async fn unknown_keys_are_not_found(store: &dyn SessionStore) {
    assert!(store.load(key()).await.expect("load").is_none());
}

/// `old` stored with a user and renewed as `new` (created in its place, then deleted with a
/// forward to `new` until `until`, or without one).
async fn renewed(store: &dyn SessionStore, user: &str, until: Option<u64>) -> (StoreKey, StoreKey) {
    let (old, new) = (key(), key());
    let created = store.create(old, Arc::new(record(Some(user))), now() + 60);
    assert!(created.await.expect("create"));
    let copy = store.create_in_place_of(new, Arc::new(record(Some(user))), now() + 60, old);
    assert!(copy.await.expect("create"));
    let forward = until.map(|until| Forward { to: new, until });
    let original = store.delete_renewed(old, forward).await.expect("delete");
    assert_eq!(
        original.expect("the live original").user_id.as_deref(),
        Some(user)
    );
    (old, new)
}

/// A renewal's delete leaves a forward that nothing but a delete sees; a delete of the old key
/// then deletes the renewed session (a logout that read the session before its renewal), once.
pub async fn a_delete_follows_a_renewal_to_the_renewed_session(store: &dyn SessionStore) {
    let (old, new) = renewed(store, "fay", Some(now() + 60)).await;
    assert!(store.load(old).await.expect("load").is_none());
    assert_eq!(
        store
            .update(old, Arc::new(record(Some("fay"))), 1, now() + 60)
            .await
            .expect("update"),
        Cas::Missing
    );
    assert_eq!(stored_k(store, new).await, "v");
    let deleted = store
        .delete(old)
        .await
        .expect("delete")
        .expect("the renewed session");
    assert_eq!(
        (deleted.version, deleted.user_id.as_deref()),
        (1, Some("fay"))
    );
    assert!(store.load(new).await.expect("load").is_none());
    assert!(
        store.delete(old).await.expect("delete").is_none(),
        "used up"
    );
    assert_eq!(
        store
            .delete_all_for_user("fay", None)
            .await
            .expect("delete all"),
        0
    );
    // Without a forward, the renewed session stays.
    let (old, new) = renewed(store, "gus", None).await;
    assert!(store.delete(old).await.expect("delete").is_none());
    assert_eq!(stored_k(store, new).await, "v");
}

/// A second renewal of one key (two requests renewed the same session at once) finds nothing to
/// delete: it neither follows the first one's forward nor replaces it. Nor does a renewal whose
/// original is gone or expired leave one.
pub async fn a_renewal_never_follows_a_forward(store: &dyn SessionStore) {
    let (old, new) = renewed(store, "hal", Some(now() + 60)).await;
    let other = key();
    let second = store.delete_renewed(
        old,
        Some(Forward {
            to: other,
            until: now() + 60,
        }),
    );
    assert!(second.await.expect("delete").is_none());
    assert!(
        store
            .delete_renewed(old, None)
            .await
            .expect("delete")
            .is_none()
    );
    assert_eq!(stored_k(store, new).await, "v");
    let deleted = store.delete(old).await.expect("delete");
    assert_eq!(deleted.expect("the first renewal's").version, 1);
    // A renewal whose original is gone already (another request ended it) leaves no forward,
    // nor does one whose original has expired, which is not handed back as a live record.
    let (gone, expired, copy) = (key(), key(), key());
    let created = store.create(
        expired,
        Arc::new(record(Some("hal"))),
        now().saturating_sub(1),
    );
    assert!(created.await.expect("create"));
    let created = store.create(copy, Arc::new(record(Some("hal"))), now() + 60);
    assert!(created.await.expect("create"));
    for original in [gone, expired] {
        let forward = Some(Forward {
            to: copy,
            until: now() + 60,
        });
        let deleted = store
            .delete_renewed(original, forward)
            .await
            .expect("delete");
        assert!(deleted.is_none(), "nothing live to hand back");
        assert!(store.delete(original).await.expect("delete").is_none());
        assert_eq!(stored_k(store, copy).await, "v");
    }
}

/// A session renewed twice is deleted through both forwards; a forward past its expiry is not
/// followed, and neither is one beyond [`MAX_FORWARDS`].
pub async fn forwards_are_followed_in_a_chain_until_they_expire(store: &dyn SessionStore) {
    let (first, second) = renewed(store, "ivy", Some(now() + 60)).await;
    let third = key();
    let copy = store.create_in_place_of(third, Arc::new(record(Some("ivy"))), now() + 60, second);
    assert!(copy.await.expect("create"));
    let forward = Some(Forward {
        to: third,
        until: now() + 60,
    });
    assert!(
        store
            .delete_renewed(second, forward)
            .await
            .expect("delete")
            .is_some()
    );
    assert!(store.delete(first).await.expect("delete").is_some());
    assert!(store.load(third).await.expect("load").is_none());
    let (old, new) = renewed(store, "jo", Some(now().saturating_sub(1))).await;
    assert!(
        store.delete(old).await.expect("delete").is_none(),
        "expired"
    );
    assert_eq!(stored_k(store, new).await, "v");
    // At most `MAX_FORWARDS` forwards are followed: a chain of that many reaches its session,
    // one longer does not.
    for (forwards, reached) in [(MAX_FORWARDS, true), (MAX_FORWARDS + 1, false)] {
        // A session renewed `forwards` times.
        let keys: Vec<StoreKey> = (0..=forwards).map(|_| key()).collect();
        let last = keys[forwards];
        let created = store.create(keys[0], Arc::new(record(Some("kim"))), now() + 60);
        assert!(created.await.expect("create"));
        for pair in keys.windows(2) {
            let (old, new) = (pair[0], pair[1]);
            let copy =
                store.create_in_place_of(new, Arc::new(record(Some("kim"))), now() + 60, old);
            assert!(copy.await.expect("create"));
            let forward = Some(Forward {
                to: new,
                until: now() + 60,
            });
            let original = store.delete_renewed(old, forward).await.expect("delete");
            assert!(original.is_some());
        }
        let deleted = store.delete(keys[0]).await.expect("delete");
        assert_eq!(deleted.is_some(), reached, "{forwards} forwards");
        assert_eq!(store.load(last).await.expect("load").is_none(), reached);
        if !reached {
            // The forward it stopped before is still there.
            let deleted = store.delete(keys[MAX_FORWARDS]).await.expect("delete");
            assert!(deleted.is_some());
        }
    }
}
