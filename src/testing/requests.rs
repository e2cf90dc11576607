//! What the fake received, decoded, for assertions.

use crate::ApiVersion;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// One request the fake received (mocked or not), decoded: the operation it
/// is, its version prefix, path, query and body.
///
/// ```
/// # async fn f(fake: &dockhand::testing::FakeDocker) {
/// use dockhand::models::ContainerCreateBody;
/// let create = fake.requests_for("ContainerCreate").pop().expect("a create");
/// let body: ContainerCreateBody = create.json().expect("typed body");
/// assert_eq!(create.query("name"), Some("web"));
/// assert_eq!(body.host_config.and_then(|h| h.memory), Some(64 << 20));
/// # }
/// ```
///
/// Its `Debug` output redacts credentials: the `X-Registry-Auth`,
/// `X-Registry-Config` and `Authorization` headers, and the body of
/// `SystemAuth` (`POST /auth`). The fields themselves hold what was sent.
#[derive(Clone)]
pub struct ReceivedRequest {
    /// The HTTP method.
    pub method: http::Method,
    /// The path without the `/v1.xx` prefix, percent-decoded.
    pub path: String,
    /// The version prefix, when there was one.
    pub api_version: Option<ApiVersion>,
    /// The operation id (`"ContainerCreate"`, …) the path and method are, when
    /// they are one.
    pub operation: Option<&'static str>,
    /// The query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The request headers.
    pub headers: http::HeaderMap,
    /// The request body.
    pub body: Bytes,
}

/// Headers whose values are credentials.
const SECRET_HEADERS: &[&str] = &["x-registry-auth", "x-registry-config", "authorization"];

impl std::fmt::Debug for ReceivedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| {
                let value = if SECRET_HEADERS.contains(&k.as_str()) {
                    "<redacted>"
                } else {
                    v.to_str().unwrap_or("<binary>")
                };
                (k.as_str(), value)
            })
            .collect();
        let body: std::borrow::Cow<'_, str> = if self.operation == Some("SystemAuth") {
            "<redacted>".into()
        } else {
            String::from_utf8_lossy(&self.body)
        };
        f.debug_struct("ReceivedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("api_version", &self.api_version)
            .field("operation", &self.operation)
            .field("query", &self.query)
            .field("headers", &headers)
            .field("body", &body)
            .finish()
    }
}

impl ReceivedRequest {
    /// The (first) value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The JSON body decoded as `T`, typically a generated model
    /// (`ContainerCreateBody`, `NetworkCreateBody`, …).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The `filters` query parameter decoded (both the `{"k":["v"]}` and
    /// the older `{"k":{"v":true}}` forms); empty when absent.
    pub fn filters(&self) -> Result<BTreeMap<String, Vec<String>>, String> {
        match self.query("filters") {
            None | Some("") => Ok(BTreeMap::new()),
            Some(raw) => decode_filters(raw),
        }
    }
}

/// Decodes a `filters` parameter as dockerd accepts it.
pub(crate) fn decode_filters(raw: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    let value: serde_json::Value =
        serde_json::from_str(raw).map_err(|e| format!("invalid filter: {e}"))?;
    let obj = value
        .as_object()
        .ok_or_else(|| "invalid filter: not a JSON object".to_string())?;
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        let values: Vec<String> = match v {
            serde_json::Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| format!("invalid filter: {k} has a non-string value"))?,
            serde_json::Value::Object(m) => m.keys().cloned().collect(),
            _ => return Err(format!("invalid filter: {k} is neither a list nor a map")),
        };
        out.insert(k.clone(), values);
    }
    Ok(out)
}
