//! The module graph points one way (DESIGN.md, "Layering"): this test reads
//! every hand-written source file's `crate::…` references outside test code
//! and checks that no top-level module reaches, directly or through others,
//! a module that reaches it back. A new cycle fails here, naming it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules it refers to.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut tops = BTreeSet::new();
    for e in std::fs::read_dir(&src).expect("src").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        match name.strip_suffix(".rs") {
            Some("lib") => {}
            Some(m) => {
                tops.insert(m.to_owned());
            }
            None if e.path().is_dir() => {
                tops.insert(name);
            }
            None => {}
        }
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("dir").flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).expect("under src");
            let first = rel.components().next().expect("a component");
            let first = first.as_os_str().to_string_lossy();
            let top = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
            // Generated code is one layer with the support it is made of.
            if matches!(top.as_str(), "lib" | "models" | "operations") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for line in code.lines() {
                let line = line.trim_start();
                if line.starts_with("//") {
                    continue;
                }
                for (i, _) in line.match_indices("crate::") {
                    let name: String = line[i + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if tops.contains(&name) && name != top {
                        graph.entry(top.clone()).or_default().insert(name);
                    }
                }
            }
        }
    }
    graph
}

#[test]
fn top_level_modules_form_no_cycle() {
    let graph = edges();
    let mut cycles = Vec::new();
    // A cycle is an edge a → b with a path b ⇝ a.
    for (a, outs) in &graph {
        for b in outs {
            let mut seen = BTreeSet::new();
            let mut todo = vec![b.clone()];
            while let Some(m) = todo.pop() {
                if &m == a {
                    cycles.push(format!("{a} → {b} ⇝ {a}"));
                    break;
                }
                if seen.insert(m.clone()) {
                    todo.extend(graph.get(&m).into_iter().flatten().cloned());
                }
            }
        }
    }
    let shown: Vec<String> = graph
        .iter()
        .map(|(a, bs)| {
            format!(
                "{a} → {}",
                bs.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    assert!(
        cycles.is_empty(),
        "module cycles: {cycles:?}\nthe graph:\n{}",
        shown.join("\n")
    );
    // The bottom layers import nothing above them.
    for low in ["error", "codec", "stream", "version"] {
        for high in ["api", "client", "copy", "build", "transport", "request"] {
            assert!(
                !graph.get(low).is_some_and(|o| o.contains(high)),
                "{low} must not use {high}"
            );
        }
    }
}
