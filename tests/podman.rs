//! Podman's Docker-compatible API (Podman 4.3, API 1.41) as a target: what a
//! user does through dockhand's public API, against the service
//! `scripts/podman.sh` starts. Where Podman does something dockerd does not,
//! the test says so and asserts what dockhand gives.
//!
//! Needs the test environment and its Podman (`scripts/test-env.sh`, then
//! `scripts/podman.sh`): ignored by a plain `cargo test`, run by
//! `scripts/test.sh` (`--include-ignored`). The facts come from the file
//! `scripts/podman.sh` writes (`$DOCKHAND_TEST_ENV_DIR/podman.sh`, by default
//! `/var/lib/dockhand-test-env/podman.sh`); without it the tests fail saying so.
#![cfg(unix)]

mod common;

use common::assert_lossless;
use dockhand::build::BuildOutcome;
use dockhand::models::{
    ContainerCreateBody, ContainerExecBody, ContainerInspectResponse, ContainerStatsResponse,
    EventMessageType, ImageInspect, ImageSummary, NetworkCreateBody, NetworkInspect,
    NetworkSummary, SystemInfo, SystemVersion, Volume, VolumeCreateRequest, VolumeListResponse,
};
use dockhand::models::{ContainerWaitCondition, NetworkConnectRequest, NetworkDisconnectRequest};
use dockhand::operations::ImageBuildOptions;
use dockhand::operations::{
    ContainerAttachOptions, ContainerDeleteOptions, ContainerListOptions, ContainerLogsOptions,
    ContainerStatsOptions, ImageCreateOptions, ImageDeleteOptions, ImageListOptions,
    ImageTagOptions, NetworkListOptions, VolumeDeleteOptions, VolumeListOptions,
};
use dockhand::operations::{ContainerPruneOptions, NetworkPruneOptions, VolumePruneOptions};
use dockhand::operations::{
    ContainerRestartOptions, ContainerStopOptions, ContainerWaitOptions, ImageCommitOptions,
};
use dockhand::stream::events::EventFilters;
use dockhand::stream::progress::pushed_manifest;
use dockhand::stream::stats::StatsSummary;
use dockhand::stream::timestamps::{Timestamped, TimestampedLog};
use dockhand::stream::LogOutput;
use dockhand::Body;
use dockhand::{filters, ApiVersion, Docker, Error};
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// What `scripts/podman.sh` wrote.
#[derive(Debug, Clone)]
struct PodmanEnv {
    host: String,
    image: String,
    registry: String,
}

/// Reads the facts file of `scripts/podman.sh`; fails (never skips) when it is
/// missing or incomplete.
fn podman_env(test: &str) -> PodmanEnv {
    let env = common::test_env(test);
    let dir = std::env::var("DOCKHAND_TEST_ENV_DIR")
        .ok()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "/var/lib/dockhand-test-env".to_owned());
    let path = std::path::Path::new(&dir).join("podman.sh");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{test}: the Podman facts file {} cannot be read ({e}): run scripts/podman.sh \
             (as root) first",
            path.display()
        )
    });
    let facts: HashMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .collect();
    let need = |k: &str| {
        facts
            .get(k)
            .map(|v| v.to_string())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| {
                panic!(
                    "{test}: {k} is missing from {}: rerun scripts/podman.sh",
                    path.display()
                )
            })
    };
    PodmanEnv {
        host: need("DOCKHAND_PODMAN_HOST"),
        image: need("DOCKHAND_PODMAN_IMAGE"),
        registry: env.registry,
    }
}

/// Held by the tests that remove and pull the authenticated registry's
/// image, which would otherwise race each other.
static AUTH_REGISTRY_IMAGE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn client(env: &PodmanEnv) -> Docker {
    Docker::connect_with_host(&env.host).expect("a client for the Podman socket")
}

/// A unique name for this test run.
fn unique(tag: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("dockhand-podman-{tag}-{}-{n}", std::process::id())
}

/// What a test made on Podman, removed (forced) when dropped.
#[derive(Clone)]
enum Made {
    Container(String),
    Image(String),
    Network(String),
    Volume(String),
}

struct Guard(String, Made);

impl Drop for Guard {
    fn drop(&mut self) {
        let made = self.1.clone();
        common::cleanup_on(self.0.clone(), move |docker| async move {
            let _ = match made {
                Made::Container(id) => {
                    docker
                        .containers()
                        .remove(&id, &ContainerDeleteOptions::default().force(true))
                        .await
                }
                Made::Image(name) => docker
                    .images()
                    .remove(&name, &ImageDeleteOptions::default().force(true))
                    .await
                    .map(drop),
                Made::Network(id) => docker.networks().remove(&id).await,
                Made::Volume(name) => {
                    docker
                        .volumes()
                        .remove(&name, &VolumeDeleteOptions::default().force(true))
                        .await
                }
            };
        });
    }
}

/// GET `path` through dockhand's raw API: Podman's bytes as they came.
async fn raw_get(docker: &Docker, path: &str) -> bytes::Bytes {
    let (p, query) = path.split_once('?').unwrap_or((path, ""));
    let mut req = docker.request_path(http::Method::GET, p);
    for pair in query.split('&').filter(|q| !q.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        req = req.query(k, v);
    }
    req.bytes()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

fn split(pieces: &[LogOutput]) -> (String, String, String) {
    let (mut out, mut err, mut console) = (Vec::new(), Vec::new(), Vec::new());
    for p in pieces {
        match p {
            LogOutput::StdOut(b) => out.extend_from_slice(b),
            LogOutput::StdErr(b) => err.extend_from_slice(b),
            LogOutput::Console(b) => console.extend_from_slice(b),
            LogOutput::StdIn(_) => panic!("no stdin expected"),
        }
    }
    let s = |v: Vec<u8>| String::from_utf8_lossy(&v).into_owned();
    (s(out), s(err), s(console))
}

/// Creates a container of the Podman test image running `cmd`, removed when
/// the guard drops.
async fn create(
    docker: &Docker,
    env: &PodmanEnv,
    cmd: &[&str],
    labels: &[(&str, &str)],
) -> (String, Guard) {
    let body = ContainerCreateBody {
        image: Some(env.image.clone()),
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        labels: (!labels.is_empty()).then(|| {
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        }),
        ..Default::default()
    };
    let id = docker
        .containers()
        .create(&body, &Default::default())
        .await
        .expect("create")
        .id;
    let guard = Guard(env.host.clone(), Made::Container(id.clone()));
    (id, guard)
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn ping_negotiates_1_41_and_version_names_podmans_components() {
    let env = podman_env("ping_negotiates_1_41_and_version_names_podmans_components");
    let docker = client(&env);
    assert_eq!(docker.system().ping().await.expect("ping"), "OK");
    let info = docker.daemon_info().await.expect("negotiated");
    assert_eq!(info.api_version, ApiVersion::new(1, 41));
    assert_eq!(info.daemon_api_version, Some(ApiVersion::new(1, 41)));
    assert!(info.experimental, "Podman says Docker-Experimental: true");
    // Podman's ping carries no `Ostype` header: the platform is unknown, and
    // requests are not checked against one.
    assert_eq!(info.os_type, None);
    assert_eq!(docker.platform(), None);
    // `Builder-Version:` comes empty: no builder is announced.
    assert_eq!(info.builder_version, None, "{info:?}");

    let v = docker.system().version().await.expect("version");
    assert_eq!(v.api_version.as_deref(), Some("1.41"));
    assert_eq!(v.min_api_version.as_deref(), Some("1.24"));
    assert_eq!(v.os.as_deref(), Some("linux"));
    let podman_version = v.version.clone().expect("a version");
    assert!(podman_version.starts_with("4."), "{podman_version}");
    let components = v.components.as_ref().expect("components");
    let engine = components
        .iter()
        .find(|c| c.name == "Podman Engine")
        .unwrap_or_else(|| panic!("no Podman Engine among {components:?}"));
    assert_eq!(engine.version, podman_version);
    let details = engine.details.as_ref().expect("engine details");
    assert_eq!(details["APIVersion"], Value::from(podman_version.as_str()));
    assert!(
        components.iter().any(|c| c.name == "Conmon"),
        "{components:?}"
    );
    assert!(
        components.iter().any(|c| c.name.starts_with("OCI Runtime")),
        "{components:?}"
    );

    let raw = raw_get(&docker, "/version").await;
    let again: SystemVersion = assert_lossless("GET /version", &raw);
    assert_eq!(again.version, v.version);
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn system_info_decodes_and_encodes_back() {
    let env = podman_env("system_info_decodes_and_encodes_back");
    let docker = client(&env);
    let info = docker.system().info().await.expect("info");
    let version = docker.system().version().await.expect("version");
    assert_eq!(info.server_version, version.version);
    assert_eq!(info.os_type.as_deref(), Some("linux"));
    assert_eq!(
        info.docker_root_dir.as_deref(),
        Some("/var/lib/containers/storage")
    );
    assert!(info.images.unwrap_or(0) >= 1, "{:?}", info.images);
    // The insecure registries of scripts/podman.sh are what Podman reports.
    let registries = info
        .registry_config
        .as_ref()
        .and_then(|r| r.index_configs.as_ref())
        .expect("index configs");
    let plain = registries.get(&env.registry).expect("the test registry");
    assert_eq!(plain.secure, Some(false));

    let raw = raw_get(&docker, "/info").await;
    let again: SystemInfo = assert_lossless("GET /info", &raw);
    assert_eq!(again.name, info.name);
    // Podman makes up a new `ID` for every answer (dockerd's is the engine's
    // lasting identity): do not key anything on it.
    assert!(again.id.is_some() && info.id.is_some());
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn image_list_and_inspect_decode_and_encode_back() {
    let env = podman_env("image_list_and_inspect_decode_and_encode_back");
    let docker = client(&env);
    let images = docker
        .images()
        .list(&ImageListOptions::default())
        .await
        .expect("image list");
    let ours = images
        .iter()
        .find(|i| i.repo_tags.iter().flatten().any(|t| t == &env.image))
        .unwrap_or_else(|| panic!("{} not listed in {images:?}", env.image));
    let inspected = docker
        .images()
        .inspect(&env.image, &Default::default())
        .await
        .expect("image inspect");
    assert_eq!(inspected.id.as_deref(), Some(ours.id.as_str()));
    assert!(
        inspected
            .repo_tags
            .iter()
            .flatten()
            .any(|t| t == &env.image),
        "{:?}",
        inspected.repo_tags
    );
    let config = inspected.config.as_ref().expect("config");
    assert_eq!(config.cmd.as_deref(), Some(&["/bin/sh".to_owned()][..]));

    let raw = raw_get(&docker, "/images/json").await;
    let listed: Vec<ImageSummary> = assert_lossless("GET /images/json", &raw);
    assert_eq!(listed.len(), images.len());
    let raw = raw_get(&docker, &format!("/images/{}/json", env.image)).await;
    let again: ImageInspect = assert_lossless("GET /images/{name}/json", &raw);
    assert_eq!(again.id, inspected.id);

    let missing = docker
        .images()
        .inspect("localhost/dockhand-no-such-image:none", &Default::default())
        .await
        .expect_err("no such image");
    assert!(missing.is_not_found(), "{missing}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn a_container_runs_logs_both_streams_waits_and_is_removed() {
    let env = podman_env("a_container_runs_logs_both_streams_waits_and_is_removed");
    let docker = client(&env);
    let name = unique("life");
    let body = ContainerCreateBody {
        image: Some(env.image.clone()),
        cmd: Some(vec![
            "sh".into(),
            "-c".into(),
            "for i in 1 2 3; do echo out$i; echo err$i >&2; done; exit 3".into(),
        ]),
        ..Default::default()
    };
    let created = docker
        .containers()
        .create(
            &body,
            &dockhand::operations::ContainerCreateOptions::default().name(name.clone()),
        )
        .await
        .expect("create");
    let _guard = Guard(env.host.clone(), Made::Container(created.id.clone()));
    assert_eq!(created.id.len(), 64, "{created:?}");

    let listed = docker
        .containers()
        .list(
            &ContainerListOptions::default()
                .all(true)
                .filters(filters! { "name" => [name.clone()] }),
        )
        .await
        .expect("list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].id.as_deref(), Some(created.id.as_str()));

    docker
        .containers()
        .start(&name, &Default::default())
        .await
        .expect("start");
    let waited = tokio::time::timeout(
        Duration::from_secs(60),
        docker.containers().wait(&name, &Default::default()),
    )
    .await
    .expect("wait returns")
    .expect("wait");
    assert_eq!(waited.status_code, 3);

    let pieces: Vec<LogOutput> = docker
        .containers()
        .logs(
            &name,
            &ContainerLogsOptions::default().stdout(true).stderr(true),
        )
        .await
        .expect("logs")
        .try_collect()
        .await
        .expect("log stream");
    let (out, err, console) = split(&pieces);
    assert_eq!(out, "out1\nout2\nout3\n");
    assert_eq!(err, "err1\nerr2\nerr3\n");
    assert!(console.is_empty(), "{console:?}");
    // A log stream that follows a stopped container ends.
    let followed: Vec<LogOutput> = tokio::time::timeout(Duration::from_secs(30), async {
        docker
            .containers()
            .logs(
                &name,
                &ContainerLogsOptions::default().stdout(true).follow(true),
            )
            .await
            .expect("logs")
            .try_collect::<Vec<_>>()
            .await
    })
    .await
    .expect("the followed stream ends")
    .expect("log stream");
    assert_eq!(split(&followed).0, "out1\nout2\nout3\n");

    let inspected = docker
        .containers()
        .inspect(&name, &Default::default())
        .await
        .expect("inspect");
    assert_eq!(inspected.name.as_deref(), Some(format!("/{name}").as_str()));
    let state = inspected.state.as_ref().expect("state");
    assert_eq!(state.exit_code, Some(3));
    assert_eq!(state.running, Some(false));
    let raw = raw_get(&docker, &format!("/containers/{name}/json")).await;
    let again: ContainerInspectResponse = assert_lossless("GET /containers/{id}/json", &raw);
    assert_eq!(again.id, inspected.id);

    docker
        .containers()
        .remove(&name, &Default::default())
        .await
        .expect("remove");
    let gone = docker
        .containers()
        .inspect(&name, &Default::default())
        .await
        .expect_err("removed");
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn exec_gives_output_and_exit_code() {
    let env = podman_env("exec_gives_output_and_exit_code");
    let docker = client(&env);
    let (id, _guard) = create(&docker, &env, &["sleep", "60"], &[]).await;
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    let exec = docker
        .exec()
        .create(
            &id,
            &ContainerExecBody {
                cmd: Some(vec![
                    "sh".into(),
                    "-c".into(),
                    "echo to-out; echo to-err >&2; exit 5".into(),
                ]),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("exec create")
        .id;
    let attached = docker
        .exec()
        .start(&exec, &Default::default())
        .await
        .expect("exec start");
    let pieces: Vec<LogOutput> =
        tokio::time::timeout(Duration::from_secs(30), attached.output.try_collect())
            .await
            .expect("exec output ends")
            .expect("exec output");
    let (out, err, _) = split(&pieces);
    assert_eq!(out, "to-out\n");
    assert_eq!(err, "to-err\n");
    let mut code = None;
    for _ in 0..50 {
        let state = docker.exec().inspect(&exec).await.expect("exec inspect");
        if state.running == Some(false) {
            code = state.exit_code;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(code, Some(5));
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn attach_sees_the_output_of_a_container() {
    let env = podman_env("attach_sees_the_output_of_a_container");
    let docker = client(&env);
    let (id, _guard) = create(
        &docker,
        &env,
        &[
            "sh",
            "-c",
            "sleep 1; echo first; echo second >&2; echo third",
        ],
        &[],
    )
    .await;
    let attached = docker
        .containers()
        .attach(
            &id,
            &ContainerAttachOptions::default()
                .stream(true)
                .stdout(true)
                .stderr(true),
        )
        .await
        .expect("attach");
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    let pieces: Vec<LogOutput> =
        tokio::time::timeout(Duration::from_secs(30), attached.output.try_collect())
            .await
            .expect("ends when the container exits")
            .expect("attach output");
    let (out, err, _) = split(&pieces);
    assert_eq!(out, "first\nthird\n");
    assert_eq!(err, "second\n");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn files_copy_in_and_out() {
    let env = podman_env("files_copy_in_and_out");
    let docker = client(&env);
    let (id, _guard) = create(&docker, &env, &["sleep", "60"], &[]).await;
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    let tmp = common::TempDir::new("podman-cp");
    let text = "copied through Podman\nsecond line\n";
    common::write_file(&tmp.0, "in/hello.txt", text);
    docker
        .containers()
        .copy_in(&id, tmp.0.join("in/hello.txt"), "/tmp")
        .await
        .expect("copy in");
    let stat = docker
        .containers()
        .archive_info(&id, "/tmp/hello.txt")
        .await
        .expect("archive info");
    assert_eq!(stat.name, "hello.txt");
    assert_eq!(stat.size, text.len() as i64);
    assert!(!stat.is_dir());
    // What the container sees.
    let exec = docker
        .exec()
        .create(
            &id,
            &ContainerExecBody {
                cmd: Some(vec!["cat".into(), "/tmp/hello.txt".into()]),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("exec create")
        .id;
    let seen: Vec<LogOutput> = docker
        .exec()
        .start(&exec, &Default::default())
        .await
        .expect("exec start")
        .output
        .try_collect()
        .await
        .expect("output");
    assert_eq!(split(&seen).0, text);

    let back = tmp.0.join("back.txt");
    docker
        .containers()
        .copy_out(&id, "/tmp/hello.txt", &back)
        .await
        .expect("copy out");
    assert_eq!(std::fs::read_to_string(&back).expect("copied file"), text);
    let missing = docker
        .containers()
        .copy_out(&id, "/no/such/file", tmp.0.join("nothing"))
        .await
        .expect_err("no such path");
    assert!(missing.is_not_found(), "{missing}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn events_show_the_start_of_a_container() {
    let env = podman_env("events_show_the_start_of_a_container");
    let docker = client(&env);
    let label = unique("events");
    let opts = EventFilters::new()
        .kind(EventMessageType::Container)
        .label("dockhand.test", Some(&label))
        .since(std::time::SystemTime::now() - Duration::from_secs(1))
        .into_options();
    let mut events = docker.system().events(&opts).await.expect("events");
    let (id, _guard) = create(&docker, &env, &["true"], &[("dockhand.test", &label)]).await;
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    let mut actions = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !actions.iter().any(|a| a == "start") {
        let next = tokio::time::timeout_at(deadline, events.next())
            .await
            .unwrap_or_else(|_| panic!("no start event in time; saw {actions:?}"));
        let e = next.expect("stream open").expect("event decodes");
        let actor = e
            .actor
            .as_ref()
            .and_then(|a| a.id.clone())
            .unwrap_or_default();
        assert_eq!(actor, id, "only the labelled container: {e:?}");
        assert_eq!(e.type_, Some(EventMessageType::Container), "{e:?}");
        actions.push(e.action.clone().unwrap_or_default());
    }
    drop(events);
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn stats_one_shot_decodes() {
    let env = podman_env("stats_one_shot_decodes");
    let docker = client(&env);
    let (id, _guard) = create(&docker, &env, &["sleep", "60"], &[]).await;
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    let s = docker
        .containers()
        .stats_once(&id, &ContainerStatsOptions::default().one_shot(true))
        .await
        .expect("one sample decodes");
    let memory = s.memory_stats.as_ref().expect("memory stats");
    assert!(memory.usage.unwrap_or(0) > 0, "{memory:?}");
    assert!(s.cpu_stats.is_some(), "{s:?}");
    // Podman spells the container's ID `Id` (dockerd and the specification:
    // `id`): the typed field stays empty and the value is kept among the
    // unknown fields, so it encodes back as Podman sent it.
    assert_eq!(s.id, None);
    assert_eq!(s.extra.get("Id"), Some(&Value::from(id.as_str())));
    assert!(s.name.as_deref().is_some_and(|n| !n.is_empty()), "{s:?}");
    let raw = raw_get(
        &docker,
        &format!("/containers/{id}/stats?stream=false&one-shot=true"),
    )
    .await;
    let _: ContainerStatsResponse = assert_lossless("GET /containers/{id}/stats", &raw);
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn networks_are_created_inspected_listed_and_removed() {
    let env = podman_env("networks_are_created_inspected_listed_and_removed");
    let docker = client(&env);
    let name = unique("net");
    let created = docker
        .networks()
        .create(&NetworkCreateBody {
            name: name.clone(),
            labels: Some([("dockhand.test".to_owned(), "1".to_owned())].into()),
            ..Default::default()
        })
        .await
        .expect("network create");
    let _guard = Guard(env.host.clone(), Made::Network(created.id.clone()));
    assert!(!created.id.is_empty());
    let inspected = docker
        .networks()
        .inspect(&name, &Default::default())
        .await
        .expect("network inspect");
    assert_eq!(inspected.name.as_deref(), Some(name.as_str()));
    assert_eq!(inspected.id.as_deref(), Some(created.id.as_str()));
    assert_eq!(inspected.driver.as_deref(), Some("bridge"));
    let raw = raw_get(&docker, &format!("/networks/{name}")).await;
    let _: NetworkInspect = assert_lossless("GET /networks/{id}", &raw);
    let listed = docker
        .networks()
        .list(&NetworkListOptions::default().filters(filters! { "name" => [name.clone()] }))
        .await
        .expect("network list");
    assert!(
        listed
            .iter()
            .any(|n| n.name.as_deref() == Some(name.as_str())),
        "{listed:?}"
    );
    let raw = raw_get(&docker, "/networks").await;
    let _: Vec<NetworkSummary> = assert_lossless("GET /networks", &raw);
    docker
        .networks()
        .remove(&name)
        .await
        .expect("network remove");
    let gone = docker
        .networks()
        .inspect(&name, &Default::default())
        .await
        .expect_err("removed");
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn volumes_are_created_inspected_listed_and_removed() {
    let env = podman_env("volumes_are_created_inspected_listed_and_removed");
    let docker = client(&env);
    let name = unique("vol");
    let created = docker
        .volumes()
        .create(&VolumeCreateRequest {
            name: Some(name.clone()),
            labels: Some([("dockhand.test".to_owned(), "1".to_owned())].into()),
            ..Default::default()
        })
        .await
        .expect("volume create");
    let _guard = Guard(env.host.clone(), Made::Volume(name.clone()));
    assert_eq!(created.name, name);
    assert_eq!(created.driver, "local");
    let inspected = docker
        .volumes()
        .inspect(&name)
        .await
        .expect("volume inspect");
    assert_eq!(inspected.mountpoint, created.mountpoint);
    assert_eq!(
        inspected
            .labels
            .as_ref()
            .and_then(|l| l.get("dockhand.test")),
        Some(&"1".to_owned())
    );
    let raw = raw_get(&docker, &format!("/volumes/{name}")).await;
    let _: Volume = assert_lossless("GET /volumes/{name}", &raw);
    let listed = docker
        .volumes()
        .list(&VolumeListOptions::default().filters(filters! { "name" => [name.clone()] }))
        .await
        .expect("volume list");
    assert!(
        listed.volumes.iter().flatten().any(|v| v.name == name),
        "{listed:?}"
    );
    let raw = raw_get(&docker, "/volumes").await;
    let _: VolumeListResponse = assert_lossless("GET /volumes", &raw);
    docker
        .volumes()
        .remove(&name, &Default::default())
        .await
        .expect("volume remove");
    let gone = docker.volumes().inspect(&name).await.expect_err("removed");
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn images_pull_tag_push_and_remove_with_the_local_registry() {
    let env = podman_env("images_pull_tag_push_and_remove_with_the_local_registry");
    let docker = client(&env);
    // Pull what scripts/test-env.sh pushed with dockerd.
    let pulled = format!("{}/dockhand-test/busybox:latest", env.registry);
    let messages: Vec<_> = docker
        .images()
        .pull(&pulled, &ImageCreateOptions::default().anonymous())
        .await
        .expect("pull")
        .try_collect()
        .await
        .expect("pull progress");
    assert!(!messages.is_empty());
    let image = docker
        .images()
        .inspect(&pulled, &Default::default())
        .await
        .expect("the pulled image");
    assert!(
        image.repo_tags.iter().flatten().any(|t| t == &pulled),
        "{:?}",
        image.repo_tags
    );

    // Tag the Podman test image into the registry, push it, and pull it back.
    let repo = format!("{}/dockhand-podman/{}", env.registry, unique("push"));
    let target = format!("{repo}:v1");
    docker
        .images()
        .tag(
            &env.image,
            &ImageTagOptions::default().repo(repo.clone()).tag("v1"),
        )
        .await
        .expect("tag");
    let _guard = Guard(env.host.clone(), Made::Image(target.clone()));
    let tagged = docker
        .images()
        .inspect(&target, &Default::default())
        .await
        .expect("the tag exists");
    let original = docker
        .images()
        .inspect(&env.image, &Default::default())
        .await
        .expect("the test image");
    assert_eq!(tagged.id, original.id);

    let pushed: Vec<_> = docker
        .images()
        .push(&target, &Default::default())
        .await
        .expect("push")
        .try_collect()
        .await
        .expect("push progress");
    // Podman's push has no `aux`: the digest is in the status line.
    assert!(pushed.iter().all(|m| m.aux.is_none()), "{pushed:?}");
    let manifest = pushed
        .iter()
        .rev()
        .find_map(pushed_manifest)
        .unwrap_or_else(|| panic!("no pushed digest in {pushed:?}"));
    assert_eq!(manifest.tag, "v1");
    assert!(manifest.digest.starts_with("sha256:"), "{manifest:?}");

    let removed = docker
        .images()
        .remove(&target, &Default::default())
        .await
        .expect("untag");
    assert!(!removed.is_empty(), "{removed:?}");
    let gone = docker
        .images()
        .inspect(&target, &Default::default())
        .await
        .expect_err("untagged");
    assert!(gone.is_not_found(), "{gone}");

    let back: Vec<_> = docker
        .images()
        .pull(&target, &ImageCreateOptions::default().anonymous())
        .await
        .expect("pull back")
        .try_collect()
        .await
        .expect("pull progress");
    assert!(!back.is_empty());
    let again = docker
        .images()
        .inspect(&target, &Default::default())
        .await
        .expect("pulled back from the registry");
    assert!(
        again.repo_tags.iter().flatten().any(|t| t == &target),
        "{:?}",
        again.repo_tags
    );
    // What came back is the manifest the push reported.
    let by_digest = format!("{repo}@{}", manifest.digest);
    assert!(
        again.repo_digests.iter().flatten().any(|d| d == &by_digest),
        "{by_digest} not in {:?}",
        again.repo_digests
    );

    // A tag the registry does not have: the stream ends with Err(Api).
    let result: Result<Vec<_>, Error> = async {
        docker
            .images()
            .pull(
                &format!("{repo}:no-such-tag"),
                &ImageCreateOptions::default().anonymous(),
            )
            .await?
            .try_collect()
            .await
    }
    .await;
    let e = result.expect_err("missing tag");
    assert!(matches!(e, Error::Api { .. }), "{e:?}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn tty_logs_are_console_bytes_and_timestamps_parse() {
    let env = podman_env("tty_logs_are_console_bytes_and_timestamps_parse");
    let docker = client(&env);
    let script = "echo out1; echo err1 >&2; echo out2";
    for tty in [false, true] {
        let body = ContainerCreateBody {
            image: Some(env.image.clone()),
            cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
            tty: Some(tty),
            ..Default::default()
        };
        let id = docker
            .containers()
            .create(&body, &Default::default())
            .await
            .expect("create")
            .id;
        let _guard = Guard(env.host.clone(), Made::Container(id.clone()));
        docker
            .containers()
            .start(&id, &Default::default())
            .await
            .expect("start");
        let w = docker
            .containers()
            .wait(&id, &Default::default())
            .await
            .expect("wait");
        assert_eq!(w.status_code, 0);
        let opts = ContainerLogsOptions::default().stdout(true).stderr(true);
        let pieces: Vec<LogOutput> = docker
            .containers()
            .logs(&id, &opts)
            .await
            .expect("logs")
            .try_collect()
            .await
            .expect("log stream");
        let (out, err, console) = split(&pieces);
        if tty {
            assert!(out.is_empty() && err.is_empty(), "{pieces:?}");
            assert_eq!(console, "out1\r\nerr1\r\nout2\r\n");
        } else {
            assert!(console.is_empty(), "{pieces:?}");
            assert_eq!(out, "out1\nout2\n");
            assert_eq!(err, "err1\n");
        }
        // Podman's timestamps have whole seconds (`2026-11-30T14:09:57Z`).
        let start = std::time::SystemTime::now() - Duration::from_secs(60);
        let lines: Vec<TimestampedLog> = Timestamped::new(
            docker
                .containers()
                .logs(&id, &opts.clone().timestamps(true))
                .await
                .expect("logs"),
        )
        .try_collect()
        .await
        .expect("every message has a timestamp");
        assert_eq!(lines.len(), 3, "{lines:?}");
        let end = std::time::SystemTime::now() + Duration::from_secs(5);
        assert!(
            lines
                .iter()
                .all(|l| l.timestamp > start && l.timestamp < end),
            "{lines:?}"
        );
        let outputs: Vec<LogOutput> = lines.into_iter().map(|l| l.output).collect();
        let (out, err, console) = split(&outputs);
        if tty {
            assert_eq!(console, "out1\r\nerr1\r\nout2\r\n");
        } else {
            // conmon reads stdout and stderr from two pipes: their order
            // between each other is not kept, each one's own order is.
            assert_eq!((out.as_str(), err.as_str()), ("out1\nout2\n", "err1\n"));
        }
    }
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn exec_reads_stdin_to_its_end() {
    let env = podman_env("exec_reads_stdin_to_its_end");
    let docker = client(&env);
    let (id, _guard) = create(&docker, &env, &["sleep", "60"], &[]).await;
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    let exec = docker
        .exec()
        .create(
            &id,
            &ContainerExecBody {
                cmd: Some(vec![
                    "sh".into(),
                    "-c".into(),
                    "wc -c; echo done >&2".into(),
                ]),
                attach_stdin: Some(true),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("exec create")
        .id;
    let attached = docker
        .exec()
        .start(&exec, &Default::default())
        .await
        .expect("exec start");
    let input: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let mut stdin = attached.input;
    let data = input.clone();
    let writer = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        stdin.write_all(&data).await?;
        stdin.shutdown().await
    });
    let pieces: Vec<LogOutput> =
        tokio::time::timeout(Duration::from_secs(30), attached.output.try_collect())
            .await
            .expect("the process sees EOF and ends")
            .expect("exec output");
    writer
        .await
        .expect("join")
        .expect("stdin written and closed");
    let (out, err, _) = split(&pieces);
    assert_eq!(out.trim(), input.len().to_string());
    assert_eq!(err, "done\n");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn container_list_top_changes_pause_and_rename() {
    let env = podman_env("container_list_top_changes_pause_and_rename");
    let docker = client(&env);
    let label = unique("list");
    let (id, _guard) = create(
        &docker,
        &env,
        &["sh", "-c", "echo x > /tmp/made; sleep 60"],
        &[("dockhand.test", &label)],
    )
    .await;
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    let opts = ContainerListOptions::default()
        .filters(filters! { "label" => [format!("dockhand.test={label}")] });
    let listed = docker.containers().list(&opts).await.expect("list");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].id.as_deref(), Some(id.as_str()));
    assert_eq!(
        listed[0].state,
        Some(dockhand::models::ContainerSummaryState::Running)
    );
    let raw = raw_get(&docker, "/containers/json?all=1").await;
    let _: Vec<dockhand::models::ContainerSummary> = assert_lossless("GET /containers/json", &raw);

    let top = docker
        .containers()
        .top(&id, &Default::default())
        .await
        .expect("top");
    let processes = top.processes.as_ref().expect("processes");
    assert!(
        processes
            .iter()
            .flatten()
            .any(|cell| cell.contains("sleep")),
        "{top:?}"
    );
    // `changes` after the file exists.
    let mut changes = Vec::new();
    for _ in 0..50 {
        changes = docker.containers().changes(&id).await.expect("changes");
        if changes.iter().any(|c| c.path == "/tmp/made") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(changes.iter().any(|c| c.path == "/tmp/made"), "{changes:?}");

    docker.containers().pause(&id).await.expect("pause");
    let state = docker
        .containers()
        .inspect(&id, &Default::default())
        .await
        .expect("inspect")
        .state
        .expect("state");
    assert_eq!(state.paused, Some(true), "{state:?}");
    docker.containers().unpause(&id).await.expect("unpause");

    let new_name = unique("renamed");
    docker
        .containers()
        .rename(&id, &new_name)
        .await
        .expect("rename");
    let renamed = docker
        .containers()
        .inspect(&new_name, &Default::default())
        .await
        .expect("inspect by the new name");
    assert_eq!(renamed.id.as_deref(), Some(id.as_str()));

    docker
        .containers()
        .kill(&id, &Default::default())
        .await
        .expect("kill");
    let w = docker
        .containers()
        .wait(&id, &Default::default())
        .await
        .expect("wait");
    assert_eq!(w.status_code, 137);
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn a_directory_builds_and_the_outcome_names_the_image() {
    let env = podman_env("a_directory_builds_and_the_outcome_names_the_image");
    let docker = client(&env);
    let dir = common::TempDir::new("podman-build");
    common::write_file(
        &dir.0,
        "Dockerfile",
        &format!(
            "FROM {}\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt\nLABEL dockhand.test=build\n",
            env.image
        ),
    );
    common::write_file(&dir.0, "hello.txt", "from the context\n");
    common::write_file(&dir.0, "ignored.txt", "never sent\n");
    common::write_file(&dir.0, ".dockerignore", "ignored.txt\n");
    let tag = format!("localhost/{}:1", unique("built"));
    let stream = docker
        .images()
        .build_dir(&dir.0, &ImageBuildOptions::default().t(tag.clone()))
        .await
        .expect("build");
    let _guard = Guard(env.host.clone(), Made::Image(tag.clone()));
    let outcome = BuildOutcome::collect(stream).await.expect("build outcome");
    assert!(outcome.log.contains("from the context"), "{}", outcome.log);
    let built = docker
        .images()
        .inspect(&tag, &Default::default())
        .await
        .expect("the built image");
    assert_eq!(built.id.as_deref(), Some(outcome.image_id.as_str()));

    // A failing step is an Err.
    common::write_file(
        &dir.0,
        "Dockerfile",
        &format!("FROM {}\nRUN exit 7\n", env.image),
    );
    let result = async {
        let stream = docker
            .images()
            .build_dir(&dir.0, &ImageBuildOptions::default())
            .await?;
        BuildOutcome::collect(stream).await
    }
    .await;
    let e = result.expect_err("RUN exit 7");
    assert!(e.to_string().contains("exit status 7"), "{e}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn system_df_and_events_decode_and_encode_back() {
    let env = podman_env("system_df_and_events_decode_and_encode_back");
    let docker = client(&env);
    let df = docker.system().df(&Default::default()).await.expect("df");
    assert!(df.images.as_ref().is_some_and(|i| !i.is_empty()), "{df:?}");
    let raw = raw_get(&docker, "/system/df").await;
    let _: dockhand::models::SystemDataUsageResponse = assert_lossless("GET /system/df", &raw);

    // Events as Podman writes them, read through the raw API.
    let label = unique("rawevents");
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        - 1;
    let (id, _guard) = create(&docker, &env, &["true"], &[("dockhand.test", &label)]).await;
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    docker
        .containers()
        .wait(&id, &Default::default())
        .await
        .expect("wait");
    let until = since + 30;
    let raw = docker
        .request_path(http::Method::GET, "/events")
        .query("since", since.to_string())
        .query("until", until.min(since + 5).to_string())
        .query(
            "filters",
            serde_json::json!({ "label": [format!("dockhand.test={label}")] }).to_string(),
        )
        .bytes()
        .await
        .expect("events until");
    let mut seen = Vec::new();
    for line in raw.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let e: dockhand::models::EventMessage = assert_lossless("GET /events", line);
        seen.push(e.action.unwrap_or_default());
    }
    assert!(seen.iter().any(|a| a == "start"), "{seen:?}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn authenticated_pull_with_credentials() {
    let env = podman_env("authenticated_pull_with_credentials");
    let test_env = common::test_env("authenticated_pull_with_credentials");
    let docker = client(&env);
    let _serial = AUTH_REGISTRY_IMAGE.lock().await;
    let reference = format!("{}/dockhand-test/busybox:latest", test_env.auth_registry);
    let _ = docker
        .images()
        .remove(&reference, &ImageDeleteOptions::default().force(true))
        .await;
    // Without credentials: the registry refuses, the stream ends with Err.
    let result: Result<Vec<_>, Error> = async {
        docker
            .images()
            .pull(&reference, &ImageCreateOptions::default().anonymous())
            .await?
            .try_collect()
            .await
    }
    .await;
    let e = result.expect_err("anonymous pull of a protected repository");
    assert!(e.to_string().contains("authentication required"), "{e}");
    // The password's standard base64 has '+' and '/': Podman, like dockerd,
    // decodes the URL-safe alphabet dockhand sends.
    let credentials = dockhand::models::AuthConfig {
        username: Some(test_env.registry_user.clone()),
        password: Some(test_env.registry_password.clone()),
        serveraddress: Some(test_env.auth_registry.clone()),
        ..Default::default()
    };
    let _guard = Guard(env.host.clone(), Made::Image(reference.clone()));
    let messages: Vec<_> = docker
        .images()
        .pull(
            &reference,
            &ImageCreateOptions::default().credentials(&credentials),
        )
        .await
        .expect("pull")
        .try_collect()
        .await
        .expect("pull with credentials");
    assert!(!messages.is_empty());
    docker
        .images()
        .inspect(&reference, &Default::default())
        .await
        .expect("pulled");
}

/// What Podman 4.3 does not implement, and what dockhand says about it: the
/// daemon's 404 as `Error::Api`, never a hang or a decode error.
#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn what_podman_does_not_implement_is_a_typed_error() {
    let env = podman_env("what_podman_does_not_implement_is_a_typed_error");
    let docker = client(&env);
    let not_there = |what: &str, r: Result<(), Error>| match r {
        Err(Error::Api {
            status: 404,
            message,
            operation,
        }) => {
            assert!(!message.is_empty(), "{what}");
            assert!(!operation.is_empty(), "{what}");
            // Podman's router answer: no route, not a missing object.
            let e = Error::Api {
                status: 404,
                message,
                operation,
            };
            assert!(e.is_unknown_endpoint() && !e.is_not_found(), "{what}: {e}");
        }
        other => panic!("{what}: {other:?}"),
    };
    // Swarm mode and what hangs on it: Podman's router has no such paths.
    not_there("swarm", docker.swarm().inspect().await.map(drop));
    not_there(
        "services",
        docker.services().list(&Default::default()).await.map(drop),
    );
    not_there(
        "nodes",
        docker.nodes().list(&Default::default()).await.map(drop),
    );
    not_there(
        "tasks",
        docker.tasks().list(&Default::default()).await.map(drop),
    );
    not_there(
        "configs",
        docker.configs().list(&Default::default()).await.map(drop),
    );
    // Plugins: a JSON answer saying so.
    match docker.plugins().list(&Default::default()).await {
        Err(Error::Api {
            status: 404,
            message,
            ..
        }) => {
            assert!(message.contains("not supported"), "{message}");
            let e = Error::Api {
                status: 404,
                message,
                operation: "PluginList",
            };
            assert!(e.is_unknown_endpoint() && !e.is_not_found(), "{e}");
        }
        other => panic!("plugins: {other:?}"),
    }
    not_there(
        "distribution",
        docker
            .distribution()
            .inspect(
                &format!("{}/dockhand-test/busybox:latest", env.registry),
                &Default::default(),
            )
            .await
            .map(drop),
    );
    // `docker update` (resources of a running container) came to Podman's
    // compatible API after 4.3.
    let (id, _guard) = create(&docker, &env, &["true"], &[]).await;
    not_there(
        "container update",
        docker
            .containers()
            .update(
                &id,
                &dockhand::models::ContainerUpdateBody {
                    memory: Some(64 * 1024 * 1024),
                    ..Default::default()
                },
            )
            .await
            .map(drop),
    );
    not_there(
        "build cache prune",
        docker
            .images()
            .build_prune(&Default::default())
            .await
            .map(drop),
    );
    // BuildKit needs `/session`: the build fails at once with the 404.
    let dir = common::TempDir::new("podman-bk");
    common::write_file(
        &dir.0,
        "Dockerfile",
        &format!("FROM {}\nRUN true\n", env.image),
    );
    let result = tokio::time::timeout(Duration::from_secs(60), async {
        let stream = docker
            .images()
            .build_kit(&dir.0, &Default::default())
            .await?;
        stream.try_collect::<Vec<_>>().await.map(drop)
    })
    .await
    .expect("a BuildKit build against Podman ends");
    match result {
        Err(Error::Api {
            status: 404,
            operation,
            ..
        }) => assert_eq!(operation, "Session"),
        other => panic!("build_kit: {other:?}"),
    }
}

/// Podman's `POST /auth` does not read registries.conf: it speaks HTTPS to
/// a plain-HTTP registry that pulls and pushes (which do read it) reach.
/// dockhand gives Podman's 500 and its message.
#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn login_to_a_plain_http_registry_fails_on_podmans_side() {
    let env = podman_env("login_to_a_plain_http_registry_fails_on_podmans_side");
    let test_env = common::test_env("login_to_a_plain_http_registry_fails_on_podmans_side");
    let docker = client(&env);
    let credentials = dockhand::models::AuthConfig {
        username: Some(test_env.registry_user.clone()),
        password: Some(test_env.registry_password.clone()),
        serveraddress: Some(test_env.auth_registry.clone()),
        ..Default::default()
    };
    match docker.system().auth(&credentials).await {
        Err(Error::Api {
            status: 500,
            message,
            operation,
        }) => {
            assert_eq!(operation, "SystemAuth");
            assert!(
                message.contains("HTTP response to HTTPS client"),
                "{message}"
            );
            assert!(
                !message.contains(&test_env.registry_password),
                "the password stays out of errors"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// Podman answers a registry search with its own field names (`Name`,
/// `Description`, `Stars`, `Official` as a string, …) where the API has
/// `name`, `description`, `star_count`, `is_official`: the typed fields stay
/// empty and Podman's fields are kept, so they encode back as sent.
#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn a_registry_search_keeps_podmans_field_names() {
    let env = podman_env("a_registry_search_keeps_podmans_field_names");
    let docker = client(&env);
    let term = format!("{}/dockhand-test/busybox", env.registry);
    let found = docker
        .images()
        .search(&term, &Default::default())
        .await
        .expect("search");
    let hit = found
        .iter()
        .find(|r| r.extra.get("Name") == Some(&Value::from(term.as_str())))
        .unwrap_or_else(|| panic!("{term} not found in {found:?}"));
    assert_eq!(hit.name, None);
    assert_eq!(
        hit.extra.get("Index"),
        Some(&Value::from(env.registry.as_str()))
    );
    let raw = docker
        .request_path(http::Method::GET, "/images/search")
        .query("term", term.clone())
        .bytes()
        .await
        .expect("raw search");
    let _: Vec<dockhand::models::ImageSearchResponseItem> =
        assert_lossless("GET /images/search", &raw);
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn streaming_stats_summarise_a_busy_container() {
    let env = podman_env("streaming_stats_summarise_a_busy_container");
    let docker = client(&env);
    let (id, _guard) = create(&docker, &env, &["sh", "-c", "while :; do :; done"], &[]).await;
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    let mut stats = docker
        .containers()
        .stats(&id, &ContainerStatsOptions::default().stream(true))
        .await
        .expect("stats");
    let mut summaries = Vec::new();
    while summaries.len() < 3 {
        let s = tokio::time::timeout(Duration::from_secs(15), stats.try_next())
            .await
            .expect("a sample a second")
            .expect("decodes")
            .expect("stream open");
        summaries.push(StatsSummary::from_sample(&s));
    }
    drop(stats);
    let last = summaries.last().expect("sample");
    assert!(
        last.cpu_percent > 10.0,
        "a busy loop uses CPU: {summaries:?}"
    );
    assert!(
        last.memory_used > 0 && last.memory_limit > last.memory_used,
        "{last:?}"
    );
    assert!(last.pids >= 1, "{last:?}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn wait_conditions_and_stop_restart() {
    let env = podman_env("wait_conditions_and_stop_restart");
    let docker = client(&env);
    let (id, _guard) = create(&docker, &env, &["sleep", "60"], &[]).await;
    // `not-running` on a created container answers at once.
    let w = tokio::time::timeout(
        Duration::from_secs(20),
        docker.containers().wait(
            &id,
            &ContainerWaitOptions::default().condition(ContainerWaitCondition::NotRunning),
        ),
    )
    .await
    .expect("not-running answers for a created container")
    .expect("wait");
    // dockerd says 0 for a container that never ran; Podman 0 or -1, from
    // one run to the next.
    assert!(matches!(w.status_code, 0 | -1), "{w:?}");
    assert!(w.error.is_none(), "{w:?}");
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    docker
        .containers()
        .restart(&id, &ContainerRestartOptions::default().t(1))
        .await
        .expect("restart");
    let running = docker
        .containers()
        .inspect(&id, &Default::default())
        .await
        .expect("inspect")
        .state
        .expect("state");
    assert_eq!(running.running, Some(true), "{running:?}");
    // `next-exit` returns when the stop ends it.
    let waiter = {
        let docker = docker.clone();
        let id = id.clone();
        tokio::spawn(async move {
            docker
                .containers()
                .wait(
                    &id,
                    &ContainerWaitOptions::default().condition(ContainerWaitCondition::NextExit),
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    docker
        .containers()
        .stop(&id, &ContainerStopOptions::default().t(1))
        .await
        .expect("stop");
    let w = tokio::time::timeout(Duration::from_secs(30), waiter)
        .await
        .expect("next-exit returns after the stop")
        .expect("join")
        .expect("wait");
    assert_eq!(w.status_code, 137, "sleep ignores SIGTERM as PID 1: killed");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn a_container_joins_and_leaves_a_network() {
    let env = podman_env("a_container_joins_and_leaves_a_network");
    let docker = client(&env);
    let name = unique("joined");
    let net = docker
        .networks()
        .create(&NetworkCreateBody {
            name: name.clone(),
            ..Default::default()
        })
        .await
        .expect("network create");
    let _net_guard = Guard(env.host.clone(), Made::Network(net.id.clone()));
    let (id, _guard) = create(&docker, &env, &["sleep", "60"], &[]).await;
    docker
        .networks()
        .connect(
            &name,
            &NetworkConnectRequest {
                container: id.clone(),
                ..Default::default()
            },
        )
        .await
        .expect("connect");
    let c = docker
        .containers()
        .inspect(&id, &Default::default())
        .await
        .expect("inspect");
    let networks = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .expect("networks");
    assert!(networks.contains_key(&name), "{networks:?}");
    docker
        .networks()
        .disconnect(
            &name,
            &NetworkDisconnectRequest {
                container: id.clone(),
                force: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("disconnect");
    let c = docker
        .containers()
        .inspect(&id, &Default::default())
        .await
        .expect("inspect");
    let networks = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.clone())
        .unwrap_or_default();
    assert!(!networks.contains_key(&name), "{networks:?}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn images_save_load_import_commit_and_export() {
    let env = podman_env("images_save_load_import_commit_and_export");
    let docker = client(&env);
    // save: a tar with a manifest.
    let saved = collect_bytes(
        docker
            .images()
            .save(&env.image, &Default::default())
            .await
            .expect("save"),
    )
    .await;
    let names = tar_names(&saved);
    assert!(names.iter().any(|n| n == "manifest.json"), "{names:?}");

    // load it back under another name: tag the loaded image afterwards.
    let loaded: Vec<_> = docker
        .images()
        .load(Body::from(saved), &Default::default())
        .await
        .expect("load")
        .try_collect()
        .await
        .expect("load output");
    assert!(!loaded.is_empty());

    // commit a container's change, then export the container.
    let (id, _guard) = create(
        &docker,
        &env,
        &["sh", "-c", "echo committed > /marker"],
        &[],
    )
    .await;
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    docker
        .containers()
        .wait(&id, &Default::default())
        .await
        .expect("wait");
    let repo = format!("localhost/{}", unique("committed"));
    let committed = docker
        .images()
        .commit(
            &Default::default(),
            &ImageCommitOptions::default()
                .container(id.clone())
                .repo(repo.clone())
                .tag("1"),
        )
        .await
        .expect("commit");
    let _image_guard = Guard(env.host.clone(), Made::Image(format!("{repo}:1")));
    let inspected = docker
        .images()
        .inspect(&format!("{repo}:1"), &Default::default())
        .await
        .expect("the committed image");
    assert!(
        inspected
            .id
            .as_deref()
            .is_some_and(|i| committed.id.ends_with(i.trim_start_matches("sha256:"))),
        "{committed:?} vs {:?}",
        inspected.id
    );
    let exported = collect_bytes(docker.containers().export(&id).await.expect("export")).await;
    let names = tar_names(&exported);
    assert!(
        names.iter().any(|n| n.trim_start_matches("./") == "marker"),
        "{names:?}"
    );

    // import the exported file system as a new image.
    let imported_repo = format!("localhost/{}", unique("imported"));
    let progress: Vec<_> = docker
        .images()
        .import(
            Body::from(exported),
            &ImageCreateOptions::default()
                .repo(imported_repo.clone())
                .tag("1"),
        )
        .await
        .expect("import")
        .try_collect()
        .await
        .expect("import output");
    assert!(!progress.is_empty());
    let _imported_guard = Guard(env.host.clone(), Made::Image(format!("{imported_repo}:1")));
    docker
        .images()
        .inspect(&format!("{imported_repo}:1"), &Default::default())
        .await
        .expect("the imported image");
}

async fn collect_bytes(mut s: dockhand::stream::ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = s.try_next().await.expect("chunk") {
        out.extend_from_slice(&chunk);
    }
    out
}

fn tar_names(bytes: &[u8]) -> Vec<String> {
    tar::Archive::new(bytes)
        .entries()
        .expect("tar")
        .map(|e| {
            e.expect("entry")
                .path()
                .expect("path")
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn attach_with_stdin_and_a_tty_exec_with_resize() {
    let env = podman_env("attach_with_stdin_and_a_tty_exec_with_resize");
    let docker = client(&env);
    // A container reading its stdin: attach, write, close; it ends.
    let body = ContainerCreateBody {
        image: Some(env.image.clone()),
        cmd: Some(vec!["sh".into(), "-c".into(), "tr a-z A-Z".into()]),
        open_stdin: Some(true),
        stdin_once: Some(true),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    };
    let id = docker
        .containers()
        .create(&body, &Default::default())
        .await
        .expect("create")
        .id;
    let _guard = Guard(env.host.clone(), Made::Container(id.clone()));
    let attached = docker
        .containers()
        .attach(
            &id,
            &ContainerAttachOptions::default()
                .stream(true)
                .stdin(true)
                .stdout(true)
                .stderr(true),
        )
        .await
        .expect("attach");
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    let mut stdin = attached.input;
    let writer = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        stdin.write_all(b"hello podman\n").await?;
        stdin.shutdown().await
    });
    let pieces: Vec<LogOutput> =
        tokio::time::timeout(Duration::from_secs(30), attached.output.try_collect())
            .await
            .expect("ends when stdin closes")
            .expect("attach output");
    writer.await.expect("join").expect("stdin");
    assert_eq!(split(&pieces).0, "HELLO PODMAN\n");

    // A TTY exec: console bytes, and a resize it sees.
    let (id, _guard2) = create(&docker, &env, &["sleep", "60"], &[]).await;
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    let exec = docker
        .exec()
        .create(
            &id,
            &ContainerExecBody {
                cmd: Some(vec!["sh".into(), "-c".into(), "sleep 1; stty size".into()]),
                tty: Some(true),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("exec create")
        .id;
    let attached = docker
        .exec()
        .start(
            &exec,
            &dockhand::models::ExecStartBody {
                tty: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("exec start");
    docker
        .exec()
        .resize(&exec, 33, 99)
        .await
        .expect("exec resize");
    let pieces: Vec<LogOutput> =
        tokio::time::timeout(Duration::from_secs(30), attached.output.try_collect())
            .await
            .expect("ends")
            .expect("exec output");
    let (out, err, console) = split(&pieces);
    assert!(out.is_empty() && err.is_empty(), "{pieces:?}");
    assert_eq!(console.trim(), "33 99");
}

/// A running container with a volume, a bind mount, a published port, a
/// health check and an exec: Podman's answers about it, and the events of
/// the whole story, decode and encode back.
#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn a_busy_containers_answers_and_events_decode_and_encode_back() {
    let env = podman_env("a_busy_containers_answers_and_events_decode_and_encode_back");
    let docker = client(&env);
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        - 1;
    let volume = unique("busyvol");
    docker
        .volumes()
        .create(&VolumeCreateRequest {
            name: Some(volume.clone()),
            ..Default::default()
        })
        .await
        .expect("volume");
    let tmp = common::TempDir::new("podman-bind");
    common::write_file(&tmp.0, "bound.txt", "bound\n");
    let body = ContainerCreateBody {
        image: Some(env.image.clone()),
        cmd: Some(vec!["sleep".into(), "60".into()]),
        env: Some(vec!["DOCKHAND=podman".into()]),
        labels: Some([("dockhand.test".to_owned(), volume.clone())].into()),
        exposed_ports: Some([("8080/tcp".to_owned(), Default::default())].into()),
        healthcheck: Some(dockhand::models::HealthConfig {
            test: Some(vec!["CMD-SHELL".into(), "true".into()]),
            interval: Some(1_000_000_000),
            ..Default::default()
        }),
        host_config: Some(dockhand::models::HostConfig {
            binds: Some(vec![
                format!("{volume}:/data"),
                format!("{}:/bound:ro", tmp.0.display()),
            ]),
            port_bindings: Some(
                [(
                    "8080/tcp".to_owned(),
                    Some(vec![dockhand::models::PortBinding {
                        host_ip: Some("127.0.0.1".into()),
                        host_port: Some(String::new()),
                        ..Default::default()
                    }]),
                )]
                .into(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = docker
        .containers()
        .create(&body, &Default::default())
        .await
        .expect("create")
        .id;
    let _guard = Guard(env.host.clone(), Made::Container(id.clone()));
    let _vol_guard = Guard(env.host.clone(), Made::Volume(volume.clone()));
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    let exec = docker
        .exec()
        .create(
            &id,
            &ContainerExecBody {
                cmd: Some(vec!["cat".into(), "/bound/bound.txt".into()]),
                attach_stdout: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("exec create")
        .id;
    let out: Vec<LogOutput> = docker
        .exec()
        .start(&exec, &Default::default())
        .await
        .expect("exec start")
        .output
        .try_collect()
        .await
        .expect("exec output");
    assert_eq!(split(&out).0, "bound\n");

    let inspected = docker
        .containers()
        .inspect(&id, &Default::default())
        .await
        .expect("inspect");
    let mounts = inspected.mounts.as_ref().expect("mounts");
    assert!(
        mounts
            .iter()
            .any(|m| m.destination.as_deref() == Some("/data")
                && m.name.as_deref() == Some(volume.as_str())),
        "{mounts:?}"
    );
    let ports = inspected
        .network_settings
        .as_ref()
        .and_then(|n| n.ports.as_ref())
        .and_then(|p| p.get("8080/tcp").cloned().flatten())
        .unwrap_or_default();
    assert!(
        ports
            .iter()
            .any(|p| p.host_ip.as_deref() == Some("127.0.0.1")
                && p.host_port
                    .as_deref()
                    .is_some_and(|h| h.parse::<u16>().is_ok())),
        "{ports:?}"
    );
    for path in [
        format!("/containers/{id}/json"),
        format!("/containers/{id}/json?size=1"),
    ] {
        let raw = raw_get(&docker, &path).await;
        let _: ContainerInspectResponse = assert_lossless(&format!("GET {path}"), &raw);
    }
    let raw = raw_get(&docker, "/containers/json?all=1&size=1").await;
    let _: Vec<dockhand::models::ContainerSummary> =
        assert_lossless("GET /containers/json?size=1", &raw);
    let raw = raw_get(&docker, &format!("/exec/{exec}/json")).await;
    let _: dockhand::models::ExecInspectResponse = assert_lossless("GET /exec/{id}/json", &raw);
    let raw = raw_get(&docker, &format!("/images/{}/history", env.image)).await;
    let _: Vec<dockhand::models::ImageHistoryResponseItem> =
        assert_lossless("GET /images/{name}/history", &raw);
    let raw = raw_get(&docker, "/networks/podman").await;
    let _: NetworkInspect = assert_lossless("GET /networks/podman", &raw);

    docker
        .containers()
        .remove(&id, &ContainerDeleteOptions::default().force(true))
        .await
        .expect("remove");
    docker
        .volumes()
        .remove(&volume, &Default::default())
        .await
        .expect("volume remove");
    // Every event since the test began (containers, volumes, images, networks
    // of other tests too), as Podman wrote them.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    // `until` is a whole second: one past now, so the last events are in.
    let raw = docker
        .request_path(http::Method::GET, "/events")
        .query("since", since.to_string())
        .query("until", (now + 1).to_string())
        .bytes()
        .await
        .expect("events until now");
    let mut kinds = std::collections::BTreeSet::new();
    let mut actions = Vec::new();
    for line in raw.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let e: dockhand::models::EventMessage = assert_lossless("GET /events", line);
        kinds.insert(format!("{:?}", e.type_));
        if e.actor.as_ref().and_then(|a| a.id.as_deref()) == Some(id.as_str()) {
            actions.push(e.action.clone().unwrap_or_default());
        }
    }
    assert!(
        actions.iter().any(|a| a == "start"),
        "{actions:?} among {} bytes",
        raw.len()
    );
    assert!(
        actions.iter().any(|a| a == "remove" || a == "destroy"),
        "{actions:?}"
    );
    println!("event kinds: {kinds:?}; container actions: {actions:?}");
}

/// Where Podman 4.3 answers otherwise than dockerd 20.10, and what dockhand
/// gives the caller: the daemon's own status and message, or a typed decode
/// error for an answer that cannot be one.
#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn podman_answers_that_differ_from_dockerd() {
    let env = podman_env("podman_answers_that_differ_from_dockerd");
    let docker = client(&env);
    docker.system().ping_head().await.expect("HEAD /_ping");
    let (id, _guard) = create(&docker, &env, &["sleep", "60"], &[]).await;
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");

    // Removing a running container: dockerd answers 409 Conflict, Podman 500
    // (which `is_conflict()` knows by Podman's error at its end).
    match docker.containers().remove(&id, &Default::default()).await {
        Err(e @ Error::Api { status: 500, .. }) => {
            assert!(e.is_conflict(), "{e}");
            assert!(e.to_string().contains("running"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // Removing a network in use: 500 as well (dockerd: 403).
    match docker.networks().remove("podman").await {
        Err(e @ Error::Api { status: 500, .. }) => {
            assert!(e.is_conflict(), "{e}");
            assert!(e.to_string().contains("associated containers"), "{e}");
        }
        other => panic!("{other:?}"),
    }

    // An archive put into a missing directory: dockerd answers 404, Podman
    // makes the directory.
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(3);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "put.txt", &b"hi\n"[..])
        .expect("tar entry");
    let tar = tar.into_inner().expect("tar");
    docker
        .containers()
        .put_archive(&id, "/made/by/podman", Body::from(tar), &Default::default())
        .await
        .expect("Podman creates the missing directories");
    let stat = docker
        .containers()
        .archive_info(&id, "/made/by/podman/put.txt")
        .await
        .expect("the file is there");
    assert_eq!(stat.size, 3);
    // A missing source path is 404 on both.
    let missing = docker
        .containers()
        .get_archive(&id, "/no/such/file")
        .await
        .map(drop)
        .expect_err("no such file");
    assert!(missing.is_not_found(), "{missing}");

    // `GET /images/json?digests=1` is `200 OK` with an empty body in Podman
    // 4.3: not a list, so a typed decode error names the operation.
    match docker
        .images()
        .list(&ImageListOptions::default().digests(true))
        .await
    {
        Err(Error::Decode { operation, .. }) => assert_eq!(operation, "ImageList"),
        other => panic!("{other:?}"),
    }
    // Without it the digests are there anyway.
    let listed = docker
        .images()
        .list(&ImageListOptions::default().all(true))
        .await
        .expect("list");
    assert!(!listed.is_empty());

    // A missing image is 404 on both.
    let e = docker
        .containers()
        .create(
            &ContainerCreateBody {
                image: Some("localhost/dockhand-no-such-image:none".into()),
                ..Default::default()
            },
            &Default::default(),
        )
        .await
        .expect_err("no such image");
    assert!(e.is_not_found(), "{e}");
}

/// What dockerd calls a conflict (409), Podman often answers 500:
/// `is_conflict()` is true for both; starting a started container and
/// stopping a stopped one succeed on both; a followed log stream ends with
/// the container.
#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn conflicts_are_conflicts_whatever_podmans_status() {
    let env = podman_env("conflicts_are_conflicts_whatever_podmans_status");
    let docker = client(&env);
    let name = unique("states");
    let body = ContainerCreateBody {
        image: Some(env.image.clone()),
        cmd: Some(vec![
            "sh".into(),
            "-c".into(),
            "for i in 1 2 3; do echo l$i; sleep 0.3; done".into(),
        ]),
        ..Default::default()
    };
    let create_opts = dockhand::operations::ContainerCreateOptions::default().name(name.clone());
    let id = docker
        .containers()
        .create(&body, &create_opts)
        .await
        .expect("create")
        .id;
    let _guard = Guard(env.host.clone(), Made::Container(id.clone()));
    let conflict = |what: &str, r: Result<(), Error>| match r {
        Err(e) if e.is_conflict() => {}
        other => panic!("{what}: {other:?}"),
    };
    conflict(
        "the same name twice",
        docker
            .containers()
            .create(&body, &create_opts)
            .await
            .map(drop),
    );
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("starting a running container succeeds");
    let followed: Vec<LogOutput> = tokio::time::timeout(Duration::from_secs(30), async {
        docker
            .containers()
            .logs(
                &id,
                &ContainerLogsOptions::default().stdout(true).follow(true),
            )
            .await
            .expect("logs")
            .try_collect::<Vec<_>>()
            .await
    })
    .await
    .expect("the followed stream ends when the container does")
    .expect("log stream");
    assert_eq!(split(&followed).0, "l1\nl2\nl3\n");
    docker
        .containers()
        .wait(&id, &Default::default())
        .await
        .expect("wait");
    docker
        .containers()
        .stop(&id, &Default::default())
        .await
        .expect("stopping a stopped container succeeds");
    conflict(
        "kill a stopped container",
        docker.containers().kill(&id, &Default::default()).await,
    );
    conflict(
        "pause a stopped container",
        docker.containers().pause(&id).await,
    );
    conflict(
        "exec in a stopped container",
        docker
            .exec()
            .create(
                &id,
                &ContainerExecBody {
                    cmd: Some(vec!["true".into()]),
                    ..Default::default()
                },
            )
            .await
            .map(drop),
    );
    conflict(
        "remove an image a container uses",
        docker
            .images()
            .remove(&env.image, &Default::default())
            .await
            .map(drop),
    );
    let net = unique("dupnet");
    let created = docker
        .networks()
        .create(&NetworkCreateBody {
            name: net.clone(),
            check_duplicate: Some(true),
            ..Default::default()
        })
        .await
        .expect("network");
    let _net_guard = Guard(env.host.clone(), Made::Network(created.id));
    conflict(
        "the same network twice",
        docker
            .networks()
            .create(&NetworkCreateBody {
                name: net.clone(),
                check_duplicate: Some(true),
                ..Default::default()
            })
            .await
            .map(drop),
    );
}

/// A build whose `FROM` is in the authenticated registry: Buildah pulls it
/// with the credentials of `X-Registry-Config` (URL-safe base64 of a
/// password whose standard base64 has `+` and `/`), and not without them.
#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn a_build_pulls_a_private_base_with_x_registry_config() {
    let env = podman_env("a_build_pulls_a_private_base_with_x_registry_config");
    let test_env = common::test_env("a_build_pulls_a_private_base_with_x_registry_config");
    let docker = client(&env);
    let _serial = AUTH_REGISTRY_IMAGE.lock().await;
    let base = format!("{}/dockhand-test/busybox:latest", test_env.auth_registry);
    let _ = docker
        .images()
        .remove(&base, &ImageDeleteOptions::default().force(true))
        .await;
    let _base_guard = Guard(env.host.clone(), Made::Image(base.clone()));
    let dir = common::TempDir::new("podman-auth-build");
    common::write_file(
        &dir.0,
        "Dockerfile",
        &format!("FROM {base}\nLABEL dockhand.test=auth\n"),
    );
    let tag = format!("localhost/{}:1", unique("authbuilt"));
    let _guard = Guard(env.host.clone(), Made::Image(tag.clone()));
    let build = |config: std::collections::BTreeMap<String, dockhand::models::AuthConfig>| {
        let docker = docker.clone();
        let dir = dir.0.clone();
        let tag = tag.clone();
        async move {
            let header = dockhand::auth::registry_config_header(&config)?;
            let stream = docker
                .images()
                .build_dir(
                    &dir,
                    &ImageBuildOptions::default()
                        .t(tag)
                        .x_registry_config(header),
                )
                .await?;
            BuildOutcome::collect(stream).await
        }
    };
    let refused = build(Default::default())
        .await
        .expect_err("no credentials for the base image");
    assert!(
        refused.to_string().contains("authentication required")
            || refused.to_string().contains("unauthorized"),
        "{refused}"
    );
    let credentials = dockhand::models::AuthConfig {
        username: Some(test_env.registry_user.clone()),
        password: Some(test_env.registry_password.clone()),
        serveraddress: Some(test_env.auth_registry.clone()),
        ..Default::default()
    };
    let outcome = build([(test_env.auth_registry.clone(), credentials)].into())
        .await
        .expect("the build pulls its base with the credentials");
    let built = docker
        .images()
        .inspect(&tag, &Default::default())
        .await
        .expect("built");
    assert_eq!(built.id.as_deref(), Some(outcome.image_id.as_str()));
    let labels = built.config.and_then(|c| c.labels).unwrap_or_default();
    assert_eq!(
        labels.get("dockhand.test").map(String::as_str),
        Some("auth")
    );
}

/// Configured as a Podman user configures the docker CLI: `DOCKER_HOST`, or
/// a context (`docker context create podman --docker host=…`) made current.
#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn docker_host_or_a_context_pointing_at_podman() {
    let env = podman_env("docker_host_or_a_context_pointing_at_podman");
    let resolve = |vars: Vec<(&'static str, String)>| {
        let var = move |k: &str| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.clone())
        };
        dockhand::config::Config::resolve(&dockhand::config::Env {
            var: &var,
            home: None,
        })
    };
    let config = resolve(vec![("DOCKER_HOST", env.host.clone())]).expect("DOCKER_HOST");
    assert_eq!(config.source, "DOCKER_HOST");
    let docker = Docker::builder().config(config).build().expect("client");
    let v = docker.system().version().await.expect("version");
    assert!(
        v.components
            .iter()
            .flatten()
            .any(|c| c.name == "Podman Engine"),
        "{v:?}"
    );

    let cfg = common::TempDir::new("podman-context");
    common::write_context(&cfg.0, "podman", &env.host);
    std::fs::write(cfg.0.join("config.json"), r#"{"currentContext":"podman"}"#)
        .expect("config.json");
    let config = resolve(vec![(
        "DOCKER_CONFIG",
        cfg.0.to_string_lossy().into_owned(),
    )])
    .expect("the context");
    assert_eq!(config.source, "context \"podman\"");
    let docker = Docker::builder().config(config).build().expect("client");
    assert_eq!(
        docker.api_version().await.expect("negotiated"),
        ApiVersion::new(1, 41)
    );
    let info = docker.system().info().await.expect("info");
    assert_eq!(
        info.docker_root_dir.as_deref(),
        Some("/var/lib/containers/storage")
    );
}

/// Prunes limited by a label remove what carries it, and only that (other
/// tests run beside this one).
#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn prunes_by_label_remove_only_what_carries_it() {
    let env = podman_env("prunes_by_label_remove_only_what_carries_it");
    let docker = client(&env);
    let label = unique("prune");
    let labels = || Some([("dockhand.prune".to_owned(), label.clone())].into());
    let by_label = || filters! { "label" => [format!("dockhand.prune={label}")] };

    let (stopped, _g1) = create(&docker, &env, &["true"], &[("dockhand.prune", &label)]).await;
    let (kept, _g2) = create(&docker, &env, &["true"], &[]).await;
    let pruned = docker
        .containers()
        .prune(&ContainerPruneOptions::default().filters(by_label()))
        .await
        .expect("container prune");
    assert_eq!(pruned.containers_deleted, Some(vec![stopped.clone()]));
    docker
        .containers()
        .inspect(&kept, &Default::default())
        .await
        .expect("the unlabelled container stays");

    let volume = unique("prunevol");
    docker
        .volumes()
        .create(&VolumeCreateRequest {
            name: Some(volume.clone()),
            labels: labels(),
            ..Default::default()
        })
        .await
        .expect("volume");
    let _g3 = Guard(env.host.clone(), Made::Volume(volume.clone()));
    let pruned = docker
        .volumes()
        .prune(&VolumePruneOptions::default().filters(by_label()))
        .await
        .expect("volume prune");
    assert_eq!(pruned.volumes_deleted, Some(vec![volume.clone()]));

    let network = unique("prunenet");
    let created = docker
        .networks()
        .create(&NetworkCreateBody {
            name: network.clone(),
            labels: labels(),
            ..Default::default()
        })
        .await
        .expect("network");
    let _g4 = Guard(env.host.clone(), Made::Network(created.id));
    let pruned = docker
        .networks()
        .prune(&NetworkPruneOptions::default().filters(by_label()))
        .await
        .expect("network prune");
    assert_eq!(pruned.networks_deleted, Some(vec![network.clone()]));
}
