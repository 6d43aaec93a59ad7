//! The security-header bundle: what Flask-Talisman and Flask-Mitten put on every response.
//!
//! [`SecurityHeaders`] is the builder (secure by default, with named presets); compiling it
//! gives a [`HeaderPolicy`], whose [`apply`](HeaderPolicy::apply) is the per-response decision:
//! a synchronous function over the response's status and headers.
//!
//! | header | [`strict`](SecurityHeaders::strict) (default) | why |
//! |---|---|---|
//! | `Content-Security-Policy` | [`ContentSecurityPolicy::strict`] with a fresh nonce | XSS |
//! | `X-Frame-Options` / `frame-ancestors` | `DENY` / `'none'` | clickjacking |
//! | `Strict-Transport-Security` | `max-age=63072000; includeSubDomains`, secure requests only | SSL stripping |
//! | `X-Content-Type-Options` | `nosniff` | MIME sniffing |
//! | `Referrer-Policy` | `strict-origin-when-cross-origin` | URL leaks, keeps same-origin `Referer` for CSRF checks |
//! | `Permissions-Policy` | [`PermissionsPolicy::strict`] | powerful features |
//! | `Cross-Origin-Opener-Policy` | `same-origin` | cross-window attacks |
//! | `Cross-Origin-Resource-Policy` | `same-origin` | cross-site inclusion, Spectre |
//! | `X-Permitted-Cross-Domain-Policies` | `none` | Flash/PDF cross-domain policy files |
//! | `X-Download-Options` | `noopen` | old IE opening downloads in the site's context |
//! | `X-XSS-Protection` | `0` | the old XSS auditor was itself an XS-Leak and was removed from browsers; `1; mode=block` only adds risk, so it is turned off explicitly |
//! | `Server`, `X-Powered-By`, … | removed | banner grabbing |
//! | `Cache-Control` | `no-store` when the CSP carries a nonce and the handler set no caching | a cached page would replay its nonce |
//!
//! Not sent by default: `Cross-Origin-Embedder-Policy`, `Document-Policy`, `Public-Key-Pins`.
//!
//! **A handler's own header wins.** Every security header is only added when the response does
//! not have it yet (as Django's `setdefault` does), so a route that sets its own
//! `Content-Security-Policy` or `Cache-Control` keeps it. The banner headers are the exception:
//! they are removed whoever set them. To relax or replace a policy for a route, prefer a
//! [`RouteOverride`](crate::RouteOverride): it stays validated at start-up.
//!
//! ```
//! use http::{HeaderMap, StatusCode};
//! use mitten_core::csp::CspNonce;
//! use mitten_core::headers::{ResponseContext, SecurityHeaders};
//!
//! let policy = SecurityHeaders::strict().compile()?;
//! let mut headers = HeaderMap::new();
//! let nonce = CspNonce::generate();
//! policy.apply(&mut headers, &ResponseContext { secure: true, status: StatusCode::OK, nonce: &nonce, route: None });
//! assert_eq!(headers["x-frame-options"], "DENY");
//! assert!(headers["content-security-policy"].to_str()?.contains(nonce.as_str()));
//! assert_eq!(headers["cache-control"], "no-store");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod apply;
mod banner;
mod hsts;
mod options;
mod permissions;

use http::{HeaderName, HeaderValue};

pub use apply::{HeaderPolicy, ResponseContext};
pub use banner::{Banner, REMOVE_LIST, is_fingerprinting};
pub use hsts::{Hsts, PublicKeyPins};
pub(crate) use options::CompiledFraming;
pub use options::{
    CrossOriginEmbedderPolicy, CrossOriginOpenerPolicy, CrossOriginResourcePolicy, FrameOptions,
    ReferrerPolicy,
};
pub use permissions::{Allowlist, DocumentPolicy, PermissionsPolicy};

use crate::csp::ContentSecurityPolicy;
use crate::error::ConfigError;

/// The security headers to send, built with secure defaults. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct SecurityHeaders {
    csp: Option<ContentSecurityPolicy>,
    frame_options: FrameOptions,
    hsts: Option<Hsts>,
    nosniff: bool,
    referrer_policy: Option<ReferrerPolicy>,
    permissions_policy: Option<PermissionsPolicy>,
    coop: Option<CrossOriginOpenerPolicy>,
    corp: Option<CrossOriginResourcePolicy>,
    coep: Option<CrossOriginEmbedderPolicy>,
    legacy_headers: bool,
    document_policy: Option<DocumentPolicy>,
    public_key_pins: Option<PublicKeyPins>,
    banner: Banner,
    no_store_with_nonce: bool,
}

impl Default for SecurityHeaders {
    fn default() -> Self {
        Self::strict()
    }
}

impl SecurityHeaders {
    /// The default: every header in the [module table](self), strict CSP with nonces.
    pub fn strict() -> Self {
        Self {
            csp: Some(ContentSecurityPolicy::strict()),
            frame_options: FrameOptions::Deny,
            hsts: Some(Hsts::default()),
            nosniff: true,
            referrer_policy: Some(ReferrerPolicy::StrictOriginWhenCrossOrigin),
            permissions_policy: Some(PermissionsPolicy::strict()),
            coop: Some(CrossOriginOpenerPolicy::SameOrigin),
            corp: Some(CrossOriginResourcePolicy::SameOrigin),
            coep: None,
            legacy_headers: true,
            document_policy: None,
            public_key_pins: None,
            banner: Banner::Remove,
            no_store_with_nonce: true,
        }
    }

    /// For JSON services that serve no HTML: `default-src 'none'` without nonces,
    /// `Referrer-Policy: no-referrer`, everything else as in [`strict`](Self::strict).
    pub fn api() -> Self {
        Self::strict()
            .csp(ContentSecurityPolicy::api())
            .referrer_policy(Some(ReferrerPolicy::NoReferrer))
    }

    /// Flask-Talisman 1.1's defaults, for a like-for-like migration: CSP `default-src 'self';
    /// object-src 'none'` without nonces, `X-Frame-Options: SAMEORIGIN`, HSTS one year with
    /// subdomains, `Permissions-Policy: browsing-topics=()`. Cross-origin policies and legacy
    /// headers are still sent, and banners still removed.
    ///
    /// Weaker than `strict` (no nonces, framing by the same origin): a step on the way, not a goal.
    pub fn talisman() -> Self {
        Self::strict()
            .csp(ContentSecurityPolicy::talisman())
            .frame_options(FrameOptions::SameOrigin)
            .hsts(Some(Hsts::default().max_age(31_556_926)))
            .permissions_policy(Some(PermissionsPolicy::talisman()))
    }

    /// The Content-Security-Policy (with its nonce, report-only and reporting settings).
    pub fn csp(mut self, csp: ContentSecurityPolicy) -> Self {
        self.csp = Some(csp);
        self
    }

    /// Sends no Content-Security-Policy at all (apart from `frame-ancestors`, which
    /// [`frame_options`](Self::frame_options) governs). Removes the main defence against XSS.
    pub fn danger_without_csp(mut self) -> Self {
        self.csp = None;
        self
    }

    /// Framing policy: `X-Frame-Options` and `frame-ancestors` together.
    pub fn frame_options(mut self, frame_options: FrameOptions) -> Self {
        self.frame_options = frame_options;
        self
    }

    /// HSTS settings, or `None` to send no HSTS (e.g. when a proxy in front sends it).
    pub fn hsts(mut self, hsts: Option<Hsts>) -> Self {
        self.hsts = hsts;
        self
    }

    /// Whether to send `X-Content-Type-Options: nosniff` (default: yes).
    pub fn nosniff(mut self, nosniff: bool) -> Self {
        self.nosniff = nosniff;
        self
    }

    /// `Referrer-Policy`, or `None` to leave it to the browser.
    pub fn referrer_policy(mut self, policy: Option<ReferrerPolicy>) -> Self {
        self.referrer_policy = policy;
        self
    }

    /// `Permissions-Policy`, or `None` for none.
    pub fn permissions_policy(mut self, policy: Option<PermissionsPolicy>) -> Self {
        self.permissions_policy = policy;
        self
    }

    /// `Cross-Origin-Opener-Policy`, or `None` for none.
    pub fn cross_origin_opener_policy(mut self, policy: Option<CrossOriginOpenerPolicy>) -> Self {
        self.coop = policy;
        self
    }

    /// `Cross-Origin-Resource-Policy`, or `None` for none.
    pub fn cross_origin_resource_policy(
        mut self,
        policy: Option<CrossOriginResourcePolicy>,
    ) -> Self {
        self.corp = policy;
        self
    }

    /// `Cross-Origin-Embedder-Policy` (not sent by default).
    pub fn cross_origin_embedder_policy(
        mut self,
        policy: Option<CrossOriginEmbedderPolicy>,
    ) -> Self {
        self.coep = policy;
        self
    }

    /// Whether to send the legacy hardening headers `X-Permitted-Cross-Domain-Policies: none`,
    /// `X-Download-Options: noopen` and `X-XSS-Protection: 0` (default: yes).
    pub fn legacy_headers(mut self, send: bool) -> Self {
        self.legacy_headers = send;
        self
    }

    /// `Document-Policy` (not sent by default).
    pub fn document_policy(mut self, policy: Option<DocumentPolicy>) -> Self {
        self.document_policy = policy;
        self
    }

    /// Sends `Public-Key-Pins` on secure responses. **Dangerous**: see [`PublicKeyPins`].
    pub fn danger_public_key_pins(mut self, pins: PublicKeyPins) -> Self {
        self.public_key_pins = Some(pins);
        self
    }

    /// What to do with `Server`, `X-Powered-By` and the other fingerprinting headers.
    pub fn banner(mut self, banner: Banner) -> Self {
        self.banner = banner;
        self
    }

    /// Whether a response whose CSP carries a nonce gets `Cache-Control: no-store` when the
    /// handler set no `Cache-Control` (default: yes). Turning it off lets shared caches replay
    /// one nonce to many visitors, which makes it guessable.
    pub fn no_store_with_nonce(mut self, no_store: bool) -> Self {
        self.no_store_with_nonce = no_store;
        self
    }

    /// Validates everything and prepares the header values, so that each response only has to
    /// copy them (and render the CSP nonce).
    pub fn compile(self) -> Result<HeaderPolicy, ConfigError> {
        let csp = match self.csp {
            Some(csp) => Some(csp.compile()?),
            None => None,
        };
        if csp.as_ref().is_some_and(|c| c.has_frame_ancestors()) {
            return Err(ConfigError::FrameAncestorsInPolicy);
        }
        let framing = self.frame_options.compile()?;
        let mut always: Vec<(HeaderName, HeaderValue)> = Vec::new();
        if self.nosniff {
            always.push((
                http::header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ));
        }
        if let Some(policy) = self.referrer_policy {
            always.push((http::header::REFERRER_POLICY, policy.header_value()));
        }
        if let Some(policy) = self.permissions_policy.filter(|p| !p.is_empty()) {
            always.push((
                HeaderName::from_static("permissions-policy"),
                policy.value()?,
            ));
        }
        if let Some(policy) = self.coop {
            always.push((
                HeaderName::from_static("cross-origin-opener-policy"),
                policy.header_value(),
            ));
        }
        if let Some(policy) = self.corp {
            always.push((
                HeaderName::from_static("cross-origin-resource-policy"),
                policy.header_value(),
            ));
        }
        if let Some(policy) = self.coep {
            always.push((
                HeaderName::from_static("cross-origin-embedder-policy"),
                policy.header_value(),
            ));
        }
        if self.legacy_headers {
            always.push((
                HeaderName::from_static("x-permitted-cross-domain-policies"),
                HeaderValue::from_static("none"),
            ));
            always.push((
                HeaderName::from_static("x-download-options"),
                HeaderValue::from_static("noopen"),
            ));
            always.push((
                http::header::X_XSS_PROTECTION,
                HeaderValue::from_static("0"),
            ));
        }
        if let Some(policy) = self.document_policy {
            always.push((HeaderName::from_static("document-policy"), policy.value()?));
        }
        let mut secure_only = Vec::new();
        if let Some(hsts) = self.hsts {
            secure_only.push((http::header::STRICT_TRANSPORT_SECURITY, hsts.value()?));
        }
        if let Some(pins) = self.public_key_pins {
            secure_only.push((HeaderName::from_static("public-key-pins"), pins.value()?));
        }
        Ok(HeaderPolicy::new(
            always,
            secure_only,
            csp,
            framing,
            self.banner,
            self.no_store_with_nonce,
        ))
    }
}

#[cfg(test)]
mod tests;
