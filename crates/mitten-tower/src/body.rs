//! The JSON guard's response body: the application's, perhaps after an anti-hijacking prefix.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// The body of a response that passed through the
    /// [`JsonGuardLayer`](crate::JsonGuardLayer): the inner service's body untouched, or after
    /// the configured prefix (`)]}',` and a newline, for instance).
    ///
    /// The [`MittenLayer`](crate::MittenLayer) does not wrap bodies: its responses keep the
    /// application's body type (which must be `From<Bytes>` for Mitten's own short answers, as
    /// axum's `Body` is), so axum need not box them again.
    #[derive(Debug)]
    pub struct MittenBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    #[derive(Debug)]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Prefixed { prefix: Option<Bytes>, #[pin] body: B },
    }
}

impl<B> MittenBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    pub(crate) fn prefixed(prefix: &'static [u8], body: B) -> Self {
        Self {
            kind: Kind::Prefixed {
                prefix: Some(Bytes::from_static(prefix)),
                body,
            },
        }
    }
}

impl<B> Body for MittenBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Prefixed { prefix, body } => match prefix.take() {
                Some(prefix) => Poll::Ready(Some(Ok(Frame::data(prefix)))),
                None => body.poll_frame(cx),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Prefixed { prefix, body } => prefix.is_none() && body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Prefixed { prefix, body } => {
                let extra = prefix.as_ref().map_or(0, |p| p.len() as u64);
                let inner = body.size_hint();
                let mut hint = SizeHint::new();
                hint.set_lower(inner.lower() + extra);
                if let Some(upper) = inner.upper() {
                    hint.set_upper(upper + extra);
                }
                hint
            }
        }
    }
}
