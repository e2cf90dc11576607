//! Operations whose successful answer some daemons leave empty: dockerd
//! 20.10 removes a plugin with `200 OK` and `Content-Length: 0`, where the
//! specification promises the removed `Plugin`. The call succeeded and must
//! say so; a body that is there must still decode.

mod common;

use common::mock::{client, daemon};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[tokio::test]
async fn a_plugin_removal_answered_with_an_empty_body_succeeds() {
    let server = daemon(Some("1.41")).await;
    Mock::given(method("DELETE"))
        .and(path("/v1.41/plugins/vieux/sshfs:latest"))
        .respond_with(ResponseTemplate::new(200).insert_header("Content-Length", "0"))
        .expect(1)
        .mount(&server)
        .await;
    let removed = client(&server)
        .plugins()
        .remove("vieux/sshfs:latest", &Default::default())
        .await
        .expect("an empty 200 is a successful removal");
    assert_eq!(removed, Default::default());
}

#[tokio::test]
async fn a_plugin_removal_answered_with_null_succeeds_and_garbage_does_not() {
    for (body, ok) in [("null\n", true), ("  \n", true), ("not json", false)] {
        let server = daemon(Some("1.41")).await;
        Mock::given(method("DELETE"))
            .and(path("/v1.41/plugins/x"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&server)
            .await;
        let result = client(&server)
            .plugins()
            .remove("x", &Default::default())
            .await;
        match result {
            Ok(p) if ok => assert_eq!(p, Default::default()),
            Err(dockhand::Error::Decode { .. }) if !ok => {}
            other => panic!("{body:?}: {other:?}"),
        }
    }
}
