//! Response bodies as streams, never buffered whole: raw bytes, JSON
//! message streams, and container output (stdcopy frames or TTY bytes).

pub mod attach;
pub mod events;
pub mod json;
pub mod progress;
pub mod stats;
pub mod stdcopy;
pub mod timestamps;

pub use attach::Attached;
pub use json::JsonStream;
pub use stdcopy::{LogOutput, LogStream};

use crate::error::BoxError;
use crate::{Error, Result};
use bytes::Bytes;
use futures::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A response body as a stream of byte chunks (an export, a tar archive,
/// raw container output). Dropping it closes the connection, which cancels
/// the request on the daemon's side.
///
/// ```no_run
/// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
/// use futures::TryStreamExt;
/// let mut tar = docker.containers().export("web").await?;
/// while let Some(chunk) = tar.try_next().await? {
///     println!("{} bytes", chunk.len());
/// }
/// # Ok(()) }
/// ```
pub struct ByteStream {
    operation: &'static str,
    body: BoxedBody,
    /// Set after the first error: the stream ends there.
    failed: bool,
}

/// Any response body: the stream layer does not know how bytes arrive.
type BoxedBody = Pin<Box<dyn hyper::body::Body<Data = Bytes, Error = BoxError> + Send>>;

impl std::fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteStream")
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

impl ByteStream {
    pub(crate) fn new<B>(operation: &'static str, body: B) -> Self
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        use http_body_util::BodyExt;
        ByteStream {
            operation,
            body: Box::pin(body.map_err(Into::into)),
            failed: false,
        }
    }

    /// The operation whose response this is.
    pub(crate) fn operation(&self) -> &'static str {
        self.operation
    }

    /// The stream as an [`AsyncRead`](tokio::io::AsyncRead), to
    /// `tokio::io::copy` it into a file or hand it to a decoder. A stream
    /// error becomes an `io::Error` whose inner error is the [`Error`].
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// // `docker save busybox -o busybox.tar`, never more than a chunk in memory
    /// let tar = docker.images().save("busybox", &Default::default()).await?;
    /// let mut file = tokio::fs::File::create("busybox.tar").await.expect("create");
    /// tokio::io::copy(&mut tar.into_async_read(), &mut file).await.expect("copy");
    /// # Ok(()) }
    /// ```
    pub fn into_async_read(self) -> impl tokio::io::AsyncRead + Send + Unpin + 'static {
        use futures::TryStreamExt;
        tokio_util::io::StreamReader::new(self.map_err(std::io::Error::other))
    }
}

impl Stream for ByteStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.failed {
            return Poll::Ready(None);
        }
        loop {
            return match self.body.as_mut().poll_frame(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => {
                    self.failed = true;
                    Poll::Ready(Some(Err(Error::Protocol {
                        message: format!("{}: the response stream broke off", self.operation),
                        source: Some(e),
                    })))
                }
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) if data.is_empty() => continue,
                    Ok(data) => Poll::Ready(Some(Ok(data))),
                    // Trailers: nothing to yield.
                    Err(_) => continue,
                },
            };
        }
    }
}

/// A connection the daemon upgraded (HTTP 101) for attach, exec, session or
/// the WebSocket attach: read the process's output from it, write its stdin
/// to it. `shutdown()` half-closes the writing side, so the process sees EOF
/// on stdin while its output can still be read to the end.
pub struct RawConnection {
    io: hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>,
}

impl std::fmt::Debug for RawConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawConnection(..)")
    }
}

impl RawConnection {
    pub(crate) fn new(upgraded: hyper::upgrade::Upgraded) -> Self {
        RawConnection {
            io: hyper_util::rt::TokioIo::new(upgraded),
        }
    }
}

impl tokio::io::AsyncRead for RawConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for RawConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
