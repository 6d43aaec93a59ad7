//! Secret keys as types: redacted, zeroized, compared in constant time, derived per purpose.

use std::fmt;

use hmac::Hmac;
use rand::RngCore as _;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::ConfigError;
use crate::mac::hmac_tag;

/// The fewest bytes a key for Mitten's own MACs may have (256 bits).
pub const MIN_KEY_BYTES: usize = 32;

/// A secret key.
///
/// Its `Debug` prints nothing secret, it is wiped from memory when dropped, and two keys compare
/// in constant time. Mitten never uses an application key directly: each use derives its own key
/// with a purpose label ([`derive`](Self::derive)), so a MAC made for one purpose never verifies
/// for another.
///
/// ```
/// use mitten_core::SecretKey;
///
/// let key = SecretKey::generate();
/// assert_eq!(format!("{key:?}"), "SecretKey(<redacted 32 bytes>)");
/// let csrf = key.derive("mitten.csrf");
/// assert_ne!(csrf, key.derive("mitten.session"));
/// assert!(SecretKey::new(b"too short".to_vec()).is_err());
/// ```
#[derive(Clone)]
pub struct SecretKey {
    bytes: Vec<u8>,
}

impl SecretKey {
    /// A key for Mitten's own use: at least [`MIN_KEY_BYTES`] bytes, as from a CSPRNG or a
    /// password manager.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let key = Self::from_bytes_unchecked(bytes);
        if key.bytes.len() < MIN_KEY_BYTES {
            return Err(ConfigError::WeakKey {
                min_bytes: MIN_KEY_BYTES,
            });
        }
        Ok(key)
    }

    /// A key of any length, for compatibility with secrets chosen elsewhere (a Flask
    /// `SECRET_KEY`, an itsdangerous secret). Prefer [`new`](Self::new).
    pub fn from_bytes_unchecked(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            bytes: bytes.into(),
        }
    }

    /// 32 bytes from the operating system's CSPRNG (through the thread-local generator).
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; MIN_KEY_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self { bytes }
    }

    /// A key for one purpose: `HMAC-SHA256(self, "mitten/v1/" + purpose)`.
    pub fn derive(&self, purpose: &str) -> SecretKey {
        // The tag wipes itself on drop; only the key keeps a copy.
        let tag = hmac_tag::<Hmac<Sha256>>(&self.bytes, &[b"mitten/v1/", purpose.as_bytes()]);
        SecretKey {
            bytes: tag.as_bytes().to_vec(),
        }
    }

    /// The key's bytes, for the MAC that uses it (the `signing` and `sessions` features).
    #[cfg_attr(not(any(feature = "signing", feature = "sessions")), allow(dead_code))]
    pub(crate) fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// The key's length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the key is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for SecretKey {}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(<redacted {} bytes>)", self.bytes.len())
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Eq for SecretKey {}

/// Keys for rotation: sign with the newest, verify with any.
///
/// ```
/// use mitten_core::{Keyring, SecretKey};
///
/// let old = SecretKey::generate();
/// let new = SecretKey::generate();
/// let keyring = Keyring::new(new.clone()).with_fallback(old);
/// assert_eq!(keyring.signing_key(), &new);
/// assert_eq!(keyring.keys().count(), 2);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Keyring {
    /// Newest first.
    keys: Vec<SecretKey>,
}

impl Keyring {
    /// A keyring with one key, used for signing and verifying.
    pub fn new(key: SecretKey) -> Self {
        Self { keys: vec![key] }
    }

    /// Adds an older key that is still accepted when verifying (never used to sign).
    #[must_use]
    pub fn with_fallback(mut self, older: SecretKey) -> Self {
        self.keys.push(older);
        self
    }

    /// The keys in itsdangerous's order, oldest first and newest last (its `secret_keys` list).
    /// `None` for an empty list.
    pub fn from_oldest_to_newest(keys: impl IntoIterator<Item = SecretKey>) -> Option<Self> {
        let mut keys: Vec<SecretKey> = keys.into_iter().collect();
        keys.reverse();
        (!keys.is_empty()).then_some(Self { keys })
    }

    /// The key new signatures are made with.
    pub fn signing_key(&self) -> &SecretKey {
        &self.keys[0]
    }

    /// Every key, newest first: the order signatures are checked in.
    pub fn keys(&self) -> impl Iterator<Item = &SecretKey> {
        self.keys.iter()
    }

    /// The same keyring with every key derived for `purpose`.
    pub fn derive(&self, purpose: &str) -> Keyring {
        Keyring {
            keys: self.keys.iter().map(|k| k.derive(purpose)).collect(),
        }
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keyring(<{} redacted keys>)", self.keys.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_secret() {
        let key =
            SecretKey::new(b"0123456789abcdef0123456789abcdef".to_vec()).expect("long enough");
        let debug = format!("{key:?} {:?}", Keyring::new(key.clone()));
        assert!(!debug.contains("0123"), "{debug}");
        assert_eq!(
            debug,
            "SecretKey(<redacted 32 bytes>) Keyring(<1 redacted keys>)"
        );
    }

    #[test]
    fn derivation_separates_purposes_and_is_stable() {
        let key = SecretKey::from_bytes_unchecked(b"k".to_vec());
        assert_eq!(key.derive("a"), key.derive("a"));
        assert_ne!(key.derive("a"), key.derive("b"));
        assert_ne!(
            key.derive("a"),
            SecretKey::from_bytes_unchecked(b"j".to_vec()).derive("a")
        );
        assert_eq!(key.derive("a").len(), 32);
    }

    #[test]
    fn itsdangerous_order_is_newest_last() {
        let a = SecretKey::from_bytes_unchecked(b"a".to_vec());
        let b = SecretKey::from_bytes_unchecked(b"b".to_vec());
        let ring = Keyring::from_oldest_to_newest([a, b.clone()]).expect("non-empty");
        assert_eq!(ring.signing_key(), &b);
        assert!(Keyring::from_oldest_to_newest([]).is_none());
    }
}
