//! Flask's session cookie: read it (and write it) during a migration from Flask.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::json::PythonJson;
use super::serializer::{Payload, TimedSerializer};
use super::{Digest, KeyDerivation, SignatureError, Signer};
use crate::keys::Keyring;

/// Flask's `PERMANENT_SESSION_LIFETIME` default: 31 days.
pub const FLASK_SESSION_MAX_AGE: u64 = 31 * 24 * 60 * 60;

/// The tags of Flask's `TaggedJSONSerializer`.
const TAGS: &[&str] = &[" di", " t", " b", " m", " u", " d"];

/// Reads and writes Flask's signed session cookie (`session=…`), given the Flask `SECRET_KEY`
/// (and `SECRET_KEY_FALLBACKS` as older keys of the keyring).
///
/// Flask signs with `URLSafeTimedSerializer(SECRET_KEY, salt="cookie-session")`, HMAC key
/// derivation and SHA-1, over compact JSON with sorted keys and tags for the types JSON lacks.
/// Decoding turns those tags into plain JSON: tuples become arrays, bytes arrays of numbers,
/// UUIDs their 32 hex digits, `Markup` and datetimes (HTTP dates) strings.
///
/// ```
/// use mitten_core::sign::FlaskSession;
/// use mitten_core::{Keyring, SecretKey};
///
/// let flask = FlaskSession::new(&Keyring::new(SecretKey::from_bytes_unchecked(b"test-secret".to_vec())));
/// let cookie = "eyJ1c2VyX2lkIjo0Mn0.ZVPxAA.qryuTYyYy7r9mJYJCok5jIq7DDk"; // set by Flask
/// let session = flask.decode_at(cookie, None, 1_700_000_000)?;
/// assert_eq!(session["user_id"], 42);
/// # Ok::<(), mitten_core::sign::SignatureError>(())
/// ```
#[derive(Clone, Debug)]
pub struct FlaskSession {
    serializer: TimedSerializer,
}

impl FlaskSession {
    /// With the app's secret key (and fallbacks).
    pub fn new(keyring: &Keyring) -> Self {
        let signer = Signer::builder(keyring)
            .salt("cookie-session")
            .key_derivation(KeyDerivation::Hmac)
            .digest(Digest::Sha1)
            .build();
        // The options above are all valid: the separator is the default `.`.
        let signer = signer.unwrap_or_else(|_| Signer::new(keyring, "cookie-session"));
        Self {
            serializer: TimedSerializer::with_payload(signer, Payload::UrlSafe(PythonJson::FLASK)),
        }
    }

    /// The session, if the cookie verifies and is at most `max_age` seconds old (Flask uses
    /// [`FLASK_SESSION_MAX_AGE`]).
    pub fn decode(&self, cookie: &str, max_age: Option<u64>) -> Result<Value, SignatureError> {
        self.decode_at(cookie, max_age, super::signer::now())
    }

    /// As [`decode`](Self::decode), checked against `now`.
    pub fn decode_at(
        &self,
        cookie: &str,
        max_age: Option<u64>,
        now: u64,
    ) -> Result<Value, SignatureError> {
        let (value, _) = self.serializer.loads_at::<Value>(cookie, max_age, now)?;
        untag(value)
    }

    /// A cookie Flask will accept, for `session` (a JSON object), stamped at `timestamp`.
    pub fn encode_at(&self, session: &Value, timestamp: u64) -> Result<String, SignatureError> {
        self.serializer.dumps_at(&tag(session.clone()), timestamp)
    }
}

/// Flask's `TagDict`: a dict whose only key is a tag gets `__` appended to that key.
fn tag(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some((key, inner)) = map.iter().next() {
                    if TAGS.contains(&key.as_str()) {
                        let mut tagged = Map::new();
                        tagged.insert(format!("{key}__"), tag(inner.clone()));
                        let mut outer = Map::new();
                        outer.insert(" di".into(), Value::Object(tagged));
                        return Value::Object(outer);
                    }
                }
            }
            Value::Object(map.into_iter().map(|(k, v)| (k, tag(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(tag).collect()),
        other => other,
    }
}

fn untag(value: Value) -> Result<Value, SignatureError> {
    Ok(match value {
        Value::Object(map) => {
            let map: Map<String, Value> = map
                .into_iter()
                .map(|(k, v)| untag(v).map(|v| (k, v)))
                .collect::<Result<_, _>>()?;
            if map.len() != 1 {
                return Ok(Value::Object(map));
            }
            let Some((key, inner)) = map.iter().next() else {
                return Ok(Value::Object(map));
            };
            match key.as_str() {
                " t" | " m" | " u" | " d" => inner.clone(),
                " b" => {
                    let text = inner.as_str().ok_or(SignatureError::BadPayload(
                        "a tagged bytes value is not a string",
                    ))?;
                    let bytes = STANDARD.decode(text).map_err(|_| {
                        SignatureError::BadPayload("a tagged bytes value is not base64")
                    })?;
                    Value::Array(bytes.into_iter().map(Value::from).collect())
                }
                " di" => match inner {
                    Value::Object(tagged) if tagged.len() == 1 => {
                        let (k, v) = tagged
                            .iter()
                            .next()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .unwrap_or_default();
                        let mut plain = Map::new();
                        plain.insert(k.strip_suffix("__").unwrap_or(&k).to_owned(), v);
                        Value::Object(plain)
                    }
                    _ => return Err(SignatureError::BadPayload("a tagged dict is malformed")),
                },
                _ => Value::Object(map),
            }
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(untag).collect::<Result<_, _>>()?)
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tags_round_trip() {
        let value = json!({" t": [1, 2]});
        let tagged = tag(value.clone());
        assert_eq!(tagged, json!({" di": {" t__": [1, 2]}}));
        assert_eq!(untag(tagged).expect("untag"), value);
        assert_eq!(
            untag(json!({"a": {" t": [1, 2]}, "b": {" b": "aGk="}})).expect("untag"),
            json!({"a": [1, 2], "b": [104, 105]})
        );
    }
}
