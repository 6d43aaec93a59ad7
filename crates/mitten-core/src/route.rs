//! Per-route overrides of the header policy (Flask-Talisman's `@talisman(...)` decorator).

use std::sync::Arc;

use crate::csp::{CompiledCsp, ContentSecurityPolicy};
use crate::error::ConfigError;
use crate::headers::{CompiledFraming, FrameOptions};

#[derive(Debug)]
enum CspChoice {
    Inherit,
    Replace(CompiledCsp),
    Remove,
}

#[derive(Debug)]
struct Inner {
    csp: CspChoice,
    framing: Option<CompiledFraming>,
}

/// Replaces or relaxes the CSP and framing policy for one route.
///
/// Built (and validated) once at start-up; cheap to clone. The tower adapter reads it from the
/// response's extensions, so a route layer or the handler itself can attach it. HTTPS
/// exemptions are configured by path on [`HttpsRedirect`](crate::https::HttpsRedirect) instead,
/// because the redirect is decided before the request is routed.
///
/// ```
/// use mitten_core::RouteOverride;
/// use mitten_core::csp::{ContentSecurityPolicy, Source};
/// use mitten_core::headers::FrameOptions;
///
/// // An embeddable widget: framing allowed for one partner, and a policy of its own.
/// let widget = RouteOverride::builder()
///     .frame_options(FrameOptions::AllowFrom(vec![Source::host("https://partner.example")]))
///     .csp(ContentSecurityPolicy::strict().img_src([Source::Wildcard]))
///     .build()?;
/// # Ok::<(), mitten_core::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct RouteOverride {
    inner: Arc<Inner>,
}

impl RouteOverride {
    /// Starts an override that changes nothing until told to.
    pub fn builder() -> RouteOverrideBuilder {
        RouteOverrideBuilder::default()
    }

    /// The policy to send: the route's own, none, or `base`.
    pub(crate) fn csp<'a>(&'a self, base: Option<&'a CompiledCsp>) -> Option<&'a CompiledCsp> {
        match &self.inner.csp {
            CspChoice::Inherit => base,
            CspChoice::Replace(csp) => Some(csp),
            CspChoice::Remove => None,
        }
    }

    /// The framing headers to send: the route's own or `base`.
    pub(crate) fn framing<'a>(&'a self, base: &'a CompiledFraming) -> &'a CompiledFraming {
        self.inner.framing.as_ref().unwrap_or(base)
    }
}

/// Builds a [`RouteOverride`].
#[derive(Debug, Default)]
#[must_use]
pub struct RouteOverrideBuilder {
    csp: Option<Option<ContentSecurityPolicy>>,
    frame_options: Option<FrameOptions>,
}

impl RouteOverrideBuilder {
    /// Uses this policy instead of the app's.
    pub fn csp(mut self, csp: ContentSecurityPolicy) -> Self {
        self.csp = Some(Some(csp));
        self
    }

    /// Sends no CSP on this route (framing is still governed by the frame options). Removes
    /// the main XSS defence for the route.
    pub fn danger_without_csp(mut self) -> Self {
        self.csp = Some(None);
        self
    }

    /// Uses this framing policy instead of the app's.
    pub fn frame_options(mut self, frame_options: FrameOptions) -> Self {
        self.frame_options = Some(frame_options);
        self
    }

    /// Validates the override.
    pub fn build(self) -> Result<RouteOverride, ConfigError> {
        let csp = match self.csp {
            None => CspChoice::Inherit,
            Some(None) => CspChoice::Remove,
            Some(Some(csp)) => {
                let compiled = csp.compile()?;
                if compiled.has_frame_ancestors() {
                    return Err(ConfigError::FrameAncestorsInPolicy);
                }
                CspChoice::Replace(compiled)
            }
        };
        let framing = self.frame_options.map(|f| f.compile()).transpose()?;
        Ok(RouteOverride {
            inner: Arc::new(Inner { csp, framing }),
        })
    }
}
