//! `Strict-Transport-Security` (RFC 6797) and, behind a dangerous name, `Public-Key-Pins`.

use http::HeaderValue;

use crate::error::ConfigError;

/// One year, the preload list's minimum `max-age`.
const ONE_YEAR: u64 = 31_536_000;

/// `Strict-Transport-Security`: browsers that saw it use only HTTPS for this host until it expires.
///
/// **Attack:** SSL stripping, a network attacker downgrading the first plain-HTTP request.
/// **Defence:** HSTS, sent only on responses to secure requests (RFC 6797 §7.2: a user agent
/// ignores it over plain HTTP, and sending it there only advertises a policy nobody can trust).
/// **Default:** `max-age=63072000; includeSubDomains` (two years), no `preload`.
///
/// `preload` is checked against the requirements of the browsers' preload list: `max-age` of
/// at least one year and `includeSubDomains`. Only add it once every subdomain serves HTTPS;
/// leaving the list takes months.
///
/// ```
/// use mitten_core::headers::Hsts;
///
/// assert_eq!(Hsts::default().value()?, "max-age=63072000; includeSubDomains");
/// assert_eq!(
///     Hsts::default().preload().value()?,
///     "max-age=63072000; includeSubDomains; preload"
/// );
/// assert!(Hsts::default().max_age(600).preload().value().is_err());
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Hsts {
    max_age: u64,
    include_subdomains: bool,
    preload: bool,
}

impl Default for Hsts {
    fn default() -> Self {
        Self {
            max_age: 2 * ONE_YEAR,
            include_subdomains: true,
            preload: false,
        }
    }
}

impl Hsts {
    /// How long, in seconds, browsers remember the policy.
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.max_age = seconds;
        self
    }

    /// Whether the policy covers every subdomain (default: yes).
    pub fn include_subdomains(mut self, include: bool) -> Self {
        self.include_subdomains = include;
        self
    }

    /// Adds `preload`, asking to be put in the browsers' built-in list.
    pub fn preload(mut self) -> Self {
        self.preload = true;
        self
    }

    /// The header value, or an error if `preload` is set without meeting the list's requirements.
    pub fn value(&self) -> Result<HeaderValue, ConfigError> {
        if self.preload && self.max_age < ONE_YEAR {
            return Err(ConfigError::HstsPreload(
                "max-age must be at least 31536000 (one year)",
            ));
        }
        if self.preload && !self.include_subdomains {
            return Err(ConfigError::HstsPreload("includeSubDomains is required"));
        }
        let mut value = format!("max-age={}", self.max_age);
        if self.include_subdomains {
            value.push_str("; includeSubDomains");
        }
        if self.preload {
            value.push_str("; preload");
        }
        HeaderValue::try_from(value).map_err(|_| ConfigError::InvalidHeaderValue {
            header: "strict-transport-security",
        })
    }
}

/// HTTP Public Key Pinning. **Dangerous and obsolete**: browsers removed support, and where it
/// still applies a lost key locks every visitor out for `max-age`.
///
/// Offered only for legacy clients that still honour it, through
/// [`SecurityHeaders::danger_public_key_pins`](super::SecurityHeaders::danger_public_key_pins).
/// At least two pins are required (one of them a backup key not in the current chain), as
/// RFC 7469 demands. Sent only on secure responses.
///
/// ```
/// use mitten_core::headers::PublicKeyPins;
///
/// let pins = PublicKeyPins::new(
///     ["cUPcTAZWKaASuYWhhneDttWpY3oBAkE3h2+soZS7sWs=", "M8HztCzM3elUxkcjR2S5P4hhyBNf6lHkmjAHKhpGPWE="],
///     5_184_000,
/// );
/// assert!(pins.value().is_ok());
/// assert!(PublicKeyPins::new(["cUPcTAZWKaASuYWhhneDttWpY3oBAkE3h2+soZS7sWs="], 60).value().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct PublicKeyPins {
    pins: Vec<String>,
    max_age: u64,
    include_subdomains: bool,
    report_uri: Option<String>,
}

impl PublicKeyPins {
    /// Pins (base64 SHA-256 of SubjectPublicKeyInfo) and a lifetime in seconds.
    pub fn new(pins: impl IntoIterator<Item = impl Into<String>>, max_age: u64) -> Self {
        Self {
            pins: pins.into_iter().map(Into::into).collect(),
            max_age,
            include_subdomains: false,
            report_uri: None,
        }
    }

    /// Also pin every subdomain.
    pub fn include_subdomains(mut self) -> Self {
        self.include_subdomains = true;
        self
    }

    /// Where browsers report pin validation failures.
    pub fn report_uri(mut self, uri: impl Into<String>) -> Self {
        self.report_uri = Some(uri.into());
        self
    }

    /// The header value, or an error without a backup pin or with a malformed pin.
    pub fn value(&self) -> Result<HeaderValue, ConfigError> {
        if self.pins.len() < 2 {
            return Err(ConfigError::PublicKeyPins(
                "at least two pins are required, one of them a backup key",
            ));
        }
        let mut value = String::new();
        for pin in &self.pins {
            let well_formed = pin.len() == 44
                && pin.ends_with('=')
                && pin[..43]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
            if !well_formed {
                return Err(ConfigError::PublicKeyPins(
                    "a pin is the base64 of a SHA-256 digest",
                ));
            }
            value.push_str(&format!("pin-sha256=\"{pin}\"; "));
        }
        value.push_str(&format!("max-age={}", self.max_age));
        if self.include_subdomains {
            value.push_str("; includeSubDomains");
        }
        if let Some(uri) = &self.report_uri {
            if !uri.bytes().all(|b| b.is_ascii_graphic() && b != b'"') {
                return Err(ConfigError::InvalidHeaderValue {
                    header: "public-key-pins",
                });
            }
            value.push_str(&format!("; report-uri=\"{uri}\""));
        }
        HeaderValue::try_from(value).map_err(|_| ConfigError::InvalidHeaderValue {
            header: "public-key-pins",
        })
    }
}
