//! Getting bytes to the daemon: one way to connect to every kind of host,
//! and kept-alive HTTP/1 connections (hyper's connection API), pooled per
//! Tokio runtime the [`crate::Docker`] is used from (`pool`, `idle`).
//!
//! **Why not hyper-util's pooled client.** It was the pool until issue 15:
//! per request it cost some 9,000 instructions (checkout, pool keys hashed,
//! connection extras copied into each response, a task spawned to give the
//! connection back) where a kept `SendRequest` costs a few hundred, and it
//! could not keep the connections streams are read on. A connection comes
//! back to its runtime's idle list when its response body has been read to
//! the end; the replay policy below needs only how many bytes a connection
//! carried (`replay`).
//!
//! **Runtimes.** A pooled connection is driven by a task of the runtime that
//! opened it and dies with it; each runtime gets a pool of its own, which
//! goes away when the runtime does, so one client can be shared by any
//! number of runtimes (a `static` client in tests, each `#[tokio::test]` on
//! a runtime of its own) for its whole life. A stream or an attached
//! connection (logs, events, attach, exec) belongs to the runtime that
//! opened it: read it there, or open it again from the other runtime.
//!
//! **Sending again.** A request that never reached the daemon (its pooled
//! connection was closed, or its connection task died, before any byte of
//! it was written) is sent again on another connection whatever its method,
//! as long as its body is small enough to have been kept (`replay`). One
//! that was written and lost its connection before an answer is sent again
//! only when that is harmless: GET or HEAD without a body, on a kept-alive
//! connection that had already answered (the daemon closed an idle
//! connection as the request went out).
//!
//! **Failures by stage** ([`crate::Error`]): no connection (`Connect`, or
//! `Timeout` while connecting), connected but nothing sent (`NotSent`), sent
//! with the outcome unknown (`Interrupted`), an answer that is not HTTP
//! (`Protocol`).
//!
//! **Limits**, one policy for everything held in memory whole or waited on:
//! - a buffered response body (everything that is not a stream: inspect,
//!   list, info…) is capped (`max_response_body`, default 256 MiB, enough for
//!   a list of 50,000 containers): `Error::ResponseTooLarge` names the
//!   operation and the cap. Streams are never buffered whole; what they hold
//!   at once is capped per unit instead: one JSON message 16 MiB
//!   (`stream::json`), one stdcopy frame 64 MiB (`stream::stdcopy`), one TTY
//!   log line with timestamps 1 MiB (`stream::timestamps`); an error body is
//!   read up to 64 KiB.
//! - the response-header timeout (default 60 s) and the optional
//!   whole-request deadline apply to operations that answer at once
//!   ([`answers_at_once`]); never to streams (logs, events, stats, pull,
//!   push, build, load, save, export, archives), connection upgrades
//!   (attach, exec start, session), uploads, nor to operations that wait for
//!   something to happen (`wait`, `stop`/`restart`/`kill`, prunes, commit,
//!   swarm init/join/leave, plugin installs, removing a container or a
//!   volume…).
//! - the connect timeout (default 30 s) applies to every connection, and is
//!   handed to ssh as its `ConnectTimeout` (with `BatchMode=yes`, so ssh
//!   fails instead of waiting for a password).
//!
//! One file per job: `body` (request bodies), `response` (response bodies,
//! the inline driver of a streaming connection, capped collection), `idle`
//! (kept-alive connections of streaming requests), `replay`
//! (how far a failed request got, when it is sent again), `pool` (one pool
//! per runtime), `connector` (where the daemon is and how to open a
//! connection), `io` (the IO adapter hyper sees), `tls`, `ssh`, `npipe`; this
//! file holds the transport itself (the two send paths and error mapping).

mod body;
mod connector;
mod idle;
mod io;
mod npipe;
mod pool;
mod replay;
mod response;
#[cfg(feature = "ssh")]
mod ssh;
#[cfg(feature = "tls")]
mod tls;

pub use body::{empty_body, full_body, RequestBody};
pub use npipe::open_with_busy_retry;
pub(crate) use response::{collect, ResponseBody};

use crate::config::{Config, Host};
use crate::operation_support::{BodyKind, Operation, ResponseKind};
use crate::{Error, Result};
use bytes::Bytes;
use connector::{authority, connect, Target};
use http_body_util::BodyExt;
use idle::IdleConn;
use replay::{idempotent, idempotent_without_body, ConnectionUse, Stage, MAX_REPLAYS};
use response::ConnectionFuture;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::time::Instant;

/// Timeouts and limits of a transport (see the module docs for the policy).
#[derive(Debug, Clone, Copy)]
pub struct TransportOptions {
    /// How long opening a connection (and a TLS handshake) may take.
    pub connect_timeout: Duration,
    /// How long to wait for a response's headers, for operations that answer
    /// at once ([`answers_at_once`]); `None` waits as long as the daemon takes.
    pub response_header_timeout: Option<Duration>,
    /// A deadline for the whole of a request that answers at once:
    /// connecting, sending, the headers and reading the body.
    pub request_timeout: Option<Duration>,
    /// The most a buffered (non-streaming) response body may hold, in bytes.
    pub max_response_body: usize,
}

impl TransportOptions {
    /// The default connect timeout.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default response-header timeout for operations that answer at once.
    pub const DEFAULT_RESPONSE_HEADER_TIMEOUT: Duration = Duration::from_secs(60);
    /// The default cap of a buffered response body: 256 MiB (a list of
    /// 50,000 containers with labels, mounts and networks is ~100 MiB).
    pub const DEFAULT_MAX_RESPONSE_BODY: usize = 256 << 20;
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            response_header_timeout: Some(Self::DEFAULT_RESPONSE_HEADER_TIMEOUT),
            request_timeout: None,
            max_response_body: Self::DEFAULT_MAX_RESPONSE_BODY,
        }
    }
}

/// Operations that answer only once something has happened, however long
/// that takes: never cut by the header timeout or the request deadline.
/// (A `match`, which compiles to a comparison of lengths first, where a
/// list is compared entry by entry, on every request.)
fn waits_for_something(id: &str) -> bool {
    matches!(
        id,
        "ContainerWait"
            | "ContainerStop"
            | "ContainerRestart"
            | "ContainerKill"
            | "ContainerChanges"
            // Removing a container's or a volume's files may take minutes.
            | "ContainerDelete"
            | "VolumeDelete"
            | "ContainerPrune"
            | "ImagePrune"
            | "NetworkPrune"
            | "VolumePrune"
            | "BuildPrune"
            | "SystemDataUsage"
            | "ImageCommit"
            | "ImageDelete"
            | "ImageSearch"
            | "SwarmInit"
            | "SwarmJoin"
            | "SwarmLeave"
            | "SwarmUpdate"
            | "PluginPull"
            | "PluginUpgrade"
            | "PluginPush"
            | "PluginCreate"
            | "PluginEnable"
            | "PluginDisable"
            | "Session"
    )
}

/// Whether `op` answers at once, so that a response-header timeout and a
/// request deadline may apply: not a stream, an archive or an upgrade (by
/// its response kind), not an upload (its body is bytes: the daemon answers
/// once it has read them all), not an operation that waits for something to
/// happen (`ContainerWait`, `ContainerStop`/`Restart`/`Kill` with their
/// grace period, prunes, commit, swarm and plugin changes, `Session`).
pub fn answers_at_once(op: &Operation) -> bool {
    let streams = matches!(
        op.response,
        ResponseKind::JsonStream { .. }
            | ResponseKind::Multiplexed
            | ResponseKind::Binary { .. }
            | ResponseKind::Hijack
            | ResponseKind::Websocket
    );
    let uploads = matches!(op.body, BodyKind::Bytes { .. });
    !streams && !uploads && !waits_for_something(op.id)
}

/// The operation a request performs, given to [`Transport::send`] or set as a
/// request extension (raw requests): its id names it in errors, and
/// [`answers_at_once`] decides which timeouts apply. A request without one
/// is treated as one that answers at once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ForOperation(pub(crate) &'static Operation);

/// What one exchange may take, decided before it is sent.
#[derive(Debug, Clone, Copy)]
struct Exchange {
    operation: &'static str,
    idempotent: bool,
    header_timeout: Option<Duration>,
    /// When the whole request must be done.
    deadline: Option<response::Deadline>,
}

/// The `Host` header sent over sockets, pipes and ssh, as the docker CLI does.
const LOCAL_AUTHORITY: &str = "api.moby.localhost";

/// The kept-alive connections to one daemon.
pub(crate) struct Transport {
    pools: pool::Pools,
    /// Where the daemon is.
    target: Target,
    /// The `Host` header of every request.
    host_header: http::HeaderValue,
    /// The client's `User-Agent` and own headers (`DockerBuilder::header`).
    user_agent: Option<http::HeaderValue>,
    extra_headers: http::HeaderMap,
    /// What a request that brings no header of its own is sent with:
    /// `User-Agent`, the client's own headers, `Host`, made once (a clone
    /// of it is cheaper than inserting each, and a replay clones it again
    /// instead of keeping a copy of every request's headers).
    common_headers: http::HeaderMap,
    display: String,
    options: TransportOptions,
    ssh_stderr: Option<Arc<std::sync::Mutex<String>>>,
}

impl Transport {
    /// Sets up the connector for `config`. Nothing connects yet.
    pub(crate) fn new(config: &Config, options: TransportOptions) -> Result<Self> {
        let display = config.host.to_string();
        #[cfg_attr(not(feature = "ssh"), allow(unused_mut))]
        let mut ssh_stderr = None;
        let (target, authority) = match &config.host {
            Host::Unix(path) => (Target::Unix(path.clone()), LOCAL_AUTHORITY.to_owned()),
            Host::Npipe(path) => (Target::Npipe(path.clone()), LOCAL_AUTHORITY.to_owned()),
            #[cfg(not(feature = "ssh"))]
            Host::Ssh { .. } => {
                return Err(Error::config(format!(
                    "{display}: this dockhand was built without the `ssh` feature"
                )))
            }
            #[cfg(feature = "ssh")]
            Host::Ssh { user, host, port } => {
                let stderr = Arc::new(std::sync::Mutex::new(String::new()));
                ssh_stderr = Some(stderr.clone());
                (
                    Target::Ssh {
                        argv: ssh::argv(user.as_deref(), host, *port, options.connect_timeout),
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
                    #[cfg(feature = "tls")]
                    Some(tls_cfg) => Target::Tls {
                        host: host.clone(),
                        port: *port,
                        config: Arc::new(tls::client_config(tls_cfg)?),
                    },
                    #[cfg(not(feature = "tls"))]
                    Some(_) => {
                        return Err(Error::config(format!(
                            "{display}: TLS is configured, but this dockhand was built without the `tls` feature"
                        )))
                    }
                    // Verified against the system's roots.
                    #[cfg(feature = "tls")]
                    None if matches!(config.host, Host::Https { .. }) => Target::Tls {
                        host: host.clone(),
                        port: *port,
                        config: Arc::new(tls::client_config(&crate::config::TlsConfig {
                            ca: None,
                            cert: None,
                            key: None,
                            verify: true,
                        })?),
                    },
                    #[cfg(not(feature = "tls"))]
                    None if matches!(config.host, Host::Https { .. }) => {
                        return Err(Error::config(format!(
                            "{display}: https needs the `tls` feature, which this dockhand was built without"
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
        let _: http::uri::Authority = authority
            .parse()
            .map_err(|_| Error::config(format!("{display}: not a valid HTTP authority")))?;
        let host_header = http::HeaderValue::from_str(&authority)
            .map_err(|_| Error::config(format!("{display}: not a valid Host")))?;
        let mut common_headers = http::HeaderMap::new();
        common_headers.insert(http::header::HOST, host_header.clone());
        Ok(Transport {
            pools: pool::Pools::default(),
            target,
            host_header,
            user_agent: None,
            extra_headers: http::HeaderMap::new(),
            common_headers,
            display,
            options,
            ssh_stderr,
        })
    }

    /// Sets the headers every request carries: `user_agent` (replacing one
    /// the request brings) and `extra` (appended), besides `Host` (unless the
    /// request brings its own).
    pub(crate) fn with_common_headers(
        mut self,
        user_agent: http::HeaderValue,
        extra: http::HeaderMap,
    ) -> Self {
        let mut common = http::HeaderMap::with_capacity(2 + extra.len());
        common.insert(http::header::USER_AGENT, user_agent.clone());
        for (name, value) in &extra {
            common.append(name.clone(), value.clone());
        }
        // A `Host` of the client's own headers stands (as it does when the
        // request brings headers of its own: see `prepare`).
        common
            .entry(http::header::HOST)
            .or_insert_with(|| self.host_header.clone());
        self.user_agent = Some(user_agent);
        self.extra_headers = extra;
        self.common_headers = common;
        self
    }

    /// The daemon address, for messages.
    pub(crate) fn host_display(&self) -> &str {
        &self.display
    }

    /// The limits of one exchange of `req`, which performs `op` (or the
    /// operation of its [`ForOperation`] extension).
    fn exchange(
        &self,
        req: &http::Request<RequestBody>,
        op: Option<&'static Operation>,
        streaming: bool,
    ) -> Exchange {
        let op = op.or_else(|| req.extensions().get::<ForOperation>().map(|o| o.0));
        let at_once = !streaming && op.is_none_or(answers_at_once);
        Exchange {
            operation: op.map_or("request", |o| o.id),
            idempotent: idempotent(req.method()),
            header_timeout: self.options.response_header_timeout.filter(|_| at_once),
            deadline: self
                .options
                .request_timeout
                .filter(|_| at_once)
                .map(|limit| response::Deadline {
                    at: Instant::now() + limit,
                    limit,
                    retryable: idempotent(req.method()),
                }),
        }
    }

    /// Sends a request whose URI is a path and query (`/v1.41/info`) on a
    /// kept-alive connection of the current runtime, driven by a task of its
    /// own (which reads the body). Upgrades (attach, exec) come this way too.
    #[cfg(all(test, unix))]
    pub(crate) async fn send(
        &self,
        req: http::Request<RequestBody>,
    ) -> Result<http::Response<ResponseBody>> {
        self.send_for(req, None, false).await
    }

    /// Sends `req`, which performs `op` (else the operation of its
    /// [`ForOperation`] extension, if any): as [`Transport::send_streaming`]
    /// when `streaming`, else as [`Transport::send`].
    pub(crate) fn send_for(
        &self,
        req: http::Request<RequestBody>,
        op: Option<&'static Operation>,
        streaming: bool,
    ) -> impl Future<Output = Result<http::Response<ResponseBody>>> + Send + '_ {
        let x = self.exchange(&req, op, streaming);
        // (A streaming exchange has no deadline.) Boxed here, once: the
        // exchange's future is the largest part of every operation's future,
        // and each layer above (the deadline, the client's) would move it.
        Within::new(x, Box::pin(self.send_on(req, x, streaming)))
    }

    /// Sends a request whose answer is a stream (logs, events, progress,
    /// archives) on a connection read by whoever reads the body, in that
    /// task ([`ResponseBody`]).
    ///
    /// Through a connection task, a body is handed over from that task to
    /// the reader's task one HTTP chunk at a time, and the daemon writes a
    /// chunk per log line or progress message: on a multi-thread runtime the
    /// two tasks end up on different threads and every line costs a
    /// cross-thread wake-up (200,000 short log lines took 4 s where curl
    /// takes 0.9 s). Read inline, they cost what curl pays. A body read to
    /// its end leaves its connection for the next streaming request
    /// (`idle`), so a TLS handshake or an ssh process is not paid per
    /// stream.
    #[cfg(all(test, unix))]
    pub(crate) async fn send_streaming(
        &self,
        req: http::Request<RequestBody>,
    ) -> Result<http::Response<ResponseBody>> {
        self.send_for(req, None, true).await
    }

    /// Sends `req`, again on another connection when that is harmless (see
    /// the module docs); `inline`: a streaming request.
    ///
    /// The future is moved once, into its box ([`Transport::send_for`]), and
    /// its size is what that costs (and, below 1 KiB, the allocator serves
    /// it from its per-thread cache): one `async` block for every attempt
    /// (no attempt's future nested in the whole's, each holding the
    /// request), whose captures are not copied again into locals as an
    /// `async fn`'s arguments are, and one place for the connection in use.
    fn send_on(
        &self,
        req: http::Request<RequestBody>,
        x: Exchange,
        inline: bool,
    ) -> impl Future<Output = Result<http::Response<ResponseBody>>> + Send + '_ {
        // The request to send next: this one first (unless its body must be
        // read first), then copies.
        let mut next = Some(req);
        let (common, may_repeat_sent) = match &mut next {
            Some(req) => self.prepare(req),
            None => (true, false),
        };
        async move {
            let pool = self.pools.current()?;
            let mut again = if Replay::must_read(next.as_ref()) {
                // Boxed: a body to read first is the less common case.
                let (again, first) = Box::pin(Replay::read(next.take(), common)).await?;
                next = Some(first);
                again
            } else {
                Replay::keep(&mut next, common)
            };
            let mut replays = 0;
            let list = if inline {
                &pool.streams
            } else {
                &pool.requests
            };
            // A kept connection first; after a failure, a new one.
            let mut reuse = true;
            loop {
                let e = 'attempt: {
                    let mut c: Option<IdleConn> = None;
                    if reuse {
                        loop {
                            c = list.take();
                            let Some(k) = &mut c else { break };
                            // A connection driven by its task: wait for it to
                            // be back to idle (it may not have got there since
                            // its last body ended).
                            if k.conn.is_some() || k.sender.ready().await.is_ok() {
                                break;
                            }
                        }
                    }
                    let mut c = match c {
                        Some(c) => c,
                        None => {
                            // Boxed: connecting is rare, and its future (a
                            // TLS handshake, an ssh process) would make every
                            // request's future larger, and slower to move.
                            match Box::pin(self.open(x, !inline)).await {
                                Ok((sender, conn, used)) if inline => {
                                    IdleConn::new(sender, Some(conn), used, None)
                                }
                                Ok((sender, conn, used)) => {
                                    tokio::spawn(conn);
                                    IdleConn::new(sender, None, used, None)
                                }
                                Err(e) => break 'attempt e,
                            }
                        }
                    };
                    let req = match next.take() {
                        Some(req) => req,
                        None => again.next(&self.common_headers),
                    };
                    let response = c.sender.send_request(req);
                    let mut response = std::pin::pin!(response);
                    let mut conn_done = false;
                    // The header timeout, when there is one, armed on the
                    // first poll that finds no answer yet: the connection's
                    // timer, kept with it from one request to the next, set
                    // to a later deadline (which tokio does without taking
                    // its timer wheel's lock, where making and dropping a
                    // timer per request takes it twice), else a new one.
                    let mut armed = false;
                    let resp = std::future::poll_fn(|cx| {
                        // A streaming request's connection is driven here, in
                        // this task.
                        if let Some(conn) = &mut c.conn {
                            if !conn_done && conn.as_mut().poll(cx).is_ready() {
                                conn_done = true;
                            }
                        }
                        if let Poll::Ready(r) = response.as_mut().poll(cx) {
                            return Poll::Ready(Ok(r));
                        }
                        let Some(limit) = x.header_timeout else {
                            return Poll::Pending;
                        };
                        let t = match &mut c.timer {
                            Some(t) if armed => t,
                            Some(t) => {
                                t.as_mut().reset(Instant::now() + limit);
                                armed = true;
                                t
                            }
                            None => {
                                armed = true;
                                c.timer.insert(Box::pin(tokio::time::sleep(limit)))
                            }
                        };
                        if t.as_mut().poll(cx).is_ready() {
                            Poll::Ready(Err(limit))
                        } else {
                            Poll::Pending
                        }
                    })
                    .await;
                    let resp = match resp {
                        Ok(Ok(resp)) => resp,
                        Ok(Err(e)) => {
                            let stage = replay::stage_of(&e, Some(&c.used), self.ssh_said());
                            break 'attempt (stage, self.stage_error(stage, Box::new(e), x));
                        }
                        Err(limit) => {
                            let stage = Stage::SentOutcomeUnknown { stale: false };
                            break 'attempt (stage, header_timeout(x, limit));
                        }
                    };
                    c.used.answered();
                    if conn_done {
                        c.conn = None;
                    }
                    return Ok(self.kept_response(resp, &pool, x, inline, c, conn_done));
                };
                let repeat = match e.0 {
                    Stage::NotSent => again.possible(),
                    Stage::SentOutcomeUnknown { stale: true } => {
                        may_repeat_sent && again.possible()
                    }
                    _ => false,
                };
                if repeat && replays < MAX_REPLAYS {
                    replays += 1;
                    reuse = false;
                    tracing::debug!(operation = x.operation, stage = ?e.0, error = %e.1, "sending again on another connection");
                    continue;
                }
                return Err(e.1);
            }
        }
    }

    /// Gives `req` the common headers, and a URI that is a path and query;
    /// whether its headers are the common ones alone, and whether sending it
    /// twice is harmless.
    fn prepare(&self, req: &mut http::Request<RequestBody>) -> (bool, bool) {
        if req.uri().scheme().is_some() {
            let path = req
                .uri()
                .path_and_query()
                .cloned()
                .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/"));
            *req.uri_mut() = http::Uri::from(path);
        }
        // The common headers: a clone of the set made once when the request
        // brings none (most do not), else added to its own.
        let common = req.headers().is_empty();
        if common {
            *req.headers_mut() = self.common_headers.clone();
        } else {
            let h = req.headers_mut();
            if let Some(ua) = &self.user_agent {
                h.insert(http::header::USER_AGENT, ua.clone());
            }
            for (name, value) in &self.extra_headers {
                h.append(name.clone(), value.clone());
            }
            // (A raw request may bring its own.)
            h.entry(http::header::HOST)
                .or_insert_with(|| self.host_header.clone());
        }
        let may_repeat_sent = idempotent_without_body(req);
        (common, may_repeat_sent)
    }

    /// The response of a request on the connection `c`, its body holding
    /// what it needs to give the connection back once read to its end
    /// (`conn_ended`: a streaming request's connection that has ended).
    fn kept_response(
        &self,
        resp: http::Response<hyper::body::Incoming>,
        pool: &pool::RuntimePool,
        x: Exchange,
        inline: bool,
        c: IdleConn,
        conn_ended: bool,
    ) -> http::Response<ResponseBody> {
        // An upgraded connection is not HTTP any more.
        let home = if resp.status() == http::StatusCode::SWITCHING_PROTOCOLS {
            std::sync::Weak::new()
        } else if inline {
            Arc::downgrade(&pool.streams)
        } else {
            Arc::downgrade(&pool.requests)
        };
        let keep = response::Keep {
            sender: std::sync::Mutex::new(c.sender),
            used: c.used,
            home,
            timer: c.timer.map(std::sync::Mutex::new),
        };
        if inline {
            let conn = if conn_ended { None } else { c.conn };
            resp.map(|body| ResponseBody::inline(body, conn, keep))
        } else {
            let (limit, deadline) = (self.options.max_response_body, x.deadline);
            resp.map(|body| ResponseBody::pooled(body, Some(keep), limit, deadline))
        }
    }

    /// A new connection: connected, the HTTP/1 handshake done; its
    /// connection future (`upgrades`: able to hand over the connection on a
    /// 101) is for the caller to drive.
    async fn open(
        &self,
        x: Exchange,
        upgrades: bool,
    ) -> std::result::Result<
        (
            hyper::client::conn::http1::SendRequest<RequestBody>,
            ConnectionFuture,
            ConnectionUse,
        ),
        (Stage, Error),
    > {
        let limit = self.options.connect_timeout;
        let io = match tokio::time::timeout(limit, connect(&self.target)).await {
            Err(_) => return Err((Stage::NotConnected, connect_timeout(limit))),
            Ok(Err(e)) => {
                return Err((
                    Stage::NotConnected,
                    Error::Connect {
                        host: self.display.clone(),
                        source: e,
                    },
                ))
            }
            Ok(Ok(io)) => io,
        };
        let used = io.use_tracker();
        let (sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| {
                let stage = replay::stage_of(&e, Some(&used), self.ssh_said());
                (stage, self.stage_error(stage, Box::new(e), x))
            })?;
        let conn: ConnectionFuture = if upgrades {
            Box::pin(conn.with_upgrades())
        } else {
            Box::pin(conn)
        };
        Ok((sender, conn, used))
    }

    /// Whether the ssh child (of an ssh host) wrote something on its stderr.
    fn ssh_said(&self) -> bool {
        self.ssh_stderr
            .as_ref()
            .is_some_and(|s| s.lock().map(|t| !t.trim().is_empty()).unwrap_or(false))
    }

    /// The error for a failure at `stage`.
    fn stage_error(&self, stage: Stage, source: crate::error::BoxError, x: Exchange) -> Error {
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
        match stage {
            Stage::NotConnected => Error::Connect { host, source },
            Stage::LocalBody => Error::Io {
                context: format!("{}: reading the request body to send", x.operation),
                source: std::io::Error::other(source),
            },
            Stage::NotSent => Error::NotSent {
                operation: x.operation,
                host,
                source,
            },
            Stage::SentOutcomeUnknown { .. } => Error::Interrupted {
                operation: x.operation,
                host,
                idempotent: x.idempotent,
                source,
            },
            Stage::Garbage => Error::Protocol {
                message: format!(
                    "{}: {host} answered something that is not HTTP",
                    x.operation
                ),
                source: Some(source),
            },
        }
    }
}

pin_project_lite::pin_project! {
    /// `fut` within the exchange's deadline, if it has one (a future of its
    /// own rather than an `async fn`, which would hold `fut` twice).
    struct Within<F> {
        #[pin]
        fut: F,
        // Boxed: a deadline is rare (opt-in), and a timer would make every
        // request's future larger.
        timer: Option<(Pin<Box<tokio::time::Sleep>>, response::Deadline)>,
    }
}

impl<F> Within<F> {
    fn new(x: Exchange, fut: F) -> Self {
        Within {
            fut,
            timer: x
                .deadline
                .map(|d| (Box::pin(tokio::time::sleep_until(d.at)), d)),
        }
    }
}

impl<T, F: Future<Output = Result<T>>> Future for Within<F> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Result<T>> {
        let this = self.project();
        if let Poll::Ready(r) = this.fut.poll(cx) {
            return Poll::Ready(r);
        }
        if let Some((sleep, d)) = this.timer {
            if sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(Error::Timeout {
                    during: "waiting for the response",
                    after: d.limit,
                    retryable: d.retryable,
                }));
            }
        }
        Poll::Pending
    }
}

fn connect_timeout(limit: Duration) -> Error {
    Error::Timeout {
        during: "connecting",
        after: limit,
        retryable: true,
    }
}

fn header_timeout(x: Exchange, limit: Duration) -> Error {
    Error::Timeout {
        during: "waiting for response headers",
        after: limit,
        retryable: x.idempotent,
    }
}

/// What is kept of a request so that it can be sent again: its method, URI
/// and headers (`None`: the transport's common headers, cloned again when
/// needed rather than copied for every request), and its body when that is
/// small and already in memory (a JSON document; not a streamed archive).
/// The first attempt sends the request itself.
struct Replay {
    method: http::Method,
    uri: http::Uri,
    version: http::Version,
    // Boxed: most requests have the common headers, and this is moved
    // with every request's future.
    headers: Option<Box<http::HeaderMap>>,
    body: Option<Bytes>,
}

impl Replay {
    /// Whether the body of `req` must be read before it is sent, to be kept
    /// for sending again ([`Replay::read`]): small, but not empty.
    fn must_read(req: Option<&http::Request<RequestBody>>) -> bool {
        use hyper::body::Body as _;
        let size = req.and_then(|r| r.body().size_hint().exact());
        size.is_some_and(|n| n > 0 && n <= replay::REPLAY_BODY_LIMIT)
    }

    /// What to keep of the request in `req` (whose headers are the common
    /// ones when `common`), which stays there to be sent first (with its
    /// body's errors marked as local when the body is not kept).
    fn keep(req: &mut Option<http::Request<RequestBody>>, common: bool) -> Replay {
        use hyper::body::Body as _;
        let Some(r) = req.as_ref() else {
            return Replay {
                method: http::Method::GET,
                uri: http::Uri::default(),
                version: http::Version::default(),
                headers: None,
                body: None,
            };
        };
        let empty = r.body().size_hint().exact() == Some(0);
        let again = Replay {
            method: r.method().clone(),
            uri: r.uri().clone(),
            version: r.version(),
            headers: (!common).then(|| Box::new(r.headers().clone())),
            // An empty body is sent again as empty; a larger or streamed one
            // is sent once: nothing of it is kept.
            body: empty.then(Bytes::new),
        };
        if !empty {
            *req = req.take().map(|r| r.map(body::marked));
        }
        again
    }

    /// What to keep of a request with a small body, read into memory, and
    /// the request to send first.
    async fn read(
        req: Option<http::Request<RequestBody>>,
        common: bool,
    ) -> Result<(Replay, http::Request<RequestBody>)> {
        let (head, body) = req
            .ok_or_else(|| Error::protocol("no request to send"))?
            .into_parts();
        let bytes = body
            .collect()
            .await
            .map_err(|e| Error::InvalidArgument {
                name: "body",
                message: format!("reading the request body failed: {e}"),
            })?
            .to_bytes();
        let req = http::Request::from_parts(head, full_body(bytes.clone()));
        let again = Replay {
            method: req.method().clone(),
            uri: req.uri().clone(),
            version: req.version(),
            headers: (!common).then(|| Box::new(req.headers().clone())),
            body: Some(bytes),
        };
        Ok((again, req))
    }

    /// Whether the request can be sent again.
    fn possible(&self) -> bool {
        self.body.is_some()
    }

    /// The request, to send once more (`common`: the transport's common
    /// headers).
    fn next(&mut self, common: &http::HeaderMap) -> http::Request<RequestBody> {
        let body = match &self.body {
            Some(b) if !b.is_empty() => full_body(b.clone()),
            _ => empty_body(),
        };
        let mut req = http::Request::new(body);
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.uri.clone();
        *req.version_mut() = self.version;
        *req.headers_mut() = self.headers.as_deref().unwrap_or(common).clone();
        // Extensions are the client's notes (the operation), not sent.
        req
    }
}

#[cfg(all(test, unix))]
mod tests;
