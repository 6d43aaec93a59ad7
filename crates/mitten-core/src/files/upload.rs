//! Storing uploads under names the server chose.

use rand::RngCore as _;

use super::secure_filename;

/// Where an upload goes and how it is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUpload {
    /// The name it is stored and served under: 32 random hex digits and, if allowed, the
    /// original's extension (`3f…9a.png`). Never derived from the client's name beyond that.
    pub stored_name: String,
    /// The client's name, sanitised with [`secure_filename`]: for display only.
    pub display_name: String,
}

/// The rules for accepting uploads: which extensions keep their name, and how large a file may be.
///
/// **Attack:** an uploaded name that climbs out of the upload directory (`../../app.py`),
/// overwrites another file, or keeps an extension the server will execute or render (`.php`,
/// `.html`). **Defence:** store under a random name; keep only an allow-listed, lower-cased
/// extension; show the original only after [`secure_filename`]; serve with
/// [`Download`](super::Download). **Default:** no extension is kept; 10 MiB at most.
///
/// ```
/// use mitten_core::files::UploadPolicy;
///
/// let policy = UploadPolicy::new().allow_extensions(["png", "jpg", "txt"]);
/// let upload = policy.store("../../Holiday Photo.PNG");
/// assert_eq!(upload.display_name, "Holiday_Photo.PNG");
/// assert!(upload.stored_name.ends_with(".png") && upload.stored_name.len() == 36);
/// assert!(UploadPolicy::is_stored_name(&upload.stored_name));
/// assert!(!policy.store("shell.php").stored_name.contains("php"));
/// assert!(!UploadPolicy::is_stored_name("../etc/passwd"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct UploadPolicy {
    extensions: Vec<String>,
    max_bytes: u64,
}

impl Default for UploadPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl UploadPolicy {
    /// No extension kept, 10 MiB at most.
    pub fn new() -> Self {
        Self {
            extensions: Vec::new(),
            max_bytes: 10 << 20,
        }
    }

    /// Extensions (compared case-insensitively) that stored names keep.
    pub fn allow_extensions(
        mut self,
        extensions: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Self {
        self.extensions = extensions
            .into_iter()
            .map(|e| e.as_ref().trim_start_matches('.').to_ascii_lowercase())
            .filter(|e| {
                !e.is_empty() && e.len() <= 10 && e.bytes().all(|b| b.is_ascii_alphanumeric())
            })
            .collect();
        self
    }

    /// The largest upload accepted, in bytes.
    pub fn max_bytes(mut self, max_bytes: u64) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The largest upload accepted.
    pub fn limit(&self) -> u64 {
        self.max_bytes
    }

    /// A fresh stored name for a file the client called `original`.
    pub fn store(&self, original: &str) -> StoredUpload {
        let display_name = secure_filename(original);
        let extension = display_name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .filter(|e| self.extensions.contains(e));
        let mut random = [0u8; 16];
        rand::rng().fill_bytes(&mut random);
        let mut stored_name: String = random.iter().map(|b| format!("{b:02x}")).collect();
        if let Some(extension) = extension {
            stored_name.push('.');
            stored_name.push_str(&extension);
        }
        StoredUpload {
            stored_name,
            display_name,
        }
    }

    /// Whether `name` has the shape of a stored name (32 lower-case hex digits, then optionally
    /// `.` and up to 10 lower-case letters or digits). Anything else, `..`, `/`, `\`, `%2e`,
    /// cannot be one, so a download route can refuse it before touching the file system.
    pub fn is_stored_name(name: &str) -> bool {
        let (stem, extension) = match name.split_once('.') {
            Some((stem, extension)) => (stem, Some(extension)),
            None => (name, None),
        };
        let hex = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        stem.len() == 32
            && hex(stem)
            && extension.is_none_or(|e| {
                !e.is_empty()
                    && e.len() <= 10
                    && e.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
    }
}
