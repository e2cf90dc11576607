//! One client shared by many Tokio runtimes, as tests share one: bollard's
//! race pattern (a `static` client, four `#[tokio::test(flavor =
//! "multi_thread")]` tests in parallel, each on a runtime of its own doing
//! ~50 requests including a log stream), and the same pattern looped 20
//! times on four threads, with and without a runtime dropped in the middle
//! of its requests. Every runtime ends (and is dropped) while the client
//! lives on: a connection opened by a runtime that is gone must never be
//! handed to another one.

mod common;

use common::test_env;
use dockhand::models::{ContainerCreateBody, ContainerExecBody, ExecStartBody};
use dockhand::operations::{ContainerDeleteOptions, ContainerLogsOptions};
use dockhand::stream::LogOutput;
use dockhand::Docker;
use futures::TryStreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// The one client every runtime of this binary uses.
static DOCKER: LazyLock<Docker> =
    LazyLock::new(|| Docker::connect_with_host("unix:///var/run/docker.sock").expect("client"));

/// How many lines the log container prints.
const LINES: usize = 200;

/// A running container that has printed `LINES` lines, made on a runtime
/// of its own (like everything else here) and removed when dropped.
struct LogContainer(String);

impl LogContainer {
    fn new(image: &str) -> LogContainer {
        let image = image.to_owned();
        let id = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let body = ContainerCreateBody {
                    image: Some(image),
                    cmd: Some(vec![
                        "sh".into(),
                        "-c".into(),
                        format!("i=1; while [ $i -le {LINES} ]; do echo line $i; i=$((i+1)); done; exec sleep 3600"),
                    ]),
                    ..Default::default()
                };
                let id = DOCKER
                    .containers()
                    .create(&body, &Default::default())
                    .await
                    .expect("create")
                    .id;
                DOCKER
                    .containers()
                    .start(&id, &Default::default())
                    .await
                    .expect("start");
                // Until every line is there.
                for _ in 0..200 {
                    if log_lines(&DOCKER, &id).await.ok() == Some(LINES) {
                        return id;
                    }
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                panic!("the container did not print {LINES} lines");
            })
        })
        .join()
        .expect("setup thread");
        LogContainer(id)
    }
}

impl Drop for LogContainer {
    fn drop(&mut self) {
        let id = self.0.clone();
        common::cleanup(move |docker| async move {
            let _ = docker
                .containers()
                .remove(&id, &ContainerDeleteOptions::default().force(true))
                .await;
        });
    }
}

/// How many lines the container's logs hold.
async fn log_lines(docker: &Docker, id: &str) -> dockhand::Result<usize> {
    let opts = ContainerLogsOptions::default().stdout(true);
    let logs: Vec<LogOutput> = docker
        .containers()
        .logs(id, &opts)
        .await?
        .try_collect()
        .await?;
    let text: Vec<u8> = logs.iter().flat_map(|p| p.bytes().to_vec()).collect();
    Ok(text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .count())
}

/// An exec of `cat` through an upgraded connection: stdin written and
/// half-closed, its echo read to the end.
async fn exec_cat(docker: &Docker, id: &str) -> dockhand::Result<Vec<u8>> {
    let body = ContainerExecBody {
        cmd: Some(vec!["cat".into()]),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    };
    let exec = docker.exec().create(id, &body).await?.id;
    let mut attached = docker
        .exec()
        .start(&exec, &ExecStartBody::default())
        .await?;
    attached
        .input
        .write_all(b"over the upgrade\n")
        .await
        .expect("stdin");
    attached.input.shutdown().await.expect("half-close");
    // `cat` ends only when the half-close reached it (over ssh too).
    let out: Vec<LogOutput> =
        tokio::time::timeout(Duration::from_secs(30), attached.output.try_collect())
            .await
            .expect("the process saw the end of its input")?;
    Ok(out.iter().flat_map(|p| p.bytes().to_vec()).collect())
}

/// `iterations` × 6 requests (8 make ~50) through the shared client: pings,
/// version, lists, inspects, log streams read to their end, and an exec
/// attached through a connection upgrade; `Err` names the first that failed.
async fn workload(
    docker: &Docker,
    id: &str,
    round: usize,
    iterations: usize,
) -> Result<(), String> {
    let c = docker.containers();
    for i in 0..iterations {
        let at = |what: &str, e: dockhand::Error| format!("round {round}, {i}: {what}: {e:?}");
        docker.system().ping().await.map_err(|e| at("ping", e))?;
        docker
            .system()
            .version()
            .await
            .map_err(|e| at("version", e))?;
        c.list(&Default::default())
            .await
            .map_err(|e| at("list", e))?;
        let info = c
            .inspect(id, &Default::default())
            .await
            .map_err(|e| at("inspect", e))?;
        if info.id.as_deref() != Some(id) {
            return Err(format!("inspect answered for {:?}", info.id));
        }
        docker
            .images()
            .list(&Default::default())
            .await
            .map_err(|e| at("images", e))?;
        let lines = log_lines(docker, id).await.map_err(|e| at("logs", e))?;
        if lines != LINES {
            return Err(format!("round {round}, {i}: {lines} log lines of {LINES}"));
        }
    }
    let echo = exec_cat(docker, id)
        .await
        .map_err(|e| format!("round {round}: exec: {e:?}"))?;
    if echo != b"over the upgrade\n" {
        return Err(format!("round {round}: exec echoed {echo:?}"));
    }
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Runs the race pattern `rounds` times: four threads, each with a runtime
/// of its own running the workload, dropped when it is done. With
/// `drop_one`, a fifth runtime starts the workload and is dropped a few
/// milliseconds in, with its requests in flight. Returns the failures.
fn race(
    docker: &'static Docker,
    id: &str,
    rounds: usize,
    drop_one: bool,
    iterations: usize,
) -> Vec<String> {
    let failures = Mutex::new(Vec::new());
    let dropped_mid_run = AtomicUsize::new(0);
    for round in 0..rounds {
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let rt = runtime();
                    if let Err(e) = rt.block_on(workload(docker, id, round, iterations)) {
                        failures.lock().expect("lock").push(e);
                    }
                    drop(rt);
                });
            }
            if drop_one {
                s.spawn(|| {
                    let rt = runtime();
                    let id = id.to_owned();
                    let task =
                        rt.spawn(async move { workload(docker, &id, round, iterations).await });
                    std::thread::sleep(Duration::from_millis(5 + (round as u64 * 7) % 40));
                    if !task.is_finished() {
                        dropped_mid_run.fetch_add(1, Ordering::Relaxed);
                    }
                    drop(rt);
                });
            }
        });
    }
    if drop_one {
        assert!(
            dropped_mid_run.load(Ordering::Relaxed) > rounds / 2,
            "the dropped runtime should mostly be dropped with requests in flight"
        );
    }
    failures.into_inner().expect("lock")
}

fn setup(test: &str) -> LogContainer {
    LogContainer::new(&test_env(test).image)
}

#[test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
fn twenty_rounds_of_four_runtimes_sharing_one_client() {
    let c = setup("twenty_rounds_of_four_runtimes_sharing_one_client");
    let failures = race(&DOCKER, &c.0, 20, false, 8);
    assert!(
        failures.is_empty(),
        "{} of 80 runtimes failed: {failures:#?}",
        failures.len()
    );
}

#[test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
fn twenty_rounds_with_a_runtime_dropped_mid_run() {
    let c = setup("twenty_rounds_with_a_runtime_dropped_mid_run");
    let failures = race(&DOCKER, &c.0, 20, true, 8);
    assert!(
        failures.is_empty(),
        "{} of 80 runtimes failed: {failures:#?}",
        failures.len()
    );
}

/// bollard's `race_test.rs` shape: four `#[tokio::test]`s, each a runtime
/// of its own, run in parallel by the test harness.
async fn one_parallel_test(name: &str) {
    let c = setup(name);
    workload(&DOCKER, &c.0, 0, 8).await.expect("workload");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn parallel_runtime_1() {
    one_parallel_test("parallel_runtime_1").await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn parallel_runtime_2() {
    one_parallel_test("parallel_runtime_2").await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn parallel_runtime_3() {
    one_parallel_test("parallel_runtime_3").await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn parallel_runtime_4() {
    one_parallel_test("parallel_runtime_4").await;
}

/// The same over ssh (`docker system dial-stdio`, a process per pooled
/// connection), fewer rounds: each connection costs an ssh handshake.
#[test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
fn an_ssh_client_shared_by_runtimes_one_dropped_mid_run() {
    static SSH: LazyLock<Docker> = LazyLock::new(|| {
        let host = std::env::var("DOCKHAND_SSH_HOST").expect("DOCKHAND_SSH_HOST");
        Docker::connect_with_host(&host).expect("ssh client")
    });
    let c = setup("an_ssh_client_shared_by_runtimes_one_dropped_mid_run");
    let failures = race(&SSH, &c.0, 4, true, 2);
    assert!(
        failures.is_empty(),
        "{} of 16 runtimes failed: {failures:#?}",
        failures.len()
    );
}
