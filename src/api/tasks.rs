//! Tasks: the containers a swarm service runs.

use crate::models::Task;
use crate::operations::{self as ops, *};
use crate::stream::{ByteStream, LogStream};
use crate::{Docker, Result};

/// Swarm task operations: `docker.tasks()`.
#[derive(Debug, Clone)]
pub struct Tasks {
    docker: Docker,
}

impl Docker {
    /// Swarm task operations.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let tasks = docker.tasks().list(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub fn tasks(&self) -> Tasks {
        Tasks {
            docker: self.clone(),
        }
    }
}

impl Tasks {
    /// Lists tasks (`docker service ps`, `docker node ps`).
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::{Filters, TaskListOptions};
    /// let mut filters = Filters::new();
    /// filters.insert("service".into(), vec!["web".into()]);
    /// let tasks = docker.tasks().list(&TaskListOptions::default().filters(filters)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn list(&self, options: &TaskListOptions) -> Result<TaskListResponse> {
        self.docker
            .json(&ops::TASK_LIST, &[], |s| options.write_params(s), None)
            .await
    }

    /// Low-level information about a task.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// let task = docker.tasks().inspect("t1").await?;
    /// # Ok(()) }
    /// ```
    pub async fn inspect(&self, id: &str) -> Result<Task> {
        self.docker
            .json(&ops::TASK_INSPECT, &[id], |_| {}, None)
            .await
    }

    /// A task's output, typed like container logs.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::operations::TaskLogsOptions;
    /// let logs = docker.tasks().logs("t1", &TaskLogsOptions::default().stdout(true)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn logs(&self, id: &str, options: &TaskLogsOptions) -> Result<LogStream<ByteStream>> {
        let op = &ops::TASK_LOGS;
        let resp = self
            .docker
            .raw(op, &[id], |s| options.write_params(s), None)
            .await?;
        super::log_stream(&self.docker, op.id, resp, async {
            let task = self.inspect(id).await?;
            Ok(task
                .spec
                .and_then(|t| t.container_spec)
                .and_then(|c| c.tty)
                .unwrap_or(false))
        })
        .await
    }
}
