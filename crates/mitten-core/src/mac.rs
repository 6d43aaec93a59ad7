//! HMAC construction without a panic path, and a keyed HMAC prepared once.

use std::fmt;

use hmac::Mac as _;
use hmac::digest::KeyInit;

use crate::keys::SecretKey;

/// A keyed MAC. HMAC accepts keys of any length (RFC 2104 hashes long keys and pads short
/// ones), so the error branch is never taken; the all-zero fallback only keeps this function
/// total without a panic.
pub(crate) fn new_hmac<M: KeyInit>(key: &[u8]) -> M {
    match M::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => M::new(&Default::default()),
    }
}

/// Whether two byte strings are equal, in constant time for strings of one length (lengths are
/// not secret: different lengths are simply unequal). Compared eight bytes at a time, so the
/// optimisation barrier that keeps the comparison constant-time is paid per word, not per byte.
#[cfg_attr(
    not(any(feature = "sessions", feature = "csrf", feature = "signing")),
    allow(dead_code)
)]
pub(crate) fn ct_eq_bytes(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    if a.len() != b.len() {
        return false;
    }
    let word = |chunk: &[u8]| chunk.iter().fold(0u64, |w, &b| (w << 8) | u64::from(b));
    let (a_words, b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    let mut equal = a_words.remainder().ct_eq(b_words.remainder());
    for (x, y) in a_words.zip(b_words) {
        equal &= word(x).ct_eq(&word(y));
    }
    equal.into()
}

/// `HMAC-SHA256(key, parts…)`.
#[cfg_attr(not(feature = "sessions"), allow(dead_code))]
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac: hmac::Hmac<sha2::Sha256> = new_hmac(key);
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA256 under one key, with the key's inner and outer pads hashed once: each MAC then
/// costs two compressions fewer than [`hmac_sha256`]. The prepared state is as secret as the
/// key, so it is wiped on drop (the hash cores zeroize themselves: `sha2`'s `zeroize` feature)
/// and never printed.
#[derive(Clone)]
#[cfg_attr(not(feature = "csrf"), allow(dead_code))]
pub(crate) struct KeyedHmac {
    prepared: hmac::Hmac<sha2::Sha256>,
}

#[cfg_attr(not(feature = "csrf"), allow(dead_code))]
impl KeyedHmac {
    pub(crate) fn new(key: &SecretKey) -> Self {
        Self {
            prepared: new_hmac(key.expose()),
        }
    }

    /// `HMAC-SHA256(key, parts…)`.
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.prepared.clone();
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for KeyedHmac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyedHmac(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ct_eq_bytes_is_equality() {
        let base: Vec<u8> = (0..40u8).collect();
        for len in 0..40 {
            let a = &base[..len];
            assert!(super::ct_eq_bytes(a, a));
            assert!(!super::ct_eq_bytes(a, &base[..len + 1]));
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 0x80;
                assert!(!super::ct_eq_bytes(a, &b), "{len} {at}");
            }
        }
    }

    use super::*;

    #[test]
    fn prepared_key_gives_the_plain_hmac() {
        let key = SecretKey::generate();
        let keyed = KeyedHmac::new(&key);
        let parts: &[&[u8]] = &[b"bound/", b"session", b"/", &[7u8; 32], b"/"];
        assert_eq!(keyed.mac(parts), hmac_sha256(key.expose(), parts));
        // The prepared state is reused, not consumed.
        assert_eq!(keyed.mac(parts), keyed.mac(parts));
        assert_eq!(format!("{keyed:?}"), "KeyedHmac(<redacted>)");
    }
}
