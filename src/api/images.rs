//! Images: pull, build, push, tag, inspect, save, load and remove them.

use crate::auth::{registry_config_header, ConfigFile, ImageReference, RegistryAuth};
use crate::client::json_body;
use crate::models::{
    AuthConfig, BuildInfo, BuildPruneResponse, ContainerConfig, CreateImageInfo, IDResponse,
    ImageDeleteResponseItem, ImageInspect, ImagePruneResponse, PushImageInfo,
};
use crate::operations::{self as ops, *};
use crate::stream::{ByteStream, JsonStream};
use crate::{Body, Docker, Error, Result};

/// Image operations: `docker.images()`.
#[derive(Debug, Clone)]
pub struct Images {
    docker: Docker,
}

impl Docker {
    /// Image operations.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// for i in docker.images().list(&Default::default()).await? {
    ///     println!("{} {:?}", i.id, i.repo_tags);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn images(&self) -> Images {
        Images {
            docker: self.clone(),
        }
    }
}

pub use crate::auth::registry_auth_header;

/// Options of [`Images::pull`].
///
/// ```
/// use dockhand::api::PullOptions;
/// use dockhand::auth::RegistryAuth;
/// let opts = PullOptions::default().auth(RegistryAuth::Anonymous).platform("linux/amd64");
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PullOptions {
    /// Where the registry credentials come from (default: `config.json` as
    /// the docker CLI finds it).
    pub auth: RegistryAuth,
    /// The platform to pull (`os[/arch[/variant]]`) from a multi-platform image.
    pub platform: Option<String>,
}

impl PullOptions {
    /// Sets where the credentials come from: [`RegistryAuth`], an
    /// [`AuthConfig`] or a [`ConfigFile`].
    #[must_use]
    pub fn auth(mut self, auth: impl Into<RegistryAuth>) -> Self {
        self.auth = auth.into();
        self
    }

    /// Sets the platform.
    #[must_use]
    pub fn platform(mut self, platform: impl Into<String>) -> Self {
        self.platform = Some(platform.into());
        self
    }
}

/// Options of [`Images::push_image`].
///
/// ```
/// use dockhand::api::PushOptions;
/// let opts = PushOptions::default().all_tags(true);
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PushOptions {
    /// Where the registry credentials come from (default: `config.json` as
    /// the docker CLI finds it).
    pub auth: RegistryAuth,
    /// Push every tag of the repository (the reference then has no tag).
    pub all_tags: bool,
    /// The platform to push from a multi-platform image (API 1.46).
    pub platform: Option<crate::models::OCIPlatform>,
}

impl PushOptions {
    /// Sets where the credentials come from: [`RegistryAuth`], an
    /// [`AuthConfig`] or a [`ConfigFile`].
    #[must_use]
    pub fn auth(mut self, auth: impl Into<RegistryAuth>) -> Self {
        self.auth = auth.into();
        self
    }

    /// Pushes every tag.
    #[must_use]
    pub fn all_tags(mut self, all: bool) -> Self {
        self.all_tags = all;
        self
    }

    /// Sets the platform.
    #[must_use]
    pub fn platform(mut self, platform: crate::models::OCIPlatform) -> Self {
        self.platform = Some(platform);
        self
    }
}

/// The credentials for the registry of `r`; explicit ones get the
/// registry's server address when they have none.
async fn resolve_credentials(
    auth: &RegistryAuth,
    r: &ImageReference,
) -> Result<Option<AuthConfig>> {
    let mut creds = auth.resolve_async(r.auth_key()).await?;
    if let Some(c) = &mut creds {
        if c.serveraddress.is_none() {
            c.serveraddress = Some(r.auth_key().to_owned());
        }
    }
    Ok(creds)
}

impl Images {
    /// Lists images (`docker images`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let images = docker.images().list(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, options: &ImageListOptions) -> Result<ImageListResponse> {
        self.docker
            .json(&ops::IMAGE_LIST, &[], |s| options.write_params(s), None)
            .await
    }

    /// Builds an image from a tar build context (`docker build`), returning
    /// the typed progress messages (an in-band error ends the stream with `Err`).
    ///
    /// Unless `options` already carries an `X-Registry-Config`, the
    /// credentials of every registry in `config.json` (found as the docker
    /// CLI finds it, see [`ConfigFile::all_credentials`]) go along, so `FROM`
    /// images can come from private registries; a malformed `config.json` or
    /// a failing credential helper is then an error. To send none, set
    /// `x_registry_config` to [`crate::auth::registry_config_header`] of an
    /// empty map.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker, context_tar: Vec<u8>) -> dockhand::Result<()> {
    /// use dockhand::operations::ImageBuildOptions;
    /// let out = docker.images().build(context_tar.into(), &ImageBuildOptions::default().t("app:1")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn build(
        &self,
        context: Body,
        options: &ImageBuildOptions,
    ) -> Result<JsonStream<ByteStream, BuildInfo>> {
        let mut options = options.clone();
        if options.x_registry_config.is_none() {
            let all = crate::auth::blocking(|| ConfigFile::from_env()?.all_credentials()).await?;
            options.x_registry_config = Some(registry_config_header(&all)?);
        }
        let resp = self
            .docker
            .raw(
                &ops::IMAGE_BUILD,
                &[],
                |s| options.write_params(s),
                Some((context.0, "application/x-tar")),
            )
            .await?;
        Ok(super::json_stream(ops::IMAGE_BUILD.id, resp))
    }

    /// Deletes build cache (`docker builder prune`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let r = docker.images().build_prune(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn build_prune(&self, options: &BuildPruneOptions) -> Result<BuildPruneResponse> {
        self.docker
            .json(&ops::BUILD_PRUNE, &[], |s| options.write_params(s), None)
            .await
    }

    /// Pulls an image (`fromImage`) or imports one from a tarball (`fromSrc`
    /// `-` with `source`), returning the typed progress messages (an in-band error ends the stream with `Err`).
    ///
    /// Registry credentials go in `options.x_registry_auth` (made with
    /// [`registry_auth_header`]); without them the pull is anonymous.
    /// [`Images::pull`] finds them in `config.json` by itself.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::auth::{registry_auth_header, AuthConfig};
    /// use dockhand::operations::ImageCreateOptions;
    /// use dockhand::Body;
    /// let creds = AuthConfig { username: Some("me".into()), password: Some("pw".into()), ..Default::default() };
    /// let opts = ImageCreateOptions::default()
    ///     .from_image("localhost:5000/app")
    ///     .tag("1")
    ///     .x_registry_auth(registry_auth_header(Some(&creds))?);
    /// let progress = docker.images().create(&opts, None).await?;
    /// // `docker import rootfs.tar app:base`, the file streamed as it is read
    /// let file = tokio::fs::File::open("rootfs.tar").await.expect("open");
    /// let opts = ImageCreateOptions::default().from_src("-").repo("app").tag("base");
    /// let progress = docker.images().create(&opts, Some(Body::from_reader(file))).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create(
        &self,
        options: &ImageCreateOptions,
        source: Option<Body>,
    ) -> Result<JsonStream<ByteStream, CreateImageInfo>> {
        let body = source.map(|b| (b.0, "application/x-tar"));
        let resp = self
            .docker
            .raw(&ops::IMAGE_CREATE, &[], |s| options.write_params(s), body)
            .await?;
        Ok(super::json_stream(ops::IMAGE_CREATE.id, resp))
    }

    /// Pulls an image by reference (`docker pull REF`): splits off the tag or
    /// digest, finds the registry's credentials (by default in `config.json`
    /// as the docker CLI does: `auths`, `credsStore`, `credHelpers`) and
    /// returns the typed progress messages. A registry that refuses the
    /// credentials ends the call or the stream with `Err`.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use futures::TryStreamExt;
    /// let mut progress = docker.images().pull("localhost:5000/app:1", &Default::default()).await?;
    /// while let Some(m) = progress.try_next().await? {
    ///     println!("{:?} {:?}", m.id, m.status);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn pull(
        &self,
        reference: &str,
        options: &PullOptions,
    ) -> Result<JsonStream<ByteStream, CreateImageInfo>> {
        let r = ImageReference::parse(reference)?;
        let creds = resolve_credentials(&options.auth, &r).await?;
        let mut opts = ImageCreateOptions::default()
            .from_image(r.name())
            .tag(r.tag_or_digest())
            .x_registry_auth(registry_auth_header(creds.as_ref())?);
        opts.platform = options.platform.clone();
        self.create(&opts, None).await
    }

    /// Low-level information about an image (`docker image inspect`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let image = docker.images().inspect("busybox", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn inspect(&self, name: &str, options: &ImageInspectOptions) -> Result<ImageInspect> {
        self.docker
            .json(
                &ops::IMAGE_INSPECT,
                &[name],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Attestations (SBOM, provenance) of an image (API 1.55).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let a = docker.images().attestations("app:1", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn attestations(
        &self,
        name: &str,
        options: &ImageAttestationsOptions,
    ) -> Result<ImageAttestationsResponse> {
        self.docker
            .json(
                &ops::IMAGE_ATTESTATIONS,
                &[name],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// The layers' history of an image (`docker history`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let h = docker.images().history("busybox", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn history(
        &self,
        name: &str,
        options: &ImageHistoryOptions,
    ) -> Result<ImageHistoryResponse> {
        self.docker
            .json(
                &ops::IMAGE_HISTORY,
                &[name],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Pushes an image to its registry (`docker push`), returning the raw
    /// stream of JSON progress messages. `None` credentials push anonymously.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::ImagePushOptions;
    /// let out = docker.images().push("localhost:5000/app", &ImagePushOptions::default().tag("1"), None).await?;
    /// # Ok(()) }
    /// ```
    pub async fn push(
        &self,
        name: &str,
        options: &ImagePushOptions,
        credentials: Option<&AuthConfig>,
    ) -> Result<JsonStream<ByteStream, PushImageInfo>> {
        let auth = registry_auth_header(credentials)?;
        let resp = self
            .docker
            .raw(
                &ops::IMAGE_PUSH,
                &[name],
                |s| {
                    s.required_header_secret("X-Registry-Auth", &auth);
                    options.write_params(s);
                },
                None,
            )
            .await?;
        Ok(super::json_stream(ops::IMAGE_PUSH.id, resp))
    }

    /// Pushes an image by reference (`docker push REF`): its tag (`latest`
    /// when none is written, every tag with [`PushOptions::all_tags`]), with
    /// the registry's credentials found as for [`Images::pull`].
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use futures::TryStreamExt;
    /// let messages: Vec<_> = docker
    ///     .images()
    ///     .push_image("localhost:5000/app:1", &Default::default())
    ///     .await?
    ///     .try_collect()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn push_image(
        &self,
        reference: &str,
        options: &PushOptions,
    ) -> Result<JsonStream<ByteStream, PushImageInfo>> {
        let r = ImageReference::parse(reference)?;
        let invalid = |message: &str| Error::InvalidArgument {
            name: "reference",
            message: format!("{reference:?}: {message}"),
        };
        if r.digest().is_some() {
            return Err(invalid("a digest cannot be pushed; push a tag"));
        }
        let mut opts = ImagePushOptions::default();
        match (options.all_tags, r.tag()) {
            (true, Some(_)) => return Err(invalid("all_tags pushes every tag; give no tag")),
            (true, None) => {}
            (false, tag) => opts.tag = Some(tag.unwrap_or("latest").to_owned()),
        }
        opts.platform = options.platform.clone();
        let creds = resolve_credentials(&options.auth, &r).await?;
        self.push(r.name(), &opts, creds.as_ref()).await
    }

    /// Gives an image another name (`docker tag`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::ImageTagOptions;
    /// docker.images().tag("busybox", &ImageTagOptions::default().repo("localhost:5000/bb").tag("1")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn tag(&self, name: &str, options: &ImageTagOptions) -> Result<()> {
        self.docker
            .empty(&ops::IMAGE_TAG, &[name], |s| options.write_params(s), None)
            .await
    }

    /// Removes an image (`docker rmi`), returning what was untagged and deleted.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let gone = docker.images().remove("app:old", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove(
        &self,
        name: &str,
        options: &ImageDeleteOptions,
    ) -> Result<Vec<ImageDeleteResponseItem>> {
        self.docker
            .json(
                &ops::IMAGE_DELETE,
                &[name],
                |s| options.write_params(s),
                None,
            )
            .await
    }

    /// Searches Docker Hub (`docker search`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let found = docker.images().search("busybox", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn search(
        &self,
        term: &str,
        options: &ImageSearchOptions,
    ) -> Result<ImageSearchResponse> {
        let term = term.to_owned();
        self.docker
            .json(
                &ops::IMAGE_SEARCH,
                &[],
                |s| {
                    s.required_query("term", &term);
                    options.write_params(s);
                },
                None,
            )
            .await
    }

    /// Removes unused images (`docker image prune`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let r = docker.images().prune(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn prune(&self, options: &ImagePruneOptions) -> Result<ImagePruneResponse> {
        self.docker
            .json(&ops::IMAGE_PRUNE, &[], |s| options.write_params(s), None)
            .await
    }

    /// Creates an image from a container's changes (`docker commit`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::ImageCommitOptions;
    /// let opts = ImageCommitOptions::default().container("web").repo("web-snapshot");
    /// let id = docker.images().commit(&Default::default(), &opts).await?;
    /// # Ok(()) }
    /// ```
    pub async fn commit(
        &self,
        config: &ContainerConfig,
        options: &ImageCommitOptions,
    ) -> Result<IDResponse> {
        let body = json_body(config)?;
        self.docker
            .json(
                &ops::IMAGE_COMMIT,
                &[],
                |s| options.write_params(s),
                Some(body),
            )
            .await
    }

    /// An image and its history as a tar stream (`docker save IMAGE`),
    /// streamed as the daemon sends it, never collected in memory.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// // `docker save busybox -o busybox.tar`
    /// let tar = docker.images().get("busybox", &Default::default()).await?;
    /// let mut file = tokio::fs::File::create("busybox.tar").await.expect("create");
    /// tokio::io::copy(&mut tar.into_async_read(), &mut file).await.expect("write");
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, name: &str, options: &ImageGetOptions) -> Result<ByteStream> {
        let resp = self
            .docker
            .raw(&ops::IMAGE_GET, &[name], |s| options.write_params(s), None)
            .await?;
        Ok(ByteStream::new(ops::IMAGE_GET.id, resp.into_body()))
    }

    /// Several images as one tar stream (`docker save IMAGE…`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::ImageGetAllOptions;
    /// let opts = ImageGetAllOptions::default().names(vec!["busybox".to_string(), "alpine".to_string()]);
    /// let tar = docker.images().get_all(&opts).await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_all(&self, options: &ImageGetAllOptions) -> Result<ByteStream> {
        let resp = self
            .docker
            .raw(&ops::IMAGE_GET_ALL, &[], |s| options.write_params(s), None)
            .await?;
        Ok(ByteStream::new(ops::IMAGE_GET_ALL.id, resp.into_body()))
    }

    /// Loads images from a tarball made by `save` (`docker load`), returning
    /// the typed progress messages (an in-band error ends the stream with `Err`).
    /// A [`Body::from_reader`] sends a file as it is read.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::Body;
    /// use futures::TryStreamExt;
    /// // `docker load -i busybox.tar`
    /// let file = tokio::fs::File::open("busybox.tar").await.expect("open");
    /// let mut out = docker.images().load(Body::from_reader(file), &Default::default()).await?;
    /// while let Some(message) = out.try_next().await? {
    ///     print!("{}", message.stream.unwrap_or_default());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn load(
        &self,
        tarball: Body,
        options: &ImageLoadOptions,
    ) -> Result<JsonStream<ByteStream, BuildInfo>> {
        let resp = self
            .docker
            .raw(
                &ops::IMAGE_LOAD,
                &[],
                |s| options.write_params(s),
                Some((tarball.0, "application/x-tar")),
            )
            .await?;
        Ok(super::json_stream(ops::IMAGE_LOAD.id, resp))
    }

    /// Builds an image from a local directory (`docker build DIR`): the
    /// directory is streamed as a tar archive honouring its `.dockerignore`
    /// (see [`crate::build::BuildContext`]) after checking, like the CLI,
    /// that every file to send is readable ([`Error::Io`] naming the file
    /// otherwise). The `dockerfile` option names the Dockerfile inside `dir`.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::build::BuildOutcome;
    /// use dockhand::operations::ImageBuildOptions;
    /// let stream = docker.images().build_dir("./app", &ImageBuildOptions::default().t("app:1")).await?;
    /// let image_id = BuildOutcome::collect(stream).await?.image_id;
    /// # Ok(()) }
    /// ```
    pub async fn build_dir(
        &self,
        dir: impl AsRef<std::path::Path>,
        options: &ImageBuildOptions,
    ) -> Result<JsonStream<ByteStream, BuildInfo>> {
        let (tar, producer) =
            crate::build::prepare_dir(dir.as_ref(), options.dockerfile.clone()).await?;
        match self.build(Body::from_stream(tar), options).await {
            Ok(progress) => Ok(progress),
            // The request failed because the archive could not be made: say why.
            Err(e) => Err(producer.take_failure().unwrap_or(e)),
        }
    }
}
