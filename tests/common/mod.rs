//! What the real-daemon tests need from the environment `scripts/test-env.sh`
//! sets up (it writes the variables to `env.sh`, which `scripts/test.sh` sources).
#![allow(dead_code)]

pub mod mock;

use dockhand::Docker;
use std::path::PathBuf;

/// The test environment's facts.
#[derive(Debug, Clone)]
pub struct TestEnv {
    pub image: String,
    pub tls_host: String,
    pub tls_cert_path: PathBuf,
    pub tls_wrong_ca_path: PathBuf,
    pub ssh_host: String,
    pub registry: String,
    pub auth_registry: String,
    pub registry_user: String,
    pub registry_password: String,
}

/// The environment `scripts/test-env.sh` describes. Tests that call this are
/// `#[ignore = "needs the test environment (scripts/test-env.sh)"]`, and
/// `scripts/test.sh` runs them with `--include-ignored`: run on purpose
/// without the environment, they fail saying what is missing. There is no
/// skip path: a test that did not run is listed as ignored, never as passed.
pub fn test_env(test: &str) -> TestEnv {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    assert!(
        var("DOCKHAND_TEST_ENV").is_some(),
        "{test}: DOCKHAND_TEST_ENV is not set: run scripts/test.sh, or source the env.sh \
         of scripts/test-env.sh before `cargo test -- --include-ignored`"
    );
    let need = |k: &str| {
        var(k).unwrap_or_else(|| {
            panic!("{test}: {k} is not set (source env.sh of scripts/test-env.sh)")
        })
    };
    TestEnv {
        image: need("DOCKHAND_TEST_IMAGE"),
        tls_host: need("DOCKHAND_TLS_HOST"),
        tls_cert_path: need("DOCKHAND_TLS_CERT_PATH").into(),
        tls_wrong_ca_path: need("DOCKHAND_TLS_WRONG_CA_PATH").into(),
        ssh_host: need("DOCKHAND_SSH_HOST"),
        registry: need("DOCKHAND_REGISTRY"),
        auth_registry: need("DOCKHAND_AUTH_REGISTRY"),
        registry_user: need("DOCKHAND_REGISTRY_USER"),
        registry_password: need("DOCKHAND_REGISTRY_PASSWORD"),
    }
}

/// A fresh temporary directory, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("dockhand-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `f` with a fresh client of the test daemon on a thread and runtime
/// of its own, and waits for it: for `Drop` guards, which cannot await.
pub fn cleanup<F, Fut>(f: F)
where
    F: FnOnce(Docker) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    cleanup_on("unix:///var/run/docker.sock".to_owned(), f)
}

/// [`cleanup`] with a client of the daemon at `host` (Podman's socket). A
/// fresh client, because the test's pooled connections are driven by the
/// test's runtime, which the wait blocks.
pub fn cleanup_on<F, Fut>(host: String, f: F)
where
    F: FnOnce(Docker) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let _ = std::thread::spawn(move || {
        let Ok(docker) = Docker::connect_with_host(&host) else {
            return;
        };
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            rt.block_on(f(docker));
        }
    })
    .join();
}

/// An image tag removed (forced, with its untagged parents) when dropped.
pub struct RemoveImage(pub String);

impl Drop for RemoveImage {
    fn drop(&mut self) {
        let tag = self.0.clone();
        cleanup(move |docker| async move {
            let _ = docker
                .images()
                .remove(
                    &tag,
                    &dockhand::operations::ImageDeleteOptions::default().force(true),
                )
                .await;
        });
    }
}

/// A container removed (forced) when dropped.
pub struct RemoveContainer(pub String);

impl Drop for RemoveContainer {
    fn drop(&mut self) {
        let id = self.0.clone();
        cleanup(move |docker| async move {
            let _ = docker
                .containers()
                .remove(
                    &id,
                    &dockhand::operations::ContainerDeleteOptions::default().force(true),
                )
                .await;
        });
    }
}

/// Writes `text` to `dir/rel`, making the directories on the way.
pub fn write_file(dir: &std::path::Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// Runs `sh -c script` in a new container of `image` to its end, and returns
/// its exit status and everything it wrote (stdout and stderr, in order).
/// The container is removed afterwards.
pub async fn run_script(
    docker: &Docker,
    image: &str,
    script: &str,
) -> (i64, Vec<dockhand::stream::LogOutput>) {
    use futures::TryStreamExt;
    let body = dockhand::models::ContainerCreateBody {
        image: Some(image.to_owned()),
        cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
        ..Default::default()
    };
    let c = RemoveContainer(
        docker
            .containers()
            .create(&body, &Default::default())
            .await
            .expect("create")
            .id,
    );
    docker
        .containers()
        .start(&c.0, &Default::default())
        .await
        .expect("start");
    let w = docker
        .containers()
        .wait(&c.0, &Default::default())
        .await
        .expect("wait");
    let out = docker
        .containers()
        .logs(
            &c.0,
            &dockhand::operations::ContainerLogsOptions::default()
                .stdout(true)
                .stderr(true),
        )
        .await
        .expect("logs")
        .try_collect()
        .await
        .expect("log stream");
    (w.status_code, out)
}

/// Decodes `body` into `T` and encodes it again: the same JSON value must
/// come back (unknown fields and explicit `null`s kept). `what` names the
/// answer in the panic, which lists where the two values differ.
pub fn assert_lossless<T: serde::de::DeserializeOwned + serde::Serialize>(
    what: &str,
    body: &[u8],
) -> T {
    let original: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{what}: the daemon's answer is not JSON: {e}"));
    let typed: T = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "{what}: does not decode into {}: {e}\n{original:#}",
            std::any::type_name::<T>()
        )
    });
    let again = serde_json::to_value(&typed).expect("encodes");
    let mut out = Vec::new();
    json_diff(&original, &again, "$", &mut out);
    assert!(out.is_empty(), "{what}: not lossless:\n{}", out.join("\n"));
    typed
}

/// Where two JSON values differ, as `path: left vs right` lines.
pub fn json_diff(a: &serde_json::Value, b: &serde_json::Value, at: &str, out: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => json_diff(va, vb, &format!("{at}.{k}"), out),
                    None => out.push(format!("{at}.{k}: missing after re-encoding (was {va})")),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{at}.{k}: added by re-encoding ({})", y[k]));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                json_diff(va, vb, &format!("{at}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{at}: {a} vs {b}")),
        _ => {}
    }
}

/// Writes the docker CLI's metadata of context `name` with the docker
/// endpoint `host` under the config directory `config_dir`
/// (`contexts/meta/<sha256 of the name>/meta.json`); returns that directory
/// name, under which `contexts/tls/` keeps the context's TLS files.
pub fn write_context(config_dir: &std::path::Path, name: &str, host: &str) -> String {
    use sha2::{Digest, Sha256};
    let id: String = Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let meta = config_dir.join("contexts/meta").join(&id);
    std::fs::create_dir_all(&meta).expect("meta dir");
    std::fs::write(
        meta.join("meta.json"),
        serde_json::json!({
            "Name": name, "Metadata": {},
            "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}}
        })
        .to_string(),
    )
    .expect("meta.json");
    id
}
