//! BuildKit builds (`DOCKER_BUILDKIT=1 docker build`), with the `buildkit`
//! cargo feature (on by default).
//!
//! [`Images::build_kit`](crate::api::Images::build_kit) opens a session
//! (`POST /session`, upgraded to h2c) and serves gRPC on it while the daemon
//! builds (`POST /build?version=2&session=…`): the build context and the
//! Dockerfile's directory through fsutil's `DiffCopy` (`.dockerignore`
//! applied with [`Dockerignore`](crate::build::Dockerignore), files
//! streamed in chunks as the daemon asks for them), secrets, registry
//! credentials, ssh agents and `--output` exports. The build's progress
//! arrives as typed [`BuildKitEvent`]s decoded from the daemon's
//! `moby.buildkit.trace` messages; a failed step is
//! [`Error::BuildFailed`] with that step's output.
//!
//! ```no_run
//! # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
//! use dockhand::buildkit::{BuildKitOptions, BuildKitOutcome, PlainProgress, SecretSource};
//! let opts = BuildKitOptions::default()
//!     .tag("app:1")
//!     .target("runtime")
//!     .secret("token", SecretSource::env("API_TOKEN"));
//! let mut plain = PlainProgress::new();
//! let stream = docker.images().build_kit("./app", &opts).await?;
//! let outcome = BuildKitOutcome::collect_with(stream, |event| {
//!     for line in plain.lines(event) {
//!         eprintln!("{line}");
//!     }
//! })
//! .await?;
//! println!("built {:?}", outcome.image_id);
//! # Ok(()) }
//! ```
//!
//! **Why `bollard-buildkit-proto`.** The protobuf messages (BuildKit's
//! `StatusResponse`, fsutil's `Packet`/`Stat`, the secrets, auth, ssh and
//! health messages) come from that crate (Apache-2.0), with its default
//! `grpc` feature off: it is prost types only, generated from the upstream
//! `.proto` files it ships, on prost 0.14, which is what tonic 0.14 (hyper
//! 1, like the rest of dockhand) uses. Generating our own with
//! `prost-build` would need `protoc` on every machine that builds dockhand,
//! or committed output plus a staleness check, for the same messages. The
//! gRPC servers are written here on tonic's server machinery (its codec,
//! framing and status handling, without its transport): the generated
//! `FileSync` server types its stream as `BytesMessage`, but the daemon
//! sends fsutil `Packet`s on that method, so the handlers pick their message
//! types themselves.

mod fsutil;
mod options;
mod progress;
mod session;

pub use options::{BuildKitOptions, BuildOutput, SecretSource, TarSink};
pub use progress::{
    decode_trace, BuildKitEvent, BuildKitOutcome, PlainProgress, Vertex, VertexLog, VertexStatus,
    VertexWarning,
};

use crate::api::{Images, SessionOptions};
use crate::build::BuildContext;
use crate::models::ImageBuildVersion;
use crate::operations::{self as ops, ImageBuildOptions};
use crate::stream::{ByteStream, JsonStream};
use crate::{ApiVersion, Docker, Error, Result};
use futures::Stream;
use session::{Attachables, SyncedDir};
use std::collections::VecDeque;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The protobuf messages used, under short names.
mod proto {
    pub(crate) use bollard_buildkit_proto::fsutil::types::packet::PacketType;
    pub(crate) use bollard_buildkit_proto::fsutil::types::{Packet, Stat};
    pub(crate) use bollard_buildkit_proto::google::protobuf::Timestamp;
    pub(crate) use bollard_buildkit_proto::health::health_check_response::ServingStatus;
    pub(crate) use bollard_buildkit_proto::health::{HealthCheckRequest, HealthCheckResponse};
    pub(crate) use bollard_buildkit_proto::moby::buildkit::secrets::v1::{
        GetSecretRequest, GetSecretResponse,
    };
    pub(crate) use bollard_buildkit_proto::moby::buildkit::v1::StatusResponse;
    #[cfg(test)]
    pub(crate) use bollard_buildkit_proto::moby::buildkit::v1::{Vertex, VertexLog, VertexStatus};
    pub(crate) use bollard_buildkit_proto::moby::filesync::v1::{
        BytesMessage, CredentialsRequest, CredentialsResponse,
    };
    pub(crate) use bollard_buildkit_proto::moby::sshforward::v1::{
        BytesMessage as SshBytes, CheckAgentRequest, CheckAgentResponse,
    };
}

/// The `remote` value that tells dockerd the context comes from the session.
const CLIENT_SESSION_REMOTE: &str = "client-session";

/// An id no other session or build of this process uses, unguessable
/// enough for a session name (the daemon only needs it unique).
fn unique_id(kind: &str) -> String {
    use sha2::{Digest, Sha256};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut h = Sha256::new();
    h.update(kind.as_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(now.as_nanos().to_le_bytes());
    h.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let digest = h.finalize();
    digest[..13].iter().map(|b| format!("{b:02x}")).collect()
}

/// The key that lets the daemon reuse what it already has of a context
/// directory from an earlier build: derived from the directory's path.
fn shared_key(dir: &Path) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(dir.to_string_lossy().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Images {
    /// Builds an image with BuildKit from a local directory
    /// (`DOCKER_BUILDKIT=1 docker build DIR`), returning its progress as a
    /// stream of typed events. The context and the Dockerfile are served
    /// over a session while the build runs; the stream ends when the build
    /// does. A failed step ends it with [`Error::BuildFailed`] carrying
    /// that step's output. Dropping the stream before the end cancels the
    /// build (`POST /build/cancel`) and closes the session.
    ///
    /// Needs API 1.38 (dockerd 18.06) or later.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::buildkit::{BuildKitEvent, BuildKitOptions};
    /// use futures::TryStreamExt;
    /// let opts = BuildKitOptions::default().tag("app:1").build_arg("VERSION", "2");
    /// let mut events = docker.images().build_kit("./app", &opts).await?;
    /// while let Some(event) = events.try_next().await? {
    ///     if let BuildKitEvent::ImageId(id) = event {
    ///         println!("built {id}");
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn build_kit(
        &self,
        context_dir: impl AsRef<Path>,
        options: &BuildKitOptions,
    ) -> Result<BuildKitStream> {
        let docker = self.docker().clone();
        let dockerfile = options.dockerfile.as_deref().unwrap_or("Dockerfile");
        let context = {
            let dir = context_dir.as_ref().to_path_buf();
            let dockerfile = dockerfile.to_owned();
            crate::auth::blocking(move || BuildContext::from_dir(&dir)?.dockerfile(&dockerfile))
                .await?
        };
        let root = context.root().to_path_buf();
        let (dockerfile_dir, dockerfile_name) = options::split_dockerfile(context.dockerfile_rel());
        let mut attachables = Attachables::default();
        attachables.dirs.insert(
            "context".to_owned(),
            SyncedDir {
                dir: root.clone(),
                excludes: Some(context.rules()),
            },
        );
        attachables.dirs.insert(
            "dockerfile".to_owned(),
            SyncedDir {
                dir: root.join(dockerfile_dir),
                excludes: None,
            },
        );
        attachables.secrets = options.secrets.clone();
        attachables.ssh = options.ssh.clone();
        attachables.output = options.output.clone();
        attachables.auth = Some(
            options
                .registry_auth
                .clone()
                .unwrap_or(crate::auth::RegistryAuth::FromEnv),
        );

        let session_id = unique_id("session");
        let build_id = unique_id("build");
        let mut session_opts = SessionOptions::new(session_id.clone())
            .name(
                root.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "context".to_owned()),
            )
            .shared_key(shared_key(&root));
        for m in attachables.methods() {
            session_opts = session_opts.grpc_method(m);
        }

        let mut build = ImageBuildOptions::default()
            .version(ImageBuildVersion::V2)
            .remote(CLIENT_SESSION_REMOTE)
            .dockerfile(dockerfile_name)
            .session(session_id.clone())
            .buildid(build_id.clone());
        if let Some(first) = options.tags.first() {
            build = build.t(first.clone());
        }
        if !options.build_args.is_empty() {
            build = build.buildargs(
                options
                    .build_args
                    .clone()
                    .into_iter()
                    .collect::<std::collections::HashMap<_, _>>(),
            );
        }
        if !options.labels.is_empty() {
            build = build.labels(
                options
                    .labels
                    .clone()
                    .into_iter()
                    .collect::<std::collections::HashMap<_, _>>(),
            );
        }
        if let Some(t) = &options.target {
            build = build.target(t.clone());
        }
        if let Some(p) = &options.platform {
            build = build.platform(p.clone());
        }
        if !options.cache_from.is_empty() {
            build = build.cachefrom(options.cache_from.clone());
        }
        if options.no_cache {
            build = build.nocache(true);
        }
        if options.pull {
            build = build.pull("1");
        }
        if let Some(n) = &options.network {
            build = build.networkmode(n.clone());
        }
        if let Some(out) = &options.output {
            let outputs = serde_json::json!([{ "Type": out.kind(), "Attrs": {} }]);
            build = build.outputs(outputs.to_string());
        }
        let mut request = docker.request(&ops::IMAGE_BUILD).options(&build);
        for t in options.tags.iter().skip(1) {
            request = request.query("t", t.clone());
        }
        for h in &options.extra_hosts {
            request = request.query("extrahosts", h.clone());
        }

        // The session and the build at the same time, as the docker CLI
        // does: dockerd waits for a build's session to appear, and the
        // session is served as soon as it is upgraded (the build's first
        // answer needs the Dockerfile, which comes through the session).
        let attachables = Arc::new(attachables);
        let session = async {
            let conn = docker.session().start(&session_opts).await?;
            Ok::<_, Error>(SessionGuard(tokio::spawn(session::serve(
                conn,
                attachables,
            ))))
        };
        let (guard, inner) = tokio::join!(session, request.json_stream::<Wire>());
        // A session that could not start explains a failed build best.
        let guard = guard?;
        let inner = inner?;
        Ok(BuildKitStream {
            inner,
            pending: VecDeque::new(),
            tracker: progress::Tracker::default(),
            session: Some(guard),
            cancel: Some((docker, build_id)),
            done: false,
        })
    }
}

/// Aborts the session task when dropped.
struct SessionGuard(tokio::task::JoinHandle<()>);

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One message of a BuildKit build's output.
#[derive(Debug, serde::Deserialize)]
struct Wire {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    aux: Option<serde_json::Value>,
    #[serde(default)]
    stream: Option<String>,
}

/// The progress of a BuildKit build: `Stream<Item = Result<BuildKitEvent>>`.
/// Dropping it before its end cancels the build.
pub struct BuildKitStream {
    inner: JsonStream<ByteStream, Wire>,
    pending: VecDeque<BuildKitEvent>,
    tracker: progress::Tracker,
    session: Option<SessionGuard>,
    cancel: Option<(Docker, String)>,
    done: bool,
}

impl std::fmt::Debug for BuildKitStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildKitStream")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl BuildKitStream {
    fn finish(&mut self) {
        self.done = true;
        self.cancel = None;
        self.session = None;
    }

    fn absorb(&mut self, wire: Wire) -> Result<()> {
        match (wire.id.as_deref(), wire.aux) {
            (Some("moby.buildkit.trace"), Some(serde_json::Value::String(b64))) => {
                for e in decode_trace(&b64)? {
                    self.tracker.see(&e);
                    self.pending.push_back(e);
                }
            }
            (Some("moby.image.id"), Some(aux)) => {
                if let Some(id) = aux.get("ID").and_then(|v| v.as_str()) {
                    self.pending
                        .push_back(BuildKitEvent::ImageId(id.to_owned()));
                }
            }
            _ => {
                if let Some(text) = wire.stream.filter(|s| !s.is_empty()) {
                    self.pending.push_back(BuildKitEvent::Message(text));
                }
            }
        }
        Ok(())
    }
}

impl Stream for BuildKitStream {
    type Item = Result<BuildKitEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(e) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(e)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.finish();
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Ok(wire))) => {
                    if let Err(e) = this.absorb(wire) {
                        this.finish();
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Poll::Ready(Some(Err(Error::Api { message, .. }))) => {
                    this.finish();
                    return Poll::Ready(Some(Err(this.tracker.failure(message))));
                }
                Poll::Ready(Some(Err(e))) => {
                    this.finish();
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }
}

impl Drop for BuildKitStream {
    fn drop(&mut self) {
        let Some((docker, id)) = self.cancel.take() else {
            return;
        };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        rt.spawn(async move {
            let r = docker
                .request_path(http::Method::POST, "/build/cancel")
                .query("id", id)
                .since(ApiVersion::new(1, 38))
                .send()
                .await;
            if let Err(e) = r {
                tracing::debug!("cancelling the build: {e}");
            }
        });
    }
}
