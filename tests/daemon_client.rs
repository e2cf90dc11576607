//! The client against the real daemon of the test environment, over every
//! transport: unix socket, TCP with mutual TLS, ssh.

mod common;

use common::{test_env, TempDir, TestEnv};
use dockhand::config::{Config, Env, Host};
use dockhand::models::ContainerCreateBody;
use dockhand::operations::{ContainerDeleteOptions, ContainerListOptions, Filters};
use dockhand::{ApiVersion, Docker, Error};
use std::collections::HashMap;
use std::path::Path;
#[cfg(unix)]
use std::sync::atomic::{AtomicUsize, Ordering};
#[cfg(unix)]
use std::sync::Arc;

fn config_from(vars: &[(&str, String)]) -> dockhand::Result<Config> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let var = move |k: &str| map.get(k).cloned();
    Config::resolve(&Env {
        var: &var,
        home: None,
    })
}

fn tls_config(env: &TestEnv, cert_path: &Path) -> dockhand::Result<Config> {
    config_from(&[
        ("DOCKER_HOST", env.tls_host.clone()),
        ("DOCKER_TLS_VERIFY", "1".into()),
        ("DOCKER_CERT_PATH", cert_path.to_string_lossy().into_owned()),
    ])
}

/// Ping, version, a container's whole life, and the image list.
async fn lifecycle(docker: &Docker, env: &TestEnv, tag: &str) {
    assert_eq!(docker.system().ping().await.expect("ping"), "OK");
    let v = docker.system().version().await.expect("version");
    assert_eq!(v.api_version.as_deref(), Some("1.41"));
    assert_eq!(
        docker.api_version().await.expect("negotiated"),
        ApiVersion::new(1, 41)
    );

    let label = format!("dockhand-test-{tag}-{}", std::process::id());
    let body = ContainerCreateBody {
        image: Some(env.image.clone()),
        cmd: Some(vec!["sh".into(), "-c".into(), "exit 3".into()]),
        labels: Some(
            [("dockhand.test".to_owned(), label.clone())]
                .into_iter()
                .collect(),
        ),
        ..Default::default()
    };
    let containers = docker.containers();
    let id = containers
        .create(&body, &Default::default())
        .await
        .expect("create")
        .id;
    let result = async {
        containers.start(&id, &Default::default()).await?;
        let waited = containers.wait(&id, &Default::default()).await?;
        assert_eq!(waited.status_code, 3, "exit code through wait");
        let c = containers.inspect(&id, &Default::default()).await?;
        assert_eq!(c.state.as_ref().and_then(|s| s.exit_code), Some(3));
        let mut f = Filters::new();
        f.insert("label".into(), vec![format!("dockhand.test={label}")]);
        let listed = containers
            .list(&ContainerListOptions::default().all(true).filters(f))
            .await?;
        assert_eq!(
            listed.len(),
            1,
            "the label filter finds exactly our container"
        );
        Ok::<_, Error>(())
    }
    .await;
    containers
        .remove(&id, &ContainerDeleteOptions::default().force(true))
        .await
        .expect("remove");
    result.expect("lifecycle");
    let e = containers
        .inspect(&id, &Default::default())
        .await
        .expect_err("removed");
    assert!(e.is_not_found(), "{e}");

    let images = docker
        .images()
        .list(&Default::default())
        .await
        .expect("images");
    assert!(
        images
            .iter()
            .any(|i| i.repo_tags.iter().flatten().any(|t| *t == env.image)),
        "test image listed"
    );
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn unix_socket() {
    let env = test_env("unix_socket");
    let docker = Docker::connect_with_host("unix:///var/run/docker.sock").expect("client");
    lifecycle(&docker, &env, "unix").await;
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn tcp_with_mutual_tls() {
    let env = test_env("tcp_with_mutual_tls");
    let config = tls_config(&env, &env.tls_cert_path).expect("config");
    assert!(matches!(config.host, Host::Tcp { port: 2376, .. }));
    let docker = Docker::builder().config(config).build().expect("client");
    lifecycle(&docker, &env, "tls").await;
}

fn chain(e: &Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(x) = src {
        s.push_str(" <- ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn tls_with_the_wrong_ca_fails_clearly() {
    let env = test_env("tls_with_the_wrong_ca_fails_clearly");
    let docker = Docker::builder()
        .config(tls_config(&env, &env.tls_wrong_ca_path).expect("config"))
        .build()
        .expect("client");
    let e = docker.system().ping().await.expect_err("wrong CA");
    let text = chain(&e);
    assert!(matches!(e, Error::Connect { .. }), "{text}");
    assert!(text.contains("127.0.0.1:2376"), "names the host: {text}");
    assert!(text.contains("UnknownIssuer"), "says why: {text}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn tls_without_a_client_certificate_fails_clearly() {
    let env = test_env("tls_without_a_client_certificate_fails_clearly");
    let dir = TempDir::new("no-client-cert");
    std::fs::copy(env.tls_cert_path.join("ca.pem"), dir.0.join("ca.pem")).expect("copy CA");
    let docker = Docker::builder()
        .config(tls_config(&env, &dir.0).expect("config"))
        .build()
        .expect("client");
    let e = docker
        .system()
        .ping()
        .await
        .expect_err("no client certificate");
    let text = chain(&e);
    assert!(matches!(e, Error::Connect { .. }), "{text}");
    assert!(
        text.to_lowercase().contains("certificate"),
        "says why: {text}"
    );
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn ssh_dial_stdio() {
    let env = test_env("ssh_dial_stdio");
    let docker = Docker::connect_with_host(&env.ssh_host).expect("client");
    lifecycle(&docker, &env, "ssh").await;
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn ssh_to_a_closed_port_fails_with_what_ssh_said() {
    let _env = test_env("ssh_to_a_closed_port_fails_with_what_ssh_said");
    let docker = Docker::connect_with_host("ssh://root@127.0.0.1:1").expect("client");
    let e = docker
        .system()
        .ping()
        .await
        .expect_err("nobody listens on port 1");
    let text = chain(&e);
    assert!(matches!(e, Error::Connect { .. }), "{text}");
    assert!(
        text.contains("ssh said") && text.contains("refused"),
        "{text}"
    );
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn named_context_pointing_at_the_tls_daemon() {
    let env = test_env("named_context_pointing_at_the_tls_daemon");
    let cfg = TempDir::new("context");
    let id = common::write_context(&cfg.0, "tls-test", &env.tls_host);
    let tls = cfg.0.join("contexts/tls").join(&id).join("docker");
    std::fs::create_dir_all(&tls).expect("tls dir");
    for f in ["ca.pem", "cert.pem", "key.pem"] {
        std::fs::copy(env.tls_cert_path.join(f), tls.join(f)).expect("copy TLS file");
    }
    std::fs::write(
        cfg.0.join("config.json"),
        r#"{"currentContext":"tls-test"}"#,
    )
    .expect("config.json");
    let config =
        config_from(&[("DOCKER_CONFIG", cfg.0.to_string_lossy().into_owned())]).expect("config");
    assert_eq!(config.source, "context \"tls-test\"");
    let docker = Docker::builder().config(config).build().expect("client");
    let v = docker
        .system()
        .version()
        .await
        .expect("version through the context");
    assert_eq!(v.api_version.as_deref(), Some("1.41"));
}

/// Bytes sent through a proxy in front of the daemon's socket (Unix only).
#[cfg(unix)]
async fn counting_proxy(dir: &Path) -> (String, Arc<AtomicUsize>) {
    let path = dir.join("proxy.sock");
    let listener = tokio::net::UnixListener::bind(&path).expect("bind proxy");
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let Ok(mut daemon) = tokio::net::UnixStream::connect("/var/run/docker.sock").await
                else {
                    return;
                };
                let (mut cr, mut cw) = client.split();
                let (mut dr, mut dw) = daemon.split();
                let up = async {
                    let mut buf = [0u8; 8192];
                    loop {
                        let n = match tokio::io::AsyncReadExt::read(&mut cr, &mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        counter.fetch_add(n, Ordering::SeqCst);
                        if tokio::io::AsyncWriteExt::write_all(&mut dw, &buf[..n])
                            .await
                            .is_err()
                        {
                            break;
                        }
                    }
                    let _ = tokio::io::AsyncWriteExt::shutdown(&mut dw).await;
                };
                let down = tokio::io::copy(&mut dr, &mut cw);
                let _ = tokio::join!(up, down);
            });
        }
    });
    (format!("unix://{}", path.display()), sent)
}

#[cfg(unix)]
#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn newer_operation_is_refused_without_sending_anything() {
    let _env = test_env("newer_operation_is_refused_without_sending_anything");
    let dir = TempDir::new("proxy");
    let (host, sent) = counting_proxy(&dir.0).await;
    let docker = Docker::connect_with_host(&host).expect("client");
    assert_eq!(
        docker.api_version().await.expect("negotiate"),
        ApiVersion::new(1, 41)
    );
    let before = sent.load(Ordering::SeqCst);
    assert!(before > 0, "the ping went through the proxy");

    // ImageAttestations arrived in API 1.55.
    let e = docker
        .images()
        .attestations("dockhand-test/busybox:latest", &Default::default())
        .await
        .expect_err("too new for 1.41");
    match &e {
        Error::UnsupportedByVersion {
            what,
            needs,
            negotiated,
        } => {
            assert_eq!(what, "ImageAttestations");
            assert_eq!(*needs, ApiVersion::new(1, 55));
            assert_eq!(*negotiated, ApiVersion::new(1, 41));
        }
        other => panic!("{other}"),
    }
    // A parameter newer than 1.41 on an old operation: refused too.
    let e = docker
        .containers()
        .stop(
            "anything",
            &dockhand::operations::ContainerStopOptions::default().signal("SIGINT"),
        )
        .await
        .expect_err("signal needs 1.42");
    assert!(matches!(e, Error::UnsupportedByVersion { .. }), "{e}");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        sent.load(Ordering::SeqCst),
        before,
        "nothing was sent for refused calls"
    );

    // And a call 1.41 has does go through the same proxy.
    docker.system().ping().await.expect("ping");
    assert!(sent.load(Ordering::SeqCst) > before);
}
