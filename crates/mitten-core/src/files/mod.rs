//! Safe uploads and downloads: werkzeug's `secure_filename` and `safe_join`, download headers
//! that never let a file render in your origin, and random stored names. (Feature `files`.)
//!
//! ```
//! use mitten_core::files::{Download, UploadPolicy, safe_join, secure_filename};
//!
//! // Storing: a random name, an allow-listed extension, the original sanitised for display.
//! let upload = UploadPolicy::new().allow_extensions(["txt"]).store("../notes.txt");
//! let path = safe_join("/srv/uploads", [upload.stored_name.as_str()]).expect("a stored name is safe");
//!
//! // Serving: an attachment, never HTML.
//! let headers = Download::new(&upload.display_name).headers();
//! assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment;"));
//! ```

mod download;
mod filename;
mod join;
mod upload;

pub use download::{Download, guess_content_type};
pub use filename::secure_filename;
pub use join::{safe_join, stays_inside};
pub use upload::{StoredUpload, UploadPolicy};
