//! Request shapes and version negotiation against wiremock daemons.
//!
//! Every server has a catch-all mock that answers 599 and expects no call, so a
//! request nobody asked for fails the test when the server is dropped.

use dockhand::models::{
    AuthConfig, ContainerCreateBody, ContainerExecBody, NetworkCreateBody, VolumeCreateRequest,
};
use dockhand::operations::{
    ContainerCreateOptions, ContainerListOptions, ContainerStopOptions, Filters, ImageTagOptions,
    VolumeDeleteOptions,
};
mod common;

use common::mock::{client, daemon, requests_to};
use dockhand::{ApiVersion, Docker, Error};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn negotiates_each_reported_version() {
    for (reported, expected) in [
        ("1.41", "1.41"),
        ("1.44", "1.44"),
        ("1.56", "1.56"),
        ("1.99", "1.56"),
    ] {
        let server = daemon(Some(reported)).await;
        Mock::given(method("GET"))
            .and(path(format!("/v{expected}/containers/json")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
            .expect(1)
            .mount(&server)
            .await;
        let docker = client(&server);
        let list = docker
            .containers()
            .list(&Default::default())
            .await
            .expect("list");
        assert!(list.is_empty());
        let info = docker.daemon_info().await.expect("info");
        assert_eq!(info.api_version.to_string(), expected);
        assert_eq!(
            info.daemon_api_version.map(|v| v.to_string()).as_deref(),
            Some(reported)
        );
        assert_eq!(info.os_type.as_deref(), Some("linux"));
        assert_eq!(info.builder_version.as_deref(), Some("2"));
    }
}

#[tokio::test]
async fn ping_without_version_means_1_24_where_the_oldest_spec_counts_as_this_or_older() {
    // The CLI assumes 1.24 when a ping has no Api-Version. Everything of the
    // oldest specification (1.25) is "1.25 or older", so it is sent; what
    // came later is refused without sending.
    let server = daemon(None).await;
    Mock::given(method("GET"))
        .and(path("/v1.24/containers/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    let list = docker
        .containers()
        .list(&Default::default())
        .await
        .expect("1.25 operations go to a 1.24 daemon");
    assert!(list.is_empty());
    let err = docker
        .distribution()
        .inspect("localhost:5000/app:1", &Default::default())
        .await
        .expect_err("DistributionInspect is 1.30");
    match err {
        Error::UnsupportedByVersion {
            what,
            needs,
            negotiated,
        } => {
            assert_eq!(what, "DistributionInspect");
            assert_eq!(needs, ApiVersion::new(1, 30));
            assert_eq!(negotiated, ApiVersion::new(1, 24));
        }
        other => panic!("{other}"),
    }
    assert!(requests_to(&server, "/v1.24/distribution/localhost:5000/app:1/json")
        .await
        .is_empty());
}

#[tokio::test]
async fn a_client_pinned_at_1_24_sends_what_the_oldest_spec_has() {
    // bollard's downversioning test: DOCKER_API_VERSION=1.24.
    let server = daemon(Some("1.41")).await;
    Mock::given(method("GET"))
        .and(path("/v1.24/containers/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let docker = Docker::builder()
        .host(server.uri())
        .api_version(ApiVersion::new(1, 24))
        .build()
        .expect("client");
    docker
        .containers()
        .list(&Default::default())
        .await
        .expect("sent at 1.24");
}

#[tokio::test]
async fn negotiation_happens_once_for_concurrent_first_calls() {
    let server = MockServer::start().await;
    Mock::given(path("/_ping"))
        .respond_with(ResponseTemplate::new(200).insert_header("Api-Version", "1.41"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.41/containers/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(16)
        .mount(&server)
        .await;
    let docker = client(&server);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let d = docker.clone();
            tokio::spawn(async move { d.containers().list(&Default::default()).await })
        })
        .collect();
    for t in tasks {
        t.await.expect("join").expect("list");
    }
}

#[tokio::test]
async fn head_ping_falls_back_to_get() {
    let server = MockServer::start().await;
    Mock::given(method("HEAD"))
        .and(path("/_ping"))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/_ping"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Api-Version", "1.38")
                .set_body_string("OK"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    assert_eq!(
        docker.api_version().await.expect("version"),
        ApiVersion::new(1, 38)
    );
}

#[tokio::test]
async fn fixed_api_version_skips_negotiation() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1.30/info"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ID": "x", "Containers": 3})))
        .expect(1)
        .mount(&server)
        .await;
    let docker = Docker::builder()
        .host(server.uri())
        .api_version(ApiVersion::new(1, 30))
        .build()
        .expect("client");
    let info = docker.system().info().await.expect("info");
    assert_eq!(info.containers, Some(3));
    // No ping was needed.
    assert!(requests_to(&server, "/_ping").await.is_empty());
}

#[tokio::test]
async fn containers_list_query_and_headers() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("GET"))
        .and(path("/v1.41/containers/json"))
        .and(query_param("all", "true"))
        .and(query_param("limit", "5"))
        .and(query_param("filters", r#"{"label":["app=web x"]}"#))
        .and(header("user-agent", "dockhand-test/1"))
        .and(header("x-custom", "yes"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([{"Id": "abc", "Names": ["/web"]}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let docker = Docker::builder()
        .host(server.uri())
        .user_agent("dockhand-test/1")
        .header("X-Custom", "yes")
        .build()
        .expect("client");
    let mut filters = Filters::new();
    filters.insert("label".into(), vec!["app=web x".into()]);
    let opts = ContainerListOptions::default()
        .all(true)
        .limit(5)
        .filters(filters);
    let list = docker.containers().list(&opts).await.expect("list");
    assert_eq!(list[0].id.as_deref(), Some("abc"));
    // The query string is percent-encoded on the wire.
    let reqs = requests_to(&server, "/v1.41/containers/json").await;
    let raw_query = reqs[0].url.query().unwrap_or_default().to_owned();
    assert!(
        raw_query.contains("filters=%7B%22label%22%3A%5B%22app%3Dweb%20x%22%5D%7D"),
        "{raw_query}"
    );
}

#[tokio::test]
async fn containers_create_body_and_name() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("POST"))
        .and(path("/v1.41/containers/create"))
        .and(query_param("name", "web"))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"Image": "busybox", "Cmd": ["echo", "hi"], "Labels": {"a": "b"}}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"Id": "c1", "Warnings": []})))
        .expect(1)
        .mount(&server)
        .await;
    let body = ContainerCreateBody {
        image: Some("busybox".into()),
        cmd: Some(vec!["echo".into(), "hi".into()]),
        labels: Some([("a".to_owned(), "b".to_owned())].into_iter().collect()),
        ..Default::default()
    };
    let created = client(&server)
        .containers()
        .create(&body, &ContainerCreateOptions::default().name("web"))
        .await
        .expect("create");
    assert_eq!(created.id, "c1");
}

#[tokio::test]
async fn path_segments_are_percent_encoded_and_bad_ids_never_sent() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("GET"))
        .and(path("/v1.41/containers/a%20b%3Fc/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Id": "x"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1.41/images/127.0.0.1:5000/team/app:1/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"Id": "sha256:1"})))
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    docker
        .containers()
        .inspect("a b?c", &Default::default())
        .await
        .expect("inspect");
    docker
        .images()
        .inspect("127.0.0.1:5000/team/app:1", &Default::default())
        .await
        .expect("image with a registry and path");
    for bad in ["", "..", "../../info", "a/../b", "x\n"] {
        let e = docker
            .containers()
            .inspect(bad, &Default::default())
            .await
            .expect_err(bad);
        assert!(matches!(e, Error::InvalidArgument { .. }), "{bad:?}: {e}");
    }
}

#[tokio::test]
async fn too_new_parameter_fails_before_sending() {
    let server = daemon(Some("1.41")).await;
    let e = client(&server)
        .containers()
        .stop("web", &ContainerStopOptions::default().signal("SIGINT"))
        .await
        .expect_err("signal needs 1.42");
    assert!(
        matches!(e, Error::UnsupportedByVersion { needs, .. } if needs == ApiVersion::new(1, 42)),
        "{e}"
    );
    assert!(requests_to(&server, "/v1.41/containers/web/stop")
        .await
        .is_empty());
}

#[tokio::test]
async fn daemon_errors_are_typed() {
    let server = daemon(Some("1.41")).await;
    Mock::given(path("/v1.41/containers/missing/json"))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(json!({"message": "No such container: missing"})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/v1.41/containers/busy"))
        .respond_with(ResponseTemplate::new(409).set_body_string("conflict: container is running"))
        .mount(&server)
        .await;
    Mock::given(path("/v1.41/containers/garbage/json"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"Id": 42}"#))
        .mount(&server)
        .await;
    let docker = client(&server);
    let e = docker
        .containers()
        .inspect("missing", &Default::default())
        .await
        .expect_err("404");
    assert!(e.is_not_found(), "{e}");
    assert_eq!(
        e.to_string(),
        "ContainerInspect: daemon returned 404: No such container: missing"
    );
    let e = docker
        .containers()
        .remove("busy", &Default::default())
        .await
        .expect_err("409");
    assert!(e.is_conflict(), "{e}");
    assert!(e.to_string().contains("container is running"), "{e}");
    let e = docker
        .containers()
        .inspect("garbage", &Default::default())
        .await
        .expect_err("bad JSON");
    match e {
        Error::Decode {
            operation, path, ..
        } => {
            assert_eq!(operation, "ContainerInspect");
            assert_eq!(path, "Id");
        }
        other => panic!("{other}"),
    }
}

#[tokio::test]
async fn images_tag_and_push_auth_header() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("POST"))
        .and(path("/v1.41/images/busybox/tag"))
        .and(query_param("repo", "127.0.0.1:5000/bb"))
        .and(query_param("tag", "1"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.41/images/127.0.0.1:5000/bb/push"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"status\":\"done\"}\n"))
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    docker
        .images()
        .tag(
            "busybox",
            &ImageTagOptions::default()
                .repo("127.0.0.1:5000/bb")
                .tag("1"),
        )
        .await
        .expect("tag");
    let creds = AuthConfig {
        username: Some("dockhand".into()),
        password: Some("p+s/w?rd>>>".into()),
        serveraddress: Some("127.0.0.1:5000".into()),
        ..Default::default()
    };
    docker
        .images()
        .push(
            "127.0.0.1:5000/bb",
            &dockhand::operations::ImagePushOptions::default().credentials(&creds),
        )
        .await
        .expect("push");
    let reqs = requests_to(&server, "/v1.41/images/127.0.0.1:5000/bb/push").await;
    let auth = reqs[0]
        .headers
        .get("x-registry-auth")
        .and_then(|v| v.to_str().ok())
        .expect("X-Registry-Auth sent")
        .to_owned();
    use base64::Engine;
    let decoded = base64::engine::general_purpose::URL_SAFE
        .decode(&auth)
        .expect("URL-safe base64");
    let v: serde_json::Value = serde_json::from_slice(&decoded).expect("JSON");
    assert_eq!(v["password"], "p+s/w?rd>>>");
}

#[tokio::test]
async fn networks_volumes_exec_system_shapes() {
    let server = daemon(Some("1.44")).await;
    Mock::given(method("POST"))
        .and(path("/v1.44/networks/create"))
        .and(body_json(json!({"Name": "backend", "Driver": "bridge"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"Id": "n1", "Warning": ""})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.44/volumes/create"))
        .and(body_json(json!({"Name": "data"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "Name": "data", "Driver": "local", "Mountpoint": "/m", "Scope": "local",
            "Labels": null, "Options": null
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v1.44/volumes/data"))
        .and(query_param("force", "true"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.44/containers/web/exec"))
        .and(body_json(json!({"Cmd": ["ls"], "AttachStdout": true})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"Id": "e1"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.44/auth"))
        .and(body_json(
            json!({"username": "u", "password": "p", "serveraddress": "r"}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"Status": "Login Succeeded"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    let n = docker
        .networks()
        .create(&NetworkCreateBody {
            name: "backend".into(),
            driver: Some("bridge".into()),
            ..Default::default()
        })
        .await
        .expect("network");
    assert_eq!(n.id, "n1");
    let v = docker
        .volumes()
        .create(&VolumeCreateRequest {
            name: Some("data".into()),
            ..Default::default()
        })
        .await
        .expect("volume");
    assert_eq!(v.name, "data");
    docker
        .volumes()
        .remove("data", &VolumeDeleteOptions::default().force(true))
        .await
        .expect("remove volume");
    let e = docker
        .exec()
        .create(
            "web",
            &ContainerExecBody {
                cmd: Some(vec!["ls".into()]),
                attach_stdout: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("exec");
    assert_eq!(e.id, "e1");
    let auth = docker
        .system()
        .auth(&AuthConfig {
            username: Some("u".into()),
            password: Some("p".into()),
            serveraddress: Some("r".into()),
            ..Default::default()
        })
        .await
        .expect("auth");
    assert_eq!(auth.status, "Login Succeeded");
}
