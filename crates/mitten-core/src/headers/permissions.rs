//! `Permissions-Policy` and `Document-Policy`: structured-field dictionaries with typed builders.

use http::HeaderValue;

use crate::error::ConfigError;
use crate::structured_field;

/// Who may use a browser feature under a [`PermissionsPolicy`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Allowlist {
    /// `()`: no one, not even this page.
    Nobody,
    /// `self`: this origin only.
    SelfOnly,
    /// `*`: every origin (frames included).
    Everyone,
    /// This origin (if `include_self`) and the listed origins, e.g. `https://maps.example`.
    Origins {
        /// Whether `self` is in the list.
        include_self: bool,
        /// Origins, `scheme://host[:port]`.
        origins: Vec<String>,
    },
}

/// `Permissions-Policy`: which powerful browser features this page and its frames may use.
///
/// **Attack:** a compromised script or a framed third party using the camera, microphone,
/// geolocation or payment APIs. **Defence:** deny every feature the app does not use.
/// **Default:** [`PermissionsPolicy::strict`], which denies the powerful features and
/// `browsing-topics` (as Flask-Talisman does).
///
/// ```
/// use mitten_core::headers::{Allowlist, PermissionsPolicy};
///
/// let policy = PermissionsPolicy::empty()
///     .deny("camera")
///     .allow_self("fullscreen")
///     .set("geolocation", Allowlist::Origins {
///         include_self: true,
///         origins: vec!["https://maps.example".into()],
///     });
/// assert_eq!(
///     policy.value()?,
///     r#"camera=(), fullscreen=self, geolocation=(self "https://maps.example")"#
/// );
/// assert!(PermissionsPolicy::empty().deny("Camera; x").value().is_err());
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct PermissionsPolicy {
    entries: Vec<(String, Allowlist)>,
}

/// Features [`PermissionsPolicy::strict`] denies: the powerful ones every current browser knows.
const STRICT_DENIED: &[&str] = &[
    "accelerometer",
    "autoplay",
    "browsing-topics",
    "camera",
    "display-capture",
    "encrypted-media",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
];

impl Default for PermissionsPolicy {
    fn default() -> Self {
        Self::strict()
    }
}

impl PermissionsPolicy {
    /// No entries (the header is not sent while it stays empty).
    pub fn empty() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    /// Denies the powerful features (camera, microphone, geolocation, payment, USB, serial,
    /// HID, MIDI, sensors, display capture, …) and `browsing-topics`.
    pub fn strict() -> Self {
        STRICT_DENIED
            .iter()
            .fold(Self::empty(), |policy, feature| policy.deny(*feature))
    }

    /// Flask-Talisman's default: `browsing-topics=()` only.
    pub fn talisman() -> Self {
        Self::empty().deny("browsing-topics")
    }

    /// Sets the allowlist of `feature`, replacing an earlier one.
    pub fn set(mut self, feature: impl Into<String>, allowlist: Allowlist) -> Self {
        let feature = feature.into();
        match self.entries.iter_mut().find(|(f, _)| *f == feature) {
            Some(entry) => entry.1 = allowlist,
            None => self.entries.push((feature, allowlist)),
        }
        self
    }

    /// `feature=()`.
    pub fn deny(self, feature: impl Into<String>) -> Self {
        self.set(feature, Allowlist::Nobody)
    }

    /// `feature=self`.
    pub fn allow_self(self, feature: impl Into<String>) -> Self {
        self.set(feature, Allowlist::SelfOnly)
    }

    /// `feature=*`.
    pub fn allow_everyone(self, feature: impl Into<String>) -> Self {
        self.set(feature, Allowlist::Everyone)
    }

    /// Whether the policy has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The header value, or an error for a malformed feature name or origin.
    pub fn value(&self) -> Result<HeaderValue, ConfigError> {
        const HEADER: &str = "permissions-policy";
        let mut parts = Vec::with_capacity(self.entries.len());
        for (feature, allowlist) in &self.entries {
            if !structured_field::is_key(feature) {
                return Err(ConfigError::InvalidPolicyEntry {
                    header: HEADER,
                    entry: feature.clone(),
                });
            }
            let list = match allowlist {
                Allowlist::Nobody => "()".to_owned(),
                Allowlist::SelfOnly => "self".to_owned(),
                Allowlist::Everyone => "*".to_owned(),
                Allowlist::Origins {
                    include_self,
                    origins,
                } => {
                    let mut items: Vec<String> = Vec::new();
                    if *include_self {
                        items.push("self".into());
                    }
                    for origin in origins {
                        crate::origin::Origin::parse(origin)?;
                        items.push(format!("\"{origin}\""));
                    }
                    format!("({})", items.join(" "))
                }
            };
            parts.push(format!("{feature}={list}"));
        }
        HeaderValue::try_from(parts.join(", "))
            .map_err(|_| ConfigError::InvalidHeaderValue { header: HEADER })
    }
}

/// `Document-Policy`: opt this document into stricter behaviour (e.g. `force-load-at-top`).
///
/// **Default:** not sent. Values are structured-field items: booleans (`?0`, `?1`), numbers and
/// tokens.
///
/// ```
/// use mitten_core::headers::DocumentPolicy;
///
/// let policy = DocumentPolicy::new().set("oversized-images", "?0").set("force-load-at-top", "?1");
/// assert_eq!(policy.value()?, "oversized-images=?0, force-load-at-top=?1");
/// assert!(DocumentPolicy::new().set("x", "a b").value().is_err());
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct DocumentPolicy {
    entries: Vec<(String, String)>,
}

impl DocumentPolicy {
    /// An empty policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key=value`.
    pub fn set(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.entries.push((key.into(), value.into()));
        self
    }

    /// The header value, or an error for a malformed key or value.
    pub fn value(&self) -> Result<HeaderValue, ConfigError> {
        const HEADER: &str = "document-policy";
        let mut parts = Vec::with_capacity(self.entries.len());
        for (key, value) in &self.entries {
            let value_ok = !value.is_empty()
                && value.bytes().all(|b| {
                    b.is_ascii_alphanumeric()
                        || matches!(b, b'?' | b'.' | b'-' | b'_' | b'*' | b'/' | b':')
                });
            if !structured_field::is_key(key) || !value_ok {
                return Err(ConfigError::InvalidPolicyEntry {
                    header: HEADER,
                    entry: format!("{key}={value}"),
                });
            }
            parts.push(format!("{key}={value}"));
        }
        HeaderValue::try_from(parts.join(", "))
            .map_err(|_| ConfigError::InvalidHeaderValue { header: HEADER })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_denies_powerful_features() {
        let value = PermissionsPolicy::strict().value().expect("valid");
        let value = value.to_str().expect("ascii");
        for feature in [
            "camera=()",
            "microphone=()",
            "geolocation=()",
            "browsing-topics=()",
        ] {
            assert!(value.contains(feature), "{feature} missing from {value}");
        }
    }

    #[test]
    fn talisman_default() {
        assert_eq!(
            PermissionsPolicy::talisman().value().expect("valid"),
            "browsing-topics=()"
        );
    }

    #[test]
    fn origins_are_validated() {
        let bad = PermissionsPolicy::empty().set(
            "camera",
            Allowlist::Origins {
                include_self: false,
                origins: vec!["https://a.example\" evil".into()],
            },
        );
        assert!(bad.value().is_err());
    }
}
