//! [`TokenMemo`]: a session's unmasked token, worked out once and kept beside its secret.

use std::fmt;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::mac::Tag;

/// The unmasked CSRF token of one session's binding secret, kept beside the secret in memory
/// (never serialized, wiped on drop), so that rendering and checking a returning visitor's
/// token costs no MAC. It remembers the token key, the secret (compared in constant time) and
/// the user it was made for, and answers only for the same: paired with anything else, the
/// token is worked out afresh. The first render or check fills it, for good: one for another
/// key or user (a `set_user_id` without `regenerate`) then pays the MAC each time, until the
/// record is written again and its secret starts a new memo.
///
/// A session's [`BindingSecret`](crate::session::BindingSecret) carries one (with the
/// `sessions` feature) and hands it over in [`BindingSecret::binding`](crate::session::BindingSecret::binding).
///
/// ```
/// use mitten_core::SecretKey;
/// use mitten_core::csrf::{Binding, TokenKey, TokenMemo};
///
/// let key = TokenKey::new(&SecretKey::generate());
/// let (secret, memo) = ([7u8; 32], TokenMemo::default());
/// let binding = Binding::Session { secret: &secret, memo: Some(&memo) };
/// let token = key.render(binding, None);
/// // The check takes the token from the memo, and agrees with one worked out without it.
/// assert!(key.verify(&token, binding, None));
/// assert!(key.verify(&token, Binding::session(&secret), None));
/// ```
#[derive(Default)]
pub struct TokenMemo(OnceLock<Box<Memo>>);

struct Memo {
    key: KeyId,
    /// The secret the token was worked out from: a memo handed over with another secret's
    /// bytes must not answer for them.
    secret: Tag,
    user: Option<Box<str>>,
    token: Tag,
}

impl TokenMemo {
    /// The token of `key`, `secret` and `user`: the one remembered if it was made for them;
    /// else `work_out()`, remembered if nothing was yet.
    pub(crate) fn token(
        &self,
        key: KeyId,
        secret: &[u8; 32],
        user: Option<&str>,
        work_out: impl Fn() -> Tag,
    ) -> Tag {
        // Boxed: a memo that is never filled (a session that never comes back) costs its
        // record a word, not the token's room.
        let memo = self.0.get_or_init(|| {
            Box::new(Memo {
                key,
                secret: Tag::new(secret),
                user: user.map(Box::from),
                token: work_out(),
            })
        });
        if memo.key == key && memo.user.as_deref() == user && memo.secret.verifies(secret) {
            Tag::new(memo.token.as_bytes())
        } else {
            work_out()
        }
    }
}

impl fmt::Debug for TokenMemo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenMemo(<redacted>)")
    }
}

/// Which token key a memo was made with: unique in the process, shared by a key's clones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyId(u64);

impl KeyId {
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(byte: u8) -> Tag {
        Tag::new(&[byte; 32])
    }

    #[test]
    fn answers_only_for_the_key_secret_and_user_it_was_made_for() {
        let memo = TokenMemo::default();
        let (key, other_key) = (KeyId::next(), KeyId::next());
        let (secret, other_secret) = ([5u8; 32], [6u8; 32]);
        // In order: (key, secret, user, what the work would give, what comes back).
        let asks = [
            (key, &secret, Some("alice"), 1, 1),
            // Remembered: the work is not done again.
            (key, &secret, Some("alice"), 9, 1),
            // Another user, no user, another key, another secret: worked out afresh, never
            // the memo's.
            (key, &secret, Some("bob"), 2, 2),
            (key, &secret, None, 3, 3),
            (other_key, &secret, Some("alice"), 4, 4),
            (key, &other_secret, Some("alice"), 5, 5),
        ];
        for (key, secret, user, work, answer) in asks {
            let token = memo.token(key, secret, user, || tag(work));
            assert!(token.verifies(&[answer; 32]), "{user:?} {work}");
        }
        assert_eq!(format!("{memo:?}"), "TokenMemo(<redacted>)");
    }
}
