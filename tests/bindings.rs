//! Every operation of the table is bound by exactly one public method of the
//! API group handles in `src/api/`.
//!
//! Each method names its operation's constant (`ops::CONTAINER_LIST`) once; this
//! test reads the sources, attributes each reference to the `pub async fn`
//! it stands in, and checks the count against the generated table.

use std::collections::BTreeMap;

fn source(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Constant name → operation id, from the generated table's source.
fn constants() -> BTreeMap<String, String> {
    let text = source("src/operations/mod.rs");
    let mut map = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("pub const ") {
            if let Some(name) = rest.strip_suffix(": Operation = Operation {") {
                let id_line = lines.next().unwrap_or_default();
                let id = id_line
                    .trim()
                    .strip_prefix("id: \"")
                    .and_then(|s| s.strip_suffix("\","))
                    .unwrap_or_else(|| panic!("unexpected line after {name}: {id_line}"));
                map.insert(name.to_owned(), id.to_owned());
            }
        }
    }
    map
}

#[test]
fn every_operation_is_bound_by_exactly_one_public_method() {
    let consts = constants();
    assert_eq!(consts.len(), dockhand::operations::OPERATIONS.len());
    assert_eq!(consts.len(), 108);

    // operation id → the methods referencing it.
    let mut bound: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let dir = format!("{}/src/api", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("src/api")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        let file = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let mut current: Option<String> = None;
        for line in text.lines() {
            let t = line.trim_start();
            if t.starts_with("#[cfg(test)]") {
                break;
            }
            if let Some(rest) = t
                .strip_prefix("pub async fn ")
                .or_else(|| t.strip_prefix("pub fn "))
            {
                let name = rest.split(['(', '<']).next().unwrap_or_default();
                current = Some(format!("{file}::{name}"));
            } else if t.starts_with("fn ")
                || t.starts_with("pub(crate) fn ")
                || t.starts_with("async fn ")
            {
                current = None;
            }
            let mut rest = t;
            while let Some(at) = rest.find("ops::") {
                let tail = &rest[at + 5..];
                let name: String = tail
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                rest = &tail[name.len()..];
                if name.is_empty() || name.starts_with(char::is_lowercase) {
                    continue;
                }
                let id = consts
                    .get(&name)
                    .unwrap_or_else(|| panic!("{file}: ops::{name} is not an operation"));
                let method = current
                    .clone()
                    .unwrap_or_else(|| panic!("{file}: ops::{name} used outside a public method"));
                let entry = bound.entry(id.clone()).or_default();
                if !entry.contains(&method) {
                    entry.push(method);
                }
            }
        }
    }
    let unbound: Vec<&String> = consts
        .values()
        .filter(|id| !bound.contains_key(*id))
        .collect();
    let twice: Vec<String> = bound
        .iter()
        .filter(|(_, m)| m.len() > 1)
        .map(|(id, m)| format!("{id}: {}", m.join(", ")))
        .collect();
    assert!(
        unbound.is_empty(),
        "{} operations unbound: {unbound:?}",
        unbound.len()
    );
    assert!(twice.is_empty(), "bound more than once: {twice:#?}");
}
