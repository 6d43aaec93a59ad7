//! Percent-encoding for the few header values Mitten writes from text it was given.

use std::fmt::Write as _;

/// Appends `text` to `out`, each byte `keep` refuses written as `%XX` (upper-case hex).
pub(crate) fn push_encoded(out: &mut String, text: &str, keep: impl Fn(u8) -> bool) {
    for byte in text.bytes() {
        if keep(byte) {
            out.push(char::from(byte));
        } else {
            // Writing to a `String` cannot fail.
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::push_encoded;

    #[test]
    fn refused_bytes_become_upper_case_escapes_and_the_rest_stays() {
        let mut out = String::from("x=");
        push_encoded(&mut out, "a b/\u{e9}", |b| b.is_ascii_alphanumeric());
        assert_eq!(out, "x=a%20b%2F%C3%A9");
    }
}
