//! Headers for serving a stored file as a download, never as a page.

use http::header::{
    CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use http::{HeaderMap, HeaderValue};

use super::secure_filename;

/// Content types no browser runs script or styles in, however the file is fetched: as a page,
/// an `<iframe>`, a `<script src>` or a stylesheet (with `nosniff`, which the download sends). A
/// download is sent with one of these, or as `application/octet-stream`. A list of what is
/// allowed, not of what is dangerous: browsers run script under more names than any list of
/// them holds (`application/x-javascript`, `text/jscript`, `text/javascript1.5`, every
/// `+xml` type, ...).
const PASSIVE_CONTENT: &[&str] = &[
    "application/octet-stream",
    "text/plain",
    "text/csv",
    "application/json",
    "application/zip",
    "application/gzip",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "audio/mpeg",
    "audio/ogg",
    "audio/wav",
    "audio/webm",
    "video/mp4",
    "video/ogg",
    "video/webm",
    "font/woff",
    "font/woff2",
];

/// Whether `content_type` is one of [`PASSIVE_CONTENT`] (parameters such as `charset` aside).
fn is_passive(content_type: &str) -> bool {
    // A browser reads a `Content-Type` with a comma as a list and takes the last type it
    // understands: a passive type in front proves nothing.
    if content_type.contains(',') {
        return false;
    }
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    PASSIVE_CONTENT.contains(&essence.as_str())
}

/// Serves a file as an attachment: the headers that stop an uploaded file from running in the
/// site's origin.
///
/// **Attack:** a user uploads `page.html` or `image.svg` with a script; served inline from your
/// origin, it runs with your cookies. **Defence:** `Content-Disposition: attachment` (with an
/// RFC 6266 `filename` and an RFC 8187 `filename*`, escaped so no name can inject a header),
/// `X-Content-Type-Options: nosniff`, `Content-Security-Policy: sandbox; default-src 'none'`,
/// and a content type no browser runs anything in: plain text, CSV, JSON, archives, raster
/// images, audio, video and fonts keep theirs; every other type (HTML, SVG, XML, any
/// JavaScript type, CSS, PDF, a list of types, one this crate does not know) is sent as
/// `application/octet-stream`, unless the caller insists with
/// [`danger_allow_active_content`](Self::danger_allow_active_content).
///
/// ```
/// use mitten_core::files::Download;
///
/// let headers = Download::new("résumé \"final\".svg").content_type("image/svg+xml").headers();
/// assert_eq!(headers["content-type"], "application/octet-stream");
/// assert_eq!(
///     headers["content-disposition"],
///     "attachment; filename=\"resume_final.svg\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.svg"
/// );
/// assert_eq!(headers["x-content-type-options"], "nosniff");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Download {
    filename: String,
    content_type: Option<String>,
    allow_active: bool,
}

impl Download {
    /// A download offered under `filename` (any text: it is sanitised for the header).
    pub fn new(filename: &str) -> Self {
        Self {
            filename: filename.to_owned(),
            content_type: None,
            allow_active: false,
        }
    }

    /// The file's content type (default: guessed from the extension, else
    /// `application/octet-stream`).
    pub fn content_type(mut self, content_type: &str) -> Self {
        self.content_type = Some(content_type.to_owned());
        self
    }

    /// Sends any content type as it is, a script-capable one too. The file can then run script
    /// in your origin if a browser ever renders or loads it; only for files you wrote yourself.
    pub fn danger_allow_active_content(mut self) -> Self {
        self.allow_active = true;
        self
    }

    /// The response headers.
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(4);
        let content_type = self
            .content_type
            .clone()
            .unwrap_or_else(|| guess_content_type(&self.filename).to_owned());
        let safe = self.allow_active || is_passive(&content_type);
        let value = HeaderValue::from_str(&content_type)
            .ok()
            .filter(|_| safe)
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        headers.insert(CONTENT_TYPE, value);
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox; default-src 'none'"),
        );
        headers.insert(CONTENT_DISPOSITION, content_disposition(&self.filename));
        headers
    }
}

/// `attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded>`.
fn content_disposition(filename: &str) -> HeaderValue {
    let mut ascii = secure_filename(filename);
    if ascii.is_empty() {
        ascii = "download".to_owned();
    }
    let mut value = format!("attachment; filename=\"{ascii}\"");
    if !filename.is_empty() {
        value.push_str("; filename*=UTF-8''");
        // RFC 8187 attr-char stays as it is.
        crate::percent::push_encoded(&mut value, filename, |byte| {
            byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte)
        });
    }
    // Only ASCII went in: secure_filename's output and percent-escapes.
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("attachment"))
}

/// A content type for common extensions; unknown ones are `application/octet-stream`.
pub fn guess_content_type(filename: &str) -> &'static str {
    let extension = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase());
    match extension.as_deref() {
        Some("txt" | "log" | "md") => "text/plain; charset=utf-8",
        Some("csv") => "text/csv; charset=utf-8",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("avif") => "image/avif",
        Some("mp3") => "audio/mpeg",
        Some("mp4") => "video/mp4",
        Some("zip") => "application/zip",
        Some("gz") => "application/gzip",
        Some("pdf") => "application/pdf",
        Some("html" | "htm") => "text/html",
        Some("svg") => "image/svg+xml",
        Some("xml") => "application/xml",
        Some("js" | "mjs") => "text/javascript",
        Some("css") => "text/css",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_types_are_neutralised() {
        for name in [
            "x.html", "x.htm", "x.svg", "x.xml", "x.js", "x.mjs", "x.css", "x.pdf",
        ] {
            let headers = Download::new(name).headers();
            assert_eq!(headers[CONTENT_TYPE], "application/octet-stream", "{name}");
        }
        let forced = Download::new("x")
            .content_type("Text/HTML; charset=utf-8")
            .headers();
        assert_eq!(forced[CONTENT_TYPE], "application/octet-stream");
        let allowed = Download::new("x.html")
            .danger_allow_active_content()
            .headers();
        assert_eq!(allowed[CONTENT_TYPE], "text/html");
        assert_eq!(Download::new("a.png").headers()[CONTENT_TYPE], "image/png");
    }

    /// A client-declared type (an upload's part type) passed through: every name a browser runs
    /// script or styles under, and any type not known to be passive, goes out as octet-stream.
    #[test]
    fn only_passive_types_are_sent_as_they_are() {
        for declared in [
            // JavaScript MIME types (WHATWG MIME Sniffing, "JavaScript MIME type").
            "application/x-javascript",
            "application/x-ecmascript",
            "text/ecmascript",
            "text/x-javascript",
            "text/x-ecmascript",
            "text/jscript",
            "text/livescript",
            "text/javascript1.0",
            "text/javascript1.5",
            "application/javascript; charset=utf-8",
            // XML documents, which may carry script or XSLT.
            "application/rss+xml",
            "application/atom+xml",
            "application/vnd.wap.xhtml+xml",
            "text/xsl",
            // A list: browsers take the last type they understand.
            "text/plain, text/javascript",
            "text/plain;charset=utf-8,application/javascript",
            // Unknown, empty or malformed.
            "application/x-unknown",
            "",
            "text/plain/extra",
        ] {
            let headers = Download::new("x").content_type(declared).headers();
            assert_eq!(
                headers[CONTENT_TYPE], "application/octet-stream",
                "{declared:?}"
            );
        }
        for passive in [
            "text/plain; charset=utf-8",
            "Text/CSV",
            "application/json",
            "image/webp",
            "audio/ogg",
            "video/webm",
            "font/woff2",
        ] {
            let headers = Download::new("x").content_type(passive).headers();
            assert_eq!(headers[CONTENT_TYPE], passive, "{passive:?}");
        }
    }

    /// Every type the extension guess gives is either sent as it is (passive) or neutralised:
    /// the guess never names an active type that gets through.
    #[test]
    fn guessed_types_are_passive_or_neutralised() {
        for extension in [
            "txt", "log", "md", "csv", "json", "png", "jpg", "jpeg", "gif", "webp", "avif", "mp3",
            "mp4", "zip", "gz", "pdf", "html", "htm", "svg", "xml", "js", "mjs", "css", "bin",
        ] {
            let name = format!("x.{extension}");
            let guessed = guess_content_type(&name);
            let sent = Download::new(&name).headers()[CONTENT_TYPE].clone();
            if is_passive(guessed) {
                assert_eq!(sent, guessed, "{name}");
            } else {
                assert_eq!(sent, "application/octet-stream", "{name}");
            }
        }
    }

    #[test]
    fn names_cannot_inject_headers() {
        let headers = Download::new("evil\r\nSet-Cookie: a=b\".txt").headers();
        let value = headers[CONTENT_DISPOSITION].to_str().expect("ascii");
        assert!(!value.contains('\r') && !value.contains('\n'));
        assert_eq!(value.matches('"').count(), 2, "{value}");
        assert!(
            value.starts_with("attachment; filename=\"evil_Set-Cookie_ab.txt\""),
            "{value}"
        );
        assert_eq!(
            Download::new("").headers()[CONTENT_DISPOSITION],
            "attachment; filename=\"download\""
        );
        assert_eq!(
            Download::new("日本").headers()[CONTENT_DISPOSITION],
            "attachment; filename=\"download\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC"
        );
    }
}
