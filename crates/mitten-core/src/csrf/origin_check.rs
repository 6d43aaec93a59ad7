//! Tier 1: where the request comes from (Fetch Metadata, `Origin`, strict `Referer`).

use http::header::{ORIGIN, REFERER};
use http::{HeaderMap, HeaderValue};

use super::CsrfFailure;
use crate::origin::{Origin, Scheme};

/// `Sec-Fetch-Site`, parsed once rather than on every request.
static SEC_FETCH_SITE: http::HeaderName = http::HeaderName::from_static("sec-fetch-site");

/// An origin trusted besides the app's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedOrigin {
    /// Exactly this origin.
    Exact(Origin),
    /// Every subdomain of `parent` (not `parent` itself) with this scheme and port: weaker, since
    /// any subdomain (a forgotten one, a user-content one) is then trusted.
    Subdomains {
        /// The scheme.
        scheme: Scheme,
        /// `example.com` for `*.example.com`.
        parent: String,
        /// The port.
        port: u16,
    },
}

impl TrustedOrigin {
    /// `https://app.example.com` (exact) or `https://*.example.com` (subdomains).
    pub fn parse(text: &str) -> Result<Self, crate::ConfigError> {
        if let Some((scheme, rest)) = text.split_once("://*.") {
            let origin = Origin::parse_config(&format!("{scheme}://{rest}"))?;
            return Ok(Self::Subdomains {
                scheme: origin.scheme(),
                parent: origin.host().to_owned(),
                port: origin.port(),
            });
        }
        Origin::parse_config(text).map(Self::Exact)
    }

    fn matches(&self, origin: &Origin) -> bool {
        match self {
            Self::Exact(trusted) => trusted == origin,
            Self::Subdomains {
                scheme,
                parent,
                port,
            } => {
                origin.scheme() == *scheme
                    && origin.port() == *port
                    && origin
                        .host()
                        .strip_suffix(parent.as_str())
                        .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.'))
            }
        }
    }
}

/// Tier 1's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OriginRules {
    pub(crate) trust_same_site: bool,
    pub(crate) allow_user_navigation: bool,
    pub(crate) trusted: Vec<TrustedOrigin>,
}

/// What tier 1 found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginVerdict {
    /// The browser says, or the headers show, that the request comes from this app.
    SameOrigin,
    /// It comes from somewhere else: refuse, whatever the token says.
    Refuse(CsrfFailure),
    /// Neither Fetch Metadata nor `Origin`, over plain HTTP: not a browser, or a very old one.
    /// Only the token can decide.
    NoSignal,
    /// HTTPS, no Fetch Metadata, no `Origin`, and no `Referer` (suppressed by a policy or a
    /// privacy tool). Only the token can decide, if the configuration allows.
    RefererMissing,
}

/// The tier-1 decision. `public` gives the origin browsers use for the app (read only when an
/// `Origin` or `Referer` is compared; unknown, the request is refused); `secure` is whether the
/// request arrived over HTTPS (directly or at a trusted proxy).
///
/// 1. `Sec-Fetch-Site` (set by the browser, unforgeable by pages): `same-origin` passes;
///    `same-site` only if trusted; `none` (typed URL, bookmark) only if allowed and no foreign
///    `Origin` is present; `cross-site`, any other value, a wrong case or several headers fail:
///    a malformed value is never sent down the `Origin` fallback.
/// 2. Otherwise `Origin`: it must parse strictly and equal the public origin (scheme, host and
///    port) or a trusted one; `null`, userinfo, paths and duplicates fail.
/// 3. Otherwise, on HTTPS only, `Referer`: its origin must equal the public origin (Django's and
///    gorilla's strict check). Missing, it is [`OriginVerdict::RefererMissing`].
pub(crate) fn check_origin<'p>(
    headers: &HeaderMap,
    public: &dyn Fn() -> Option<&'p Origin>,
    secure: bool,
    rules: &OriginRules,
) -> OriginVerdict {
    let mut sites = headers.get_all(&SEC_FETCH_SITE).iter();
    if let Some(site) = sites.next() {
        if sites.next().is_some() {
            return OriginVerdict::Refuse(CsrfFailure::MalformedFetchMetadata);
        }
        return match site.as_bytes() {
            b"same-origin" => OriginVerdict::SameOrigin,
            b"same-site" if rules.trust_same_site => OriginVerdict::SameOrigin,
            b"same-site" => OriginVerdict::Refuse(CsrfFailure::SameSite),
            b"cross-site" => OriginVerdict::Refuse(CsrfFailure::CrossSite),
            b"none" if rules.allow_user_navigation => match origin_header(headers) {
                OriginHeader::Absent => OriginVerdict::SameOrigin,
                OriginHeader::One(origin) => judge_origin(&origin, public(), rules),
                _ => OriginVerdict::Refuse(CsrfFailure::CrossOrigin),
            },
            b"none" => OriginVerdict::Refuse(CsrfFailure::UserNavigation),
            _ => OriginVerdict::Refuse(CsrfFailure::MalformedFetchMetadata),
        };
    }
    match origin_header(headers) {
        OriginHeader::One(origin) => judge_origin(&origin, public(), rules),
        OriginHeader::Null => OriginVerdict::Refuse(CsrfFailure::NullOrigin),
        OriginHeader::Malformed => OriginVerdict::Refuse(CsrfFailure::MalformedOrigin),
        OriginHeader::Absent if !secure => OriginVerdict::NoSignal,
        OriginHeader::Absent => match public() {
            Some(public) => check_referer(headers.get_all(REFERER).iter().collect(), public),
            None => OriginVerdict::Refuse(CsrfFailure::NoOriginSignal),
        },
    }
}

enum OriginHeader {
    Absent,
    Null,
    Malformed,
    One(Origin),
}

fn origin_header(headers: &HeaderMap) -> OriginHeader {
    let values: Vec<&HeaderValue> = headers.get_all(ORIGIN).iter().collect();
    match values.as_slice() {
        [] => OriginHeader::Absent,
        [value] if value.as_bytes() == b"null" => OriginHeader::Null,
        [value] => value
            .to_str()
            .ok()
            .and_then(|v| Origin::parse(v).ok())
            .map_or(OriginHeader::Malformed, OriginHeader::One),
        _ => OriginHeader::Malformed,
    }
}

/// An `Origin` header's verdict: the app's own origin or a trusted one passes. The app's own
/// unknown (no public origin configured, no usable `Host`), nothing can be compared.
fn judge_origin(origin: &Origin, public: Option<&Origin>, rules: &OriginRules) -> OriginVerdict {
    match public {
        Some(public) if origin == public || rules.trusted.iter().any(|t| t.matches(origin)) => {
            OriginVerdict::SameOrigin
        }
        Some(_) => OriginVerdict::Refuse(CsrfFailure::CrossOrigin),
        None => OriginVerdict::Refuse(CsrfFailure::NoOriginSignal),
    }
}

/// The strict HTTPS `Referer` check: same scheme (https), host and port as the public origin.
fn check_referer(values: Vec<&HeaderValue>, public: &Origin) -> OriginVerdict {
    let [referer] = values.as_slice() else {
        return if values.is_empty() {
            OriginVerdict::RefererMissing
        } else {
            OriginVerdict::Refuse(CsrfFailure::RefererMismatch)
        };
    };
    let Some(text) = referer.to_str().ok() else {
        return OriginVerdict::Refuse(CsrfFailure::RefererMismatch);
    };
    let origin = text.split_once("://").and_then(|(scheme, rest)| {
        let authority = rest.split(['/', '?', '#']).next()?;
        Scheme::parse(scheme).and_then(|s| Origin::from_scheme_and_authority(s, authority).ok())
    });
    match origin {
        Some(origin) if origin.scheme() == Scheme::Https && &origin == public => {
            OriginVerdict::SameOrigin
        }
        _ => OriginVerdict::Refuse(CsrfFailure::RefererMismatch),
    }
}
