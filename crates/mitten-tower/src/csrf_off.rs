//! Without the `csrf` feature: the stand-ins for the CSRF check's state in the response future,
//! none of which can exist.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::task::{Context, Poll};

use http::{Request, Response};

/// What a checked response gets: never made.
pub(crate) struct After {
    never: Infallible,
}

impl After {
    pub(crate) fn finish<B>(&self, _response: Response<B>) -> Response<B> {
        match self.never {}
    }
}

/// A token check's outcome: the inner service and the request to call it with, or the refusal.
pub(crate) type Verified<S, B, R> = Result<(S, Request<B>), Response<R>>;

/// A request waiting for its token check: never made.
pub(crate) struct Verification<S, B> {
    never: Infallible,
    types: PhantomData<fn() -> (S, B)>,
}

impl<S, B> Verification<S, B> {
    pub(crate) fn poll<R>(
        &mut self,
        _cx: &mut Context<'_>,
        _wants_json: bool,
    ) -> Poll<Verified<S, B, R>> {
        let _ = &self.types;
        match self.never {}
    }
}
