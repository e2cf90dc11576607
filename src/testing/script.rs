//! What a test scripts: container processes, exec handlers, pulls, faults,
//! and the images and containers it seeds.

use crate::models::CreateImageInfo;
use bytes::Bytes;
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// One step of a scripted container process.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// Output on stdout (1) or stderr (2).
    Output(u8, Bytes),
    /// A pause.
    Sleep(Duration),
}

/// What a container does once started: the output it writes (kept as its
/// logs), pauses, and whether it exits by itself (with which code) or runs
/// until it is stopped or killed.
///
/// ```
/// use dockhand::testing::ContainerScript;
/// use std::time::Duration;
/// let script = ContainerScript::new()
///     .stdout("listening on :8080\n")
///     .sleep(Duration::from_millis(50))
///     .stderr("shutting down\n")
///     .exit(3);
/// # let _ = script;
/// ```
#[derive(Debug, Clone)]
pub struct ContainerScript {
    pub(crate) steps: Vec<Step>,
    pub(crate) exit: Option<i64>,
    pub(crate) stop_exit_code: i64,
}

impl Default for ContainerScript {
    fn default() -> Self {
        ContainerScript::new()
    }
}

impl ContainerScript {
    /// A process that writes nothing and runs until stopped (like `sleep`).
    pub fn new() -> Self {
        ContainerScript {
            steps: Vec::new(),
            exit: None,
            stop_exit_code: 137,
        }
    }

    /// Writes `data` on stdout (for a TTY container, on its console).
    #[must_use]
    pub fn stdout(mut self, data: impl Into<Bytes>) -> Self {
        self.steps.push(Step::Output(1, data.into()));
        self
    }

    /// Writes `data` on stderr (for a TTY container, on its console).
    #[must_use]
    pub fn stderr(mut self, data: impl Into<Bytes>) -> Self {
        self.steps.push(Step::Output(2, data.into()));
        self
    }

    /// Pauses before the next step.
    #[must_use]
    pub fn sleep(mut self, pause: Duration) -> Self {
        self.steps.push(Step::Sleep(pause));
        self
    }

    /// Exits with `code` after the steps (without it the process runs until
    /// stopped).
    #[must_use]
    pub fn exit(mut self, code: i64) -> Self {
        self.exit = Some(code);
        self
    }

    /// The exit code `docker stop` leaves (default 137: a process that
    /// ignores SIGTERM and is killed, as `sleep` as PID 1 is).
    #[must_use]
    pub fn stop_exit_code(mut self, code: i64) -> Self {
        self.stop_exit_code = code;
        self
    }
}

/// An image the fake knows, locally or in a (fake) registry.
///
/// ```
/// use dockhand::testing::FakeImage;
/// let img = FakeImage::new("127.0.0.1:5000/team/app:1").label("team", "core").cmd(["app", "serve"]);
/// # let _ = img;
/// ```
#[derive(Debug, Clone)]
pub struct FakeImage {
    pub(crate) reference: String,
    pub(crate) labels: HashMap<String, String>,
    pub(crate) cmd: Vec<String>,
    pub(crate) env: Vec<String>,
    pub(crate) size: i64,
}

impl FakeImage {
    /// An image called `reference` (`busybox`, `busybox:1.36`,
    /// `127.0.0.1:5000/team/app:1`; no tag means `latest`), whose default
    /// command is `sh`.
    pub fn new(reference: impl Into<String>) -> Self {
        FakeImage {
            reference: reference.into(),
            labels: HashMap::new(),
            cmd: vec!["sh".into()],
            env: vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()],
            size: 4_261_550,
        }
    }

    /// A label of the image.
    #[must_use]
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// The image's default command.
    #[must_use]
    pub fn cmd<I, S>(mut self, cmd: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.cmd = cmd.into_iter().map(Into::into).collect();
        self
    }

    /// The image's environment (`KEY=value`).
    #[must_use]
    pub fn env(mut self, entry: impl Into<String>) -> Self {
        self.env.push(entry.into());
        self
    }
}

/// What pulling a scripted image streams: the daemon's progress messages
/// for some layers (generated, or given as they are), or an error reported
/// inside the stream, as a registry failure mid-pull is.
///
/// ```
/// use dockhand::testing::PullScript;
/// let ok = PullScript::new().layers(3);
/// let broken = PullScript::new().fail("received unexpected HTTP status: 500 Internal Server Error");
/// # let _ = (ok, broken);
/// ```
#[derive(Debug, Clone)]
pub struct PullScript {
    pub(crate) layers: usize,
    pub(crate) messages: Option<Vec<CreateImageInfo>>,
    pub(crate) error: Option<String>,
    pub(crate) delay: Duration,
    pub(crate) image: Option<FakeImage>,
}

impl Default for PullScript {
    fn default() -> Self {
        PullScript::new()
    }
}

impl PullScript {
    /// A pull of one layer that succeeds.
    pub fn new() -> Self {
        PullScript {
            layers: 1,
            messages: None,
            error: None,
            delay: Duration::ZERO,
            image: None,
        }
    }

    /// How many layers the generated progress shows (0: all already present).
    #[must_use]
    pub fn layers(mut self, n: usize) -> Self {
        self.layers = n;
        self
    }

    /// Streams exactly these messages instead of generated ones (the image
    /// is stored unless one carries an error).
    #[must_use]
    pub fn messages(mut self, messages: Vec<CreateImageInfo>) -> Self {
        self.messages = Some(messages);
        self
    }

    /// Ends the stream with this in-band error (`errorDetail`) after the
    /// first progress messages; the image is not stored.
    #[must_use]
    pub fn fail(mut self, message: impl Into<String>) -> Self {
        self.error = Some(message.into());
        self
    }

    /// A pause before each message.
    #[must_use]
    pub fn delay(mut self, pause: Duration) -> Self {
        self.delay = pause;
        self
    }

    /// The image a successful pull stores (labels, command); by default a
    /// plain [`FakeImage`] of the pulled reference.
    #[must_use]
    pub fn image(mut self, image: FakeImage) -> Self {
        self.image = Some(image);
        self
    }
}

/// A container to seed with [`crate::testing::FakeDocker::container`]:
/// created (the default) or already running, with labels and a script.
///
/// ```
/// use dockhand::testing::{ContainerScript, FakeContainer};
/// let web = FakeContainer::new("web", "nginx:1.27")
///     .label("app", "web")
///     .running()
///     .script(ContainerScript::new().stdout("ready\n"));
/// # let _ = web;
/// ```
#[derive(Debug, Clone)]
pub struct FakeContainer {
    pub(crate) name: String,
    pub(crate) image: String,
    pub(crate) labels: HashMap<String, String>,
    pub(crate) cmd: Option<Vec<String>>,
    pub(crate) tty: bool,
    pub(crate) running: bool,
    pub(crate) script: Option<ContainerScript>,
}

impl FakeContainer {
    /// A container `name` of `image` (the image is seeded when missing).
    pub fn new(name: impl Into<String>, image: impl Into<String>) -> Self {
        FakeContainer {
            name: name.into(),
            image: image.into(),
            labels: HashMap::new(),
            cmd: None,
            tty: false,
            running: false,
            script: None,
        }
    }

    /// A label.
    #[must_use]
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// The command.
    #[must_use]
    pub fn cmd<I, S>(mut self, cmd: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.cmd = Some(cmd.into_iter().map(Into::into).collect());
        self
    }

    /// Whether it has a TTY (its logs are then raw bytes, not frames).
    #[must_use]
    pub fn tty(mut self, tty: bool) -> Self {
        self.tty = tty;
        self
    }

    /// Seeds it started (its script runs).
    #[must_use]
    pub fn running(mut self) -> Self {
        self.running = true;
        self
    }

    /// What it does when started.
    #[must_use]
    pub fn script(mut self, script: ContainerScript) -> Self {
        self.script = Some(script);
        self
    }
}

/// A fault injected into the fake: for the next matching request (or the
/// next `n`, or every one), answer an error status, cut the response body
/// after some bytes, or answer late.
///
/// Requests are matched by operation id, as in [`crate::operations`]
/// (`"ContainerStart"`, `"ContainerLogs"`, `"ImageCreate"`, `"SystemPing"`,
/// …), optionally narrowed to paths containing a string (a container name).
///
/// ```
/// use dockhand::testing::Fault;
/// use std::time::Duration;
/// let f1 = Fault::status("ContainerStart", 500, "driver failed programming external connectivity");
/// let f2 = Fault::cut_after("ContainerLogs", 10).times(2);
/// let f3 = Fault::delay("ContainerList", Duration::from_millis(200)).always();
/// let f4 = Fault::status("ContainerInspect", 503, "busy").path_contains("web");
/// # let _ = (f1, f2, f3, f4);
/// ```
#[derive(Debug, Clone)]
pub struct Fault {
    pub(crate) operation: String,
    pub(crate) path_contains: Option<String>,
    pub(crate) kind: FaultKind,
    /// `None`: every matching request.
    pub(crate) remaining: Option<usize>,
}

#[derive(Debug, Clone)]
pub(crate) enum FaultKind {
    Status(u16, String),
    CutAfter(usize),
    Delay(Duration),
}

impl Fault {
    /// Answers `status` with the daemon's error body `{"message": …}`.
    pub fn status(operation: impl Into<String>, status: u16, message: impl Into<String>) -> Self {
        Fault::new(operation, FaultKind::Status(status, message.into()))
    }

    /// Sends the response's headers and its first `bytes` body bytes, then
    /// drops the connection (a chunked body that never ends properly).
    pub fn cut_after(operation: impl Into<String>, bytes: usize) -> Self {
        Fault::new(operation, FaultKind::CutAfter(bytes))
    }

    /// Waits `pause` before handling the request.
    pub fn delay(operation: impl Into<String>, pause: Duration) -> Self {
        Fault::new(operation, FaultKind::Delay(pause))
    }

    fn new(operation: impl Into<String>, kind: FaultKind) -> Self {
        Fault {
            operation: operation.into(),
            path_contains: None,
            kind,
            remaining: Some(1),
        }
    }

    /// Only for requests whose path contains `text`.
    #[must_use]
    pub fn path_contains(mut self, text: impl Into<String>) -> Self {
        self.path_contains = Some(text.into());
        self
    }

    /// For the next `n` matching requests (the default is 1).
    #[must_use]
    pub fn times(mut self, n: usize) -> Self {
        self.remaining = Some(n);
        self
    }

    /// For every matching request.
    #[must_use]
    pub fn always(mut self) -> Self {
        self.remaining = None;
        self
    }
}

/// An exec the fake runs: what was asked, its stdin (when attached) and
/// its stdout/stderr (framed or raw, as the client expects).
pub struct ExecProcess {
    /// The container's id.
    pub container_id: String,
    /// The command (`Cmd` of the exec create body).
    pub cmd: Vec<String>,
    /// `Env` of the exec create body.
    pub env: Vec<String>,
    /// Whether it has a TTY (`Tty` of the exec create body): stdout and
    /// stderr are then one terminal, whose `\n` the client sees as `\r\n`.
    pub tty: bool,
    /// Whether output goes out in stdcopy frames: dockerd decides by the
    /// *start* body's `Tty` (absent means framed), not the create body's.
    pub(crate) framed: bool,
    pub(crate) stdin: Option<Box<dyn AsyncRead + Send + Unpin>>,
    pub(crate) output: Arc<tokio::sync::Mutex<ExecOutput>>,
}

impl fmt::Debug for ExecProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExecProcess")
            .field("container_id", &self.container_id)
            .field("cmd", &self.cmd)
            .field("tty", &self.tty)
            .field("stdin", &self.stdin.is_some())
            .finish()
    }
}

/// Where an exec's output goes.
pub(crate) enum ExecOutput {
    /// A hijacked connection.
    Conn(Box<dyn AsyncWrite + Send + Unpin>),
    /// A streamed response body (a start without upgrade).
    Channel(tokio::sync::mpsc::Sender<Bytes>),
    /// Detached: nobody reads it.
    Discard,
}

impl ExecProcess {
    /// The process's stdin, when the client attached it: reads end when the
    /// client shuts its writer down.
    pub fn stdin(&mut self) -> Option<&mut (dyn AsyncRead + Send + Unpin)> {
        match &mut self.stdin {
            Some(s) => Some(&mut **s),
            None => None,
        }
    }

    /// Reads stdin until the client closes it (empty when not attached).
    pub async fn read_stdin_to_end(&mut self) -> Vec<u8> {
        let mut buf = Vec::new();
        if let Some(s) = &mut self.stdin {
            let _ = s.read_to_end(&mut buf).await;
        }
        buf
    }

    /// Writes to stdout. Errors (the client went away) are ignored, as a
    /// process's writes to a closed pipe would end it anyway.
    pub async fn stdout(&mut self, data: impl AsRef<[u8]>) {
        self.write(1, data.as_ref()).await
    }

    /// Writes to stderr.
    pub async fn stderr(&mut self, data: impl AsRef<[u8]>) {
        self.write(2, data.as_ref()).await
    }

    async fn write(&mut self, stream: u8, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let (stream, data) = if self.tty {
            (1, onlcr(data))
        } else {
            (stream, Bytes::copy_from_slice(data))
        };
        let bytes = if self.framed {
            frame(stream, &data)
        } else {
            data
        };
        match &mut *self.output.lock().await {
            ExecOutput::Conn(w) => {
                let _ = w.write_all(&bytes).await;
                let _ = w.flush().await;
            }
            ExecOutput::Channel(tx) => {
                let _ = tx.send(bytes).await;
            }
            ExecOutput::Discard => {}
        }
    }
}

impl ExecOutput {
    /// Sends bytes as they are; `false` once nobody reads them.
    pub(crate) async fn send(&mut self, bytes: Bytes) -> bool {
        match self {
            ExecOutput::Conn(w) => w.write_all(&bytes).await.is_ok() && w.flush().await.is_ok(),
            ExecOutput::Channel(tx) => tx.send(bytes).await.is_ok(),
            ExecOutput::Discard => true,
        }
    }

    /// Ends the output (EOF for the client).
    pub(crate) async fn close(&mut self) {
        if let ExecOutput::Conn(w) = self {
            let _ = w.shutdown().await;
        }
        *self = ExecOutput::Discard;
    }
}

/// Ends an exec's output once its exit code is recorded: the client sees
/// EOF only then, as with dockerd.
pub(crate) async fn finish_output(output: Arc<tokio::sync::Mutex<ExecOutput>>) {
    let mut out = output.lock().await;
    if let ExecOutput::Conn(w) = &mut *out {
        let _ = w.shutdown().await;
    }
    *out = ExecOutput::Discard;
}

/// What a terminal's output processing (`ONLCR`) makes of written bytes:
/// each `\n` arrives as `\r\n`, as a TTY exec or container shows it.
pub(crate) fn onlcr(data: &[u8]) -> Bytes {
    let mut v = Vec::with_capacity(data.len() + data.len() / 16);
    for &b in data {
        if b == b'\n' {
            v.push(b'\r');
        }
        v.push(b);
    }
    Bytes::from(v)
}

/// A stdcopy frame: stream byte, three zero bytes, big-endian length, data.
pub(crate) fn frame(stream: u8, data: &[u8]) -> Bytes {
    let mut v = Vec::with_capacity(8 + data.len());
    v.push(stream);
    v.extend_from_slice(&[0, 0, 0]);
    v.extend_from_slice(&(data.len() as u32).to_be_bytes());
    v.extend_from_slice(data);
    Bytes::from(v)
}

/// A scripted exec: receives the process, returns its exit code.
pub(crate) type ExecHandler = Arc<dyn Fn(ExecProcess) -> BoxFuture<'static, i64> + Send + Sync>;

/// Chooses a script for a container being started from its create body and
/// name; `None` passes to the next.
pub(crate) type ScriptChooser =
    Arc<dyn Fn(&crate::models::ContainerCreateBody, &str) -> Option<ContainerScript> + Send + Sync>;
