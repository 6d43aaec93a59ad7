//! The CSRF tier-1 decision on arbitrary Sec-Fetch-Site, Origin and Referer values: no panic,
//! and nothing but this site's own origin (or same-origin Fetch Metadata) ever gets through.
//! Also without a public origin and with no usable Host (the request's own origin unknown):
//! then no Origin or Referer can ever pass. The first byte picks the request: a POST, a `CONNECT`
//! that is no handshake, or a WebSocket handshake (HTTP/1.1's `GET` with `Upgrade`, or HTTP/2's
//! `CONNECT` with `Sec-WebSocket-Version`), which tier 1 alone judges: it opens only for this
//! site, or for a client that sends neither `Origin` nor `Sec-Fetch-Site` (no browser).
#![no_main]

use http::{HeaderMap, HeaderValue, Method, Uri};
use libfuzzer_sys::fuzz_target;
use mitten_core::csrf::{CsrfConfig, Precheck};
use mitten_core::{ConnectionInfo, Origin, RequestView};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, data)) = data.split_first() else { return };
    let policy = CsrfConfig::new().public_origin("https://app.example").build().expect("valid");
    let mut headers = HeaderMap::new();
    for (i, chunk) in data.split(|&b| b == b'\n').take(4).enumerate() {
        let name = ["sec-fetch-site", "origin", "referer", "origin"][i];
        if let Ok(value) = HeaderValue::from_bytes(chunk) {
            headers.append(name, value);
        }
    }
    // A POST; the two handshakes; a CONNECT that is none (checked as a POST is).
    let (method, handshake) = match selector % 4 {
        0 => (Method::POST, false),
        1 => {
            headers.insert("upgrade", HeaderValue::from_static("websocket"));
            (Method::GET, true)
        }
        2 => {
            headers.insert("sec-websocket-version", HeaderValue::from_static("13"));
            (Method::CONNECT, true)
        }
        _ => (Method::CONNECT, false),
    };
    let uri = Uri::from_static("/notes");
    let view = RequestView { method: &method, uri: &uri, headers: &headers, connection: ConnectionInfo::default() };
    let sites: Vec<&HeaderValue> = headers.get_all("sec-fetch-site").iter().collect();
    let origins: Vec<&HeaderValue> = headers.get_all("origin").iter().collect();
    let ours = Origin::parse("https://app.example").expect("origin");

    // Own origin unknown: whatever the browser's Sec-Fetch-Site says is all that can pass.
    let unknown = CsrfConfig::new().build().expect("valid");
    let mut calls = 0;
    let verdict = unknown.precheck(&view, true, || {
        calls += 1;
        None
    });
    assert!(calls <= 1, "the own origin was worked out {calls} times");
    if matches!(verdict, Precheck::NeedToken | Precheck::Skip) {
        assert!(matches!(sites.as_slice(), [site] if site.as_bytes() == b"same-origin"), "{verdict:?}");
    }

    let verdict = policy.precheck(&view, true, || None);
    if handshake {
        // Never sent on to the token tier: a browser sends no token with a handshake.
        assert_ne!(verdict, Precheck::NeedToken);
        if verdict == Precheck::Skip {
            match (sites.as_slice(), origins.as_slice()) {
                ([site], _) => assert_eq!(site.as_bytes(), b"same-origin"),
                ([], [origin]) => assert_eq!(Origin::parse(origin.to_str().expect("ascii")).ok(), Some(ours)),
                ([], []) => {}
                _ => panic!("several Sec-Fetch-Site or Origin headers got through"),
            }
        }
        return;
    }
    if verdict != Precheck::NeedToken {
        return;
    }
    match (sites.as_slice(), origins.as_slice()) {
        ([site], _) => assert_eq!(site.as_bytes(), b"same-origin"),
        ([], [origin]) => assert_eq!(Origin::parse(origin.to_str().expect("ascii")).ok(), Some(ours)),
        ([], []) => {
            let referers: Vec<&HeaderValue> = headers.get_all("referer").iter().collect();
            // A missing Referer on HTTPS leaves it to the token; a present one must be ours.
            // Ours exactly: a prefix (`https://app.example.evil.com`) is another site.
            if let [referer] = referers.as_slice() {
                let referer = referer.to_str().expect("ascii").to_ascii_lowercase();
                let rest = referer.strip_prefix("https://app.example").expect("our origin");
                // A port, if any, is the default one however written (`443`, `0443`, or empty),
                // as the WHATWG URL parser reads it.
                let rest = match rest.strip_prefix(':') {
                    Some(port_and_rest) => {
                        let end = port_and_rest.find(['/', '?', '#']).unwrap_or(port_and_rest.len());
                        let (port, after) = port_and_rest.split_at(end);
                        assert!(port.bytes().all(|b| b.is_ascii_digit()), "{referer}");
                        assert!(port.is_empty() || port.parse::<u32>().ok() == Some(443), "{referer}");
                        after
                    }
                    None => rest,
                };
                assert!(rest.is_empty() || rest.starts_with(['/', '?', '#']), "{referer}");
            }
        }
        _ => panic!("several Sec-Fetch-Site or Origin headers got through"),
    }
});
