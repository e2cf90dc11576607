//! Real daemon: responses of the test daemon (dockerd 20.10, API 1.41) decode
//! into the generated types and encode back to the same JSON.
//!
//! Needs the test environment (`scripts/test-env.sh`): ignored by a plain
//! `cargo test`, run by `scripts/test.sh` (`--include-ignored`).
//!
//! Unix only: it talks to the daemon's Unix socket directly.
#![cfg(unix)]

mod common;

use bytes::Bytes;
use dockhand::models::{
    ContainerInspectResponse, ContainerSummary, ImageInspect, ImageSummary, NetworkSummary,
    SystemDataUsageResponse, SystemInfo, SystemVersion, VolumeListResponse,
};

use common::assert_lossless;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

const SOCKET: &str = "/var/run/docker.sock";

/// One request over a fresh connection to the daemon's socket.
async fn call(method: &str, path: &str, body: Option<Value>) -> Result<(u16, Bytes), String> {
    let stream = tokio::net::UnixStream::connect(SOCKET)
        .await
        .map_err(|e| format!("connect {SOCKET}: {e}"))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    tokio::spawn(conn);
    let mut req = http::Request::builder()
        .method(method)
        .uri(format!("/v1.41{path}"))
        .header("Host", "docker");
    let body = match body {
        Some(v) => {
            req = req.header("Content-Type", "application/json");
            Bytes::from(v.to_string())
        }
        None => Bytes::new(),
    };
    let resp = sender
        .send_request(req.body(Full::new(body)).map_err(|e| e.to_string())?)
        .await
        .map_err(|e| format!("{method} {path}: {e}"))?;
    let status = resp.status().as_u16();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("{method} {path} body: {e}"))?
        .to_bytes();
    Ok((status, bytes))
}

async fn get_ok(path: &str) -> Bytes {
    let (status, body) = call("GET", path, None).await.expect("request");
    assert_eq!(
        status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&body)
    );
    body
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn daemon_responses_round_trip_losslessly() {
    let env = common::test_env("daemon_responses_round_trip_losslessly");
    if let Err(e) = tokio::net::UnixStream::connect(SOCKET).await {
        panic!("the test daemon is not reachable at {SOCKET}: {e}: run scripts/test-env.sh");
    }

    // Something to look at: a labelled container from the test image, and a volume.
    let label = format!("dockhand-test-models-{}", std::process::id());
    let (status, body) = call(
        "POST",
        "/containers/create",
        Some(json!({
            "Image": env.image,
            "Cmd": ["sleep", "30"],
            "Labels": {"dockhand.test": label},
            "ExposedPorts": {"8080/tcp": {}},
            "HostConfig": {"PortBindings": {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}}
        })),
    )
    .await
    .expect("create");
    assert_eq!(status, 201, "create: {}", String::from_utf8_lossy(&body));
    let created: Value = serde_json::from_slice(&body).expect("create response");
    let id = created["Id"].as_str().expect("Id").to_owned();
    let (status, body) = call(
        "POST",
        "/volumes/create",
        Some(json!({"Name": label, "Labels": {"dockhand.test": "1"}})),
    )
    .await
    .expect("volume create");
    assert_eq!(
        status,
        201,
        "volume create: {}",
        String::from_utf8_lossy(&body)
    );

    let result = std::panic::AssertUnwindSafe(async {
        let v: SystemVersion = assert_lossless("GET /version", &get_ok("/version").await);
        assert_eq!(v.api_version.as_deref(), Some("1.41"));
        assert_lossless::<SystemInfo>("GET /info", &get_ok("/info").await);

        let list: Vec<ContainerSummary> = assert_lossless(
            "GET /containers/json?all=1",
            &get_ok("/containers/json?all=1").await,
        );
        assert!(
            list.iter().any(|c| c.id.as_deref() == Some(id.as_str())),
            "new container listed"
        );

        let c: ContainerInspectResponse = assert_lossless(
            "GET /containers/{id}/json",
            &get_ok(&format!("/containers/{id}/json")).await,
        );
        assert_eq!(c.id.as_deref(), Some(id.as_str()));

        let images: Vec<ImageSummary> =
            assert_lossless("GET /images/json", &get_ok("/images/json").await);
        let image_id = images
            .iter()
            .find(|i| i.repo_tags.iter().flatten().any(|t| *t == env.image))
            .map(|i| i.id.clone())
            .expect("test image listed");
        let image: ImageInspect = assert_lossless(
            "GET /images/{id}/json",
            &get_ok(&format!("/images/{image_id}/json")).await,
        );
        assert_eq!(image.id.as_deref(), Some(image_id.as_str()));

        let nets: Vec<NetworkSummary> =
            assert_lossless("GET /networks", &get_ok("/networks").await);
        assert!(nets.iter().any(|n| n.name.as_deref() == Some("bridge")));

        let vols: VolumeListResponse = assert_lossless("GET /volumes", &get_ok("/volumes").await);
        assert!(vols.volumes.iter().flatten().any(|v| v.name == label));

        assert_lossless::<SystemDataUsageResponse>("GET /system/df", &get_ok("/system/df").await);
    });
    let outcome = futures::FutureExt::catch_unwind(result).await;

    let _ = call("DELETE", &format!("/containers/{id}?force=1"), None).await;
    let _ = call("DELETE", &format!("/volumes/{label}"), None).await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
