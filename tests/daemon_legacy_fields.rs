//! Fields that the newest API dropped but older daemons still send are
//! typed, not left in `extra`: against the test daemon (dockerd 20.10, API
//! 1.41), `system df` fills `images`/`containers`/`volumes`, a container's
//! `NetworkSettings` has its `ip_address`, and nothing of it stays in `extra`.

mod common;

use common::test_env;
use dockhand::models::{ContainerCreateBody, HostConfig};
use dockhand::operations::ContainerDeleteOptions;
use dockhand::Docker;

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn fields_only_older_daemons_send_are_typed() {
    let env = test_env("fields_only_older_daemons_send_are_typed");
    let docker = Docker::connect_with_host("unix:///var/run/docker.sock").expect("client");

    let body = ContainerCreateBody {
        image: Some(env.image.clone()),
        cmd: Some(vec!["sleep".into(), "30".into()]),
        host_config: Some(HostConfig::default()),
        ..Default::default()
    };
    let id = docker
        .containers()
        .create(&body, &Default::default())
        .await
        .expect("create")
        .id;
    let result = async {
        docker.containers().start(&id, &Default::default()).await?;
        let c = docker
            .containers()
            .inspect(&id, &Default::default())
            .await?;
        let df = docker.system().df(&Default::default()).await?;
        Ok::<_, dockhand::Error>((c, df))
    }
    .await;
    let _ = docker
        .containers()
        .remove(&id, &ContainerDeleteOptions::default().force(true))
        .await;
    let (c, df) = result.expect("inspect and df");

    // NetworkSettings.IPAddress: removed in 1.52, sent by 20.10 for a running
    // container on the default bridge.
    let net = c.network_settings.expect("network settings");
    let ip = net.ip_address.clone().unwrap_or_default();
    assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "{ip:?}");
    assert!(!net.extra.contains_key("IPAddress"), "typed, not in extra");

    // system df's 1.25–1.51 shape.
    let images = df.images.as_ref().expect("Images typed");
    assert!(
        images
            .iter()
            .any(|i| i.repo_tags.iter().flatten().any(|t| t == &env.image)),
        "the test image is listed"
    );
    assert!(df
        .containers
        .as_ref()
        .expect("Containers typed")
        .iter()
        .any(|s| s.id.as_deref() == Some(id.as_str())));
    assert!(df.layers_size.is_some_and(|n| n > 0));
    assert!(df.volumes.is_some(), "Volumes typed");
    for key in ["Images", "Containers", "Volumes", "LayersSize"] {
        assert!(!df.extra.contains_key(key), "{key} typed, not in extra");
    }
    // The newest shape is absent on this daemon, and nothing is lost on the
    // way back out.
    assert!(df.image_usage.is_none());
    let v = serde_json::to_value(&df).expect("encode");
    assert!(v["Images"].as_array().is_some_and(|a| !a.is_empty()));
}
