//! Response bodies, and the inline driver of a streaming request's own
//! connection: polled in the task that reads the body, with a waker that
//! turns wake-ups from inside the poll into another round instead of a
//! reschedule.

use super::idle::{HeaderTimer, IdleConn, IdleList};
use super::replay::ConnectionUse;
use super::RequestBody;
use crate::{Error, Result};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;

pub(super) type ConnectionFuture = Pin<Box<dyn Future<Output = hyper::Result<()>> + Send>>;

/// A response body. Through the pool it is hyper's body, fed by the
/// connection's own task; from [`Transport::send_streaming`] it also owns its
/// connection and drives it when polled, so the bytes are read in the task
/// that reads the body, with no hand-over between tasks. Dropped once read
/// to its end, it leaves its connection to the next request of its kind
/// (`idle`); dropped before, it closes the connection (which cancels the
/// request on the daemon's side).
pub(crate) struct ResponseBody {
    body: Incoming,
    inline: Option<Inline>,
    /// Where the connection goes once the body is read to its end.
    keep: Option<Keep>,
    /// The body was read to its end.
    ended: bool,
    /// The most [`collect`] reads of it.
    limit: usize,
    /// When [`collect`] must be done, if the request has a deadline.
    deadline: Option<Deadline>,
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseBody")
            .field("inline", &self.inline.is_some())
            .field("ended", &self.ended)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// A whole-request deadline, as the body inherits it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Deadline {
    pub(super) at: Instant,
    pub(super) limit: Duration,
    pub(super) retryable: bool,
}

/// The connection a streaming body drives itself.
struct Inline {
    // `Mutex` only to stay `Sync`; only ever reached through `&mut`.
    conn: Option<std::sync::Mutex<ConnectionFuture>>,
    wake: Arc<InlineWake>,
    waker: std::task::Waker,
}

/// What a body needs to give its connection back.
pub(super) struct Keep {
    // `Mutex` only to stay `Sync`; only ever reached through `&mut`.
    pub(super) sender: std::sync::Mutex<hyper::client::conn::http1::SendRequest<RequestBody>>,
    /// What the connection carried, which goes with it.
    pub(super) used: ConnectionUse,
    /// The idle list of its kind, of its runtime.
    pub(super) home: Weak<IdleList>,
    /// The connection's header-timeout timer, which goes with it.
    // `Mutex` only to stay `Sync`; only ever reached through `&mut`.
    pub(super) timer: Option<std::sync::Mutex<HeaderTimer>>,
}

/// The waker the connection and the body are polled with. Wake-ups that
/// happen while the body is being polled (the body asking the connection
/// for more, the connection handing over a chunk) are only noted: the poll
/// loop goes round again instead of scheduling the task anew, which on a
/// multi-thread runtime would wake another worker for every chunk. Wake-ups
/// from outside (the socket became readable) wake the task.
#[derive(Default)]
struct InlineWake {
    inside: AtomicBool,
    woken: AtomicBool,
    task: std::sync::Mutex<Option<std::task::Waker>>,
}

impl std::task::Wake for InlineWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if !self.inside.load(Ordering::SeqCst) {
            let task = self.task.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(w) = task.as_ref() {
                w.wake_by_ref();
            }
        }
    }
}

/// How often one poll of a streaming body goes round before yielding.
const INLINE_ROUNDS: usize = 32;

impl ResponseBody {
    /// A body read by its pooled connection's task.
    pub(super) fn pooled(
        body: Incoming,
        keep: Option<Keep>,
        limit: usize,
        deadline: Option<Deadline>,
    ) -> Self {
        ResponseBody {
            body,
            inline: None,
            keep,
            ended: false,
            limit,
            deadline,
        }
    }

    /// A body that drives its connection `conn` (`None`: it has ended).
    pub(super) fn inline(body: Incoming, conn: Option<ConnectionFuture>, keep: Keep) -> Self {
        let wake = Arc::new(InlineWake::default());
        ResponseBody {
            body,
            inline: Some(Inline {
                conn: conn.map(std::sync::Mutex::new),
                waker: std::task::Waker::from(wake.clone()),
                wake,
            }),
            keep: Some(keep),
            ended: false,
            limit: usize::MAX,
            deadline: None,
        }
    }
}

impl hyper::body::Body for ResponseBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<hyper::body::Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let Some(inline) = &mut this.inline else {
            let frame = Pin::new(&mut this.body).poll_frame(cx);
            if let Poll::Ready(None) = frame {
                this.ended = true;
            }
            return frame;
        };
        {
            let mut task = inline.wake.task.lock().unwrap_or_else(|e| e.into_inner());
            if !task.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *task = Some(cx.waker().clone());
            }
        }
        let mut icx = Context::from_waker(&inline.waker);
        for _ in 0..INLINE_ROUNDS {
            inline.wake.woken.store(false, Ordering::SeqCst);
            inline.wake.inside.store(true, Ordering::SeqCst);
            // The body first: taking a chunk, or asking the connection for one.
            let mut frame = Pin::new(&mut this.body).poll_frame(&mut icx);
            if frame.is_pending() {
                if let Some(conn) = &mut inline.conn {
                    let conn = conn.get_mut().unwrap_or_else(|e| e.into_inner());
                    // Reads the socket and hands the next chunk over. Once
                    // the connection ends (or fails, which the body then
                    // reports), it is not polled again.
                    if conn.as_mut().poll(&mut icx).is_ready() {
                        inline.conn = None;
                    }
                    frame = Pin::new(&mut this.body).poll_frame(&mut icx);
                }
            }
            inline.wake.inside.store(false, Ordering::SeqCst);
            if let Poll::Ready(None) = frame {
                this.ended = true;
            }
            if frame.is_ready() || !inline.wake.woken.load(Ordering::SeqCst) {
                return frame;
            }
            // Woken while polling: go round again rather than reschedule.
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        let Some(keep) = self.keep.take() else {
            return;
        };
        if !(self.ended || hyper::body::Body::is_end_stream(&self.body)) {
            return; // Closed: the daemon stops sending.
        }
        let Some(home) = keep.home.upgrade() else {
            return; // Its runtime is gone.
        };
        let conn = match self.inline.take() {
            None => None,
            Some(inline) => {
                let Some(conn) = inline.conn else {
                    return; // The connection has ended.
                };
                // The reader's task is done with it: wake-ups of the idle
                // connection wake nobody.
                *inline.wake.task.lock().unwrap_or_else(|e| e.into_inner()) = None;
                Some(conn.into_inner().unwrap_or_else(|e| e.into_inner()))
            }
        };
        let sender = keep.sender.into_inner().unwrap_or_else(|e| e.into_inner());
        let timer = keep
            .timer
            .map(|t| t.into_inner().unwrap_or_else(|e| e.into_inner()));
        home.put(IdleConn::new(sender, conn, keep.used, timer));
    }
}

/// Reads a whole buffered (non-streaming) response body of `operation`: no
/// more than the transport's cap (`Error::ResponseTooLarge` as soon as it is
/// passed, without reading the rest), and within the request's deadline when
/// it has one.
///
/// (The reading future itself, not an `async` wrapper around it: a future
/// a wrapper holds is copied again into its place when awaited.)
pub(crate) fn collect(
    operation: &'static str,
    body: ResponseBody,
) -> futures::future::Either<impl Future<Output = Result<Bytes>> + Send, BoxedRead> {
    use futures::future::Either;
    match body.deadline {
        None => Either::Left(read_whole(operation, body)),
        // Boxed: a deadline is rare (opt-in).
        Some(d) => {
            let read = read_whole(operation, body);
            Either::Right(Box::pin(async move {
                tokio::time::timeout_at(d.at, read)
                    .await
                    .map_err(|_| Error::Timeout {
                        during: "reading the response body",
                        after: d.limit,
                        retryable: d.retryable,
                    })?
            }))
        }
    }
}

/// [`collect`] with a deadline.
type BoxedRead = Pin<Box<dyn Future<Output = Result<Bytes>> + Send>>;

/// [`collect`] without the deadline.
// Not an `async fn`: its argument would be copied again into a local of
// its future, which would then be twice the body's size.
#[allow(clippy::manual_async_fn)]
fn read_whole(
    operation: &'static str,
    mut body: ResponseBody,
) -> impl Future<Output = Result<Bytes>> + Send {
    async move {
        use hyper::body::Body as _;
        let limit = body.limit;
        if body.size_hint().lower() > limit as u64 {
            return Err(Error::ResponseTooLarge { operation, limit });
        }
        // One chunk (most answers) is handed on as it is; more are joined.
        let mut first = Bytes::new();
        let mut rest: Vec<Bytes> = Vec::new();
        let mut len = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Error::Protocol {
                message: format!("{operation}: reading the response body failed"),
                source: Some(Box::new(e)),
            })?;
            if let Ok(data) = frame.into_data() {
                len = len.saturating_add(data.len());
                if len > limit {
                    return Err(Error::ResponseTooLarge { operation, limit });
                }
                if first.is_empty() {
                    first = data;
                } else if !data.is_empty() {
                    rest.push(data);
                }
            }
        }
        if rest.is_empty() {
            return Ok(first);
        }
        let mut whole = Vec::with_capacity(len);
        whole.extend_from_slice(&first);
        for chunk in rest {
            whole.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(whole))
    }
}
