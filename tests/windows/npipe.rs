//! Windows only: dockhand over a named pipe served the way dockerd serves
//! `\\.\pipe\docker_engine`, bridged to the real test daemon.
//!
//! Built for `x86_64-pc-windows-gnu` and run under Wine by
//! `scripts/windows.sh`, one test per process (some set environment
//! variables). On other platforms this file compiles to nothing.
//!
//! The server side copies what dockerd's listener (go-winio) does: a
//! message-type pipe, one waiting instance at a time (a client that comes
//! while none is waiting gets `ERROR_PIPE_BUSY`), and a zero-length message
//! from the client taken as the end of its input, which is passed on as a
//! half-close of the TCP connection to `DOCKHAND_WINE_BRIDGE` (a `socat` in
//! front of the daemon's Unix socket, started by the script).
//!
//! Environment (set by `scripts/windows.sh`): `DOCKHAND_WINE_BRIDGE`
//! (`127.0.0.1:PORT`), `DOCKHAND_WINE_DAEMON_VERSION` (the daemon's version as
//! `docker version` says it), `DOCKHAND_WINE_PULL_REF` (an image in the
//! 127.0.0.1 test registry that is not on the daemon), `DOCKHAND_WINE_EXAMPLES`
//! (the directory of the examples built for Windows), `DOCKHAND_WINE_NATIVE_SMOKE`
//! (the C program of the native library, `native/tests/c/smoke.c`, built for
//! Windows against `dockhand_native.dll`), `DOCKHAND_TEST_IMAGE`,
//! `DOCKHAND_REGISTRY`.
#![cfg(windows)]

use dockhand::models::{ContainerCreateBody, ContainerExecBody, HostConfig};
use dockhand::operations::{
    ContainerDeleteOptions, ContainerListOptions, ContainerLogsOptions, ImageDeleteOptions,
};
use dockhand::stream::progress::Progress;
use dockhand::stream::LogOutput;
use dockhand::Docker;
use futures::TryStreamExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::windows::named_pipe::{NamedPipeServer, PipeMode, ServerOptions};

/// The label on every container these tests make (the script removes
/// whatever is left with it).
const LABEL: &str = "dockhand-wine";

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run scripts/windows.sh"))
}

/// What the pipe server saw.
#[derive(Default)]
struct Seen {
    /// Connections accepted.
    connections: AtomicUsize,
    /// Ends of input read from clients: zero-length messages, or a client
    /// closing its end.
    input_ends: AtomicUsize,
}

/// A pipe served like dockerd's, bridged to the daemon.
struct PipeServer {
    /// `\\.\pipe\…`
    path: String,
    seen: Arc<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PipeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn instance(path: &str, first: bool) -> std::io::Result<NamedPipeServer> {
    ServerOptions::new()
        .first_pipe_instance(first)
        .pipe_mode(PipeMode::Message)
        .reject_remote_clients(true)
        .in_buffer_size(65536)
        .out_buffer_size(65536)
        .create(path)
}

impl PipeServer {
    /// Serves a new pipe. `pause` is how long the server waits after a
    /// client connected before it offers the next instance (clients that
    /// come meanwhile find the pipe busy).
    fn start(tag: &str, pause: Duration) -> PipeServer {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = format!(
            r"\\.\pipe\dockhand-wine-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let backend = env("DOCKHAND_WINE_BRIDGE");
        let seen = Arc::new(Seen::default());
        // The first instance exists before anyone tries to connect.
        let mut server = instance(&path, true).expect("create the pipe");
        let (p, s) = (path.clone(), seen.clone());
        let task = tokio::spawn(async move {
            loop {
                if let Err(e) = server.connect().await {
                    eprintln!("pipe server: connect: {e}");
                    return;
                }
                s.connections.fetch_add(1, Ordering::SeqCst);
                let conn = server;
                // A slow accept loop. The connected instance is held (not yet
                // served) until the next one exists, so the pipe's name never
                // disappears: newcomers meanwhile get ERROR_PIPE_BUSY, never
                // "not found" (go-winio keeps a placeholder handle for that).
                tokio::time::sleep(pause).await;
                server = match instance(&p, false) {
                    Ok(next) => next,
                    Err(e) => {
                        eprintln!("pipe server: next instance: {e}");
                        return;
                    }
                };
                tokio::spawn(bridge(conn, backend.clone(), s.clone()));
            }
        });
        PipeServer { path, seen, task }
    }

    /// The `DOCKER_HOST` form of the pipe.
    fn host(&self) -> String {
        format!("npipe://{}", self.path.replace('\\', "/"))
    }

    fn docker(&self) -> Docker {
        Docker::connect_with_host(&self.host()).expect("client for the pipe")
    }
}

/// Bytes both ways between one pipe connection and a new TCP connection to
/// the daemon. The end of the client's input (a zero-length message) becomes
/// a half-close towards the daemon; the pipe closes once the daemon closed.
async fn bridge(pipe: NamedPipeServer, backend: String, seen: Arc<Seen>) {
    let tcp = match tokio::net::TcpStream::connect(&backend).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("pipe server: connect {backend}: {e}");
            return;
        }
    };
    let (mut pipe_in, mut pipe_out) = tokio::io::split(pipe);
    let (mut tcp_in, mut tcp_out) = tcp.into_split();
    let up = tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        loop {
            match pipe_in.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tcp_out.write_all(&buf[..n]).await.is_err() {
                        return pipe_in;
                    }
                }
            }
        }
        seen.input_ends.fetch_add(1, Ordering::SeqCst);
        let _ = tcp_out.shutdown().await;
        pipe_in
    });
    let _ = tokio::io::copy(&mut tcp_in, &mut pipe_out).await;
    // The daemon closed: so does the pipe (both halves dropped).
    up.abort();
    let _ = up.await;
}

async fn remove_container(docker: &Docker, id: &str) {
    let _ = docker
        .containers()
        .remove(id, &ContainerDeleteOptions::default().force(true))
        .await;
}

async fn create_container(docker: &Docker, cmd: &[&str]) -> String {
    let body = ContainerCreateBody {
        image: Some(env("DOCKHAND_TEST_IMAGE")),
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        labels: Some([(LABEL.to_owned(), std::process::id().to_string())].into()),
        host_config: Some(HostConfig::default()),
        ..Default::default()
    };
    docker
        .containers()
        .create(&body, &Default::default())
        .await
        .expect("create a container through the pipe")
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_and_version_through_the_pipe() {
    let server = PipeServer::start("version", Duration::ZERO);
    let docker = server.docker();
    assert_eq!(docker.system().ping().await.expect("ping"), "OK");
    let v = docker.system().version().await.expect("version");
    assert_eq!(
        v.version.as_deref(),
        Some(env("DOCKHAND_WINE_DAEMON_VERSION").as_str()),
        "the real daemon answered"
    );
    assert_eq!(v.os.as_deref(), Some("linux"));
    assert!(server.seen.connections.load(Ordering::SeqCst) >= 1);
    println!(
        "daemon {} (API {}) through {}",
        v.version.unwrap_or_default(),
        v.api_version.unwrap_or_default(),
        server.host()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_logs_through_the_pipe() {
    let server = PipeServer::start("logs", Duration::ZERO);
    let docker = server.docker();
    let lines = 20_000;
    let script = format!("i=0; while [ $i -lt {lines} ]; do echo line$i; i=$((i+1)); done");
    let id = create_container(&docker, &["sh", "-c", &script]).await;
    let result = async {
        docker
            .containers()
            .start(&id, &Default::default())
            .await
            .expect("start");
        let w = docker
            .containers()
            .wait(&id, &Default::default())
            .await
            .expect("wait");
        assert_eq!(w.status_code, 0);
        let filters = [(
            "label".to_owned(),
            vec![format!("{LABEL}={}", std::process::id())],
        )]
        .into_iter()
        .collect::<dockhand::operations::Filters>();
        let listed = docker
            .containers()
            .list(&ContainerListOptions::default().all(true).filters(filters))
            .await
            .expect("list");
        assert!(
            listed.iter().any(|c| c.id.as_deref() == Some(id.as_str())),
            "the container is listed"
        );
        let opts = ContainerLogsOptions::default().stdout(true).stderr(true);
        let pieces: Vec<LogOutput> = docker
            .containers()
            .logs(&id, &opts)
            .await
            .expect("logs")
            .try_collect()
            .await
            .expect("log stream");
        let mut out = Vec::new();
        for p in &pieces {
            match p {
                LogOutput::StdOut(b) => out.extend_from_slice(b),
                other => panic!("unexpected log piece {other:?}"),
            }
        }
        let want: String = (0..lines).map(|i| format!("line{i}\n")).collect();
        assert_eq!(out.len(), want.len(), "log bytes");
        assert!(
            out == want.as_bytes(),
            "logs differ from what the container printed"
        );
        println!("{} log bytes in {} pieces", out.len(), pieces.len());
    };
    let outcome = tokio::time::timeout(Duration::from_secs(120), result).await;
    remove_container(&docker, &id).await;
    outcome.expect("list and logs within two minutes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_cat_sees_stdin_end_from_a_zero_length_message() {
    let server = PipeServer::start("exec", Duration::ZERO);
    let docker = server.docker();
    let id = create_container(&docker, &["sleep", "120"]).await;
    let result = async {
        docker
            .containers()
            .start(&id, &Default::default())
            .await
            .expect("start");
        let exec = docker
            .exec()
            .create(
                &id,
                &ContainerExecBody {
                    cmd: Some(vec!["cat".into()]),
                    attach_stdin: Some(true),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .expect("exec create")
            .id;
        let ends_before = server.seen.input_ends.load(Ordering::SeqCst);
        let attached = docker
            .exec()
            .start(&exec, &Default::default())
            .await
            .expect("exec start");
        let input: Vec<u8> = (0..(256usize << 10))
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let mut stdin = attached.input;
        let data = input.clone();
        let writer = tokio::spawn(async move {
            stdin.write_all(&data).await?;
            // The half-close: a zero-length message on the pipe.
            stdin.shutdown().await?;
            Ok::<_, std::io::Error>(stdin)
        });
        // cat ends only when it reads the end of its stdin; its output
        // arrives only if the pipe stayed open after that.
        let pieces: Vec<LogOutput> = attached.output.try_collect().await.expect("exec output");
        let _stdin = writer
            .await
            .expect("join")
            .expect("stdin written and ended");
        assert!(
            server.seen.input_ends.load(Ordering::SeqCst) > ends_before,
            "the server read the end of the input"
        );
        let mut out = Vec::new();
        for p in &pieces {
            match p {
                LogOutput::StdOut(b) => out.extend_from_slice(b),
                other => panic!("unexpected output {other:?}"),
            }
        }
        assert_eq!(out.len(), input.len());
        assert!(out == input, "cat's output differs from its input");
        let mut code = None;
        for _ in 0..50 {
            let state = docker.exec().inspect(&exec).await.expect("exec inspect");
            if state.running == Some(false) {
                code = state.exit_code;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(code, Some(0), "cat exited 0");
        println!("cat echoed {} bytes, then exited 0", out.len());
    };
    let outcome = tokio::time::timeout(Duration::from_secs(30), result).await;
    remove_container(&docker, &id).await;
    outcome.expect("cat finished within 30 s (it never saw the end of its stdin?)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_with_progress_through_the_pipe() {
    let server = PipeServer::start("pull", Duration::ZERO);
    let docker = server.docker();
    let reference = env("DOCKHAND_WINE_PULL_REF");
    assert!(
        reference.starts_with("127.0.0.1:"),
        "loopback registries only"
    );
    let result = async {
        let mut progress = Progress::new();
        let mut statuses = Vec::new();
        let mut messages = docker
            .images()
            .pull(&reference, &Default::default())
            .await
            .expect("pull");
        while let Some(m) = messages.try_next().await.expect("progress message") {
            progress.update(&m);
            if let Some(s) = m.status {
                statuses.push(s);
            }
        }
        assert!(progress.is_done(), "every layer finished: {progress:?}");
        assert!(
            progress.current() > 0 && progress.current() == progress.total(),
            "bytes downloaded: {} of {}",
            progress.current(),
            progress.total()
        );
        assert!(
            statuses.iter().any(|s| s == "Downloading"),
            "download progress: {statuses:?}"
        );
        assert!(
            statuses
                .iter()
                .any(|s| s.starts_with("Status: Downloaded newer image")),
            "{statuses:?}"
        );
        docker
            .images()
            .inspect(&reference, &Default::default())
            .await
            .expect("the pulled image is there");
        println!(
            "pulled {reference}: {} layer(s), {} bytes, {} messages",
            progress.layers().len(),
            progress.current(),
            statuses.len()
        );
    };
    let outcome = tokio::time::timeout(Duration::from_secs(120), result).await;
    let _ = docker
        .images()
        .remove(&reference, &ImageDeleteOptions::default().force(true))
        .await;
    outcome.expect("pull within two minutes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_pipe_is_retried_under_20_concurrent_connections() {
    // The server waits 50 ms before offering each next instance, so most of
    // 20 clients arriving together find the pipe busy.
    let server = PipeServer::start("busy", Duration::from_millis(50));

    // The retry itself, counted: every open succeeds, some after busy.
    let busy = Arc::new(AtomicUsize::new(0));
    let opens = (0..20).map(|_| {
        let (path, busy) = (server.path.clone(), busy.clone());
        tokio::spawn(async move {
            let opts = tokio::net::windows::named_pipe::ClientOptions::new();
            dockhand::transport::open_with_busy_retry(
                || {
                    let r = opts.open(&path);
                    if matches!(&r, Err(e) if e.raw_os_error() == Some(231)) {
                        busy.fetch_add(1, Ordering::SeqCst);
                    }
                    r
                },
                Duration::from_secs(20),
            )
            .await
        })
    });
    let pipes = futures::future::join_all(opens).await;
    for p in &pipes {
        assert!(matches!(p, Ok(Ok(_))), "every open succeeded: {p:?}");
    }
    let busy_opens = busy.load(Ordering::SeqCst);
    assert!(busy_opens > 0, "no open found the pipe busy");
    drop(pipes);

    // And through the library: 20 clients, one connection each, at once.
    let before = server.seen.connections.load(Ordering::SeqCst);
    let started = std::time::Instant::now();
    let pings = (0..20).map(|_| {
        let docker = server.docker();
        tokio::spawn(async move { docker.system().ping().await })
    });
    for r in futures::future::join_all(pings).await {
        assert_eq!(r.expect("join").expect("ping through a busy pipe"), "OK");
    }
    let connections = server.seen.connections.load(Ordering::SeqCst) - before;
    assert!(
        connections >= 20,
        "{connections} connections for 20 clients"
    );
    println!(
        "20 raw opens ({busy_opens} busy answers retried); 20 concurrent pings over {connections} connections in {:?}",
        started.elapsed()
    );
}

/// Runs a Windows build of an example (in `DOCKHAND_WINE_EXAMPLES`) against
/// `host`, with `input` as its stdin; returns its exit code and stdout.
async fn run_example(host: &str, name: &str, args: &[&str], input: &[u8]) -> (i32, String) {
    use std::process::Stdio;
    let dir = std::path::PathBuf::from(env("DOCKHAND_WINE_EXAMPLES"));
    let mut child = tokio::process::Command::new(dir.join(format!("{name}.exe")))
        .args(args)
        .env("DOCKER_HOST", host)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start example {name}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input).await.expect("example stdin");
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("example {name} did not finish within a minute"))
        .expect("example output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    println!("{name} {args:?}: exit {code}, stdout {stdout:?}, stderr {stderr:?}");
    (code, stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn examples_run_on_windows_through_the_pipe() {
    let server = PipeServer::start("examples", Duration::ZERO);
    let docker = server.docker();
    let host = server.host();
    let id = create_container(&docker, &["sleep", "120"]).await;
    let result = async {
        docker
            .containers()
            .start(&id, &Default::default())
            .await
            .expect("start");
        let (code, out) = run_example(&host, "version", &[], b"").await;
        assert_eq!(code, 0, "version: {out}");
        assert!(out.contains("API version: 1.41"), "{out}");
        // stdin is a pipe, not a console: no TTY; its end reaches cat.
        let input = b"piped through the exec example on windows\n";
        let (code, out) = run_example(&host, "exec", &[&id, "cat"], input).await;
        assert_eq!(code, 0, "exec cat: {out}");
        assert_eq!(out.as_bytes(), input);
        let (code, out) =
            run_example(&host, "exec", &[&id, "sh", "-c", "echo seven; exit 7"], b"").await;
        assert_eq!(code, 7, "the exit code is passed on: {out}");
        assert_eq!(out, "seven\n");
    };
    let outcome = tokio::time::timeout(Duration::from_secs(120), result).await;
    remove_container(&docker, &id).await;
    outcome.expect("examples within two minutes");
    println!("version and exec examples (Windows builds) ran through {host}");
}

/// What the C program prints for each check it passed, in order: all must
/// be there (a check skipped or lost is a failure, not a pass).
const NATIVE_CHECKS: &[&str] = &[
    "ok ping",
    "ok operation table",
    "ok panic output setting",
    "ok not_found",
    "ok logs followed to the end",
    "ok exit code 7",
    "ok cancelled from another thread",
    "ok exec cat with stdin",
    "ok tty resized to 33x101",
    "ok resize refused on a log stream",
    "ok pull with",
    "all C checks passed (0 failures)",
];

/// The native library as a PowerShell module on Windows would load it: the
/// C program of `native/tests/c/smoke.c`, built for Windows by the script
/// (mingw, against `dockhand_native.dll` built with `-Zbuild-std`), talking
/// to the daemon through the pipe. Every check it makes on Linux.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_c_program_through_the_pipe() {
    use std::process::Stdio;
    let server = PipeServer::start("native", Duration::ZERO);
    let host = server.host();
    let exe = env("DOCKHAND_WINE_NATIVE_SMOKE");
    let child = tokio::process::Command::new(&exe)
        .env("DOCKHAND_NATIVE_HOST", &host)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {exe}: {e}"));
    let out = tokio::time::timeout(Duration::from_secs(240), child.wait_with_output())
        .await
        .expect("the C program finished within four minutes")
        .expect("the C program's output");
    let stdout = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "the C program failed: {:?}",
        out.status
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let mut at = 0;
    for check in NATIVE_CHECKS {
        let found = lines[at..].iter().position(|l| l.starts_with(check));
        let i = found.unwrap_or_else(|| panic!("no {check:?} (after line {at}) in:\n{stdout}"));
        at += i + 1;
    }
    assert!(
        lines[0].contains(&host),
        "the program used the pipe: {}",
        lines[0]
    );
    assert!(server.seen.connections.load(Ordering::SeqCst) >= 1);
    assert!(
        server.seen.input_ends.load(Ordering::SeqCst) >= 1,
        "exec cat's stdin was half-closed with a zero-length message"
    );
    println!(
        "smoke.exe (dockhand_native.dll): {} checks passed through {host}",
        NATIVE_CHECKS.len() - 1
    );
}

/// Sets (or, with `None`, removes) process environment variables. The
/// script runs each test in a process of its own.
fn set_env(vars: &[(&str, Option<&str>)]) {
    for (k, v) in vars {
        match v {
            Some(v) => std::env::set_var(k, v),
            None => std::env::remove_var(k),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_defaults_and_userprofile_docker_dir() {
    use dockhand::config::{Config, Host};
    use sha2::{Digest, Sha256};

    let profile =
        std::env::temp_dir().join(format!("dockhand-wine-profile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).expect("profile dir");
    let profile_s = profile.to_str().expect("utf-8 temp path").to_owned();
    assert!(profile_s.contains('\\'), "a Windows path: {profile_s}");
    let clear: [(&str, Option<&str>); 6] = [
        ("DOCKER_HOST", None),
        ("DOCKER_CONTEXT", None),
        ("DOCKER_CONFIG", None),
        ("DOCKER_CERT_PATH", None),
        ("DOCKER_TLS_VERIFY", None),
        ("USERPROFILE", Some(profile_s.as_str())),
    ];
    set_env(&clear);

    // Nothing configured: the docker_engine pipe.
    let c = Config::from_env().expect("default config");
    assert_eq!(c.host, Host::default_host());
    assert_eq!(c.host.to_string(), "npipe:////./pipe/docker_engine");

    // A unix:// host is refused when connecting, naming the path.
    let unix = Docker::connect_with_host("unix:///var/run/docker.sock").expect("config");
    let e = unix
        .system()
        .ping()
        .await
        .expect_err("no unix sockets here");
    let text = format!("{e} {:?}", std::error::Error::source(&e));
    assert!(text.contains("docker.sock"), "{text}");
    assert!(text.contains("not available on this platform"), "{text}");

    // TLS files default to %USERPROFILE%\.docker.
    let dot_docker = profile.join(".docker");
    std::fs::create_dir_all(&dot_docker).unwrap();
    for f in ["ca.pem", "cert.pem", "key.pem"] {
        std::fs::write(dot_docker.join(f), "not used").unwrap();
    }
    set_env(&[
        ("DOCKER_HOST", Some("tcp://127.0.0.1:2376")),
        ("DOCKER_TLS_VERIFY", Some("1")),
    ]);
    let c = Config::from_env().expect("tls config");
    let tls = c.tls.expect("tls on");
    assert_eq!(tls.ca.as_deref(), Some(dot_docker.join("ca.pem").as_path()));
    assert!(
        tls.ca
            .as_ref()
            .unwrap()
            .to_str()
            .unwrap()
            .ends_with(r"\.docker\ca.pem"),
        "{:?}",
        tls.ca
    );
    set_env(&clear);

    // The current context of %USERPROFILE%\.docker\config.json names a pipe,
    // and the client reaches the daemon through it.
    let server = PipeServer::start("context", Duration::ZERO);
    let name = "wine-pipe";
    let id: String = Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let meta = dot_docker.join("contexts").join("meta").join(id);
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        serde_json::json!({
            "Name": name,
            "Metadata": {},
            "Endpoints": {"docker": {"Host": server.host(), "SkipTLSVerify": false}}
        })
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        dot_docker.join("config.json"),
        serde_json::json!({"currentContext": name}).to_string(),
    )
    .unwrap();
    let c = Config::from_env().expect("context config");
    assert_eq!(c.host.to_string(), server.host());
    assert!(c.source.contains(name), "{}", c.source);
    let docker = Docker::connect().expect("client from the context");
    assert_eq!(docker.system().ping().await.expect("ping"), "OK");
    assert!(server.seen.connections.load(Ordering::SeqCst) >= 1);
    println!(
        "context {name:?} from {profile_s}\\.docker\\config.json: {}",
        c.host
    );
    let _ = std::fs::remove_dir_all(&profile);
}
