//! Scenario 7, on the real daemon: sequential inspects, and `docker logs` of
//! a container that wrote 256 MiB and of one that printed 200,000 short
//! lines; curl and the docker CLI as further peers.

use crate::peers::{self, Raw, Res};
use crate::{median, trio, us_per, Better, Row, Sizes};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const IMAGE: &str = "dockhand-test/busybox:latest";

fn socket() -> String {
    match std::env::var("DOCKER_HOST") {
        Ok(h) if h.starts_with("unix://") => h["unix://".len()..].to_owned(),
        _ => "/var/run/docker.sock".to_owned(),
    }
}

fn docker(args: &[&str]) -> Res<String> {
    let out = Command::new("docker").args(args).output()?;
    if !out.status.success() {
        return Err(format!(
            "docker {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A stopped container that ran `script` to completion; reused between runs.
fn ensure_container(name: &str, script: &str) -> Res<()> {
    let state = docker(&[
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.ExitCode}}",
        name,
    ]);
    match state.as_deref() {
        Ok("exited 0") => return Ok(()),
        Ok(_) => {
            docker(&["rm", "-f", name])?;
        }
        Err(_) => {}
    }
    eprintln!("creating {name} …");
    docker(&[
        "run",
        "-d",
        "--name",
        name,
        "--label",
        "dockhand-bench=1",
        IMAGE,
        "sh",
        "-c",
        script,
    ])?;
    let code = docker(&["wait", name])?;
    if code != "0" {
        return Err(format!("{name} exited with {code}").into());
    }
    Ok(())
}

/// Times an external command whose output goes to /dev/null.
fn time_command(program: &str, args: &[&str]) -> Res<Duration> {
    let t = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    let d = t.elapsed();
    if !status.success() {
        return Err(format!("{program} {}: {status}", args.join(" ")).into());
    }
    Ok(d)
}

pub async fn scenarios(s: Sizes) -> Res<Vec<Row>> {
    let sock = socket();
    let mut rows = Vec::new();
    let lines = format!("dockhand-bench-lines-{}", s.real_lines);
    let bytes = format!("dockhand-bench-bytes-{}", s.real_log_bytes);
    ensure_container(
        &lines,
        &format!(
            "yes 'line of benchmark output: the quick brown fox jumps' | head -n {}",
            s.real_lines
        ),
    )?;
    ensure_container(
        &bytes,
        &format!(
            "yes $(head -c 1023 /dev/zero | tr '\\0' x) | head -c {}",
            s.real_log_bytes
        ),
    )?;

    let dh = peers::dockhand(&sock)?;
    let bo = peers::bollard(&sock, (1, 41))?;
    let mut raw = Raw::connect(&sock).await?;
    dh.system().ping().await?;
    bo.ping().await?;
    raw.get_bytes("/_ping").await?;

    // Inspects.
    let n = s.real_inspects;
    let uri = format!("/v1.41/containers/{lines}/json");
    let (d, b, c) = trio!(
        s.reps,
        async {
            for _ in 0..n {
                std::hint::black_box(dh.containers().inspect(&lines, &Default::default()).await?);
            }
            Ok(())
        },
        async {
            for _ in 0..n {
                std::hint::black_box(
                    bo.inspect_container(
                        &lines,
                        None::<bollard::query_parameters::InspectContainerOptions>,
                    )
                    .await?,
                );
            }
            Ok(())
        },
        async {
            for _ in 0..n {
                let c: crate::InspectT = raw.get_json(&uri).await?;
                std::hint::black_box(c);
            }
            Ok(())
        }
    )
    .await?;
    let (p, dp, bp) = trio!(
        s.reps,
        async {
            for _ in 0..n {
                raw.get_bytes("/_ping").await?;
            }
            Ok(())
        },
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
        }
    )
    .await?;
    rows.push(Row {
        scenario: format!("real dockerd: {n} sequential GET /_ping"),
        unit: "µs/request",
        better: Better::Lower,
        dockhand: us_per(dp, n),
        bollard: us_per(bp, n),
        ceiling: us_per(p, n),
        ceiling_is: "raw hyper, one kept-alive connection",
        notes: String::new(),
    });
    rows.push(Row {
        scenario: format!("real dockerd: {n} sequential container inspects (typed)"),
        unit: "µs/request",
        better: Better::Lower,
        dockhand: us_per(d, n),
        bollard: us_per(b, n),
        ceiling: us_per(c, n),
        ceiling_is: "raw hyper + serde_json into dockhand's type",
        notes: String::new(),
    });

    // Logs.
    for (name, what) in [
        (
            &bytes,
            format!("{} MiB in 1 KiB lines", s.real_log_bytes >> 20),
        ),
        (&lines, format!("{} short lines", s.real_lines)),
    ] {
        let path = format!("/v1.41/containers/{name}/logs?stdout=1&stderr=1");
        let url = format!("http://localhost{path}");
        let (mut d, mut b, mut curl, mut cli, mut r) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut rh, mut dct, mut tr) = (Vec::new(), Vec::new(), Vec::new());
        let (mut payload, mut wire) = (0, 0);
        // Interleaved, so that drift in the machine's load hits all alike.
        for _ in 0..s.reps.max(1) {
            let t = Instant::now();
            payload = peers::dockhand_logs(&dh, name).await?;
            d.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let bollard_payload = peers::bollard_logs(&bo, name).await?;
            b.push(t.elapsed().as_secs_f64());
            if bollard_payload != payload {
                return Err(format!(
                    "logs {name}: dockhand read {payload} bytes, bollard {bollard_payload}"
                )
                .into());
            }
            curl.push(
                time_command(
                    "curl",
                    &["-sS", "--unix-socket", &sock, "-o", "/dev/null", &url],
                )?
                .as_secs_f64(),
            );
            cli.push(time_command("docker", &["logs", name])?.as_secs_f64());
            let t = Instant::now();
            wire = peers::raw_socket_read(&sock, &path).await?;
            r.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            peers::tokio_socket_read(&sock, &path).await?;
            tr.push(t.elapsed().as_secs_f64());
            // Raw hyper, its connection task spawned on this runtime.
            let t = Instant::now();
            let mut conn = Raw::connect(&sock).await?;
            let mut body = conn.send(http::Method::GET, &path).await?.into_body();
            while let Some(f) = http_body_util::BodyExt::frame(&mut body).await {
                std::hint::black_box(f?);
            }
            rh.push(t.elapsed().as_secs_f64());
            // dockhand on a current-thread runtime of its own.
            let (sock2, name2) = (sock.clone(), name.clone());
            let t = Instant::now();
            std::thread::spawn(move || -> Result<u64, String> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                rt.block_on(async {
                    let dh = peers::dockhand(&sock2).map_err(|e| e.to_string())?;
                    peers::dockhand_logs(&dh, &name2)
                        .await
                        .map_err(|e| e.to_string())
                })
            })
            .join()
            .map_err(|_| "dockhand thread panicked")??;
            dct.push(t.elapsed().as_secs_f64());
        }
        let (d, b, curl, cli, r) = (median(d), median(b), median(curl), median(cli), median(r));
        let (rh, dct, tr) = (median(rh), median(dct), median(tr));
        rows.push(Row {
            scenario: format!("real dockerd: docker logs of a container that wrote {what}"),
            unit: "s",
            better: Better::Lower,
            dockhand: d,
            bollard: b,
            ceiling: curl,
            ceiling_is: "curl --unix-socket -o /dev/null",
            notes: format!(
                "docker CLI {:.2} s, raw socket read {:.2} s (as a tokio read loop {:.2} s), raw hyper (connection task spawned) {:.2} s, dockhand on a current-thread runtime {:.2} s; {:.1} MB of output, {:.1} MB on the wire",
                cli,
                r,
                tr,
                rh,
                dct,
                payload as f64 / 1e6,
                wire as f64 / 1e6
            ),
        });
    }
    Ok(rows)
}

/// The test environment's TLS daemon and ssh host (scripts/test-env.sh).
struct Remote {
    tls_host: String,
    cert_path: String,
    ssh_host: String,
}

impl Remote {
    fn from_env() -> Remote {
        let var =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
        Remote {
            tls_host: var("DOCKHAND_TLS_HOST", "tcp://127.0.0.1:2376"),
            cert_path: var(
                "DOCKHAND_TLS_CERT_PATH",
                "/var/lib/dockhand-test-env/tls/client",
            ),
            ssh_host: var("DOCKHAND_SSH_HOST", "ssh://root@127.0.0.1:2222"),
        }
    }

    fn cert(&self, file: &str) -> String {
        format!("{}/{file}", self.cert_path)
    }

    /// The environment the docker CLI needs for `transport`.
    fn cli_env(&self, transport: &str) -> Vec<(&'static str, String)> {
        match transport {
            "tls" => vec![
                ("DOCKER_HOST", self.tls_host.clone()),
                ("DOCKER_TLS_VERIFY", "1".into()),
                ("DOCKER_CERT_PATH", self.cert_path.clone()),
            ],
            _ => vec![("DOCKER_HOST", self.ssh_host.clone())],
        }
    }

    fn dockhand(&self, transport: &str) -> Res<dockhand::Docker> {
        let vars: std::collections::HashMap<&str, String> =
            self.cli_env(transport).into_iter().collect();
        let var = move |k: &str| vars.get(k).cloned();
        let config = dockhand::config::Config::resolve(&dockhand::config::Env {
            var: &var,
            home: None,
        })?;
        Ok(dockhand::Docker::builder().config(config).build()?)
    }

    fn bollard(&self, transport: &str) -> Res<bollard::Docker> {
        let v = &bollard::ClientVersion {
            major_version: 1,
            minor_version: 41,
        };
        Ok(match transport {
            "tls" => bollard::Docker::connect_with_ssl(
                &self.tls_host,
                std::path::Path::new(&self.cert("key.pem")),
                std::path::Path::new(&self.cert("cert.pem")),
                std::path::Path::new(&self.cert("ca.pem")),
                600,
                v,
            )?,
            // See scripts/bench.sh: bollard takes no ssh port.
            _ => bollard::Docker::connect_with_ssh(
                &std::env::var("DOCKHAND_BENCH_BOLLARD_SSH_HOST")
                    .unwrap_or_else(|_| self.ssh_host.clone()),
                600,
                v,
                None,
            )?,
        })
    }
}

/// A dockhand client of the test environment's TLS daemon or ssh host
/// (`unix`: the daemon's Unix socket, for comparison).
pub fn remote_dockhand(transport: &str) -> Res<dockhand::Docker> {
    if transport == "unix" {
        return peers::dockhand(&socket());
    }
    Remote::from_env().dockhand(transport)
}

/// A bollard client of the test environment's TLS daemon or ssh host.
pub fn remote_bollard(transport: &str) -> Res<bollard::Docker> {
    Remote::from_env().bollard(transport)
}

/// Runs the docker CLI with `env`, output to /dev/null.
fn time_cli(env: &[(&'static str, String)], args: &[&str]) -> Res<Duration> {
    let t = Instant::now();
    let status = Command::new("docker")
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    let d = t.elapsed();
    if !status.success() {
        return Err(format!("docker {}: {status}", args.join(" ")).into());
    }
    Ok(d)
}

/// `n` sequential `logs` calls of container `id` through dockhand, each
/// read to its end: the mean time from the call to the first log line.
pub async fn dockhand_first_lines(d: &dockhand::Docker, id: &str, n: usize) -> Res<Duration> {
    use futures::StreamExt;
    let opts = dockhand::operations::ContainerLogsOptions::default()
        .stdout(true)
        .stderr(true);
    let mut first = Duration::ZERO;
    for _ in 0..n {
        let t = Instant::now();
        let mut s = d.containers().logs(id, &opts).await?;
        let line = s.next().await.ok_or("dockhand: no log line")??;
        first += t.elapsed();
        std::hint::black_box(line);
        while let Some(item) = s.next().await {
            item?;
        }
    }
    Ok(first / n as u32)
}

/// As [`dockhand_first_lines`], through bollard.
async fn bollard_first_lines(b: &bollard::Docker, id: &str, n: usize) -> Res<Duration> {
    use futures::StreamExt;
    let opts = bollard::query_parameters::LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .build();
    let mut first = Duration::ZERO;
    for _ in 0..n {
        let t = Instant::now();
        let mut s = b.logs(id, Some(opts.clone()));
        let line = s.next().await.ok_or("bollard: no log line")??;
        first += t.elapsed();
        std::hint::black_box(line);
        while let Some(item) = s.next().await {
            item?;
        }
    }
    Ok(first / n as u32)
}

/// Streams over mutual TLS (the test daemon on :2376) and over ssh (sshd
/// on :2222, `docker system dial-stdio`): time to the first log line of
/// 200 sequential `logs` calls, and 200,000 short log lines through one
/// stream, for dockhand, bollard and the docker CLI; the ceiling column is
/// dockhand itself on the Unix socket (the target: within 1.2× of it).
pub async fn remote_scenarios(s: Sizes, only: &dyn Fn(&str) -> bool) -> Res<Vec<Row>> {
    let sock = socket();
    let remote = Remote::from_env();
    let mut rows = Vec::new();
    let one_name = "dockhand-bench-one-line";
    ensure_container(one_name, "echo 'one line of benchmark output'")?;
    // The calls name the container by its full ID, as a program that created
    // it does (below API 1.42 dockhand then knows its TTY after the first
    // call; by name it inspects every time: the notes give that figure).
    let one_id = docker(&["inspect", "-f", "{{.Id}}", one_name])?;
    let one = one_id.as_str();
    let lines = format!("dockhand-bench-lines-{}", s.real_lines);
    ensure_container(
        &lines,
        &format!(
            "yes 'line of benchmark output: the quick brown fox jumps' | head -n {}",
            s.real_lines
        ),
    )?;
    let local = peers::dockhand(&sock)?;
    let calls = 200;
    let cli_calls = if s.reps > 1 { 10 } else { 3 };
    for transport in ["tls", "ssh"] {
        if !only(transport) {
            continue;
        }
        let dh = remote.dockhand(transport)?;
        let bo = remote.bollard(transport)?;
        let env = remote.cli_env(transport);
        // Connections made and kept before timing: handshakes excluded.
        dockhand_first_lines(&dh, one, 2).await?;
        bollard_first_lines(&bo, one, 2).await?;
        dockhand_first_lines(&local, one, 2).await?;
        let (mut d, mut b, mut u, mut by_name) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..s.reps.max(1) {
            d.push(dockhand_first_lines(&dh, one, calls).await?.as_secs_f64());
            by_name.push(
                dockhand_first_lines(&dh, one_name, calls)
                    .await?
                    .as_secs_f64(),
            );
            b.push(bollard_first_lines(&bo, one, calls).await?.as_secs_f64());
            u.push(
                dockhand_first_lines(&local, one, calls)
                    .await?
                    .as_secs_f64(),
            );
        }
        let mut cli = Vec::new();
        for _ in 0..cli_calls {
            cli.push(time_cli(&env, &["logs", one])?.as_secs_f64());
        }
        // The round trip itself: dockhand's pings on its kept connection.
        let ping = |d: &dockhand::Docker| {
            let d = d.clone();
            async move {
                let t = Instant::now();
                for _ in 0..calls {
                    d.system().ping().await?;
                }
                Ok::<_, peers::BoxError>(t.elapsed().as_secs_f64() / calls as f64)
            }
        };
        let (ping_remote, ping_local) = (ping(&dh).await?, ping(&local).await?);
        let us = |v: Vec<f64>| median(v) * 1e6;
        rows.push(Row {
            scenario: format!(
                "real dockerd over {}: {calls} sequential logs calls (a one-line container, by full ID), time to the first log line",
                if transport == "tls" { "mutual TLS" } else { "ssh" }
            ),
            unit: "µs/call",
            better: Better::Lower,
            dockhand: us(d),
            bollard: us(b),
            ceiling: us(u),
            ceiling_is: "dockhand on the Unix socket",
            notes: format!(
                "dockhand by name (an inspect with each call below API 1.42): {:.0} µs/call; docker CLI, a process per call (its connection included): {:.0} µs/call; dockhand's GET /_ping round trip: {:.0} µs here, {:.0} µs on the socket",
                us(by_name),
                median(cli) * 1e6,
                ping_remote * 1e6,
                ping_local * 1e6
            ),
        });

        let (mut d, mut b, mut u, mut cli, mut curl) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut payload = 0;
        for _ in 0..s.reps.max(1) {
            let t = Instant::now();
            payload = peers::dockhand_logs(&dh, &lines).await?;
            d.push(t.elapsed().as_secs_f64());
            let t = Instant::now();
            let bollard_payload = peers::bollard_logs(&bo, &lines).await?;
            b.push(t.elapsed().as_secs_f64());
            if bollard_payload != payload {
                return Err(format!(
                    "logs over {transport}: dockhand read {payload} bytes, bollard {bollard_payload}"
                )
                .into());
            }
            let t = Instant::now();
            peers::dockhand_logs(&local, &lines).await?;
            u.push(t.elapsed().as_secs_f64());
            cli.push(time_cli(&env, &["logs", &lines])?.as_secs_f64());
            if transport == "tls" {
                let url = format!(
                    "https://{}/v1.41/containers/{lines}/logs?stdout=1&stderr=1",
                    remote.tls_host.trim_start_matches("tcp://")
                );
                curl.push(
                    time_command(
                        "curl",
                        &[
                            "-sS",
                            "--cert",
                            &remote.cert("cert.pem"),
                            "--key",
                            &remote.cert("key.pem"),
                            "--cacert",
                            &remote.cert("ca.pem"),
                            "-o",
                            "/dev/null",
                            &url,
                        ],
                    )?
                    .as_secs_f64(),
                );
            }
        }
        rows.push(Row {
            scenario: format!(
                "real dockerd over {}: docker logs of a container that wrote {} short lines",
                if transport == "tls" {
                    "mutual TLS"
                } else {
                    "ssh"
                },
                s.real_lines
            ),
            unit: "s",
            better: Better::Lower,
            dockhand: median(d),
            bollard: median(b),
            ceiling: median(u),
            ceiling_is: "dockhand on the Unix socket",
            notes: format!(
                "docker CLI {:.2} s{}; {:.1} MB of output",
                median(cli),
                if curl.is_empty() {
                    String::new()
                } else {
                    format!(", curl (a new TLS connection) {:.2} s", median(curl))
                },
                payload as f64 / 1e6
            ),
        });
    }
    Ok(rows)
}
