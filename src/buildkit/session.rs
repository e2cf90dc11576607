//! The client's side of a BuildKit session: a gRPC server on the upgraded
//! `POST /session` connection (the daemon is the gRPC client), serving the
//! attachables a build asks for.
//!
//! gRPC framing, status and metadata are tonic's (its server machinery, not
//! its transport); HTTP/2 is hyper's server on the upgraded connection. Each
//! method is a small handler; the daemon learns which ones exist from the
//! `X-Docker-Expose-Session-Grpc-Method` headers ([`Attachables::methods`]).

use super::fsutil::{self, WalkFilter};
use super::options::{BuildOutput, SecretSource, TarSink};
use super::proto;
use crate::auth::{RegistryAuth, DOCKER_HUB_AUTH_KEY};
use crate::build::Dockerignore;
use futures::{Stream, StreamExt};
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::mpsc;
use tonic::codec::Streaming;
use tonic::server::Grpc;
use tonic::Status;
use tonic_prost::ProstCodec;

pub(crate) const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";
pub(crate) const FILE_SYNC_DIFF_COPY: &str = "/moby.filesync.v1.FileSync/DiffCopy";
pub(crate) const FILE_SEND_DIFF_COPY: &str = "/moby.filesync.v1.FileSend/DiffCopy";
pub(crate) const SECRETS_GET: &str = "/moby.buildkit.secrets.v1.Secrets/GetSecret";
pub(crate) const AUTH_CREDENTIALS: &str = "/moby.filesync.v1.Auth/Credentials";
pub(crate) const SSH_CHECK_AGENT: &str = "/moby.sshforward.v1.SSH/CheckAgent";
pub(crate) const SSH_FORWARD_AGENT: &str = "/moby.sshforward.v1.SSH/ForwardAgent";

/// gRPC metadata keys of a file sync request.
const KEY_DIR_NAME: &str = "dir-name";
const KEY_INCLUDE: &str = "include-patterns";
const KEY_EXCLUDE: &str = "exclude-patterns";
const KEY_FOLLOW: &str = "followpaths";
const KEY_OVERRIDE_EXCLUDES: &str = "override-excludes";
/// gRPC metadata key naming the ssh agent a forward is for.
const KEY_SSH_ID: &str = "buildkit.ssh.id";

/// A directory the daemon may read: the context or the Dockerfile's.
#[derive(Debug, Clone)]
pub(crate) struct SyncedDir {
    pub(crate) dir: PathBuf,
    /// The client's `.dockerignore` rules (they win over the daemon's).
    pub(crate) excludes: Option<Dockerignore>,
}

/// What the session serves.
#[derive(Debug, Clone, Default)]
pub(crate) struct Attachables {
    /// By name: `context`, `dockerfile`.
    pub(crate) dirs: BTreeMap<String, SyncedDir>,
    pub(crate) secrets: BTreeMap<String, SecretSource>,
    pub(crate) auth: Option<RegistryAuth>,
    pub(crate) ssh: BTreeMap<String, PathBuf>,
    pub(crate) output: Option<BuildOutput>,
}

impl Attachables {
    /// The gRPC methods served, for the session headers.
    pub(crate) fn methods(&self) -> Vec<&'static str> {
        let mut m = vec![HEALTH_CHECK];
        if !self.dirs.is_empty() {
            m.push(FILE_SYNC_DIFF_COPY);
        }
        if matches!(
            self.output,
            Some(BuildOutput::Local { .. } | BuildOutput::Tar { .. })
        ) {
            m.push(FILE_SEND_DIFF_COPY);
        }
        if !self.secrets.is_empty() {
            m.push(SECRETS_GET);
        }
        if self.auth.is_some() {
            m.push(AUTH_CREDENTIALS);
        }
        if !self.ssh.is_empty() {
            m.push(SSH_CHECK_AGENT);
            m.push(SSH_FORWARD_AGENT);
        }
        m
    }
}

/// Serves the session on `conn` (the upgraded `/session` connection) until
/// the daemon closes it (or the future is dropped).
pub(crate) async fn serve<IO>(conn: IO, attachables: Arc<Attachables>)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| {
        let a = attachables.clone();
        async move { Ok::<_, Infallible>(route(a, req).await) }
    });
    let io = hyper_util::rt::TokioIo::new(conn);
    let result = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
        .serve_connection(io, service)
        .await;
    if let Err(e) = result {
        tracing::debug!("buildkit session ended: {e}");
    }
}

type Reply = http::Response<tonic::body::Body>;

/// A gRPC handler from a closure (tonic's server traits are implemented for
/// `tower_service::Service`s of this shape).
struct Handler<F>(F);

impl<F, Fut, Req, Resp> tower_service::Service<Req> for Handler<F>
where
    F: FnMut(Req) -> Fut,
    Fut: Future<Output = Result<Resp, Status>>,
{
    type Response = Resp;
    type Error = Status;
    type Future = Fut;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Status>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Fut {
        (self.0)(req)
    }
}

/// The response stream of a streaming handler: what a task sends.
type Outgoing<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

fn outgoing<T: Send + 'static>(rx: mpsc::Receiver<Result<T, Status>>) -> Outgoing<T> {
    Box::pin(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

async fn route(a: Arc<Attachables>, req: http::Request<hyper::body::Incoming>) -> Reply {
    let path = req.uri().path().to_owned();
    match path.as_str() {
        HEALTH_CHECK => {
            let h = Handler(|_req: tonic::Request<proto::HealthCheckRequest>| async {
                Ok(tonic::Response::new(proto::HealthCheckResponse {
                    status: proto::ServingStatus::Serving as i32,
                }))
            });
            Grpc::new(ProstCodec::default()).unary(h, req).await
        }
        FILE_SYNC_DIFF_COPY if !a.dirs.is_empty() => {
            let h = Handler(move |req: tonic::Request<Streaming<proto::Packet>>| {
                let a = a.clone();
                async move { file_sync(&a, req) }
            });
            Grpc::new(ProstCodec::default()).streaming(h, req).await
        }
        FILE_SEND_DIFF_COPY => match a.output.clone() {
            Some(BuildOutput::Local { dest }) => {
                let h = Handler(move |req: tonic::Request<Streaming<proto::Packet>>| {
                    let dest = dest.clone();
                    async move {
                        let (tx, rx) = mpsc::channel(16);
                        let incoming = req.into_inner();
                        tokio::spawn(async move {
                            if let Err(s) = fsutil::receive_dir(dest, incoming, tx.clone()).await {
                                let _ = tx.send(Err(s)).await;
                            }
                        });
                        Ok(tonic::Response::new(outgoing(rx)))
                    }
                });
                Grpc::new(ProstCodec::default()).streaming(h, req).await
            }
            Some(BuildOutput::Tar { sink }) => {
                let h = Handler(move |req: tonic::Request<Streaming<proto::BytesMessage>>| {
                    let sink = sink.clone();
                    async move {
                        let (tx, rx) = mpsc::channel::<Result<proto::BytesMessage, Status>>(1);
                        let incoming = req.into_inner();
                        tokio::spawn(async move {
                            if let Err(s) = write_tar(sink, incoming).await {
                                let _ = tx.send(Err(s)).await;
                            }
                        });
                        Ok(tonic::Response::new(outgoing(rx)))
                    }
                });
                Grpc::new(ProstCodec::default()).streaming(h, req).await
            }
            _ => unimplemented(&path),
        },
        SECRETS_GET if !a.secrets.is_empty() => {
            let h = Handler(move |req: tonic::Request<proto::GetSecretRequest>| {
                let a = a.clone();
                async move {
                    let id = req.into_inner().id;
                    let Some(source) = a.secrets.get(&id) else {
                        return Err(Status::not_found(format!("secret {id} not found")));
                    };
                    let data = source
                        .read()
                        .await
                        .map_err(|e| Status::not_found(format!("secret {id}: {e}")))?;
                    Ok(tonic::Response::new(proto::GetSecretResponse { data }))
                }
            });
            Grpc::new(ProstCodec::default()).unary(h, req).await
        }
        AUTH_CREDENTIALS if a.auth.is_some() => {
            let h = Handler(move |req: tonic::Request<proto::CredentialsRequest>| {
                let a = a.clone();
                async move {
                    let host = req.into_inner().host;
                    let auth = a.auth.clone().unwrap_or(RegistryAuth::Anonymous);
                    let key = if host == "registry-1.docker.io" || host == "docker.io" {
                        DOCKER_HUB_AUTH_KEY.to_owned()
                    } else {
                        host
                    };
                    let found = auth
                        .resolve_async(&key)
                        .await
                        // Never the credentials, only that the lookup failed.
                        .map_err(|e| Status::unavailable(format!("credentials for {key}: {e}")))?;
                    let mut resp = proto::CredentialsResponse::default();
                    if let Some(c) = found {
                        match c.identitytoken.filter(|t| !t.is_empty()) {
                            Some(token) => resp.secret = token,
                            None => {
                                resp.username = c.username.unwrap_or_default();
                                resp.secret = c.password.unwrap_or_default();
                            }
                        }
                    }
                    Ok(tonic::Response::new(resp))
                }
            });
            Grpc::new(ProstCodec::default()).unary(h, req).await
        }
        SSH_CHECK_AGENT if !a.ssh.is_empty() => {
            let h = Handler(move |req: tonic::Request<proto::CheckAgentRequest>| {
                let a = a.clone();
                async move {
                    let id = ssh_id(&req.into_inner().id);
                    if a.ssh.contains_key(&id) {
                        Ok(tonic::Response::new(proto::CheckAgentResponse {}))
                    } else {
                        Err(Status::not_found(format!("no ssh agent {id:?}")))
                    }
                }
            });
            Grpc::new(ProstCodec::default()).unary(h, req).await
        }
        SSH_FORWARD_AGENT if !a.ssh.is_empty() => {
            let h = Handler(move |req: tonic::Request<Streaming<proto::SshBytes>>| {
                let a = a.clone();
                async move {
                    let id = ssh_id(
                        req.metadata()
                            .get(KEY_SSH_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or(""),
                    );
                    let Some(socket) = a.ssh.get(&id).cloned() else {
                        return Err(Status::not_found(format!("no ssh agent {id:?}")));
                    };
                    forward_agent(socket, req.into_inner()).await
                }
            });
            Grpc::new(ProstCodec::default()).streaming(h, req).await
        }
        _ => unimplemented(&path),
    }
}

fn unimplemented(path: &str) -> Reply {
    Status::unimplemented(format!("{path} is not served by this session")).into_http()
}

fn ssh_id(id: &str) -> String {
    if id.is_empty() {
        "default".to_owned()
    } else {
        id.to_owned()
    }
}

fn metadata_values(md: &tonic::metadata::MetadataMap, key: &str) -> Vec<String> {
    md.get_all(key)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect()
}

/// `FileSync/DiffCopy`: send the named directory.
fn file_sync(
    a: &Attachables,
    req: tonic::Request<Streaming<proto::Packet>>,
) -> Result<tonic::Response<Outgoing<proto::Packet>>, Status> {
    let md = req.metadata();
    let name = metadata_values(md, KEY_DIR_NAME)
        .into_iter()
        .next()
        .unwrap_or_default();
    let Some(dir) = a.dirs.get(&name) else {
        return Err(Status::invalid_argument(format!(
            "no access allowed to dir {name:?}"
        )));
    };
    let override_excludes = metadata_values(md, KEY_OVERRIDE_EXCLUDES)
        .first()
        .is_some_and(|v| v == "true");
    let excludes = match &dir.excludes {
        Some(own) if !own.is_empty() && !override_excludes => Some(own.clone()),
        _ => {
            let theirs = metadata_values(md, KEY_EXCLUDE);
            if theirs.is_empty() {
                None
            } else {
                Some(
                    Dockerignore::parse(&theirs.join("\n"))
                        .map_err(|e| Status::invalid_argument(format!("exclude patterns: {e}")))?,
                )
            }
        }
    };
    let filter = WalkFilter::new(
        &dir.dir,
        excludes,
        &metadata_values(md, KEY_INCLUDE),
        &metadata_values(md, KEY_FOLLOW),
    )
    .map_err(Status::invalid_argument)?;
    let root = dir.dir.clone();
    let (tx, rx) = mpsc::channel(16);
    let incoming = req.into_inner();
    tokio::spawn(async move {
        if let Err(s) = fsutil::send_dir(root, filter, incoming, tx.clone()).await {
            let _ = tx.send(Err(s)).await;
        }
    });
    Ok(tonic::Response::new(outgoing(rx)))
}

/// `FileSend/DiffCopy` for `type=tar`: the archive's bytes, in order.
async fn write_tar(
    sink: TarSink,
    mut incoming: Streaming<proto::BytesMessage>,
) -> Result<(), Status> {
    use tokio::io::AsyncWriteExt;
    let mut writer = sink
        .open()
        .await
        .map_err(|e| Status::internal(format!("cannot open the tar output: {e}")))?;
    while let Some(msg) = incoming.next().await {
        let msg = msg?;
        writer
            .write_all(&msg.data)
            .await
            .map_err(|e| Status::internal(format!("cannot write the tar output: {e}")))?;
    }
    writer
        .shutdown()
        .await
        .map_err(|e| Status::internal(format!("cannot finish the tar output: {e}")))?;
    Ok(())
}

/// `SSH/ForwardAgent`: bytes both ways between the stream and the agent's
/// Unix socket.
#[cfg(unix)]
async fn forward_agent(
    socket: PathBuf,
    mut incoming: Streaming<proto::SshBytes>,
) -> Result<tonic::Response<Outgoing<proto::SshBytes>>, Status> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let conn = tokio::net::UnixStream::connect(&socket)
        .await
        .map_err(|e| {
            Status::unavailable(format!(
                "cannot reach the ssh agent {}: {e}",
                socket.display()
            ))
        })?;
    let (mut rd, mut wr) = conn.into_split();
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        while let Some(Ok(msg)) = incoming.next().await {
            if wr.write_all(&msg.data).await.is_err() {
                break;
            }
        }
        let _ = wr.shutdown().await;
    });
    tokio::spawn(async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let msg = proto::SshBytes {
                        data: buf[..n].to_vec(),
                    };
                    if tx.send(Ok(msg)).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    Ok(tonic::Response::new(outgoing(rx)))
}

#[cfg(not(unix))]
async fn forward_agent(
    socket: PathBuf,
    _incoming: Streaming<proto::SshBytes>,
) -> Result<tonic::Response<Outgoing<proto::SshBytes>>, Status> {
    Err(Status::unimplemented(format!(
        "ssh agent forwarding to {} needs a Unix socket",
        socket.display()
    )))
}

#[cfg(test)]
mod tests;
