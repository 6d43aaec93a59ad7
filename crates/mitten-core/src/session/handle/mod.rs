//! [`Session`]: one request's view of its session (how it is written back is in `persist`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::engine::{CookieRead, Sessions};
use super::store::StoreError;

mod everywhere;
mod now;
mod persist;
#[cfg(feature = "csrf")]
mod token;

use super::{BindingSecret, Record, SessionData, SessionId, StoreKey};
pub use now::UpdateNow;
#[cfg(feature = "csrf")]
pub use token::TokenBinding;

/// One request's session: typed get/insert/remove, `regenerate()`, `destroy()`, and the user.
///
/// Changes are kept as a log of per-key operations and written back after the response with a
/// compare-and-set on the record's version. If another request of the same session wrote first,
/// the log is replayed onto the newer record and the write retried, so concurrent changes to
/// different keys all survive; for the same key, the last write wins.
///
/// ```
/// # async fn demo(session: mitten_core::session::Session) -> Result<(), serde_json::Error> {
/// let visits: u32 = session.get("visits").unwrap_or(0);
/// session.insert("visits", visits + 1)?;
/// // At login: a new ID for the same data, the old record deleted.
/// session.set_user_id(Some("alice"));
/// session.regenerate();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

/// [`Inner::now`] before the clock was read (no clock reads `u64::MAX` seconds).
const UNREAD: u64 = u64::MAX;

#[derive(Debug)]
struct Inner {
    sessions: Sessions,
    cookie: CookieRead,
    /// The clock, read once, when a stored record is first judged: every timeout decision of
    /// this request uses the same second (and a request with no stored session reads none).
    /// [`UNREAD`] until then: a `OnceLock` costs a `Once` call where this costs one
    /// compare-and-swap.
    now: AtomicU64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    loaded: bool,
    /// The stored session this request continues, if any.
    id: Option<SessionId>,
    base: Option<Arc<Record>>,
    /// The data once this request changed it; until then it is `base`'s (read without a copy).
    data: Option<SessionData>,
    user_id: Option<String>,
    log: Vec<Change>,
    /// Whether the log holds a real change. An insert of the value a key already held is
    /// logged too (so that it still wins over a concurrent write when this request writes for
    /// another reason) but is no reason to write.
    data_changed: bool,
    user_changed: bool,
    /// The binding secret once this request set or cleared it; until then it is `base`'s.
    secret: Option<BindingSecret>,
    secret_changed: bool,
    regenerate: bool,
    destroy: bool,
}

#[derive(Debug, Clone)]
enum Change {
    Insert(String, Value),
    Remove(String),
    Clear,
}

impl Change {
    fn apply(&self, data: &mut SessionData) {
        match self {
            Self::Insert(key, value) => {
                data.insert_str(key, value.clone());
            }
            Self::Remove(key) => {
                data.remove(key);
            }
            Self::Clear => data.clear_application_keys(),
        }
    }

    /// Whether this change is to `key` alone.
    fn is_for(&self, key: &str) -> bool {
        match self {
            Self::Insert(changed, _) | Self::Remove(changed) => changed == key,
            Self::Clear => false,
        }
    }
}

impl State {
    fn value(&self, key: &str) -> Option<&Value> {
        match (&self.data, &self.base) {
            (Some(data), _) => data.get(key),
            (None, Some(base)) => base.data.get(key),
            (None, None) => None,
        }
    }

    /// `data` (a stored record's) with this request's logged changes on top: what the request
    /// writes, or sees, once that record is the stored one.
    fn changes_onto(&self, data: &SessionData) -> SessionData {
        let mut data = data.clone();
        for change in &self.log {
            change.apply(&mut data);
        }
        data
    }

    /// The binding secret as this request sees it.
    fn current_secret(&self) -> Option<&BindingSecret> {
        if self.secret_changed {
            self.secret.as_ref()
        } else {
            self.base.as_ref().and_then(|b| b.binding_secret.as_ref())
        }
    }

    /// The binding secret as this request sees it, made now if there is none.
    fn binding_secret(&mut self) -> BindingSecret {
        if let Some(secret) = self.current_secret() {
            return secret.clone();
        }
        let secret = BindingSecret::generate();
        self.secret = Some(secret.clone());
        self.secret_changed = true;
        secret
    }

    /// The data to change: copied from `base` the first time.
    fn data_mut(&mut self) -> &mut SessionData {
        let base = &self.base;
        self.data
            .get_or_insert_with(|| base.as_ref().map(|b| b.data.clone()).unwrap_or_default())
    }
}

impl Session {
    pub(crate) fn new(sessions: Sessions, cookie: CookieRead) -> Self {
        Self {
            inner: Arc::new(Inner {
                now: AtomicU64::new(UNREAD),
                sessions,
                cookie,
                state: Mutex::default(),
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the request carried a session cookie that was malformed, forged or duplicated.
    pub fn cookie_was_malformed(&self) -> bool {
        self.inner.cookie == CookieRead::Malformed
    }

    /// Loads the record the cookie names (once). An unknown, expired or malformed ID gives an
    /// empty session, never one under the client's ID. The adapter's extractor calls this.
    pub async fn load(&self) -> Result<(), StoreError> {
        if self.state().loaded {
            return Ok(());
        }
        let sessions = &self.inner.sessions;
        let found = match &self.inner.cookie {
            CookieRead::Id(id) => {
                let key = id.store_key();
                // The clock this request judges the timeouts by, read once for both.
                match sessions.store().load_at(key, self.now()).await? {
                    Some(record) if self.is_live(&record) => Some((id.clone(), record)),
                    Some(_) => {
                        // Never following a forward: the session was renewed only if another
                        // request found it live, and that renewal is not this cleanup's to end.
                        sessions.store().delete_renewed(key, None).await?;
                        None
                    }
                    None => None,
                }
            }
            CookieRead::Absent | CookieRead::Malformed => None,
        };
        let mut state = self.state();
        if state.loaded {
            return Ok(());
        }
        // Changes made before the load apply on top of the stored data.
        state.data = None;
        if let Some((id, record)) = found {
            state.user_id = record.user_id.clone();
            state.id = Some(id);
            state.base = Some(record);
        }
        if !state.log.is_empty() {
            let log = std::mem::take(&mut state.log);
            for change in &log {
                change.apply(state.data_mut());
            }
            state.log = log;
        }
        state.loaded = true;
        Ok(())
    }

    fn is_live(&self, record: &Record) -> bool {
        let config = self.inner.sessions.config();
        let now = self.now();
        now < record.last_seen.saturating_add(config.idle_timeout)
            && now < record.created_at.saturating_add(config.absolute_timeout)
    }

    /// The value under `key`, if present and of type `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        T::deserialize(self.state().value(key)?).ok()
    }

    /// Looks at the value under `key` without copying it out.
    ///
    /// ```
    /// # fn demo(session: &mitten_core::session::Session) {
    /// let long = session.inspect("name", |v| v.and_then(|v| v.as_str()).is_some_and(|s| s.len() > 3));
    /// # let _ = long; }
    /// ```
    pub fn inspect<R>(&self, key: &str, f: impl FnOnce(Option<&Value>) -> R) -> R {
        f(self.state().value(key))
    }

    /// The raw JSON value under `key`.
    pub fn get_value(&self, key: &str) -> Option<Value> {
        self.state().value(key).cloned()
    }

    /// Stores `value` under `key`. Storing what the key already holds is no reason to write the
    /// session back (as in tower-sessions); if the request writes anyway, it still counts as
    /// this request's write of the key.
    pub fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), serde_json::Error> {
        self.insert_value(key, serde_json::to_value(value)?);
        Ok(())
    }

    /// Stores a JSON value under `key` (as [`insert`](Self::insert), without serializing).
    ///
    /// ```
    /// # fn demo(session: &mitten_core::session::Session) {
    /// session.insert_value("theme", serde_json::Value::String("dark".into()));
    /// # }
    /// ```
    pub fn insert_value(&self, key: &str, value: Value) {
        let mut state = self.state();
        // A loaded session without a stored record is new: its first write creates it under a
        // fresh ID, so no other request can race it and its changes need no log to merge.
        if state.loaded && state.base.is_none() {
            state.data_mut().insert_str(key, value);
            state.data_changed = true;
            return;
        }
        // Before the load, the stored value is unknown: it is a change.
        let unchanged = state.loaded && state.value(key) == Some(&value);
        let change = Change::Insert(key.to_owned(), value);
        if !unchanged {
            change.apply(state.data_mut());
            state.data_changed = true;
        }
        state.log.push(change);
    }

    /// Removes `key`, returning what it held.
    pub fn remove(&self, key: &str) -> Option<Value> {
        let old = self.get_value(key);
        self.record(Change::Remove(key.to_owned()));
        old
    }

    /// Removes every key of the application's (the session and its ID stay; see
    /// [`destroy`](Self::destroy)). Mitten's own keys, which begin with
    /// [`INTERNAL_PREFIX`](super::INTERNAL_PREFIX), stay too: forgetting the used one-time
    /// tokens would let them pass again.
    pub fn clear(&self) {
        self.record(Change::Clear);
    }

    fn record(&self, change: Change) {
        let mut state = self.state();
        change.apply(state.data_mut());
        state.log.push(change);
        state.data_changed = true;
    }

    /// The user this session belongs to.
    pub fn user_id(&self) -> Option<String> {
        self.state().user_id.clone()
    }

    /// Associates the session with a user (for [`Sessions::destroy_all_for_user`]), or with none.
    /// Call [`regenerate`](Self::regenerate) too at login: a privilege change needs a new ID.
    pub fn set_user_id(&self, user_id: Option<&str>) {
        let mut state = self.state();
        state.user_id = user_id.map(str::to_owned);
        state.user_changed = true;
    }

    /// Gives the session a new ID after the response: the data moves to a new record and the old
    /// record is deleted, so an ID an attacker planted or saw before is worth nothing (one a
    /// signed-in session had, renewed with the same user, can only end it, for five minutes:
    /// see [`destroy`]). Call it at login and at every privilege change. Anything bound to the
    /// ID (the CSRF token) rotates.
    ///
    /// [`destroy`]: Self::destroy
    pub fn regenerate(&self) {
        let mut state = self.state();
        state.secret = None;
        state.secret_changed = true;
        state.regenerate = true;
    }

    /// The session's binding secret, made now if it has none (CSRF tokens are an HMAC of it).
    /// A new one is written back with the session.
    ///
    /// ```
    /// # fn demo(session: &mitten_core::session::Session) {
    /// let secret = session.binding_secret();
    /// assert_eq!(session.existing_binding_secret(), Some(secret));
    /// # }
    /// ```
    pub fn binding_secret(&self) -> BindingSecret {
        self.state().binding_secret()
    }

    /// The session's binding secret if it has one (nothing is made).
    ///
    /// ```
    /// # fn demo(session: &mitten_core::session::Session) {
    /// if session.existing_binding_secret().is_none() {
    ///     // No token was ever rendered for this session: nothing can verify against it.
    /// }
    /// # }
    /// ```
    pub fn existing_binding_secret(&self) -> Option<BindingSecret> {
        self.state().current_secret().cloned()
    }

    /// Ends the session: the record is deleted and the cookie cleared (`Max-Age=0`).
    ///
    /// If another request renewed the session's ID ([`regenerate`](Self::regenerate)) while
    /// this one ran, the session ends under its new ID, as long as the renewal kept the
    /// session's user and was less than five minutes ago: a logout is not undone by a privilege
    /// change that landed first. A login (a renewal that gives the session a user, or another
    /// one) is not ended this way.
    pub fn destroy(&self) {
        let mut state = self.state();
        state.destroy = true;
        state.data = Some(SessionData::new());
        state.user_id = None;
        state.secret = None;
        state.secret_changed = true;
    }

    /// Whether the request continues a stored session (as opposed to a new one).
    pub fn is_stored(&self) -> bool {
        self.state().base.is_some()
    }

    /// The store key of the session this request continues, if any: what request-bound
    /// tokens (CSRF) are bound to. It changes with [`regenerate`](Self::regenerate).
    pub fn binding(&self) -> Option<StoreKey> {
        self.state().id.as_ref().map(SessionId::store_key)
    }

    /// Whether [`persist`](Self::persist) has anything to do: a change, a login or logout, or
    /// a `last_seen` refresh that is due. Adapters skip `persist` when it has not (no store
    /// call, no allocation).
    pub fn needs_persist(&self) -> bool {
        let state = self.state();
        if state.data_changed
            || state.user_changed
            || state.secret_changed
            || state.regenerate
            || state.destroy
        {
            return true;
        }
        state.loaded
            && state
                .base
                .as_ref()
                .is_some_and(|base| self.touch_due(base, self.now()))
    }

    /// This request's time for timeout decisions (see [`Inner::now`]).
    fn now(&self) -> u64 {
        let read = self.inner.now.load(Ordering::Acquire);
        if read != UNREAD {
            return read;
        }
        let now = self.inner.sessions.now().min(UNREAD - 1);
        // Two threads of one request may race here: the first reading is the one kept.
        match self
            .inner
            .now
            .compare_exchange(UNREAD, now, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => now,
            Err(first) => first,
        }
    }

    /// Whether a stored record's `last_seen` is old enough to be refreshed.
    fn touch_due(&self, base: &Record, now: u64) -> bool {
        now.saturating_sub(base.last_seen) >= self.inner.sessions.config().touch_interval
    }
}
