//! The one piece of HTTP Structured Field Values (RFC 8941) that Mitten's headers need.

/// A key of a structured-field dictionary:
/// `key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )`.
///
/// `Permissions-Policy` feature names, `Document-Policy` keys and `Reporting-Endpoints` endpoint
/// names are such keys; browsers drop the whole header over one outside it.
pub(crate) fn is_key(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first == b'*')
        && bytes.all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.' | b'*')
        })
}

#[cfg(test)]
mod tests {
    use super::is_key;

    #[test]
    fn keys_start_lower_case_or_star_and_continue_with_the_allowed_set() {
        for key in ["csp", "*", "geolocation", "a-b_c.d*9", "x0"] {
            assert!(is_key(key), "{key}");
        }
        for key in ["", "Csp", "9a", "-a", "_a", ".a", "a b", "a=b", "a,b", "é"] {
            assert!(!is_key(key), "{key}");
        }
    }
}
