//! Plugins: install, configure, enable and remove daemon plugins.

use crate::client::{json_body, Payload};
use crate::models::{CreateImageInfo, Plugin, PluginPrivilege};
use crate::operations::{self as ops, *};
use crate::stream::{ByteStream, JsonStream};
use crate::{Body, Docker, Result};

/// Plugin operations: `docker.plugins()`.
#[derive(Debug, Clone)]
pub struct Plugins {
    docker: Docker,
}

impl Docker {
    /// Plugin operations.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let plugins = docker.plugins().list(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub fn plugins(&self) -> Plugins {
        Plugins {
            docker: self.clone(),
        }
    }
}

impl Plugins {
    /// Lists installed plugins (`docker plugin ls`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// for p in docker.plugins().list(&Default::default()).await? {
    ///     println!("{} enabled={}", p.name, p.enabled);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, options: &PluginListOptions) -> Result<PluginListResponse> {
        self.docker
            .json(&ops::PLUGIN_LIST, &[], |s| options.write_params(s), None)
            .await
    }

    /// The privileges a plugin asks for before it is installed.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let privileges = docker.plugins().privileges("vieux/sshfs:latest").await?;
    /// # Ok(()) }
    /// ```
    pub async fn privileges(&self, remote: &str) -> Result<GetPluginPrivilegesResponse> {
        let remote = remote.to_owned();
        self.docker
            .json(
                &ops::GET_PLUGIN_PRIVILEGES,
                &[],
                |s| s.required_query("remote", &remote),
                None,
            )
            .await
    }

    /// Installs a plugin (`docker plugin install`), granting `privileges`
    /// (as returned by [`Plugins::privileges`]); returns the progress stream.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use futures::TryStreamExt;
    /// let privileges = docker.plugins().privileges("vieux/sshfs:latest").await?;
    /// let progress = docker.plugins().pull("vieux/sshfs:latest", &privileges, &Default::default()).await?;
    /// let messages: Vec<_> = progress.try_collect().await?;
    /// # Ok(()) }
    /// ```
    pub async fn pull(
        &self,
        remote: &str,
        privileges: &[PluginPrivilege],
        options: &PluginPullOptions,
    ) -> Result<JsonStream<ByteStream, CreateImageInfo>> {
        let mut opts = options.clone();
        opts.x_registry_auth =
            Some(crate::auth::header_for(remote, options.x_registry_auth.as_ref()).await?);
        let options = &opts;
        let remote = remote.to_owned();
        let body = json_body(&privileges)?;
        let resp = self
            .docker
            .raw(
                &ops::PLUGIN_PULL,
                &[],
                |s| {
                    s.required_query("remote", &remote);
                    options.write_params(s);
                },
                Some(body),
            )
            .await?;
        Ok(super::progress_stream(ops::PLUGIN_PULL.id, resp))
    }

    /// Low-level information about a plugin (`docker plugin inspect`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let p = docker.plugins().inspect("vieux/sshfs:latest").await?;
    /// # Ok(()) }
    /// ```
    pub async fn inspect(&self, name: &str) -> Result<Plugin> {
        self.docker
            .json(&ops::PLUGIN_INSPECT, &[name], |_| {}, None)
            .await
    }

    /// Removes a plugin (`docker plugin rm`), returning what it was, or
    /// `Plugin::default()` when the daemon says nothing more than that it
    /// succeeded (dockerd 20.10 answers with an empty body).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::PluginDeleteOptions;
    /// docker.plugins().remove("vieux/sshfs:latest", &PluginDeleteOptions::default().force(true)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove(&self, name: &str, options: &PluginDeleteOptions) -> Result<Plugin> {
        self.docker
            .json_or_default(
                &ops::PLUGIN_DELETE,
                &[name],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Enables a plugin (`docker plugin enable`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.plugins().enable("vieux/sshfs:latest", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn enable(&self, name: &str, options: &PluginEnableOptions) -> Result<()> {
        self.docker
            .empty(
                &ops::PLUGIN_ENABLE,
                &[name],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Disables a plugin (`docker plugin disable`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.plugins().disable("vieux/sshfs:latest", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn disable(&self, name: &str, options: &PluginDisableOptions) -> Result<()> {
        self.docker
            .empty(
                &ops::PLUGIN_DISABLE,
                &[name],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Upgrades a disabled plugin to another remote reference (`docker plugin
    /// upgrade`); returns the progress stream.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let privileges = docker.plugins().privileges("vieux/sshfs:next").await?;
    /// let progress = docker.plugins().upgrade("vieux/sshfs:latest", "vieux/sshfs:next", &privileges, &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn upgrade(
        &self,
        name: &str,
        remote: &str,
        privileges: &[PluginPrivilege],
        options: &PluginUpgradeOptions,
    ) -> Result<JsonStream<ByteStream, CreateImageInfo>> {
        let mut opts = options.clone();
        opts.x_registry_auth =
            Some(crate::auth::header_for(remote, options.x_registry_auth.as_ref()).await?);
        let options = &opts;
        let remote = remote.to_owned();
        let body = json_body(&privileges)?;
        let resp = self
            .docker
            .raw(
                &ops::PLUGIN_UPGRADE,
                &[name],
                |s| {
                    s.required_query("remote", &remote);
                    options.write_params(s);
                },
                Some(body),
            )
            .await?;
        Ok(super::progress_stream(ops::PLUGIN_UPGRADE.id, resp))
    }

    /// Creates a plugin from a tar archive holding `config.json` and `rootfs/`
    /// (`docker plugin create`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker, tar: Vec<u8>) -> dockhand::Result<()> {
    /// docker.plugins().create("my/plugin:1", tar.into()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, name: &str, tar: Body) -> Result<()> {
        let name = name.to_owned();
        self.docker
            .empty(
                &ops::PLUGIN_CREATE,
                &[],
                |s| s.required_query("name", &name),
                Some(Payload::Raw(tar.0, "application/x-tar")),
            )
            .await
    }

    /// Pushes a plugin to its registry (`docker plugin push`); `None`
    /// credentials push anonymously. Returns the progress stream.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let progress = docker.plugins().push("localhost:5000/my/plugin:1", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn push(
        &self,
        name: &str,
        options: &PluginPushOptions,
    ) -> Result<JsonStream<ByteStream, CreateImageInfo>> {
        let mut opts = options.clone();
        opts.x_registry_auth =
            Some(crate::auth::header_for(name, options.x_registry_auth.as_ref()).await?);
        let resp = self
            .docker
            .raw(&ops::PLUGIN_PUSH, &[name], |s| opts.write_params(s), None)
            .await?;
        Ok(super::progress_stream(ops::PLUGIN_PUSH.id, resp))
    }

    /// Sets plugin settings, as `KEY=VALUE` strings (`docker plugin set`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// docker.plugins().set("vieux/sshfs:latest", &["DEBUG=1".to_string()]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn set(&self, name: &str, settings: &[String]) -> Result<()> {
        let body = json_body(&settings)?;
        self.docker
            .empty(&ops::PLUGIN_SET, &[name], |_| {}, Some(body))
            .await
    }
}
