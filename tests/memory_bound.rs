//! Streaming never buffers a whole response: 256 MiB of container output in
//! 64-byte stdcopy frames, served by a local fake daemon, is demultiplexed
//! while the test process's resident memory grows by far less than the
//! stream's size. A bound, not a timing.
//!
//! Alone in its binary, so no other test's allocations count.

use dockhand::operations::ContainerLogsOptions;
use dockhand::stream::LogOutput;
use dockhand::{ApiVersion, Docker};
use futures::TryStreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PAYLOAD: usize = 56;
const FRAME: usize = 8 + PAYLOAD;
const TOTAL: usize = 256 << 20;
const FRAMES: usize = TOTAL / FRAME;
/// Generous: the point is that 256 MiB never sits in memory.
const MAX_GROWTH_KIB: u64 = 64 << 10;

/// A kibibyte figure from /proc/self/status (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

/// Serves one logs request: the headers, then `FRAMES` frames written in
/// 64 KiB batches as the client reads them (the server holds one batch).
async fn serve(listener: tokio::net::TcpListener) {
    let (mut sock, _) = listener.accept().await.expect("accept");
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = sock.read(&mut buf).await.expect("read request");
        assert!(n > 0, "client closed before sending a request");
        req.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&req);
    assert!(
        head.starts_with("GET /v1.44/containers/big/logs?"),
        "{head}"
    );
    let body_len = FRAMES * FRAME;
    let headers = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nApi-Version: 1.44\r\nContent-Length: {body_len}\r\n\r\n"
    );
    sock.write_all(headers.as_bytes()).await.expect("headers");
    let mut frame = [0u8; FRAME];
    frame[0] = 1;
    frame[4..8].copy_from_slice(&(PAYLOAD as u32).to_be_bytes());
    let per_batch = (64 << 10) / FRAME;
    let mut batch = Vec::with_capacity(per_batch * FRAME);
    let mut sent = 0;
    while sent < FRAMES {
        batch.clear();
        for i in sent..(sent + per_batch).min(FRAMES) {
            // The payload carries its frame number, so order and loss show.
            frame[8..16].copy_from_slice(&(i as u64).to_le_bytes());
            batch.extend_from_slice(&frame);
        }
        sent += batch.len() / FRAME;
        if sock.write_all(&batch).await.is_err() {
            return; // the client went away; the test reports why
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_quarter_gibibyte_of_small_frames_streams_in_bounded_memory() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(serve(listener));
    let docker = Docker::builder()
        .host(format!("http://{addr}"))
        .api_version(ApiVersion::new(1, 44))
        .build()
        .expect("client");

    let before = status_kib("VmRSS:");
    let mut logs = docker
        .containers()
        .logs("big", &ContainerLogsOptions::default().stdout(true))
        .await
        .expect("logs");
    let (mut frames, mut bytes) = (0usize, 0usize);
    while let Some(piece) = logs.try_next().await.expect("frame") {
        let LogOutput::StdOut(b) = piece else {
            panic!("stdout only: {piece:?}")
        };
        assert_eq!(b.len(), PAYLOAD);
        let n = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
        assert_eq!(n, frames as u64, "frames in order, none lost");
        frames += 1;
        bytes += b.len();
    }
    let peak = status_kib("VmHWM:");
    server.await.expect("server");
    assert_eq!(frames, FRAMES);
    assert_eq!(bytes, FRAMES * PAYLOAD);
    let growth = peak.saturating_sub(before);
    assert!(
        growth < MAX_GROWTH_KIB,
        "resident memory grew by {growth} KiB while streaming {} MiB",
        TOTAL >> 20
    );
    eprintln!(
        "streamed {} MiB in {FRAMES} frames; peak RSS growth {growth} KiB",
        TOTAL >> 20
    );
}
