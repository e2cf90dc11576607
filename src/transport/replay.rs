//! When a request is sent again, and how far a failed request got: the
//! replay policy and the stage of a failure.
//!
//! Every connection counts the bytes written to it ([`ConnectionUse`]), and
//! the count is noted each time a response arrives on it. A request that
//! fails on a connection whose count has not moved since the last response
//! never reached the daemon (the connection's task died with its runtime,
//! or the daemon closed an idle connection before the request was written):
//! it is sent again on another connection, whatever its method. A request
//! that was written, at least in part, is sent again only when sending it
//! twice is harmless (GET or HEAD without a body) and the connection had
//! already carried a response (a stale kept-alive connection).

use super::RequestBody;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

/// How many times a request is sent again (each time on another connection).
pub(super) const MAX_REPLAYS: usize = 3;

/// The largest request body kept so the request can be sent again; a larger
/// or streamed body (a build context, an archive) is sent once.
pub(super) const REPLAY_BODY_LIMIT: u64 = 1 << 20;

/// Whether sending `req` twice is harmless: GET or HEAD, with no body.
pub(super) fn idempotent_without_body(req: &http::Request<RequestBody>) -> bool {
    use hyper::body::Body as _;
    (req.method() == http::Method::GET || req.method() == http::Method::HEAD)
        && req.body().size_hint().exact() == Some(0)
}

/// Whether doing `method` twice has the effect of doing it once (RFC 9110).
pub(crate) fn idempotent(method: &http::Method) -> bool {
    matches!(
        *method,
        http::Method::GET
            | http::Method::HEAD
            | http::Method::PUT
            | http::Method::DELETE
            | http::Method::OPTIONS
    )
}

/// How far a request that failed got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// No connection was made.
    NotConnected,
    /// A connection was there, but nothing of the request was written.
    NotSent,
    /// The request was written (at least in part); no complete answer came.
    /// `stale`: on a connection that had carried a response before, closed
    /// or reset under this request.
    SentOutcomeUnknown { stale: bool },
    /// The daemon answered something that is not HTTP.
    Garbage,
    /// The request body failed on our side (a file of a build context or
    /// an archive could not be read).
    LocalBody,
}

/// The stage of a failure of a request on the connection `used`.
/// `ssh_said`: the ssh child wrote something on its stderr.
pub(super) fn stage_of(e: &hyper::Error, used: Option<&ConnectionUse>, ssh_said: bool) -> Stage {
    classify(Some(e), used, ssh_said)
}

/// The stage of a failure whose causes are `src`, on the connection `used`.
///
/// Two failures look like a connection that broke under a request but are
/// connections that were never made: a TLS session the daemon refused (a
/// client certificate rejected after the handshake seemed done) and an ssh
/// child that could not reach the host (`ssh_said` something and exited).
/// Neither carried a byte back from the daemon.
fn classify(
    mut src: Option<&(dyn std::error::Error + 'static)>,
    used: Option<&ConnectionUse>,
    ssh_said: bool,
) -> Stage {
    #[cfg_attr(not(feature = "tls"), allow(unused_mut))]
    let (mut closed, mut tls, mut canceled) = (false, false, false);
    while let Some(s) = src {
        if s.is::<super::body::LocalBodyError>() {
            return Stage::LocalBody;
        }
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            if h.is_parse() || h.is_parse_status() {
                return Stage::Garbage;
            }
            // hyper hands a request back unsent as "canceled".
            canceled |= h.is_canceled();
            closed |= h.is_incomplete_message() || h.is_user();
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            #[cfg(feature = "tls")]
            {
                tls |= io.get_ref().is_some_and(|i| i.is::<rustls::Error>());
            }
            closed |= matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::UnexpectedEof
            );
        }
        src = s.source();
    }
    let heard_back = used.is_some_and(|u| u.0.heard_back());
    if (tls || ssh_said) && !heard_back {
        return Stage::NotConnected;
    }
    if canceled {
        return Stage::NotSent;
    }
    let Some(used) = used else {
        return Stage::SentOutcomeUnknown { stale: false };
    };
    if !used.0.wrote_since_answer() {
        return Stage::NotSent;
    }
    Stage::SentOutcomeUnknown {
        stale: closed && used.0.answered.load(Ordering::Acquire),
    }
}

/// What a connection has carried, shared by the connection and whoever
/// sends on it, so a failure can tell how far its request got.
#[derive(Clone, Default)]
pub(crate) struct ConnectionUse(Arc<UseState>);

#[derive(Default)]
struct UseState {
    /// Set once a response arrived on the connection.
    answered: AtomicBool,
    /// Bytes written to the connection so far.
    written: AtomicU64,
    /// `written` when the last response arrived.
    written_at_answer: AtomicU64,
    /// Bytes read from the connection so far.
    read: AtomicU64,
}

impl UseState {
    fn heard_back(&self) -> bool {
        self.read.load(Ordering::Acquire) > 0
    }

    fn wrote_since_answer(&self) -> bool {
        self.written.load(Ordering::Acquire) != self.written_at_answer.load(Ordering::Acquire)
    }
}

impl ConnectionUse {
    /// Counts bytes written to the connection.
    pub(super) fn wrote(&self, n: usize) {
        self.0.written.fetch_add(n as u64, Ordering::AcqRel);
    }

    /// Counts bytes read from the connection.
    pub(super) fn read(&self, n: usize) {
        self.0.read.fetch_add(n as u64, Ordering::AcqRel);
    }

    /// Notes that a response arrived: what was written so far belongs to
    /// requests that were answered.
    pub(super) fn answered(&self) {
        let w = self.0.written.load(Ordering::Acquire);
        self.0.written_at_answer.store(w, Ordering::Release);
        self.0.answered.store(true, Ordering::Release);
    }
}

/// [`classify`] of one error on a connection, for the unit tests.
#[cfg(all(test, unix))]
pub(super) fn stage_for_test(e: &(dyn std::error::Error + 'static), used: &ConnectionUse) -> Stage {
    classify(Some(e), Some(used), false)
}
