//! An `https://` host with no CA file is verified against the system's root
//! certificates (here: the CA that `SSL_CERT_FILE` names, which is how the
//! platform store can be pointed elsewhere), and a server whose CA is not
//! among them is refused. The server is a small rustls one on 127.0.0.1 with
//! a certificate made for the test.

use dockhand::Docker;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A CA and a `localhost` server certificate it signed: (CA PEM, chain, key).
fn certificates() -> (
    String,
    Vec<rustls::pki_types::CertificateDer<'static>>,
    rustls::pki_types::PrivateKeyDer<'static>,
) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "dockhand tls_roots test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let der_key = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
    (ca.pem(), vec![cert.der().clone()], der_key)
}

/// Serves every request on every connection with a 200 carrying a version
/// document and the negotiation headers.
async fn serve(
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match tls.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                    buf.drain(..end + 4);
                    let body = r#"{"Version":"20.10.99","ApiVersion":"1.41"}"#;
                    let mut reply = format!(
                        "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nOstype: linux\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    if !head.starts_with("HEAD ") {
                        reply.push_str(body);
                    }
                    if tls.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn https_without_a_ca_file_is_verified_against_the_system_roots() {
    let (ca_pem, chain, key) = certificates();
    let port = serve(chain, key).await;
    let dir = std::env::temp_dir().join(format!("dockhand-tls-roots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    // No DOCKER_CERT_PATH files: an empty directory.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::env::set_var("DOCKER_CERT_PATH", &empty);
    std::env::remove_var("DOCKER_TLS_VERIFY");
    let host = format!("https://localhost:{port}");

    // The system store, pointed at the test CA: verified and answered.
    std::env::set_var("SSL_CERT_FILE", &ca_file);
    let docker = Docker::connect_with_host(&host).expect("client");
    let v = docker.system().version().await.expect("version over https");
    assert_eq!(v.version.as_deref(), Some("20.10.99"));

    // The machine's own roots (or none at all): the test CA is not among
    // them, so the connection is refused, never made unverified.
    std::env::remove_var("SSL_CERT_FILE");
    let refused = match Docker::connect_with_host(&host) {
        Err(e) => e,
        Ok(docker) => docker
            .system()
            .version()
            .await
            .expect_err("a certificate from an unknown CA"),
    };
    let shown = format!("{refused} {refused:?}");
    assert!(
        shown.contains("UnknownIssuer") || shown.contains("no system root certificate"),
        "{shown}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
