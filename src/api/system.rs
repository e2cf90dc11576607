//! System: version, info, ping, events, disk usage and registry login.

use crate::client::json_body;
use crate::codec::decode_json;
use crate::models::{
    AuthConfig, AuthResponse, EventMessage, SystemDataUsageResponse, SystemInfo, SystemVersion,
};
use crate::operations::{self as ops, *};
use crate::stream::{ByteStream, JsonStream};
use crate::{Docker, Result};

/// System-wide operations: `docker.system()`.
#[derive(Debug, Clone)]
pub struct System {
    docker: Docker,
}

impl Docker {
    /// System-wide operations.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let info = docker.system().info().await?;
    /// println!("{:?} containers", info.containers);
    /// # Ok(()) }
    /// ```
    pub fn system(&self) -> System {
        System {
            docker: self.clone(),
        }
    }
}

impl System {
    /// Checks registry credentials (`docker login`), returning the status and,
    /// for registries that hand one out, an identity token.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::models::AuthConfig;
    /// let creds = AuthConfig {
    ///     username: Some("me".into()),
    ///     password: Some("secret".into()),
    ///     serveraddress: Some("localhost:5001".into()),
    ///     ..Default::default()
    /// };
    /// let r = docker.system().auth(&creds).await?;
    /// println!("{}", r.status);
    /// # Ok(()) }
    /// ```
    pub async fn auth(&self, credentials: &AuthConfig) -> Result<AuthResponse> {
        let body = json_body(credentials)?;
        let bytes = self
            .docker
            .bytes(&ops::SYSTEM_AUTH, &[], |_| {}, Some(body))
            .await?;
        if bytes.is_empty() {
            // 204 No Content: accepted, nothing to report.
            return Ok(AuthResponse {
                status: String::new(),
                identity_token: None,
                extra: Default::default(),
            });
        }
        decode_json(ops::SYSTEM_AUTH.id, &bytes)
    }

    /// System-wide information (`docker info`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let info = docker.system().info().await?;
    /// # Ok(()) }
    /// ```
    pub async fn info(&self) -> Result<SystemInfo> {
        self.docker.json(&ops::SYSTEM_INFO, &[], |_| {}, None).await
    }

    /// Version of the daemon and its components (`docker version`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let v = docker.system().version().await?;
    /// println!("{:?} / API {:?}", v.version, v.api_version);
    /// # Ok(()) }
    /// ```
    pub async fn version(&self) -> Result<SystemVersion> {
        self.docker
            .json(&ops::SYSTEM_VERSION, &[], |_| {}, None)
            .await
    }

    /// Pings the daemon (`GET /_ping`); returns its answer, `OK`.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// assert_eq!(docker.system().ping().await?, "OK");
    /// # Ok(()) }
    /// ```
    pub async fn ping(&self) -> Result<String> {
        self.docker.text(&ops::SYSTEM_PING, &[], |_| {}, None).await
    }

    /// Pings the daemon with `HEAD /_ping` (API 1.40 and later): no body,
    /// only the status.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.system().ping_head().await?;
    /// # Ok(()) }
    /// ```
    pub async fn ping_head(&self) -> Result<()> {
        self.docker
            .empty(&ops::SYSTEM_PING_HEAD, &[], |_| {}, None)
            .await
    }

    /// Real-time events from the daemon (`docker events`), typed. Runs until
    /// `until` passes, or forever; dropping the stream ends the request.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut events = docker.system().events(&Default::default()).await?;
    /// while let Some(e) = events.try_next().await? {
    ///     println!("{:?} {:?}", e.type_, e.action);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn events(
        &self,
        options: &SystemEventsOptions,
    ) -> Result<JsonStream<ByteStream, EventMessage>> {
        let resp = self
            .docker
            .raw(&ops::SYSTEM_EVENTS, &[], |s| options.write_params(s), None)
            .await?;
        Ok(super::json_stream(ops::SYSTEM_EVENTS.id, resp))
    }

    /// Disk usage of images, containers, volumes and build cache (`docker system df`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let df = docker.system().df(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn df(&self, options: &SystemDataUsageOptions) -> Result<SystemDataUsageResponse> {
        self.docker
            .json(
                &ops::SYSTEM_DATA_USAGE,
                &[],
                |s| options.write_params(s),
                None,
            )
            .await
    }
}
