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
pub(crate) fn decode_json<T: DeserializeOwned>(operation: &'static str, bytes: &[u8]) -> Result<T> {
    // Fast path: plain serde_json. Tracking the path costs an allocation per
    // object key (serde_path_to_error owns each key it passes), which made
    // decoding a 5,000-container list 40% slower; only a failed decode needs
    // the path, so it is decoded again, tracked, to report where it failed.
    let mut de = serde_json::Deserializer::from_slice(bytes);
    if let Ok(value) = T::deserialize(&mut de) {
        if de.end().is_ok() {
            return Ok(value);
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
