//! Upstream Swagger 2.0 document → IR of one API version.
//!
//! Every version's document goes through the same importer; the history
//! module then compares them. Inline objects and enums are hoisted into named
//! definitions with names derived from where they stand (`Mount` property
//! `BindOptions` → `MountBindOptions`), so the same inline type gets the same
//! name in every version.

use crate::ir::*;
use crate::names::pascal;
use crate::platforms::facts;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Imports one upstream document.
pub fn import(doc: &Value, version: &str) -> Result<Spec, String> {
    let raw_defs = doc
        .get("definitions")
        .and_then(Value::as_object)
        .ok_or("no `definitions` map")?;
    let mut imp = Importer {
        version: version.to_owned(),
        raw_defs,
        reserved: raw_defs.keys().map(|k| pascal(k)).collect(),
        defs: BTreeMap::new(),
    };
    for (name, schema) in raw_defs {
        imp.define_top_level(name, schema)
            .map_err(|e| format!("definition {name}: {e}"))?;
    }
    let paths = doc
        .get("paths")
        .and_then(Value::as_object)
        .ok_or("no `paths` map")?;
    let mut operations = Vec::new();
    for (path, item) in paths {
        let item = item
            .as_object()
            .ok_or_else(|| format!("path {path}: not a map"))?;
        let shared_params: Vec<Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (method, op) in item {
            if !matches!(
                method.as_str(),
                "get" | "post" | "put" | "delete" | "head" | "patch"
            ) {
                continue;
            }
            let op = imp
                .operation(path, method, op, &shared_params)
                .map_err(|e| format!("{} {path}: {e}", method.to_uppercase()))?;
            operations.push(op);
        }
    }
    Ok(Spec {
        format: 1,
        oldest: version.to_owned(),
        newest: version.to_owned(),
        definitions: imp.defs,
        operations,
        removed_operations: Vec::new(),
        removed_definitions: Vec::new(),
        fixups: Vec::new(),
    })
}

struct Importer<'a> {
    version: String,
    raw_defs: &'a serde_json::Map<String, Value>,
    /// Names of top-level definitions; hoisted types never take them.
    reserved: BTreeSet<String>,
    defs: BTreeMap<String, Definition>,
}

impl Importer<'_> {
    fn define_top_level(&mut self, name: &str, schema: &Value) -> Result<(), String> {
        let rust_name = pascal(name);
        let body = self.def_body(&rust_name, name, schema)?;
        self.insert(
            rust_name,
            name.to_owned(),
            body,
            true,
            description_facts(schema),
        )?;
        Ok(())
    }

    /// Adds a definition. Hoisted ones that collide with a different body get a suffix.
    fn insert(
        &mut self,
        name: String,
        upstream: String,
        body: DefBody,
        top_level: bool,
        platform: Platforms,
    ) -> Result<String, String> {
        let mut candidate = name.clone();
        for suffix in ["", "Inline", "Inline2", "Inline3"] {
            candidate = format!("{name}{suffix}");
            if !top_level && self.reserved.contains(&candidate) {
                continue;
            }
            match self.defs.get(&candidate) {
                None => {
                    self.defs.insert(
                        candidate.clone(),
                        Definition {
                            upstream,
                            since: self.version.clone(),
                            platform,
                            body,
                        },
                    );
                    return Ok(candidate);
                }
                Some(existing) if existing.body == body => return Ok(candidate),
                Some(_) if top_level => return Err(format!("two definitions named {name}")),
                Some(_) => continue,
            }
        }
        Err(format!("no free name for {candidate}"))
    }

    fn def_body(
        &mut self,
        name: &str,
        origin_name: &str,
        schema: &Value,
    ) -> Result<DefBody, String> {
        if is_struct(schema) {
            return self.struct_body(name, origin_name, schema);
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            match schema.get("type").and_then(Value::as_str) {
                Some("string") | None if values.iter().all(Value::is_string) => {
                    return Ok(DefBody::Enum {
                        values: values
                            .iter()
                            .filter_map(Value::as_str)
                            .map(|v| EnumValue {
                                value: v.to_owned(),
                                since: self.version.clone(),
                                platform: Platforms::default(),
                            })
                            .collect(),
                    })
                }
                Some("integer") => {
                    let values = values
                        .iter()
                        .map(|v| v.as_i64().ok_or_else(|| format!("integer enum value {v}")))
                        .collect::<Result<Vec<_>, _>>()?;
                    return Ok(DefBody::IntEnum {
                        values: values
                            .into_iter()
                            .map(|value| IntEnumValue {
                                value,
                                since: self.version.clone(),
                            })
                            .collect(),
                    });
                }
                _ => {}
            }
        }
        // Not hoisted again: a top-level alias to its own shape.
        let ty = self.ty_inner(schema, &format!("{name}Item"), origin_name, false)?;
        Ok(DefBody::Alias { ty })
    }

    fn struct_body(&mut self, name: &str, origin: &str, schema: &Value) -> Result<DefBody, String> {
        let mut fields: Vec<Field> = Vec::new();
        self.collect_fields(name, origin, schema, &mut fields, 0)?;
        Ok(DefBody::Struct {
            fields,
            removed_fields: Vec::new(),
        })
    }

    /// Gathers the properties of a schema, following `allOf` and `$ref` parts.
    fn collect_fields(
        &mut self,
        ctx: &str,
        origin: &str,
        schema: &Value,
        fields: &mut Vec<Field>,
        depth: usize,
    ) -> Result<(), String> {
        if depth > 16 {
            return Err("allOf nesting too deep".into());
        }
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let target = ref_name(r)?;
            let raw = self
                .raw_defs
                .get(target)
                .ok_or_else(|| format!("unresolved $ref {r}"))?;
            return self.collect_fields(&pascal(target), target, raw, fields, depth + 1);
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            for part in parts {
                self.collect_fields(ctx, origin, part, fields, depth + 1)?;
            }
        }
        let required: BTreeSet<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (pname, pschema) in props {
                let ty = self
                    .ty_of(
                        pschema,
                        &format!("{ctx}{}", pascal(pname)),
                        &format!("{origin}.{pname}"),
                    )
                    .map_err(|e| format!("property {pname}: {e}"))?;
                let field = Field {
                    name: pname.clone(),
                    ty,
                    required: required.contains(pname.as_str()),
                    nullable: pschema.get("x-nullable").and_then(Value::as_bool) == Some(true),
                    since: self.version.clone(),
                    platform: description_facts(pschema),
                };
                // A later allOf part redefining a field replaces it in place.
                match fields.iter_mut().find(|f| f.name == *pname) {
                    Some(existing) => *existing = field,
                    None => fields.push(field),
                }
            }
        }
        // `required` may name fields that an earlier allOf part brought in.
        for f in fields.iter_mut() {
            if required.contains(f.name.as_str()) {
                f.required = true;
            }
        }
        Ok(())
    }

    /// The type of a schema standing at `ctx`; inline objects and enums are hoisted as `ctx`.
    fn ty_of(&mut self, schema: &Value, ctx: &str, origin: &str) -> Result<Ty, String> {
        self.ty_inner(schema, ctx, origin, true)
    }

    fn ty_inner(
        &mut self,
        schema: &Value,
        ctx: &str,
        origin: &str,
        hoist: bool,
    ) -> Result<Ty, String> {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            return Ok(Ty::Ref {
                name: pascal(ref_name(r)?),
            });
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            if parts.len() == 1 && schema.get("properties").is_none() {
                return self.ty_inner(&parts[0], ctx, origin, hoist);
            }
        }
        let ty = schema.get("type").and_then(Value::as_str);
        if hoist && is_struct(schema) {
            let body = self.struct_body(ctx, origin, schema)?;
            let name = self.insert(
                ctx.to_owned(),
                origin.to_owned(),
                body,
                false,
                description_facts(schema),
            )?;
            return Ok(Ty::Ref { name });
        }
        if hoist {
            if let Some(values) = schema.get("enum").and_then(Value::as_array) {
                if values.iter().all(Value::is_string) || ty == Some("integer") {
                    let body = self.def_body(ctx, origin, schema)?;
                    let name = self.insert(
                        ctx.to_owned(),
                        origin.to_owned(),
                        body,
                        false,
                        Platforms::default(),
                    )?;
                    return Ok(Ty::Ref { name });
                }
            }
        }
        let format = schema.get("format").and_then(Value::as_str);
        Ok(match ty {
            Some("string") => Ty::String {
                format: format.map(str::to_owned),
            },
            Some("integer") => Ty::Integer {
                width: match format {
                    Some("uint64") => IntWidth::U64,
                    Some("uint32") => IntWidth::U32,
                    Some("uint16") => IntWidth::U16,
                    Some("uint8") => IntWidth::U8,
                    // int64, int32, int, none: i64 never overflows on these.
                    _ => IntWidth::I64,
                },
            },
            Some("number") => Ty::Number,
            Some("boolean") => Ty::Boolean,
            Some("array") => {
                let items = schema.get("items").ok_or("array without items")?;
                Ty::Array {
                    items: Box::new(nullable_if_marked(
                        items,
                        self.ty_of(items, &format!("{ctx}Item"), &format!("{origin}[]"))?,
                    )),
                }
            }
            Some("object") | None => match schema.get("additionalProperties") {
                Some(Value::Bool(true)) => Ty::Map {
                    values: Box::new(Ty::Any),
                },
                Some(addl @ Value::Object(_)) => Ty::Map {
                    values: Box::new(nullable_if_marked(
                        addl,
                        self.ty_of(addl, &format!("{ctx}Value"), &format!("{origin}{{*}}"))?,
                    )),
                },
                _ => Ty::Any,
            },
            Some("file") => Ty::String {
                format: Some("binary".into()),
            },
            Some(other) => return Err(format!("unknown schema type {other:?}")),
        })
    }

    fn operation(
        &mut self,
        path: &str,
        method: &str,
        op: &Value,
        shared_params: &[Value],
    ) -> Result<Operation, String> {
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .ok_or("no operationId")?
            .to_owned();
        let group = op
            .get("tags")
            .and_then(Value::as_array)
            .and_then(|t| t.first())
            .and_then(Value::as_str)
            .unwrap_or("Misc")
            .to_owned();
        let consumes: Vec<&str> = str_list(op.get("consumes"));
        let produces: Vec<&str> = str_list(op.get("produces"));
        let mut params = Vec::new();
        let mut body = None;
        let own: Vec<Value> = op
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for p in shared_params.iter().chain(own.iter()) {
            let name = p
                .get("name")
                .and_then(Value::as_str)
                .ok_or("parameter without name")?;
            let location = match p.get("in").and_then(Value::as_str) {
                Some("path") => ParamIn::Path,
                Some("query") => ParamIn::Query,
                Some("header") => ParamIn::Header,
                Some("body") => {
                    let schema = p.get("schema").ok_or("body without schema")?;
                    let required = p.get("required").and_then(Value::as_bool) == Some(true);
                    body = Some(
                        if schema.get("type").and_then(Value::as_str) == Some("string") {
                            Body::Bytes {
                                param: name.to_owned(),
                                content_type: consumes
                                    .iter()
                                    .find(|c| !c.contains("json") && !c.starts_with("text/"))
                                    .unwrap_or(&"application/octet-stream")
                                    .to_string(),
                            }
                        } else {
                            Body::Json {
                                param: name.to_owned(),
                                ty: self.ty_of(
                                    schema,
                                    &format!("{id}Body"),
                                    &format!("{id} body"),
                                )?,
                                required,
                            }
                        },
                    );
                    continue;
                }
                other => return Err(format!("parameter {name}: unsupported location {other:?}")),
            };
            let ty = self.ty_of(
                p,
                &format!("{id}{}", pascal(name)),
                &format!("{id} parameter {name}"),
            )?;
            let encoding = match (&ty, p.get("collectionFormat").and_then(Value::as_str)) {
                // The daemon reads arrays with `r.Form[name]`: the name repeated.
                (Ty::Array { .. }, Some("multi") | None) => Encoding::Repeated,
                (Ty::Array { .. }, Some(other)) => {
                    return Err(format!("parameter {name}: collectionFormat {other}"))
                }
                _ => Encoding::Plain,
            };
            params.push(Param {
                name: name.to_owned(),
                location,
                ty,
                encoding,
                required: p.get("required").and_then(Value::as_bool) == Some(true)
                    || location == ParamIn::Path,
                default: p.get("default").cloned(),
                since: self.version.clone(),
                platform: description_facts(p),
            });
        }
        let response = self.response(&id, method, op, &produces)?;
        Ok(Operation {
            id,
            group,
            method: method.to_uppercase(),
            path: path.to_owned(),
            since: self.version.clone(),
            params,
            removed_params: Vec::new(),
            body,
            response,
            platform: description_facts(op),
        })
    }

    fn response(
        &mut self,
        id: &str,
        method: &str,
        op: &Value,
        produces: &[&str],
    ) -> Result<Response, String> {
        let responses = op
            .get("responses")
            .and_then(Value::as_object)
            .ok_or("no responses")?;
        let upgrade = responses.contains_key("101");
        let success = ["200", "201", "204"]
            .iter()
            .find_map(|code| responses.get(*code));
        let schema = success.and_then(|r| r.get("schema"));
        let headers: Vec<String> = success
            .and_then(|r| r.get("headers"))
            .and_then(Value::as_object)
            .map(|h| h.keys().cloned().collect())
            .unwrap_or_default();
        let has = |ct: &str| produces.contains(&ct);
        let raw = has("application/vnd.docker.raw-stream")
            || has("application/vnd.docker.multiplexed-stream");
        Ok(if upgrade && raw {
            Response::Hijack
        } else if upgrade {
            Response::Websocket
        } else if method == "head" {
            Response::Empty { headers }
        } else if raw {
            Response::Multiplexed
        } else if has("application/jsonl")
            || has("application/x-ndjson")
            || has("application/json-seq")
        {
            let schema = schema.ok_or("JSON stream without schema")?;
            Response::JsonStream {
                ty: self.ty_of(
                    schema,
                    &format!("{id}Message"),
                    &format!("{id} stream item"),
                )?,
            }
        } else if has("application/x-tar") || has("application/octet-stream") {
            Response::Binary {
                content_type: produces
                    .iter()
                    .find(|c| **c == "application/x-tar" || **c == "application/octet-stream")
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
            }
        } else if let Some(schema) = schema {
            if produces == ["text/plain"] {
                Response::Text
            } else {
                Response::Json {
                    ty: self.ty_of(schema, &format!("{id}Response"), &format!("{id} response"))?,
                }
            }
        } else {
            Response::Empty { headers }
        })
    }
}

/// The platform facts a schema's, parameter's or operation's description states.
fn description_facts(v: &Value) -> Platforms {
    v.get("description")
        .and_then(Value::as_str)
        .map(facts)
        .unwrap_or_default()
}

/// An object schema with named properties (or an allOf merge of such).
fn is_struct(schema: &Value) -> bool {
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    let all_of = schema
        .get("allOf")
        .and_then(Value::as_array)
        .is_some_and(|p| p.len() > 1 || schema.get("properties").is_some());
    props || all_of
}

fn ref_name(r: &str) -> Result<&str, String> {
    r.strip_prefix("#/definitions/")
        .ok_or_else(|| format!("unsupported $ref {r}"))
}

fn str_list(v: Option<&Value>) -> Vec<&str> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// An array item or map value marked `x-nullable: true` may be `null`.
fn nullable_if_marked(schema: &Value, ty: Ty) -> Ty {
    if schema.get("x-nullable").and_then(Value::as_bool) == Some(true) {
        Ty::Nullable {
            inner: Box::new(ty),
        }
    } else {
        ty
    }
}
