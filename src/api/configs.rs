//! Configs: non-secret configuration files handed to swarm services.

use crate::client::json_body;
use crate::models::{Config, ConfigCreateBody, ConfigSpec, SwarmObjectCreateResponse};
use crate::operations::{self as ops, *};
use crate::{Docker, Result};

/// Swarm config operations: `docker.configs()`.
#[derive(Debug, Clone)]
pub struct Configs {
    docker: Docker,
}

impl Docker {
    /// Swarm config operations.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let configs = docker.configs().list(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub fn configs(&self) -> Configs {
        Configs {
            docker: self.clone(),
        }
    }
}

impl Configs {
    /// Lists configs (`docker config ls`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// for s in docker.configs().list(&Default::default()).await? {
    ///     println!("{:?}", s.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, options: &ConfigListOptions) -> Result<ConfigListResponse> {
        self.docker
            .json(&ops::CONFIG_LIST, &[], |s| options.write_params(s), None)
            .await
    }

    /// Creates a config (`docker config create`); `data` is base64.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::ConfigCreateBody;
    /// let body = ConfigCreateBody {
    ///     name: Some("app-config".into()),
    ///     data: Some("bG9nX2xldmVsPWluZm8=".into()),
    ///     ..Default::default()
    /// };
    /// let id = docker.configs().create(&body).await?.id;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, body: &ConfigCreateBody) -> Result<SwarmObjectCreateResponse> {
        let body = json_body(body)?;
        self.docker
            .json(&ops::CONFIG_CREATE, &[], |_| {}, Some(body))
            .await
    }

    /// A config's metadata (`docker config inspect`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let s = docker.configs().inspect("app-config").await?;
    /// # Ok(()) }
    /// ```
    pub async fn inspect(&self, id: &str) -> Result<Config> {
        self.docker
            .json(&ops::CONFIG_INSPECT, &[id], |_| {}, None)
            .await
    }

    /// Changes a config's labels; `version` is its current object version.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let s = docker.configs().inspect("app-config").await?;
    /// let version = s.version.as_ref().and_then(|v| v.index).unwrap_or_default() as i64;
    /// docker.configs().update("app-config", version, &s.spec.clone().unwrap_or_default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, id: &str, version: i64, spec: &ConfigSpec) -> Result<()> {
        let body = json_body(spec)?;
        self.docker
            .empty(
                &ops::CONFIG_UPDATE,
                &[id],
                |s| s.required_query("version", &version),
                Some(body),
            )
            .await
    }

    /// Removes a config (`docker config rm`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.configs().remove("app-config").await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove(&self, id: &str) -> Result<()> {
        self.docker
            .empty(&ops::CONFIG_DELETE, &[id], |_| {}, None)
            .await
    }
}
