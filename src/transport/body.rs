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
