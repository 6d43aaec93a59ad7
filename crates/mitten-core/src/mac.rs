//! HMAC construction without a panic path.

use hmac::digest::KeyInit;

/// A keyed MAC. HMAC accepts keys of any length (RFC 2104 hashes long keys and pads short
/// ones), so the error branch is never taken; the all-zero fallback only keeps this function
/// total without a panic.
pub(crate) fn new_hmac<M: KeyInit>(key: &[u8]) -> M {
    match M::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => M::new(&Default::default()),
    }
}

/// `HMAC-SHA256(key, parts…)`.
#[cfg_attr(not(feature = "sessions"), allow(dead_code))]
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use hmac::Mac as _;
    let mut mac: hmac::Hmac<sha2::Sha256> = new_hmac(key);
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}
