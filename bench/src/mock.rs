//! The local mock daemon: a hyper server on a Unix socket serving canned
//! responses, generated here at start-up (nothing large is checked in), so
//! what the benchmarks measure is the client's own cost.
//!
//! Routes (any `/vX.Y` prefix is accepted):
//! - `HEAD|GET /_ping` — `OK` with the daemon headers (`Api-Version: 1.41`, …)
//! - `GET /containers/json` — `list_n` container summaries (~2 KiB each)
//! - `GET /containers/{id}/json` — a real dockerd 20.10 inspect answer
//! - `GET /containers/{id}/logs` — stdcopy frames: `f16k` 16 KiB frames,
//!   `f64` 64-byte frames, `log_bytes` in all
//! - `GET /containers/{id}/export` — `export_bytes` of archive bytes
//! - `POST /images/create` — `progress_msgs` JSON progress messages
//!
//! Streams are sent chunked (as dockerd does) in 256 KiB chunks that are
//! clones of one pre-generated block, so the server costs next to nothing.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::{Frame, Incoming};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// What the mock serves; the same numbers are known to the benchmark.
#[derive(Debug, Clone, Copy)]
pub struct MockSizes {
    pub log_bytes: u64,
    pub progress_msgs: u64,
    pub export_bytes: u64,
    pub list_n: usize,
}

/// A stream of stdcopy frames with `payload`-byte frames: one block of
/// whole frames and how many times it is sent.
pub fn log_layout(payload: usize, total: u64) -> (Bytes, u64) {
    let frame = 8 + payload;
    let per_block = (256 * 1024 / frame).max(1);
    let mut block = Vec::with_capacity(per_block * frame);
    for i in 0..per_block {
        block.push(if i % 10 == 9 { 2 } else { 1 }); // some stderr too
        block.extend_from_slice(&[0, 0, 0]);
        block.extend_from_slice(&(payload as u32).to_be_bytes());
        let start = block.len();
        block.extend((0..payload).map(|j| b'a' + ((i + j) % 26) as u8));
        block[start + payload - 1] = b'\n';
    }
    let blocks = (total / block.len() as u64).max(1);
    (Bytes::from(block), blocks)
}

/// The JSON progress stream: a block of 1,000 messages (each ended by
/// `\r\n`, as dockerd writes them) and how many times it is sent.
pub fn progress_layout(msgs: u64) -> (Bytes, u64) {
    let per_block: u64 = 1000.min(msgs.max(1));
    let mut block = String::new();
    for i in 0..per_block {
        let id = format!("{:012x}", 0xa1b2c3d4e5u64 + i % 7);
        let total = 30_000_000 + i * 1000;
        let current = (i * 7919) % total;
        let bar = "=".repeat((i % 50) as usize) + ">";
        match i % 10 {
            0 => block.push_str(&format!(
                "{{\"status\":\"Pulling fs layer\",\"progressDetail\":{{}},\"id\":\"{id}\"}}\r\n"
            )),
            9 => block.push_str(&format!(
                "{{\"status\":\"Pull complete\",\"progressDetail\":{{}},\"id\":\"{id}\"}}\r\n"
            )),
            k => block.push_str(&format!(
                "{{\"status\":\"{}\",\"progressDetail\":{{\"current\":{current},\"total\":{total}}},\"progress\":\"[{bar:<50}]  {:.1}MB/{:.1}MB\",\"id\":\"{id}\"}}\r\n",
                if k < 6 { "Downloading" } else { "Extracting" },
                current as f64 / 1e6,
                total as f64 / 1e6
            )),
        }
    }
    (Bytes::from(block), (msgs / per_block).max(1))
}

/// Export bytes: a 256 KiB block of pseudo-random bytes, repeated.
pub fn export_layout(total: u64) -> (Bytes, u64) {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let block: Vec<u8> = (0..256 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let blocks = (total / block.len() as u64).max(1);
    (Bytes::from(block), blocks)
}

/// `n` container summaries, each the shape dockerd 20.10 sends for a
/// compose-managed container (labels, ports, mounts, one network), ~2 KiB.
pub fn container_list(n: usize) -> Bytes {
    let template: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/container-summary.json"))
            .expect("fixture is JSON");
    let mut out = Vec::with_capacity(n * 2100 + 2);
    out.push(b'[');
    for i in 0..n {
        let mut c = template.clone();
        let id = format!("{:064x}", 0xdead_beef_u128 * (i as u128 + 1));
        let project = format!("project{}", i % 40);
        let service = format!("service{}", i % 13);
        c["Id"] = id.clone().into();
        c["Names"] = serde_json::json!([format!("/{project}-{service}-{i}")]);
        c["Created"] = (1_700_000_000 + i as i64).into();
        c["Status"] = format!("Up {} hours", i % 48).into();
        c["Labels"] = serde_json::json!({
            "com.docker.compose.config-hash": format!("{:064x}", i as u128 * 0x1234_5678_9abc),
            "com.docker.compose.container-number": (i % 5 + 1).to_string(),
            "com.docker.compose.depends_on": "db:service_started:false,cache:service_healthy:true",
            "com.docker.compose.image": format!("sha256:{:064x}", i as u128 * 0x42),
            "com.docker.compose.oneoff": "False",
            "com.docker.compose.project": project,
            "com.docker.compose.project.config_files": format!("/srv/{project}/compose.yaml,/srv/{project}/compose.override.yaml"),
            "com.docker.compose.project.working_dir": format!("/srv/{project}"),
            "com.docker.compose.service": service,
            "com.docker.compose.version": "2.24.6",
            "org.opencontainers.image.source": "https://example.invalid/team/app",
            "org.opencontainers.image.revision": format!("{:040x}", i as u128 * 0x777),
            "maintainer": "platform team <platform@example.invalid>",
        });
        c["Ports"] = serde_json::json!([
            {"IP":"127.0.0.1","PrivatePort":80,"PublicPort":20000 + i % 40000,"Type":"tcp"},
            {"IP":"::1","PrivatePort":80,"PublicPort":20000 + i % 40000,"Type":"tcp"},
            {"PrivatePort":9090,"Type":"tcp"}
        ]);
        c["Mounts"] = serde_json::json!([
            {"Type":"bind","Source":format!("/srv/{i}/config"),"Destination":"/etc/app","Mode":"ro","RW":false,"Propagation":"rprivate"},
            {"Type":"volume","Name":format!("{:064x}", i as u128 * 0x99),"Source":format!("/var/lib/docker/volumes/{:064x}/_data", i as u128 * 0x99),"Destination":"/data","Driver":"local","Mode":"z","RW":true,"Propagation":""}
        ]);
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, &c).expect("encode");
    }
    out.push(b']');
    Bytes::from(out)
}

/// A body that sends `block` `remaining` times, chunk by chunk.
struct Repeat {
    block: Bytes,
    remaining: u64,
}

impl hyper::body::Body for Repeat {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        self.remaining -= 1;
        Poll::Ready(Some(Ok(Frame::data(self.block.clone()))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }
}

struct Canned {
    inspect: Bytes,
    list: Bytes,
    logs16k: (Bytes, u64),
    logs64: (Bytes, u64),
    export: (Bytes, u64),
    progress: (Bytes, u64),
}

type Body = BoxBody<Bytes, Infallible>;

fn full(b: Bytes) -> Body {
    Full::new(b).boxed()
}

fn repeat((block, n): &(Bytes, u64)) -> Body {
    Repeat {
        block: block.clone(),
        remaining: *n,
    }
    .boxed()
}

fn route(c: &Canned, req: &Request<Incoming>) -> Response<Body> {
    let path = req.uri().path();
    // Strip the version prefix `/v1.41`.
    let path = match path.strip_prefix("/v") {
        Some(rest) => match rest.find('/') {
            Some(i) if rest[..i].bytes().all(|b| b.is_ascii_digit() || b == b'.') => &rest[i..],
            _ => path,
        },
        None => path,
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = req.method().as_str();
    let (ctype, body) = match (method, segments.as_slice()) {
        ("GET" | "HEAD", ["_ping"]) => {
            ("text/plain; charset=utf-8", full(Bytes::from_static(b"OK")))
        }
        ("GET", ["containers", "json"]) => ("application/json", full(c.list.clone())),
        ("GET", ["containers", _, "json"]) => ("application/json", full(c.inspect.clone())),
        ("GET", ["containers", id, "logs"]) => (
            "application/vnd.docker.multiplexed-stream",
            repeat(if *id == "f64" { &c.logs64 } else { &c.logs16k }),
        ),
        ("GET", ["containers", _, "export"]) => ("application/x-tar", repeat(&c.export)),
        ("POST", ["images", "create"]) => ("application/json", repeat(&c.progress)),
        _ => {
            let mut r = Response::new(full(Bytes::from_static(
                b"{\"message\":\"page not found\"}",
            )));
            *r.status_mut() = StatusCode::NOT_FOUND;
            return r;
        }
    };
    Response::builder()
        .header("Api-Version", "1.41")
        .header("Docker-Experimental", "false")
        .header("Ostype", "linux")
        .header("Server", "Docker/20.10.24+dfsg1 (linux)")
        .header("Content-Type", ctype)
        .body(body)
        .expect("response")
}

/// Serves until killed.
pub fn serve(socket: &str, sizes: MockSizes) -> std::io::Result<()> {
    let canned = Arc::new(Canned {
        inspect: Bytes::from_static(include_bytes!("../fixtures/container-inspect.json")),
        list: container_list(sizes.list_n),
        logs16k: log_layout(16 * 1024, sizes.log_bytes),
        logs64: log_layout(64, sizes.log_bytes),
        export: export_layout(sizes.export_bytes),
        progress: progress_layout(sizes.progress_msgs),
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let _ = std::fs::remove_file(socket);
        let listener = tokio::net::UnixListener::bind(socket)?;
        loop {
            let (stream, _) = listener.accept().await?;
            let canned = canned.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let resp = route(&canned, &req);
                    async move { Ok::<_, Infallible>(resp) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    })
}
