//! Instruction counts of decoding (issue 15): the same bytes decoded by
//! dockhand's library path (the function the client and its streams decode
//! with), by `serde_json::from_slice` into dockhand's models, into bollard's
//! models (bollard's own path) and into `serde_json::Value`, counted with
//! `valgrind --tool=callgrind`.
//!
//! ```text
//! dockhand-bench decode-count          # runs callgrind 12 times, prints the table
//! dockhand-bench decode-one LIB INPUT  # one decode (what callgrind runs)
//! ```
//! LIB is `dockhand` (the library path), `dockhand-serde`, `bollard` or `value`
//! (or, for `progress` only, one of the floor measurements `jiter`, `simd` and
//! `tape`: see [`FLOORS`]); INPUT is `list` (5,000 container
//! summaries), `progress` (100,000 pull-progress messages, one per line) or
//! `inspect` (a dockerd 20.10 container inspect, decoded 100 times).
//!
//! Only the decode is counted: the inputs are built first, then one
//! `#[inline(never)]` function per library decodes every input and drops
//! what it decoded, and callgrind collects only inside that function
//! (`--toggle-collect`), so building the input and the process's start-up
//! are not in the count. Dropping the values is in it (freeing is part of
//! what an allocation costs).

use crate::mock;
use crate::peers::Res;
use std::hint::black_box;

/// The three inputs.
const INPUTS: [(&str, &str); 3] = [
    ("list", "5,000 container summaries"),
    ("progress", "100,000 pull-progress messages, one per line"),
    ("inspect", "a 20.10 container inspect, 100 times"),
];

/// `dockhand`: the library path; `dockhand-serde`: dockhand's models
/// through `serde_json::from_slice`.
const LIBS: [&str; 4] = ["dockhand", "dockhand-serde", "bollard", "value"];

/// Floor measurements on the progress messages (printed under the table):
/// what the fastest parsers found here cost on a 150-byte message, to tell
/// whether a target below bollard's `serde_json` count is reachable at all.
/// Neither is a decode path of the library: `jiter` is hand-mapped into
/// dockhand's type with none of the library's guarantees (no unknown fields
/// or explicit `null`s kept, no in-band error read, no depth guard); the
/// `simd-json` rows reuse one set of buffers for every message.
const FLOORS: [(&str, &str); 3] = [
    (
        "jiter",
        "jiter 0.19 (`Jiter` iterator, hand-mapped into dockhand's `CreateImageInfo`; unknown fields and `null`s dropped, no in-band check)",
    ),
    (
        "simd",
        "simd-json 0.19 `from_slice_with_buffers` into dockhand's `CreateImageInfo` (buffers reused; no guard, no in-band check)",
    ),
    (
        "tape",
        "simd-json 0.19, its tape alone (`Deserializer::from_slice_with_buffers`, buffers reused, no value built)",
    ),
];

/// The bytes of one input, as a list of documents to decode.
fn input(which: &str) -> Res<Vec<Vec<u8>>> {
    Ok(match which {
        "list" => vec![mock::container_list(5_000).to_vec()],
        "progress" => {
            let (block, blocks) = mock::progress_layout(100_000);
            let mut out = Vec::new();
            for _ in 0..blocks {
                for line in block.split(|&b| b == b'\n') {
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    if !line.is_empty() {
                        out.push(line.to_vec());
                    }
                }
            }
            out
        }
        "inspect" => {
            vec![include_bytes!("../fixtures/container-inspect.json").to_vec(); 100]
        }
        _ => return Err(format!("decode: unknown input {which:?}").into()),
    })
}

/// Decodes every document as `T`; the functions callgrind counts. `dh_`:
/// dockhand's library path (what the client does with a response body, or
/// a stream with each message: `dockhand::bench_support`); `ds_`: dockhand's
/// models through `serde_json::from_slice`; `bo_`: bollard's models (which
/// is what bollard does); `va_`: `serde_json::Value`.
#[inline(never)]
fn dh_decode_count_list(docs: &[Vec<u8>]) -> Res<()> {
    for d in docs {
        let v: Vec<dockhand::models::ContainerSummary> = dockhand::bench_support::decode_json(d)?;
        drop(black_box(v));
    }
    Ok(())
}
#[inline(never)]
fn dh_decode_count_progress(docs: &[Vec<u8>]) -> Res<()> {
    for d in docs {
        let v = dockhand::bench_support::decode_progress_message(d)?;
        drop(black_box(v));
    }
    Ok(())
}
#[inline(never)]
fn dh_decode_count_inspect(docs: &[Vec<u8>]) -> Res<()> {
    for d in docs {
        let v: dockhand::models::ContainerInspectResponse =
            dockhand::bench_support::decode_json(d)?;
        drop(black_box(v));
    }
    Ok(())
}
#[inline(never)]
fn ds_decode_count_list(docs: &[Vec<u8>]) -> Res<()> {
    decode_all::<Vec<dockhand::models::ContainerSummary>>(docs)
}
#[inline(never)]
fn ds_decode_count_progress(docs: &[Vec<u8>]) -> Res<()> {
    decode_all::<dockhand::models::CreateImageInfo>(docs)
}
#[inline(never)]
fn ds_decode_count_inspect(docs: &[Vec<u8>]) -> Res<()> {
    decode_all::<dockhand::models::ContainerInspectResponse>(docs)
}
#[inline(never)]
fn bo_decode_count_list(docs: &[Vec<u8>]) -> Res<()> {
    decode_all::<Vec<bollard::models::ContainerSummary>>(docs)
}
#[inline(never)]
fn bo_decode_count_progress(docs: &[Vec<u8>]) -> Res<()> {
    decode_all::<bollard::models::CreateImageInfo>(docs)
}
#[inline(never)]
fn bo_decode_count_inspect(docs: &[Vec<u8>]) -> Res<()> {
    decode_all::<bollard::models::ContainerInspectResponse>(docs)
}
#[inline(never)]
fn va_decode_count_any(docs: &[Vec<u8>]) -> Res<()> {
    decode_all::<serde_json::Value>(docs)
}

fn decode_all<T: serde::de::DeserializeOwned>(docs: &[Vec<u8>]) -> Res<()> {
    for d in docs {
        let v: T = serde_json::from_slice(d)?;
        drop(black_box(v));
    }
    Ok(())
}

#[inline(never)]
fn fl_jiter_progress(docs: &[Vec<u8>]) -> Res<()> {
    for d in docs {
        let v = jiter_progress(d).map_err(|e| format!("jiter: {e:?}"))?;
        drop(black_box(v));
    }
    Ok(())
}
#[inline(never)]
fn fl_simd_progress(docs: &mut [Vec<u8>]) -> Res<()> {
    let mut buffers = simd_json::Buffers::new(512);
    for d in docs {
        let v: dockhand::models::CreateImageInfo =
            simd_json::serde::from_slice_with_buffers(d, &mut buffers)?;
        drop(black_box(v));
    }
    Ok(())
}
#[inline(never)]
fn fl_tape_progress(docs: &mut [Vec<u8>]) -> Res<()> {
    let mut buffers = simd_json::Buffers::new(512);
    for d in docs {
        let tape = simd_json::Deserializer::from_slice_with_buffers(d, &mut buffers)?;
        drop(black_box(tape));
    }
    Ok(())
}

/// One progress message through `jiter`'s iterator, field by field (the
/// floor row: what a faster scanner alone would give).
fn jiter_progress(d: &[u8]) -> jiter::JiterResult<dockhand::models::CreateImageInfo> {
    fn string(j: &mut jiter::Jiter) -> jiter::JiterResult<Option<String>> {
        Ok(match j.peek()? {
            jiter::Peek::Null => {
                j.known_null()?;
                None
            }
            _ => Some(j.next_str()?.to_owned()),
        })
    }
    fn int(j: &mut jiter::Jiter) -> jiter::JiterResult<Option<i64>> {
        Ok(match j.peek()? {
            jiter::Peek::Null => {
                j.known_null()?;
                None
            }
            _ => {
                // Without jiter's `num-bigint` feature an integer is an i64
                // (a larger one is an error).
                let jiter::NumberInt::Int(i) = j.next_int()?;
                Some(i)
            }
        })
    }
    let mut j = jiter::Jiter::new(d);
    let mut v = dockhand::models::CreateImageInfo::default();
    let mut key = j.next_object()?;
    while let Some(k) = key {
        match k {
            "id" => v.id = string(&mut j)?,
            "status" => v.status = string(&mut j)?,
            "progress" => v.progress = string(&mut j)?,
            "error" => v.error = string(&mut j)?,
            "progressDetail" => {
                let mut p = dockhand::models::ProgressDetail::default();
                let mut key = j.next_object()?;
                while let Some(k) = key {
                    match k {
                        "current" => p.current = int(&mut j)?,
                        "total" => p.total = int(&mut j)?,
                        _ => j.next_skip()?,
                    }
                    key = j.next_key()?;
                }
                v.progress_detail = Some(p);
            }
            _ => j.next_skip()?,
        }
        key = j.next_key()?;
    }
    j.finish()?;
    Ok(v)
}

/// `decode-one LIB INPUT`.
pub fn one(args: &[String]) -> Res<()> {
    let lib = args.first().ok_or("decode-one: which library?")?;
    let which = args.get(1).ok_or("decode-one: which input?")?;
    let mut docs = input(which)?;
    match (lib.as_str(), which.as_str()) {
        ("simd", "progress") => return fl_simd_progress(black_box(&mut docs)),
        ("tape", "progress") => return fl_tape_progress(black_box(&mut docs)),
        _ => {}
    }
    let docs = black_box(&docs);
    match (lib.as_str(), which.as_str()) {
        ("jiter", "progress") => fl_jiter_progress(docs),
        ("dockhand", "list") => dh_decode_count_list(docs),
        ("dockhand", "progress") => dh_decode_count_progress(docs),
        ("dockhand", "inspect") => dh_decode_count_inspect(docs),
        ("dockhand-serde", "list") => ds_decode_count_list(docs),
        ("dockhand-serde", "progress") => ds_decode_count_progress(docs),
        ("dockhand-serde", "inspect") => ds_decode_count_inspect(docs),
        ("bollard", "list") => bo_decode_count_list(docs),
        ("bollard", "progress") => bo_decode_count_progress(docs),
        ("bollard", "inspect") => bo_decode_count_inspect(docs),
        ("value", _) => va_decode_count_any(docs),
        _ => Err(format!("decode-one: unknown library {lib:?}").into()),
    }
}

/// The instructions callgrind counted inside the decode function.
fn count(lib: &str, which: &str, out_dir: &std::path::Path) -> Res<u64> {
    let exe = std::env::current_exe()?;
    let file = out_dir.join(format!("callgrind.{lib}.{which}.out"));
    let toggle = match lib {
        "dockhand" => format!("*dh_decode_count_{which}"),
        "dockhand-serde" => format!("*ds_decode_count_{which}"),
        "bollard" => format!("*bo_decode_count_{which}"),
        "value" => "*va_decode_count_any".to_owned(),
        floor => format!("*fl_{floor}_{which}"),
    };
    let status = std::process::Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg(format!("--toggle-collect={toggle}"))
        .arg(&exe)
        .args(["decode-one", lib, which])
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run valgrind (is it installed?): {e}"))?;
    if !status.success() {
        return Err(format!("valgrind {lib} {which}: {status}").into());
    }
    let text = std::fs::read_to_string(&file)?;
    let totals = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .ok_or_else(|| format!("{}: no totals line", file.display()))?;
    let n: u64 = totals.split_whitespace().next().unwrap_or("").parse()?;
    if n == 0 {
        return Err(format!("{lib} {which}: callgrind counted nothing (symbol renamed?)").into());
    }
    Ok(n)
}

fn millions(n: u64) -> String {
    let m = n as f64 / 1e6;
    if m >= 100.0 {
        format!("{m:.0} M")
    } else {
        format!("{m:.1} M")
    }
}

/// `decode-count [DIR]`: the table (callgrind outputs kept in DIR, default a
/// temp dir, for `callgrind_annotate`).
pub fn count_table(args: &[String]) -> Res<()> {
    let dir = match args.first() {
        Some(d) => std::path::PathBuf::from(d),
        None => std::env::temp_dir().join(format!("dockhand-decode-{}", std::process::id())),
    };
    std::fs::create_dir_all(&dir)?;
    println!(
        "| input | bytes | dockhand (library path) | dockhand (serde_json::from_slice) | bollard 0.21 | serde_json::Value | library path / bollard | serde_json path / bollard |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (which, label) in INPUTS {
        let bytes: usize = input(which)?.iter().map(Vec::len).sum();
        let mut n = [0u64; 4];
        for (i, lib) in LIBS.iter().enumerate() {
            n[i] = count(lib, which, &dir)?;
        }
        println!(
            "| {label} | {:.1} MB | {} | {} | {} | {} | {:.2} | {:.2} |",
            bytes as f64 / 1e6,
            millions(n[0]),
            millions(n[1]),
            millions(n[2]),
            millions(n[3]),
            n[0] as f64 / n[2] as f64,
            n[1] as f64 / n[2] as f64
        );
    }
    // The floors, against bollard's count on the same messages.
    let bollard = count("bollard", "progress", &dir)?;
    println!();
    println!("| floor on the 100,000 progress messages | instructions | / bollard |");
    println!("|---|---:|---:|");
    for (lib, label) in FLOORS {
        let n = count(lib, "progress", &dir)?;
        println!(
            "| {label} | {} | {:.2} |",
            millions(n),
            n as f64 / bollard as f64
        );
    }
    eprintln!("callgrind outputs: {}", dir.display());
    Ok(())
}
