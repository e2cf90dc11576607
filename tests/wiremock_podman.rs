//! Podman's answers where they differ from dockerd's, replayed by wiremock
//! daemons (captured from Podman 4.3.1's Docker-compatible API): what dockhand
//! makes of them without the real Podman (`tests/podman.rs` runs against it).
//!
//! Every server has a catch-all mock that answers 599 and expects no call.

mod common;

use dockhand::{ApiVersion, Docker};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A wiremock daemon whose ping carries Podman 4.3's headers: `Api-Version`,
/// no `Ostype`, and empty `Builder-Version` / `Buildkit-Version`.
async fn podman() -> MockServer {
    common::mock::daemon_with_ping(
        ResponseTemplate::new(200)
            .insert_header("Api-Version", "1.41")
            .insert_header("Builder-Version", "")
            .insert_header("Buildkit-Version", "")
            .insert_header("Docker-Experimental", "true")
            .insert_header("Libpod-Api-Version", "4.3.1")
            .insert_header("Libpod-Buildah-Version", "1.28.2")
            .insert_header("Server", "Libpod/4.3.1 (linux)")
            .insert_header("Content-Type", "text/plain; charset=utf-8")
            .set_body_string("OK"),
    )
    .await
}

fn client(server: &MockServer) -> Docker {
    Docker::connect_with_host(&server.uri()).expect("client")
}

#[tokio::test]
async fn podmans_ping_negotiates_and_its_empty_headers_say_nothing() {
    let server = podman().await;
    let docker = client(&server);
    let info = docker.daemon_info().await.expect("negotiated");
    assert_eq!(info.api_version, ApiVersion::new(1, 41));
    assert_eq!(info.daemon_api_version, Some(ApiVersion::new(1, 41)));
    assert!(info.experimental);
    // `Builder-Version:` with no value is no builder version, not `Some("")`.
    assert_eq!(info.builder_version, None);
    // No `Ostype`: the platform is unknown, and requests are not checked.
    assert_eq!(info.os_type, None);
    assert_eq!(docker.platform(), None);
    Mock::given(method("GET"))
        .and(path("/v1.41/containers/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let list = docker
        .containers()
        .list(&Default::default())
        .await
        .expect("list");
    assert!(list.is_empty());
}

#[tokio::test]
async fn podmans_push_names_the_digest_only_in_its_status_line() {
    let server = podman().await;
    // Podman 4.3's whole push answer: no layer progress, no `aux`.
    let body = concat!(
        "{\"status\":\"The push refers to repository [127.0.0.1:5000/team/app:v1]\"}\n",
        "{\"status\":\"v1: digest: sha256:42e044b4859ede0ff19f0b7c560260d582aac6d6913ea5adc4ab283acc9f9e6e size: 348\"}\n",
    );
    Mock::given(method("POST"))
        .and(path("/v1.41/images/127.0.0.1:5000/team/app/push"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Type", "application/json")
                .set_body_string(body),
        )
        .expect(1)
        .mount(&server)
        .await;
    let docker = client(&server);
    let messages: Vec<_> = futures::TryStreamExt::try_collect(
        docker
            .images()
            .push("127.0.0.1:5000/team/app:v1", &Default::default())
            .await
            .expect("push"),
    )
    .await
    .expect("progress");
    assert_eq!(messages.len(), 2);
    assert!(messages.iter().all(|m| m.aux.is_none()));
    let pushed = messages
        .iter()
        .rev()
        .find_map(dockhand::stream::progress::pushed_manifest)
        .expect("the digest of the status line");
    assert_eq!(pushed.tag, "v1");
    assert_eq!(
        pushed.digest,
        "sha256:42e044b4859ede0ff19f0b7c560260d582aac6d6913ea5adc4ab283acc9f9e6e"
    );
    assert_eq!(pushed.size, Some(348));
}

/// `docker import - app:base` sends the tag inside `repo`; Podman 4.3 ignores
/// a separate `tag` (the image would be `app:latest`), dockerd reads both.
#[tokio::test]
async fn an_import_sends_its_tag_inside_repo() {
    use dockhand::operations::ImageCreateOptions;
    let server = podman().await;
    Mock::given(method("POST"))
        .and(path("/v1.41/images/create"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Type", "application/json")
                .set_body_string("{\"status\":\"sha256:88370cee35857eed975bfa2677a1195b80db2dca51269032128634c9dfceef2e\",\"progress\":\"\",\"progressDetail\":{},\"id\":\"sha256:88370cee35857eed975bfa2677a1195b80db2dca51269032128634c9dfceef2e\"}\n"),
        )
        .expect(4)
        .mount(&server)
        .await;
    let docker = client(&server);
    let query = |opts: ImageCreateOptions| {
        let docker = docker.clone();
        let server = &server;
        async move {
            let before = server.received_requests().await.unwrap_or_default().len();
            let progress: Vec<_> = futures::TryStreamExt::try_collect(
                docker
                    .images()
                    .import(dockhand::Body::from(b"tar".to_vec()), &opts)
                    .await
                    .expect("import"),
            )
            .await
            .expect("progress");
            assert_eq!(progress.len(), 1);
            let requests = server.received_requests().await.unwrap_or_default();
            let req = &requests[before..]
                .iter()
                .find(|r| r.url.path() == "/v1.41/images/create")
                .expect("the import request");
            let mut pairs: Vec<(String, String)> = req
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            pairs.sort();
            pairs
        }
    };
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        let mut v: Vec<_> = list
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        query(
            ImageCreateOptions::default()
                .repo("localhost/app")
                .tag("base")
        )
        .await,
        pairs(&[("fromSrc", "-"), ("repo", "localhost/app:base")])
    );
    // A registry with a port is not a tag.
    assert_eq!(
        query(
            ImageCreateOptions::default()
                .repo("127.0.0.1:5000/app")
                .tag("2")
        )
        .await,
        pairs(&[("fromSrc", "-"), ("repo", "127.0.0.1:5000/app:2")])
    );
    // A repo that has its tag already, or no tag at all: sent as given.
    assert_eq!(
        query(ImageCreateOptions::default().repo("app:1").tag("2")).await,
        pairs(&[("fromSrc", "-"), ("repo", "app:1"), ("tag", "2")])
    );
    assert_eq!(
        query(ImageCreateOptions::default().repo("app")).await,
        pairs(&[("fromSrc", "-"), ("repo", "app")])
    );
}
