//! Reading one cookie from a request, refusing ambiguity.

use http::HeaderMap;
use http::header::COOKIE;

/// A cookie of a request, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestCookie<'a> {
    /// Not sent.
    Absent,
    /// Sent once, with this value.
    One(&'a str),
    /// Sent more than once: one of them was planted (cookie tossing), so trust none.
    Several,
}

/// The cookie `name` across all `Cookie` headers of a request.
///
/// ```
/// use http::HeaderMap;
/// use mitten_core::{RequestCookie, request_cookie};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("cookie", "a=1; b=2; a=3".parse().unwrap());
/// assert_eq!(request_cookie(&headers, "b"), RequestCookie::One("2"));
/// assert_eq!(request_cookie(&headers, "a"), RequestCookie::Several);
/// assert_eq!(request_cookie(&headers, "c"), RequestCookie::Absent);
/// ```
pub fn request_cookie<'a>(headers: &'a HeaderMap, name: &str) -> RequestCookie<'a> {
    // Only the pairs of this name are examined, as bytes: the value is returned if it is visible
    // ASCII (what a header value's `to_str` admits), and counted either way, so that a planted
    // second cookie is seen even when it is garbage.
    let mut matches = headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|h| h.as_bytes().split(|&b| b == b';'))
        .filter_map(|pair| {
            pair.trim_ascii()
                .strip_prefix(name.as_bytes())?
                .strip_prefix(b"=")
        })
        .map(visible_ascii);
    match (matches.next(), matches.next()) {
        (None, _) | (Some(None), None) => RequestCookie::Absent,
        (Some(Some(value)), None) => RequestCookie::One(value),
        (Some(_), Some(_)) => RequestCookie::Several,
    }
}

/// `bytes` as text if every byte is visible ASCII, a space or a tab.
fn visible_ascii(bytes: &[u8]) -> Option<&str> {
    // No early exit, so that the compiler checks many bytes at a time: a value is nearly always
    // valid, and then every byte is read anyway.
    let visible = bytes.iter().fold(true, |ok, &b| {
        ok & ((b == b'\t') | (b' '..=b'~').contains(&b))
    });
    visible.then(|| std::str::from_utf8(bytes).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn cookies(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(COOKIE, HeaderValue::from_bytes(value).expect("value"));
        }
        headers
    }

    #[test]
    fn finds_one_cookie_across_headers_and_refuses_two() {
        let headers = cookies(&[b"a=1;b=2", b" c = 3 ; session=xyz "]);
        assert_eq!(
            request_cookie(&headers, "session"),
            RequestCookie::One("xyz")
        );
        assert_eq!(request_cookie(&headers, "b"), RequestCookie::One("2"));
        // Not the same name: a prefix, or spaces inside the pair.
        assert_eq!(request_cookie(&headers, "sess"), RequestCookie::Absent);
        assert_eq!(request_cookie(&headers, "c"), RequestCookie::Absent);
        let tossed = cookies(&[b"session=xyz", b"session=planted"]);
        assert_eq!(request_cookie(&tossed, "session"), RequestCookie::Several);
        assert_eq!(
            request_cookie(&cookies(&[b"session="]), "session"),
            RequestCookie::One("")
        );
    }

    #[test]
    fn bytes_beyond_visible_ascii() {
        // Another cookie's UTF-8 value does not hide this one.
        let headers = cookies(&["theme=caf\u{e9}; session=xyz".as_bytes()]);
        assert_eq!(
            request_cookie(&headers, "session"),
            RequestCookie::One("xyz")
        );
        // This one's garbage is no value, but it still counts as a second cookie.
        let garbage = cookies(&[b"session=\xff"]);
        assert_eq!(request_cookie(&garbage, "session"), RequestCookie::Absent);
        let both = cookies(&[b"session=xyz; session=\xff"]);
        assert_eq!(request_cookie(&both, "session"), RequestCookie::Several);
    }
}
