//! Turning response bytes into values: JSON decoding that reports where a
//! value failed (operation, JSON path, a snippet of the input), and the
//! daemon's error bodies. Below the client and the streams, which both use
//! it; it knows nothing of connections.

use crate::{Error, Result};
use serde::de::DeserializeOwned;

/// Extracts the message of an error body.
pub(crate) fn error_message(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Msg {
        message: String,
    }
    match serde_json::from_slice::<Msg>(body) {
        Ok(m) => m.message,
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let t = text.trim();
            if t.is_empty() {
                "(no message)".to_owned()
            } else {
                t.to_owned()
            }
        }
    }
}

/// Decodes JSON, reporting the path of the value that failed and a snippet.
///
/// Parsed by `simd-json` (SIMD scanning chosen at run time, a portable
/// fallback elsewhere), which decodes the same serde types as `serde_json`
/// at fewer instructions. What it refuses is parsed by `serde_json`, and a
/// value that does not decode there either is parsed once more with its
/// path tracked, so a failure reports exactly what `serde_json` reports
/// (path, line and column, message), and `serde_json` has the last word
/// on what is refused.
///
/// `simd-json` 0.15, the fast path of an earlier round, took text that is
/// not JSON and dropped part of it (a number followed by letters or a
/// control character: `1700000000200000000Hairpin` read as the number),
/// found by the `decode_paths` fuzz target; 0.16 and later refuse each of
/// those inputs (kept as regressions, `fuzz/regressions/decode_paths/`).
/// The guards of that round stay, each for what `serde_json` does and
/// `simd-json` does not:
///
/// - no nesting limit of its own, and a value nested a few thousand levels
///   deep would overflow the stack of the (recursive) serde visitors: input
///   nested deeper than `serde_json`'s limit (128) goes to `serde_json`,
///   which refuses it with its "recursion limit exceeded";
/// - a lone UTF-16 surrogate escape (`"\ud800"`, which `serde_json`
///   refuses) turned into another character: text with a surrogate escape,
///   paired or not (rare: Go writes non-ASCII text as UTF-8), goes to
///   `serde_json`, and so does text with a raw control character (not JSON
///   anywhere).
///
/// Inlined, so that a stream message's value is decoded where its caller
/// returns it (one copy of a 248-byte progress message fewer).
#[inline]
pub(crate) fn decode_json<T: DeserializeOwned>(operation: &'static str, bytes: &[u8]) -> Result<T> {
    if fast_path_may_take::<T>(bytes) {
        if let Some(value) = fast::decode(bytes) {
            return Ok(value);
        }
    }
    decode_json_serde(operation, bytes)
}

/// [`decode_json`] by `serde_json` alone: plain first, tracked on failure.
///
/// Not `#[cold]`: it is the whole decode of a stream message (shorter than
/// the fast parser's minimum). Inlined, with the value returned where it
/// was decoded (no `Option` in between), a 248-byte progress message is
/// copied once on its way out instead of three times.
#[inline]
fn decode_json_serde<T: DeserializeOwned>(operation: &'static str, bytes: &[u8]) -> Result<T> {
    // Plain serde_json first. Tracking the path costs an allocation per
    // object key (serde_path_to_error owns each key it passes), which made
    // decoding a 5,000-container list 40% slower; only a failed decode needs
    // the path, so it is decoded again, tracked, to report where it failed.
    //
    // The whole body's UTF-8 is checked once (fast on ASCII, which almost
    // every answer is), and the text parsed as a `str`: a parser over bytes
    // checks each string it hands out, at a cost per string. Text that is
    // not UTF-8 is parsed as bytes, which finds the bad string and reports it.
    // The check is `simdutf8`'s (AVX2/SSE4.2 chosen at run time): 93
    // instructions for a 150-byte progress message where the standard
    // library's took 116, and a third of its count on an 11 MB list.
    // The two arms repeat the decode-and-`end` block on purpose: one
    // helper returning an `Option` (even `#[inline(always)]`) cost 7 M
    // instructions more on 100,000 progress messages (372 M against 365 M:
    // the value copied through the `Option`), measured with `decode-count`.
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => {
            let mut de = serde_json::Deserializer::from_str(text);
            if let Ok(value) = T::deserialize(&mut de) {
                if de.end().is_ok() {
                    return Ok(value);
                }
            }
        }
        Err(_) => {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            if let Ok(value) = T::deserialize(&mut de) {
                if de.end().is_ok() {
                    return Ok(value);
                }
            }
        }
    }
    decode_json_tracked(operation, bytes)
}

/// Whether the fast parser may decode `bytes` as `T`: long enough to pay
/// for its set-up, no surrogate escape, and a nesting the visitors'
/// recursion can take. A generated model (or a list or option of them)
/// bounds its own recursion: its types nest a few levels, and its
/// free-form values (`serde_json::Value` fields, unknown fields) are read
/// with `serde_json`'s limit of 128 (`model_support::BoundedValue`). Any
/// other type is checked: one pass that the compiler vectorises settles
/// most inputs (an inspect has forty brackets); text with more brackets
/// than the limit is scanned for its depth.
///
/// A raw control character (not JSON anywhere) needs no check of its own
/// since `simd-json` 0.16: 0.15 ended a number at one and dropped what
/// followed (`1700000\0N000` → 1700000, found by the `decode_paths` fuzz
/// target, and a pre-check cost 1.3 instructions a byte); 0.19 refuses each
/// such input (`a_raw_control_character_is_refused_not_cut_off` asks the
/// fast parser alone), and `serde_json` then gives its message.
fn fast_path_may_take<T>(bytes: &[u8]) -> bool {
    if !(FAST_MIN..=FAST_MAX).contains(&bytes.len()) || parsers_may_differ(bytes) {
        return false;
    }
    if bounded_by_type::<T>() {
        return true;
    }
    // Counted in blocks of 255 into a byte each, which vectorises.
    let brackets: usize = bytes
        .chunks(255)
        .map(|block| {
            block
                .iter()
                .fold(0u8, |n, &b| n + u8::from(b == b'[' || b == b'{'))
        })
        .map(usize::from)
        .sum();
    brackets <= MAX_DEPTH || !deeper_than(bytes, MAX_DEPTH)
}

/// Shorter text goes to `serde_json`: `simd-json`'s fixed cost per document
/// (copying the input into its padded buffer, the structural scan's set-up,
/// the tape) made a 150-byte progress message cost more than `serde_json`
/// (441 M instructions against 434 M for 100,000 of them); a 5 kB inspect
/// costs 0.83× `serde_json`'s. The line lies between the two, not tuned.
const FAST_MIN: usize = 1024;

/// Longer text goes to `serde_json` too: above this size `simd-json` needs
/// buffers of its own for each answer (a thread keeps only small ones), and
/// a fresh 11 MB input copy, tape and string buffer for a 5,000-container
/// list cost more in page faults than its scan saves: 44 ms a list against
/// 33 ms with `serde_json` (`scripts/bench.sh --only list`), though 0.85×
/// the instructions (callgrind counts no page faults).
const FAST_MAX: usize = fast::KEEP;

/// Whether `T` is a generated model, or a `Vec` or `Option` of one (read
/// from its type name: a name this does not recognise only costs the depth
/// check).
fn bounded_by_type<T>() -> bool {
    let mut name = std::any::type_name::<T>();
    while let Some(inner) = ["alloc::vec::Vec<", "core::option::Option<"]
        .iter()
        .find_map(|w| name.strip_prefix(w).and_then(|n| n.strip_suffix('>')))
    {
        name = inner;
    }
    name.strip_prefix("dockhand::models::").is_some_and(|path| {
        path.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
    })
}

/// Whether `bytes` may hold text that `simd-json` reads otherwise than
/// `serde_json`, which then decodes it instead:
///
/// - a `\uD800`–`\uDFFF` escape (a backslash, `u`, `d`, then `8`–`f`, in
///   either case), which `simd-json` 0.15 turned into another character;
/// - a negative zero written as an integer (`-0` followed by anything but
///   a digit, `.`, `e` or `E`): `serde_json` reads it as the float `-0.0`
///   (kept, and written back as `-0.0`; refused where an integer is
///   expected), `simd-json` 0.19 as the integer 0 (the sign lost; found by
///   the `decode_paths` fuzz target in an unknown field).
///
/// Text inside strings may match too (an escaped backslash before
/// `ud800`, `", -0` in a message): the answer errs only towards
/// `serde_json`. A `-0` counts only where a value may start (after `:`,
/// `,` or `[`), so names like `/web-0` do not send a container list to
/// `serde_json` (they did, at 1.17× the instructions, before that).
fn parsers_may_differ(bytes: &[u8]) -> bool {
    memchr::memchr2_iter(b'\\', b'-', bytes).any(|i| {
        if bytes[i] == b'\\' {
            matches!(
                bytes.get(i + 1..i + 4),
                Some([b'u', b'd' | b'D', b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F'])
            )
        } else {
            // Where a number may start: after `:`, `,` or `[` (and
            // whitespace), or at the very beginning. A name such as
            // `/web-0` in a string is not taken for one.
            let starts_value = match bytes[..i]
                .iter()
                .rposition(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            {
                None => true,
                Some(k) => matches!(bytes[k], b':' | b',' | b'['),
            };
            starts_value
                && bytes.get(i + 1) == Some(&b'0')
                && !matches!(bytes.get(i + 2), Some(b'0'..=b'9' | b'.' | b'e' | b'E'))
        }
    })
}

/// `serde_json`'s nesting limit: deeper input is refused by it, so the fast
/// parser never sees it.
const MAX_DEPTH: usize = 128;

/// Whether the JSON text `bytes` nests arrays and objects deeper than
/// `limit` (brackets inside strings do not count). Malformed text may get
/// either answer: the parsers refuse it anyway.
fn deeper_than(bytes: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => loop {
                // To the closing quote, stepping over escapes.
                let Some(k) = bytes
                    .get(i + 1..)
                    .and_then(|r| memchr::memchr2(b'"', b'\\', r))
                else {
                    return false;
                };
                i += 1 + k;
                if bytes[i] == b'"' {
                    break;
                }
                i += 1;
            },
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    false
}

/// The fast path: `simd-json` into any serde type.
mod fast {
    use serde::de::DeserializeOwned;
    use std::cell::RefCell;

    /// Inputs up to this size reuse the thread's buffers (a stream of
    /// progress messages decodes without allocating parser buffers); larger
    /// ones get buffers of their own, freed after, so a thread never keeps
    /// the memory of one large answer.
    pub(super) const KEEP: usize = 64 << 10;

    struct Scratch {
        input: Vec<u8>,
        buffers: simd_json::Buffers,
    }

    thread_local! {
        static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch {
            input: Vec::new(),
            buffers: simd_json::Buffers::new(1024),
        });
    }

    /// `bytes` decoded as `T`, or `None` when `simd-json` refuses them.
    pub(super) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
        if bytes.len() <= KEEP {
            // A `Deserialize` impl that decodes JSON itself finds the
            // scratch taken and uses its own.
            let kept = SCRATCH.try_with(|cell| {
                cell.try_borrow_mut().ok().map(|mut scratch| {
                    let Scratch { input, buffers } = &mut *scratch;
                    input.clear();
                    input.extend_from_slice(bytes);
                    simd_json::serde::from_slice_with_buffers::<T>(input, buffers).ok()
                })
            });
            if let Ok(Some(value)) = kept {
                return value;
            }
        }
        let mut input = bytes.to_vec();
        let mut buffers = simd_json::Buffers::new(input.len());
        simd_json::serde::from_slice_with_buffers(&mut input, &mut buffers).ok()
    }
}

/// As [`decode_json`], tracking the path of the value being decoded.
#[cold]
fn decode_json_tracked<T: DeserializeOwned>(operation: &'static str, bytes: &[u8]) -> Result<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let fail = |path: String, e: serde_json::Error| Error::Decode {
        operation,
        path: if path.is_empty() { ".".into() } else { path },
        snippet: snippet_at(bytes, e.line(), e.column()),
        source: Box::new(e),
    };
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let path = e.path().to_string();
        fail(path, e.into_inner())
    })?;
    // Anything after the value is as wrong as a bad value.
    de.end().map_err(|e| fail(String::new(), e))?;
    Ok(value)
}

/// Up to 60 characters of input around a line/column position.
fn snippet_at(bytes: &[u8], line: usize, column: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let l = text.lines().nth(line.saturating_sub(1)).unwrap_or("");
    let chars: Vec<char> = l.chars().collect();
    let col = column.min(chars.len());
    let start = col.saturating_sub(40);
    let end = (col + 20).min(chars.len());
    let s: String = chars[start..end].iter().collect();
    if s.is_empty() {
        "(end of input)".to_owned()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_recursion_limit(e: &Error) -> bool {
        matches!(e, Error::Decode { .. })
            && std::error::Error::source(e)
                .is_some_and(|s| s.to_string().contains("recursion limit"))
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            error_message(br#"{"message":"No such container: x"}"#),
            "No such container: x"
        );
        assert_eq!(error_message(b"page not found\n"), "page not found");
        assert_eq!(error_message(b""), "(no message)");
    }

    #[test]
    fn deep_free_form_values_in_models_are_refused() {
        // Every way a generated model holds a free-form value: an unknown
        // field, a `Value` field, a map of them, a list of them. Nested
        // 100,000 deep, each is refused (serde_json's limit of 128, and the
        // models' `BoundedValue`) with serde_json's error, never a stack
        // overflow.
        let mut deep = vec![b'['; 100_000];
        deep.extend(std::iter::repeat_n(b']', 100_000));
        let deep = String::from_utf8(deep).unwrap();
        let cases: [(&str, String); 5] = [
            ("VolumesDiskUsage", format!(r#"{{"Items":[1,{deep}]}}"#)),
            (
                "ContainerSummary",
                format!(r#"{{"Id":"x","Future":{deep}}}"#),
            ),
            (
                "ContainerConfig",
                format!(r#"{{"ExposedPorts":{{"80/tcp":{deep}}}}}"#),
            ),
            ("ServiceSpecMode", format!(r#"{{"Global":{deep}}}"#)),
            ("ContainerList", String::new()),
        ];
        for (what, body) in &cases {
            let e = match *what {
                "ContainerSummary" => decode_json::<crate::models::ContainerSummary>(what, body.as_bytes()).map(drop),
                "ContainerConfig" => decode_json::<crate::models::ContainerConfig>(what, body.as_bytes()).map(drop),
                "VolumesDiskUsage" => decode_json::<crate::models::VolumesDiskUsage>(what, body.as_bytes()).map(drop),
                "ServiceSpecMode" => decode_json::<crate::models::ServiceSpecMode>(what, body.as_bytes()).map(drop),
                _ => decode_json::<Vec<crate::models::ContainerSummary>>(what, format!("[{{\"Id\":\"x\",\"Names\":[\"a\"],\"Labels\":{{\"k\":\"v\"}},\"Future\":[{deep}]}}]").as_bytes()).map(drop),
            }
            .expect_err(what);
            assert!(is_recursion_limit(&e), "{what}: {e}");
        }
        // Within the limit, the same fields decode.
        let ok = r#"{"ExposedPorts":{"80/tcp":{"a":[[[{"b":null}]]]}},"Future":[1,{"x":[]}]}"#;
        let c: crate::models::ContainerConfig =
            decode_json("ContainerConfig", ok.as_bytes()).unwrap();
        let again: crate::models::ContainerConfig = serde_json::from_str(ok).unwrap();
        assert_eq!(c, again);
        assert_eq!(serde_json::to_string(&c).unwrap(), ok);
    }

    #[test]
    fn an_escaped_control_character_in_an_unknown_key_is_kept() {
        // Valid JSON: the models' byte-key pass refuses it (it cannot tell
        // it from a raw one), the path-tracking pass takes it.
        let doc = br#"{"Type":"container","a\u0000b":1}"#;
        let m: crate::models::EventMessage = decode_json("SystemEvents", doc).expect("valid JSON");
        assert_eq!(m.extra.get("a\u{0}b"), Some(&serde_json::json!(1)));
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            r#"{"Type":"container","a\u0000b":1}"#
        );
    }

    #[test]
    fn a_raw_control_character_is_refused_not_cut_off() {
        // Found by the `decode_paths` fuzz target while `simd-json` 0.15
        // was the decode path: it read `1700000` from `1700000\0\0\0N000`
        // and dropped the rest. A raw control character is not JSON
        // anywhere (inside a string it must be escaped; outside, it is not
        // whitespace), nor are letters glued to a number.
        let inputs: [&[u8]; 6] = [
            b"{\"timeNano\":1700000\0\0\0N000000000}",
            b"{\"a\":1}\0",
            b"{\"a\":\"x\0y\"}",
            b"{\"a\0\":1}",
            b"{\"t\":17777777777777777777\x177777}",
            b"{\"timeNano\":1700000000200000000HairpinMode0}",
        ];
        for input in inputs {
            assert!(serde_json::from_slice::<serde_json::Value>(input).is_err());
            let r = decode_json::<serde_json::Value>("test", input);
            assert!(
                matches!(r, Err(Error::Decode { .. })),
                "{:?} decoded: {r:?}",
                String::from_utf8_lossy(input)
            );
            let r = decode_json::<crate::models::EventMessage>("test", input);
            assert!(matches!(r, Err(Error::Decode { .. })), "{r:?}");
            // The fast parser alone (without the guard that keeps such text
            // from it) refuses them too since `simd-json` 0.16.
            assert!(
                fast::decode::<serde_json::Value>(input).is_none(),
                "simd-json took {:?}",
                String::from_utf8_lossy(input)
            );
            assert!(fast::decode::<crate::models::EventMessage>(input).is_none());
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        // Past serde_json's limit: refused with its message, never a
        // stack overflow.
        for n in [129usize, 100_000] {
            let mut deep = vec![b'['; n];
            deep.extend(std::iter::repeat_n(b']', n));
            let e = decode_json::<serde_json::Value>("SystemInfo", &deep).expect_err("too deep");
            assert!(is_recursion_limit(&e), "{e}");
            // Inside an unknown field of a model, too.
            let mut body = br#"{"Id":"x","Future":"#.to_vec();
            body.extend_from_slice(&deep);
            body.push(b'}');
            let e = decode_json::<crate::models::ContainerSummary>("ContainerList", &body)
                .expect_err("too deep");
            assert!(is_recursion_limit(&e), "{e}");
        }
        // Within the limit: decoded.
        let mut ok = vec![b'['; 100];
        ok.extend(std::iter::repeat_n(b']', 100));
        decode_json::<serde_json::Value>("SystemInfo", &ok).expect("100 deep");
    }

    #[test]
    fn depth_is_measured_outside_strings() {
        assert!(!deeper_than(b"[[[]]]", 3));
        assert!(deeper_than(b"[[[[]]]]", 3));
        assert!(deeper_than(br#"{"a":{"b":[{"c":1}]}}"#, 3));
        assert!(!deeper_than(br#"{"a":{"b":[{"c":1}]}}"#, 4));
        // Brackets in strings, escaped quotes, escaped backslashes.
        assert!(!deeper_than(br#"["[[[[", "\"{{{{", "\\", "]]"]"#, 1));
        assert!(deeper_than(br#"["\\", [["x"]]]"#, 2));
        // Siblings do not add up.
        assert!(!deeper_than(b"[[],[],[],[],[]]", 2));
        // Unterminated strings and stray closers: no panic.
        assert!(!deeper_than(br#"[[[["abc"#, 4));
        assert!(!deeper_than(br#"[[[["ab\"#, 4));
        assert!(!deeper_than(b"]]]]}}}}[", 2));
    }

    #[test]
    fn only_answers_of_1_to_64_kib_go_to_the_fast_parser() {
        use crate::models::ContainerSummary;
        let doc = |len: usize| {
            let pad = "x".repeat(len - r#"{"Id":""}"#.len());
            format!(r#"{{"Id":"{pad}"}}"#).into_bytes()
        };
        assert!(!fast_path_may_take::<ContainerSummary>(&doc(FAST_MIN - 1)));
        assert!(fast_path_may_take::<ContainerSummary>(&doc(FAST_MIN)));
        assert!(fast_path_may_take::<ContainerSummary>(&doc(FAST_MAX)));
        // Above the per-thread buffers: fresh buffers' page faults cost
        // more time than the scan saves (bench/RESULTS.md).
        assert!(!fast_path_may_take::<ContainerSummary>(&doc(FAST_MAX + 1)));
        let big = doc(FAST_MAX + 1);
        let c: ContainerSummary = decode_json("ContainerList", &big).expect("decodes");
        assert_eq!(c.id.map(|id| id.len()), Some(FAST_MAX + 1 - 9));
    }

    #[test]
    fn models_are_recognised_by_type() {
        use crate::models::{ContainerInspectResponse, ContainerSummary};
        assert!(bounded_by_type::<ContainerSummary>());
        assert!(bounded_by_type::<Vec<ContainerSummary>>());
        assert!(bounded_by_type::<Option<Vec<ContainerInspectResponse>>>());
        assert!(!bounded_by_type::<serde_json::Value>());
        assert!(!bounded_by_type::<Vec<serde_json::Value>>());
        assert!(!bounded_by_type::<Vec<String>>());
        assert!(!bounded_by_type::<
            std::collections::HashMap<String, ContainerSummary>,
        >());
        assert!(!bounded_by_type::<(ContainerSummary, serde_json::Value)>());
    }

    #[test]
    fn text_the_parsers_read_differently_is_found() {
        assert!(parsers_may_differ(br#""\ud800""#));
        assert!(parsers_may_differ(br#""\uDFFF""#));
        assert!(parsers_may_differ(br#""\ud83d\ude00""#));
        assert!(!parsers_may_differ(br#""\u003e \u00e9 \ud7ff \ue000""#));
        assert!(!parsers_may_differ(br#""\ud"#), "cut short");
        assert!(!parsers_may_differ(b"\\"));
        for zero in ["[-0]", "[-0,1]", "{\"a\":-0}", "{\"a\":-0 }", "-0"] {
            assert!(parsers_may_differ(zero.as_bytes()), "{zero}");
        }
        for zero in ["[1, -0]", "{\"a\":\n\t-0}"] {
            assert!(parsers_may_differ(zero.as_bytes()), "{zero}");
        }
        for other in [
            "[-0.5]",
            "[-0e1]",
            "[-0E1]",
            "[-01]",
            "[-1]",
            "[0]",
            "\"a-b\"",
            "-",
            "[\"/web-0\"]",
            "{\"Names\":[\"/p0-s0-0\"]}",
            "[\"x -0\"]",
        ] {
            assert!(!parsers_may_differ(other.as_bytes()), "{other}");
        }
    }

    /// The JSON text of a value (number spellings included).
    fn text(v: &serde_json::Value) -> Option<String> {
        serde_json::to_string(v).ok()
    }

    #[test]
    fn a_negative_zero_is_read_as_serde_json_reads_it() {
        // Found by the `decode_paths` fuzz target: `simd-json` 0.19 reads
        // `-0` as the integer 0, `serde_json` as the float -0.0. Long
        // enough for the fast parser, in an unknown field and a known one.
        let pad = "x".repeat(FAST_MIN);
        let doc = format!(r#"{{"Id":"{pad}","Future":-0,"Created":1}}"#);
        let c: crate::models::ContainerSummary =
            decode_json("ContainerList", doc.as_bytes()).expect("decodes");
        let reference: crate::models::ContainerSummary = serde_json::from_str(&doc).unwrap();
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            serde_json::to_string(&reference).unwrap()
        );
        assert!(serde_json::to_string(&c)
            .unwrap()
            .contains(r#""Future":-0.0"#));
        let doc = format!(r#"{{"Id":"{pad}","Created":-0}}"#);
        assert!(serde_json::from_str::<crate::models::ContainerSummary>(&doc).is_err());
        assert!(matches!(
            decode_json::<crate::models::ContainerSummary>("ContainerList", doc.as_bytes()),
            Err(Error::Decode { .. })
        ));
    }

    #[test]
    fn both_parsers_decode_the_same_values() {
        // What the fast parser gives is what serde_json gives, for the
        // corners of JSON text: numbers at the edges of i64/u64/f64,
        // escapes, surrogate pairs, duplicate keys, key order, whitespace.
        let docs = [
            r#"{"a":9223372036854775807,"b":-9223372036854775808,"c":18446744073709551615}"#,
            r#"{"big":18446744073709551616,"neg":-9223372036854775809}"#,
            r#"{"f":[0.1,1e-7,5e-324,1.7976931348623157e308,2.2250738585072014e-308,-0.0,1E+2,123456789.123456789]}"#,
            r#"{"s":"tab\there \u00e9 \ud83d\ude00 \"q\" \\ \/","k\u0065y":1}"#,
            r#"{"dup":1,"dup":2}"#,
            r#"{"pair":"\ud83d\ude00","esc":"\\ud800 is text","gt":"[==\u003e]"}"#,
            " \r\n\t{ \"a\" : [ 1 , { } , [ ] , null , true , false ] } \n",
            r#"{"Id":"x","Ports":null,"Labels":{"a":"1","b":"2"},"Future":{"z":1,"a":[1.5,"x",null]}}"#,
            "[]",
            "\"just a string\"",
            "12",
        ];
        let mut wrong = Vec::new();
        for doc in docs {
            let slow: serde_json::Value = serde_json::from_str(doc).expect(doc);
            // The library path, and the fast parser alone where it decodes.
            let ours: serde_json::Value = decode_json("SystemInfo", doc.as_bytes()).expect(doc);
            if ours != slow || text(&ours) != text(&slow) {
                wrong.push(format!("library path: {doc} gave {ours}"));
            }
            if let Some(fast) = fast::decode::<serde_json::Value>(doc.as_bytes()) {
                if fast != slow || text(&fast) != text(&slow) {
                    wrong.push(format!("fast parser: {doc} gave {fast}"));
                }
            }
            // And through a model, re-encoded.
            if doc.starts_with(r#"{"Id""#) {
                let m: crate::models::ContainerSummary =
                    decode_json("ContainerList", doc.as_bytes()).expect(doc);
                let n: crate::models::ContainerSummary = serde_json::from_str(doc).expect(doc);
                assert_eq!(m, n);
                assert_eq!(serde_json::to_value(&m).unwrap(), slow);
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn what_serde_json_refuses_is_refused() {
        // These must all be errors, with serde_json's message and a path.
        let bad: [&[u8]; 15] = [
            b"{\"a\":\"\\udc00\"}",
            b"{\"a\":\"\\uD800\\u0041\"}",
            b"{\"a\":\"x\\ud800\"}",
            b"{\"a\":1} trailing",
            b"{\"a\":",
            b"{\"a\":01}",
            b"{\"a\":1.}",
            b"{\"a\":-}",
            b"{\"a\":1e400}",
            b"{\"a\":\"\\ud800\"}",
            b"{\"a\":\"\xff\"}",
            b"{\"a\":\"x\ny\"}",
            b"{\"a\":[1,]}",
            b"{'a':1}",
            b"",
        ];
        let mut wrong = Vec::new();
        for doc in bad {
            let text = String::from_utf8_lossy(doc);
            assert!(
                serde_json::from_slice::<serde_json::Value>(doc).is_err(),
                "{text}"
            );
            match decode_json::<serde_json::Value>("SystemInfo", doc) {
                Err(Error::Decode { .. }) => {}
                other => wrong.push(format!("{text}: {other:?}")),
            }
            // The fast parser alone refuses each too (lone surrogates
            // included, which the library keeps from it all the same).
            if let Some(v) = fast::decode::<serde_json::Value>(doc) {
                wrong.push(format!("fast parser took {text}: {v}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn decode_errors_carry_path_and_snippet() {
        let e = decode_json::<crate::models::ContainerSummary>(
            "ContainerInspect",
            br#"{"Id":"x","Ports":[{"PrivatePort":"eighty","Type":"tcp"}]}"#,
        )
        .expect_err("bad port");
        match e {
            Error::Decode {
                operation,
                path,
                snippet,
                ..
            } => {
                assert_eq!(operation, "ContainerInspect");
                assert_eq!(path, "Ports[0].PrivatePort");
                assert!(snippet.contains("eighty"), "{snippet}");
            }
            other => panic!("{other}"),
        }
        let e = decode_json::<serde_json::Value>("SystemInfo", b"{\"a\":1} trailing")
            .expect_err("trailing");
        assert!(matches!(e, Error::Decode { .. }), "{e}");
        let e = decode_json::<serde_json::Value>("SystemInfo", b"{\"a\":").expect_err("truncated");
        assert!(e.to_string().contains("SystemInfo"), "{e}");
    }
}
