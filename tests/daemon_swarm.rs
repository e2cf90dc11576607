//! The swarm family against the real daemon, in a single-node swarm this
//! test creates (and leaves again, unless the daemon was already in one):
//! swarm, nodes, secrets, configs, services, tasks, service and task logs.
//!
//! One test function, so nothing else in this binary runs while the daemon is
//! a swarm manager.

mod common;

use common::test_env;
use dockhand::models::{
    ConfigCreateBody, SecretCreateBody, ServiceCreateBody, ServiceUpdateBody, SwarmInitBody,
    TaskSpec, TaskSpecContainerSpec,
};
use dockhand::operations::{
    Filters, ServiceLogsOptions, SwarmLeaveOptions, TaskListOptions, TaskLogsOptions,
};
use dockhand::stream::LogOutput;
use dockhand::Docker;
use futures::TryStreamExt;
use std::collections::HashMap;
use std::time::Duration;

fn version_of(v: Option<&dockhand::models::ObjectVersion>) -> i64 {
    v.and_then(|v| v.index).expect("object version") as i64
}

#[tokio::test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
async fn single_node_swarm_end_to_end() {
    let env = test_env("single_node_swarm_end_to_end");
    let docker = Docker::connect_with_host("unix:///var/run/docker.sock").expect("client");
    let info = docker.system().info().await.expect("info");
    let state = info
        .swarm
        .as_ref()
        .and_then(|s| s.local_node_state.clone())
        .map(|s| s.to_string())
        .unwrap_or_default();
    let created_swarm = state != "active";
    if created_swarm {
        let node = docker
            .swarm()
            .init(&SwarmInitBody {
                listen_addr: Some("127.0.0.1:2377".into()),
                advertise_addr: Some("127.0.0.1".into()),
                ..Default::default()
            })
            .await
            .expect("swarm init");
        assert!(!node.is_empty());
    }
    let result = exercise(&docker, &env.registry).await;
    if created_swarm {
        docker
            .swarm()
            .leave(&SwarmLeaveOptions::default().force(true))
            .await
            .expect("swarm leave");
    }
    result.expect("swarm operations");
}

async fn exercise(docker: &Docker, registry: &str) -> dockhand::Result<()> {
    let tag = format!("dockhand-{}", std::process::id());

    // Swarm and nodes.
    let swarm = docker.swarm().inspect().await?;
    assert!(swarm.id.as_deref().is_some_and(|id| !id.is_empty()));
    let nodes = docker.nodes().list(&Default::default()).await?;
    assert_eq!(nodes.len(), 1, "a single-node swarm");
    let node_id = nodes[0].id.clone().expect("node id");
    let node = docker.nodes().inspect(&node_id).await?;
    let mut spec = node.spec.clone().unwrap_or_default();
    spec.labels = Some(HashMap::from([("dockhand".to_owned(), tag.clone())]));
    docker
        .nodes()
        .update(&node_id, version_of(node.version.as_ref()), &spec)
        .await?;
    let node = docker.nodes().inspect(&node_id).await?;
    assert_eq!(
        node.spec.and_then(|s| s.labels).unwrap_or_default()["dockhand"],
        tag
    );

    // Secrets and configs: create answers `{"ID": …}` (see the codegen fixup).
    let secret = docker
        .secrets()
        .create(&SecretCreateBody {
            name: Some(format!("{tag}-secret")),
            data: Some("aHVudGVyMg==".into()),
            ..Default::default()
        })
        .await?;
    assert!(!secret.id.is_empty());
    let s = docker.secrets().inspect(&secret.id).await?;
    assert_eq!(
        s.spec.as_ref().and_then(|s| s.name.clone()),
        Some(format!("{tag}-secret"))
    );
    assert!(
        s.spec.as_ref().and_then(|s| s.data.clone()).is_none(),
        "the daemon never returns secret data"
    );
    let config = docker
        .configs()
        .create(&ConfigCreateBody {
            name: Some(format!("{tag}-config")),
            data: Some("bG9nX2xldmVsPWluZm8=".into()),
            ..Default::default()
        })
        .await?;
    let c = docker.configs().inspect(&config.id).await?;
    assert_eq!(
        c.spec.as_ref().and_then(|s| s.data.clone()).as_deref(),
        Some("bG9nX2xldmVsPWluZm8=")
    );
    let mut filters = Filters::new();
    filters.insert("name".into(), vec![format!("{tag}-config")]);
    let listed = docker
        .configs()
        .list(&dockhand::operations::ConfigListOptions::default().filters(filters))
        .await?;
    assert_eq!(listed.len(), 1);

    // A service from the local registry's copy of the test image.
    let body = ServiceCreateBody {
        name: Some(format!("{tag}-svc")),
        task_template: Some(TaskSpec {
            container_spec: Some(TaskSpecContainerSpec {
                image: Some(format!("{registry}/dockhand-test/busybox:latest")),
                command: Some(vec![
                    "sh".into(),
                    "-c".into(),
                    "echo hello-from-service; echo oops >&2; sleep 300".into(),
                ]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = docker.services().create(&body, &Default::default()).await?;
    let service_id = created.id.clone().expect("service id");
    let outcome = service_checks(docker, &service_id, &tag).await;
    docker.services().remove(&service_id).await?;
    docker.secrets().remove(&secret.id).await?;
    docker.configs().remove(&config.id).await?;
    outcome
}

async fn service_checks(docker: &Docker, service_id: &str, tag: &str) -> dockhand::Result<()> {
    // Wait for its task to run and print.
    let mut filters = Filters::new();
    filters.insert("service".into(), vec![service_id.to_owned()]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let (task_id, out, err) = loop {
        let tasks = docker
            .tasks()
            .list(&TaskListOptions::default().filters(filters.clone()))
            .await?;
        // Logs of a task that is not running yet are an in-band error.
        let running = tasks.iter().find(|t| {
            t.status
                .as_ref()
                .and_then(|s| s.state.as_ref())
                .is_some_and(|s| s.as_str() == "running")
        });
        if let Some(task_id) = running.and_then(|t| t.id.clone()) {
            let opts = TaskLogsOptions::default().stdout(true).stderr(true);
            let pieces: Vec<LogOutput> = docker
                .tasks()
                .logs(&task_id, &opts)
                .await?
                .try_collect()
                .await?;
            let (mut out, mut err) = (Vec::new(), Vec::new());
            for p in pieces {
                match p {
                    LogOutput::StdOut(b) => out.extend_from_slice(&b),
                    LogOutput::StdErr(b) => err.extend_from_slice(&b),
                    other => panic!("unexpected {other:?}"),
                }
            }
            if !out.is_empty() && !err.is_empty() {
                break (task_id, out, err);
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the service's task did not print in time"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(String::from_utf8_lossy(&out), "hello-from-service\n");
    assert_eq!(String::from_utf8_lossy(&err), "oops\n");
    let task = docker.tasks().inspect(&task_id).await?;
    assert_eq!(task.service_id.as_deref(), Some(service_id));

    // Service logs: the same lines, typed.
    let opts = ServiceLogsOptions::default().stdout(true).stderr(true);
    let pieces: Vec<LogOutput> = docker
        .services()
        .logs(service_id, &opts)
        .await?
        .try_collect()
        .await?;
    assert!(pieces
        .iter()
        .any(|p| matches!(p, LogOutput::StdOut(b) if b.as_ref() == b"hello-from-service\n")));
    assert!(pieces
        .iter()
        .any(|p| matches!(p, LogOutput::StdErr(b) if b.as_ref() == b"oops\n")));

    // Update: a label, at the current version.
    let svc = docker
        .services()
        .inspect(service_id, &Default::default())
        .await?;
    let spec = svc.spec.clone().expect("spec");
    let update = ServiceUpdateBody {
        name: spec.name.clone(),
        labels: Some(HashMap::from([("dockhand".to_owned(), tag.to_owned())])),
        task_template: spec.task_template.clone(),
        mode: spec.mode.clone(),
        ..Default::default()
    };
    docker
        .services()
        .update(
            service_id,
            version_of(svc.version.as_ref()),
            &update,
            &Default::default(),
        )
        .await?;
    let svc = docker
        .services()
        .inspect(service_id, &Default::default())
        .await?;
    assert_eq!(
        svc.spec.and_then(|s| s.labels).unwrap_or_default()["dockhand"],
        tag
    );
    // A stale version is the daemon's error, typed.
    let stale = docker
        .services()
        .update(service_id, 1, &update, &Default::default())
        .await
        .expect_err("stale version");
    assert!(matches!(stale, dockhand::Error::Api { .. }), "{stale}");
    Ok(())
}
