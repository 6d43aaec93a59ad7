//! Signed cookies that bind the cookie's name and the time into the signature.

use super::SignatureError;
use super::encoding::{base64_decode, base64_encode, bytes_to_int, int_to_bytes};
use super::signer::now;
use crate::keys::{Keyring, SecretKey};

/// The purpose label of signed-cookie keys.
const PURPOSE: &str = "signed-cookie";

/// Signs cookie values so they cannot be forged, moved to another cookie, or replayed forever.
///
/// **Attack:** the `cookie` crate's signed jar MACs the value only, so a validly signed value
/// can be copied from one cookie into another of the same app, and replayed indefinitely.
/// **Defence:** the MAC covers the cookie's name, the value and the signing time, with a key
/// derived for this purpose only; verification takes a `max_age`. Keys rotate through the
/// [`Keyring`]: new values are signed with the newest key, every key verifies.
///
/// Format: `value.timestamp.signature` (base64url), HMAC-SHA256 over `name=value.timestamp`.
///
/// ```
/// use mitten_core::sign::{SignatureError, SignedCookies};
/// use mitten_core::{Keyring, SecretKey};
///
/// let cookies = SignedCookies::new(&Keyring::new(SecretKey::generate()));
/// let signed = cookies.sign_at("theme", "dark", 1_700_000_000);
/// assert_eq!(cookies.verify_at("theme", &signed, 3600, 1_700_000_100), Ok("dark"));
/// assert_eq!(cookies.verify_at("role", &signed, 3600, 1_700_000_100), Err(SignatureError::BadSignature));
/// ```
#[derive(Clone, Debug)]
pub struct SignedCookies {
    keys: Vec<SecretKey>,
}

impl SignedCookies {
    /// Signed cookies with keys derived from `keyring` for this purpose.
    pub fn new(keyring: &Keyring) -> Self {
        Self {
            keys: keyring.derive(PURPOSE).keys().cloned().collect(),
        }
    }

    /// `value` signed for the cookie `name`, now.
    pub fn sign(&self, name: &str, value: &str) -> String {
        self.sign_at(name, value, now())
    }

    /// `value` signed for the cookie `name` at `timestamp`.
    pub fn sign_at(&self, name: &str, value: &str, timestamp: u64) -> String {
        let stamped = format!("{value}.{}", base64_encode(&int_to_bytes(timestamp)));
        let mac = mac(&self.keys[0], name, &stamped);
        format!("{stamped}.{}", base64_encode(mac.as_bytes()))
    }

    /// The value, if `signed` was signed for `name` at most `max_age` seconds ago.
    pub fn verify<'a>(
        &self,
        name: &str,
        signed: &'a str,
        max_age: u64,
    ) -> Result<&'a str, SignatureError> {
        self.verify_at(name, signed, max_age, now())
    }

    /// As [`verify`](Self::verify), checked against `now`.
    pub fn verify_at<'a>(
        &self,
        name: &str,
        signed: &'a str,
        max_age: u64,
        now: u64,
    ) -> Result<&'a str, SignatureError> {
        let (stamped, signature) = signed
            .rsplit_once('.')
            .ok_or(SignatureError::Malformed("no separator found"))?;
        let given =
            base64_decode(signature.as_bytes()).map_err(|_| SignatureError::BadSignature)?;
        let valid = self
            .keys
            .iter()
            .any(|key| mac(key, name, stamped).verifies(&given));
        if !valid {
            return Err(SignatureError::BadSignature);
        }
        let (value, timestamp) = stamped
            .rsplit_once('.')
            .ok_or(SignatureError::MissingTimestamp)?;
        let timestamp = base64_decode(timestamp.as_bytes())
            .ok()
            .and_then(|b| bytes_to_int(&b))
            .ok_or(SignatureError::MalformedTimestamp)?;
        let age = i64::try_from(i128::from(now) - i128::from(timestamp)).unwrap_or(i64::MIN);
        if age < 0 || age as u64 > max_age {
            return Err(SignatureError::Expired { age, max_age });
        }
        Ok(value)
    }
}

fn mac(key: &SecretKey, name: &str, stamped: &str) -> crate::mac::Tag {
    super::Digest::Sha256.hmac(key.expose(), &[name.as_bytes(), b"=", stamped.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_rotation_and_tampering() {
        let old = Keyring::new(SecretKey::generate());
        let rotated = Keyring::new(SecretKey::generate()).with_fallback(old.signing_key().clone());
        let signed_with_old = SignedCookies::new(&old).sign_at("id", "42", 100);
        let cookies = SignedCookies::new(&rotated);
        assert_eq!(cookies.verify_at("id", &signed_with_old, 10, 105), Ok("42"));
        assert!(matches!(
            cookies.verify_at("id", &signed_with_old, 10, 111),
            Err(SignatureError::Expired { age: 11, .. })
        ));
        assert!(matches!(
            cookies.verify_at("id", &signed_with_old, 10, 99),
            Err(SignatureError::Expired { age: -1, .. })
        ));
        let fresh = cookies.sign_at("id", "42", 100);
        assert!(
            SignedCookies::new(&old)
                .verify_at("id", &fresh, 10, 100)
                .is_err(),
            "the old keyring does not know the new key"
        );
        let mut tampered = fresh.clone().into_bytes();
        tampered[0] = b'7';
        assert!(
            cookies
                .verify_at("id", std::str::from_utf8(&tampered).expect("utf8"), 10, 100)
                .is_err()
        );
    }
}
