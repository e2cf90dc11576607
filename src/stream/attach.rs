//! An attached process: its output as a stream, its stdin as a writer.
//!
//! Shutting the writer down (`AsyncWriteExt::shutdown`) half-closes the
//! connection: the process reads EOF on stdin while its output keeps coming
//! until it exits. Bytes the daemon sent right after the `101` response are
//! not lost: hyper hands them over with the upgraded connection.

use super::{LogStream, RawConnection};
use crate::{Error, Result};
use bytes::{Bytes, BytesMut};
use futures::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{ReadHalf, WriteHalf};

/// The output half of an attached connection, as byte chunks.
pub struct OutputBytes {
    reader: ReadHalf<RawConnection>,
    buf: BytesMut,
    operation: &'static str,
    done: bool,
}

impl std::fmt::Debug for OutputBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputBytes")
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

impl Stream for OutputBytes {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if this.buf.capacity() < 4096 {
            this.buf.reserve(64 * 1024);
        }
        match tokio_util::io::poll_read_buf(Pin::new(&mut this.reader), cx, &mut this.buf) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(0)) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Ok(_)) => Poll::Ready(Some(Ok(this.buf.split().freeze()))),
            Poll::Ready(Err(e)) => {
                this.done = true;
                Poll::Ready(Some(Err(Error::Protocol {
                    message: format!("{}: reading the attached output failed", this.operation),
                    source: Some(Box::new(e)),
                })))
            }
        }
    }
}

/// A process attached over an upgraded connection (`attach`, `exec start`).
///
/// ```no_run
/// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
/// use dockhand::operations::ContainerAttachOptions;
/// use futures::TryStreamExt;
/// use tokio::io::AsyncWriteExt;
/// let opts = ContainerAttachOptions::default().stream(true).stdin(true).stdout(true).stderr(true);
/// let mut attached = docker.containers().attach("cat-box", &opts).await?;
/// attached.input.write_all(b"hello\n").await.unwrap();
/// attached.input.shutdown().await.unwrap(); // EOF for the process, output keeps flowing
/// while let Some(piece) = attached.output.try_next().await? {
///     print!("{}", String::from_utf8_lossy(piece.bytes()));
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Attached {
    /// What the process writes: stdout and stderr told apart, or TTY bytes.
    pub output: LogStream<OutputBytes>,
    /// The process's stdin.
    pub input: WriteHalf<RawConnection>,
}

impl Attached {
    pub(crate) fn new(operation: &'static str, conn: RawConnection, multiplexed: bool) -> Self {
        let (reader, input) = tokio::io::split(conn);
        let bytes = OutputBytes {
            reader,
            buf: BytesMut::new(),
            operation,
            done: false,
        };
        Attached {
            output: LogStream::new(operation, bytes, multiplexed),
            input,
        }
    }
}

/// The stream format a response's Content-Type announces (API 1.42 and
/// later); `None` when it does not say.
pub(crate) fn multiplexed_from_headers(headers: &http::HeaderMap) -> Option<bool> {
    let ct = headers.get(http::header::CONTENT_TYPE)?.to_str().ok()?;
    if ct.starts_with("application/vnd.docker.multiplexed-stream") {
        Some(true)
    } else if ct.starts_with("application/vnd.docker.raw-stream") {
        Some(false)
    } else {
        None
    }
}
