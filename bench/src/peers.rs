//! The three clients as the scenarios use them: dockhand, bollard, and the
//! ceiling (raw hyper on kept-alive connections; raw socket reads for bytes).

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Res<T> = Result<T, BoxError>;

pub fn dockhand(socket: &str) -> Res<dockhand::Docker> {
    let mut b = dockhand::Docker::builder().host(format!("unix://{socket}"));
    if std::env::var_os("DOCKHAND_BENCH_NO_HEADER_TIMEOUT").is_some() {
        b = b.response_header_timeout(None);
    }
    Ok(b.build()?)
}

pub fn bollard(socket: &str, api: (usize, usize)) -> Res<bollard::Docker> {
    Ok(bollard::Docker::connect_with_unix(
        socket,
        600,
        &bollard::ClientVersion {
            major_version: api.0,
            minor_version: api.1,
        },
    )?)
}

/// One raw hyper HTTP/1 connection, kept alive.
pub struct Raw {
    sender: SendRequest<Empty<Bytes>>,
}

impl Raw {
    pub async fn connect(socket: &str) -> Res<Raw> {
        let s = tokio::net::UnixStream::connect(socket).await?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(s)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Raw { sender })
    }

    pub async fn send(
        &mut self,
        method: http::Method,
        uri: &str,
    ) -> Res<http::Response<hyper::body::Incoming>> {
        self.sender.ready().await?;
        let req = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(http::header::HOST, "api.moby.localhost")
            .body(Empty::new())?;
        let resp = self.sender.send_request(req).await?;
        if !resp.status().is_success() {
            return Err(format!("{uri}: {}", resp.status()).into());
        }
        Ok(resp)
    }

    /// GET and collect the whole body.
    pub async fn get_bytes(&mut self, uri: &str) -> Res<Bytes> {
        let resp = self.send(http::Method::GET, uri).await?;
        Ok(resp.into_body().collect().await?.to_bytes())
    }

    /// GET, decode the JSON body as `T`.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&mut self, uri: &str) -> Res<T> {
        let b = self.get_bytes(uri).await?;
        Ok(serde_json::from_slice(&b)?)
    }
}

/// The floor under any HTTP client: write the request by hand and read the
/// socket until the daemon closes it, discarding the bytes (chunk framing
/// included), with blocking reads into a 1 MiB buffer on a thread of its
/// own (no event loop in between). Returns the bytes read.
pub async fn raw_socket_read(socket: &str, uri: &str) -> Res<u64> {
    let socket = socket.to_owned();
    let req =
        format!("GET {uri} HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: close\r\n\r\n");
    tokio::task::spawn_blocking(move || -> Res<u64> {
        use std::io::{Read, Write};
        let mut s = std::os::unix::net::UnixStream::connect(&socket)?;
        s.write_all(req.as_bytes())?;
        let mut buf = vec![0u8; 1 << 20];
        let mut n = 0u64;
        loop {
            let r = s.read(&mut buf)?;
            if r == 0 {
                return Ok(n);
            }
            n += r as u64;
        }
    })
    .await?
}

/// The same raw read as [`raw_socket_read`], as an async read loop on the
/// tokio runtime the clients run on: the floor for any tokio-based client.
pub async fn tokio_socket_read(socket: &str, uri: &str) -> Res<u64> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::UnixStream::connect(socket).await?;
    let req =
        format!("GET {uri} HTTP/1.1\r\nHost: api.moby.localhost\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await?;
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let r = s.read(&mut buf).await?;
        if r == 0 {
            return Ok(n);
        }
        n += r as u64;
    }
}

/// Bytes of container output through dockhand's typed log stream.
pub async fn dockhand_logs(d: &dockhand::Docker, id: &str) -> Res<u64> {
    use dockhand::operations::ContainerLogsOptions;
    let opts = ContainerLogsOptions::default().stdout(true).stderr(true);
    let mut s = d.containers().logs(id, &opts).await?;
    let mut n = 0u64;
    while let Some(item) = s.next().await {
        n += item?.bytes().len() as u64;
    }
    Ok(n)
}

/// Bytes of container output through bollard's log stream.
pub async fn bollard_logs(b: &bollard::Docker, id: &str) -> Res<u64> {
    let opts = bollard::query_parameters::LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .build();
    let mut s = b.logs(id, Some(opts));
    let mut n = 0u64;
    while let Some(item) = s.next().await {
        n += item?.into_bytes().len() as u64;
    }
    Ok(n)
}
