//! [`RawRequest`]: the escape hatch. Any request — an operation of the table
//! with its parameters given by name, or a method and a path dockhand does
//! not bind (experimental checkpoints, a plugin's route, a newer API) — sent
//! with the same transport, version negotiation, common headers, registry
//! credentials and error mapping as the typed groups.

use super::dispatch::{collect, encode_payload, upgraded, JsonPayload, Payload};
use super::Docker;
use crate::auth::{registry_auth_header, AuthConfig};
use crate::codec::decode_json;
use crate::models::{FieldPlatforms, FieldVersions, NotOnPlatform, TooNew};
use crate::operation_support::SECRET_HEADER_NAMES;
use crate::operations::{Operation, OperationOptions, Param, ParamLocation, ParamSink};
use crate::request::{self, PathArg};
use crate::stream::{ByteStream, JsonStream, RawConnection};
use crate::{ApiVersion, Body, Error, Result};
use bytes::Bytes;
use serde::de::DeserializeOwned;

/// A request built by hand, sent through the client.
///
/// From an operation of the generated table, parameters are checked as the
/// typed methods check them: each against the API version in use, by the
/// wire name the table gives, encoded as the table says:
///
/// ```no_run
/// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
/// use dockhand::operations as ops;
/// let list: serde_json::Value = docker
///     .request(&ops::CONTAINER_LIST)
///     .param("all", true)
///     .param("filters", serde_json::json!({"label": ["app=web"]}))
///     .json()
///     .await?;
/// # Ok(()) }
/// ```
///
/// From a method and a path (relative to the `/v1.xx` prefix), for what the
/// table does not have; `{…}` placeholders take [`RawRequest::path_arg`]s,
/// checked and percent-encoded as one path segment each:
///
/// ```no_run
/// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
/// use dockhand::ApiVersion;
/// // `docker checkpoint ls web` (experimental daemons only)
/// let checkpoints: serde_json::Value = docker
///     .request_path(http::Method::GET, "/containers/{id}/checkpoints")
///     .path_arg("web")
///     .since(ApiVersion::new(1, 25))
///     .json()
///     .await?;
/// # Ok(()) }
/// ```
///
/// A status the daemon answers with that is not success is
/// [`Error::Api`] with the daemon's message, as everywhere else.
#[must_use = "a request does nothing until it is sent"]
pub struct RawRequest {
    docker: Docker,
    target: Target,
    path_args: Vec<String>,
    /// Path parameters given by name (operations only).
    named_path_args: Vec<(&'static str, String)>,
    params: Vec<(String, serde_json::Value)>,
    options: Vec<Box<dyn DynOptions>>,
    query: Vec<(String, String)>,
    headers: Vec<(http::HeaderName, http::HeaderValue)>,
    body: Option<OwnedPayload>,
    since: Option<ApiVersion>,
    error: Option<Error>,
}

enum Target {
    Operation(&'static Operation),
    Path {
        method: http::Method,
        template: String,
        versioned: bool,
        label: &'static str,
    },
}

enum OwnedPayload {
    Model(Box<dyn JsonPayload + Send>),
    Raw(Body, &'static str),
}

/// An options struct kept until the API version is known.
trait DynOptions: Send + Sync {
    fn write(&self, sink: &mut ParamSink);
}

impl<O: OperationOptions + Send + Sync> DynOptions for O {
    fn write(&self, sink: &mut ParamSink) {
        OperationOptions::write_params(self, sink)
    }
}

/// Pre-encoded JSON, not checked field by field.
struct Encoded(Vec<u8>);

impl JsonPayload for Encoded {
    fn first_too_new(&self, _: ApiVersion) -> Option<TooNew> {
        None
    }

    fn encode(&self) -> serde_json::Result<Vec<u8>> {
        Ok(self.0.clone())
    }
}

/// A model kept whole until the API version is known.
struct Model<T>(T);

impl<T: serde::Serialize + FieldVersions + FieldPlatforms + Sync> JsonPayload for Model<T> {
    fn first_too_new(&self, version: ApiVersion) -> Option<TooNew> {
        self.0.first_too_new(version)
    }

    fn first_not_on(&self, os: &str) -> Option<NotOnPlatform> {
        self.0.first_not_on(os)
    }

    fn ignored_on(&self, os: &str, out: &mut Vec<String>) {
        self.0.ignored_on(os, out)
    }

    fn encode(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(&self.0)
    }
}

impl std::fmt::Debug for RawRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values are left out: parameters and headers may carry credentials.
        let mut d = f.debug_struct("RawRequest");
        match &self.target {
            Target::Operation(op) => d.field("operation", &op.id),
            Target::Path {
                method, template, ..
            } => d.field("method", method).field("path", template),
        };
        d.field(
            "params",
            &self.params.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        )
        .field(
            "headers",
            &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        )
        .finish_non_exhaustive()
    }
}

/// The answer to a [`RawRequest::send`]: status, headers and the body as a
/// stream, read as it arrives.
#[derive(Debug)]
#[non_exhaustive]
pub struct RawResponse {
    /// The status (a success: anything else is [`Error::Api`]).
    pub status: http::StatusCode,
    /// The headers.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: ByteStream,
}

impl Docker {
    /// A request for an operation of the generated table, with its
    /// parameters given by wire name ([`RawRequest::param`]) or as its
    /// options struct ([`RawRequest::options`]). See [`RawRequest`].
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations as ops;
    /// let info: dockhand::models::ContainerInspectResponse = docker
    ///     .request(&ops::CONTAINER_INSPECT)
    ///     .param("id", "web")
    ///     .json()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn request(&self, operation: &'static Operation) -> RawRequest {
        self.new_request(Target::Operation(operation))
    }

    /// A request for a method and path the table does not have. The path is
    /// relative to the API version prefix (`/containers/{id}/checkpoints` is
    /// sent as `/v1.41/containers/…/checkpoints`); `{…}` placeholders take
    /// [`RawRequest::path_arg`]s. See [`RawRequest`].
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let body: bytes::Bytes = docker
    ///     .request_path(http::Method::GET, "/plugins/{name}/json")
    ///     .path_arg("my-plugin")
    ///     .bytes()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn request_path(&self, method: http::Method, path: &str) -> RawRequest {
        let mut r = self.new_request(Target::Path {
            method,
            template: path.to_owned(),
            versioned: true,
            label: "RawRequest",
        });
        if !path.starts_with('/') || path.contains(['?', '#']) {
            r.error = Some(Error::InvalidArgument {
                name: "path",
                message: format!(
                    "{path:?}: give a path starting with '/', without a query (use .query())"
                ),
            });
        }
        r
    }

    fn new_request(&self, target: Target) -> RawRequest {
        RawRequest {
            docker: self.clone(),
            target,
            path_args: Vec::new(),
            named_path_args: Vec::new(),
            params: Vec::new(),
            options: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            since: None,
            error: None,
        }
    }
}

impl RawRequest {
    fn fail(mut self, e: Error) -> Self {
        self.error.get_or_insert(e);
        self
    }

    /// The next `{…}` placeholder of the path, in order. Checked before
    /// sending (not empty, no control characters, no `..`; a `/` only in
    /// image and plugin references) and percent-encoded.
    pub fn path_arg(mut self, value: impl Into<String>) -> Self {
        self.path_args.push(value.into());
        self
    }

    /// A parameter of the operation by its wire name (`all`, `filters`,
    /// `X-Registry-Auth`, or a path parameter such as `id`), encoded as the
    /// operation's table says, refused when the API version in use does not
    /// have it. Only for [`Docker::request`].
    pub fn param(mut self, name: &str, value: impl serde::Serialize) -> Self {
        let Target::Operation(op) = self.target else {
            return self.fail(Error::InvalidArgument {
                name: "parameter",
                message: format!(
                    "{name:?}: parameters by name are for operations of the table; use .query()"
                ),
            });
        };
        let value = match serde_json::to_value(value) {
            Ok(v) => v,
            Err(e) => {
                return self.fail(Error::InvalidArgument {
                    name: "parameter",
                    message: format!("{name:?} cannot be encoded: {e}"),
                })
            }
        };
        if let Some(p) = op.param(name, ParamLocation::Path) {
            let text = match &value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => {
                    return self.fail(Error::InvalidArgument {
                        name: p.name,
                        message: format!("{}: path parameter {name:?} takes a string", op.id),
                    })
                }
            };
            self.named_path_args.push((p.name, text));
            return self;
        }
        self.params.push((name.to_owned(), value));
        self
    }

    /// The operation's options struct (`ContainerListOptions` for
    /// `ContainerList`, …). Only for [`Docker::request`] of that operation.
    pub fn options<O>(self, options: &O) -> Self
    where
        O: OperationOptions + Clone + Send + Sync + 'static,
    {
        let id = options.operation().id;
        if !matches!(self.target, Target::Operation(op) if op.id == id) {
            return self.fail(Error::InvalidArgument {
                name: "options",
                message: format!("the options of {id} belong to a request of {id}"),
            });
        }
        let mut s = self;
        s.options.push(Box::new(options.clone()));
        s
    }

    /// A query parameter sent as given, not checked against any table.
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// A header. `X-Registry-Auth`, `X-Registry-Config` and `Authorization`
    /// values are marked sensitive and never printed.
    pub fn header(self, name: &str, value: &str) -> Self {
        let Ok(n) = http::HeaderName::from_bytes(name.as_bytes()) else {
            return self.fail(Error::InvalidArgument {
                name: "header",
                message: format!("{name:?} is not a valid header name"),
            });
        };
        let Ok(mut v) = http::HeaderValue::from_str(value) else {
            // Never echo the value: it may be a credential.
            return self.fail(Error::InvalidArgument {
                name: "header",
                message: format!("the value of {name} is not a valid header value"),
            });
        };
        if SECRET_HEADER_NAMES
            .iter()
            .any(|s| s.eq_ignore_ascii_case(name))
        {
            v.set_sensitive(true);
        }
        let mut s = self;
        s.headers.push((n, v));
        s
    }

    /// `X-Registry-Auth` with these credentials (`None`: anonymous), encoded
    /// as the daemon decodes it; see [`crate::auth`] to find them in
    /// `config.json` as the CLI does.
    pub fn registry_auth(self, credentials: Option<&AuthConfig>) -> Self {
        match registry_auth_header(credentials) {
            Ok(h) => self.header("X-Registry-Auth", h.expose()),
            Err(e) => self.fail(e),
        }
    }

    /// A JSON body made from a generated model (or anything whose fields know
    /// their API version and platforms), refused before sending when it sets
    /// a field the API version in use, or the daemon's platform, does not have.
    pub fn model<T>(mut self, body: T) -> Self
    where
        T: serde::Serialize + FieldVersions + FieldPlatforms + Send + Sync + 'static,
    {
        self.body = Some(OwnedPayload::Model(Box::new(Model(body))));
        self
    }

    /// A JSON body of any serializable value, sent as it is (nothing to check
    /// it against; prefer [`RawRequest::model`] for generated models).
    pub fn json_body(self, body: &impl serde::Serialize) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => {
                let mut s = self;
                s.body = Some(OwnedPayload::Model(Box::new(Encoded(bytes))));
                s
            }
            Err(e) => self.fail(Error::InvalidArgument {
                name: "body",
                message: format!("cannot encode as JSON: {e}"),
            }),
        }
    }

    /// A body of bytes or a stream ([`Body::from_stream`], a file with
    /// [`Body::from_reader`]) with its content type.
    pub fn body(mut self, body: impl Into<Body>, content_type: &'static str) -> Self {
        self.body = Some(OwnedPayload::Raw(body.into(), content_type));
        self
    }

    /// Refuse, before sending, when the API version in use is older than
    /// `version` ([`Error::UnsupportedByVersion`]). Operations of the table
    /// know their version already.
    pub fn since(mut self, version: ApiVersion) -> Self {
        self.since = Some(version);
        self
    }

    /// Send the path as given, without the `/v1.xx` prefix (`/_ping`, a
    /// plugin's own route). Only for [`Docker::request_path`].
    pub fn unversioned(mut self) -> Self {
        if let Target::Path { versioned, .. } = &mut self.target {
            *versioned = false;
        }
        self
    }

    /// The name used in errors for a [`Docker::request_path`] request
    /// (`RawRequest` unless set), like an operation id.
    pub fn label(mut self, label: &'static str) -> Self {
        if let Target::Path { label: l, .. } = &mut self.target {
            *l = label;
        }
        self
    }

    /// Builds the HTTP request at the API version in use.
    async fn build(self) -> Result<(&'static str, http::Request<crate::transport::RequestBody>)> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let version = self.docker.api_version().await?;
        let (what, since) = match &self.target {
            Target::Operation(op) => (op.id, Some(op.since)),
            Target::Path { label, .. } => (*label, None),
        };
        for needs in [since, self.since].into_iter().flatten() {
            if !version.supports(needs) {
                return Err(Error::UnsupportedByVersion {
                    what: what.to_owned(),
                    needs,
                    negotiated: version,
                });
            }
        }
        let op = match &self.target {
            Target::Operation(op) => Some(*op),
            Target::Path { .. } => None,
        };
        let model = match &self.body {
            Some(OwnedPayload::Model(m)) => Some(m.as_ref() as &dyn JsonPayload),
            _ => None,
        };
        let set: Vec<&'static Param> = match op {
            Some(op) => {
                let mut sink = ParamSink::new(op, version);
                for o in &self.options {
                    o.write(&mut sink);
                }
                for (name, value) in &self.params {
                    sink.param_value(name, value);
                }
                sink.set_params().collect()
            }
            None => Vec::new(),
        };
        self.docker.check_platform(what, op, &set, model).await?;
        let (req_body, content_type) = match self.body {
            None => encode_payload(what, version, None)?,
            Some(OwnedPayload::Raw(b, ct)) => (b.0, Some(ct)),
            Some(OwnedPayload::Model(m)) => {
                encode_payload(what, version, Some(Payload::Json(m.as_ref())))?
            }
        };
        let mut req = match self.target {
            Target::Operation(op) => {
                let mut sink = ParamSink::new(op, version);
                for o in &self.options {
                    o.write(&mut sink);
                }
                for (name, value) in &self.params {
                    sink.param_value(name, value);
                }
                let mut positional = self.path_args.iter();
                let mut args = Vec::new();
                for p in op
                    .params
                    .iter()
                    .filter(|p| p.location == ParamLocation::Path)
                {
                    match self.named_path_args.iter().find(|(n, _)| *n == p.name) {
                        Some((_, v)) => args.push(v.as_str()),
                        None => args.extend(positional.next().map(String::as_str)),
                    }
                }
                args.extend(positional.map(String::as_str));
                let mut req = request::build(op, version, &args, sink, req_body, content_type)?;
                req.extensions_mut()
                    .insert(crate::transport::ForOperation(op));
                if !self.query.is_empty() {
                    let uri = req.uri().to_string();
                    let mut extra = String::new();
                    request::encode_query(&mut extra, &self.query);
                    let joined = if uri.contains('?') {
                        format!("{uri}&{}", &extra[1..])
                    } else {
                        format!("{uri}{extra}")
                    };
                    *req.uri_mut() = joined.parse().map_err(|_| Error::InvalidArgument {
                        name: "query",
                        message: format!("{what}: the query does not make a valid URI"),
                    })?;
                }
                req
            }
            Target::Path {
                method,
                template,
                versioned,
                label,
            } => {
                let args: Vec<&str> = self.path_args.iter().map(String::as_str).collect();
                let path = request::render_template(
                    label,
                    &template,
                    std::iter::empty(),
                    PathArg::Segment,
                    &args,
                )?;
                let mut uri = if versioned {
                    format!("/v{version}{path}")
                } else {
                    path
                };
                request::encode_query(&mut uri, &self.query);
                let mut b = http::Request::builder().method(method).uri(&uri);
                if let Some(ct) = content_type {
                    b = b.header(http::header::CONTENT_TYPE, ct);
                }
                b.body(req_body).map_err(|e| Error::InvalidArgument {
                    name: "request",
                    message: format!("{label}: {e}"),
                })?
            }
        };
        for (name, value) in self.headers {
            req.headers_mut().append(name, value);
        }
        Ok((what, req))
    }

    /// Sends the request; the body is read as it arrives.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let resp = docker.request_path(http::Method::GET, "/_ping").unversioned().send().await?;
    /// println!("{} {:?}", resp.status, resp.headers.get("Api-Version"));
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<RawResponse> {
        let docker = self.docker.clone();
        let (what, req) = self.build().await?;
        let resp = docker.dispatch(what, req, true).await?;
        let (parts, body) = resp.into_parts();
        Ok(RawResponse {
            status: parts.status,
            headers: parts.headers,
            body: ByteStream::new(what, body),
        })
    }

    /// Sends the request and reads the whole body.
    pub async fn bytes(self) -> Result<Bytes> {
        let docker = self.docker.clone();
        let (what, req) = self.build().await?;
        let resp = docker.dispatch(what, req, false).await?;
        collect(what, resp.into_body()).await
    }

    /// Sends the request and decodes the body as JSON into `T` (a generated
    /// model, `serde_json::Value`, or any type of yours).
    pub async fn json<T: DeserializeOwned>(self) -> Result<T> {
        let docker = self.docker.clone();
        let (what, req) = self.build().await?;
        let resp = docker.dispatch(what, req, false).await?;
        let bytes = collect(what, resp.into_body()).await?;
        decode_json(what, &bytes)
    }

    /// Sends the request and returns the body as a stream of JSON values
    /// (progress, events, stats); an in-band error ends it with `Err`.
    pub async fn json_stream<T: DeserializeOwned>(self) -> Result<JsonStream<ByteStream, T>> {
        let resp = self.send().await?;
        let what = resp.body.operation();
        Ok(JsonStream::new(what, resp.body))
    }

    /// Sends the request asking for a connection upgrade (`Upgrade: tcp`
    /// unless an `Upgrade` header was set) and returns the raw connection
    /// the daemon hands over with its `101`.
    pub async fn upgrade(mut self) -> Result<RawConnection> {
        if !self.headers.iter().any(|(n, _)| n == http::header::UPGRADE) {
            self.headers
                .push((http::header::UPGRADE, http::HeaderValue::from_static("tcp")));
        }
        self.headers.push((
            http::header::CONNECTION,
            http::HeaderValue::from_static("Upgrade"),
        ));
        let docker = self.docker.clone();
        let (what, req) = self.build().await?;
        let resp = docker.dispatch(what, req, false).await?;
        Ok(upgraded(what, resp).await?.0)
    }
}
