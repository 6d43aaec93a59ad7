//! Banner grabbing: the response headers that tell an attacker which software answers.

use http::{HeaderMap, HeaderValue, header::SERVER};

/// What to do with `Server`, `X-Powered-By` and the other fingerprinting headers.
///
/// **Attack:** banner grabbing, matching a server's version against known vulnerabilities.
/// **Defence:** remove every header on the OWASP Secure Headers Project's remove list
/// (`Server`, `X-Powered-By`, `X-AspNet-Version`, …, as of its 2024-07-19 update), or send a
/// banner of your own like Flask-Mitten's `mitten.banner`. **Default:** [`Banner::Remove`].
///
/// ```
/// use mitten_core::headers::{Banner, SecurityHeaders};
///
/// let headers = SecurityHeaders::strict().banner(Banner::custom("Welcome!")?);
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Banner {
    /// Remove every fingerprinting header (the default).
    #[default]
    Remove,
    /// Remove them, then send `Server` with this value.
    Custom(HeaderValue),
    /// Leave the handler's and the server's headers alone.
    Keep,
}

impl Banner {
    /// A custom `Server` banner; an error if the text cannot be a header value.
    pub fn custom(text: &str) -> Result<Self, crate::ConfigError> {
        crate::error::check_header_value("server", text)?;
        HeaderValue::from_str(text)
            .map(Self::Custom)
            .map_err(|_| crate::ConfigError::InvalidHeaderValue { header: "server" })
    }

    /// Applies the banner policy to a response's headers.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        if matches!(self, Self::Keep) {
            return;
        }
        while let Some(name) = headers
            .keys()
            .find(|name| is_fingerprinting(name.as_str()))
            .cloned()
        {
            headers.remove(name);
        }
        if let Self::Custom(value) = self {
            headers.insert(SERVER, value.clone());
        }
    }
}

/// Whether a (lower-case) header name is on the remove list.
pub fn is_fingerprinting(name: &str) -> bool {
    // Most names a response carries (content-type, set-cookie, cache-control…) share no first
    // byte and length with a listed name: answered without a search.
    let Some(&first) = name.as_bytes().first() else {
        return false;
    };
    let lengths = CANDIDATE_LENGTHS[usize::from(first)];
    name.len() < 64 && lengths & (1 << name.len()) != 0 && REMOVE_LIST.binary_search(&name).is_ok()
}

/// For each first byte, the lengths (as bits) of the listed names that start with it. Every
/// listed name is shorter than 64 bytes (checked when this table is built).
const CANDIDATE_LENGTHS: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < REMOVE_LIST.len() {
        let name = REMOVE_LIST[i].as_bytes();
        assert!(!name.is_empty() && name.len() < 64);
        table[name[0] as usize] |= 1 << name.len();
        i += 1;
    }
    table
};

/// The OWASP Secure Headers Project's `headers_remove.json` (2024-07-19), lower-cased and sorted.
pub const REMOVE_LIST: &[&str] = &[
    "$wsep",
    "host-header",
    "k-proxy-request",
    "liferay-portal",
    "oraclecommercecloud-version",
    "pega-host",
    "powered-by",
    "product",
    "server",
    "sourcemap",
    "x-aspnet-version",
    "x-aspnetmvc-version",
    "x-atmosphere-error",
    "x-atmosphere-first-request",
    "x-atmosphere-tracking-id",
    "x-b3-parentspanid",
    "x-b3-sampled",
    "x-b3-spanid",
    "x-b3-traceid",
    "x-beserver",
    "x-calculatedbetarget",
    "x-cf-powered-by",
    "x-cms",
    "x-cocoon-version",
    "x-content-encoded-by",
    "x-diaginfo",
    "x-dtagentid",
    "x-dthealthcheck",
    "x-dtinjectedservlet",
    "x-envoy-attempt-count",
    "x-envoy-external-address",
    "x-envoy-internal",
    "x-envoy-original-dst-host",
    "x-envoy-upstream-service-time",
    "x-feserver",
    "x-framework",
    "x-generated-by",
    "x-generator",
    "x-jitsi-release",
    "x-kubernetes-pf-flowschema-ui",
    "x-kubernetes-pf-prioritylevel-uid",
    "x-litespeed-cache",
    "x-litespeed-cache-control",
    "x-litespeed-purge",
    "x-litespeed-tag",
    "x-litespeed-vary",
    "x-mod-pagespeed",
    "x-nextjs-cache",
    "x-nextjs-matched-path",
    "x-nextjs-page",
    "x-nextjs-redirect",
    "x-old-content-length",
    "x-oneagent-js-injection",
    "x-owa-version",
    "x-page-speed",
    "x-php-version",
    "x-powered-by",
    "x-powered-by-plesk",
    "x-powered-cms",
    "x-redirect-by",
    "x-ruxit-js-agent",
    "x-server-powered-by",
    "x-sourcefiles",
    "x-sourcemap",
    "x-turbo-charged-by",
    "x-umbraco-version",
    "x-varnish-backend",
    "x-varnish-server",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_list_is_sorted_and_lower_case() {
        assert!(REMOVE_LIST.windows(2).all(|w| w[0] < w[1]));
        assert!(REMOVE_LIST.iter().all(|n| n.to_ascii_lowercase() == *n));
        assert!(is_fingerprinting("x-powered-by"));
        assert!(is_fingerprinting("server"));
        assert!(!is_fingerprinting("content-type"));
        // A first byte and a length of listed names, but not a listed name.
        assert!(!is_fingerprinting("sourcemaq") && !is_fingerprinting("set-cookie"));
        assert!(!is_fingerprinting(""));
        for name in REMOVE_LIST {
            assert!(is_fingerprinting(name), "{name}");
        }
    }

    #[test]
    fn removes_all_and_sets_custom_banner() {
        let mut headers = HeaderMap::new();
        headers.insert("server", HeaderValue::from_static("hyper/1.0"));
        headers.insert("x-powered-by", HeaderValue::from_static("PHP/5.4"));
        headers.append("x-aspnet-version", HeaderValue::from_static("4.0"));
        headers.append("x-aspnet-version", HeaderValue::from_static("4.1"));
        headers.insert("content-type", HeaderValue::from_static("text/plain"));
        Banner::Remove.apply(&mut headers);
        assert_eq!(headers.len(), 1);
        Banner::custom("Welcome!")
            .expect("valid")
            .apply(&mut headers);
        assert_eq!(headers["server"], "Welcome!");
    }

    #[test]
    fn custom_banner_rejects_crlf() {
        assert!(Banner::custom("a\r\nb").is_err());
    }
}
