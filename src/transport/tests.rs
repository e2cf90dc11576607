//! The transport against small fake daemons on Unix sockets.

use super::*;
use bytes::Bytes;
use http_body_util::BodyExt;
use std::sync::atomic::{AtomicUsize, Ordering};
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
            ..TransportOptions::default()
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

async fn body_text(resp: http::Response<ResponseBody>) -> String {
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
        // Sent, and the answer lost: the outcome is unknown.
        assert!(
            matches!(e, Error::Interrupted { idempotent, .. } if idempotent == (method != http::Method::POST)),
            "{method}: {e:?}"
        );
        assert_eq!(e.is_retryable(), method != http::Method::POST, "{method}");
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
    assert!(matches!(e, Error::Interrupted { .. }), "{e:?}");
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
    // Read to its end, the connection is kept for the next stream, and
    // closed with the client.
    let pool = t.pools.current().expect("pool");
    assert_eq!(pool.streams.len(), 1);
    drop((pool, t));
    tokio::time::timeout(Duration::from_secs(5), closed)
        .await
        .expect("the connection is closed once the client is dropped")
        .expect("daemon");
}

/// A daemon that answers every request on a connection with a chunked
/// body of `lines` lines naming the connection and the request; with
/// `close_after`, it closes each connection after its first answer (whole,
/// terminator included, and without a `Connection: close`). Counts
/// connections and requests.
fn streams_daemon(
    lines: usize,
    close_after: bool,
) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>, tempdir::Dir) {
    let dir = tempdir::Dir::new();
    let path = dir.0.join("d.sock");
    let listener = UnixListener::bind(&path).expect("bind");
    let conns = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let (c, r) = (conns.clone(), requests.clone());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let n = c.fetch_add(1, Ordering::SeqCst);
            let r = r.clone();
            tokio::spawn(async move {
                while let Some(head) = read_head(&mut s).await {
                    let k = r.fetch_add(1, Ordering::SeqCst);
                    let path = head.split(' ').nth(1).unwrap_or("").to_owned();
                    let mut out = String::from(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
                    );
                    for _ in 0..lines {
                        let line = format!("conn {n} request {k} {path}\n");
                        out.push_str(&format!("{:x}\r\n{line}\r\n", line.len()));
                    }
                    out.push_str("0\r\n\r\n");
                    if s.write_all(out.as_bytes()).await.is_err() || close_after {
                        return;
                    }
                }
            });
        }
    });
    (format!("unix://{}", path.display()), conns, requests, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_read_to_its_end_leaves_its_connection_to_the_next_stream() {
    let (host, conns, requests, _dir) = streams_daemon(50, false);
    let t = transport(&host);
    for i in 0..10 {
        let resp = t
            .send_streaming(request(
                http::Method::GET,
                &format!("/logs/{i}"),
                empty_body(),
            ))
            .await
            .expect("head");
        let text = body_text(resp).await;
        assert_eq!(text.lines().count(), 50);
        assert!(
            text.lines()
                .all(|l| l == format!("conn 0 request {i} /logs/{i}")),
            "{text}"
        );
    }
    assert_eq!(conns.load(Ordering::SeqCst), 1);
    assert_eq!(requests.load(Ordering::SeqCst), 10);
    // A stream and a pooled request at once: the stream's kept connection
    // is not the pool's.
    let resp = t
        .send_streaming(request(http::Method::GET, "/events", empty_body()))
        .await
        .expect("head");
    let pooled = t
        .send(request(http::Method::GET, "/info", empty_body()))
        .await;
    assert!(body_text(pooled.expect("pooled"))
        .await
        .starts_with("conn 1 "));
    assert!(body_text(resp).await.starts_with("conn 0 "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_dropped_before_its_end_closes_its_connection_and_is_not_reused() {
    let (host, conns, _requests, _dir) = streams_daemon(20_000, false);
    let t = transport(&host);
    let resp = t
        .send_streaming(request(http::Method::GET, "/logs/a", empty_body()))
        .await
        .expect("head");
    let mut body = resp.into_body();
    assert!(body
        .frame()
        .await
        .expect("a frame")
        .expect("data")
        .is_data());
    drop(body);
    assert_eq!(t.pools.current().expect("pool").streams.len(), 0);
    let resp = t
        .send_streaming(request(http::Method::GET, "/logs/b", empty_body()))
        .await
        .expect("head");
    let text = body_text(resp).await;
    assert!(
        text.starts_with("conn 1 request 1 /logs/b\n"),
        "{}",
        &text[..40]
    );
    assert_eq!(conns.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_stream_connection_the_daemon_closed_is_not_used() {
    let (host, conns, requests, _dir) = streams_daemon(3, true);
    let t = transport(&host);
    for i in 0..4 {
        let resp = t
            .send_streaming(request(
                http::Method::GET,
                &format!("/logs/{i}"),
                empty_body(),
            ))
            .await
            .expect("a new connection, not an error");
        let text = body_text(resp).await;
        assert_eq!(
            text.lines().next(),
            Some(&*format!("conn {i} request {i} /logs/{i}"))
        );
        // Let the close reach the client.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(conns.load(Ordering::SeqCst), 4);
    // Each request reached the daemon once: closed connections were seen
    // before sending, not by sending into them.
    assert_eq!(requests.load(Ordering::SeqCst), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_stream_connection_of_a_runtime_that_is_gone_is_never_handed_out() {
    let (host, conns, _requests, _dir) = streams_daemon(5, false);
    let t = Arc::new(transport(&host));
    let t2 = t.clone();
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let r = t2
                .send_streaming(request(http::Method::GET, "/a", empty_body()))
                .await;
            assert!(body_text(r.expect("first")).await.starts_with("conn 0 "));
            assert_eq!(t2.pools.current().expect("pool").streams.len(), 1);
        });
    })
    .await
    .expect("other runtime");
    assert_eq!(t.pools.len(), 0);
    let r = t
        .send_streaming(request(http::Method::GET, "/b", empty_body()))
        .await;
    assert!(body_text(r.expect("second")).await.starts_with("conn 1 "));
    assert_eq!(conns.load(Ordering::SeqCst), 2);
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

fn request_for(
    op: &'static crate::operations::Operation,
    method: http::Method,
    path: &str,
) -> http::Request<RequestBody> {
    let mut r = request(method, path, empty_body());
    r.extensions_mut().insert(ForOperation(op));
    r
}

/// A daemon that reads request heads and never answers.
fn silent_daemon() -> (String, tempdir::Dir) {
    let dir = tempdir::Dir::new();
    let path = dir.0.join("d.sock");
    let listener = UnixListener::bind(&path).expect("bind");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move { while read_head(&mut s).await.is_some() {} });
        }
    });
    (format!("unix://{}", path.display()), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_of_a_runtime_that_is_gone_is_never_handed_out() {
    let (host, conns, _requests, _dir) = flaky_daemon(false);
    let t = Arc::new(transport(&host));
    // Another runtime opens a pooled connection (conn 0) and ends.
    let t2 = t.clone();
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let r = t2
                .send(request(http::Method::GET, "/a", empty_body()))
                .await;
            assert_eq!(body_text(r.expect("first")).await, "conn 0 /a");
        });
        assert_eq!(t2.pools.len(), 1);
    })
    .await
    .expect("other runtime");
    // Its pool went away with it.
    assert_eq!(t.pools.len(), 0);
    // A POST with a body from this runtime gets a connection of its own.
    let r = t
        .send(request(
            http::Method::POST,
            "/b",
            full_body(Bytes::from_static(b"{}")),
        ))
        .await;
    assert_eq!(body_text(r.expect("post")).await, "conn 1 /b");
    assert_eq!(t.pools.len(), 1);
    assert_eq!(conns.load(Ordering::SeqCst), 2);
}

#[test]
fn a_failure_before_any_byte_was_written_is_not_sent() {
    let used = ConnectionUse::default();
    let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
    // A fresh connection: nothing written.
    assert_eq!(replay::stage_for_test(&reset, &used), Stage::NotSent);
    used.wrote(120);
    assert_eq!(
        replay::stage_for_test(&reset, &used),
        Stage::SentOutcomeUnknown { stale: false }
    );
    // Answered; the next request finds the connection reset before writing.
    used.answered();
    assert_eq!(replay::stage_for_test(&reset, &used), Stage::NotSent);
    used.wrote(80);
    assert_eq!(
        replay::stage_for_test(&reset, &used),
        Stage::SentOutcomeUnknown { stale: true }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buffered_body_larger_than_the_cap_is_refused_without_reading_it_all() {
    let (host, closed, _dir) = chunked_daemon(1_000_000, "endless\n", false);
    let config = Config::for_host(&host).expect("config");
    let t = Transport::new(
        &config,
        TransportOptions {
            max_response_body: 64 << 10,
            ..TransportOptions::default()
        },
    )
    .expect("transport");
    let resp = t
        .send(request_for(
            &crate::operations::CONTAINER_INSPECT,
            http::Method::GET,
            "/containers/x/json",
        ))
        .await
        .expect("head");
    let e = tokio::time::timeout(
        Duration::from_secs(10),
        collect("ContainerInspect", resp.into_body()),
    )
    .await
    .expect("no hang")
    .expect_err("too large");
    assert!(
        matches!(e, Error::ResponseTooLarge { operation: "ContainerInspect", limit } if limit == 64 << 10),
        "{e:?}"
    );
    assert!(e.to_string().contains("65536"), "{e}");
    // The rest is not read: the connection is closed.
    tokio::time::timeout(Duration::from_secs(5), closed)
        .await
        .expect("closed")
        .expect("daemon");
}

#[tokio::test]
async fn the_request_deadline_covers_the_body() {
    let dir = tempdir::Dir::new();
    let path = dir.0.join("d.sock");
    let listener = UnixListener::bind(&path).expect("bind");
    tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        read_head(&mut s).await.expect("request");
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{\"a\"")
            .await;
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    let config = Config::for_host(&format!("unix://{}", path.display())).expect("config");
    let t = Transport::new(
        &config,
        TransportOptions {
            request_timeout: Some(Duration::from_millis(300)),
            ..TransportOptions::default()
        },
    )
    .expect("transport");
    let resp = t
        .send(request_for(
            &crate::operations::CONTAINER_INSPECT,
            http::Method::GET,
            "/containers/x/json",
        ))
        .await
        .expect("head");
    let e = tokio::time::timeout(
        Duration::from_secs(5),
        collect("ContainerInspect", resp.into_body()),
    )
    .await
    .expect("the deadline, not the test's timeout")
    .expect_err("stalled body");
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
async fn the_header_timeout_cuts_inspect_but_never_wait() {
    let (host, _dir) = silent_daemon();
    let config = Config::for_host(&host).expect("config");
    let t = Transport::new(
        &config,
        TransportOptions {
            response_header_timeout: Some(Duration::from_millis(200)),
            request_timeout: Some(Duration::from_millis(200)),
            ..TransportOptions::default()
        },
    )
    .expect("transport");
    let e = t
        .send(request_for(
            &crate::operations::CONTAINER_INSPECT,
            http::Method::GET,
            "/containers/x/json",
        ))
        .await
        .expect_err("silence");
    assert!(e.is_timeout() && e.is_retryable(), "{e:?}");
    // `wait` answers when the container stops: still waiting long after.
    let wait = t.send(request_for(
        &crate::operations::CONTAINER_WAIT,
        http::Method::POST,
        "/containers/x/wait",
    ));
    assert!(
        tokio::time::timeout(Duration::from_secs(1), wait)
            .await
            .is_err(),
        "wait must not be cut by the header timeout or the deadline"
    );
    // Nor a stream.
    let logs = t.send_streaming(request_for(
        &crate::operations::CONTAINER_LOGS,
        http::Method::GET,
        "/containers/x/logs",
    ));
    assert!(tokio::time::timeout(Duration::from_secs(1), logs)
        .await
        .is_err());
}

/// A daemon that answers every request but those whose path starts with
/// `/silent`, which it reads and leaves unanswered; counts connections.
fn picky_daemon() -> (String, Arc<AtomicUsize>, tempdir::Dir) {
    let dir = tempdir::Dir::new();
    let path = dir.0.join("d.sock");
    let listener = UnixListener::bind(&path).expect("bind");
    let conns = Arc::new(AtomicUsize::new(0));
    let c = conns.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                while let Some(head) = read_head(&mut s).await {
                    let path = head.split(' ').nth(1).unwrap_or("").to_owned();
                    if !path.starts_with("/silent") {
                        respond(&mut s, false, &path).await;
                    }
                }
            });
        }
    });
    (format!("unix://{}", path.display()), conns, dir)
}

/// The header timeout's timer stays with its connection from one request to
/// the next and is moved to each request's deadline: a request on a kept
/// connection is cut at its own deadline, neither at the previous
/// request's (which passes while it waits) nor never; also when that timer
/// went off while the connection was idle.
#[tokio::test]
async fn the_header_timeout_holds_on_a_kept_connection() {
    let (host, conns, _dir) = picky_daemon();
    let config = Config::for_host(&host).expect("config");
    let limit = Duration::from_millis(300);
    let t = Transport::new(
        &config,
        TransportOptions {
            response_header_timeout: Some(limit),
            ..TransportOptions::default()
        },
    )
    .expect("transport");
    let inspect = |path: &str| {
        request_for(
            &crate::operations::CONTAINER_INSPECT,
            http::Method::GET,
            path,
        )
    };
    for (round, idle) in [
        (1, Duration::from_millis(150)),
        (2, Duration::from_millis(600)),
    ] {
        let r = t.send(inspect("/a")).await.expect("answered");
        assert_eq!(body_text(r).await, "/a");
        // Idle for part of the first request's timeout, or for longer.
        tokio::time::sleep(idle).await;
        let start = std::time::Instant::now();
        let e = t
            .send(inspect("/silent"))
            .await
            .expect_err("never answered");
        let took = start.elapsed();
        assert!(e.is_timeout(), "{e:?}");
        assert!(
            took >= limit - Duration::from_millis(20) && took < Duration::from_secs(3),
            "round {round}: cut after {took:?}, the limit is {limit:?}"
        );
        // On the kept connection (a timed-out one is closed: the next round
        // opens another).
        assert_eq!(conns.load(Ordering::SeqCst), round);
    }
}

#[test]
fn which_operations_answer_at_once() {
    use crate::operations as ops;
    for op in [
        &ops::CONTAINER_INSPECT,
        &ops::CONTAINER_LIST,
        &ops::SYSTEM_INFO,
        &ops::CONTAINER_CREATE,
    ] {
        assert!(answers_at_once(op), "{}", op.id);
    }
    for op in [
        &ops::CONTAINER_WAIT,
        &ops::CONTAINER_STOP,
        &ops::CONTAINER_RESTART,
        &ops::CONTAINER_KILL,
        &ops::CONTAINER_ATTACH,
        &ops::EXEC_START,
        &ops::SYSTEM_EVENTS,
        &ops::CONTAINER_LOGS,
        &ops::IMAGE_CREATE,
        &ops::IMAGE_PUSH,
        &ops::IMAGE_BUILD,
        &ops::IMAGE_LOAD,
        &ops::SESSION,
        &ops::PUT_CONTAINER_ARCHIVE,
        &ops::CONTAINER_PRUNE,
    ] {
        assert!(!answers_at_once(op), "{}", op.id);
    }
}

/// A daemon that drops its first connection as soon as it is accepted,
/// before reading anything, and answers every request on later ones.
fn dropping_daemon() -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>, tempdir::Dir) {
    let dir = tempdir::Dir::new();
    let path = dir.0.join("d.sock");
    let listener = UnixListener::bind(&path).expect("bind");
    let conns = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let (c, r) = (conns.clone(), requests.clone());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let n = c.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                drop(s);
                continue;
            }
            let r = r.clone();
            tokio::spawn(async move {
                while let Some(head) = read_head(&mut s).await {
                    r.fetch_add(1, Ordering::SeqCst);
                    // Skip a body, if any (the tests send `{}`).
                    if head.to_ascii_lowercase().contains("content-length: 2") {
                        let mut body = [0u8; 2];
                        let _ = s.read_exact(&mut body).await;
                    }
                    let path = head.split(' ').nth(1).unwrap_or("").to_owned();
                    respond(&mut s, false, &format!("conn {n} {path}")).await;
                }
            });
        }
    });
    (format!("unix://{}", path.display()), conns, requests, dir)
}

#[tokio::test]
async fn a_post_that_never_reached_the_daemon_is_sent_again() {
    let (host, conns, requests, _dir) = dropping_daemon();
    let t = transport(&host);
    let r = t
        .send(request(
            http::Method::POST,
            "/containers/create",
            full_body(Bytes::from_static(b"{}")),
        ))
        .await;
    assert_eq!(
        body_text(r.expect("sent again on a new connection")).await,
        "conn 1 /containers/create"
    );
    assert_eq!(conns.load(Ordering::SeqCst), 2);
    // The daemon saw it once.
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}

#[test]
fn outside_a_runtime_is_an_error_not_a_panic() {
    let t = transport("unix:///nonexistent/d.sock");
    let e = futures::executor::block_on(t.send(request(http::Method::GET, "/_ping", empty_body())))
        .expect_err("no runtime");
    assert!(matches!(e, Error::Config { .. }), "{e:?}");
    let e = futures::executor::block_on(t.send_streaming(request(
        http::Method::GET,
        "/events",
        empty_body(),
    )))
    .expect_err("no runtime");
    assert!(matches!(e, Error::Config { .. }), "{e:?}");
}

#[test]
fn defaults_bound_what_answers_at_once() {
    let d = TransportOptions::default();
    assert_eq!(d.response_header_timeout, Some(Duration::from_secs(60)));
    assert_eq!(d.connect_timeout, Duration::from_secs(30));
    assert_eq!(d.request_timeout, None);
    // A 50,000-container list (~2 KiB each with labels, ports, mounts and
    // networks) fits.
    assert!(d.max_response_body >= 50_000 * 2048);
}

#[tokio::test]
async fn a_request_body_that_fails_locally_is_io_not_a_connection_error() {
    let (host, _conns, _requests, _dir) = flaky_daemon(false);
    let t = transport(&host);
    let frames = futures::stream::iter([
        Ok(hyper::body::Frame::data(Bytes::from_static(
            b"part of a tar",
        ))),
        Err::<_, crate::error::BoxError>(Box::new(std::io::Error::other("disk read failed"))),
    ]);
    let body = http_body_util::StreamBody::new(frames).boxed_unsync();
    let e = t
        .send(request(http::Method::POST, "/build", body))
        .await
        .expect_err("the body failed");
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
    assert!(!e.is_connect() && !e.is_retryable(), "{e}");
    let mut chain = String::new();
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = src {
        chain.push_str(&s.to_string());
        chain.push_str(" <- ");
        src = s.source();
    }
    assert!(chain.contains("disk read failed"), "{chain}");
}

#[cfg(not(feature = "tls"))]
#[test]
fn tls_hosts_need_the_tls_feature() {
    for host in ["https://127.0.0.1:2376", "tcp://127.0.0.1:2376"] {
        let mut config = crate::config::Config::for_host(host).expect("config");
        if config.tls.is_none() {
            config.tls = Some(crate::config::TlsConfig {
                ca: None,
                cert: None,
                key: None,
                verify: true,
            });
        }
        let e = Transport::new(&config, TransportOptions::default())
            .err()
            .expect("refused without the feature");
        assert!(e.to_string().contains("`tls` feature"), "{host}: {e}");
    }
}

#[cfg(not(feature = "ssh"))]
#[test]
fn ssh_hosts_need_the_ssh_feature() {
    let config = crate::config::Config::for_host("ssh://root@127.0.0.1:2222").expect("config");
    let e = Transport::new(&config, TransportOptions::default())
        .err()
        .expect("refused without the feature");
    assert!(e.to_string().contains("`ssh` feature"), "{e}");
}

/// The client's own headers (`DockerBuilder::header`) and `User-Agent` go
/// with every request, whether it brings headers of its own or not, and a
/// `Host` among them stands in both cases (a proxy may route by it).
#[tokio::test]
async fn the_clients_headers_and_host_go_with_every_request() {
    let dir = tempdir::Dir::new();
    let sock = dir.0.join("d.sock");
    let listener = UnixListener::bind(&sock).expect("bind");
    let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = heads.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                while let Some(head) = read_head(&mut s).await {
                    seen.lock().unwrap().push(head.to_ascii_lowercase());
                    respond(&mut s, false, "ok").await;
                }
            });
        }
    });
    let mut extra = http::HeaderMap::new();
    extra.insert("x-team", http::HeaderValue::from_static("a"));
    extra.insert(
        http::header::HOST,
        http::HeaderValue::from_static("via.proxy"),
    );
    let t = transport(&format!("unix://{}", sock.display()))
        .with_common_headers(http::HeaderValue::from_static("probe/1"), extra);
    let r = t
        .send(request(http::Method::GET, "/plain", empty_body()))
        .await;
    assert_eq!(body_text(r.expect("plain")).await, "ok");
    let mut own = request(http::Method::GET, "/own", empty_body());
    own.headers_mut()
        .insert("x-own", http::HeaderValue::from_static("1"));
    let r = t.send(own).await;
    assert_eq!(body_text(r.expect("own")).await, "ok");
    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 2, "{heads:?}");
    for head in &heads {
        assert!(head.contains("\r\nuser-agent: probe/1\r\n"), "{head}");
        assert!(head.contains("\r\nx-team: a\r\n"), "{head}");
        assert!(head.contains("\r\nhost: via.proxy\r\n"), "{head}");
        assert_eq!(head.matches("\r\nhost:").count(), 1, "{head}");
    }
    assert!(heads[1].contains("\r\nx-own: 1\r\n"), "{}", heads[1]);
}
