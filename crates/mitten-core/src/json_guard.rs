//! The JSON-hijacking (XSSI) guard: JSON only for this site's scripts.

use http::{HeaderMap, HeaderValue};

use crate::reject::Rejection;

/// The prefix some clients expect before JSON, to make it unparseable as a script.
pub const JSON_PREFIX: &[u8] = b")]}',\n";

/// Refuses JSON to anything but a script of this site (Flask-Mitten's `@mitten.json`, redone
/// with Fetch Metadata).
///
/// **Attack:** JSON hijacking / cross-site script inclusion: a hostile page includes
/// `<script src="https://your.site/api/notes">` (or frames it, or opens it) and the browser
/// sends your user's cookies along. **Defence:** with Fetch Metadata, refuse any
/// `Sec-Fetch-Dest` other than `empty` (fetch/XHR) and any `Sec-Fetch-Site: cross-site`
/// (unless the route opts into CORS); without it, require `X-Requested-With: XMLHttpRequest` or
/// an `Accept` that names `application/json`, Flask-Mitten's old rule. Responses get
/// `application/json`, `nosniff` and `Cross-Origin-Resource-Policy: same-origin`, and optionally
/// the `)]}',` prefix. Malformed or repeated Fetch Metadata headers are refused.
///
/// ```
/// use http::HeaderMap;
/// use mitten_core::{JsonGuard, Rejection};
///
/// let guard = JsonGuard::new();
/// let mut fetch = HeaderMap::new();
/// fetch.insert("sec-fetch-dest", "empty".parse()?);
/// fetch.insert("sec-fetch-site", "same-origin".parse()?);
/// assert_eq!(guard.check(&fetch), Ok(()));
///
/// let mut script_tag = HeaderMap::new();
/// script_tag.insert("sec-fetch-dest", "script".parse()?);
/// script_tag.insert("sec-fetch-site", "cross-site".parse()?);
/// assert_eq!(guard.check(&script_tag), Err(Rejection::JsonDestination));
///
/// assert_eq!(guard.check(&HeaderMap::new()), Err(Rejection::JsonNotFromScript));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct JsonGuard {
    allow_cross_site: bool,
    prefix: bool,
}

impl JsonGuard {
    /// Same-site scripts only, no prefix.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves cross-site `fetch` too (for an API that answers CORS requests). Still refuses
    /// non-`empty` destinations such as `<script>` inclusion.
    pub fn allow_cors(mut self) -> Self {
        self.allow_cross_site = true;
        self
    }

    /// Prefixes bodies with [`JSON_PREFIX`], for clients that strip it.
    pub fn with_prefix(mut self) -> Self {
        self.prefix = true;
        self
    }

    /// The prefix to put before the body, if configured.
    pub fn prefix(&self) -> Option<&'static [u8]> {
        self.prefix.then_some(JSON_PREFIX)
    }

    /// Whether a request may receive JSON.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), Rejection> {
        let dest = single(headers, "sec-fetch-dest");
        let site = single(headers, "sec-fetch-site");
        match dest {
            Single::Value(value) if value == "empty" => {}
            Single::Absent => {}
            _ => return Err(Rejection::JsonDestination),
        }
        match site {
            Single::Value(value)
                if value == "same-origin" || value == "same-site" || value == "none" => {}
            Single::Value(value) if value == "cross-site" && self.allow_cross_site => {}
            Single::Absent => {}
            _ => return Err(Rejection::JsonCrossSite),
        }
        if matches!(dest, Single::Absent)
            && matches!(site, Single::Absent)
            && !legacy_script_request(headers)
        {
            return Err(Rejection::JsonNotFromScript);
        }
        Ok(())
    }
}

enum Single<'a> {
    Absent,
    Value(&'a HeaderValue),
    Several,
}

fn single<'a>(headers: &'a HeaderMap, name: &str) -> Single<'a> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (None, _) => Single::Absent,
        (Some(value), None) => Single::Value(value),
        _ => Single::Several,
    }
}

/// `X-Requested-With`, parsed once rather than on every request.
static X_REQUESTED_WITH: http::HeaderName = http::HeaderName::from_static("x-requested-with");

/// `X-Requested-With: XMLHttpRequest`, or an `Accept` naming `application/json`.
fn legacy_script_request(headers: &HeaderMap) -> bool {
    let xhr = headers
        .get_all(&X_REQUESTED_WITH)
        .iter()
        .any(|v| v.as_bytes().eq_ignore_ascii_case(b"XMLHttpRequest"));
    let accepts_json = headers
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            item.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
        });
    xhr || accepts_json
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    /// A named case: request headers and the expected decision.
    type Case = (
        &'static str,
        &'static [(&'static str, &'static str)],
        Result<(), Rejection>,
    );

    #[test]
    fn decisions() {
        let guard = JsonGuard::new();
        let cases: &[Case] = &[
            (
                "fetch same-origin",
                &[
                    ("sec-fetch-dest", "empty"),
                    ("sec-fetch-site", "same-origin"),
                ],
                Ok(()),
            ),
            (
                "fetch same-site",
                &[("sec-fetch-dest", "empty"), ("sec-fetch-site", "same-site")],
                Ok(()),
            ),
            (
                "script tag cross-site",
                &[
                    ("sec-fetch-dest", "script"),
                    ("sec-fetch-site", "cross-site"),
                ],
                Err(Rejection::JsonDestination),
            ),
            (
                "script tag same-origin",
                &[
                    ("sec-fetch-dest", "script"),
                    ("sec-fetch-site", "same-origin"),
                ],
                Err(Rejection::JsonDestination),
            ),
            (
                "navigation",
                &[("sec-fetch-dest", "document"), ("sec-fetch-site", "none")],
                Err(Rejection::JsonDestination),
            ),
            (
                "iframe",
                &[("sec-fetch-dest", "iframe")],
                Err(Rejection::JsonDestination),
            ),
            (
                "object",
                &[("sec-fetch-dest", "object")],
                Err(Rejection::JsonDestination),
            ),
            (
                "embed",
                &[("sec-fetch-dest", "embed")],
                Err(Rejection::JsonDestination),
            ),
            (
                "cross-site fetch",
                &[
                    ("sec-fetch-dest", "empty"),
                    ("sec-fetch-site", "cross-site"),
                ],
                Err(Rejection::JsonCrossSite),
            ),
            (
                "wrong case",
                &[("sec-fetch-dest", "Empty")],
                Err(Rejection::JsonDestination),
            ),
            (
                "garbage site",
                &[
                    ("sec-fetch-dest", "empty"),
                    ("sec-fetch-site", "same-origin "),
                ],
                Err(Rejection::JsonCrossSite),
            ),
            (
                "duplicate dest",
                &[("sec-fetch-dest", "empty"), ("sec-fetch-dest", "script")],
                Err(Rejection::JsonDestination),
            ),
            (
                "duplicate site",
                &[
                    ("sec-fetch-site", "same-origin"),
                    ("sec-fetch-site", "cross-site"),
                ],
                Err(Rejection::JsonCrossSite),
            ),
            (
                "no metadata, no xhr",
                &[],
                Err(Rejection::JsonNotFromScript),
            ),
            (
                "no metadata, html accept",
                &[("accept", "text/html,*/*")],
                Err(Rejection::JsonNotFromScript),
            ),
            (
                "no metadata, xhr",
                &[("x-requested-with", "XMLHttpRequest")],
                Ok(()),
            ),
            (
                "no metadata, json accept",
                &[("accept", "application/json; q=1, */*")],
                Ok(()),
            ),
            (
                "no metadata, json-ish accept",
                &[("accept", "application/jsonx")],
                Err(Rejection::JsonNotFromScript),
            ),
        ];
        for (name, pairs, expected) in cases {
            assert_eq!(guard.check(&headers(pairs)), *expected, "{name}");
        }
        let cors = JsonGuard::new().allow_cors();
        assert_eq!(
            cors.check(&headers(&[
                ("sec-fetch-dest", "empty"),
                ("sec-fetch-site", "cross-site")
            ])),
            Ok(())
        );
        assert_eq!(
            cors.check(&headers(&[
                ("sec-fetch-dest", "script"),
                ("sec-fetch-site", "cross-site")
            ])),
            Err(Rejection::JsonDestination)
        );
    }
}
