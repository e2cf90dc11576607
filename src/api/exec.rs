//! Exec: run more processes in a running container.

use super::containers::upgrade_headers;
use crate::client::json_body;
use crate::models::{ContainerExecBody, ExecInspectResponse, ExecStartBody, IDResponse};
use crate::operations as ops;
use crate::stream::RawConnection;
use crate::{Docker, Result};

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

    /// Starts a created exec. Attached (the default), the connection is
    /// upgraded and returned: stdin one way, output the other. With
    /// `detach: true` nothing is attached and `None` is returned.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker, id: &str) -> dockhand::Result<()> {
    /// let conn = docker.exec().start(id, &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn start(&self, id: &str, body: &ExecStartBody) -> Result<Option<RawConnection>> {
        let op = &ops::EXEC_START;
        let detach = body.detach == Some(true);
        let body = json_body(body)?;
        if detach {
            self.docker.empty(op, &[id], |_| {}, Some(body)).await?;
            return Ok(None);
        }
        self.docker
            .upgrade(op, &[id], |_| {}, Some(body), &upgrade_headers("tcp"))
            .await
            .map(Some)
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
