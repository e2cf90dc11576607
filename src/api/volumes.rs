//! Volumes: create, inspect, update and remove them.

use crate::client::json_body;
use crate::models::{
    Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneResponse, VolumeUpdateBody,
};
use crate::operations::{self as ops, *};
use crate::{Docker, Result};

/// Volume operations: `docker.volumes()`.
#[derive(Debug, Clone)]
pub struct Volumes {
    docker: Docker,
}

impl Docker {
    /// Volume operations.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let vols = docker.volumes().list(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub fn volumes(&self) -> Volumes {
        Volumes {
            docker: self.clone(),
        }
    }
}

impl Volumes {
    /// Lists volumes (`docker volume ls`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let r = docker.volumes().list(&Default::default()).await?;
    /// for v in r.volumes.unwrap_or_default() {
    ///     println!("{}", v.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, options: &VolumeListOptions) -> Result<VolumeListResponse> {
        self.docker
            .json(&ops::VOLUME_LIST, &[], |s| options.write_params(s), None)
            .await
    }

    /// Creates a volume (`docker volume create`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::VolumeCreateRequest;
    /// let v = docker.volumes().create(&VolumeCreateRequest { name: Some("data".into()), ..Default::default() }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, body: &VolumeCreateRequest) -> Result<Volume> {
        let body = json_body(body)?;
        self.docker
            .json(&ops::VOLUME_CREATE, &[], |_| {}, Some(body))
            .await
    }

    /// Low-level information about a volume (`docker volume inspect`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let v = docker.volumes().inspect("data").await?;
    /// # Ok(()) }
    /// ```
    pub async fn inspect(&self, name: &str) -> Result<Volume> {
        self.docker
            .json(&ops::VOLUME_INSPECT, &[name], |_| {}, None)
            .await
    }

    /// Updates a cluster volume (API 1.42); `version` is the volume's
    /// current object version, as read from `inspect`.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.volumes().update("data", 12, &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update(&self, name: &str, version: i64, body: &VolumeUpdateBody) -> Result<()> {
        let body = json_body(body)?;
        self.docker
            .empty(
                &ops::VOLUME_UPDATE,
                &[name],
                |s| s.required_query("version", &version),
                Some(body),
            )
            .await
    }

    /// Removes a volume (`docker volume rm`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.volumes().remove("data", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove(&self, name: &str, options: &VolumeDeleteOptions) -> Result<()> {
        self.docker
            .empty(
                &ops::VOLUME_DELETE,
                &[name],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Removes unused volumes (`docker volume prune`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let r = docker.volumes().prune(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn prune(&self, options: &VolumePruneOptions) -> Result<VolumePruneResponse> {
        self.docker
            .json(&ops::VOLUME_PRUNE, &[], |s| options.write_params(s), None)
            .await
    }
}
