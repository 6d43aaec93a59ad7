//! The JSON guard on arbitrary Fetch Metadata: no panic, and a script or cross-site request is
//! never served.
#![no_main]

use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use mitten_core::JsonGuard;

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for (i, chunk) in data.split(|&b| b == b'\n').take(6).enumerate() {
        let name = ["sec-fetch-dest", "sec-fetch-site", "accept", "x-requested-with"][i % 4];
        if let Ok(value) = HeaderValue::from_bytes(chunk) {
            headers.append(name, value);
        }
    }
    if JsonGuard::new().check(&headers).is_ok() {
        for value in headers.get_all("sec-fetch-dest") {
            assert_eq!(value, "empty");
        }
        for value in headers.get_all("sec-fetch-site") {
            assert_ne!(value, "cross-site");
        }
    }
});
