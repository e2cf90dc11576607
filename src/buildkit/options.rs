//! What a BuildKit build is asked to do: [`BuildKitOptions`].

use crate::auth::RegistryAuth;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWrite;

/// Options of [`Images::build_kit`](crate::api::Images::build_kit), the
/// flags of `docker build` with BuildKit. `Default` plus `#[must_use]`
/// setters.
///
/// ```no_run
/// use dockhand::buildkit::{BuildKitOptions, BuildOutput, SecretSource};
/// let opts = BuildKitOptions::default()
///     .dockerfile("docker/Dockerfile.prod")
///     .tag("127.0.0.1:5000/app:1")
///     .build_arg("VERSION", "1.2")
///     .target("runtime")
///     .label("org.example.team", "web")
///     .secret("npmrc", SecretSource::file("/home/me/.npmrc"))
///     .output(BuildOutput::local("./out"));
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct BuildKitOptions {
    /// The Dockerfile's path inside the context (`-f`); `Dockerfile` if unset.
    pub dockerfile: Option<String>,
    /// Names for the image (`-t`, repeatable).
    pub tags: Vec<String>,
    /// `--build-arg NAME=VALUE`.
    pub build_args: BTreeMap<String, String>,
    /// The stage to build (`--target`).
    pub target: Option<String>,
    /// Labels of the image (`--label`).
    pub labels: BTreeMap<String, String>,
    /// The platform to build for (`--platform linux/amd64`).
    pub platform: Option<String>,
    /// Images to take cache from (`--cache-from`).
    pub cache_from: Vec<String>,
    /// Do not use the build cache (`--no-cache`).
    pub no_cache: bool,
    /// Always look for newer base images (`--pull`).
    pub pull: bool,
    /// The network of `RUN` steps (`--network`: `default`, `host`, `none`).
    pub network: Option<String>,
    /// `--add-host NAME:IP` entries.
    pub extra_hosts: Vec<String>,
    /// Where the result goes (`--output`); unset: an image in the daemon.
    pub output: Option<BuildOutput>,
    /// Secrets for `RUN --mount=type=secret,id=ID` (`--secret`), by id.
    pub secrets: BTreeMap<String, SecretSource>,
    /// ssh agent sockets for `RUN --mount=type=ssh[,id=ID]` (`--ssh`), by
    /// id (`default` when the Dockerfile names none).
    pub ssh: BTreeMap<String, PathBuf>,
    /// Registry credentials the build may use to pull its base images.
    /// Unset: those `config.json` gives, as for pulls
    /// ([`RegistryAuth::FromEnv`]).
    pub registry_auth: Option<RegistryAuth>,
}

impl BuildKitOptions {
    /// Sets the Dockerfile's path inside the context.
    #[must_use]
    pub fn dockerfile(mut self, path: impl Into<String>) -> Self {
        self.dockerfile = Some(path.into());
        self
    }

    /// Adds a name for the image.
    #[must_use]
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Sets a build argument.
    #[must_use]
    pub fn build_arg(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.build_args.insert(name.into(), value.into());
        self
    }

    /// Sets the stage to build.
    #[must_use]
    pub fn target(mut self, stage: impl Into<String>) -> Self {
        self.target = Some(stage.into());
        self
    }

    /// Sets a label of the image.
    #[must_use]
    pub fn label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(name.into(), value.into());
        self
    }

    /// Sets the target platform.
    #[must_use]
    pub fn platform(mut self, platform: impl Into<String>) -> Self {
        self.platform = Some(platform.into());
        self
    }

    /// Adds an image to take cache from.
    #[must_use]
    pub fn cache_from(mut self, image: impl Into<String>) -> Self {
        self.cache_from.push(image.into());
        self
    }

    /// Sets whether to ignore the build cache.
    #[must_use]
    pub fn no_cache(mut self, no_cache: bool) -> Self {
        self.no_cache = no_cache;
        self
    }

    /// Sets whether to look for newer base images.
    #[must_use]
    pub fn pull(mut self, pull: bool) -> Self {
        self.pull = pull;
        self
    }

    /// Sets the network of `RUN` steps.
    #[must_use]
    pub fn network(mut self, network: impl Into<String>) -> Self {
        self.network = Some(network.into());
        self
    }

    /// Adds a `NAME:IP` host entry.
    #[must_use]
    pub fn extra_host(mut self, entry: impl Into<String>) -> Self {
        self.extra_hosts.push(entry.into());
        self
    }

    /// Sets where the result goes.
    #[must_use]
    pub fn output(mut self, output: BuildOutput) -> Self {
        self.output = Some(output);
        self
    }

    /// Adds a secret.
    #[must_use]
    pub fn secret(mut self, id: impl Into<String>, source: SecretSource) -> Self {
        self.secrets.insert(id.into(), source);
        self
    }

    /// Forwards an ssh agent socket under an id (`default` for a bare
    /// `--mount=type=ssh`).
    #[must_use]
    pub fn ssh(mut self, id: impl Into<String>, agent_socket: impl Into<PathBuf>) -> Self {
        self.ssh.insert(id.into(), agent_socket.into());
        self
    }

    /// Sets the registry credentials the build may use.
    #[must_use]
    pub fn registry_auth(mut self, auth: impl Into<RegistryAuth>) -> Self {
        self.registry_auth = Some(auth.into());
        self
    }
}

/// Where a secret's value comes from. Its value is read when the build asks
/// for it and never appears in `Debug`, logs or errors.
#[derive(Clone)]
pub enum SecretSource {
    /// A file's contents (`--secret id=…,src=PATH`).
    File(PathBuf),
    /// An environment variable of this process (`--secret id=…,env=NAME`).
    Env(String),
    /// A value held in memory.
    Value(Arc<[u8]>),
}

impl SecretSource {
    /// A file's contents.
    ///
    /// ```
    /// use dockhand::buildkit::SecretSource;
    /// let s = SecretSource::file("/run/secrets/npmrc");
    /// assert_eq!(format!("{s:?}"), r#"File("/run/secrets/npmrc")"#);
    /// ```
    pub fn file(path: impl Into<PathBuf>) -> Self {
        SecretSource::File(path.into())
    }

    /// An environment variable.
    ///
    /// ```
    /// use dockhand::buildkit::SecretSource;
    /// let s = SecretSource::env("API_TOKEN");
    /// ```
    pub fn env(name: impl Into<String>) -> Self {
        SecretSource::Env(name.into())
    }

    /// A value; `Debug` never shows it.
    ///
    /// ```
    /// use dockhand::buildkit::SecretSource;
    /// let s = SecretSource::value("hunter2");
    /// assert_eq!(format!("{s:?}"), "Value(<redacted>)");
    /// ```
    pub fn value(bytes: impl AsRef<[u8]>) -> Self {
        SecretSource::Value(Arc::from(bytes.as_ref()))
    }

    /// The value. The error names the file or variable, never a value.
    pub(crate) async fn read(&self) -> std::io::Result<Vec<u8>> {
        match self {
            SecretSource::File(p) => tokio::fs::read(p).await.map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot read {}: {e}", p.display()))
            }),
            SecretSource::Env(name) => std::env::var_os(name)
                .map(|v| v.to_string_lossy().into_owned().into_bytes())
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("environment variable {name} is not set"),
                    )
                }),
            SecretSource::Value(v) => Ok(v.to_vec()),
        }
    }
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::File(p) => f.debug_tuple("File").field(p).finish(),
            SecretSource::Env(n) => f.debug_tuple("Env").field(n).finish(),
            SecretSource::Value(_) => f.write_str("Value(<redacted>)"),
        }
    }
}

/// Where a build's result goes instead of an image in the daemon
/// (`--output`). dockerd takes one output per build.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BuildOutput {
    /// The final stage's files, written into a local directory
    /// (`type=local,dest=DIR`).
    Local {
        /// The directory (created if missing).
        dest: PathBuf,
    },
    /// The final stage's files as a tar archive (`type=tar`).
    Tar {
        /// Where the archive's bytes go.
        sink: TarSink,
    },
}

impl BuildOutput {
    /// Files into a directory.
    ///
    /// ```
    /// use dockhand::buildkit::{BuildKitOptions, BuildOutput};
    /// let opts = BuildKitOptions::default().output(BuildOutput::local("./out"));
    /// ```
    pub fn local(dest: impl Into<PathBuf>) -> Self {
        BuildOutput::Local { dest: dest.into() }
    }

    /// A tar archive written to a file.
    ///
    /// ```
    /// use dockhand::buildkit::{BuildKitOptions, BuildOutput};
    /// let opts = BuildKitOptions::default().output(BuildOutput::tar_file("rootfs.tar"));
    /// ```
    pub fn tar_file(path: impl Into<PathBuf>) -> Self {
        BuildOutput::Tar {
            sink: TarSink::File(path.into()),
        }
    }

    /// A tar archive streamed into `writer` (shut down at the end), e.g. one
    /// end of [`tokio::io::duplex`] to read it as it comes.
    ///
    /// ```
    /// use dockhand::buildkit::{BuildKitOptions, BuildOutput};
    /// let (writer, reader) = tokio::io::duplex(64 * 1024);
    /// let opts = BuildKitOptions::default().output(BuildOutput::tar_writer(writer));
    /// // read the archive from `reader` while the build runs
    /// ```
    pub fn tar_writer(writer: impl AsyncWrite + Send + Unpin + 'static) -> Self {
        BuildOutput::Tar {
            sink: TarSink::Writer(Arc::new(Mutex::new(Some(Box::new(writer))))),
        }
    }

    /// The exporter's name on the wire.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            BuildOutput::Local { .. } => "local",
            BuildOutput::Tar { .. } => "tar",
        }
    }
}

/// Where a tar output goes.
#[derive(Clone)]
#[non_exhaustive]
pub enum TarSink {
    /// A file, created or truncated.
    File(PathBuf),
    /// A writer, used once.
    Writer(Arc<Mutex<Option<Box<dyn AsyncWrite + Send + Unpin>>>>),
}

impl std::fmt::Debug for TarSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TarSink::File(p) => f.debug_tuple("File").field(p).finish(),
            TarSink::Writer(_) => f.write_str("Writer(..)"),
        }
    }
}

impl TarSink {
    pub(crate) async fn open(&self) -> std::io::Result<Box<dyn AsyncWrite + Send + Unpin>> {
        match self {
            TarSink::File(p) => {
                Ok(Box::new(tokio::fs::File::create(p).await.map_err(|e| {
                    std::io::Error::new(e.kind(), format!("{}: {e}", p.display()))
                })?))
            }
            TarSink::Writer(w) => w
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .ok_or_else(|| std::io::Error::other("the tar writer was already used")),
        }
    }
}

/// The directory part and file name of a Dockerfile path inside the
/// context (`a/b/Dockerfile` → (`a/b`, `Dockerfile`)).
pub(crate) fn split_dockerfile(rel: &str) -> (&Path, &str) {
    match rel.rsplit_once('/') {
        Some((dir, name)) => (Path::new(dir), name),
        None => (Path::new(""), rel),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_writers_stay_out_of_debug() {
        let opts = BuildKitOptions::default()
            .secret("a", SecretSource::value("hunter2"))
            .secret("b", SecretSource::env("TOKEN"))
            .output(BuildOutput::tar_writer(tokio::io::sink()));
        let text = format!("{opts:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains("Value(<redacted>)") && text.contains("Env(\"TOKEN\")"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn secret_sources_read_or_say_what_is_missing() {
        assert_eq!(SecretSource::value("v").read().await.unwrap(), b"v");
        let e = SecretSource::env("DOCKHAND_SURELY_UNSET_VARIABLE")
            .read()
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("DOCKHAND_SURELY_UNSET_VARIABLE"),
            "{e}"
        );
        let e = SecretSource::file("/nonexistent/secret")
            .read()
            .await
            .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/secret"), "{e}");
        // A tar writer is used once.
        let sink = TarSink::Writer(Arc::new(Mutex::new(Some(Box::new(tokio::io::sink())))));
        assert!(sink.open().await.is_ok());
        assert!(sink.open().await.is_err());
    }

    #[test]
    fn dockerfile_paths_split_into_directory_and_name() {
        assert_eq!(
            split_dockerfile("Dockerfile"),
            (Path::new(""), "Dockerfile")
        );
        assert_eq!(
            split_dockerfile("a/b/app.Dockerfile"),
            (Path::new("a/b"), "app.Dockerfile")
        );
    }
}
