//! Pooled connections, one pool per Tokio runtime.
//!
//! A pooled connection is driven by a task spawned on the runtime that
//! opened it, and its socket is registered with that runtime's reactor: it
//! only makes progress while that runtime runs, and dies with it. So a
//! [`crate::Docker`] keeps one pool per runtime it is used from (keyed by
//! [`tokio::runtime::Handle::id`], stable since Tokio 1.49), and a request
//! only ever gets a connection of the runtime it runs on. When a runtime
//! shuts down, the tasks it owns are dropped, among them a sentinel spawned
//! with its pool, whose drop removes that pool: a connection whose runtime
//! is gone is never handed out, and the pools of dead runtimes do not pile
//! up in a long-lived client.

use super::connector::Connector;
use super::RequestBody;
use crate::{Error, Result};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::runtime::{Handle, Id};

/// The pooled client of one runtime.
pub(super) type PooledClient = Client<Connector, RequestBody>;

type Map = Mutex<HashMap<Id, Entry>>;

struct Entry {
    client: PooledClient,
    /// Dropped with the entry (or with the transport), which ends the
    /// runtime's sentinel task.
    _sentinel: tokio::sync::oneshot::Sender<()>,
}

/// One pooled client per runtime.
pub(super) struct Pools {
    connector: Connector,
    map: Arc<Map>,
}

impl Pools {
    pub(super) fn new(connector: Connector) -> Self {
        Pools {
            connector,
            map: Arc::default(),
        }
    }

    /// The pooled client of the runtime this is called from.
    pub(super) fn current(&self) -> Result<PooledClient> {
        let handle = in_runtime()?;
        let id = handle.id();
        let (client, sentinel) = {
            let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(entry) = map.get(&id) {
                return Ok(entry.client.clone());
            }
            let client = Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(60))
                .pool_max_idle_per_host(32)
                .build(self.connector.clone());
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            map.insert(
                id,
                Entry {
                    client: client.clone(),
                    _sentinel: tx,
                },
            );
            (client, rx)
        };
        // Spawned outside the lock: on a runtime that is shutting down the
        // task is dropped at once, and its guard takes the lock.
        let guard = Forget {
            map: Arc::downgrade(&self.map),
            id,
        };
        handle.spawn(async move {
            let _guard = guard;
            let _ = sentinel.await;
        });
        Ok(client)
    }

    /// How many runtimes have a pool (for tests).
    #[cfg(all(test, unix))]
    pub(super) fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// The current runtime, or an error saying a runtime is needed.
pub(super) fn in_runtime() -> Result<Handle> {
    Handle::try_current().map_err(|e| Error::Config {
        message: "a Docker client must be used from within a Tokio runtime".into(),
        source: Some(Box::new(e)),
    })
}

/// Removes a runtime's pool when its sentinel task ends or is dropped.
struct Forget {
    map: Weak<Map>,
    id: Id,
}

impl Drop for Forget {
    fn drop(&mut self) {
        if let Some(map) = self.map.upgrade() {
            let entry = map
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&self.id);
            // The client (and its idle connections) is dropped outside the lock.
            drop(entry);
        }
    }
}
