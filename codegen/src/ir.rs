//! The project's own API description (the "IR"), written to `api-spec/spec.json`.
//!
//! It holds facts only: names, types, paths, parameters and the API version
//! that first has each of them. Inline objects and inline enums of the
//! upstream specification are hoisted into named definitions here, so the
//! Rust generator sees one flat list of types.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole IR.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Spec {
    /// The format version of this file.
    pub format: u32,
    /// The oldest specification the history starts at.
    pub oldest: String,
    /// The newest specification, the one the definitions and operations describe.
    pub newest: String,
    /// Every named type, by Rust-ready PascalCase name.
    pub definitions: BTreeMap<String, Definition>,
    /// Every operation of the newest version, in upstream order.
    pub operations: Vec<Operation>,
    /// Operations that older versions had and the newest dropped.
    pub removed_operations: Vec<RemovedOperation>,
    /// Top-level definitions that older versions had and the newest dropped.
    pub removed_definitions: Vec<Removed>,
    /// The fixups applied on import, by name, in order.
    pub fixups: Vec<String>,
}

/// A named type.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Definition {
    /// Where it comes from upstream: `Mount` for a top-level definition,
    /// `Mount.BindOptions` for an inline object, `ContainerPrune response` for
    /// an inline response schema.
    pub upstream: String,
    /// The first API version that has it.
    pub since: String,
    /// The platforms it is limited to (a type only a Windows daemon sends).
    #[serde(default, skip_serializing_if = "Platforms::is_empty")]
    pub platform: Platforms,
    /// What it is.
    #[serde(flatten)]
    pub body: DefBody,
}

/// Platform facts of a field, parameter, enum value, operation or type, as
/// the upstream prose states them ("(Windows only)", "not supported on
/// Windows", "not used on Windows"), corrected by fixups. Operating systems
/// by their `GOOS` name (`linux`, `windows`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Platforms {
    /// Only these daemons have it; any other refuses or ignores it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// These daemons do not support it (they refuse it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_on: Vec<String>,
    /// These daemons accept it and do nothing with it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored_on: Vec<String>,
}

impl Platforms {
    /// No fact at all.
    pub fn is_empty(&self) -> bool {
        self.platforms.is_empty() && self.not_on.is_empty() && self.ignored_on.is_empty()
    }
}

/// The shape of a definition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DefBody {
    /// A JSON object with known fields.
    Struct {
        /// Fields in upstream order.
        fields: Vec<Field>,
        /// Fields older versions had and the newest dropped.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        removed_fields: Vec<Removed>,
    },
    /// A closed set of strings (decoded with an `Unknown` fallback).
    Enum {
        /// The values with the first version that has each.
        values: Vec<EnumValue>,
    },
    /// A closed set of integers (decoded with an `Unknown` fallback).
    IntEnum {
        /// The values with the first version that has each.
        values: Vec<IntEnumValue>,
    },
    /// Another name for a type expression.
    Alias {
        /// The aliased type.
        #[serde(rename = "type")]
        ty: Ty,
    },
}

/// A field of a struct.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Field {
    /// The JSON name.
    pub name: String,
    /// The type.
    #[serde(rename = "type")]
    pub ty: Ty,
    /// Listed in the schema's `required`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// `x-nullable: true`: the daemon may send `null`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub nullable: bool,
    /// The first API version that has it.
    pub since: String,
    /// Its platform facts.
    #[serde(flatten)]
    pub platform: Platforms,
}

/// A string enum value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EnumValue {
    /// The wire value.
    pub value: String,
    /// The first API version that has it.
    pub since: String,
    /// Its platform facts.
    #[serde(flatten)]
    pub platform: Platforms,
}

/// An integer enum value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IntEnumValue {
    /// The wire value.
    pub value: i64,
    /// The first API version that has it.
    pub since: String,
}

/// Something older versions had and the newest dropped.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Removed {
    /// Its name.
    pub name: String,
    /// The first version that had it.
    pub since: String,
    /// The first version that no longer has it.
    pub removed_in: String,
    /// For a struct field: its type in the last version that had it, when
    /// that type can still be expressed with the newest definitions (then
    /// the field is generated, for daemons older than `removed_in`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "type")]
    pub ty: Option<Ty>,
}

/// An operation older versions had and the newest dropped.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RemovedOperation {
    /// The operation id.
    pub id: String,
    /// HTTP method of the last version that had it.
    pub method: String,
    /// Path template of the last version that had it.
    pub path: String,
    /// The first version that had it.
    pub since: String,
    /// The first version that no longer has it.
    pub removed_in: String,
}

/// A type expression.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ty {
    /// A JSON string; `format` as upstream (`dateTime`, `binary`, …).
    String {
        /// The upstream format, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        format: Option<String>,
    },
    /// A JSON integer of the given Rust width.
    Integer {
        /// `i64`, `u64`, `u32`, `u16`, `u8`.
        width: IntWidth,
    },
    /// A JSON number (f64).
    Number,
    /// A JSON boolean.
    Boolean,
    /// A JSON array.
    Array {
        /// The item type.
        items: Box<Ty>,
    },
    /// A JSON object used as a map from strings.
    Map {
        /// The value type.
        values: Box<Ty>,
    },
    /// A value that may be `null` where it stands (an array item or map value
    /// marked `x-nullable` upstream); fields have their own `nullable` flag.
    Nullable {
        /// The type when not null.
        inner: Box<Ty>,
    },
    /// A named definition.
    Ref {
        /// The definition's name.
        name: String,
    },
    /// Any JSON value.
    Any,
}

/// Integer widths.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum IntWidth {
    /// i64 (also for plain `integer` and `int32`, so nothing overflows).
    I64,
    /// u64.
    U64,
    /// u32.
    U32,
    /// u16.
    U16,
    /// u8.
    U8,
}

/// One operation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Operation {
    /// The upstream operation id (`ContainerList`).
    pub id: String,
    /// The upstream tag (API group), e.g. `Container`.
    pub group: String,
    /// HTTP method, upper case.
    pub method: String,
    /// Path template with `{name}` placeholders, without the version prefix.
    pub path: String,
    /// The first version that has it.
    pub since: String,
    /// Path, query and header parameters, in upstream order.
    pub params: Vec<Param>,
    /// Parameters older versions had and the newest dropped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed_params: Vec<Removed>,
    /// The request body, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    /// What the successful response carries.
    pub response: Response,
    /// Its platform facts.
    #[serde(flatten)]
    pub platform: Platforms,
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ParamIn {
    /// A `{name}` path segment.
    Path,
    /// A query-string parameter.
    Query,
    /// A request header.
    Header,
}

/// How a query parameter's value is written.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// As text (`true`, `10`, `name`).
    #[default]
    Plain,
    /// An array as the same parameter repeated (`collectionFormat: multi`).
    Repeated,
    /// JSON text of the value (the daemon `json.Unmarshal`s it).
    Json,
    /// An array as the same parameter repeated, each item as JSON text.
    RepeatedJson,
}

/// A path, query or header parameter.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Param {
    /// The wire name.
    pub name: String,
    /// Where it goes.
    #[serde(rename = "in")]
    pub location: ParamIn,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: Ty,
    /// How a query value is written.
    #[serde(default, skip_serializing_if = "is_plain")]
    pub encoding: Encoding,
    /// Required by the spec.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// The spec's default, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// The first version that has it.
    pub since: String,
    /// Its platform facts.
    #[serde(flatten)]
    pub platform: Platforms,
}

/// A request body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// A JSON document of the given type.
    Json {
        /// The upstream parameter name.
        param: String,
        /// The type.
        #[serde(rename = "type")]
        ty: Ty,
        /// Required by the spec.
        #[serde(default, skip_serializing_if = "is_false")]
        required: bool,
    },
    /// Raw bytes (a tar archive, an image tarball).
    Bytes {
        /// The upstream parameter name.
        param: String,
        /// The content type sent.
        content_type: String,
    },
}

/// The kind of a successful response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Response {
    /// One JSON document.
    Json {
        /// Its type.
        #[serde(rename = "type")]
        ty: Ty,
    },
    /// A stream of concatenated JSON values.
    JsonStream {
        /// The type of each value.
        #[serde(rename = "type")]
        ty: Ty,
    },
    /// Output of a container: raw bytes (TTY) or stdcopy frames.
    Multiplexed,
    /// A tar archive or other binary stream.
    Binary {
        /// Its content type.
        content_type: String,
    },
    /// Plain text (ping's `OK`).
    Text,
    /// The connection is upgraded (HTTP 101) to a raw duplex stream.
    Hijack,
    /// The connection is upgraded to a WebSocket.
    Websocket,
    /// No body; what matters is the status (and any response headers).
    Empty {
        /// Response headers the operation is for (e.g. the archive stat header).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Vec<String>,
    },
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_plain(e: &Encoding) -> bool {
    *e == Encoding::Plain
}
