//! itsdangerous's serializers: a JSON payload, optionally compressed and base64url-encoded,
//! then signed.

use std::io::{Read as _, Write as _};

use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::encoding::{base64_decode, base64_encode};
use super::json::PythonJson;
use super::signer::now;
use super::{SignatureError, Signer, TimestampSigner};
use crate::keys::Keyring;

/// itsdangerous's default salt for serializers.
pub const SERIALIZER_SALT: &str = "itsdangerous";

/// The most a compressed payload may inflate to; a larger one is refused (zip bombs).
pub const MAX_PAYLOAD_BYTES: u64 = 1 << 20;

/// How the payload is written before it is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Payload {
    /// `json.dumps(obj)` as it is (itsdangerous's `Serializer`).
    Json,
    /// Compact JSON, zlib-compressed when that is shorter, base64url (`URLSafeSerializer`).
    UrlSafe(PythonJson),
}

impl Payload {
    pub(crate) fn dump<T: Serialize + ?Sized>(self, value: &T) -> Result<String, SignatureError> {
        match self {
            Self::Json => {
                let json = PythonJson::DEFAULT.to_vec(value).map_err(|_| {
                    SignatureError::BadPayload("the value does not serialize to JSON")
                })?;
                // ensure_ascii output is ASCII.
                String::from_utf8(json).map_err(|_| SignatureError::BadPayload("not UTF-8"))
            }
            Self::UrlSafe(style) => {
                let json = style.to_vec(value).map_err(|_| {
                    SignatureError::BadPayload("the value does not serialize to JSON")
                })?;
                let compressed = compress(&json);
                Ok(match compressed {
                    Some(compressed) if compressed.len() < json.len().saturating_sub(1) => {
                        format!(".{}", base64_encode(&compressed))
                    }
                    _ => base64_encode(&json),
                })
            }
        }
    }

    pub(crate) fn load<T: DeserializeOwned>(self, payload: &str) -> Result<T, SignatureError> {
        let json = match self {
            Self::Json => payload.as_bytes().to_vec(),
            Self::UrlSafe(_) => match payload.strip_prefix('.') {
                Some(compressed) => decompress(&base64_decode(compressed.as_bytes())?)?,
                None => base64_decode(payload.as_bytes())?,
            },
        };
        serde_json::from_slice(&json)
            .map_err(|_| SignatureError::BadPayload("not the expected JSON"))
    }
}

fn compress(json: &[u8]) -> Option<Vec<u8>> {
    // Level 6, zlib's default, as Python's `zlib.compress(data)`.
    let mut encoder = ZlibEncoder::new(Vec::with_capacity(json.len()), Compression::new(6));
    encoder.write_all(json).ok()?;
    encoder.finish().ok()
}

fn decompress(compressed: &[u8]) -> Result<Vec<u8>, SignatureError> {
    let mut out = Vec::new();
    ZlibDecoder::new(compressed)
        .take(MAX_PAYLOAD_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|_| SignatureError::BadPayload("could not zlib-decompress"))?;
    if out.len() as u64 > MAX_PAYLOAD_BYTES {
        return Err(SignatureError::BadPayload(
            "the decompressed payload is too large",
        ));
    }
    Ok(out)
}

/// Signs serde values (itsdangerous's `Serializer` and `URLSafeSerializer`).
///
/// ```
/// use mitten_core::sign::Serializer;
/// use mitten_core::{Keyring, SecretKey};
///
/// let keys = Keyring::new(SecretKey::from_bytes_unchecked(b"test-secret".to_vec()));
/// let serializer = Serializer::url_safe(&keys, "test-salt");
/// let token = serializer.dumps(&serde_json::json!({"user_id": 42}))?;
/// assert_eq!(token, "eyJ1c2VyX2lkIjo0Mn0.sjo6YuO4k1rbnGOqdtxwHJWZVxU"); // as itsdangerous
/// let value: serde_json::Value = serializer.loads(&token)?;
/// assert_eq!(value["user_id"], 42);
/// # Ok::<(), mitten_core::sign::SignatureError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Serializer {
    signer: Signer,
    payload: Payload,
}

impl Serializer {
    /// `Serializer(secret, salt)`: the JSON payload as it is, followed by the signature.
    pub fn new(keyring: &Keyring, salt: &str) -> Self {
        Self::with_signer(Signer::new(keyring, salt), false)
    }

    /// `URLSafeSerializer(secret, salt)`: a compact, possibly compressed, base64url payload.
    pub fn url_safe(keyring: &Keyring, salt: &str) -> Self {
        Self::with_signer(Signer::new(keyring, salt), true)
    }

    /// Over a configured [`Signer`] (other key derivation, digest or separator).
    pub fn with_signer(signer: Signer, url_safe: bool) -> Self {
        let payload = if url_safe {
            Payload::UrlSafe(PythonJson::COMPACT)
        } else {
            Payload::Json
        };
        Self { signer, payload }
    }

    /// The signed token for `value`.
    pub fn dumps<T: Serialize + ?Sized>(&self, value: &T) -> Result<String, SignatureError> {
        Ok(self.signer.sign(&self.payload.dump(value)?))
    }

    /// The value, if the token's signature matches.
    pub fn loads<T: DeserializeOwned>(&self, token: &str) -> Result<T, SignatureError> {
        self.payload.load(self.signer.unsign(token)?)
    }
}

/// Signs serde values with the time (itsdangerous's `TimedSerializer` and
/// `URLSafeTimedSerializer`).
///
/// ```
/// use mitten_core::sign::{SignatureError, TimedSerializer};
/// use mitten_core::{Keyring, SecretKey};
///
/// let keys = Keyring::new(SecretKey::from_bytes_unchecked(b"test-secret".to_vec()));
/// let serializer = TimedSerializer::url_safe(&keys, "test-salt");
/// let token = serializer.dumps_at(&"hello", 1_700_000_000)?;
/// assert_eq!(token, "ImhlbGxvIg.ZVPxAA.7NsMMOxxdW2gXsC2tnWW8GYITvA");
/// let (value, signed_at): (String, u64) = serializer.loads_at(&token, Some(60), 1_700_000_030)?;
/// assert_eq!((value.as_str(), signed_at), ("hello", 1_700_000_000));
/// assert!(matches!(
///     serializer.loads_at::<String>(&token, Some(60), 1_700_000_061),
///     Err(SignatureError::Expired { age: 61, .. })
/// ));
/// # Ok::<(), SignatureError>(())
/// ```
#[derive(Clone, Debug)]
pub struct TimedSerializer {
    signer: TimestampSigner,
    payload: Payload,
}

impl TimedSerializer {
    /// `TimedSerializer(secret, salt)`.
    pub fn new(keyring: &Keyring, salt: &str) -> Self {
        Self::with_signer(Signer::new(keyring, salt), false)
    }

    /// `URLSafeTimedSerializer(secret, salt)`.
    pub fn url_safe(keyring: &Keyring, salt: &str) -> Self {
        Self::with_signer(Signer::new(keyring, salt), true)
    }

    /// Over a configured [`Signer`].
    pub fn with_signer(signer: Signer, url_safe: bool) -> Self {
        let payload = if url_safe {
            Payload::UrlSafe(PythonJson::COMPACT)
        } else {
            Payload::Json
        };
        Self {
            signer: TimestampSigner::from_signer(signer),
            payload,
        }
    }

    pub(crate) fn with_payload(signer: Signer, payload: Payload) -> Self {
        Self {
            signer: TimestampSigner::from_signer(signer),
            payload,
        }
    }

    /// The signed token for `value`, stamped now.
    pub fn dumps<T: Serialize + ?Sized>(&self, value: &T) -> Result<String, SignatureError> {
        self.dumps_at(value, now())
    }

    /// The signed token for `value`, stamped at `timestamp`.
    pub fn dumps_at<T: Serialize + ?Sized>(
        &self,
        value: &T,
        timestamp: u64,
    ) -> Result<String, SignatureError> {
        Ok(self.signer.sign_at(&self.payload.dump(value)?, timestamp))
    }

    /// The value, if the signature matches and it is at most `max_age` seconds old.
    pub fn loads<T: DeserializeOwned>(
        &self,
        token: &str,
        max_age: Option<u64>,
    ) -> Result<T, SignatureError> {
        self.loads_at(token, max_age, now()).map(|(value, _)| value)
    }

    /// The value and when it was signed, checked against `now`.
    pub fn loads_at<T: DeserializeOwned>(
        &self,
        token: &str,
        max_age: Option<u64>,
        now: u64,
    ) -> Result<(T, u64), SignatureError> {
        let (payload, timestamp) = self.signer.unsign_at(token, max_age, now)?;
        Ok((self.payload.load(payload)?, timestamp))
    }
}
