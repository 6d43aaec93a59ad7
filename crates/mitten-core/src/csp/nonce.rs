//! The per-response CSP nonce.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;

/// Bytes of randomness in a nonce: 144 bits, above CSP's 128-bit minimum, and a multiple of
/// three so the base64 text has no padding.
const NONCE_BYTES: usize = 18;
const NONCE_CHARS: usize = NONCE_BYTES / 3 * 4;

/// A fresh CSP nonce: 144 bits from the thread-local CSPRNG, as 24 base64url characters.
///
/// Mitten makes one per response and adds `'nonce-…'` to the directives the policy names
/// (`script-src` and `style-src` by default). Templates put the same value in the `nonce`
/// attribute of their inline `<script>` and `<style>` elements; with the `axum` feature, the
/// `CspNonce` extractor hands it to a handler. It is `Copy` and allocation-free.
///
/// ```
/// use mitten_core::csp::CspNonce;
///
/// let nonce = CspNonce::generate();
/// assert_eq!(nonce.as_str().len(), 24);
/// assert_ne!(nonce, CspNonce::generate());
/// let tag = format!(r#"<script nonce="{nonce}">start()</script>"#);
/// assert!(tag.contains(nonce.as_str()));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CspNonce {
    text: [u8; NONCE_CHARS],
}

impl CspNonce {
    /// A new nonce from the operating-system-seeded, thread-local CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self::from_random_bytes(bytes)
    }

    /// A nonce from bytes the caller drew from a CSPRNG (useful for deterministic tests).
    pub fn from_random_bytes(bytes: [u8; NONCE_BYTES]) -> Self {
        let mut text = [0u8; NONCE_CHARS];
        // 18 bytes always encode to exactly 24 characters, so this cannot fall short.
        let _ = URL_SAFE_NO_PAD.encode_slice(bytes, &mut text);
        Self { text }
    }

    /// The nonce as it goes into the header and the `nonce` attribute.
    pub fn as_str(&self) -> &str {
        // base64url output is ASCII.
        std::str::from_utf8(&self.text).unwrap_or_default()
    }
}

impl fmt::Display for CspNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CspNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CspNonce").field(&self.as_str()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_is_24_url_safe_characters_and_fresh() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let nonce = CspNonce::generate();
            assert_eq!(nonce.as_str().len(), 24);
            assert!(
                nonce
                    .as_str()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
            assert!(seen.insert(nonce), "nonce repeated");
        }
    }

    #[test]
    fn known_bytes_give_known_text() {
        assert_eq!(
            CspNonce::from_random_bytes([0xff; 18]).as_str(),
            "________________________"
        );
    }
}
