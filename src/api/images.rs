//! Images: pull, build, push, tag, inspect, save, load and remove them.

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

/// The `X-Registry-Auth` value for credentials: URL-safe base64 of the JSON
/// auth object, which is what the daemon decodes (standard base64 is silently
/// misread for passwords whose encoding contains `+` or `/`). No credentials
/// encode `{}`, which the daemon accepts as anonymous.
pub fn registry_auth_header(credentials: Option<&AuthConfig>) -> Result<SecretString> {
    use base64::Engine;
    let json = match credentials {
        Some(c) => serde_json::to_vec(c).map_err(|e| Error::InvalidArgument {
            name: "credentials",
            message: format!("cannot encode: {e}"),
        })?,
        None => b"{}".to_vec(),
    };
    Ok(SecretString::new(
        base64::engine::general_purpose::URL_SAFE.encode(json),
    ))
}

/// A progress message stream (pull, push, build, load).
fn progress<T>(
    operation: &'static str,
    resp: http::Response<hyper::body::Incoming>,
) -> JsonStream<ByteStream, T> {
    JsonStream::new(operation, ByteStream::new(operation, resp.into_body()))
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
        let resp = self
            .docker
            .raw(
                &ops::IMAGE_BUILD,
                &[],
                |s| options.write_params(s),
                Some((context.0, "application/x-tar")),
            )
            .await?;
        Ok(progress(ops::IMAGE_BUILD.id, resp))
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
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::ImageCreateOptions;
    /// let opts = ImageCreateOptions::default().from_image("localhost:5000/app").tag("1");
    /// let progress = docker.images().create(&opts, None).await?;
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
        Ok(progress(ops::IMAGE_CREATE.id, resp))
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
        Ok(progress(ops::IMAGE_PUSH.id, resp))
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

    /// An image and its history as a tar stream (`docker save IMAGE`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let tar = docker.images().get("busybox", &Default::default()).await?;
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
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker, tar: Vec<u8>) -> dockhand::Result<()> {
    /// let out = docker.images().load(tar.into(), &Default::default()).await?;
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
        Ok(progress(ops::IMAGE_LOAD.id, resp))
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
        crate::build::build_dir(self, dir.as_ref(), options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn registry_auth_is_url_safe_base64_json() {
        let creds = AuthConfig {
            username: Some("dockhand".into()),
            // Standard base64 of this JSON contains `+` and `/`.
            password: Some("p+s/w?rd>>>".into()),
            serveraddress: Some("127.0.0.1:5001".into()),
            ..Default::default()
        };
        let h = registry_auth_header(Some(&creds)).unwrap();
        let text = h.expose();
        assert!(!text.contains('+') && !text.contains('/'), "{text}");
        let json = base64::engine::general_purpose::URL_SAFE
            .decode(text)
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["password"], "p+s/w?rd>>>");
        assert_eq!(registry_auth_header(None).unwrap().expose(), "e30=");
    }
}
