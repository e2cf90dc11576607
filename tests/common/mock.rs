//! A wiremock daemon for request-shape tests: it answers `/_ping` like
//! dockerd and has a catch-all mock that answers 599 and expects no call, so
//! a request nobody asked for fails the test when the server is dropped.

use dockhand::Docker;
use wiremock::matchers::{any, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// A mock daemon whose ping reports `version` (no header when `None`), on Linux.
pub async fn daemon(version: Option<&str>) -> MockServer {
    daemon_on(version, "linux").await
}

/// A mock daemon whose ping reports `version` and the OS `os` (`Ostype`).
#[allow(dead_code)] // not every test binary uses it
pub async fn daemon_on(version: Option<&str>, os: &str) -> MockServer {
    let mut ping = ResponseTemplate::new(200)
        .insert_header("Ostype", os)
        .insert_header("Docker-Experimental", "false")
        .insert_header("Builder-Version", "2")
        .set_body_string("OK");
    if let Some(v) = version {
        ping = ping.insert_header("Api-Version", v);
    }
    daemon_with_ping(ping).await
}

/// A mock daemon whose `/_ping` answers `ping` (another daemon's headers:
/// Podman's, …), with the same catch-all as [`daemon`].
#[allow(dead_code)] // not every test binary uses it
pub async fn daemon_with_ping(ping: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/_ping"))
        .respond_with(ping)
        .named("ping")
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(599).set_body_string("unexpected request"))
        .with_priority(u8::MAX)
        .expect(0)
        .named("catch-all: unexpected request")
        .mount(&server)
        .await;
    server
}

/// A client for the mock daemon.
pub fn client(server: &MockServer) -> Docker {
    Docker::connect_with_host(&server.uri()).expect("client")
}

/// The requests the server received for this path.
pub async fn requests_to(server: &MockServer, p: &str) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == p)
        .collect()
}
