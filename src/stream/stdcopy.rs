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
#[derive(Debug)]
pub struct Demuxer {
    buf: BytesMut,
    max_frame: usize,
    offset: u64,
}

impl Demuxer {
    /// A decoder accepting frames up to `max_frame` bytes.
    pub fn new(max_frame: usize) -> Self {
        Demuxer {
            buf: BytesMut::new(),
            max_frame,
            offset: 0,
        }
    }

    /// Appends input.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete frame, if the input holds one.
    pub fn next_frame(&mut self) -> Result<Option<LogOutput>> {
        if self.buf.len() < 8 {
            return Ok(None);
        }
        let kind = self.buf[0];
        let size =
            u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
        if kind > 3 || self.buf[1..4] != [0, 0, 0] {
            return Err(Error::protocol(format!(
                "multiplexed stream: invalid frame header {:02x?} at byte {}",
                &self.buf[..8],
                self.offset
            )));
        }
        if size > self.max_frame {
            return Err(Error::protocol(format!(
                "multiplexed stream: frame of {size} bytes at byte {} exceeds the {} byte limit",
                self.offset, self.max_frame
            )));
        }
        if self.buf.len() < 8 + size {
            self.buf.reserve(8 + size - self.buf.len());
            return Ok(None);
        }
        self.buf.advance(8);
        let payload = self.buf.split_to(size).freeze();
        self.offset += 8 + size as u64;
        Ok(Some(match kind {
            0 => LogOutput::StdIn(payload),
            1 => LogOutput::StdOut(payload),
            2 => LogOutput::StdErr(payload),
            _ => {
                return Err(Error::Api {
                    status: 0,
                    message: String::from_utf8_lossy(&payload).trim_end().to_owned(),
                    operation: "stream",
                })
            }
        }))
    }

    /// Call at end of input: a partial header or frame is an error.
    pub fn finish(&self) -> Result<()> {
        match self.buf.len() {
            0 => Ok(()),
            n if n < 8 => Err(Error::protocol(format!(
                "multiplexed stream ended inside a frame header ({n} of 8 bytes at byte {})",
                self.offset
            ))),
            n => {
                let size = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]);
                Err(Error::protocol(format!(
                    "multiplexed stream ended inside a frame ({} of {size} bytes at byte {})",
                    n - 8,
                    self.offset
                )))
            }
        }
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
                    Some(d) => d.push(&chunk),
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

    fn decode(input: &[u8], cuts: &[usize]) -> Result<Vec<LogOutput>> {
        let mut d = Demuxer::new(1 << 20);
        let mut out = Vec::new();
        let mut last = 0;
        for &c in cuts.iter().chain(std::iter::once(&input.len())) {
            d.push(&input[last..c]);
            last = c;
            while let Some(f) = d.next_frame()? {
                out.push(f);
            }
        }
        d.finish()?;
        Ok(out)
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
