//! Configuration errors: everything that can be wrong with a policy is found when it is built.

use std::fmt;

/// A configuration that Mitten refuses to run with.
///
/// Every check happens when a policy is built (at start-up), never while a request is served.
/// The message names the offending piece of configuration; it never contains a secret.
///
/// ```
/// use mitten_core::csp::ContentSecurityPolicy;
///
/// let err = ContentSecurityPolicy::parse("scirpt-src 'self'").unwrap_err();
/// assert_eq!(err.to_string(), "unknown CSP directive `scirpt-src`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A CSP directive name that CSP Level 3 does not define.
    UnknownDirective(String),
    /// The same directive was given twice.
    DuplicateDirective(&'static str),
    /// A source expression that does not match the CSP grammar.
    InvalidSource {
        /// The directive the source was given for.
        directive: &'static str,
        /// The rejected source, as given.
        source: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A directive value that is not valid for that directive.
    InvalidDirectiveValue {
        /// The directive.
        directive: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// `'none'` was combined with other sources in one directive.
    NoneNotAlone(&'static str),
    /// Report-only mode without anywhere to send reports.
    ReportOnlyWithoutEndpoint,
    /// `frame-ancestors` given in the CSP while framing is governed by [`FrameOptions`](crate::headers::FrameOptions).
    FrameAncestorsInPolicy,
    /// An HSTS policy that does not meet the preload list's requirements.
    HstsPreload(&'static str),
    /// A header value that would be invalid on the wire (control characters, CR/LF, non-visible bytes).
    InvalidHeaderValue {
        /// The header the value was meant for.
        header: &'static str,
    },
    /// An invalid Permissions-Policy or Document-Policy entry.
    InvalidPolicyEntry {
        /// The header the entry was meant for.
        header: &'static str,
        /// The rejected entry.
        entry: String,
    },
    /// `Public-Key-Pins` without a backup pin, or with a malformed pin.
    PublicKeyPins(&'static str),
    /// An origin (a trusted origin, a public origin, a redirect target) that does not parse.
    InvalidOrigin {
        /// The rejected value.
        origin: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A path pattern that is not an absolute, normalised path.
    InvalidPath(String),
    /// A trusted proxy that is neither an IP address nor a CIDR network.
    InvalidProxy(String),
    /// A secret key shorter than Mitten accepts for its own MACs.
    WeakKey {
        /// The fewest bytes accepted.
        min_bytes: usize,
    },
    /// CSRF settings that cannot work.
    InvalidCsrf(&'static str),
    /// Session settings that contradict each other or weaken the cookie without saying so.
    InvalidSession(&'static str),
    /// A signer setting that itsdangerous would also refuse (e.g. a separator that can occur
    /// in base64).
    InvalidSigner(&'static str),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownDirective(name) => write!(f, "unknown CSP directive `{name}`"),
            Self::DuplicateDirective(name) => write!(f, "CSP directive `{name}` given twice"),
            Self::InvalidSource {
                directive,
                source,
                reason,
            } => write!(
                f,
                "invalid source `{}` in CSP directive `{directive}`: {reason}",
                source.escape_debug()
            ),
            Self::InvalidDirectiveValue { directive, reason } => {
                write!(f, "invalid value for CSP directive `{directive}`: {reason}")
            }
            Self::NoneNotAlone(name) => {
                write!(f, "CSP directive `{name}` combines 'none' with other sources")
            }
            Self::ReportOnlyWithoutEndpoint => f.write_str(
                "a report-only CSP needs `report-uri` or `report-to`, or no report would ever be seen",
            ),
            Self::FrameAncestorsInPolicy => f.write_str(
                "set framing with `FrameOptions`, not `frame-ancestors` in the CSP, so that \
                 X-Frame-Options and frame-ancestors stay consistent",
            ),
            Self::HstsPreload(why) => write!(f, "HSTS preload requirements not met: {why}"),
            Self::InvalidHeaderValue { header } => {
                write!(f, "invalid value for header `{header}` (control characters or CR/LF)")
            }
            Self::InvalidPolicyEntry { header, entry } => {
                write!(f, "invalid `{header}` entry `{}`", entry.escape_debug())
            }
            Self::PublicKeyPins(why) => write!(f, "invalid Public-Key-Pins: {why}"),
            Self::InvalidOrigin { origin, reason } => {
                write!(f, "invalid origin `{}`: {reason}", origin.escape_debug())
            }
            Self::InvalidPath(path) => write!(
                f,
                "invalid path pattern `{}`: it must start with `/` and contain no `.`/`..` segments, `//`, `%` or `\\`",
                path.escape_debug()
            ),
            Self::WeakKey { min_bytes } => write!(
                f,
                "the secret key is too short: at least {min_bytes} random bytes are required"
            ),
            Self::InvalidSigner(why) => write!(f, "invalid signer: {why}"),
            Self::InvalidCsrf(why) => write!(f, "invalid CSRF settings: {why}"),
            Self::InvalidSession(why) => write!(f, "invalid session settings: {why}"),
            Self::InvalidProxy(proxy) => write!(
                f,
                "invalid trusted proxy `{}`: expected an IP address or CIDR network",
                proxy.escape_debug()
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Checks that `value` can be sent as a header value: visible ASCII and spaces only.
pub(crate) fn check_header_value(header: &'static str, value: &str) -> Result<(), ConfigError> {
    if value
        .bytes()
        .all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic())
    {
        Ok(())
    } else {
        Err(ConfigError::InvalidHeaderValue { header })
    }
}
