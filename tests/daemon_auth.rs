//! Registry authentication against the real daemon and the htpasswd registry
//! of the test environment (127.0.0.1:5001): push and pull back with
//! credentials given explicitly, from a config.json `auths` entry and from a
//! credential helper; wrong or missing credentials fail loudly; login; a
//! build whose `FROM` image needs X-Registry-Config.
//!
//! Every test reads its configuration from its own temporary directory
//! (`ConfigFile::from_dir`, `helper_dir`): no environment variable is changed,
//! so the tests run in parallel.

mod common;

use base64::Engine;
use common::{test_env, TempDir, TestEnv};
use dockhand::auth::{
    registry_auth_header, registry_config_header, AuthConfig, ConfigFile, RegistryAuth,
};
use dockhand::models::{BuildInfo, CreateImageInfo, PushImageInfo};
use dockhand::operations::{ImageBuildOptions, ImageCreateOptions, ImagePushOptions, SecretString};
use dockhand::stream::progress::Progress;
use dockhand::{Docker, Error};
use futures::TryStreamExt;
use std::collections::BTreeMap;
#[cfg(unix)]
use std::path::Path;

fn docker() -> Docker {
    Docker::connect_with_host("unix:///var/run/docker.sock").expect("client")
}

fn credentials(env: &TestEnv) -> AuthConfig {
    AuthConfig {
        username: Some(env.registry_user.clone()),
        password: Some(env.registry_password.clone()),
        serveraddress: Some(env.auth_registry.clone()),
        ..Default::default()
    }
}

fn wrong_credentials(env: &TestEnv) -> AuthConfig {
    AuthConfig {
        password: Some(format!("{}-wrong", env.registry_password)),
        ..credentials(env)
    }
}

fn basic(user: &str, password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

/// A local image that is removed when dropped.
struct Image {
    reference: String,
}

impl Drop for Image {
    fn drop(&mut self) {
        let reference = self.reference.clone();
        common::cleanup(move |docker| async move {
            let _ = docker
                .images()
                .remove(&reference, &Default::default())
                .await;
        });
    }
}

/// A tar of one file of `len` bytes no other image has.
fn unique_layer(case: &str, len: usize) -> Vec<u8> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    // xorshift: incompressible, so the layer really has `len` bytes to move.
    let mut x = nanos ^ (u64::from(std::process::id()) << 32) ^ 0x9e37_79b9_7f4a_7c15;
    let mut data = format!("{case} {nanos}\n").into_bytes();
    while data.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "dockhand-auth.bin", data.as_slice())
        .unwrap();
    tar.into_inner().unwrap()
}

/// Imports a one-layer image of its own as
/// `<auth registry>/dockhand-auth/<case>:t<pid>`, so that pulling it back
/// after removing it downloads its layer for real.
async fn unique_image(docker: &Docker, env: &TestEnv, case: &str) -> Image {
    let repo = format!("{}/dockhand-auth/{case}", env.auth_registry);
    let tag = format!("t{}", std::process::id());
    let opts = ImageCreateOptions::default()
        .repo(repo.clone())
        .tag(tag.clone());
    let _: Vec<CreateImageInfo> = docker
        .images()
        .import(unique_layer(case, 1 << 20).into(), &opts)
        .await
        .expect("import")
        .try_collect()
        .await
        .expect("import progress");
    Image {
        reference: format!("{repo}:{tag}"),
    }
}

async fn push(
    docker: &Docker,
    reference: &str,
    auth: RegistryAuth,
) -> Result<Vec<PushImageInfo>, Error> {
    docker
        .images()
        .push(
            reference,
            &ImagePushOptions::default().x_registry_auth(auth.header_for(reference).await?),
        )
        .await?
        .try_collect()
        .await
}

async fn pull(
    docker: &Docker,
    reference: &str,
    auth: RegistryAuth,
) -> Result<Vec<CreateImageInfo>, Error> {
    docker
        .images()
        .pull(
            reference,
            &ImageCreateOptions::default().x_registry_auth(auth.header_for(reference).await?),
        )
        .await?
        .try_collect()
        .await
}

/// Removes the image (its only tag, so its layer goes too).
async fn remove_local(docker: &Docker, reference: &str) {
    docker
        .images()
        .remove(reference, &Default::default())
        .await
        .expect("remove the local image");
    let e = docker
        .images()
        .inspect(reference, &Default::default())
        .await
        .expect_err("the tag is gone");
    assert!(e.is_not_found(), "{e}");
}

/// Pushes `reference` with `push_auth`, removes the local image, pulls it
/// back with `pull_auth`, and checks both progress streams: every layer
/// pushed, every layer downloaded.
async fn push_then_pull_back(
    docker: &Docker,
    reference: &str,
    push_auth: RegistryAuth,
    pull_auth: RegistryAuth,
) {
    let pushed = push(docker, reference, push_auth).await.expect("push");
    let statuses: Vec<&str> = pushed.iter().filter_map(|m| m.status.as_deref()).collect();
    println!("push {reference}: {statuses:?}");
    assert!(
        statuses
            .iter()
            .any(|s| s.starts_with("The push refers to repository")),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().any(|s| s.contains(": digest: sha256:")),
        "{statuses:?}"
    );
    let mut progress = Progress::new();
    for m in &pushed {
        progress.update(m);
    }
    assert!(
        statuses.contains(&"Pushed") && progress.is_done(),
        "the layer was uploaded: {:?}",
        progress.layers()
    );

    remove_local(docker, reference).await;
    let pulled = pull(docker, reference, pull_auth).await.expect("pull");
    let statuses: Vec<&str> = pulled.iter().filter_map(|m| m.status.as_deref()).collect();
    println!("pull {reference}: {statuses:?}");
    assert!(
        statuses.iter().any(|s| s.starts_with("Pulling from")),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .any(|s| *s == format!("Status: Downloaded newer image for {reference}")),
        "{statuses:?}"
    );
    let mut progress = Progress::new();
    for m in &pulled {
        progress.update(m);
    }
    assert!(
        !progress.layers().is_empty() && progress.is_done(),
        "{:?}",
        progress.layers()
    );
    assert!(
        statuses.contains(&"Pull complete") && progress.total() >= 1 << 20,
        "the layer was downloaded: {statuses:?} {:?}",
        progress.layers()
    );
    assert_eq!(progress.current(), progress.total());
    docker
        .images()
        .inspect(reference, &Default::default())
        .await
        .expect("the pulled image is there");
}

/// Sent credentials the registry rejected.
const REJECTED: &str = "unauthorized: authentication required";
/// No credentials reached the registry.
const ANONYMOUS: &str = "no basic auth credentials";

/// The failure of a registry that refused the request, whether the daemon
/// reports it as an HTTP status or inside the progress stream; `want` tells
/// whether credentials were sent and rejected or none arrived.
fn assert_refused<T: std::fmt::Debug>(result: Result<T, Error>, env: &TestEnv, want: &str) {
    let e = result.expect_err("the registry must refuse");
    let text = format!("{e} {e:?}");
    println!("refused: {e}");
    assert!(text.contains(want), "expected {want:?}: {text}");
    assert!(!text.contains(&env.registry_password), "{text}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn explicit_credentials_push_and_pull_with_url_safe_encoding() {
    let env = test_env("explicit_credentials_push_and_pull_with_url_safe_encoding");
    let docker = docker();
    // The password makes the standard base64 of the auth JSON contain `+`
    // or `/`: a daemon given that would misread it and pull anonymously,
    // which this registry refuses. Success below proves URL-safe encoding.
    let creds = credentials(&env);
    let standard =
        base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&creds).unwrap());
    assert!(
        standard.contains('+') || standard.contains('/'),
        "{standard}"
    );
    let header = registry_auth_header(Some(&creds)).unwrap();
    assert!(!header.expose().contains(['+', '/']));
    assert_ne!(header.expose(), standard);

    let tag = unique_image(&docker, &env, "explicit").await;
    push_then_pull_back(
        &docker,
        &tag.reference,
        RegistryAuth::Credentials(creds.clone()),
        RegistryAuth::Credentials(creds),
    )
    .await;

    // The same credentials in standard base64 are misread by the daemon,
    // which then pulls anonymously and is refused.
    remove_local(&docker, &tag.reference).await;
    let opts = ImageCreateOptions::default().x_registry_auth(SecretString::new(standard));
    let result: Result<Vec<CreateImageInfo>, Error> = async {
        docker
            .images()
            .pull(&tag.reference, &opts)
            .await?
            .try_collect()
            .await
    }
    .await;
    assert_refused(result, &env, ANONYMOUS);
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn config_json_auths_push_and_pull() {
    let env = test_env("config_json_auths_push_and_pull");
    let docker = docker();
    // As `docker login` writes it.
    let plain = TempDir::new("auth-config-plain");
    std::fs::write(
        plain.0.join("config.json"),
        serde_json::json!({"auths": {env.auth_registry.clone(): {"auth": basic(&env.registry_user, &env.registry_password)}}})
            .to_string(),
    )
    .unwrap();
    // A key written as a URL matches the registry's host, as in the CLI.
    let url = TempDir::new("auth-config-url");
    std::fs::write(
        url.0.join("config.json"),
        serde_json::json!({"auths": {format!("http://{}/v2/", env.auth_registry): {"auth": basic(&env.registry_user, &env.registry_password)}}})
            .to_string(),
    )
    .unwrap();
    let plain = ConfigFile::from_dir(&plain.0).expect("config.json");
    let url = ConfigFile::from_dir(&url.0).expect("config.json");
    let tag = unique_image(&docker, &env, "config").await;
    for c in [&plain, &url] {
        let found = c
            .credentials_for_image(&tag.reference)
            .unwrap()
            .expect("credentials for the registry");
        assert_eq!(found.username.as_deref(), Some(env.registry_user.as_str()));
        assert_eq!(
            found.password.as_deref(),
            Some(env.registry_password.as_str())
        );
    }
    push_then_pull_back(
        &docker,
        &tag.reference,
        RegistryAuth::Config(plain),
        RegistryAuth::Config(url),
    )
    .await;
}

/// Writes `docker-credential-<name>` into `dir`: it records each call in
/// `calls.log` and answers `get <registry>` with `answer.json`. A shell
/// script: Unix only.
#[cfg(unix)]
fn write_helper(dir: &Path, name: &str, registry: &str, answer: &serde_json::Value) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(dir.join("answer.json"), answer.to_string()).unwrap();
    let script = format!(
        r#"#!/bin/sh
dir=$(dirname "$0")
read -r server
echo "$1 $server" >> "$dir/calls.log"
if [ "$1" = get ] && [ "$server" = "{registry}" ]; then
  cat "$dir/answer.json"
  exit 0
fi
echo "credentials not found in native keychain"
exit 1
"#
    );
    let path = dir.join(format!("docker-credential-{name}"));
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn credential_helper_push_and_pull() {
    let env = test_env("credential_helper_push_and_pull");
    let docker = docker();
    let dir = TempDir::new("auth-helper");
    write_helper(
        &dir.0,
        "dockhandtest",
        &env.auth_registry,
        &serde_json::json!({
            "ServerURL": env.auth_registry,
            "Username": env.registry_user,
            "Secret": env.registry_password,
        }),
    );
    // The file's own entry is wrong: the helper must win over it.
    std::fs::write(
        dir.0.join("config.json"),
        serde_json::json!({
            "auths": {env.auth_registry.clone(): {"auth": basic(&env.registry_user, "not-the-password")}},
            "credHelpers": {env.auth_registry.clone(): "dockhandtest"}
        })
        .to_string(),
    )
    .unwrap();
    let config = ConfigFile::from_dir(&dir.0)
        .expect("config.json")
        .helper_dir(&dir.0);
    let tag = unique_image(&docker, &env, "helper").await;
    push_then_pull_back(
        &docker,
        &tag.reference,
        RegistryAuth::Config(config.clone()),
        RegistryAuth::Config(config),
    )
    .await;
    let calls = std::fs::read_to_string(dir.0.join("calls.log")).unwrap();
    let want = format!("get {}", env.auth_registry);
    assert_eq!(
        calls.lines().filter(|l| *l == want).count(),
        2,
        "one get for the push, one for the pull: {calls}"
    );

    // A registry the helper has nothing for is anonymous, not an error.
    let store = TempDir::new("auth-helper-store");
    write_helper(
        &store.0,
        "dockhandstore",
        "elsewhere.example",
        &serde_json::json!({}),
    );
    std::fs::write(
        store.0.join("config.json"),
        r#"{"credsStore":"dockhandstore"}"#,
    )
    .unwrap();
    let store_config = ConfigFile::from_dir(&store.0).unwrap().helper_dir(&store.0);
    assert_eq!(
        store_config.credentials_for_image(&tag.reference).unwrap(),
        None
    );
    // …and the registry then refuses the anonymous pull.
    remove_local(&docker, &tag.reference).await;
    assert_refused(
        pull(&docker, &tag.reference, RegistryAuth::Config(store_config)).await,
        &env,
        ANONYMOUS,
    );
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn wrong_or_missing_credentials_fail_with_the_registry_error() {
    let env = test_env("wrong_or_missing_credentials_fail_with_the_registry_error");
    let docker = docker();
    let existing = format!("{}/dockhand-test/busybox:latest", env.auth_registry);
    // Explicit wrong password: pull and push.
    assert_refused(
        pull(
            &docker,
            &existing,
            RegistryAuth::Credentials(wrong_credentials(&env)),
        )
        .await,
        &env,
        REJECTED,
    );
    let tag = unique_image(&docker, &env, "wrong").await;
    assert_refused(
        push(
            &docker,
            &tag.reference,
            RegistryAuth::Credentials(wrong_credentials(&env)),
        )
        .await,
        &env,
        REJECTED,
    );
    // A wrong password in config.json.
    let dir = TempDir::new("auth-wrong");
    std::fs::write(
        dir.0.join("config.json"),
        serde_json::json!({"auths": {env.auth_registry.clone(): {"auth": basic(&env.registry_user, "nope")}}})
            .to_string(),
    )
    .unwrap();
    let config = ConfigFile::from_dir(&dir.0).unwrap();
    assert_refused(
        pull(&docker, &existing, RegistryAuth::Config(config)).await,
        &env,
        REJECTED,
    );
    // No credentials at all: refused, never a silent success.
    assert_refused(
        pull(&docker, &existing, RegistryAuth::Anonymous).await,
        &env,
        ANONYMOUS,
    );
    // An empty config directory has no credentials either.
    let empty = TempDir::new("auth-empty");
    assert_refused(
        pull(
            &docker,
            &existing,
            RegistryAuth::Config(ConfigFile::from_dir(&empty.0).unwrap()),
        )
        .await,
        &env,
        ANONYMOUS,
    );
    // A malformed config.json is a typed error naming the file.
    std::fs::write(empty.0.join("config.json"), "{\"auths\": {").unwrap();
    let e = ConfigFile::from_dir(&empty.0).unwrap_err();
    assert!(
        matches!(e, Error::Config { .. }) && e.to_string().contains("config.json"),
        "{e}"
    );
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn login_checks_credentials_against_the_registry() {
    let env = test_env("login_checks_credentials_against_the_registry");
    let docker = docker();
    let r = docker
        .system()
        .auth(&credentials(&env))
        .await
        .expect("login");
    assert_eq!(r.status, "Login Succeeded");
    // An htpasswd registry hands out no identity token.
    assert!(
        r.identity_token.as_deref().unwrap_or_default().is_empty(),
        "{:?}",
        r.identity_token
    );
    let e = docker
        .system()
        .auth(&wrong_credentials(&env))
        .await
        .expect_err("wrong password");
    let text = format!("{e} {e:?}");
    assert!(e.status().is_some(), "{text}");
    assert!(
        text.contains("unauthorized") || text.contains("401"),
        "{text}"
    );
    assert!(!text.contains(&env.registry_password), "{text}");
}

fn build_context(dockerfile: &str) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(dockerfile.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "Dockerfile", dockerfile.as_bytes())
        .unwrap();
    tar.into_inner().unwrap()
}

async fn build(
    docker: &Docker,
    context: Vec<u8>,
    options: &ImageBuildOptions,
) -> Result<Vec<BuildInfo>, Error> {
    docker
        .images()
        .build(context.into(), options)
        .await?
        .try_collect()
        .await
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn build_pulls_a_private_base_image_with_x_registry_config() {
    let env = test_env("build_pulls_a_private_base_image_with_x_registry_config");
    let docker = docker();
    let base = unique_image(&docker, &env, "build-base").await;
    push(
        &docker,
        &base.reference,
        RegistryAuth::Credentials(credentials(&env)),
    )
    .await
    .expect("push the base image");
    remove_local(&docker, &base.reference).await;
    let built = Image {
        reference: format!("dockhand-auth-built:t{}", std::process::id()),
    };
    let context = build_context(&format!(
        "FROM {}\nLABEL dockhand.test=auth\n",
        base.reference
    ));

    // Without credentials the builder cannot pull the base image.
    let none = registry_config_header(&BTreeMap::new()).unwrap();
    let result = build(
        &docker,
        context.clone(),
        &ImageBuildOptions::default()
            .t(built.reference.clone())
            .x_registry_config(none),
    )
    .await;
    assert_refused(result, &env, ANONYMOUS);

    // With every registry of a config.json, it can.
    let dir = TempDir::new("auth-build");
    std::fs::write(
        dir.0.join("config.json"),
        serde_json::json!({"auths": {env.auth_registry.clone(): {"auth": basic(&env.registry_user, &env.registry_password)}}})
            .to_string(),
    )
    .unwrap();
    let all = ConfigFile::from_dir(&dir.0)
        .unwrap()
        .all_credentials()
        .unwrap();
    assert_eq!(all.keys().collect::<Vec<_>>(), [&env.auth_registry]);
    let messages = build(
        &docker,
        context,
        &ImageBuildOptions::default()
            .t(built.reference.clone())
            .x_registry_config(registry_config_header(&all).unwrap()),
    )
    .await
    .expect("build");
    let text: String = messages
        .iter()
        .filter_map(|m| m.stream.as_deref().or(m.status.as_deref()))
        .collect();
    assert!(text.contains("Successfully tagged"), "{text}");
    let image = docker
        .images()
        .inspect(&built.reference, &Default::default())
        .await
        .expect("built image");
    let labels = image
        .config
        .and_then(|c| c.labels)
        .expect("labels of the built image");
    assert_eq!(
        labels.get("dockhand.test").map(String::as_str),
        Some("auth")
    );
    // The base image was pulled on the way.
    docker
        .images()
        .inspect(&base.reference, &Default::default())
        .await
        .expect("base image pulled by the build");
}
