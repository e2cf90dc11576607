//! Getting bytes to the daemon: one connector for every kind of host, behind
//! one pooled hyper-util client per [`crate::Docker`].
//!
//! Connections are kept alive and reused; a request that finds its pooled
//! connection already closed by the daemon is retried on a new one by
//! hyper-util (only when nothing of it was sent). There is a connect timeout
//! and an optional response-header timeout, never a timeout on reading a
//! body: logs and events may run for hours.

mod npipe;
mod ssh;
mod tls;

pub use npipe::open_with_busy_retry;

use crate::config::{Config, Host};
use crate::error::BoxError;
use crate::{Error, Result};
use bytes::Bytes;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};

/// A request body as the transport sends it.
pub type RequestBody = UnsyncBoxBody<Bytes, BoxError>;

/// An empty request body.
pub fn empty_body() -> RequestBody {
    Empty::new().map_err(|e| match e {}).boxed_unsync()
}

/// A request body of these bytes.
pub fn full_body(bytes: Bytes) -> RequestBody {
    Full::new(bytes).map_err(|e| match e {}).boxed_unsync()
}

/// Timeouts of a transport.
#[derive(Debug, Clone, Copy)]
pub struct TransportOptions {
    /// How long opening a connection (and a TLS handshake) may take.
    pub connect_timeout: Duration,
    /// How long to wait for a response's headers; `None` waits as long as the
    /// daemon takes (`wait` answers only when the container stops).
    pub response_header_timeout: Option<Duration>,
}

/// The `Host` header sent over sockets, pipes and ssh, as the docker CLI does.
const LOCAL_AUTHORITY: &str = "api.moby.localhost";

/// The pooled HTTP client for one daemon.
pub(crate) struct Transport {
    client: Client<Connector, RequestBody>,
    authority: http::uri::Authority,
    display: String,
    options: TransportOptions,
    ssh_stderr: Option<Arc<std::sync::Mutex<String>>>,
}

impl Transport {
    /// Sets up the connector for `config`. Nothing connects yet.
    pub(crate) fn new(config: &Config, options: TransportOptions) -> Result<Self> {
        let display = config.host.to_string();
        let mut ssh_stderr = None;
        let (target, authority) = match &config.host {
            Host::Unix(path) => (Target::Unix(path.clone()), LOCAL_AUTHORITY.to_owned()),
            Host::Npipe(path) => (Target::Npipe(path.clone()), LOCAL_AUTHORITY.to_owned()),
            Host::Ssh { user, host, port } => {
                let stderr = Arc::new(std::sync::Mutex::new(String::new()));
                ssh_stderr = Some(stderr.clone());
                (
                    Target::Ssh {
                        argv: ssh::argv(user.as_deref(), host, *port),
                        stderr,
                    },
                    LOCAL_AUTHORITY.to_owned(),
                )
            }
            Host::Http { host, port } => (
                Target::Tcp {
                    host: host.clone(),
                    port: *port,
                },
                authority(host, *port),
            ),
            Host::Tcp { host, port } | Host::Https { host, port } => {
                let target = match &config.tls {
                    Some(tls_cfg) => Target::Tls {
                        host: host.clone(),
                        port: *port,
                        config: Arc::new(tls::client_config(tls_cfg)?),
                    },
                    None if matches!(config.host, Host::Https { .. }) => {
                        return Err(Error::config(format!(
                            "{display}: https needs TLS settings"
                        )))
                    }
                    None => Target::Tcp {
                        host: host.clone(),
                        port: *port,
                    },
                };
                (target, authority(host, *port))
            }
        };
        let authority = authority
            .parse()
            .map_err(|_| Error::config(format!("{display}: not a valid HTTP authority")))?;
        let connector = Connector {
            target: Arc::new(target),
            connect_timeout: options.connect_timeout,
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(32)
            .build(connector);
        Ok(Transport {
            client,
            authority,
            display,
            options,
            ssh_stderr,
        })
    }

    /// The daemon address, for messages.
    pub(crate) fn host_display(&self) -> &str {
        &self.display
    }

    /// Sends a request whose URI is a path and query (`/v1.41/info`).
    pub(crate) async fn send(
        &self,
        mut req: http::Request<RequestBody>,
    ) -> Result<http::Response<Incoming>> {
        let path = req
            .uri()
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/"));
        *req.uri_mut() = http::Uri::builder()
            .scheme("http")
            .authority(self.authority.clone())
            .path_and_query(path)
            .build()
            .map_err(|e| Error::protocol(format!("request URI: {e}")))?;
        let fut = self.client.request(req);
        let result = match self.options.response_header_timeout {
            Some(limit) => tokio::time::timeout(limit, fut)
                .await
                .map_err(|_| Error::Timeout {
                    during: "waiting for response headers",
                    after: limit,
                })?,
            None => fut.await,
        };
        result.map_err(|e| self.map_error(e))
    }

    fn map_error(&self, e: hyper_util::client::legacy::Error) -> Error {
        // Our own connect failure, carried through hyper-util's error.
        let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        while let Some(s) = src {
            if let Some(ce) = s.downcast_ref::<ConnectFailure>() {
                if ce.timed_out {
                    return Error::Timeout {
                        during: "connecting",
                        after: self.options.connect_timeout,
                    };
                }
                break;
            }
            src = s.source();
        }
        let mut host = self.display.clone();
        if let Some(stderr) = &self.ssh_stderr {
            let text = stderr
                .lock()
                .map(|s| s.trim().to_owned())
                .unwrap_or_default();
            if !text.is_empty() {
                host = format!("{host} (ssh said: {text})");
            }
        }
        Error::Connect {
            host,
            source: Box::new(e),
        }
    }
}

fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

enum Target {
    Unix(PathBuf),
    Tcp {
        host: String,
        port: u16,
    },
    Tls {
        host: String,
        port: u16,
        config: Arc<rustls::ClientConfig>,
    },
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
struct ConnectFailure {
    timed_out: bool,
    source: Option<BoxError>,
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
struct Connector {
    target: Arc<Target>,
    connect_timeout: Duration,
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

async fn connect(target: &Target) -> std::result::Result<Io, BoxError> {
    Ok(match target {
        #[cfg(unix)]
        Target::Unix(path) => Io::new(tokio::net::UnixStream::connect(path).await?),
        #[cfg(not(unix))]
        Target::Unix(_) => return Err("unix sockets are not available on this platform".into()),
        Target::Tcp { host, port } => {
            let s = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
            s.set_nodelay(true)?;
            Io::new(s)
        }
        Target::Tls { host, port, config } => {
            let s = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
            s.set_nodelay(true)?;
            Io::new(tls::handshake(config.clone(), host, s).await?)
        }
        Target::Ssh { argv, stderr } => Io::new(ssh::spawn(argv, stderr.clone())?),
        #[cfg(windows)]
        Target::Npipe(path) => Io::new(npipe::open(path).await?),
        #[cfg(not(windows))]
        Target::Npipe(_) => return Err("named pipes are only available on Windows".into()),
    })
}

trait Duplex: AsyncRead + AsyncWrite + Send {}
impl<T: AsyncRead + AsyncWrite + Send> Duplex for T {}

/// A connection of any kind, as hyper sees it.
pub(crate) struct Io {
    inner: TokioIo<Pin<Box<dyn Duplex>>>,
}

impl Io {
    fn new(s: impl AsyncRead + AsyncWrite + Send + 'static) -> Self {
        Io {
            inner: TokioIo::new(Box::pin(s)),
        }
    }
}

impl hyper::rt::Read for Io {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Io {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl Connection for Io {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}
