//! itsdangerous's encodings: unpadded base64url and big-endian integers without leading zeros.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::SignatureError;

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict: no padding and no non-canonical trailing bits (itsdangerous tolerates both; a token
/// Mitten or itsdangerous issued never has them).
pub(crate) fn base64_decode(text: &[u8]) -> Result<Vec<u8>, SignatureError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| SignatureError::Malformed("invalid base64"))
}

/// `int_to_bytes`: big-endian, leading zero bytes stripped (0 is the empty string).
pub(crate) fn int_to_bytes(value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes[first..].to_vec()
}

/// `bytes_to_int`, for at most eight bytes.
pub(crate) fn bytes_to_int(bytes: &[u8]) -> Option<u64> {
    if bytes.len() > 8 {
        return None;
    }
    Some(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_encode_like_itsdangerous() {
        assert_eq!(base64_encode(&int_to_bytes(1_700_000_000)), "ZVPxAA");
        assert_eq!(
            bytes_to_int(&base64_decode(b"ZVPxAA").expect("base64")),
            Some(1_700_000_000)
        );
        assert_eq!(int_to_bytes(0), Vec::<u8>::new());
        assert_eq!(bytes_to_int(&[1; 9]), None);
    }

    #[test]
    fn decoding_is_strict() {
        assert!(base64_decode(b"ZVPxAA==").is_err());
        assert!(
            base64_decode(b"ZVPxAB").is_err(),
            "non-canonical trailing bits"
        );
        assert!(base64_decode(b"ZV+xAA").is_err(), "standard alphabet");
    }
}
