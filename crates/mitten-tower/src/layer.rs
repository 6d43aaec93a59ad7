//! The entry point: [`Mitten`] holds the validated policy and hands out layers.

use std::sync::Arc;

use mitten_core::{Config, ConfigError, Policy};
use tower_layer::Layer;

use crate::service::{MittenService, Shared};

/// Mitten for tower and axum: one validated policy, shared by every layer it hands out.
///
/// ```
/// use axum::{Router, routing::get};
/// use mitten_tower::Mitten;
/// use mitten_core::Config;
///
/// let mitten = Mitten::new(Config::strict())?;
/// let app: Router = Router::new().route("/", get(|| async { "hello" })).layer(mitten.layer());
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Mitten {
    policy: Arc<Policy>,
    #[cfg(feature = "sessions")]
    sessions: Option<mitten_core::session::Sessions>,
    #[cfg(feature = "csrf")]
    csrf: Option<Arc<mitten_core::csrf::CsrfPolicy>>,
}

impl Mitten {
    /// Validates `config`. Every configuration error surfaces here, at start-up.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        Ok(Self {
            policy: Arc::new(config.build()?),
            #[cfg(feature = "sessions")]
            sessions: None,
            #[cfg(feature = "csrf")]
            csrf: None,
        })
    }

    /// Adds CSRF protection (both tiers by default; see [`mitten_core::csrf`]). Call
    /// [`with_sessions`](Self::with_sessions) first to bind tokens to sessions; one-time tokens
    /// need sessions, and asking for them without is an error here.
    ///
    /// ```
    /// use mitten_core::Config;
    /// use mitten_core::csrf::CsrfConfig;
    /// use mitten_tower::Mitten;
    ///
    /// let mitten = Mitten::new(Config::strict())?.with_csrf(CsrfConfig::new().exempt("/hooks/echo"))?;
    /// # Ok::<(), mitten_core::ConfigError>(())
    /// ```
    #[cfg(feature = "csrf")]
    pub fn with_csrf(mut self, config: mitten_core::csrf::CsrfConfig) -> Result<Self, ConfigError> {
        let policy = config.build()?;
        if matches!(policy.mode(), mitten_core::csrf::TokenMode::OneTime { .. })
            && self.sessions.is_none()
        {
            return Err(ConfigError::InvalidCsrf(
                "one-time tokens need sessions: call with_sessions first",
            ));
        }
        self.csrf = Some(Arc::new(policy));
        Ok(self)
    }

    /// Adds server-side sessions: handlers get a [`Session`](mitten_core::session::Session)
    /// (with the `axum` feature, the `Session` extractor), written back after each response.
    ///
    /// ```
    /// use mitten_core::Config;
    /// use mitten_core::session::{MemoryStore, SessionConfig, Sessions};
    /// use mitten_tower::Mitten;
    ///
    /// let sessions = Sessions::new(MemoryStore::new(100_000), SessionConfig::new())?;
    /// let mitten = Mitten::new(Config::strict())?.with_sessions(sessions);
    /// # Ok::<(), mitten_core::ConfigError>(())
    /// ```
    #[cfg(feature = "sessions")]
    #[must_use]
    pub fn with_sessions(mut self, sessions: mitten_core::session::Sessions) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// The sessions, if configured (for "log out everywhere" from a handler's state).
    #[cfg(feature = "sessions")]
    pub fn sessions(&self) -> Option<&mitten_core::session::Sessions> {
        self.sessions.as_ref()
    }

    /// The layer to put around the application (outermost, so that every response, errors and
    /// rejections included, gets the headers).
    ///
    /// Responses keep the application's body type: it must be `From<Bytes>` (axum's `Body` and
    /// `http_body_util::Full<Bytes>` are) so that Mitten's own answers (redirects, refusals, a
    /// 503 when the session store fails) can be written in it.
    pub fn layer(&self) -> MittenLayer {
        MittenLayer {
            shared: Arc::new(Shared {
                policy: Arc::clone(&self.policy),
                #[cfg(feature = "sessions")]
                sessions: self.sessions.clone(),
                #[cfg(feature = "csrf")]
                csrf: self.csrf.clone(),
            }),
        }
    }

    /// The validated policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }
}

/// The tower [`Layer`] made by [`Mitten::layer`].
#[derive(Debug, Clone)]
pub struct MittenLayer {
    shared: Arc<Shared>,
}

impl<S> Layer<S> for MittenLayer {
    type Service = MittenService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MittenService::new(inner, Arc::clone(&self.shared))
    }
}
