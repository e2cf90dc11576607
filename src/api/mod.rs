//! One handle per API group, each a cheap view of the [`crate::Docker`] client.
//!
//! Required arguments are positional; optional ones come in the generated
//! `…Options` structs of [`crate::operations`] (all `Default`, with setters).

mod configs;
mod containers;
mod cp;
mod distribution;
mod exec;
mod images;
mod networks;
mod nodes;
mod plugins;
mod secrets;
mod services;
mod session;
mod swarm;
mod system;
mod tasks;
mod volumes;

pub use configs::Configs;
pub use containers::{Archive, Containers, PathStat};
pub use distribution::Distribution;
pub use exec::Exec;
pub use images::Images;
pub use networks::Networks;
pub use nodes::Nodes;
pub use plugins::Plugins;
pub use secrets::Secrets;
pub use services::Services;
pub use session::{Session, SessionOptions};
pub use swarm::Swarm;
pub use system::System;
pub use tasks::Tasks;
pub use volumes::Volumes;

/// Whether process output (logs, attach) is stdcopy-framed: the Content-Type
/// says so from API 1.42 on; older daemons send none (logs) or always say
/// `raw-stream` (attach), and then output without a TTY is framed and output
/// with one is not. `tty` is asked only when the headers do not tell.
pub(crate) async fn output_format(
    docker: &crate::Docker,
    headers: &http::HeaderMap,
    tty: impl std::future::Future<Output = crate::Result<bool>>,
) -> crate::Result<bool> {
    if docker.api_version().await? >= crate::ApiVersion::new(1, 42) {
        if let Some(m) = crate::stream::attach::multiplexed_from_headers(headers) {
            return Ok(m);
        }
    }
    Ok(!tty.await?)
}

/// A response whose body is a JSON message stream of a type that carries
/// the in-band error fields (pull, push, build and load progress): each
/// message's error is read from its decoded value.
pub(crate) fn progress_stream<T: crate::stream::json::CarriesInBandError>(
    operation: &'static str,
    resp: http::Response<crate::transport::ResponseBody>,
) -> crate::stream::JsonStream<crate::stream::ByteStream, T> {
    crate::stream::json::carrying_errors(
        operation,
        crate::stream::ByteStream::new(operation, resp.into_body()),
    )
}

/// A response whose body is a JSON message stream (events, stats): each
/// message is searched for an in-band error before it is decoded.
pub(crate) fn json_stream<T>(
    operation: &'static str,
    resp: http::Response<crate::transport::ResponseBody>,
) -> crate::stream::JsonStream<crate::stream::ByteStream, T> {
    crate::stream::JsonStream::new(
        operation,
        crate::stream::ByteStream::new(operation, resp.into_body()),
    )
}

/// A response whose body is process output (logs), typed by the format
/// [`output_format`] finds; `tty` is asked only when the headers do not tell.
pub(crate) async fn log_stream(
    docker: &crate::Docker,
    operation: &'static str,
    resp: http::Response<crate::transport::ResponseBody>,
    tty: impl std::future::Future<Output = crate::Result<bool>>,
) -> crate::Result<crate::stream::LogStream<crate::stream::ByteStream>> {
    let multiplexed = output_format(docker, resp.headers(), tty).await?;
    Ok(crate::stream::LogStream::new(
        operation,
        crate::stream::ByteStream::new(operation, resp.into_body()),
        multiplexed,
    ))
}

/// `credentials` and `anonymous` setters on the options of every operation
/// that talks to a registry: what they set is sent as `X-Registry-Auth`
/// instead of the credentials `config.json` gives for the registry.
macro_rules! registry_credentials {
    ($($t:ident),*) => {$(
        impl crate::operations::$t {
            /// Sends these credentials to the registry, whatever
            /// `config.json` has (they are never printed).
            ///
            /// ```
            /// use dockhand::auth::AuthConfig;
            #[doc = concat!("let opts = dockhand::operations::", stringify!($t), "::default()")]
            ///     .credentials(&AuthConfig { username: Some("me".into()), password: Some("pw".into()), ..Default::default() });
            /// assert!(!format!("{opts:?}").contains("pw"));
            /// ```
            #[must_use]
            pub fn credentials(mut self, credentials: &crate::auth::AuthConfig) -> Self {
                self.x_registry_auth = Some(crate::auth::header_of(Some(credentials)));
                self
            }

            /// Sends no credentials (anonymous), whatever `config.json` has.
            #[must_use]
            pub fn anonymous(mut self) -> Self {
                self.x_registry_auth = Some(crate::auth::header_of(None));
                self
            }
        }
    )*};
}

registry_credentials!(
    ImageCreateOptions,
    ImagePushOptions,
    DistributionInspectOptions,
    PluginPullOptions,
    PluginUpgradeOptions,
    PluginPushOptions,
    ServiceCreateOptions,
    ServiceUpdateOptions
);
