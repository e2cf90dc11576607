//! Secrets never reach logs or Debug output: a build with a secret build
//! argument and a pull with credentials, traced at the most verbose level,
//! leave neither in the captured trace; a builder with an `Authorization`
//! header does not print its value.

mod common;

use common::mock::{client, daemon};
use dockhand::auth::AuthConfig;
use dockhand::operations::{ImageBuildOptions, ImageCreateOptions};
use futures::TryStreamExt;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const BUILD_SECRET: &str = "s3cr3tBuildArg";
const PASSWORD: &str = "pw4s3cr3t";

#[tokio::test(flavor = "current_thread")]
async fn a_traced_build_and_pull_log_no_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = daemon(Some("1.41")).await;
    Mock::given(method("POST"))
        .and(path("/v1.41/build"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(
                "{\"stream\":\"Step 1/1\"}\r\n{\"aux\":{\"ID\":\"sha256:1\"}}\r\n",
            ),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1.41/images/create"))
        .respond_with(ResponseTemplate::new(500).set_body_json(serde_json::json!({
            "message": "registry said no"
        })))
        .mount(&server)
        .await;
    let docker = client(&server);
    let args = HashMap::from([("TOKEN".to_owned(), BUILD_SECRET.to_owned())]);
    let opts = ImageBuildOptions::default()
        .t("app:1")
        .buildargs(args)
        .x_registry_config(dockhand::auth::registry_config_header(&Default::default()).unwrap());
    let out: Vec<_> = docker
        .images()
        .build(b"not really a tar".to_vec().into(), &opts)
        .await
        .expect("build")
        .try_collect()
        .await
        .expect("build output");
    assert_eq!(out.len(), 2);
    let creds = AuthConfig {
        username: Some("me".into()),
        password: Some(PASSWORD.into()),
        ..Default::default()
    };
    let auth_header = dockhand::auth::registry_auth_header(Some(&creds)).unwrap();
    let e = docker
        .images()
        .pull(
            "127.0.0.1:5000/app:1",
            &ImageCreateOptions::default().credentials(&creds),
        )
        .await
        .expect_err("500");
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(!shown.contains(auth_header.expose()), "{shown}");

    let trace = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        trace.contains("ImageBuild"),
        "the trace was captured: {trace}"
    );
    assert!(
        trace.contains("ImageCreate"),
        "the trace was captured: {trace}"
    );
    for secret in [BUILD_SECRET, PASSWORD, auth_header.expose()] {
        assert!(!trace.contains(secret), "{secret:?} in the trace:\n{trace}");
    }
}

#[test]
fn a_builder_does_not_print_header_values() {
    let b = dockhand::Docker::builder()
        .host("tcp://127.0.0.1:1")
        .header("Authorization", "Bearer tok3nS3cr3t");
    let shown = format!("{b:?}");
    assert!(shown.contains("Authorization"), "{shown}");
    assert!(!shown.contains("tok3nS3cr3t"), "{shown}");
}
