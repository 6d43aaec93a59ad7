//! The forwarding headers (`Forwarded`, `X-Forwarded-Proto`, `X-Forwarded-Host`) on arbitrary
//! values: no panic; from a client that is not a trusted proxy they change nothing (the scheme
//! stays plain HTTP, the request's origin stays its Host's); from a trusted proxy, a scheme
//! comes only from a value that names it, and the request's origin is a well-formed one.
#![no_main]

use http::{HeaderMap, HeaderValue, Method, Uri};
use libfuzzer_sys::fuzz_target;
use mitten_core::{Config, ConnectionInfo, Origin, RequestView, Scheme, TrustedProxies, forwarded_proto};

const NAMES: [&str; 6] =
    ["forwarded", "x-forwarded-proto", "x-forwarded-host", "forwarded", "x-forwarded-proto", "x-forwarded-host"];

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    headers.insert(http::header::HOST, HeaderValue::from_static("app.example"));
    for (chunk, name) in data.split(|&b| b == b'\n').zip(NAMES) {
        if let Ok(value) = HeaderValue::from_bytes(chunk) {
            headers.append(name, value);
        }
    }
    let uri = Uri::from_static("/");
    let view = |peer: &str| RequestView {
        method: &Method::GET,
        uri: &uri,
        headers: &headers,
        connection: ConnectionInfo { peer: Some(peer.parse().expect("an address")), tls: false },
    };
    let policy = Config::strict()
        .trusted_proxies(TrustedProxies::new(["10.0.0.1"]).expect("valid"))
        .build()
        .expect("valid");

    // A client: nothing it sends in forwarding headers counts.
    let client = view("192.0.2.7:4000");
    assert_eq!(policy.scheme(&client), Scheme::Http);
    let own = policy.request_origin(&client).map(|origin| origin.to_string());
    assert_eq!(own.as_deref(), Some("http://app.example"));

    // The trusted proxy: a scheme only from a forwarding value that names it.
    if let Some(scheme) = forwarded_proto(&headers) {
        let named = if scheme == Scheme::Https { "https" } else { "http" };
        let forwarded: Vec<String> = headers
            .iter()
            .filter(|(name, _)| matches!(name.as_str(), "forwarded" | "x-forwarded-proto"))
            .filter_map(|(_, value)| value.to_str().ok())
            .map(str::to_ascii_lowercase)
            .collect();
        assert!(forwarded.iter().any(|v| v.contains(named)), "{scheme:?} from {forwarded:?}");
    }
    let proxy = view("10.0.0.1:4000");
    assert_eq!(policy.scheme(&proxy), forwarded_proto(&headers).unwrap_or(Scheme::Http));
    if let Some(origin) = policy.request_origin(&proxy) {
        let again = Origin::parse(&origin.to_string()).expect("a serialised origin parses");
        assert_eq!(origin, again);
        assert!(!origin.host().contains(['@', '/', '?', '#', '%', ' ', ',']), "{origin}");
    }
});
