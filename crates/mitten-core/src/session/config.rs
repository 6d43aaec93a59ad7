//! Session cookie and timeout settings.

use std::time::Duration;

use crate::error::ConfigError;
use crate::keys::Keyring;

/// The cookie's `SameSite` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameSite {
    /// Sent on same-site requests and top-level cross-site navigations (the default).
    #[default]
    Lax,
    /// Same-site requests only: a link from another site arrives logged out.
    Strict,
    /// Sent everywhere (requires `Secure`). Leaves CSRF defence to the other layers.
    None,
}

/// Session settings, secure by default.
///
/// | setting | default | why |
/// |---|---|---|
/// | cookie name | `__Host-mitten-session` | the `__Host-` prefix makes browsers refuse a cookie set by a sibling subdomain or over HTTP (cookie tossing) |
/// | `Secure`, `HttpOnly`, `Path=/` | on | never sent in clear, never readable by script |
/// | `SameSite` | `Lax` | not sent on cross-site subrequests and POSTs |
/// | lifetime | browser session (no `Max-Age`) | ends when the browser does; [`persistent`](Self::persistent) to keep it |
/// | idle timeout | 1 hour | enforced on the server: a replayed old cookie is dead |
/// | absolute timeout | 12 hours | counted from creation, survives `regenerate()` |
/// | signed | no | IDs are 256 random bits; [`signed`](Self::signed) adds an HMAC with key rotation |
///
/// ```
/// use std::time::Duration;
/// use mitten_core::session::{SameSite, SessionConfig};
///
/// let config = SessionConfig::new()
///     .idle_timeout(Duration::from_secs(15 * 60))
///     .same_site(SameSite::Strict)
///     .persistent(true);
/// assert!(config.validate().is_ok());
/// assert!(SessionConfig::new().danger_insecure_cookie().validate().is_err(), "__Host- needs Secure");
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct SessionConfig {
    pub(crate) cookie_name: String,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: SameSite,
    pub(crate) domain: Option<String>,
    pub(crate) persistent: bool,
    pub(crate) idle_timeout: u64,
    pub(crate) absolute_timeout: u64,
    pub(crate) touch_interval: u64,
    pub(crate) signing: Option<Keyring>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl SessionConfig {
    /// The defaults in the table above.
    pub fn new() -> Self {
        Self {
            cookie_name: "__Host-mitten-session".into(),
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            domain: None,
            persistent: false,
            idle_timeout: 60 * 60,
            absolute_timeout: 12 * 60 * 60,
            touch_interval: 60,
            signing: None,
        }
    }

    /// The cookie's name.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// Drops `Secure`: the cookie then travels over plain HTTP, where anyone on the network can
    /// read it and take over the session. Needs a name without the `__Host-` prefix.
    pub fn danger_insecure_cookie(mut self) -> Self {
        self.secure = false;
        self
    }

    /// Drops `HttpOnly`: any script on the page, an injected one included, can read the cookie.
    pub fn danger_script_readable_cookie(mut self) -> Self {
        self.http_only = false;
        self
    }

    /// The `SameSite` attribute.
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// Shares the cookie with subdomains of `domain`: any of them can then read and overwrite
    /// it. Needs a name without the `__Host-` prefix.
    pub fn danger_domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Keeps the cookie across browser restarts (`Max-Age` of the absolute timeout).
    pub fn persistent(mut self, persistent: bool) -> Self {
        self.persistent = persistent;
        self
    }

    /// How long a session may go unused.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout.as_secs();
        self
    }

    /// How long a session may live at all.
    pub fn absolute_timeout(mut self, timeout: Duration) -> Self {
        self.absolute_timeout = timeout.as_secs();
        self
    }

    /// How stale `last_seen` may get before a read-only request writes it back (default 60 s):
    /// reads do not write the store every time.
    pub fn touch_interval(mut self, interval: Duration) -> Self {
        self.touch_interval = interval.as_secs();
        self
    }

    /// Signs the cookie with keys derived from `keyring` (newest signs, all verify).
    pub fn signed(mut self, keyring: Keyring) -> Self {
        self.signing = Some(keyring.derive("session-cookie"));
        self
    }

    /// Checks the settings; [`Sessions::new`](super::Sessions::new) calls it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let name_ok = !self.cookie_name.is_empty()
            && self
                .cookie_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !name_ok {
            return Err(ConfigError::InvalidSession(
                "the cookie name is not a valid token",
            ));
        }
        if self.cookie_name.starts_with("__Host-") && (!self.secure || self.domain.is_some()) {
            return Err(ConfigError::InvalidSession(
                "a __Host- cookie must be Secure and have no Domain; rename it to weaken it",
            ));
        }
        if self.cookie_name.starts_with("__Secure-") && !self.secure {
            return Err(ConfigError::InvalidSession(
                "a __Secure- cookie must be Secure",
            ));
        }
        if self.same_site == SameSite::None && !self.secure {
            return Err(ConfigError::InvalidSession("SameSite=None requires Secure"));
        }
        if let Some(domain) = &self.domain {
            if domain.is_empty()
                || !domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            {
                return Err(ConfigError::InvalidSession(
                    "the cookie domain is not a host name",
                ));
            }
        }
        if self.idle_timeout == 0 || self.absolute_timeout == 0 {
            return Err(ConfigError::InvalidSession(
                "timeouts must be at least one second",
            ));
        }
        Ok(())
    }
}
