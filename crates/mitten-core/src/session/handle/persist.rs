//! How a [`Session`] is written back after the response: a new record for a new session, a
//! compare-and-set over the stored one otherwise (the change log replayed onto a newer record
//! when another request of the session wrote first), a new ID for `regenerate()`, and the delete
//! for `destroy()`.

use std::sync::Arc;

use http::HeaderValue;

use super::super::engine::CookieRead;
use super::super::store::{Cas, Forward, StoreError};
use super::super::{Record, SessionId, StoreKey};
use super::{Session, State};

/// What `persist` reads of the state before it writes.
struct Seen {
    id: Option<SessionId>,
    base: Option<Arc<Record>>,
    destroy: bool,
    regenerate: bool,
    /// The data, the user or the binding secret changed.
    modified: bool,
}

impl Seen {
    fn of(state: &State) -> Self {
        Self {
            id: state.id.clone(),
            base: state.base.clone(),
            destroy: state.destroy,
            regenerate: state.regenerate,
            modified: state.data_changed || state.user_changed || state.secret_changed,
        }
    }

    /// Whether the request asked for any write.
    fn touched(&self) -> bool {
        self.modified || self.destroy || self.regenerate
    }
}

/// The stored session a request renews the ID of.
struct Renewed<'a> {
    id: &'a SessionId,
    /// Its version when the request loaded it.
    version: u64,
    /// Whether it had a user when the request loaded it.
    had_user: bool,
    /// Whether it had a user, and the renewed session has the same one.
    user_kept: bool,
}

/// A write's outcome: the record written and the cookie to send; or the record meant (its data
/// goes back to the request's view) and what `persist` answers instead.
type Written = Result<
    (Arc<Record>, Option<HeaderValue>),
    (Arc<Record>, Result<Option<HeaderValue>, StoreError>),
>;

/// How long a renewed signed-in session's old key forwards a delete to the new one (see
/// [`SessionStore::delete_renewed`](crate::session::SessionStore::delete_renewed)): longer than
/// a request that read the session before the renewal can take to end it.
pub(super) const RENEWAL_FORWARD_SECS: u64 = 300;

/// How many times a write is retried after losing a compare-and-set race. Each round lets one
/// racer through, so this bounds how many requests of one session can write at the same moment
/// before one of them gets a 503.
pub(super) const MAX_MERGES: usize = 64;

impl Session {
    /// Writes the session back and says what cookie to send, if any. The adapter calls this
    /// once, after the application answered.
    pub async fn persist(&self) -> Result<Option<HeaderValue>, StoreError> {
        // One look at the state (a lock is an atomic operation each way): again only if the
        // session must be loaded first.
        let (loaded, mut seen) = {
            let state = self.state();
            (state.loaded, Seen::of(&state))
        };
        if !loaded {
            if !seen.touched() {
                return Ok(None);
            }
            self.load().await?;
            seen = Seen::of(&self.state());
        }
        let sessions = &self.inner.sessions;
        let store = sessions.store();
        let config = sessions.config();
        // Read again: a long request (an upload, a stream) must not date its write back to its
        // start.
        let now = sessions.now();
        let expires_at = |r: &Record| r.expires_at(config.idle_timeout, config.absolute_timeout);
        let touched = seen.touched();
        let Seen {
            id,
            base,
            destroy,
            regenerate,
            modified,
        } = seen;
        if !touched {
            // Only read: at most `last_seen` is refreshed, and the data is not copied.
            if let (Some(id), Some(base)) = (id, base) {
                if self.touch_due(&base, now) {
                    let mut touched = (*base).clone();
                    touched.last_seen = now;
                    touched.version = base.version + 1;
                    let expiry = expires_at(&touched);
                    // Losing a race here only means someone else refreshed it.
                    let _ = store
                        .update(id.store_key(), Arc::new(touched), base.version, expiry)
                        .await?;
                }
            }
            return Ok(None);
        }
        if destroy {
            // The session this request read, or else the one its cookie named, which another
            // request may have renewed since: the store follows the renewal's forward.
            let cookie_id = match &self.inner.cookie {
                CookieRead::Id(id) => Some(id),
                CookieRead::Absent | CookieRead::Malformed => None,
            };
            if let Some(id) = id.as_ref().or(cookie_id) {
                store.delete(id.store_key()).await?;
            }
            let had_cookie = self.inner.cookie != CookieRead::Absent;
            return Ok(had_cookie.then(|| sessions.clear_cookie()));
        }
        let creating = regenerate || (base.is_none() && modified);
        if !creating && (base.is_none() || !modified) {
            return Ok(None);
        }
        // The data moves into the record, which the store shares (no copy); once written, the
        // record is this request's view of the session.
        let version = match &base {
            Some(base) if !creating => base.version + 1,
            _ => 1,
        };
        let record = Arc::new(Record {
            version,
            ..self.take_record(now, base.as_deref())
        });
        let outcome = if creating {
            let renewed = id.as_ref().zip(base.as_ref()).map(|(id, base)| Renewed {
                id,
                version: base.version,
                had_user: base.user_id.is_some(),
                user_kept: base.user_id.is_some() && base.user_id == record.user_id,
            });
            self.write_new(record, renewed, now, expires_at).await
        } else if let (Some(id), Some(base)) = (&id, &base) {
            // A write that takes the session's user away or changes it ends the session as a
            // logout would if another request renewed its ID meanwhile.
            let ends_user = base.user_id.is_some() && record.user_id != base.user_id;
            let version = base.version;
            self.write_over(record, id.store_key(), version, ends_user, now, expires_at)
                .await
        } else {
            Ok((record, None))
        };
        match outcome {
            Ok((written, cookie)) => {
                let mut state = self.state();
                state.base = Some(written);
                state.data = None;
                Ok(cookie)
            }
            Err((record, error)) => {
                self.state().data = Some(record.data.clone());
                error
            }
        }
    }

    /// The record to write: this request's data (moved out of the state) and user.
    fn take_record(&self, now: u64, base: Option<&Record>) -> Record {
        let mut state = self.state();
        let data = match state.data.take() {
            Some(data) => data,
            None => base.map(|b| b.data.clone()).unwrap_or_default(),
        };
        Record {
            data,
            user_id: state.user_id.clone(),
            binding_secret: if state.secret_changed {
                state.secret.clone()
            } else {
                base.and_then(|b| b.binding_secret.clone())
            },
            created_at: base.map_or(now, |b| b.created_at),
            last_seen: now,
            version: 0,
        }
    }

    /// Stores `record` under a new ID, deleting the session it renews, if any.
    ///
    /// A renewed session that had a user and is gone by then (logged out, everywhere or in
    /// another request, or ended by the store) is not brought back under the new ID: the copy
    /// is deleted too, and the cookie cleared, as a write over a destroyed session does
    /// ([`Session::end_other_sessions`] spares this one in its sweep, so it is gone only if
    /// another request ended it). A renewed session another request wrote after this one
    /// loaded it has that write merged into the copy, as a write over it would. One that keeps
    /// its user and that another request destroys, or takes the user from, after this deleted
    /// it is ended under the new ID: the old key forwards the delete for
    /// [`RENEWAL_FORWARD_SECS`].
    async fn write_new(
        &self,
        record: Arc<Record>,
        renewed: Option<Renewed<'_>>,
        now: u64,
        expires_at: impl Fn(&Record) -> u64,
    ) -> Written {
        let replaced = renewed.as_ref().map(|renewed| renewed.id.store_key());
        let new_id = match self
            .create(Arc::clone(&record), &expires_at, replaced)
            .await
        {
            Ok(id) => id,
            Err(error) => return Err((record, Err(error))),
        };
        let sessions = &self.inner.sessions;
        let mut record = record;
        if let (Some(renewed), Some(replaced)) = (renewed, replaced) {
            // The old key of a session that keeps its user forwards a logout that read it
            // before this renewal (and deletes after it) to the copy. An anonymous session's
            // does not: its end does not stop a login, in whichever order the two land. Nor
            // does one whose user changes: an ID planted signed in to another account must not
            // end the session of the user who then logs in over it.
            let forward = renewed.user_kept.then(|| Forward {
                to: new_id.store_key(),
                until: now.saturating_add(RENEWAL_FORWARD_SECS),
            });
            let original = match sessions.store().delete_renewed(replaced, forward).await {
                Ok(original) => original,
                Err(error) => return Err((record, Err(error))),
            };
            match original {
                None if renewed.had_user => {
                    return self.end_copy(record, &new_id).await;
                }
                Some(current) if current.version != renewed.version => {
                    // Written meanwhile: this request's changes go on top of that write. No
                    // other request knows the new ID yet, so the copy is still at version 1.
                    let merged = Arc::new(self.merged_onto(&current, now, 2));
                    if merged.user_id.is_some() && merged.user_id != record.user_id {
                        // Another request set a user on the original without renewing its ID.
                        // The copy is indexed under the user this request loaded until the
                        // write below, so a "log out everywhere" of the new user could miss
                        // it: the session ends instead.
                        return self.end_copy(merged, &new_id).await;
                    }
                    let key = new_id.store_key();
                    let expiry = expires_at(&merged);
                    match sessions
                        .store()
                        .update(key, Arc::clone(&merged), 1, expiry)
                        .await
                    {
                        Ok(Cas::Written) => record = merged,
                        // Swept meanwhile ("log out everywhere"): gone, as above.
                        Ok(Cas::Missing) => {
                            return Err((merged, Ok(Some(sessions.clear_cookie()))));
                        }
                        Ok(Cas::Conflict(_)) => {
                            let error = StoreError::new("a renewed session was written twice");
                            return Err((merged, Err(error)));
                        }
                        Err(error) => return Err((merged, Err(error))),
                    }
                }
                _ => {}
            }
        }
        let cookie = sessions.set_cookie(&new_id);
        Ok((record, Some(cookie)))
    }

    /// Deletes the copy under `new_id` of a renewed session that must not come back, and
    /// answers with the cookie cleared.
    async fn end_copy(&self, record: Arc<Record>, new_id: &SessionId) -> Written {
        let sessions = &self.inner.sessions;
        if let Err(error) = sessions.store().delete(new_id.store_key()).await {
            return Err((record, Err(error)));
        }
        Err((record, Ok(Some(sessions.clear_cookie()))))
    }

    /// This request's changes on top of `current`, a record another request wrote after this
    /// one loaded it, seen at `now`, at `version`.
    fn merged_onto(&self, current: &Record, now: u64, version: u64) -> Record {
        let state = self.state();
        Record {
            data: state.changes_onto(&current.data),
            user_id: if state.user_changed {
                state.user_id.clone()
            } else {
                current.user_id.clone()
            },
            binding_secret: if state.secret_changed {
                state.secret.clone()
            } else {
                current.binding_secret.clone()
            },
            created_at: current.created_at,
            last_seen: now,
            version,
        }
    }

    /// Writes `record` over the stored one with compare-and-set, merging this request's changes
    /// onto a newer record as often as another request wrote first. `ends_user` says that the
    /// write takes the session's user away or changes it.
    async fn write_over(
        &self,
        record: Arc<Record>,
        key: StoreKey,
        version: u64,
        ends_user: bool,
        now: u64,
        expires_at: impl Fn(&Record) -> u64,
    ) -> Written {
        let sessions = &self.inner.sessions;
        let mut attempt = record;
        let mut expected = version;
        for _ in 0..MAX_MERGES {
            let expiry = expires_at(&attempt);
            match sessions
                .store()
                .update(key, Arc::clone(&attempt), expected, expiry)
                .await
            {
                Ok(Cas::Written) => return Ok((attempt, None)),
                // Destroyed meanwhile (logout, "log out everywhere"): never resurrect it. Or
                // renewed: then a write that ends the user ends the renewed session too (the
                // store follows the renewal's forward), as a logout would.
                Ok(Cas::Missing) => {
                    if ends_user {
                        if let Err(error) = sessions.store().delete(key).await {
                            return Err((attempt, Err(error)));
                        }
                    }
                    return Err((attempt, Ok(Some(sessions.clear_cookie()))));
                }
                Ok(Cas::Conflict(current)) => {
                    attempt = Arc::new(self.merged_onto(&current, now, current.version + 1));
                    expected = current.version;
                }
                Err(error) => return Err((attempt, Err(error))),
            }
        }
        let error = StoreError::new("too many concurrent writes to one session");
        Err((attempt, Err(error)))
    }

    /// Stores `record` under a new ID, in place of the session under `replaced` if any (which
    /// the caller deletes next).
    async fn create(
        &self,
        record: Arc<Record>,
        expires_at: impl Fn(&Record) -> u64,
        replaced: Option<StoreKey>,
    ) -> Result<SessionId, StoreError> {
        let store = self.inner.sessions.store();
        let expiry = expires_at(&record);
        for _ in 0..4 {
            let id = SessionId::generate();
            let (key, record) = (id.store_key(), Arc::clone(&record));
            let created = match replaced {
                Some(replaced) => store.create_in_place_of(key, record, expiry, replaced),
                None => store.create(key, record, expiry),
            };
            if created.await? {
                let mut state = self.state();
                state.id = Some(id.clone());
                return Ok(id);
            }
        }
        Err(StoreError::new("could not find a free session ID"))
    }
}
