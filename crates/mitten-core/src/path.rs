//! Path patterns for exemptions, matched only against normalised request paths.

use crate::error::ConfigError;

/// A path an exemption applies to: one exact path, or every path below a prefix.
///
/// Matching is done on whole segments and only against *normalised* paths: a request path with
/// `//`, `.` or `..` segments, a backslash or any percent-encoding never matches, so an
/// exemption for `/hook` cannot be stretched to `/hook/../admin`, `/hookX`, `//hook` or
/// `/%68ook`. The safe answer for such a path is always "not exempt".
///
/// ```
/// use mitten_core::PathPattern;
///
/// let hook = PathPattern::exact("/hooks/echo")?;
/// assert!(hook.matches("/hooks/echo"));
/// assert!(!hook.matches("/hooks/echoX"));
/// assert!(!hook.matches("/hooks/echo/../../admin"));
///
/// let acme = PathPattern::prefix("/.well-known/acme-challenge")?;
/// assert!(acme.matches("/.well-known/acme-challenge/token123"));
/// assert!(!acme.matches("/.well-known/acme-challengeX"));
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    path: String,
    prefix: bool,
}

impl PathPattern {
    /// Matches this path only.
    pub fn exact(path: &str) -> Result<Self, ConfigError> {
        Self::new(path, false)
    }

    /// Matches this path and every path below it (on a `/` boundary).
    pub fn prefix(path: &str) -> Result<Self, ConfigError> {
        Self::new(path.strip_suffix('/').unwrap_or(path), true)
    }

    fn new(path: &str, prefix: bool) -> Result<Self, ConfigError> {
        let valid = is_normalised(path) && !(prefix && path.is_empty());
        if !valid {
            return Err(ConfigError::InvalidPath(path.to_owned()));
        }
        Ok(Self {
            path: path.to_owned(),
            prefix,
        })
    }

    /// Whether a request path falls under this pattern.
    pub fn matches(&self, request_path: &str) -> bool {
        if !is_normalised(request_path) {
            return false;
        }
        if self.prefix {
            request_path == self.path
                || request_path
                    .strip_prefix(self.path.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        } else {
            request_path == self.path
        }
    }
}

/// An absolute path with no empty, `.` or `..` segment, no backslash and no percent-encoding.
pub(crate) fn is_normalised(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    if path
        .bytes()
        .any(|b| b == b'%' || b == b'\\' || !b.is_ascii_graphic())
    {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let last = segments.len() - 1;
    segments
        .iter()
        .enumerate()
        .all(|(i, s)| *s != "." && *s != ".." && (!s.is_empty() || i == last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exemption_does_not_spill() {
        let hook = PathPattern::exact("/hook").expect("valid");
        assert!(hook.matches("/hook"));
        for spill in [
            "/hook/../admin",
            "/hookX",
            "//hook",
            "/HOOK",
            "/%68ook",
            "/hook%2F..%2Fadmin",
            "/%2Fhook",
            "/hook/",
            "/./hook",
            "/hook\\..\\admin",
            "hook",
        ] {
            assert!(!hook.matches(spill), "{spill} must not match");
        }
    }

    #[test]
    fn prefix_matches_on_segments() {
        let files = PathPattern::prefix("/static/").expect("valid");
        assert!(files.matches("/static"));
        assert!(files.matches("/static/app.css"));
        assert!(files.matches("/static/a/b/"));
        assert!(!files.matches("/staticX"));
        assert!(!files.matches("/static/../admin"));
        assert!(!files.matches("/static//x"));
    }

    #[test]
    fn patterns_must_be_normalised() {
        for bad in ["hook", "/a/../b", "//a", "/a%2f", "/a\\b", "/a b"] {
            assert!(PathPattern::exact(bad).is_err(), "{bad} must be refused");
        }
        assert!(PathPattern::prefix("/").is_err());
    }
}
