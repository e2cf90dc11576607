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
use std::sync::atomic::{AtomicBool, Ordering};
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

type ConnectionFuture = Pin<Box<dyn Future<Output = hyper::Result<()>> + Send>>;

/// A response body. Through the pool it is hyper's body, fed by the
/// connection's own task; from [`Transport::send_streaming`] it also owns its
/// connection and drives it when polled, so the bytes are read in the task
/// that reads the body, with no hand-over between tasks. Dropping it closes
/// the connection (which cancels the request on the daemon's side).
pub(crate) struct ResponseBody {
    body: Incoming,
    inline: Option<Inline>,
}

/// The connection a streaming body drives itself.
struct Inline {
    // `Mutex` only to stay `Sync`; only ever reached through `&mut`.
    conn: Option<std::sync::Mutex<ConnectionFuture>>,
    _sender: std::sync::Mutex<hyper::client::conn::http1::SendRequest<RequestBody>>,
    wake: Arc<InlineWake>,
    waker: std::task::Waker,
}

/// The waker the connection and the body are polled with. Wake-ups that
/// happen while the body is being polled (the body asking the connection
/// for more, the connection handing over a chunk) are only noted: the poll
/// loop goes round again instead of scheduling the task anew, which on a
/// multi-thread runtime would wake another worker for every chunk. Wake-ups
/// from outside (the socket became readable) wake the task.
#[derive(Default)]
struct InlineWake {
    inside: AtomicBool,
    woken: AtomicBool,
    task: std::sync::Mutex<Option<std::task::Waker>>,
}

impl std::task::Wake for InlineWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
        if !self.inside.load(Ordering::SeqCst) {
            let task = self.task.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(w) = task.as_ref() {
                w.wake_by_ref();
            }
        }
    }
}

/// How often one poll of a streaming body goes round before yielding.
const INLINE_ROUNDS: usize = 32;

impl ResponseBody {
    /// A body read by its pooled connection's task.
    pub(crate) fn pooled(body: Incoming) -> Self {
        ResponseBody { body, inline: None }
    }

    fn inline(
        body: Incoming,
        conn: Option<ConnectionFuture>,
        sender: hyper::client::conn::http1::SendRequest<RequestBody>,
    ) -> Self {
        let wake = Arc::new(InlineWake::default());
        ResponseBody {
            body,
            inline: Some(Inline {
                conn: conn.map(std::sync::Mutex::new),
                _sender: std::sync::Mutex::new(sender),
                waker: std::task::Waker::from(wake.clone()),
                wake,
            }),
        }
    }
}

impl hyper::body::Body for ResponseBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<hyper::body::Frame<Bytes>, hyper::Error>>> {
        let this = &mut *self;
        let Some(inline) = &mut this.inline else {
            return Pin::new(&mut this.body).poll_frame(cx);
        };
        {
            let mut task = inline.wake.task.lock().unwrap_or_else(|e| e.into_inner());
            if !task.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *task = Some(cx.waker().clone());
            }
        }
        let mut icx = Context::from_waker(&inline.waker);
        for _ in 0..INLINE_ROUNDS {
            inline.wake.woken.store(false, Ordering::SeqCst);
            inline.wake.inside.store(true, Ordering::SeqCst);
            // The body first: taking a chunk, or asking the connection for one.
            let mut frame = Pin::new(&mut this.body).poll_frame(&mut icx);
            if frame.is_pending() {
                if let Some(conn) = &mut inline.conn {
                    let conn = conn.get_mut().unwrap_or_else(|e| e.into_inner());
                    // Reads the socket and hands the next chunk over. Once
                    // the connection ends (or fails, which the body then
                    // reports), it is not polled again.
                    if conn.as_mut().poll(&mut icx).is_ready() {
                        inline.conn = None;
                    }
                    frame = Pin::new(&mut this.body).poll_frame(&mut icx);
                }
            }
            inline.wake.inside.store(false, Ordering::SeqCst);
            if frame.is_ready() || !inline.wake.woken.load(Ordering::SeqCst) {
                return frame;
            }
            // Woken while polling: go round again rather than reschedule.
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// How many times a request is sent again after finding its pooled
/// connection closed (each time on another connection).
const MAX_REPLAYS: usize = 3;

/// Whether sending `req` twice is harmless: GET or HEAD, with no body.
fn replayable(req: &http::Request<RequestBody>) -> bool {
    use hyper::body::Body as _;
    (req.method() == http::Method::GET || req.method() == http::Method::HEAD)
        && req.body().size_hint().exact() == Some(0)
}

/// Whether `e` is a connection that had already carried a response closing
/// (or being reset) before this request got any answer.
fn stale_pooled_connection(e: &hyper_util::client::legacy::Error) -> bool {
    if e.is_connect() {
        return false;
    }
    let reused = e.connect_info().is_some_and(|info| {
        let mut ext = http::Extensions::new();
        info.get_extras(&mut ext);
        ext.get::<ConnectionUse>()
            .is_some_and(|u| u.0.load(Ordering::Relaxed))
    });
    if !reused {
        return false;
    }
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() || h.is_canceled() {
                return true;
            }
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::UnexpectedEof
            ) {
                return true;
            }
        }
        src = s.source();
    }
    false
}

/// Set once a connection has carried a response; attached to each
/// connection (hyper-util's connection "extra") so a failure can tell a
/// reused connection from a fresh one.
#[derive(Clone, Default)]
struct ConnectionUse(Arc<AtomicBool>);

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
    used: ConnectionUse,
}

impl Io {
    fn new(s: impl AsyncRead + AsyncWrite + Send + 'static) -> Self {
        Io {
            inner: TokioIo::new(Box::pin(s)),
            used: ConnectionUse::default(),
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
        Connected::new().extra(self.used.clone())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{UnixListener, UnixStream};

    /// Reads one request head (and no body: the tests send none).
    async fn read_head(s: &mut UnixStream) -> Option<String> {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if s.read(&mut byte).await.ok()? == 0 {
                return None;
            }
            head.push(byte[0]);
        }
        Some(String::from_utf8_lossy(&head).into_owned())
    }

    async fn respond(s: &mut UnixStream, head: bool, body: &str) {
        let r = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}",
            body.len(),
            if head { "" } else { body }
        );
        s.write_all(r.as_bytes()).await.expect("write");
    }

    /// A daemon that answers the first request of its first connection,
    /// then closes that connection when the next request arrives on it (as
    /// when an idle connection times out just as a request is sent), and
    /// answers every request on later connections. With
    /// `close_first_request` it closes the first connection at its first
    /// request instead. Counts connections and request heads seen.
    fn flaky_daemon(
        close_first_request: bool,
    ) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>, tempdir::Dir) {
        let dir = tempdir::Dir::new();
        let path = dir.0.join("d.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        let conns = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let (c, r) = (conns.clone(), requests.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                let n = c.fetch_add(1, Ordering::SeqCst);
                let r = r.clone();
                tokio::spawn(async move {
                    let mut served = 0;
                    while let Some(head) = read_head(&mut s).await {
                        r.fetch_add(1, Ordering::SeqCst);
                        if n == 0 && (close_first_request || served == 1) {
                            return; // close without answering
                        }
                        let path = head.split(' ').nth(1).unwrap_or("").to_owned();
                        let is_head = head.starts_with("HEAD ");
                        respond(&mut s, is_head, &format!("conn {n} {path}")).await;
                        served += 1;
                    }
                });
            }
        });
        (format!("unix://{}", path.display()), conns, requests, dir)
    }

    mod tempdir {
        /// A private temporary directory, removed on drop.
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
                let p = std::env::temp_dir().join(format!(
                    "dockhand-transport-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                ));
                std::fs::create_dir_all(&p).expect("temp dir");
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    fn transport(host: &str) -> Transport {
        let config = Config::for_host(host).expect("config");
        Transport::new(
            &config,
            TransportOptions {
                connect_timeout: Duration::from_secs(5),
                response_header_timeout: Some(Duration::from_secs(5)),
            },
        )
        .expect("transport")
    }

    fn request(method: http::Method, path: &str, body: RequestBody) -> http::Request<RequestBody> {
        http::Request::builder()
            .method(method)
            .uri(path)
            .body(body)
            .expect("request")
    }

    async fn body_text(resp: http::Response<Incoming>) -> String {
        let b = resp.into_body().collect().await.expect("body").to_bytes();
        String::from_utf8_lossy(&b).into_owned()
    }

    #[tokio::test]
    async fn idle_connection_closed_under_a_get_is_retried_on_a_new_one() {
        let (host, conns, requests, _dir) = flaky_daemon(false);
        let t = transport(&host);
        let r = t.send(request(http::Method::GET, "/a", empty_body())).await;
        assert_eq!(body_text(r.expect("first")).await, "conn 0 /a");
        // Sent on the kept-alive connection, which the daemon closes: sent
        // again on a new connection, and the caller sees only the answer.
        let r = t
            .send(request(http::Method::HEAD, "/b", empty_body()))
            .await;
        assert!(r.expect("head retried").status().is_success());
        let r = t.send(request(http::Method::GET, "/c", empty_body())).await;
        assert_eq!(body_text(r.expect("third")).await, "conn 1 /c");
        assert_eq!(conns.load(Ordering::SeqCst), 2);
        // /a, /b (closed), /b again, /c.
        assert_eq!(requests.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn requests_that_are_not_safe_to_repeat_are_not_retried() {
        for (method, body) in [
            (http::Method::POST, empty_body()),
            (http::Method::DELETE, empty_body()),
            (http::Method::GET, full_body(Bytes::from_static(b"{}"))),
        ] {
            let (host, conns, requests, _dir) = flaky_daemon(false);
            let t = transport(&host);
            let r = t.send(request(http::Method::GET, "/a", empty_body())).await;
            assert_eq!(body_text(r.expect("first")).await, "conn 0 /a");
            let e = t
                .send(request(method.clone(), "/b", body))
                .await
                .expect_err("the connection closed and the request is not repeated");
            assert!(matches!(e, Error::Connect { .. }), "{method}: {e}");
            assert_eq!(conns.load(Ordering::SeqCst), 1, "{method}");
            assert_eq!(requests.load(Ordering::SeqCst), 2, "{method}");
        }
    }

    #[tokio::test]
    async fn a_fresh_connection_that_closes_is_an_error_not_a_retry() {
        let (host, conns, requests, _dir) = flaky_daemon(true);
        let t = transport(&host);
        let e = t
            .send(request(http::Method::GET, "/a", empty_body()))
            .await
            .expect_err("closed without an answer");
        assert!(matches!(e, Error::Connect { .. }), "{e}");
        assert_eq!(conns.load(Ordering::SeqCst), 1);
        assert_eq!(requests.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn requests_on_one_client_share_a_kept_alive_connection() {
        let (host, conns, _requests, _dir) = flaky_daemon(true);
        // The first connection always fails here; later ones are reused.
        let t = transport(&host);
        let _ = t.send(request(http::Method::GET, "/x", empty_body())).await;
        for i in 0..20 {
            let r = t
                .send(request(http::Method::GET, &format!("/{i}"), empty_body()))
                .await;
            assert_eq!(body_text(r.expect("ok")).await, format!("conn 1 /{i}"));
        }
        assert_eq!(conns.load(Ordering::SeqCst), 2);
    }

    /// A daemon that answers one request with `chunks` HTTP chunks of
    /// `line`, written one by one (as dockerd writes log lines), then ends
    /// the body, or, with `cut`, stops in the middle of a chunk and closes.
    /// Reports when the client closes the connection.
    fn chunked_daemon(
        chunks: usize,
        line: &'static str,
        cut: bool,
    ) -> (String, tokio::sync::oneshot::Receiver<()>, tempdir::Dir) {
        let dir = tempdir::Dir::new();
        let path = dir.0.join("d.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        let (closed_tx, closed_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            read_head(&mut s).await.expect("request");
            let head =
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for i in 0..chunks {
                let c = format!("{:x}\r\n{line}\r\n", line.len());
                if cut && i == chunks / 2 {
                    let _ = s.write_all(&c.as_bytes()[..c.len() / 2]).await;
                    return;
                }
                if s.write_all(c.as_bytes()).await.is_err() {
                    let _ = closed_tx.send(());
                    return;
                }
                if i % 64 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            let _ = s.write_all(b"0\r\n\r\n").await;
            // Wait for the client to close.
            let mut b = [0u8; 1];
            let _ = s.read(&mut b).await;
            let _ = closed_tx.send(());
        });
        (format!("unix://{}", path.display()), closed_rx, dir)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn streaming_bodies_are_read_whole_by_their_reader() {
        let (host, closed, _dir) = chunked_daemon(20_000, "a short log line\n", false);
        let t = transport(&host);
        let resp = t
            .send_streaming(request(http::Method::GET, "/logs", empty_body()))
            .await
            .expect("head");
        assert!(resp.status().is_success());
        let b = resp.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(b.len(), 20_000 * "a short log line\n".len());
        assert!(b.chunks(17).all(|l| l == b"a short log line\n"));
        tokio::time::timeout(Duration::from_secs(5), closed)
            .await
            .expect("the connection is closed once the body is dropped")
            .expect("daemon");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_streaming_body_cut_mid_chunk_is_an_error() {
        let (host, _closed, _dir) = chunked_daemon(1_000, "line\n", true);
        let t = transport(&host);
        let resp = t
            .send_streaming(request(http::Method::GET, "/logs", empty_body()))
            .await
            .expect("head");
        let r = resp.into_body().collect().await;
        assert!(r.is_err(), "truncation must not look like the end");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_a_streaming_body_closes_its_connection() {
        let (host, closed, _dir) = chunked_daemon(1_000_000, "endless\n", false);
        let t = transport(&host);
        let resp = t
            .send_streaming(request(http::Method::GET, "/logs", empty_body()))
            .await
            .expect("head");
        let mut body = resp.into_body();
        let first = body.frame().await.expect("a frame").expect("data");
        assert!(first.into_data().is_ok());
        drop(body);
        tokio::time::timeout(Duration::from_secs(5), closed)
            .await
            .expect("the daemon sees the connection close")
            .expect("daemon");
    }
}
