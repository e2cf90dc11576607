//! Containers: create, run, inspect, change and remove them.

use crate::client::{json_body, Payload};
use crate::models::{
    ContainerCreateBody, ContainerCreateResponse, ContainerInspectResponse, ContainerPruneResponse,
    ContainerStatsResponse, ContainerTopResponse, ContainerUpdateBody, ContainerUpdateResponse,
    ContainerWaitResponse, FilesystemChange,
};
use crate::operations::{self as ops, *};
use crate::stream::{Attached, ByteStream, JsonStream, LogStream, RawConnection};
use crate::{Body, Docker, Error, Result};

/// Container operations: `docker.containers()`.
#[derive(Debug, Clone)]
pub struct Containers {
    docker: Docker,
}

/// What `HEAD /containers/{id}/archive` says about a path in a container
/// (the `X-Docker-Container-Path-Stat` header).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[non_exhaustive]
pub struct PathStat {
    /// Base name.
    pub name: String,
    /// Size in bytes.
    pub size: i64,
    /// Go `os.FileMode` bits (type bits included).
    pub mode: u32,
    /// Modification time, RFC 3339.
    pub mtime: String,
    /// Target of a symbolic link, else empty.
    #[serde(rename = "linkTarget", default)]
    pub link_target: String,
}

impl PathStat {
    /// True when the path is a directory (Go's `os.ModeDir` bit).
    pub fn is_dir(&self) -> bool {
        self.mode & (1 << 31) != 0
    }

    /// True when the path is a symbolic link (Go's `os.ModeSymlink` bit).
    pub fn is_symlink(&self) -> bool {
        self.mode & (1 << 27) != 0
    }

    /// The permission bits (`0o755` for `rwxr-xr-x`).
    pub fn permissions(&self) -> u32 {
        self.mode & 0o777
    }

    /// Decodes the value of an `X-Docker-Container-Path-Stat` header
    /// (base64 of JSON), as [`Containers::archive_info`] does.
    ///
    /// ```
    /// use dockhand::api::PathStat;
    /// // {"name":"a","size":1,"mode":420,"mtime":"","linkTarget":""}
    /// let v = b"eyJuYW1lIjoiYSIsInNpemUiOjEsIm1vZGUiOjQyMCwibXRpbWUiOiIiLCJsaW5rVGFyZ2V0IjoiIn0=";
    /// assert_eq!(PathStat::from_header_value(v).unwrap().name, "a");
    /// assert!(PathStat::from_header_value(b"!!").is_err());
    /// ```
    pub fn from_header_value(value: &[u8]) -> Result<PathStat> {
        decode_path_stat_value("X-Docker-Container-Path-Stat", value)
    }
}

/// A path of a container as a tar stream, with what the daemon says about
/// the path (the answer of [`Containers::get_archive`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct Archive {
    /// The path's facts, from the `X-Docker-Container-Path-Stat` header.
    /// dockerd's entries start with the requested path's base name, which
    /// is also this `name`; an implementation that follows a symbolic link
    /// (Podman) names the link's target here, so rely on the requested path.
    pub stat: PathStat,
    /// The tar archive, streamed as the daemon sends it.
    pub stream: ByteStream,
}

impl Docker {
    /// Container operations.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// for c in docker.containers().list(&Default::default()).await? {
    ///     println!("{:?} {:?}", c.id, c.names);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn containers(&self) -> Containers {
        Containers {
            docker: self.clone(),
        }
    }
}

impl Containers {
    /// Lists containers (`docker ps`); running ones unless `all` is set.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::ContainerListOptions;
    /// let all = docker.containers().list(&ContainerListOptions::default().all(true)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, options: &ContainerListOptions) -> Result<ContainerListResponse> {
        self.docker
            .json(&ops::CONTAINER_LIST, &[], |s| options.write_params(s), None)
            .await
    }

    /// Creates a container (`docker create`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::ContainerCreateBody;
    /// use dockhand::operations::ContainerCreateOptions;
    /// let body = ContainerCreateBody {
    ///     image: Some("busybox".into()),
    ///     cmd: Some(vec!["echo".into(), "hi".into()]),
    ///     ..Default::default()
    /// };
    /// let created = docker.containers().create(&body, &ContainerCreateOptions::default().name("hello")).await?;
    /// println!("{}", created.id);
    /// # Ok(()) }
    /// ```
    pub async fn create(
        &self,
        body: &ContainerCreateBody,
        options: &ContainerCreateOptions,
    ) -> Result<ContainerCreateResponse> {
        let body = json_body(body)?;
        self.docker
            .json(
                &ops::CONTAINER_CREATE,
                &[],
                |s| options.write_params(s),
                Some(body),
            )
            .await
    }

    /// Low-level information about a container (`docker inspect`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let c = docker.containers().inspect("web", &Default::default()).await?;
    /// println!("{:?}", c.state);
    /// # Ok(()) }
    /// ```
    pub async fn inspect(
        &self,
        id: &str,
        options: &ContainerInspectOptions,
    ) -> Result<ContainerInspectResponse> {
        self.docker
            .json(
                &ops::CONTAINER_INSPECT,
                &[id],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// The processes running in a container (`docker top`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let top = docker.containers().top("web", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn top(
        &self,
        id: &str,
        options: &ContainerTopOptions,
    ) -> Result<ContainerTopResponse> {
        self.docker
            .json(
                &ops::CONTAINER_TOP,
                &[id],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// A container's output (`docker logs`) as typed pieces: stdout and
    /// stderr told apart, or [`crate::stream::LogOutput::Console`] bytes for a TTY container.
    /// With `follow(true)` it runs until the container stops; dropping the
    /// stream cancels the request.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::ContainerLogsOptions;
    /// use dockhand::stream::LogOutput;
    /// use futures::TryStreamExt;
    /// let opts = ContainerLogsOptions::default().stdout(true).stderr(true);
    /// let mut logs = docker.containers().logs("web", &opts).await?;
    /// while let Some(piece) = logs.try_next().await? {
    ///     match piece {
    ///         LogOutput::StdErr(b) => eprint!("{}", String::from_utf8_lossy(&b)),
    ///         other => print!("{}", String::from_utf8_lossy(other.bytes())),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn logs(
        &self,
        id: &str,
        options: &ContainerLogsOptions,
    ) -> Result<LogStream<ByteStream>> {
        let path_args = [id];
        let logs = self.docker.raw(
            &ops::CONTAINER_LOGS,
            &path_args,
            |s| options.write_params(s),
            None,
        );
        if self.docker.api_version().await? >= crate::ApiVersion::new(1, 42) {
            let resp = logs.await?;
            return super::log_stream(&self.docker, ops::CONTAINER_LOGS.id, resp, self.tty(id))
                .await;
        }
        // Below API 1.42 the output's format is the container's TTY: known
        // for a full ID inspected before, else asked at the same time as the
        // logs, one round trip instead of two (over ssh or TLS, a round trip
        // is most of the time to the first line).
        if let Some(tty) = self.docker.ttys().get(id) {
            let resp = logs.await?;
            return super::log_stream(&self.docker, ops::CONTAINER_LOGS.id, resp, async {
                Ok(tty)
            })
            .await;
        }
        let (resp, tty) = futures::future::join(logs, self.tty(id)).await;
        let resp = resp?;
        super::log_stream(&self.docker, ops::CONTAINER_LOGS.id, resp, async { tty }).await
    }

    /// Whether the container has a TTY (its output is then not stdcopy-framed):
    /// known without a request for a full ID an inspect answered for before
    /// (`Config.Tty` never changes, an ID is never reused), else inspected.
    async fn tty(&self, id: &str) -> Result<bool> {
        if let Some(tty) = self.docker.ttys().get(id) {
            return Ok(tty);
        }
        let c = self.inspect(id, &Default::default()).await?;
        let tty = c.config.and_then(|c| c.tty).unwrap_or(false);
        if let Some(full) = c.id.as_deref() {
            self.docker.ttys().learn(full, tty);
        }
        Ok(tty)
    }

    /// Changes to a container's filesystem (`docker diff`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let changes = docker.containers().changes("web").await?;
    /// # Ok(()) }
    /// ```
    pub async fn changes(&self, id: &str) -> Result<Vec<FilesystemChange>> {
        // The daemon sends `null` when nothing changed.
        let changes: Option<Vec<FilesystemChange>> = self
            .docker
            .json(&ops::CONTAINER_CHANGES, &[id], |_| {}, None)
            .await?;
        Ok(changes.unwrap_or_default())
    }

    /// The container's filesystem as a tar stream (`docker export`),
    /// streamed as the daemon sends it, never collected in memory.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// // `docker export web -o web.tar`
    /// let tar = docker.containers().export("web").await?;
    /// let mut file = tokio::fs::File::create("web.tar").await.expect("create");
    /// tokio::io::copy(&mut tar.into_async_read(), &mut file).await.expect("write");
    /// # Ok(()) }
    /// ```
    pub async fn export(&self, id: &str) -> Result<ByteStream> {
        let resp = self
            .docker
            .raw(&ops::CONTAINER_EXPORT, &[id], |_| {}, None)
            .await?;
        Ok(ByteStream::new(ops::CONTAINER_EXPORT.id, resp.into_body()))
    }

    /// Resource usage statistics as they change (`docker stats`): one value
    /// a second until the stream is dropped. `options.stream` is ignored
    /// (see [`Containers::stats_once`]).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut stats = docker.containers().stats("web", &Default::default()).await?;
    /// while let Some(s) = stats.try_next().await? {
    ///     println!("{:?}", s.memory_stats);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn stats(
        &self,
        id: &str,
        options: &ContainerStatsOptions,
    ) -> Result<JsonStream<ByteStream, ContainerStatsResponse>> {
        let options = options.clone().stream(true);
        let resp = self
            .docker
            .raw(
                &ops::CONTAINER_STATS,
                &[id],
                |s| options.write_params(s),
                None,
            )
            .await?;
        Ok(super::json_stream(ops::CONTAINER_STATS.id, resp))
    }

    /// One sample of resource usage (`docker stats --no-stream`);
    /// `options.one_shot(true)` answers at once without the CPU delta's
    /// second sample (API 1.41). `options.stream` is ignored.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let s = docker.containers().stats_once("web", &Default::default()).await?;
    /// println!("{:?}", s.memory_stats);
    /// # Ok(()) }
    /// ```
    pub async fn stats_once(
        &self,
        id: &str,
        options: &ContainerStatsOptions,
    ) -> Result<ContainerStatsResponse> {
        let options = options.clone().stream(false);
        self.docker
            .json(
                &ops::CONTAINER_STATS,
                &[id],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Resizes the container's TTY.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.containers().resize("web", 40, 120).await?;
    /// # Ok(()) }
    /// ```
    pub async fn resize(&self, id: &str, height: u32, width: u32) -> Result<()> {
        self.docker
            .empty(
                &ops::CONTAINER_RESIZE,
                &[id],
                |s| {
                    s.required_query("h", &height);
                    s.required_query("w", &width);
                },
                None,
            )
            .await
    }

    /// Starts a container (`docker start`). Starting a running container succeeds.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.containers().start("web", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn start(&self, id: &str, options: &ContainerStartOptions) -> Result<()> {
        self.docker
            .empty(
                &ops::CONTAINER_START,
                &[id],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Stops a container (`docker stop`). Stopping a stopped container succeeds.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::ContainerStopOptions;
    /// docker.containers().stop("web", &ContainerStopOptions::default().t(5)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn stop(&self, id: &str, options: &ContainerStopOptions) -> Result<()> {
        self.docker
            .empty(
                &ops::CONTAINER_STOP,
                &[id],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Restarts a container (`docker restart`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.containers().restart("web", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn restart(&self, id: &str, options: &ContainerRestartOptions) -> Result<()> {
        self.docker
            .empty(
                &ops::CONTAINER_RESTART,
                &[id],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Sends a signal to a container (`docker kill`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::ContainerKillOptions;
    /// docker.containers().kill("web", &ContainerKillOptions::default().signal("SIGHUP")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn kill(&self, id: &str, options: &ContainerKillOptions) -> Result<()> {
        self.docker
            .empty(
                &ops::CONTAINER_KILL,
                &[id],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Changes a container's resources and restart policy (`docker update`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::ContainerUpdateBody;
    /// let body = ContainerUpdateBody { memory: Some(256 << 20), ..Default::default() };
    /// docker.containers().update("web", &body).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(
        &self,
        id: &str,
        body: &ContainerUpdateBody,
    ) -> Result<ContainerUpdateResponse> {
        let body = json_body(body)?;
        self.docker
            .json(&ops::CONTAINER_UPDATE, &[id], |_| {}, Some(body))
            .await
    }

    /// Renames a container (`docker rename`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.containers().rename("web", "web-old").await?;
    /// # Ok(()) }
    /// ```
    pub async fn rename(&self, id: &str, new_name: &str) -> Result<()> {
        let new_name = new_name.to_owned();
        self.docker
            .empty(
                &ops::CONTAINER_RENAME,
                &[id],
                |s| s.required_query("name", &new_name),
                None,
            )
            .await
    }

    /// Pauses every process of a container (`docker pause`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.containers().pause("web").await?;
    /// # Ok(()) }
    /// ```
    pub async fn pause(&self, id: &str) -> Result<()> {
        self.docker
            .empty(&ops::CONTAINER_PAUSE, &[id], |_| {}, None)
            .await
    }

    /// Resumes a paused container (`docker unpause`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.containers().unpause("web").await?;
    /// # Ok(()) }
    /// ```
    pub async fn unpause(&self, id: &str) -> Result<()> {
        self.docker
            .empty(&ops::CONTAINER_UNPAUSE, &[id], |_| {}, None)
            .await
    }

    /// Attaches to a container (`docker attach`): its output as a typed
    /// stream and, with `stdin(true)`, its stdin as a writer. Shutting the
    /// writer down gives the process EOF while its output keeps flowing.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::ContainerAttachOptions;
    /// let opts = ContainerAttachOptions::default().stream(true).stdout(true).stderr(true);
    /// let attached = docker.containers().attach("web", &opts).await?;
    /// # Ok(()) }
    /// ```
    pub async fn attach(&self, id: &str, options: &ContainerAttachOptions) -> Result<Attached> {
        let headers = upgrade_headers("tcp");
        let path_args = [id];
        let upgrade = self.docker.upgrade_with_headers(
            &ops::CONTAINER_ATTACH,
            &path_args,
            |s| options.write_params(s),
            None,
            &headers,
        );
        if self.docker.api_version().await? >= crate::ApiVersion::new(1, 42) {
            let (conn, headers) = upgrade.await?;
            let multiplexed = super::output_format(&self.docker, &headers, self.tty(id)).await?;
            return Ok(Attached::new(ops::CONTAINER_ATTACH.id, conn, multiplexed));
        }
        // Below API 1.42 the format is the container's TTY (the daemon's
        // Content-Type says `raw-stream` either way): known for a full ID
        // inspected before, else asked at the same time as the upgrade, as
        // `logs` does.
        let (up, tty) = futures::future::join(upgrade, self.tty(id)).await;
        let (conn, _) = up?;
        Ok(Attached::new(ops::CONTAINER_ATTACH.id, conn, !tty?))
    }

    /// Attaches over a WebSocket: the upgraded connection speaks the WebSocket
    /// protocol (frames are the caller's to encode and decode).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let ws = docker.containers().attach_websocket("web", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn attach_websocket(
        &self,
        id: &str,
        options: &ContainerAttachWebsocketOptions,
    ) -> Result<RawConnection> {
        let mut headers = upgrade_headers("websocket");
        headers.push((
            http::HeaderName::from_static("sec-websocket-version"),
            http::HeaderValue::from_static("13"),
        ));
        headers.push((
            http::HeaderName::from_static("sec-websocket-key"),
            http::HeaderValue::from_str(&websocket_key())
                .map_err(|_| Error::protocol("websocket key"))?,
        ));
        self.docker
            .upgrade(
                &ops::CONTAINER_ATTACH_WEBSOCKET,
                &[id],
                |s| options.write_params(s),
                None,
                &headers,
            )
            .await
    }

    /// Waits until a container reaches a condition (`docker wait`) and returns
    /// its exit code.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let r = docker.containers().wait("web", &Default::default()).await?;
    /// println!("exit {}", r.status_code);
    /// # Ok(()) }
    /// ```
    pub async fn wait(
        &self,
        id: &str,
        options: &ContainerWaitOptions,
    ) -> Result<ContainerWaitResponse> {
        self.docker
            .json(
                &ops::CONTAINER_WAIT,
                &[id],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Removes a container (`docker rm`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::ContainerDeleteOptions;
    /// docker.containers().remove("web", &ContainerDeleteOptions::default().force(true)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove(&self, id: &str, options: &ContainerDeleteOptions) -> Result<()> {
        self.docker
            .empty(
                &ops::CONTAINER_DELETE,
                &[id],
                |s| options.write_params(s),
                None,
            )
            .await?;
        // A container may be given this ID as its name later on.
        self.docker.ttys().forget(id);
        Ok(())
    }

    /// Facts about a path inside a container, without its content.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let stat = docker.containers().archive_info("web", "/etc/hostname").await?;
    /// println!("{} bytes", stat.size);
    /// # Ok(()) }
    /// ```
    pub async fn archive_info(&self, id: &str, path: &str) -> Result<PathStat> {
        let path = path.to_owned();
        let resp = self
            .docker
            .raw(
                &ops::CONTAINER_ARCHIVE_INFO,
                &[id],
                |s| s.required_query("path", &path),
                None,
            )
            .await?;
        decode_path_stat(ops::CONTAINER_ARCHIVE_INFO.id, resp.headers())
    }

    /// A path inside a container as a tar stream (`docker cp` out), with the
    /// path's facts decoded from the response header. The stream is not
    /// buffered: write it to a file, or unpack it safely with
    /// [`crate::copy::unpack`].
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let archive = docker.containers().get_archive("web", "/etc").await?;
    /// println!("{} (mode {:o})", archive.stat.name, archive.stat.mode);
    /// let mut file = tokio::fs::File::create("etc.tar").await.expect("create");
    /// tokio::io::copy(&mut archive.stream.into_async_read(), &mut file).await.expect("write");
    /// # Ok(()) }
    /// ```
    pub async fn get_archive(&self, id: &str, path: &str) -> Result<Archive> {
        let path = path.to_owned();
        let resp = self
            .docker
            .raw(
                &ops::CONTAINER_ARCHIVE,
                &[id],
                |s| s.required_query("path", &path),
                None,
            )
            .await?;
        let stat = decode_path_stat(ops::CONTAINER_ARCHIVE.id, resp.headers())?;
        Ok(Archive {
            stat,
            stream: ByteStream::new(ops::CONTAINER_ARCHIVE.id, resp.into_body()),
        })
    }

    /// Extracts a tar archive into a directory of a container (`docker cp` in).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker, tar: Vec<u8>) -> dockhand::Result<()> {
    /// docker.containers().put_archive("web", "/tmp", tar.into(), &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn put_archive(
        &self,
        id: &str,
        path: &str,
        tar: Body,
        options: &PutContainerArchiveOptions,
    ) -> Result<()> {
        let path = path.to_owned();
        self.docker
            .empty(
                &ops::PUT_CONTAINER_ARCHIVE,
                &[id],
                |s| {
                    s.required_query("path", &path);
                    options.write_params(s);
                },
                Some(Payload::Raw(tar.0, "application/x-tar")),
            )
            .await
    }

    /// Removes stopped containers (`docker container prune`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let pruned = docker.containers().prune(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn prune(&self, options: &ContainerPruneOptions) -> Result<ContainerPruneResponse> {
        self.docker
            .json(
                &ops::CONTAINER_PRUNE,
                &[],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Copies a host file or directory into a container (`docker cp HOST
    /// CONTAINER:PATH`). When `container_path` is an existing directory (or a
    /// link to one) the source goes inside it under its own name; otherwise
    /// it is written as `container_path`, whose parent must exist. A
    /// directory never replaces a file, nor a file a directory.
    ///
    /// The tree is tarred on a blocking thread while it is sent (see
    /// [`crate::copy::pack`]): symbolic links are copied as links, modes and
    /// modification times are kept, the container's root user owns the
    /// copies.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// // ./site becomes /srv/site
    /// docker.containers().copy_in("web", "./site", "/srv").await?;
    /// // ./nginx.conf becomes /etc/nginx/nginx.conf, replacing it
    /// docker.containers().copy_in("web", "./nginx.conf", "/etc/nginx/nginx.conf").await?;
    /// # Ok(()) }
    /// ```
    pub async fn copy_in(
        &self,
        id: &str,
        host_path: impl AsRef<std::path::Path>,
        container_path: &str,
    ) -> Result<()> {
        super::cp::copy_in(self, id, host_path.as_ref(), container_path).await
    }

    /// Copies a file or directory out of a container to the host (`docker cp
    /// CONTAINER:PATH HOST`). When `host_dest` is an existing directory the
    /// copy goes inside it under the source's name; otherwise it is written
    /// as `host_dest`, whose parent must exist.
    ///
    /// The archive is extracted entry by entry as it arrives, and never
    /// outside the destination: entries with `..` or absolute paths, links
    /// leaving the destination (absolute symbolic links included), device
    /// files and FIFOs are refused with [`Error::UnsafeArchiveEntry`] (see
    /// [`crate::copy::unpack`]).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// // /var/log/nginx becomes ./logs/nginx (./logs exists)
    /// docker.containers().copy_out("web", "/var/log/nginx", "./logs").await?;
    /// // /etc/hostname becomes ./web-hostname
    /// docker.containers().copy_out("web", "/etc/hostname", "./web-hostname").await?;
    /// # Ok(()) }
    /// ```
    pub async fn copy_out(
        &self,
        id: &str,
        container_path: &str,
        host_dest: impl AsRef<std::path::Path>,
    ) -> Result<()> {
        super::cp::copy_out(self, id, container_path, host_dest.as_ref()).await
    }
}

/// `Connection: Upgrade` and `Upgrade: <protocol>`.
pub(crate) fn upgrade_headers(
    protocol: &'static str,
) -> Vec<(http::HeaderName, http::HeaderValue)> {
    vec![
        (
            http::header::CONNECTION,
            http::HeaderValue::from_static("Upgrade"),
        ),
        (
            http::header::UPGRADE,
            http::HeaderValue::from_static(protocol),
        ),
    ]
}

/// A `Sec-WebSocket-Key`: 16 bytes, base64. Uniqueness is all the protocol asks.
fn websocket_key() -> String {
    use base64::Engine;
    use std::hash::{BuildHasher, Hasher};
    let mut bytes = [0u8; 16];
    for chunk in bytes.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes the base64 JSON of `X-Docker-Container-Path-Stat`.
pub(crate) fn decode_path_stat(
    operation: &'static str,
    headers: &http::HeaderMap,
) -> Result<PathStat> {
    let raw = headers.get("X-Docker-Container-Path-Stat").ok_or_else(|| {
        Error::protocol(format!(
            "{operation}: no X-Docker-Container-Path-Stat header"
        ))
    })?;
    decode_path_stat_value(operation, raw.as_bytes())
}

fn decode_path_stat_value(operation: &'static str, raw: &[u8]) -> Result<PathStat> {
    use base64::Engine;
    let json = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .map_err(|e| Error::Protocol {
            message: format!("{operation}: X-Docker-Container-Path-Stat is not base64"),
            source: Some(Box::new(e)),
        })?;
    crate::codec::decode_json(operation, &json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn path_stat_header_decodes() {
        let json = r#"{"name":"hostname","size":13,"mode":420,"mtime":"2024-01-01T00:00:00Z","linkTarget":""}"#;
        let mut h = http::HeaderMap::new();
        h.insert(
            "X-Docker-Container-Path-Stat",
            http::HeaderValue::from_str(&base64::engine::general_purpose::STANDARD.encode(json))
                .unwrap(),
        );
        let s = decode_path_stat("ContainerArchiveInfo", &h).unwrap();
        assert_eq!((s.name.as_str(), s.size, s.mode), ("hostname", 13, 420));
        h.insert(
            "X-Docker-Container-Path-Stat",
            http::HeaderValue::from_static("!!"),
        );
        assert!(decode_path_stat("ContainerArchiveInfo", &h).is_err());
        assert!(decode_path_stat("ContainerArchive", &http::HeaderMap::new()).is_err());
    }

    #[test]
    fn websocket_keys_are_16_bytes() {
        let k = websocket_key();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&k)
            .unwrap();
        assert_eq!(raw.len(), 16);
    }
}
