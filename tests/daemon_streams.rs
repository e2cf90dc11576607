//! Streams against the real daemon: logs, attach, exec with stdin, events,
//! stats, export and pull progress.

mod common;

use common::{test_env, TestEnv};
use dockhand::models::{ContainerCreateBody, ContainerExecBody, HostConfig};
use dockhand::models::{ContainerWaitCondition, EventMessageType};
use dockhand::operations::ContainerWaitOptions;
use dockhand::operations::{
    ContainerAttachOptions, ContainerLogsOptions, ContainerStatsOptions, ImageCreateOptions,
    ImageDeleteOptions,
};
use dockhand::stream::events::EventFilters;
use dockhand::stream::stats::StatsSummary;
use dockhand::stream::timestamps::{Timestamped, TimestampedLog};
use dockhand::stream::LogOutput;
use dockhand::{Docker, Error};
use futures::{StreamExt, TryStreamExt};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

fn docker() -> Docker {
    Docker::connect_with_host("unix:///var/run/docker.sock").expect("client")
}

/// A container that is removed when the guard is dropped.
struct Container {
    docker: Docker,
    id: String,
    _remove: common::RemoveContainer,
}

async fn create(
    env: &TestEnv,
    cmd: &[&str],
    tty: bool,
    stdin: bool,
    label: Option<&str>,
) -> Container {
    let docker = docker();
    let body = ContainerCreateBody {
        image: Some(env.image.clone()),
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        tty: Some(tty),
        open_stdin: Some(stdin),
        attach_stdin: Some(stdin),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        labels: label.map(|l| {
            [("dockhand.test".to_owned(), l.to_owned())]
                .into_iter()
                .collect()
        }),
        host_config: Some(HostConfig::default()),
        ..Default::default()
    };
    let id = docker
        .containers()
        .create(&body, &Default::default())
        .await
        .expect("create")
        .id;
    Container {
        docker,
        _remove: common::RemoveContainer(id.clone()),
        id,
    }
}

async fn run_to_end(c: &Container) {
    c.docker
        .containers()
        .start(&c.id, &Default::default())
        .await
        .expect("start");
    let w = c
        .docker
        .containers()
        .wait(&c.id, &Default::default())
        .await
        .expect("wait");
    assert_eq!(w.status_code, 0);
}

fn split(pieces: &[LogOutput]) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let (mut out, mut err, mut console) = (Vec::new(), Vec::new(), Vec::new());
    for p in pieces {
        match p {
            LogOutput::StdOut(b) => out.extend_from_slice(b),
            LogOutput::StdErr(b) => err.extend_from_slice(b),
            LogOutput::Console(b) => console.extend_from_slice(b),
            LogOutput::StdIn(_) => panic!("no stdin expected"),
        }
    }
    (out, err, console)
}

const SCRIPT: &str = "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; printf 'no newline'";

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn logs_keep_stdout_and_stderr_apart() {
    let env = test_env("logs_keep_stdout_and_stderr_apart");
    let c = create(&env, &["sh", "-c", SCRIPT], false, false, None).await;
    run_to_end(&c).await;
    let opts = ContainerLogsOptions::default().stdout(true).stderr(true);
    let pieces: Vec<LogOutput> = c
        .docker
        .containers()
        .logs(&c.id, &opts)
        .await
        .expect("logs")
        .try_collect()
        .await
        .expect("stream");
    let (out, err, console) = split(&pieces);
    assert_eq!(
        String::from_utf8_lossy(&out),
        "out1\nout2\nout3\nout4\nout5\nno newline"
    );
    assert_eq!(
        String::from_utf8_lossy(&err),
        "err1\nerr2\nerr3\nerr4\nerr5\n"
    );
    assert!(console.is_empty());
    // Only stderr when only stderr is asked for.
    let opts = ContainerLogsOptions::default().stderr(true);
    let pieces: Vec<LogOutput> = c
        .docker
        .containers()
        .logs(&c.id, &opts)
        .await
        .expect("logs")
        .try_collect()
        .await
        .expect("stream");
    assert!(pieces.iter().all(|p| matches!(p, LogOutput::StdErr(_))));
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn logs_of_a_tty_container_are_console_bytes() {
    let env = test_env("logs_of_a_tty_container_are_console_bytes");
    let c = create(&env, &["sh", "-c", SCRIPT], true, false, None).await;
    run_to_end(&c).await;
    let opts = ContainerLogsOptions::default().stdout(true).stderr(true);
    let pieces: Vec<LogOutput> = c
        .docker
        .containers()
        .logs(&c.id, &opts)
        .await
        .expect("logs")
        .try_collect()
        .await
        .expect("stream");
    let (out, err, console) = split(&pieces);
    assert!(
        out.is_empty() && err.is_empty(),
        "a TTY does not separate streams"
    );
    // The TTY turns \n into \r\n; nothing is lost or mangled by a guessed header.
    assert_eq!(
        String::from_utf8_lossy(&console),
        "out1\r\nerr1\r\nout2\r\nerr2\r\nout3\r\nerr3\r\nout4\r\nerr4\r\nout5\r\nerr5\r\nno newline"
    );
}

/// Below API 1.42 (dockerd 20.10) the client remembers a container's TTY by
/// full ID after its first inspect: one client, a TTY and a plain container
/// read by full ID in turn, each keeps its own format every time.
#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn logs_by_full_id_keep_each_containers_format() {
    let env = test_env("logs_by_full_id_keep_each_containers_format");
    let plain = create(&env, &["sh", "-c", SCRIPT], false, false, None).await;
    let tty = create(&env, &["sh", "-c", SCRIPT], true, false, None).await;
    run_to_end(&plain).await;
    run_to_end(&tty).await;
    assert_eq!(plain.id.len(), 64);
    let docker = docker();
    let opts = ContainerLogsOptions::default().stdout(true).stderr(true);
    for _ in 0..3 {
        for c in [&plain, &tty] {
            let pieces: Vec<LogOutput> = docker
                .containers()
                .logs(&c.id, &opts)
                .await
                .expect("logs")
                .try_collect()
                .await
                .expect("stream");
            let (out, err, console) = split(&pieces);
            if std::ptr::eq(c, &tty) {
                assert!(out.is_empty() && err.is_empty());
                assert!(String::from_utf8_lossy(&console).starts_with("out1\r\nerr1\r\n"));
            } else {
                assert!(console.is_empty());
                assert!(String::from_utf8_lossy(&out).starts_with("out1\nout2\n"));
                assert!(String::from_utf8_lossy(&err).starts_with("err1\nerr2\n"));
            }
        }
    }
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn exec_cat_echoes_a_mebibyte_of_binary_stdin() {
    let env = test_env("exec_cat_echoes_a_mebibyte_of_binary_stdin");
    let c = create(&env, &["sleep", "60"], false, false, None).await;
    c.docker
        .containers()
        .start(&c.id, &Default::default())
        .await
        .expect("start");
    let exec = c
        .docker
        .exec()
        .create(
            &c.id,
            &ContainerExecBody {
                cmd: Some(vec!["cat".into()]),
                attach_stdin: Some(true),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("exec create")
        .id;
    let attached = c
        .docker
        .exec()
        .start(&exec, &Default::default())
        .await
        .expect("start");
    // Every byte value, in a pattern that is not periodic at small scales.
    let input: Vec<u8> = (0..(1usize << 20))
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let mut stdin = attached.input;
    let data = input.clone();
    let writer = tokio::spawn(async move {
        stdin.write_all(&data).await?;
        stdin.shutdown().await
    });
    let pieces: Vec<LogOutput> =
        tokio::time::timeout(Duration::from_secs(60), attached.output.try_collect())
            .await
            .expect("cat finishes after stdin EOF")
            .expect("output");
    writer
        .await
        .expect("join")
        .expect("stdin written and closed");
    let (out, err, _) = split(&pieces);
    assert!(err.is_empty(), "stderr: {}", String::from_utf8_lossy(&err));
    assert_eq!(out.len(), input.len());
    assert!(out == input, "stdout differs from stdin");
    // The exit code, once the exec has finished.
    let mut code = None;
    for _ in 0..50 {
        let state = c.docker.exec().inspect(&exec).await.expect("inspect");
        if state.running == Some(false) {
            code = state.exit_code;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(code, Some(0));
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn attach_sees_output_to_the_end() {
    let env = test_env("attach_sees_output_to_the_end");
    let script =
        "sleep 0.5; i=0; while [ $i -lt 200 ]; do echo line$i; i=$((i+1)); done; echo last >&2";
    let c = create(&env, &["sh", "-c", script], false, false, None).await;
    let opts = ContainerAttachOptions::default()
        .stream(true)
        .stdout(true)
        .stderr(true);
    let attached = c
        .docker
        .containers()
        .attach(&c.id, &opts)
        .await
        .expect("attach");
    c.docker
        .containers()
        .start(&c.id, &Default::default())
        .await
        .expect("start");
    let pieces: Vec<LogOutput> =
        tokio::time::timeout(Duration::from_secs(30), attached.output.try_collect())
            .await
            .expect("ends when the container exits")
            .expect("output");
    let (out, err, _) = split(&pieces);
    let expected: String = (0..200).map(|i| format!("line{i}\n")).collect();
    assert_eq!(String::from_utf8_lossy(&out), expected);
    assert_eq!(String::from_utf8_lossy(&err), "last\n");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn events_under_a_label_filter() {
    let env = test_env("events_under_a_label_filter");
    let label = format!("events-{}", std::process::id());
    let docker = docker();
    let opts = EventFilters::new()
        .kind(EventMessageType::Container)
        .label("dockhand.test", Some(&label))
        .since(std::time::SystemTime::now() - Duration::from_secs(1))
        .into_options();
    let mut events = docker.system().events(&opts).await.expect("events");
    // Another container without the label must not show up.
    let other = create(&env, &["true"], false, false, None).await;
    let c = create(&env, &["true"], false, false, Some(&label)).await;
    run_to_end(&other).await;
    run_to_end(&c).await;
    let mut actions = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !actions.contains(&"die".to_owned()) {
        let next = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("events in time");
        let e = next.expect("stream open").expect("event decodes");
        let actor = e
            .actor
            .as_ref()
            .and_then(|a| a.id.clone())
            .unwrap_or_default();
        assert_eq!(actor, c.id, "only the labelled container");
        actions.push(e.action.unwrap_or_default());
    }
    for want in ["create", "start", "die"] {
        assert!(actions.iter().any(|a| a == want), "{want} in {actions:?}");
    }
    drop(events); // cancels the request
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn stats_one_shot_decodes() {
    let env = test_env("stats_one_shot_decodes");
    let c = create(&env, &["sleep", "30"], false, false, None).await;
    c.docker
        .containers()
        .start(&c.id, &Default::default())
        .await
        .expect("start");
    let s = c
        .docker
        .containers()
        .stats_once(&c.id, &ContainerStatsOptions::default().one_shot(true))
        .await
        .expect("one sample decodes");
    assert!(s.memory_stats.is_some() && s.cpu_stats.is_some(), "{s:?}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn export_streams_a_tar_with_busybox() {
    let env = test_env("export_streams_a_tar_with_busybox");
    let c = create(&env, &["true"], false, false, None).await;
    let mut tar_bytes = Vec::new();
    let mut s = c.docker.containers().export(&c.id).await.expect("export");
    while let Some(chunk) = s.try_next().await.expect("chunk") {
        tar_bytes.extend_from_slice(&chunk);
    }
    let mut archive = tar::Archive::new(&tar_bytes[..]);
    let names: Vec<String> = archive
        .entries()
        .expect("tar")
        .map(|e| {
            e.expect("entry")
                .path()
                .expect("path")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.trim_start_matches("./") == "bin/busybox"),
        "{names:?}"
    );
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn pull_from_the_local_registry_shows_progress_and_missing_tags_fail() {
    let env = test_env("pull_from_the_local_registry_shows_progress_and_missing_tags_fail");
    let docker = docker();
    let repo = format!("{}/dockhand-test/busybox", env.registry);
    // Make the pull real: drop the local tag first (the image stays under its other names).
    let _ = docker
        .images()
        .remove(
            &format!("{repo}:latest"),
            &ImageDeleteOptions::default().noprune(true),
        )
        .await;
    let opts = ImageCreateOptions::default().anonymous();
    let messages: Vec<_> = docker
        .images()
        .pull(&format!("{repo}:latest"), &opts)
        .await
        .expect("pull")
        .try_collect()
        .await
        .expect("progress");
    let statuses: Vec<String> = messages.iter().filter_map(|m| m.status.clone()).collect();
    assert!(
        statuses.iter().any(|s| s.starts_with("Pulling from")),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .any(|s| s.contains("Downloaded newer image") || s.contains("Image is up to date")),
        "{statuses:?}"
    );
    docker
        .images()
        .inspect(&format!("{repo}:latest"), &Default::default())
        .await
        .expect("pulled image exists");

    let opts = ImageCreateOptions::default().anonymous();
    let result: Result<Vec<_>, Error> = async {
        docker
            .images()
            .pull(&format!("{repo}:no-such-tag"), &opts)
            .await?
            .try_collect()
            .await
    }
    .await;
    let e = result.expect_err("missing tag");
    assert!(matches!(e, Error::Api { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("no-such-tag")
            || text.contains("not found")
            || text.contains("manifest unknown"),
        "{text}"
    );
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn logs_with_timestamps_parse_for_tty_and_non_tty() {
    let env = test_env("logs_with_timestamps_parse_for_tty_and_non_tty");
    let start = std::time::SystemTime::now() - Duration::from_secs(5);
    for tty in [false, true] {
        let c = create(&env, &["sh", "-c", SCRIPT], tty, false, None).await;
        run_to_end(&c).await;
        let opts = ContainerLogsOptions::default()
            .stdout(true)
            .stderr(true)
            .timestamps(true);
        let lines: Vec<TimestampedLog> = Timestamped::new(
            c.docker
                .containers()
                .logs(&c.id, &opts)
                .await
                .expect("logs"),
        )
        .try_collect()
        .await
        .expect("every message has a timestamp");
        let end = std::time::SystemTime::now() + Duration::from_secs(5);
        assert!(
            lines
                .iter()
                .all(|l| l.timestamp > start && l.timestamp < end),
            "timestamps near now"
        );
        let text: String = lines
            .iter()
            .map(|l| String::from_utf8_lossy(l.output.bytes()).into_owned())
            .collect();
        if tty {
            assert!(lines
                .iter()
                .all(|l| matches!(l.output, LogOutput::Console(_))));
            assert_eq!(text, "out1\r\nerr1\r\nout2\r\nerr2\r\nout3\r\nerr3\r\nout4\r\nerr4\r\nout5\r\nerr5\r\nno newline");
        } else {
            let out: String = lines
                .iter()
                .filter(|l| matches!(l.output, LogOutput::StdOut(_)))
                .map(|l| String::from_utf8_lossy(l.output.bytes()).into_owned())
                .collect();
            assert_eq!(out, "out1\nout2\nout3\nout4\nout5\nno newline");
            assert_eq!(lines.len(), 11, "one message per line");
        }
    }
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn streaming_stats_summarise_like_docker_stats() {
    let env = test_env("streaming_stats_summarise_like_docker_stats");
    // A busy loop: CPU use shows from the second sample on.
    let c = create(
        &env,
        &["sh", "-c", "while :; do :; done"],
        false,
        false,
        None,
    )
    .await;
    c.docker
        .containers()
        .start(&c.id, &Default::default())
        .await
        .expect("start");
    let mut stats = c
        .docker
        .containers()
        .stats(&c.id, &ContainerStatsOptions::default().stream(true))
        .await
        .expect("stats");
    let mut summaries = Vec::new();
    while summaries.len() < 3 {
        let s = tokio::time::timeout(Duration::from_secs(10), stats.try_next())
            .await
            .expect("a sample a second")
            .expect("decodes")
            .expect("stream open");
        summaries.push(StatsSummary::from_sample(&s));
    }
    drop(stats); // cancels the request
    let last = summaries.last().expect("sample");
    assert!(last.cpu_percent > 10.0, "a busy loop uses CPU: {last:?}");
    assert!(
        last.memory_used > 0 && last.memory_limit > last.memory_used,
        "{last:?}"
    );
    assert!(
        last.memory_percent > 0.0 && last.memory_percent < 100.0,
        "{last:?}"
    );
    assert!(last.pids >= 1, "{last:?}");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn wait_for_removal_of_an_auto_removed_container() {
    let env = test_env("wait_for_removal_of_an_auto_removed_container");
    let docker = docker();
    let body = ContainerCreateBody {
        image: Some(env.image.clone()),
        cmd: Some(vec!["sh".into(), "-c".into(), "sleep 0.3; exit 3".into()]),
        host_config: Some(HostConfig {
            auto_remove: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    let id = docker
        .containers()
        .create(&body, &Default::default())
        .await
        .expect("create")
        .id;
    // Ask before starting: `removed` answers only once the container is gone.
    let waiter = {
        let docker = docker.clone();
        let id = id.clone();
        tokio::spawn(async move {
            docker
                .containers()
                .wait(
                    &id,
                    &ContainerWaitOptions::default().condition(ContainerWaitCondition::Removed),
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    docker
        .containers()
        .start(&id, &Default::default())
        .await
        .expect("start");
    let r = tokio::time::timeout(Duration::from_secs(30), waiter)
        .await
        .expect("wait answers")
        .expect("join")
        .expect("wait");
    assert_eq!(r.status_code, 3);
    let gone = docker
        .containers()
        .inspect(&id, &Default::default())
        .await
        .expect_err("removed");
    assert!(gone.is_not_found(), "{gone}");
}

/// Below API 1.42 (dockerd 20.10) an attach's format is the container's
/// TTY, asked at the same time as the upgrade: a TTY's bytes that would
/// parse as a frame header come back as console bytes, both for a name
/// (inspected) and for the full ID (then known without an inspect), and a
/// framed container's stderr stays stderr.
#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn attach_tells_tty_bytes_from_frames_by_name_and_by_full_id() {
    let env = test_env("attach_tells_tty_bytes_from_frames_by_name_and_by_full_id");
    let script = r"sleep 1; printf '\001\000\000\000\000\000\000\002hi'";
    let opts = ContainerAttachOptions::default()
        .stream(true)
        .stdout(true)
        .stderr(true);
    for by_name in [true, false] {
        let c = create(&env, &["sh", "-c", script], true, false, None).await;
        let who = if by_name {
            let inspect = c
                .docker
                .containers()
                .inspect(&c.id, &Default::default())
                .await
                .expect("inspect");
            inspect
                .name
                .expect("name")
                .trim_start_matches('/')
                .to_owned()
        } else {
            c.id.clone()
        };
        let attached = c
            .docker
            .containers()
            .attach(&who, &opts)
            .await
            .expect("attach");
        c.docker
            .containers()
            .start(&c.id, &Default::default())
            .await
            .expect("start");
        let pieces: Vec<LogOutput> =
            tokio::time::timeout(Duration::from_secs(30), attached.output.try_collect())
                .await
                .expect("ends when the container exits")
                .expect("output");
        let (out, err, console) = split(&pieces);
        assert!(out.is_empty() && err.is_empty(), "{who}: {pieces:?}");
        assert_eq!(console, b"\x01\0\0\0\0\0\0\x02hi", "{who}");
    }
    let c = create(
        &env,
        &["sh", "-c", "sleep 1; echo oops >&2"],
        false,
        false,
        None,
    )
    .await;
    let attached = c
        .docker
        .containers()
        .attach(&c.id, &opts)
        .await
        .expect("attach");
    c.docker
        .containers()
        .start(&c.id, &Default::default())
        .await
        .expect("start");
    let pieces: Vec<LogOutput> =
        tokio::time::timeout(Duration::from_secs(30), attached.output.try_collect())
            .await
            .expect("ends when the container exits")
            .expect("output");
    assert_eq!(split(&pieces), (vec![], b"oops\n".to_vec(), vec![]));
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn attach_to_a_running_container_sees_its_output_to_the_end() {
    let env = test_env("attach_to_a_running_container_sees_its_output_to_the_end");
    let script =
        "sleep 1; i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); done; echo done >&2";
    let c = create(&env, &["sh", "-c", script], false, false, None).await;
    c.docker
        .containers()
        .start(&c.id, &Default::default())
        .await
        .expect("start");
    let opts = ContainerAttachOptions::default()
        .stream(true)
        .stdout(true)
        .stderr(true);
    let attached = c
        .docker
        .containers()
        .attach(&c.id, &opts)
        .await
        .expect("attach");
    let pieces: Vec<LogOutput> =
        tokio::time::timeout(Duration::from_secs(30), attached.output.try_collect())
            .await
            .expect("ends when the container exits")
            .expect("output");
    let (out, err, _) = split(&pieces);
    let expected: String = (0..300).map(|i| format!("line{i}\n")).collect();
    assert_eq!(String::from_utf8_lossy(&out), expected);
    assert_eq!(String::from_utf8_lossy(&err), "done\n");
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn push_progress_names_layers_and_ends_with_the_digest() {
    let env = test_env("push_progress_names_layers_and_ends_with_the_digest");
    let docker = docker();
    let repo = format!("{}/dockhand-test/pushed", env.registry);
    let tag = format!("p{}", std::process::id());
    docker
        .images()
        .tag(
            &env.image,
            &dockhand::operations::ImageTagOptions::default()
                .repo(repo.clone())
                .tag(tag.clone()),
        )
        .await
        .expect("tag");
    let messages: Vec<_> = docker
        .images()
        .push(
            &repo,
            &dockhand::operations::ImagePushOptions::default()
                .tag(tag.clone())
                .anonymous(),
        )
        .await
        .expect("push")
        .try_collect()
        .await
        .expect("progress");
    let _ = docker
        .images()
        .remove(&format!("{repo}:{tag}"), &Default::default())
        .await;
    assert!(
        messages.iter().any(|m| m.id.is_some()),
        "layer ids: {messages:?}"
    );
    let aux = messages
        .iter()
        .find_map(|m| m.aux.clone())
        .expect("the last message carries the pushed digest");
    assert_eq!(aux.tag.as_deref(), Some(tag.as_str()));
    assert!(
        aux.digest
            .as_deref()
            .is_some_and(|d| d.starts_with("sha256:")),
        "{aux:?}"
    );
    assert!(aux.size.is_some_and(|s| s > 0), "{aux:?}");
}
