//! [`BindingSecret`]: the random secret a session keeps for what is bound to it (CSRF tokens).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroize as _;

/// 256 random bits a session holds for binding other values to it: CSRF tokens are an HMAC of
/// it. It lives in the record itself (not among the application's data), is stored as
/// base64url, compares in constant time, prints as `<redacted>` and is wiped on drop. It
/// changes with [`Session::regenerate`](super::Session::regenerate).
///
/// With the `csrf` feature, the secret a stored record holds also remembers the session's
/// unmasked CSRF token once it is worked out (in memory only: it is never serialized, and a
/// clone starts without it), so that a returning visitor's token costs no MAC while the record
/// stays in a [`MemoryStore`](super::MemoryStore).
///
/// ```
/// use mitten_core::session::BindingSecret;
///
/// let secret = BindingSecret::generate();
/// assert_ne!(secret, BindingSecret::generate());
/// assert_eq!(format!("{secret:?}"), "BindingSecret(<redacted>)");
/// ```
pub struct BindingSecret {
    bytes: [u8; 32],
    #[cfg(feature = "csrf")]
    token: crate::csrf::TokenMemo,
}

impl BindingSecret {
    /// A fresh secret from the CSPRNG.
    pub fn generate() -> Self {
        let mut secret = Self::from_bytes([0u8; 32]);
        rand::rng().fill_bytes(&mut secret.bytes);
        secret
    }

    fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            bytes,
            #[cfg(feature = "csrf")]
            token: crate::csrf::TokenMemo::default(),
        }
    }

    /// The secret's bytes, for the MAC that binds to it.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// The binding CSRF tokens get from this secret, with the place its token is remembered.
    ///
    /// ```
    /// use mitten_core::SecretKey;
    /// use mitten_core::csrf::{Binding, TokenKey};
    /// use mitten_core::session::BindingSecret;
    ///
    /// let key = TokenKey::new(&SecretKey::generate());
    /// let secret = BindingSecret::generate();
    /// let token = key.render(secret.binding(), None);
    /// assert!(key.verify(&token, secret.binding(), None));
    /// assert!(key.verify(&token, Binding::session(secret.as_bytes()), None));
    /// assert!(!key.verify(&token, BindingSecret::generate().binding(), None));
    /// ```
    #[cfg(feature = "csrf")]
    pub fn binding(&self) -> crate::csrf::Binding<'_> {
        crate::csrf::Binding::Session {
            secret: &self.bytes,
            memo: Some(&self.token),
        }
    }
}

/// A copy of the secret; what it remembers stays with the original.
impl Clone for BindingSecret {
    fn clone(&self) -> Self {
        Self::from_bytes(self.bytes)
    }
}

impl PartialEq for BindingSecret {
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Eq for BindingSecret {}

impl Drop for BindingSecret {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for BindingSecret {}

impl fmt::Debug for BindingSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BindingSecret(<redacted>)")
    }
}

impl Serialize for BindingSecret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = [0u8; 43];
        let written = URL_SAFE_NO_PAD
            .encode_slice(self.bytes, &mut text)
            .map_err(serde::ser::Error::custom)?;
        let result = match std::str::from_utf8(&text[..written]) {
            Ok(text) => serializer.serialize_str(text),
            Err(e) => Err(serde::ser::Error::custom(e)),
        };
        text.zeroize();
        result
    }
}

impl<'de> Deserialize<'de> for BindingSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl Visitor<'_> for Text {
            type Value = BindingSecret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("32 bytes in base64url")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<BindingSecret, E> {
                let mut bytes = [0u8; 36];
                let len = URL_SAFE_NO_PAD
                    .decode_slice(text, &mut bytes)
                    .map_err(|_| E::custom("a binding secret is 32 bytes in base64url"))?;
                let mut secret = BindingSecret::from_bytes([0u8; 32]);
                let valid = len == 32;
                if valid {
                    secret.bytes.copy_from_slice(&bytes[..32]);
                }
                bytes.zeroize();
                valid
                    .then_some(secret)
                    .ok_or_else(|| E::custom("a binding secret is 32 bytes in base64url"))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json_and_refuses_other_lengths() {
        let secret = BindingSecret::generate();
        let json = serde_json::to_string(&secret).expect("serialize");
        assert_eq!(json.len(), 45, "{json}");
        let back: BindingSecret = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, secret);
        assert!(serde_json::from_str::<BindingSecret>("\"c2hvcnQ\"").is_err());
        assert!(serde_json::from_str::<BindingSecret>("17").is_err());
    }
}
