//! Daemon addresses in the forms `DOCKER_HOST` accepts.

use std::fmt;
use std::path::PathBuf;

/// A daemon address.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Host {
    /// `unix:///var/run/docker.sock`
    Unix(PathBuf),
    /// `tcp://host:port`: plain, or TLS when TLS is configured.
    Tcp {
        /// Host name or IP address (IPv6 without brackets).
        host: String,
        /// Port (2375 when not given).
        port: u16,
    },
    /// `http://host:port`: always plain (a wiremock server, a proxy).
    Http {
        /// Host name or IP address.
        host: String,
        /// Port (80 when not given).
        port: u16,
    },
    /// `https://host:port`: always TLS.
    Https {
        /// Host name or IP address.
        host: String,
        /// Port (443 when not given).
        port: u16,
    },
    /// `npipe:////./pipe/docker_engine`, kept as the Windows path `\\.\pipe\docker_engine`.
    Npipe(String),
    /// `ssh://[user@]host[:port]`: through `ssh … docker system dial-stdio`.
    Ssh {
        /// Login name, if given.
        user: Option<String>,
        /// Host name or address.
        host: String,
        /// Port, if given.
        port: Option<u16>,
    },
}

impl Host {
    /// The platform's default: the Unix socket, or the `docker_engine` pipe on Windows.
    pub fn default_host() -> Host {
        Host::default_for(cfg!(windows))
    }

    /// The default host of Windows or of Unix.
    fn default_for(windows: bool) -> Host {
        if windows {
            Host::Npipe(r"\\.\pipe\docker_engine".into())
        } else {
            Host::Unix("/var/run/docker.sock".into())
        }
    }

    /// Parses a `DOCKER_HOST`-style address; the error says what is wrong.
    ///
    /// ```
    /// use dockhand::config::Host;
    /// assert_eq!(
    ///     Host::parse("ssh://me@127.0.0.1:2222").unwrap(),
    ///     Host::Ssh { user: Some("me".into()), host: "127.0.0.1".into(), port: Some(2222) }
    /// );
    /// assert!(Host::parse("tcp//oops").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Host, String> {
        let s = s.trim();
        let (scheme, rest) = s.split_once("://").ok_or_else(|| {
            "expected unix://, tcp://, http://, https://, npipe:// or ssh:// followed by an address".to_owned()
        })?;
        match scheme.to_ascii_lowercase().as_str() {
            "unix" => {
                if rest.is_empty() || !rest.starts_with('/') {
                    return Err(
                        "a unix socket needs an absolute path: unix:///var/run/docker.sock".into(),
                    );
                }
                Ok(Host::Unix(PathBuf::from(rest)))
            }
            "tcp" => {
                let (host, port) = host_port(rest, 2375)?;
                Ok(Host::Tcp { host, port })
            }
            "http" => {
                let (host, port) = host_port(rest, 80)?;
                Ok(Host::Http { host, port })
            }
            "https" => {
                let (host, port) = host_port(rest, 443)?;
                Ok(Host::Https { host, port })
            }
            "npipe" => {
                if rest.is_empty() {
                    return Err("a named pipe needs a path: npipe:////./pipe/docker_engine".into());
                }
                Ok(Host::Npipe(rest.replace('/', "\\")))
            }
            "ssh" => parse_ssh(rest),
            "fd" => Err(
                "fd:// (systemd socket activation) is a daemon-side address; clients cannot use it"
                    .into(),
            ),
            other => Err(format!("unsupported scheme {other:?}")),
        }
    }
}

fn host_port(rest: &str, default_port: u16) -> Result<(String, u16), String> {
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() {
        return Err("no host given".into());
    }
    if authority.contains(['/', '?', '#', '@']) {
        return Err(format!(
            "{authority:?} is not host[:port] (no path, query or credentials)"
        ));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("unclosed [ in an IPv6 address")?;
        match after.strip_prefix(':') {
            Some(p) => (h.to_owned(), Some(p)),
            None if after.is_empty() => (h.to_owned(), None),
            None => return Err(format!("unexpected {after:?} after the IPv6 address")),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (authority.to_owned(), None),
        }
    };
    if host.is_empty() {
        return Err("no host given".into());
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("{p:?} is not a port number"))?,
        None => default_port,
    };
    Ok((host, port))
}

fn parse_ssh(rest: &str) -> Result<Host, String> {
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err("an ssh:// address takes no path, query or fragment".into());
    }
    let (user, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => {
            if u.contains(':') {
                return Err(
                    "a password in an ssh:// address is not supported: use keys or an ssh agent"
                        .into(),
                );
            }
            if u.is_empty() {
                return Err("empty user name before @".into());
            }
            (Some(u.to_owned()), h)
        }
        None => (None, authority),
    };
    let (host, port) = host_port(hostport, 22)?;
    let explicit_port = hostport.rsplit_once(':').is_some() && !hostport.ends_with(']');
    if host.starts_with('-') {
        return Err("a host name cannot start with '-'".into());
    }
    Ok(Host::Ssh {
        user,
        host,
        port: explicit_port.then_some(port),
    })
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bracket = |h: &str| {
            if h.contains(':') {
                format!("[{h}]")
            } else {
                h.to_owned()
            }
        };
        match self {
            Host::Unix(p) => write!(f, "unix://{}", p.display()),
            Host::Tcp { host, port } => write!(f, "tcp://{}:{port}", bracket(host)),
            Host::Http { host, port } => write!(f, "http://{}:{port}", bracket(host)),
            Host::Https { host, port } => write!(f, "https://{}:{port}", bracket(host)),
            Host::Npipe(p) => write!(f, "npipe://{}", p.replace('\\', "/")),
            Host::Ssh { user, host, port } => {
                f.write_str("ssh://")?;
                if let Some(u) = user {
                    write!(f, "{u}@")?;
                }
                f.write_str(&bracket(host))?;
                if let Some(p) = port {
                    write!(f, ":{p}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_windows_default_is_the_docker_engine_pipe() {
        let pipe = Host::default_for(true);
        assert_eq!(pipe, Host::Npipe(r"\\.\pipe\docker_engine".into()));
        assert_eq!(pipe.to_string(), "npipe:////./pipe/docker_engine");
        assert_eq!(Host::parse(&pipe.to_string()).unwrap(), pipe);
        assert_eq!(
            Host::default_for(false),
            Host::Unix("/var/run/docker.sock".into())
        );
        assert_eq!(Host::default_host(), Host::default_for(cfg!(windows)));
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(
            Host::parse("unix:///var/run/docker.sock").unwrap(),
            Host::Unix("/var/run/docker.sock".into())
        );
        assert_eq!(
            Host::parse("tcp://127.0.0.1:2376").unwrap(),
            Host::Tcp {
                host: "127.0.0.1".into(),
                port: 2376
            }
        );
        assert_eq!(
            Host::parse("tcp://localhost").unwrap(),
            Host::Tcp {
                host: "localhost".into(),
                port: 2375
            }
        );
        assert_eq!(
            Host::parse("tcp://[::1]:2375").unwrap(),
            Host::Tcp {
                host: "::1".into(),
                port: 2375
            }
        );
        assert_eq!(
            Host::parse("http://127.0.0.1:8080/").unwrap(),
            Host::Http {
                host: "127.0.0.1".into(),
                port: 8080
            }
        );
        assert_eq!(
            Host::parse("https://example.test").unwrap(),
            Host::Https {
                host: "example.test".into(),
                port: 443
            }
        );
        assert_eq!(
            Host::parse("npipe:////./pipe/docker_engine").unwrap(),
            Host::Npipe(r"\\.\pipe\docker_engine".into())
        );
        assert_eq!(
            Host::parse("ssh://root@127.0.0.1:2222").unwrap(),
            Host::Ssh {
                user: Some("root".into()),
                host: "127.0.0.1".into(),
                port: Some(2222)
            }
        );
        assert_eq!(
            Host::parse("ssh://box").unwrap(),
            Host::Ssh {
                user: None,
                host: "box".into(),
                port: None
            }
        );
        for s in [
            "unix:///a.sock",
            "tcp://127.0.0.1:2376",
            "ssh://u@h:22",
            "npipe:////./pipe/x",
            "tcp://[::1]:1",
        ] {
            assert_eq!(Host::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn rejects_bad_hosts_with_reasons() {
        for (s, why) in [
            ("", "expected"),
            ("tcp//x", "expected"),
            ("unix://relative.sock", "absolute"),
            ("tcp://", "no host"),
            ("tcp://h:99999", "port"),
            ("tcp://h:0", "port"),
            ("tcp://h:2375/path", "no path"),
            ("ssh://u:pw@h", "password"),
            ("ssh://h/path", "no path"),
            ("ssh://-oProxyCommand=x", "cannot start"),
            ("fd://", "daemon-side"),
            ("gopher://h", "unsupported"),
            ("tcp://[::1", "unclosed"),
        ] {
            let e = Host::parse(s).expect_err(s);
            assert!(e.contains(why), "{s}: {e}");
        }
    }
}
