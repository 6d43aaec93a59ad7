//! HMAC construction without a panic path, a keyed HMAC prepared once, and [`Tag`]: what a MAC
//! gives, which can only be compared in constant time.

use std::fmt;

use hmac::Mac as _;
use hmac::digest::KeyInit;
use zeroize::Zeroize as _;

use crate::keys::SecretKey;

/// The longest tag: HMAC-SHA512's.
const MAX_TAG: usize = 64;

/// A MAC's output.
///
/// It has no `==`: the only comparison is [`Tag::verifies`], in constant time, so a check
/// written with `==` does not compile (asserted below) instead of leaking through timing how
/// much of a forged tag was right. Never printed, wiped on drop: a tag is as good as the token
/// or signature it makes.
pub(crate) struct Tag {
    bytes: [u8; MAX_TAG],
    len: usize,
}

#[cfg_attr(
    not(any(feature = "sessions", feature = "csrf", feature = "signing")),
    allow(dead_code)
)]
impl Tag {
    /// The first [`MAX_TAG`] bytes of `bytes` (a digest's output, which is never longer).
    pub(crate) fn new(bytes: &[u8]) -> Self {
        let mut tag = Self {
            bytes: [0; MAX_TAG],
            len: bytes.len().min(MAX_TAG),
        };
        tag.bytes[..tag.len].copy_from_slice(&bytes[..tag.len]);
        tag
    }

    /// Whether `given` is this tag, compared in constant time (a different length is simply
    /// unequal: lengths follow from the hash and are no secret).
    pub(crate) fn verifies(&self, given: &[u8]) -> bool {
        ct_eq_bytes(self.as_bytes(), given)
    }

    /// The tag's bytes, to encode or mask (never to compare: see [`Tag::verifies`]).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Drop for Tag {
    fn drop(&mut self) {
        self.bytes[..self.len].zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for Tag {}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tag(<redacted>)")
    }
}

/// Fails to compile if `$ty` implements any of the traits: with one, the call is ambiguous
/// between the two blanket impls (the technique of `static_assertions`' `assert_not_impl_any!`).
macro_rules! assert_not_impl {
    ($ty:ty: $($trait:path),+ $(,)?) => {
        const _: fn() = || {
            $({
                trait AmbiguousIfImplemented<Marker> {
                    fn check() {}
                }
                impl<T: ?Sized> AmbiguousIfImplemented<()> for T {}
                #[allow(dead_code)]
                struct Implemented;
                impl<T: ?Sized + $trait> AmbiguousIfImplemented<Implemented> for T {}
                <$ty as AmbiguousIfImplemented<_>>::check();
            })+
        };
    };
}

// A `Tag` compares only through `verifies`: no `==` with another tag or with bytes, and no
// implicit view as bytes that `==` would then accept.
assert_not_impl!(
    Tag: PartialEq,
    PartialEq<[u8]>,
    PartialEq<&'static [u8]>,
    PartialEq<Vec<u8>>,
    PartialOrd,
    std::ops::Deref,
    AsRef<[u8]>,
    std::borrow::Borrow<[u8]>,
);

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

/// `HMAC(key, parts…)` with the MAC `M` (HMAC over any hash).
pub(crate) fn hmac_tag<M: hmac::Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Tag {
    use hmac::digest::typenum::Unsigned as _;
    // A hash longer than a tag holds would be cut short: refused at compile time.
    const { assert!(M::OutputSize::USIZE <= MAX_TAG) };
    let mut mac: M = new_hmac(key);
    for part in parts {
        mac.update(part);
    }
    Tag::new(mac.finalize().as_bytes())
}

/// `HMAC-SHA256(key, parts…)`.
#[cfg_attr(not(feature = "sessions"), allow(dead_code))]
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Tag {
    hmac_tag::<hmac::Hmac<sha2::Sha256>>(key, parts)
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
    pub(crate) fn mac(&self, parts: &[&[u8]]) -> Tag {
        let mut mac = self.prepared.clone();
        for part in parts {
            mac.update(part);
        }
        Tag::new(mac.finalize().as_bytes())
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
        let plain = hmac_sha256(key.expose(), parts);
        assert!(plain.verifies(keyed.mac(parts).as_bytes()));
        // The prepared state is reused, not consumed.
        assert!(keyed.mac(parts).verifies(keyed.mac(parts).as_bytes()));
        assert_eq!(format!("{keyed:?}"), "KeyedHmac(<redacted>)");
    }

    #[test]
    fn a_tag_verifies_only_itself_and_is_never_printed() {
        // RFC 4231, test case 2.
        let tag = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        let expected = [
            0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95,
            0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9,
            0x64, 0xec, 0x38, 0x43,
        ];
        assert_eq!(tag.as_bytes(), expected);
        assert!(tag.verifies(&expected));
        let mut flipped = expected;
        flipped[31] ^= 1;
        assert!(!tag.verifies(&flipped));
        assert!(!tag.verifies(&expected[..31]), "a prefix is not the tag");
        assert!(!tag.verifies(&[]));
        assert_eq!(format!("{tag:?}"), "Tag(<redacted>)");
        // SHA-512's 64 bytes fit whole.
        let long = hmac_tag::<hmac::Hmac<sha2::Sha512>>(b"k", &[b"m"]);
        assert_eq!(long.as_bytes().len(), 64);
    }
}
