//! API version negotiation: one ping, whatever the number of tasks asking,
//! whose headers say the daemon's API version, OS and features.

use super::dispatch::read_error_body;
use super::Docker;
use crate::transport;
use crate::{ApiVersion, Error, Result};

/// What the daemon said about itself when the client first talked to it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DaemonInfo {
    /// The API version in use for every request: the lower of the daemon's
    /// (`Api-Version` header) and [`ApiVersion::NEWEST`], or the fixed version.
    pub api_version: ApiVersion,
    /// The daemon's newest API version, when it sent one.
    pub daemon_api_version: Option<ApiVersion>,
    /// `Ostype` header (`linux`, `windows`): what requests are checked
    /// against before sending (see [`Docker::platform`]).
    pub os_type: Option<String>,
    /// `Docker-Experimental` header.
    pub experimental: bool,
    /// `Builder-Version` header (`1` classic, `2` BuildKit); `None` when the
    /// daemon sends none or an empty one (Podman).
    pub builder_version: Option<String>,
    /// `Swarm` header (`inactive`, `active/manager`, …), from API 1.39.
    pub swarm: Option<String>,
}

/// The API version the docker CLI assumes when a ping carries no `Api-Version`.
const FALLBACK_API_VERSION: ApiVersion = ApiVersion::new(1, 24);

impl Docker {
    pub(super) async fn ping_for_info(&self) -> Result<DaemonInfo> {
        // HEAD first (cheap), GET when the daemon does not route HEAD /_ping
        // (before API 1.40). Headers are read whatever the status: a daemon
        // that is starting up answers 500 with its version headers.
        let mut last_err = None;
        for method in [http::Method::HEAD, http::Method::GET] {
            let req = http::Request::builder()
                .method(method.clone())
                .uri("/_ping")
                .body(transport::empty_body())
                .map_err(|e| Error::protocol(format!("ping request: {e}")))?;
            let op = Some(&crate::operations::SYSTEM_PING);
            match self.send_raw(req, op, false).await {
                Ok(resp) => {
                    let status = resp.status();
                    let info = self.info_from_headers(resp.headers())?;
                    if method == http::Method::HEAD
                        && (status == http::StatusCode::NOT_FOUND
                            || status == http::StatusCode::METHOD_NOT_ALLOWED)
                        && info.daemon_api_version.is_none()
                    {
                        continue;
                    }
                    if !status.is_success() && info.daemon_api_version.is_none() {
                        let body = read_error_body(resp.into_body()).await;
                        return Err(Error::Api {
                            status: status.as_u16(),
                            message: body,
                            operation: "SystemPing",
                        });
                    }
                    return Ok(info);
                }
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| Error::protocol("ping failed")))
    }

    fn info_from_headers(&self, h: &http::HeaderMap) -> Result<DaemonInfo> {
        // An empty header says nothing: Podman sends `Builder-Version:` and
        // `Buildkit-Version:` with no value (it has no builder of its own).
        let text = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let daemon_api_version = match text("Api-Version") {
            Some(v) => Some(v.parse::<ApiVersion>().map_err(|e| Error::Protocol {
                message: format!("daemon sent an invalid Api-Version header {v:?}"),
                source: Some(Box::new(e)),
            })?),
            None => None,
        };
        let api_version = match (self.inner.fixed_version, daemon_api_version) {
            (Some(fixed), _) => fixed,
            (None, Some(d)) => d.min(ApiVersion::NEWEST),
            (None, None) => FALLBACK_API_VERSION,
        };
        Ok(DaemonInfo {
            api_version,
            daemon_api_version,
            os_type: text("Ostype"),
            experimental: text("Docker-Experimental").as_deref() == Some("true"),
            builder_version: text("Builder-Version"),
            swarm: text("Swarm"),
        })
    }
}
