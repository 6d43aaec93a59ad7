//! werkzeug's `safe_join`, with the Windows rules always on and a few stricter ones.

use super::filename::is_windows_device;

/// Joins untrusted path parts (from a URL, `/`-separated) to a trusted directory, or returns
/// `None` if the result could leave that directory or name something that is not a plain file.
///
/// werkzeug 3.1's rules as it runs on Windows: each part is normalised (`a/./b/../c` becomes
/// `a/c`); an absolute part (`/x`, `//x`, `C:\x`, `C:/x`), a part that climbs out (`..`,
/// `../x`), a backslash anywhere, and any segment naming a Windows device (`CON`, `nul.txt`,
/// `CON:`, `com1.txt`, …) make it `None`. Stricter than werkzeug: a NUL byte and a drive-relative
/// part (`C:x`) are refused too. Percent-encoding is not decoded: decode once, before calling.
///
/// ```
/// use mitten_core::files::safe_join;
///
/// assert_eq!(safe_join("/var/www", ["static", "css/app.css"]).as_deref(), Some("/var/www/static/css/app.css"));
/// assert_eq!(safe_join("/var/www", ["a/../b.txt"]).as_deref(), Some("/var/www/b.txt"));
/// for hostile in ["../etc/passwd", "/etc/passwd", "a/../../x", "..\\win.ini", "C:/x", "CON", "a\0b"] {
///     assert_eq!(safe_join("/var/www", [hostile]), None);
/// }
/// ```
pub fn safe_join<'a>(
    directory: &str,
    untrusted: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut joined = if directory.is_empty() {
        ".".to_owned()
    } else {
        directory.to_owned()
    };
    for part in untrusted {
        if part.is_empty() {
            continue;
        }
        if part.contains('\0') || part.contains('\\') || is_drive_relative(part) {
            return None;
        }
        let part = normpath(part);
        let absolute = part.starts_with('/') || is_windows_absolute(&part);
        if absolute || part == ".." || part.starts_with("../") {
            return None;
        }
        if part.split('/').any(|segment| {
            let before_stream = segment.split(':').next().unwrap_or_default();
            is_windows_device(before_stream.split('.').next().unwrap_or_default())
        }) {
            return None;
        }
        if !joined.ends_with('/') {
            joined.push('/');
        }
        joined.push_str(&part);
    }
    Some(joined)
}

/// `X:` followed by anything but a separator: relative to the current directory of drive X.
fn is_drive_relative(part: &str) -> bool {
    let bytes = part.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// `ntpath.isabs` (Python 3.11): starts with a separator, or `X:` and a separator.
fn is_windows_absolute(part: &str) -> bool {
    let bytes = part.as_bytes();
    matches!(bytes.first(), Some(b'/' | b'\\'))
        || (bytes.len() >= 3 && bytes[1] == b':' && matches!(bytes[2], b'/' | b'\\'))
}

/// `posixpath.normpath`.
pub(crate) fn normpath(path: &str) -> String {
    let leading = if path.starts_with("//") && !path.starts_with("///") {
        "//"
    } else if path.starts_with('/') {
        "/"
    } else {
        ""
    };
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." if out.last().is_some_and(|last| *last != "..") => {
                out.pop();
            }
            ".." if !leading.is_empty() => {}
            other => out.push(other),
        }
    }
    let joined = format!("{leading}{}", out.join("/"));
    if joined.is_empty() {
        ".".to_owned()
    } else {
        joined
    }
}

/// Whether `joined` (a [`safe_join`] result) stays inside `directory`: the check a fuzzer and
/// the property tests assert.
pub fn stays_inside(directory: &str, joined: &str) -> bool {
    let base = if directory.is_empty() { "." } else { directory };
    let Some(rest) = joined.strip_prefix(base) else {
        return false;
    };
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    (base.ends_with('/') || rest.is_empty() || joined.as_bytes().get(base.len()) == Some(&b'/'))
        && !rest.starts_with('/')
        && !rest.contains('\\')
        && !rest.contains('\0')
        && rest.split('/').all(|s| s != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normpath_like_python() {
        for (input, expected) in [
            ("a/./b/../c", "a/c"),
            ("../a", "../a"),
            ("a/../..", ".."),
            ("/../a", "/a"),
            ("//a//b", "//a/b"),
            ("///a", "/a"),
            ("a/", "a"),
            ("", "."),
            ("a/..", "."),
        ] {
            assert_eq!(normpath(input), expected, "{input}");
        }
    }
}
