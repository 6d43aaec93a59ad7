//! Finding the CSRF token in a request body, and giving the body back untouched.

use std::borrow::Cow;

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_TYPE;

/// A body the token may be read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenBody {
    UrlEncoded,
    Multipart(String),
    Json,
}

/// Which kind of body the token could be in, by `Content-Type`.
pub(crate) fn token_body(headers: &HeaderMap, json: bool) -> Option<TokenBody> {
    let content_type = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = content_type.split(';').next()?.trim();
    if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Some(TokenBody::UrlEncoded)
    } else if essence.eq_ignore_ascii_case("multipart/form-data") {
        multer::parse_boundary(content_type)
            .ok()
            .map(TokenBody::Multipart)
    } else if json && essence.eq_ignore_ascii_case("application/json") {
        Some(TokenBody::Json)
    } else {
        None
    }
}

/// Why no token could be taken from a body: nothing ambiguous passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyTokenError {
    /// The token field is there more than once.
    Duplicate,
    /// The body does not parse as its type says (a broken multipart body).
    Malformed,
}

/// The token in a body (borrowed from it when it needs no decoding, as a rendered token does).
pub(crate) async fn token_in_body<'a>(
    kind: &TokenBody,
    bytes: &'a Bytes,
) -> Result<Option<Cow<'a, str>>, BodyTokenError> {
    match kind {
        TokenBody::UrlEncoded => single(urlencoded_tokens(bytes)),
        // The multipart parser's state is large: boxed, so that it does not weigh on the
        // future of every token check.
        TokenBody::Multipart(boundary) => Ok(Box::pin(multipart_token(boundary, bytes))
            .await?
            .map(Cow::Owned)),
        TokenBody::Json => Ok(json_token(bytes)?.map(Cow::Owned)),
    }
}

async fn multipart_token(boundary: &str, bytes: &Bytes) -> Result<Option<String>, BodyTokenError> {
    let stream = futures_util::stream::once(std::future::ready(Ok::<
        Bytes,
        std::convert::Infallible,
    >(bytes.clone())));
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut found = Vec::new();
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some(mitten_core::csrf::TOKEN_FIELD) => {
                found.push(field.text().await.map_err(|_| BodyTokenError::Malformed)?);
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => return Err(BodyTokenError::Malformed),
        }
    }
    single(found.into_iter())
}

/// Why a body could not be read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyReadError {
    /// It is longer than the limit.
    TooLarge,
    /// It failed before its end.
    Failed,
}

/// The whole body, at most `limit` bytes. A body that arrives in one piece is kept as it is,
/// without a copy.
pub(crate) async fn read_body<B>(body: B, limit: usize) -> Result<Bytes, BodyReadError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use http_body_util::BodyExt as _;
    let mut body = std::pin::pin!(http_body_util::Limited::new(body, limit));
    let mut first: Option<Bytes> = None;
    let mut joined: Option<bytes::BytesMut> = None;
    while let Some(frame) = body.frame().await {
        // Trailers are not data; as before, they are not passed on.
        let frame = frame.map_err(|error| match over_a_limit(&*error) {
            true => BodyReadError::TooLarge,
            false => BodyReadError::Failed,
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        match (&mut joined, first.take()) {
            (Some(joined), _) => joined.extend_from_slice(&data),
            (None, None) => first = Some(data),
            (None, Some(earlier)) => {
                let mut both = bytes::BytesMut::with_capacity(earlier.len() + data.len());
                both.extend_from_slice(&earlier);
                both.extend_from_slice(&data);
                joined = Some(both);
            }
        }
    }
    Ok(joined.map_or_else(|| first.unwrap_or_default(), bytes::BytesMut::freeze))
}

/// Whether a body's error is a length limit's: this read's, or one a layer outside put on the
/// body (tower-http's `RequestBodyLimitLayer`), which reaches here wrapped (in `axum::Error`).
fn over_a_limit(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |error| error.source())
        .any(|error| error.is::<http_body_util::LengthLimitError>())
}

/// The values of `_csrf_token` in a urlencoded body, as `form_urlencoded` would give them.
///
/// A body with no `%` and no `+` (the usual form, and always the token as rendered: base64url)
/// decodes to itself, so only a key written exactly as the field name can be it: it is found by
/// a substring search over the whole body, and its value borrowed as it lies. Any other body is
/// scanned pair by pair, and only a key that could decode to the field name (it is the name, or
/// it has `%` or `+` in it) is decoded with its value.
fn urlencoded_tokens(bytes: &[u8]) -> impl Iterator<Item = Cow<'_, str>> {
    let plain = memchr::memchr2(b'%', b'+', bytes).is_none();
    let exact = plain.then(|| exact_field_values(bytes));
    let scanned = (!plain).then(|| scanned_field_values(bytes));
    exact
        .into_iter()
        .flatten()
        .chain(scanned.into_iter().flatten())
}

/// The values of the pairs whose key is exactly the field name, in a body where nothing needs
/// decoding.
fn exact_field_values(bytes: &[u8]) -> impl Iterator<Item = Cow<'_, str>> {
    /// The searcher for the field name, prepared once instead of for every request.
    static FIELD: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(mitten_core::csrf::TOKEN_FIELD));
    let field = mitten_core::csrf::TOKEN_FIELD.as_bytes();
    FIELD.find_iter(bytes).filter_map(move |at| {
        // The key starts a pair ...
        if at > 0 && bytes.get(at - 1) != Some(&b'&') {
            return None;
        }
        // ... and ends there: a pair of its own (an empty value) or `=` and the value.
        let rest = bytes.get(at + field.len()..).unwrap_or_default();
        let value = match rest.first() {
            None | Some(b'&') => &[][..],
            Some(b'=') => {
                let value = rest.get(1..).unwrap_or_default();
                value
                    .get(..memchr::memchr(b'&', value).unwrap_or(value.len()))
                    .unwrap_or_default()
            }
            Some(_) => return None,
        };
        // Checked as UTF-8 first: the lossy pass is several times slower on the common (ASCII)
        // token, and gives the same text whenever the check passes.
        Some(match std::str::from_utf8(value) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(value),
        })
    })
}

/// The values of the field in a body that has something to decode, pair by pair (pairs split as
/// `form_urlencoded` splits them).
fn scanned_field_values(bytes: &[u8]) -> impl Iterator<Item = Cow<'_, str>> {
    let field = mitten_core::csrf::TOKEN_FIELD.as_bytes();
    bytes.split(|&b| b == b'&').filter_map(move |pair| {
        let key = pair.split(|&b| b == b'=').next().unwrap_or_default();
        let candidate = key == field || key.iter().any(|&b| b == b'%' || b == b'+');
        if !candidate {
            return None;
        }
        let (key, value) = form_urlencoded::parse(pair).next()?;
        (key.as_bytes() == field).then_some(value)
    })
}

fn single<T>(mut values: impl Iterator<Item = T>) -> Result<Option<T>, BodyTokenError> {
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(value), None) => Ok(Some(value)),
        (Some(_), Some(_)) => Err(BodyTokenError::Duplicate),
    }
}

/// The `_csrf_token` string of a JSON object, refusing it twice (serde_json keeps the last
/// duplicate silently, so the keys are walked here).
fn json_token(bytes: &[u8]) -> Result<Option<String>, BodyTokenError> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
    struct Find;
    impl<'de> Visitor<'de> for Find {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                if key == mitten_core::csrf::TOKEN_FIELD {
                    found.push(map.next_value::<String>()?);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match deserializer.deserialize_map(Find) {
        Ok(found) => single(found.into_iter()),
        // Not an object (an array, garbage): no token in it; the handler decides about the body.
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bodies assembled from the pieces that matter to the scan, compared with a full parse.
    #[test]
    fn urlencoded_scan_matches_a_full_parse_on_generated_bodies() {
        const PIECES: [&[u8]; 10] = [
            b"_csrf_token",
            b"=",
            b"&",
            b"%5F",
            b"+",
            b"a",
            b"\xff",
            b"_csrf",
            b"_token",
            b"%",
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut body = Vec::new();
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            for _ in 0..(state >> 60) {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                body.extend_from_slice(PIECES[(state >> 33) as usize % PIECES.len()]);
            }
            let fast: Vec<String> = urlencoded_tokens(&body).map(Cow::into_owned).collect();
            let full: Vec<String> = form_urlencoded::parse(&body)
                .filter(|(k, _)| k == mitten_core::csrf::TOKEN_FIELD)
                .map(|(_, v)| v.into_owned())
                .collect();
            assert_eq!(fast, full, "{:?}", String::from_utf8_lossy(&body));
        }
    }

    #[test]
    fn urlencoded_scan_matches_a_full_parse() {
        for body in [
            "a=1&_csrf_token=abc&b=2",
            "%5Fcsrf_token=abc",
            "_csrf%5Ftoken=a%2Bb+c",
            "_csrf_token",
            "x=_csrf_token%3Dno",
            "&&_csrf_token=&",
            "_csrf_token=1&_csrf_token=2",
            "_csrf+token=1",
            "_csrf_token=a=b",
            "_csrf_token=%ZZ\u{e9}",
            "_csrf_token=plain\u{e9}x",
            "_csrf_token=a&_csrf_token",
            "x_csrf_token=1&_csrf_tokens=2&a=_csrf_token&_csrf_token=3",
            "_csrf_token&_csrf_token=",
            "_csrf_token=1&x=%41",
            "_csrf_token_csrf_token=1",
            "a=b&_csrf_token=\u{ff}",
        ] {
            let fast: Vec<String> = urlencoded_tokens(body.as_bytes())
                .map(Cow::into_owned)
                .collect();
            let full: Vec<String> = form_urlencoded::parse(body.as_bytes())
                .filter(|(k, _)| k == mitten_core::csrf::TOKEN_FIELD)
                .map(|(_, v)| v.into_owned())
                .collect();
            assert_eq!(fast, full, "{body}");
        }
    }
}
