//! The hash functions itsdangerous offers, and its key-derivation modes.

use hmac::Hmac;
use sha1::Sha1;
use sha2::{Sha256, Sha512};

use crate::mac::{Tag, hmac_tag};

/// The hash behind the HMAC (itsdangerous's `digest_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Digest {
    /// SHA-1, itsdangerous's and Flask's default. HMAC-SHA1 is still sound as a MAC; use it for
    /// compatibility.
    #[default]
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-512.
    Sha512,
}

/// How the signing key is derived from the secret and the salt (itsdangerous's
/// `key_derivation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeyDerivation {
    /// `H(salt + b"signer" + secret)`: itsdangerous's default.
    #[default]
    DjangoConcat,
    /// `H(salt + secret)`.
    Concat,
    /// `HMAC(secret, salt)`: what Flask's session uses.
    Hmac,
    /// The secret itself, salt ignored.
    None,
}

impl Digest {
    fn hash(self, parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: sha2::Digest>(parts: &[&[u8]]) -> Vec<u8> {
            let mut hasher = D::new();
            for part in parts {
                hasher.update(part);
            }
            let mut output = hasher.finalize();
            let derived = output.to_vec();
            // The output is a key (the concatenating derivations): only `derived` keeps it.
            zeroize::Zeroize::zeroize(output.as_mut_slice());
            derived
        }
        match self {
            Self::Sha1 => run::<Sha1>(parts),
            Self::Sha256 => run::<Sha256>(parts),
            Self::Sha512 => run::<Sha512>(parts),
        }
    }

    /// `HMAC(key, message)`.
    pub(crate) fn hmac(self, key: &[u8], message: &[&[u8]]) -> Tag {
        match self {
            Self::Sha1 => hmac_tag::<Hmac<Sha1>>(key, message),
            Self::Sha256 => hmac_tag::<Hmac<Sha256>>(key, message),
            Self::Sha512 => hmac_tag::<Hmac<Sha512>>(key, message),
        }
    }
}

impl KeyDerivation {
    pub(crate) fn derive(self, digest: Digest, secret: &[u8], salt: &[u8]) -> Vec<u8> {
        match self {
            Self::DjangoConcat => digest.hash(&[salt, b"signer", secret]),
            Self::Concat => digest.hash(&[salt, secret]),
            Self::Hmac => digest.hmac(secret, &[salt]).as_bytes().to_vec(),
            Self::None => secret.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_is_sha1() {
        assert_eq!(
            Digest::Sha1.hash(&[b"abc"]),
            [
                0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e, 0x25, 0x71, 0x78, 0x50,
                0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d
            ]
        );
    }
}
