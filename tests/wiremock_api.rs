//! The public API's shape against wiremock daemons: the raw request escape
//! hatch, request bodies checked against the API version, names the daemon
//! hands out accepted back, identifiers that cannot hold a `/`.
//!
//! Every server has a catch-all mock that answers 599 and expects no call, so
//! a request nobody asked for fails the test when the server is dropped.

mod common;

use common::mock::{client, daemon, requests_to};
use dockhand::models::{
    ContainerCreateBody, ContainerInspectResponse, ExecStartBody, HostConfig, Mount,
    MountVolumeOptions,
};
use dockhand::operations::{self as ops, ContainerListOptions};
use dockhand::{filters, ApiVersion, Error};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn raw_request_by_operation_with_named_params_and_options() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("GET"))
        .and(path("/v1.41/containers/json"))
        .and(query_param("all", "true"))
        .and(query_param("filters", r#"{"label":["app=web"]}"#))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"Id": "c1"}])))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.41/containers/web/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Id": "c1", "Name": "/web"})))
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    let by_name: serde_json::Value = docker
        .request(&ops::CONTAINER_LIST)
        .param("all", true)
        .param("filters", json!({"label": ["app=web"]}))
        .json()
        .await
        .expect("list by named params");
    assert_eq!(by_name[0]["Id"], "c1");
    let opts = ContainerListOptions::default()
        .all(true)
        .filters(filters! { "label" => ["app=web"] });
    let typed: Vec<dockhand::models::ContainerSummary> = docker
        .request(&ops::CONTAINER_LIST)
        .options(&opts)
        .json()
        .await
        .expect("list by options");
    assert_eq!(typed[0].id.as_deref(), Some("c1"));
    let inspect: ContainerInspectResponse = docker
        .request(&ops::CONTAINER_INSPECT)
        .param("id", "web")
        .json()
        .await
        .expect("inspect by path param name");
    assert_eq!(inspect.name.as_deref(), Some("/web"));

    // What the table does not have, or a version too old, is refused unsent.
    let e = docker
        .request(&ops::CONTAINER_LIST)
        .param("no-such-param", 1)
        .bytes()
        .await
        .expect_err("unknown parameter");
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
    assert!(e.to_string().contains("no-such-param"), "{e}");
    let e = docker
        .request(&ops::IMAGE_ATTESTATIONS)
        .param("name", "app")
        .bytes()
        .await
        .expect_err("1.55 operation at 1.41");
    assert!(matches!(e, Error::UnsupportedByVersion { .. }), "{e}");
    let e = docker
        .request(&ops::IMAGE_LIST)
        .options(&opts)
        .bytes()
        .await
        .expect_err("options of another operation");
    assert!(e.to_string().contains("ContainerList"), "{e}");
}

#[tokio::test]
async fn raw_request_by_path_with_query_headers_body_and_error_mapping() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("POST"))
        .and(path("/v1.41/containers/web/checkpoints"))
        .and(query_param("dir", "/tmp/cp"))
        .and(header("X-Custom", "yes"))
        .and(body_json(json!({"CheckpointID": "c1", "Exit": true})))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1.41/containers/web/checkpoints/c2"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"message": "no such checkpoint c2"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    let resp = docker
        .request_path(http::Method::POST, "/containers/{id}/checkpoints")
        .path_arg("web")
        .query("dir", "/tmp/cp")
        .header("X-Custom", "yes")
        .json_body(&json!({"CheckpointID": "c1", "Exit": true}))
        .send()
        .await
        .expect("create checkpoint");
    assert_eq!(resp.status, http::StatusCode::CREATED);
    let e = docker
        .request_path(http::Method::DELETE, "/containers/{id}/checkpoints/{cp}")
        .path_arg("web")
        .path_arg("c2")
        .label("CheckpointDelete")
        .bytes()
        .await
        .expect_err("404");
    assert!(e.is_not_found(), "{e}");
    match &e {
        Error::Api {
            operation, message, ..
        } => {
            assert_eq!(*operation, "CheckpointDelete");
            assert_eq!(message, "no such checkpoint c2");
        }
        other => panic!("{other}"),
    }
    // A '/' in a one-segment argument and a version too old: nothing sent.
    let e = docker
        .request_path(http::Method::GET, "/containers/{id}/checkpoints")
        .path_arg("a/b")
        .bytes()
        .await
        .expect_err("slash");
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
    let e = docker
        .request_path(http::Method::GET, "/containers/{id}/checkpoints")
        .path_arg("web")
        .since(ApiVersion::new(1, 44))
        .bytes()
        .await
        .expect_err("too new");
    assert!(matches!(e, Error::UnsupportedByVersion { .. }), "{e}");
}

#[tokio::test]
async fn a_body_field_newer_than_the_daemon_is_refused_before_sending() {
    let server = daemon(Some("1.41")).await;
    let docker = client(&server);
    // ExecStartBody.ConsoleSize is 1.42: a 1.41 daemon would ignore it.
    let body = ExecStartBody {
        console_size: Some(vec![24, 80]),
        ..Default::default()
    };
    let e = docker
        .exec()
        .start_detached("e1", &body)
        .await
        .expect_err("ConsoleSize at 1.41");
    match &e {
        Error::UnsupportedByVersion {
            what,
            needs,
            negotiated,
        } => {
            assert_eq!(what, "ExecStart body field `ConsoleSize`");
            assert_eq!(*needs, ApiVersion::new(1, 42));
            assert_eq!(*negotiated, ApiVersion::new(1, 41));
        }
        other => panic!("{other}"),
    }
    // Nested, in a list: a volume mount's Subpath (1.45) would mount the
    // whole volume on an older daemon.
    let body = ContainerCreateBody {
        image: Some("busybox".into()),
        host_config: Some(HostConfig {
            mounts: Some(vec![
                Mount {
                    target: Some("/a".into()),
                    ..Default::default()
                },
                Mount {
                    target: Some("/data".into()),
                    source: Some("vol".into()),
                    volume_options: Some(MountVolumeOptions {
                        subpath: Some("sub".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let e = docker
        .containers()
        .create(&body, &Default::default())
        .await
        .expect_err("Subpath at 1.41");
    assert_eq!(
        e.to_string(),
        "ContainerCreate body field `HostConfig.Mounts[1].VolumeOptions.Subpath` requires API 1.45, but the daemon connection uses API 1.41"
    );
    assert!(requests_to(&server, "/v1.41/containers/create")
        .await
        .is_empty());
    assert!(requests_to(&server, "/v1.41/exec/e1/start").await.is_empty());
}

#[tokio::test]
async fn a_body_field_the_daemon_has_is_sent() {
    let server = daemon(Some("1.45")).await;
    Mock::given(method("POST"))
        .and(path("/v1.45/containers/create"))
        .and(body_json(json!({
            "Image": "busybox",
            "HostConfig": {"Mounts": [{"Target": "/data", "VolumeOptions": {"Subpath": "sub"}}]}
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"Id": "c1", "Warnings": []})))
        .expect(1)
        .mount(&server)
        .await;
    let body = ContainerCreateBody {
        image: Some("busybox".into()),
        host_config: Some(HostConfig {
            mounts: Some(vec![Mount {
                target: Some("/data".into()),
                volume_options: Some(MountVolumeOptions {
                    subpath: Some("sub".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = client(&server)
        .containers()
        .create(&body, &Default::default())
        .await
        .expect("create at 1.45");
    assert_eq!(created.id, "c1");
}

#[tokio::test]
async fn names_the_daemon_hands_out_are_accepted_back() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("GET"))
        .and(path("/v1.41/containers/web/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Id": "c1", "Name": "/web"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.41/images/localhost:5000/team/app:1/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Id": "sha256:1"})))
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    // `docker ps` names come with a leading '/'; `docker inspect /web` works.
    let c = docker
        .containers()
        .inspect("/web", &Default::default())
        .await
        .expect("inspect /web");
    assert_eq!(c.id.as_deref(), Some("c1"));
    // Image references keep their slashes.
    docker
        .images()
        .inspect("localhost:5000/team/app:1", &Default::default())
        .await
        .expect("image with slashes");
    // A '/' anywhere else in an id that can never hold one is refused, not
    // sent as more path segments.
    for (what, e) in [
        (
            "container",
            docker
                .containers()
                .inspect("web/../../images", &Default::default())
                .await
                .map(|_| ())
                .expect_err("container"),
        ),
        (
            "exec",
            docker.exec().inspect("e1/x").await.map(|_| ()).expect_err("exec"),
        ),
        (
            "network",
            docker
                .networks()
                .inspect("a/b", &Default::default())
                .await
                .map(|_| ())
                .expect_err("network"),
        ),
        (
            "volume",
            docker
                .volumes()
                .inspect("a/b")
                .await
                .map(|_| ())
                .expect_err("volume"),
        ),
    ] {
        assert!(matches!(e, Error::InvalidArgument { .. }), "{what}: {e}");
        assert!(e.to_string().contains('/'), "{what}: {e}");
    }
}

#[tokio::test]
async fn lossless_means_semantically_equal_json() {
    // Keys come back in the spec's field order, then the unknown ones in
    // the order they came: the same JSON value, not the same bytes.
    let input = r#"{"Zeta":1,"Name":"/web","Id":"c1","State":{"Status":"running","Dead":null},"NewField":[1,2]}"#;
    let value: ContainerInspectResponse = serde_json::from_str(input).expect("decode");
    let out = serde_json::to_string(&value).expect("encode");
    assert_ne!(out, input, "key order is the spec's, not the input's");
    let a: serde_json::Value = serde_json::from_str(input).unwrap();
    let b: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(a, b);
    assert!(out.starts_with(r#"{"Id":"c1""#), "{out}");
}
