//! # dockhand
//!
//! A typed, streaming client for the Docker Engine API.
//!
//! The request and response types in [`models`] and the operation table in
//! [`operations`] are generated from the upstream Engine API specifications
//! (v1.25 to v1.56) by the `codegen` crate of this workspace; everything else
//! is written by hand.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod api;
pub mod auth;
mod body;
pub mod build;
#[cfg(feature = "buildkit")]
pub mod buildkit;
mod client;
mod codec;
pub mod config;
pub mod copy;
pub mod error;
#[doc(hidden)]
pub mod model_support;
pub mod models;
mod operation_support;
pub mod operations;
mod request;
pub mod stream;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod transport;
mod version;

pub use body::Body;
pub use client::{DaemonInfo, Docker, DockerBuilder, RawRequest, RawResponse};
pub use error::{Error, Result};
pub use version::{ApiVersion, ParseApiVersionError};

/// The library's own decoding, for `dockhand-bench decode-count` (the
/// decode rows of bench/RESULTS.md count what the client does, not a
/// stand-in). Not part of the API.
#[doc(hidden)]
pub mod bench_support {
    /// A response body decoded as the client decodes it.
    pub fn decode_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> crate::Result<T> {
        crate::codec::decode_json("bench", bytes)
    }

    /// One message of a JSON stream whose type has no in-band error fields
    /// (events, stats) as the stream decodes it: its in-band error looked
    /// for, then its value decoded.
    pub fn decode_message<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> crate::Result<T> {
        crate::stream::json::decode_message("bench", bytes)
    }

    /// One message of a pull's progress stream as that stream decodes it:
    /// decoded, then its in-band error read from the typed value.
    pub fn decode_progress_message(bytes: &[u8]) -> crate::Result<crate::models::CreateImageInfo> {
        crate::stream::json::decode_typed_message("bench", bytes)
    }
}

/// The README's code blocks, compiled as doc tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
