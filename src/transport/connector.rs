//! Opening connections: where a daemon is, and how to connect to it.

use super::io::Io;
#[cfg(windows)]
use super::npipe;
#[cfg(feature = "ssh")]
use super::ssh;
#[cfg(feature = "tls")]
use super::tls;
use crate::error::BoxError;
use std::path::PathBuf;
#[cfg(any(feature = "tls", feature = "ssh"))]
use std::sync::Arc;

pub(super) fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

pub(super) enum Target {
    Unix(PathBuf),
    Tcp {
        host: String,
        port: u16,
    },
    #[cfg(feature = "tls")]
    Tls {
        host: String,
        port: u16,
        config: Arc<rustls::ClientConfig>,
    },
    #[cfg(feature = "ssh")]
    Ssh {
        argv: Vec<String>,
        stderr: Arc<std::sync::Mutex<String>>,
    },
    // The path is only read on Windows.
    #[cfg_attr(not(windows), allow(dead_code))]
    Npipe(String),
}

pub(super) async fn connect(target: &Target) -> std::result::Result<Io, BoxError> {
    Ok(match target {
        #[cfg(unix)]
        Target::Unix(path) => Io::new(tokio::net::UnixStream::connect(path).await?),
        #[cfg(not(unix))]
        Target::Unix(path) => {
            return Err(format!(
                "{}: unix sockets are not available on this platform",
                path.display()
            )
            .into())
        }
        Target::Tcp { host, port } => {
            let s = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
            s.set_nodelay(true)?;
            Io::new(s)
        }
        #[cfg(feature = "tls")]
        Target::Tls { host, port, config } => {
            let s = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
            s.set_nodelay(true)?;
            Io::new(tls::handshake(config.clone(), host, s).await?)
        }
        #[cfg(feature = "ssh")]
        Target::Ssh { argv, stderr } => Io::new(ssh::spawn(argv, stderr.clone())?),
        #[cfg(windows)]
        Target::Npipe(path) => Io::new(npipe::open(path).await?),
        #[cfg(not(windows))]
        Target::Npipe(_) => return Err("named pipes are only available on Windows".into()),
    })
}
