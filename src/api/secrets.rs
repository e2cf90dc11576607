//! Secrets: sensitive data handed to swarm services.

use crate::client::json_body;
use crate::models::{Secret, SecretCreateBody, SecretSpec, SwarmObjectCreateResponse};
use crate::operations::{self as ops, *};
use crate::{Docker, Result};

/// Swarm secret operations: `docker.secrets()`.
#[derive(Debug, Clone)]
pub struct Secrets {
    docker: Docker,
}

impl Docker {
    /// Swarm secret operations.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let secrets = docker.secrets().list(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub fn secrets(&self) -> Secrets {
        Secrets {
            docker: self.clone(),
        }
    }
}

impl Secrets {
    /// Lists secrets (`docker secret ls`); their data is never returned.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// for s in docker.secrets().list(&Default::default()).await? {
    ///     println!("{:?}", s.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, options: &SecretListOptions) -> Result<SecretListResponse> {
        self.docker
            .json(&ops::SECRET_LIST, &[], |s| options.write_params(s), None)
            .await
    }

    /// Creates a secret (`docker secret create`); `data` is base64.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::SecretCreateBody;
    /// let body = SecretCreateBody {
    ///     name: Some("db-password".into()),
    ///     data: Some("aHVudGVyMg==".into()),
    ///     ..Default::default()
    /// };
    /// let id = docker.secrets().create(&body).await?.id;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, body: &SecretCreateBody) -> Result<SwarmObjectCreateResponse> {
        let body = json_body(body)?;
        self.docker
            .json(&ops::SECRET_CREATE, &[], |_| {}, Some(body))
            .await
    }

    /// A secret's metadata (`docker secret inspect`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let s = docker.secrets().inspect("db-password").await?;
    /// # Ok(()) }
    /// ```
    pub async fn inspect(&self, id: &str) -> Result<Secret> {
        self.docker
            .json(&ops::SECRET_INSPECT, &[id], |_| {}, None)
            .await
    }

    /// Changes a secret's labels; `version` is its current object version.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let s = docker.secrets().inspect("db-password").await?;
    /// let version = s.version.as_ref().and_then(|v| v.index).unwrap_or_default() as i64;
    /// docker.secrets().update("db-password", version, &s.spec.clone().unwrap_or_default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, id: &str, version: i64, spec: &SecretSpec) -> Result<()> {
        let body = json_body(spec)?;
        self.docker
            .empty(
                &ops::SECRET_UPDATE,
                &[id],
                |s| s.required_query("version", &version),
                Some(body),
            )
            .await
    }

    /// Removes a secret (`docker secret rm`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.secrets().remove("db-password").await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove(&self, id: &str) -> Result<()> {
        self.docker
            .empty(&ops::SECRET_DELETE, &[id], |_| {}, None)
            .await
    }
}
