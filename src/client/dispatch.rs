//! Sending an operation: the request built from the table, the client's
//! common headers, the status mapped to an error, the body read or handed on.

use super::{Docker, Response};
use crate::codec::{decode_json, error_message};
use crate::models::{FieldPlatforms, FieldVersions, NotOnPlatform, TooNew};
use crate::operations::Param;
use crate::operations::{Operation, ParamSink};
use crate::request;
use crate::transport::{self, RequestBody, ResponseBody};
use crate::{ApiVersion, Error, Result};
use bytes::Bytes;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

impl Docker {
    /// Sends a request with the client's common headers (`User-Agent`, the
    /// builder's headers, `Host`: the transport adds them); no status
    /// handling. A `streaming` request (its answer is a stream or an
    /// archive) gets a connection of its own, read in the task that reads
    /// the body.
    pub(super) fn send_raw(
        &self,
        req: http::Request<RequestBody>,
        op: Option<&'static Operation>,
        streaming: bool,
    ) -> impl std::future::Future<Output = Result<http::Response<ResponseBody>>> + Send + '_ {
        self.inner.transport.send_for(req, op, streaming)
    }

    /// Builds and sends one operation; a non-success status becomes `Error::Api`.
    ///
    /// (Not an `async fn`: its future would hold the one of
    /// `execute_with`, and copies of the arguments.)
    pub(crate) fn execute<'a>(
        &'a self,
        op: &'static Operation,
        path_args: &'a [&'a str],
        params: impl FnOnce(&mut ParamSink) + 'a,
        body: Option<Payload<'a>>,
    ) -> impl std::future::Future<Output = Result<Response>> + 'a {
        self.execute_with(op, path_args, params, body, &[], false)
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
        body: Option<Payload<'_>>,
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
        body: Option<Payload<'_>>,
        extra: &[(http::HeaderName, http::HeaderValue)],
    ) -> Result<(crate::stream::RawConnection, http::HeaderMap)> {
        let resp = self
            .execute_with(op, path_args, params, body, extra, false)
            .await?;
        upgraded(op.id, resp.inner).await
    }

    async fn execute_with(
        &self,
        op: &'static Operation,
        path_args: &[&str],
        params: impl FnOnce(&mut ParamSink),
        body: Option<Payload<'_>>,
        extra: &[(http::HeaderName, http::HeaderValue)],
        streaming: bool,
    ) -> Result<Response> {
        let version = self.api_version().await?;
        op.check_version(version)?;
        let mut sink = ParamSink::new(op, version);
        params(&mut sink);
        let model = match &body {
            Some(Payload::Json(m)) => Some(*m),
            _ => None,
        };
        // Nothing to check (most requests: an operation without platform
        // facts, no parameter, no JSON body) needs no platform.
        if !(op.platform.is_empty() && sink.is_empty() && model.is_none()) {
            let set: Vec<&'static Param> = sink.set_params().collect();
            self.check_platform(op.id, Some(op), &set, model).await?;
        }
        // (In a block of its own: the request's place is not kept beside
        // the exchange's future.)
        let sending = {
            let (body, content_type) = encode_payload(op.id, version, body)?;
            let mut req = request::build(op, version, path_args, sink, body, content_type)?;
            for (name, value) in extra {
                req.headers_mut().append(name.clone(), value.clone());
            }
            self.dispatch_for(op.id, Some(op), req, streaming)
        };
        Ok(Response {
            operation: op,
            inner: sending.await?,
        })
    }

    /// Sends a built request; a status that is not success (2xx, 101, or
    /// 304 — the CLI's "nothing to do") becomes `Error::Api` with the
    /// daemon's message.
    pub(crate) async fn dispatch(
        &self,
        operation: &'static str,
        req: http::Request<RequestBody>,
        streaming: bool,
    ) -> Result<http::Response<ResponseBody>> {
        self.dispatch_for(operation, None, req, streaming).await
    }

    /// As [`Docker::dispatch`], for a request that performs `op`.
    ///
    /// The request goes to the transport at once (which boxes the exchange),
    /// and the future holds only that and the status check: not a copy of
    /// the request, as an `async fn`'s argument would be (each layer above
    /// moves this future).
    fn dispatch_for(
        &self,
        operation: &'static str,
        op: Option<&'static Operation>,
        req: http::Request<RequestBody>,
        streaming: bool,
    ) -> impl std::future::Future<Output = Result<http::Response<ResponseBody>>> + Send + '_ {
        tracing::debug!(operation, method = %req.method(), path = req.uri().path(), "sending");
        let sending = self.send_raw(req, op, streaming);
        async move {
            // Boxed: an error is the less common case, and its future would
            // make every request's future larger. (In a block of its own, so
            // that the response's place is not kept beside it.)
            let error = {
                let resp = sending.await?;
                let status = resp.status();
                if status.is_success()
                    || status == http::StatusCode::SWITCHING_PROTOCOLS
                    || status == http::StatusCode::NOT_MODIFIED
                {
                    return Ok(resp);
                }
                Box::pin(api_error(operation, resp))
            };
            Err(error.await)
        }
    }

    /// Executes and decodes a JSON response.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        op: &'static Operation,
        path_args: &[&str],
        params: impl FnOnce(&mut ParamSink),
        body: Option<Payload<'_>>,
    ) -> Result<T> {
        let bytes = self.bytes(op, path_args, params, body).await?;
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
        body: Option<Payload<'_>>,
    ) -> Result<T> {
        let bytes = self.bytes(op, path_args, params, body).await?;
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
        body: Option<Payload<'_>>,
    ) -> Result<String> {
        let bytes = self.bytes(op, path_args, params, body).await?;
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
        body: Option<Payload<'_>>,
    ) -> Result<Bytes> {
        // (In a block of its own: the response's place is not kept beside
        // the body's reading.)
        let reading = {
            let resp = self.execute(op, path_args, params, body).await?;
            collect(resp.operation.id, resp.inner.into_body())
        };
        reading.await
    }

    /// Executes an operation whose response body does not matter.
    pub(crate) async fn empty(
        &self,
        op: &'static Operation,
        path_args: &[&str],
        params: impl FnOnce(&mut ParamSink),
        body: Option<Payload<'_>>,
    ) -> Result<()> {
        // Read to the end, so the connection can go back to the pool.
        self.bytes(op, path_args, params, body).await?;
        Ok(())
    }

    /// Executes an operation and returns the raw response (headers and a
    /// streaming body), for streams, archives and upgrades.
    pub(crate) async fn raw(
        &self,
        op: &'static Operation,
        path_args: &[&str],
        params: impl FnOnce(&mut ParamSink),
        body: Option<Payload<'_>>,
    ) -> Result<http::Response<ResponseBody>> {
        Ok(self
            .execute_with(op, path_args, params, body, &[], true)
            .await?
            .inner)
    }
}

/// A request body on its way to the daemon.
pub(crate) enum Payload<'a> {
    /// A model: checked field by field against the API version in use,
    /// then encoded as JSON.
    Json(&'a dyn JsonPayload),
    /// Bytes or a stream with this content type, sent as they are.
    Raw(RequestBody, &'static str),
}

/// A JSON body whose fields know their first API version and platforms.
pub(crate) trait JsonPayload: Sync {
    /// See [`FieldVersions::first_too_new`].
    fn first_too_new(&self, version: ApiVersion) -> Option<TooNew>;
    /// See [`FieldPlatforms::first_not_on`] (nothing known: `None`).
    fn first_not_on(&self, os: &str) -> Option<NotOnPlatform> {
        let _ = os;
        None
    }
    /// See [`FieldPlatforms::ignored_on`].
    fn ignored_on(&self, os: &str, out: &mut Vec<String>) {
        let _ = (os, out);
    }
    /// The JSON text.
    fn encode(&self) -> serde_json::Result<Vec<u8>>;
}

impl<T: serde::Serialize + FieldVersions + FieldPlatforms + Sync + ?Sized> JsonPayload for T {
    fn first_too_new(&self, version: ApiVersion) -> Option<TooNew> {
        FieldVersions::first_too_new(self, version)
    }

    fn first_not_on(&self, os: &str) -> Option<NotOnPlatform> {
        FieldPlatforms::first_not_on(self, os)
    }

    fn ignored_on(&self, os: &str, out: &mut Vec<String>) {
        FieldPlatforms::ignored_on(self, os, out)
    }

    fn encode(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(self)
    }
}

/// A JSON request body, checked against the API version when it is sent.
pub(crate) fn json_body<T: serde::Serialize + FieldVersions + FieldPlatforms + Sync>(
    value: &T,
) -> Result<Payload<'_>> {
    Ok(Payload::Json(value))
}

impl Docker {
    /// Refuses, before anything is sent, an operation, a set parameter or a
    /// set body field that the daemon's platform does not have
    /// ([`Error::UnsupportedOnPlatform`]); logs a warning for set fields and
    /// parameters it ignores.
    ///
    /// The daemon's OS comes from the negotiation ping (`Ostype`), so this
    /// costs no request. A client with a fixed API version has not pinged:
    /// when (and only when) a request touches a platform fact, it pings once
    /// to learn the OS (then cached like a negotiation). A daemon that sends
    /// no `Ostype`, or a client built with `platform_check(false)`, is not
    /// checked.
    pub(crate) async fn check_platform(
        &self,
        what: &str,
        op: Option<&'static crate::operations::Operation>,
        params: &[&'static Param],
        body: Option<&dyn JsonPayload>,
    ) -> Result<()> {
        if !self.inner.platform_check {
            return Ok(());
        }
        let learned;
        let os = match self.platform() {
            Some(os) => os,
            None if self.inner.negotiated.get().is_some() => return Ok(()),
            None => {
                let involved = KNOWN_OSES
                    .iter()
                    .any(|os| platform_findings(os, op, params, body).is_some());
                if !involved {
                    return Ok(());
                }
                learned = match Box::pin(self.daemon_info()).await?.os_type {
                    Some(os) => os.to_ascii_lowercase(),
                    None => return Ok(()),
                };
                &learned
            }
        };
        match platform_findings(os, op, params, body) {
            None => Ok(()),
            Some(Finding::Refused { thing, platform }) => Err(Error::UnsupportedOnPlatform {
                what: format!("{what} {thing}"),
                platform,
                daemon_os: os.to_owned(),
            }),
            Some(Finding::Ignored(list)) => {
                for thing in list {
                    tracing::warn!(
                        operation = what,
                        daemon_os = %os,
                        "{thing} is ignored by a daemon on {os}; sending it anyway"
                    );
                }
                Ok(())
            }
        }
    }
}

/// The platforms facts name; a request that touches none of their facts
/// needs no OS.
const KNOWN_OSES: &[&str] = &["linux", "windows"];

enum Finding {
    Refused { thing: String, platform: String },
    Ignored(Vec<String>),
}

/// The first refusal, else the ignored parameters and fields, for `os`.
fn platform_findings(
    os: &str,
    op: Option<&'static crate::operations::Operation>,
    params: &[&'static Param],
    body: Option<&dyn JsonPayload>,
) -> Option<Finding> {
    if let Some(op) = op {
        if op.platform.lacks(os) {
            return Some(Finding::Refused {
                thing: "(the operation)".to_owned(),
                platform: op.platform.describe(),
            });
        }
    }
    for p in params {
        if p.platform.lacks(os) {
            return Some(Finding::Refused {
                thing: format!("parameter `{}`", p.name),
                platform: p.platform.describe(),
            });
        }
    }
    if let Some(t) = body.and_then(|b| b.first_not_on(os)) {
        return Some(Finding::Refused {
            platform: t.platform(),
            thing: format!("body {}", t.what()),
        });
    }
    let mut ignored: Vec<String> = params
        .iter()
        .filter(|p| p.platform.ignored(os))
        .map(|p| format!("parameter `{}`", p.name))
        .collect();
    if let Some(b) = body {
        let mut fields = Vec::new();
        b.ignored_on(os, &mut fields);
        ignored.extend(fields.into_iter().map(|f| format!("body field `{f}`")));
    }
    (!ignored.is_empty()).then_some(Finding::Ignored(ignored))
}

/// The body as the transport sends it: a model refused when it sets a field
/// `version` does not have, else encoded.
pub(crate) fn encode_payload(
    operation: &str,
    version: ApiVersion,
    body: Option<Payload<'_>>,
) -> Result<(RequestBody, Option<&'static str>)> {
    match body {
        None => Ok((transport::empty_body(), None)),
        Some(Payload::Raw(b, ct)) => Ok((b, Some(ct))),
        Some(Payload::Json(value)) => {
            if let Some(t) = value.first_too_new(version) {
                return Err(Error::UnsupportedByVersion {
                    what: format!("{operation} body {t}"),
                    needs: t.needs,
                    negotiated: version,
                });
            }
            let bytes = value.encode().map_err(|e| Error::InvalidArgument {
                name: "body",
                message: format!("cannot encode as JSON: {e}"),
            })?;
            Ok((
                transport::full_body(Bytes::from(bytes)),
                Some("application/json"),
            ))
        }
    }
}

/// The connection a 101 answer hands over, with the answer's headers; any
/// other status is an error carrying the daemon's message.
pub(crate) async fn upgraded(
    operation: &str,
    resp: http::Response<ResponseBody>,
) -> Result<(crate::stream::RawConnection, http::HeaderMap)> {
    let status = resp.status();
    if status != http::StatusCode::SWITCHING_PROTOCOLS {
        let message = read_error_body(resp.into_body()).await;
        return Err(Error::Protocol {
            message: format!(
                "{operation}: expected 101 Switching Protocols, daemon answered {status}: {message}"
            ),
            source: None,
        });
    }
    let headers = resp.headers().clone();
    let upgraded = hyper::upgrade::on(resp)
        .await
        .map_err(|e| Error::Protocol {
            message: format!("{operation}: connection upgrade failed"),
            source: Some(Box::new(e)),
        })?;
    Ok((crate::stream::RawConnection::new(upgraded), headers))
}

/// Reads a whole (non-streaming) response body.
pub(crate) fn collect(
    operation: &'static str,
    body: ResponseBody,
) -> impl std::future::Future<Output = Result<Bytes>> + Send {
    transport::collect(operation, body)
}

/// The `Error::Api` of an answer whose status is not success, with the
/// daemon's message.
async fn api_error(operation: &'static str, resp: http::Response<ResponseBody>) -> Error {
    let status = resp.status();
    let message = read_error_body(resp.into_body()).await;
    Error::Api {
        status: status.as_u16(),
        message,
        operation,
    }
}

/// The most of an error body that is read.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// The daemon's error message: `{"message": …}`, or the body text.
pub(crate) async fn read_error_body(mut body: ResponseBody) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::{
        BodyKind, Encoding, Method, Operation, ParamLocation, PlatformFacts, ResponseKind,
    };

    // No operation or parameter of v1.56 has a platform fact after the fixups
    // (the prose's one, ContainerTop, is wrong); these check the code path
    // for when one does.
    static WINDOWS_ONLY_PARAM: Param = Param {
        name: "isolation",
        location: ParamLocation::Query,
        rust_type: "String",
        encoding: Encoding::Plain,
        required: false,
        default: None,
        since: ApiVersion::new(1, 25),
        platform: PlatformFacts {
            only: &["windows"],
            not_on: &[],
            ignored_on: &[],
        },
    };
    static IGNORED_ON_LINUX_PARAM: Param = Param {
        name: "quirk",
        location: ParamLocation::Query,
        rust_type: "String",
        encoding: Encoding::Plain,
        required: false,
        default: None,
        since: ApiVersion::new(1, 25),
        platform: PlatformFacts {
            only: &[],
            not_on: &[],
            ignored_on: &["linux"],
        },
    };
    static NOT_ON_WINDOWS_OP: Operation = Operation {
        id: "Example",
        group: "Container",
        method: Method::Get,
        path: "/example",
        since: ApiVersion::new(1, 25),
        platform: PlatformFacts {
            only: &[],
            not_on: &["windows"],
            ignored_on: &[],
        },
        params: &[],
        body: BodyKind::None,
        response: ResponseKind::Empty,
    };

    #[test]
    fn operation_and_parameter_facts() {
        match platform_findings("windows", Some(&NOT_ON_WINDOWS_OP), &[], None) {
            Some(Finding::Refused { thing, platform }) => {
                assert_eq!(thing, "(the operation)");
                assert_eq!(platform, "not on Windows");
            }
            _ => panic!("the operation is not on Windows"),
        }
        assert!(platform_findings("linux", Some(&NOT_ON_WINDOWS_OP), &[], None).is_none());
        match platform_findings("linux", None, &[&WINDOWS_ONLY_PARAM], None) {
            Some(Finding::Refused { thing, platform }) => {
                assert_eq!(thing, "parameter `isolation`");
                assert_eq!(platform, "Windows only");
            }
            _ => panic!("the parameter is Windows only"),
        }
        assert!(platform_findings("windows", None, &[&WINDOWS_ONLY_PARAM], None).is_none());
        match platform_findings("linux", None, &[&IGNORED_ON_LINUX_PARAM], None) {
            Some(Finding::Ignored(list)) => assert_eq!(list, ["parameter `quirk`"]),
            _ => panic!("the parameter is ignored on Linux"),
        }
        let body = crate::models::ContainerCreateBody {
            args_escaped: Some(true),
            ..Default::default()
        };
        match platform_findings("linux", None, &[], Some(&body)) {
            Some(Finding::Ignored(list)) => assert_eq!(list, ["body field `ArgsEscaped`"]),
            _ => panic!("ArgsEscaped is ignored on Linux"),
        }
        assert!(platform_findings("windows", None, &[], Some(&body)).is_none());
    }
}
