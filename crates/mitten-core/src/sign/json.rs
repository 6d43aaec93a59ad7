//! JSON exactly as Python's `json.dumps` writes it, for byte-identical tokens.

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter};

/// The `json.dumps` options itsdangerous and Flask use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PythonJson {
    /// `separators=(",", ":")` instead of the default `(", ", ": ")`.
    pub(crate) compact: bool,
    /// `ensure_ascii=True`: everything outside printable ASCII as `\uXXXX`.
    pub(crate) ensure_ascii: bool,
}

impl PythonJson {
    /// `json.dumps(obj)`: itsdangerous's `Serializer`.
    pub(crate) const DEFAULT: Self = Self {
        compact: false,
        ensure_ascii: true,
    };
    /// itsdangerous's `_CompactJSON`: the URL-safe serializers.
    pub(crate) const COMPACT: Self = Self {
        compact: true,
        ensure_ascii: false,
    };
    /// Flask's session: compact and ASCII-only (keys sorted by going through `Value`).
    pub(crate) const FLASK: Self = Self {
        compact: true,
        ensure_ascii: true,
    };

    pub(crate) fn to_vec<T: Serialize + ?Sized>(
        self,
        value: &T,
    ) -> Result<Vec<u8>, serde_json::Error> {
        let mut out = Vec::with_capacity(128);
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, self);
        value.serialize(&mut serializer)?;
        Ok(out)
    }
}

impl Formatter for PythonJson {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else if self.compact {
            writer.write_all(b",")
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.begin_array_value(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(if self.compact { b":" } else { b": " })
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        if !self.ensure_ascii {
            return writer.write_all(fragment.as_bytes());
        }
        let mut units = [0u16; 2];
        for c in fragment.chars() {
            if (' '..='~').contains(&c) {
                writer.write_all(&[c as u8])?;
            } else {
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        // Python writes the same short escapes, and `\u00XX` in lower case for other controls.
        let short: &[u8] = match escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"/",
            CharEscape::Backspace => b"\\b",
            CharEscape::FormFeed => b"\\f",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(byte) => return write!(writer, "\\u{byte:04x}"),
        };
        writer.write_all(short)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_python() {
        let value = serde_json::json!({"a": [1, 2], "b": "é\u{1f600}\u{7f}\n"});
        assert_eq!(
            String::from_utf8(PythonJson::DEFAULT.to_vec(&value).expect("json")).expect("utf8"),
            r#"{"a": [1, 2], "b": "\u00e9\ud83d\ude00\u007f\n"}"#
        );
        assert_eq!(
            String::from_utf8(PythonJson::COMPACT.to_vec(&value).expect("json")).expect("utf8"),
            "{\"a\":[1,2],\"b\":\"é\u{1f600}\u{7f}\\n\"}"
        );
    }
}
