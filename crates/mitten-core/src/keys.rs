//! Secret keys as types: redacted, zeroized, compared in constant time, derived per purpose.

use std::fmt;

use hmac::Hmac;
use rand::RngCore as _;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::ConfigError;
use crate::mac::{Tag, hmac_tag};

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

    /// A key for one purpose: 32 bytes of HKDF-SHA256 (RFC 5869) of this key, with the salt
    /// `mitten/v1` and the purpose as its info.
    ///
    /// Not `HMAC(key, label)`: a signer given the same key with no key derivation
    /// (itsdangerous's `KeyDerivation::None`) computes `HMAC(key, value)` of every value it
    /// signs, and would hand out the key of whatever label it was asked to sign. HKDF keys its
    /// two HMACs with the salt and with the first one's output, neither of which such a signer
    /// holds.
    pub fn derive(&self, purpose: &str) -> SecretKey {
        // The tag wipes itself on drop; only the key keeps a copy.
        let tag = hkdf_sha256(b"mitten/v1", &self.bytes, purpose.as_bytes());
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

/// HKDF-SHA256 (RFC 5869) with one block of output (32 bytes): the extract step, then the
/// expand step's first block. Written on [`hmac_tag`], whose outputs wipe themselves: the
/// `hkdf` crate leaves the pseudorandom key between the two steps in memory it does not wipe.
fn hkdf_sha256(salt: &[u8], ikm: &[u8], info: &[u8]) -> Tag {
    let pseudorandom_key = hmac_tag::<Hmac<Sha256>>(salt, &[ikm]);
    hmac_tag::<Hmac<Sha256>>(pseudorandom_key.as_bytes(), &[info, &[1]])
}

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

    /// RFC 5869, test case 1: the first 32 bytes of its output (one block).
    #[test]
    fn hkdf_matches_rfc_5869() {
        let ikm = [0x0b; 22];
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let hex = |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
        assert_eq!(
            hex(hkdf_sha256(&salt, &ikm, &info).as_bytes()),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        );
        // And `derive` is that, with Mitten's salt (computed with Python's `hmac`).
        let derived = SecretKey::from_bytes_unchecked(b"k".to_vec()).derive("a");
        assert_eq!(
            hex(derived.expose()),
            "b2e4522cbbfe8474b44a056550f69bab72f74fabdb6e7c0ccdc202ce2d8894c1"
        );
    }

    /// A signer on the same key that signs whatever it is given (itsdangerous's `None` and
    /// `Hmac` key derivations, SHA-256) must not hand out a key Mitten derives.
    #[cfg(feature = "signing")]
    #[test]
    fn an_itsdangerous_signer_on_the_same_key_reveals_no_derived_key() {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;

        use crate::sign::{Digest, KeyDerivation, Signer};
        let key = SecretKey::generate();
        let ring = Keyring::new(key.clone());
        // The signature of `value` by a SHA-256 signer on `ring` with `derivation` and `salt`.
        let signature = |derivation: KeyDerivation, salt: &str, value: &str| -> Vec<u8> {
            let signer = Signer::builder(&ring)
                .salt(salt)
                .key_derivation(derivation)
                .digest(Digest::Sha256)
                .build()
                .expect("valid");
            let signed = signer.sign(value);
            let encoded = signed.rsplit_once('.').expect("signed").1;
            URL_SAFE_NO_PAD.decode(encoded).expect("base64url")
        };
        for purpose in ["csrf-token", "session-cookie", "signed-cookie"] {
            let derived = key.derive(purpose);
            let label = format!("mitten/v1/{purpose}");
            // No derivation: the signature is HMAC(key, label).
            let plain = signature(KeyDerivation::None, "", &label);
            assert_ne!(plain.as_slice(), derived.expose(), "{purpose}");
            // Salted with the label, the `Hmac` derivation signs with HMAC(key, label).
            let salted = signature(KeyDerivation::Hmac, &label, "x");
            let with_derived = hmac_tag::<Hmac<Sha256>>(derived.expose(), &[b"x"]);
            assert_ne!(salted.as_slice(), with_derived.as_bytes(), "{purpose}");
        }
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
