//! Real daemon (dockerd 20.10, API 1.41): what the public API promises about
//! versions and names, shown against the daemon that would otherwise get it
//! wrong. Needs the test environment (`scripts/test-env.sh`): ignored by a
//! plain `cargo test`, run by `scripts/test.sh` (`--include-ignored`).

mod common;

use common::test_env;
use dockhand::models::{ContainerCreateBody, HostConfig, Mount, MountType, MountVolumeOptions};
use dockhand::operations::{ContainerCreateOptions, ContainerDeleteOptions, ContainerListOptions};
use dockhand::{filters, ApiVersion, Docker, Error};

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn a_volume_subpath_is_refused_by_a_1_41_daemon_before_anything_is_sent() {
    let env = test_env("a_volume_subpath_is_refused_by_a_1_41_daemon_before_anything_is_sent");
    let docker = Docker::connect_with_host("unix:///var/run/docker.sock").expect("client");
    assert_eq!(
        docker.api_version().await.expect("negotiated"),
        ApiVersion::new(1, 41)
    );
    let name = format!("dockhand-subpath-{}", std::process::id());
    let body = ContainerCreateBody {
        image: Some(env.image.clone()),
        cmd: Some(vec!["true".into()]),
        host_config: Some(HostConfig {
            mounts: Some(vec![Mount {
                target: Some("/data".into()),
                source: Some(format!("{name}-vol")),
                type_: Some(MountType::Volume),
                volume_options: Some(MountVolumeOptions {
                    subpath: Some("only/this".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let e = docker
        .containers()
        .create(&body, &ContainerCreateOptions::default().name(name.clone()))
        .await
        .expect_err("dockerd 20.10 would mount the whole volume");
    match &e {
        Error::UnsupportedByVersion { what, needs, .. } => {
            assert!(
                what.contains("HostConfig.Mounts[0].VolumeOptions.Subpath"),
                "{what}"
            );
            assert_eq!(*needs, ApiVersion::new(1, 45));
        }
        other => panic!("{other}"),
    }
    // Nothing was sent: no such container exists.
    let found = docker
        .containers()
        .list(
            &ContainerListOptions::default()
                .all(true)
                .filters(filters! { "name" => [name.clone()] }),
        )
        .await
        .expect("list");
    assert!(found.is_empty(), "{found:?}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn names_from_a_listing_are_accepted_back() {
    let env = test_env("names_from_a_listing_are_accepted_back");
    let docker = Docker::connect_with_host("unix:///var/run/docker.sock").expect("client");
    let name = format!("dockhand-names-{}", std::process::id());
    let body = ContainerCreateBody {
        image: Some(env.image.clone()),
        cmd: Some(vec!["true".into()]),
        ..Default::default()
    };
    docker
        .containers()
        .create(&body, &ContainerCreateOptions::default().name(name.clone()))
        .await
        .expect("create");
    let listed = docker
        .containers()
        .list(
            &ContainerListOptions::default()
                .all(true)
                .filters(filters! { "name" => [name.clone()] }),
        )
        .await
        .expect("list");
    let handed_out = listed[0].names.as_ref().expect("names")[0].clone();
    assert_eq!(handed_out, format!("/{name}"), "the daemon's own spelling");
    let c = docker
        .containers()
        .inspect(&handed_out, &Default::default())
        .await
        .expect("inspect with the leading '/'");
    assert_eq!(c.name.as_deref(), Some(handed_out.as_str()));
    docker
        .containers()
        .remove(&handed_out, &ContainerDeleteOptions::default().force(true))
        .await
        .expect("remove with the leading '/'");
}
