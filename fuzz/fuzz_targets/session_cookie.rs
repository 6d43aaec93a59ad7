//! Session IDs and `Cookie` headers: no panic; nothing a client sends is adopted as a session.
#![no_main]

use http::{HeaderMap, HeaderValue, header::COOKIE};
use libfuzzer_sys::fuzz_target;
use mitten_core::session::{MemoryStore, SessionConfig, SessionId, Sessions};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(id) = SessionId::parse(text) {
            assert_eq!(id.as_cookie_value(), text);
        }
    }
    let Ok(value) = HeaderValue::from_bytes(data) else { return };
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, value);
    let sessions = Sessions::new(MemoryStore::new(16), SessionConfig::new()).expect("valid");
    let session = sessions.start(&headers);
    let mut future = std::pin::pin!(session.load());
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(matches!(future.as_mut().poll(&mut cx), std::task::Poll::Ready(Ok(()))));
    assert!(!session.is_stored(), "an empty store has no session for any cookie");
});
