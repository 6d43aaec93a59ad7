//! The single-valued security headers: framing, referrer and cross-origin isolation policies.

use http::HeaderValue;

use crate::csp::Source;
use crate::error::ConfigError;

/// Who may put this page in a frame: `X-Frame-Options` and CSP `frame-ancestors`, kept consistent.
///
/// **Attack:** clickjacking, a hostile page framing yours under a decoy. **Defence:** both
/// headers (`frame-ancestors` for current browsers, `X-Frame-Options` for old ones).
/// **Default:** [`FrameOptions::Deny`].
///
/// | option | `X-Frame-Options` | `frame-ancestors` |
/// |---|---|---|
/// | `Deny` | `DENY` | `'none'` |
/// | `SameOrigin` | `SAMEORIGIN` | `'self'` |
/// | `AllowFrom(list)` | (none: `ALLOW-FROM` is obsolete and ignored) | the list |
/// | `DangerAllowAny` | (none) | (none) |
///
/// ```
/// use mitten_core::csp::Source;
/// use mitten_core::headers::{FrameOptions, SecurityHeaders};
///
/// let embeddable = SecurityHeaders::strict()
///     .frame_options(FrameOptions::AllowFrom(vec![Source::host("https://partner.example")]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FrameOptions {
    /// No one may frame the page (the default).
    #[default]
    Deny,
    /// Only pages of the same origin may frame it.
    SameOrigin,
    /// Only these origins (and, if listed, `'self'`) may frame it. Browsers too old for
    /// `frame-ancestors` get no protection from this option.
    AllowFrom(Vec<Source>),
    /// Anyone may frame the page: no clickjacking protection at all.
    DangerAllowAny,
}

/// The rendered framing headers.
#[derive(Debug, Clone, Default)]
pub(crate) struct CompiledFraming {
    pub(crate) x_frame_options: Option<HeaderValue>,
    /// A whole `frame-ancestors …` directive, ready to append to a policy.
    pub(crate) frame_ancestors: Option<String>,
}

impl FrameOptions {
    pub(crate) fn compile(&self) -> Result<CompiledFraming, ConfigError> {
        Ok(match self {
            Self::Deny => CompiledFraming {
                x_frame_options: Some(HeaderValue::from_static("DENY")),
                frame_ancestors: Some("frame-ancestors 'none'".into()),
            },
            Self::SameOrigin => CompiledFraming {
                x_frame_options: Some(HeaderValue::from_static("SAMEORIGIN")),
                frame_ancestors: Some("frame-ancestors 'self'".into()),
            },
            Self::AllowFrom(sources) => {
                let mut directive = String::from("frame-ancestors");
                if sources.is_empty() {
                    directive.push_str(" 'none'");
                }
                for source in sources {
                    match source {
                        Source::SelfOrigin
                        | Source::None
                        | Source::Wildcard
                        | Source::Scheme(_)
                        | Source::Host(_) => source.validate("frame-ancestors")?,
                        _ => {
                            return Err(ConfigError::InvalidSource {
                                directive: "frame-ancestors",
                                source: source.to_string(),
                                reason: "frame-ancestors takes only 'self', 'none', schemes and hosts",
                            });
                        }
                    }
                    if *source == Source::None && sources.len() > 1 {
                        return Err(ConfigError::NoneNotAlone("frame-ancestors"));
                    }
                    directive.push(' ');
                    directive.push_str(&source.to_string());
                }
                CompiledFraming {
                    x_frame_options: None,
                    frame_ancestors: Some(directive),
                }
            }
            Self::DangerAllowAny => CompiledFraming::default(),
        })
    }
}

macro_rules! keyword_header {
    (
        $(#[$doc:meta])*
        $name:ident { $( $(#[$vdoc:meta])* $variant:ident => $text:literal ),* $(,)? }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )*
        }

        impl $name {
            /// The header value.
            pub const fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $text, )* }
            }

            pub(crate) fn header_value(self) -> HeaderValue {
                HeaderValue::from_static(self.as_str())
            }
        }
    };
}

keyword_header! {
    /// `Referrer-Policy`: how much of this page's URL other requests carry.
    ///
    /// **Default:** `strict-origin-when-cross-origin` (the browser default, and Flask-Talisman's):
    /// same-origin requests keep a full `Referer`, which the CSRF Referer check relies on, and no
    /// path or query ever leaves the site. The `api` preset uses `no-referrer`.
    ReferrerPolicy {
        /// `no-referrer`
        NoReferrer => "no-referrer",
        /// `no-referrer-when-downgrade`
        NoReferrerWhenDowngrade => "no-referrer-when-downgrade",
        /// `origin`
        Origin => "origin",
        /// `origin-when-cross-origin`
        OriginWhenCrossOrigin => "origin-when-cross-origin",
        /// `same-origin`
        SameOrigin => "same-origin",
        /// `strict-origin`
        StrictOrigin => "strict-origin",
        /// `strict-origin-when-cross-origin`
        StrictOriginWhenCrossOrigin => "strict-origin-when-cross-origin",
        /// `unsafe-url`: leaks full URLs to every site; avoid.
        UnsafeUrl => "unsafe-url",
    }
}

keyword_header! {
    /// `Cross-Origin-Opener-Policy`: whether cross-origin windows keep a handle on this one.
    ///
    /// **Default:** `same-origin`, which stops cross-window attacks (XS-Leaks, tabnabbing).
    CrossOriginOpenerPolicy {
        /// `same-origin`
        SameOrigin => "same-origin",
        /// `same-origin-allow-popups`: needed by some OAuth popup flows.
        SameOriginAllowPopups => "same-origin-allow-popups",
        /// `noopener-allow-popups`
        NoopenerAllowPopups => "noopener-allow-popups",
        /// `unsafe-none`: no isolation.
        UnsafeNone => "unsafe-none",
    }
}

keyword_header! {
    /// `Cross-Origin-Resource-Policy`: who may load this response as a subresource.
    ///
    /// **Default:** `same-origin`, which also stops cross-site `<script src>` inclusion of JSON.
    CrossOriginResourcePolicy {
        /// `same-origin`
        SameOrigin => "same-origin",
        /// `same-site`
        SameSite => "same-site",
        /// `cross-origin`: anyone; for public CDNs and assets.
        CrossOrigin => "cross-origin",
    }
}

keyword_header! {
    /// `Cross-Origin-Embedder-Policy`: require subresources to opt in to being loaded.
    ///
    /// **Default:** not sent; it breaks third-party embeds that do not send CORP or CORS, and is
    /// only needed for cross-origin isolation (`SharedArrayBuffer`, precise timers).
    CrossOriginEmbedderPolicy {
        /// `require-corp`
        RequireCorp => "require-corp",
        /// `credentialless`
        Credentialless => "credentialless",
        /// `unsafe-none`
        UnsafeNone => "unsafe-none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_is_consistent() {
        let deny = FrameOptions::Deny.compile().expect("valid");
        assert_eq!(deny.x_frame_options.expect("xfo"), "DENY");
        assert_eq!(
            deny.frame_ancestors.as_deref(),
            Some("frame-ancestors 'none'")
        );
        let same = FrameOptions::SameOrigin.compile().expect("valid");
        assert_eq!(same.x_frame_options.expect("xfo"), "SAMEORIGIN");
        assert_eq!(
            same.frame_ancestors.as_deref(),
            Some("frame-ancestors 'self'")
        );
        let list =
            FrameOptions::AllowFrom(vec![Source::SelfOrigin, Source::host("https://a.example")])
                .compile()
                .expect("valid");
        assert!(list.x_frame_options.is_none());
        assert_eq!(
            list.frame_ancestors.as_deref(),
            Some("frame-ancestors 'self' https://a.example")
        );
        let any = FrameOptions::DangerAllowAny.compile().expect("valid");
        assert!(any.x_frame_options.is_none() && any.frame_ancestors.is_none());
    }

    #[test]
    fn framing_rejects_bad_sources() {
        assert!(
            FrameOptions::AllowFrom(vec![Source::host("a.example; script-src *")])
                .compile()
                .is_err()
        );
        assert!(
            FrameOptions::AllowFrom(vec![Source::UnsafeInline])
                .compile()
                .is_err()
        );
        assert!(
            FrameOptions::AllowFrom(vec![Source::None, Source::SelfOrigin])
                .compile()
                .is_err()
        );
    }
}
