//! Builds against the real daemon (classic builder): a directory context
//! with a `.dockerignore`, the image it makes, and a failing build.
#![cfg(unix)]

mod common;

use common::{test_env, write_file as write, RemoveImage, TempDir};
use dockhand::build::{image_id_from, BuildOutcome};
use dockhand::operations::ImageBuildOptions;
use dockhand::stream::LogOutput;
use dockhand::{Docker, Error};

fn docker() -> Docker {
    Docker::connect_with_host("unix:///var/run/docker.sock").expect("client")
}

/// Runs `sh -c script` in `image` to the end and returns its stdout (the
/// script must not write to stderr).
async fn run(docker: &Docker, image: &str, script: &str) -> String {
    let (status, out) = common::run_script(docker, image, script).await;
    let mut stdout = String::new();
    for piece in out {
        match piece {
            LogOutput::StdOut(b) => stdout.push_str(&String::from_utf8_lossy(&b)),
            other => panic!("unexpected output {other:?}"),
        }
    }
    assert_eq!(status, 0, "{script}: {stdout}");
    stdout
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn a_directory_build_applies_dockerignore_and_reports_the_image_id() {
    let env = test_env("a_directory_build_applies_dockerignore_and_reports_the_image_id");
    let dir = TempDir::new("build-ctx");
    let d = &dir.0;
    write(
        d,
        "Dockerfile",
        &format!(
            "FROM {}\nCOPY . /ctx/\nRUN echo built-in-a-container\n",
            env.image
        ),
    );
    // The Dockerfile and .dockerignore themselves are sent all the same.
    write(
        d,
        ".dockerignore",
        "# not sent\nsecret.txt\nlogs/**\n*.tmp\n!keep.tmp\nvendor\n!vendor/keep.txt\nDockerfile\n.dockerignore\n",
    );
    write(d, "a.txt", "alpha\n");
    write(d, "secret.txt", "hunter2\n");
    write(d, "keep.tmp", "kept\n");
    write(d, "x.tmp", "dropped\n");
    write(d, "logs/a.log", "log\n");
    write(d, "logs/sub/b.log", "log\n");
    write(d, "sub/x.tmp", "kept: not at the root\n");
    write(d, "vendor/lib.rs", "\n");
    write(d, "vendor/keep.txt", "kept\n");
    std::os::unix::fs::symlink("a.txt", d.join("link")).expect("symlink");

    let docker = docker();
    let tag = RemoveImage(format!("dockhand-test/build-{}:1", std::process::id()));
    let opts = ImageBuildOptions::default()
        .t(tag.0.clone())
        .nocache(true)
        .forcerm(true);
    let stream = docker.images().build_dir(d, &opts).await.expect("build");
    let mut stream_lines = 0;
    let mut aux_ids = Vec::new();
    let outcome = BuildOutcome::collect_with(stream, |msg| {
        if msg.stream.is_some() {
            stream_lines += 1;
        }
        if let Some(id) = image_id_from(msg) {
            aux_ids.push(id.to_owned());
        }
    })
    .await
    .expect("build succeeds");
    assert!(stream_lines >= 5, "{stream_lines} stream messages");
    assert_eq!(
        aux_ids,
        std::slice::from_ref(&outcome.image_id),
        "one aux message with the id"
    );
    assert!(
        outcome.image_id.starts_with("sha256:"),
        "{}",
        outcome.image_id
    );
    assert!(outcome.log.contains("Step 1/3 : FROM"), "{}", outcome.log);
    assert!(
        outcome.log.contains("built-in-a-container"),
        "{}",
        outcome.log
    );
    let inspected = docker
        .images()
        .inspect(&tag.0, &Default::default())
        .await
        .expect("the tag exists");
    assert_eq!(inspected.id.as_deref(), Some(outcome.image_id.as_str()));

    // The Dockerfile was sent although excluded (the build found it); the
    // daemon itself then drops an excluded Dockerfile and .dockerignore from
    // the context, as it does for `docker build`. `logs/**` keeps `logs`
    // itself; `!vendor/keep.txt` reaches into the excluded `vendor`.
    let listing = run(&docker, &tag.0, "find /ctx | sort; readlink /ctx/link").await;
    assert_eq!(
        listing,
        "/ctx\n/ctx/a.txt\n/ctx/keep.tmp\n/ctx/link\n/ctx/logs\n/ctx/sub\n/ctx/sub/x.tmp\n\
         /ctx/vendor\n/ctx/vendor/keep.txt\na.txt\n"
    );
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn a_failing_run_is_an_error_with_the_daemon_message() {
    let env = test_env("a_failing_run_is_an_error_with_the_daemon_message");
    let dir = TempDir::new("build-fail");
    write(
        &dir.0,
        "Dockerfile",
        &format!("FROM {}\nRUN echo before-failing && false\n", env.image),
    );
    let docker = docker();
    // forcerm: the failed step's container is removed too.
    let opts = ImageBuildOptions::default().nocache(true).forcerm(true);
    let stream = docker
        .images()
        .build_dir(&dir.0, &opts)
        .await
        .expect("build");
    let mut log = String::new();
    let e = BuildOutcome::collect_with(stream, |msg| {
        log.push_str(msg.stream.as_deref().unwrap_or_default())
    })
    .await
    .expect_err("RUN false fails");
    match &e {
        Error::Api {
            message, operation, ..
        } => {
            assert_eq!(*operation, "ImageBuild");
            assert!(message.contains("returned a non-zero code: 1"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(log.contains("before-failing"), "{log}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn a_missing_context_fails_before_sending() {
    let _env = test_env("a_missing_context_fails_before_sending");
    let dir = TempDir::new("build-missing");
    let gone = dir.0.join("no-such-dir");
    let e = docker()
        .images()
        .build_dir(&gone, &Default::default())
        .await
        .expect_err("no context");
    match e {
        Error::Io { context, .. } => assert!(context.contains("no-such-dir"), "{context}"),
        other => panic!("{other:?}"),
    }
    // A Dockerfile path outside the context is refused as well.
    write(&dir.0, "Dockerfile", "FROM scratch\n");
    let e = docker()
        .images()
        .build_dir(
            &dir.0,
            &ImageBuildOptions::default().dockerfile("../Dockerfile"),
        )
        .await
        .expect_err("outside");
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn an_excluded_dockerfile_elsewhere_is_sent_all_the_same() {
    let env = test_env("an_excluded_dockerfile_elsewhere_is_sent_all_the_same");
    let dir = TempDir::new("build-dockerfile");
    write(
        &dir.0,
        "docker/app.df",
        &format!("FROM {}\nCOPY . /ctx/\n", env.image),
    );
    write(&dir.0, "docker/secret", "x\n");
    write(&dir.0, ".dockerignore", "docker\n");
    write(&dir.0, "b.txt", "b\n");
    let docker = docker();
    let tag = RemoveImage(format!("dockhand-test/build-df-{}:1", std::process::id()));
    let opts = ImageBuildOptions::default()
        .t(tag.0.clone())
        .dockerfile("docker/app.df")
        .forcerm(true);
    let stream = docker
        .images()
        .build_dir(&dir.0, &opts)
        .await
        .expect("build");
    // Without the Dockerfile in the context the daemon would answer
    // "Cannot locate specified Dockerfile".
    let outcome = BuildOutcome::collect(stream).await.expect("build succeeds");
    assert!(outcome.image_id.starts_with("sha256:"));
    let listing = run(&docker, &tag.0, "find /ctx | sort").await;
    // The daemon drops the excluded Dockerfile after reading it; the other
    // file of `docker/` was never sent; .dockerignore is not excluded.
    assert_eq!(
        listing,
        "/ctx\n/ctx/.dockerignore\n/ctx/b.txt\n/ctx/docker\n"
    );
}
