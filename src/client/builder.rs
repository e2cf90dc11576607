//! [`DockerBuilder`]: a client with settings other than the environment's.

use super::{Docker, Inner};
use crate::config::Config;
use crate::transport::{Transport, TransportOptions};
use crate::{ApiVersion, Error, Result};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// Builds a [`Docker`] with non-default settings.
///
/// ```no_run
/// # async fn f() -> dockhand::Result<()> {
/// use std::time::Duration;
/// let docker = dockhand::Docker::builder()
///     .host("unix:///var/run/docker.sock")
///     .api_version(dockhand::ApiVersion::new(1, 41))
///     .connect_timeout(Duration::from_secs(5))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Default)]
#[must_use]
pub struct DockerBuilder {
    host: Option<String>,
    config: Option<Config>,
    api_version: Option<ApiVersion>,
    connect_timeout: Option<Duration>,
    response_header_timeout: Option<Option<Duration>>,
    request_timeout: Option<Duration>,
    max_response_body: Option<usize>,
    user_agent: Option<String>,
    headers: Vec<(String, String)>,
    no_platform_check: bool,
}

/// Header values are left out: they may be credentials (`Authorization`).
impl std::fmt::Debug for DockerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerBuilder")
            .field("host", &self.host)
            .field("config", &self.config)
            .field("api_version", &self.api_version)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_header_timeout", &self.response_header_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("max_response_body", &self.max_response_body)
            .field("user_agent", &self.user_agent)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl DockerBuilder {
    /// Talk to this host (`unix://`, `tcp://`, `http://`, `https://`,
    /// `npipe://`, `ssh://`) instead of what the environment says.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// Use an already resolved configuration.
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self
    }

    /// Use this API version for every request, without negotiating.
    pub fn api_version(mut self, version: ApiVersion) -> Self {
        self.api_version = Some(version);
        self
    }

    /// How long connecting may take (default 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long to wait for response headers once a request is sent, for
    /// operations that answer at once (default 60 s; `None`: as long as the
    /// daemon takes). Streams, upgrades, uploads and operations that wait for
    /// something (`wait`, `stop`, prunes…) are never cut by it; see
    /// [`crate::transport::answers_at_once`].
    pub fn response_header_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.response_header_timeout = Some(timeout.into());
        self
    }

    /// A deadline for the whole of each request that answers at once
    /// (connecting, sending, headers and body; default none). Never applied
    /// to streams, upgrades, uploads or operations that wait for something.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// The most a buffered (non-streaming) response body may hold, in bytes
    /// (default 256 MiB, enough for a list of 50,000 containers); a larger one
    /// is `Error::ResponseTooLarge`. Streams are capped per message instead.
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.max_response_body = Some(bytes);
        self
    }

    /// The `User-Agent` header (default `dockhand/<version>`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// A header sent with every request (like the CLI's `HttpHeaders` setting).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Whether requests are checked against the daemon's platform before
    /// sending (default `true`): a body field, parameter or operation the
    /// specification says the daemon's OS does not have is refused with
    /// [`Error::UnsupportedOnPlatform`], and fields it ignores are logged as
    /// warnings. `false` sends everything as it is.
    pub fn platform_check(mut self, check: bool) -> Self {
        self.no_platform_check = !check;
        self
    }

    /// Resolves the configuration (explicit host, else the environment as the
    /// docker CLI reads it) and creates the client. No connection is made yet.
    pub fn build(self) -> Result<Docker> {
        let mut config = match (self.config, &self.host) {
            (Some(c), _) => c,
            (None, Some(h)) => Config::for_host(h)?,
            (None, None) => Config::from_env()?,
        };
        if let Some(v) = self.api_version {
            config.api_version = Some(v);
        }
        let defaults = TransportOptions::default();
        let options = TransportOptions {
            connect_timeout: self.connect_timeout.unwrap_or(defaults.connect_timeout),
            response_header_timeout: self
                .response_header_timeout
                .unwrap_or(defaults.response_header_timeout),
            request_timeout: self.request_timeout,
            max_response_body: self.max_response_body.unwrap_or(defaults.max_response_body),
        };
        let ua = self
            .user_agent
            .unwrap_or_else(|| format!("dockhand/{}", env!("CARGO_PKG_VERSION")));
        let user_agent = http::HeaderValue::from_str(&ua)
            .map_err(|_| Error::config(format!("user agent {ua:?} is not a valid header value")))?;
        let mut headers = http::HeaderMap::new();
        for (name, value) in self.headers {
            let n = http::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::config(format!("header name {name:?} is invalid")))?;
            let v = http::HeaderValue::from_str(&value)
                .map_err(|_| Error::config(format!("header {name}: value is invalid")))?;
            headers.append(n, v);
        }
        let transport = Transport::new(&config, options)?.with_common_headers(user_agent, headers);
        Ok(Docker {
            inner: Arc::new(Inner {
                transport,
                fixed_version: config.api_version,
                negotiated: OnceCell::new(),
                platform_check: !self.no_platform_check,
                ttys: Default::default(),
            }),
        })
    }
}
