//! Services: long-running tasks scheduled across a swarm.

use crate::client::json_body;
use crate::models::{
    Service, ServiceCreateBody, ServiceCreateResponse, ServiceUpdateBody, ServiceUpdateResponse,
};
use crate::operations::{self as ops, *};
use crate::stream::{ByteStream, LogStream};
use crate::{Docker, Result};

/// Swarm service operations: `docker.services()`.
#[derive(Debug, Clone)]
pub struct Services {
    docker: Docker,
}

impl Docker {
    /// Swarm service operations.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let services = docker.services().list(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub fn services(&self) -> Services {
        Services {
            docker: self.clone(),
        }
    }
}

impl Services {
    /// Lists services (`docker service ls`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// for s in docker.services().list(&Default::default()).await? {
    ///     println!("{:?}", s.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, options: &ServiceListOptions) -> Result<ServiceListResponse> {
        self.docker
            .json(&ops::SERVICE_LIST, &[], |s| options.write_params(s), None)
            .await
    }

    /// Creates a service (`docker service create`). Credentials for a
    /// private image go in `options.x_registry_auth`.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::{ServiceCreateBody, TaskSpec, TaskSpecContainerSpec};
    /// let body = ServiceCreateBody {
    ///     name: Some("web".into()),
    ///     task_template: Some(TaskSpec {
    ///         container_spec: Some(TaskSpecContainerSpec {
    ///             image: Some("busybox".into()),
    ///             ..Default::default()
    ///         }),
    ///         ..Default::default()
    ///     }),
    ///     ..Default::default()
    /// };
    /// let created = docker.services().create(&body, &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create(
        &self,
        body: &ServiceCreateBody,
        options: &ServiceCreateOptions,
    ) -> Result<ServiceCreateResponse> {
        let body = json_body(body)?;
        self.docker
            .json(
                &ops::SERVICE_CREATE,
                &[],
                |s| options.write_params(s),
                Some(body),
            )
            .await
    }

    /// Low-level information about a service (`docker service inspect`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let s = docker.services().inspect("web", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn inspect(&self, id: &str, options: &ServiceInspectOptions) -> Result<Service> {
        self.docker
            .json(
                &ops::SERVICE_INSPECT,
                &[id],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Changes a service (`docker service update`); `version` is the
    /// service's current object version, as read from `inspect`.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::ServiceUpdateBody;
    /// let s = docker.services().inspect("web", &Default::default()).await?;
    /// let version = s.version.as_ref().and_then(|v| v.index).unwrap_or_default() as i64;
    /// let body = ServiceUpdateBody { name: Some("web".into()), ..Default::default() };
    /// docker.services().update("web", version, &body, &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(
        &self,
        id: &str,
        version: i64,
        body: &ServiceUpdateBody,
        options: &ServiceUpdateOptions,
    ) -> Result<ServiceUpdateResponse> {
        let body = json_body(body)?;
        self.docker
            .json(
                &ops::SERVICE_UPDATE,
                &[id],
                |s| {
                    s.required_query("version", &version);
                    options.write_params(s);
                },
                Some(body),
            )
            .await
    }

    /// Removes a service (`docker service rm`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.services().remove("web").await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove(&self, id: &str) -> Result<()> {
        self.docker
            .empty(&ops::SERVICE_DELETE, &[id], |_| {}, None)
            .await
    }

    /// The output of every task of a service (`docker service logs`), typed
    /// like container logs.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::ServiceLogsOptions;
    /// use futures::TryStreamExt;
    /// let opts = ServiceLogsOptions::default().stdout(true).stderr(true);
    /// let mut logs = docker.services().logs("web", &opts).await?;
    /// while let Some(piece) = logs.try_next().await? {
    ///     print!("{}", String::from_utf8_lossy(piece.bytes()));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn logs(
        &self,
        id: &str,
        options: &ServiceLogsOptions,
    ) -> Result<LogStream<ByteStream>> {
        let op = &ops::SERVICE_LOGS;
        let resp = self
            .docker
            .raw(op, &[id], |s| options.write_params(s), None)
            .await?;
        super::log_stream(&self.docker, op.id, resp, async {
            let service = self.inspect(id, &Default::default()).await?;
            Ok(service
                .spec
                .and_then(|s| s.task_template)
                .and_then(|t| t.container_spec)
                .and_then(|c| c.tty)
                .unwrap_or(false))
        })
        .await
    }
}
