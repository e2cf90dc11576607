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

    /// No connection to the daemon could be made (refused, no such socket,
    /// TLS handshake or ssh failed). Nothing was sent.
    #[error("cannot connect to the Docker daemon at {host}")]
    Connect {
        /// The daemon address that was tried.
        host: String,
        /// The underlying cause.
        #[source]
        source: BoxError,
    },

    /// A connection was made (or taken from the pool) but it closed before
    /// any byte of the request was written: nothing reached the daemon, and
    /// sending the request again is safe whatever it does. (The transport
    /// already did so on fresh connections before giving up.)
    #[error("{operation}: the connection to {host} closed before the request was sent; nothing reached the daemon")]
    NotSent {
        /// The operation id, e.g. `ContainerCreate`.
        operation: &'static str,
        /// The daemon address.
        host: String,
        /// The underlying cause.
        #[source]
        source: BoxError,
    },

    /// The request was sent (at least in part) and the connection broke
    /// before a complete answer came back: the daemon may or may not have
    /// acted on it. Sending it again is only safe when it is `idempotent`.
    #[error("{operation}: the connection to {host} broke after the request was sent; whether the daemon acted on it is unknown")]
    Interrupted {
        /// The operation id, e.g. `ContainerCreate`.
        operation: &'static str,
        /// The daemon address.
        host: String,
        /// Whether the request's HTTP method is idempotent (GET, HEAD, PUT,
        /// DELETE): doing it twice has the effect of doing it once.
        idempotent: bool,
        /// The underlying cause.
        #[source]
        source: BoxError,
    },

    /// A deadline passed: connecting, waiting for the response headers, or
    /// the whole request (see `DockerBuilder::request_timeout`).
    #[error("timed out after {after:?} while {during}")]
    Timeout {
        /// The stage that timed out (`"connecting"`, `"waiting for response
        /// headers"`, `"reading the response body"`).
        during: &'static str,
        /// The configured limit.
        after: std::time::Duration,
        /// Whether sending the request again is safe: nothing reached the
        /// daemon (a connect timeout), or the operation is idempotent.
        retryable: bool,
    },

    /// A buffered (non-streaming) response body was larger than the cap
    /// (`DockerBuilder::max_response_body`). Nothing more was read.
    #[error("{operation}: the response body is larger than the {limit}-byte cap")]
    ResponseTooLarge {
        /// The operation id, e.g. `ContainerList`.
        operation: &'static str,
        /// The cap, in bytes.
        limit: usize,
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

    /// The daemon broke the wire protocol: an answer that is not HTTP (an
    /// ssh banner on a TCP port), a truncated stream, a bad frame, an
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
        reason: Refusal,
    },

    /// A BuildKit build failed: the daemon's message, and the step that
    /// failed with the end of its output (what it printed before failing).
    #[error("ImageBuild: the build failed{}: {message}", build_step(.step))]
    BuildFailed {
        /// The daemon's message (`process "/bin/sh -c make" did not
        /// complete successfully: exit code: 2`).
        message: String,
        /// The failing step's name (`[build 3/4] RUN make`), when known.
        step: Option<String>,
        /// The failing step's output (its last 64 KiB).
        log: String,
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

/// The errors Podman (libpod, containers/storage, its network library) ends
/// a `500` message with where dockerd answers `409 Conflict`.
const PODMAN_CONFLICTS: &[&str] = &[
    "container state improper",
    "container already exists",
    "that name is already in use",
    "exec session state improper",
    "volume already exists",
    "volume is being used",
    "network already exists",
    "network is being used",
    "image is being used",
    "pod already exists",
];

/// The step of a failed build, for its message.
fn build_step(step: &Option<String>) -> String {
    match step {
        Some(s) => format!(" at {s}"),
        None => String::new(),
    }
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
    /// True for a timeout (connecting, waiting for headers, the whole request).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// True when the transport failed: no connection could be made
    /// ([`Error::Connect`]), the connection closed before the request was sent
    /// ([`Error::NotSent`]), or broke after it was sent ([`Error::Interrupted`]).
    pub fn is_connect(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. } | Error::NotSent { .. } | Error::Interrupted { .. }
        )
    }

    /// True when sending the same request again is safe: nothing of it reached
    /// the daemon ([`Error::Connect`], [`Error::NotSent`], a connect timeout),
    /// or it may have but the operation is idempotent (GET, HEAD, PUT,
    /// DELETE). False for everything else: an answer from the daemon, a
    /// decode error, garbage on the wire, or a request that is not idempotent
    /// (a POST creating a container) whose answer was lost.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Connect { .. } | Error::NotSent { .. } => true,
            Error::Interrupted { idempotent, .. } => *idempotent,
            Error::Timeout { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// True for a daemon `404 Not Found` (no such container, image, network…).
    ///
    /// False for a `404` that names no object because the daemon has no
    /// such endpoint at all ([`Error::is_unknown_endpoint`]): a daemon or
    /// proxy that does not implement an operation has not said that the
    /// object is missing.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api { status: 404, .. }) && !self.is_unknown_endpoint()
    }

    /// True for a daemon `404` whose message is its HTTP router's own
    /// answer for a path it does not serve: dockerd's `page not found`,
    /// `Not Found` / `404 page not found` from Podman (which has no swarm,
    /// `containers/{id}/update`… in its compatible API) and from proxies in
    /// front of a daemon, or Podman's `Path /v1.41/plugins is not supported`. An operation the negotiated API
    /// version lacks is refused before sending instead
    /// ([`Error::UnsupportedByVersion`]).
    pub fn is_unknown_endpoint(&self) -> bool {
        match self {
            Error::Api {
                status: 404,
                message,
                ..
            } => {
                let m = message.trim();
                ["page not found", "not found", "404 page not found"]
                    .iter()
                    .any(|router| m.eq_ignore_ascii_case(router))
                    // Podman's answer for the compatible paths it leaves out.
                    || (m.starts_with("Path /") && m.ends_with(" is not supported"))
            }
            _ => false,
        }
    }

    /// True for a daemon `409 Conflict` (name in use, container running…).
    ///
    /// Podman answers some of these with `500` and its own error at the end
    /// of the message (`…: container state improper`, `…: that name is
    /// already in use`, `…: network is being used`): those are conflicts too.
    pub fn is_conflict(&self) -> bool {
        match self {
            Error::Api { status: 409, .. } => true,
            Error::Api {
                status: 500,
                message,
                ..
            } => {
                let m = message.trim_end();
                PODMAN_CONFLICTS.iter().any(|c| m.ends_with(c))
            }
            _ => false,
        }
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
    fn stages_say_what_is_safe_to_retry() {
        let src = || -> BoxError { "x".into() };
        let host = || "unix:///d.sock".to_owned();
        let cases = [
            (
                Error::Connect {
                    host: host(),
                    source: src(),
                },
                true,
                false,
                true,
            ),
            (
                Error::NotSent {
                    operation: "ContainerCreate",
                    host: host(),
                    source: src(),
                },
                true,
                false,
                true,
            ),
            (
                Error::Interrupted {
                    operation: "ContainerCreate",
                    host: host(),
                    idempotent: false,
                    source: src(),
                },
                true,
                false,
                false,
            ),
            (
                Error::Interrupted {
                    operation: "ContainerInspect",
                    host: host(),
                    idempotent: true,
                    source: src(),
                },
                true,
                false,
                true,
            ),
            (
                Error::Timeout {
                    during: "waiting for response headers",
                    after: std::time::Duration::from_secs(1),
                    retryable: false,
                },
                false,
                true,
                false,
            ),
            (Error::protocol("not HTTP"), false, false, false),
            (
                Error::ResponseTooLarge {
                    operation: "ContainerList",
                    limit: 10,
                },
                false,
                false,
                false,
            ),
            (
                Error::Api {
                    status: 500,
                    message: "x".into(),
                    operation: "ContainerCreate",
                },
                false,
                false,
                false,
            ),
        ];
        for (e, connect, timeout, retryable) in cases {
            assert_eq!(e.is_connect(), connect, "{e}");
            assert_eq!(e.is_timeout(), timeout, "{e}");
            assert_eq!(e.is_retryable(), retryable, "{e}");
        }
    }

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

    #[test]
    fn a_route_the_daemon_lacks_is_no_missing_object() {
        let api = |message: &str| Error::Api {
            status: 404,
            message: message.into(),
            operation: "SwarmInspect",
        };
        // dockerd's router, Podman's (Go's plain text), Go's default handler.
        for message in [
            "page not found",
            "Not Found",
            "Not Found\n",
            "404 page not found",
            "Path /v1.41/plugins is not supported",
        ] {
            let e = api(message);
            assert!(e.is_unknown_endpoint() && !e.is_not_found(), "{message:?}");
            assert_eq!(e.status(), Some(404));
        }
        // Objects that are missing, even when their names look like a route's answer.
        for message in [
            "No such container: page",
            "No such image: not found",
            "network not found not found",
            "plugin \"x\" not found",
        ] {
            let e = api(message);
            assert!(e.is_not_found() && !e.is_unknown_endpoint(), "{message:?}");
        }
        let other = Error::Api {
            status: 500,
            message: "page not found".into(),
            operation: "SwarmInspect",
        };
        assert!(!other.is_unknown_endpoint() && !other.is_not_found());
    }

    #[test]
    fn podmans_conflicts_answered_500_are_conflicts() {
        let api = |status: u16, message: &str| Error::Api {
            status,
            message: message.into(),
            operation: "ContainerCreate",
        };
        // Podman 4.3's own answers.
        for message in [
            "container create: creating container storage: the container name \"web\" is \
             already in use by 936d6c8c. You have to remove that container to be able to \
             reuse that name: that name is already in use",
            "cannot remove container 6277 as it is running - running or paused containers \
             cannot be removed without force: container state improper",
            "can only create exec sessions on running containers: container state improper",
            "\"podman\" has associated containers with it. Use -f to forcibly delete \
             containers and pods: network is being used",
            "network name web already used: network already exists",
        ] {
            assert!(api(500, message).is_conflict(), "{message}");
            assert!(!api(500, message).is_not_found());
        }
        assert!(api(
            409,
            "Conflict. The container name \"/web\" is already in use"
        )
        .is_conflict());
        // Other 500s are not, nor the phrase elsewhere than at the end, nor
        // another status with it.
        for e in [
            api(500, "OCI runtime error"),
            api(
                500,
                "container state improper: but something else went wrong",
            ),
            api(404, "no such container: container state improper"),
            api(0, "in a stream: container state improper"),
        ] {
            assert!(!e.is_conflict(), "{e}");
        }
    }
}

/// Why safe extraction refused an archive entry (the `reason` of
/// [`Error::UnsafeArchiveEntry`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The path has a `..` component.
    #[error("its path has a `..` component")]
    ParentComponent,
    /// The path is absolute.
    #[error("its path is absolute")]
    AbsolutePath,
    /// The path names nothing (empty, or only `.`), and the entry is not a directory.
    #[error("its path is empty")]
    EmptyPath,
    /// A symbolic or hard link whose target is absolute, climbs above the
    /// destination, or has a `..` after a name (which could climb through
    /// another link).
    #[error("its link target {target:?} may resolve outside the destination")]
    LinkEscapes {
        /// The link target as the archive gives it.
        target: String,
    },
    /// Writing the entry would go through a symbolic link on disk.
    #[error("its path goes through the symbolic link {link:?}")]
    ThroughSymlink {
        /// The link, relative to the destination.
        link: String,
    },
    /// A character or block device.
    #[error("it is a device file")]
    Device,
    /// A named pipe.
    #[error("it is a FIFO")]
    Fifo,
    /// Extraction was asked to rename the archive's root, and this entry is
    /// not under it.
    #[error("it is not under the archive's root {root:?}")]
    NotUnderRoot {
        /// The expected first path component.
        root: String,
    },
    /// An entry type extraction does not handle (given as the header's type byte).
    #[error("its entry type {0:?} is not supported")]
    UnsupportedType(char),
    /// Extracting it would go past one of the [`UnpackLimits`](crate::copy::UnpackLimits).
    #[error("it would go past the limit of {limit} {what} (UnpackLimits::{field})")]
    LimitExceeded {
        /// What is counted: `bytes per archive`, `entries per archive`, or
        /// `bytes in one long-name or PAX record`.
        what: &'static str,
        /// The [`UnpackLimits`](crate::copy::UnpackLimits) field that sets the limit.
        field: &'static str,
        /// The limit.
        limit: u64,
    },
}
