//! Windows named pipes, spoken the way dockerd's listener (go-winio) expects.
//!
//! - Opening a pipe fails with `ERROR_PIPE_BUSY` while every instance is
//!   taken (dockerd offers one waiting instance at a time); the open is
//!   retried until a deadline, never forever.
//! - dockerd's pipe is a *message-type* pipe read as bytes. A stream socket
//!   half-closes with `shutdown(SHUT_WR)`; a pipe has no such thing, so the
//!   writer sends a zero-length message instead, which the reader takes as
//!   end of file. dockerd reads an `exec`/`attach` stdin that way, and closes
//!   the process's stdin when it sees one. [`MessagePipe`] does the same on
//!   this side: `shutdown()` writes the zero-length message (on message-type
//!   pipes only), an empty `write` never does, and once a read returned end
//!   of file every later read does too.
//!
//! Both pieces are plain code over any `AsyncRead + AsyncWrite`, tested on
//! every platform; only the open call is Windows-only.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Windows' `ERROR_PIPE_BUSY`.
const ERROR_PIPE_BUSY: i32 = 231;

/// Calls `open` until it succeeds, fails with something other than
/// "pipe busy", or `deadline` passes (then the last busy error is returned,
/// saying how long it waited).
pub async fn open_with_busy_retry<T, F>(mut open: F, deadline: Duration) -> io::Result<T>
where
    F: FnMut() -> io::Result<T>,
{
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match open() {
            Err(e) if e.raw_os_error() == Some(ERROR_PIPE_BUSY) => {
                if start.elapsed() >= deadline {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("named pipe still busy after {deadline:?}: {e}"),
                    ));
                }
                tokio::time::sleep(pause.min(deadline.saturating_sub(start.elapsed()))).await;
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

/// How long an open waits for a busy pipe (the connect timeout still
/// bounds the whole connect).
#[cfg(windows)]
const BUSY_DEADLINE: Duration = Duration::from_secs(10);

/// Opens the pipe at `path` (`\\.\pipe\docker_engine`), waiting while it is
/// busy, and reports whether it is a message-type pipe (then `shutdown()`
/// half-closes it).
#[cfg(windows)]
pub(super) async fn open(
    path: &str,
) -> io::Result<MessagePipe<tokio::net::windows::named_pipe::NamedPipeClient>> {
    use tokio::net::windows::named_pipe::{ClientOptions, PipeMode};
    let opts = ClientOptions::new();
    let pipe = open_with_busy_retry(|| opts.open(path), BUSY_DEADLINE).await?;
    let message_type = pipe.info()?.mode == PipeMode::Message;
    Ok(MessagePipe::new(pipe, message_type))
}

/// A pipe connection that half-closes as go-winio's message pipes do: see
/// the module docs. (Constructed only on Windows; tested everywhere.)
#[cfg_attr(not(windows), allow(dead_code))]
pub(super) struct MessagePipe<P> {
    pipe: P,
    /// A message-type pipe: zero-length messages reach the reader.
    message_type: bool,
    /// The zero-length message was written (its flush may be pending).
    eof_sent: bool,
    /// Shut down: nothing more may be written.
    write_closed: bool,
    /// A read returned end of file (a zero-length message, or the other end
    /// closed); later reads do too.
    read_eof: bool,
}

#[cfg_attr(not(windows), allow(dead_code))]
impl<P> MessagePipe<P> {
    pub(super) fn new(pipe: P, message_type: bool) -> Self {
        MessagePipe {
            pipe,
            message_type,
            eof_sent: false,
            write_closed: false,
            read_eof: false,
        }
    }
}

#[cfg_attr(not(windows), allow(dead_code))]
fn write_closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "the named pipe has been closed for writing",
    )
}

impl<P: AsyncRead + Unpin> AsyncRead for MessagePipe<P> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.read_eof || buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let r = Pin::new(&mut self.pipe).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            if buf.filled().len() == before {
                self.read_eof = true;
            }
        }
        r
    }
}

impl<P: AsyncWrite + Unpin> AsyncWrite for MessagePipe<P> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.write_closed || self.eof_sent {
            return Poll::Ready(Err(write_closed()));
        }
        if buf.is_empty() {
            // An empty message would tell the daemon "end of input".
            return Poll::Ready(Ok(0));
        }
        Pin::new(&mut self.pipe).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.pipe).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.write_closed {
            return Poll::Ready(Ok(()));
        }
        std::task::ready!(Pin::new(&mut self.pipe).poll_flush(cx))?;
        if self.message_type && !self.eof_sent {
            // The zero-length message: end of input for the reader. Once,
            // however often this is polled.
            std::task::ready!(Pin::new(&mut self.pipe).poll_write(cx, &[]))?;
            self.eof_sent = true;
            std::task::ready!(Pin::new(&mut self.pipe).poll_flush(cx))?;
        }
        // A byte-type pipe cannot say "end of input" without closing; like
        // go-winio, nothing is sent, and the pipe closes when dropped.
        self.write_closed = true;
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A pipe end that records every write call (its length) and whose
    /// reads hand out `reads` one by one, then pend.
    #[derive(Default)]
    struct Recorder {
        writes: Vec<Vec<u8>>,
        flushes: usize,
        reads: std::collections::VecDeque<Vec<u8>>,
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.writes.push(buf.to_vec());
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.flushes += 1;
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            panic!("a pipe has no shutdown of its own; MessagePipe must not call it")
        }
    }

    impl AsyncRead for Recorder {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            match self.reads.pop_front() {
                Some(chunk) => {
                    buf.put_slice(&chunk);
                    Poll::Ready(Ok(()))
                }
                None => Poll::Pending,
            }
        }
    }

    #[tokio::test]
    async fn shutdown_of_a_message_pipe_sends_one_zero_length_message() {
        let mut p = MessagePipe::new(Recorder::default(), true);
        p.write_all(b"input").await.unwrap();
        // An empty write is not a message: it would end the daemon's input.
        assert_eq!(p.write(b"").await.unwrap(), 0);
        p.shutdown().await.unwrap();
        p.shutdown().await.unwrap();
        assert_eq!(p.pipe.writes, vec![b"input".to_vec(), Vec::new()]);
        assert!(
            p.pipe.flushes >= 1,
            "flushed before the end-of-input message"
        );
        let e = p.write_all(b"late").await.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
        assert!(e.to_string().contains("closed for writing"), "{e}");
        assert_eq!(p.pipe.writes.len(), 2, "nothing written after shutdown");
    }

    #[tokio::test]
    async fn shutdown_of_a_byte_pipe_sends_nothing() {
        let mut p = MessagePipe::new(Recorder::default(), false);
        p.write_all(b"input").await.unwrap();
        p.shutdown().await.unwrap();
        assert_eq!(p.pipe.writes, vec![b"input".to_vec()]);
        assert!(p.write_all(b"late").await.is_err());
    }

    #[tokio::test]
    async fn end_of_file_is_final() {
        let mut pipe = Recorder::default();
        pipe.reads
            .extend([b"out".to_vec(), Vec::new(), b"after the end".to_vec()]);
        let mut p = MessagePipe::new(pipe, true);
        let mut buf = [0u8; 64];
        assert_eq!(p.read(&mut buf).await.unwrap(), 3);
        assert_eq!(&buf[..3], b"out");
        // The zero-length message: end of file, and it stays so.
        assert_eq!(p.read(&mut buf).await.unwrap(), 0);
        assert_eq!(p.read(&mut buf).await.unwrap(), 0);
        assert_eq!(p.pipe.reads.len(), 1, "not read past the end");
    }

    fn busy() -> io::Error {
        io::Error::from_raw_os_error(ERROR_PIPE_BUSY)
    }

    #[tokio::test]
    async fn retries_busy_then_succeeds() {
        let mut calls = 0;
        let r = open_with_busy_retry(
            || {
                calls += 1;
                if calls < 4 {
                    Err(busy())
                } else {
                    Ok("pipe")
                }
            },
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(r.unwrap(), "pipe");
        assert_eq!(calls, 4);
    }

    #[tokio::test]
    async fn gives_up_at_the_deadline() {
        let start = Instant::now();
        let mut calls = 0;
        let r: io::Result<()> = open_with_busy_retry(
            || {
                calls += 1;
                Err(busy())
            },
            Duration::from_millis(200),
        )
        .await;
        let e = r.unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("still busy"), "{e}");
        assert!(calls > 1, "retried");
        assert!(start.elapsed() < Duration::from_secs(2), "bounded");
    }

    #[tokio::test]
    async fn other_errors_are_not_retried() {
        let mut calls = 0;
        let r: io::Result<()> = open_with_busy_retry(
            || {
                calls += 1;
                Err(io::Error::new(io::ErrorKind::NotFound, "no such pipe"))
            },
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::NotFound);
        assert_eq!(calls, 1);
    }
}
