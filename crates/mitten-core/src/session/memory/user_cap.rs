//! The cap on one user's sessions: a login beyond it ends that user's stalest sessions, so that
//! one account logging in again and again (a script that keeps no cookies, or an attacker with
//! an account) fills the store with its own sessions only up to the cap, and cannot by itself
//! fill the share of a full store that sessions with a user may hold before they are evicted.

use super::{MemoryStore, StoreKey, lock};

/// How many sessions one user holds at most unless [`MemoryStore::max_sessions_per_user`] says
/// otherwise.
pub(super) const DEFAULT_MAX_SESSIONS_PER_USER: usize = 64;

/// One of a user's sessions, as the cap weighs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Held {
    pub(super) key: StoreKey,
    /// Whether it has expired (and is only waiting to be removed).
    pub(super) expired: bool,
    /// When it was last seen (seconds since the epoch).
    pub(super) last_seen: u64,
}

/// Which of one user's sessions to end so that at most `max` remain: expired ones first, then
/// those seen least recently, and never `kept` (the session that just signed in).
pub(super) fn sessions_beyond_the_cap(
    mut held: Vec<Held>,
    kept: &StoreKey,
    max: usize,
) -> Vec<Held> {
    let excess = held.len().saturating_sub(max);
    held.retain(|session| session.key != *kept);
    // Live sessions after expired ones; among each, the least recently seen first.
    held.sort_unstable_by_key(|session| (!session.expired, session.last_seen));
    held.truncate(excess);
    held
}

impl MemoryStore {
    /// Holds at most `max` sessions for one user (at least one; 64 unless set): a session that
    /// signs in beyond it ends that user's expired sessions, then those seen least recently.
    /// Without a cap, one account that logs in again and again could fill the store with its
    /// sessions, and a full store evicts sessions with a user once they hold more than three
    /// quarters of it: other users would be logged out. `usize::MAX` lifts the cap.
    ///
    /// The sessions are counted across the store's shards when a session signs in (a new
    /// session with a user, or a user set on one), not on other requests; a session that renews
    /// its ID ([`regenerate`](crate::session::Session::regenerate)) is counted once. Sessions
    /// are seen to the second: of two sessions of one user signing in within the same second
    /// as all of the user's others were last seen, one may end the other.
    ///
    /// ```
    /// use mitten_core::session::MemoryStore;
    ///
    /// // An app whose users sign in on a few devices at most.
    /// let store = MemoryStore::new(100_000).max_sessions_per_user(8);
    /// ```
    pub fn max_sessions_per_user(mut self, max: usize) -> Self {
        self.max_per_user = max.max(1);
        self
    }

    /// Ends the sessions of `user` beyond the cap, never `kept`, which has just signed in, and
    /// without counting `replaced`, the session `kept` renews (its caller deletes it next).
    /// Each shard is locked on its own, in turn.
    pub(super) fn end_sessions_beyond_the_cap(
        &self,
        user: &str,
        kept: &StoreKey,
        replaced: Option<&StoreKey>,
    ) {
        if self.max_per_user == usize::MAX {
            return;
        }
        let now = self.clock.now();
        let mut held = Vec::new();
        for shard in self.shards.iter() {
            let shard = lock(shard);
            let Some(keys) = shard.users.get(user) else {
                continue;
            };
            held.extend(
                keys.iter()
                    .filter(|key| Some(*key) != replaced)
                    .filter_map(|key| {
                        let entry = shard.get(key)?;
                        Some(Held {
                            key: *key,
                            expired: entry.expires_at <= now,
                            last_seen: entry.record.last_seen,
                        })
                    }),
            );
        }
        if held.len() <= self.max_per_user {
            return;
        }
        let mut ended = 0;
        for session in sessions_beyond_the_cap(held, kept, self.max_per_user) {
            let mut shard = self.shard(&session.key);
            // Only if it is still the user's, and not seen since it was counted.
            let unchanged = shard.get(&session.key).is_some_and(|entry| {
                entry.record.user_id.as_deref() == Some(user)
                    && entry.record.last_seen == session.last_seen
            });
            // Dropped after the shard's lock is released.
            let removed = unchanged.then(|| shard.remove(&session.key)).flatten();
            drop(shard);
            ended += usize::from(removed.is_some());
        }
        if ended > 0 {
            tracing::info!(
                ended,
                max = self.max_per_user,
                "sessions ended: a user signed in beyond the per-user cap"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Held, sessions_beyond_the_cap};
    use crate::session::StoreKey;

    fn key(n: u8) -> StoreKey {
        StoreKey([n; 32])
    }

    fn held(n: u8, expired: bool, last_seen: u64) -> Held {
        Held {
            key: key(n),
            expired,
            last_seen,
        }
    }

    #[test]
    fn the_stalest_sessions_beyond_the_cap_are_ended() {
        let sessions = vec![held(1, false, 30), held(2, false, 10), held(3, false, 20)];
        let ended = |max| keys(sessions_beyond_the_cap(sessions.clone(), &key(9), max));
        assert_eq!(ended(3), []);
        assert_eq!(ended(2), [key(2)]);
        assert_eq!(ended(1), [key(2), key(3)]);
    }

    #[test]
    fn expired_sessions_go_first_and_the_one_signing_in_never() {
        let sessions = vec![held(1, false, 5), held(2, true, 40), held(3, false, 20)];
        // The session signing in is the one seen longest ago (a clock set back): it stays.
        let ended = |max| keys(sessions_beyond_the_cap(sessions.clone(), &key(1), max));
        assert_eq!(ended(2), [key(2)]);
        assert_eq!(ended(1), [key(2), key(3)]);
    }

    fn keys(sessions: Vec<Held>) -> Vec<StoreKey> {
        sessions.into_iter().map(|session| session.key).collect()
    }
}
