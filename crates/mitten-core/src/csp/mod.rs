//! Content-Security-Policy: a typed builder, validated at start-up, with a fresh nonce per response.
//!
//! **Attack:** cross-site scripting. An injected `<script>` runs with the page's authority.
//! **Defence:** a policy that only lets scripts run when they carry this response's nonce
//! (`script-src 'nonce-…' 'strict-dynamic'`), forbids plugins (`object-src 'none'`) and base-tag
//! hijacking (`base-uri 'none'`). **Default:** [`ContentSecurityPolicy::strict`]. **Weakening it on
//! purpose:** build your own policy, or use report-only mode while you migrate.
//!
//! ```
//! use mitten_core::csp::{ContentSecurityPolicy, CspNonce, Directive, Source};
//!
//! // The default policy, rendered for one response.
//! let strict = ContentSecurityPolicy::strict().compile()?;
//! let nonce = CspNonce::from_random_bytes([7; 18]);
//! let header = strict.render(&nonce, None).unwrap();
//! assert!(header.to_str()?.contains(&format!("script-src 'nonce-{nonce}' 'strict-dynamic'")));
//!
//! // A customised one: a CDN for images, reports to /csp-report, report-only while migrating.
//! let custom = ContentSecurityPolicy::strict()
//!     .img_src([Source::SelfOrigin, Source::host("https://img.example.com")])
//!     .report_uri("/csp-report")
//!     .report_only()
//!     .compile()?;
//! assert_eq!(custom.header_name(), "content-security-policy-report-only");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod directive;
mod nonce;
mod source;

use http::HeaderValue;
use http::header::{CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_REPORT_ONLY, HeaderName};

pub use directive::Directive;
use directive::{ValueKind, is_uri_reference, validate_tokens};
pub use nonce::CspNonce;
pub use source::{HashAlgorithm, Source};

use crate::error::{ConfigError, check_header_value};
use crate::structured_field;

/// The value of one directive.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Sources(Vec<Source>),
    Tokens(Vec<String>),
}

/// A Content-Security-Policy under construction.
///
/// Setters replace a directive's whole value, so a preset can be adjusted directive by
/// directive. Nothing is checked until [`compile`](Self::compile), which reports the first
/// problem as a [`ConfigError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct ContentSecurityPolicy {
    directives: Vec<(Directive, Value)>,
    nonce_in: Vec<Directive>,
    report_only: bool,
    reporting_endpoint: Option<(String, String)>,
}

macro_rules! source_setters {
    ($( $method:ident => $directive:ident ),* $(,)?) => {
        $(
            #[doc = concat!("Sets `", stringify!($method), "` (", "see [`Directive::", stringify!($directive), "`]).")]
            pub fn $method(self, sources: impl IntoIterator<Item = Source>) -> Self {
                self.directive(Directive::$directive, sources)
            }
        )*
    };
}

impl Default for ContentSecurityPolicy {
    fn default() -> Self {
        Self::strict()
    }
}

impl ContentSecurityPolicy {
    /// An empty policy (no directive at all); add what you need.
    pub fn empty() -> Self {
        Self {
            directives: Vec::new(),
            nonce_in: vec![Directive::ScriptSrc, Directive::StyleSrc],
            report_only: false,
            reporting_endpoint: None,
        }
    }

    /// The default: a strict, nonce-based policy (the shape Google's strict-CSP guidance and
    /// the OWASP cheat sheet recommend).
    ///
    /// ```text
    /// default-src 'self'; script-src 'nonce-…' 'strict-dynamic'; style-src 'nonce-…' 'self';
    /// img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'
    /// ```
    ///
    /// plus `frame-ancestors` from [`FrameOptions`](crate::headers::FrameOptions). Inline
    /// scripts run only with the nonce, and the scripts they load are trusted through
    /// `'strict-dynamic'`; inline event handlers (`onclick=`) never run.
    pub fn strict() -> Self {
        Self::empty()
            .default_src([Source::SelfOrigin])
            .script_src([Source::StrictDynamic])
            .style_src([Source::SelfOrigin])
            .img_src([Source::SelfOrigin, Source::scheme("data")])
            .object_src([Source::None])
            .base_uri([Source::None])
            .form_action([Source::SelfOrigin])
    }

    /// For JSON APIs that never serve HTML: `default-src 'none'` (and no nonce).
    pub fn api() -> Self {
        Self::empty().default_src([Source::None]).nonce_in([])
    }

    /// Flask-Talisman's default, `default-src 'self'; object-src 'none'`, without nonces.
    ///
    /// Weaker than [`strict`](Self::strict): any script served from your origin runs, including
    /// one an attacker managed to upload. Meant for migrating an app, not as a goal.
    pub fn talisman() -> Self {
        Self::empty()
            .default_src([Source::SelfOrigin])
            .object_src([Source::None])
            .nonce_in([])
    }

    /// Parses a policy string such as `"default-src 'self'; img-src *"`.
    ///
    /// Unknown directives, malformed sources and static `'nonce-…'` sources are errors.
    /// Empty directives (a trailing `;`) are ignored. The result still uses the default
    /// [`nonce_in`](Self::nonce_in) directives.
    ///
    /// ```
    /// use mitten_core::csp::ContentSecurityPolicy;
    ///
    /// assert!(ContentSecurityPolicy::parse("default-src 'self'; img-src *").is_ok());
    /// assert!(ContentSecurityPolicy::parse("default-src 'self'; scirpt-src *").is_err());
    /// ```
    pub fn parse(policy: &str) -> Result<Self, ConfigError> {
        check_header_value("content-security-policy", policy)?;
        let mut csp = Self::empty();
        for part in policy.split(';') {
            let mut words = part.split_ascii_whitespace();
            let Some(name) = words.next() else { continue };
            let directive: Directive = name.parse()?;
            if csp.get(directive).is_some() {
                return Err(ConfigError::DuplicateDirective(directive.as_str()));
            }
            if directive.kind() == ValueKind::SourceList {
                let sources = words.map(Source::parse).collect::<Result<Vec<_>, _>>()?;
                csp = csp.directive(directive, sources);
            } else {
                csp = csp.directive_tokens(directive, words);
            }
        }
        Ok(csp)
    }

    /// Sets a source-list directive (any `*-src`, `base-uri`, `form-action`).
    ///
    /// An empty list is rendered as `'none'`.
    pub fn directive(
        self,
        directive: Directive,
        sources: impl IntoIterator<Item = Source>,
    ) -> Self {
        self.set(directive, Value::Sources(sources.into_iter().collect()))
    }

    /// Sets a directive whose value is not a source list (`sandbox`, `trusted-types`, `webrtc`,
    /// `require-trusted-types-for`, `report-uri`, `report-to`, or a flag with no tokens).
    pub fn directive_tokens(
        self,
        directive: Directive,
        tokens: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.set(
            directive,
            Value::Tokens(tokens.into_iter().map(Into::into).collect()),
        )
    }

    source_setters! {
        default_src => DefaultSrc,
        script_src => ScriptSrc,
        script_src_elem => ScriptSrcElem,
        script_src_attr => ScriptSrcAttr,
        style_src => StyleSrc,
        style_src_elem => StyleSrcElem,
        style_src_attr => StyleSrcAttr,
        img_src => ImgSrc,
        connect_src => ConnectSrc,
        font_src => FontSrc,
        object_src => ObjectSrc,
        media_src => MediaSrc,
        frame_src => FrameSrc,
        child_src => ChildSrc,
        worker_src => WorkerSrc,
        manifest_src => ManifestSrc,
        base_uri => BaseUri,
        form_action => FormAction,
    }

    /// Sets `sandbox` with the given `allow-*` flags (none: the strictest sandbox).
    pub fn sandbox(self, flags: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.directive_tokens(Directive::Sandbox, flags)
    }

    /// Adds `upgrade-insecure-requests`. Only for sites served entirely over HTTPS: on a plain
    /// HTTP page it breaks every relative subresource.
    pub fn upgrade_insecure_requests(self) -> Self {
        self.directive_tokens(Directive::UpgradeInsecureRequests, [] as [String; 0])
    }

    /// Adds `require-trusted-types-for 'script'`.
    pub fn require_trusted_types_for_script(self) -> Self {
        self.directive_tokens(Directive::RequireTrustedTypesFor, ["'script'"])
    }

    /// Sets `trusted-types` to these policy names and keywords.
    pub fn trusted_types(self, policies: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.directive_tokens(Directive::TrustedTypes, policies)
    }

    /// Sends violation reports to `uri` with the `report-uri` directive (Talisman's
    /// `content_security_policy_report_uri`).
    pub fn report_uri(self, uri: impl Into<String>) -> Self {
        self.directive_tokens(Directive::ReportUri, [uri])
    }

    /// Sends violation reports to the Reporting API endpoint `group`, declared as
    /// `Reporting-Endpoints: group="url"` on every response that carries the policy. `group` is
    /// a structured-field key (`csp-endpoint`: lower-case letters, digits, `_`, `-`, `.`,
    /// starting with a letter); anything else is a [`ConfigError`] from `compile`.
    pub fn report_to(mut self, group: impl Into<String>, url: impl Into<String>) -> Self {
        let group = group.into();
        self.reporting_endpoint = Some((group.clone(), url.into()));
        self.directive_tokens(Directive::ReportTo, [group])
    }

    /// Removes a directive.
    pub fn remove(mut self, directive: Directive) -> Self {
        self.directives.retain(|(d, _)| *d != directive);
        self
    }

    /// The directives that get this response's `'nonce-…'` (default: `script-src` and
    /// `style-src`).
    ///
    /// As in Flask-Talisman, a nonce is only added to directives present in the policy (adding
    /// `script-src 'nonce-…'` to a policy that relied on `default-src` would change its
    /// meaning), and never to a directive that is `'none'`.
    pub fn nonce_in(mut self, directives: impl IntoIterator<Item = Directive>) -> Self {
        self.nonce_in = directives.into_iter().collect();
        self
    }

    /// Sends the policy as `Content-Security-Policy-Report-Only`: browsers report violations
    /// but block nothing. Requires [`report_uri`](Self::report_uri) or
    /// [`report_to`](Self::report_to).
    pub fn report_only(mut self) -> Self {
        self.report_only = true;
        self
    }

    /// Whether the policy sets `directive`.
    pub fn contains(&self, directive: Directive) -> bool {
        self.get(directive).is_some()
    }

    fn get(&self, directive: Directive) -> Option<&Value> {
        self.directives
            .iter()
            .find(|(d, _)| *d == directive)
            .map(|(_, v)| v)
    }

    fn set(mut self, directive: Directive, value: Value) -> Self {
        match self.directives.iter_mut().find(|(d, _)| *d == directive) {
            Some(slot) => slot.1 = value,
            None => self.directives.push((directive, value)),
        }
        self
    }

    /// Validates the policy and prepares its header value, so that each response only has to
    /// splice in its nonce.
    pub fn compile(self) -> Result<CompiledCsp, ConfigError> {
        if self.report_only
            && !self.contains(Directive::ReportUri)
            && !self.contains(Directive::ReportTo)
        {
            return Err(ConfigError::ReportOnlyWithoutEndpoint);
        }
        let mut template = Template::default();
        for (directive, value) in &self.directives {
            let name = directive.as_str();
            template.start_directive(name);
            match value {
                Value::Sources(sources) => {
                    if directive.kind() != ValueKind::SourceList {
                        return Err(ConfigError::InvalidDirectiveValue {
                            directive: name,
                            reason: "this directive does not take a source list".into(),
                        });
                    }
                    for source in sources {
                        source.validate(name)?;
                    }
                    let is_none = sources.is_empty() || sources.contains(&Source::None);
                    if is_none && sources.len() > 1 {
                        return Err(ConfigError::NoneNotAlone(name));
                    }
                    if is_none {
                        template.push_word("'none'");
                        continue;
                    }
                    if self.nonce_in.contains(directive) {
                        template.push_nonce();
                    }
                    for source in sources {
                        template.push_word(&source.to_string());
                    }
                }
                Value::Tokens(tokens) => {
                    if directive.kind() == ValueKind::SourceList {
                        return Err(ConfigError::InvalidDirectiveValue {
                            directive: name,
                            reason: "this directive takes a source list".into(),
                        });
                    }
                    validate_tokens(*directive, tokens)?;
                    for token in tokens {
                        template.push_word(token);
                    }
                }
            }
        }
        let reporting_endpoints = match &self.reporting_endpoint {
            Some((group, url)) => {
                if !structured_field::is_key(group) || !is_uri_reference(url) {
                    return Err(ConfigError::InvalidHeaderValue {
                        header: "reporting-endpoints",
                    });
                }
                Some(
                    HeaderValue::try_from(format!("{group}=\"{url}\"")).map_err(|_| {
                        ConfigError::InvalidHeaderValue {
                            header: "reporting-endpoints",
                        }
                    })?,
                )
            }
            None => None,
        };
        let segments = template.finish();
        for segment in &segments {
            check_header_value("content-security-policy", segment)?;
        }
        Ok(CompiledCsp {
            has_frame_ancestors: self.contains(Directive::FrameAncestors),
            report_only: self.report_only,
            segments,
            reporting_endpoints,
        })
    }
}

/// Accumulates the policy text, cut where nonces go.
#[derive(Default)]
struct Template {
    segments: Vec<String>,
    current: String,
}

impl Template {
    fn start_directive(&mut self, name: &str) {
        if !self.current.is_empty() || !self.segments.is_empty() {
            self.current.push_str("; ");
        }
        self.current.push_str(name);
    }

    fn push_word(&mut self, word: &str) {
        self.current.push(' ');
        self.current.push_str(word);
    }

    fn push_nonce(&mut self) {
        self.current.push_str(" 'nonce-");
        self.segments.push(std::mem::take(&mut self.current));
        self.current.push('\'');
    }

    fn finish(mut self) -> Vec<String> {
        self.segments.push(self.current);
        self.segments
    }
}

/// A validated policy, ready to be rendered once per response.
#[derive(Debug, Clone)]
pub struct CompiledCsp {
    /// The policy text, split where the nonce goes: `segments.len() - 1` nonces.
    segments: Vec<String>,
    report_only: bool,
    reporting_endpoints: Option<HeaderValue>,
    has_frame_ancestors: bool,
}

impl CompiledCsp {
    /// `Content-Security-Policy`, or `Content-Security-Policy-Report-Only` in report-only mode.
    pub fn header_name(&self) -> HeaderName {
        if self.report_only {
            CONTENT_SECURITY_POLICY_REPORT_ONLY
        } else {
            CONTENT_SECURITY_POLICY
        }
    }

    /// Whether the policy is sent in report-only mode.
    pub fn is_report_only(&self) -> bool {
        self.report_only
    }

    /// Whether a rendered policy contains the response's nonce.
    pub fn uses_nonce(&self) -> bool {
        self.segments.len() > 1
    }

    /// Whether the policy itself sets `frame-ancestors`.
    pub(crate) fn has_frame_ancestors(&self) -> bool {
        self.has_frame_ancestors
    }

    /// The `Reporting-Endpoints` header value, when the policy reports with `report-to`.
    pub fn reporting_endpoints(&self) -> Option<&HeaderValue> {
        self.reporting_endpoints.as_ref()
    }

    /// The header value for one response: the policy with `nonce` spliced in, followed by
    /// `frame_ancestors` (a rendered `frame-ancestors …` directive) when given.
    ///
    /// Returns `None` only for an empty policy with no `frame-ancestors`.
    pub fn render(&self, nonce: &CspNonce, frame_ancestors: Option<&str>) -> Option<HeaderValue> {
        let nonce = nonce.as_str();
        let policy_len: usize = self.segments.iter().map(String::len).sum();
        let mut text = String::with_capacity(
            policy_len
                + nonce.len() * (self.segments.len() - 1)
                + frame_ancestors.map_or(0, |f| f.len() + 2),
        );
        for (i, segment) in self.segments.iter().enumerate() {
            if i > 0 {
                text.push_str(nonce);
            }
            text.push_str(segment);
        }
        if let Some(frame_ancestors) = frame_ancestors {
            if !text.is_empty() {
                text.push_str("; ");
            }
            text.push_str(frame_ancestors);
        }
        if text.is_empty() {
            return None;
        }
        // Every piece was validated when the policy was compiled and the nonce is base64url.
        HeaderValue::try_from(text).ok()
    }
}

#[cfg(test)]
mod tests;
