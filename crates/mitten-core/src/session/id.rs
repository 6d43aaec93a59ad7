//! Session IDs: 256 random bits, never adopted from a client, stored only as a hash.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroize as _;

/// Bytes of randomness in a session ID.
const ID_BYTES: usize = 32;
/// Length of the ID's base64url text.
const ID_CHARS: usize = 43;

/// A session ID: 256 bits from the CSPRNG, as 43 base64url characters in the cookie.
///
/// Its `Debug` shows nothing of the value. The store never sees it either: records are kept
/// under its SHA-256 ([`StoreKey`]), so a leaked store does not leak live cookies.
///
/// ```
/// use mitten_core::session::SessionId;
///
/// let id = SessionId::generate();
/// assert_eq!(id.as_cookie_value().len(), 43);
/// assert_eq!(format!("{id:?}"), "SessionId(<redacted>)");
/// assert_eq!(SessionId::parse(id.as_cookie_value()).map(|p| p.store_key()), Some(id.store_key()));
/// assert!(SessionId::parse("attacker-chosen").is_none());
/// ```
#[derive(Clone)]
pub struct SessionId {
    /// The base64url text, held inline: parsing and copying an ID allocate nothing.
    text: [u8; ID_CHARS],
}

impl SessionId {
    /// A fresh ID.
    pub fn generate() -> Self {
        let mut bytes = [0u8; ID_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let mut text = [0u8; ID_CHARS];
        // 32 bytes are always 43 characters, so this cannot fail.
        let written = URL_SAFE_NO_PAD
            .encode_slice(bytes, &mut text)
            .unwrap_or_default();
        debug_assert_eq!(written, ID_CHARS);
        bytes.zeroize();
        Self { text }
    }

    /// An ID from a cookie, if it has the exact shape Mitten makes (43 canonical base64url
    /// characters). Anything else is malformed and never looked up.
    pub fn parse(text: &str) -> Option<Self> {
        let text: [u8; ID_CHARS] = text.as_bytes().try_into().ok()?;
        let mut bytes = [0u8; ID_BYTES + 3];
        let decoded = URL_SAFE_NO_PAD.decode_slice(text, &mut bytes).ok()?;
        bytes.zeroize();
        (decoded == ID_BYTES).then_some(Self { text })
    }

    /// The value for the cookie.
    pub fn as_cookie_value(&self) -> &str {
        // Always base64url (ASCII): made by `generate` or checked by `parse`.
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    /// The key the store keeps the record under: SHA-256 of the ID.
    pub fn store_key(&self) -> StoreKey {
        StoreKey(Sha256::digest(self.text).into())
    }
}

impl PartialEq for SessionId {
    /// In constant time: an ID is a credential.
    fn eq(&self, other: &Self) -> bool {
        self.text.ct_eq(&other.text).into()
    }
}

impl Eq for SessionId {}

impl Drop for SessionId {
    fn drop(&mut self) {
        self.text.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for SessionId {}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(<redacted>)")
    }
}

/// Where a session record is stored: the SHA-256 of its [`SessionId`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreKey(pub(crate) [u8; 32]);

impl StoreKey {
    /// The key as lower-case hex (how the Redis store names its keys).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A key from 64 hex digits.
    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A hash of the ID: not secret, but short is enough to tell keys apart in logs.
        write!(f, "StoreKey({}…)", &self.to_hex()[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_ids_are_refused() {
        let id = SessionId::generate();
        let text = id.as_cookie_value();
        for bad in [
            "",
            "short",
            &format!("{text}A"),
            &text[..42],
            &format!("{}=", &text[..42]),
            &format!("{}+", &text[..42]),
            &"A".repeat(42).chars().chain(['B']).collect::<String>(),
        ] {
            assert!(SessionId::parse(bad).is_none(), "{bad:?}");
        }
        assert!(SessionId::parse(text).is_some());
    }

    #[test]
    fn store_key_round_trips_as_hex() {
        let key = SessionId::generate().store_key();
        assert_eq!(StoreKey::from_hex(&key.to_hex()), Some(key));
        assert_ne!(SessionId::generate().store_key(), key);
    }
}
