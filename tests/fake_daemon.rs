//! `dockhand::testing::FakeDocker` on its own: what the conformance suite
//! cannot compare with dockerd (scripting, faults, recorded requests, raw
//! mocks, versions and platforms, the Unix socket). Needs no environment.

use dockhand::models::{
    ContainerCreateBody, ContainerExecBody, CreateImageInfo, ExecStartBody, HostConfig,
};
use dockhand::operations::{
    ContainerCreateOptions, ContainerListOptions, ContainerLogsOptions, Filters,
};
use dockhand::stream::events::EventFilters;
use dockhand::stream::LogOutput;
use dockhand::testing::{ContainerScript, FakeContainer, FakeDocker, Fault, PullScript};
use dockhand::{ApiVersion, Docker, Error};
use futures::{StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn create_body(image: &str, cmd: &[&str]) -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some(image.into()),
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    }
}

async fn create(
    docker: &Docker,
    name: &str,
    body: &ContainerCreateBody,
) -> dockhand::Result<String> {
    Ok(docker
        .containers()
        .create(body, &ContainerCreateOptions::default().name(name))
        .await?
        .id)
}

async fn logs(docker: &Docker, name: &str, follow: bool) -> dockhand::Result<Vec<LogOutput>> {
    let opts = ContainerLogsOptions::default()
        .stdout(true)
        .stderr(true)
        .follow(follow);
    docker
        .containers()
        .logs(name, &opts)
        .await?
        .try_collect()
        .await
}

#[tokio::test]
async fn negotiates_the_configured_version_and_os() {
    for (version, os) in [((1, 25), "linux"), ((1, 41), "windows"), ((1, 56), "linux")] {
        let v = ApiVersion::new(version.0, version.1);
        let fake = FakeDocker::builder()
            .api_version(v)
            .os(os)
            .engine_version("27.1.0")
            .start()
            .await;
        let docker = fake.docker();
        let info = docker.daemon_info().await.expect("ping");
        assert_eq!(info.api_version, v);
        assert_eq!(info.os_type.as_deref(), Some(os));
        let version = docker.system().version().await.expect("version");
        assert_eq!(version.version.as_deref(), Some("27.1.0"));
        assert_eq!(version.os.as_deref(), Some(os));
        // Requests use the negotiated prefix.
        docker
            .containers()
            .list(&Default::default())
            .await
            .expect("list");
        let list = fake.requests_for("ContainerList").pop().expect("recorded");
        assert_eq!(list.api_version, Some(v));
    }
}

#[tokio::test]
async fn refuses_a_newer_version_prefix_as_dockerd_does() {
    let fake = FakeDocker::builder()
        .api_version(ApiVersion::new(1, 41))
        .start()
        .await;
    let docker = Docker::builder()
        .host(fake.host())
        .api_version(ApiVersion::new(1, 44))
        .build()
        .expect("client");
    let err = docker.system().info().await.expect_err("too new");
    assert_eq!(
        error_text(&err),
        "400 client version 1.44 is too new. Maximum supported API version is 1.41"
    );
}

fn error_text(e: &Error) -> String {
    match e {
        Error::Api {
            status, message, ..
        } => format!("{status} {message}"),
        other => format!("not an API error: {other}"),
    }
}

#[tokio::test]
async fn serves_the_unix_socket_with_the_same_state() {
    let fake = FakeDocker::start().await;
    let unix = fake.unix_host().expect("a unix socket on unix");
    let via_unix = Docker::connect_with_host(&unix).expect("client");
    fake.image("busybox");
    create(&via_unix, "u1", &create_body("busybox", &["true"]))
        .await
        .expect("create over unix");
    let c = fake
        .docker()
        .containers()
        .inspect("u1", &Default::default())
        .await
        .expect("inspect over tcp");
    assert_eq!(c.name.as_deref(), Some("/u1"));
}

#[tokio::test]
async fn records_typed_requests() {
    let fake = FakeDocker::start().await;
    fake.image("nginx:1.27");
    let docker = fake.docker();
    let mut body = create_body("nginx:1.27", &["nginx", "-g", "daemon off;"]);
    body.labels = Some(HashMap::from([("team".into(), "core".into())]));
    body.host_config = Some(HostConfig {
        memory: Some(128 << 20),
        ..Default::default()
    });
    create(&docker, "web", &body).await.expect("create");
    let mut f = Filters::new();
    f.insert("label".into(), vec!["team=core".into()]);
    let listed = docker
        .containers()
        .list(&ContainerListOptions::default().all(true).filters(f))
        .await
        .expect("list");
    assert_eq!(listed.len(), 1);

    let create = fake
        .requests_for("ContainerCreate")
        .pop()
        .expect("create seen");
    assert_eq!(create.method, http::Method::POST);
    assert_eq!(create.path, "/containers/create");
    assert_eq!(create.query("name"), Some("web"));
    let sent: ContainerCreateBody = create.json().expect("typed body");
    assert_eq!(sent.labels.unwrap()["team"], "core");
    assert_eq!(sent.host_config.unwrap().memory, Some(128 << 20));
    let list = fake.requests_for("ContainerList").pop().expect("list seen");
    assert_eq!(list.query("all"), Some("true"));
    assert_eq!(
        list.filters().unwrap()["label"],
        vec!["team=core".to_string()]
    );
    // Pings are requests too; clearing forgets them all.
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.operation == Some("SystemPingHead")));
    fake.clear_requests();
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn injected_status_applies_to_the_next_matching_call_only() {
    let fake = FakeDocker::start().await;
    fake.container(FakeContainer::new("web", "busybox"));
    fake.container(FakeContainer::new("db", "busybox"));
    fake.inject(Fault::status("ContainerStart", 500, "cgroup trouble").path_contains("web"));
    let docker = fake.docker();
    // Another container is not matched.
    docker
        .containers()
        .start("db", &Default::default())
        .await
        .expect("db starts");
    let err = docker
        .containers()
        .start("web", &Default::default())
        .await
        .expect_err("fault");
    assert_eq!(error_text(&err), "500 cgroup trouble");
    // Used up: the next start works and the state moves on.
    docker
        .containers()
        .start("web", &Default::default())
        .await
        .expect("second start");
    let c = docker
        .containers()
        .inspect("web", &Default::default())
        .await
        .unwrap();
    assert_eq!(c.state.unwrap().running, Some(true));
}

#[tokio::test]
async fn injected_cut_ends_a_stream_with_an_error() {
    let fake = FakeDocker::start().await;
    fake.container(
        FakeContainer::new("chatty", "busybox").running().script(
            ContainerScript::new()
                .stdout("0123456789".repeat(10))
                .exit(0),
        ),
    );
    let docker = fake.docker();
    docker
        .containers()
        .wait("chatty", &Default::default())
        .await
        .unwrap();
    // Whole, the log is one 108-byte frame; cut after 20 bytes it is truncated.
    let whole = logs(&docker, "chatty", false).await.expect("whole");
    assert_eq!(whole.iter().map(|p| p.bytes().len()).sum::<usize>(), 100);
    fake.inject(Fault::cut_after("ContainerLogs", 20));
    let err = logs(&docker, "chatty", false)
        .await
        .expect_err("cut stream");
    assert!(!matches!(err, Error::Api { .. }), "{err:?}");
    // Only once.
    logs(&docker, "chatty", false).await.expect("whole again");
}

#[tokio::test]
async fn injected_latency_delays_the_answer() {
    let fake = FakeDocker::start().await;
    let docker = fake.docker();
    docker.system().ping().await.unwrap();
    fake.inject(Fault::delay("ContainerList", Duration::from_millis(300)));
    let t = Instant::now();
    docker.containers().list(&Default::default()).await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    let t = Instant::now();
    docker.containers().list(&Default::default()).await.unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn raw_mocks_take_precedence() {
    use wiremock::matchers::{method, path_regex};
    use wiremock::{Mock, ResponseTemplate};
    let fake = FakeDocker::start().await;
    fake.container(FakeContainer::new("web", "busybox"));
    Mock::given(method("GET"))
        .and(path_regex(r"^/v[0-9.]+/containers/web/json$"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"Id": "mocked", "Name": "/web"})),
        )
        .up_to_n_times(1)
        .mount(fake.mock_server())
        .await;
    let docker = fake.docker();
    let c = docker
        .containers()
        .inspect("web", &Default::default())
        .await
        .unwrap();
    assert_eq!(c.id.as_deref(), Some("mocked"));
    // Once the mock is used up, the engine answers.
    let c = docker
        .containers()
        .inspect("web", &Default::default())
        .await
        .unwrap();
    assert_eq!(c.id.as_deref().map(str::len), Some(64));
    // An operation the fake does not implement says so.
    let err = docker.containers().changes("web").await.expect_err("501");
    assert_eq!(err.status(), Some(501));
    assert!(error_text(&err).contains("ContainerChanges"), "{err}");
}

#[tokio::test]
async fn exec_hijacked_multiplexed_and_tty_on_a_new_api() {
    let fake = FakeDocker::start().await; // 1.56: the 101 carries the stream type
    fake.container(FakeContainer::new("box", "busybox").running());
    fake.on_exec(|mut p| async move {
        match p.cmd[0].as_str() {
            "upper" => {
                let mut buf = [0u8; 4];
                // Interactive: answers each chunk as it comes.
                while let Some(stdin) = p.stdin() {
                    let n = stdin.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    let up = buf[..n].to_ascii_uppercase();
                    p.stdout(up).await;
                }
                p.stderr("bye\n").await;
                7
            }
            _ => {
                p.stdout("tty line\n").await;
                0
            }
        }
    });
    let docker = fake.docker();
    let body = ContainerExecBody {
        cmd: Some(vec!["upper".into()]),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    };
    let id = docker.exec().create("box", &body).await.unwrap().id;
    let mut attached = docker
        .exec()
        .start(&id, &ExecStartBody::default())
        .await
        .unwrap();
    attached.input.write_all(b"abcd").await.unwrap();
    let first = attached
        .output
        .try_next()
        .await
        .unwrap()
        .expect("echo before EOF");
    assert_eq!(first, LogOutput::StdOut("ABCD".into()));
    let inspect = docker.exec().inspect(&id).await.unwrap();
    assert_eq!(inspect.running, Some(true));
    attached.input.shutdown().await.unwrap();
    let rest: Vec<LogOutput> = attached.output.try_collect().await.unwrap();
    assert_eq!(rest, vec![LogOutput::StdErr("bye\n".into())]);
    let inspect = docker.exec().inspect(&id).await.unwrap();
    assert_eq!((inspect.running, inspect.exit_code), (Some(false), Some(7)));

    let tty = ContainerExecBody {
        cmd: Some(vec!["show".into()]),
        attach_stdout: Some(true),
        tty: Some(true),
        ..Default::default()
    };
    let id = docker.exec().create("box", &tty).await.unwrap().id;
    let start = ExecStartBody {
        tty: Some(true),
        ..Default::default()
    };
    let out: Vec<LogOutput> = docker
        .exec()
        .start(&id, &start)
        .await
        .unwrap()
        .output
        .try_collect()
        .await
        .unwrap();
    assert_eq!(out, vec![LogOutput::Console("tty line\r\n".into())]);
    // Detached: nothing attached, the handler still runs.
    let id = docker.exec().create("box", &tty).await.unwrap().id;
    docker
        .exec()
        .start_detached(&id, &ExecStartBody::default())
        .await
        .unwrap();
    for _ in 0..100 {
        if docker.exec().inspect(&id).await.unwrap().exit_code == Some(0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("detached exec never finished");
}

#[tokio::test]
async fn follows_logs_until_stop_and_tty_logs_are_raw() {
    let fake = FakeDocker::start().await;
    fake.container(
        FakeContainer::new("svc", "busybox")
            .running()
            .script(ContainerScript::new().stdout("up\n").stderr("warn\n")),
    );
    fake.container(
        FakeContainer::new("term", "busybox")
            .tty(true)
            .running()
            .script(ContainerScript::new().stdout("a\nb\n").exit(0)),
    );
    let docker = fake.docker();
    let follower = {
        let docker = docker.clone();
        tokio::spawn(async move { logs(&docker, "svc", true).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!follower.is_finished(), "follow ended while running");
    docker
        .containers()
        .stop("svc", &Default::default())
        .await
        .unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(5), follower)
        .await
        .expect("follow ends at stop")
        .unwrap()
        .unwrap();
    assert_eq!(
        seen,
        vec![
            LogOutput::StdOut("up\n".into()),
            LogOutput::StdErr("warn\n".into())
        ]
    );
    docker
        .containers()
        .wait("term", &Default::default())
        .await
        .unwrap();
    let tty = logs(&docker, "term", false).await.unwrap();
    assert_eq!(tty, vec![LogOutput::Console("a\r\nb\r\n".into())]);
}

#[tokio::test]
async fn scripted_pull_progress_errors_and_state() {
    let fake = FakeDocker::start().await;
    fake.pullable("127.0.0.1:5000/team/app:1", PullScript::new().layers(2));
    fake.pullable(
        "127.0.0.1:5000/team/broken:1",
        PullScript::new().fail("received unexpected HTTP status: 500 Internal Server Error"),
    );
    fake.pullable(
        "127.0.0.1:5000/team/exact:1",
        PullScript::new().messages(vec![CreateImageInfo {
            status: Some("custom".into()),
            ..Default::default()
        }]),
    );
    let docker = fake.docker();
    let msgs: Vec<CreateImageInfo> = docker
        .images()
        .pull("127.0.0.1:5000/team/app:1", &Default::default())
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let statuses: Vec<&str> = msgs.iter().filter_map(|m| m.status.as_deref()).collect();
    assert_eq!(statuses.first(), Some(&"Pulling from team/app"));
    assert_eq!(
        statuses.iter().filter(|s| **s == "Pull complete").count(),
        2
    );
    assert!(msgs
        .iter()
        .any(|m| m.progress_detail.as_ref().and_then(|p| p.total).is_some()));
    assert_eq!(
        statuses.last(),
        Some(&"Status: Downloaded newer image for 127.0.0.1:5000/team/app:1")
    );
    // Now it is local.
    let img = docker
        .images()
        .inspect("127.0.0.1:5000/team/app:1", &Default::default())
        .await
        .unwrap();
    assert_eq!(
        img.repo_tags.unwrap(),
        vec!["127.0.0.1:5000/team/app:1".to_string()]
    );

    // An in-band error ends the stream with Err and stores nothing.
    let mut s = docker
        .images()
        .pull("127.0.0.1:5000/team/broken:1", &Default::default())
        .await
        .unwrap();
    let mut err = None;
    while let Some(item) = s.next().await {
        if let Err(e) = item {
            err = Some(e);
            break;
        }
    }
    assert!(err
        .expect("in-band error")
        .to_string()
        .contains("500 Internal Server Error"));
    let missing = docker
        .images()
        .inspect("127.0.0.1:5000/team/broken:1", &Default::default())
        .await
        .expect_err("not stored");
    assert!(missing.is_not_found());

    let exact: Vec<CreateImageInfo> = docker
        .images()
        .pull("127.0.0.1:5000/team/exact:1", &Default::default())
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(exact.len(), 1);
    assert_eq!(exact[0].status.as_deref(), Some("custom"));

    // Unscripted and absent: dockerd's answers for a registry and for Hub.
    let e = docker
        .images()
        .pull("127.0.0.1:5000/nope:1", &Default::default())
        .await
        .expect_err("404");
    assert_eq!(
        error_text(&e),
        "404 manifest for 127.0.0.1:5000/nope:1 not found: manifest unknown: manifest unknown"
    );
}

#[tokio::test]
async fn events_follow_and_filter() {
    let fake = FakeDocker::start().await;
    fake.image("busybox");
    let docker = fake.docker();
    let mut stream = docker
        .system()
        .events(&EventFilters::new().event("start").into_options())
        .await
        .unwrap();
    create(&docker, "e1", &create_body("busybox", &["true"]))
        .await
        .unwrap();
    docker
        .containers()
        .start("e1", &Default::default())
        .await
        .unwrap();
    let e = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
        .await
        .expect("an event")
        .unwrap()
        .unwrap();
    assert_eq!(e.action.as_deref(), Some("start"));
    let attrs = e.actor.unwrap().attributes.unwrap();
    assert_eq!(attrs["name"], "e1");
    assert_eq!(attrs["image"], "busybox");
}

#[tokio::test]
async fn network_and_volume_state() {
    let fake = FakeDocker::start().await;
    let docker = fake.docker();
    let names: Vec<String> = docker
        .networks()
        .list(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter_map(|n| n.name)
        .collect();
    assert_eq!(names, vec!["bridge", "host", "none"]);
    let body = dockhand::models::NetworkCreateBody {
        name: "backend".into(),
        labels: Some(HashMap::from([("env".into(), "test".into())])),
        ..Default::default()
    };
    let id = docker.networks().create(&body).await.unwrap().id;
    let n = docker
        .networks()
        .inspect("backend", &Default::default())
        .await
        .unwrap();
    assert_eq!(n.id.as_deref(), Some(id.as_str()));
    let dup = docker.networks().create(&body).await.expect_err("dup");
    assert_eq!(
        error_text(&dup),
        "409 network with name backend already exists"
    );
    let pre = docker
        .networks()
        .remove("bridge")
        .await
        .expect_err("predefined");
    assert_eq!(
        error_text(&pre),
        "403 bridge is a pre-defined network and cannot be removed"
    );
    docker.networks().remove("backend").await.unwrap();

    let v = docker
        .volumes()
        .create(&dockhand::models::VolumeCreateRequest {
            name: Some("data".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(v.mountpoint, "/var/lib/docker/volumes/data/_data");
    let listed = docker.volumes().list(&Default::default()).await.unwrap();
    assert_eq!(listed.volumes.unwrap().len(), 1);
    docker
        .volumes()
        .remove("data", &Default::default())
        .await
        .unwrap();
    let gone = docker.volumes().inspect("data").await.expect_err("removed");
    assert_eq!(error_text(&gone), "404 get data: no such volume");
}

#[tokio::test]
async fn messages_follow_the_version_spoken() {
    let fake = FakeDocker::start().await; // newest API
    fake.container(FakeContainer::new("web", "busybox").running());
    let docker = fake.docker();
    let e = docker
        .containers()
        .remove("web", &Default::default())
        .await
        .expect_err("409");
    assert_eq!(
        error_text(&e),
        "409 cannot remove container \"/web\": container is running: stop the container before removing or force remove"
    );
    let e = docker
        .images()
        .inspect("nope", &Default::default())
        .await
        .expect_err("404");
    assert_eq!(error_text(&e), "404 No such image: nope:latest");
}

#[tokio::test]
async fn recorded_credentials_stay_out_of_debug() {
    let fake = FakeDocker::start().await;
    fake.pullable("127.0.0.1:5000/private/app:1", PullScript::new());
    let docker = fake.docker();
    let creds = dockhand::models::AuthConfig {
        username: Some("ci".into()),
        password: Some("hunter2-secret".into()),
        serveraddress: Some("127.0.0.1:5000".into()),
        ..Default::default()
    };
    let opts = dockhand::operations::ImageCreateOptions::default().credentials(&creds);
    let _: Vec<_> = docker
        .images()
        .pull("127.0.0.1:5000/private/app:1", &opts)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    let _ = docker.system().auth(&creds).await; // answered 501 by the fake
    let pull = fake.requests_for("ImageCreate").pop().expect("pull seen");
    assert!(
        pull.headers.contains_key("x-registry-auth"),
        "the header itself is kept"
    );
    let auth = fake.requests_for("SystemAuth").pop().expect("auth seen");
    for r in [pull, auth] {
        let shown = format!("{r:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}

#[tokio::test]
async fn auto_remove_and_list_order_filters() {
    let fake = FakeDocker::start().await;
    fake.image("busybox");
    let docker = fake.docker();
    for n in ["first", "second", "third"] {
        create(&docker, n, &create_body("busybox", &["sleep", "100"]))
            .await
            .unwrap();
    }
    let names = |v: Vec<dockhand::models::ContainerSummary>| -> Vec<String> {
        v.into_iter()
            .flat_map(|c| c.names.unwrap_or_default())
            .collect()
    };
    let mut f = Filters::new();
    f.insert("since".into(), vec!["first".into()]);
    let since = docker
        .containers()
        .list(&ContainerListOptions::default().all(true).filters(f))
        .await
        .unwrap();
    assert_eq!(names(since), vec!["/third", "/second"], "newest first");
    let mut f = Filters::new();
    f.insert("before".into(), vec!["third".into()]);
    f.insert("health".into(), vec!["none".into()]);
    let before = docker
        .containers()
        .list(&ContainerListOptions::default().all(true).filters(f))
        .await
        .unwrap();
    assert_eq!(names(before), vec!["/second", "/first"]);
    let mut f = Filters::new();
    f.insert("before".into(), vec!["nope".into()]);
    let e = docker
        .containers()
        .list(&ContainerListOptions::default().all(true).filters(f))
        .await
        .expect_err("unknown container in before");
    assert_eq!(error_text(&e), "404 No such container: nope");

    // `docker run --rm`: gone after it exits, and `removed` waits for it.
    let mut body = create_body("busybox", &["sh", "-c", "echo bye; exit 4"]);
    body.host_config = Some(HostConfig {
        auto_remove: Some(true),
        ..Default::default()
    });
    create(&docker, "rm-me", &body).await.unwrap();
    let waiter = {
        let docker = docker.clone();
        tokio::spawn(async move {
            docker
                .containers()
                .wait(
                    "rm-me",
                    &dockhand::operations::ContainerWaitOptions::default().condition("removed"),
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    docker
        .containers()
        .start("rm-me", &Default::default())
        .await
        .unwrap();
    let waited = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("wait for removal ends")
        .unwrap()
        .unwrap();
    assert_eq!(waited.status_code, 4);
    let gone = docker
        .containers()
        .inspect("rm-me", &Default::default())
        .await
        .expect_err("removed");
    assert!(gone.is_not_found());
}

/// Sends raw bytes to the fake and returns the status line it answers.
async fn raw_status(fake: &FakeDocker, request: &str) -> String {
    let addr = fake.host().trim_start_matches("tcp://").to_string();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("an answer, not a hang")
        .unwrap();
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn bad_input_gets_an_answer_not_a_panic() {
    let fake = FakeDocker::start().await;
    fake.container(FakeContainer::new("web", "busybox").running());
    let deep = "/x".repeat(2000);
    for (req, want) in [
        (format!("GET /v1.41/images{deep}/json HTTP/1.1\r\nHost: x\r\n\r\n"), "404"),
        ("GET /v1.41/events?since=99999999999999999999999999999999999999&until=1 HTTP/1.1\r\nHost: x\r\n\r\n".to_string(), "400"),
        ("GET /v1.41/events?since=1.5e3 HTTP/1.1\r\nHost: x\r\n\r\n".to_string(), "400"),
        ("POST /v1.41/containers/web/kill?signal=99999999999999999999 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".to_string(), "400"),
        ("POST /v1.41/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"Image\":".to_string(), "400"),
        ("POST /v1.41/containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"Image\":404}".to_string(), "400"),
        ("GET /v1.41/containers/json?filters=%7Bnot-json HTTP/1.1\r\nHost: x\r\n\r\n".to_string(), "400"),
        ("GET /v1.41/containers/json?filters=%7B%22name%22%3A%5B%22(%22%5D%7D HTTP/1.1\r\nHost: x\r\n\r\n".to_string(), "400"),
        ("GET /v1.41/containers/web/logs?stdout=1&tail=-5 HTTP/1.1\r\nHost: x\r\n\r\n".to_string(), "200"),
        ("GET /v1.41/containers/web/logs HTTP/1.1\r\nHost: x\r\n\r\n".to_string(), "400"),
        ("POST /v1.41/exec/nope/start HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}".to_string(), "404"),
        ("GET /vbogus/_ping HTTP/1.1\r\nHost: x\r\n\r\n".to_string(), "404"),
        ("GET /v1.2/_ping HTTP/1.1\r\nHost: x\r\n\r\n".to_string(), "400"),
    ] {
        let status = raw_status(&fake, &req).await;
        assert!(status.contains(want), "{req:.80} -> {status}");
    }
    // Still serving.
    assert_eq!(fake.docker().system().ping().await.unwrap(), "OK");
}

#[tokio::test]
async fn attach_with_stdin_keeps_what_was_written() {
    let fake = FakeDocker::start().await; // newest API: the 101 says multiplexed
    fake.container(
        FakeContainer::new("app", "busybox").script(
            ContainerScript::new()
                .stdout("hello\n")
                .sleep(Duration::from_millis(100))
                .exit(0),
        ),
    );
    let docker = fake.docker();
    let opts = dockhand::operations::ContainerAttachOptions::default()
        .stream(true)
        .stdin(true)
        .stdout(true);
    let mut attached = docker.containers().attach("app", &opts).await.unwrap();
    attached.input.write_all(b"typed in").await.unwrap();
    attached.input.shutdown().await.unwrap();
    docker
        .containers()
        .start("app", &Default::default())
        .await
        .unwrap();
    let out: Vec<LogOutput> = attached.output.try_collect().await.unwrap();
    assert_eq!(out, vec![LogOutput::StdOut("hello\n".into())]);
    assert_eq!(fake.container_stdin("app").unwrap(), "typed in");
    // Attached to an exited container: its next run.
    let again = docker.containers().attach("app", &opts).await.unwrap();
    docker
        .containers()
        .start("app", &Default::default())
        .await
        .unwrap();
    let out: Vec<LogOutput> = again.output.try_collect().await.unwrap();
    assert_eq!(out, vec![LogOutput::StdOut("hello\n".into())]);
}

#[tokio::test]
async fn dropping_the_fake_ends_its_streams_and_connections() {
    let fake = FakeDocker::start().await;
    fake.container(FakeContainer::new("forever", "busybox").running());
    let docker = fake.docker();
    docker.system().ping().await.unwrap();
    let follower = {
        let docker = docker.clone();
        tokio::spawn(async move { logs(&docker, "forever", true).await })
    };
    let events = docker.system().events(&Default::default()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!follower.is_finished());
    drop(fake);
    tokio::time::timeout(Duration::from_secs(5), follower)
        .await
        .expect("the log stream ends with the fake")
        .unwrap()
        .ok();
    let rest: Vec<_> = tokio::time::timeout(Duration::from_secs(5), events.collect::<Vec<_>>())
        .await
        .expect("the event stream ends with the fake");
    assert!(rest.len() <= 1, "{rest:?}");
    // Its pooled connections are gone too: nothing answers any more.
    assert!(docker.containers().list(&Default::default()).await.is_err());
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<FakeDocker>();
    send_sync::<dockhand::testing::ReceivedRequest>();
    send_sync::<Fault>();
    send_sync::<ContainerScript>();
    send::<dockhand::testing::ExecProcess>();
}

#[tokio::test]
async fn containers_join_networks_by_mode_and_connect() {
    let fake = FakeDocker::start().await;
    fake.image("busybox");
    let docker = fake.docker();
    for name in ["front", "back"] {
        let body = dockhand::models::NetworkCreateBody {
            name: name.into(),
            ..Default::default()
        };
        docker.networks().create(&body).await.unwrap();
    }
    let mut body = create_body("busybox", &["sleep", "100"]);
    body.host_config = Some(HostConfig {
        network_mode: Some("front".into()),
        ..Default::default()
    });
    create(&docker, "svc", &body).await.unwrap();
    docker
        .containers()
        .start("svc", &Default::default())
        .await
        .unwrap();
    let connect = dockhand::models::NetworkConnectRequest {
        container: "svc".into(),
        ..Default::default()
    };
    docker.networks().connect("back", &connect).await.unwrap();
    let c = docker
        .containers()
        .inspect("svc", &Default::default())
        .await
        .unwrap();
    let mut nets: Vec<String> = c
        .network_settings
        .unwrap()
        .networks
        .unwrap()
        .into_keys()
        .collect();
    nets.sort();
    assert_eq!(nets, vec!["back", "front"]);
    let mut f = Filters::new();
    f.insert("network".into(), vec!["back".into()]);
    let on_back = docker
        .containers()
        .list(&ContainerListOptions::default().filters(f))
        .await
        .unwrap();
    assert_eq!(on_back.len(), 1);
    let busy = docker.networks().remove("front").await.expect_err("in use");
    assert_eq!(busy.status(), Some(403));
    let mut bad = create_body("busybox", &["true"]);
    bad.host_config = Some(HostConfig {
        network_mode: Some("nowhere".into()),
        ..Default::default()
    });
    let e = create(&docker, "lost", &bad)
        .await
        .expect_err("missing network");
    assert_eq!(error_text(&e), "404 network nowhere not found");
}

#[tokio::test]
async fn prune_by_label_and_top() {
    let fake = FakeDocker::start().await;
    fake.container(FakeContainer::new("old", "busybox").label("team", "a"));
    fake.container(FakeContainer::new("other", "busybox").label("team", "b"));
    fake.container(
        FakeContainer::new("live", "busybox")
            .label("team", "a")
            .cmd(["sleep", "100"])
            .running(),
    );
    let docker = fake.docker();
    let mut f = Filters::new();
    f.insert("label".into(), vec!["team=a".into()]);
    let pruned = docker
        .containers()
        .prune(&dockhand::operations::ContainerPruneOptions::default().filters(f))
        .await
        .unwrap();
    assert_eq!(
        pruned.containers_deleted.unwrap().len(),
        1,
        "only the stopped one of team a"
    );
    let left = docker
        .containers()
        .list(&ContainerListOptions::default().all(true))
        .await
        .unwrap();
    let mut names: Vec<String> = left
        .into_iter()
        .flat_map(|c| c.names.unwrap_or_default())
        .collect();
    names.sort();
    assert_eq!(names, vec!["/live", "/other"]);

    let top = docker
        .containers()
        .top("live", &Default::default())
        .await
        .unwrap();
    assert_eq!(top.titles.unwrap().last().map(String::as_str), Some("CMD"));
    assert_eq!(
        top.processes.unwrap()[0].last().map(String::as_str),
        Some("sleep 100")
    );
    let e = docker
        .containers()
        .top("other", &Default::default())
        .await
        .expect_err("not running");
    assert_eq!(e.status(), Some(409));

    docker
        .volumes()
        .create(&dockhand::models::VolumeCreateRequest::default())
        .await
        .unwrap();
    docker
        .volumes()
        .create(&dockhand::models::VolumeCreateRequest {
            name: Some("named".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let pruned = docker.volumes().prune(&Default::default()).await.unwrap();
    assert_eq!(
        pruned.volumes_deleted.unwrap().len(),
        1,
        "API 1.42+: anonymous only"
    );
    let left = docker
        .volumes()
        .list(&Default::default())
        .await
        .unwrap()
        .volumes
        .unwrap();
    assert_eq!(left[0].name, "named");
}
