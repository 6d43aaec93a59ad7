//! One-time tokens already used: the list a session keeps of them, and the decision whether a
//! token may be used now. The adapter runs [`record_use`] inside
//! [`Session::update_now`](crate::session::Session::update_now), so that two requests replaying
//! one token at the same moment cannot both pass.

use serde_json::Value;

use super::CsrfFailure;

/// The session key under which a session's used one-time tokens are kept. It begins with
/// [`INTERNAL_PREFIX`](crate::session::INTERNAL_PREFIX), so `Session::clear` keeps it.
pub const USED_TOKENS_KEY: &str = "_mitten.csrf.used";

/// How many used one-time tokens a session remembers. Older ones are forgotten first; a token
/// forgotten before its `max_age` ends could be used again, which takes that many other tokens
/// of the same session used within its lifetime.
pub const USED_TOKENS_KEPT: usize = 256;

/// The used list `stored` (a session's value under [`USED_TOKENS_KEY`], if any) with the
/// token whose nonce is `nonce` recorded as used at `now`, or [`CsrfFailure::TokenReused`] if it
/// already was. Entries older than `max_age` seconds are dropped: their tokens have expired
/// anyway. A stored value that is not such a list counts as empty.
///
/// ```
/// use mitten_core::csrf::{CsrfFailure, record_use};
///
/// let once = record_use(None, &[7; 16], 1_000, 600).unwrap();
/// assert_eq!(
///     record_use(Some(&once), &[7; 16], 1_001, 600),
///     Err(CsrfFailure::TokenReused)
/// );
/// assert!(record_use(Some(&once), &[8; 16], 1_001, 600).is_ok());
/// ```
pub fn record_use(
    stored: Option<&Value>,
    nonce: &[u8; 16],
    now: u64,
    max_age: u64,
) -> Result<Value, CsrfFailure> {
    let nonce: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let mut used: Vec<(String, u64)> = stored
        .and_then(|value| serde::Deserialize::deserialize(value).ok())
        .unwrap_or_default();
    if used.iter().any(|(seen, _)| *seen == nonce) {
        return Err(CsrfFailure::TokenReused);
    }
    used.retain(|(_, at)| now.saturating_sub(*at) <= max_age);
    used.push((nonce, now));
    if used.len() > USED_TOKENS_KEPT {
        let excess = used.len() - USED_TOKENS_KEPT;
        used.drain(..excess);
    }
    serde_json::to_value(used).map_err(|_| CsrfFailure::TokenInvalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_used_once_and_others_still_pass() {
        let first = record_use(None, &[1; 16], 100, 60).expect("first use");
        assert_eq!(
            record_use(Some(&first), &[1; 16], 100, 60),
            Err(CsrfFailure::TokenReused)
        );
        let second = record_use(Some(&first), &[2; 16], 101, 60).expect("another token");
        assert_eq!(
            record_use(Some(&second), &[1; 16], 102, 60),
            Err(CsrfFailure::TokenReused),
            "the first stays used"
        );
    }

    #[test]
    fn expired_entries_are_dropped_and_the_list_is_bounded() {
        let mut list = record_use(None, &[0; 16], 0, 60).expect("use");
        let later = record_use(Some(&list), &[1; 16], 61, 60).expect("use");
        assert_eq!(
            later.as_array().map(Vec::len),
            Some(1),
            "the entry older than max_age is gone"
        );
        let nonce = |i: usize| {
            let mut nonce = [9; 16];
            nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
            nonce
        };
        for i in 0..=USED_TOKENS_KEPT {
            list = record_use(Some(&list), &nonce(i), 100, 600).expect("use");
        }
        assert_eq!(list.as_array().map(Vec::len), Some(USED_TOKENS_KEPT));
        // The oldest are forgotten first; the newest are kept.
        assert!(record_use(Some(&list), &[0; 16], 100, 600).is_ok());
        assert!(record_use(Some(&list), &nonce(0), 100, 600).is_ok());
        assert_eq!(
            record_use(Some(&list), &nonce(1), 100, 600),
            Err(CsrfFailure::TokenReused)
        );
        assert_eq!(
            record_use(Some(&list), &nonce(USED_TOKENS_KEPT), 100, 600),
            Err(CsrfFailure::TokenReused)
        );
    }

    #[test]
    fn the_used_list_is_an_internal_key_which_clear_keeps() {
        assert!(USED_TOKENS_KEY.starts_with(crate::session::INTERNAL_PREFIX));
    }

    #[test]
    fn a_stored_value_of_another_shape_counts_as_empty() {
        let odd = serde_json::json!({"not": "a list"});
        assert!(record_use(Some(&odd), &[3; 16], 5, 60).is_ok());
    }
}
