//! The [`Docker`] handle: configuration, API version negotiation, sending
//! requests and turning responses into typed values or errors.

use crate::config::Config;
use crate::operations::{Operation, ParamSink};
use crate::request;
use crate::transport::{self, RequestBody, ResponseBody, Transport, TransportOptions};
use crate::{ApiVersion, Error, Result};
use bytes::Bytes;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// What the daemon said about itself when the client first talked to it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DaemonInfo {
    /// The API version in use for every request: the lower of the daemon's
    /// (`Api-Version` header) and [`ApiVersion::NEWEST`], or the fixed version.
    pub api_version: ApiVersion,
    /// The daemon's newest API version, when it sent one.
    pub daemon_api_version: Option<ApiVersion>,
    /// `Ostype` header (`linux`, `windows`).
    pub os_type: Option<String>,
    /// `Docker-Experimental` header.
    pub experimental: bool,
    /// `Builder-Version` header (`1` classic, `2` BuildKit).
    pub builder_version: Option<String>,
    /// `Swarm` header (`inactive`, `active/manager`, …), from API 1.39.
    pub swarm: Option<String>,
}

/// The API version the docker CLI assumes when a ping carries no `Api-Version`.
const FALLBACK_API_VERSION: ApiVersion = ApiVersion::new(1, 24);

/// A Docker daemon client. Cheap to clone (one `Arc`); `Send + Sync`.
///
/// Every clone shares one pooled connection set and one negotiated API
/// version. Group handles (`docker.containers()`, `docker.images()`, …) are
/// cheap views of it.
#[derive(Clone)]
pub struct Docker {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    fixed_version: Option<ApiVersion>,
    negotiated: OnceCell<DaemonInfo>,
    user_agent: http::HeaderValue,
    headers: http::HeaderMap,
}

impl std::fmt::Debug for Docker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Docker")
            .field("host", &self.inner.transport.host_display())
            .field("fixed_version", &self.inner.fixed_version)
            .field(
                "negotiated",
                &self.inner.negotiated.get().map(|d| d.api_version),
            )
            .finish_non_exhaustive()
    }
}

/// Builds a [`Docker`] with non-default settings.
///
/// ```no_run
/// # async fn f() -> dockhand::Result<()> {
/// use std::time::Duration;
/// let docker = dockhand::Docker::builder()
///     .host("unix:///var/run/docker.sock")
///     .api_version(dockhand::ApiVersion::new(1, 41))
///     .connect_timeout(Duration::from_secs(5))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct DockerBuilder {
    host: Option<String>,
    config: Option<Config>,
    api_version: Option<ApiVersion>,
    connect_timeout: Option<Duration>,
    response_header_timeout: Option<Duration>,
    user_agent: Option<String>,
    headers: Vec<(String, String)>,
}

impl DockerBuilder {
    /// Talk to this host (`unix://`, `tcp://`, `http://`, `https://`,
    /// `npipe://`, `ssh://`) instead of what the environment says.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// Use an already resolved configuration.
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Use this API version for every request, without negotiating.
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.api_version = Some(version);
        self
    }

    /// How long connecting may take (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long to wait for response headers once a request is sent (default
    /// none: some operations, like `wait`, answer only when something happens).
    /// Response bodies (logs, events) are never cut by a timeout.
    pub fn response_header_timeout(mut self, timeout: Duration) -> Self {
        self.response_header_timeout = Some(timeout);
        self
    }

    /// The `User-Agent` header (default `dockhand/<version>`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// A header sent with every request (like the CLI's `HttpHeaders` setting).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Resolves the configuration (explicit host, else the environment as the
    /// docker CLI reads it) and creates the client. No connection is made yet.
    pub fn build(self) -> Result<Docker> {
        let mut config = match (self.config, &self.host) {
            (Some(c), _) => c,
            (None, Some(h)) => Config::for_host(h)?,
            (None, None) => Config::from_env()?,
        };
        if let Some(v) = self.api_version {
            config.api_version = Some(v);
        }
        let options = TransportOptions {
            connect_timeout: self.connect_timeout.unwrap_or(Duration::from_secs(30)),
            response_header_timeout: self.response_header_timeout,
        };
        let transport = Transport::new(&config, options)?;
        let ua = self
            .user_agent
            .unwrap_or_else(|| format!("dockhand/{}", env!("CARGO_PKG_VERSION")));
        let user_agent = http::HeaderValue::from_str(&ua)
            .map_err(|_| Error::config(format!("user agent {ua:?} is not a valid header value")))?;
        let mut headers = http::HeaderMap::new();
        for (name, value) in self.headers {
            let n = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::config(format!("header name {name:?} is invalid")))?;
            let v = http::HeaderValue::from_str(&value)
                .map_err(|_| Error::config(format!("header {name}: value is invalid")))?;
            headers.append(n, v);
        }
        Ok(Docker {
            inner: Arc::new(Inner {
                transport,
                fixed_version: config.api_version,
                negotiated: OnceCell::new(),
                user_agent,
                headers,
            }),
        })
    }
}

/// A successful response, before its body is read.
pub(crate) struct Response {
    pub operation: &'static Operation,
    pub inner: http::Response<ResponseBody>,
}

impl Docker {
    /// A client configured the way the docker CLI is: `DOCKER_HOST`,
    /// `DOCKER_CONTEXT` / the current context, `DOCKER_TLS_VERIFY`,
    /// `DOCKER_CERT_PATH`, `DOCKER_API_VERSION`, …
    ///
    /// ```no_run
    /// # async fn f() -> dockhand::Result<()> {
    /// let docker = dockhand::Docker::connect()?;
    /// let version = docker.system().version().await?;
    /// println!("{:?}", version.version);
    /// # Ok(()) }
    /// ```
    pub fn connect() -> Result<Docker> {
        DockerBuilder::default().build()
    }

    /// A client for this host, ignoring `DOCKER_HOST` and contexts.
    ///
    /// ```no_run
    /// # fn f() -> dockhand::Result<()> {
    /// let docker = dockhand::Docker::connect_with_host("unix:///var/run/docker.sock")?;
    /// # Ok(()) }
    /// ```
    pub fn connect_with_host(host: &str) -> Result<Docker> {
        DockerBuilder::default().host(host).build()
    }

    /// A builder for other settings.
    pub fn builder() -> DockerBuilder {
        DockerBuilder::default()
    }

    /// The daemon facts from the first ping (negotiating now if that has not
    /// happened yet). With a fixed API version no ping is needed for requests,
    /// but this still pings once to learn the daemon's facts.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let info = docker.daemon_info().await?;
    /// println!("API {} on {:?}", info.api_version, info.os_type);
    /// # Ok(()) }
    /// ```
    pub async fn daemon_info(&self) -> Result<DaemonInfo> {
        self.inner
            .negotiated
            .get_or_try_init(|| self.ping_for_info())
            .await
            .cloned()
    }

    /// The API version requests use: the fixed one, or the negotiated one
    /// (negotiating once, however many tasks ask at the same time).
    pub async fn api_version(&self) -> Result<ApiVersion> {
        match self.inner.fixed_version {
            Some(v) => Ok(v),
            None => Ok(self.daemon_info().await?.api_version),
        }
    }

    async fn ping_for_info(&self) -> Result<DaemonInfo> {
        // HEAD first (cheap), GET when the daemon does not route HEAD /_ping
        // (before API 1.40). Headers are read whatever the status: a daemon
        // that is starting up answers 500 with its version headers.
        let mut last_err = None;
        for method in [http::Method::HEAD, http::Method::GET] {
            let req = http::Request::builder()
                .method(method.clone())
                .uri("/_ping")
                .body(transport::empty_body())
                .map_err(|e| Error::protocol(format!("ping request: {e}")))?;
            match self.send_raw(req, false).await {
                Ok(resp) => {
                    let status = resp.status();
                    let info = self.info_from_headers(resp.headers())?;
                    if method == http::Method::HEAD
                        && (status == http::StatusCode::NOT_FOUND
                            || status == http::StatusCode::METHOD_NOT_ALLOWED)
                        && info.daemon_api_version.is_none()
                    {
                        continue;
                    }
                    if !status.is_success() && info.daemon_api_version.is_none() {
                        let body = read_error_body(resp.into_body()).await;
                        return Err(Error::Api {
                            status: status.as_u16(),
                            message: body,
                            operation: "SystemPing",
                        });
                    }
                    return Ok(info);
                }
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| Error::protocol("ping failed")))
    }

    fn info_from_headers(&self, h: &http::HeaderMap) -> Result<DaemonInfo> {
        let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let daemon_api_version = match text("Api-Version") {
            Some(v) => Some(v.parse::<ApiVersion>().map_err(|e| Error::Protocol {
                message: format!("daemon sent an invalid Api-Version header {v:?}"),
                source: Some(Box::new(e)),
            })?),
            None => None,
        };
        let api_version = match (self.inner.fixed_version, daemon_api_version) {
            (Some(fixed), _) => fixed,
            (None, Some(d)) => d.min(ApiVersion::NEWEST),
            (None, None) => FALLBACK_API_VERSION,
        };
        Ok(DaemonInfo {
            api_version,
            daemon_api_version,
            os_type: text("Ostype"),
            experimental: text("Docker-Experimental").as_deref() == Some("true"),
            builder_version: text("Builder-Version"),
            swarm: text("Swarm"),
        })
    }

    /// Sends a request with the client's common headers; no status handling.
    /// A `streaming` request (its answer is a stream or an archive) gets a
    /// connection of its own, read in the task that reads the body.
    async fn send_raw(
        &self,
        mut req: http::Request<RequestBody>,
        streaming: bool,
    ) -> Result<http::Response<ResponseBody>> {
        let h = req.headers_mut();
        h.insert(http::header::USER_AGENT, self.inner.user_agent.clone());
        for (name, value) in &self.inner.headers {
            h.append(name.clone(), value.clone());
        }
        if streaming {
            self.inner.transport.send_streaming(req).await
        } else {
            Ok(self
                .inner
                .transport
                .send(req)
                .await?
                .map(ResponseBody::pooled))
        }
    }

    /// Builds and sends one operation; a non-success status becomes `Error::Api`.
    pub(crate) async fn execute(
        &self,
        op: &'static Operation,
        path_args: &[&str],
        params: impl FnOnce(&mut ParamSink),
        body: Option<(RequestBody, &str)>,
    ) -> Result<Response> {
        self.execute_with(op, path_args, params, body, &[], false)
            .await
    }

    /// Sends an operation asking for a connection upgrade (`Upgrade: tcp` for
    /// attach, exec start and session; `websocket` for the WebSocket attach)
    /// and returns the upgraded connection. Any status but 101 is an error
    /// carrying the daemon's message.
    pub(crate) async fn upgrade(
        &self,
        op: &'static Operation,
        path_args: &[&str],
        params: impl FnOnce(&mut ParamSink),
        body: Option<(RequestBody, &str)>,
        extra: &[(http::HeaderName, http::HeaderValue)],
    ) -> Result<crate::stream::RawConnection> {
        let (conn, _headers) = self
            .upgrade_with_headers(op, path_args, params, body, extra)
            .await?;
        Ok(conn)
    }

    /// As [`Docker::upgrade`], also returning the 101 response's headers.
    pub(crate) async fn upgrade_with_headers(
        &self,
        op: &'static Operation,
        path_args: &[&str],
        params: impl FnOnce(&mut ParamSink),
        body: Option<(RequestBody, &str)>,
        extra: &[(http::HeaderName, http::HeaderValue)],
    ) -> Result<(crate::stream::RawConnection, http::HeaderMap)> {
        let resp = self
            .execute_with(op, path_args, params, body, extra, false)
            .await?;
        let status = resp.inner.status();
        if status != http::StatusCode::SWITCHING_PROTOCOLS {
            let message = read_error_body(resp.inner.into_body()).await;
            return Err(Error::Protocol {
                message: format!(
                    "{}: expected 101 Switching Protocols, daemon answered {status}: {message}",
                    op.id
                ),
                source: None,
            });
        }
        let headers = resp.inner.headers().clone();
        let upgraded = hyper::upgrade::on(resp.inner)
            .await
            .map_err(|e| Error::Protocol {
                message: format!("{}: connection upgrade failed", op.id),
                source: Some(Box::new(e)),
            })?;
        Ok((crate::stream::RawConnection::new(upgraded), headers))
    }

    async fn execute_with(
        &self,
        op: &'static Operation,
        path_args: &[&str],
        params: impl FnOnce(&mut ParamSink),
        body: Option<(RequestBody, &str)>,
        extra: &[(http::HeaderName, http::HeaderValue)],
        streaming: bool,
    ) -> Result<Response> {
        let version = self.api_version().await?;
        let mut sink = ParamSink::new(op, version);
        params(&mut sink);
        let (body, content_type) = match body {
            Some((b, ct)) => (b, Some(ct)),
            None => (transport::empty_body(), None),
        };
        let mut req = request::build(op, version, path_args, sink, body, content_type)?;
        for (name, value) in extra {
            req.headers_mut().append(name.clone(), value.clone());
        }
        tracing::debug!(operation = op.id, uri = %req.uri(), "sending");
        let resp = self.send_raw(req, streaming).await?;
        let status = resp.status();
        if status.is_success() || status == http::StatusCode::SWITCHING_PROTOCOLS {
            return Ok(Response {
                operation: op,
                inner: resp,
            });
        }
        // 304 Not Modified (start of a running container, stop of a stopped one)
        // is success without effect, as the CLI treats it.
        if status == http::StatusCode::NOT_MODIFIED {
            return Ok(Response {
                operation: op,
                inner: resp,
            });
        }
        let message = read_error_body(resp.into_body()).await;
        Err(Error::Api {
            status: status.as_u16(),
            message,
            operation: op.id,
        })
    }

    /// Executes and decodes a JSON response.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        op: &'static Operation,
        path_args: &[&str],
        params: impl FnOnce(&mut ParamSink),
        body: Option<(RequestBody, &str)>,
    ) -> Result<T> {
        let resp = self.execute(op, path_args, params, body).await?;
        let bytes = collect(resp.operation, resp.inner.into_body()).await?;
        decode_json(op.id, &bytes)
    }

    /// As [`Docker::json`], for operations whose success body some daemons
    /// leave empty (or send as `null`) although the specification promises a
    /// value: then `T::default()`. Used by `PluginDelete` (dockerd 20.10
    /// answers `200` with `Content-Length: 0`).
    pub(crate) async fn json_or_default<T: DeserializeOwned + Default>(
        &self,
        op: &'static Operation,
        path_args: &[&str],
        params: impl FnOnce(&mut ParamSink),
        body: Option<(RequestBody, &str)>,
    ) -> Result<T> {
        let resp = self.execute(op, path_args, params, body).await?;
        let bytes = collect(resp.operation, resp.inner.into_body()).await?;
        let text = bytes.trim_ascii();
        if text.is_empty() || text == b"null" {
            return Ok(T::default());
        }
        decode_json(op.id, &bytes)
    }

    /// Executes and returns the body as text (ping's `OK`).
    pub(crate) async fn text(
        &self,
        op: &'static Operation,
        path_args: &[&str],
        params: impl FnOnce(&mut ParamSink),
        body: Option<(RequestBody, &str)>,
    ) -> Result<String> {
        let resp = self.execute(op, path_args, params, body).await?;
        let bytes = collect(resp.operation, resp.inner.into_body()).await?;
        String::from_utf8(bytes.to_vec()).map_err(|e| Error::Protocol {
            message: format!("{}: response is not UTF-8 text", op.id),
            source: Some(Box::new(e)),
        })
    }

    /// Executes and returns the whole body (for responses that may be empty).
    pub(crate) async fn bytes(
        &self,
        op: &'static Operation,
        path_args: &[&str],
        params: impl FnOnce(&mut ParamSink),
        body: Option<(RequestBody, &str)>,
    ) -> Result<Bytes> {
        let resp = self.execute(op, path_args, params, body).await?;
        collect(resp.operation, resp.inner.into_body()).await
    }

    /// Executes an operation whose response body does not matter.
    pub(crate) async fn empty(
        &self,
        op: &'static Operation,
        path_args: &[&str],
        params: impl FnOnce(&mut ParamSink),
        body: Option<(RequestBody, &str)>,
    ) -> Result<()> {
        let resp = self.execute(op, path_args, params, body).await?;
        // Drain so the connection can go back to the pool.
        let _ = collect(resp.operation, resp.inner.into_body()).await?;
        Ok(())
    }

    /// Executes an operation and returns the raw response (headers and a
    /// streaming body), for streams, archives and upgrades.
    pub(crate) async fn raw(
        &self,
        op: &'static Operation,
        path_args: &[&str],
        params: impl FnOnce(&mut ParamSink),
        body: Option<(RequestBody, &str)>,
    ) -> Result<http::Response<ResponseBody>> {
        Ok(self
            .execute_with(op, path_args, params, body, &[], true)
            .await?
            .inner)
    }
}

/// A JSON request body.
pub(crate) fn json_body<T: serde::Serialize>(value: &T) -> Result<(RequestBody, &'static str)> {
    let bytes = serde_json::to_vec(value).map_err(|e| Error::InvalidArgument {
        name: "body",
        message: format!("cannot encode as JSON: {e}"),
    })?;
    Ok((transport::full_body(Bytes::from(bytes)), "application/json"))
}

/// Reads a whole (non-streaming) response body.
async fn collect(op: &'static Operation, body: ResponseBody) -> Result<Bytes> {
    body.collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| Error::Protocol {
            message: format!("{}: reading the response body failed", op.id),
            source: Some(Box::new(e)),
        })
}

/// The most of an error body that is read.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The daemon's error message: `{"message": …}`, or the body text.
async fn read_error_body(mut body: ResponseBody) -> String {
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Some(d) = f.data_ref() {
                    let room = ERROR_BODY_LIMIT.saturating_sub(buf.len());
                    buf.extend_from_slice(&d[..d.len().min(room)]);
                    if room <= d.len() {
                        break;
                    }
                }
            }
            Err(_) => break,
        }
    }
    error_message(&buf)
}

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
