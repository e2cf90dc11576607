//! A C ABI over dockhand, generic over the operation table: any scripting
//! host (C, Python through ctypes, PowerShell through P/Invoke) calls every
//! operation by its id with JSON parameters and gets JSON or bytes back.
//!
//! Conventions (the generated header `include/dockhand.h` repeats them):
//! - Text crosses the boundary as UTF-8 with an explicit length, never
//!   NUL-terminated; a null pointer with length 0 is an empty input.
//! - Every buffer the library returns (`out`, `out_len`) was allocated by it
//!   and is released with [`dh_buf_free`]; a client with [`dh_client_free`],
//!   a stream with [`dh_stream_free`].
//! - Functions return [`DH_OK`], or [`DH_ERROR`] with an error JSON
//!   `{"kind", "status", "message", "operation", …}` in `out`; [`DH_END`] and
//!   [`DH_TIMEOUT`] come from [`dh_stream_next`]; [`DH_BAD_POINTER`] when a
//!   required pointer was null (nothing is written then).
//! - No panic crosses the boundary: one is caught and returned as an error
//!   of kind `panic`.
//! - One tokio multi-thread runtime, owned by the library, serves every
//!   client; a client is thread-safe (several host threads may call with
//!   the same handle at once).

use bytes::Bytes;
use dockhand::auth::ConfigFile;
use dockhand::config::{Config, TlsConfig};
use dockhand::operations::{BodyKind, Operation, ParamLocation, ResponseKind, OPERATIONS};
use dockhand::stream::LogOutput;
use dockhand::{ApiVersion, Docker, Error};
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use serde_json::{json, Map, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Success; `out` (if any) holds the answer.
pub const DH_OK: i32 = 0;
/// Failure; `out` holds an error JSON object.
pub const DH_ERROR: i32 = 1;
/// [`dh_stream_next`]: the stream ended; nothing was written to `out`.
pub const DH_END: i32 = 2;
/// [`dh_stream_next`]: nothing arrived within the timeout; nothing was written.
pub const DH_TIMEOUT: i32 = 3;
/// A required pointer argument was null; nothing was written.
pub const DH_BAD_POINTER: i32 = 4;

/// Stream item: one JSON message (progress, event, stats sample).
pub const DH_ITEM_JSON: i32 = 0;
/// Stream item: bytes the process wrote to stdout.
pub const DH_ITEM_STDOUT: i32 = 1;
/// Stream item: bytes the process wrote to stderr.
pub const DH_ITEM_STDERR: i32 = 2;
/// Stream item: bytes echoed from stdin.
pub const DH_ITEM_STDIN: i32 = 3;
/// Stream item: raw bytes of a TTY (stdout and stderr not told apart).
pub const DH_ITEM_CONSOLE: i32 = 4;
/// Stream item: a chunk of a byte body (an archive, plain text).
pub const DH_ITEM_BYTES: i32 = 5;

/// A client: a dockhand `Docker` (cheap to share, thread-safe).
pub struct DhClient {
    docker: Docker,
}

/// An open stream: items are pumped by a task of the library's runtime into
/// a bounded channel the host reads with [`dh_stream_next`].
pub struct DhStream {
    rx: Mutex<mpsc::Receiver<Item>>,
    task: tokio::task::AbortHandle,
    cancelled: AtomicBool,
    operation: &'static str,
    /// Interrupts a stdin write blocked at the moment of a cancel.
    cancel: CancellationToken,
    /// The stdin side of an attach or exec connection (`None` inside once
    /// closed; shared with the task that drops it on a cancel).
    writer: Option<Arc<Writer>>,
    /// What [`dh_stream_resize`] resizes: the container of an attach, the
    /// exec of an exec start (`None` for other streams).
    tty: Option<TtyTarget>,
}

/// The TTY behind an attach or exec stream.
struct TtyTarget {
    docker: Docker,
    /// `ContainerResize` or `ExecResize`.
    resize: &'static Operation,
    /// The container (attach) or exec (exec start) id.
    id: String,
    /// Whether the stream was opened with a TTY; resizing one without is refused.
    tty: bool,
}

type Writer = tokio::sync::Mutex<Option<tokio::io::WriteHalf<dockhand::stream::RawConnection>>>;

enum Item {
    Data(i32, Vec<u8>),
    Error(Value),
}

// ---------------------------------------------------------------------------
// Runtime, buffers, errors.

fn runtime() -> Result<&'static Runtime, Value> {
    static RT: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("dockhand-native")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| {
        plain_error(
            "config",
            None,
            &format!("cannot start the library's runtime: {e}"),
        )
    })
}

fn plain_error(kind: &str, operation: Option<&str>, message: &str) -> Value {
    json!({"kind": kind, "status": null, "message": message, "operation": operation})
}

fn invalid(operation: Option<&str>, message: &str) -> Value {
    plain_error("invalid_argument", operation, message)
}

/// The error JSON of a dockhand error: its kind, HTTP status (daemon
/// errors), message with its causes, the operation, and per-kind facts.
pub fn error_json(e: &Error, operation: Option<&str>) -> Value {
    let mut extra = Map::new();
    let kind = match e {
        Error::Config { .. } => "config",
        Error::Connect { .. } => "connect",
        Error::NotSent { .. } => "not_sent",
        Error::Interrupted { idempotent, .. } => {
            extra.insert("idempotent".into(), json!(idempotent));
            "interrupted"
        }
        Error::Timeout { during, .. } => {
            extra.insert("during".into(), json!(during));
            "timeout"
        }
        Error::ResponseTooLarge { limit, .. } => {
            extra.insert("limit".into(), json!(limit));
            "response_too_large"
        }
        Error::Api { .. } if e.is_unknown_endpoint() => "unknown_endpoint",
        Error::Api { .. } if e.is_not_found() => "not_found",
        Error::Api { .. } if e.is_conflict() => "conflict",
        Error::Api { .. } => "api",
        Error::Decode { path, .. } => {
            extra.insert("path".into(), json!(path));
            "decode"
        }
        Error::Protocol { .. } => "protocol",
        Error::UnsupportedByVersion {
            what,
            needs,
            negotiated,
        } => {
            extra.insert("what".into(), json!(what));
            extra.insert("needs".into(), json!(needs.to_string()));
            extra.insert("negotiated".into(), json!(negotiated.to_string()));
            "unsupported_by_version"
        }
        Error::InvalidArgument { name, .. } => {
            extra.insert("argument".into(), json!(name));
            "invalid_argument"
        }
        Error::UnsupportedOnPlatform {
            what,
            platform,
            daemon_os,
        } => {
            extra.insert("what".into(), json!(what));
            extra.insert("platform".into(), json!(platform));
            extra.insert("daemon_os".into(), json!(daemon_os));
            "unsupported_on_platform"
        }
        Error::UnsafeArchiveEntry { .. } => "unsafe_archive_entry",
        Error::Io { .. } => "io",
        // Not reachable through the generic call today (BuildKit builds need
        // the session, which the library does not serve), kept so a future
        // entry point reports it by its own kind.
        Error::BuildFailed { step, log, .. } => {
            extra.insert("step".into(), json!(step));
            extra.insert("log".into(), json!(log));
            "build_failed"
        }
        _ => "other",
    };
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    let operation = match e {
        Error::NotSent { operation, .. }
        | Error::Interrupted { operation, .. }
        | Error::ResponseTooLarge { operation, .. }
        | Error::Api { operation, .. }
        | Error::Decode { operation, .. } => Some(*operation),
        _ => None,
    }
    .or(operation);
    let mut v = Map::new();
    v.insert("kind".into(), json!(kind));
    v.insert("status".into(), json!(e.status()));
    v.insert("message".into(), json!(message));
    v.insert("operation".into(), json!(operation));
    v.insert("retryable".into(), json!(e.is_retryable()));
    v.extend(extra);
    Value::Object(v)
}

fn into_buf(bytes: Vec<u8>) -> (*mut u8, usize) {
    if bytes.is_empty() {
        return (std::ptr::null_mut(), 0);
    }
    let b: Box<[u8]> = bytes.into_boxed_slice();
    let len = b.len();
    (Box::into_raw(b).cast::<u8>(), len)
}

/// Writes `bytes` as a library-owned buffer to `out`/`out_len`.
///
/// # Safety
/// Both pointers are non-null and writable (checked by the callers).
unsafe fn write_out(out: *mut *mut u8, out_len: *mut usize, bytes: Vec<u8>) {
    let (p, n) = into_buf(bytes);
    // SAFETY: the callers checked both pointers are non-null; the host
    // promises they point to writable storage of the right type.
    unsafe {
        *out = p;
        *out_len = n;
    }
}

/// The input bytes `(ptr, len)`; null with length 0 is empty.
///
/// # Safety
/// `ptr` is null or points to `len` readable bytes that stay valid during
/// the call.
unsafe fn input<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], Value> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(invalid(
                None,
                &format!("{what}: null pointer with length {len}"),
            ))
        };
    }
    // SAFETY: non-null, and the host promises `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

fn utf8<'a>(bytes: &'a [u8], what: &str) -> Result<&'a str, Value> {
    std::str::from_utf8(bytes).map_err(|e| {
        invalid(
            None,
            &format!("{what} is not UTF-8 (at byte {})", e.valid_up_to()),
        )
    })
}

// ---------------------------------------------------------------------------
// Panics.

/// Whether a panic caught at the boundary is also printed to stderr by the
/// previous panic hook (std's: "thread … panicked at …"). See
/// [`dh_set_panic_output`].
static PANIC_OUTPUT: AtomicBool = AtomicBool::new(true);

// The initializer is `const` already: clippy 1.96 (Debian's, which
// `scripts/windows.sh` runs) still reports it for x86_64-pc-windows-gnu,
// where std's `thread_local!` expands differently; Linux's clippy does not.
thread_local! {
    /// Where this thread's last panic happened (`file:line:column`), taken
    /// by the code that caught it.
    #[allow(clippy::missing_const_for_thread_local)]
    static PANIC_LOCATION: std::cell::Cell<Option<String>> = const { std::cell::Cell::new(None) };
}

/// Installs, once, the library's panic hook: it records where a panic
/// happened (for the error JSON) and passes it on to the hook that was
/// there before only while [`PANIC_OUTPUT`] is on. Built as a `cdylib` the
/// library has a std of its own, so this hook sees only its own panics.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(l) = info.location() {
                PANIC_LOCATION.with(|c| c.set(Some(l.to_string())));
            }
            if PANIC_OUTPUT.load(Ordering::SeqCst) {
                previous(info);
            }
        }));
    });
}

/// The error JSON of a caught panic: kind `panic`, its message and place.
fn panic_error(payload: &(dyn std::any::Any + Send), operation: Option<&str>) -> Value {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    let place = PANIC_LOCATION
        .with(std::cell::Cell::take)
        .map(|l| format!(" at {l}"))
        .unwrap_or_default();
    plain_error(
        "panic",
        operation,
        &format!("a panic was caught{place}: {what}"),
    )
}

/// Runs `f`, catching a panic; writes its answer or error to `out`. Every
/// exported function that can fail goes through here (or [`shielded`]):
/// no panic crosses the boundary.
///
/// # Safety
/// `out`/`out_len` are null or writable.
#[doc(hidden)]
pub unsafe fn guarded(
    out: *mut *mut u8,
    out_len: *mut usize,
    f: impl FnOnce() -> Result<Vec<u8>, Value>,
) -> i32 {
    if out.is_null() || out_len.is_null() {
        return DH_BAD_POINTER;
    }
    install_panic_hook();
    let result = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| Err(panic_error(&*p, None)));
    let (code, bytes) = match result {
        Ok(b) => (DH_OK, b),
        Err(e) => (DH_ERROR, e.to_string().into_bytes()),
    };
    // SAFETY: checked non-null above.
    unsafe { write_out(out, out_len, bytes) };
    code
}

/// Runs `f` for an exported function that answers nothing (free, cancel):
/// a panic is caught and dropped, never unwound into the host.
fn shielded(f: impl FnOnce()) {
    install_panic_hook();
    let _ = catch_unwind(AssertUnwindSafe(f));
}

/// Whether a panic caught inside the library is also printed to the
/// process's stderr (`enabled` non-zero, the default: Rust's usual
/// "thread … panicked at …" message) or not (`enabled` 0: for hosts such as
/// PowerShell whose stderr belongs to the user). Either way the panic comes
/// back as an error JSON of kind `panic` with its message and place, and
/// never crosses the boundary. Returns the previous setting (1 or 0).
/// Process-wide; may be called at any time from any thread.
#[no_mangle]
pub extern "C" fn dh_set_panic_output(enabled: i32) -> i32 {
    install_panic_hook();
    i32::from(PANIC_OUTPUT.swap(enabled != 0, Ordering::SeqCst))
}

/// Releases a buffer the library returned (`out`, `out_len`). Null is ignored.
///
/// # Safety
/// `ptr`/`len` are exactly a pair returned by this library, freed once.
#[no_mangle]
pub unsafe extern "C" fn dh_buf_free(ptr: *mut u8, len: usize) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: the pair came from `into_buf` (a boxed slice of `len` bytes)
    // and is freed only once, as documented.
    let b = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) };
    shielded(move || drop(b));
}

// ---------------------------------------------------------------------------
// The operation table.

/// The operation table as JSON: an array of `{id, group, method, path,
/// since, params: [{name, in, type, encoding, required, default, since}],
/// body, response}`.
pub fn operations_json() -> Value {
    Value::Array(OPERATIONS.iter().map(|op| operation_json(op)).collect())
}

fn operation_json(op: &Operation) -> Value {
    let params: Vec<Value> = op
        .params
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "in": match p.location {
                    ParamLocation::Path => "path",
                    ParamLocation::Query => "query",
                    ParamLocation::Header => "header",
                },
                "type": p.rust_type,
                "encoding": format!("{:?}", p.encoding).to_lowercase(),
                "required": p.required,
                "default": p.default,
                "since": p.since.to_string(),
            })
        })
        .collect();
    let body = match op.body {
        BodyKind::None => json!({"kind": "none"}),
        BodyKind::Json {
            rust_type,
            required,
        } => json!({"kind": "json", "type": rust_type, "required": required}),
        BodyKind::Bytes { content_type } => {
            json!({"kind": "bytes", "content_type": content_type})
        }
    };
    let response = match op.response {
        ResponseKind::Json { rust_type } => json!({"kind": "json", "type": rust_type}),
        ResponseKind::JsonStream { rust_type } => {
            json!({"kind": "json_stream", "type": rust_type})
        }
        ResponseKind::Multiplexed => json!({"kind": "output"}),
        ResponseKind::Binary { content_type } => {
            json!({"kind": "binary", "content_type": content_type})
        }
        ResponseKind::Text => json!({"kind": "text"}),
        ResponseKind::Hijack => json!({"kind": "hijack"}),
        ResponseKind::Websocket => json!({"kind": "websocket"}),
        ResponseKind::Empty => json!({"kind": "empty"}),
    };
    json!({
        "id": op.id,
        "group": op.group,
        "method": op.method.as_str(),
        "path": op.path,
        "since": op.since.to_string(),
        "params": params,
        "body": body,
        "response": response,
    })
}

/// The operation with this id, if the table has it.
pub fn find_operation(id: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().copied().find(|op| op.id == id)
}

/// Writes the operation table as JSON (see [`operations_json`]) to `out`.
///
/// # Safety
/// `out`/`out_len` are writable.
#[no_mangle]
pub unsafe extern "C" fn dh_operations(out: *mut *mut u8, out_len: *mut usize) -> i32 {
    // SAFETY: forwarded from the caller's contract.
    unsafe {
        guarded(out, out_len, || {
            Ok(operations_json().to_string().into_bytes())
        })
    }
}

// ---------------------------------------------------------------------------
// Clients.

fn client_from_options(options: &[u8]) -> Result<Docker, Value> {
    let opts: Value = if options.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(options)
            .map_err(|e| plain_error("config", None, &format!("options are not JSON: {e}")))?
    };
    let Value::Object(opts) = opts else {
        return Err(plain_error("config", None, "options must be a JSON object"));
    };
    let cfg_err = |m: String| plain_error("config", None, &m);
    let str_opt = |k: &str| -> Result<Option<String>, Value> {
        match opts.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(cfg_err(format!("options.{k} must be a string"))),
        }
    };
    let ms_opt = |k: &str| -> Result<Option<Duration>, Value> {
        match opts.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(|n| Some(Duration::from_millis(n)))
                .ok_or_else(|| cfg_err(format!("options.{k} must be a whole number of ms"))),
        }
    };
    const KNOWN: &[&str] = &[
        "host",
        "api_version",
        "tls",
        "connect_timeout_ms",
        "response_header_timeout_ms",
        "request_timeout_ms",
        "user_agent",
    ];
    if let Some(k) = opts.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(cfg_err(format!(
            "options.{k} is not an option (known: {})",
            KNOWN.join(", ")
        )));
    }
    let mut b = Docker::builder();
    let host = str_opt("host")?;
    if let Some(tls) = opts.get("tls").filter(|v| !v.is_null()) {
        let Value::Object(t) = tls else {
            return Err(cfg_err("options.tls must be an object".into()));
        };
        let path = |k: &str| -> Result<Option<std::path::PathBuf>, Value> {
            match t.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.into())),
                Some(_) => Err(cfg_err(format!("options.tls.{k} must be a path string"))),
            }
        };
        let verify = match t.get("verify") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(cfg_err("options.tls.verify must be a boolean".into())),
        };
        let mut cfg = match &host {
            Some(h) => Config::for_host(h),
            None => Config::from_env(),
        }
        .map_err(|e| error_json(&e, None))?;
        cfg.tls = Some(TlsConfig {
            ca: path("ca")?,
            cert: path("cert")?,
            key: path("key")?,
            verify,
        });
        b = b.config(cfg);
    } else if let Some(h) = host {
        b = b.host(h);
    }
    if let Some(v) = str_opt("api_version")? {
        let v: ApiVersion = v
            .trim_start_matches('v')
            .parse()
            .map_err(|e| cfg_err(format!("options.api_version {v:?}: {e}")))?;
        b = b.api_version(v);
    }
    if let Some(d) = ms_opt("connect_timeout_ms")? {
        b = b.connect_timeout(d);
    }
    if let Some(d) = ms_opt("response_header_timeout_ms")? {
        b = b.response_header_timeout(d);
    }
    if let Some(d) = ms_opt("request_timeout_ms")? {
        b = b.request_timeout(d);
    }
    if let Some(a) = str_opt("user_agent")? {
        b = b.user_agent(a);
    }
    let _enter = runtime()?.enter();
    b.build().map_err(|e| error_json(&e, None))
}

/// Creates a client. `options` is a JSON object (UTF-8, `options_len`
/// bytes; empty for none): `host` (`unix://…`, `tcp://…`, `npipe://…`,
/// `ssh://…`; default: the docker CLI configuration — `DOCKER_HOST`, the
/// current context, …), `api_version` (`"1.41"`; default: negotiated),
/// `tls` (`{ca, cert, key, verify}` paths), `connect_timeout_ms`,
/// `response_header_timeout_ms`, `request_timeout_ms`, `user_agent`.
/// On [`DH_OK`] `*client` is the handle ([`dh_client_free`]); on
/// [`DH_ERROR`] `err` holds the error JSON.
///
/// # Safety
/// `options` points to `options_len` readable bytes (or is null with 0);
/// `client`, `err`, `err_len` are writable.
#[no_mangle]
pub unsafe extern "C" fn dh_client_new(
    options: *const u8,
    options_len: usize,
    client: *mut *mut DhClient,
    err: *mut *mut u8,
    err_len: *mut usize,
) -> i32 {
    if client.is_null() {
        return DH_BAD_POINTER;
    }
    let mut made = None;
    let f = || {
        // SAFETY: the caller's contract on `options`.
        let o = unsafe { input(options, options_len, "options") }?;
        made = Some(client_from_options(o)?);
        Ok(Vec::new())
    };
    // SAFETY: forwarded from the caller's contract.
    let code = unsafe { guarded(err, err_len, f) };
    if let Some(docker) = made.filter(|_| code == DH_OK) {
        // SAFETY: checked non-null above; the host gives writable storage.
        unsafe { *client = Box::into_raw(Box::new(DhClient { docker })) };
    }
    code
}

/// Creates a client configured as the docker CLI is (`DOCKER_HOST`,
/// `DOCKER_CONTEXT` / the current context, `DOCKER_TLS_VERIFY`,
/// `DOCKER_CERT_PATH`, `DOCKER_API_VERSION`). As [`dh_client_new`] with no
/// options.
///
/// # Safety
/// `client`, `err`, `err_len` are writable.
#[no_mangle]
pub unsafe extern "C" fn dh_client_connect(
    client: *mut *mut DhClient,
    err: *mut *mut u8,
    err_len: *mut usize,
) -> i32 {
    // SAFETY: forwarded from the caller's contract.
    unsafe { dh_client_new(std::ptr::null(), 0, client, err, err_len) }
}

/// Releases a client. Null is ignored. Streams opened from it stay usable.
///
/// # Safety
/// `client` came from [`dh_client_new`] / [`dh_client_connect`], is freed
/// once, and no other call uses it at the same time or after.
#[no_mangle]
pub unsafe extern "C" fn dh_client_free(client: *mut DhClient) {
    if client.is_null() {
        return;
    }
    // SAFETY: the pointer came from `Box::into_raw` and is freed once.
    let c = unsafe { Box::from_raw(client) };
    shielded(move || {
        // Dropping the client may close pooled connections: inside the runtime.
        if let Ok(rt) = runtime() {
            let _enter = rt.enter();
            drop(c);
        }
    });
}

// ---------------------------------------------------------------------------
// Calls.

/// A request for `id` with the parameters (a JSON object by wire name) and
/// the body (JSON for operations that take JSON, bytes for archives).
fn build_request(
    docker: &Docker,
    id: &str,
    params: &[u8],
    body: Option<&[u8]>,
) -> Result<(&'static Operation, dockhand::RawRequest, Option<Value>), Value> {
    let op = find_operation(id).ok_or_else(|| {
        invalid(
            Some(id),
            &format!("{id:?} is not an operation id (dh_operations lists them)"),
        )
    })?;
    let mut req = docker.request(op);
    let mut given = Map::new();
    if !params.is_empty() {
        let p: Value = serde_json::from_slice(params)
            .map_err(|e| invalid(Some(op.id), &format!("params are not JSON: {e}")))?;
        match p {
            Value::Null => {}
            Value::Object(m) => given = m,
            _ => return Err(invalid(Some(op.id), "params must be a JSON object")),
        }
    }
    for (k, v) in &given {
        if v.is_null() {
            continue;
        }
        if v.is_object() && k.eq_ignore_ascii_case(AUTH_HEADER) {
            // Credentials as an object ({"username", "password", …}):
            // encoded as the daemon decodes them.
            let creds: dockhand::models::AuthConfig = serde_json::from_value(v.clone())
                // Not serde's message: it could quote a credential.
                .map_err(|_| invalid(Some(op.id), &format!("{AUTH_HEADER}: credentials are an object of strings (username, password, auth, serveraddress, identitytoken, registrytoken)")))?;
            req = req.registry_auth(Some(&creds));
        } else if v.is_object() && k.eq_ignore_ascii_case(CONFIG_HEADER) {
            // A map of registry → credentials.
            let all: std::collections::BTreeMap<String, dockhand::models::AuthConfig> =
                serde_json::from_value(v.clone())
                    .map_err(|_| invalid(Some(op.id), &format!("{CONFIG_HEADER}: an object of registry address → credentials (an object of strings)")))?;
            let header = dockhand::auth::registry_config_header(&all)
                .map_err(|e| error_json(&e, Some(op.id)))?;
            req = req.header(CONFIG_HEADER, header.expose());
        } else {
            req = req.param(k, v);
        }
    }
    let mut json_body = None;
    match (op.body, body) {
        (_, None) => {}
        (BodyKind::Json { .. }, Some(b)) => {
            let v: Value = serde_json::from_slice(b)
                .map_err(|e| invalid(Some(op.id), &format!("the body is not JSON: {e}")))?;
            req = req.json_body(&v);
            json_body = Some(v);
        }
        (BodyKind::Bytes { content_type }, Some(b)) => {
            req = req.body(Bytes::copy_from_slice(b), content_type);
        }
        (BodyKind::None, Some(_)) => {
            return Err(invalid(Some(op.id), &format!("{} takes no body", op.id)))
        }
    }
    if op.param(AUTH_HEADER, ParamLocation::Header).is_some()
        && !given.keys().any(|k| k.eq_ignore_ascii_case(AUTH_HEADER))
    {
        let reference = ["fromImage", "remote", "name"]
            .iter()
            .find_map(|k| given.get(*k).and_then(Value::as_str))
            .or_else(|| {
                json_body
                    .as_ref()
                    .and_then(|b| b.pointer("/TaskTemplate/ContainerSpec/Image"))
                    .and_then(Value::as_str)
            });
        if let Some(r) = reference {
            // As the typed API: config.json, its credsStore/credHelpers.
            // Blocking is fine here: this runs on the host's thread.
            let creds = ConfigFile::from_env()
                .and_then(|c| c.credentials_for_image(r))
                .map_err(|e| error_json(&e, Some(op.id)))?;
            req = req.registry_auth(creds.as_ref());
        }
    }
    if op.param(CONFIG_HEADER, ParamLocation::Header).is_some()
        && !given.keys().any(|k| k.eq_ignore_ascii_case(CONFIG_HEADER))
    {
        // A build: every registry's credentials, so that `FROM` images can
        // come from private registries (as the typed `images().build`).
        let header = ConfigFile::from_env()
            .and_then(|c| c.all_credentials())
            .and_then(|all| dockhand::auth::registry_config_header(&all))
            .map_err(|e| error_json(&e, Some(op.id)))?;
        req = req.header(CONFIG_HEADER, header.expose());
    }
    Ok((op, req, json_body))
}

/// The credentials header of a build (`ImageBuild`): every registry's
/// credentials from `config.json`, unless the host gives it.
const CONFIG_HEADER: &str = "X-Registry-Config";

/// The registry credentials header: resolved from `config.json` for the
/// image or plugin the parameters name, unless the host gives it.
const AUTH_HEADER: &str = "X-Registry-Auth";

/// The common inputs of a call: client, operation id, params, body.
///
/// # Safety
/// `client` is non-null and live; each input is null with length 0 or
/// points to its length in readable bytes (`body` null: no body).
#[allow(clippy::type_complexity)]
unsafe fn inputs<'a>(
    client: *const DhClient,
    operation: *const u8,
    operation_len: usize,
    params: *const u8,
    params_len: usize,
    body: *const u8,
    body_len: usize,
) -> Result<(&'a DhClient, &'a str, &'a [u8], Option<&'a [u8]>), Value> {
    // SAFETY: the caller's contract on every pointer.
    unsafe {
        let c = &*client;
        let id = utf8(input(operation, operation_len, "operation")?, "operation")?;
        let p = input(params, params_len, "params")?;
        let b = if body.is_null() {
            None
        } else {
            Some(input(body, body_len, "body")?)
        };
        Ok((c, id, p, b))
    }
}

/// Calls one operation and answers its whole body (the daemon's JSON as
/// sent, or bytes; empty for no body).
pub fn call(
    client: &DhClient,
    id: &str,
    params: &[u8],
    body: Option<&[u8]>,
) -> Result<Vec<u8>, Value> {
    let (op, req, _) = build_request(&client.docker, id, params, body)?;
    if matches!(op.response, ResponseKind::Hijack | ResponseKind::Websocket) {
        // Refused by version first, as a sendable call would be.
        let rt = runtime()?;
        rt.block_on(client.docker.api_version())
            .and_then(|v| op.check_version(v))
            .map_err(|e| error_json(&e, Some(op.id)))?;
        return Err(invalid(
            Some(op.id),
            &format!(
                "{} upgrades the connection: open it with dh_stream_open",
                op.id
            ),
        ));
    }
    runtime()?
        .block_on(req.bytes())
        .map(|b| b.to_vec())
        .map_err(|e| error_json(&e, Some(op.id)))
}

/// Calls the operation `operation` (an id of the table: `ContainerList`,
/// `ImageCreate`, …) with `params`, a JSON object of path, query and header
/// parameters by wire name (`{"id": "web", "all": true}`; empty for none),
/// and a body (`body` null: none; JSON for operations taking JSON, bytes for
/// archives). On [`DH_OK`] `out` holds the response body as the daemon sent
/// it (JSON for JSON operations; may be empty); on [`DH_ERROR`] the error
/// JSON. Blocks the calling thread until the answer is read.
///
/// # Safety
/// `client` is a live client; each input pointer points to its length in
/// readable bytes (or is null with 0; `body` null means no body); `out`,
/// `out_len` are writable.
#[no_mangle]
pub unsafe extern "C" fn dh_call(
    client: *const DhClient,
    operation: *const u8,
    operation_len: usize,
    params: *const u8,
    params_len: usize,
    body: *const u8,
    body_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    if client.is_null() {
        return DH_BAD_POINTER;
    }
    let f = || {
        // SAFETY: non-null; the host keeps the client alive during the
        // call, and each input points to its length in readable bytes.
        let (c, id, p, b) = unsafe {
            inputs(
                client,
                operation,
                operation_len,
                params,
                params_len,
                body,
                body_len,
            )
        }?;
        call(c, id, p, b)
    };
    // SAFETY: forwarded from the caller's contract.
    unsafe { guarded(out, out_len, f) }
}

// ---------------------------------------------------------------------------
// Streams.

type Items = BoxStream<'static, Result<(i32, Vec<u8>), Error>>;

/// An opened stream's items, its stdin (attach, exec) and its TTY.
type Opened = (Items, Option<Writer>, Option<TtyTarget>);

fn is_multiplexed_header(headers: &http::HeaderMap) -> Option<bool> {
    let ct = headers.get("content-type")?.to_str().ok()?;
    if ct.starts_with("application/vnd.docker.multiplexed-stream") {
        Some(true)
    } else if ct.starts_with("application/vnd.docker.raw-stream") {
        Some(false)
    } else {
        None
    }
}

async fn open_items(
    docker: Docker,
    op: &'static Operation,
    req: dockhand::RawRequest,
    params: Value,
    json_body: Option<Value>,
) -> Result<Opened, Error> {
    if op.response == ResponseKind::Hijack && op.id != "Session" {
        // Attach and exec: output read from the upgraded connection, stdin
        // written to it. Framed unless there is a TTY: an exec says so in
        // its body, an attach's container in its configuration.
        let tty = match json_body.as_ref().and_then(|b| b.get("Tty")) {
            Some(t) => t.as_bool().unwrap_or(false),
            None if op.id == "ContainerAttach" => container_tty(&docker, &params).await?,
            None => false,
        };
        let target = TtyTarget {
            docker: docker.clone(),
            resize: if op.id == "ContainerAttach" {
                &dockhand::operations::CONTAINER_RESIZE
            } else {
                &dockhand::operations::EXEC_RESIZE
            },
            id: params
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            tty,
        };
        let conn = req.upgrade().await?;
        let (read, write) = tokio::io::split(conn);
        let bytes = tokio_util::io::ReaderStream::new(read).map(move |r| {
            r.map_err(|e| Error::Io {
                context: format!("{}: reading the connection", op.id),
                source: e,
            })
        });
        let s = dockhand::stream::LogStream::new(op.id, bytes, !tty);
        return Ok((
            output_items(s),
            Some(tokio::sync::Mutex::new(Some(write))),
            Some(target),
        ));
    }
    let items = match op.response {
        ResponseKind::JsonStream { .. } => {
            let s = req.json_stream::<Value>().await?;
            Ok(
                s.map(|r| r.map(|v| (DH_ITEM_JSON, v.to_string().into_bytes())))
                    .boxed(),
            )
        }
        ResponseKind::Multiplexed => {
            let resp = req.send().await?;
            let version = docker.api_version().await?;
            let from_headers = if version >= ApiVersion::new(1, 42) {
                is_multiplexed_header(&resp.headers)
            } else {
                None
            };
            let multiplexed = match from_headers {
                Some(m) => m,
                None => !container_tty(&docker, &params).await?,
            };
            let s = dockhand::stream::LogStream::new(op.id, resp.body, multiplexed);
            Ok(output_items(s))
        }
        ResponseKind::Hijack | ResponseKind::Websocket => Err(Error::InvalidArgument {
            name: "operation",
            message: format!("{}: not available through the native library yet", op.id),
        }),
        _ => {
            let resp = req.send().await?;
            Ok(resp
                .body
                .map(|r| r.map(|b| (DH_ITEM_BYTES, b.to_vec())))
                .boxed())
        }
    };
    Ok((items?, None, None))
}

/// Container output as items tagged stdout/stderr/stdin/console.
fn output_items<S>(s: dockhand::stream::LogStream<S>) -> Items
where
    S: futures::Stream<Item = Result<Bytes, Error>> + Unpin + Send + 'static,
{
    s.map(|r| {
        r.map(|o| match o {
            LogOutput::StdOut(b) => (DH_ITEM_STDOUT, b.to_vec()),
            LogOutput::StdErr(b) => (DH_ITEM_STDERR, b.to_vec()),
            LogOutput::StdIn(b) => (DH_ITEM_STDIN, b.to_vec()),
            LogOutput::Console(b) => (DH_ITEM_CONSOLE, b.to_vec()),
        })
    })
    .boxed()
}

/// Whether the container the parameters name (`id`) has a TTY, for output
/// formats the headers do not tell (daemons before API 1.42).
async fn container_tty(docker: &Docker, params: &Value) -> Result<bool, Error> {
    let Some(id) = params.get("id").and_then(Value::as_str) else {
        return Ok(false);
    };
    let info: Value = docker
        .request(&dockhand::operations::CONTAINER_INSPECT)
        .param("id", id)
        .json()
        .await?;
    Ok(info
        .pointer("/Config/Tty")
        .and_then(Value::as_bool)
        .unwrap_or(false))
}

/// Opens a stream: sends the request and waits for the response headers,
/// then items are read with [`next`].
pub fn stream_open(
    client: &DhClient,
    id: &str,
    params: &[u8],
    body: Option<&[u8]>,
) -> Result<DhStream, Value> {
    let (op, req, json_body) = build_request(&client.docker, id, params, body)?;
    let params: Value = if params.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(params).unwrap_or(Value::Null)
    };
    let rt = runtime()?;
    let docker = client.docker.clone();
    let (mut items, writer, tty) = rt
        .block_on(open_items(docker, op, req, params, json_body))
        .map_err(|e| error_json(&e, Some(op.id)))?;
    let (tx, rx) = mpsc::channel(64);
    let pump = {
        let tx = tx.clone();
        async move {
            while let Some(item) = items.next().await {
                let (item, last) = match item {
                    Ok((k, b)) => (Item::Data(k, b), false),
                    Err(e) => (Item::Error(error_json(&e, Some(op.id))), true),
                };
                if tx.send(item).await.is_err() || last {
                    break;
                }
            }
        }
    };
    let task = rt.spawn(async move {
        // A panic while reading must not look like the end of the stream.
        if let Err(p) = AssertUnwindSafe(pump).catch_unwind().await {
            let _ = tx.send(Item::Error(panic_error(&*p, Some(op.id)))).await;
        }
    });
    Ok(DhStream {
        rx: Mutex::new(rx),
        task: task.abort_handle(),
        cancelled: AtomicBool::new(false),
        operation: op.id,
        cancel: CancellationToken::new(),
        writer: writer.map(Arc::new),
        tty,
    })
}

/// The next item: `Ok(Some((kind, bytes)))`, `Ok(None)` at the end,
/// `Err(None)` on timeout, `Err(Some(error JSON))` on an error.
pub fn next(
    stream: &DhStream,
    timeout: Option<Duration>,
) -> Result<Option<(i32, Vec<u8>)>, Option<Value>> {
    let rt = runtime().map_err(Some)?;
    let mut rx = stream.rx.lock().map_err(|_| {
        Some(plain_error(
            "panic",
            Some(stream.operation),
            "a reader panicked",
        ))
    })?;
    let got = match timeout {
        None => rt.block_on(rx.recv()),
        // The timer is made inside the runtime: it needs its clock.
        Some(t) => rt
            .block_on(async { tokio::time::timeout(t, rx.recv()).await })
            .map_err(|_| None)?,
    };
    match got {
        Some(Item::Data(k, b)) => Ok(Some((k, b))),
        Some(Item::Error(e)) => Err(Some(e)),
        None if stream.cancelled.load(Ordering::SeqCst) => {
            Err(Some(cancelled_error(stream.operation)))
        }
        None => Ok(None),
    }
}

/// Opens a stream over an operation whose answer comes in pieces: JSON
/// messages (`ImageCreate` pull progress, `SystemEvents`, `ContainerStats`,
/// …), container output (`ContainerLogs`: frames tagged stdout/stderr), or
/// byte chunks (archives). Arguments as [`dh_call`]. Waits for the response
/// headers: an error status (no such container) comes back here as
/// [`DH_ERROR`] with the error JSON in `err`. On [`DH_OK`] `*stream` is the
/// handle, read with [`dh_stream_next`], released with [`dh_stream_free`].
///
/// # Safety
/// As [`dh_call`]; `stream`, `err`, `err_len` are writable.
#[no_mangle]
pub unsafe extern "C" fn dh_stream_open(
    client: *const DhClient,
    operation: *const u8,
    operation_len: usize,
    params: *const u8,
    params_len: usize,
    body: *const u8,
    body_len: usize,
    stream: *mut *mut DhStream,
    err: *mut *mut u8,
    err_len: *mut usize,
) -> i32 {
    if client.is_null() || stream.is_null() {
        return DH_BAD_POINTER;
    }
    let mut opened = None;
    let f = || {
        // SAFETY: non-null; the host keeps the client alive during the
        // call, and each input points to its length in readable bytes.
        let (c, id, p, b) = unsafe {
            inputs(
                client,
                operation,
                operation_len,
                params,
                params_len,
                body,
                body_len,
            )
        }?;
        opened = Some(stream_open(c, id, p, b)?);
        Ok(Vec::new())
    };
    // SAFETY: forwarded from the caller's contract.
    let code = unsafe { guarded(err, err_len, f) };
    if let Some(s) = opened.filter(|_| code == DH_OK) {
        // SAFETY: checked non-null above; the host gives writable storage.
        unsafe { *stream = Box::into_raw(Box::new(s)) };
    }
    code
}

/// Waits for the next item of a stream, at most `timeout_ms` milliseconds
/// (negative: no limit). [`DH_OK`]: `*kind` is a `DH_ITEM_*` value and
/// `out` the item (a JSON message, or output bytes). [`DH_END`]: the stream
/// ended. [`DH_TIMEOUT`]: nothing yet. [`DH_ERROR`]: `out` holds the error
/// JSON (kind `cancelled` after [`dh_stream_cancel`]); the stream is over.
///
/// # Safety
/// `stream` is a live stream; `kind`, `out`, `out_len` are writable.
#[no_mangle]
pub unsafe extern "C" fn dh_stream_next(
    stream: *const DhStream,
    timeout_ms: i64,
    kind: *mut i32,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> i32 {
    if stream.is_null() || kind.is_null() || out.is_null() || out_len.is_null() {
        return DH_BAD_POINTER;
    }
    let mut status = DH_OK;
    let mut item_kind = -1;
    let f = || {
        // SAFETY: non-null; the host keeps the stream alive during the call.
        let s = unsafe { &*stream };
        let t = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        match next(s, t) {
            Ok(Some((k, b))) => {
                item_kind = k;
                Ok(b)
            }
            Ok(None) => {
                status = DH_END;
                Ok(Vec::new())
            }
            Err(None) => {
                status = DH_TIMEOUT;
                Ok(Vec::new())
            }
            Err(Some(e)) => Err(e),
        }
    };
    // SAFETY: forwarded from the caller's contract.
    let code = unsafe { guarded(out, out_len, f) };
    // SAFETY: checked non-null above.
    unsafe { *kind = item_kind };
    if code == DH_OK {
        status
    } else {
        code
    }
}

/// Cancels a stream from any thread: its connection is closed (both
/// directions, also for attach and exec), and a [`dh_stream_next`] or
/// [`dh_stream_write`] waiting on it (or called later) returns [`DH_ERROR`]
/// with kind `cancelled`. The handle must still be freed.
///
/// # Safety
/// `stream` is a live stream (null is ignored).
#[no_mangle]
pub unsafe extern "C" fn dh_stream_cancel(stream: *const DhStream) {
    if stream.is_null() {
        return;
    }
    // SAFETY: non-null; the host keeps the stream alive during the call.
    let s = unsafe { &*stream };
    shielded(|| {
        s.cancelled.store(true, Ordering::SeqCst);
        s.cancel.cancel();
        // The reading task owns the read half: aborting it drops that half.
        s.task.abort();
        // The stdin half (attach, exec) is dropped too, so the connection
        // closes now, not when the handle is freed; once any write that was
        // blocked has seen the cancel and let go of it.
        if let (Some(w), Ok(rt)) = (s.writer.clone(), runtime()) {
            rt.spawn(async move {
                w.lock().await.take();
            });
        }
    });
}

/// Releases a stream, closing its connection if it is still open. Null is
/// ignored.
///
/// # Safety
/// `stream` came from [`dh_stream_open`], is freed once, and no other call
/// uses it at the same time or after.
#[no_mangle]
pub unsafe extern "C" fn dh_stream_free(stream: *mut DhStream) {
    if stream.is_null() {
        return;
    }
    // SAFETY: the pointer came from `Box::into_raw` and is freed once.
    let s = unsafe { Box::from_raw(stream) };
    shielded(move || {
        s.task.abort();
        // Its connection's halves are dropped inside the runtime.
        if let Ok(rt) = runtime() {
            let _enter = rt.enter();
            drop(s);
        }
    });
}

/// The error of a use of a cancelled stream.
fn cancelled_error(op: &str) -> Value {
    plain_error(
        "cancelled",
        Some(op),
        &format!("{op}: the stream was cancelled"),
    )
}

/// Writes `data` to the stdin of an attach or exec stream, and flushes it.
pub fn write(stream: &DhStream, data: &[u8]) -> Result<(), Value> {
    use tokio::io::AsyncWriteExt;
    if stream.cancelled.load(Ordering::SeqCst) {
        return Err(cancelled_error(stream.operation));
    }
    let writer = stream.writer.as_ref().ok_or_else(|| {
        invalid(
            Some(stream.operation),
            &format!(
                "{}: this stream has no stdin (attach and exec have)",
                stream.operation
            ),
        )
    })?;
    let op = stream.operation;
    runtime()?.block_on(async {
        let mut w = writer.lock().await;
        let w = w
            .as_mut()
            .ok_or_else(|| invalid(Some(op), &format!("{op}: stdin was already closed")))?;
        let io = |e: std::io::Error| {
            error_json(
                &Error::Io {
                    context: format!("{op}: writing stdin"),
                    source: e,
                },
                Some(op),
            )
        };
        let written = async {
            w.write_all(data).await.map_err(io)?;
            w.flush().await.map_err(io)
        };
        tokio::select! {
            r = written => r,
            () = stream.cancel.cancelled() => Err(cancelled_error(op)),
        }
    })
}

/// Half-closes stdin of an attach or exec stream: the process sees end of
/// input; its output can still be read to the end. Closing twice is a no-op.
pub fn close_write(stream: &DhStream) -> Result<(), Value> {
    use tokio::io::AsyncWriteExt;
    let Some(writer) = stream.writer.as_ref() else {
        return Ok(());
    };
    let op = stream.operation;
    if stream.cancelled.load(Ordering::SeqCst) {
        return Err(cancelled_error(op));
    }
    runtime()?.block_on(async {
        // Shutting the half down sends the end of input (dropping it would
        // not: the read half keeps the connection open).
        let mut w = writer.lock().await;
        if let Some(mut half) = w.take() {
            half.shutdown().await.map_err(|e| {
                error_json(
                    &Error::Io {
                        context: format!("{op}: closing stdin"),
                        source: e,
                    },
                    Some(op),
                )
            })?;
        }
        Ok(())
    })
}

/// Writes `data_len` bytes to the stdin of an attach (`ContainerAttach`
/// with `stdin`) or exec (`ExecStart`) stream. [`DH_ERROR`] with the error
/// JSON in `err` when the stream has no stdin, it was closed, or the
/// connection broke. Blocks until written. A TTY is resized with
/// [`dh_stream_resize`].
///
/// # Safety
/// `stream` is a live stream; `data` points to `data_len` readable bytes
/// (or is null with 0); `err`, `err_len` are writable.
#[no_mangle]
pub unsafe extern "C" fn dh_stream_write(
    stream: *const DhStream,
    data: *const u8,
    data_len: usize,
    err: *mut *mut u8,
    err_len: *mut usize,
) -> i32 {
    if stream.is_null() {
        return DH_BAD_POINTER;
    }
    let f = || {
        // SAFETY: non-null; the host keeps the stream alive during the call
        // and `data` points to `data_len` readable bytes.
        let (s, d) = unsafe { (&*stream, input(data, data_len, "data")?) };
        write(s, d).map(|()| Vec::new())
    };
    // SAFETY: forwarded from the caller's contract.
    unsafe { guarded(err, err_len, f) }
}

/// Half-closes the stdin of an attach or exec stream (the process reads end
/// of input; its output is still read with [`dh_stream_next`]). A no-op on
/// other streams and when already closed.
///
/// # Safety
/// `stream` is a live stream; `err`, `err_len` are writable.
#[no_mangle]
pub unsafe extern "C" fn dh_stream_close_write(
    stream: *const DhStream,
    err: *mut *mut u8,
    err_len: *mut usize,
) -> i32 {
    if stream.is_null() {
        return DH_BAD_POINTER;
    }
    let f = || {
        // SAFETY: non-null; the host keeps the stream alive during the call.
        close_write(unsafe { &*stream }).map(|()| Vec::new())
    };
    // SAFETY: forwarded from the caller's contract.
    unsafe { guarded(err, err_len, f) }
}

/// Resizes the TTY of an attach or exec stream to `rows` × `cols`
/// (`ContainerResize` for an attach, `ExecResize` for an exec).
pub fn resize(stream: &DhStream, rows: u32, cols: u32) -> Result<(), Value> {
    let op = stream.operation;
    let target = stream.tty.as_ref().ok_or_else(|| {
        invalid(
            Some(op),
            &format!("{op}: only attach (ContainerAttach) and exec (ExecStart) streams have a TTY to resize"),
        )
    })?;
    if !target.tty {
        return Err(invalid(
            Some(op),
            &format!(
                "{op}: this stream has no TTY (it was opened with Tty false), nothing to resize"
            ),
        ));
    }
    if rows == 0 || cols == 0 {
        return Err(invalid(
            Some(target.resize.id),
            &format!(
                "{op}: a TTY of {rows} rows and {cols} columns cannot be; both must be at least 1"
            ),
        ));
    }
    let req = target
        .docker
        .request(target.resize)
        .param("id", &target.id)
        .param("h", rows)
        .param("w", cols);
    runtime()?
        .block_on(req.bytes())
        .map(drop)
        .map_err(|e| error_json(&e, Some(target.resize.id)))
}

/// Resizes the TTY of an attach (`ContainerAttach`) or exec (`ExecStart`)
/// stream opened with a TTY to `rows` lines and `cols` columns: the
/// library calls `ContainerResize` for the attached container or
/// `ExecResize` for the exec. [`DH_ERROR`] with the error JSON in `err`
/// (kind `invalid_argument`) for a stream without a TTY, another kind of
/// stream, or a zero size; the daemon's errors as from [`dh_call`].
///
/// # Safety
/// `stream` is a live stream; `err`, `err_len` are writable.
#[no_mangle]
pub unsafe extern "C" fn dh_stream_resize(
    stream: *const DhStream,
    rows: u32,
    cols: u32,
    err: *mut *mut u8,
    err_len: *mut usize,
) -> i32 {
    if stream.is_null() {
        return DH_BAD_POINTER;
    }
    let f = || {
        // SAFETY: non-null; the host keeps the stream alive during the call.
        resize(unsafe { &*stream }, rows, cols).map(|()| Vec::new())
    };
    // SAFETY: forwarded from the caller's contract.
    unsafe { guarded(err, err_len, f) }
}
