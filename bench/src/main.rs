//! Side-by-side benchmarks of dockhand, bollard and the ceiling (raw hyper on
//! kept-alive connections, raw socket reads for byte throughput), on a local
//! mock daemon and on the real daemon. Run through `scripts/bench.sh`.
//!
//! ```text
//! dockhand-bench [run] [--quick] [--no-real] [--only NAME,NAME]   (NAME: ping inspect list
//!                  concurrent logs16k logs64 progress rss real tls ssh)
//! dockhand-bench mock SOCKET LOG_BYTES PROGRESS_MSGS EXPORT_BYTES LIST_N
//! dockhand-bench rss dockhand|bollard|ceiling SOCKET
//! ```
//! `DOCKHAND_BENCH_QUICK=1` is `--quick` (smaller sizes, for trying things);
//! the default run uses the sizes of issue 6.

mod decode;
mod mock;
mod peers;
mod real;

use futures::StreamExt;
use peers::{BoxError, Raw, Res};
use std::time::{Duration, Instant};

/// The sizes of one run.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub seq: usize,
    pub list_n: usize,
    pub list_reps: usize,
    pub conc_tasks: usize,
    pub conc_each: usize,
    pub log_bytes: u64,
    pub progress_msgs: u64,
    pub export_bytes: u64,
    pub real_inspects: usize,
    pub real_log_bytes: u64,
    pub real_lines: u64,
    pub reps: usize,
}

impl Sizes {
    fn full() -> Self {
        Sizes {
            seq: 10_000,
            list_n: 5_000,
            list_reps: 20,
            conc_tasks: 100,
            conc_each: 100,
            log_bytes: 1 << 30,
            progress_msgs: 1_000_000,
            export_bytes: 1 << 30,
            real_inspects: 1_000,
            real_log_bytes: 256 << 20,
            real_lines: 200_000,
            reps: 3,
        }
    }

    fn quick() -> Self {
        Sizes {
            seq: 1_000,
            list_n: 5_000,
            list_reps: 5,
            conc_tasks: 20,
            conc_each: 20,
            log_bytes: 64 << 20,
            progress_msgs: 100_000,
            export_bytes: 64 << 20,
            real_inspects: 200,
            real_log_bytes: 16 << 20,
            real_lines: 20_000,
            reps: 1,
        }
    }
}

/// Which way is better for a unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Better {
    Lower,
    Higher,
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub scenario: String,
    pub unit: &'static str,
    pub better: Better,
    pub dockhand: f64,
    pub bollard: f64,
    pub ceiling: f64,
    pub ceiling_is: &'static str,
    pub notes: String,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    v[v.len() / 2]
}

fn fmt_num(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn print_table(rows: &[Row]) {
    println!("| scenario | unit | dockhand | bollard | ceiling | dockhand/bollard | dockhand/ceiling | ceiling is · notes |");
    println!("|---|---|---:|---:|---:|---:|---:|---|");
    for r in rows {
        let better = match r.better {
            Better::Lower => "lower is better",
            Better::Higher => "higher is better",
        };
        println!(
            "| {} | {} ({}) | {} | {} | {} | {:.2} | {:.2} | {}{}{} |",
            r.scenario,
            r.unit,
            better,
            fmt_num(r.dockhand),
            fmt_num(r.bollard),
            fmt_num(r.ceiling),
            r.dockhand / r.bollard,
            r.dockhand / r.ceiling,
            r.ceiling_is,
            if r.notes.is_empty() { "" } else { " · " },
            r.notes
        );
    }
}

/// Times three async blocks (dockhand, bollard, ceiling) `reps` times each,
/// interleaved (d b c d b c …) so that drift in the machine's load hits all
/// three alike; the median of each.
#[macro_export]
macro_rules! trio {
    ($reps:expr, $d:expr, $b:expr, $c:expr) => {
        async {
            let (mut d, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..($reps).max(1) {
                let t = std::time::Instant::now();
                let r: $crate::peers::Res<()> = $d.await;
                r?;
                d.push(t.elapsed().as_secs_f64());
                let t = std::time::Instant::now();
                let r: $crate::peers::Res<()> = $b.await;
                r?;
                b.push(t.elapsed().as_secs_f64());
                let t = std::time::Instant::now();
                let r: $crate::peers::Res<()> = $c.await;
                r?;
                c.push(t.elapsed().as_secs_f64());
            }
            let m = |v| std::time::Duration::from_secs_f64($crate::median(v));
            Ok::<_, $crate::peers::BoxError>((m(d), m(b), m(c)))
        }
    };
}

fn us_per(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n as f64
}

fn mib_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / d.as_secs_f64()
}

const ID: &str = "ae40a0e53a98";

type InspectT = dockhand::models::ContainerInspectResponse;
type ListT = Vec<dockhand::models::ContainerSummary>;

/// Scenarios 1–5 on the mock daemon.
async fn mock_scenarios(socket: &str, s: Sizes, only: &dyn Fn(&str) -> bool) -> Res<Vec<Row>> {
    let mut rows = Vec::new();
    let dh = peers::dockhand(socket)?;
    let bo = peers::bollard(socket, (1, 41))?;
    let mut raw = Raw::connect(socket).await?;
    // Warm up: negotiation, first connections.
    dh.system().ping().await?;
    bo.ping().await?;
    raw.get_bytes("/_ping").await?;
    let inspect_uri = format!("/v1.41/containers/{ID}/json");

    if only("ping") {
        let n = s.seq;
        let (d, b, c) = trio!(
            s.reps,
            async {
                for _ in 0..n {
                    dh.system().ping().await?;
                }
                Ok(())
            },
            async {
                for _ in 0..n {
                    bo.ping().await?;
                }
                Ok(())
            },
            async {
                for _ in 0..n {
                    raw.get_bytes("/_ping").await?;
                }
                Ok(())
            }
        )
        .await?;
        rows.push(Row {
            scenario: format!("mock: {n} sequential GET /_ping"),
            unit: "µs/request",
            better: Better::Lower,
            dockhand: us_per(d, n),
            bollard: us_per(b, n),
            ceiling: us_per(c, n),
            ceiling_is: "raw hyper, one kept-alive connection",
            notes: String::new(),
        });
    }

    if only("inspect") {
        let n = s.seq;
        let (d, b, c) = trio!(
            s.reps,
            async {
                for _ in 0..n {
                    let c = dh.containers().inspect(ID, &Default::default()).await?;
                    std::hint::black_box(c);
                }
                Ok(())
            },
            async {
                for _ in 0..n {
                    let c = bo
                        .inspect_container(
                            ID,
                            None::<bollard::query_parameters::InspectContainerOptions>,
                        )
                        .await?;
                    std::hint::black_box(c);
                }
                Ok(())
            },
            async {
                for _ in 0..n {
                    let c: InspectT = raw.get_json(&inspect_uri).await?;
                    std::hint::black_box(c);
                }
                Ok(())
            }
        )
        .await?;
        rows.push(Row {
            scenario: format!("mock: {n} sequential container inspects (typed)"),
            unit: "µs/request",
            better: Better::Lower,
            dockhand: us_per(d, n),
            bollard: us_per(b, n),
            ceiling: us_per(c, n),
            ceiling_is: "raw hyper + serde_json into dockhand's type",
            notes: "4.7 KB answer of dockerd 20.10".into(),
        });
    }

    if only("list") {
        let reps = s.list_reps;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let opts = dockhand::operations::ContainerListOptions::default().all(true);
        let mut d = Vec::new();
        let mut b = Vec::new();
        let mut c = Vec::new();
        let mut cb = Vec::new();
        let mut count = 0;
        for _ in 0..reps {
            let t = Instant::now();
            let l = dh.containers().list(&opts).await?;
            d.push(ms(t.elapsed()));
            count = l.len();
            drop(l); // each result freed before the next client runs
            let t = Instant::now();
            let l = bo
                .list_containers(Some(
                    bollard::query_parameters::ListContainersOptionsBuilder::default()
                        .all(true)
                        .build(),
                ))
                .await?;
            b.push(ms(t.elapsed()));
            assert_eq!(l.len(), count);
            drop(l);
            let t = Instant::now();
            let l: ListT = raw.get_json("/v1.41/containers/json?all=1").await?;
            c.push(ms(t.elapsed()));
            assert_eq!(l.len(), count);
            drop(l);
            let t = Instant::now();
            let l: Vec<bollard::models::ContainerSummary> =
                raw.get_json("/v1.41/containers/json?all=1").await?;
            cb.push(ms(t.elapsed()));
            assert_eq!(l.len(), count);
            drop(l);
        }
        rows.push(Row {
            scenario: format!(
                "mock: GET /containers/json, {count} containers ({:.1} MB), median of {reps}",
                mock::container_list(s.list_n).len() as f64 / 1e6
            ),
            unit: "ms/call",
            better: Better::Lower,
            dockhand: median(d),
            bollard: median(b),
            ceiling: median(c),
            ceiling_is: "raw hyper + serde_json into dockhand's type",
            notes: format!(
                "raw hyper + serde_json into bollard's type: {:.1} ms",
                median(cb)
            ),
        });
    }

    if only("concurrent") {
        let (tasks, each) = (s.conc_tasks, s.conc_each);
        let (d, b, c) = trio!(
            s.reps,
            async {
                let futs = (0..tasks).map(|_| async {
                    for _ in 0..each {
                        std::hint::black_box(
                            dh.containers().inspect(ID, &Default::default()).await?,
                        );
                    }
                    Ok::<_, BoxError>(())
                });
                for r in futures::future::join_all(futs).await {
                    r?;
                }
                Ok(())
            },
            async {
                let futs = (0..tasks).map(|_| async {
                    for _ in 0..each {
                        std::hint::black_box(
                            bo.inspect_container(
                                ID,
                                None::<bollard::query_parameters::InspectContainerOptions>,
                            )
                            .await?,
                        );
                    }
                    Ok::<_, BoxError>(())
                });
                for r in futures::future::join_all(futs).await {
                    r?;
                }
                Ok(())
            },
            async {
                let futs = (0..tasks).map(|_| async {
                    let mut raw = Raw::connect(socket).await?;
                    for _ in 0..each {
                        let c: InspectT = raw.get_json(&inspect_uri).await?;
                        std::hint::black_box(c);
                    }
                    Ok::<_, BoxError>(())
                });
                for r in futures::future::join_all(futs).await {
                    r?;
                }
                Ok(())
            }
        )
        .await?;
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        rows.push(Row {
            scenario: format!("mock: {tasks} concurrent tasks × {each} inspects"),
            unit: "ms total",
            better: Better::Lower,
            dockhand: ms(d),
            bollard: ms(b),
            ceiling: ms(c),
            ceiling_is: "raw hyper, one connection per task",
            notes: String::new(),
        });
    }

    for (id, payload) in [("f16k", 16 * 1024usize), ("f64", 64)] {
        if !only(&format!("logs{}", if payload == 64 { "64" } else { "16k" })) {
            continue;
        }
        let (block, blocks) = mock::log_layout(payload, s.log_bytes);
        let total = block.len() as u64 * blocks;
        let payload_total = total / (8 + payload as u64) * payload as u64;
        let uri = format!("/v1.41/containers/{id}/logs?stdout=1&stderr=1");
        let once = s.reps.min(if payload == 64 { 1 } else { 3 }).max(1);
        let (d, b, c) = trio!(
            once,
            async {
                let n = peers::dockhand_logs(&dh, id).await?;
                check(n, payload_total, "dockhand logs")
            },
            async {
                let n = peers::bollard_logs(&bo, id).await?;
                check(n, payload_total, "bollard logs")
            },
            async {
                let n = peers::raw_socket_read(socket, &uri).await?;
                if n < total {
                    return Err(format!("raw read {n} < {total}").into());
                }
                Ok(())
            }
        )
        .await?;
        rows.push(Row {
            scenario: format!(
                "mock: logs, {:.0} MiB of stdcopy frames of {} bytes, demuxed and discarded",
                total as f64 / (1 << 20) as f64,
                payload
            ),
            unit: "MiB/s",
            better: Better::Higher,
            dockhand: mib_per_s(total, d),
            bollard: mib_per_s(total, b),
            ceiling: mib_per_s(total, c),
            ceiling_is: "raw read of the same response from the socket",
            notes: format!("{} frames", total / (8 + payload as u64)),
        });
    }

    if only("progress") {
        let (block, blocks) = mock::progress_layout(s.progress_msgs);
        let msgs = blocks * block.iter().filter(|&&b| b == b'\n').count() as u64;
        let rate = |d: Duration| msgs as f64 / d.as_secs_f64();
        let once = s.reps.clamp(1, 2);
        let (d, b, c) = trio!(
            once,
            async {
                let opts = dockhand::operations::ImageCreateOptions::default().anonymous();
                let mut st = dh.images().pull("localhost:5000/app:1", &opts).await?;
                let mut n = 0u64;
                while let Some(m) = st.next().await {
                    std::hint::black_box(m?);
                    n += 1;
                }
                check(n, msgs, "dockhand progress")
            },
            async {
                let opts = bollard::query_parameters::CreateImageOptionsBuilder::default()
                    .from_image("localhost:5000/app")
                    .tag("1")
                    .build();
                let mut st = bo.create_image(Some(opts), None, None);
                let mut n = 0u64;
                while let Some(m) = st.next().await {
                    std::hint::black_box(m?);
                    n += 1;
                }
                check(n, msgs, "bollard progress")
            },
            async {
                let n = raw_progress(&mut raw).await?;
                check(n, msgs, "raw progress")
            }
        )
        .await?;
        rows.push(Row {
            scenario: format!(
                "mock: pull progress, {msgs} JSON messages ({:.0} MB) decoded",
                (block.len() as u64 * blocks) as f64 / 1e6
            ),
            unit: "messages/s",
            better: Better::Higher,
            dockhand: rate(d),
            bollard: rate(b),
            ceiling: rate(c),
            ceiling_is: "raw hyper + line split + serde_json into dockhand's type",
            notes: String::new(),
        });
    }
    Ok(rows)
}

fn check(got: u64, want: u64, what: &str) -> Res<()> {
    if got != want {
        return Err(format!("{what}: got {got}, expected {want}").into());
    }
    Ok(())
}

/// The ceiling for a JSON message stream: raw hyper, split at newlines,
/// serde_json straight into dockhand's type.
async fn raw_progress(raw: &mut Raw) -> Res<u64> {
    let mut body = raw
        .send(
            http::Method::POST,
            "/v1.41/images/create?fromImage=localhost%3A5000%2Fapp&tag=1",
        )
        .await?
        .into_body();
    let mut pending: Vec<u8> = Vec::new();
    let mut n = 0u64;
    let mut decode = |line: &[u8]| -> Res<()> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let m: dockhand::models::CreateImageInfo = serde_json::from_slice(line)?;
        std::hint::black_box(m);
        n += 1;
        Ok(())
    };
    use http_body_util::BodyExt;
    while let Some(f) = body.frame().await {
        let Ok(data) = f?.into_data() else { continue };
        let mut rest = &data[..];
        if !pending.is_empty() {
            match memchr::memchr(b'\n', rest) {
                Some(i) => {
                    pending.extend_from_slice(&rest[..=i]);
                    decode(&pending)?;
                    pending.clear();
                    rest = &rest[i + 1..];
                }
                None => {
                    pending.extend_from_slice(rest);
                    continue;
                }
            }
        }
        while let Some(i) = memchr::memchr(b'\n', rest) {
            decode(&rest[..=i])?;
            rest = &rest[i + 1..];
        }
        pending.extend_from_slice(rest);
    }
    decode(&pending)?;
    Ok(n)
}

/// Scenario 6: one process per client streams the export to /dev/null; the
/// parent reads what each reports.
fn rss_rows(exe: &std::path::Path, socket: &str, s: Sizes) -> Res<Vec<Row>> {
    let mut peak = Vec::new();
    let mut base = Vec::new();
    for client in ["dockhand", "bollard", "ceiling"] {
        let out = std::process::Command::new(exe)
            .args(["rss", client, socket])
            .output()?;
        if !out.status.success() {
            return Err(format!("rss {client}: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        let text = String::from_utf8(out.stdout)?;
        let nums: Vec<u64> = text
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        let want = export_bytes(s);
        if nums[2] != want && !(client == "ceiling" && nums[2] > want) {
            return Err(format!("rss {client}: read {} bytes, expected {want}", nums[2]).into());
        }
        peak.push(nums[0] as f64 / 1024.0);
        base.push(nums[1] as f64 / 1024.0);
    }
    Ok(vec![Row {
        scenario: format!(
            "mock: peak RSS streaming a {:.0} MiB export to /dev/null (own process each)",
            s.export_bytes as f64 / (1 << 20) as f64
        ),
        unit: "MiB VmHWM",
        better: Better::Lower,
        dockhand: peak[0],
        bollard: peak[1],
        ceiling: peak[2],
        ceiling_is: "raw socket read, 256 KiB buffer",
        notes: format!(
            "RSS before the request: {:.1} / {:.1} / {:.1} MiB",
            base[0], base[1], base[2]
        ),
    }])
}

fn proc_status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The `rss` subcommand: stream the export to /dev/null, print
/// `VmHWM_kB VmRSS_before_kB bytes`.
fn rss_child(client: &str, socket: &str) -> Res<()> {
    use std::io::Write;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut null = std::fs::File::create("/dev/null")?;
    let before = proc_status_kb("VmRSS:");
    let n = rt.block_on(async {
        let mut n = 0u64;
        match client {
            "dockhand" => {
                let d = peers::dockhand(socket)?;
                let mut st = d.containers().export(ID).await?;
                while let Some(c) = st.next().await {
                    let c = c?;
                    null.write_all(&c)?;
                    n += c.len() as u64;
                }
            }
            "bollard" => {
                let b = peers::bollard(socket, (1, 41))?;
                let mut st = b.export_container(ID);
                while let Some(c) = st.next().await {
                    let c = c?;
                    null.write_all(&c)?;
                    n += c.len() as u64;
                }
            }
            _ => {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut s = tokio::net::UnixStream::connect(socket).await?;
                s.write_all(
                    format!("GET /v1.41/containers/{ID}/export HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: close\r\n\r\n").as_bytes(),
                )
                .await?;
                let mut buf = vec![0u8; 256 * 1024];
                let mut raw = 0u64;
                loop {
                    let r = s.read(&mut buf).await?;
                    if r == 0 {
                        break;
                    }
                    null.write_all(&buf[..r])?;
                    raw += r as u64;
                }
                // Bytes read include headers and chunk framing (a few KiB).
                n = raw;
            }
        }
        Ok::<_, BoxError>(n)
    })?;
    println!("{} {} {}", proc_status_kb("VmHWM:"), before, n);
    Ok(())
}

fn main() {
    if let Err(e) = real_main() {
        let mut text = e.to_string();
        let mut src = e.source();
        while let Some(s) = src {
            text.push_str(&format!(": {s}"));
            src = s.source();
        }
        eprintln!("dockhand-bench: {text}");
        std::process::exit(1);
    }
}

fn real_main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("mock") => {
            let num = |i: usize| -> Res<u64> {
                Ok(args.get(i).ok_or("mock: missing argument")?.parse()?)
            };
            let sizes = mock::MockSizes {
                log_bytes: num(2)?,
                progress_msgs: num(3)?,
                export_bytes: num(4)?,
                list_n: num(5)? as usize,
            };
            mock::serve(&args[1], sizes)?;
            Ok(())
        }
        Some("profile") => profile(&args[1..]),
        Some("decode-count") => decode::count_table(&args[1..]),
        Some("decode-one") => decode::one(&args[1..]),
        Some("rss") => rss_child(
            args.get(1).ok_or("rss: which client?")?,
            args.get(2).ok_or("rss: socket?")?,
        ),
        _ => run(&args),
    }
}

fn run(args: &[String]) -> Res<()> {
    let quick = args.iter().any(|a| a == "--quick")
        || std::env::var("DOCKHAND_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let no_real = args.iter().any(|a| a == "--no-real");
    let no_mock = args.iter().any(|a| a == "--no-mock");
    let only_list: Option<Vec<String>> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.split(',').map(str::to_owned).collect());
    let only = |name: &str| {
        only_list
            .as_ref()
            .is_none_or(|l| l.iter().any(|x| x == name))
    };
    let sizes = if quick { Sizes::quick() } else { Sizes::full() };
    eprintln!("sizes: {sizes:?}");

    let mut rows = Vec::new();
    if !no_mock {
        let dir = std::env::temp_dir().join(format!("dockhand-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let socket = dir.join("mock.sock");
        let socket_s = socket.to_str().ok_or("temp dir is not UTF-8")?.to_owned();
        let exe = std::env::current_exe()?;
        let mut child = std::process::Command::new(&exe)
            .args([
                "mock".to_owned(),
                socket_s.clone(),
                sizes.log_bytes.to_string(),
                sizes.progress_msgs.to_string(),
                sizes.export_bytes.to_string(),
                sizes.list_n.to_string(),
            ])
            .spawn()?;
        let started = Instant::now();
        while !socket.exists() {
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                return Err("mock daemon did not start".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let result = (|| -> Res<Vec<Row>> {
            let rt = runtime()?;
            let mut rows = rt.block_on(mock_scenarios(&socket_s, sizes, &only))?;
            drop(rt);
            if only("rss") {
                rows.extend(rss_rows(&exe, &socket_s, sizes)?);
            }
            Ok(rows)
        })();
        let _ = child.kill();
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(&dir);
        rows.extend(result?);
        eprintln!("mock scenarios done");
    }
    if !no_real && only("real") {
        let rt = runtime()?;
        rows.extend(rt.block_on(real::scenarios(sizes))?);
    }
    if !no_real && (only("tls") || only("ssh")) {
        let rt = runtime()?;
        rows.extend(rt.block_on(real::remote_scenarios(sizes, &only))?);
    }
    print_table(&rows);
    Ok(())
}

/// `profile WHAT N [peer]`: run one dockhand scenario N times against a mock
/// (for perf/callgrind); `peer` bollard or ceiling runs that client instead.
/// `profile remote-logs N tls|ssh|unix CONTAINER [bollard]`: dockhand (or
/// bollard, over TLS or ssh) reads the logs of a container of the real daemon
/// N times over TLS, ssh or the Unix socket;
/// `profile remote-first N tls|ssh|unix CONTAINER`: N `logs` calls, the mean
/// time to the first line.
fn profile(args: &[String]) -> Res<()> {
    let what = args.first().ok_or("profile: what?")?.clone();
    if what == "remote-first" {
        let n: usize = args.get(1).ok_or("profile: N?")?.parse()?;
        let transport = args.get(2).ok_or("profile: tls, ssh or unix?")?.clone();
        let id = args.get(3).ok_or("profile: container?")?.clone();
        return runtime()?.block_on(async {
            let dh = real::remote_dockhand(&transport)?;
            real::dockhand_first_lines(&dh, &id, 2).await?;
            let first = real::dockhand_first_lines(&dh, &id, n).await?;
            eprintln!("{what} × {n} ({transport}): {first:?} to the first line");
            Ok(())
        });
    }
    if what == "remote-logs" {
        let n: usize = args.get(1).ok_or("profile: N?")?.parse()?;
        let transport = args.get(2).ok_or("profile: tls or ssh?")?.clone();
        let id = args.get(3).ok_or("profile: container?")?.clone();
        let bollard = args.get(4).is_some_and(|p| p == "bollard");
        return runtime()?.block_on(async {
            let t = Instant::now();
            if bollard {
                let bo = real::remote_bollard(&transport)?;
                for _ in 0..n {
                    peers::bollard_logs(&bo, &id).await?;
                }
            } else {
                let dh = real::remote_dockhand(&transport)?;
                for _ in 0..n {
                    peers::dockhand_logs(&dh, &id).await?;
                }
            }
            eprintln!("{what} × {n} ({transport}): {:?}", t.elapsed());
            Ok(())
        });
    }
    let n: usize = args
        .get(1)
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(10_000);
    let peer = args.get(2).cloned().unwrap_or_else(|| "dockhand".into());
    let dir = std::env::temp_dir().join(format!("dockhand-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let socket = dir.join("mock.sock").to_str().ok_or("utf-8")?.to_owned();
    let sizes = mock::MockSizes {
        log_bytes: 256 << 20,
        progress_msgs: 200_000,
        export_bytes: 256 << 20,
        list_n: 5_000,
    };
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .args([
            "mock".to_owned(),
            socket.clone(),
            sizes.log_bytes.to_string(),
            sizes.progress_msgs.to_string(),
            sizes.export_bytes.to_string(),
            sizes.list_n.to_string(),
        ])
        .spawn()?;
    while !std::path::Path::new(&socket).exists() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let rt = runtime()?;
    let r = rt.block_on(async {
        let dh = peers::dockhand(&socket)?;
        let bo = peers::bollard(&socket, (1, 41))?;
        let mut raw = Raw::connect(&socket).await?;
        dh.system().ping().await?;
        let t = Instant::now();
        for _ in 0..n {
            match (what.as_str(), peer.as_str()) {
                ("ping", "dockhand") => drop(dh.system().ping().await?),
                ("ping", "bollard") => drop(bo.ping().await?),
                ("ping", _) => drop(raw.get_bytes("/_ping").await?),
                ("inspect", "dockhand") => {
                    drop(dh.containers().inspect(ID, &Default::default()).await?)
                }
                ("inspect", "bollard") => drop(
                    bo.inspect_container(
                        ID,
                        None::<bollard::query_parameters::InspectContainerOptions>,
                    )
                    .await?,
                ),
                ("inspect", _) => drop(raw.get_json::<InspectT>("/v1.41/containers/x/json").await?),
                ("list", "dockhand") => drop(
                    dh.containers()
                        .list(&dockhand::operations::ContainerListOptions::default().all(true))
                        .await?,
                ),
                ("list", "bollard") => drop(
                    bo.list_containers(None::<bollard::query_parameters::ListContainersOptions>)
                        .await?,
                ),
                ("list", _) => drop(raw.get_json::<ListT>("/v1.41/containers/json").await?),
                ("logs16k" | "logs64", "dockhand") => drop(
                    peers::dockhand_logs(&dh, if what == "logs64" { "f64" } else { "f16k" })
                        .await?,
                ),
                ("logs16k" | "logs64", "bollard") => drop(
                    peers::bollard_logs(&bo, if what == "logs64" { "f64" } else { "f16k" }).await?,
                ),
                ("logs16k" | "logs64", _) => drop(
                    peers::raw_socket_read(
                        &socket,
                        if what == "logs64" {
                            "/v1.41/containers/f64/logs"
                        } else {
                            "/v1.41/containers/f16k/logs"
                        },
                    )
                    .await?,
                ),
                ("progress", "dockhand") => {
                    let opts = dockhand::operations::ImageCreateOptions::default().anonymous();
                    let mut st = dh.images().pull("a", &opts).await?;
                    while let Some(m) = st.next().await {
                        std::hint::black_box(m?);
                    }
                }
                ("progress", _) => drop(raw_progress(&mut raw).await?),
                _ => return Err("profile: unknown scenario".into()),
            }
        }
        eprintln!("{what} × {n} ({peer}): {:?}", t.elapsed());
        Ok::<_, BoxError>(())
    });
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// The runtime the clients run on: tokio's multi-thread runtime with a
/// worker per core (what `#[tokio::main]` gives), or with
/// `DOCKHAND_BENCH_RUNTIME=current-thread` a single-threaded one.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    match std::env::var("DOCKHAND_BENCH_RUNTIME").as_deref() {
        Ok("current-thread") => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        _ => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build(),
    }
}

/// The export's body size as the mock sends it.
fn export_bytes(s: Sizes) -> u64 {
    let (block, blocks) = mock::export_layout(s.export_bytes);
    block.len() as u64 * blocks
}
