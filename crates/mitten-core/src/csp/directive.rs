//! The directives of CSP Level 3 and what kind of value each takes.

use std::fmt;
use std::str::FromStr;

use crate::error::ConfigError;

/// The kind of value a directive takes; decides how its value is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValueKind {
    /// A source list (`'self' https://cdn.example.com`).
    SourceList,
    /// `sandbox`: zero or more `allow-*` flags.
    Sandbox,
    /// `report-uri`: one or more URI references.
    ReportUri,
    /// `report-to`: one endpoint name.
    ReportTo,
    /// `require-trusted-types-for`: `'script'`.
    RequireTrustedTypesFor,
    /// `trusted-types`: policy names and keywords.
    TrustedTypes,
    /// `webrtc`: `'allow'` or `'block'`.
    Webrtc,
    /// No value at all (`upgrade-insecure-requests`).
    Flag,
}

macro_rules! directives {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, $kind:ident; )*) => {
        /// A directive of CSP Level 3 (and the few later additions browsers ship).
        ///
        /// Parsing a name that is not in this list is a [`ConfigError::UnknownDirective`], so a
        /// typo such as `scirpt-src` is caught at start-up instead of silently ignored by browsers.
        ///
        /// ```
        /// use mitten_core::csp::Directive;
        ///
        /// assert_eq!("script-src".parse::<Directive>(), Ok(Directive::ScriptSrc));
        /// assert!("scirpt-src".parse::<Directive>().is_err());
        /// assert_eq!(Directive::FrameAncestors.as_str(), "frame-ancestors");
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Directive {
            $( $(#[$doc])* $variant, )*
        }

        impl Directive {
            /// Every directive Mitten knows.
            pub const ALL: &'static [Directive] = &[ $( Directive::$variant, )* ];

            /// The directive's name as it appears in a policy.
            pub const fn as_str(self) -> &'static str {
                match self { $( Directive::$variant => $name, )* }
            }

            pub(crate) const fn kind(self) -> ValueKind {
                match self { $( Directive::$variant => ValueKind::$kind, )* }
            }
        }
    };
}

directives! {
    /// `child-src`: workers and nested browsing contexts (fallback for `frame-src`, `worker-src`).
    ChildSrc => "child-src", SourceList;
    /// `connect-src`: fetch, XHR, WebSocket, EventSource.
    ConnectSrc => "connect-src", SourceList;
    /// `default-src`: the fallback for every other fetch directive.
    DefaultSrc => "default-src", SourceList;
    /// `fenced-frame-src`: `<fencedframe>` contents.
    FencedFrameSrc => "fenced-frame-src", SourceList;
    /// `font-src`: web fonts.
    FontSrc => "font-src", SourceList;
    /// `frame-src`: `<iframe>` and `<frame>` contents.
    FrameSrc => "frame-src", SourceList;
    /// `img-src`: images and favicons.
    ImgSrc => "img-src", SourceList;
    /// `manifest-src`: application manifests.
    ManifestSrc => "manifest-src", SourceList;
    /// `media-src`: `<audio>`, `<video>`, `<track>`.
    MediaSrc => "media-src", SourceList;
    /// `object-src`: `<object>` and `<embed>`; keep it `'none'`.
    ObjectSrc => "object-src", SourceList;
    /// `prefetch-src` (deprecated): prefetched resources.
    PrefetchSrc => "prefetch-src", SourceList;
    /// `script-src`: scripts.
    ScriptSrc => "script-src", SourceList;
    /// `script-src-elem`: `<script>` elements.
    ScriptSrcElem => "script-src-elem", SourceList;
    /// `script-src-attr`: inline event handlers.
    ScriptSrcAttr => "script-src-attr", SourceList;
    /// `style-src`: stylesheets.
    StyleSrc => "style-src", SourceList;
    /// `style-src-elem`: `<style>` and `<link rel=stylesheet>`.
    StyleSrcElem => "style-src-elem", SourceList;
    /// `style-src-attr`: `style` attributes.
    StyleSrcAttr => "style-src-attr", SourceList;
    /// `worker-src`: workers and service workers.
    WorkerSrc => "worker-src", SourceList;
    /// `base-uri`: allowed `<base href>`; `'none'` stops base-tag injection.
    BaseUri => "base-uri", SourceList;
    /// `form-action`: where forms may submit.
    FormAction => "form-action", SourceList;
    /// `frame-ancestors`: who may frame this page (set it through `FrameOptions`).
    FrameAncestors => "frame-ancestors", SourceList;
    /// `sandbox`: apply an iframe-like sandbox to the page.
    Sandbox => "sandbox", Sandbox;
    /// `report-uri` (deprecated in favour of `report-to`, still the widely supported one).
    ReportUri => "report-uri", ReportUri;
    /// `report-to`: a `Reporting-Endpoints` group name.
    ReportTo => "report-to", ReportTo;
    /// `require-trusted-types-for 'script'`.
    RequireTrustedTypesFor => "require-trusted-types-for", RequireTrustedTypesFor;
    /// `trusted-types`: allowed Trusted Types policy names.
    TrustedTypes => "trusted-types", TrustedTypes;
    /// `upgrade-insecure-requests`: load `http:` subresources over `https:`.
    UpgradeInsecureRequests => "upgrade-insecure-requests", Flag;
    /// `block-all-mixed-content` (deprecated).
    BlockAllMixedContent => "block-all-mixed-content", Flag;
    /// `webrtc`: `'allow'` or `'block'` WebRTC connections.
    Webrtc => "webrtc", Webrtc;
}

impl FromStr for Directive {
    type Err = ConfigError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|directive| directive.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| ConfigError::UnknownDirective(name.escape_debug().to_string()))
    }
}

impl fmt::Display for Directive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sandbox flags accepted by the `sandbox` directive.
const SANDBOX_FLAGS: &[&str] = &[
    "allow-downloads",
    "allow-forms",
    "allow-modals",
    "allow-orientation-lock",
    "allow-pointer-lock",
    "allow-popups",
    "allow-popups-to-escape-sandbox",
    "allow-presentation",
    "allow-same-origin",
    "allow-scripts",
    "allow-storage-access-by-user-activation",
    "allow-top-navigation",
    "allow-top-navigation-by-user-activation",
    "allow-top-navigation-to-custom-protocols",
];

/// Validates the tokens of a directive whose value is not a source list.
pub(crate) fn validate_tokens(directive: Directive, tokens: &[String]) -> Result<(), ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidDirectiveValue {
        directive: directive.as_str(),
        reason,
    };
    let all = |ok: &dyn Fn(&str) -> bool, what: &str| match tokens.iter().find(|t| !ok(t)) {
        Some(bad) => Err(invalid(format!("`{}` is not {what}", bad.escape_debug()))),
        None => Ok(()),
    };
    match directive.kind() {
        ValueKind::SourceList => Ok(()),
        ValueKind::Flag if tokens.is_empty() => Ok(()),
        ValueKind::Flag => Err(invalid("this directive takes no value".into())),
        ValueKind::Sandbox => all(&|t| SANDBOX_FLAGS.contains(&t), "a sandbox flag"),
        ValueKind::ReportUri if tokens.is_empty() => Err(invalid("a URI is required".into())),
        ValueKind::ReportUri => all(
            &is_uri_reference,
            "a URI without spaces, `;`, `,`, quotes or `\\`",
        ),
        ValueKind::ReportTo if tokens.len() != 1 => {
            Err(invalid("exactly one endpoint name is required".into()))
        }
        ValueKind::ReportTo => all(&is_token, "an endpoint name (letters, digits, `-`, `_`)"),
        ValueKind::RequireTrustedTypesFor => all(&|t| t == "'script'", "`'script'`"),
        ValueKind::TrustedTypes => all(
            &|t| matches!(t, "'none'" | "'allow-duplicates'" | "*") || is_policy_name(t),
            "a Trusted Types policy name or keyword",
        ),
        ValueKind::Webrtc if tokens.len() != 1 => {
            Err(invalid("exactly one of `'allow'` or `'block'`".into()))
        }
        ValueKind::Webrtc => all(
            &|t| t == "'allow'" || t == "'block'",
            "`'allow'` or `'block'`",
        ),
    }
}

pub(crate) fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_policy_name(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'-' | b'#' | b'=' | b'_' | b'/' | b'@' | b'.' | b'%')
        })
}

/// A URI reference fit to appear in a policy and in `Reporting-Endpoints`' quoted string:
/// visible ASCII without `;`, `,`, quotes or a backslash (which would escape the closing quote).
pub(crate) fn is_uri_reference(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'\'' | b'"' | b'\\'))
}
