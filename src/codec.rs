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
/// Parsed by `serde_json`. A faster parser (`simd-json` 0.15) was the
/// decode path for a few hours of issue 15 (0.8× the instructions on a
/// container list), and the `decode_paths` fuzz target found it taking text
/// that is not JSON and dropping part of it without an error (a number
/// followed by letters or control characters: `1700000000200000000Hairpin`
/// read as the number) three times in ten minutes; correctness first
/// (bench/RESULTS.md, "Instruction counts: decoding").
pub(crate) fn decode_json<T: DeserializeOwned>(operation: &'static str, bytes: &[u8]) -> Result<T> {
    // Fast path: plain serde_json. Tracking the path costs an allocation per
    // object key (serde_path_to_error owns each key it passes), which made
    // decoding a 5,000-container list 40% slower; only a failed decode needs
    // the path, so it is decoded again, tracked, to report where it failed.
    //
    // The whole body's UTF-8 is checked once (fast on ASCII, which almost
    // every answer is), and the text parsed as a `str`: a parser over bytes
    // checks each string it hands out, at a cost per string. Text that is
    // not UTF-8 is parsed as bytes, which finds the bad string and reports it.
    if let Ok(text) = std::str::from_utf8(bytes) {
        let mut de = serde_json::Deserializer::from_str(text);
        if let Ok(value) = T::deserialize(&mut de) {
            if de.end().is_ok() {
                return Ok(value);
            }
        }
    } else {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        if let Ok(value) = T::deserialize(&mut de) {
            if de.end().is_ok() {
                return Ok(value);
            }
        }
    }
    decode_json_tracked(operation, bytes)
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
