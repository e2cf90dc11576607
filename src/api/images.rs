//! Images: pull, build, push, tag, inspect, save, load and remove them.

use crate::auth::{registry_config_header, ConfigFile, ImageReference};
use crate::client::{json_body, Payload};
use crate::models::{
    BuildInfo, BuildPruneResponse, ContainerConfig, CreateImageInfo, IDResponse,
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

impl Images {
    /// The client this handle uses.
    #[cfg_attr(not(feature = "buildkit"), allow(dead_code))]
    pub(crate) fn docker(&self) -> &Docker {
        &self.docker
    }

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
                Some(Payload::Raw(context.0, "application/x-tar")),
            )
            .await?;
        Ok(super::progress_stream(ops::IMAGE_BUILD.id, resp))
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

    /// Pulls an image by reference (`docker pull REF`), returning the typed
    /// progress messages; an in-band error (a registry refusing the
    /// credentials, an unknown tag) ends the stream with `Err`. `fromImage`
    /// and `tag` come from the reference (no tag: `latest`); the platform
    /// and credentials from `options`. Credentials are found as for every
    /// registry operation: those the options carry
    /// ([`ImageCreateOptions::credentials`],
    /// [`ImageCreateOptions::anonymous`]), else `config.json`'s for the
    /// registry (`auths`, `credsStore`, `credHelpers`, as the CLI finds them).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::auth::AuthConfig;
    /// use dockhand::operations::ImageCreateOptions;
    /// use futures::TryStreamExt;
    /// let mut progress = docker.images().pull("localhost:5000/app:1", &Default::default()).await?;
    /// while let Some(m) = progress.try_next().await? {
    ///     println!("{:?} {:?}", m.id, m.status);
    /// }
    /// // Explicit credentials, whatever config.json says:
    /// let creds = AuthConfig { username: Some("me".into()), password: Some("pw".into()), ..Default::default() };
    /// let opts = ImageCreateOptions::default().credentials(&creds).platform("linux/amd64");
    /// let progress = docker.images().pull("localhost:5001/private/app:1", &opts).await?;
    /// # Ok(()) }
    /// ```
    pub async fn pull(
        &self,
        reference: &str,
        options: &ImageCreateOptions,
    ) -> Result<JsonStream<ByteStream, CreateImageInfo>> {
        let invalid = |message: &str| Error::InvalidArgument {
            name: "options",
            message: format!("pull {reference:?}: {message}"),
        };
        if options.from_src.is_some() {
            return Err(invalid("fromSrc imports; use Images::import"));
        }
        if options.from_image.is_some() || options.tag.is_some() {
            return Err(invalid(
                "the reference names the image and tag; leave from_image and tag unset",
            ));
        }
        let r = ImageReference::parse(reference)?;
        let mut opts = options.clone();
        opts.from_image = Some(r.name().to_owned());
        opts.tag = Some(r.tag_or_digest().to_owned());
        opts.x_registry_auth =
            Some(crate::auth::header_for(reference, options.x_registry_auth.as_ref()).await?);
        self.create(&opts, None).await
    }

    /// Imports a root filesystem tarball as an image (`docker import`),
    /// streamed as it is read, returning the progress messages. `repo`,
    /// `tag`, `message`, `changes` and `platform` come from `options`;
    /// `fromSrc` is `-` (the body) unless `options` names a URL for the
    /// daemon to fetch (then send [`Body::empty`]).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::ImageCreateOptions;
    /// use dockhand::Body;
    /// // `docker import rootfs.tar app:base`
    /// let file = tokio::fs::File::open("rootfs.tar").await.expect("open");
    /// let opts = ImageCreateOptions::default().repo("app").tag("base");
    /// let progress = docker.images().import(Body::from_reader(file), &opts).await?;
    /// # Ok(()) }
    /// ```
    pub async fn import(
        &self,
        source: Body,
        options: &ImageCreateOptions,
    ) -> Result<JsonStream<ByteStream, CreateImageInfo>> {
        if options.from_image.is_some() {
            return Err(Error::InvalidArgument {
                name: "options",
                message: "fromImage pulls; use Images::pull".into(),
            });
        }
        let mut opts = options.clone();
        opts.from_src.get_or_insert_with(|| "-".to_owned());
        fold_tag_into_repo(&mut opts);
        self.create(&opts, Some(source)).await
    }

    /// `ImageCreate` as it is: the one operation behind pull and import.
    async fn create(
        &self,
        options: &ImageCreateOptions,
        source: Option<Body>,
    ) -> Result<JsonStream<ByteStream, CreateImageInfo>> {
        let body = source.map(|b| Payload::Raw(b.0, "application/x-tar"));
        let resp = self
            .docker
            .raw(&ops::IMAGE_CREATE, &[], |s| options.write_params(s), body)
            .await?;
        Ok(super::progress_stream(ops::IMAGE_CREATE.id, resp))
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

    /// Pushes an image by reference (`docker push REF`): its tag, or
    /// `options.tag`, or `latest`; with the registry's credentials found as
    /// for [`Images::pull`]. Returns the typed progress messages, one of the
    /// last carrying the pushed digest (read it with
    /// [`crate::stream::progress::pushed_manifest`], which knows dockerd's
    /// `aux` and the status line Podman sends instead); an in-band error ends
    /// the stream with `Err`.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use futures::TryStreamExt;
    /// let messages: Vec<_> = docker
    ///     .images()
    ///     .push("localhost:5000/app:1", &Default::default())
    ///     .await?
    ///     .try_collect()
    ///     .await?;
    /// let pushed = messages.iter().rev().find_map(dockhand::stream::progress::pushed_manifest);
    /// if let Some(m) = pushed {
    ///     println!("localhost:5000/app@{}", m.digest);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn push(
        &self,
        reference: &str,
        options: &ImagePushOptions,
    ) -> Result<JsonStream<ByteStream, PushImageInfo>> {
        let (name, mut opts) = push_target(reference, options)?;
        opts.tag.get_or_insert_with(|| "latest".to_owned());
        self.push_name(reference, &name, opts).await
    }

    /// Pushes every tag of a repository (`docker push --all-tags NAME`); the
    /// name carries no tag.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let progress = docker.images().push_all_tags("localhost:5000/app", &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn push_all_tags(
        &self,
        name: &str,
        options: &ImagePushOptions,
    ) -> Result<JsonStream<ByteStream, PushImageInfo>> {
        let (repo, opts) = push_target(name, options)?;
        if opts.tag.is_some() {
            return Err(Error::InvalidArgument {
                name: "reference",
                message: format!("{name:?}: pushing every tag takes a name without a tag"),
            });
        }
        self.push_name(name, &repo, opts).await
    }

    async fn push_name(
        &self,
        reference: &str,
        name: &str,
        mut opts: ImagePushOptions,
    ) -> Result<JsonStream<ByteStream, PushImageInfo>> {
        opts.x_registry_auth =
            Some(crate::auth::header_for(reference, opts.x_registry_auth.as_ref()).await?);
        let resp = self
            .docker
            .raw(&ops::IMAGE_PUSH, &[name], |s| opts.write_params(s), None)
            .await?;
        Ok(super::progress_stream(ops::IMAGE_PUSH.id, resp))
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
    /// let tar = docker.images().save("busybox", &Default::default()).await?;
    /// let mut file = tokio::fs::File::create("busybox.tar").await.expect("create");
    /// tokio::io::copy(&mut tar.into_async_read(), &mut file).await.expect("write");
    /// # Ok(()) }
    /// ```
    pub async fn save(&self, name: &str, options: &ImageGetOptions) -> Result<ByteStream> {
        let resp = self
            .docker
            .raw(&ops::IMAGE_GET, &[name], |s| options.write_params(s), None)
            .await?;
        Ok(ByteStream::new(ops::IMAGE_GET.id, resp.into_body()))
    }

    /// Several images as one tar stream (`docker save IMAGE…`), named in
    /// `options.names`.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::ImageGetAllOptions;
    /// let opts = ImageGetAllOptions::default().names(vec!["busybox".to_string(), "alpine".to_string()]);
    /// let tar = docker.images().save_all(&opts).await?;
    /// # Ok(()) }
    /// ```
    pub async fn save_all(&self, options: &ImageGetAllOptions) -> Result<ByteStream> {
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
                Some(Payload::Raw(tarball.0, "application/x-tar")),
            )
            .await?;
        Ok(super::progress_stream(ops::IMAGE_LOAD.id, resp))
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

/// An import's `tag` goes into `repo` (`repo=app:base`, no `tag`), as
/// `docker import - app:base` sends it: dockerd reads either spelling, while
/// Podman (4.3) ignores a separate `tag` and names the image `app:latest`.
/// A `repo` that already has a tag or digest, or is not a reference, is left
/// as it is, for the daemon to judge.
fn fold_tag_into_repo(opts: &mut ImageCreateOptions) {
    let (Some(repo), Some(tag)) = (opts.repo.as_deref(), opts.tag.as_deref()) else {
        return;
    };
    if repo.is_empty() || tag.is_empty() {
        return;
    }
    match ImageReference::parse(repo) {
        Ok(r) if r.tag().is_none() && r.digest().is_none() => {
            opts.repo = Some(format!("{repo}:{tag}"));
            opts.tag = None;
        }
        _ => {}
    }
}

/// The repository and options of a push: a tag in the reference goes to
/// `tag` (it may not also be in the options); a digest cannot be pushed.
fn push_target(reference: &str, options: &ImagePushOptions) -> Result<(String, ImagePushOptions)> {
    let r = ImageReference::parse(reference)?;
    let invalid = |message: &str| Error::InvalidArgument {
        name: "reference",
        message: format!("{reference:?}: {message}"),
    };
    if r.digest().is_some() {
        return Err(invalid("a digest cannot be pushed; push a tag"));
    }
    let mut opts = options.clone();
    if let Some(tag) = r.tag() {
        if opts.tag.as_deref().is_some_and(|t| t != tag) {
            return Err(invalid("the tag is given twice (reference and options)"));
        }
        opts.tag = Some(tag.to_owned());
    }
    Ok((r.name().to_owned(), opts))
}
