//! `Signer` and `TimestampSigner`, byte for byte as itsdangerous 2.x makes them.

use std::time::{SystemTime, UNIX_EPOCH};

use super::encoding::{base64_decode, base64_encode, bytes_to_int, int_to_bytes};
use super::{Digest, KeyDerivation, SignatureError};
use crate::error::ConfigError;
use crate::keys::{Keyring, SecretKey};

/// itsdangerous's default salt for a `Signer`.
pub const SIGNER_SALT: &str = "itsdangerous.Signer";

/// Signs values as `value.signature` (itsdangerous's `Signer`).
///
/// The signature is the unpadded base64url of `HMAC(derived key, value)`; the derived key mixes
/// the secret with the salt, so the salt is the purpose label: a value signed for one salt never
/// verifies under another. With a [`Keyring`], new signatures use the newest key and every key
/// is tried when verifying (itsdangerous's list of secret keys).
///
/// ```
/// use mitten_core::sign::Signer;
/// use mitten_core::{Keyring, SecretKey};
///
/// let keys = Keyring::new(SecretKey::from_bytes_unchecked(b"test-secret".to_vec()));
/// let signer = Signer::new(&keys, "test-salt");
/// assert_eq!(signer.sign("hello"), "hello.bOZf-tFxVoEE9dHRnUSyU49Q6nA"); // what itsdangerous gives
/// assert_eq!(signer.unsign("hello.bOZf-tFxVoEE9dHRnUSyU49Q6nA"), Ok("hello"));
/// assert!(signer.unsign("hellO.bOZf-tFxVoEE9dHRnUSyU49Q6nA").is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Signer {
    /// Derived keys, newest first.
    keys: Vec<SecretKey>,
    separator: u8,
    digest: Digest,
}

/// Builds a [`Signer`] with itsdangerous's options.
#[derive(Clone, Debug)]
#[must_use]
pub struct SignerBuilder {
    keyring: Keyring,
    salt: Vec<u8>,
    separator: char,
    key_derivation: KeyDerivation,
    digest: Digest,
}

impl SignerBuilder {
    /// The salt (default `itsdangerous.Signer`).
    pub fn salt(mut self, salt: impl AsRef<[u8]>) -> Self {
        self.salt = salt.as_ref().to_vec();
        self
    }

    /// The separator between value and signature (default `.`); it must not be a base64url
    /// character.
    pub fn separator(mut self, separator: char) -> Self {
        self.separator = separator;
        self
    }

    /// How the key is derived from secret and salt (default `django-concat`).
    pub fn key_derivation(mut self, key_derivation: KeyDerivation) -> Self {
        self.key_derivation = key_derivation;
        self
    }

    /// The HMAC's hash (default SHA-1).
    pub fn digest(mut self, digest: Digest) -> Self {
        self.digest = digest;
        self
    }

    /// Derives the keys.
    pub fn build(self) -> Result<Signer, ConfigError> {
        if !self.separator.is_ascii()
            || self.separator.is_ascii_alphanumeric()
            || matches!(self.separator, '-' | '_' | '=')
        {
            return Err(ConfigError::InvalidSigner(
                "the separator must be an ASCII character that cannot occur in base64",
            ));
        }
        Ok(Signer::from_parts(
            &self.keyring,
            &self.salt,
            self.key_derivation,
            self.digest,
            self.separator as u8,
        ))
    }
}

impl Signer {
    /// itsdangerous's defaults (`django-concat`, SHA-1, `.`) with this salt.
    pub fn new(keyring: &Keyring, salt: &str) -> Self {
        Self::from_parts(
            keyring,
            salt.as_bytes(),
            KeyDerivation::default(),
            Digest::default(),
            b'.',
        )
    }

    fn from_parts(
        keyring: &Keyring,
        salt: &[u8],
        key_derivation: KeyDerivation,
        digest: Digest,
        separator: u8,
    ) -> Self {
        let keys = keyring
            .keys()
            .map(|secret| {
                SecretKey::from_bytes_unchecked(key_derivation.derive(
                    digest,
                    secret.expose(),
                    salt,
                ))
            })
            .collect();
        Self {
            keys,
            separator,
            digest,
        }
    }

    /// A builder for the other options.
    pub fn builder(keyring: &Keyring) -> SignerBuilder {
        SignerBuilder {
            keyring: keyring.clone(),
            salt: SIGNER_SALT.as_bytes().to_vec(),
            separator: '.',
            key_derivation: KeyDerivation::default(),
            digest: Digest::default(),
        }
    }

    /// The separator.
    pub fn separator(&self) -> char {
        char::from(self.separator)
    }

    /// `value.signature`, signed with the newest key.
    pub fn sign(&self, value: &str) -> String {
        let mut token = String::with_capacity(value.len() + 1 + 43);
        token.push_str(value);
        token.push(char::from(self.separator));
        token.push_str(&self.signature(&self.keys[0], value.as_bytes()));
        token
    }

    /// The value, if the signature matches under any key. Splits on the last separator.
    pub fn unsign<'a>(&self, token: &'a str) -> Result<&'a str, SignatureError> {
        let (value, signature) = token
            .rsplit_once(char::from(self.separator))
            .ok_or(SignatureError::Malformed("no separator found"))?;
        self.verify(value.as_bytes(), signature.as_bytes())?;
        Ok(value)
    }

    fn signature(&self, key: &SecretKey, value: &[u8]) -> String {
        base64_encode(self.digest.hmac(key.expose(), &[value]).as_bytes())
    }

    fn verify(&self, value: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        let given = base64_decode(signature).map_err(|_| SignatureError::BadSignature)?;
        let matches = self.keys.iter().any(|key| {
            // Lengths are public (they follow from the digest); the bytes compare in constant time.
            self.digest.hmac(key.expose(), &[value]).verifies(&given)
        });
        if matches {
            Ok(())
        } else {
            Err(SignatureError::BadSignature)
        }
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Signs values with the time: `value.timestamp.signature` (itsdangerous's `TimestampSigner`).
///
/// Verification with a `max_age` refuses values older than that, and values signed in the
/// future. Every method has an `_at` form taking "now" explicitly, for tests with a
/// controllable clock.
///
/// ```
/// use mitten_core::sign::{SignatureError, TimestampSigner};
/// use mitten_core::{Keyring, SecretKey};
///
/// let keys = Keyring::new(SecretKey::from_bytes_unchecked(b"test-secret".to_vec()));
/// let signer = TimestampSigner::new(&keys, "test-salt");
/// let token = signer.sign_at("hello", 1_700_000_000);
/// assert_eq!(token, "hello.ZVPxAA.U9xa-YpSBw7lM4AuJd4jDAYtZVc");
/// assert_eq!(signer.unsign_at(&token, Some(3600), 1_700_003_600), Ok(("hello", 1_700_000_000)));
/// assert_eq!(
///     signer.unsign_at(&token, Some(3600), 1_700_003_601),
///     Err(SignatureError::Expired { age: 3601, max_age: 3600 })
/// );
/// ```
#[derive(Clone, Debug)]
pub struct TimestampSigner {
    signer: Signer,
}

impl TimestampSigner {
    /// itsdangerous's defaults with this salt.
    pub fn new(keyring: &Keyring, salt: &str) -> Self {
        Self {
            signer: Signer::new(keyring, salt),
        }
    }

    /// A timestamp signer over a configured [`Signer`].
    pub fn from_signer(signer: Signer) -> Self {
        Self { signer }
    }

    /// Signs `value` with the current time.
    pub fn sign(&self, value: &str) -> String {
        self.sign_at(value, now())
    }

    /// Signs `value` as if at `timestamp` (seconds since the epoch).
    pub fn sign_at(&self, value: &str, timestamp: u64) -> String {
        let separator = self.signer.separator();
        let stamped = format!(
            "{value}{separator}{}",
            base64_encode(&int_to_bytes(timestamp))
        );
        self.signer.sign(&stamped)
    }

    /// The value and its timestamp, checked against the current time.
    pub fn unsign<'a>(
        &self,
        token: &'a str,
        max_age: Option<u64>,
    ) -> Result<(&'a str, u64), SignatureError> {
        self.unsign_at(token, max_age, now())
    }

    /// The value and its timestamp, checked against `now`.
    pub fn unsign_at<'a>(
        &self,
        token: &'a str,
        max_age: Option<u64>,
        now: u64,
    ) -> Result<(&'a str, u64), SignatureError> {
        let stamped = self.signer.unsign(token)?;
        let (value, timestamp) = stamped
            .rsplit_once(self.signer.separator())
            .ok_or(SignatureError::MissingTimestamp)?;
        let timestamp = base64_decode(timestamp.as_bytes())
            .ok()
            .and_then(|bytes| bytes_to_int(&bytes))
            .ok_or(SignatureError::MalformedTimestamp)?;
        if let Some(max_age) = max_age {
            let age = i128::from(now) - i128::from(timestamp);
            let age = i64::try_from(age).unwrap_or(i64::MIN);
            if age < 0 || age as u64 > max_age {
                return Err(SignatureError::Expired { age, max_age });
            }
        }
        Ok((value, timestamp))
    }
}
