//! Platform-aware refusals: requests checked against the daemon's OS
//! (`Ostype` from the negotiation ping) before anything is sent, against
//! wiremock daemons reporting `windows` and `linux`, and against the real
//! (Linux) daemon of the test environment.

mod common;

use common::mock::{client, daemon_on, requests_to};
use common::test_env;
use dockhand::models::{
    ContainerCreateBody, FieldPlatforms, HostConfig, HostConfigIsolation,
    ResourcesBlkioWeightDeviceItem,
};
use dockhand::operations as ops;
use dockhand::{ApiVersion, Docker, Error};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CREATE: &str = "/v1.44/containers/create";

/// A Windows-only setting: Hyper-V isolation and a CPU count.
fn windows_only() -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some("mcr.microsoft.com/windows/nanoserver:ltsc2022".into()),
        host_config: Some(HostConfig {
            isolation: Some(HostConfigIsolation::Hyperv),
            cpu_count: Some(2),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A setting a Windows daemon refuses (a block I/O weight).
fn linux_only() -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some("busybox".into()),
        host_config: Some(HostConfig {
            blkio_weight: Some(300),
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn answers_create(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path(CREATE))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(serde_json::json!({"Id": "c0ffee", "Warnings": []})),
        )
        .named("create")
        .mount(server)
        .await;
}

fn assert_refused(err: Error, what: &str, platform: &str, os: &str) {
    match &err {
        Error::UnsupportedOnPlatform {
            what: w,
            platform: p,
            daemon_os,
        } => {
            assert!(w.contains(what), "{err}");
            assert_eq!(p, platform, "{err}");
            assert_eq!(daemon_os, os, "{err}");
        }
        other => panic!("expected UnsupportedOnPlatform, got {other:?}"),
    }
}

#[tokio::test]
async fn windows_daemon_refuses_linux_only_field_and_sends_nothing() {
    let server = daemon_on(Some("1.44"), "windows").await;
    let docker = client(&server);
    let err = docker
        .containers()
        .create(&linux_only(), &Default::default())
        .await
        .expect_err("BlkioWeight is not on Windows");
    assert_refused(
        err,
        "ContainerCreate body field `HostConfig.BlkioWeight`",
        "not on Windows",
        "windows",
    );
    assert_eq!(docker.platform(), Some("windows"));
    assert!(
        requests_to(&server, CREATE).await.is_empty(),
        "nothing sent"
    );

    // Inside a list: the path names the item.
    let body = ContainerCreateBody {
        host_config: Some(HostConfig {
            blkio_weight_device: Some(vec![ResourcesBlkioWeightDeviceItem {
                path: Some("/dev/sda".into()),
                weight: Some(10),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let err = docker
        .containers()
        .create(&body, &Default::default())
        .await
        .expect_err("BlkioWeightDevice is not on Windows");
    assert_eq!(
        err.to_string(),
        "ContainerCreate body field `HostConfig.BlkioWeightDevice` is not on Windows, but the daemon runs on windows"
    );
    assert!(
        requests_to(&server, CREATE).await.is_empty(),
        "nothing sent"
    );
}

#[tokio::test]
async fn windows_daemon_accepts_windows_only_fields() {
    let server = daemon_on(Some("1.44"), "windows").await;
    answers_create(&server).await;
    let docker = client(&server);
    let created = docker
        .containers()
        .create(&windows_only(), &Default::default())
        .await
        .expect("Hyper-V isolation and CpuCount on Windows");
    assert_eq!(created.id, "c0ffee");
    let sent = requests_to(&server, CREATE).await;
    assert_eq!(sent.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(body["HostConfig"]["Isolation"], "hyperv");
    assert_eq!(body["HostConfig"]["CpuCount"], 2);

    // `docker top` works on Windows although the prose says otherwise (fixup).
    Mock::given(method("GET"))
        .and(path("/v1.44/containers/web/top"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"Titles": ["Name", "PID"], "Processes": [["cmd.exe", "1234"]]}),
        ))
        .mount(&server)
        .await;
    let top = docker
        .containers()
        .top("web", &Default::default())
        .await
        .expect("top on Windows");
    assert_eq!(
        top.titles.as_deref(),
        Some(&["Name".to_owned(), "PID".to_owned()][..])
    );
}

#[tokio::test]
async fn linux_daemon_refuses_windows_only_fields_and_sends_nothing() {
    let server = daemon_on(Some("1.44"), "linux").await;
    answers_create(&server).await;
    let docker = client(&server);
    let err = docker
        .containers()
        .create(&windows_only(), &Default::default())
        .await
        .expect_err("CpuCount and Hyper-V are Windows only");
    assert_refused(
        err,
        "ContainerCreate body field `HostConfig.CpuCount`",
        "Windows only",
        "linux",
    );
    let hyperv = ContainerCreateBody {
        host_config: Some(HostConfig {
            isolation: Some(HostConfigIsolation::Hyperv),
            ..Default::default()
        }),
        ..Default::default()
    };
    let err = docker
        .containers()
        .create(&hyperv, &Default::default())
        .await
        .expect_err("Hyper-V is Windows only");
    assert_refused(
        err,
        "ContainerCreate body value \"hyperv\" of `HostConfig.Isolation`",
        "Windows only",
        "linux",
    );
    let cpu_only = ContainerCreateBody {
        host_config: Some(HostConfig {
            cpu_count: Some(2),
            ..Default::default()
        }),
        ..Default::default()
    };
    let err = docker
        .containers()
        .create(&cpu_only, &Default::default())
        .await
        .expect_err("CpuCount is Windows only");
    assert_refused(err, "field `HostConfig.CpuCount`", "Windows only", "linux");
    // The same through the escape hatch.
    let err = docker
        .request(&ops::CONTAINER_CREATE)
        .model(cpu_only.clone())
        .send()
        .await
        .expect_err("raw requests are checked too");
    assert_refused(err, "field `HostConfig.CpuCount`", "Windows only", "linux");
    assert!(
        requests_to(&server, CREATE).await.is_empty(),
        "nothing sent"
    );

    // What Linux has goes through: the block I/O weight, `default` isolation,
    // a zero CpuCount (what Go decodes from an absent field), and ArgsEscaped,
    // which Linux ignores (a warning, not an error).
    let mut ok = linux_only();
    let hc = ok.host_config.as_mut().unwrap();
    hc.isolation = Some(HostConfigIsolation::Default);
    hc.cpu_count = Some(0);
    ok.args_escaped = Some(true);
    docker
        .containers()
        .create(&ok, &Default::default())
        .await
        .expect("Linux settings on Linux");
    let sent = requests_to(&server, CREATE).await;
    assert_eq!(sent.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(body["HostConfig"]["BlkioWeight"], 300);
    assert_eq!(body["ArgsEscaped"], true);
}

#[tokio::test]
async fn the_check_can_be_turned_off() {
    let server = daemon_on(Some("1.44"), "linux").await;
    answers_create(&server).await;
    let docker = Docker::builder()
        .host(server.uri())
        .platform_check(false)
        .build()
        .unwrap();
    docker
        .containers()
        .create(&windows_only(), &Default::default())
        .await
        .expect("sent as it is");
    assert_eq!(requests_to(&server, CREATE).await.len(), 1);
}

#[tokio::test]
async fn a_fixed_version_pings_only_when_a_request_touches_a_platform_fact() {
    let server = daemon_on(Some("1.44"), "linux").await;
    answers_create(&server).await;
    let docker = Docker::builder()
        .host(server.uri())
        .api_version(ApiVersion::new(1, 44))
        .build()
        .unwrap();
    assert_eq!(docker.platform(), None);
    // Nothing platform-specific: no ping.
    let plain = ContainerCreateBody {
        image: Some("busybox".into()),
        ..Default::default()
    };
    docker
        .containers()
        .create(&plain, &Default::default())
        .await
        .unwrap();
    assert!(
        requests_to(&server, "/_ping").await.is_empty(),
        "no ping needed"
    );
    assert_eq!(docker.platform(), None);
    // A Windows-only field: one ping to learn the OS, then the refusal.
    let err = docker
        .containers()
        .create(&windows_only(), &Default::default())
        .await
        .expect_err("refused once the OS is known");
    assert_refused(err, "HostConfig.CpuCount", "Windows only", "linux");
    assert_eq!(docker.platform(), Some("linux"));
    let _ = docker
        .containers()
        .create(&windows_only(), &Default::default())
        .await
        .expect_err("still refused");
    assert_eq!(
        requests_to(&server, "/_ping").await.len(),
        1,
        "one ping, cached"
    );
    assert_eq!(
        requests_to(&server, CREATE).await.len(),
        1,
        "only the plain create"
    );
}

#[test]
fn models_know_their_platform_facts() {
    let body = windows_only();
    assert!(body.first_not_on("windows").is_none());
    let t = body.first_not_on("linux").unwrap();
    assert_eq!(t.path, "HostConfig.CpuCount");
    assert_eq!(t.value, None);
    assert_eq!(t.only, ["windows"]);
    let mut hyperv = body.clone();
    hyperv.host_config.as_mut().unwrap().cpu_count = None;
    let t = hyperv.first_not_on("linux").unwrap();
    assert_eq!(t.path, "HostConfig.Isolation");
    assert_eq!(t.value.as_deref(), Some("hyperv"));
    assert_eq!(
        t.to_string(),
        "value \"hyperv\" of `HostConfig.Isolation` (Windows only)"
    );
    let t = linux_only().first_not_on("windows").unwrap();
    assert_eq!(t.path, "HostConfig.BlkioWeight");
    assert_eq!(t.not_on, ["windows"]);
    assert!(linux_only().first_not_on("linux").is_none());

    let mut ignored = Vec::new();
    let body = ContainerCreateBody {
        args_escaped: Some(true),
        ..Default::default()
    };
    body.ignored_on("linux", &mut ignored);
    assert_eq!(ignored, ["ArgsEscaped"]);
    ignored.clear();
    body.ignored_on("windows", &mut ignored);
    assert!(ignored.is_empty());
}

/// The real test daemon runs on Linux: Windows-only settings are refused
/// before sending, the Linux ones are accepted by the daemon.
#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn real_linux_daemon() {
    let env = test_env("real_linux_daemon");
    let docker = Docker::connect_with_host("unix:///var/run/docker.sock").expect("client");
    docker.system().ping().await.expect("ping");
    assert_eq!(docker.platform(), Some("linux"));

    let mut body = windows_only();
    body.image = Some(env.image.clone());
    let err = docker
        .containers()
        .create(&body, &Default::default())
        .await
        .expect_err("Windows-only settings refused before sending");
    assert_refused(err, "HostConfig.CpuCount", "Windows only", "linux");
    body.host_config.as_mut().unwrap().cpu_count = None;
    let err = docker
        .containers()
        .create(&body, &Default::default())
        .await
        .expect_err("Hyper-V isolation refused before sending");
    assert_refused(err, "HostConfig.Isolation", "Windows only", "linux");

    let label = format!("dockhand-platform-{}", std::process::id());
    let mut body = linux_only();
    body.image = Some(env.image.clone());
    body.labels = Some([("dockhand.test".to_owned(), label)].into_iter().collect());
    let hc = body.host_config.as_mut().unwrap();
    hc.isolation = Some(HostConfigIsolation::Default);
    hc.memory_reservation = Some(8 * 1024 * 1024);
    hc.pids_limit = Some(64);
    let created = docker
        .containers()
        .create(&body, &Default::default())
        .await
        .expect("Linux settings accepted by the Linux daemon");
    let inspect = docker
        .containers()
        .inspect(&created.id, &Default::default())
        .await
        .expect("inspect");
    let hc = inspect.host_config.expect("HostConfig");
    assert_eq!(hc.pids_limit, Some(64));
    assert_eq!(hc.memory_reservation, Some(8 * 1024 * 1024));
    docker
        .containers()
        .remove(
            &created.id,
            &ops::ContainerDeleteOptions::default().force(true),
        )
        .await
        .expect("remove");
}

/// Collects the messages of `WARN` events on this thread.
#[derive(Clone, Default)]
struct Warnings(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl tracing::Subscriber for Warnings {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Message<'a>(&'a mut String);
        impl tracing::field::Visit for Message<'_> {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    *self.0 = format!("{value:?}");
                }
            }
        }
        if *event.metadata().level() == tracing::Level::WARN {
            let mut text = String::new();
            event.record(&mut Message(&mut text));
            self.0.lock().unwrap().push(text);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(flavor = "current_thread")]
async fn ignored_fields_are_sent_with_a_warning() {
    let warnings = Warnings::default();
    let _guard = tracing::subscriber::set_default(warnings.clone());
    let server = daemon_on(Some("1.44"), "linux").await;
    answers_create(&server).await;
    let docker = client(&server);
    let body = ContainerCreateBody {
        image: Some("busybox".into()),
        args_escaped: Some(true),
        ..Default::default()
    };
    docker
        .containers()
        .create(&body, &Default::default())
        .await
        .expect("ignored, not refused");
    assert_eq!(requests_to(&server, CREATE).await.len(), 1);
    let seen = warnings.0.lock().unwrap().clone();
    assert_eq!(
        seen,
        ["body field `ArgsEscaped` is ignored by a daemon on linux; sending it anyway"]
    );
    // On Windows it means something: no warning.
    let server = daemon_on(Some("1.44"), "windows").await;
    answers_create(&server).await;
    client(&server)
        .containers()
        .create(&body, &Default::default())
        .await
        .unwrap();
    assert_eq!(warnings.0.lock().unwrap().len(), 1);
}
