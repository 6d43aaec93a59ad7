//! Origins, hosts and path patterns: no panic; a parsed origin serialises to something that
//! parses to the same origin; a host the HTTPS redirect leaves alone as loopback is one it could
//! have redirected (never a malformed one); a redirect goes to the request's own host, with its
//! path and query, whatever its Host header and request target; a matching path is a normalised
//! one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mitten_core::https::{HttpsDecision, HttpsRedirect};
use mitten_core::{ConnectionInfo, Origin, PathPattern, RequestView, Scheme};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(origin) = Origin::parse(text) {
        let again = Origin::parse(&origin.to_string()).expect("a serialised origin parses");
        assert_eq!(origin, again);
        assert!(!origin.host().contains(['@', '/', '?', '#', '%']));
    }
    if let Ok(host) = http::HeaderValue::from_str(text) {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::HOST, host);
        let uri = http::Uri::from_static("/");
        let view = RequestView {
            method: &http::Method::GET,
            uri: &uri,
            headers: &headers,
            connection: ConnectionInfo::default(),
        };
        if HttpsRedirect::new().decide(&view, Scheme::Http) == HttpsDecision::Serve {
            let strict = HttpsRedirect::new().include_loopback().decide(&view, Scheme::Http);
            assert!(matches!(strict, HttpsDecision::Redirect { .. }), "{text:?}");
        }
        let redirect = HttpsRedirect::new().include_loopback().decide(&view, Scheme::Http);
        if let HttpsDecision::Redirect { location, .. } = redirect {
            let location = location.to_str().expect("visible ASCII");
            let authority = location
                .strip_prefix("https://")
                .and_then(|rest| rest.strip_suffix('/'))
                .expect("https://<host>/");
            let to = Origin::parse(&format!("https://{authority}")).expect("the location's origin parses");
            let asked = Origin::parse(&format!("https://{text}")).expect("a Host that redirects is an authority");
            assert_eq!(to.host(), asked.host(), "Host {text:?} redirected to {location:?}");
        }
    }
    // Any request target: the redirect keeps its path and query, and goes to the Host header's
    // host, or to an absolute-form target's own (which wins over Host).
    if let Ok(target) = http::Uri::try_from(text) {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::HOST, http::HeaderValue::from_static("example.com"));
        let view = RequestView {
            method: &http::Method::GET,
            uri: &target,
            headers: &headers,
            connection: ConnectionInfo::default(),
        };
        if let HttpsDecision::Redirect { location, .. } = HttpsRedirect::new().decide(&view, Scheme::Http) {
            let location = location.to_str().expect("visible ASCII");
            let path = Some(target.path()).filter(|p| p.starts_with('/')).unwrap_or("/");
            // Bytes outside visible ASCII (raw UTF-8 from a client that is not a browser) are
            // percent-encoded in a Location.
            let visible = |text: &str| -> String {
                text.bytes()
                    .map(|b| if b.is_ascii_graphic() { char::from(b).to_string() } else { format!("%{b:02X}") })
                    .collect()
            };
            let kept = match target.query() {
                Some(query) => format!("{}?{}", visible(path), visible(query)),
                None => visible(path),
            };
            let host = location
                .strip_prefix("https://")
                .and_then(|rest| rest.strip_suffix(kept.as_str()))
                .unwrap_or_else(|| panic!("{text:?} redirected to {location:?}, not to its {kept:?}"));
            if target.authority().is_none() {
                assert_eq!(host, "example.com", "{text:?} redirected to {location:?}");
            }
            assert!(!host.contains(['/', '?', '#', '@', '\\']), "{text:?} redirected to {location:?}");
        }
    }
    let hook = PathPattern::exact("/hooks/echo").expect("valid");
    if hook.matches(text) {
        assert_eq!(text, "/hooks/echo");
    }
    let prefix = PathPattern::prefix("/static").expect("valid");
    if prefix.matches(text) {
        assert!(!text.contains("..") || text.split('/').all(|s| s != ".."));
        assert!(text == "/static" || text.starts_with("/static/"));
    }
});
