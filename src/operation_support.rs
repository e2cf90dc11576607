//! Operation metadata (what the generated table in [`crate::operations`] is
//! made of) and the one place where query and header parameters are
//! checked against the API version and turned into text.

use crate::{ApiVersion, Error};
use std::collections::BTreeMap;
use std::fmt;

/// A filters argument: the daemon's `map[string][]string`, sent as JSON.
/// Ordered, so the same filters always give the same request bytes. The
/// [`filters!`](crate::filters) macro writes one without `.into()`s.
///
/// ```
/// let mut f = dockhand::operations::Filters::new();
/// f.entry("label".into()).or_default().push("app=web".into());
/// assert_eq!(f, dockhand::filters! { "label" => ["app=web"] });
/// ```
pub type Filters = BTreeMap<String, Vec<String>>;

/// A [`Filters`] map from `key => [values…]` pairs (or `key => value`),
/// with any string-like keys and values.
///
/// ```
/// use dockhand::filters;
/// let name = String::from("web");
/// let f = filters! {
///     "label" => ["app=web", "tier=front"],
///     "status" => "running",
///     "name" => [name],
/// };
/// assert_eq!(f["label"], vec!["app=web", "tier=front"]);
/// assert_eq!(f["status"], vec!["running"]);
/// let opts = dockhand::operations::ContainerListOptions::default().all(true).filters(f);
/// ```
#[macro_export]
macro_rules! filters {
    () => { $crate::operations::Filters::new() };
    ($($key:expr => $values:tt),+ $(,)?) => {{
        let mut f = $crate::operations::Filters::new();
        $( $crate::filters!(@push f, $key, $values); )+
        f
    }};
    (@push $f:ident, $key:expr, [$($v:expr),* $(,)?]) => {
        $f.entry(::std::string::String::from($key)).or_default().extend(
            [$(::std::string::String::from($v)),*]
        );
    };
    (@push $f:ident, $key:expr, $v:expr) => {
        $f.entry(::std::string::String::from($key)).or_default().push(::std::string::String::from($v));
    };
}

/// HTTP methods the Engine API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
    /// HEAD
    Head,
}

impl Method {
    /// The method as the `http` crate spells it.
    pub fn as_http(self) -> http::Method {
        match self {
            Method::Get => http::Method::GET,
            Method::Post => http::Method::POST,
            Method::Put => http::Method::PUT,
            Method::Delete => http::Method::DELETE,
            Method::Head => http::Method::HEAD,
        }
    }

    /// Upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
        }
    }
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamLocation {
    /// A `{name}` segment of the path.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
}

/// How a query value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// As text.
    Plain,
    /// An array as the same parameter repeated.
    Repeated,
    /// As JSON text.
    Json,
    /// An array as the same parameter repeated, each item as JSON text.
    RepeatedJson,
}

/// One path, query or header parameter of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// The wire name.
    pub name: &'static str,
    /// Where it goes.
    pub location: ParamLocation,
    /// The Rust type used for it.
    pub rust_type: &'static str,
    /// How a query value is written.
    pub encoding: Encoding,
    /// Required by the specification.
    pub required: bool,
    /// The specification's default, as JSON text.
    pub default: Option<&'static str>,
    /// The first API version that has it.
    pub since: ApiVersion,
    /// The daemon platforms it is limited to, refused on or ignored on.
    pub platform: PlatformFacts,
}

/// Platform facts from the specification (and its fixups): which daemon
/// operating systems (`linux`, `windows`) have a parameter or operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformFacts {
    /// Only daemons on these have it (empty: every platform).
    pub only: &'static [&'static str],
    /// Daemons on these refuse it.
    pub not_on: &'static [&'static str],
    /// Daemons on these accept it and do nothing with it.
    pub ignored_on: &'static [&'static str],
}

impl PlatformFacts {
    /// No platform fact.
    pub const NONE: PlatformFacts = PlatformFacts {
        only: &[],
        not_on: &[],
        ignored_on: &[],
    };

    /// Whether there is no fact at all (most operations and parameters).
    pub(crate) fn is_empty(&self) -> bool {
        self.only.is_empty() && self.not_on.is_empty() && self.ignored_on.is_empty()
    }

    /// Does a daemon on `os` lack it (refuse it, or only the other platform has it)?
    pub fn lacks(&self, os: &str) -> bool {
        crate::model_support::lacks(os, self.only, self.not_on)
    }

    /// Does a daemon on `os` ignore it?
    pub fn ignored(&self, os: &str) -> bool {
        self.ignored_on.iter().any(|o| o.eq_ignore_ascii_case(os))
    }

    /// What the fact says: `Windows only`, `not on Windows`.
    pub fn describe(&self) -> String {
        if self.only.is_empty() {
            format!("not on {}", crate::model_support::os_names(self.not_on))
        } else {
            format!("{} only", crate::model_support::os_names(self.only))
        }
    }
}

/// What an operation sends as its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body.
    None,
    /// A JSON document of the named type.
    Json {
        /// The Rust type.
        rust_type: &'static str,
        /// Required by the specification.
        required: bool,
    },
    /// Raw bytes (tar archives, image tarballs) with this content type.
    Bytes {
        /// The content type sent.
        content_type: &'static str,
    },
}

/// What a successful response carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    /// One JSON document of the named type.
    Json {
        /// The Rust type.
        rust_type: &'static str,
    },
    /// Concatenated JSON values of the named type.
    JsonStream {
        /// The Rust type of each value.
        rust_type: &'static str,
    },
    /// Container output: raw (TTY) or stdcopy-multiplexed frames.
    Multiplexed,
    /// A tar archive or other bytes.
    Binary {
        /// The content type.
        content_type: &'static str,
    },
    /// Plain text.
    Text,
    /// The connection is upgraded (101) into a raw duplex stream.
    Hijack,
    /// The connection is upgraded into a WebSocket.
    Websocket,
    /// No body.
    Empty,
}

/// One Engine API operation, as the generated table describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    /// Upstream operation id, e.g. `ContainerList`.
    pub id: &'static str,
    /// Upstream tag (API group), e.g. `Container`.
    pub group: &'static str,
    /// HTTP method.
    pub method: Method,
    /// Path template without the version prefix, e.g. `/containers/{id}/json`.
    pub path: &'static str,
    /// The first API version that has it.
    pub since: ApiVersion,
    /// The daemon platforms it is limited to, refused on or ignored on.
    pub platform: PlatformFacts,
    /// Path, query and header parameters.
    pub params: &'static [Param],
    /// The request body.
    pub body: BodyKind,
    /// The response.
    pub response: ResponseKind,
}

impl Operation {
    /// The parameter with this wire name and location.
    pub fn param(&self, name: &str, location: ParamLocation) -> Option<&'static Param> {
        self.params
            .iter()
            .find(|p| p.name == name && p.location == location)
    }

    /// Fails with [`Error::UnsupportedByVersion`] when `version` predates this operation.
    pub fn check_version(&self, version: ApiVersion) -> Result<(), Error> {
        if !version.supports(self.since) {
            return Err(Error::UnsupportedByVersion {
                what: self.id.to_owned(),
                needs: self.since,
                negotiated: version,
            });
        }
        Ok(())
    }
}

/// A header value that must never be printed (credentials).
///
/// ```
/// let s = dockhand::operations::SecretString::new("hunter2");
/// assert_eq!(format!("{s:?}"), "SecretString(<redacted>)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }

    /// The secret text, for sending.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        SecretString(s)
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> Self {
        SecretString(s.to_owned())
    }
}

/// Headers whose values are credentials: never printed, marked sensitive.
pub(crate) const SECRET_HEADER_NAMES: &[&str] =
    &["X-Registry-Auth", "X-Registry-Config", "Authorization"];

/// A value that can be written as one query-string value.
pub trait QueryValue {
    /// Appends the value's text.
    fn write_query(&self, out: &mut String);
}

impl QueryValue for String {
    fn write_query(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl QueryValue for bool {
    fn write_query(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

macro_rules! int_query_value {
    ($($t:ty),*) => {$(
        impl QueryValue for $t {
            fn write_query(&self, out: &mut String) {
                use std::fmt::Write;
                let _ = write!(out, "{self}");
            }
        }
    )*};
}
int_query_value!(i64, u64, u32, u16, u8, f64);

/// A header value to send.
#[derive(Clone, PartialEq, Eq)]
pub enum HeaderText {
    /// Printable.
    Plain(String),
    /// Never printed.
    Secret(SecretString),
}

impl fmt::Debug for HeaderText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderText::Plain(s) => write!(f, "{s:?}"),
            HeaderText::Secret(_) => f.write_str("<redacted>"),
        }
    }
}

/// Query parameters as (name, text) pairs, in order, not yet percent-encoded.
pub type QueryPairs = Vec<(&'static str, String)>;

/// Headers as (name, value) pairs, in order.
pub type HeaderPairs = Vec<(&'static str, HeaderText)>;

/// Collects an operation's query and header parameters, checking each set
/// parameter against the API version in use.
///
/// Generated option structs write into it (`write_params`); the request
/// builder then encodes [`ParamSink::query_pairs`] once.
#[derive(Debug)]
pub struct ParamSink {
    operation: &'static Operation,
    version: ApiVersion,
    query: Vec<(&'static str, String)>,
    headers: Vec<(&'static str, HeaderText)>,
    error: Option<Error>,
}

impl ParamSink {
    /// A sink for `operation` at API `version`.
    pub fn new(operation: &'static Operation, version: ApiVersion) -> Self {
        ParamSink {
            operation,
            version,
            query: Vec::new(),
            headers: Vec::new(),
            error: None,
        }
    }

    /// Whether no parameter has been written (nor refused).
    pub(crate) fn is_empty(&self) -> bool {
        self.query.is_empty() && self.headers.is_empty() && self.error.is_none()
    }

    /// The table entries of the parameters written so far (each once).
    pub(crate) fn set_params(&self) -> impl Iterator<Item = &'static Param> + '_ {
        let op = self.operation;
        let query = self
            .query
            .iter()
            .filter_map(move |(n, _)| op.param(n, ParamLocation::Query));
        let headers = self
            .headers
            .iter()
            .filter_map(move |(n, _)| op.param(n, ParamLocation::Header));
        let mut seen: Vec<&'static str> = Vec::new();
        query.chain(headers).filter(move |p| {
            let new = !seen.contains(&p.name);
            seen.push(p.name);
            new
        })
    }

    fn allowed(&mut self, name: &'static str, since: ApiVersion) -> bool {
        if self.error.is_some() {
            return false;
        }
        if !self.version.supports(since) {
            self.error = Some(Error::UnsupportedByVersion {
                what: format!("{} parameter `{name}`", self.operation.id),
                needs: since,
                negotiated: self.version,
            });
            return false;
        }
        true
    }

    /// A plain query value.
    pub fn query<T: QueryValue + ?Sized>(
        &mut self,
        name: &'static str,
        since: ApiVersion,
        v: Option<&T>,
    ) {
        if let Some(v) = v {
            if self.allowed(name, since) {
                let mut s = String::new();
                v.write_query(&mut s);
                self.query.push((name, s));
            }
        }
    }

    /// A query value sent as JSON text.
    pub fn query_json<T: serde::Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        since: ApiVersion,
        v: Option<&T>,
    ) {
        if let Some(v) = v {
            if self.allowed(name, since) {
                match serde_json::to_string(v) {
                    Ok(s) => self.query.push((name, s)),
                    Err(e) => {
                        self.error = Some(Error::InvalidArgument {
                            name,
                            message: format!("cannot encode as JSON: {e}"),
                        })
                    }
                }
            }
        }
    }

    /// An array as the same parameter repeated.
    pub fn query_repeated<T: QueryValue>(
        &mut self,
        name: &'static str,
        since: ApiVersion,
        v: Option<&Vec<T>>,
    ) {
        if let Some(items) = v {
            for item in items {
                self.query(name, since, Some(item));
            }
        }
    }

    /// An array as the same parameter repeated, each item as JSON text.
    pub fn query_repeated_json<T: serde::Serialize>(
        &mut self,
        name: &'static str,
        since: ApiVersion,
        v: Option<&Vec<T>>,
    ) {
        if let Some(items) = v {
            for item in items {
                self.query_json(name, since, Some(item));
            }
        }
    }

    /// A header value.
    pub fn header<T: QueryValue + ?Sized>(
        &mut self,
        name: &'static str,
        since: ApiVersion,
        v: Option<&T>,
    ) {
        if let Some(v) = v {
            if self.allowed(name, since) {
                let mut s = String::new();
                v.write_query(&mut s);
                self.headers.push((name, HeaderText::Plain(s)));
            }
        }
    }

    /// A required query parameter (given positionally by the caller), its
    /// version taken from the operation's table entry.
    pub fn required_query<T: QueryValue + ?Sized>(&mut self, name: &'static str, v: &T) {
        let since = self
            .operation
            .param(name, ParamLocation::Query)
            .map_or(self.operation.since, |p| p.since);
        self.query(name, since, Some(v));
    }

    /// A required header that must never be printed, its version taken from
    /// the operation's table entry.
    pub fn required_header_secret(&mut self, name: &'static str, v: &SecretString) {
        let since = self
            .operation
            .param(name, ParamLocation::Header)
            .map_or(self.operation.since, |p| p.since);
        self.header_secret(name, since, Some(v));
    }

    /// A header value that must never be printed.
    pub fn header_secret(
        &mut self,
        name: &'static str,
        since: ApiVersion,
        v: Option<&SecretString>,
    ) {
        if let Some(v) = v {
            if self.allowed(name, since) {
                self.headers.push((name, HeaderText::Secret(v.clone())));
            }
        }
    }

    /// A query or header parameter of the operation by its wire name, with a
    /// JSON value encoded the way the operation's table says (text, repeated,
    /// JSON text): the generic entry for callers without the typed options
    /// struct, such as hosts of the native library. `null` sends nothing; a
    /// JSON-encoded parameter given as a string is taken as already encoded.
    /// An unknown name, or a path parameter, is an error.
    ///
    /// ```
    /// use dockhand::operations::{self as ops, ParamSink};
    /// use dockhand::ApiVersion;
    /// let mut sink = ParamSink::new(&ops::CONTAINER_LIST, ApiVersion::new(1, 41));
    /// sink.param_value("all", &serde_json::json!(true));
    /// sink.param_value("filters", &serde_json::json!({"label": ["app=web"]}));
    /// let (query, _) = sink.finish().unwrap();
    /// assert_eq!(query[0], ("all", "true".to_owned()));
    /// assert_eq!(query[1], ("filters", r#"{"label":["app=web"]}"#.to_owned()));
    /// ```
    pub fn param_value(&mut self, name: &str, value: &serde_json::Value) {
        use serde_json::Value;
        if self.error.is_some() || value.is_null() {
            return;
        }
        let op = self.operation;
        let Some(p) = op
            .params
            .iter()
            .find(|p| p.name == name && p.location != ParamLocation::Path)
        else {
            self.error = Some(Error::InvalidArgument {
                name: "parameter",
                message: format!("{} has no query or header parameter {name:?}", op.id),
            });
            return;
        };
        let plain = |v: &Value| -> Option<String> {
            match v {
                Value::String(s) => Some(s.clone()),
                Value::Bool(b) => Some(b.to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        let json = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let texts: Option<Vec<String>> = match (p.encoding, value) {
            (Encoding::Plain, v) => plain(v).map(|t| vec![t]),
            (Encoding::Repeated, Value::Array(items)) => items.iter().map(plain).collect(),
            (Encoding::Repeated, v) => plain(v).map(|t| vec![t]),
            (Encoding::Json, v) => Some(vec![json(v)]),
            (Encoding::RepeatedJson, Value::Array(items)) => {
                Some(items.iter().map(|i| i.to_string()).collect())
            }
            (Encoding::RepeatedJson, v) => Some(vec![json(v)]),
        };
        let Some(texts) = texts else {
            self.error = Some(Error::InvalidArgument {
                name: p.name,
                message: format!(
                    "{}: expected {} for parameter {:?}",
                    op.id,
                    match p.encoding {
                        Encoding::Repeated => "a string, number or boolean, or an array of them",
                        _ => "a string, number or boolean",
                    },
                    p.name
                ),
            });
            return;
        };
        if !self.allowed(p.name, p.since) {
            return;
        }
        for text in texts {
            match p.location {
                ParamLocation::Header if SECRET_HEADER_NAMES.contains(&p.name) => self
                    .headers
                    .push((p.name, HeaderText::Secret(SecretString(text)))),
                ParamLocation::Header => self.headers.push((p.name, HeaderText::Plain(text))),
                _ => self.query.push((p.name, text)),
            }
        }
    }

    /// The operation this sink is for.
    pub fn operation(&self) -> &'static Operation {
        self.operation
    }

    /// The query pairs collected, in order.
    pub fn query_pairs(&self) -> &[(&'static str, String)] {
        &self.query
    }

    /// The headers collected, in order.
    pub fn headers(&self) -> &[(&'static str, HeaderText)] {
        &self.headers
    }

    /// The collected parameters, or the first error (a parameter too new for
    /// the API version, a value that cannot be encoded).
    pub fn finish(self) -> Result<(QueryPairs, HeaderPairs), Error> {
        match self.error {
            Some(e) => Err(e),
            None => Ok((self.query, self.headers)),
        }
    }
}

/// The options struct of one operation (`ContainerListOptions` for
/// `ContainerList`, …): which operation it belongs to, and how it writes its
/// parameters. Lets [`crate::RawRequest::options`] take any of them.
pub trait OperationOptions {
    /// The operation whose optional parameters these are.
    fn operation(&self) -> &'static Operation;
    /// Writes the parameters that are set into `sink`, checking each against
    /// the API version.
    fn write_params(&self, sink: &mut ParamSink);
}
