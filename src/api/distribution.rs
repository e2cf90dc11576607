//! Distribution: what a registry says about an image, without pulling it.

use super::registry_auth_header;
use crate::models::{AuthConfig, DistributionInspect};
use crate::operations as ops;
use crate::{Docker, Result};

/// Registry lookups through the daemon: `docker.distribution()`.
#[derive(Debug, Clone)]
pub struct Distribution {
    docker: Docker,
}

impl Docker {
    /// Registry lookups through the daemon.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let d = docker.distribution().inspect("localhost:5000/app:1", None).await?;
    /// # Ok(()) }
    /// ```
    pub fn distribution(&self) -> Distribution {
        Distribution {
            docker: self.clone(),
        }
    }
}

impl Distribution {
    /// The manifest descriptor and platforms of an image in its registry
    /// (`docker manifest inspect`-like); `None` credentials ask anonymously.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let d = docker.distribution().inspect("localhost:5000/app:1", None).await?;
    /// println!("{:?}", d.descriptor.digest);
    /// # Ok(()) }
    /// ```
    pub async fn inspect(
        &self,
        name: &str,
        credentials: Option<&AuthConfig>,
    ) -> Result<DistributionInspect> {
        // Not in the specification's parameter list, but the daemon reads it
        // (the docker CLI sends it).
        let auth = registry_auth_header(credentials)?;
        self.docker
            .json(
                &ops::DISTRIBUTION_INSPECT,
                &[name],
                |s| s.required_header_secret("X-Registry-Auth", &auth),
                None,
            )
            .await
    }
}
