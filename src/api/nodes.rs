//! Nodes: the machines of a swarm.

use crate::client::json_body;
use crate::models::{Node, NodeSpec};
use crate::operations::{self as ops, *};
use crate::{Docker, Result};

/// Swarm node operations: `docker.nodes()`.
#[derive(Debug, Clone)]
pub struct Nodes {
    docker: Docker,
}

impl Docker {
    /// Swarm node operations.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let nodes = docker.nodes().list(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub fn nodes(&self) -> Nodes {
        Nodes {
            docker: self.clone(),
        }
    }
}

impl Nodes {
    /// Lists the swarm's nodes (`docker node ls`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// for n in docker.nodes().list(&Default::default()).await? {
    ///     println!("{:?}", n.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, options: &NodeListOptions) -> Result<NodeListResponse> {
        self.docker
            .json(&ops::NODE_LIST, &[], |s| options.write_params(s), None)
            .await
    }

    /// Low-level information about a node (`docker node inspect`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let node = docker.nodes().inspect("self").await?;
    /// # Ok(()) }
    /// ```
    pub async fn inspect(&self, id: &str) -> Result<Node> {
        self.docker
            .json(&ops::NODE_INSPECT, &[id], |_| {}, None)
            .await
    }

    /// Changes a node's role, availability or labels (`docker node update`);
    /// `version` is the node's current object version, as read from `inspect`.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::{NodeSpec, NodeSpecAvailability};
    /// let node = docker.nodes().inspect("self").await?;
    /// let version = node.version.as_ref().and_then(|v| v.index).unwrap_or_default() as i64;
    /// let spec = NodeSpec { availability: Some(NodeSpecAvailability::Drain), ..node.spec.clone().unwrap_or_default() };
    /// docker.nodes().update("self", version, &spec).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, id: &str, version: i64, spec: &NodeSpec) -> Result<()> {
        let body = json_body(spec)?;
        self.docker
            .empty(
                &ops::NODE_UPDATE,
                &[id],
                |s| s.required_query("version", &version),
                Some(body),
            )
            .await
    }

    /// Removes a node from the swarm (`docker node rm`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::NodeDeleteOptions;
    /// docker.nodes().remove("worker-3", &NodeDeleteOptions::default().force(true)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove(&self, id: &str, options: &NodeDeleteOptions) -> Result<()> {
        self.docker
            .empty(&ops::NODE_DELETE, &[id], |s| options.write_params(s), None)
            .await
    }
}
