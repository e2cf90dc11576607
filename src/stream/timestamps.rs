//! Logs asked for with `timestamps=true`: each message comes with the time
//! the daemon recorded it, written before it as RFC 3339 with nanoseconds
//! and a space. [`Timestamped`] takes that prefix off and parses it.
//!
//! With stdcopy framing every frame is one message, so every frame starts
//! with a timestamp. TTY output has no frames: there the stream is cut into
//! lines, each of which starts with a timestamp.

use super::LogOutput;
use crate::{Error, Result};
use bytes::{Bytes, BytesMut};
use futures::Stream;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

/// The longest TTY line held while waiting for its end (1 MiB); the daemon
/// cuts log messages at 16 KiB, so only a broken stream reaches it.
pub const MAX_LINE: usize = 1 << 20;

/// A log message and the time the daemon recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimestampedLog {
    /// When the daemon received the message.
    pub timestamp: SystemTime,
    /// The message, on the stream it came from, without the timestamp.
    pub output: LogOutput,
}

/// Parses the timestamp in front of `bytes` (`2024-05-01T10:00:00.123456789Z message`).
///
/// ```
/// use dockhand::stream::timestamps::split_timestamp;
/// let (t, rest) = split_timestamp(b"1970-01-01T00:00:01.5Z hello\n").unwrap();
/// assert_eq!(t, std::time::UNIX_EPOCH + std::time::Duration::from_millis(1500));
/// assert_eq!(rest, b"hello\n");
/// assert!(split_timestamp(b"no timestamp here").is_err());
/// ```
pub fn split_timestamp(bytes: &[u8]) -> Result<(SystemTime, &[u8])> {
    let bad = |why: &str| Error::Protocol {
        message: format!(
            "log message without a valid timestamp ({why}): {:?}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(60)])
        ),
        source: None,
    };
    let space = memchr::memchr(b' ', &bytes[..bytes.len().min(64)])
        .ok_or_else(|| bad("no space after it"))?;
    let text = std::str::from_utf8(&bytes[..space]).map_err(|_| bad("not text"))?;
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| Error::Protocol {
            message: format!(
                "log timestamp {text:?} is not RFC 3339 in {:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(60)])
            ),
            source: Some(Box::new(e)),
        })?;
    Ok((SystemTime::from(t), &bytes[space + 1..]))
}

/// Wraps the output of logs requested with `timestamps(true)`.
///
/// ```no_run
/// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
/// use dockhand::operations::ContainerLogsOptions;
/// use dockhand::stream::timestamps::Timestamped;
/// use futures::TryStreamExt;
/// let opts = ContainerLogsOptions::default().stdout(true).timestamps(true);
/// let mut logs = Timestamped::new(docker.containers().logs("web", &opts).await?);
/// while let Some(line) = logs.try_next().await? {
///     println!("{:?} {}", line.timestamp, String::from_utf8_lossy(line.output.bytes()));
/// }
/// # Ok(()) }
/// ```
pub struct Timestamped<S> {
    inner: S,
    /// A TTY line not yet ended.
    console: BytesMut,
    done: bool,
}

impl<S> std::fmt::Debug for Timestamped<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timestamped").finish_non_exhaustive()
    }
}

impl<S> Timestamped<S> {
    /// Parses the timestamps of `inner`'s messages.
    pub fn new(inner: S) -> Self {
        Timestamped {
            inner,
            console: BytesMut::new(),
            done: false,
        }
    }
}

fn parse(output: LogOutput) -> Result<TimestampedLog> {
    let rebuild = |kind: &LogOutput, b: Bytes| match kind {
        LogOutput::StdOut(_) => LogOutput::StdOut(b),
        LogOutput::StdErr(_) => LogOutput::StdErr(b),
        LogOutput::StdIn(_) => LogOutput::StdIn(b),
        LogOutput::Console(_) => LogOutput::Console(b),
    };
    let bytes = output.bytes();
    let (timestamp, rest) = split_timestamp(bytes)?;
    let message = bytes.slice_ref(rest);
    Ok(TimestampedLog {
        timestamp,
        output: rebuild(&output, message),
    })
}

impl<S> Timestamped<S> {
    /// The next complete TTY line held, if any.
    fn next_console_line(&mut self) -> Option<Result<TimestampedLog>> {
        let end = memchr::memchr(b'\n', &self.console)?;
        let line = self.console.split_to(end + 1).freeze();
        Some(parse(LogOutput::Console(line)))
    }
}

impl<S> Stream for Timestamped<S>
where
    S: Stream<Item = Result<LogOutput>> + Unpin,
{
    type Item = Result<TimestampedLog>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if let Some(item) = this.next_console_line() {
                if item.is_err() {
                    this.done = true;
                }
                return Poll::Ready(Some(item));
            }
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(LogOutput::Console(b)))) => {
                    this.console.extend_from_slice(&b);
                    if this.console.len() > MAX_LINE
                        && memchr::memchr(b'\n', &this.console).is_none()
                    {
                        this.done = true;
                        return Poll::Ready(Some(Err(Error::Protocol {
                            message: format!("a TTY log line is longer than {MAX_LINE} bytes"),
                            source: None,
                        })));
                    }
                }
                Poll::Ready(Some(Ok(framed))) => {
                    let item = parse(framed);
                    if item.is_err() {
                        this.done = true;
                    }
                    return Poll::Ready(Some(item));
                }
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    // A last TTY line without a newline is still a message.
                    if this.console.is_empty() {
                        return Poll::Ready(None);
                    }
                    let rest = this.console.split().freeze();
                    return Poll::Ready(Some(parse(LogOutput::Console(rest))));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{stream, TryStreamExt};
    use std::time::{Duration, UNIX_EPOCH};

    fn at(secs: u64, nanos: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(secs, nanos)
    }

    #[tokio::test]
    async fn framed_messages_each_carry_a_timestamp() {
        let items = vec![
            Ok(LogOutput::StdOut(Bytes::from_static(
                b"2023-11-14T22:13:20.000000001Z out\n",
            ))),
            Ok(LogOutput::StdErr(Bytes::from_static(
                b"2023-11-14T22:13:21.5+01:00 err no newline",
            ))),
        ];
        let got: Vec<_> = Timestamped::new(stream::iter(items))
            .try_collect()
            .await
            .expect("parsed");
        assert_eq!(got[0].timestamp, at(1_700_000_000, 1));
        assert_eq!(got[0].output, LogOutput::StdOut("out\n".into()));
        assert_eq!(got[1].timestamp, at(1_700_000_001 - 3600, 500_000_000));
        assert_eq!(got[1].output, LogOutput::StdErr("err no newline".into()));
    }

    #[tokio::test]
    async fn tty_output_is_cut_into_lines_across_chunks() {
        let text =
            b"2023-11-14T22:13:20Z one\r\n2023-11-14T22:13:21Z two\r\n2023-11-14T22:13:22Z last";
        for cut in 0..text.len() {
            let items = vec![
                Ok(LogOutput::Console(Bytes::copy_from_slice(&text[..cut]))),
                Ok(LogOutput::Console(Bytes::copy_from_slice(&text[cut..]))),
            ];
            let got: Vec<_> = Timestamped::new(stream::iter(items))
                .try_collect()
                .await
                .expect("parsed");
            let lines: Vec<_> = got
                .iter()
                .map(|l| (l.timestamp, l.output.bytes().clone()))
                .collect();
            assert_eq!(
                lines,
                vec![
                    (at(1_700_000_000, 0), Bytes::from("one\r\n")),
                    (at(1_700_000_001, 0), Bytes::from("two\r\n")),
                    (at(1_700_000_002, 0), Bytes::from("last")),
                ],
                "cut at {cut}"
            );
        }
    }

    #[tokio::test]
    async fn a_message_without_a_timestamp_is_an_error_and_ends_the_stream() {
        let items = vec![
            Ok(LogOutput::StdOut(Bytes::from_static(b"plain line\n"))),
            Ok(LogOutput::StdOut(Bytes::from_static(
                b"2023-11-14T22:13:20Z never seen\n",
            ))),
        ];
        let mut s = Timestamped::new(stream::iter(items));
        let e = s.try_next().await.expect_err("no timestamp");
        assert!(e.to_string().contains("plain line"), "{e}");
        assert!(s.try_next().await.expect("ended").is_none());
        // An endless TTY line is bounded.
        let long = vec![Ok(LogOutput::Console(Bytes::from(vec![
            b'x';
            MAX_LINE + 1
        ])))];
        let e = Timestamped::new(stream::iter(long))
            .try_collect::<Vec<_>>()
            .await
            .expect_err("too long");
        assert!(matches!(e, Error::Protocol { .. }), "{e}");
    }
}
