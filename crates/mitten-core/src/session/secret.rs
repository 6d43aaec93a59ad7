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
/// ```
/// use mitten_core::session::BindingSecret;
///
/// let secret = BindingSecret::generate();
/// assert_ne!(secret, BindingSecret::generate());
/// assert_eq!(format!("{secret:?}"), "BindingSecret(<redacted>)");
/// ```
#[derive(Clone)]
pub struct BindingSecret([u8; 32]);

impl BindingSecret {
    /// A fresh secret from the CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The secret's bytes, for the MAC that binds to it.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for BindingSecret {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for BindingSecret {}

impl Drop for BindingSecret {
    fn drop(&mut self) {
        self.0.zeroize();
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
            .encode_slice(self.0, &mut text)
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
                let mut secret = BindingSecret([0u8; 32]);
                let valid = len == 32;
                if valid {
                    secret.0.copy_from_slice(&bytes[..32]);
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
