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
    let mut values = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        // `to_str` admits visible ASCII only, so an ASCII trim is the whole trim.
        .filter_map(|pair| pair.trim_ascii().split_once('='))
        .filter(|(n, _)| *n == name)
        .map(|(_, v)| v);
    match (values.next(), values.next()) {
        (None, _) => RequestCookie::Absent,
        (Some(value), None) => RequestCookie::One(value),
        (Some(_), Some(_)) => RequestCookie::Several,
    }
}
