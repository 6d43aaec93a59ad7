//! The forwards a shard keeps from renewed sessions' old keys to their new ones (see
//! [`SessionStore::delete_renewed`](crate::session::SessionStore::delete_renewed)).
//!
//! Only a delete of the old key reads them, so they sit beside the shard's table rather than in
//! it: a load, a write or a new session never looks at them. They are bounded like the sessions:
//! leaving one drops those left before it that have expired, and the oldest once the shard holds
//! as many as its bound (so a flood of renewals, more than a shard's bound in five minutes, ends
//! older forwards early).

use std::collections::{HashMap, VecDeque};

use super::ByKeyBytes;
use crate::session::{Forward, StoreKey};

/// One shard's forwards, found by old key, in the order they were left.
#[derive(Debug, Default)]
pub(super) struct Forwards {
    by_key: HashMap<StoreKey, Forward, ByKeyBytes>,
    /// The old keys in the order their forwards were left, with the expiry each was left with
    /// (a forward taken since, or left again, makes its entry here stale).
    order: VecDeque<(StoreKey, u64)>,
}

impl Forwards {
    /// Leaves `from` pointing to `forward.to`, at `now`, in a shard whose bound is `bound`.
    pub(super) fn leave(&mut self, from: StoreKey, forward: Forward, now: u64, bound: usize) {
        while let Some(&(key, until)) = self.order.front() {
            if until > now && self.order.len() < bound {
                break;
            }
            self.order.pop_front();
            if self.by_key.get(&key).is_some_and(|f| f.until == until) {
                self.by_key.remove(&key);
            }
        }
        self.by_key.insert(from, forward);
        self.order.push_back((from, forward.until));
    }

    /// Takes the forward from `from` away, and says where it pointed if it had not expired at
    /// `now`.
    pub(super) fn take(&mut self, from: &StoreKey, now: u64) -> Option<StoreKey> {
        let forward = self.by_key.remove(from)?;
        (forward.until > now).then_some(forward.to)
    }

    /// How many forwards are held (expired ones not yet dropped included).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.by_key.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionId;

    fn key() -> StoreKey {
        SessionId::generate().store_key()
    }

    #[test]
    fn a_forward_is_taken_once_and_not_after_it_expired() {
        let mut forwards = Forwards::default();
        let (old, new, stale, newer) = (key(), key(), key(), key());
        forwards.leave(
            old,
            Forward {
                to: new,
                until: 110,
            },
            100,
            10,
        );
        forwards.leave(
            stale,
            Forward {
                to: newer,
                until: 110,
            },
            100,
            10,
        );
        assert_eq!(forwards.take(&old, 109), Some(new));
        assert_eq!(forwards.take(&old, 109), None, "taken already");
        assert_eq!(forwards.take(&stale, 110), None, "expired");
        assert_eq!(forwards.len(), 0);
    }

    #[test]
    fn leaving_one_drops_the_expired_and_the_oldest_beyond_the_bound() {
        let mut forwards = Forwards::default();
        let keys: Vec<StoreKey> = (0..4).map(|_| key()).collect();
        let to = key();
        forwards.leave(keys[0], Forward { to, until: 105 }, 100, 2);
        forwards.leave(keys[1], Forward { to, until: 200 }, 100, 2);
        // At 106 the first has expired: dropped, so the second stays within the bound of two.
        forwards.leave(keys[2], Forward { to, until: 206 }, 106, 2);
        assert_eq!(forwards.len(), 2);
        assert_eq!(forwards.take(&keys[1], 107), Some(to));
        // The bound: a third live forward drops the oldest one.
        forwards.leave(keys[1], Forward { to, until: 207 }, 107, 2);
        forwards.leave(keys[3], Forward { to, until: 208 }, 108, 2);
        assert_eq!(forwards.len(), 2);
        assert_eq!(forwards.take(&keys[2], 108), None, "the oldest, dropped");
        assert_eq!(forwards.take(&keys[1], 108), Some(to));
        assert_eq!(forwards.take(&keys[3], 108), Some(to));
    }
}
