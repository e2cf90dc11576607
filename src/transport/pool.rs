//! Pooled connections, one pool per Tokio runtime.
//!
//! A pooled connection is driven by a task spawned on the runtime that
//! opened it (or by the task reading a stream, `response`), and its socket
//! is registered with that runtime's reactor: it only makes progress while
//! that runtime runs, and dies with it. So a [`crate::Docker`] keeps one
//! pool per runtime it is used from (keyed by
//! [`tokio::runtime::Handle::id`], stable since Tokio 1.49), and a request
//! only ever gets a connection of the runtime it runs on. When a runtime
//! shuts down, the tasks it owns are dropped, among them a sentinel spawned
//! with its pool, whose drop removes that pool: a connection whose runtime
//! is gone is never handed out, and the pools of dead runtimes do not pile
//! up in a long-lived client.

use super::idle::IdleList;
use crate::{Error, Result};
use std::sync::{Arc, Mutex, Weak};
use tokio::runtime::{Handle, Id};

/// The pools by runtime: a list, as a client is used from few runtimes at
/// once (looked up on every request, without hashing).
type Map = Mutex<Vec<(Id, Entry)>>;

/// What a [`crate::Docker`] keeps for one runtime: its idle connections
/// (`idle`), for requests that answer at once (each driven by a task of its
/// own) and for streaming requests (driven by their reader).
#[derive(Default)]
pub(super) struct RuntimePool {
    pub(super) requests: Arc<IdleList>,
    pub(super) streams: Arc<IdleList>,
}

struct Entry {
    pool: Arc<RuntimePool>,
    /// Dropped with the entry (or with the transport), which ends the
    /// runtime's sentinel task.
    _sentinel: tokio::sync::oneshot::Sender<()>,
}

/// One pool per runtime.
#[derive(Default)]
pub(super) struct Pools {
    map: Arc<Map>,
}

impl Pools {
    /// The pools of the runtime this is called from.
    pub(super) fn current(&self) -> Result<Arc<RuntimePool>> {
        let handle = in_runtime()?;
        let id = handle.id();
        let (pool, sentinel) = {
            let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, entry)) = map.iter().find(|(i, _)| *i == id) {
                return Ok(entry.pool.clone());
            }
            let pool = Arc::new(RuntimePool::default());
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            map.push((
                id,
                Entry {
                    pool: pool.clone(),
                    _sentinel: tx,
                },
            ));
            (pool, rx)
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
        Ok(pool)
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
            let entry = {
                let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
                map.iter()
                    .position(|(i, _)| *i == self.id)
                    .map(|at| map.swap_remove(at))
            };
            // The idle connections are dropped outside the lock.
            drop(entry);
        }
    }
}
