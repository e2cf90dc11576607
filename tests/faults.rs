//! A daemon that misbehaves at the wire level: truncated bodies, streams cut
//! mid-frame or mid-value, bytes that are not HTTP, silence, connections
//! refused or dropped after a request was sent, endless or stalled bodies.
//! Each gives exactly one typed error variant, by stage, in bounded time;
//! nothing panics, nothing hangs.
//!
//! The fake daemon is a raw TCP listener on 127.0.0.1 that answers one
//! request with exactly the bytes a test gives it, then closes.

use dockhand::operations::{ContainerLogsOptions, ImageCreateOptions};
use dockhand::{ApiVersion, Docker, Error};
use futures::TryStreamExt;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves one connection: reads the request head, writes `reply`, then
/// keeps the socket open for `linger` before closing it.
async fn fake_daemon(reply: Vec<u8>, linger: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => req.extend_from_slice(&buf[..n]),
            }
        }
        let _ = sock.write_all(&reply).await;
        tokio::time::sleep(linger).await;
    });
    format!("http://{addr}")
}

fn client(host: &str) -> Docker {
    Docker::builder()
        .host(host)
        .api_version(ApiVersion::new(1, 44))
        .response_header_timeout(Duration::from_secs(2))
        .build()
        .expect("client")
}

/// Every fault must surface well within this.
const BOUND: Duration = Duration::from_secs(20);

#[tokio::test]
async fn a_body_shorter_than_its_content_length_is_a_protocol_error() {
    let host = fake_daemon(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"Id\":\"abc\""
            .to_vec(),
        Duration::ZERO,
    )
    .await;
    let e = tokio::time::timeout(
        BOUND,
        client(&host).containers().inspect("x", &Default::default()),
    )
    .await
    .expect("no hang")
    .expect_err("truncated");
    assert!(matches!(e, Error::Protocol { .. }), "{e}");
    assert!(e.to_string().contains("ContainerInspect"), "{e}");
}

#[tokio::test]
async fn logs_cut_inside_a_frame_are_an_error_after_the_whole_frames() {
    let mut body = vec![1u8, 0, 0, 0, 0, 0, 0, 3];
    body.extend_from_slice(b"ok\n");
    body.extend_from_slice(&[2u8, 0, 0, 0, 0, 0, 0, 50]);
    body.extend_from_slice(b"only part of it");
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(&body);
    let host = fake_daemon(reply, Duration::ZERO).await;
    let docker = client(&host);
    let mut logs = docker
        .containers()
        .logs("x", &ContainerLogsOptions::default().stdout(true))
        .await
        .expect("headers");
    let first = logs.try_next().await.expect("first frame").expect("some");
    assert_eq!(first.bytes().as_ref(), b"ok\n");
    let e = tokio::time::timeout(BOUND, logs.try_next())
        .await
        .expect("no hang")
        .expect_err("truncated frame");
    assert!(matches!(e, Error::Protocol { .. }), "{e}");
    assert!(e.to_string().contains("inside a frame"), "{e}");
}

#[tokio::test]
async fn a_pull_stream_cut_inside_a_value_is_an_error() {
    let body = "{\"status\":\"Pulling from x\"}\r\n{\"status\":\"Downlo";
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    let host = fake_daemon(reply.into_bytes(), Duration::ZERO).await;
    let docker = client(&host);
    let opts = ImageCreateOptions::default().anonymous();
    let mut progress = docker.images().pull("x:1", &opts).await.expect("headers");
    let first = progress.try_next().await.expect("first").expect("some");
    assert_eq!(first.status.as_deref(), Some("Pulling from x"));
    let e = tokio::time::timeout(BOUND, progress.try_next())
        .await
        .expect("no hang")
        .expect_err("truncated value");
    assert!(matches!(e, Error::Protocol { .. }), "{e}");
}

#[tokio::test]
async fn bytes_that_are_not_http_are_an_error() {
    let host = fake_daemon(b"SSH-2.0-OpenSSH_9.2\r\n".to_vec(), Duration::ZERO).await;
    let e = tokio::time::timeout(BOUND, client(&host).system().ping())
        .await
        .expect("no hang")
        .expect_err("not HTTP");
    // The daemon answered, with garbage: not a connection failure.
    assert!(matches!(e, Error::Protocol { .. }), "{e:?}");
    assert!(e.to_string().contains("not HTTP"), "{e}");
    assert!(
        !e.is_connect() && !e.is_retryable() && !e.is_timeout(),
        "{e}"
    );
}

#[tokio::test]
async fn a_silent_daemon_times_out_waiting_for_headers() {
    let host = fake_daemon(Vec::new(), Duration::from_secs(30)).await;
    let e = tokio::time::timeout(BOUND, client(&host).system().ping())
        .await
        .expect("no hang")
        .expect_err("silence");
    assert!(
        matches!(e, Error::Timeout { during, .. } if during.contains("headers")),
        "{e}"
    );
    // A ping is idempotent: safe to send again.
    assert!(e.is_timeout() && e.is_retryable() && !e.is_connect(), "{e}");
}

#[tokio::test]
async fn a_refused_connection_is_connect_and_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let e = tokio::time::timeout(
        BOUND,
        client(&format!("http://{addr}"))
            .containers()
            .create(&Default::default(), &Default::default()),
    )
    .await
    .expect("no hang")
    .expect_err("refused");
    assert!(matches!(e, Error::Connect { .. }), "{e:?}");
    // Nothing reached the daemon: even a create may be sent again.
    assert!(e.is_connect() && e.is_retryable(), "{e}");
}

#[tokio::test]
async fn a_post_whose_connection_drops_after_it_was_sent_is_interrupted_not_retryable() {
    // Reads the request head, then closes without a word.
    let host = fake_daemon(Vec::new(), Duration::ZERO).await;
    let e = tokio::time::timeout(
        BOUND,
        client(&host)
            .containers()
            .create(&Default::default(), &Default::default()),
    )
    .await
    .expect("no hang")
    .expect_err("dropped");
    assert!(
        matches!(
            e,
            Error::Interrupted {
                operation: "ContainerCreate",
                idempotent: false,
                ..
            }
        ),
        "{e:?}"
    );
    // The container may exist now: retrying would create it twice.
    assert!(e.is_connect() && !e.is_retryable(), "{e}");
}

#[tokio::test]
async fn a_get_whose_connection_drops_after_it_was_sent_is_interrupted_and_retryable() {
    let host = fake_daemon(Vec::new(), Duration::ZERO).await;
    let e = tokio::time::timeout(
        BOUND,
        client(&host).containers().inspect("x", &Default::default()),
    )
    .await
    .expect("no hang")
    .expect_err("dropped");
    assert!(
        matches!(
            e,
            Error::Interrupted {
                operation: "ContainerInspect",
                idempotent: true,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_connect() && e.is_retryable(), "{e}");
}

#[tokio::test]
async fn an_endless_body_is_too_large_not_out_of_memory() {
    // A 200 to a list, whose chunked body never ends.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        let mut buf = [0u8; 4096];
        let mut req = Vec::new();
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).await.expect("request");
            req.extend_from_slice(&buf[..n]);
        }
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n[{},{}\r\n";
        sock.write_all(head).await.expect("head");
        let chunk = format!("{:x}\r\n{}\r\n", 4096, ",{} ".repeat(1024)).into_bytes();
        while sock.write_all(&chunk).await.is_ok() {}
        let _ = closed_tx.send(());
    });
    let docker = Docker::builder()
        .host(format!("http://{addr}"))
        .api_version(ApiVersion::new(1, 44))
        .max_response_body(1 << 20)
        .build()
        .expect("client");
    let e = tokio::time::timeout(BOUND, docker.containers().list(&Default::default()))
        .await
        .expect("no hang")
        .expect_err("endless");
    assert!(
        matches!(
            e,
            Error::ResponseTooLarge {
                operation: "ContainerList",
                limit: 1048576
            }
        ),
        "{e:?}"
    );
    assert!(!e.is_retryable(), "{e}");
    tokio::time::timeout(BOUND, closed_rx)
        .await
        .expect("the connection is closed, not read to the end")
        .expect("daemon");
}

#[tokio::test]
async fn a_stalled_body_hits_the_request_deadline() {
    let host = fake_daemon(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"Id\":"
            .to_vec(),
        Duration::from_secs(60),
    )
    .await;
    let docker = Docker::builder()
        .host(&host)
        .api_version(ApiVersion::new(1, 44))
        .request_timeout(Duration::from_millis(500))
        .build()
        .expect("client");
    let e = tokio::time::timeout(BOUND, docker.containers().inspect("x", &Default::default()))
        .await
        .expect("no hang")
        .expect_err("stalled");
    assert!(
        matches!(
            e,
            Error::Timeout {
                during: "reading the response body",
                retryable: true,
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_decode_error_with_a_snippet() {
    let body = "<html>502 Bad Gateway</html>";
    let reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let host = fake_daemon(reply.into_bytes(), Duration::ZERO).await;
    let e = tokio::time::timeout(BOUND, client(&host).system().info())
        .await
        .expect("no hang")
        .expect_err("not JSON");
    match e {
        Error::Decode {
            operation, snippet, ..
        } => {
            assert_eq!(operation, "SystemInfo");
            assert!(snippet.contains("502 Bad Gateway"), "{snippet}");
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn dropping_a_followed_stream_closes_its_connection() {
    // An endless `logs --follow`: the fake daemon writes a frame every 10 ms
    // until a write fails, which happens only when the client has closed.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<usize>();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.expect("accept");
        let mut buf = [0u8; 4096];
        let mut req = Vec::new();
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).await.expect("request");
            req.extend_from_slice(&buf[..n]);
        }
        let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
        sock.write_all(head).await.expect("head");
        let mut frame = vec![1u8, 0, 0, 0, 0, 0, 0, 5];
        frame.extend_from_slice(b"tick\n");
        let chunk = [
            format!("{:x}\r\n", frame.len()).into_bytes(),
            frame,
            b"\r\n".to_vec(),
        ]
        .concat();
        let mut sent = 0usize;
        loop {
            if sock.write_all(&chunk).await.is_err() || sock.flush().await.is_err() {
                break;
            }
            sent += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = closed_tx.send(sent);
    });
    let docker = client(&format!("http://{addr}"));
    let mut logs = docker
        .containers()
        .logs(
            "x",
            &ContainerLogsOptions::default().stdout(true).follow(true),
        )
        .await
        .expect("headers");
    for _ in 0..3 {
        let piece = logs.try_next().await.expect("frame").expect("open");
        assert_eq!(piece.bytes().as_ref(), b"tick\n");
    }
    drop(logs);
    let sent = tokio::time::timeout(BOUND, closed_rx)
        .await
        .expect("the daemon sees the connection close soon after the drop")
        .expect("server reports");
    assert!(sent >= 3, "{sent}");
}
