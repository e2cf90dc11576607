//! A fake Docker daemon for your own tests (cargo feature `testing`).
//!
//! [`FakeDocker::start`] serves the Engine API on 127.0.0.1 (and, on unix,
//! a Unix socket) from an in-memory engine that keeps containers, images,
//! networks, volumes, exec instances and events consistent across calls,
//! typed with dockhand's generated [`crate::models`]. Your code talks to it
//! through an ordinary [`Docker`] ([`FakeDocker::docker`]), or through
//! anything that honours `DOCKER_HOST` ([`FakeDocker::host`]).
//!
//! # A complete test
//!
//! The code under test, a small "deploy" function:
//!
//! ```
//! use dockhand::models::{ContainerCreateBody, HostConfig};
//! use dockhand::operations::{ContainerCreateOptions, ContainerDeleteOptions, ContainerLogsOptions};
//! use dockhand::Docker;
//! use futures::TryStreamExt;
//! use std::collections::HashMap;
//!
//! /// Replaces the container `name` by one of `image` and returns what it
//! /// printed before it went ready.
//! async fn deploy(docker: &Docker, name: &str, image: &str) -> dockhand::Result<String> {
//!     let containers = docker.containers();
//!     match containers.remove(name, &ContainerDeleteOptions::default().force(true)).await {
//!         Err(e) if e.is_not_found() => {}
//!         other => other?,
//!     }
//!     let body = ContainerCreateBody {
//!         image: Some(image.into()),
//!         labels: Some(HashMap::from([("deployed-by".into(), "deploy".into())])),
//!         host_config: Some(HostConfig { memory: Some(64 << 20), ..Default::default() }),
//!         ..Default::default()
//!     };
//!     containers.create(&body, &ContainerCreateOptions::default().name(name)).await?;
//!     containers.start(name, &Default::default()).await?;
//!     let opts = ContainerLogsOptions::default().stdout(true).follow(true);
//!     let mut logs = containers.logs(name, &opts).await?;
//!     let mut seen = String::new();
//!     while let Some(piece) = logs.try_next().await? {
//!         seen.push_str(&String::from_utf8_lossy(piece.bytes()));
//!         if seen.contains("ready") {
//!             break;
//!         }
//!     }
//!     Ok(seen)
//! }
//!
//! // The test (a `#[tokio::test]` in your crate):
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use dockhand::testing::{ContainerScript, FakeContainer, FakeDocker};
//!
//! let fake = FakeDocker::start().await;
//! fake.image("registry.local/web:2");
//! // An old container is in the way; the new one prints a line and waits.
//! fake.container(FakeContainer::new("web", "registry.local/web:2").running());
//! fake.on_run("registry.local/web:2", ContainerScript::new().stdout("web 2 ready\n"));
//!
//! let out = deploy(&fake.docker(), "web", "registry.local/web:2").await.unwrap();
//! assert_eq!(out, "web 2 ready\n");
//!
//! // What the daemon saw, typed.
//! let create = fake.requests_for("ContainerCreate").pop().unwrap();
//! assert_eq!(create.query("name"), Some("web"));
//! let body: ContainerCreateBody = create.json().unwrap();
//! assert_eq!(body.host_config.unwrap().memory, Some(64 << 20));
//! // And the state it left: one running container with the label.
//! let running = fake.docker().containers().list(&Default::default()).await.unwrap();
//! assert_eq!(running.len(), 1);
//! assert_eq!(running[0].labels.as_ref().unwrap()["deployed-by"], "deploy");
//!
//! // Faults: the next start fails as a daemon would say it.
//! fake.inject(dockhand::testing::Fault::status("ContainerStart", 500, "no space left on device"));
//! let err = deploy(&fake.docker(), "web", "registry.local/web:2").await.unwrap_err();
//! assert!(err.to_string().contains("no space left on device"));
//! # }
//! ```
//!
//! # What it does
//!
//! - **Version and platform**: [`FakeDockerBuilder::api_version`] (1.25 to
//!   1.56; the `Api-Version` header of `/_ping` and every answer; a newer
//!   version prefix is refused as dockerd refuses it), [`FakeDockerBuilder::os`]
//!   (`linux`, `windows`: `Ostype`, `/version`, `/info`), and
//!   [`FakeDockerBuilder::engine_version`].
//! - **Containers**: create (404 for a missing image, 409 for a taken
//!   name), inspect, list (`all`, `limit`, filters `label`, `name` as a
//!   regular expression, `status`, `id`, `ancestor`, `exited`, `since`,
//!   `before`, `network`, `health`, `is-task`; unknown filters and values
//!   are 400 as dockerd says), start (304 when running), stop,
//!   restart, kill, pause, rename, attach (hijacked: the output from then
//!   on, or from the start with `logs`, until the container exits; a
//!   created or exited container's next run; stdin
//!   kept for [`FakeDocker::container_stdin`]), wait (`not-running`, `next-exit`,
//!   `removed`; headers at once, the body at exit), logs (stdout/stderr
//!   frames, or raw bytes for TTY containers; `follow` until the container
//!   stops, `tail`, `since`, `until`, `timestamps`), remove (409 when
//!   running without `force`), top (the scripted command; 409 unless
//!   running), prune (stopped containers; `label`, `label!`). What a
//!   started container does is a
//!   [`ContainerScript`]: per container, per image ([`FakeDocker::on_run`])
//!   or chosen by a closure. Unscripted, a few commands do what they say
//!   (`echo` with `>&2`, `exit N`, `true`, `false`, `sleep N`, `tty`, alone
//!   or in `sh -c 'a; b'`); anything else runs until stopped.
//! - **Exec**: create (409 unless running), start on a hijacked connection
//!   (`101`; stdin until the client shuts its writer down; output in
//!   stdcopy frames unless the *start* body asks for a TTY, as dockerd
//!   decides, with a TTY exec's `\n` turned into `\r\n`), without an
//!   upgrade, or detached; inspect with the exit code. The process is
//!   your [`FakeDocker::on_exec`] handler; unscripted, the same commands
//!   as above work (and `cat` copies stdin), anything else fails as a
//!   missing executable (exit code 126).
//! - **Images**: seeded ([`FakeDocker::image`]), pulled when scripted
//!   ([`FakeDocker::pullable`], progress as dockerd streams it or an in-band
//!   error), inspect, list (`label`, `reference`, `dangling`), tag, remove.
//! - **Networks** (`bridge`, `host`, `none` predefined): create, inspect
//!   (with the running containers on it), list with filters, connect and
//!   disconnect (events while the container runs), remove (403 while in
//!   use); containers join their `NetworkMode` and `EndpointsConfig`
//!   networks; prune. **Volumes**: create, inspect, list with filters,
//!   remove, prune (anonymous ones only from API 1.42 unless `all`).
//! - **Events**: every change above, with `since`, `until` and filters
//!   (`type`, `event`, `container`, `image`, `label`, `network`, `volume`);
//!   without `until` the stream follows. Below API 1.52 container and image
//!   events carry the legacy `status`, `id`, `from` fields.
//! - **Errors** use dockerd's messages: `No such container: x`,
//!   `No such exec instance: x`, `network x not found`,
//!   `get x: no such volume`, `page not found`, …
//! - **Scripting and assertions**: [`FakeDocker::inject`] a [`Fault`] (a
//!   status, a body cut after N bytes, latency) for the next matching
//!   operation; [`FakeDocker::requests`] returns every request received, as
//!   [`ReceivedRequest`]s with the operation id, decoded query and a body
//!   decodable into the generated types.
//!
//! # Design
//!
//! wiremock answers with whole buffered bodies and cannot hand over a
//! connection, so the fake is its own small hyper server. For each request
//! it first asks a [`wiremock::MockServer`] ([`FakeDocker::mock_server`]):
//! a catch-all mock of the lowest priority (`u8::MAX`) there answers "not
//! mocked" and the engine takes over; any mock you mount with a higher
//! priority (wiremock's default is 5) answers instead, so raw mocks always
//! take precedence. Then faults apply, then the engine answers. Every
//! answer of the engine is decoded into its generated model before it is
//! sent, so the fake cannot drift from what dockhand can read.
//!
//! # Known differences from dockerd
//!
//! The conformance test (`tests/conformance.rs`) runs one set of scenarios
//! against a real dockerd and against the fake and compares what the client
//! observes (lifecycle, logs, wait, follow, stop, kill, attach, exec with
//! stdin, stderr and TTY, pull progress and its events, container events,
//! network connect/disconnect and its events, 404/409/403/400 errors, list
//! filters). The test environment's dockerd is
//! 20.10 (API 1.41), so that is the version it proves; what it does not
//! cover, and what is knowingly different:
//!
//! - Nothing runs: container and exec output, exit codes and durations are
//!   scripted. Stdout and stderr keep the order they were scripted in
//!   (dockerd's log files may interleave them differently).
//! - A container's stdin goes nowhere but [`FakeDocker::container_stdin`]:
//!   scripted processes do not read it (execs do).
//! - Operations outside the list above (archives, export, stats, changes,
//!   build, commit, import/load/save, push, image prune, auth, swarm,
//!   plugins, …) answer `501` naming the operation; mount a mock for them.
//! - Inspect and list answers carry the fields clients use; many
//!   host-specific fields (paths, graph driver data, IP addresses, sandbox
//!   keys) are absent or empty.
//! - Events: no `network connect` for networks other than the default
//!   bridge; `exec_create`/`exec_start` actions carry the command as dockerd
//!   does, `exec_die` the exit code.
//! - Error messages are dockerd 20.10's (API 1.41, compared) when the fake
//!   speaks 1.41 or older; above that, the two messages that changed
//!   (removing a running container, inspecting a missing image) follow
//!   current dockerd's source, not a comparison. Content types of streams
//!   follow the API version (from 1.42 `multiplexed-stream`/`raw-stream`).
//! - Network names are unique: a 20.10 daemon creates a second network of
//!   the same name unless `CheckDuplicate` is set (API 1.44+ daemons refuse,
//!   as the fake does). Connecting a *created* container to a missing
//!   network is refused (20.10 records it and fails later). Below API 1.42
//!   a running container's disconnect is reported twice, as 20.10 does.
//! - Ports, mounts, volumes in containers, isolation and healthchecks are
//!   not modelled: list filters `publish`, `expose`, `volume`, `isolation`
//!   match nothing and `health` matches only `none`.
//! - Ids are random hex, names of unnamed containers come from a small
//!   list, `docker ps` durations are computed as the CLI words them.
//! - A pull of an image that is neither scripted nor present fails as a
//!   missing manifest (a `host:port/` registry) or as denied access (Docker
//!   Hub names); one present locally is "up to date".
//! - The `101` of a hijacked exec says `Switching Protocols`, not
//!   `UPGRADED`; request bodies above 64 MiB are refused.

mod engine;
mod requests;
mod script;
mod server;
mod shell;

pub use requests::ReceivedRequest;
pub use script::{ContainerScript, ExecProcess, FakeContainer, FakeImage, Fault, PullScript};

use crate::models::ContainerCreateBody;
use crate::{ApiVersion, Docker};
use engine::{Identity, Shared};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::task::AbortHandle;

/// A running fake daemon. Dropping it stops serving.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let fake = dockhand::testing::FakeDocker::start().await;
/// let docker = fake.docker();
/// assert_eq!(docker.system().ping().await.unwrap(), "OK");
/// # }
/// ```
pub struct FakeDocker {
    shared: Arc<Shared>,
    mock: wiremock::MockServer,
    addr: SocketAddr,
    socket: Option<PathBuf>,
    tasks: Vec<AbortHandle>,
}

impl std::fmt::Debug for FakeDocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeDocker")
            .field("addr", &self.addr)
            .field("socket", &self.socket)
            .field("api_version", &self.shared.identity.api_version)
            .field("os", &self.shared.identity.os)
            .finish_non_exhaustive()
    }
}

/// Settings of a [`FakeDocker`] before it starts.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use dockhand::{testing::FakeDocker, ApiVersion};
/// let fake = FakeDocker::builder()
///     .api_version(ApiVersion::new(1, 41))
///     .os("windows")
///     .engine_version("20.10.24")
///     .start()
///     .await;
/// let info = fake.docker().daemon_info().await.unwrap();
/// assert_eq!(info.api_version, ApiVersion::new(1, 41));
/// assert_eq!(info.os_type.as_deref(), Some("windows"));
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct FakeDockerBuilder {
    identity: Identity,
    unix_socket: bool,
}

impl Default for FakeDockerBuilder {
    fn default() -> Self {
        FakeDockerBuilder {
            identity: Identity {
                api_version: ApiVersion::NEWEST,
                min_api_version: ApiVersion::new(1, 24),
                os: "linux".into(),
                engine_version: "29.0.0".into(),
            },
            unix_socket: cfg!(unix),
        }
    }
}

impl FakeDockerBuilder {
    /// The API version the fake speaks (default: the newest dockhand knows).
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.identity.api_version = version;
        self
    }

    /// The oldest API version it accepts in a path prefix (default 1.24).
    pub fn min_api_version(mut self, version: ApiVersion) -> Self {
        self.identity.min_api_version = version;
        self
    }

    /// The OS it reports (`linux`, the default, or `windows`).
    pub fn os(mut self, os: impl Into<String>) -> Self {
        self.identity.os = os.into();
        self
    }

    /// The engine version it reports (`/version`, `Server` header).
    pub fn engine_version(mut self, version: impl Into<String>) -> Self {
        self.identity.engine_version = version.into();
        self
    }

    /// Whether to serve a Unix socket too (default: on unix).
    pub fn unix_socket(mut self, on: bool) -> Self {
        self.unix_socket = on && cfg!(unix);
        self
    }

    /// Starts serving.
    ///
    /// # Panics
    ///
    /// When it cannot listen on 127.0.0.1 or its Unix socket (see
    /// [`FakeDockerBuilder::try_start`]); a test cannot go on without it.
    pub async fn start(self) -> FakeDocker {
        match self.try_start().await {
            Ok(f) => f,
            Err(e) => panic!("dockhand fake daemon: cannot listen: {e}"),
        }
    }

    /// Starts serving, or says why it cannot listen.
    pub async fn try_start(self) -> std::io::Result<FakeDocker> {
        let mock = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(wiremock::ResponseTemplate::new(599).insert_header(server::UNMOCKED, "1"))
            .with_priority(u8::MAX)
            .named("dockhand fake: not mocked, the fake engine answers")
            .mount(&mock)
            .await;
        let shared = Shared::new(self.identity);
        let ctx = Arc::new(server::Ctx {
            shared: shared.clone(),
            mock_addr: *mock.address(),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let mut tasks = Vec::new();
        let c = ctx.clone();
        tasks.push(
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let _ = stream.set_nodelay(true);
                    engine::spawn_until(
                        c.shared.shutdown.clone(),
                        server::serve_connection(stream, c.clone()),
                    );
                }
            })
            .abort_handle(),
        );
        let socket = if self.unix_socket {
            serve_unix_socket(&ctx, &mut tasks)?
        } else {
            None
        };
        Ok(FakeDocker {
            shared,
            mock,
            addr,
            socket,
            tasks,
        })
    }
}

/// Listens on a fresh Unix socket in the temporary directory; its path.
#[cfg(unix)]
fn serve_unix_socket(
    ctx: &Arc<server::Ctx>,
    tasks: &mut Vec<AbortHandle>,
) -> std::io::Result<Option<PathBuf>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "dockhand-fake-{}-{}.sock",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)?;
    let c = ctx.clone();
    tasks.push(
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                engine::spawn_until(
                    c.shared.shutdown.clone(),
                    server::serve_connection(stream, c.clone()),
                );
            }
        })
        .abort_handle(),
    );
    Ok(Some(path))
}

/// No Unix sockets here: TCP only.
#[cfg(not(unix))]
fn serve_unix_socket(
    _ctx: &Arc<server::Ctx>,
    _tasks: &mut Vec<AbortHandle>,
) -> std::io::Result<Option<PathBuf>> {
    Ok(None)
}

impl Drop for FakeDocker {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
        for t in &self.tasks {
            t.abort();
        }
        if let Some(p) = &self.socket {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl FakeDocker {
    /// Starts a fake with the defaults: the newest API version, `linux`, a
    /// Unix socket on unix.
    ///
    /// # Panics
    ///
    /// When it cannot listen (see [`FakeDockerBuilder::try_start`]).
    pub async fn start() -> FakeDocker {
        FakeDockerBuilder::default().start().await
    }

    /// Settings before starting.
    pub fn builder() -> FakeDockerBuilder {
        FakeDockerBuilder::default()
    }

    /// A client connected to the fake over TCP (each call a new client; all
    /// see the same state).
    pub fn docker(&self) -> Docker {
        // A tcp:// host with no TLS settings cannot fail to configure.
        Docker::builder()
            .host(self.host())
            .build()
            .unwrap_or_else(|e| panic!("dockhand fake: client for {}: {e}", self.host()))
    }

    /// `tcp://127.0.0.1:PORT`, for `DOCKER_HOST` or [`Docker::connect_with_host`].
    pub fn host(&self) -> String {
        format!("tcp://{}", self.addr)
    }

    /// `unix:///…/dockhand-fake-….sock`, when it serves a Unix socket.
    pub fn unix_host(&self) -> Option<String> {
        self.socket
            .as_ref()
            .map(|p| format!("unix://{}", p.display()))
    }

    /// The wiremock server consulted before the engine: mount raw mocks on
    /// it (any priority but `u8::MAX`) and they answer instead of the fake.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use wiremock::{matchers::path, Mock, ResponseTemplate};
    /// let fake = dockhand::testing::FakeDocker::start().await;
    /// Mock::given(path("/v1.56/containers/web/top"))
    ///     .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
    ///         "Titles": ["PID", "CMD"], "Processes": [["1", "nginx"]]
    ///     })))
    ///     .mount(fake.mock_server())
    ///     .await;
    /// let top = fake.docker().containers().top("web", &Default::default()).await.unwrap();
    /// assert_eq!(top.processes.unwrap()[0][1], "nginx");
    /// # }
    /// ```
    pub fn mock_server(&self) -> &wiremock::MockServer {
        &self.mock
    }

    /// Seeds a local image (`busybox`, `busybox:1.36`, …); returns its id.
    pub fn image(&self, reference: &str) -> String {
        self.shared.seed_image(FakeImage::new(reference))
    }

    /// Seeds a local image with labels, command, environment; returns its id.
    pub fn add_image(&self, image: FakeImage) -> String {
        self.shared.seed_image(image)
    }

    /// Makes `reference` pullable: a pull streams the script's progress and
    /// stores the image (or ends with the script's in-band error).
    pub fn pullable(&self, reference: &str, script: PullScript) {
        self.shared.seed_pullable(reference, script)
    }

    /// Seeds a container; returns its id (the existing one's when the name
    /// is taken).
    pub fn container(&self, container: FakeContainer) -> String {
        self.shared.seed_container(container)
    }

    /// Scripts what an existing container (name or id) does on its next
    /// start; `false` when there is no such container.
    pub fn script_container(&self, name_or_id: &str, script: ContainerScript) -> bool {
        self.shared.set_script(name_or_id, script)
    }

    /// Scripts what containers of `image` do when started (later calls win).
    pub fn on_run(&self, image: &str, script: ContainerScript) {
        let want = engine::normalize_ref(image);
        self.on_run_with(move |body, _name| {
            let img = body.image.as_deref().map(engine::normalize_ref);
            (img.as_deref() == Some(want.as_str())).then(|| script.clone())
        })
    }

    /// Chooses a script from a container's create body and name when it
    /// starts; `None` leaves the choice to earlier choosers and the defaults.
    pub fn on_run_with<F>(&self, choose: F)
    where
        F: Fn(&ContainerCreateBody, &str) -> Option<ContainerScript> + Send + Sync + 'static,
    {
        lock(&self.shared.scripts).push(Arc::new(choose));
    }

    /// Runs every exec with `handler`: it gets the process (command, stdin,
    /// stdout/stderr writers) and returns the exit code.
    ///
    /// ```
    /// # fn f(fake: &dockhand::testing::FakeDocker) {
    /// fake.on_exec(|mut p| async move {
    ///     let input = p.read_stdin_to_end().await;
    ///     p.stdout(input.to_ascii_uppercase()).await;
    ///     p.stderr(format!("{:?} done\n", p.cmd)).await;
    ///     0
    /// });
    /// # }
    /// ```
    pub fn on_exec<F, Fut>(&self, handler: F)
    where
        F: Fn(ExecProcess) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = i64> + Send + 'static,
    {
        let handler = Arc::new(handler);
        *lock(&self.shared.exec_handler) = Some(Arc::new(move |p| {
            let h = handler.clone();
            Box::pin(async move { h(p).await })
        }));
    }

    /// What clients attached with stdin (`docker attach`, `docker run -i`)
    /// wrote to a container (name or id) so far; `None` when there is no such
    /// container.
    pub fn container_stdin(&self, name_or_id: &str) -> Option<bytes::Bytes> {
        self.shared.container_stdin(name_or_id)
    }

    /// Injects a fault for the next matching request(s).
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    /// Every request received so far, in order (pings included).
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The requests of one operation (`"ContainerCreate"`, …).
    pub fn requests_for(&self, operation: &str) -> Vec<ReceivedRequest> {
        lock(&self.shared.requests)
            .iter()
            .filter(|r| r.operation == Some(operation))
            .cloned()
            .collect()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
