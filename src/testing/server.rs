//! The fake's HTTP side: a small hyper 1 server on 127.0.0.1 and a Unix
//! socket. Each request is recorded, offered to the wiremock server first
//! (the user's raw mocks win), then to the injected faults, then to the
//! engine.

use super::engine::{error, Reply, Req, Shared};
use super::requests::ReceivedRequest;
use super::script::FaultKind;
use crate::operations::{Method, OPERATIONS};
use crate::ApiVersion;
use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

/// The header the wiremock catch-all answers with: "not mocked, the fake
/// handles it".
pub(crate) const UNMOCKED: &str = "x-dockhand-fake-unmocked";

/// The largest request body the fake reads (image loads and archives are
/// not its business).
const MAX_BODY: usize = 64 << 20;

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// Path parameters by name.
type Params = Vec<(&'static str, String)>;

pub(crate) struct Ctx {
    pub shared: Arc<Shared>,
    pub mock_addr: SocketAddr,
}

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|e| match e {}).boxed_unsync()
}

/// Serves one accepted connection (TCP or Unix), upgrades allowed.
pub(crate) async fn serve_connection<IO>(io: IO, ctx: Arc<Ctx>)
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req| {
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(handle(ctx, req).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), svc)
        .with_upgrades()
        .await;
}

fn method_of(m: &Method) -> http::Method {
    match m {
        Method::Get => http::Method::GET,
        Method::Post => http::Method::POST,
        Method::Put => http::Method::PUT,
        Method::Delete => http::Method::DELETE,
        Method::Head => http::Method::HEAD,
    }
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn decode_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
}

/// Matches template segments against path segments; a parameter may span
/// several segments (image names contain `/`).
fn match_segments(tpl: &[&'static str], path: &[String], out: &mut Params) -> bool {
    match tpl.split_first() {
        None => path.is_empty(),
        Some((t, rest)) => {
            if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                for k in 1..=path.len().saturating_sub(rest.len()) {
                    let mark = out.len();
                    out.push((name, path[..k].join("/")));
                    if match_segments(rest, &path[k..], out) {
                        return true;
                    }
                    out.truncate(mark);
                }
                false
            } else {
                match path.split_first() {
                    Some((p, prest)) if p == t => match_segments(rest, prest, out),
                    _ => false,
                }
            }
        }
    }
}

/// The operation a method and (unversioned) path are, with its path
/// parameters; the template with the most literal segments wins.
pub(crate) fn route(method: &http::Method, path: &str) -> Option<(&'static str, Params)> {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(decode)
        .collect();
    // No operation has more than a few segments; image names a few more.
    if segs.len() > 64 {
        return None;
    }
    let mut best: Option<(usize, &'static str, Params)> = None;
    for op in OPERATIONS {
        if method_of(&op.method) != *method {
            continue;
        }
        let tpl: Vec<&'static str> = op.path.split('/').filter(|s| !s.is_empty()).collect();
        let mut params = Vec::new();
        if match_segments(&tpl, &segs, &mut params) {
            let literals = tpl.iter().filter(|t| !t.starts_with('{')).count();
            if best.as_ref().is_none_or(|(l, _, _)| literals > *l) {
                best = Some((literals, op.id, params));
            }
        }
    }
    best.map(|(_, id, params)| (id, params))
}

/// `/v1.41/containers/json` → (1.41, `/containers/json`).
fn split_version(path: &str) -> (Option<Result<ApiVersion, String>>, &str) {
    if let Some(rest) = path.strip_prefix("/v") {
        let (v, tail) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if v.starts_with(|c: char| c.is_ascii_digit()) {
            return (
                Some(v.parse::<ApiVersion>().map_err(|_| v.to_string())),
                tail,
            );
        }
    }
    (None, path)
}

fn daemon_headers(shared: &Shared, resp: &mut Response<Body>) {
    let id = &shared.identity;
    let h = resp.headers_mut();
    let mut put = |k: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    put("api-version", id.api_version.to_string());
    put("docker-experimental", "false".into());
    put("ostype", id.os.clone());
    put(
        "server",
        format!("Docker/{} ({})", id.engine_version, id.os),
    );
}

fn to_response(reply: Reply, cut: Option<usize>) -> (Response<Body>, Option<UpgradeTask>) {
    let mut upgrade = None;
    let (status, headers, body): (StatusCode, Vec<(&'static str, String)>, Body) = match reply {
        Reply::Full {
            status,
            headers,
            body,
        } => {
            let b = match cut {
                Some(n) => cut_body(futures::stream::iter([body]).boxed(), n),
                None => full(body),
            };
            (status, headers, b)
        }
        Reply::Stream {
            status,
            headers,
            rx,
        } => {
            let stream =
                futures::stream::unfold(
                    rx,
                    |mut rx| async move { rx.recv().await.map(|b| (b, rx)) },
                )
                .boxed();
            let b = match cut {
                Some(n) => cut_body(stream, n),
                None => BodyExt::boxed_unsync(StreamBody::new(stream.map(|b| Ok(Frame::data(b))))),
            };
            (status, headers, b)
        }
        Reply::Upgrade { headers, task } => {
            upgrade = Some(task);
            (StatusCode::SWITCHING_PROTOCOLS, headers, full(Bytes::new()))
        }
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            resp.headers_mut().insert(k, v);
        }
    }
    (resp, upgrade)
}

type UpgradeTask =
    Box<dyn FnOnce(hyper::upgrade::Upgraded) -> futures::future::BoxFuture<'static, ()> + Send>;

/// The first `limit` bytes of a body, then an error: hyper drops the
/// connection without ending the chunked body.
fn cut_body(stream: futures::stream::BoxStream<'static, Bytes>, limit: usize) -> Body {
    let s = futures::stream::unfold(
        (stream, limit, false),
        |(mut stream, left, done)| async move {
            if done {
                return None;
            }
            if left == 0 {
                return Some((
                    Err(std::io::Error::other(
                        "dockhand fake: stream cut (injected fault)",
                    )),
                    (stream, 0, true),
                ));
            }
            match stream.next().await {
                Some(mut b) => {
                    if b.len() > left {
                        b.truncate(left);
                    }
                    let left = left - b.len();
                    Some((Ok(Frame::data(b)), (stream, left, false)))
                }
                None => Some((
                    Err(std::io::Error::other(
                        "dockhand fake: stream cut (injected fault)",
                    )),
                    (stream, 0, true),
                )),
            }
        },
    );
    BodyExt::boxed_unsync(StreamBody::new(s))
}

async fn handle(ctx: Arc<Ctx>, mut req: Request<Incoming>) -> Response<Body> {
    let on_upgrade = hyper::upgrade::on(&mut req);
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            let (mut resp, _) = to_response(
                error(
                    StatusCode::BAD_REQUEST,
                    format!("dockhand fake: reading the request body: {e}"),
                ),
                None,
            );
            daemon_headers(&ctx.shared, &mut resp);
            return resp;
        }
    };
    let full_path = parts.uri.path().to_string();
    let (version, path) = split_version(&full_path);
    let path = path.to_string();
    let query = decode_query(parts.uri.query().unwrap_or(""));
    let routed = route(&parts.method, &path);
    let parsed_version = version.as_ref().and_then(|v| v.as_ref().ok().copied());
    lock(&ctx.shared.requests).push(ReceivedRequest {
        method: parts.method.clone(),
        path: decode(&path),
        api_version: parsed_version,
        operation: routed.as_ref().map(|(id, _)| *id),
        query: query.clone(),
        headers: parts.headers.clone(),
        body: body.clone(),
    });

    if let Some(resp) = forward_to_mock(&ctx, &parts, body.clone()).await {
        return resp;
    }

    let shared = &ctx.shared;
    let id = &shared.identity;
    let reply_version = match version {
        None => id.api_version,
        Some(Err(_)) => {
            let (mut resp, _) = to_response(error(StatusCode::NOT_FOUND, "page not found"), None);
            resp.headers_mut().remove("api-version");
            return resp;
        }
        Some(Ok(v)) if v > id.api_version => {
            let (mut resp, _) = to_response(
                error(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "client version {v} is too new. Maximum supported API version is {}",
                        id.api_version
                    ),
                ),
                None,
            );
            daemon_headers(shared, &mut resp);
            return resp;
        }
        Some(Ok(v)) if v < id.min_api_version => {
            let mut resp = Response::new(full(format!(
                "client version {v} is too old. Minimum supported API version is {}, please upgrade your client to a newer version\n",
                id.min_api_version
            )));
            *resp.status_mut() = StatusCode::BAD_REQUEST;
            resp.headers_mut().insert(
                "content-type",
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            daemon_headers(shared, &mut resp);
            return resp;
        }
        Some(Ok(v)) => v,
    };
    let Some((op, params)) = routed else {
        let (resp, _) = to_response(error(StatusCode::NOT_FOUND, "page not found"), None);
        return resp;
    };

    let mut cut = None;
    while let Some(fault) = shared.take_fault(op, &decode(&path)) {
        match fault {
            FaultKind::Delay(d) => tokio::time::sleep(d).await,
            FaultKind::CutAfter(n) => {
                cut = Some(n);
                break;
            }
            FaultKind::Status(status, message) => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let (mut resp, _) = to_response(error(status, message), None);
                daemon_headers(shared, &mut resp);
                return resp;
            }
        }
    }

    let reply = shared
        .handle(Req {
            op,
            params,
            query,
            body,
            headers: parts.headers.clone(),
            version: reply_version,
            upgrade: true,
        })
        .await;
    let (mut resp, upgrade) = to_response(reply, cut);
    daemon_headers(shared, &mut resp);
    if let Some(task) = upgrade {
        super::engine::spawn_until(shared.shutdown.clone(), async move {
            if let Ok(upgraded) = on_upgrade.await {
                task(upgraded).await;
            }
        });
    }
    resp
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Offers the request to the wiremock server: its answer, unless it is the
/// catch-all's "not mocked".
async fn forward_to_mock(
    ctx: &Ctx,
    parts: &http::request::Parts,
    body: Bytes,
) -> Option<Response<Body>> {
    let stream = tokio::net::TcpStream::connect(ctx.mock_addr).await.ok()?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    super::engine::spawn_until(ctx.shared.shutdown.clone(), async move {
        let _ = conn.await;
    });
    let uri = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let mut b = Request::builder().method(parts.method.clone()).uri(uri);
    for (k, v) in &parts.headers {
        let hop = [
            http::header::CONNECTION,
            http::header::UPGRADE,
            http::header::TRANSFER_ENCODING,
            http::header::CONTENT_LENGTH,
            http::header::HOST,
        ];
        if !hop.contains(k) {
            b = b.header(k, v);
        }
    }
    b = b.header(http::header::HOST, ctx.mock_addr.to_string());
    let req = b.body(Full::new(body)).ok()?;
    let resp = sender.send_request(req).await.ok()?;
    if resp.headers().contains_key(UNMOCKED) {
        return None;
    }
    let (p, body) = resp.into_parts();
    let bytes = body.collect().await.ok()?.to_bytes();
    Some(Response::from_parts(p, full(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_most_literal_template() {
        let (op, p) = route(&http::Method::GET, "/containers/json").unwrap();
        assert_eq!(op, "ContainerList");
        assert!(p.is_empty());
        let (op, p) = route(&http::Method::GET, "/containers/web/json").unwrap();
        assert_eq!(op, "ContainerInspect");
        assert_eq!(p, vec![("id", "web".to_string())]);
        let (op, p) = route(&http::Method::GET, "/images/127.0.0.1:5000/team/app:1/json").unwrap();
        assert_eq!(op, "ImageInspect");
        assert_eq!(p, vec![("name", "127.0.0.1:5000/team/app:1".to_string())]);
        let (op, _) = route(&http::Method::POST, "/networks/create").unwrap();
        assert_eq!(op, "NetworkCreate");
        assert!(route(&http::Method::GET, "/nothing/here").is_none());
    }

    #[test]
    fn splits_version_prefix() {
        let (v, p) = split_version("/v1.41/containers/json");
        assert_eq!(v, Some(Ok(ApiVersion::new(1, 41))));
        assert_eq!(p, "/containers/json");
        let (v, p) = split_version("/volumes/x");
        assert!(v.is_none());
        assert_eq!(p, "/volumes/x");
    }
}
