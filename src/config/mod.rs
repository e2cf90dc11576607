//! Where the daemon is and how to talk to it, resolved the way the docker
//! CLI resolves it.
//!
//! Precedence: an explicit host; `DOCKER_HOST`; `DOCKER_CONTEXT`; the
//! `currentContext` of `$DOCKER_CONFIG/config.json`; the default socket.
//! TLS comes from `DOCKER_TLS_VERIFY` / `DOCKER_TLS` / `DOCKER_CERT_PATH`, or
//! from the context's TLS material. `DOCKER_API_VERSION` fixes the API
//! version (no negotiation). When resolution fails, the error lists every
//! source tried and why it did not give an answer.

mod host;

pub use host::Host;

use crate::{ApiVersion, Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// TLS settings for a `tcp://` or `https://` host.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// CA certificate file (`ca.pem`); when absent, the server is verified
    /// against the system's root certificates (as Go's TLS, and so the docker
    /// CLI, does), which is what an `https://` daemon behind a public
    /// certificate needs.
    pub ca: Option<PathBuf>,
    /// Client certificate chain (`cert.pem`).
    pub cert: Option<PathBuf>,
    /// Client private key (`key.pem`).
    pub key: Option<PathBuf>,
    /// Verify the server's certificate and name (on unless `DOCKER_TLS` is
    /// set without `DOCKER_TLS_VERIFY`, or a context says `SkipTLSVerify`).
    pub verify: bool,
}

impl std::fmt::Debug for TlsConfig {
    // Paths only: key material is never read into this struct.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConfig")
            .field("ca", &self.ca)
            .field("cert", &self.cert)
            .field("key", &self.key)
            .field("verify", &self.verify)
            .finish()
    }
}

/// A resolved client configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The daemon address.
    pub host: Host,
    /// TLS settings, when the connection uses TLS.
    pub tls: Option<TlsConfig>,
    /// A fixed API version (`DOCKER_API_VERSION`); `None` negotiates.
    pub api_version: Option<ApiVersion>,
    /// Where the host came from, for messages (`DOCKER_HOST`, `context "prod"`, …).
    pub source: String,
}

/// The environment as the resolver sees it; tests pass their own.
pub struct Env<'a> {
    /// Looks up a variable.
    pub var: &'a dyn Fn(&str) -> Option<String>,
    /// The home directory (`~`): `%USERPROFILE%` on Windows, `$HOME`
    /// elsewhere, as the docker CLI takes it.
    pub home: Option<PathBuf>,
}

impl Config {
    /// Resolves the configuration from the process environment.
    ///
    /// ```no_run
    /// let config = dockhand::config::Config::from_env()?;
    /// println!("{} (from {})", config.host, config.source);
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn from_env() -> Result<Config> {
        let var = |k: &str| std::env::var(k).ok();
        Config::resolve(&Env {
            var: &var,
            home: home_dir(),
        })
    }

    /// A configuration for this host; TLS and API version still come from
    /// the environment, as with `docker -H`.
    ///
    /// ```
    /// let c = dockhand::config::Config::for_host("unix:///var/run/docker.sock")?;
    /// assert!(c.tls.is_none());
    /// # Ok::<(), dockhand::Error>(())
    /// ```
    pub fn for_host(host: &str) -> Result<Config> {
        let var = |k: &str| std::env::var(k).ok();
        let env = Env {
            var: &var,
            home: home_dir(),
        };
        let host = Host::parse(host).map_err(|m| Error::config(format!("host {host:?}: {m}")))?;
        Config::with_host(&env, host, "explicit host".into())
    }

    /// Resolves the configuration from `env` (see the module docs for the order).
    pub fn resolve(env: &Env<'_>) -> Result<Config> {
        let var = |k: &str| (env.var)(k).filter(|v| !v.is_empty());
        let mut tried: Vec<String> = Vec::new();
        if let Some(h) = var("DOCKER_HOST") {
            let host =
                Host::parse(&h).map_err(|m| Error::config(format!("DOCKER_HOST={h:?}: {m}")))?;
            return Config::with_host(env, host, "DOCKER_HOST".into());
        }
        tried.push("DOCKER_HOST is not set".into());

        let config_dir = docker_config_dir(env);
        let context = match var("DOCKER_CONTEXT") {
            Some(c) => Some((c, "DOCKER_CONTEXT".to_owned())),
            None => {
                tried.push("DOCKER_CONTEXT is not set".into());
                match &config_dir {
                    Some(dir) => {
                        let file = dir.join("config.json");
                        match current_context(&file)? {
                            Some(c) => Some((c, format!("currentContext in {}", file.display()))),
                            None => {
                                tried.push(format!("{} names no currentContext", file.display()));
                                None
                            }
                        }
                    }
                    None => {
                        tried.push("no DOCKER_CONFIG and no home directory".into());
                        None
                    }
                }
            }
        };
        match context {
            Some((name, _)) if name == "default" => {}
            Some((name, from)) => {
                let dir = config_dir.ok_or_else(|| {
                    Error::config(format!(
                        "context {name:?} (from {from}): no DOCKER_CONFIG and no home directory to find it in"
                    ))
                })?;
                return Config::from_context(env, &dir, &name).map_err(|e| match e {
                    Error::Config { message, source } => Error::Config {
                        message: format!(
                            "{message} (context {name:?} came from {from}; before that: {})",
                            tried.join("; ")
                        ),
                        source,
                    },
                    other => other,
                });
            }
            None => {}
        }
        Config::with_host(env, Host::default_host(), "default socket".into())
    }

    fn with_host(env: &Env<'_>, host: Host, source: String) -> Result<Config> {
        let var = |k: &str| (env.var)(k).filter(|v| !v.is_empty());
        let verify = var("DOCKER_TLS_VERIFY").is_some();
        let tls_on = verify || var("DOCKER_TLS").is_some() || matches!(host, Host::Https { .. });
        let tls = if tls_on && matches!(host, Host::Tcp { .. } | Host::Https { .. }) {
            let dir = match var("DOCKER_CERT_PATH") {
                Some(p) => PathBuf::from(p),
                None => docker_config_dir(env).ok_or_else(|| {
                    Error::config(
                        "TLS is on but DOCKER_CERT_PATH is not set and there is no home directory",
                    )
                })?,
            };
            Some(tls_files(
                &dir,
                verify || matches!(host, Host::Https { .. }),
            )?)
        } else {
            None
        };
        Ok(Config {
            host,
            tls,
            api_version: api_version(env)?,
            source,
        })
    }

    fn from_context(env: &Env<'_>, config_dir: &Path, name: &str) -> Result<Config> {
        let id = hex(&Sha256::digest(name.as_bytes()));
        let meta_path = config_dir
            .join("contexts")
            .join("meta")
            .join(&id)
            .join("meta.json");
        let text = std::fs::read_to_string(&meta_path).map_err(|e| Error::Config {
            message: format!(
                "context {name:?} does not exist (no {})",
                meta_path.display()
            ),
            source: Some(Box::new(e)),
        })?;
        #[derive(serde::Deserialize)]
        struct Meta {
            #[serde(rename = "Endpoints", default)]
            endpoints: std::collections::HashMap<String, Endpoint>,
        }
        #[derive(serde::Deserialize)]
        struct Endpoint {
            #[serde(rename = "Host", default)]
            host: Option<String>,
            #[serde(rename = "SkipTLSVerify", default)]
            skip_tls_verify: bool,
        }
        let meta: Meta = serde_json::from_str(&text).map_err(|e| Error::Config {
            message: format!(
                "{}: malformed context metadata at line {} column {}",
                meta_path.display(),
                e.line(),
                e.column()
            ),
            source: Some(Box::new(e)),
        })?;
        let ep = meta.endpoints.get("docker").ok_or_else(|| {
            Error::config(format!(
                "context {name:?} has no docker endpoint ({})",
                meta_path.display()
            ))
        })?;
        let h = ep.host.as_deref().ok_or_else(|| {
            Error::config(format!(
                "context {name:?} has no Host ({})",
                meta_path.display()
            ))
        })?;
        let host = Host::parse(h)
            .map_err(|m| Error::config(format!("context {name:?}: Host {h:?}: {m}")))?;
        let tls_dir = config_dir
            .join("contexts")
            .join("tls")
            .join(&id)
            .join("docker");
        let tls = if tls_dir.is_dir() && matches!(host, Host::Tcp { .. } | Host::Https { .. }) {
            Some(tls_files(&tls_dir, !ep.skip_tls_verify)?)
        } else {
            None
        };
        Ok(Config {
            host,
            tls,
            api_version: api_version(env)?,
            source: format!("context {name:?}"),
        })
    }
}

fn api_version(env: &Env<'_>) -> Result<Option<ApiVersion>> {
    match (env.var)("DOCKER_API_VERSION").filter(|v| !v.is_empty()) {
        Some(v) => v.parse().map(Some).map_err(|e| Error::Config {
            message: format!("DOCKER_API_VERSION={v:?} is not an API version such as 1.41"),
            source: Some(Box::new(e)),
        }),
        None => Ok(None),
    }
}

/// The user's home directory as the docker CLI finds it (Go's
/// `os.UserHomeDir`): `%USERPROFILE%` on Windows, `$HOME` elsewhere; unset
/// or empty is none. `config.json`, contexts and the default TLS files live
/// in its `.docker` (`C:\Users\me\.docker` on Windows).
pub(crate) fn home_dir() -> Option<PathBuf> {
    home_dir_from(cfg!(windows), &|k| std::env::var_os(k))
}

/// [`home_dir`] for either platform, from these variables.
fn home_dir_from(
    windows: bool,
    var: &dyn Fn(&str) -> Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    let name = if windows { "USERPROFILE" } else { "HOME" };
    var(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// `$DOCKER_CONFIG`, else `~/.docker`.
fn docker_config_dir(env: &Env<'_>) -> Option<PathBuf> {
    (env.var)("DOCKER_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| env.home.as_ref().map(|h| h.join(".docker")))
}

/// The `currentContext` of a config.json; a missing file is no context, a
/// malformed one is an error naming the file and position.
fn current_context(file: &Path) -> Result<Option<String>> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::Config {
                message: format!("cannot read {}", file.display()),
                source: Some(Box::new(e)),
            })
        }
    };
    #[derive(serde::Deserialize)]
    struct ConfigFile {
        #[serde(rename = "currentContext", default)]
        current_context: Option<String>,
    }
    let cfg: ConfigFile = serde_json::from_str(&text).map_err(|e| Error::Config {
        message: format!(
            "{}: malformed JSON at line {} column {}",
            file.display(),
            e.line(),
            e.column()
        ),
        source: Some(Box::new(e)),
    })?;
    Ok(cfg.current_context.filter(|c| !c.is_empty()))
}

/// `ca.pem`, `cert.pem`, `key.pem` of a directory, those that exist.
fn tls_files(dir: &Path, verify: bool) -> Result<TlsConfig> {
    let existing = |name: &str| {
        let p = dir.join(name);
        p.is_file().then_some(p)
    };
    let tls = TlsConfig {
        ca: existing("ca.pem"),
        cert: existing("cert.pem"),
        key: existing("key.pem"),
        verify,
    };
    if tls.cert.is_some() != tls.key.is_some() {
        return Err(Error::config(format!(
            "{}: cert.pem and key.pem must both be present or both absent",
            dir.display()
        )));
    }
    Ok(tls)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(vars: &[(&str, &str)], home: Option<&Path>) -> Result<Config> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let var = move |k: &str| map.get(k).cloned();
        Config::resolve(&Env {
            var: &var,
            home: home.map(Path::to_path_buf),
        })
    }

    #[test]
    fn home_is_userprofile_on_windows_and_home_elsewhere() {
        let vars = |k: &str| match k {
            "USERPROFILE" => Some(r"C:\Users\me".into()),
            "HOME" => Some("/home/me".into()),
            _ => None,
        };
        assert_eq!(
            home_dir_from(true, &vars),
            Some(PathBuf::from(r"C:\Users\me"))
        );
        assert_eq!(home_dir_from(false, &vars), Some(PathBuf::from("/home/me")));
        // Windows does not fall back to HOME (nor Unix to USERPROFILE), and
        // an empty value is no home.
        let only_home = |k: &str| (k == "HOME").then(|| "/home/me".into());
        assert_eq!(home_dir_from(true, &only_home), None);
        let only_profile = |k: &str| (k == "USERPROFILE").then(|| r"C:\Users\me".into());
        assert_eq!(home_dir_from(false, &only_profile), None);
        let empty = |_: &str| Some(std::ffi::OsString::new());
        assert_eq!(home_dir_from(true, &empty), None);
        assert_eq!(home_dir_from(false, &empty), None);
    }

    #[test]
    fn the_config_dir_is_dot_docker_in_the_home_unless_docker_config_says() {
        let home = PathBuf::from(r"C:\Users\me");
        let none = |_: &str| None;
        let env = Env {
            var: &none,
            home: Some(home.clone()),
        };
        assert_eq!(docker_config_dir(&env), Some(home.join(".docker")));
        let set = |k: &str| (k == "DOCKER_CONFIG").then(|| r"D:\cfg".to_owned());
        let env = Env {
            var: &set,
            home: Some(home),
        };
        assert_eq!(docker_config_dir(&env), Some(PathBuf::from(r"D:\cfg")));
    }

    fn tempdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("dockhand-config-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn write_context(cfg: &Path, name: &str, host: &str, tls: bool) {
        let id = hex(&Sha256::digest(name.as_bytes()));
        let meta = cfg.join("contexts/meta").join(&id);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            serde_json::json!({"Name": name, "Metadata": {}, "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}}}).to_string(),
        )
        .unwrap();
        if tls {
            let t = cfg.join("contexts/tls").join(&id).join("docker");
            std::fs::create_dir_all(&t).unwrap();
            for f in ["ca.pem", "cert.pem", "key.pem"] {
                std::fs::write(t.join(f), "x").unwrap();
            }
        }
    }

    #[test]
    fn default_and_docker_host() {
        let c = resolve(&[], None).unwrap();
        assert_eq!(c.host, Host::default_host());
        assert_eq!(c.source, "default socket");
        let c = resolve(
            &[
                ("DOCKER_HOST", "tcp://127.0.0.1:2375"),
                ("DOCKER_API_VERSION", "1.41"),
            ],
            None,
        )
        .unwrap();
        assert_eq!(
            c.host,
            Host::Tcp {
                host: "127.0.0.1".into(),
                port: 2375
            }
        );
        assert_eq!(c.api_version, Some(ApiVersion::new(1, 41)));
        assert!(c.tls.is_none());
        let e = resolve(&[("DOCKER_HOST", "tcp//nope")], None).unwrap_err();
        assert!(e.to_string().contains("DOCKER_HOST=\"tcp//nope\""), "{e}");
        let e = resolve(&[("DOCKER_API_VERSION", "latest")], None).unwrap_err();
        assert!(e.to_string().contains("DOCKER_API_VERSION"), "{e}");
    }

    #[test]
    fn tls_from_env() {
        let d = tempdir("tls");
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(d.join(f), "x").unwrap();
        }
        let p = d.to_string_lossy().into_owned();
        let c = resolve(
            &[
                ("DOCKER_HOST", "tcp://127.0.0.1:2376"),
                ("DOCKER_TLS_VERIFY", "1"),
                ("DOCKER_CERT_PATH", &p),
            ],
            None,
        )
        .unwrap();
        let tls = c.tls.expect("tls");
        assert!(tls.verify);
        assert_eq!(tls.ca, Some(d.join("ca.pem")));
        let c = resolve(
            &[
                ("DOCKER_HOST", "tcp://127.0.0.1:2376"),
                ("DOCKER_TLS", "1"),
                ("DOCKER_CERT_PATH", &p),
            ],
            None,
        )
        .unwrap();
        assert!(!c.tls.expect("tls").verify);
        // Verification without a ca.pem verifies against the system's
        // roots, as the docker CLI (Go's TLS) does.
        std::fs::remove_file(d.join("ca.pem")).unwrap();
        let c = resolve(
            &[
                ("DOCKER_HOST", "tcp://127.0.0.1:2376"),
                ("DOCKER_TLS_VERIFY", "1"),
                ("DOCKER_CERT_PATH", &p),
            ],
            None,
        )
        .unwrap();
        let tls = c.tls.expect("tls");
        assert!(tls.verify && tls.ca.is_none());
    }

    #[test]
    fn contexts_and_precedence() {
        let home = tempdir("ctx");
        let cfg = home.join(".docker");
        write_context(&cfg, "remote", "tcp://127.0.0.1:2376", true);
        write_context(&cfg, "other", "unix:///tmp/other.sock", false);
        std::fs::write(cfg.join("config.json"), r#"{"currentContext":"other"}"#).unwrap();
        // currentContext
        let c = resolve(&[], Some(&home)).unwrap();
        assert_eq!(c.host, Host::Unix("/tmp/other.sock".into()));
        assert_eq!(c.source, "context \"other\"");
        // DOCKER_CONTEXT beats currentContext, and brings its TLS material.
        let c = resolve(&[("DOCKER_CONTEXT", "remote")], Some(&home)).unwrap();
        assert_eq!(
            c.host,
            Host::Tcp {
                host: "127.0.0.1".into(),
                port: 2376
            }
        );
        assert!(c.tls.as_ref().is_some_and(|t| t.verify && t.cert.is_some()));
        // DOCKER_HOST beats both.
        let c = resolve(
            &[
                ("DOCKER_CONTEXT", "remote"),
                ("DOCKER_HOST", "unix:///x.sock"),
            ],
            Some(&home),
        )
        .unwrap();
        assert_eq!(c.host, Host::Unix("/x.sock".into()));
        // "default" is the default socket.
        let c = resolve(&[("DOCKER_CONTEXT", "default")], Some(&home)).unwrap();
        assert_eq!(c.host, Host::default_host());
        // DOCKER_CONFIG moves the store.
        let c = resolve(&[("DOCKER_CONFIG", &cfg.to_string_lossy())], None).unwrap();
        assert_eq!(c.host, Host::Unix("/tmp/other.sock".into()));
    }

    #[test]
    fn missing_context_and_broken_config_explain_themselves() {
        let home = tempdir("bad");
        let cfg = home.join(".docker");
        std::fs::create_dir_all(&cfg).unwrap();
        let e = resolve(&[("DOCKER_CONTEXT", "nope")], Some(&home))
            .unwrap_err()
            .to_string();
        assert!(e.contains("context \"nope\" does not exist"), "{e}");
        assert!(
            e.contains("DOCKER_CONTEXT") && e.contains("DOCKER_HOST is not set"),
            "{e}"
        );
        std::fs::write(cfg.join("config.json"), "{\"currentContext\": ").unwrap();
        let e = resolve(&[], Some(&home)).unwrap_err().to_string();
        assert!(e.contains("config.json") && e.contains("line 1"), "{e}");
        std::fs::write(cfg.join("config.json"), r#"{"currentContext":"ghost"}"#).unwrap();
        let e = resolve(&[], Some(&home)).unwrap_err().to_string();
        assert!(
            e.contains("ghost") && e.contains("currentContext in"),
            "{e}"
        );
    }
}
