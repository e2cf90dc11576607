//! Exec: run more processes in a running container.

use super::containers::upgrade_headers;
use crate::client::json_body;
use crate::models::{ContainerExecBody, ExecInspectResponse, ExecStartBody, IDResponse};
use crate::operations as ops;
use crate::stream::Attached;
use crate::{Docker, Error, Result};

/// Exec operations: `docker.exec()`.
#[derive(Debug, Clone)]
pub struct Exec {
    docker: Docker,
}

impl Docker {
    /// Exec operations.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::ContainerExecBody;
    /// let body = ContainerExecBody { cmd: Some(vec!["ls".into()]), attach_stdout: Some(true), ..Default::default() };
    /// let exec = docker.exec().create("web", &body).await?;
    /// # Ok(()) }
    /// ```
    pub fn exec(&self) -> Exec {
        Exec {
            docker: self.clone(),
        }
    }
}

impl Exec {
    /// Sets up a process to run in a container (`docker exec`, first step).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::ContainerExecBody;
    /// let body = ContainerExecBody { cmd: Some(vec!["cat".into()]), attach_stdin: Some(true), ..Default::default() };
    /// let id = docker.exec().create("web", &body).await?.id;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, container: &str, body: &ContainerExecBody) -> Result<IDResponse> {
        let body = json_body(body)?;
        self.docker
            .json(&ops::CONTAINER_EXEC, &[container], |_| {}, Some(body))
            .await
    }

    /// Starts a created exec, attached (`docker exec`): its output comes as
    /// a typed stream and its stdin (when the exec was created with
    /// `attach_stdin`) as a writer; shutting the writer down gives the process
    /// EOF. For a process that runs on its own, see [`Exec::start_detached`];
    /// a body with `detach: true` is refused here.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker, id: &str) -> dockhand::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut attached = docker.exec().start(id, &Default::default()).await?;
    /// while let Some(piece) = attached.output.try_next().await? {
    ///     print!("{piece}");
    /// }
    /// let code = docker.exec().inspect(id).await?.exit_code;
    /// # Ok(()) }
    /// ```
    pub async fn start(&self, id: &str, body: &ExecStartBody) -> Result<Attached> {
        if body.detach == Some(true) {
            return Err(Error::InvalidArgument {
                name: "body",
                message: "detach: true starts without attaching; use Exec::start_detached".into(),
            });
        }
        let op = &ops::EXEC_START;
        let start_tty = body.tty;
        let body = json_body(body)?;
        let (conn, headers) = self
            .docker
            .upgrade_with_headers(op, &[id], |_| {}, Some(body), &upgrade_headers("tcp"))
            .await?;
        // dockerd frames the output by the start body's `Tty` (absent: framed),
        // whatever the exec was created with; from 1.42 the Content-Type says so.
        let multiplexed = super::output_format(&self.docker, &headers, async {
            Ok(start_tty.unwrap_or(false))
        })
        .await?;
        Ok(Attached::new(op.id, conn, multiplexed))
    }

    /// Starts a created exec without attaching (`docker exec -d`): returns
    /// once the daemon has started it; [`Exec::inspect`] tells when it ends
    /// and its exit code.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker, id: &str) -> dockhand::Result<()> {
    /// docker.exec().start_detached(id, &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn start_detached(&self, id: &str, body: &ExecStartBody) -> Result<()> {
        let mut body = body.clone();
        body.detach = Some(true);
        let body = json_body(&body)?;
        self.docker
            .empty(&ops::EXEC_START, &[id], |_| {}, Some(body))
            .await
    }

    /// Resizes an exec's TTY.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker, id: &str) -> dockhand::Result<()> {
    /// docker.exec().resize(id, 40, 120).await?;
    /// # Ok(()) }
    /// ```
    pub async fn resize(&self, id: &str, height: u32, width: u32) -> Result<()> {
        self.docker
            .empty(
                &ops::EXEC_RESIZE,
                &[id],
                |s| {
                    s.required_query("h", &height);
                    s.required_query("w", &width);
                },
                None,
            )
            .await
    }

    /// The state of an exec, with its exit code once it finished.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker, id: &str) -> dockhand::Result<()> {
    /// let state = docker.exec().inspect(id).await?;
    /// println!("{:?}", state.exit_code);
    /// # Ok(()) }
    /// ```
    pub async fn inspect(&self, id: &str) -> Result<ExecInspectResponse> {
        self.docker
            .json(&ops::EXEC_INSPECT, &[id], |_| {}, None)
            .await
    }
}
