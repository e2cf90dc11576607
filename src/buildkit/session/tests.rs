//! The session's gRPC server, driven by a plain HTTP/2 gRPC client over an
//! in-memory connection, as the daemon drives it over `/session`.

use super::*;
use crate::auth::AuthConfig;
use bytes::{Buf, Bytes};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use prost::Message;

type Client = hyper::client::conn::http2::SendRequest<
    http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>,
>;

async fn client(a: Attachables) -> Client {
    let (c, s) = tokio::io::duplex(1 << 20);
    tokio::spawn(serve(s, Arc::new(a)));
    let (send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(c),
    )
    .await
    .expect("h2 handshake");
    tokio::spawn(conn);
    send
}

/// A gRPC message frame: not compressed, length, bytes.
fn frame<M: Message>(m: &M) -> Bytes {
    let body = m.encode_to_vec();
    let mut b = vec![0u8];
    b.extend_from_slice(&(body.len() as u32).to_be_bytes());
    b.extend_from_slice(&body);
    b.into()
}

fn request(
    path: &str,
    metadata: &[(&str, &str)],
    body: http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>,
) -> http::Request<http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>> {
    let mut b = http::Request::post(format!("http://session{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (k, v) in metadata {
        b = b.header(*k, *v);
    }
    b.body(body).expect("request")
}

/// The gRPC status of a finished call (from the trailers, or the headers of
/// a trailers-only answer), and the messages it carried.
async fn finish(resp: http::Response<hyper::body::Incoming>) -> (i32, String, Vec<Bytes>) {
    let (parts, body) = resp.into_parts();
    let collected = body.collect().await.expect("body");
    let trailers = collected.trailers().cloned().unwrap_or_default();
    let get = |k: &str| {
        trailers
            .get(k)
            .or_else(|| parts.headers.get(k))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let status = get("grpc-status").parse().unwrap_or(-1);
    let message = percent_encoding::percent_decode_str(&get("grpc-message"))
        .decode_utf8_lossy()
        .into_owned();
    let mut data = collected.to_bytes();
    let mut messages = Vec::new();
    while data.len() >= 5 {
        let len = u32::from_be_bytes([data[1], data[2], data[3], data[4]]) as usize;
        data.advance(5);
        messages.push(data.split_to(len));
    }
    (status, message, messages)
}

async fn unary<Req: Message, Resp: Message + Default>(
    send: &mut Client,
    path: &str,
    req: &Req,
) -> Result<Resp, (i32, String)> {
    let body = Full::new(frame(req)).boxed();
    let resp = send
        .send_request(request(path, &[], body))
        .await
        .expect("send");
    let (status, message, messages) = finish(resp).await;
    if status != 0 {
        return Err((status, message));
    }
    Ok(Resp::decode(messages[0].clone()).expect("decode"))
}

/// A streaming call: messages go in through the sender, come out of the
/// response body.
async fn streaming(
    send: &mut Client,
    path: &str,
    metadata: &[(&str, &str)],
) -> (
    tokio::sync::mpsc::Sender<Bytes>,
    http::Response<hyper::body::Incoming>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let frames = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(Frame::data(b)), rx))
    });
    let body = BodyExt::boxed(StreamBody::new(frames));
    let resp = send
        .send_request(request(path, metadata, body))
        .await
        .expect("send");
    (tx, resp)
}

/// The next gRPC message of a streaming answer.
async fn next_message<M: Message + Default>(
    body: &mut hyper::body::Incoming,
    buf: &mut Vec<u8>,
) -> Option<M> {
    loop {
        if buf.len() >= 5 {
            let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
            if buf.len() >= 5 + len {
                let m = M::decode(&buf[5..5 + len]).expect("decode");
                buf.drain(..5 + len);
                return Some(m);
            }
        }
        let f = body.frame().await?.expect("frame");
        if let Ok(data) = f.into_data() {
            buf.extend_from_slice(&data);
        }
    }
}

#[tokio::test]
async fn health_and_unknown_methods() {
    let mut c = client(Attachables::default()).await;
    let r: proto::HealthCheckResponse =
        unary(&mut c, HEALTH_CHECK, &proto::HealthCheckRequest::default())
            .await
            .expect("health");
    assert_eq!(r.status, proto::ServingStatus::Serving as i32);
    // Secrets are not served without secrets: UNIMPLEMENTED (12).
    let e = unary::<_, proto::GetSecretResponse>(
        &mut c,
        SECRETS_GET,
        &proto::GetSecretRequest::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(e.0, 12, "{e:?}");
    assert_eq!(Attachables::default().methods(), [HEALTH_CHECK]);
}

#[tokio::test]
async fn secrets_by_id_and_missing_ones_named() {
    let mut a = Attachables::default();
    a.secrets
        .insert("token".into(), SecretSource::value("s3cr3t"));
    a.secrets.insert(
        "env".into(),
        SecretSource::env("DOCKHAND_SURELY_UNSET_VARIABLE"),
    );
    assert!(a.methods().contains(&SECRETS_GET));
    let mut c = client(a).await;
    let ask = |id: &str| proto::GetSecretRequest {
        id: id.into(),
        ..Default::default()
    };
    let r: proto::GetSecretResponse = unary(&mut c, SECRETS_GET, &ask("token"))
        .await
        .expect("secret");
    assert_eq!(r.data, b"s3cr3t");
    // NOT_FOUND (5), naming the id, never another secret's value.
    for id in ["nope", "env"] {
        let e = unary::<_, proto::GetSecretResponse>(&mut c, SECRETS_GET, &ask(id))
            .await
            .unwrap_err();
        assert_eq!(e.0, 5, "{e:?}");
        assert!(e.1.contains(id) && !e.1.contains("s3cr3t"), "{e:?}");
    }
}

#[tokio::test]
async fn credentials_for_a_host() {
    let a = Attachables {
        auth: Some(RegistryAuth::Credentials(AuthConfig {
            username: Some("me".into()),
            password: Some("pw".into()),
            ..Default::default()
        })),
        ..Default::default()
    };
    let mut c = client(a).await;
    let ask = proto::CredentialsRequest {
        host: "127.0.0.1:5001".into(),
    };
    let r: proto::CredentialsResponse = unary(&mut c, AUTH_CREDENTIALS, &ask).await.expect("creds");
    assert_eq!((r.username.as_str(), r.secret.as_str()), ("me", "pw"));
    // An identity token goes as the secret, without a user name.
    let a = Attachables {
        auth: Some(RegistryAuth::Credentials(AuthConfig {
            username: Some("me".into()),
            identitytoken: Some("tok".into()),
            ..Default::default()
        })),
        ..Default::default()
    };
    let mut c = client(a).await;
    let r: proto::CredentialsResponse = unary(&mut c, AUTH_CREDENTIALS, &ask).await.expect("creds");
    assert_eq!((r.username.as_str(), r.secret.as_str()), ("", "tok"));
    // Anonymous: empty credentials, not an error.
    let a = Attachables {
        auth: Some(RegistryAuth::Anonymous),
        ..Default::default()
    };
    let mut c = client(a).await;
    let r: proto::CredentialsResponse = unary(&mut c, AUTH_CREDENTIALS, &ask).await.expect("creds");
    assert_eq!(r, proto::CredentialsResponse::default());
}

fn temp_dir(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!(
        "dockhand-session-{tag}-{}",
        super::super::unique_id(tag)
    ));
    std::fs::create_dir_all(&p).expect("temp dir");
    p
}

#[cfg(unix)]
#[tokio::test]
async fn ssh_agent_bytes_go_both_ways() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = temp_dir("ssh");
    let sock = dir.join("agent.sock");
    let listener = tokio::net::UnixListener::bind(&sock).expect("bind");
    // A stand-in agent: answers each request with it reversed.
    let agent = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.expect("accept");
        let mut buf = [0u8; 4];
        conn.read_exact(&mut buf).await.expect("read");
        buf.reverse();
        conn.write_all(&buf).await.expect("write");
        buf
    });
    let mut a = Attachables::default();
    a.ssh.insert("default".into(), sock.clone());
    let mut c = client(a).await;
    let r: proto::CheckAgentResponse = unary(
        &mut c,
        SSH_CHECK_AGENT,
        &proto::CheckAgentRequest { id: String::new() },
    )
    .await
    .expect("default agent");
    assert_eq!(r, proto::CheckAgentResponse {});
    let e = unary::<_, proto::CheckAgentResponse>(
        &mut c,
        SSH_CHECK_AGENT,
        &proto::CheckAgentRequest { id: "other".into() },
    )
    .await
    .unwrap_err();
    assert_eq!(e.0, 5, "{e:?}");

    let (tx, resp) = streaming(&mut c, SSH_FORWARD_AGENT, &[]).await;
    tx.send(frame(&proto::SshBytes {
        data: b"ping".to_vec(),
    }))
    .await
    .expect("send");
    let mut body = resp.into_body();
    let mut buf = Vec::new();
    let m: proto::SshBytes = next_message(&mut body, &mut buf).await.expect("answer");
    assert_eq!(m.data, b"gnip");
    assert_eq!(&agent.await.expect("agent"), b"gnip");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn file_sync_serves_named_dirs_only() {
    let dir = temp_dir("sync");
    std::fs::write(dir.join("Dockerfile"), b"FROM scratch\n").expect("write");
    std::fs::write(dir.join("other"), b"x").expect("write");
    let mut a = Attachables::default();
    a.dirs.insert(
        "dockerfile".into(),
        SyncedDir {
            dir: dir.clone(),
            excludes: None,
        },
    );
    let mut c = client(a).await;

    // The daemon's request for the Dockerfile: follow paths in metadata.
    let (tx, resp) = streaming(
        &mut c,
        FILE_SYNC_DIFF_COPY,
        &[("dir-name", "dockerfile"), ("followpaths", "Dockerfile")],
    )
    .await;
    let mut body = resp.into_body();
    let mut buf = Vec::new();
    let p: proto::Packet = next_message(&mut body, &mut buf).await.expect("stat");
    assert_eq!(p.stat.as_ref().map(|s| s.path.as_str()), Some("Dockerfile"));
    let end: proto::Packet = next_message(&mut body, &mut buf).await.expect("end");
    assert_eq!(end.stat, None);
    let req = proto::Packet {
        r#type: proto::PacketType::PacketReq as i32,
        id: 0,
        ..Default::default()
    };
    tx.send(frame(&req)).await.expect("req");
    let data: proto::Packet = next_message(&mut body, &mut buf).await.expect("data");
    assert_eq!(data.data, b"FROM scratch\n");
    let eof: proto::Packet = next_message(&mut body, &mut buf).await.expect("eof");
    assert!(eof.data.is_empty());
    let fin = proto::Packet {
        r#type: proto::PacketType::PacketFin as i32,
        ..Default::default()
    };
    tx.send(frame(&fin)).await.expect("fin");
    let fin: proto::Packet = next_message(&mut body, &mut buf).await.expect("fin back");
    assert_eq!(fin.r#type, proto::PacketType::PacketFin as i32);

    // A directory the session does not offer: INVALID_ARGUMENT (3).
    let (_tx, resp) = streaming(&mut c, FILE_SYNC_DIFF_COPY, &[("dir-name", "context")]).await;
    let (status, message, _) = finish(resp).await;
    assert_eq!(status, 3, "{message}");
    assert!(
        message.contains("no access allowed to dir \"context\""),
        "{message}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_tar_output_is_written_as_it_comes() {
    let (writer, mut reader) = tokio::io::duplex(1024);
    let a = Attachables {
        output: Some(BuildOutput::tar_writer(writer)),
        ..Default::default()
    };
    assert!(a.methods().contains(&FILE_SEND_DIFF_COPY));
    let mut c = client(a).await;
    let (tx, resp) = streaming(&mut c, FILE_SEND_DIFF_COPY, &[]).await;
    for chunk in [&b"first "[..], b"second"] {
        tx.send(frame(&proto::BytesMessage {
            data: chunk.to_vec(),
        }))
        .await
        .expect("send");
    }
    drop(tx);
    let mut got = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut got)
        .await
        .expect("read");
    assert_eq!(got, b"first second");
    let (status, message, _) = finish(resp).await;
    assert_eq!(status, 0, "{message}");
}
