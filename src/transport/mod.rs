//! Getting bytes to the daemon: one connector for every kind of host, behind
//! one pooled hyper-util client per [`crate::Docker`].
//!
//! Connections are kept alive and reused. A request that finds its pooled
//! connection already closed by the daemon is retried on a new one: by
//! hyper-util when nothing of it was sent, and here when it was sent but the
//! connection closed (or was reset) before any response came back — the
//! daemon closed an idle connection just as the request went out. That
//! second kind of retry is only for requests that are safe to send twice
//! (GET and HEAD without a body) and only when the connection had already
//! carried a response (a fresh connection that fails says something about
//! the daemon, not about a stale pool). There is a connect timeout and an
//! optional response-header timeout, never a timeout on reading a body: logs
//! and events may run for hours.
//!
//! One file per job: `body` (request bodies), `response` (response bodies
//! and the inline driver of a streaming connection), `replay` (when a request
//! is sent again), `connector` (where the daemon is and how to open a
//! connection), `io` (the IO adapter hyper sees), `tls`, `ssh`, `npipe`; this
//! file holds the transport itself (the pool and the two send paths).

mod body;
mod connector;
mod io;
mod npipe;
mod replay;
mod response;
mod ssh;
mod tls;

pub use body::{empty_body, full_body, RequestBody};
pub use npipe::open_with_busy_retry;
pub(crate) use response::ResponseBody;

use crate::config::{Config, Host};
use crate::{Error, Result};
use connector::{authority, connect, ConnectFailure, Connector, Target};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use replay::{replayable, stale_pooled_connection, ConnectionUse, MAX_REPLAYS};
use response::ConnectionFuture;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

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
    /// Where streaming requests get connections of their own.
    target: Arc<Target>,
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
        let target = Arc::new(target);
        let connector = Connector {
            target: target.clone(),
            connect_timeout: options.connect_timeout,
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(32)
            .build(connector);
        Ok(Transport {
            client,
            target,
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
        // What it takes to send the request again (GET/HEAD without a body).
        let replay = replayable(&req).then(|| {
            (
                req.method().clone(),
                req.uri().clone(),
                req.version(),
                req.headers().clone(),
            )
        });
        let mut replays = 0;
        loop {
            let fut = self.client.request(req);
            let result = match self.options.response_header_timeout {
                Some(limit) => {
                    tokio::time::timeout(limit, fut)
                        .await
                        .map_err(|_| Error::Timeout {
                            during: "waiting for response headers",
                            after: limit,
                        })?
                }
                None => fut.await,
            };
            match result {
                Ok(resp) => {
                    if let Some(used) = resp.extensions().get::<ConnectionUse>() {
                        used.0.store(true, Ordering::Relaxed);
                    }
                    return Ok(resp);
                }
                Err(e) => match &replay {
                    Some((method, uri, version, headers))
                        if replays < MAX_REPLAYS && stale_pooled_connection(&e) =>
                    {
                        replays += 1;
                        tracing::debug!(%uri, error = %e, "pooled connection was closed; sending again on a new one");
                        let mut again = http::Request::new(empty_body());
                        *again.method_mut() = method.clone();
                        *again.uri_mut() = uri.clone();
                        *again.version_mut() = *version;
                        *again.headers_mut() = headers.clone();
                        req = again;
                    }
                    _ => return Err(self.map_error(e)),
                },
            }
        }
    }

    /// Sends a request whose answer is a stream (logs, events, progress,
    /// archives) on a connection of its own, which is then read by whoever
    /// reads the body, in that task ([`ResponseBody`]).
    ///
    /// Through the pool, a body is handed over from the connection's task to
    /// the reader's task one HTTP chunk at a time, and the daemon writes a
    /// chunk per log line or progress message: on a multi-thread runtime the
    /// two tasks end up on different threads and every line costs a
    /// cross-thread wake-up (200,000 short log lines took 4 s where curl
    /// takes 0.9 s). Read inline, they cost what curl pays. Connections
    /// through ssh (a process each) and named pipes stay pooled.
    pub(crate) async fn send_streaming(
        &self,
        mut req: http::Request<RequestBody>,
    ) -> Result<http::Response<ResponseBody>> {
        if matches!(*self.target, Target::Ssh { .. } | Target::Npipe(_)) {
            return Ok(self.send(req).await?.map(ResponseBody::pooled));
        }
        let path = req
            .uri()
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/"));
        *req.uri_mut() = http::Uri::from(path);
        let host = http::HeaderValue::from_str(self.authority.as_str())
            .map_err(|_| Error::config(format!("{}: not a valid Host", self.display)))?;
        req.headers_mut().insert(http::header::HOST, host);
        let limit = self.options.connect_timeout;
        let io = match tokio::time::timeout(limit, connect(&self.target)).await {
            Err(_) => {
                return Err(Error::Timeout {
                    during: "connecting",
                    after: limit,
                })
            }
            Ok(Err(e)) => {
                return Err(Error::Connect {
                    host: self.display.clone(),
                    source: e,
                })
            }
            Ok(Ok(io)) => io,
        };
        let connect_error = |e: hyper::Error| Error::Connect {
            host: self.display.clone(),
            source: Box::new(e),
        };
        let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(connect_error)?;
        let mut conn: ConnectionFuture = Box::pin(conn);
        let mut conn_done = false;
        let mut response = std::pin::pin!(sender.send_request(req));
        // Drive the connection and wait for the response head, in this task.
        let head = std::future::poll_fn(|cx| {
            if !conn_done && conn.as_mut().poll(cx).is_ready() {
                conn_done = true;
            }
            response.as_mut().poll(cx)
        });
        let resp = match self.options.response_header_timeout {
            Some(limit) => tokio::time::timeout(limit, head)
                .await
                .map_err(|_| Error::Timeout {
                    during: "waiting for response headers",
                    after: limit,
                })?,
            None => head.await,
        }
        .map_err(connect_error)?;
        Ok(resp.map(|body| ResponseBody::inline(body, (!conn_done).then_some(conn), sender)))
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

#[cfg(all(test, unix))]
mod tests;
