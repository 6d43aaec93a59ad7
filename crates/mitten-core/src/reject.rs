//! Why Mitten refused a request: a typed reason, a status, and a short public message.

use std::fmt;

use http::StatusCode;

/// The reason a request was refused.
///
/// Adapters answer with [`status`](Self::status) and [`message`](Self::message), attach the
/// `Rejection` to the response's extensions so the application can log or reshape it, and emit
/// a `tracing` event with [`code`](Self::code). None of these ever contains a token, a cookie,
/// a key or a body.
///
/// ```
/// use mitten_core::Rejection;
///
/// let rejection = Rejection::BadHost;
/// assert_eq!(rejection.status(), http::StatusCode::BAD_REQUEST);
/// assert_eq!(rejection.code(), "bad_host");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// A plain-HTTP request with no usable `Host`, so no HTTPS URL to redirect it to.
    BadHost,
    /// JSON asked for by something other than `fetch`/XHR (`Sec-Fetch-Dest` not `empty`).
    JsonDestination,
    /// JSON asked for from another site (or with malformed `Sec-Fetch-Site`).
    JsonCrossSite,
    /// JSON asked for without Fetch Metadata, `X-Requested-With` or `Accept: application/json`.
    JsonNotFromScript,
    /// The session store could not be reached; the request fails closed.
    SessionStoreUnavailable,
    /// The CSRF check failed.
    #[cfg(feature = "csrf")]
    Csrf(crate::csrf::CsrfFailure),
    /// A body that had to be read (for a CSRF token) is larger than the limit.
    PayloadTooLarge,
    /// A body that had to be read (for a CSRF token) failed before its end (the client went
    /// away, or broke the framing).
    BodyUnreadable,
}

impl Rejection {
    /// The response status.
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadHost => StatusCode::BAD_REQUEST,
            Self::JsonDestination | Self::JsonCrossSite | Self::JsonNotFromScript => {
                StatusCode::FORBIDDEN
            }
            Self::SessionStoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            #[cfg(feature = "csrf")]
            Self::Csrf(_) => StatusCode::FORBIDDEN,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyUnreadable => StatusCode::BAD_REQUEST,
        }
    }

    /// A stable, machine-readable name for logs and JSON bodies.
    pub fn code(self) -> &'static str {
        match self {
            Self::BadHost => "bad_host",
            Self::JsonDestination => "json_destination",
            Self::JsonCrossSite => "json_cross_site",
            Self::JsonNotFromScript => "json_not_from_script",
            Self::SessionStoreUnavailable => "session_store_unavailable",
            #[cfg(feature = "csrf")]
            Self::Csrf(failure) => failure.code(),
            Self::PayloadTooLarge => "payload_too_large",
            Self::BodyUnreadable => "body_unreadable",
        }
    }

    /// A short message for the response body, safe to show anyone.
    pub fn message(self) -> &'static str {
        match self {
            Self::BadHost => "The request has no valid Host header.",
            Self::JsonDestination => "This JSON is only served to scripts (fetch or XHR).",
            Self::JsonCrossSite => "This JSON is not served to other sites.",
            Self::SessionStoreUnavailable => {
                "Sessions are unavailable right now. Please try again shortly."
            }
            #[cfg(feature = "csrf")]
            Self::Csrf(failure) => failure.message(),
            Self::PayloadTooLarge => "The request body is too large.",
            Self::BodyUnreadable => "The request body could not be read.",
            Self::JsonNotFromScript => {
                "This JSON is only served to scripts: send X-Requested-With: XMLHttpRequest or Accept: application/json."
            }
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}
