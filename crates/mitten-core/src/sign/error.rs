//! Why a signed value was refused.

use std::fmt;

/// A signed value that did not verify. The message says what failed without echoing the value
/// or any secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The token does not have the expected shape (no separator, bad base64, …).
    Malformed(&'static str),
    /// The signature does not match the value under any of the keys.
    BadSignature,
    /// A timestamped token without a timestamp.
    MissingTimestamp,
    /// A timestamp that does not decode.
    MalformedTimestamp,
    /// Older than `max_age` seconds, or signed in the future (negative `age`).
    Expired {
        /// Seconds between signing and now.
        age: i64,
        /// The largest age accepted.
        max_age: u64,
    },
    /// The signature is good but the payload does not decompress or deserialize.
    BadPayload(&'static str),
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(why) => write!(f, "malformed signed value: {why}"),
            Self::BadSignature => f.write_str("signature does not match"),
            Self::MissingTimestamp => f.write_str("timestamp missing"),
            Self::MalformedTimestamp => f.write_str("malformed timestamp"),
            Self::Expired { age, max_age } if *age < 0 => {
                let _ = max_age;
                write!(f, "signature age {age} < 0 seconds")
            }
            Self::Expired { age, max_age } => {
                write!(f, "signature age {age} > {max_age} seconds")
            }
            Self::BadPayload(why) => write!(f, "could not load the payload: {why}"),
        }
    }
}

impl std::error::Error for SignatureError {}
