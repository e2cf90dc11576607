//! Distribution: what a registry says about an image, without pulling it.

use crate::models::DistributionInspect;
use crate::operations::{self as ops, DistributionInspectOptions};
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
    /// let d = docker.distribution().inspect("localhost:5000/app:1", &Default::default()).await?;
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
    /// (`docker manifest inspect`-like), with the registry's credentials
    /// found as for [`crate::api::Images::pull`].
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let d = docker.distribution().inspect("localhost:5000/app:1", &Default::default()).await?;
    /// println!("{:?}", d.descriptor.digest);
    /// # Ok(()) }
    /// ```
    pub async fn inspect(
        &self,
        name: &str,
        options: &DistributionInspectOptions,
    ) -> Result<DistributionInspect> {
        let mut opts = options.clone();
        opts.x_registry_auth =
            Some(crate::auth::header_for(name, options.x_registry_auth.as_ref()).await?);
        self.docker
            .json(
                &ops::DISTRIBUTION_INSPECT,
                &[name],
                |s| opts.write_params(s),
                None,
            )
            .await
    }
}
