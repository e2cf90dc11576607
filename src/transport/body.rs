//! Request bodies as the transport sends them.

use crate::error::BoxError;
use bytes::Bytes;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full};

/// A request body as the transport sends it.
pub type RequestBody = UnsyncBoxBody<Bytes, BoxError>;

/// An empty request body.
pub fn empty_body() -> RequestBody {
    Empty::new().map_err(|e| match e {}).boxed_unsync()
}

/// A request body of these bytes.
pub fn full_body(bytes: Bytes) -> RequestBody {
    Full::new(bytes).map_err(|e| match e {}).boxed_unsync()
}

/// An error of a streamed request body (a build context or an archive read
/// from disk): a local failure, told apart from the connection's.
#[derive(Debug)]
pub(super) struct LocalBodyError(pub(super) BoxError);

impl std::fmt::Display for LocalBodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reading the request body failed")
    }
}

impl std::error::Error for LocalBodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// `body` with its errors marked as local ([`LocalBodyError`]).
pub(super) fn marked(body: RequestBody) -> RequestBody {
    body.map_err(|e| Box::new(LocalBodyError(e)) as BoxError)
        .boxed_unsync()
}
