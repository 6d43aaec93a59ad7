//! Web origins (`scheme://host[:port]`), parsed strictly and compared exactly.

use std::fmt;

use crate::error::ConfigError;

/// `http` or `https`: the only schemes Mitten serves or trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }

    /// 80 or 443.
    pub const fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }

    /// Parses `http` or `https`, ignoring ASCII case.
    pub fn parse(text: &str) -> Option<Self> {
        if text.eq_ignore_ascii_case("https") {
            Some(Self::Https)
        } else if text.eq_ignore_ascii_case("http") {
            Some(Self::Http)
        } else {
            None
        }
    }
}

/// A tuple origin: scheme, host and port.
///
/// Parsing is strict: userinfo (`https://evil@victim.example`), paths, queries, fragments,
/// `null`, schemes other than http(s), percent-encoding and empty hosts are all refused. Scheme
/// and host are lower-cased and a default port is dropped, so two origins are the same exactly
/// when they compare equal.
///
/// ```
/// use mitten_core::Origin;
///
/// let origin = Origin::parse("https://App.Example:443")?;
/// assert_eq!(origin.to_string(), "https://app.example");
/// assert_eq!(origin, Origin::parse("https://app.example")?);
/// assert_ne!(origin, Origin::parse("http://app.example")?);
/// for hostile in ["null", "https://evil@app.example", "https://app.example/", "https://app.example.evil.net:x"] {
///     assert!(Origin::parse(hostile).is_err());
/// }
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: Scheme,
    host: String,
    port: u16,
}

impl Origin {
    /// Parses an origin exactly as a browser serialises it in the `Origin` header.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let invalid = |reason| ConfigError::InvalidOrigin {
            origin: text.to_owned(),
            reason,
        };
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| invalid("expected scheme://host[:port]"))?;
        let scheme =
            Scheme::parse(scheme).ok_or_else(|| invalid("the scheme must be http or https"))?;
        let (host, port) = split_authority(rest).map_err(invalid)?;
        let port = match port {
            Some(port) => port,
            None => scheme.default_port(),
        };
        Ok(Self {
            scheme,
            host: host.into_owned(),
            port,
        })
    }

    /// Like [`parse`](Self::parse), but accepts one trailing `/` (as people write origins in
    /// configuration).
    pub fn parse_config(text: &str) -> Result<Self, ConfigError> {
        Self::parse(text.strip_suffix('/').unwrap_or(text))
    }

    /// Builds the origin of a request from its scheme and `Host` (or authority).
    pub fn from_scheme_and_authority(scheme: Scheme, authority: &str) -> Result<Self, ConfigError> {
        let (host, port) =
            split_authority(authority).map_err(|reason| ConfigError::InvalidOrigin {
                origin: authority.to_owned(),
                reason,
            })?;
        Ok(Self {
            scheme,
            port: port.unwrap_or(scheme.default_port()),
            host: host.into_owned(),
        })
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The lower-case host (IPv6 addresses in brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, the scheme's default when none was written.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.host)?;
        if self.port != self.scheme.default_port() {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// A DNS name or IPv4 address: labels of letters, digits, `-` and `_`, none empty, at most 253
/// bytes, one trailing dot allowed. One pass over the bytes (it runs on every plain-HTTP request).
fn is_host_name(host: &str) -> bool {
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    let mut label_len = 0usize;
    for &b in host.as_bytes() {
        if b == b'.' {
            if label_len == 0 {
                return false;
            }
            label_len = 0;
        } else if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            label_len += 1;
        } else {
            return false;
        }
    }
    true
}

/// A port: 1 to 65535 in decimal digits, nothing else.
pub(crate) fn parse_port(port: &str) -> Result<u16, &'static str> {
    (!port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()))
        .then(|| port.parse::<u16>().ok())
        .flatten()
        .filter(|&p| p != 0)
        .ok_or("the port must be a number from 1 to 65535")
}

/// Splits `host[:port]` and validates both; the host is lower-cased.
pub(crate) fn split_authority(
    authority: &str,
) -> Result<(std::borrow::Cow<'_, str>, Option<u16>), &'static str> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let end = rest.find(']').ok_or("an IPv6 host needs its closing `]`")?;
        let literal = &rest[..end];
        literal
            .parse::<std::net::Ipv6Addr>()
            .map_err(|_| "malformed IPv6 address")?;
        let after = &rest[end + 1..];
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or("unexpected text after the host")?,
            ),
        };
        (&authority[..end + 2], port)
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if !host.starts_with('[') && !is_host_name(host) {
        return Err("the host must be a DNS name or an IP address (no userinfo, path or encoding)");
    }
    let port = port.map(parse_port).transpose()?;
    // Lower-cased, copied only when it has upper-case letters.
    let host = if host.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(host.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(host)
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_labels_of_safe_bytes() {
        for good in ["example.com", "example.com.", "127.0.0.1", "a_b-c", "x"] {
            assert!(is_host_name(good), "{good}");
        }
        let long = "a".repeat(254);
        for bad in [
            "", ".", ".a", "a..b", "a..b.", "a b", "a%2e", "a@b", "é.com", &long,
        ] {
            assert!(!is_host_name(bad), "{bad}");
        }
    }

    #[test]
    fn parses_and_normalises() {
        let origin = Origin::parse("HTTPS://Example.COM:8443").expect("valid");
        assert_eq!(origin.scheme(), Scheme::Https);
        assert_eq!(origin.host(), "example.com");
        assert_eq!(origin.port(), 8443);
        assert_eq!(origin.to_string(), "https://example.com:8443");
        assert_eq!(
            Origin::parse("http://127.0.0.1:8080")
                .expect("valid")
                .to_string(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            Origin::parse("http://[::1]:3000").expect("valid").host(),
            "[::1]"
        );
        assert_eq!(
            Origin::parse("http://example.com:80")
                .expect("valid")
                .to_string(),
            "http://example.com"
        );
    }

    #[test]
    fn refuses_hostile_or_malformed_origins() {
        for bad in [
            "null",
            "",
            "example.com",
            "https://",
            "https://evil@example.com",
            "https://example.com/",
            "https://example.com/path",
            "https://example.com?q",
            "https://example.com#f",
            "https://example.com:",
            "https://example.com:0",
            "https://example.com:65536",
            "https://example.com:80:80",
            "https://exa%6dple.com",
            "https://exa mple.com",
            "ftp://example.com",
            "file://",
            "https://[::1",
            "https://[zz]",
            "https://[::1]x",
            "https://..",
            "https://a..b",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn config_form_accepts_one_trailing_slash() {
        assert_eq!(
            Origin::parse_config("https://example.com/")
                .expect("valid")
                .to_string(),
            "https://example.com"
        );
        assert!(Origin::parse_config("https://example.com//").is_err());
    }
}
