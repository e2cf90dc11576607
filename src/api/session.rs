//! Session: the long-lived connection BuildKit uses to ask the client for
//! files, secrets and credentials during a build.

use super::containers::upgrade_headers;
use crate::operations as ops;
use crate::stream::RawConnection;
use crate::{Docker, Error, Result};

/// Interactive session operations: `docker.session()`.
#[derive(Debug, Clone)]
pub struct Session {
    docker: Docker,
}

/// Who the session is and which gRPC methods the client serves on it
/// (the `X-Docker-Expose-Session-*` headers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionOptions {
    /// The session's unique id (`X-Docker-Expose-Session-Uuid`).
    pub uuid: String,
    /// A name for it (`X-Docker-Expose-Session-Name`).
    pub name: String,
    /// A key shared by the sessions of one client directory (`X-Docker-Expose-Session-Sharedkey`).
    pub shared_key: String,
    /// gRPC method paths the client serves (`X-Docker-Expose-Session-Grpc-Method`, repeated).
    pub grpc_methods: Vec<String>,
}

impl SessionOptions {
    /// Options for a session with this id.
    pub fn new(uuid: impl Into<String>) -> Self {
        SessionOptions {
            uuid: uuid.into(),
            ..Default::default()
        }
    }

    /// Sets the name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the shared key.
    #[must_use]
    pub fn shared_key(mut self, key: impl Into<String>) -> Self {
        self.shared_key = key.into();
        self
    }

    /// Adds a gRPC method the client serves.
    #[must_use]
    pub fn grpc_method(mut self, method: impl Into<String>) -> Self {
        self.grpc_methods.push(method.into());
        self
    }
}

impl Docker {
    /// Interactive session operations.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::api::SessionOptions;
    /// let conn = docker.session().start(&SessionOptions::new("b1f4…")).await?;
    /// # Ok(()) }
    /// ```
    pub fn session(&self) -> Session {
        Session {
            docker: self.clone(),
        }
    }
}

impl Session {
    /// Opens a session: the connection is upgraded (`Upgrade: h2c`) and the
    /// daemon then speaks HTTP/2 gRPC over it, as a client of the methods the
    /// options list. Serving them is the caller's part.
    ///
    /// ```no_run
    /// # async fn f(docker: dockhand::Docker) -> dockhand::Result<()> {
    /// use dockhand::api::SessionOptions;
    /// let opts = SessionOptions::new("b1f4…").name("build").grpc_method("/moby.filesync.v1.FileSync/DiffCopy");
    /// let conn = docker.session().start(&opts).await?;
    /// # Ok(()) }
    /// ```
    pub async fn start(&self, options: &SessionOptions) -> Result<RawConnection> {
        let mut headers = upgrade_headers("h2c");
        let mut add = |name: &'static str, value: &str| -> Result<()> {
            let v = http::HeaderValue::from_str(value).map_err(|_| Error::InvalidArgument {
                name: "session",
                message: format!("{name} value {value:?} is not a valid header value"),
            })?;
            headers.push((http::HeaderName::from_static(name), v));
            Ok(())
        };
        if options.uuid.is_empty() {
            return Err(Error::InvalidArgument {
                name: "session",
                message: "the session uuid is empty".into(),
            });
        }
        add("x-docker-expose-session-uuid", &options.uuid)?;
        add("x-docker-expose-session-name", &options.name)?;
        add("x-docker-expose-session-sharedkey", &options.shared_key)?;
        for m in &options.grpc_methods {
            add("x-docker-expose-session-grpc-method", m)?;
        }
        self.docker
            .upgrade(&ops::SESSION, &[], |_| {}, None, &headers)
            .await
    }
}
