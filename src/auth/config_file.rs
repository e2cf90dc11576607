//! The credential parts of the docker CLI's `config.json`: `auths`,
//! `credsStore` and `credHelpers`.

use super::helper::CredentialHelper;
use super::reference::{key_host, ImageReference};
use crate::models::AuthConfig;
use crate::{Error, Result};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Standard base64, padded or not (what `docker login` writes is padded;
/// hand-written files sometimes are not).
const AUTH_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The registry credentials of a docker CLI `config.json`, resolved the way
/// the CLI resolves them.
///
/// For a registry, a `credHelpers` entry wins, then `credsStore`, then the
/// `auths` entry (its `auth` is standard base64 of `user:password`; an
/// `identitytoken` goes along). An `auths` key matches when it is the
/// registry's key or names the same host as a URL (`https://host/v1/`,
/// `http://host`), as the CLI compares them; every spelling of Docker Hub
/// (`https://index.docker.io/v1/`, `docker.io`, `index.docker.io`,
/// `registry-1.docker.io`) names Docker Hub.
///
/// Helpers are found on `PATH` unless [`ConfigFile::helper_dir`] says where
/// they are; each call is bounded by [`ConfigFile::helper_timeout`].
/// Resolution may run helper programs and so blocks the calling thread.
///
/// `Debug` shows the registries, never the credentials.
///
/// ```no_run
/// use dockhand::auth::ConfigFile;
/// let config = ConfigFile::from_env()?;
/// if let Some(creds) = config.credentials_for_image("registry.example.com/team/app:1")? {
///     println!("logged in as {:?}", creds.username);
/// }
/// # Ok::<(), dockhand::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct ConfigFile {
    path: Option<PathBuf>,
    auths: BTreeMap<String, AuthConfig>,
    creds_store: Option<String>,
    cred_helpers: BTreeMap<String, String>,
    helper_dir: Option<PathBuf>,
    helper_timeout: Option<Duration>,
}

impl fmt::Debug for ConfigFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigFile")
            .field("path", &self.path)
            .field("auths", &self.auths.keys().collect::<Vec<_>>())
            .field("creds_store", &self.creds_store)
            .field("cred_helpers", &self.cred_helpers)
            .field("helper_dir", &self.helper_dir)
            .field("helper_timeout", &self.helper_timeout)
            .finish()
    }
}

/// Where a helper was named, for messages.
enum HelperSource {
    CredHelpers,
    CredsStore,
}

impl ConfigFile {
    /// Reads a `config.json`. A file that does not exist is an empty
    /// configuration (anonymous everywhere), as for the docker CLI; one that
    /// cannot be read or parsed is an [`Error::Config`] naming the file and
    /// what is wrong with it.
    ///
    /// ```no_run
    /// let config = dockhand::auth::ConfigFile::load("/home/me/.docker/config.json")?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<ConfigFile> {
        let path = path.as_ref();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ConfigFile {
                    path: Some(path.to_path_buf()),
                    ..Default::default()
                })
            }
            Err(e) => {
                return Err(Error::Config {
                    message: format!("cannot read {}", path.display()),
                    source: Some(Box::new(e)),
                })
            }
        };
        let mut config = parse(&text, &path.display().to_string())?;
        config.path = Some(path.to_path_buf());
        Ok(config)
    }

    /// Reads `config.json` in a docker configuration directory (what
    /// `DOCKER_CONFIG` names).
    ///
    /// ```no_run
    /// let config = dockhand::auth::ConfigFile::from_dir("/tmp/ci-docker-config")?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<ConfigFile> {
        ConfigFile::load(dir.as_ref().join("config.json"))
    }

    /// Reads the `config.json` the docker CLI would: in `$DOCKER_CONFIG`,
    /// else in `~/.docker` (`%USERPROFILE%\.docker` on Windows). With
    /// neither, the configuration is empty.
    ///
    /// ```no_run
    /// let config = dockhand::auth::ConfigFile::from_env()?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn from_env() -> Result<ConfigFile> {
        let dir = std::env::var_os("DOCKER_CONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| crate::config::home_dir().map(|h| h.join(".docker")));
        match dir {
            Some(d) => ConfigFile::from_dir(d),
            None => Ok(ConfigFile::default()),
        }
    }

    /// Parses `config.json` text (errors name it "config.json text").
    ///
    /// ```
    /// let config = dockhand::auth::ConfigFile::parse(r#"{"auths":{"localhost:5000":{"auth":"dXNlcjpwdw=="}}}"#)?;
    /// let creds = config.credentials_for("localhost:5000")?.expect("stored");
    /// assert_eq!(creds.username.as_deref(), Some("user"));
    /// assert!(dockhand::auth::ConfigFile::parse("{").is_err());
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<ConfigFile> {
        parse(text, "config.json text")
    }

    /// Looks for credential helpers in `dir` instead of on `PATH`.
    ///
    /// ```no_run
    /// let config = dockhand::auth::ConfigFile::from_env()?.helper_dir("/opt/docker-helpers");
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    #[must_use]
    pub fn helper_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.helper_dir = Some(dir.into());
        self
    }

    /// How long a credential helper may take to answer (default
    /// [`super::DEFAULT_HELPER_TIMEOUT`]).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let config = dockhand::auth::ConfigFile::from_env()?.helper_timeout(Duration::from_secs(5));
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    #[must_use]
    pub fn helper_timeout(mut self, timeout: Duration) -> Self {
        self.helper_timeout = Some(timeout);
        self
    }

    /// The file this was read from, if any.
    ///
    /// ```no_run
    /// let config = dockhand::auth::ConfigFile::from_env()?;
    /// println!("{:?}", config.path());
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The `credsStore` helper name, if one is set.
    ///
    /// ```
    /// let config = dockhand::auth::ConfigFile::parse(r#"{"credsStore":"pass"}"#)?;
    /// assert_eq!(config.creds_store(), Some("pass"));
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn creds_store(&self) -> Option<&str> {
        self.creds_store.as_deref()
    }

    /// The `credHelpers` map: registry → helper name.
    ///
    /// ```
    /// let config = dockhand::auth::ConfigFile::parse(r#"{"credHelpers":{"gcr.io":"gcloud"}}"#)?;
    /// assert_eq!(config.cred_helpers()["gcr.io"], "gcloud");
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn cred_helpers(&self) -> &BTreeMap<String, String> {
        &self.cred_helpers
    }

    /// The registries with credentials in `auths`, as their keys are written.
    ///
    /// ```
    /// let config = dockhand::auth::ConfigFile::parse(r#"{"auths":{"localhost:5000":{"auth":"dXNlcjpwdw=="}}}"#)?;
    /// assert_eq!(config.registries().collect::<Vec<_>>(), ["localhost:5000"]);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn registries(&self) -> impl Iterator<Item = &str> {
        self.auths.keys().map(String::as_str)
    }

    /// The credentials for a registry, given by its key: the host
    /// (`localhost:5000`) or, for Docker Hub, [`super::DOCKER_HUB_AUTH_KEY`].
    /// `None` means anonymous. May run a credential helper.
    ///
    /// ```no_run
    /// let config = dockhand::auth::ConfigFile::from_env()?;
    /// let creds = config.credentials_for("https://index.docker.io/v1/")?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn credentials_for(&self, server: &str) -> Result<Option<AuthConfig>> {
        match self.helper_name_for(server) {
            Some((name, source)) => self
                .helper(name, &source)?
                .get(server)
                .map_err(|e| self.helper_context(e, &source)),
            None => Ok(self.file_entry(server).cloned()),
        }
    }

    /// The credentials for the registry an image reference points at (see
    /// [`ImageReference`] for the normalisation). `None` means anonymous.
    ///
    /// ```no_run
    /// let config = dockhand::auth::ConfigFile::from_env()?;
    /// let creds = config.credentials_for_image("localhost:5000/app:1")?;
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn credentials_for_image(&self, reference: &str) -> Result<Option<AuthConfig>> {
        let r = ImageReference::parse(reference)?;
        self.credentials_for(r.auth_key())
    }

    /// Every registry's credentials, keyed by server, as a build sends them
    /// in `X-Registry-Config`: those of `credsStore` (every server its `list`
    /// names) or else of `auths`, then those of each `credHelpers` entry.
    ///
    /// ```no_run
    /// let all = dockhand::auth::ConfigFile::from_env()?.all_credentials()?;
    /// for server in all.keys() {
    ///     println!("{server}");
    /// }
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn all_credentials(&self) -> Result<BTreeMap<String, AuthConfig>> {
        let mut all = BTreeMap::new();
        match &self.creds_store {
            Some(store) => {
                let helper = self.helper(store, &HelperSource::CredsStore)?;
                let servers = helper
                    .list()
                    .map_err(|e| self.helper_context(e, &HelperSource::CredsStore))?;
                for server in servers.keys() {
                    if let Some(c) = helper
                        .get(server)
                        .map_err(|e| self.helper_context(e, &HelperSource::CredsStore))?
                    {
                        all.insert(server.clone(), c);
                    }
                }
            }
            None => all.extend(self.auths.iter().map(|(k, v)| (k.clone(), v.clone()))),
        }
        for (server, name) in &self.cred_helpers {
            let c = self
                .helper(name, &HelperSource::CredHelpers)?
                .get(server)
                .map_err(|e| self.helper_context(e, &HelperSource::CredHelpers))?;
            if let Some(c) = c {
                all.insert(server.clone(), c);
            }
        }
        Ok(all)
    }

    fn file_name(&self) -> String {
        self.path.as_ref().map_or_else(
            || "config.json text".to_owned(),
            |p| p.display().to_string(),
        )
    }

    /// The helper for a server: `credHelpers` (the key as given, else one
    /// naming the same host), then `credsStore`.
    fn helper_name_for(&self, server: &str) -> Option<(&str, HelperSource)> {
        let by_key = self.cred_helpers.get(server).or_else(|| {
            let host = key_host(server);
            self.cred_helpers
                .iter()
                .find(|(k, _)| key_host(k) == host)
                .map(|(_, v)| v)
        });
        match by_key {
            Some(h) => Some((h.as_str(), HelperSource::CredHelpers)),
            None => self
                .creds_store
                .as_deref()
                .map(|s| (s, HelperSource::CredsStore)),
        }
    }

    /// The `auths` entry for a server: the key as given, else one naming the
    /// same host.
    fn file_entry(&self, server: &str) -> Option<&AuthConfig> {
        self.auths.get(server).or_else(|| {
            let host = key_host(server);
            self.auths
                .iter()
                .find(|(k, _)| key_host(k) == host)
                .map(|(_, v)| v)
        })
    }

    fn helper(&self, name: &str, source: &HelperSource) -> Result<CredentialHelper> {
        let helper = match &self.helper_dir {
            Some(dir) => CredentialHelper::in_dir(name, dir),
            None => CredentialHelper::new(name),
        }
        .map_err(|e| self.helper_context(e, source))?;
        Ok(match self.helper_timeout {
            Some(t) => helper.timeout(t),
            None => helper,
        })
    }

    fn helper_context(&self, e: Error, source: &HelperSource) -> Error {
        let key = match source {
            HelperSource::CredHelpers => "credHelpers",
            HelperSource::CredsStore => "credsStore",
        };
        match e {
            Error::Config { message, source } => Error::Config {
                message: format!("{message} (named by {key} in {})", self.file_name()),
                source,
            },
            other => other,
        }
    }
}

#[derive(serde::Deserialize, Default)]
struct RawConfig {
    #[serde(default)]
    auths: Option<BTreeMap<String, Option<RawAuth>>>,
    #[serde(rename = "credsStore", default)]
    creds_store: Option<String>,
    #[serde(rename = "credHelpers", default)]
    cred_helpers: Option<BTreeMap<String, String>>,
}

#[derive(serde::Deserialize, Default)]
struct RawAuth {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
    #[serde(default)]
    registrytoken: Option<String>,
}

/// Parses config.json text; `file` names it in errors. Error messages never
/// quote values from the file: they may be secrets.
fn parse(text: &str, file: &str) -> Result<ConfigFile> {
    if text.trim().is_empty() {
        return Ok(ConfigFile::default());
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        Error::config(format!(
            "{file}: malformed JSON ({}) at line {} column {}",
            match e.classify() {
                serde_json::error::Category::Eof => "unexpected end of file",
                _ => "syntax error",
            },
            e.line(),
            e.column()
        ))
    })?;
    if !value.is_object() {
        return Err(Error::config(format!(
            "{file}: the top level must be a JSON object"
        )));
    }
    let raw: RawConfig = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        Error::config(format!(
            "{file}: `{path}` has the wrong type (expected {})",
            expected_at(&path)
        ))
    })?;
    let mut auths = BTreeMap::new();
    for (key, entry) in raw.auths.unwrap_or_default() {
        let Some(entry) = entry else { continue };
        let (mut username, mut password) = (entry.username, entry.password);
        if let Some(encoded) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
            let (u, p) = decode_auth(encoded)
                .map_err(|why| Error::config(format!("{file}: `auths.{key}.auth` {why}")))?;
            username = Some(u);
            password = Some(p);
        }
        let creds = AuthConfig {
            username: username.filter(|s| !s.is_empty()),
            password: password.filter(|s| !s.is_empty()),
            identitytoken: entry.identitytoken.filter(|s| !s.is_empty()),
            registrytoken: entry.registrytoken.filter(|s| !s.is_empty()),
            serveraddress: Some(key.clone()),
            ..Default::default()
        };
        if creds.username.is_some()
            || creds.password.is_some()
            || creds.identitytoken.is_some()
            || creds.registrytoken.is_some()
        {
            auths.insert(key, creds);
        }
    }
    let helper_name = |what: &str, name: &str| -> Result<()> {
        CredentialHelper::new(name).map(|_| ()).map_err(|_| {
            Error::config(format!(
                "{file}: {what}: {name:?} is not a credential helper name"
            ))
        })
    };
    let creds_store = raw.creds_store.filter(|s| !s.is_empty());
    if let Some(s) = &creds_store {
        helper_name("credsStore", s)?;
    }
    let cred_helpers = raw.cred_helpers.unwrap_or_default();
    for (registry, name) in &cred_helpers {
        helper_name(&format!("credHelpers.{registry}"), name)?;
    }
    Ok(ConfigFile {
        path: None,
        auths,
        creds_store,
        cred_helpers,
        helper_dir: None,
        helper_timeout: None,
    })
}

/// What belongs at a path of config.json, for type errors.
fn expected_at(path: &str) -> &'static str {
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        ["auths"] => "an object of registry → credentials",
        ["credHelpers"] => "an object of registry → helper name",
        ["credsStore"] | ["credHelpers", ..] => "a string",
        ["auths", .., "auth" | "username" | "password" | "identitytoken" | "registrytoken"]
            if parts.len() > 2 =>
        {
            "a string"
        }
        ["auths", ..] => "an object such as {\"auth\": \"…\"}",
        _ => "a different type",
    }
}

/// `auth`: standard base64 of `user:password`.
fn decode_auth(encoded: &str) -> std::result::Result<(String, String), &'static str> {
    let bytes = AUTH_BASE64
        .decode(encoded.trim())
        .map_err(|_| "is not valid base64")?;
    let text = String::from_utf8(bytes).map_err(|_| "does not decode to text")?;
    let (user, password) = text
        .split_once(':')
        .ok_or("does not decode to user:password")?;
    Ok((user.to_owned(), password.trim_end_matches('\0').to_owned()))
}

#[cfg(all(test, unix))]
mod tests {
    use super::super::helper::tests::{tempdir, write_helper, STORE};
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn auths_entries_decode_and_match_like_the_cli() {
        let text = serde_json::json!({
            "auths": {
                "127.0.0.1:5001": {"auth": b64("dockhand:p+s/w?rd>>>")},
                "https://index.docker.io/v1/": {"auth": b64("hubuser:hubpw"), "identitytoken": "idtok"},
                "http://registry.example.com": {"auth": b64("ex:expw")},
                "https://other.example.com/v2/": {"username": "plain", "password": "fields"},
                "unpadded.example": {"auth": b64("a:b").trim_end_matches('=')},
                "empty.example": {},
                "null.example": null
            },
            "currentContext": "ignored"
        })
        .to_string();
        let c = ConfigFile::parse(&text).unwrap();
        let get = |s: &str| c.credentials_for(s).unwrap();
        let l = get("127.0.0.1:5001").unwrap();
        assert_eq!(l.username.as_deref(), Some("dockhand"));
        assert_eq!(l.password.as_deref(), Some("p+s/w?rd>>>"));
        let hub = get("https://index.docker.io/v1/").unwrap();
        assert_eq!(hub.username.as_deref(), Some("hubuser"));
        assert_eq!(hub.identitytoken.as_deref(), Some("idtok"));
        // Keys written as URLs match by host.
        assert_eq!(
            get("registry.example.com").unwrap().username.as_deref(),
            Some("ex")
        );
        assert_eq!(
            get("other.example.com").unwrap().password.as_deref(),
            Some("fields")
        );
        assert_eq!(
            get("unpadded.example").unwrap().password.as_deref(),
            Some("b")
        );
        // Hub by image reference, in every spelling.
        for r in [
            "busybox",
            "docker.io/library/busybox:1",
            "index.docker.io/team/app",
            "registry-1.docker.io/x/y",
        ] {
            let h = c.credentials_for_image(r).unwrap().expect(r);
            assert_eq!(h.username.as_deref(), Some("hubuser"), "{r}");
        }
        assert_eq!(
            c.credentials_for_image("127.0.0.1:5001/dockhand-test/busybox:latest")
                .unwrap()
                .and_then(|c| c.username),
            Some("dockhand".into())
        );
        // No entry, an empty entry, a null entry: anonymous.
        assert_eq!(get("nowhere.example"), None);
        assert_eq!(get("empty.example"), None);
        assert_eq!(get("null.example"), None);
        assert!(c
            .credentials_for_image("localhost:5000/app")
            .unwrap()
            .is_none());
        let mut keys: Vec<_> = c.registries().collect();
        keys.sort();
        assert_eq!(keys.len(), 5, "{keys:?}");
        let all = c.all_credentials().unwrap();
        assert_eq!(all.len(), 5);
        assert_eq!(
            all["127.0.0.1:5001"].password.as_deref(),
            Some("p+s/w?rd>>>")
        );
    }

    #[test]
    fn hub_key_spelled_as_host_matches_hub() {
        let text = serde_json::json!({"auths": {"docker.io": {"auth": b64("u:p")}}}).to_string();
        let c = ConfigFile::parse(&text).unwrap();
        assert!(c.credentials_for_image("busybox").unwrap().is_some());
        assert!(c.credentials_for_image("quay.io/x").unwrap().is_none());
    }

    #[test]
    fn malformed_files_are_config_errors_naming_the_file() {
        let dir = tempdir("malformed");
        let file = dir.join("config.json");
        let cases: Vec<(String, &str)> = vec![
            ("{\"auths\": ".into(), "unexpected end of file"),
            ("{\"auths\" 1}".into(), "line 1 column 10"),
            ("[1, 2]".into(), "top level must be a JSON object"),
            (
                "{\"auths\": \"sekrit-value\"}".into(),
                "`auths` has the wrong type",
            ),
            (
                "{\"auths\": {\"r\": {\"auth\": 42}}}".into(),
                "`auths.r.auth` has the wrong type (expected a string)",
            ),
            (
                "{\"credsStore\": [\"sekrit-value\"]}".into(),
                "`credsStore` has the wrong type",
            ),
            (
                "{\"auths\": {\"r\": {\"auth\": \"!!!sekrit-value!!!\"}}}".into(),
                "`auths.r.auth` is not valid base64",
            ),
            (
                format!(
                    "{{\"auths\": {{\"r\": {{\"auth\": \"{}\"}}}}}}",
                    b64("sekrit-value")
                ),
                "does not decode to user:password",
            ),
            (
                "{\"credsStore\": \"../evil\"}".into(),
                "credsStore: \"../evil\" is not a credential helper name",
            ),
            (
                "{\"credHelpers\": {\"r\": \"a/b\"}}".into(),
                "credHelpers.r",
            ),
        ];
        for (text, want) in cases {
            std::fs::write(&file, &text).unwrap();
            let e = ConfigFile::load(&file).unwrap_err();
            let shown = format!("{e} {e:?}");
            assert!(matches!(e, Error::Config { .. }), "{text}: {e:?}");
            assert!(
                shown.contains(&file.display().to_string()),
                "{text}: {shown}"
            );
            assert!(shown.contains(want), "{text}: {shown}");
            assert!(!shown.contains("sekrit"), "{text}: {shown}");
        }
        // Missing file and empty file: an empty configuration.
        std::fs::remove_file(&file).unwrap();
        let c = ConfigFile::from_dir(&dir).unwrap();
        assert_eq!(c.path(), Some(file.as_path()));
        assert!(c.credentials_for("x").unwrap().is_none());
        std::fs::write(&file, "  \n").unwrap();
        assert!(ConfigFile::load(&file)
            .unwrap()
            .credentials_for("x")
            .unwrap()
            .is_none());
        // A directory where the file should be: cannot read.
        std::fs::create_dir_all(dir.join("sub/config.json")).unwrap();
        let e = ConfigFile::from_dir(dir.join("sub"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read"), "{e}");
    }

    #[test]
    fn helpers_win_over_auths_in_cli_order() {
        let dir = tempdir("helpers");
        write_helper(&dir, "store", STORE);
        write_helper(&dir, "crash", "exit 7");
        let text = serde_json::json!({
            "auths": {"127.0.0.1:5001": {"auth": b64("fileuser:filepw")}, "file.example": {"auth": b64("f:g")}},
            "credsStore": "store",
            "credHelpers": {"http://tok.example": "store", "broken.example": "crash"}
        })
        .to_string();
        std::fs::write(dir.join("config.json"), text).unwrap();
        let c = ConfigFile::from_dir(&dir).unwrap().helper_dir(&dir);
        // credsStore beats auths (the file's password is not used).
        let l = c.credentials_for("127.0.0.1:5001").unwrap().unwrap();
        assert_eq!(l.username.as_deref(), Some("dockhand"));
        // With credsStore set, auths are not consulted; the store has nothing.
        assert_eq!(c.credentials_for("file.example").unwrap(), None);
        // credHelpers keyed by URL match the host.
        let t = c.credentials_for("tok.example").unwrap().unwrap();
        assert_eq!(t.identitytoken.as_deref(), Some("the-identity-token"));
        // A crashing helper names itself and where it was configured.
        let e = c.credentials_for("broken.example").unwrap_err().to_string();
        assert!(e.contains("docker-credential-crash"), "{e}");
        assert!(
            e.contains("credHelpers") && e.contains("config.json"),
            "{e}"
        );
        assert!(e.contains("exit status: 7"), "{e}");
        // all_credentials: the store's list, then credHelpers — which fail here.
        assert!(c.all_credentials().is_err());
        let text = serde_json::json!({
            "auths": {"file.example": {"auth": b64("f:g")}},
            "credsStore": "store",
            "credHelpers": {"tok.example": "store"}
        })
        .to_string();
        std::fs::write(dir.join("config.json"), text).unwrap();
        let c = ConfigFile::from_dir(&dir).unwrap().helper_dir(&dir);
        let all = c.all_credentials().unwrap();
        assert_eq!(
            all.keys().collect::<Vec<_>>(),
            ["127.0.0.1:5001", "tok.example"]
        );
        // Without helper_dir, the helper is looked for on PATH and is not there.
        let e = ConfigFile::from_dir(&dir)
            .unwrap()
            .credentials_for("x")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("docker-credential-store") && e.contains("not found on PATH"),
            "{e}"
        );
    }

    #[test]
    fn a_hanging_store_is_bounded_by_the_timeout() {
        let dir = tempdir("hangstore");
        write_helper(&dir, "hang", "exec sleep 30");
        let c = ConfigFile::parse(r#"{"credsStore":"hang"}"#)
            .unwrap()
            .helper_dir(&dir)
            .helper_timeout(Duration::from_millis(200));
        let start = std::time::Instant::now();
        let e = c.credentials_for("x").unwrap_err().to_string();
        assert!(start.elapsed() < Duration::from_secs(10));
        assert!(
            e.contains("docker-credential-hang") && e.contains("credsStore"),
            "{e}"
        );
    }

    #[test]
    fn debug_shows_registries_not_secrets() {
        let text = serde_json::json!({
            "auths": {"r.example": {"auth": b64("user:hunter2"), "identitytoken": "tok-hunter3"}},
            "credsStore": "pass"
        })
        .to_string();
        let c = ConfigFile::parse(&text).unwrap();
        let d = format!("{c:?} {c:#?}");
        assert!(d.contains("r.example") && d.contains("pass"), "{d}");
        for secret in ["hunter2", "hunter3", &b64("user:hunter2")] {
            assert!(!d.contains(secret), "{d}");
        }
    }
}
