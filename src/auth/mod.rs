//! Registry authentication, as the docker CLI does it: credentials from
//! `config.json` (`auths`, `credsStore`, `credHelpers` and the
//! `docker-credential-*` helper protocol), the registry an image reference
//! points at, and the `X-Registry-Auth` / `X-Registry-Config` headers
//! (URL-safe base64 of JSON, which is what the daemon decodes).
//!
//! Pulls and pushes use this without any code on the caller's side:
//!
//! ```no_run
//! # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
//! use futures::TryStreamExt;
//! // Credentials from $DOCKER_CONFIG/config.json or ~/.docker/config.json.
//! let mut progress = docker.images().pull("registry.example.com/team/app:1", &Default::default()).await?;
//! while let Some(m) = progress.try_next().await? {
//!     println!("{:?}", m.status);
//! }
//! # Ok(()) }
//! ```
//!
//! Credentials are [`AuthConfig`] values, whose `Debug` never shows a
//! password, identity token or registry token; nothing in this module puts
//! a secret into an error message, and the headers are [`SecretString`]s,
//! marked sensitive on the request.

mod config_file;
mod helper;
mod reference;

pub use config_file::ConfigFile;
pub use helper::{CredentialHelper, DEFAULT_HELPER_TIMEOUT};
pub(crate) use reference::check_digest;
pub use reference::{ImageReference, DOCKER_HUB_AUTH_KEY, DOCKER_HUB_REGISTRY};

pub use crate::models::AuthConfig;
use crate::operations::SecretString;
use crate::{Error, Result};
use base64::Engine;
use std::collections::BTreeMap;

/// Where a pull or push gets its registry credentials.
///
/// ```
/// use dockhand::auth::{AuthConfig, RegistryAuth};
/// let explicit = RegistryAuth::Credentials(AuthConfig {
///     username: Some("me".into()),
///     password: Some("secret".into()),
///     ..Default::default()
/// });
/// assert!(!format!("{explicit:?}").contains("secret"));
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum RegistryAuth {
    /// The `config.json` the docker CLI would read (`$DOCKER_CONFIG`, else
    /// `~/.docker`), credential helpers on `PATH`. The default.
    #[default]
    FromEnv,
    /// This configuration.
    Config(ConfigFile),
    /// These credentials, whatever `config.json` says.
    Credentials(AuthConfig),
    /// No credentials.
    Anonymous,
}

impl From<AuthConfig> for RegistryAuth {
    fn from(c: AuthConfig) -> Self {
        RegistryAuth::Credentials(c)
    }
}

impl From<ConfigFile> for RegistryAuth {
    fn from(c: ConfigFile) -> Self {
        RegistryAuth::Config(c)
    }
}

impl RegistryAuth {
    /// The credentials for a registry key (see [`ImageReference::auth_key`]);
    /// `None` means anonymous. May read `config.json` and run a credential
    /// helper, so it blocks; the image methods run it off the async threads.
    ///
    /// ```no_run
    /// use dockhand::auth::{ImageReference, RegistryAuth};
    /// let r = ImageReference::parse("localhost:5000/app:1")?;
    /// let creds = RegistryAuth::FromEnv.resolve(r.auth_key())?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn resolve(&self, server: &str) -> Result<Option<AuthConfig>> {
        match self {
            RegistryAuth::FromEnv => ConfigFile::from_env()?.credentials_for(server),
            RegistryAuth::Config(c) => c.credentials_for(server),
            RegistryAuth::Credentials(c) => Ok(Some(c.clone())),
            RegistryAuth::Anonymous => Ok(None),
        }
    }

    /// [`RegistryAuth::resolve`] on tokio's blocking threads.
    pub(crate) async fn resolve_async(&self, server: &str) -> Result<Option<AuthConfig>> {
        match self {
            RegistryAuth::Credentials(c) => Ok(Some(c.clone())),
            RegistryAuth::Anonymous => Ok(None),
            _ => {
                let this = self.clone();
                let server = server.to_owned();
                blocking(move || this.resolve(&server)).await
            }
        }
    }
}

/// Runs a blocking credential lookup on tokio's blocking threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Config {
            message: "looking up registry credentials failed".into(),
            source: Some(Box::new(e)),
        })?
}

/// The `X-Registry-Auth` value for credentials: URL-safe base64 of the JSON
/// auth object, which is what the daemon decodes (standard base64 is silently
/// misread for passwords whose encoding contains `+` or `/`). No credentials
/// encode `{}`, which the daemon accepts as anonymous.
///
/// ```
/// use dockhand::auth::{registry_auth_header, AuthConfig};
/// let creds = AuthConfig { username: Some("me".into()), password: Some("pw".into()), ..Default::default() };
/// let header = registry_auth_header(Some(&creds))?;
/// assert!(!header.expose().contains('+') && !header.expose().contains('/'));
/// assert_eq!(registry_auth_header(None)?.expose(), "e30=");
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn registry_auth_header(credentials: Option<&AuthConfig>) -> Result<SecretString> {
    let json = match credentials {
        Some(c) => to_json(c)?,
        None => b"{}".to_vec(),
    };
    Ok(SecretString::new(
        base64::engine::general_purpose::URL_SAFE.encode(json),
    ))
}

/// The `X-Registry-Config` value for a build: URL-safe base64 of the JSON
/// map of server → credentials, so the builder can pull `FROM` images from
/// every registry it knows credentials for.
///
/// ```no_run
/// use dockhand::auth::{registry_config_header, ConfigFile};
/// use dockhand::operations::ImageBuildOptions;
/// let all = ConfigFile::from_dir("/tmp/ci-docker-config")?.all_credentials()?;
/// let options = ImageBuildOptions::default().x_registry_config(registry_config_header(&all)?);
/// # Ok::<(), dockhand::Error>(())
/// ```
pub fn registry_config_header(credentials: &BTreeMap<String, AuthConfig>) -> Result<SecretString> {
    Ok(SecretString::new(
        base64::engine::general_purpose::URL_SAFE.encode(to_json(credentials)?),
    ))
}

fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    // The serializer's message names no values.
    serde_json::to_vec(value).map_err(|e| Error::InvalidArgument {
        name: "credentials",
        message: format!("cannot encode: {e}"),
    })
}

/// The `X-Registry-Auth` to send for `reference`, resolved the same way for
/// every operation that talks to a registry (pull, push, import, distribution
/// inspect, plugin pull/upgrade/push, service create/update): what the
/// options carry, else the credentials `config.json` gives for the
/// reference's registry (found as the docker CLI finds them), else `{}`
/// (anonymous).
pub(crate) async fn header_for(
    reference: &str,
    given: Option<&SecretString>,
) -> Result<SecretString> {
    match given {
        Some(h) => Ok(h.clone()),
        None => RegistryAuth::FromEnv.header_for(reference).await,
    }
}

impl RegistryAuth {
    /// The `X-Registry-Auth` value for an image reference: these
    /// credentials for the reference's registry (with the registry as
    /// `serveraddress` when they name none), encoded as the daemon decodes
    /// them. For the `x_registry_auth` field of an operation's options.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::auth::{ConfigFile, RegistryAuth};
    /// use dockhand::operations::ImageCreateOptions;
    /// let config = ConfigFile::from_dir("/etc/ci/docker")?;
    /// let reference = "localhost:5001/team/app:1";
    /// let opts = ImageCreateOptions::default()
    ///     .x_registry_auth(RegistryAuth::Config(config).header_for(reference).await?);
    /// let progress = docker.images().pull(reference, &opts).await?;
    /// # Ok(()) }
    /// ```
    pub async fn header_for(&self, reference: &str) -> Result<SecretString> {
        let r = ImageReference::parse(reference)?;
        let mut creds = self.resolve_async(r.auth_key()).await?;
        if let Some(c) = &mut creds {
            if c.serveraddress.is_none() {
                c.serveraddress = Some(r.auth_key().to_owned());
            }
        }
        registry_auth_header(creds.as_ref())
    }
}

/// `X-Registry-Auth` for explicit credentials, for the options' setters.
pub(crate) fn header_of(credentials: Option<&AuthConfig>) -> SecretString {
    // Encoding an AuthConfig (strings and a map of strings) cannot fail;
    // should it ever, anonymous is what the daemon gets.
    registry_auth_header(credentials).unwrap_or_else(|_| SecretString::new("e30="))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};

    fn creds() -> AuthConfig {
        AuthConfig {
            username: Some("dockhand".into()),
            // Standard base64 of this JSON contains `+` and `/`.
            password: Some("p+s/w?rd>>>".into()),
            serveraddress: Some("127.0.0.1:5001".into()),
            ..Default::default()
        }
    }

    #[test]
    fn registry_auth_is_url_safe_base64_json() {
        let c = creds();
        let standard = STANDARD.encode(serde_json::to_vec(&c).unwrap());
        assert!(
            standard.contains('+') || standard.contains('/'),
            "{standard}"
        );
        let h = registry_auth_header(Some(&c)).unwrap();
        let text = h.expose();
        assert!(!text.contains('+') && !text.contains('/'), "{text}");
        let json = URL_SAFE.decode(text).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["password"], "p+s/w?rd>>>");
        assert_eq!(v["username"], "dockhand");
        assert_eq!(v["serveraddress"], "127.0.0.1:5001");
        assert_eq!(registry_auth_header(None).unwrap().expose(), "e30=");
        // The header never shows itself.
        assert_eq!(format!("{h:?}"), "SecretString(<redacted>)");
    }

    #[test]
    fn registry_config_is_a_url_safe_map_of_servers() {
        let mut all = BTreeMap::new();
        all.insert("127.0.0.1:5001".to_owned(), creds());
        all.insert(
            DOCKER_HUB_AUTH_KEY.to_owned(),
            AuthConfig {
                identitytoken: Some("tok".into()),
                ..Default::default()
            },
        );
        let h = registry_config_header(&all).unwrap();
        assert!(!h.expose().contains('+') && !h.expose().contains('/'));
        let v: serde_json::Value =
            serde_json::from_slice(&URL_SAFE.decode(h.expose()).unwrap()).unwrap();
        assert_eq!(v["127.0.0.1:5001"]["password"], "p+s/w?rd>>>");
        assert_eq!(v[DOCKER_HUB_AUTH_KEY]["identitytoken"], "tok");
        assert_eq!(
            registry_config_header(&BTreeMap::new()).unwrap().expose(),
            "e30="
        );
    }

    #[test]
    fn explicit_credentials_win_and_anonymous_is_none() {
        let dir = std::env::temp_dir();
        let c = RegistryAuth::from(creds())
            .resolve("127.0.0.1:5001")
            .unwrap();
        assert_eq!(c, Some(creds()));
        assert_eq!(RegistryAuth::Anonymous.resolve("x").unwrap(), None);
        let file = ConfigFile::parse(r#"{"auths":{"127.0.0.1:5001":{"auth":"b3RoZXI6b3RoZXI="}}}"#)
            .unwrap();
        let from_file = RegistryAuth::from(file.clone().helper_dir(&dir))
            .resolve("127.0.0.1:5001")
            .unwrap()
            .unwrap();
        assert_eq!(from_file.username.as_deref(), Some("other"));
    }

    #[tokio::test]
    async fn async_resolution_runs_off_the_runtime_threads() {
        let file = ConfigFile::parse(r#"{"auths":{"r.example":{"auth":"dTpw"}}}"#).unwrap();
        let c = RegistryAuth::Config(file)
            .resolve_async("r.example")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c.password.as_deref(), Some("p"));
    }

    /// The headers of a push and a build are sensitive on the wire request,
    /// and its `Debug` (what tracing would print) does not show them.
    #[test]
    fn auth_headers_are_sensitive_on_requests() {
        use crate::operations::{self as ops, ParamSink};
        use crate::ApiVersion;
        let v = ApiVersion::new(1, 41);
        let auth = registry_auth_header(Some(&creds())).unwrap();
        let mut all = BTreeMap::new();
        all.insert("127.0.0.1:5001".to_owned(), creds());
        let config = registry_config_header(&all).unwrap();

        let mut push = ParamSink::new(&ops::IMAGE_PUSH, v);
        push.required_header_secret("X-Registry-Auth", &auth);
        let mut build = ParamSink::new(&ops::IMAGE_BUILD, v);
        ops::ImageBuildOptions::default()
            .x_registry_config(config.clone())
            .write_params(&mut build);
        for (op, args, sink, name, value) in [
            (
                &ops::IMAGE_PUSH,
                &["r/app"][..],
                push,
                "X-Registry-Auth",
                &auth,
            ),
            (
                &ops::IMAGE_BUILD,
                &[][..],
                build,
                "X-Registry-Config",
                &config,
            ),
        ] {
            let req =
                crate::request::build(op, v, args, sink, crate::transport::empty_body(), None)
                    .unwrap();
            let h = req.headers().get(name).expect("header sent");
            assert!(h.is_sensitive(), "{name}");
            assert_eq!(h.to_str().unwrap(), value.expose());
            let shown = format!("{req:?}");
            assert!(!shown.contains(value.expose()), "{shown}");
            assert!(!shown.contains("p+s/w?rd"), "{shown}");
        }
    }

    /// Every credential-carrying type of this module hides its secrets.
    #[test]
    fn debug_output_of_every_credential_type_has_no_secret() {
        let secrets = ["pw-hunter2", "idtok-hunter3", "regtok-hunter4"];
        let c = AuthConfig {
            username: Some("user".into()),
            password: Some(secrets[0].into()),
            identitytoken: Some(secrets[1].into()),
            registrytoken: Some(secrets[2].into()),
            serveraddress: Some("r.example".into()),
            ..Default::default()
        };
        let encoded = STANDARD.encode(format!("user:{}", secrets[0]));
        let file = ConfigFile::parse(
            &serde_json::json!({"auths": {"r.example": {"auth": encoded, "identitytoken": secrets[1], "registrytoken": secrets[2]}}})
                .to_string(),
        )
        .unwrap();
        let header = registry_auth_header(Some(&c)).unwrap();
        let mut all = BTreeMap::new();
        all.insert("r.example".to_owned(), c.clone());
        let shown = [
            format!("{c:?}"),
            format!("{c:#?}"),
            format!("{:?}", RegistryAuth::Credentials(c.clone())),
            format!("{:?}", RegistryAuth::Config(file.clone())),
            format!("{file:?}"),
            format!("{header:?}"),
            format!("{:?}", registry_config_header(&all).unwrap()),
            format!("{all:?}"),
            format!("{:?}", file.credentials_for("r.example").unwrap()),
        ];
        for s in &shown {
            assert!(s.contains("<redacted>") || s.contains("r.example"), "{s}");
            for secret in secrets.iter().chain([&encoded.as_str()]) {
                assert!(!s.contains(secret), "{secret} in {s}");
            }
            assert!(!s.contains(header.expose()), "{s}");
        }
        // The user name and server are not secret, and are shown.
        assert!(shown[0].contains("user") && shown[0].contains("r.example"));
    }
}
