//! Swarm: create, join, inspect, change and leave a swarm.

use crate::client::json_body;
use crate::models::{
    SwarmInitBody, SwarmJoinBody, SwarmSpec, SwarmUnlockBody, SwarmUnlockkeyResponse,
};
use crate::operations::{self as ops, *};
use crate::{Docker, Result};

/// Swarm operations: `docker.swarm()`.
#[derive(Debug, Clone)]
pub struct Swarm {
    docker: Docker,
}

impl Docker {
    /// Swarm operations.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let swarm = docker.swarm().inspect().await?;
    /// println!("{:?}", swarm.id);
    /// # Ok(()) }
    /// ```
    pub fn swarm(&self) -> Swarm {
        Swarm {
            docker: self.clone(),
        }
    }
}

impl Swarm {
    /// The swarm this daemon belongs to (`docker swarm inspect`, via `docker info` in the CLI).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let swarm = docker.swarm().inspect().await?;
    /// # Ok(()) }
    /// ```
    pub async fn inspect(&self) -> Result<crate::models::Swarm> {
        self.docker
            .json(&ops::SWARM_INSPECT, &[], |_| {}, None)
            .await
    }

    /// Creates a swarm with this daemon as its first manager (`docker swarm
    /// init`); returns the node ID.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::SwarmInitBody;
    /// let body = SwarmInitBody {
    ///     listen_addr: Some("127.0.0.1:2377".into()),
    ///     advertise_addr: Some("127.0.0.1".into()),
    ///     ..Default::default()
    /// };
    /// let node_id = docker.swarm().init(&body).await?;
    /// # Ok(()) }
    /// ```
    pub async fn init(&self, body: &SwarmInitBody) -> Result<String> {
        let body = json_body(body)?;
        self.docker
            .json(&ops::SWARM_INIT, &[], |_| {}, Some(body))
            .await
    }

    /// Joins an existing swarm (`docker swarm join`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::SwarmJoinBody;
    /// let body = SwarmJoinBody {
    ///     listen_addr: "0.0.0.0:2377".into(),
    ///     remote_addrs: Some(vec!["127.0.0.1:2377".into()]),
    ///     join_token: "SWMTKN-1-…".into(),
    ///     ..Default::default()
    /// };
    /// docker.swarm().join(&body).await?;
    /// # Ok(()) }
    /// ```
    pub async fn join(&self, body: &SwarmJoinBody) -> Result<()> {
        let body = json_body(body)?;
        self.docker
            .empty(&ops::SWARM_JOIN, &[], |_| {}, Some(body))
            .await
    }

    /// Leaves the swarm (`docker swarm leave`); a manager needs `force(true)`.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::SwarmLeaveOptions;
    /// docker.swarm().leave(&SwarmLeaveOptions::default().force(true)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn leave(&self, options: &SwarmLeaveOptions) -> Result<()> {
        self.docker
            .empty(&ops::SWARM_LEAVE, &[], |s| options.write_params(s), None)
            .await
    }

    /// Changes the swarm's settings (`docker swarm update`); `version` is the
    /// swarm's current object version, as read from `inspect`.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let swarm = docker.swarm().inspect().await?;
    /// let version = swarm.version.as_ref().and_then(|v| v.index).unwrap_or_default() as i64;
    /// let spec = swarm.spec.clone().unwrap_or_default();
    /// docker.swarm().update(version, &spec, &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(
        &self,
        version: i64,
        spec: &SwarmSpec,
        options: &SwarmUpdateOptions,
    ) -> Result<()> {
        let body = json_body(spec)?;
        self.docker
            .empty(
                &ops::SWARM_UPDATE,
                &[],
                |s| {
                    s.required_query("version", &version);
                    options.write_params(s);
                },
                Some(body),
            )
            .await
    }

    /// The key that unlocks a locked manager (`docker swarm unlock-key`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let key = docker.swarm().unlock_key().await?;
    /// # Ok(()) }
    /// ```
    pub async fn unlock_key(&self) -> Result<SwarmUnlockkeyResponse> {
        self.docker
            .json(&ops::SWARM_UNLOCKKEY, &[], |_| {}, None)
            .await
    }

    /// Unlocks a locked manager (`docker swarm unlock`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::SwarmUnlockBody;
    /// let body = SwarmUnlockBody { unlock_key: Some("SWMKEY-1-…".into()), ..Default::default() };
    /// docker.swarm().unlock(&body).await?;
    /// # Ok(()) }
    /// ```
    pub async fn unlock(&self, body: &SwarmUnlockBody) -> Result<()> {
        let body = json_body(body)?;
        self.docker
            .empty(&ops::SWARM_UNLOCK, &[], |_| {}, Some(body))
            .await
    }
}
