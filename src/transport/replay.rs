//! When a request is sent again: the replay policy.

use super::RequestBody;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How many times a request is sent again after finding its pooled
/// connection closed (each time on another connection).
pub(super) const MAX_REPLAYS: usize = 3;

/// Whether sending `req` twice is harmless: GET or HEAD, with no body.
pub(super) fn replayable(req: &http::Request<RequestBody>) -> bool {
    use hyper::body::Body as _;
    (req.method() == http::Method::GET || req.method() == http::Method::HEAD)
        && req.body().size_hint().exact() == Some(0)
}

/// Whether `e` is a connection that had already carried a response closing
/// (or being reset) before this request got any answer.
pub(super) fn stale_pooled_connection(e: &hyper_util::client::legacy::Error) -> bool {
    if e.is_connect() {
        return false;
    }
    let reused = e.connect_info().is_some_and(|info| {
        let mut ext = http::Extensions::new();
        info.get_extras(&mut ext);
        ext.get::<ConnectionUse>()
            .is_some_and(|u| u.0.load(Ordering::Relaxed))
    });
    if !reused {
        return false;
    }
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() || h.is_canceled() {
                return true;
            }
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::UnexpectedEof
            ) {
                return true;
            }
        }
        src = s.source();
    }
    false
}

/// Set once a connection has carried a response; attached to each
/// connection (hyper-util's connection "extra") so a failure can tell a
/// reused connection from a fresh one.
#[derive(Clone, Default)]
pub(super) struct ConnectionUse(pub(super) Arc<AtomicBool>);
