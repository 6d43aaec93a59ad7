//! A change written to the store at once, before the response, for what must hold even when
//! requests of one session race: a one-time CSRF token is accepted once.

use std::sync::Arc;

use serde_json::Value;

use super::super::store::{Cas, StoreError};
use super::super::{Record, SessionId};
use super::Session;
use super::persist::MAX_MERGES;

/// What [`Session::update_now`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpdateNow<E> {
    /// The store holds the new value.
    Written,
    /// The update refused the value it was shown (the one stored when it ran); nothing was
    /// written.
    Refused(E),
    /// The request continues no stored session (a new one, or one destroyed meanwhile): there
    /// is no record to write to at once.
    NoSession,
}

impl Session {
    /// Changes the value under `key` in the store now, with compare-and-set, instead of with
    /// the rest of the request's changes after the response.
    ///
    /// `update` is shown the value as stored and returns the new one, or refuses. If another
    /// request of the session wrote first, `update` runs again on what that request stored, so
    /// of two requests racing to change one key, each sees the other's change: a check that
    /// refuses what it finds already there lets exactly one of them through. The request's own
    /// other changes are not written here; they are written back after the response, on top.
    ///
    /// Call it before changing `key` any other way in the same request: changes to `key` made
    /// before (with [`insert`](Self::insert) or [`remove`](Self::remove)) are dropped, and a
    /// [`clear`](Self::clear) made before would, in a write-back that merges, clear it again.
    /// Call it before the response too: once the write-back has moved the session to a new ID
    /// ([`regenerate`](Self::regenerate)), a change written now to the old one is lost with it.
    ///
    /// ```
    /// use mitten_core::session::{MemoryStore, SessionConfig, Sessions, UpdateNow};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sessions = Sessions::new(MemoryStore::new(100), SessionConfig::new())?;
    /// // A stored session (its cookie, as the browser sends it back).
    /// let first = sessions.start(&http::HeaderMap::new());
    /// first.load().await?;
    /// first.insert("coupon", "unused")?;
    /// let cookie = first.persist().await?.expect("a new session sets its cookie");
    /// let pair = cookie.to_str()?.split(';').next().unwrap_or_default().to_owned();
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert(http::header::COOKIE, pair.parse()?);
    ///
    /// // Redeem the coupon once, even if two requests try at the same moment.
    /// let session = sessions.start(&headers);
    /// let redeem = |stored: Option<&serde_json::Value>| match stored {
    ///     Some(v) if v == "unused" => Ok(serde_json::json!("used")),
    ///     _ => Err("already used"),
    /// };
    /// assert_eq!(session.update_now("coupon", redeem).await?, UpdateNow::Written);
    /// let again = sessions.start(&headers);
    /// assert_eq!(
    ///     again.update_now("coupon", redeem).await?,
    ///     UpdateNow::Refused("already used")
    /// );
    /// # Ok(()) }
    /// ```
    pub async fn update_now<E>(
        &self,
        key: &str,
        mut update: impl FnMut(Option<&Value>) -> Result<Value, E>,
    ) -> Result<UpdateNow<E>, StoreError> {
        self.load().await?;
        let (id, mut current) = {
            let state = self.state();
            match (&state.id, &state.base) {
                (Some(id), Some(base)) => (id.clone(), Arc::clone(base)),
                _ => return Ok(UpdateNow::NoSession),
            }
        };
        let sessions = &self.inner.sessions;
        let config = sessions.config();
        for _ in 0..MAX_MERGES {
            let value = match update(current.data.get(key)) {
                Ok(value) => value,
                Err(refusal) => return Ok(UpdateNow::Refused(refusal)),
            };
            let record = Arc::new(with_value(&current, key, value, sessions.now()));
            let expiry = record.expires_at(config.idle_timeout, config.absolute_timeout);
            let written = sessions
                .store()
                .update(id.store_key(), Arc::clone(&record), current.version, expiry)
                .await?;
            match written {
                Cas::Written => {
                    self.adopt(&id, record, key);
                    return Ok(UpdateNow::Written);
                }
                Cas::Conflict(newer) => current = newer,
                Cas::Missing => return Ok(UpdateNow::NoSession),
            }
        }
        Err(StoreError::new("too many concurrent writes to one session"))
    }

    /// Makes `record`, just written under `id`, the stored session this request continues: what
    /// the request sees is then that record with the request's own changes on top, as after a
    /// load (the record may hold what other requests wrote since this one loaded).
    fn adopt(&self, id: &SessionId, record: Arc<Record>, key: &str) {
        let mut state = self.state();
        // The write-back may have moved the session to a new ID meanwhile (a task the handler
        // spawned can call this after the response): the request no longer continues `id`.
        if state.id.as_ref() != Some(id) {
            return;
        }
        state.log.retain(|change| !change.is_for(key));
        if !state.user_changed {
            state.user_id = record.user_id.clone();
        }
        if state.data.is_some() && !state.destroy {
            state.data = Some(state.changes_onto(&record.data));
        }
        state.base = Some(record);
    }
}

/// `current` with `value` under `key`, one version on, seen at `now`.
fn with_value(current: &Record, key: &str, value: Value, now: u64) -> Record {
    let mut data = current.data.clone();
    data.insert_str(key, value);
    Record {
        data,
        user_id: current.user_id.clone(),
        binding_secret: current.binding_secret.clone(),
        created_at: current.created_at,
        last_seen: now,
        version: current.version + 1,
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;
    use serde_json::{Value, json};

    use super::UpdateNow;
    use crate::session::tests::{block_on, cookie_headers};
    use crate::session::{MemoryStore, SessionConfig, Sessions};

    /// Sessions in memory, and the cookie headers of one stored session holding `start`.
    fn stored_session() -> (Sessions, HeaderMap) {
        let sessions = Sessions::new(MemoryStore::new(100), SessionConfig::new()).expect("valid");
        let first = sessions.start(&HeaderMap::new());
        block_on(first.load()).expect("load");
        first.insert("start", true).expect("insert");
        let cookie = block_on(first.persist()).expect("persist").expect("cookie");
        (sessions, cookie_headers(&cookie))
    }

    /// Claims `key` once: refused if a value is already there.
    fn claim(stored: Option<&Value>) -> Result<Value, &'static str> {
        match stored {
            None => Ok(json!("taken")),
            Some(_) => Err("taken already"),
        }
    }

    #[test]
    fn of_two_racing_requests_only_one_claims_a_key() {
        let (sessions, headers) = stored_session();
        // Both load the same version before either writes.
        let first = sessions.start(&headers);
        let second = sessions.start(&headers);
        block_on(first.load()).expect("load");
        block_on(second.load()).expect("load");
        assert_eq!(
            block_on(first.update_now("k", claim)).expect("store"),
            UpdateNow::Written
        );
        assert_eq!(
            block_on(second.update_now("k", claim)).expect("store"),
            UpdateNow::Refused("taken already"),
            "the second is shown what the first stored"
        );
    }

    #[test]
    fn the_value_is_stored_before_the_write_back_and_kept_by_it() {
        let (sessions, headers) = stored_session();
        let session = sessions.start(&headers);
        block_on(session.load()).expect("load");
        session.insert("a", 1).expect("insert");
        session.insert("k", "stale").expect("insert");
        assert_eq!(
            block_on(session.update_now("k", |_| Ok::<_, ()>(json!("now")))).expect("store"),
            UpdateNow::Written
        );
        assert_eq!(session.get::<String>("k").as_deref(), Some("now"));
        // Already in the store; the request's other change is not.
        let other = sessions.start(&headers);
        block_on(other.load()).expect("load");
        assert_eq!(other.get::<String>("k").as_deref(), Some("now"));
        assert_eq!(other.get::<i32>("a"), None);
        // Another request writes meanwhile; the write-back merges over it, and its replay of
        // this request's changes does not bring the stale value of `k` back.
        other.insert("b", 2).expect("insert");
        block_on(other.persist()).expect("persist");
        block_on(session.persist()).expect("persist");
        let check = sessions.start(&headers);
        block_on(check.load()).expect("load");
        assert_eq!(check.get::<String>("k").as_deref(), Some("now"));
        assert_eq!(check.get::<i32>("a"), Some(1));
        assert_eq!(check.get::<i32>("b"), Some(2));
        assert_eq!(check.get::<bool>("start"), Some(true));
    }

    /// Another request wrote (a key, and the user) between this request's load and its
    /// `update_now`: the request then sees, and writes back, what that one wrote.
    #[test]
    fn a_write_that_came_first_is_kept_by_the_write_back() {
        let (sessions, headers) = stored_session();
        let login = sessions.start(&headers);
        block_on(login.load()).expect("load");
        login.set_user_id(Some("alice"));
        block_on(login.persist()).expect("persist");
        let session = sessions.start(&headers);
        block_on(session.load()).expect("load");
        session.insert("a", 1).expect("insert");
        let other = sessions.start(&headers);
        block_on(other.load()).expect("load");
        other.insert("b", 2).expect("insert");
        other.set_user_id(None);
        block_on(other.persist()).expect("persist");
        assert_eq!(
            block_on(session.update_now("k", claim)).expect("store"),
            UpdateNow::Written
        );
        assert_eq!(session.get::<i32>("b"), Some(2), "the request sees b");
        assert_eq!(session.get::<i32>("a"), Some(1), "and its own change");
        assert_eq!(session.user_id(), None);
        block_on(session.persist()).expect("persist");
        let check = sessions.start(&headers);
        block_on(check.load()).expect("load");
        assert_eq!(check.get::<i32>("a"), Some(1));
        assert_eq!(
            check.get::<i32>("b"),
            Some(2),
            "the other request's key survived"
        );
        assert_eq!(check.get::<String>("k").as_deref(), Some("taken"));
        assert_eq!(
            check.user_id(),
            None,
            "the user the other request set survived"
        );
    }

    #[test]
    fn clear_keeps_mittens_own_keys() {
        let (sessions, headers) = stored_session();
        let session = sessions.start(&headers);
        let internal = format!("{}used", crate::session::INTERNAL_PREFIX);
        assert_eq!(
            block_on(session.update_now(&internal, claim)).expect("store"),
            UpdateNow::Written
        );
        session.clear();
        assert_eq!(session.get::<bool>("start"), None);
        block_on(session.persist()).expect("persist");
        let check = sessions.start(&headers);
        assert_eq!(
            block_on(check.update_now(&internal, claim)).expect("store"),
            UpdateNow::Refused("taken already"),
            "the internal key outlived clear()"
        );
    }

    #[test]
    fn a_new_or_destroyed_session_has_nothing_to_write_to() {
        let (sessions, headers) = stored_session();
        let new = sessions.start(&HeaderMap::new());
        assert_eq!(
            block_on(new.update_now("k", claim)).expect("store"),
            UpdateNow::NoSession
        );
        let session = sessions.start(&headers);
        block_on(session.load()).expect("load");
        let logout = sessions.start(&headers);
        logout.destroy();
        block_on(logout.persist()).expect("persist");
        assert_eq!(
            block_on(session.update_now("k", claim)).expect("store"),
            UpdateNow::NoSession
        );
    }

    #[test]
    fn regenerate_carries_the_value_to_the_new_id() {
        let (sessions, headers) = stored_session();
        let session = sessions.start(&headers);
        block_on(session.load()).expect("load");
        assert_eq!(
            block_on(session.update_now("k", claim)).expect("store"),
            UpdateNow::Written
        );
        session.regenerate();
        let cookie = block_on(session.persist())
            .expect("persist")
            .expect("cookie");
        let moved = sessions.start(&cookie_headers(&cookie));
        assert_eq!(
            block_on(moved.update_now("k", claim)).expect("store"),
            UpdateNow::Refused("taken already")
        );
    }
}
