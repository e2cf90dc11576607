//! Kept-alive connections, per runtime (a socket belongs to the reactor of
//! the runtime that opened it): two lists, one for requests that answer at
//! once, one for streaming requests.
//!
//! Once a response body has been read to its end (the chunked terminator,
//! or all of its `Content-Length`), its connection is as good as new, and
//! opening another one costs a connect, a TLS handshake or an ssh process:
//! so it comes back here for the next request. A body dropped before its
//! end closes its connection, which is what cancels the request on the
//! daemon's side; an upgraded connection (attach, exec) never comes back.
//!
//! A request connection is driven by a task of its own, which notices when
//! the daemon closes it. A streaming request's connection is driven by
//! whoever reads its body (`response`), and nothing polls it while it is
//! idle: before one is handed out it is polled once, which notices a
//! connection the daemon closed meanwhile. Connections idle longer than
//! [`IDLE_FOR`] are closed when the next one comes back.

use super::replay::ConnectionUse;
use super::response::ConnectionFuture;
use super::RequestBody;
use hyper::client::conn::http1::SendRequest;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// The most idle connections kept per runtime, of each kind.
const MAX_IDLE: usize = 32;

/// How long an idle connection is kept.
const IDLE_FOR: Duration = Duration::from_secs(60);

/// A connection's response-header timer, kept with it for its next request.
pub(super) type HeaderTimer = std::pin::Pin<Box<tokio::time::Sleep>>;

/// A connection whose last response was read to its end.
pub(super) struct IdleConn {
    pub(super) sender: SendRequest<RequestBody>,
    /// The connection itself, for one driven inline; `None` for one driven
    /// by a task of its own.
    pub(super) conn: Option<ConnectionFuture>,
    pub(super) used: ConnectionUse,
    /// Its header-timeout timer, once a request has needed one.
    pub(super) timer: Option<HeaderTimer>,
    since: Instant,
}

impl IdleConn {
    pub(super) fn new(
        sender: SendRequest<RequestBody>,
        conn: Option<ConnectionFuture>,
        used: ConnectionUse,
        timer: Option<HeaderTimer>,
    ) -> Self {
        IdleConn {
            sender,
            conn,
            used,
            timer,
            since: Instant::now(),
        }
    }

    /// Whether the connection can carry another request: not closed by the
    /// daemon, not idle for too long, and, for one driven inline, its HTTP
    /// state back to idle (one driven by its task gets there on its own:
    /// the caller waits for it to be ready).
    fn usable(&mut self) -> bool {
        // (Its age is not looked at: one kept longer than [`IDLE_FOR`] is
        // closed by the next `put`, and an old one that still works works.)
        if self.sender.is_closed() {
            return false;
        }
        let Some(conn) = &mut self.conn else {
            return true;
        };
        // Polled without a task to wake: the caller polls it again, with its
        // own waker, as it sends the next request.
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..3 {
            if conn.as_mut().poll(&mut cx).is_ready() {
                return false;
            }
            match self.sender.poll_ready(&mut cx) {
                Poll::Ready(Ok(())) => return true,
                Poll::Ready(Err(_)) => return false,
                Poll::Pending => {}
            }
        }
        false
    }
}

/// Idle connections of one kind, of one runtime.
#[derive(Default)]
pub(super) struct IdleList {
    list: Mutex<Vec<IdleConn>>,
}

impl IdleList {
    /// Keeps `conn` for the next request (the oldest goes when [`MAX_IDLE`]
    /// are kept, and those idle for too long).
    pub(super) fn put(&self, conn: IdleConn) {
        let now = conn.since;
        let evicted = {
            let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
            let old = list
                .iter()
                .take_while(|c| now.saturating_duration_since(c.since) > IDLE_FOR)
                .count()
                .max((list.len() + 1).saturating_sub(MAX_IDLE));
            list.push(conn);
            list.drain(..old).collect::<Vec<_>>()
        };
        // Closed outside the lock (an ssh connection is a process).
        drop(evicted);
    }

    /// The most recently used idle connection that can carry a request;
    /// those found closed or too old on the way are closed.
    pub(super) fn take(&self) -> Option<IdleConn> {
        let mut closed = Vec::new();
        let found = loop {
            let next = self.list.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let Some(mut c) = next else { break None };
            if c.usable() {
                break Some(c);
            }
            closed.push(c);
        };
        drop(closed);
        found
    }

    /// How many connections are idle (for tests).
    #[cfg(all(test, unix))]
    pub(super) fn len(&self) -> usize {
        self.list.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}
