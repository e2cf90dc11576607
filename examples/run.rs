//! `docker run --rm` in a few lines: create a container, start it, stream
//! its output as it comes (stdout to stdout, stderr to stderr), wait for it,
//! remove it, and exit with its exit code.
//!
//! ```sh
//! cargo run --example run -- dockhand-test/busybox:latest sh -c 'echo hi; exit 3'
//! ```

use dockhand::models::{ContainerCreateBody, HostConfig};
use dockhand::operations::{ContainerDeleteOptions, ContainerLogsOptions};
use dockhand::stream::LogOutput;
use dockhand::Docker;
use futures::TryStreamExt;
use std::io::Write;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((image, cmd)) = args.split_first() else {
        eprintln!("usage: run IMAGE [COMMAND [ARG...]]");
        std::process::exit(2);
    };
    match run(image, cmd).await {
        Ok(code) => std::process::exit(i32::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("run: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            std::process::exit(125);
        }
    }
}

async fn run(image: &str, cmd: &[String]) -> dockhand::Result<i64> {
    let docker = Docker::connect()?;
    let body = ContainerCreateBody {
        image: Some(image.to_owned()),
        cmd: (!cmd.is_empty()).then(|| cmd.to_vec()),
        host_config: Some(HostConfig::default()),
        ..Default::default()
    };
    let id = docker
        .containers()
        .create(&body, &Default::default())
        .await?
        .id;
    let result = start_and_follow(&docker, &id).await;
    // Removed whatever happened, like `--rm`.
    let removed = docker
        .containers()
        .remove(&id, &ContainerDeleteOptions::default().force(true))
        .await;
    let code = result?;
    removed?;
    Ok(code)
}

async fn start_and_follow(docker: &Docker, id: &str) -> dockhand::Result<i64> {
    docker.containers().start(id, &Default::default()).await?;
    // Following the logs from the start shows everything the container
    // writes; the stream ends when the container stops.
    let opts = ContainerLogsOptions::default()
        .stdout(true)
        .stderr(true)
        .follow(true);
    let mut logs = docker.containers().logs(id, &opts).await?;
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    while let Some(piece) = logs.try_next().await? {
        let written = match &piece {
            LogOutput::StdErr(b) => err.write_all(b).and_then(|()| err.flush()),
            other => out.write_all(other.bytes()).and_then(|()| out.flush()),
        };
        written.map_err(|e| dockhand::Error::Io {
            context: "writing the container's output".into(),
            source: e,
        })?;
    }
    let waited = docker.containers().wait(id, &Default::default()).await?;
    if let Some(e) = waited.error.and_then(|e| e.message) {
        eprintln!("run: the daemon reports: {e}");
    }
    Ok(waited.status_code)
}
