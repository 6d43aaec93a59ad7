//! The entry point: [`Mitten`] holds the validated policy and hands out layers.

use std::sync::Arc;

use mitten_core::{Config, ConfigError, Policy};
use tower_layer::Layer;

use crate::service::MittenService;

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
}

impl Mitten {
    /// Validates `config`. Every configuration error surfaces here, at start-up.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        Ok(Self {
            policy: Arc::new(config.build()?),
        })
    }

    /// The layer to put around the application (outermost, so that every response, errors and
    /// rejections included, gets the headers).
    pub fn layer(&self) -> MittenLayer {
        MittenLayer {
            policy: Arc::clone(&self.policy),
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
    policy: Arc<Policy>,
}

impl<S> Layer<S> for MittenLayer {
    type Service = MittenService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MittenService::new(inner, Arc::clone(&self.policy))
    }
}
