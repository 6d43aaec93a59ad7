//! What a session gives CSRF tokens to bind to: its binding secret and its user, and the stored
//! record whose copy of the secret remembers the token.

use std::fmt;
use std::sync::Arc;

use super::{Session, State};
use crate::csrf::Binding;
use crate::session::{BindingSecret, Record};

/// What a session's CSRF tokens are bound to, from [`Session::token_binding`]: its binding
/// secret and its user, and, when the secret is the stored one, the record whose copy of it
/// remembers the session's token (so that a returning visitor's token costs no MAC). Read under
/// one look at the session.
pub struct TokenBinding {
    secret: BindingSecret,
    /// The stored record holding `secret`, unless this request made or changed the secret.
    stored: Option<Arc<Record>>,
    user: Option<String>,
}

impl TokenBinding {
    fn of(state: &State, secret: BindingSecret) -> Self {
        let stored = if state.secret_changed {
            None
        } else {
            state.base.clone()
        };
        Self {
            secret,
            stored,
            user: state.user_id.clone(),
        }
    }

    /// The session's user, as [`Session::user_id`] gives it.
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// The binding to render or check a token with.
    pub fn binding(&self) -> Binding<'_> {
        match self
            .stored
            .as_deref()
            .and_then(|r| r.binding_secret.as_ref())
        {
            // The same secret (the state's is the stored one until changed): the stored copy
            // remembers.
            Some(stored) => stored.binding(),
            None => Binding::session(self.secret.as_bytes()),
        }
    }
}

impl fmt::Debug for TokenBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenBinding(<redacted>)")
    }
}

impl Session {
    /// What CSRF tokens are bound to: [`binding_secret`](Self::binding_secret) (made now if
    /// the session has none) and the user, with the stored record that remembers the token.
    ///
    /// ```
    /// # fn demo(session: &mitten_core::session::Session, key: &mitten_core::csrf::TokenKey) {
    /// let bound = session.token_binding();
    /// let token = key.render(bound.binding(), bound.user());
    /// let binding = session.existing_token_binding();
    /// assert!(binding.is_some_and(|b| key.verify(&token, b.binding(), b.user())));
    /// # }
    /// ```
    pub fn token_binding(&self) -> TokenBinding {
        let mut state = self.state();
        let secret = state.binding_secret();
        TokenBinding::of(&state, secret)
    }

    /// What CSRF tokens are bound to (secret and user), if the session has a binding secret
    /// (nothing is made).
    pub fn existing_token_binding(&self) -> Option<TokenBinding> {
        let state = self.state();
        let secret = state.current_secret()?.clone();
        Some(TokenBinding::of(&state, secret))
    }
}

#[cfg(test)]
mod tests {
    use crate::SecretKey;
    use crate::csrf::TokenKey;
    use crate::session::tests::{block_on, cookie_headers};
    use crate::session::{MemoryStore, SessionConfig, Sessions};

    #[test]
    fn a_stored_secret_remembers_the_token_and_a_new_one_does_not() {
        block_on(stored_secret_remembers());
    }

    async fn stored_secret_remembers() {
        let sessions = Sessions::new(MemoryStore::new(10), SessionConfig::new()).expect("valid");
        let key = TokenKey::new(&SecretKey::generate());
        let first = sessions.start(&http::HeaderMap::new());
        first.load().await.expect("load");
        first.set_user_id(Some("ann"));
        let bound = first.token_binding();
        assert_eq!(bound.user(), Some("ann"));
        let token = key.render(bound.binding(), bound.user());
        // Made by this request: nothing stored remembers it yet.
        let binding = first.token_binding();
        assert!(binding.stored.is_none());
        let cookie = first.persist().await.expect("persist").expect("cookie");
        let returning = sessions.start(&cookie_headers(&cookie));
        returning.load().await.expect("load");
        let binding = returning.existing_token_binding().expect("secret");
        assert!(binding.stored.is_some());
        // The token is bound to the user the binding carries.
        assert_eq!(binding.user(), Some("ann"));
        assert!(key.verify(&token, binding.binding(), binding.user()));
        assert!(!key.verify(&token, binding.binding(), None));
        // Regenerated: a new secret, which the old record's memo has nothing to say about.
        returning.regenerate();
        let binding = returning.token_binding();
        assert!(binding.stored.is_none());
        assert!(!key.verify(&token, binding.binding(), binding.user()));
        assert_eq!(format!("{binding:?}"), "TokenBinding(<redacted>)");
    }
}
