//! Property tests of the two stream decoders: however the input is cut into
//! chunks, the same items come out; however it is truncated, the end is an
//! error, never silence or a panic; a system-error frame is an error.

use bytes::Bytes;
use dockhand::stream::json::JsonSplitter;
use dockhand::stream::stdcopy::Demuxer;
use dockhand::stream::LogOutput;
use dockhand::Error;
use proptest::prelude::*;

fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![kind, 0, 0, 0];
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn expected(kind: u8, payload: &[u8]) -> LogOutput {
    let b = Bytes::copy_from_slice(payload);
    match kind {
        0 => LogOutput::StdIn(b),
        1 => LogOutput::StdOut(b),
        _ => LogOutput::StdErr(b),
    }
}

/// Cut points: sorted, deduplicated offsets inside `0..=len`.
fn cuts(len: usize, raw: &[usize]) -> Vec<usize> {
    let mut c: Vec<usize> = raw.iter().map(|r| r % (len + 1)).collect();
    c.sort_unstable();
    c.dedup();
    c
}

/// Feeds `input` cut at `cuts` and drains after every chunk; the error, if any,
/// stops the run. Returns the items and how it ended.
fn demux(input: &[u8], cuts: &[usize]) -> (Vec<LogOutput>, Result<(), Error>) {
    let mut d = Demuxer::new(1 << 20);
    let mut items = Vec::new();
    let mut at = 0;
    for &end in cuts.iter().chain(std::iter::once(&input.len())) {
        d.push(&input[at..end]);
        at = end;
        loop {
            match d.next_frame() {
                Ok(Some(item)) => items.push(item),
                Ok(None) => break,
                Err(e) => return (items, Err(e)),
            }
        }
    }
    let end = d.finish();
    (items, end)
}

fn split_json(input: &[u8], cuts: &[usize]) -> (Vec<Bytes>, Result<(), Error>) {
    let mut s = JsonSplitter::new(1 << 20);
    let mut values = Vec::new();
    let mut at = 0;
    for &end in cuts.iter().chain(std::iter::once(&input.len())) {
        s.push(&input[at..end]);
        at = end;
        loop {
            match s.next_value() {
                Ok(Some(v)) => values.push(v),
                Ok(None) => break,
                Err(e) => return (values, Err(e)),
            }
        }
    }
    let end = s.finish();
    (values, end)
}

fn frames_strategy() -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    prop::collection::vec((0u8..3, prop::collection::vec(any::<u8>(), 0..200)), 0..12)
}

/// JSON progress-like messages whose strings hold the characters a naive
/// splitter trips on: braces, brackets, quotes, backslashes, newlines.
fn json_values_strategy() -> impl Strategy<Value = Vec<serde_json::Value>> {
    let text = prop::collection::vec(
        prop::sample::select(vec![
            "a", "{", "}", "[", "]", "\"", "\\", "\n", "\r\n", " ", "é", "💥", ":", ",",
        ]),
        0..20,
    )
    .prop_map(|parts| parts.concat());
    let value = (
        text.clone(),
        any::<i64>(),
        text,
        prop::option::of(any::<u32>()),
    )
        .prop_map(|(status, n, id, total)| {
            serde_json::json!({
                "status": status,
                "id": id,
                "progressDetail": {"current": n, "total": total},
                "aux": [{"nested": {"deep": [1, 2, {"x": null}]}}]
            })
        });
    prop::collection::vec(value, 0..8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn demuxer_gives_the_same_frames_however_the_input_is_cut(
        frames in frames_strategy(),
        raw_cuts in prop::collection::vec(any::<usize>(), 0..16),
    ) {
        let input: Vec<u8> = frames.iter().flat_map(|(k, p)| frame(*k, p)).collect();
        let want: Vec<LogOutput> = frames.iter().map(|(k, p)| expected(*k, p)).collect();
        let (items, end) = demux(&input, &cuts(input.len(), &raw_cuts));
        prop_assert!(end.is_ok(), "{:?}", end);
        prop_assert_eq!(items, want);
    }

    #[test]
    fn a_truncated_multiplexed_stream_is_an_error(
        frames in frames_strategy(),
        cut in any::<usize>(),
        raw_cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let input: Vec<u8> = frames.iter().flat_map(|(k, p)| frame(*k, p)).collect();
        prop_assume!(!input.is_empty());
        // Frame boundaries are the only places a stream may end.
        let mut boundaries = vec![0];
        for (_, p) in &frames {
            boundaries.push(boundaries.last().copied().unwrap_or(0) + 8 + p.len());
        }
        let end_at = cut % input.len();
        prop_assume!(!boundaries.contains(&end_at));
        let truncated = &input[..end_at];
        let (items, end) = demux(truncated, &cuts(truncated.len(), &raw_cuts));
        prop_assert!(matches!(end, Err(Error::Protocol { .. })), "{:?}", end);
        // What came out before the cut is a prefix of the real frames.
        let want: Vec<LogOutput> = frames.iter().map(|(k, p)| expected(*k, p)).collect();
        prop_assert!(items.len() < want.len());
        prop_assert_eq!(&want[..items.len()], &items[..]);
    }

    #[test]
    fn a_system_error_frame_is_an_error_carrying_its_message(
        before in frames_strategy(),
        message in "[a-z ]{1,40}",
        raw_cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut input: Vec<u8> = before.iter().flat_map(|(k, p)| frame(*k, p)).collect();
        input.extend(frame(3, message.as_bytes()));
        input.extend(frame(1, b"never seen"));
        let (items, end) = demux(&input, &cuts(input.len(), &raw_cuts));
        prop_assert_eq!(items.len(), before.len());
        match end {
            Err(Error::Api { message: m, .. }) => prop_assert_eq!(m, message.trim_end()),
            other => prop_assert!(false, "expected an Api error, got {:?}", other),
        }
    }

    #[test]
    fn json_splitter_gives_the_same_values_however_the_input_is_cut(
        values in json_values_strategy(),
        seps in prop::collection::vec(prop::sample::select(vec!["", "\n", "\r\n", " \t", "\r\n\r\n"]), 8),
        raw_cuts in prop::collection::vec(any::<usize>(), 0..16),
    ) {
        let mut input = Vec::new();
        for (i, v) in values.iter().enumerate() {
            input.extend_from_slice(seps[i % seps.len()].as_bytes());
            input.extend(serde_json::to_vec(v).expect("encode"));
        }
        input.extend_from_slice(b"\r\n");
        let (got, end) = split_json(&input, &cuts(input.len(), &raw_cuts));
        prop_assert!(end.is_ok(), "{:?}", end);
        let decoded: Vec<serde_json::Value> = got
            .iter()
            .map(|b| serde_json::from_slice(b).expect("each piece is one JSON value"))
            .collect();
        prop_assert_eq!(decoded, values);
    }

    #[test]
    fn a_truncated_json_stream_is_an_error(
        values in json_values_strategy(),
        cut in any::<usize>(),
        raw_cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        prop_assume!(!values.is_empty());
        let mut input = Vec::new();
        let mut ends = Vec::new();
        for v in &values {
            input.extend(serde_json::to_vec(v).expect("encode"));
            ends.push(input.len());
            input.push(b'\n');
        }
        let end_at = cut % input.len();
        // Cutting between values (at a value's end or after its newline) is a clean end.
        prop_assume!(end_at != 0 && !ends.contains(&end_at) && !ends.iter().any(|e| e + 1 == end_at));
        let truncated = &input[..end_at];
        let (got, end) = split_json(truncated, &cuts(truncated.len(), &raw_cuts));
        prop_assert!(matches!(end, Err(Error::Protocol { .. })), "{:?}", end);
        prop_assert!(got.len() < values.len());
    }
}
