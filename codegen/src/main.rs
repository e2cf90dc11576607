//! dockhand's code generator.
//!
//! ```text
//! cargo run -p codegen                 # import (when the upstream specs are there) + generate
//! cargo run -p codegen -- import       # upstream specs -> api-spec/
//! cargo run -p codegen -- generate     # api-spec/ -> src/models/, src/operations/
//! cargo run -p codegen -- --check      # fail when anything committed is stale
//! ```
//!
//! The upstream directory defaults to `../shared/docker-engine-api` (relative
//! to the workspace root); `--upstream DIR` or `DOCKHAND_UPSTREAM_SPECS`
//! override it.

mod emit;
mod fixups;
mod history;
mod import;
mod ir;
mod names;
mod platforms;
mod yaml;

use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const SPEC_FILE: &str = "api-spec/spec.json";
const UPSTREAM_FILE: &str = "api-spec/upstream.json";
const PLATFORMS_FILE: &str = "api-spec/platforms.json";
const GENERATED_DIRS: &[&str] = &["src/models", "src/operations"];

struct Args {
    import: bool,
    generate: bool,
    check: bool,
    upstream: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        import: false,
        generate: false,
        check: false,
        upstream: std::env::var_os("DOCKHAND_UPSTREAM_SPECS").map(PathBuf::from),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "import" => a.import = true,
            "generate" => a.generate = true,
            "--check" => a.check = true,
            "--upstream" => {
                a.upstream = Some(it.next().ok_or("--upstream needs a directory")?.into())
            }
            "-h" | "--help" => {
                println!("usage: codegen [import] [generate] [--check] [--upstream DIR]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if !a.import && !a.generate {
        a.import = true;
        a.generate = true;
    }
    Ok(a)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("codegen: {e}");
            ExitCode::from(2)
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Returns Ok(false) when `--check` found stale output.
fn run() -> Result<bool, String> {
    let args = parse_args()?;
    let root = workspace_root();
    let upstream = args
        .upstream
        .clone()
        .unwrap_or_else(|| root.join("../shared/docker-engine-api"));
    let mut outputs: Vec<(String, String)> = Vec::new();
    let mut spec_text: Option<String> = None;

    if args.import {
        if upstream.is_dir() {
            let (spec, upstream_json, platforms_json) = import_all(&upstream)?;
            let text = to_json(&spec)?;
            outputs.push((SPEC_FILE.to_owned(), text.clone()));
            outputs.push((UPSTREAM_FILE.to_owned(), upstream_json));
            outputs.push((PLATFORMS_FILE.to_owned(), platforms_json));
            spec_text = Some(text);
        } else if args.generate {
            eprintln!(
                "codegen: upstream specifications not found at {}; using the committed {SPEC_FILE}",
                upstream.display()
            );
        } else {
            return Err(format!(
                "upstream specifications not found at {}",
                upstream.display()
            ));
        }
    }

    if args.generate {
        let text = match spec_text {
            Some(t) => t,
            None => {
                fs::read_to_string(root.join(SPEC_FILE)).map_err(|e| format!("{SPEC_FILE}: {e}"))?
            }
        };
        let spec: ir::Spec =
            serde_json::from_str(&text).map_err(|e| format!("{SPEC_FILE}: {e}"))?;
        outputs.extend(emit::generate(&spec)?);
    }

    // Files under the generated directories that the generator no longer writes.
    let mut stale_files = Vec::new();
    if args.generate {
        let produced: BTreeSet<&str> = outputs.iter().map(|(p, _)| p.as_str()).collect();
        for dir in GENERATED_DIRS {
            let Ok(entries) = fs::read_dir(root.join(dir)) else {
                continue;
            };
            for e in entries.flatten() {
                let rel = format!("{dir}/{}", e.file_name().to_string_lossy());
                if !produced.contains(rel.as_str()) {
                    stale_files.push(rel);
                }
            }
        }
    }

    if args.check {
        let mut ok = true;
        for (path, text) in &outputs {
            match fs::read_to_string(root.join(path)) {
                Ok(on_disk) if on_disk == *text => {}
                Ok(_) => {
                    eprintln!("stale: {path} differs from what the generator writes");
                    ok = false;
                }
                Err(_) => {
                    eprintln!("missing: {path}");
                    ok = false;
                }
            }
        }
        for f in &stale_files {
            eprintln!("stale: {f} is not written by the generator");
            ok = false;
        }
        if ok {
            println!("codegen: {} generated files are up to date", outputs.len());
        } else {
            eprintln!("codegen: run `cargo run -p codegen` and commit the result");
        }
        return Ok(ok);
    }

    for (path, text) in &outputs {
        let full = root.join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        if fs::read_to_string(&full).ok().as_deref() != Some(text.as_str()) {
            fs::write(&full, text).map_err(|e| format!("{path}: {e}"))?;
            println!("wrote {path}");
        }
    }
    for f in &stale_files {
        fs::remove_file(root.join(f)).map_err(|e| format!("{f}: {e}"))?;
        println!("removed {f}");
    }
    Ok(true)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, String> {
    let mut s = serde_json::to_string_pretty(v).map_err(|e| e.to_string())?;
    s.push('\n');
    Ok(s)
}

/// Reads every `v1.*.yaml`, imports each, merges the history and applies the
/// fixups; reviews the newest one's platform mentions.
fn import_all(dir: &Path) -> Result<(ir::Spec, String, String), String> {
    let mut files: Vec<(String, PathBuf)> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let v = name.strip_prefix('v')?.strip_suffix(".yaml")?.to_owned();
            Some((v, e.path()))
        })
        .collect();
    files.sort_by_key(|(v, _)| history::version_key(v));
    if files.is_empty() {
        return Err(format!("no v*.yaml files in {}", dir.display()));
    }
    let mut specs = Vec::new();
    let mut inputs = Vec::new();
    let mut review = None;
    for (v, path) in &files {
        let bytes = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let sha = Sha256::digest(&bytes);
        inputs.push(serde_json::json!({
            "version": v,
            "file": path.file_name().map(|f| f.to_string_lossy().into_owned()),
            "sha256": sha.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        }));
        let text = String::from_utf8(bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let doc = yaml::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let spec = import::import(&doc, v).map_err(|e| format!("{}: {e}", path.display()))?;
        review = Some(doc);
        specs.push((v.clone(), spec));
    }
    let newest_doc = review.ok_or("no specifications")?;
    let platforms = to_json(&platforms::review(&newest_doc)?)?;
    let mut spec = history::merge(&specs)?;
    spec.fixups = fixups::apply_all(&mut spec)?;
    let upstream = to_json(&serde_json::json!({
        "description": "The upstream Engine API specifications this spec.json was imported from.",
        "inputs": inputs,
    }))?;
    Ok((spec, upstream, platforms))
}
