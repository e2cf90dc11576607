//! Request bodies given by the caller: bytes in memory, or a stream of chunks
//! sent as it is produced (a build context, an image tarball), never
//! collected in memory first.

use crate::error::BoxError;
use crate::transport::{self, RequestBody};
use bytes::Bytes;
use futures::{Stream, TryStreamExt};
use http_body_util::{BodyExt, StreamBody};

/// A request body: bytes, or a stream of byte chunks.
///
/// ```no_run
/// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
/// use dockhand::Body;
/// let tar: Vec<u8> = std::fs::read("context.tar").unwrap();
/// docker.containers().put_archive("web", "/tmp", Body::from(tar), &Default::default()).await?;
/// # Ok(()) }
/// ```
pub struct Body(pub(crate) RequestBody);

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Body(..)")
    }
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Body(transport::empty_body())
    }

    /// A body sent chunk by chunk as the stream yields; an `Err` item aborts
    /// the request.
    pub fn from_stream<S, B, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<B, E>> + Send + 'static,
        B: Into<Bytes> + 'static,
        E: Into<BoxError> + 'static,
    {
        let frames = stream
            .map_ok(|b| hyper::body::Frame::data(b.into()))
            .map_err(Into::into);
        Body(BodyExt::boxed_unsync(StreamBody::new(frames)))
    }

    /// A body read from an [`AsyncRead`](tokio::io::AsyncRead) (a file, a
    /// pipe, a decompressor) chunk by chunk as the request is sent, never
    /// read whole into memory; a read error aborts the request.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::Body;
    /// use dockhand::operations::ImageCreateOptions;
    /// use futures::TryStreamExt;
    /// // `docker import rootfs.tar app:1`
    /// let file = tokio::fs::File::open("rootfs.tar").await.expect("open");
    /// let opts = ImageCreateOptions::default().repo("app").tag("1");
    /// let mut progress = docker.images().import(Body::from_reader(file), &opts).await?;
    /// while let Some(message) = progress.try_next().await? {
    ///     println!("{:?}", message.status);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn from_reader<R>(reader: R) -> Self
    where
        R: tokio::io::AsyncRead + Send + 'static,
    {
        Body::from_stream(tokio_util::io::ReaderStream::new(reader))
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body(transport::full_body(b))
    }
}

impl From<Vec<u8>> for Body {
    fn from(b: Vec<u8>) -> Self {
        Body::from(Bytes::from(b))
    }
}

impl From<&'static [u8]> for Body {
    fn from(b: &'static [u8]) -> Self {
        Body::from(Bytes::from_static(b))
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::from(Bytes::from(s))
    }
}
