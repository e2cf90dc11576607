//! Request shapes of the swarm-family, plugin, distribution and session
//! groups against wiremock daemons (the real test daemon runs no plugins and,
//! outside `daemon_swarm.rs`, no swarm).
//!
//! Every server has a catch-all mock that answers 599 and expects no call, so a
//! request nobody asked for fails the test when the server is dropped.

use base64::Engine;
use dockhand::api::SessionOptions;
use dockhand::models::{
    AuthConfig, NodeSpec, NodeSpecAvailability, PluginPrivilege, SecretCreateBody,
    ServiceCreateBody, SwarmInitBody, SwarmSpec,
};
use dockhand::operations::{
    ConfigListOptions, Filters, NodeDeleteOptions, PluginPullOptions, ServiceLogsOptions,
    SwarmLeaveOptions, SwarmUpdateOptions, TaskListOptions,
};
use dockhand::stream::LogOutput;
mod common;

use common::mock::{client, daemon, requests_to};
use dockhand::{ApiVersion, Docker, Error};
use futures::TryStreamExt;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, Request, ResponseTemplate};

fn registry_auth_json(req: &Request) -> serde_json::Value {
    let text = req
        .headers
        .get("x-registry-auth")
        .and_then(|v| v.to_str().ok())
        .expect("X-Registry-Auth sent");
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(text)
        .expect("URL-safe base64");
    serde_json::from_slice(&raw).expect("JSON")
}

#[tokio::test]
async fn swarm_init_inspect_update_leave() {
    let server = daemon(Some("1.44")).await;
    Mock::given(method("POST"))
        .and(path("/v1.44/swarm/init"))
        .and(body_json(
            json!({"ListenAddr": "127.0.0.1:2377", "AdvertiseAddr": "127.0.0.1"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!("node-1")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.44/swarm"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ID": "sw1", "Version": {"Index": 12}, "Spec": {"Name": "default"},
            "NewerDaemonField": [1, 2]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.44/swarm/update"))
        .and(query_param("version", "12"))
        .and(query_param("rotateWorkerToken", "true"))
        .and(body_json(json!({"Name": "default"})))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.44/swarm/leave"))
        .and(query_param("force", "true"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    let node = docker
        .swarm()
        .init(&SwarmInitBody {
            listen_addr: Some("127.0.0.1:2377".into()),
            advertise_addr: Some("127.0.0.1".into()),
            ..Default::default()
        })
        .await
        .expect("init");
    assert_eq!(node, "node-1");
    let swarm = docker.swarm().inspect().await.expect("inspect");
    let version = swarm
        .version
        .as_ref()
        .and_then(|v| v.index)
        .expect("version") as i64;
    assert_eq!(version, 12);
    // The unknown field survives a round trip.
    assert_eq!(
        serde_json::to_value(&swarm).expect("encode")["NewerDaemonField"],
        json!([1, 2])
    );
    let spec: SwarmSpec = swarm.spec.clone().expect("spec");
    docker
        .swarm()
        .update(
            version,
            &spec,
            &SwarmUpdateOptions::default().rotate_worker_token(true),
        )
        .await
        .expect("update");
    docker
        .swarm()
        .leave(&SwarmLeaveOptions::default().force(true))
        .await
        .expect("leave");
}

#[tokio::test]
async fn nodes_update_and_remove() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("POST"))
        .and(path("/v1.41/nodes/n%201/update"))
        .and(query_param("version", "7"))
        .and(body_json(json!({"Availability": "drain"})))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1.41/nodes/n2"))
        .and(query_param("force", "true"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    docker
        .nodes()
        .update(
            "n 1",
            7,
            &NodeSpec {
                availability: Some(NodeSpecAvailability::Drain),
                ..Default::default()
            },
        )
        .await
        .expect("update");
    docker
        .nodes()
        .remove("n2", &NodeDeleteOptions::default().force(true))
        .await
        .expect("remove");
    // A `..` identifier never leaves the client.
    let e = docker.nodes().inspect("..").await.expect_err("bad id");
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
}

#[tokio::test]
async fn services_create_with_registry_auth_and_logs() {
    let server = daemon(Some("1.44")).await;
    Mock::given(method("POST"))
        .and(path("/v1.44/services/create"))
        .and(body_json(json!({
            "Name": "web",
            "TaskTemplate": {"ContainerSpec": {"Image": "127.0.0.1:5001/app:1"}}
        })))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"ID": "svc1", "Warnings": null})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // Two stdcopy frames: stdout "hello\n", stderr "oops\n".
    let mut frames = vec![1u8, 0, 0, 0, 0, 0, 0, 6];
    frames.extend_from_slice(b"hello\n");
    frames.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 5]);
    frames.extend_from_slice(b"oops\n");
    Mock::given(method("GET"))
        .and(path("/v1.44/services/svc1/logs"))
        .and(query_param("stdout", "true"))
        .and(query_param("stderr", "true"))
        .and(query_param("tail", "10"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Type", "application/vnd.docker.multiplexed-stream")
                .set_body_bytes(frames),
        )
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    let creds = AuthConfig {
        username: Some("dockhand".into()),
        password: Some("p+s/w?rd>>>".into()),
        serveraddress: Some("127.0.0.1:5001".into()),
        ..Default::default()
    };
    let auth = dockhand::auth::registry_auth_header(Some(&creds)).expect("auth header");
    let body = ServiceCreateBody {
        name: Some("web".into()),
        task_template: Some(dockhand::models::TaskSpec {
            container_spec: Some(dockhand::models::TaskSpecContainerSpec {
                image: Some("127.0.0.1:5001/app:1".into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = docker
        .services()
        .create(
            &body,
            &dockhand::operations::ServiceCreateOptions::default().x_registry_auth(auth),
        )
        .await
        .expect("create");
    assert_eq!(created.id.as_deref(), Some("svc1"));
    let reqs = requests_to(&server, "/v1.44/services/create").await;
    assert_eq!(registry_auth_json(&reqs[0])["password"], "p+s/w?rd>>>");

    let opts = ServiceLogsOptions::default()
        .stdout(true)
        .stderr(true)
        .tail("10");
    let pieces: Vec<LogOutput> = docker
        .services()
        .logs("svc1", &opts)
        .await
        .expect("logs")
        .try_collect()
        .await
        .expect("frames");
    assert_eq!(
        pieces,
        vec![
            LogOutput::StdOut("hello\n".into()),
            LogOutput::StdErr("oops\n".into())
        ]
    );
}

#[tokio::test]
async fn tasks_list_filters_are_json() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("GET"))
        .and(path("/v1.41/tasks"))
        .and(query_param(
            "filters",
            r#"{"desired-state":["running"],"service":["web"]}"#,
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"ID": "t1"}])))
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    let mut filters = Filters::new();
    filters.insert("service".into(), vec!["web".into()]);
    filters.insert("desired-state".into(), vec!["running".into()]);
    let tasks = docker
        .tasks()
        .list(&TaskListOptions::default().filters(filters))
        .await
        .expect("tasks");
    assert_eq!(tasks[0].id.as_deref(), Some("t1"));
}

#[tokio::test]
async fn secrets_create_and_configs_list() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("POST"))
        .and(path("/v1.41/secrets/create"))
        .and(body_json(json!({"Name": "db", "Data": "aHVudGVyMg=="})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"ID": "s1"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.41/configs"))
        .and(query_param("filters", r#"{"name":["app"]}"#))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"ID": "c1", "Spec": {"Name": "app", "Data": "eA=="}}
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    let id = docker
        .secrets()
        .create(&SecretCreateBody {
            name: Some("db".into()),
            data: Some("aHVudGVyMg==".into()),
            ..Default::default()
        })
        .await
        .expect("secret")
        .id;
    assert_eq!(id, "s1");
    let mut filters = Filters::new();
    filters.insert("name".into(), vec!["app".into()]);
    let configs = docker
        .configs()
        .list(&ConfigListOptions::default().filters(filters))
        .await
        .expect("configs");
    assert_eq!(configs[0].id.as_deref(), Some("c1"));
}

#[tokio::test]
async fn plugins_pull_sends_privileges_and_streams_progress() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("POST"))
        .and(path("/v1.41/plugins/pull"))
        .and(query_param("remote", "vieux/sshfs:latest"))
        .and(query_param("name", "sshfs"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!([
            {"Name": "network", "Description": "", "Value": ["host"]}
        ])))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            "{\"status\":\"Pulling\"}\r\n{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1,\"total\":2},\"id\":\"l1\"}{\"status\":\"Done\"}",
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.41/plugins/sshfs/enable"))
        .and(query_param("timeout", "5"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    let privileges = vec![PluginPrivilege {
        name: Some("network".into()),
        description: Some(String::new()),
        value: Some(vec!["host".into()]),
        ..Default::default()
    }];
    let msgs: Vec<_> = docker
        .plugins()
        .pull(
            "vieux/sshfs:latest",
            &privileges,
            &PluginPullOptions::default().name("sshfs"),
        )
        .await
        .expect("pull")
        .try_collect()
        .await
        .expect("progress");
    let statuses: Vec<_> = msgs.iter().filter_map(|m| m.status.clone()).collect();
    assert_eq!(statuses, ["Pulling", "Downloading", "Done"]);
    docker
        .plugins()
        .enable(
            "sshfs",
            &dockhand::operations::PluginEnableOptions::default().timeout(5),
        )
        .await
        .expect("enable");
}

#[tokio::test]
async fn distribution_inspect_sends_credentials() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("GET"))
        .and(path("/v1.41/distribution/127.0.0.1:5001/app:1/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "Descriptor": {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:abc", "size": 10},
            "Platforms": [{"architecture": "amd64", "os": "linux"}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    let creds = AuthConfig {
        username: Some("u".into()),
        password: Some("pw".into()),
        serveraddress: Some("127.0.0.1:5001".into()),
        ..Default::default()
    };
    let d = docker
        .distribution()
        .inspect(
            "127.0.0.1:5001/app:1",
            &dockhand::operations::DistributionInspectOptions::default().credentials(&creds),
        )
        .await
        .expect("inspect");
    assert_eq!(d.descriptor.digest.as_deref(), Some("sha256:abc"));
    let reqs = requests_to(&server, "/v1.41/distribution/127.0.0.1:5001/app:1/json").await;
    assert_eq!(registry_auth_json(&reqs[0])["username"], "u");
}

#[tokio::test]
async fn session_asks_for_an_upgrade_and_reports_refusal() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("POST"))
        .and(path("/v1.41/session"))
        .and(header("upgrade", "h2c"))
        .and(header("connection", "Upgrade"))
        .and(header("x-docker-expose-session-uuid", "u-1"))
        .and(header("x-docker-expose-session-name", "build"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"message": "session not supported"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    let opts = SessionOptions::new("u-1")
        .name("build")
        .grpc_method("/moby.filesync.v1.FileSync/DiffCopy")
        .grpc_method("/moby.filesync.v1.Auth/Credentials");
    let e = docker.session().start(&opts).await.expect_err("refused");
    assert!(e.to_string().contains("session not supported"), "{e}");
    let reqs = requests_to(&server, "/v1.41/session").await;
    let methods: Vec<_> = reqs[0]
        .headers
        .get_all("x-docker-expose-session-grpc-method")
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(methods.len(), 2, "{methods:?}");
    // An empty uuid is refused before sending.
    let e = docker
        .session()
        .start(&SessionOptions::default())
        .await
        .expect_err("empty uuid");
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
}

#[tokio::test]
async fn swarm_family_is_refused_by_too_old_daemons_without_sending() {
    // Configs arrived in 1.30, the session endpoint in 1.31 (fixed version: no ping).
    let server = daemon(Some("1.29")).await;
    let docker = Docker::builder()
        .host(server.uri())
        .api_version(ApiVersion::new(1, 29))
        .build()
        .expect("client");
    let e = docker
        .configs()
        .list(&Default::default())
        .await
        .expect_err("too old");
    assert!(
        matches!(&e, Error::UnsupportedByVersion { what, .. } if what == "ConfigList"),
        "{e}"
    );
    let e = docker
        .session()
        .start(&SessionOptions::new("x"))
        .await
        .expect_err("too old");
    assert!(matches!(e, Error::UnsupportedByVersion { .. }), "{e}");
    assert!(server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test]
async fn log_format_comes_from_content_type_and_below_1_42_from_the_tty() {
    // 1.44: the Content-Type decides; a container inspect would hit the catch-all.
    let server = daemon(Some("1.44")).await;
    Mock::given(method("GET"))
        .and(path("/v1.44/containers/tty/logs"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Type", "application/vnd.docker.raw-stream")
                // Bytes that would parse as a frame header if guessed.
                .set_body_bytes(vec![1u8, 0, 0, 0, 0, 0, 0, 2, b'h', b'i']),
        )
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    let pieces: Vec<LogOutput> = docker
        .containers()
        .logs("tty", &Default::default())
        .await
        .expect("logs")
        .try_collect()
        .await
        .expect("bytes");
    let bytes: Vec<u8> = pieces.iter().flat_map(|p| p.bytes().to_vec()).collect();
    assert!(pieces.iter().all(|p| matches!(p, LogOutput::Console(_))));
    assert_eq!(bytes, [1u8, 0, 0, 0, 0, 0, 0, 2, b'h', b'i']);

    // 1.41: no Content-Type is sent, so the container's Tty decides.
    let server = daemon(Some("1.41")).await;
    Mock::given(method("GET"))
        .and(path("/v1.41/containers/plain/logs"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(vec![2u8, 0, 0, 0, 0, 0, 0, 3, b'e', b'r', b'r']),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.41/containers/plain/json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"Id": "plain", "Config": {"Tty": false}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    let pieces: Vec<LogOutput> = docker
        .containers()
        .logs("plain", &Default::default())
        .await
        .expect("logs")
        .try_collect()
        .await
        .expect("frames");
    assert_eq!(pieces, vec![LogOutput::StdErr("err".into())]);
}

#[tokio::test]
async fn below_1_42_a_full_id_inspected_once_needs_no_more_inspects() {
    // A TTY container known by name and by full ID, and a second, framed
    // one known only by full ID.
    let web = "4f1c3a2b9d8e7f60a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718";
    let db = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607182930a1b2c3d4e5f";
    let server = daemon(Some("1.41")).await;
    for who in ["web", web] {
        Mock::given(method("GET"))
            .and(path(format!("/v1.41/containers/{who}/logs")))
            // TTY bytes that would parse as a frame header if guessed.
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_bytes(vec![1u8, 0, 0, 0, 0, 0, 0, 2, b'h', b'i']),
            )
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path(format!("/v1.41/containers/{db}/logs")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_bytes(vec![2u8, 0, 0, 0, 0, 0, 0, 3, b'e', b'r', b'r']),
        )
        .mount(&server)
        .await;
    // A name is inspected every time (it may name another container
    // tomorrow); its answer's full ID is remembered.
    Mock::given(method("GET"))
        .and(path("/v1.41/containers/web/json"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"Id": web, "Config": {"Tty": true}})),
        )
        .expect(2)
        .mount(&server)
        .await;
    // The full ID was learned from the name's inspect: never inspected.
    Mock::given(method("GET"))
        .and(path(format!("/v1.41/containers/{web}/json")))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    // A full ID seen for the first time: inspected once, then known.
    Mock::given(method("GET"))
        .and(path(format!("/v1.41/containers/{db}/json")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"Id": db, "Config": {"Tty": false}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    let logs = |who: &'static str| {
        let docker = docker.clone();
        async move {
            docker
                .containers()
                .logs(who, &Default::default())
                .await
                .expect("logs")
                .try_collect::<Vec<LogOutput>>()
                .await
                .expect("pieces")
        }
    };
    let console = vec![LogOutput::Console(
        vec![1u8, 0, 0, 0, 0, 0, 0, 2, b'h', b'i'].into(),
    )];
    let framed = vec![LogOutput::StdErr("err".into())];
    assert_eq!(logs("web").await, console);
    assert_eq!(logs(web).await, console);
    assert_eq!(logs(web).await, console);
    assert_eq!(logs("web").await, console);
    assert_eq!(logs(db).await, framed);
    assert_eq!(logs(db).await, framed);
    // (The expectations are checked as the server is dropped.)
}
