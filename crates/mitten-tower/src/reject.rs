//! Responses Mitten writes itself: redirects and rejections.

use bytes::Bytes;
use http::header::{ACCEPT, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body::Body;
use mitten_core::Rejection;

/// A redirect with an empty body, answered without reading the request's body.
pub(crate) fn redirect<B: From<Bytes>, RequestBody: Body>(
    status: StatusCode,
    location: HeaderValue,
    request: &Request<RequestBody>,
) -> Response<B> {
    let mut response = Response::new(B::from(Bytes::new()));
    *response.status_mut() = status;
    response.headers_mut().insert(LOCATION, location);
    close_if_body_left(&mut response, request);
    response
}

/// A rejection: its status, a short reason as HTML or JSON (by `Accept`), and the typed
/// [`Rejection`] in the response's extensions. It is answered without reading the request's
/// body: if the request announced one, the response ends the connection.
pub(crate) fn rejection<B: From<Bytes>, RequestBody: Body>(
    rejection: Rejection,
    request: &Request<RequestBody>,
) -> Response<B> {
    let mut response = rejection_response(rejection, wants_json(request.headers()));
    close_if_body_left(&mut response, request);
    response
}

/// Ends the connection with `response` if the request it answers, unread, has a body.
fn close_if_body_left<B, RequestBody: Body>(
    response: &mut Response<B>,
    request: &Request<RequestBody>,
) {
    if has_body(request.headers(), request.body()) {
        close_connection(response);
    }
}

/// Whether a request has a body: announced by its headers, or, when a layer outside removed
/// those (a request-decompression layer removes `Content-Length`), one that has not ended.
pub(crate) fn has_body<B: Body>(request_headers: &HeaderMap, body: &B) -> bool {
    !body.is_end_stream() || announces_body(request_headers)
}

/// Whether a request announces a body: a `Content-Length` other than 0, or a
/// `Transfer-Encoding`.
fn announces_body(request_headers: &HeaderMap) -> bool {
    request_headers.contains_key(TRANSFER_ENCODING)
        || request_headers
            .get_all(CONTENT_LENGTH)
            .iter()
            .any(|length| length.as_bytes() != b"0")
}

/// Ends the connection with `response`: for an answer given while the request's body is still
/// (partly) unread. The server does not read the rest of a body it refused (a large one is not
/// worth reading, and hyper drops the connection rather than do it), so the client is told not to
/// send its next request on this connection, where it would be lost.
pub(crate) fn close_connection<B>(response: &mut Response<B>) {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
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
pub(crate) fn rejection_response<B: From<Bytes>>(
    rejection: Rejection,
    wants_json: bool,
) -> Response<B> {
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
    let mut response = Response::new(B::from(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.extensions_mut().insert(rejection);
    response
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;
    use http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};

    fn headers(pairs: &[(http::HeaderName, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name, http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn a_body_is_announced_unless_every_length_is_zero_and_there_is_no_transfer_encoding() {
        let announces =
            |pairs: &[(http::HeaderName, &'static str)]| super::announces_body(&headers(pairs));
        assert!(!announces(&[]));
        assert!(!announces(&[(CONTENT_LENGTH, "0")]));
        assert!(!announces(&[(CONTENT_LENGTH, "0"), (CONTENT_LENGTH, "0")]));
        assert!(announces(&[(CONTENT_LENGTH, "3")]));
        assert!(announces(&[(CONTENT_LENGTH, "0"), (CONTENT_LENGTH, "3")]));
        // Anything that is not exactly "0" counts as a body: in doubt, the connection ends.
        assert!(announces(&[(CONTENT_LENGTH, "0, 0")]));
        assert!(announces(&[(CONTENT_LENGTH, "00")]));
        assert!(announces(&[(TRANSFER_ENCODING, "chunked")]));
        assert!(announces(&[
            (TRANSFER_ENCODING, "chunked"),
            (CONTENT_LENGTH, "0")
        ]));
    }
}
