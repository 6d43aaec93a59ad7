//! What the store keeps for one session.

use serde::{Deserialize, Serialize};

use super::SessionData;

/// A session's stored state.
///
/// `version` increases with every write; stores update a record only if the version they are
/// given is still the stored one (compare-and-set), so two concurrent requests cannot silently
/// overwrite each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The application's data.
    pub data: SessionData,
    /// The user this session belongs to, for "log out everywhere".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The secret CSRF tokens are bound to (made when a token is first rendered; a new one
    /// after `regenerate()`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding_secret: Option<super::BindingSecret>,
    /// When the session was created (seconds since the epoch): the absolute timeout counts
    /// from here, and it survives `regenerate()`.
    pub created_at: u64,
    /// When the session was last used: the idle timeout counts from here.
    pub last_seen: u64,
    /// Incremented by every write.
    pub version: u64,
}

impl Record {
    /// An empty record created at `now`.
    pub fn new(now: u64) -> Self {
        Self {
            data: SessionData::new(),
            user_id: None,
            binding_secret: None,
            created_at: now,
            last_seen: now,
            version: 0,
        }
    }

    /// When this record expires under the given timeouts.
    pub fn expires_at(&self, idle_timeout: u64, absolute_timeout: u64) -> u64 {
        (self.last_seen.saturating_add(idle_timeout))
            .min(self.created_at.saturating_add(absolute_timeout))
    }
}
