//! The [`Docker`] handle. One job per file: [`builder`] configures a client,
//! [`negotiate`] learns the daemon's API version and facts, [`dispatch`]
//! sends an operation and maps its status, [`raw`] is the public request API
//! for what the typed groups do not cover, [`ttys`] remembers containers'
//! TTYs by full ID.

mod builder;
mod dispatch;
mod negotiate;
mod raw;
mod ttys;

pub use builder::DockerBuilder;
pub(crate) use dispatch::{json_body, Payload};
pub use negotiate::DaemonInfo;
pub use raw::{RawRequest, RawResponse};

use crate::operations::Operation;
use crate::transport::{ResponseBody, Transport};
use crate::{ApiVersion, Result};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// A Docker daemon client. Cheap to clone (one `Arc`); `Send + Sync`.
///
/// Every clone shares one pooled connection set and one negotiated API
/// version. Group handles (`docker.containers()`, `docker.images()`, …) are
/// cheap views of it.
#[derive(Clone)]
pub struct Docker {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    fixed_version: Option<ApiVersion>,
    negotiated: OnceCell<DaemonInfo>,
    platform_check: bool,
    ttys: ttys::TtyCache,
}

impl std::fmt::Debug for Docker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Docker")
            .field("host", &self.inner.transport.host_display())
            .field("fixed_version", &self.inner.fixed_version)
            .field(
                "negotiated",
                &self.inner.negotiated.get().map(|d| d.api_version),
            )
            .finish_non_exhaustive()
    }
}

/// A successful response, before its body is read.
pub(crate) struct Response {
    pub operation: &'static Operation,
    pub inner: http::Response<ResponseBody>,
}

impl Docker {
    /// A client configured the way the docker CLI is: `DOCKER_HOST`,
    /// `DOCKER_CONTEXT` / the current context, `DOCKER_TLS_VERIFY`,
    /// `DOCKER_CERT_PATH`, `DOCKER_API_VERSION`, …
    ///
    /// ```no_run
    /// # async fn f() -> dockhand::Result<()> {
    /// let docker = dockhand::Docker::connect()?;
    /// let version = docker.system().version().await?;
    /// println!("{:?}", version.version);
    /// # Ok(()) }
    /// ```
    pub fn connect() -> Result<Docker> {
        DockerBuilder::default().build()
    }

    /// A client for this host, ignoring `DOCKER_HOST` and contexts.
    ///
    /// ```no_run
    /// # fn f() -> dockhand::Result<()> {
    /// let docker = dockhand::Docker::connect_with_host("unix:///var/run/docker.sock")?;
    /// # Ok(()) }
    /// ```
    pub fn connect_with_host(host: &str) -> Result<Docker> {
        DockerBuilder::default().host(host).build()
    }

    /// A builder for other settings.
    pub fn builder() -> DockerBuilder {
        DockerBuilder::default()
    }

    /// The daemon facts from the first ping (negotiating now if that has not
    /// happened yet). With a fixed API version no ping is needed for requests,
    /// but this still pings once to learn the daemon's facts.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let info = docker.daemon_info().await?;
    /// println!("API {} on {:?}", info.api_version, info.os_type);
    /// # Ok(()) }
    /// ```
    pub async fn daemon_info(&self) -> Result<DaemonInfo> {
        self.inner
            .negotiated
            .get_or_try_init(|| self.ping_for_info())
            .await
            .cloned()
    }

    /// The daemon's operating system (`linux`, `windows`, lower case) as
    /// learned from the `Ostype` header of the negotiation ping; `None`
    /// before the first request (or, with a fixed API version, before
    /// [`Docker::daemon_info`] or a request that needed it), and for a daemon
    /// that does not say. No request is made.
    ///
    /// Requests are checked against it before sending: a field, parameter or
    /// operation the specification says this platform does not have is
    /// [`crate::Error::UnsupportedOnPlatform`] (see
    /// [`crate::models::FieldPlatforms`]; off with
    /// [`crate::DockerBuilder::platform_check`]).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.system().ping().await?;
    /// if docker.platform() == Some("windows") {
    ///     println!("Windows containers: process or Hyper-V isolation");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn platform(&self) -> Option<&str> {
        self.inner
            .negotiated
            .get()
            .and_then(|d| d.os_type.as_deref())
    }

    /// Containers' TTYs learned from inspects, by full ID (`ttys`).
    pub(crate) fn ttys(&self) -> &ttys::TtyCache {
        &self.inner.ttys
    }

    /// The API version requests use: the fixed one, or the negotiated one
    /// (negotiating once, however many tasks ask at the same time).
    pub async fn api_version(&self) -> Result<ApiVersion> {
        if let Some(v) = self.inner.fixed_version {
            return Ok(v);
        }
        // Once negotiated, without copying the daemon's facts.
        if let Some(info) = self.inner.negotiated.get() {
            return Ok(info.api_version);
        }
        // Boxed: negotiating is rare, and its future would make every
        // request's future larger.
        Ok(Box::pin(self.daemon_info()).await?.api_version)
    }
}
