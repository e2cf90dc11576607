//! Scenario 7, on the real daemon: sequential inspects, and `docker logs` of
//! a container that wrote 256 MiB and of one that printed 200,000 short
//! lines; curl and the docker CLI as further peers.

use crate::peers::{self, Raw, Res};
use crate::{median, timed, us_per, Better, Row, Sizes};
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

fn cmd_median(reps: usize, program: &str, args: &[&str]) -> Res<Duration> {
    let mut v = Vec::new();
    for _ in 0..reps.max(1) {
        v.push(time_command(program, args)?.as_secs_f64());
    }
    Ok(Duration::from_secs_f64(median(v)))
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
    let d = timed!(s.reps, async {
        for _ in 0..n {
            std::hint::black_box(dh.containers().inspect(&lines, &Default::default()).await?);
        }
        Ok(())
    })
    .await?;
    let b = timed!(s.reps, async {
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
    })
    .await?;
    let c = timed!(s.reps, async {
        for _ in 0..n {
            let c: crate::InspectT = raw.get_json(&uri).await?;
            std::hint::black_box(c);
        }
        Ok(())
    })
    .await?;
    let p = timed!(s.reps, async {
        for _ in 0..n {
            raw.get_bytes("/_ping").await?;
        }
        Ok(())
    })
    .await?;
    let dp = timed!(s.reps, async {
        for _ in 0..n {
            dh.system().ping().await?;
        }
        Ok(())
    })
    .await?;
    let bp = timed!(s.reps, async {
        for _ in 0..n {
            bo.ping().await?;
        }
        Ok(())
    })
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
        let mut payload = 0;
        let d = timed!(s.reps, async {
            payload = peers::dockhand_logs(&dh, name).await?;
            Ok(())
        })
        .await?;
        let mut bollard_payload = 0;
        let b = timed!(s.reps, async {
            bollard_payload = peers::bollard_logs(&bo, name).await?;
            Ok(())
        })
        .await?;
        if bollard_payload != payload {
            return Err(
                format!("logs {name}: dockhand read {payload}, bollard {bollard_payload}").into(),
            );
        }
        let url = format!("http://localhost{path}");
        let curl = cmd_median(
            s.reps,
            "curl",
            &["-sS", "--unix-socket", &sock, "-o", "/dev/null", &url],
        )?;
        let cli = cmd_median(s.reps, "docker", &["logs", name])?;
        let mut wire = 0;
        let r = timed!(s.reps, async {
            wire = peers::raw_socket_read(&sock, &path).await?;
            Ok(())
        })
        .await?;
        rows.push(Row {
            scenario: format!("real dockerd: docker logs of a container that wrote {what}"),
            unit: "s",
            better: Better::Lower,
            dockhand: d.as_secs_f64(),
            bollard: b.as_secs_f64(),
            ceiling: curl.as_secs_f64(),
            ceiling_is: "curl --unix-socket -o /dev/null",
            notes: format!(
                "docker CLI {:.2} s, raw socket read in-process {:.2} s; {:.1} MB of output, {:.1} MB on the wire",
                cli.as_secs_f64(),
                r.as_secs_f64(),
                payload as f64 / 1e6,
                wire as f64 / 1e6
            ),
        });
    }
    Ok(rows)
}
