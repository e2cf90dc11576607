//! Networks: create, inspect, connect containers to and remove them.

use crate::client::json_body;
use crate::models::{
    NetworkConnectRequest, NetworkCreateBody, NetworkCreateResponse, NetworkDisconnectRequest,
    NetworkInspect, NetworkPruneResponse,
};
use crate::operations::{self as ops, *};
use crate::{Docker, Result};

/// Network operations: `docker.networks()`.
#[derive(Debug, Clone)]
pub struct Networks {
    docker: Docker,
}

impl Docker {
    /// Network operations.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let nets = docker.networks().list(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub fn networks(&self) -> Networks {
        Networks {
            docker: self.clone(),
        }
    }
}

impl Networks {
    /// Lists networks (`docker network ls`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// for n in docker.networks().list(&Default::default()).await? {
    ///     println!("{:?}", n.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, options: &NetworkListOptions) -> Result<NetworkListResponse> {
        self.docker
            .json(&ops::NETWORK_LIST, &[], |s| options.write_params(s), None)
            .await
    }

    /// Low-level information about a network (`docker network inspect`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let n = docker.networks().inspect("bridge", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn inspect(
        &self,
        id: &str,
        options: &NetworkInspectOptions,
    ) -> Result<NetworkInspect> {
        self.docker
            .json(
                &ops::NETWORK_INSPECT,
                &[id],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Removes a network (`docker network rm`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.networks().remove("backend").await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove(&self, id: &str) -> Result<()> {
        self.docker
            .empty(&ops::NETWORK_DELETE, &[id], |_| {}, None)
            .await
    }

    /// Creates a network (`docker network create`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::NetworkCreateBody;
    /// let body = NetworkCreateBody { name: "backend".into(), ..Default::default() };
    /// let created = docker.networks().create(&body).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, body: &NetworkCreateBody) -> Result<NetworkCreateResponse> {
        let body = json_body(body)?;
        self.docker
            .json(&ops::NETWORK_CREATE, &[], |_| {}, Some(body))
            .await
    }

    /// Connects a container to a network (`docker network connect`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::NetworkConnectRequest;
    /// let req = NetworkConnectRequest { container: "web".into(), ..Default::default() };
    /// docker.networks().connect("backend", &req).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self, id: &str, request: &NetworkConnectRequest) -> Result<()> {
        let body = json_body(request)?;
        self.docker
            .empty(&ops::NETWORK_CONNECT, &[id], |_| {}, Some(body))
            .await
    }

    /// Disconnects a container from a network (`docker network disconnect`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::NetworkDisconnectRequest;
    /// let req = NetworkDisconnectRequest { container: "web".into(), ..Default::default() };
    /// docker.networks().disconnect("backend", &req).await?;
    /// # Ok(()) }
    /// ```
    pub async fn disconnect(&self, id: &str, request: &NetworkDisconnectRequest) -> Result<()> {
        let body = json_body(request)?;
        self.docker
            .empty(&ops::NETWORK_DISCONNECT, &[id], |_| {}, Some(body))
            .await
    }

    /// Removes unused networks (`docker network prune`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let r = docker.networks().prune(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn prune(&self, options: &NetworkPruneOptions) -> Result<NetworkPruneResponse> {
        self.docker
            .json(&ops::NETWORK_PRUNE, &[], |s| options.write_params(s), None)
            .await
    }
}
