//! Concatenated JSON values (progress of pull, push, build, load; events;
//! stats): split into values, decode, and surface in-band errors.
//!
//! Values, not lines: the daemon writes `\n` or `\r\n` between values, and a
//! chunk may hold several values or end inside one. The splitter scans each
//! byte once, resuming where the previous chunk ended, so cost stays linear
//! however the input is chunked.

use crate::{Error, Result};
use bytes::{Buf, Bytes, BytesMut};
use futures::Stream;
use serde::de::DeserializeOwned;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The largest single JSON value accepted by default (16 MiB).
pub const DEFAULT_MAX_VALUE: usize = 16 << 20;

/// Splits a byte stream into complete top-level JSON values (objects or arrays).
///
/// A value that lies wholly inside a chunk given to
/// [`JsonSplitter::push_bytes`] is handed out as a slice of it, without
/// copying; only a value split across chunks is assembled in a buffer.
/// Inside strings the scan jumps to the next quote or backslash (`memchr2`).
#[derive(Debug)]
pub struct JsonSplitter {
    /// The beginning of a value split across chunks (all of it scanned).
    buf: BytesMut,
    /// Input not yet scanned.
    chunk: Bytes,
    /// Whether a value has started (its first byte is in `buf`, or at
    /// `chunk[0]` when `buf` is empty).
    in_value: bool,
    depth: usize,
    in_string: bool,
    escaped: bool,
    max: usize,
    /// Stream position of the first byte of `buf` (when a value is being
    /// assembled) or else of `chunk`.
    offset: u64,
    /// The first error, given again by every later call: after it the scan
    /// state no longer matches the input, so nothing more is split.
    failed: Option<String>,
}

impl JsonSplitter {
    /// A splitter accepting values up to `max` bytes.
    pub fn new(max: usize) -> Self {
        JsonSplitter {
            buf: BytesMut::new(),
            chunk: Bytes::new(),
            in_value: false,
            depth: 0,
            in_string: false,
            escaped: false,
            max,
            offset: 0,
            failed: None,
        }
    }

    /// Appends input (copied; [`JsonSplitter::push_bytes`] does not copy).
    pub fn push(&mut self, chunk: &[u8]) {
        self.push_bytes(Bytes::copy_from_slice(chunk));
    }

    /// Appends a chunk of input; values that lie wholly inside it are handed
    /// out as slices of it. After an error, input is dropped.
    pub fn push_bytes(&mut self, chunk: Bytes) {
        if self.failed.is_some() {
            return;
        }
        if self.chunk.is_empty() {
            self.chunk = chunk;
        } else {
            let mut joined = BytesMut::with_capacity(self.chunk.len() + chunk.len());
            joined.extend_from_slice(&self.chunk);
            joined.extend_from_slice(&chunk);
            self.chunk = joined.freeze();
        }
    }

    /// Scans `data` (continuing the current value); the index of the byte
    /// that closes the value, if it is in `data`.
    fn scan(&mut self, data: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < data.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    i += 1;
                    continue;
                }
                match memchr::memchr2(b'"', b'\\', &data[i..]) {
                    None => return None,
                    Some(k) => {
                        i += k;
                        if data[i] == b'\\' {
                            self.escaped = true;
                        } else {
                            self.in_string = false;
                        }
                    }
                }
            } else {
                match data[i] {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        // A value starts with `{` or `[`, so depth is at least
                        // 1 here; saturating all the same.
                        self.depth = self.depth.saturating_sub(1);
                        if self.depth == 0 {
                            return Some(i);
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        None
    }

    /// The next complete value, if the input holds one.
    ///
    /// Fused: after the first error, every call gives that error again.
    pub fn next_value(&mut self) -> Result<Option<Bytes>> {
        if let Some(message) = &self.failed {
            return Err(Error::protocol(message.clone()));
        }
        let result = self.split_next();
        if let Err(Error::Protocol { message, .. }) = &result {
            self.failed = Some(message.clone());
            // Nothing more is read: let go of what was buffered.
            self.buf = BytesMut::new();
            self.chunk = Bytes::new();
        }
        result
    }

    fn split_next(&mut self) -> Result<Option<Bytes>> {
        if !self.in_value {
            // Skip whitespace between values.
            let ws = self
                .chunk
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(self.chunk.len());
            self.chunk.advance(ws);
            self.offset += ws as u64;
            let Some(&b) = self.chunk.first() else {
                return Ok(None);
            };
            if b != b'{' && b != b'[' {
                return Err(Error::protocol(format!(
                    "JSON stream: expected an object or array at byte {}, found {:?}",
                    self.offset,
                    char::from(b)
                )));
            }
            self.in_value = true;
            self.depth = 0;
            self.in_string = false;
            self.escaped = false;
        }
        let chunk = std::mem::take(&mut self.chunk);
        match self.scan(&chunk) {
            Some(end) => {
                let len = self.buf.len() + end + 1;
                if len > self.max {
                    self.chunk = chunk;
                    return Err(self.too_large());
                }
                let value = if self.buf.is_empty() {
                    chunk.slice(..=end)
                } else {
                    self.buf.extend_from_slice(&chunk[..=end]);
                    self.buf.split().freeze()
                };
                self.chunk = chunk.slice(end + 1..);
                self.offset += len as u64;
                self.in_value = false;
                Ok(Some(value))
            }
            None => {
                if self.buf.len() + chunk.len() > self.max {
                    self.chunk = chunk;
                    return Err(self.too_large());
                }
                self.buf.extend_from_slice(&chunk);
                Ok(None)
            }
        }
    }

    fn too_large(&self) -> Error {
        Error::protocol(format!(
            "JSON stream: a value at byte {} exceeds the {} byte limit",
            self.offset, self.max
        ))
    }

    /// Call at end of input: an unfinished value is an error, and so is an
    /// earlier error (given again).
    pub fn finish(&self) -> Result<()> {
        if let Some(message) = &self.failed {
            return Err(Error::protocol(message.clone()));
        }
        let pending = self.buf.len() + self.chunk.len();
        let only_whitespace = self.buf.is_empty() && self.chunk.iter().all(u8::is_ascii_whitespace);
        if (self.in_value || !only_whitespace) && pending > 0 {
            return Err(Error::protocol(format!(
                "JSON stream ended inside a value ({pending} bytes from byte {} never completed)",
                self.offset
            )));
        }
        Ok(())
    }
}

/// If `value` carries an in-band error (`{"error": …, "errorDetail": {…}}`),
/// that error.
///
/// Read the way the typed decoders read the value: a key may be written
/// with escapes (`"\u0065rror"`), and a key given twice counts once, its
/// last value. (A strict derive refused duplicate keys, and a message with
/// two `error` keys passed as a plain message: found by fuzzing.)
pub(crate) fn in_band_error(operation: &'static str, value: &[u8]) -> Option<Error> {
    // Cheap pre-check: most messages have no such key, and an escaped one
    // has a `\u`. The searchers are built once (building one per message
    // cost more than the search).
    static RROR: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"rror"));
    static ESCAPE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\\u"));
    RROR.find(value).or_else(|| ESCAPE.find(value))?;
    let probe: serde_json::Value = serde_json::from_slice(value).ok()?;
    let detail = probe.get("errorDetail").filter(|d| d.is_object());
    let message = detail
        .and_then(|d| d.get("message"))
        .and_then(serde_json::Value::as_str)
        .or_else(|| probe.get("error").and_then(serde_json::Value::as_str))?
        .to_owned();
    let status = in_band_status(
        detail
            .and_then(|d| d.get("code"))
            .and_then(serde_json::Value::as_u64),
    );
    Some(Error::Api {
        status,
        message,
        operation,
    })
}

/// One message of a stream: its in-band error, or its value decoded.
///
/// For a type without the in-band error fields: the bytes are searched for
/// an error first (the decoded value could not show one).
pub(crate) fn decode_message<T: DeserializeOwned>(
    operation: &'static str,
    value: &[u8],
) -> Result<T> {
    match in_band_error(operation, value) {
        Some(e) => Err(e),
        None => crate::codec::decode_json(operation, value),
    }
}

/// How one message of a stream is decoded (the stream calls it for each).
pub(crate) type Decoder<T> = fn(&'static str, &[u8]) -> Result<T>;

/// A message type that carries the in-band error fields itself (`error`,
/// `errorDetail`): decoded first, and the error read from the typed value,
/// so a message without one is not searched for it beforehand.
pub(crate) trait CarriesInBandError: DeserializeOwned {
    /// The in-band error's message and `errorDetail.code`, moved out of
    /// the value, when it has one: `errorDetail.message`, else `error`, as
    /// [`in_band_error`] reads them.
    fn take_in_band_error(&mut self) -> Option<(String, Option<i64>)>;
}

macro_rules! carries_in_band_error {
    ($($t:ty),*) => {$(
        impl CarriesInBandError for $t {
            #[inline]
            fn take_in_band_error(&mut self) -> Option<(String, Option<i64>)> {
                if self.error.is_none() && self.error_detail.is_none() {
                    return None;
                }
                let code = self.error_detail.as_ref().and_then(|d| d.code);
                let message = self
                    .error_detail
                    .as_mut()
                    .and_then(|d| d.message.take())
                    .or_else(|| self.error.take())?;
                Some((message, code))
            }
        }
    )*};
}
carries_in_band_error!(
    crate::models::CreateImageInfo,
    crate::models::PushImageInfo,
    crate::models::BuildInfo
);

/// One message of a stream whose type carries the in-band error fields:
/// decoded, then its error (if any) taken from the typed value. A message
/// that does not decode is searched for an in-band error all the same (an
/// error whose other fields have unexpected types is still the daemon's
/// error), so the outcome is [`decode_message`]'s for every input.
pub(crate) fn decode_typed_message<T: CarriesInBandError>(
    operation: &'static str,
    value: &[u8],
) -> Result<T> {
    // One result, changed in place and returned as it is: the decoded value
    // stays where it was decoded (moving it out of `Ok` and back cost two
    // copies of a 248-byte progress message).
    let mut result = crate::codec::decode_json::<T>(operation, value);
    match &mut result {
        Ok(v) => {
            if let Some((message, code)) = v.take_in_band_error() {
                result = Err(Error::Api {
                    status: in_band_status(code.and_then(|c| u64::try_from(c).ok())),
                    message,
                    operation,
                });
            }
        }
        Err(_) => {
            if let Some(e) = in_band_error(operation, value) {
                result = Err(e);
            }
        }
    }
    result
}

/// The status an in-band error's `errorDetail.code` gives: the code when
/// it is an HTTP error status, else 0.
fn in_band_status(code: Option<u64>) -> u16 {
    // `errorDetail.code` is an HTTP status for registry failures (401, 404)
    // but the command's exit code for a failed build step (`RUN false` sends
    // 1): only an HTTP error status is taken as the status.
    code.and_then(|c| u16::try_from(c).ok())
        .filter(|c| (400..=599).contains(c))
        .unwrap_or(0)
}

/// Typed values of a JSON message stream. An in-band error ends the stream
/// with `Err(Error::Api { status: 0, or its code when that is an HTTP error status, .. })`; a value that does not
/// decode is an `Err(Error::Decode)`; a truncated stream is `Err(Error::Protocol)`.
pub struct JsonStream<S, T> {
    inner: S,
    splitter: JsonSplitter,
    operation: &'static str,
    /// How each message is decoded; `None`: [`decode_message`].
    decode: Option<Decoder<T>>,
    done: bool,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<S, T> std::fmt::Debug for JsonStream<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonStream")
            .field("operation", &self.operation)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<S, T> JsonStream<S, T> {
    /// Decodes the byte stream `inner` of `operation`.
    pub fn new(operation: &'static str, inner: S) -> Self {
        Self::with_limit(operation, inner, DEFAULT_MAX_VALUE)
    }

    /// As [`JsonStream::new`], with a different limit on one value's size.
    pub fn with_limit(operation: &'static str, inner: S, max_value: usize) -> Self {
        JsonStream {
            inner,
            splitter: JsonSplitter::new(max_value),
            operation,
            decode: None,
            done: false,
            _t: std::marker::PhantomData,
        }
    }
}

/// As [`JsonStream::new`], for a message type that carries the in-band
/// error fields: each message is decoded, then its error read from the
/// typed value ([`decode_typed_message`]).
pub(crate) fn carrying_errors<S, T: CarriesInBandError>(
    operation: &'static str,
    inner: S,
) -> JsonStream<S, T> {
    let mut s = JsonStream::new(operation, inner);
    s.decode = Some(decode_typed_message::<T>);
    s
}

impl<S, T> Stream for JsonStream<S, T>
where
    S: Stream<Item = Result<Bytes>> + Unpin,
    T: DeserializeOwned,
{
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        loop {
            match this.splitter.next_value() {
                Err(e) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Ok(Some(value)) => {
                    let item = match this.decode {
                        Some(decode) => decode(this.operation, &value),
                        None => decode_message::<T>(this.operation, &value),
                    };
                    if item.is_err() {
                        this.done = true;
                    }
                    return Poll::Ready(Some(item));
                }
                Ok(None) => {}
            }
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => this.splitter.push_bytes(chunk),
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    return match this.splitter.finish() {
                        Ok(()) => Poll::Ready(None),
                        Err(e) => Poll::Ready(Some(Err(e))),
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::{stream, StreamExt};

    const INPUT: &[u8] = b"{\"status\":\"Pulling from x\",\"id\":\"1\"}\r\n{\"status\":\"a \\\"quoted\\\" }{ brace\"}\n\n  {\"progressDetail\":{\"current\":1,\"total\":[2,3]}}{\"aux\":{\"ID\":\"sha256:1\"}}\n";

    /// Splits `input` cut at `cuts`, fed as shared chunks (zero-copy) and as
    /// copied slices pushed without draining in between; both must agree.
    fn split_all(input: &[u8], cuts: &[usize]) -> Result<Vec<Bytes>> {
        let results: Vec<Result<Vec<Bytes>>> = (0..2)
            .map(|mode| {
                let mut s = JsonSplitter::new(1 << 20);
                let mut out = Vec::new();
                let mut last = 0;
                for (i, &c) in cuts.iter().chain(std::iter::once(&input.len())).enumerate() {
                    if mode == 0 {
                        s.push_bytes(Bytes::copy_from_slice(&input[last..c]));
                    } else {
                        s.push(&input[last..c]);
                    }
                    last = c;
                    // In the second mode, drain only every other push.
                    if mode == 0 || i % 2 == 1 || c == input.len() {
                        while let Some(v) = s.next_value()? {
                            out.push(v);
                        }
                    }
                }
                s.finish()?;
                Ok(out)
            })
            .collect();
        assert_eq!(
            format!("{:?}", results[0]),
            format!("{:?}", results[1]),
            "push and push_bytes disagree"
        );
        results.into_iter().next().expect("two modes")
    }

    #[test]
    fn values_inside_a_chunk_are_not_copied() {
        let data = Bytes::from_static(INPUT);
        let mut s = JsonSplitter::new(1 << 20);
        s.push_bytes(data.clone());
        let v = s.next_value().unwrap().unwrap();
        assert_eq!(v.as_ptr(), data.as_ptr());
        // A string with escaped quotes and backslashes split at every byte.
        let tricky: &[u8] = br#"{"a":"x\\\\\"}{[\"","b":["]"]}"#;
        for cut in 0..=tricky.len() {
            let vals = split_all(tricky, &[cut]).unwrap();
            assert_eq!(vals.len(), 1, "cut {cut}");
            serde_json::from_slice::<serde_json::Value>(&vals[0]).expect("one value");
        }
    }

    #[test]
    fn error_positions() {
        let e = split_all(b"{\"a\":1}\n  x", &[]).unwrap_err();
        assert!(e.to_string().contains("at byte 10"), "{e}");
        let e = split_all(b"{\"a\":1}\n  {\"b\"", &[3, 11]).unwrap_err();
        assert!(e.to_string().contains("from byte 10"), "{e}");
        let mut s = JsonSplitter::new(8);
        s.push(b"{} {\"a\":");
        assert!(s.next_value().unwrap().is_some());
        assert!(s.next_value().unwrap().is_none());
        s.push(b"\"long\"}");
        let e = s.next_value().unwrap_err();
        assert!(
            e.to_string().contains("at byte 3 exceeds the 8 byte"),
            "{e}"
        );
    }

    #[test]
    fn values_not_lines() {
        let vals = split_all(INPUT, &[]).unwrap();
        assert_eq!(vals.len(), 4);
        for v in &vals {
            serde_json::from_slice::<serde_json::Value>(v).expect("each is one JSON value");
        }
        assert_eq!(&vals[3][..], br#"{"aux":{"ID":"sha256:1"}}"#);
    }

    #[test]
    fn every_split_point_gives_the_same_values() {
        let whole = split_all(INPUT, &[]).unwrap();
        for cut in 0..=INPUT.len() {
            assert_eq!(split_all(INPUT, &[cut]).unwrap(), whole, "cut at {cut}");
        }
        // Pseudo-random multi-splits (deterministic xorshift).
        let mut x: u64 = 0x9E3779B97F4A7C15;
        for _ in 0..500 {
            let mut cuts: Vec<usize> = (0..6)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % (INPUT.len() as u64 + 1)) as usize
                })
                .collect();
            cuts.sort_unstable();
            assert_eq!(split_all(INPUT, &cuts).unwrap(), whole, "cuts {cuts:?}");
        }
    }

    #[test]
    fn truncation_is_an_error_at_every_point() {
        let whole = split_all(INPUT, &[]).unwrap();
        let ends: Vec<usize> = {
            // Byte offsets just after each complete value (whitespace after is fine).
            let mut ends = Vec::new();
            let mut pos = 0;
            for v in &whole {
                let at = INPUT[pos..]
                    .windows(v.len())
                    .position(|w| w == &v[..])
                    .expect("value in input")
                    + pos;
                pos = at + v.len();
                ends.push(pos);
            }
            ends
        };
        for len in 0..INPUT.len() {
            let r = split_all(&INPUT[..len], &[]);
            let inside_value = !INPUT[..len].iter().all(u8::is_ascii_whitespace)
                && !ends
                    .iter()
                    .any(|&e| e <= len && INPUT[e..len].iter().all(u8::is_ascii_whitespace));
            assert_eq!(r.is_err(), inside_value, "truncated at {len}: {r:?}");
        }
    }

    #[test]
    fn the_splitter_is_fused_after_its_first_error() {
        // Each input fails once; every later call must fail the same way,
        // whatever is pushed, and never panic (the scan state is not reused).
        let cases: [(&[u8], usize); 5] = [
            // Cut inside a string: a rescan would read the string's `}` as
            // structure (a bogus value, then a depth underflow).
            (b"{\"a\":\"}}}}}}}}}}", 8),
            (b"{\"a\":\"0123456789\"}}}]]{}", 8),
            (b"{\"a\":[[[[[[[[[[[[[[", 8),
            (b"x{}", 64),
            (b"{}]}{}", 64),
        ];
        for (input, max) in cases {
            let mut s = JsonSplitter::new(max);
            s.push(input);
            let first = loop {
                match s.next_value() {
                    Ok(Some(_)) => continue,
                    Ok(None) => panic!("{input:?}: no error"),
                    Err(e) => break e.to_string(),
                }
            };
            for more in [&b""[..], b"}", b"]]]]", b"{}", b" {\"b\":1} "] {
                s.push(more);
                match s.next_value() {
                    Err(e) => assert_eq!(e.to_string(), first, "{input:?}"),
                    other => panic!("{input:?} then {more:?}: {other:?}"),
                }
            }
            assert_eq!(s.finish().unwrap_err().to_string(), first, "{input:?}");
        }
        // A value too large once its second chunk closes it: a rescan of that
        // chunk alone would start at depth 0 (an underflow in a debug build).
        let mut s = JsonSplitter::new(8);
        s.push(b"{\"a\":");
        assert!(s.next_value().unwrap().is_none());
        s.push(b"\"long\"}");
        let first = s.next_value().unwrap_err().to_string();
        assert_eq!(s.next_value().unwrap_err().to_string(), first);
    }

    #[test]
    fn garbage_and_oversized_values_are_errors() {
        assert!(split_all(b"{\"a\":1} hello", &[]).is_err());
        let mut s = JsonSplitter::new(16);
        s.push(b"{\"a\":\"0123456789abcdef\"}");
        assert!(s.next_value().is_err());
    }

    #[tokio::test]
    async fn typed_stream_gives_the_same_items_at_every_split_point() {
        let expected: Vec<serde_json::Value> = split_all(INPUT, &[])
            .unwrap()
            .iter()
            .map(|v| serde_json::from_slice(v).unwrap())
            .collect();
        for cut in 0..=INPUT.len() {
            let chunks: Vec<Result<Bytes>> = vec![
                Ok(Bytes::copy_from_slice(&INPUT[..cut])),
                Ok(Bytes::copy_from_slice(&INPUT[cut..])),
            ];
            let items: Vec<serde_json::Value> =
                JsonStream::new("ImageCreate", stream::iter(chunks))
                    .map(|r| r.expect("item"))
                    .collect()
                    .await;
            assert_eq!(items, expected, "cut at {cut}");
        }
        // A value the type does not accept is a Decode error carrying its path,
        // whether it arrives whole or split.
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Strict {
            id: u32,
        }
        let input: &[u8] = b"{\"id\":1}\n{\"id\":\"x\"}\n";
        for cut in [0, 3, 12, input.len()] {
            let chunks: Vec<Result<Bytes>> = vec![
                Ok(Bytes::copy_from_slice(&input[..cut])),
                Ok(Bytes::copy_from_slice(&input[cut..])),
            ];
            let items: Vec<Result<Strict>> = JsonStream::new("ImageCreate", stream::iter(chunks))
                .collect()
                .await;
            assert_eq!(items.len(), 2, "cut {cut}");
            assert!(items[0].is_ok());
            match &items[1] {
                Err(Error::Decode { path, .. }) => assert_eq!(path, "id"),
                other => panic!("cut {cut}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn typed_stream_ends_with_in_band_error() {
        #[derive(serde::Deserialize, Debug)]
        struct Msg {
            status: Option<String>,
        }
        let chunks: Vec<Result<Bytes>> = vec![
            Ok(Bytes::from_static(b"{\"status\":\"one\"}\n{\"sta")),
            Ok(Bytes::from_static(
                b"tus\":\"two\"}\n{\"errorDetail\":{\"message\":\"manifest unknown\"},\"error\":\"manifest unknown\"}\n{\"status\":\"never\"}",
            )),
        ];
        let items: Vec<Result<Msg>> = JsonStream::new("ImageCreate", stream::iter(chunks))
            .collect()
            .await;
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].as_ref().unwrap().status.as_deref(), Some("one"));
        assert_eq!(items[1].as_ref().unwrap().status.as_deref(), Some("two"));
        match &items[2] {
            Err(Error::Api {
                message, operation, ..
            }) => {
                assert_eq!(message, "manifest unknown");
                assert_eq!(*operation, "ImageCreate");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn in_band_codes_are_statuses_only_when_they_are_http_errors() {
        let status = |v: &str| match in_band_error("Op", v.as_bytes()) {
            Some(Error::Api { status, .. }) => status,
            other => panic!("{other:?}"),
        };
        // A registry refusal carries an HTTP status …
        assert_eq!(
            status(
                r#"{"errorDetail":{"message":"unauthorized","code":401},"error":"unauthorized"}"#
            ),
            401
        );
        // … a failed build step its exit code, which is no status.
        assert_eq!(
            status(r#"{"errorDetail":{"message":"returned a non-zero code: 1","code":1}}"#),
            0
        );
        assert_eq!(status(r#"{"error":"plain"}"#), 0);
        assert!(in_band_error("Op", br#"{"status":"Downloading"}"#).is_none());
    }

    #[test]
    fn in_band_errors_are_found_however_their_keys_are_written() {
        // Found by fuzzing (fuzz/regressions/in_band_error): a key given
        // twice made the strict probe fail, and the message passed.
        for v in [
            r#"{"error":"a","status":"x","error":"boom"}"#,
            r#"{"\u0065rror":"boom"}"#,
            r#"{"errorDetail":{"message":"boom","message":"boom"}}"#,
            r#"{"errorDetail":{"code":"not a number","message":"boom"}}"#,
            r#"{"errorDetail":null,"error":"boom"}"#,
        ] {
            match in_band_error("Op", v.as_bytes()) {
                Some(Error::Api { message, .. }) => assert_eq!(message, "boom", "{v}"),
                other => panic!("{v}: {other:?}"),
            }
        }
        assert!(in_band_error("Op", br#"{"error":null,"status":"x"}"#).is_none());
    }

    /// The outcome of decoding one message, comparable across the two
    /// ways: the value encoded, or the error's kind, status and message.
    fn outcome<T: serde::Serialize>(r: Result<T>) -> String {
        match r {
            Ok(v) => format!("ok {}", serde_json::to_string(&v).unwrap()),
            Err(Error::Api {
                status,
                message,
                operation,
            }) => format!("api {status} {message:?} {operation}"),
            Err(Error::Decode { operation, .. }) => format!("decode {operation}"),
            Err(other) => format!("other {other}"),
        }
    }

    #[test]
    fn typed_in_band_errors_are_the_searched_ones() {
        // The progress types read their in-band error from the decoded
        // value instead of searching the bytes first: the outcome must be
        // the same for every message, errors or not, well-typed or not.
        let inputs = [
            r#"{"status":"Downloading","progressDetail":{"current":1,"total":2},"id":"a"}"#,
            r#"{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}"#,
            r#"{"errorDetail":{"message":"unauthorized","code":401},"error":"unauthorized"}"#,
            r#"{"errorDetail":{"message":"returned a non-zero code: 1","code":1}}"#,
            r#"{"errorDetail":{"message":"big","code":99999999999}}"#,
            r#"{"errorDetail":{"message":"neg","code":-404}}"#,
            r#"{"errorDetail":{"code":404},"error":"from error"}"#,
            r#"{"errorDetail":{"code":404}}"#,
            r#"{"errorDetail":{"message":null},"error":"from error"}"#,
            r#"{"errorDetail":{},"error":""}"#,
            r#"{"error":"plain"}"#,
            r#"{"error":"a","status":"x","error":"boom"}"#,
            r#"{"error":"boom","error":null}"#,
            r#"{"error":"boom"}"#,
            r#"{"errorDetail":{"message":"boom","message":"boom"}}"#,
            r#"{"errorDetail":{"code":"not a number","message":"boom"}}"#,
            r#"{"errorDetail":{"code":401.0,"message":"float"}}"#,
            r#"{"errorDetail":null,"error":"boom"}"#,
            r#"{"errorDetail":"text","error":"boom"}"#,
            r#"{"errorDetail":{"message":5},"error":"boom"}"#,
            r#"{"error":5}"#,
            r#"{"error":null,"status":"x"}"#,
            r#"{"error":"boom","status":7}"#,
            r#"{"status":7}"#,
            r#"{"status":"x","Future":{"error":"not ours"}}"#,
            r#"{"status":"x"} trailing"#,
            r#"{"status":"x""#,
            r#"[{"error":"in a list"}]"#,
        ];
        use crate::models::{BuildInfo, CreateImageInfo, PushImageInfo};
        for v in inputs {
            let b = v.as_bytes();
            assert_eq!(
                outcome(decode_typed_message::<CreateImageInfo>("Op", b)),
                outcome(decode_message::<CreateImageInfo>("Op", b)),
                "CreateImageInfo {v}"
            );
            assert_eq!(
                outcome(decode_typed_message::<PushImageInfo>("Op", b)),
                outcome(decode_message::<PushImageInfo>("Op", b)),
                "PushImageInfo {v}"
            );
            assert_eq!(
                outcome(decode_typed_message::<BuildInfo>("Op", b)),
                outcome(decode_message::<BuildInfo>("Op", b)),
                "BuildInfo {v}"
            );
        }
        // And the errors are errors, the status an HTTP one only.
        let api = |v: &str| match decode_typed_message::<CreateImageInfo>("Op", v.as_bytes()) {
            Err(Error::Api {
                status, message, ..
            }) => (status, message),
            other => panic!("{v}: {other:?}"),
        };
        assert_eq!(api(inputs[1]), (0, "manifest unknown".into()));
        assert_eq!(api(inputs[2]), (401, "unauthorized".into()));
        assert_eq!(api(inputs[3]), (0, "returned a non-zero code: 1".into()));
        assert_eq!(api(inputs[6]), (404, "from error".into()));
        assert_eq!(api(inputs[11]), (0, "boom".into()));
        assert_eq!(api(inputs[15]), (0, "boom".into()));
        assert_eq!(api(inputs[22]), (0, "boom".into()));
    }

    #[tokio::test]
    async fn truncated_typed_stream_is_an_error() {
        let chunks: Vec<Result<Bytes>> = vec![Ok(Bytes::from_static(
            b"{\"status\":\"one\"}\n{\"status\":",
        ))];
        let items: Vec<Result<serde_json::Value>> =
            JsonStream::new("ImageCreate", stream::iter(chunks))
                .collect()
                .await;
        assert_eq!(items.len(), 2);
        assert!(
            matches!(items[1], Err(Error::Protocol { .. })),
            "{:?}",
            items[1]
        );
    }
}
