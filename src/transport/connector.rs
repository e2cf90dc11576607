//! Opening connections: where a daemon is, and the connector the pool uses.

use super::io::Io;
#[cfg(windows)]
use super::npipe;
#[cfg(feature = "ssh")]
use super::ssh;
#[cfg(feature = "tls")]
use super::tls;
use crate::error::BoxError;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

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

/// Why a connection could not be made.
#[derive(Debug)]
pub(super) struct ConnectFailure {
    pub(super) timed_out: bool,
    pub(super) source: Option<BoxError>,
}

impl std::fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.timed_out {
            f.write_str("connect timed out")
        } else {
            f.write_str("connect failed")
        }
    }
}

impl std::error::Error for ConnectFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// Opens connections for the pooled client; the URI is ignored (one client
/// talks to one daemon).
#[derive(Clone)]
pub(super) struct Connector {
    pub(super) target: Arc<Target>,
    pub(super) connect_timeout: Duration,
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = Io;
    type Error = ConnectFailure;
    type Future = Pin<Box<dyn Future<Output = std::result::Result<Io, ConnectFailure>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<std::result::Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: http::Uri) -> Self::Future {
        let target = self.target.clone();
        let limit = self.connect_timeout;
        Box::pin(async move {
            match tokio::time::timeout(limit, connect(&target)).await {
                Ok(Ok(io)) => Ok(io),
                Ok(Err(e)) => Err(ConnectFailure {
                    timed_out: false,
                    source: Some(e),
                }),
                Err(_) => Err(ConnectFailure {
                    timed_out: true,
                    source: None,
                }),
            }
        })
    }
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
