//! The crate's one error type, grouped by the stage that failed.
//!
//! Dependency errors (hyper, rustls, serde_json, io) are carried as boxed
//! sources, never as public variants, so upgrading a dependency never breaks a
//! `match`. Each variant's Display names what failed and where; the underlying
//! cause is reachable through [`std::error::Error::source`], not repeated in
//! Display.

use crate::ApiVersion;

/// A boxed dependency error kept as the `source()` of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong talking to a Docker daemon.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client configuration is unusable: a bad `DOCKER_HOST`, a missing
    /// context, an unreadable certificate, a malformed `config.json`.
    #[error("configuration error: {message}")]
    Config {
        /// What was wrong, naming the offending value and where it came from.
        message: String,
        /// The underlying cause, when there is one.
        #[source]
        source: Option<BoxError>,
    },

    /// The connection to the daemon could not be made or broke.
    #[error("cannot connect to the Docker daemon at {host}")]
    Connect {
        /// The daemon address that was tried.
        host: String,
        /// The underlying cause.
        #[source]
        source: BoxError,
    },

    /// A deadline passed: connecting, or waiting for the response headers.
    #[error("timed out after {after:?} while {during}")]
    Timeout {
        /// The stage that timed out (`"connecting"`, `"waiting for response headers"`).
        during: &'static str,
        /// The configured limit.
        after: std::time::Duration,
    },

    /// The daemon answered with an error status, or reported an error
    /// inside a stream it had answered with 200 (a failed pull or build).
    #[error("{operation}: {}: {message}", api_origin(.status))]
    Api {
        /// HTTP status code (0 for an error reported inside a 200 stream).
        status: u16,
        /// The daemon's message (its `message` field, or the body text).
        message: String,
        /// The operation id, e.g. `ContainerInspect`.
        operation: &'static str,
    },

    /// A response body could not be decoded into the expected type.
    #[error("{operation}: cannot decode response at {path}: {snippet}")]
    Decode {
        /// The operation id.
        operation: &'static str,
        /// The JSON path of the value that failed, e.g. `.Containers[3].State`.
        path: String,
        /// A short excerpt of the offending input.
        snippet: String,
        /// The underlying decode error.
        #[source]
        source: BoxError,
    },

    /// The daemon broke the wire protocol: a truncated stream, a bad frame, an
    /// unexpected status for a connection upgrade.
    #[error("protocol error: {message}")]
    Protocol {
        /// What was wrong.
        message: String,
        /// The underlying cause, when there is one.
        #[source]
        source: Option<BoxError>,
    },

    /// The request needs a newer API version than the one negotiated with the
    /// daemon. Nothing was sent.
    #[error("{what} requires API {needs}, but the daemon connection uses API {negotiated}")]
    UnsupportedByVersion {
        /// The operation or parameter, e.g. `ImageAttestations` or `ContainerList: platform`.
        what: String,
        /// The first API version that has it.
        needs: ApiVersion,
        /// The version in use.
        negotiated: ApiVersion,
    },

    /// The request sets a field or parameter (or is an operation) that the
    /// daemon's operating system does not have, as the API specification
    /// states it: Windows-only settings on a Linux daemon, settings a
    /// Windows daemon refuses. Nothing was sent. See
    /// [`crate::models::FieldPlatforms`].
    #[error("{what} is {platform}, but the daemon runs on {daemon_os}")]
    UnsupportedOnPlatform {
        /// The operation and what in it, e.g. ``ContainerCreate body field `HostConfig.CpuCount` ``.
        what: String,
        /// What the specification says: `Windows only`, `not on Windows`.
        platform: String,
        /// The daemon's OS as it reported it (`linux`, `windows`).
        daemon_os: String,
    },

    /// An argument given by the caller was rejected before anything was sent
    /// (an empty identifier, a `..` path segment, a control character).
    #[error("invalid argument {name}: {message}")]
    InvalidArgument {
        /// The parameter name.
        name: &'static str,
        /// Why it was rejected.
        message: String,
    },

    /// Safe extraction of a tar archive refused an entry that could write
    /// outside the destination directory (see [`crate::copy::unpack`]).
    /// Nothing was written for the entry, nor for the ones after it.
    #[error("archive entry {entry:?} refused: {reason}")]
    UnsafeArchiveEntry {
        /// The entry's path as the archive names it.
        entry: String,
        /// Why it was refused.
        reason: crate::copy::Refusal,
    },

    /// Local I/O failed (reading a build context, writing an extracted file).
    #[error("I/O error: {context}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying cause.
        #[source]
        source: std::io::Error,
    },
}

/// How an `Api` error reached us, for its message.
fn api_origin(status: &u16) -> String {
    match status {
        0 => "the daemon reported an error in the stream".to_owned(),
        s => format!("daemon returned {s}"),
    }
}

#[allow(dead_code)] // `config` and `protocol` are used by the client layers.
impl Error {
    /// True for a daemon `404 Not Found` (no such container, image, network…).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api { status: 404, .. })
    }

    /// True for a daemon `409 Conflict` (name in use, container running…).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Api { status: 409, .. })
    }

    /// The HTTP status of a daemon error, if this is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A configuration error without an underlying cause.
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            source: None,
        }
    }

    /// A protocol error without an underlying cause.
    pub(crate) fn protocol(message: impl Into<String>) -> Self {
        Error::Protocol {
            message: message.into(),
            source: None,
        }
    }
}

/// `Result<T, dockhand::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_classify_statuses() {
        let e = Error::Api {
            status: 404,
            message: "No such container: x".into(),
            operation: "ContainerInspect",
        };
        assert!(e.is_not_found() && !e.is_conflict());
        assert_eq!(
            e.to_string(),
            "ContainerInspect: daemon returned 404: No such container: x"
        );
        assert_eq!(Error::config("x").status(), None);
        // An error inside a 200 stream says so instead of "returned 0".
        let e = Error::Api {
            status: 0,
            message: "manifest unknown".into(),
            operation: "ImageCreate",
        };
        assert_eq!(
            e.to_string(),
            "ImageCreate: the daemon reported an error in the stream: manifest unknown"
        );
    }
}
