//! BuildKit builds against the real daemon (dockerd 20.10, `version=2`
//! builds over a `/session`): compared with what Debian's docker 20.10 CLI
//! (`DOCKER_BUILDKIT=1 /usr/bin/docker build`) makes of the same context.
#![cfg(all(unix, feature = "buildkit"))]

mod common;

use common::{test_env, write_file as write, RemoveImage, TempDir};
use dockhand::buildkit::{
    BuildKitEvent, BuildKitOptions, BuildKitOutcome, BuildOutput, SecretSource,
};
use dockhand::{Docker, Error};
use futures::{StreamExt, TryStreamExt};
use std::path::Path;
use std::process::Command;

/// Debian's docker 20.10 CLI: it speaks the same session protocol to dockerd
/// 20.10 with `DOCKER_BUILDKIT=1` (the newer CLI wants buildx).
const CLI_2010: &str = "/usr/bin/docker";

fn docker() -> Docker {
    Docker::connect_with_host("unix:///var/run/docker.sock").expect("client")
}

fn cli() -> Command {
    let out = Command::new(CLI_2010)
        .args(["version", "--format", "{{.Client.Version}}"])
        .output()
        .unwrap_or_else(|e| {
            panic!("{CLI_2010}: {e} (scripts/test-env.sh installs Debian's docker.io)")
        });
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(
        v.starts_with("20.10"),
        "{CLI_2010} is not the 20.10 CLI: {v}"
    );
    let mut c = Command::new(CLI_2010);
    c.env("DOCKER_BUILDKIT", "1")
        .env("DOCKER_HOST", "unix:///var/run/docker.sock");
    c
}

fn tag(name: &str) -> RemoveImage {
    RemoveImage(format!("dockhand-test/bk-{name}-{}:1", std::process::id()))
}

/// Runs `sh -c script` in `image` to the end and returns all it wrote.
async fn run(docker: &Docker, image: &str, script: &str) -> String {
    let (status, out) = common::run_script(docker, image, script).await;
    let text: String = out
        .iter()
        .map(|p| String::from_utf8_lossy(p.bytes()).into_owned())
        .collect();
    assert_eq!(status, 0, "{script}: {text}");
    text
}

/// Every file under the given directories of an image, with checksums of
/// regular files and the targets of symlinks.
async fn files(docker: &Docker, image: &str, dirs: &str) -> String {
    run(
        docker,
        image,
        &format!(
            "cd / && for p in $(find {dirs} | sort); do \
               if [ -L $p ]; then echo \"$p -> $(readlink $p)\"; \
               elif [ -f $p ]; then echo \"$p $(md5sum < $p | cut -c1-32)\"; \
               else echo \"$p/\"; fi; done"
        ),
    )
    .await
}

/// The context of the multi-stage test: a `.dockerignore` with exceptions,
/// a symlink, a secret file outside the context.
fn multi_stage_context(dir: &Path, image: &str) {
    write(
        dir,
        "Dockerfile",
        &format!(
            "ARG BASE={image}\n\
             FROM $BASE AS base\n\
             ARG GREETING=hello\n\
             RUN mkdir -p /stage && echo \"$GREETING\" > /stage/greeting\n\
             FROM base AS unused\n\
             RUN echo unused > /stage/unused\n\
             FROM base AS app\n\
             COPY . /ctx/\n\
             RUN --mount=type=secret,id=token sha256sum < /run/secrets/token | cut -c1-64 > /stage/secret-sha\n\
             FROM base AS last\n\
             RUN echo last > /stage/last\n"
        ),
    );
    write(
        dir,
        ".dockerignore",
        "# not sent\nsecret.txt\nlogs/**\n*.tmp\n!keep.tmp\nvendor\n!vendor/keep.txt\n",
    );
    write(dir, "a.txt", "alpha\n");
    write(dir, "secret.txt", "hunter2\n");
    write(dir, "keep.tmp", "kept\n");
    write(dir, "x.tmp", "dropped\n");
    write(dir, "logs/a.log", "log\n");
    write(dir, "sub/x.tmp", "kept: not at the root\n");
    write(dir, "sub/deeper/b.txt", "beta\n");
    write(dir, "vendor/lib.rs", "\n");
    write(dir, "vendor/keep.txt", "kept\n");
    let big: String = (0..200_000).map(|i| format!("{i}\n")).collect();
    write(dir, "big.txt", &big);
    std::os::unix::fs::symlink("a.txt", dir.join("link")).expect("symlink");
}

const SECRET: &str = "s3cr3t-in-mem0ry";

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn a_multi_stage_build_matches_the_docker_cli() {
    let env = test_env("a_multi_stage_build_matches_the_docker_cli");
    let dir = TempDir::new("bk-ctx");
    multi_stage_context(&dir.0, &env.image);
    let secret_dir = TempDir::new("bk-secret");
    write(&secret_dir.0, "token", SECRET);
    let docker = docker();

    // dockhand
    let ours = tag("ours");
    let opts = BuildKitOptions::default()
        .tag(ours.0.clone())
        .target("app")
        .build_arg("GREETING", "bonjour")
        .label("org.dockhand.test", "buildkit")
        .secret("token", SecretSource::value(SECRET))
        .no_cache(true);
    let stream = docker
        .images()
        .build_kit(&dir.0, &opts)
        .await
        .expect("build_kit");
    let mut names = Vec::new();
    let mut statuses = Vec::new();
    let outcome = BuildKitOutcome::collect_with(stream, |e| match e {
        BuildKitEvent::Vertex(v) => names.push(v.name.clone()),
        BuildKitEvent::Status(s) => statuses.push(s.id.clone()),
        _ => {}
    })
    .await
    .expect("build");
    let id = outcome.image_id.clone().expect("an image id");
    assert!(id.starts_with("sha256:"), "{id}");
    assert!(
        names.iter().any(|n| n.contains("load build context")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.contains("COPY . /ctx/")),
        "{names:?}"
    );
    assert!(
        statuses.iter().any(|s| s.starts_with("transferring")),
        "the context transfer reports progress: {statuses:?}"
    );
    // As bollard's build_buildkit_image checks it: the tag is named.
    assert!(
        statuses
            .iter()
            .any(|s| s == &format!("naming to docker.io/{}", ours.0)),
        "{statuses:?}"
    );
    assert!(
        !names
            .iter()
            .any(|n| n.contains("/stage/last") || n.contains("/stage/unused")),
        "--target app builds no later or unused stage: {names:?}"
    );
    assert!(outcome
        .vertexes
        .iter()
        .all(|v| v.completed.is_some() && v.error.is_none()));
    let inspect = docker
        .images()
        .inspect(&ours.0, &Default::default())
        .await
        .expect("inspect");
    assert_eq!(inspect.id, Some(id));
    let labels = inspect.config.and_then(|c| c.labels).unwrap_or_default();
    assert_eq!(
        labels.get("org.dockhand.test").map(String::as_str),
        Some("buildkit")
    );

    // the 20.10 CLI, same context, same flags
    let theirs = tag("cli");
    let out = cli()
        .args([
            "build",
            "--no-cache",
            "--target",
            "app",
            "--build-arg",
            "GREETING=bonjour",
        ])
        .args(["--label", "org.dockhand.test=buildkit"])
        .arg("--secret")
        .arg(format!(
            "id=token,src={}",
            secret_dir.0.join("token").display()
        ))
        .args(["-t", &theirs.0])
        .arg(&dir.0)
        .output()
        .expect("docker build");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let listing = files(&docker, &ours.0, "ctx stage").await;
    assert_eq!(listing, files(&docker, &theirs.0, "ctx stage").await);
    for want in [
        "ctx/a.txt ",
        "ctx/keep.tmp ",
        "ctx/sub/x.tmp ",
        "ctx/sub/deeper/b.txt ",
        "ctx/vendor/keep.txt ",
        "ctx/big.txt ",
        "ctx/link -> a.txt",
        "ctx/Dockerfile ",
        "ctx/.dockerignore ",
        "stage/secret-sha ",
    ] {
        assert!(listing.contains(want), "{want:?} missing:\n{listing}");
    }
    for unwanted in [
        "secret.txt",
        "x.tmp\n",
        "ctx/x.tmp",
        "logs/a.log",
        "vendor/lib.rs",
        "stage/unused",
        "stage/last",
    ] {
        assert!(
            !listing.contains(unwanted),
            "{unwanted:?} present:\n{listing}"
        );
    }
    assert_eq!(
        run(&docker, &ours.0, "cat /stage/greeting").await,
        "bonjour\n"
    );

    // The secret was readable during the build (its checksum was taken)
    // and is in no layer.
    let sha: String = {
        use sha2::Digest;
        sha2::Sha256::digest(SECRET.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    assert_eq!(
        run(&docker, &ours.0, "cat /stage/secret-sha").await.trim(),
        sha
    );
    assert_eq!(
        run(&docker, &ours.0, "ls /run/secrets 2>/dev/null | wc -l")
            .await
            .trim(),
        "0"
    );
    let mut saved = docker
        .images()
        .save(&ours.0, &Default::default())
        .await
        .expect("save");
    let mut tail: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = saved.try_next().await.expect("save stream") {
        total += chunk.len();
        tail.extend_from_slice(&chunk);
        assert!(
            !tail.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "the secret is in the image"
        );
        let keep = tail.len().saturating_sub(SECRET.len());
        tail.drain(..keep);
    }
    assert!(
        total > 1_000_000,
        "the saved image holds the context ({total} bytes)"
    );
    let history = docker
        .images()
        .history(&ours.0, &Default::default())
        .await
        .expect("history");
    assert!(
        !format!("{history:?}").contains(SECRET),
        "the secret is in the history"
    );
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn a_dockerfile_elsewhere_and_a_second_build_from_cache() {
    let env = test_env("a_dockerfile_elsewhere_and_a_second_build_from_cache");
    let dir = TempDir::new("bk-df");
    write(
        &dir.0,
        "build/app.Dockerfile",
        &format!("FROM {}\nCOPY data /data\n", env.image),
    );
    write(&dir.0, "data/one", "1\n");
    let docker = docker();
    let t = tag("df");
    let opts = BuildKitOptions::default()
        .dockerfile("build/app.Dockerfile")
        .tag(t.0.clone())
        .tag(format!("{}-second", t.0));
    let second = RemoveImage(format!("{}-second", t.0));
    let first = BuildKitOutcome::collect(
        docker
            .images()
            .build_kit(&dir.0, &opts)
            .await
            .expect("build"),
    )
    .await
    .expect("first build");
    // Again: every step is cached, the image is the same.
    let again = BuildKitOutcome::collect(
        docker
            .images()
            .build_kit(&dir.0, &opts)
            .await
            .expect("build"),
    )
    .await
    .expect("second build");
    assert_eq!(first.image_id, again.image_id);
    assert!(
        again
            .vertexes
            .iter()
            .any(|v| v.name.contains("COPY data /data") && v.cached),
        "{:?}",
        again.vertexes
    );
    assert_eq!(run(&docker, &second.0, "cat /data/one").await, "1\n");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn a_failing_run_is_an_error_with_the_steps_output() {
    let env = test_env("a_failing_run_is_an_error_with_the_steps_output");
    let dir = TempDir::new("bk-fail");
    write(
        &dir.0,
        "Dockerfile",
        &format!(
            "FROM {}\nRUN echo about-to-fail && echo on-stderr >&2 && exit 3\n",
            env.image
        ),
    );
    let docker = docker();
    let stream = docker
        .images()
        .build_kit(&dir.0, &BuildKitOptions::default().no_cache(true))
        .await
        .expect("build_kit");
    let e = BuildKitOutcome::collect(stream).await.unwrap_err();
    match &e {
        Error::BuildFailed { message, step, log } => {
            assert!(message.contains("exit code: 3"), "{message}");
            assert!(
                step.as_deref()
                    .is_some_and(|s| s.contains("RUN echo about-to-fail")),
                "{step:?}"
            );
            assert!(log.contains("about-to-fail"), "{log}");
            assert!(log.contains("on-stderr"), "{log}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("exit code: 3"), "{e}");

    // Bad input is refused before anything is sent.
    let e = docker
        .images()
        .build_kit(dir.0.join("missing"), &BuildKitOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e:?}");
    let e = docker
        .images()
        .build_kit(
            &dir.0,
            &BuildKitOptions::default().dockerfile("../Dockerfile"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidArgument {
                name: "dockerfile",
                ..
            }
        ),
        "{e:?}"
    );

    // A missing secret the Dockerfile requires fails the build too, naming it.
    write(
        &dir.0,
        "Dockerfile",
        &format!(
            "FROM {}\nRUN --mount=type=secret,id=nope,required cat /run/secrets/nope\n",
            env.image
        ),
    );
    let stream = docker
        .images()
        .build_kit(
            &dir.0,
            &BuildKitOptions::default().secret("other", SecretSource::value("x")),
        )
        .await
        .expect("build_kit");
    let e = BuildKitOutcome::collect(stream).await.unwrap_err();
    assert!(matches!(e, Error::BuildFailed { .. }), "{e:?}");
    assert!(!format!("{e:?}").contains("\"x\""), "{e:?}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn dropping_the_stream_cancels_the_build() {
    let env = test_env("dropping_the_stream_cancels_the_build");
    let dir = TempDir::new("bk-cancel");
    write(
        &dir.0,
        "Dockerfile",
        &format!("FROM {}\nRUN echo started && sleep 6\n", env.image),
    );
    let docker = docker();
    let t = tag("cancel");
    let mut stream = docker
        .images()
        .build_kit(
            &dir.0,
            &BuildKitOptions::default().tag(t.0.clone()).no_cache(true),
        )
        .await
        .expect("build_kit");
    // Wait until the RUN step printed: the build is under way.
    while let Some(e) = stream.next().await {
        if let BuildKitEvent::Log(l) = e.expect("event") {
            if String::from_utf8_lossy(&l.data).contains("started") {
                break;
            }
        }
    }
    drop(stream);
    // Had it gone on, the image would exist after the sleep.
    tokio::time::sleep(std::time::Duration::from_secs(9)).await;
    let e = docker
        .images()
        .inspect(&t.0, &Default::default())
        .await
        .unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn outputs_go_to_a_local_directory_and_a_tar_stream() {
    let env = test_env("outputs_go_to_a_local_directory_and_a_tar_stream");
    let dir = TempDir::new("bk-out");
    write(
        &dir.0,
        "Dockerfile",
        &format!(
            "FROM {} AS build\nRUN mkdir -p /out/sub && echo made > /out/sub/file && chmod 0751 /out/sub/file\n\
             FROM scratch\nCOPY --from=build /out /\n",
            env.image
        ),
    );
    let docker = docker();

    // type=local
    let out = TempDir::new("bk-out-local");
    let dest = out.0.join("dest");
    let outcome = BuildKitOutcome::collect(
        docker
            .images()
            .build_kit(
                &dir.0,
                &BuildKitOptions::default().output(BuildOutput::local(&dest)),
            )
            .await
            .expect("build_kit"),
    )
    .await
    .expect("local output");
    assert_eq!(outcome.image_id, None, "no image for a local output");
    assert_eq!(
        std::fs::read_to_string(dest.join("sub/file")).unwrap(),
        "made\n"
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dest.join("sub/file"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o751);
    }
    let mut entries: Vec<String> = std::fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["sub"]);

    // type=tar, read while the build writes it
    let (writer, mut reader) = tokio::io::duplex(64 * 1024);
    let read = tokio::spawn(async move {
        let mut bytes = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut bytes)
            .await
            .map(|_| bytes)
    });
    BuildKitOutcome::collect(
        docker
            .images()
            .build_kit(
                &dir.0,
                &BuildKitOptions::default().output(BuildOutput::tar_writer(writer)),
            )
            .await
            .expect("build_kit"),
    )
    .await
    .expect("tar output");
    let bytes = read.await.unwrap().expect("tar bytes");
    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut names = Vec::new();
    let mut content = String::new();
    for entry in archive.entries().expect("tar") {
        let mut entry = entry.expect("entry");
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        if name.trim_end_matches('/') == "sub/file" {
            std::io::Read::read_to_string(&mut entry, &mut content).unwrap();
        }
        names.push(name);
    }
    assert!(
        names.iter().any(|n| n.trim_end_matches('/') == "sub/file"),
        "{names:?}"
    );
    assert_eq!(content, "made\n");

    // type=tar to a file
    let file = out.0.join("out.tar");
    BuildKitOutcome::collect(
        docker
            .images()
            .build_kit(
                &dir.0,
                &BuildKitOptions::default().output(BuildOutput::tar_file(&file)),
            )
            .await
            .expect("build_kit"),
    )
    .await
    .expect("tar file output");
    assert!(std::fs::metadata(&file).unwrap().len() >= 1024);
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn a_private_base_image_is_pulled_with_the_sessions_credentials() {
    use dockhand::auth::{AuthConfig, ConfigFile, RegistryAuth};
    use dockhand::operations::{ImagePushOptions, ImageTagOptions};
    let env = test_env("a_private_base_image_is_pulled_with_the_sessions_credentials");
    let docker = docker();
    let creds = AuthConfig {
        username: Some(env.registry_user.clone()),
        password: Some(env.registry_password.clone()),
        serveraddress: Some(env.auth_registry.clone()),
        ..Default::default()
    };
    // The test image, pushed to the htpasswd registry, then untagged here.
    let repo = format!(
        "{}/dockhand-bk/base-{}",
        env.auth_registry,
        std::process::id()
    );
    let reference = format!("{repo}:1");
    docker
        .images()
        .tag(
            &env.image,
            &ImageTagOptions::default().repo(repo.clone()).tag("1"),
        )
        .await
        .expect("tag");
    let pushed: Vec<_> = docker
        .images()
        .push(
            &reference,
            &ImagePushOptions::default().x_registry_auth(
                RegistryAuth::Credentials(creds.clone())
                    .header_for(&reference)
                    .await
                    .expect("header"),
            ),
        )
        .await
        .expect("push")
        .try_collect()
        .await
        .expect("push stream");
    assert!(!pushed.is_empty());
    docker
        .images()
        .remove(&reference, &Default::default())
        .await
        .expect("untag");

    let dir = TempDir::new("bk-auth");
    write(
        &dir.0,
        "Dockerfile",
        &format!("FROM {reference}\nRUN echo from-private > /private\n"),
    );
    // `pull`: the base image is resolved at the registry, not found locally.
    let base = BuildKitOptions::default().pull(true).no_cache(true);

    // Without credentials the registry refuses.
    let e = BuildKitOutcome::collect(
        docker
            .images()
            .build_kit(&dir.0, &base.clone().registry_auth(RegistryAuth::Anonymous))
            .await
            .expect("build_kit"),
    )
    .await
    .unwrap_err();
    match &e {
        Error::BuildFailed { message, .. } => assert!(
            message.contains("401")
                || message.to_lowercase().contains("unauthorized")
                || message.contains("authoriz"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }

    // With the credentials a config.json gives for the registry (as pulls
    // find them), the daemon asks the session and gets them.
    let config = ConfigFile::parse(&format!(
        r#"{{"auths":{{"{}":{{"auth":"{}"}}}}}}"#,
        env.auth_registry,
        {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", env.registry_user, env.registry_password))
        }
    ))
    .expect("config.json");
    let t = tag("auth");
    let outcome = BuildKitOutcome::collect(
        docker
            .images()
            .build_kit(&dir.0, &base.clone().tag(t.0.clone()).registry_auth(config))
            .await
            .expect("build_kit"),
    )
    .await
    .expect("build FROM the private image");
    assert!(outcome.image_id.is_some());
    assert_eq!(run(&docker, &t.0, "cat /private").await, "from-private\n");
    // The credentials never show in what the build reported.
    assert!(!format!("{outcome:?}").contains(&env.registry_password));
}

/// The build cache records whose description mentions `marker`.
async fn cache_ids(docker: &Docker, marker: &str) -> Vec<String> {
    docker
        .system()
        .df(&Default::default())
        .await
        .expect("df")
        .build_cache
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.description.as_deref().is_some_and(|d| d.contains(marker)))
        .filter_map(|c| c.id)
        .collect()
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn build_cache_prune_takes_filters() {
    use dockhand::operations::BuildPruneOptions;
    let env = test_env("build_cache_prune_takes_filters");
    let dir = TempDir::new("bk-prune");
    let pid = std::process::id();
    let (keep, prune) = (format!("keep-{pid}"), format!("prune-{pid}"));
    write(
        &dir.0,
        "Dockerfile",
        &format!(
            "FROM {}\nRUN echo {keep} > /k\nRUN echo {prune} > /p\n",
            env.image
        ),
    );
    let docker = docker();
    BuildKitOutcome::collect(
        docker
            .images()
            .build_kit(&dir.0, &BuildKitOptions::default().no_cache(true))
            .await
            .expect("build_kit"),
    )
    .await
    .expect("build");
    let kept = cache_ids(&docker, &keep).await;
    let doomed = cache_ids(&docker, &prune).await;
    assert!(
        !kept.is_empty() && !doomed.is_empty(),
        "{kept:?} {doomed:?}"
    );
    let target = doomed[0].clone();
    let report = docker
        .images()
        .build_prune(
            &BuildPruneOptions::default()
                .all(true)
                .filters(dockhand::filters! { "id" => target }),
        )
        .await
        .expect("prune");
    let deleted = report.caches_deleted.unwrap_or_default();
    assert!(deleted.contains(&doomed[0]), "{deleted:?}");
    assert!(!deleted.iter().any(|d| kept.contains(d)), "{deleted:?}");
    assert!(!cache_ids(&docker, &prune).await.contains(&doomed[0]));
    assert_eq!(cache_ids(&docker, &keep).await, kept);
}

/// An `ssh-agent -D` of this test, killed (by its pid) when dropped.
struct Agent(std::process::Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Builds `tests/fixtures/ssh_agent_client` into a static Linux executable
/// at `dest` with the `rustc` that builds these tests (glibc's `libc.a`, of
/// Debian's libc6-dev, links it): busybox has no Unix-socket client.
fn build_agent_client(dest: &Path) {
    let source =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ssh_agent_client/main.rs");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let out = Command::new(&rustc)
        .args([
            "--edition",
            "2021",
            "-O",
            "-C",
            "target-feature=+crt-static",
            "-C",
            "strip=symbols",
        ])
        .arg(&source)
        .arg("-o")
        .arg(dest)
        .output()
        .unwrap_or_else(|e| panic!("{rustc}: {e}"));
    assert!(
        out.status.success(),
        "{rustc} {}: {}",
        source.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn an_ssh_agent_is_forwarded_by_id() {
    let env = test_env("an_ssh_agent_is_forwarded_by_id");
    let dir = TempDir::new("bk-ssh");
    let sock = dir.0.join("agent.sock");
    let agent = Agent(
        Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&sock)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("ssh-agent (Debian's openssh-client)"),
    );
    for _ in 0..100 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(sock.exists(), "the agent socket");
    // One identity in the agent, with a comment the build must print.
    let key = dir.0.join("id_ed25519");
    let keygen = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "dockhand-agent-test",
            "-f",
        ])
        .arg(&key)
        .output()
        .expect("ssh-keygen");
    assert!(
        keygen.status.success(),
        "{}",
        String::from_utf8_lossy(&keygen.stderr)
    );
    let add = Command::new("ssh-add")
        .arg(&key)
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .expect("ssh-add");
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );

    let ctx = dir.0.join("ctx");
    std::fs::create_dir_all(&ctx).expect("mkdir");
    build_agent_client(&ctx.join("agent-client"));
    write(
        &ctx,
        "Dockerfile",
        &format!(
            "FROM {}\nCOPY agent-client /usr/local/bin/agent-client\n\
             RUN --mount=type=ssh test -S \"$SSH_AUTH_SOCK\" && /usr/local/bin/agent-client\n",
            env.image
        ),
    );
    let docker = docker();
    let mut logs = String::new();
    BuildKitOutcome::collect_with(
        docker
            .images()
            .build_kit(
                &ctx,
                &BuildKitOptions::default()
                    .no_cache(true)
                    .ssh("default", &sock),
            )
            .await
            .expect("build_kit"),
        |e| {
            if let BuildKitEvent::Log(l) = e {
                logs.push_str(&String::from_utf8_lossy(&l.data));
            }
        },
    )
    .await
    .expect("build with the agent");
    // The client's request went through the session to this agent, and its
    // answer came back: one identity, the public key added above.
    assert!(logs.contains("agent identities: 1\n"), "{logs}");
    let public = std::fs::read_to_string(dir.0.join("id_ed25519.pub")).expect("public key");
    let blob = {
        use base64::Engine;
        let b64 = public
            .split_whitespace()
            .nth(1)
            .expect("a key in the .pub file");
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("base64 key")
    };
    let hex: String = blob.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        logs.contains(&format!(
            "agent identity 0: key {hex} comment dockhand-agent-test\n"
        )),
        "{logs}"
    );

    // An id the session does not serve: the daemon's check fails the build.
    write(
        &ctx,
        "Dockerfile",
        &format!(
            "FROM {}\nRUN --mount=type=ssh,id=other,required true\n",
            env.image
        ),
    );
    let e = BuildKitOutcome::collect(
        docker
            .images()
            .build_kit(
                &ctx,
                &BuildKitOptions::default()
                    .no_cache(true)
                    .ssh("default", &sock),
            )
            .await
            .expect("build_kit"),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::BuildFailed { .. }), "{e:?}");
    assert!(e.to_string().contains("other"), "{e}");
    drop(agent);
}

/// Deletes the build cache records whose description mentions `marker`
/// (`all`: also those `docker builder prune` keeps by default), one `id`
/// filter each: other builds on this daemon keep their cache. Returns the
/// ids deleted.
async fn forget_cache(docker: &Docker, marker: &str) -> Vec<String> {
    use dockhand::operations::BuildPruneOptions;
    let mut deleted = Vec::new();
    for id in cache_ids(docker, marker).await {
        let report = docker
            .images()
            .build_prune(
                &BuildPruneOptions::default()
                    .all(true)
                    .filters(dockhand::filters! { "id" => id }),
            )
            .await
            .expect("prune");
        deleted.extend(report.caches_deleted.unwrap_or_default());
    }
    assert!(
        cache_ids(docker, marker).await.is_empty(),
        "records of {marker} left after the prune"
    );
    deleted
}

/// The image's layers (diff ids).
async fn layers(docker: &Docker, image: &str) -> Vec<String> {
    docker
        .images()
        .inspect(image, &Default::default())
        .await
        .expect("inspect")
        .root_fs
        .and_then(|r| r.layers)
        .unwrap_or_default()
}

/// A manifest pushed to the (loopback) test registry, deleted from it when
/// dropped (`DELETE /v2/NAME/manifests/DIGEST`; the test registry has
/// deletes enabled), which removes its tags there.
struct DeleteFromRegistry {
    /// `127.0.0.1:5000`.
    registry: String,
    /// The repository inside it.
    repo: String,
    /// `sha256:…`.
    digest: String,
}

impl DeleteFromRegistry {
    /// The HTTP status of the `DELETE` (202 when it was deleted).
    fn delete(&self) -> std::io::Result<u16> {
        use std::io::{Read, Write};
        assert!(self.registry.starts_with("127.0.0.1:"), "{}", self.registry);
        let mut conn = std::net::TcpStream::connect(&self.registry)?;
        let limit = Some(std::time::Duration::from_secs(10));
        conn.set_read_timeout(limit)?;
        conn.set_write_timeout(limit)?;
        write!(
            conn,
            "DELETE /v2/{}/manifests/{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.repo, self.digest, self.registry
        )?;
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer)?;
        let text = String::from_utf8_lossy(&answer);
        text.split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {text:?}")))
    }
}

impl Drop for DeleteFromRegistry {
    fn drop(&mut self) {
        let _ = self.delete();
    }
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn cache_from_reuses_the_inline_cache_of_a_pushed_image() {
    use dockhand::operations::ImageDeleteOptions;
    let env = test_env("cache_from_reuses_the_inline_cache_of_a_pushed_image");
    let docker = docker();
    let pid = std::process::id();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    // Unique to this run: no cache of an earlier run answers for it.
    let marker = format!("dockhand-cache-from-{pid}-{nanos}");
    let dir = TempDir::new("bk-cache-from");
    write(
        &dir.0,
        "Dockerfile",
        &format!(
            "FROM {}\nRUN echo {marker} > /marker && cat /proc/sys/kernel/random/uuid > /token\n",
            env.image
        ),
    );
    let step = format!("RUN echo {marker}");
    let run_step = |outcome: &BuildKitOutcome| {
        outcome
            .vertexes
            .iter()
            .find(|v| v.name.contains(&step))
            .cloned()
            .unwrap_or_else(|| panic!("no {step:?} step: {:?}", outcome.vertexes))
    };
    let build = |opts: BuildKitOptions| {
        let (docker, dir) = (docker.clone(), dir.0.clone());
        async move {
            BuildKitOutcome::collect(
                docker
                    .images()
                    .build_kit(&dir, &opts)
                    .await
                    .expect("build_kit"),
            )
            .await
            .expect("build")
        }
    };
    let inline = BuildKitOptions::default().build_arg("BUILDKIT_INLINE_CACHE", "1");

    // 1. Built with its cache metadata in the image config, pushed to the
    // test registry, then gone from the daemon: image and build cache.
    let pushed = RemoveImage(format!("{}/dockhand-bk/cache-from-{pid}:1", env.registry));
    let first = build(inline.clone().tag(pushed.0.clone())).await;
    assert!(!run_step(&first).cached, "{:?}", first.vertexes);
    let token = run(&docker, &pushed.0, "cat /token").await;
    assert_eq!(token.trim().len(), 36, "a uuid: {token:?}");
    let first_layers = layers(&docker, &pushed.0).await;
    let _: Vec<_> = docker
        .images()
        .push(&pushed.0, &Default::default())
        .await
        .expect("push")
        .try_collect()
        .await
        .expect("push stream");
    let repo = format!("dockhand-bk/cache-from-{pid}");
    let in_registry = DeleteFromRegistry {
        registry: env.registry.clone(),
        digest: docker
            .images()
            .inspect(&pushed.0, &Default::default())
            .await
            .expect("inspect")
            .repo_digests
            .unwrap_or_default()
            .iter()
            .find_map(|d| {
                d.strip_prefix(&format!("{}/{repo}@", env.registry))
                    .map(str::to_owned)
            })
            .expect("the pushed manifest's digest"),
        repo,
    };
    docker
        .images()
        .remove(&pushed.0, &ImageDeleteOptions::default())
        .await
        .expect("remove the pushed image locally");
    assert!(
        !forget_cache(&docker, &marker).await.is_empty(),
        "the first build left cache records"
    );

    // 2. With cache_from: the step comes from the registry image's cache,
    // with the first build's file.
    let second = tag("cache-from");
    let again = build(
        inline
            .clone()
            .tag(second.0.clone())
            .cache_from(pushed.0.clone()),
    )
    .await;
    assert!(run_step(&again).cached, "{:?}", again.vertexes);
    assert_eq!(run(&docker, &second.0, "cat /token").await, token);
    assert_eq!(layers(&docker, &second.0).await, first_layers);

    // 3. The control: the same build without cache_from, after the same
    // cleanup, runs the step again.
    docker
        .images()
        .remove(&second.0, &ImageDeleteOptions::default())
        .await
        .expect("remove the second image");
    forget_cache(&docker, &marker).await;
    let third = tag("no-cache-from");
    let control = build(inline.clone().tag(third.0.clone())).await;
    assert!(!run_step(&control).cached, "{:?}", control.vertexes);
    let new_token = run(&docker, &third.0, "cat /token").await;
    assert_eq!(new_token.trim().len(), 36, "a uuid: {new_token:?}");
    assert_ne!(new_token, token);
    assert_eq!(in_registry.delete().expect("delete from the registry"), 202);
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn network_extra_hosts_and_platform_reach_run_steps() {
    let env = test_env("network_extra_hosts_and_platform_reach_run_steps");
    let dir = TempDir::new("bk-net");
    write(
        &dir.0,
        "Dockerfile",
        &format!(
            "FROM {}\nRUN grep -c eth0 /proc/net/dev > /eth0 || true; \
             grep dockhand.example /etc/hosts > /hosts || true\n",
            env.image
        ),
    );
    let docker = docker();
    let mut seen = Vec::new();
    for network in ["default", "none"] {
        let t = tag(&format!("net-{network}"));
        let opts = BuildKitOptions::default()
            .tag(t.0.clone())
            .no_cache(true)
            .network(network)
            .platform("linux/amd64")
            .extra_host("dockhand.example:10.9.8.7");
        BuildKitOutcome::collect(
            docker
                .images()
                .build_kit(&dir.0, &opts)
                .await
                .expect("build_kit"),
        )
        .await
        .expect("build");
        let eth0 = run(&docker, &t.0, "cat /eth0").await;
        let hosts = run(&docker, &t.0, "cat /hosts").await;
        assert!(hosts.contains("10.9.8.7"), "{network}: {hosts:?}");
        seen.push((network, eth0.trim().to_owned()));
    }
    assert_eq!(
        seen,
        [("default", "1".to_owned()), ("none", "0".to_owned())]
    );
}
