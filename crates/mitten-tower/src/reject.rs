//! Responses Mitten writes itself: redirects and rejections.

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use mitten_core::Rejection;

use crate::body::MittenBody;

/// A redirect with an empty body.
pub(crate) fn redirect<B>(status: StatusCode, location: HeaderValue) -> Response<MittenBody<B>> {
    let mut response = Response::new(MittenBody::full(Bytes::new()));
    *response.status_mut() = status;
    response.headers_mut().insert(LOCATION, location);
    response
}

/// A rejection: its status, a short reason as HTML or JSON (by `Accept`), and the typed
/// [`Rejection`] in the response's extensions.
pub(crate) fn rejection<B>(
    rejection: Rejection,
    request_headers: &HeaderMap,
) -> Response<MittenBody<B>> {
    rejection_response(rejection, wants_json(request_headers))
}

/// Whether the client asked for JSON.
pub(crate) fn wants_json(request_headers: &HeaderMap) -> bool {
    request_headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/json"))
}

/// A rejection response, with a JSON or HTML body.
pub(crate) fn rejection_response<B>(
    rejection: Rejection,
    wants_json: bool,
) -> Response<MittenBody<B>> {
    let status = rejection.status();
    let (content_type, body) = if wants_json {
        (
            "application/json",
            format!(
                "{{\"error\":\"{}\",\"message\":\"{}\"}}",
                rejection.code(),
                rejection.message()
            ),
        )
    } else {
        (
            "text/html; charset=utf-8",
            format!(
                "<!doctype html>\n<html lang=en>\n<title>{status}</title>\n<h1>{}</h1>\n<p>{}</p>\n",
                status.canonical_reason().unwrap_or("Error"),
                rejection.message()
            ),
        )
    };
    let mut response = Response::new(MittenBody::full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.extensions_mut().insert(rejection);
    response
}
