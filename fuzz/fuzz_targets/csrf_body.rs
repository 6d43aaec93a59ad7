//! Token extraction from urlencoded, multipart and JSON bodies through the whole layer: no
//! panic, and whenever the handler runs it receives exactly the bytes that were sent.
#![no_main]

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt as _, Full};
use libfuzzer_sys::fuzz_target;
use mitten_core::Config;
use mitten_core::csrf::CsrfConfig;
use mitten_tower::Mitten;
use tower_layer::Layer as _;
use tower_service::Service as _;

fn ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let content_type = match selector % 4 {
        0 => "application/x-www-form-urlencoded".to_owned(),
        1 => "multipart/form-data; boundary=XyZ".to_owned(),
        2 => "application/json".to_owned(),
        _ => String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned(),
    };
    let body = Bytes::copy_from_slice(body);
    let mitten = Mitten::new(Config::strict()).expect("valid").with_csrf(CsrfConfig::new().token_in_json().report_only()).expect("valid");
    let echo = tower::service_fn(|request: Request<Full<Bytes>>| async move {
        let bytes = request.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        Ok::<_, Infallible>(Response::new(Full::new(bytes)))
    });
    let mut service = mitten.layer().layer(echo);
    let Ok(request) = Request::post("/echo")
        .header("host", "127.0.0.1")
        .header("sec-fetch-site", "same-origin")
        .header("content-type", content_type.as_str())
        .body(Full::new(body.clone()))
    else {
        return;
    };
    let response = ready(service.call(request)).expect("infallible");
    if response.status() == 200 {
        let received = ready(response.into_body().collect()).map(|c| c.to_bytes()).unwrap_or_default();
        assert_eq!(received, body, "the handler must receive the body byte for byte");
    }
});
