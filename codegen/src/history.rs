//! Version history: which API version first has each operation, parameter,
//! definition, field and enum value, and what the newest version dropped.

use crate::ir::*;
use std::collections::BTreeMap;

/// Parses `1.41` into a sortable pair.
pub fn version_key(v: &str) -> (u32, u32) {
    let (a, b) = v.split_once('.').unwrap_or((v, "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
}

/// Merges per-version imports (oldest first) into the newest spec annotated
/// with `since` and removals.
pub fn merge(specs: &[(String, Spec)]) -> Result<Spec, String> {
    let (newest_v, newest) = specs.last().ok_or("no specifications")?;
    let oldest_v = &specs[0].0;
    let mut out = newest.clone();
    out.oldest = oldest_v.clone();
    out.newest = newest_v.clone();

    // Definitions, fields, enum values.
    for (name, def) in out.definitions.iter_mut() {
        let seen: Vec<(&str, &Definition)> = specs
            .iter()
            .filter_map(|(v, s)| s.definitions.get(name).map(|d| (v.as_str(), d)))
            .collect();
        def.since = seen[0].0.to_owned();
        match &mut def.body {
            DefBody::Struct {
                fields,
                removed_fields,
            } => {
                let struct_seen: Vec<(&str, Vec<String>)> = specs
                    .iter()
                    .filter_map(|(v, s)| struct_fields(s, name, 0).map(|f| (v.as_str(), f)))
                    .collect();
                let history = presence(&struct_seen, |f| f.clone());
                for f in fields.iter_mut() {
                    f.since = history[&f.name].first.clone();
                }
                *removed_fields = removals(&history, fields.iter().map(|f| &f.name), specs);
            }
            DefBody::Enum { values } => {
                let history = presence(&seen, |d| match &d.body {
                    DefBody::Enum { values } => values.iter().map(|v| v.value.clone()).collect(),
                    _ => Vec::new(),
                });
                for v in values.iter_mut() {
                    v.since = history[&v.value].first.clone();
                }
            }
            DefBody::IntEnum { values } => {
                let history = presence(&seen, |d| match &d.body {
                    DefBody::IntEnum { values } => {
                        values.iter().map(|v| v.value.to_string()).collect()
                    }
                    _ => Vec::new(),
                });
                for v in values.iter_mut() {
                    v.since = history[&v.value.to_string()].first.clone();
                }
            }
            DefBody::Alias { .. } => {}
        }
    }

    type_removed_fields(&mut out, specs);

    // Top-level definitions that went away.
    let mut gone: BTreeMap<String, Span> = BTreeMap::new();
    for (v, s) in specs {
        for (name, def) in &s.definitions {
            if is_top_level(def) && !out.definitions.contains_key(name) {
                gone.entry(name.clone())
                    .or_insert_with(|| Span::new(v))
                    .last = v.clone();
            }
        }
    }
    out.removed_definitions = gone
        .into_iter()
        .map(|(name, span)| span.removed(name, specs))
        .collect();

    // Operations and parameters.
    for op in out.operations.iter_mut() {
        let seen: Vec<(&str, &Operation)> = specs
            .iter()
            .filter_map(|(v, s)| {
                s.operations
                    .iter()
                    .find(|o| route(o) == route(op))
                    .map(|o| (v.as_str(), o))
            })
            .collect();
        op.since = seen[0].0.to_owned();
        let history = presence(&seen, |o| o.params.iter().map(param_key).collect());
        for p in op.params.iter_mut() {
            p.since = history[&param_key(p)].first.clone();
        }
        let keys: Vec<String> = op.params.iter().map(param_key).collect();
        op.removed_params = removals(&history, keys.iter(), specs);
    }
    let mut gone_ops: BTreeMap<String, (Span, String, String)> = BTreeMap::new();
    for (v, s) in specs {
        for o in &s.operations {
            if !out.operations.iter().any(|n| route(n) == route(o)) {
                let e = gone_ops
                    .entry(o.id.clone())
                    .or_insert_with(|| (Span::new(v), String::new(), String::new()));
                e.0.last = v.clone();
                e.1 = o.method.clone();
                e.2 = o.path.clone();
            }
        }
    }
    out.removed_operations = gone_ops
        .into_iter()
        .map(|(id, (span, method, path))| {
            let r = span.removed(id, specs);
            RemovedOperation {
                id: r.name,
                method,
                path,
                since: r.since,
                removed_in: r.removed_in,
            }
        })
        .collect();
    Ok(out)
}

/// Operations are the same across versions when method and path are (ids
/// were renamed upstream, e.g. `ContainerGetArchive` became `ContainerArchive`
/// in 1.28, but the daemon routes by path). Placeholder names do not count.
fn route(o: &Operation) -> String {
    let mut path = String::new();
    let mut in_param = false;
    for c in o.path.chars() {
        match c {
            '{' => {
                in_param = true;
                path.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => path.push(c),
        }
    }
    format!("{} {path}", o.method)
}

/// Query and header names are case-sensitive on the wire as written upstream.
fn param_key(p: &Param) -> String {
    let loc = match p.location {
        ParamIn::Path => "path",
        ParamIn::Query => "query",
        ParamIn::Header => "header",
    };
    format!("{loc}:{}", p.name)
}

fn is_top_level(def: &Definition) -> bool {
    !def.upstream.contains(['.', ' ', '[', '{'])
}

/// The first and last version in which a name was present.
#[derive(Clone)]
struct Span {
    first: String,
    last: String,
}

impl Span {
    fn new(v: &str) -> Self {
        Span {
            first: v.to_owned(),
            last: v.to_owned(),
        }
    }

    /// The version right after `last` is where it was removed.
    fn removed(self, name: String, specs: &[(String, Spec)]) -> Removed {
        let idx = specs.iter().position(|(v, _)| *v == self.last).unwrap_or(0);
        let removed_in = specs
            .get(idx + 1)
            .map(|(v, _)| v.clone())
            .unwrap_or_else(|| self.last.clone());
        Removed {
            name,
            since: self.first,
            removed_in,
            ty: None,
        }
    }
}

/// For each name that `names_of` yields in any seen version: when it was first and last present.
fn presence<T>(seen: &[(&str, T)], names_of: impl Fn(&T) -> Vec<String>) -> BTreeMap<String, Span> {
    let mut map: BTreeMap<String, Span> = BTreeMap::new();
    for (v, item) in seen {
        for n in names_of(item) {
            map.entry(n).or_insert_with(|| Span::new(v)).last = (*v).to_owned();
        }
    }
    map
}

fn removals<'a>(
    history: &BTreeMap<String, Span>,
    current: impl Iterator<Item = &'a String>,
    specs: &[(String, Spec)],
) -> Vec<Removed> {
    let current: Vec<&String> = current.collect();
    history
        .iter()
        .filter(|(n, _)| !current.contains(n))
        .map(|(n, span)| span.clone().removed(n.clone(), specs))
        .collect()
}

/// The field names of the struct a definition denotes in one version,
/// following shape changes: older versions sometimes defined the same name
/// as an array of an inline object (`ContainerSummary` before 1.40) or as an
/// alias of another definition.
fn struct_fields(spec: &Spec, name: &str, depth: usize) -> Option<Vec<String>> {
    let def = spec.definitions.get(name)?;
    match &def.body {
        DefBody::Struct { fields, .. } => Some(fields.iter().map(|f| f.name.clone()).collect()),
        DefBody::Alias { ty } if depth < 4 => {
            let target = match ty {
                Ty::Ref { name } => name,
                Ty::Array { items } => match &**items {
                    Ty::Ref { name } => name,
                    _ => return None,
                },
                _ => return None,
            };
            struct_fields(spec, target, depth + 1)
        }
        _ => None,
    }
}

/// Definition names upstream gave to another type: `Config` was the
/// container configuration until 1.29 (then `ContainerConfig`) and is the
/// swarm config object since 1.30, so its old fields are not the new type's.
const REUSED_NAMES: &[&str] = &["Config"];

/// Gives each removed struct field the type it had in the last version that
/// had it, so older daemons' answers decode into typed fields (a 20.10
/// daemon's `system df` is all in fields v1.52 dropped). Only fields of
/// definitions that kept their identity (see `REUSED_NAMES`), removed after
/// the definition appeared, whose type refers only to definitions the
/// newest spec still has.
fn type_removed_fields(out: &mut Spec, specs: &[(String, Spec)]) {
    let names: std::collections::BTreeSet<String> = out.definitions.keys().cloned().collect();
    for (name, def) in out.definitions.iter_mut() {
        if REUSED_NAMES.contains(&name.as_str()) {
            continue;
        }
        let def_since = version_key(&def.since);
        let DefBody::Struct { removed_fields, .. } = &mut def.body else {
            continue;
        };
        for r in removed_fields.iter_mut() {
            if version_key(&r.removed_in) <= def_since {
                continue;
            }
            let last = specs
                .iter()
                .rev()
                .filter(|(v, _)| version_key(v) < version_key(&r.removed_in))
                .find_map(|(_, s)| struct_field(s, name, &r.name, 0));
            if let Some(ty) = last.filter(|t| refs_all_known(t, &names)) {
                r.ty = Some(ty);
            }
        }
    }
}

/// The type of field `field` of the struct `name` denotes in one version.
fn struct_field(spec: &Spec, name: &str, field: &str, depth: usize) -> Option<Ty> {
    let def = spec.definitions.get(name)?;
    match &def.body {
        DefBody::Struct { fields, .. } => fields
            .iter()
            .find(|f| f.name == field)
            .map(|f| f.ty.clone()),
        DefBody::Alias { ty } if depth < 4 => {
            let target = match ty {
                Ty::Ref { name } => name,
                Ty::Array { items } => match &**items {
                    Ty::Ref { name } => name,
                    _ => return None,
                },
                _ => return None,
            };
            struct_field(spec, target, field, depth + 1)
        }
        _ => None,
    }
}

fn refs_all_known(ty: &Ty, names: &std::collections::BTreeSet<String>) -> bool {
    match ty {
        Ty::Ref { name } => names.contains(name),
        Ty::Array { items: t } | Ty::Map { values: t } | Ty::Nullable { inner: t } => {
            refs_all_known(t, names)
        }
        _ => true,
    }
}
