//! Container output: the daemon's stdcopy multiplexing, or raw TTY bytes.
//!
//! A multiplexed stream is a sequence of frames, each an 8-byte header
//! (`[stream, 0, 0, 0, size as u32 big-endian]`) and `size` bytes of payload.
//! Stream 0 is stdin, 1 stdout, 2 stderr and 3 a system error from the
//! daemon, which ends the stream as an error. Frames are sliced out of one
//! buffer without copying; a frame larger than the bound, a header with an
//! unknown stream, and a stream that ends mid-header or mid-frame are errors,
//! never silence.

use crate::{Error, Result};
use bytes::{Buf, Bytes, BytesMut};
use futures::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The largest frame accepted by default (64 MiB; the daemon writes at most 32 KiB).
pub const DEFAULT_MAX_FRAME: usize = 64 << 20;

/// One piece of container output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogOutput {
    /// Bytes the process wrote to stdout.
    StdOut(Bytes),
    /// Bytes the process wrote to stderr.
    StdErr(Bytes),
    /// Bytes echoed on stdin (attach with logs of stdin).
    StdIn(Bytes),
    /// Raw bytes of a TTY: stdout and stderr are not told apart.
    Console(Bytes),
}

/// The bytes as text, invalid UTF-8 replaced by `�` (a piece may end in the
/// middle of a character; collect the bytes first for exact text).
///
/// ```
/// use dockhand::stream::LogOutput;
/// let piece = LogOutput::StdErr(bytes::Bytes::from_static(b"oops\n"));
/// assert_eq!(piece.to_string(), "oops\n");
/// ```
impl std::fmt::Display for LogOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.bytes()))
    }
}

impl LogOutput {
    /// The bytes, whatever stream they came from.
    pub fn bytes(&self) -> &Bytes {
        match self {
            LogOutput::StdOut(b)
            | LogOutput::StdErr(b)
            | LogOutput::StdIn(b)
            | LogOutput::Console(b) => b,
        }
    }

    /// The bytes, owned.
    pub fn into_bytes(self) -> Bytes {
        match self {
            LogOutput::StdOut(b)
            | LogOutput::StdErr(b)
            | LogOutput::StdIn(b)
            | LogOutput::Console(b) => b,
        }
    }
}

/// The stdcopy frame decoder, fed chunks as they arrive.
///
/// Frames are sliced out of the chunks given to [`Demuxer::push_bytes`]
/// without copying; only a frame split across chunks is assembled (copied)
/// in an internal buffer.
#[derive(Debug)]
pub struct Demuxer {
    /// A frame being assembled from several chunks (never more than one
    /// frame's bytes).
    buf: BytesMut,
    /// The chunk frames are being sliced from; unread once `buf` is not empty.
    chunk: Bytes,
    max_frame: usize,
    offset: u64,
    /// The first error (a protocol error, or else a system error frame's
    /// message), given again by every later call.
    failed: Option<(bool, String)>,
}

impl Demuxer {
    /// A decoder accepting frames up to `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        Demuxer {
            buf: BytesMut::new(),
            chunk: Bytes::new(),
            max_frame,
            offset: 0,
            failed: None,
        }
    }

    /// The error a fused decoder gives again.
    fn failure(&self) -> Option<Error> {
        self.failed.as_ref().map(|(protocol, message)| {
            if *protocol {
                Error::protocol(message.clone())
            } else {
                system_error(message.clone())
            }
        })
    }

    /// Appends input (copied; [`Demuxer::push_bytes`] does not copy).
    /// After an error, input is dropped.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        self.spill();
        self.buf.extend_from_slice(chunk);
    }

    /// Appends a chunk of input; frames that lie wholly inside it are handed
    /// out as slices of it.
    pub fn push_bytes(&mut self, chunk: Bytes) {
        if self.failed.is_some() {
            return;
        }
        if self.buf.is_empty() && self.chunk.is_empty() {
            self.chunk = chunk;
        } else {
            self.spill();
            self.buf.extend_from_slice(&chunk);
        }
    }

    /// Moves the unread rest of `chunk` into `buf`, keeping the input order.
    fn spill(&mut self) {
        if !self.chunk.is_empty() {
            self.buf.extend_from_slice(&self.chunk);
            self.chunk = Bytes::new();
        }
    }

    /// Checks a frame header; returns the stream and payload size.
    fn header(&self, h: &[u8]) -> Result<(u8, usize)> {
        let kind = h[0];
        let size = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
        if kind > 3 || h[1..4] != [0, 0, 0] {
            return Err(Error::protocol(format!(
                "multiplexed stream: invalid frame header {:02x?} at byte {}",
                &h[..8],
                self.offset
            )));
        }
        if size > self.max_frame {
            return Err(Error::protocol(format!(
                "multiplexed stream: frame of {size} bytes at byte {} exceeds the {} byte limit",
                self.offset, self.max_frame
            )));
        }
        Ok((kind, size))
    }

    /// The next complete frame, if the input holds one.
    ///
    /// Fused: after the first error (a bad header, or a system error frame),
    /// every call gives that error again.
    pub fn next_frame(&mut self) -> Result<Option<LogOutput>> {
        if let Some(e) = self.failure() {
            return Err(e);
        }
        let result = self.split_next();
        if let Err(e) = &result {
            self.failed = match e {
                Error::Protocol { message, .. } => Some((true, message.clone())),
                Error::Api { message, .. } => Some((false, message.clone())),
                other => Some((true, other.to_string())),
            };
            self.buf = BytesMut::new();
            self.chunk = Bytes::new();
        }
        result
    }

    fn split_next(&mut self) -> Result<Option<LogOutput>> {
        let (kind, payload) = if self.buf.is_empty() {
            // Fast path: the whole frame is inside the current chunk.
            if self.chunk.len() < 8 {
                self.spill();
                return Ok(None);
            }
            let (kind, size) = self.header(&self.chunk[..8])?;
            if self.chunk.len() < 8 + size {
                self.buf.reserve(8 + size);
                self.spill();
                return Ok(None);
            }
            let payload = self.chunk.slice(8..8 + size);
            self.chunk.advance(8 + size);
            (kind, payload)
        } else {
            // A frame split across chunks: complete it in `buf`.
            if self.buf.len() < 8 {
                let take = (8 - self.buf.len()).min(self.chunk.len());
                self.buf.extend_from_slice(&self.chunk[..take]);
                self.chunk.advance(take);
                if self.buf.len() < 8 {
                    return Ok(None);
                }
            }
            let (kind, size) = self.header(&self.buf[..8])?;
            let missing = (8 + size).saturating_sub(self.buf.len());
            if missing > 0 {
                self.buf.reserve(missing);
                let take = missing.min(self.chunk.len());
                self.buf.extend_from_slice(&self.chunk[..take]);
                self.chunk.advance(take);
                if take < missing {
                    return Ok(None);
                }
            }
            let mut frame = self.buf.split_to(8 + size);
            frame.advance(8);
            (kind, frame.freeze())
        };
        self.offset += 8 + payload.len() as u64;
        Ok(Some(match kind {
            0 => LogOutput::StdIn(payload),
            1 => LogOutput::StdOut(payload),
            2 => LogOutput::StdErr(payload),
            _ => {
                return Err(system_error(
                    String::from_utf8_lossy(&payload).trim_end().to_owned(),
                ))
            }
        }))
    }

    /// Call at end of input: a partial header or frame is an error, and so
    /// is an earlier error (given again).
    pub fn finish(&self) -> Result<()> {
        if let Some(e) = self.failure() {
            return Err(e);
        }
        let pending: std::borrow::Cow<'_, [u8]> = match (self.buf.is_empty(), self.chunk.is_empty())
        {
            (true, _) => (&self.chunk[..]).into(),
            (false, true) => (&self.buf[..]).into(),
            (false, false) => [&self.buf[..], &self.chunk[..]].concat().into(),
        };
        match pending.len() {
            0 => Ok(()),
            n if n < 8 => Err(Error::protocol(format!(
                "multiplexed stream ended inside a frame header ({n} of 8 bytes at byte {})",
                self.offset
            ))),
            n => {
                let size = u32::from_be_bytes([pending[4], pending[5], pending[6], pending[7]]);
                Err(Error::protocol(format!(
                    "multiplexed stream ended inside a frame ({} of {size} bytes at byte {})",
                    n - 8,
                    self.offset
                )))
            }
        }
    }
}

/// A system error frame (stream 3): the daemon's message.
fn system_error(message: String) -> Error {
    Error::Api {
        status: 0,
        message,
        operation: "stream",
    }
}

/// Container output as typed pieces: demultiplexed stdcopy frames, or raw
/// TTY bytes as [`LogOutput::Console`].
pub struct LogStream<S> {
    inner: S,
    demux: Option<Demuxer>,
    operation: &'static str,
    done: bool,
}

impl<S> std::fmt::Debug for LogStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStream")
            .field("operation", &self.operation)
            .field("multiplexed", &self.demux.is_some())
            .finish_non_exhaustive()
    }
}

impl<S> LogStream<S> {
    /// Decodes `inner`: stdcopy frames when `multiplexed`, else raw bytes.
    pub fn new(operation: &'static str, inner: S, multiplexed: bool) -> Self {
        LogStream {
            inner,
            demux: multiplexed.then(|| Demuxer::new(DEFAULT_MAX_FRAME)),
            operation,
            done: false,
        }
    }
}

impl<S> Stream for LogStream<S>
where
    S: Stream<Item = Result<Bytes>> + Unpin,
{
    type Item = Result<LogOutput>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            if let Some(d) = this.demux.as_mut() {
                match d.next_frame() {
                    Ok(Some(item)) => return Poll::Ready(Some(Ok(item))),
                    Ok(None) => {}
                    Err(e) => {
                        this.done = true;
                        let e = match e {
                            Error::Api {
                                status, message, ..
                            } => Error::Api {
                                status,
                                message,
                                operation: this.operation,
                            },
                            other => other,
                        };
                        return Poll::Ready(Some(Err(e)));
                    }
                }
            }
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => match this.demux.as_mut() {
                    Some(d) => d.push_bytes(chunk),
                    None => return Poll::Ready(Some(Ok(LogOutput::Console(chunk)))),
                },
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    return match this.demux.as_ref().map(Demuxer::finish) {
                        Some(Err(e)) => Poll::Ready(Some(Err(e))),
                        _ => Poll::Ready(None),
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![kind, 0, 0, 0];
        v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn input() -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(frame(1, b"out one\n"));
        v.extend(frame(2, b"err one\n"));
        v.extend(frame(1, b""));
        v.extend(frame(1, &[0u8, 1, 2, 255, 8, 0, 0, 0]));
        v.extend(frame(2, b"err two\n"));
        v
    }

    /// Decodes `input` cut at `cuts`, fed as shared chunks (zero-copy), as
    /// copied slices, and alternating; all three must agree.
    fn decode(input: &[u8], cuts: &[usize]) -> Result<Vec<LogOutput>> {
        let results: Vec<Result<Vec<LogOutput>>> = (0..3)
            .map(|mode| {
                let mut d = Demuxer::new(1 << 20);
                let mut out = Vec::new();
                let mut last = 0;
                for (i, &c) in cuts.iter().chain(std::iter::once(&input.len())).enumerate() {
                    let piece = &input[last..c];
                    match (mode, i % 2) {
                        (0, _) | (2, 0) => d.push_bytes(Bytes::copy_from_slice(piece)),
                        _ => d.push(piece),
                    }
                    last = c;
                    while let Some(f) = d.next_frame()? {
                        out.push(f);
                    }
                }
                d.finish()?;
                Ok(out)
            })
            .collect();
        for r in &results[1..] {
            assert_eq!(
                format!("{r:?}"),
                format!("{:?}", results[0]),
                "push and push_bytes disagree"
            );
        }
        results.into_iter().next().expect("three modes")
    }

    #[test]
    fn frames_inside_a_chunk_are_not_copied() {
        let data = Bytes::from(input());
        let mut d = Demuxer::new(1 << 20);
        d.push_bytes(data.clone());
        let first = d.next_frame().unwrap().unwrap();
        // The payload points into the chunk given.
        assert_eq!(first.bytes().as_ptr(), data[8..].as_ptr());
        // Pushing more while a split frame is pending keeps the order.
        let mut d = Demuxer::new(1 << 20);
        d.push_bytes(data.slice(..12));
        assert!(d.next_frame().unwrap().is_none());
        d.push_bytes(data.slice(12..));
        let all: Vec<LogOutput> = std::iter::from_fn(|| d.next_frame().unwrap()).collect();
        assert_eq!(all.len(), 5);
        assert_eq!(all[1], LogOutput::StdErr(Bytes::from_static(b"err one\n")));
        d.finish().unwrap();
    }

    #[test]
    fn frames_at_every_split_point() {
        let data = input();
        let whole = decode(&data, &[]).unwrap();
        assert_eq!(whole.len(), 5);
        assert_eq!(
            whole[0],
            LogOutput::StdOut(Bytes::from_static(b"out one\n"))
        );
        assert_eq!(
            whole[1],
            LogOutput::StdErr(Bytes::from_static(b"err one\n"))
        );
        for cut in 0..=data.len() {
            assert_eq!(decode(&data, &[cut]).unwrap(), whole, "cut {cut}");
        }
        let mut x: u64 = 0x2545F4914F6CDD1D;
        for _ in 0..500 {
            let mut cuts: Vec<usize> = (0..5)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % (data.len() as u64 + 1)) as usize
                })
                .collect();
            cuts.sort_unstable();
            assert_eq!(decode(&data, &cuts).unwrap(), whole, "cuts {cuts:?}");
        }
    }

    #[test]
    fn truncation_anywhere_inside_a_frame_is_an_error() {
        let data = input();
        let mut boundaries = vec![0];
        let mut pos = 0;
        while pos < data.len() {
            let size =
                u32::from_be_bytes([data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]])
                    as usize;
            pos += 8 + size;
            boundaries.push(pos);
        }
        for len in 0..data.len() {
            let r = decode(&data[..len], &[]);
            assert_eq!(
                r.is_err(),
                !boundaries.contains(&len),
                "truncated at {len}: {r:?}"
            );
        }
    }

    #[test]
    fn system_error_frames_and_bad_headers() {
        let mut data = frame(1, b"hello");
        data.extend(frame(3, b"container exited unexpectedly\n"));
        data.extend(frame(1, b"never"));
        let mut d = Demuxer::new(1 << 20);
        d.push(&data);
        assert!(matches!(d.next_frame(), Ok(Some(LogOutput::StdOut(_)))));
        match d.next_frame() {
            Err(Error::Api { message, .. }) => assert_eq!(message, "container exited unexpectedly"),
            other => panic!("{other:?}"),
        }
        // A TTY's raw output is not a frame: the header check refuses it.
        let mut d = Demuxer::new(1 << 20);
        d.push(b"hello world, not framed");
        assert!(d.next_frame().is_err());
        // Oversized frames are refused before buffering them.
        let mut d = Demuxer::new(16);
        d.push(&[1, 0, 0, 0, 0, 0, 1, 0]);
        assert!(d.next_frame().is_err());
    }

    #[test]
    fn the_demuxer_is_fused_after_its_first_error() {
        // After a system error frame, the frame behind it is not handed out.
        let mut data = frame(3, b"boom");
        data.extend(frame(1, b"never"));
        let mut d = Demuxer::new(1 << 20);
        d.push(&data);
        for _ in 0..3 {
            match d.next_frame() {
                Err(Error::Api { message, .. }) => assert_eq!(message, "boom"),
                other => panic!("{other:?}"),
            }
        }
        assert!(d.finish().is_err());
        // After a bad header, later input is not read as frames either.
        let mut d = Demuxer::new(1 << 20);
        d.push(&[9, 0, 0, 0, 0, 0, 0, 1, b'x']);
        let first = d.next_frame().unwrap_err().to_string();
        d.push(&frame(1, b"later"));
        assert_eq!(d.next_frame().unwrap_err().to_string(), first);
        assert_eq!(d.finish().unwrap_err().to_string(), first);
    }

    #[tokio::test]
    async fn log_stream_raw_and_multiplexed() {
        use futures::{stream, StreamExt};
        let chunks: Vec<Result<Bytes>> = vec![
            Ok(Bytes::from(input()[..13].to_vec())),
            Ok(Bytes::from(input()[13..].to_vec())),
        ];
        let items: Vec<Result<LogOutput>> =
            LogStream::new("ContainerLogs", stream::iter(chunks), true)
                .collect()
                .await;
        assert_eq!(items.len(), 5);
        let raw: Vec<Result<Bytes>> = vec![Ok(Bytes::from_static(b"\x01\x00tty bytes"))];
        let items: Vec<Result<LogOutput>> =
            LogStream::new("ContainerLogs", stream::iter(raw), false)
                .collect()
                .await;
        assert_eq!(items.len(), 1);
        assert_eq!(
            items[0].as_ref().unwrap(),
            &LogOutput::Console(Bytes::from_static(b"\x01\x00tty bytes"))
        );
    }
}
