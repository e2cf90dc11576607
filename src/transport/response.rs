//! Response bodies, and the inline driver of a streaming request's own
//! connection: polled in the task that reads the body, with a waker that
//! turns wake-ups from inside the poll into another round instead of a
//! reschedule.

use super::RequestBody;
use bytes::Bytes;
use hyper::body::Incoming;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

pub(super) type ConnectionFuture = Pin<Box<dyn Future<Output = hyper::Result<()>> + Send>>;

/// A response body. Through the pool it is hyper's body, fed by the
/// connection's own task; from [`Transport::send_streaming`] it also owns its
/// connection and drives it when polled, so the bytes are read in the task
/// that reads the body, with no hand-over between tasks. Dropping it closes
/// the connection (which cancels the request on the daemon's side).
pub(crate) struct ResponseBody {
    body: Incoming,
    inline: Option<Inline>,
}

/// The connection a streaming body drives itself.
struct Inline {
    // `Mutex` only to stay `Sync`; only ever reached through `&mut`.
    conn: Option<std::sync::Mutex<ConnectionFuture>>,
    _sender: std::sync::Mutex<hyper::client::conn::http1::SendRequest<RequestBody>>,
    wake: Arc<InlineWake>,
    waker: std::task::Waker,
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
    pub(crate) fn pooled(body: Incoming) -> Self {
        ResponseBody { body, inline: None }
    }

    pub(super) fn inline(
        body: Incoming,
        conn: Option<ConnectionFuture>,
        sender: hyper::client::conn::http1::SendRequest<RequestBody>,
    ) -> Self {
        let wake = Arc::new(InlineWake::default());
        ResponseBody {
            body,
            inline: Some(Inline {
                conn: conn.map(std::sync::Mutex::new),
                _sender: std::sync::Mutex::new(sender),
                waker: std::task::Waker::from(wake.clone()),
                wake,
            }),
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
            return Pin::new(&mut this.body).poll_frame(cx);
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
