//! Server-side sessions that defeat fixation (Flask-Mitten's `regenerate()` and `destroy()`),
//! with idle and absolute timeouts, compare-and-set writes, and "log out everywhere".
//! (Feature `sessions`.)
//!
//! **Attacks:** session fixation (an attacker plants a session ID, the victim logs in, the
//! attacker is logged in too); stolen or replayed cookies; lost updates between concurrent
//! requests. **Defences:** IDs are 256 random bits, never adopted from a client (an unknown or
//! malformed ID gets a fresh session), stored only as a SHA-256; [`Session::regenerate`] at login
//! moves the data to a new ID and deletes the old record; [`Session::destroy`] deletes the record
//! and clears the cookie; timeouts are enforced on the server; writes are compare-and-set with a
//! per-key merge; a store error fails closed (503). **Defaults:** [`SessionConfig`].
//!
//! Stores implement [`SessionStore`]: [`MemoryStore`] here, a Redis store in `mitten-redis`.
//!
//! ```
//! use mitten_core::session::{MemoryStore, SessionConfig, Sessions};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let sessions = Sessions::new(MemoryStore::new(100_000), SessionConfig::new())?;
//!
//! // One request: no cookie, so a fresh session; the handler logs the user in.
//! let session = sessions.start(&http::HeaderMap::new());
//! session.load().await?;
//! session.insert("theme", "dark")?;
//! session.set_user_id(Some("alice"));
//! session.regenerate();
//! let set_cookie = session.persist().await?.expect("a new session sets its cookie");
//! assert!(set_cookie.to_str()?.starts_with("__Host-mitten-session="));
//!
//! // Password changed: every session of alice ends.
//! assert_eq!(sessions.destroy_all_for_user("alice").await?, 1);
//! # Ok(()) }
//! ```

mod clock;
mod config;
mod data;
mod engine;
mod handle;
mod id;
mod memory;
mod record;
mod secret;
mod store;

pub mod conformance;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{SameSite, SessionConfig};
pub use data::{INTERNAL_PREFIX, IntoIter, SessionData};
pub use engine::Sessions;
#[cfg(feature = "csrf")]
pub use handle::TokenBinding;
pub use handle::{Session, UpdateNow};
pub use id::{SessionId, StoreKey};
pub use memory::MemoryStore;
pub use record::Record;
pub use secret::BindingSecret;
pub use store::{BoxFuture, Cas, Forward, MAX_FORWARDS, SessionStore, StoreError, StoreFuture};

#[cfg(test)]
mod tests;
