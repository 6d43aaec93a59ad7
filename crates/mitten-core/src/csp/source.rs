//! Typed CSP source expressions, validated against the CSP Level 3 grammar.

use std::fmt;

use crate::error::ConfigError;

/// The hash algorithms CSP accepts in a hash source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// `sha256-…`
    Sha256,
    /// `sha384-…`
    Sha384,
    /// `sha512-…`
    Sha512,
}

impl HashAlgorithm {
    fn as_str(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Length of the digest in base64 characters, padding included.
    fn base64_len(self) -> usize {
        match self {
            Self::Sha256 => 44,
            Self::Sha384 => 64,
            Self::Sha512 => 88,
        }
    }
}

/// One source expression of a CSP source list (`'self'`, `https:`, `cdn.example.com`, …).
///
/// Sources are checked when the policy is built: a host source that smuggles a directive
/// (`example.com; script-src *`), a path with spaces or quotes, or a malformed hash is a
/// [`ConfigError`] at start-up. There is deliberately no way to write a fixed `'nonce-…'`
/// source: Mitten adds a fresh nonce to every response (see
/// [`ContentSecurityPolicy::nonce_in`](super::ContentSecurityPolicy::nonce_in)).
///
/// ```
/// use mitten_core::csp::Source;
///
/// let sources = [Source::SelfOrigin, Source::host("cdn.example.com"), Source::scheme("data")];
/// let rendered: Vec<String> = sources.iter().map(ToString::to_string).collect();
/// assert_eq!(rendered, ["'self'", "cdn.example.com", "data:"]);
/// assert!(Source::parse("example.com;").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// `'self'`: the document's own origin.
    SelfOrigin,
    /// `'none'`: nothing. Must be the only source of its directive.
    None,
    /// `'unsafe-inline'`: inline scripts or styles. Weakens XSS protection; ignored by browsers
    /// when a nonce or hash is present.
    UnsafeInline,
    /// `'unsafe-eval'`: `eval()` and friends. Weakens XSS protection.
    UnsafeEval,
    /// `'unsafe-hashes'`: lets hash sources match inline event handlers and `style` attributes.
    UnsafeHashes,
    /// `'strict-dynamic'`: trust scripts loaded by already trusted (nonce'd) scripts.
    StrictDynamic,
    /// `'wasm-unsafe-eval'`: WebAssembly compilation.
    WasmUnsafeEval,
    /// `'report-sample'`: include a sample of the violating code in reports.
    ReportSample,
    /// `'inline-speculation-rules'`: inline speculation rules scripts.
    InlineSpeculationRules,
    /// `*`: any URL except `data:`, `blob:` and `filesystem:`. Weak; avoid for scripts.
    Wildcard,
    /// A scheme source such as `https:` or `data:` (given with or without the colon).
    Scheme(String),
    /// A host source: `[scheme://]host[:port][/path]`, e.g. `https://*.example.com:443/js/`.
    Host(String),
    /// A hash source, `'sha256-<base64>'`, for one inline script or style.
    Hash(HashAlgorithm, String),
}

impl Source {
    /// A host source such as `cdn.example.com` or `https://*.example.com:8443/static/`.
    pub fn host(host: impl Into<String>) -> Self {
        Self::Host(host.into())
    }

    /// A scheme source such as `data` or `https:`.
    pub fn scheme(scheme: impl Into<String>) -> Self {
        let mut scheme = scheme.into();
        if scheme.ends_with(':') {
            scheme.pop();
        }
        Self::Scheme(scheme)
    }

    /// A `'sha256-…'` hash source from the base64 of the digest.
    pub fn sha256(base64_digest: impl Into<String>) -> Self {
        Self::Hash(HashAlgorithm::Sha256, base64_digest.into())
    }

    /// A `'sha384-…'` hash source from the base64 of the digest.
    pub fn sha384(base64_digest: impl Into<String>) -> Self {
        Self::Hash(HashAlgorithm::Sha384, base64_digest.into())
    }

    /// A `'sha512-…'` hash source from the base64 of the digest.
    pub fn sha512(base64_digest: impl Into<String>) -> Self {
        Self::Hash(HashAlgorithm::Sha512, base64_digest.into())
    }

    /// Parses one source expression as it would appear in a policy string, and validates it.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let source = Self::parse_unchecked(text);
        source.validate("(source)")?;
        Ok(source)
    }

    pub(crate) fn parse_unchecked(text: &str) -> Self {
        let lower = text.to_ascii_lowercase();
        match lower.as_str() {
            "'self'" => return Self::SelfOrigin,
            "'none'" => return Self::None,
            "'unsafe-inline'" => return Self::UnsafeInline,
            "'unsafe-eval'" => return Self::UnsafeEval,
            "'unsafe-hashes'" => return Self::UnsafeHashes,
            "'strict-dynamic'" => return Self::StrictDynamic,
            "'wasm-unsafe-eval'" => return Self::WasmUnsafeEval,
            "'report-sample'" => return Self::ReportSample,
            "'inline-speculation-rules'" => return Self::InlineSpeculationRules,
            "*" => return Self::Wildcard,
            _ => {}
        }
        for algorithm in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ] {
            let prefix = format!("'{}-", algorithm.as_str());
            if lower.starts_with(&prefix) && text.ends_with('\'') && text.len() > prefix.len() {
                return Self::Hash(algorithm, text[prefix.len()..text.len() - 1].to_owned());
            }
        }
        if let Some(scheme) = text.strip_suffix(':') {
            if is_scheme(scheme) {
                return Self::Scheme(scheme.to_owned());
            }
        }
        Self::Host(text.to_owned())
    }

    /// Checks the source against the CSP grammar.
    pub(crate) fn validate(&self, directive: &'static str) -> Result<(), ConfigError> {
        let invalid = |reason: &'static str| ConfigError::InvalidSource {
            directive,
            source: self.to_string(),
            reason,
        };
        match self {
            Self::Scheme(scheme) if !is_scheme(scheme) => Err(invalid(
                "a scheme is a letter followed by letters, digits, `+`, `-` or `.`",
            )),
            Self::Hash(algorithm, digest) => {
                let base64_ok = digest.len() == algorithm.base64_len()
                    && digest.trim_end_matches('=').bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
                    })
                    && digest.bytes().filter(|&b| b == b'=').count() <= 2;
                if base64_ok {
                    Ok(())
                } else {
                    Err(invalid(
                        "the digest is not the base64 of a digest of that algorithm",
                    ))
                }
            }
            Self::Host(host) => validate_host_source(host).map_err(invalid),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SelfOrigin => f.write_str("'self'"),
            Self::None => f.write_str("'none'"),
            Self::UnsafeInline => f.write_str("'unsafe-inline'"),
            Self::UnsafeEval => f.write_str("'unsafe-eval'"),
            Self::UnsafeHashes => f.write_str("'unsafe-hashes'"),
            Self::StrictDynamic => f.write_str("'strict-dynamic'"),
            Self::WasmUnsafeEval => f.write_str("'wasm-unsafe-eval'"),
            Self::ReportSample => f.write_str("'report-sample'"),
            Self::InlineSpeculationRules => f.write_str("'inline-speculation-rules'"),
            Self::Wildcard => f.write_str("*"),
            Self::Scheme(scheme) => write!(f, "{scheme}:"),
            Self::Host(host) => f.write_str(host),
            Self::Hash(algorithm, digest) => write!(f, "'{}-{digest}'", algorithm.as_str()),
        }
    }
}

/// `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` (RFC 3986).
pub(crate) fn is_scheme(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// `host-source = [ scheme-part "://" ] host-part [ ":" port-part ] [ path-part ]`.
fn validate_host_source(source: &str) -> Result<(), &'static str> {
    let rest = match source.find("://") {
        Some(at) if is_scheme(&source[..at]) => &source[at + 3..],
        Some(_) => return Err("the scheme part is malformed"),
        None => source,
    };
    let host_end = rest.find([':', '/']).unwrap_or(rest.len());
    let (host, mut rest) = rest.split_at(host_end);
    validate_host_part(host)?;
    if let Some(after_colon) = rest.strip_prefix(':') {
        let port_end = after_colon.find('/').unwrap_or(after_colon.len());
        let port = &after_colon[..port_end];
        let port_ok = port == "*"
            || (!port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()));
        if !port_ok {
            return Err("the port must be digits or `*`");
        }
        rest = &after_colon[port_end..];
    }
    if !rest.is_empty() && !is_csp_path(rest) {
        return Err(
            "the path may hold only URL path characters, and no `;`, `,`, quotes or spaces",
        );
    }
    Ok(())
}

/// `host-part = "*" / [ "*." ] 1*host-char *( "." 1*host-char ) [ "." ]`
fn validate_host_part(host: &str) -> Result<(), &'static str> {
    if host == "*" {
        return Ok(());
    }
    let labels = host.strip_prefix("*.").unwrap_or(host);
    let labels = labels.strip_suffix('.').unwrap_or(labels);
    let valid = !labels.is_empty()
        && labels.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if valid {
        Ok(())
    } else {
        Err(
            "the host must be `*`, or dot-separated labels of letters, digits and `-`, optionally after `*.`",
        )
    }
}

/// A CSP path-part: an absolute URL path without `;` or `,`.
fn is_csp_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    // path-absolute: "/" not followed by a second "/".
    if bytes.first() != Some(&b'/') || bytes.get(1) == Some(&b'/') {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let ok = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
            );
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
            continue;
        }
        if !ok {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_sources_accepted() {
        for ok in [
            "example.com",
            "*.example.com",
            "https://example.com",
            "https://*.example.com:443",
            "wss://example.com:*",
            "example.com/js/",
            "example.com/a%20b/c.js",
            "127.0.0.1:8080",
            "localhost",
            "example.com.",
        ] {
            assert!(Source::parse(ok).is_ok(), "{ok} should be accepted");
        }
    }

    #[test]
    fn host_sources_rejected() {
        for bad in [
            "example.com; script-src *",
            "example.com;",
            "example.com,evil.com",
            "exa mple.com",
            "'self",
            "ex\"ample.com",
            "example.com/pa th",
            "example.com:80a",
            "*.*.example.com",
            "exa*mple.com",
            "https//example.com",
            "1http://example.com",
            "example..com",
            "example.com/%zz",
            "[::1]",
            "",
            "example.com\r\nSet-Cookie: a=b",
        ] {
            assert!(Source::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn keywords_are_case_insensitive_and_render_canonically() {
        assert_eq!(Source::parse("'SELF'"), Ok(Source::SelfOrigin));
        assert_eq!(Source::parse("'Strict-Dynamic'"), Ok(Source::StrictDynamic));
        assert_eq!(Source::SelfOrigin.to_string(), "'self'");
    }

    #[test]
    fn schemes() {
        assert_eq!(Source::parse("data:"), Ok(Source::Scheme("data".into())));
        assert_eq!(Source::scheme("https:").to_string(), "https:");
        assert!(Source::Scheme("1x".into()).validate("img-src").is_err());
    }

    #[test]
    fn hashes() {
        let digest = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        assert_eq!(
            Source::parse(&format!("'sha256-{digest}'")),
            Ok(Source::sha256(digest))
        );
        assert!(Source::sha256("short").validate("script-src").is_err());
        assert!(
            Source::sha256("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSu'U=")
                .validate("script-src")
                .is_err()
        );
    }

    #[test]
    fn static_nonces_are_not_sources() {
        assert!(Source::parse("'nonce-abc'").is_err());
    }
}
