//! werkzeug's `secure_filename`, with the Windows rules always on.

use unicode_normalization::UnicodeNormalization as _;

/// Windows device names that name no file: a file called `CON` or `nul.txt` opens a device.
const WINDOWS_DEVICES: &[&str] = &[
    "AUX", "CON", "CONIN$", "CONOUT$", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
    "COM8", "COM9", "COM¹", "COM²", "COM³", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7",
    "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³", "NUL", "PRN",
];

/// A file name safe to store: ASCII letters, digits, `_`, `.` and `-` only, no path separators,
/// no leading dot, and never a Windows device name. It may be empty: have a fallback.
///
/// The steps are werkzeug 3.x's as it runs on Windows (the Windows rules are always on, since a
/// Rust service may write to a Windows share): Unicode NFKD normalisation; non-ASCII dropped;
/// `/` and `\` become spaces; runs of whitespace become `_`; anything outside
/// `[A-Za-z0-9_.-]` removed; leading and trailing `.` and `_` trimmed; a name whose stem is a
/// device name (`CON`, `nul.txt`, `COM1`, …) gets a leading `_`. The result is for storing and
/// displaying; serve stored files by a name you generated ([`UploadPolicy`](super::UploadPolicy)).
///
/// ```
/// use mitten_core::files::secure_filename;
///
/// assert_eq!(secure_filename("My cool movie.mov"), "My_cool_movie.mov");
/// assert_eq!(secure_filename("../../../etc/passwd"), "etc_passwd");
/// assert_eq!(secure_filename("..\\..\\windows\\cmd.exe"), "windows_cmd.exe");
/// assert_eq!(secure_filename("résumé.pdf"), "resume.pdf");
/// assert_eq!(secure_filename("con.txt"), "_con.txt");
/// assert_eq!(secure_filename("日本語"), "");
/// ```
pub fn secure_filename(name: &str) -> String {
    let ascii: String = name
        .nfkd()
        .filter(char::is_ascii)
        .map(|c| if c == '/' || c == '\\' { ' ' } else { c })
        .collect();
    let joined = ascii
        .split(is_python_space)
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    let kept: String = joined
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .collect();
    let trimmed = kept.trim_matches(|c| c == '.' || c == '_');
    let stem = trimmed.split('.').next().unwrap_or_default();
    if is_windows_device(stem) {
        format!("_{trimmed}")
    } else {
        trimmed.to_owned()
    }
}

/// Whether `stem` (already stripped of any extension) is a Windows device name, as Python's
/// `stem.strip().upper() in devices` decides.
pub(crate) fn is_windows_device(stem: &str) -> bool {
    let upper = stem.trim_matches(is_python_space).to_uppercase();
    WINDOWS_DEVICES.contains(&upper.as_str())
}

/// Python's `str.isspace()`: Unicode whitespace plus the ASCII separators `\x1c`–`\x1f`.
pub(crate) fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}
