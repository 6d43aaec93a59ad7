//! [`SessionData`]: a session's keys and values, compact enough to keep a hundred thousand.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use smallvec::SmallVec;
use smol_str::SmolStr;

/// How the session keys Mitten keeps for itself begin (the used one-time CSRF tokens):
/// [`Session::clear`](super::Session::clear) leaves them.
pub const INTERNAL_PREFIX: &str = "_mitten.";

/// A session's data: string keys to JSON values, sorted by key.
///
/// Compact, because the embedded store keeps every session for hours, and because each
/// allocation a stored session holds is a cache miss when it is evicted cold: a session with
/// one key holds it inline, with no allocation of its own, and keys of up to 23 bytes are held
/// inline too. More keys go in one allocation sized to them. Lookups are binary searches; an
/// insert of a new key reallocates, which a session does rarely next to reading. Serialized as a
/// JSON object, the same as a map.
///
/// ```
/// use mitten_core::session::SessionData;
/// use serde_json::json;
///
/// let mut data = SessionData::new();
/// data.insert("theme".to_owned(), json!("dark"));
/// data.insert("visits".to_owned(), json!(3));
/// assert_eq!(data.get("visits"), Some(&json!(3)));
/// assert_eq!(serde_json::to_string(&data)?, r#"{"theme":"dark","visits":3}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct SessionData {
    /// Sorted by key, keys unique; inline while there is one, else sized exactly.
    entries: SmallVec<[(SmolStr, Value); 1]>,
}

impl SessionData {
    /// No data.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many keys are set.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        let at = self.position(key).ok()?;
        self.entries.get(at).map(|(_, value)| value)
    }

    /// The value under `key`, to change in place.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        let at = self.position(key).ok()?;
        self.entries.get_mut(at).map(|(_, value)| value)
    }

    /// Whether `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Sets `key` to `value`, handing back the value it replaces.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        self.insert_str(&key, value)
    }

    /// [`insert`](Self::insert) with a borrowed key: a key of up to 23 bytes is then stored
    /// without ever being allocated.
    pub(crate) fn insert_str(&mut self, key: &str, value: Value) -> Option<Value> {
        match self.position(key) {
            Ok(at) => self
                .entries
                .get_mut(at)
                .map(|(_, old)| std::mem::replace(old, value)),
            Err(at) => {
                // Exactly one more: no spare room is kept.
                self.entries.reserve_exact(1);
                self.entries.insert(at, (SmolStr::new(key), value));
                None
            }
        }
    }

    /// Removes `key`, handing back its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let at = self.position(key).ok()?;
        let (_, value) = self.entries.remove(at);
        // Back inline when one is left; otherwise sized to what is left.
        self.entries.shrink_to_fit();
        Some(value)
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.entries = SmallVec::new();
    }

    /// Removes every key but Mitten's own (those starting with [`INTERNAL_PREFIX`]).
    pub(crate) fn clear_application_keys(&mut self) {
        self.entries
            .retain(|(key, _)| key.starts_with(INTERNAL_PREFIX));
        self.entries.shrink_to_fit();
    }

    /// The keys and values, sorted by key.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> {
        self.entries
            .iter()
            .map(|(key, value)| (key.as_str(), value))
    }
}

impl fmt::Debug for SessionData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl From<serde_json::Map<String, Value>> for SessionData {
    fn from(map: serde_json::Map<String, Value>) -> Self {
        map.into_iter().collect()
    }
}

impl IntoIterator for SessionData {
    type Item = (String, Value);
    type IntoIter = IntoIter;

    /// The keys and values, sorted by key.
    fn into_iter(self) -> IntoIter {
        IntoIter(self.entries.into_iter())
    }
}

/// The keys and values of a [`SessionData`], sorted by key, by value.
///
/// ```
/// use mitten_core::session::SessionData;
///
/// let data = SessionData::from_iter([("b".to_owned(), 2.into()), ("a".to_owned(), 1.into())]);
/// let keys: Vec<String> = data.into_iter().map(|(key, _)| key).collect();
/// assert_eq!(keys, ["a", "b"]);
/// ```
pub struct IntoIter(smallvec::IntoIter<[(SmolStr, Value); 1]>);

impl Iterator for IntoIter {
    type Item = (String, Value);

    fn next(&mut self) -> Option<(String, Value)> {
        self.0.next().map(|(key, value)| (key.into(), value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for IntoIter {}

impl fmt::Debug for IntoIter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("remaining", &self.0.len())
            .finish()
    }
}

impl FromIterator<(String, Value)> for SessionData {
    /// Collects the pairs; of a key given twice, the last value counts (as in a map).
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(pairs: I) -> Self {
        let mut entries: Vec<(String, Value)> = pairs.into_iter().collect();
        // Stable: equal keys keep their order, so the last of each is the one to keep.
        entries.sort_by(|(a, _), (b, _)| a.cmp(b));
        let mut unique: SmallVec<[(SmolStr, Value); 1]> = SmallVec::with_capacity(entries.len());
        for (key, value) in entries {
            match unique.last_mut() {
                Some((last, old)) if *last == key => *old = value,
                _ => unique.push((SmolStr::from(key), value)),
            }
        }
        unique.shrink_to_fit();
        Self { entries: unique }
    }
}

impl Serialize for SessionData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self.iter() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for SessionData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;

        impl<'de> Visitor<'de> for Entries {
            type Value = SessionData;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of session data")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SessionData, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(pair) = map.next_entry::<String, Value>()? {
                    pairs.push(pair);
                }
                Ok(pairs.into_iter().collect())
            }
        }

        deserializer.deserialize_map(Entries)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn behaves_as_a_map() {
        let mut data = SessionData::new();
        assert!(data.is_empty());
        for (key, n) in [("b", 1), ("a", 2), ("c", 3)] {
            assert_eq!(data.insert(key.to_owned(), json!(n)), None);
        }
        assert_eq!(data.insert("a".to_owned(), json!(4)), Some(json!(2)));
        assert_eq!(data.len(), 3);
        let keys: Vec<&str> = data.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        assert_eq!(data.get("a"), Some(&json!(4)));
        if let Some(value) = data.get_mut("a") {
            *value = json!(5);
        }
        assert_eq!(data.get("a"), Some(&json!(5)));
        assert!(data.contains_key("c") && !data.contains_key("d"));
        assert_eq!(data.remove("b"), Some(json!(1)));
        assert_eq!(data.remove("b"), None);
        assert_eq!(data.get("b"), None);
        data.clear();
        assert!(data.is_empty());
    }

    #[test]
    fn long_keys_and_shrinking_back_to_one_key() {
        let long = "a key much longer than twenty-three bytes";
        let mut data = SessionData::new();
        data.insert(long.to_owned(), json!(1));
        data.insert("b".to_owned(), json!(2));
        data.insert("c".to_owned(), json!(3));
        assert_eq!(data.remove("b"), Some(json!(2)));
        assert_eq!(data.remove("c"), Some(json!(3)));
        assert_eq!(data.len(), 1);
        assert_eq!(data.get(long), Some(&json!(1)));
        let pairs: Vec<(String, Value)> = data.clone().into_iter().collect();
        assert_eq!(pairs, [(long.to_owned(), json!(1))]);
        assert_eq!(data.remove(long), Some(json!(1)));
        assert!(data.is_empty() && data == SessionData::new());
    }

    #[test]
    fn json_is_an_object_and_the_last_duplicate_wins() {
        let data: SessionData = serde_json::from_str(r#"{"z":1,"a":{"n":[1,2]},"z":2}"#).unwrap();
        assert_eq!(data.get("z"), Some(&json!(2)));
        assert_eq!(data.len(), 2);
        assert_eq!(
            serde_json::to_string(&data).unwrap(),
            r#"{"a":{"n":[1,2]},"z":2}"#
        );
        assert!(serde_json::from_str::<SessionData>("[1]").is_err());
        assert!(format!("{data:?}").starts_with(r#"{"a": "#));
        let map: serde_json::Map<String, Value> = serde_json::from_str(r#"{"y":1,"x":2}"#).unwrap();
        let from_map = SessionData::from(map);
        let pairs: Vec<(String, Value)> = from_map.into_iter().collect();
        assert_eq!(
            pairs,
            [("x".to_owned(), json!(2)), ("y".to_owned(), json!(1))]
        );
    }
}
