//! [`Sessions`]: the store, the settings and the clock, shared by every request.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use http::{HeaderMap, HeaderValue};

use super::handle::Session;
use super::store::{SessionStore, StoreError};
use super::{Clock, SameSite, SessionConfig, SessionId, SystemClock};
use crate::error::ConfigError;
use crate::mac::hmac_sha256;

/// Server-side sessions: a store, validated settings and a clock.
///
/// Cheap to clone. [`start`](Self::start) reads the cookie of a request (no I/O); the adapter
/// loads the record when a handler asks for the session and persists it after the response.
///
/// ```
/// use mitten_core::session::{MemoryStore, SessionConfig, Sessions};
///
/// let sessions = Sessions::new(MemoryStore::new(100_000), SessionConfig::new())?;
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn SessionStore>,
    config: SessionConfig,
    clock: Arc<dyn Clock>,
}

/// What the request's cookie held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CookieRead {
    Absent,
    /// Present but not an ID Mitten made (or not validly signed, or sent twice).
    Malformed,
    Id(SessionId),
}

impl Sessions {
    /// Sessions in `store` with `config` (validated here).
    pub fn new(store: impl SessionStore, config: SessionConfig) -> Result<Self, ConfigError> {
        Self::with_store(Arc::new(store), config)
    }

    /// The same, with a shared store.
    pub fn with_store(
        store: Arc<dyn SessionStore>,
        config: SessionConfig,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                config,
                clock: Arc::new(SystemClock),
            }),
        })
    }

    /// Uses `clock` for timeouts (tests).
    #[must_use]
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                store: Arc::clone(&self.inner.store),
                config: self.inner.config.clone(),
                clock,
            }),
        }
    }

    /// The session of a request, from its `Cookie` headers. Nothing is loaded yet.
    pub fn start(&self, headers: &HeaderMap) -> Session {
        let cookie = self.read_cookie(headers);
        if cookie == CookieRead::Malformed {
            tracing::warn!(target: "mitten", "malformed or forged session cookie ignored; a fresh session is used");
        }
        Session::new(self.clone(), cookie)
    }

    /// Deletes every session of `user_id` ("log out everywhere", e.g. after a password change);
    /// returns how many there were.
    pub async fn destroy_all_for_user(&self, user_id: &str) -> Result<u64, StoreError> {
        self.inner.store.delete_all_for_user(user_id, None).await
    }

    pub(crate) fn store(&self) -> &dyn SessionStore {
        &*self.inner.store
    }

    pub(crate) fn config(&self) -> &SessionConfig {
        &self.inner.config
    }

    pub(crate) fn now(&self) -> u64 {
        self.inner.clock.now()
    }

    fn read_cookie(&self, headers: &HeaderMap) -> CookieRead {
        let name = self.inner.config.cookie_name.as_str();
        let value = match crate::request_cookie(headers, name) {
            crate::RequestCookie::Absent => return CookieRead::Absent,
            crate::RequestCookie::One(value) => value,
            // Two cookies of one name: one was planted (cookie tossing). Trust neither.
            crate::RequestCookie::Several => return CookieRead::Malformed,
        };
        let id_text = match &self.inner.config.signing {
            None => value,
            Some(keyring) => {
                let Some((id, signature)) = value.split_once('.') else {
                    return CookieRead::Malformed;
                };
                let Ok(given) = URL_SAFE_NO_PAD.decode(signature) else {
                    return CookieRead::Malformed;
                };
                let valid = keyring.keys().any(|key| {
                    hmac_sha256(key.expose(), &[name.as_bytes(), b"=", id.as_bytes()])
                        .verifies(&given)
                });
                if !valid {
                    return CookieRead::Malformed;
                }
                id
            }
        };
        SessionId::parse(id_text).map_or(CookieRead::Malformed, CookieRead::Id)
    }

    /// `Set-Cookie` giving the browser `id`.
    pub(crate) fn set_cookie(&self, id: &SessionId) -> HeaderValue {
        let config = &self.inner.config;
        let max_age = config.persistent.then_some(config.absolute_timeout);
        let Some(keyring) = &config.signing else {
            return self.cookie_header(id.as_cookie_value(), max_age);
        };
        let mut value = id.as_cookie_value().to_owned();
        let mac = hmac_sha256(
            keyring.signing_key().expose(),
            &[config.cookie_name.as_bytes(), b"=", value.as_bytes()],
        );
        value.push('.');
        value.push_str(&URL_SAFE_NO_PAD.encode(mac.as_bytes()));
        self.cookie_header(&value, max_age)
    }

    /// `Set-Cookie` removing the session cookie.
    pub(crate) fn clear_cookie(&self) -> HeaderValue {
        self.cookie_header("", Some(0))
    }

    fn cookie_header(&self, value: &str, max_age: Option<u64>) -> HeaderValue {
        let config = &self.inner.config;
        let same_site = match config.same_site {
            SameSite::Lax => "; SameSite=Lax",
            SameSite::Strict => "; SameSite=Strict",
            SameSite::None => "; SameSite=None",
        };
        let max_age = max_age.map(|n| n.to_string());
        let (domain_attribute, domain) = match &config.domain {
            Some(domain) => ("; Domain=", domain.as_str()),
            None => ("", ""),
        };
        // `concat` allocates exactly the length of the parts: the buffer becomes the header's as
        // it is (one allocation; spare room would cost `Bytes` a second one).
        let cookie = [
            config.cookie_name.as_str(),
            "=",
            value,
            "; Path=/",
            domain_attribute,
            domain,
            if max_age.is_some() { "; Max-Age=" } else { "" },
            max_age.as_deref().unwrap_or_default(),
            if config.secure { "; Secure" } else { "" },
            if config.http_only { "; HttpOnly" } else { "" },
            same_site,
        ]
        .concat();
        // Takes the string's buffer as it is (no copy).
        let mut header =
            HeaderValue::try_from(cookie).unwrap_or_else(|_| HeaderValue::from_static(""));
        header.set_sensitive(true);
        header
    }
}
