//! Logging a user out everywhere but here: after a password change, every other device.

use super::super::store::StoreError;
use super::Session;

impl Session {
    /// Ends every other session of this session's user and keeps this one, under a new ID
    /// ([`regenerate`](Self::regenerate)): what to call after a password change. Returns how
    /// many other sessions ended (0 for a session without a user).
    ///
    /// [`Sessions::destroy_all_for_user`](crate::session::Sessions::destroy_all_for_user) for
    /// the request's own user ends this session too, even if the request renews its ID after
    /// it: a renewal that finds the session it renews gone does not bring it back (it cannot
    /// tell that sweep from a logout another request made at the same moment). This method
    /// spares this session in its sweep (at once, with the others), so that the renewal finds
    /// it; if another request ended it meanwhile (a logout, a logout everywhere), it stays
    /// ended. So does it, failing closed, if another request renewed its ID at the same moment
    /// (that renewal's copy is one of the other sessions, or its delete leaves this renewal
    /// nothing to renew).
    ///
    /// ```
    /// use http::{HeaderMap, header::COOKIE};
    /// use mitten_core::session::{MemoryStore, SessionConfig, Sessions};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sessions = Sessions::new(MemoryStore::new(100), SessionConfig::new())?;
    /// // Alice logs in on two devices; each keeps the cookie it was given.
    /// let mut devices = Vec::new();
    /// for _ in 0..2 {
    ///     let login = sessions.start(&HeaderMap::new());
    ///     login.load().await?;
    ///     login.set_user_id(Some("alice"));
    ///     login.regenerate();
    ///     let cookie = login.persist().await?.expect("a new session sets its cookie");
    ///     let mut headers = HeaderMap::new();
    ///     headers.insert(COOKIE, cookie.to_str()?.split(';').next().unwrap_or_default().parse()?);
    ///     devices.push(headers);
    /// }
    ///
    /// // On the laptop she changes her password: the phone is logged out, the laptop is not.
    /// let laptop = sessions.start(&devices[0]);
    /// assert_eq!(laptop.end_other_sessions().await?, 1);
    /// let renewed = laptop.persist().await?.expect("a new ID");
    /// let mut headers = HeaderMap::new();
    /// headers.insert(COOKIE, renewed.to_str()?.split(';').next().unwrap_or_default().parse()?);
    /// let again = sessions.start(&headers);
    /// again.load().await?;
    /// assert_eq!(again.user_id().as_deref(), Some("alice"));
    /// let phone = sessions.start(&devices[1]);
    /// phone.load().await?;
    /// assert_eq!(phone.user_id(), None);
    /// # Ok(()) }
    /// ```
    pub async fn end_other_sessions(&self) -> Result<u64, StoreError> {
        self.load().await?;
        let (user, own) = {
            let state = self.state();
            (
                state.user_id.clone(),
                state.id.as_ref().map(|id| id.store_key()),
            )
        };
        let Some(user) = user else {
            return Ok(0);
        };
        let store = self.inner.sessions.store();
        let ended = store.delete_all_for_user(&user, own).await?;
        self.regenerate();
        Ok(ended)
    }
}
