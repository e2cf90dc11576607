//! The C ABI called as a host would, through its `extern "C"` functions:
//! every operation id resolves, calls refused by version come back as
//! `unsupported_by_version` JSON without anything sent, bad input is a typed
//! error JSON, and against the real daemon: ping, a container's life with
//! its logs followed to the end, a missing container as `not_found`, and a
//! following log stream cancelled from another thread.

use dockhand_native::*;
use serde_json::{json, Value};
use std::ptr;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Client(*mut DhClient);
// SAFETY: the library documents a client as usable from any thread.
unsafe impl Send for Client {}
// SAFETY: as above, concurrent calls with one handle are allowed.
unsafe impl Sync for Client {}

impl Drop for Client {
    fn drop(&mut self) {
        // SAFETY: made by dh_client_new, freed once here.
        unsafe { dh_client_free(self.0) }
    }
}

fn take(p: *mut u8, n: usize) -> Vec<u8> {
    if p.is_null() {
        return Vec::new();
    }
    // SAFETY: a buffer the library returned, read then freed once.
    let v = unsafe { std::slice::from_raw_parts(p, n) }.to_vec();
    // SAFETY: as above.
    unsafe { dh_buf_free(p, n) };
    v
}

fn new_client(options: &Value) -> Result<Client, Value> {
    let o = options.to_string();
    let mut c = ptr::null_mut();
    let (mut e, mut n) = (ptr::null_mut(), 0);
    // SAFETY: valid pointers and lengths.
    let code = unsafe { dh_client_new(o.as_ptr(), o.len(), &mut c, &mut e, &mut n) };
    let err = take(e, n);
    if code == DH_OK {
        assert!(!c.is_null());
        Ok(Client(c))
    } else {
        assert_eq!(code, DH_ERROR);
        Err(serde_json::from_slice(&err).expect("error JSON"))
    }
}

fn call(c: &Client, id: &str, params: &Value, body: Option<&[u8]>) -> Result<Vec<u8>, Value> {
    let p = params.to_string();
    let (bp, bn) = body.map_or((ptr::null(), 0), |b| (b.as_ptr(), b.len()));
    let (mut o, mut n) = (ptr::null_mut(), 0);
    // SAFETY: valid pointers and lengths; the client is alive.
    let code = unsafe {
        dh_call(
            c.0,
            id.as_ptr(),
            id.len(),
            p.as_ptr(),
            p.len(),
            bp,
            bn,
            &mut o,
            &mut n,
        )
    };
    let out = take(o, n);
    match code {
        DH_OK => Ok(out),
        DH_ERROR => Err(serde_json::from_slice(&out).expect("error JSON")),
        other => panic!("{id}: unexpected status {other}"),
    }
}

fn call_json(c: &Client, id: &str, params: &Value, body: Option<&Value>) -> Value {
    let b = body.map(|b| b.to_string().into_bytes());
    let out = call(c, id, params, b.as_deref()).unwrap_or_else(|e| panic!("{id}: {e}"));
    serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{id}: not JSON: {e}"))
}

struct Stream(*mut DhStream);
// SAFETY: next/cancel may be called from any thread.
unsafe impl Send for Stream {}
// SAFETY: cancel is meant to be called while another thread waits in next.
unsafe impl Sync for Stream {}

impl Drop for Stream {
    fn drop(&mut self) {
        // SAFETY: made by dh_stream_open, freed once here.
        unsafe { dh_stream_free(self.0) }
    }
}

fn open(c: &Client, id: &str, params: &Value) -> Result<Stream, Value> {
    let p = params.to_string();
    let mut s = ptr::null_mut();
    let (mut e, mut n) = (ptr::null_mut(), 0);
    // SAFETY: valid pointers and lengths; the client is alive.
    let code = unsafe {
        dh_stream_open(
            c.0,
            id.as_ptr(),
            id.len(),
            p.as_ptr(),
            p.len(),
            ptr::null(),
            0,
            &mut s,
            &mut e,
            &mut n,
        )
    };
    let err = take(e, n);
    if code == DH_OK {
        Ok(Stream(s))
    } else {
        Err(serde_json::from_slice(&err).expect("error JSON"))
    }
}

enum Next {
    Item(i32, Vec<u8>),
    End,
    Timeout,
    Error(Value),
}

fn next(s: &Stream, timeout_ms: i64) -> Next {
    let mut kind = -7;
    let (mut o, mut n) = (ptr::null_mut(), 0);
    // SAFETY: valid pointers; the stream is alive.
    let code = unsafe { dh_stream_next(s.0, timeout_ms, &mut kind, &mut o, &mut n) };
    let out = take(o, n);
    match code {
        DH_OK => Next::Item(kind, out),
        DH_END => Next::End,
        DH_TIMEOUT => Next::Timeout,
        DH_ERROR => Next::Error(serde_json::from_slice(&out).expect("error JSON")),
        other => panic!("unexpected status {other}"),
    }
}

/// A host nobody listens on: anything that got as far as sending fails to
/// connect, so a refusal by version proves nothing was sent.
fn offline_client(version: &str) -> Client {
    new_client(&json!({
        "host": "unix:///nonexistent/dockhand-native-test.sock",
        "api_version": version,
        "connect_timeout_ms": 2000,
    }))
    .expect("client")
}

#[test]
fn the_table_as_json_lists_all_108_operations() {
    let (mut o, mut n) = (ptr::null_mut(), 0);
    // SAFETY: valid out pointers.
    assert_eq!(unsafe { dh_operations(&mut o, &mut n) }, DH_OK);
    let table: Value = serde_json::from_slice(&take(o, n)).expect("JSON");
    let ops = table.as_array().expect("array");
    assert_eq!(ops.len(), 108);
    let list = ops
        .iter()
        .find(|o| o["id"] == "ContainerList")
        .expect("ContainerList");
    assert_eq!(list["method"], "GET");
    assert_eq!(list["path"], "/containers/json");
    assert_eq!(list["response"]["kind"], "json");
    let all = list["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "all")
        .expect("all");
    assert_eq!(all["in"], "query");
    assert_eq!(all["since"], "1.25");
    let create = ops.iter().find(|o| o["id"] == "ContainerCreate").unwrap();
    let platform = create["params"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "platform")
        .expect("platform");
    assert_eq!(platform["since"], "1.41");
    assert_eq!(create["body"]["kind"], "json");
}

#[test]
fn every_operation_id_resolves_and_newer_ones_are_refused_by_version_unsent() {
    let c = offline_client("1.25");
    let mut refused = 0;
    for op in dockhand::operations::OPERATIONS {
        // Path parameters filled so that only the version or the missing
        // daemon can stop the call.
        let mut params = serde_json::Map::new();
        for p in op.params.iter().filter(|p| p.required) {
            params.insert(p.name.into(), json!("x"));
        }
        let err = call(&c, op.id, &Value::Object(params), None)
            .expect_err("nothing listens: every call fails");
        let kind = err["kind"].as_str().unwrap_or_default();
        assert!(
            !err["message"]
                .as_str()
                .unwrap_or_default()
                .contains("is not an operation id"),
            "{}: {err}",
            op.id
        );
        if op.since > dockhand::ApiVersion::new(1, 25) {
            refused += 1;
            assert_eq!(kind, "unsupported_by_version", "{}: {err}", op.id);
            assert_eq!(err["needs"], op.since.to_string(), "{}", op.id);
            assert_eq!(err["negotiated"], "1.25");
            assert_eq!(err["operation"], op.id);
        } else if kind == "unsupported_by_version" {
            // A required parameter newer than its operation.
            let what = err["what"].as_str().unwrap_or_default();
            assert!(what.contains("parameter"), "{}: {err}", op.id);
        } else {
            // It got as far as connecting: it was a valid, sendable request.
            assert!(
                matches!(kind, "connect" | "invalid_argument"),
                "{}: {err}",
                op.id
            );
            if kind == "invalid_argument" {
                // Only parameters the table has but `"x"` does not fit.
                assert!(!err["message"].as_str().unwrap().is_empty());
            }
        }
    }
    assert!(
        refused > 10,
        "only {refused} operations are newer than 1.25"
    );
}

#[test]
fn a_parameter_newer_than_the_pinned_version_is_refused_unsent() {
    let c = offline_client("1.40");
    let err = call(
        &c,
        "ContainerCreate",
        &json!({"platform": "linux/amd64"}),
        Some(br#"{"Image":"x"}"#),
    )
    .expect_err("refused");
    assert_eq!(err["kind"], "unsupported_by_version", "{err}");
    assert_eq!(err["needs"], "1.41");
}

#[test]
fn bad_input_is_a_typed_error() {
    let c = offline_client("1.41");
    let e = call(&c, "NoSuchOperation", &json!({}), None).unwrap_err();
    assert_eq!(e["kind"], "invalid_argument");
    assert!(e["message"].as_str().unwrap().contains("NoSuchOperation"));

    let p = b"{not json";
    let id = "ContainerList";
    let (mut o, mut n) = (ptr::null_mut(), 0);
    // SAFETY: valid pointers.
    let code = unsafe {
        dh_call(
            c.0,
            id.as_ptr(),
            id.len(),
            p.as_ptr(),
            p.len(),
            ptr::null(),
            0,
            &mut o,
            &mut n,
        )
    };
    assert_eq!(code, DH_ERROR);
    let e: Value = serde_json::from_slice(&take(o, n)).unwrap();
    assert_eq!(e["kind"], "invalid_argument");
    assert_eq!(e["operation"], "ContainerList");

    let bad_utf8 = [0xffu8, 0xfe];
    // SAFETY: valid pointers.
    let code = unsafe {
        dh_call(
            c.0,
            bad_utf8.as_ptr(),
            2,
            ptr::null(),
            0,
            ptr::null(),
            0,
            &mut o,
            &mut n,
        )
    };
    assert_eq!(code, DH_ERROR);
    let e: Value = serde_json::from_slice(&take(o, n)).unwrap();
    assert!(e["message"].as_str().unwrap().contains("UTF-8"), "{e}");

    let e = call(&c, "ContainerList", &json!({}), Some(b"{}")).unwrap_err();
    assert_eq!(e["kind"], "invalid_argument");
    assert!(
        e["message"].as_str().unwrap().contains("takes no body"),
        "{e}"
    );

    let e = call(&c, "ContainerCreate", &json!({}), Some(b"[oops")).unwrap_err();
    assert_eq!(e["kind"], "invalid_argument");

    // A null pointer where one is required: refused, nothing written.
    // SAFETY: null out pointers are what is being tested.
    let code = unsafe {
        dh_call(
            c.0,
            id.as_ptr(),
            id.len(),
            ptr::null(),
            0,
            ptr::null(),
            0,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    assert_eq!(code, DH_BAD_POINTER);
    // Null with a length is an error, not a read of address 0.
    // SAFETY: the library must not read a null pointer.
    let code = unsafe {
        dh_call(
            c.0,
            id.as_ptr(),
            id.len(),
            ptr::null(),
            5,
            ptr::null(),
            0,
            &mut o,
            &mut n,
        )
    };
    assert_eq!(code, DH_ERROR);
    take(o, n);
}

#[test]
fn daemon_errors_get_the_kinds_the_library_gives_them() {
    let api = |status: u16, message: &str| dockhand::Error::Api {
        status,
        message: message.into(),
        operation: "SwarmInspect",
    };
    for (status, message, kind) in [
        (404, "No such container: web", "not_found"),
        (404, "page not found", "unknown_endpoint"),
        (404, "Not Found", "unknown_endpoint"),
        (
            409,
            "Conflict. The container name \"/web\" is already in use",
            "conflict",
        ),
        (
            500,
            "cannot remove container 6277 as it is running: container state improper",
            "conflict",
        ),
        (500, "something broke", "api"),
    ] {
        let e = error_json(&api(status, message), Some("SwarmInspect"));
        assert_eq!(e["kind"], kind, "{status} {message}: {e}");
        assert_eq!(e["status"], status, "{e}");
    }
}

#[test]
fn bad_client_options_are_config_errors() {
    let e = new_client(&json!({"hots": "unix:///x"}))
        .err()
        .expect("typo refused");
    assert_eq!(e["kind"], "config");
    assert!(e["message"].as_str().unwrap().contains("hots"), "{e}");
    let e = new_client(&json!({"api_version": "one"})).err().unwrap();
    assert_eq!(e["kind"], "config");
    let e = new_client(&json!({"host": "gopher://127.0.0.1"}))
        .err()
        .unwrap();
    assert_eq!(e["kind"], "config", "{e}");
    let e = new_client(&json!({"connect_timeout_ms": "soon"}))
        .err()
        .unwrap();
    assert_eq!(e["kind"], "config");
    let e = new_client(&json!([1])).err().unwrap();
    assert_eq!(e["kind"], "config");
}

#[test]
fn an_unknown_stream_operation_and_a_connect_failure_come_back_at_open() {
    let c = offline_client("1.41");
    let e = open(&c, "Nope", &json!({})).err().unwrap();
    assert_eq!(e["kind"], "invalid_argument");
    let e = open(&c, "SystemEvents", &json!({})).err().unwrap();
    assert_eq!(e["kind"], "connect", "{e}");
}

// ---------------------------------------------------------------------------
// Against the real daemon.

fn env_image() -> String {
    assert!(
        std::env::var_os("DOCKHAND_TEST_ENV").is_some(),
        "DOCKHAND_TEST_ENV is not set: source env.sh of scripts/test-env.sh"
    );
    std::env::var("DOCKHAND_TEST_IMAGE").expect("DOCKHAND_TEST_IMAGE")
}

fn daemon() -> Client {
    new_client(&json!({"host": "unix:///var/run/docker.sock"})).expect("client")
}

struct Container<'a>(&'a Client, String);

impl Drop for Container<'_> {
    fn drop(&mut self) {
        let _ = call(
            self.0,
            "ContainerDelete",
            &json!({"id": self.1, "force": true}),
            None,
        );
    }
}

fn run<'a>(c: &'a Client, cmd: &[&str]) -> Container<'a> {
    let image = env_image();
    let created = call_json(
        c,
        "ContainerCreate",
        &json!({}),
        Some(&json!({"Image": image, "Cmd": cmd})),
    );
    let id = created["Id"].as_str().expect("Id").to_owned();
    let guard = Container(c, id.clone());
    call(c, "ContainerStart", &json!({"id": id}), None).expect("start");
    guard
}

#[test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
fn ping_and_a_missing_container_is_not_found() {
    let _ = env_image();
    let c = daemon();
    assert_eq!(call(&c, "SystemPing", &json!({}), None).unwrap(), b"OK");
    let v = call_json(&c, "SystemVersion", &json!({}), None);
    assert!(v["ApiVersion"].is_string(), "{v}");
    let e = call(
        &c,
        "ContainerInspect",
        &json!({"id": "dockhand-native-missing"}),
        None,
    )
    .unwrap_err();
    assert_eq!(e["kind"], "not_found", "{e}");
    assert_eq!(e["status"], 404);
    assert_eq!(e["operation"], "ContainerInspect");
}

#[test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
fn a_1_25_client_is_refused_a_1_41_operation_by_the_real_daemon_unsent() {
    let _ = env_image();
    let c =
        new_client(&json!({"host": "unix:///var/run/docker.sock", "api_version": "1.25"})).unwrap();
    // Works at 1.25 …
    call(&c, "SystemPing", &json!({}), None).expect("ping at 1.25");
    // … but an operation newer than 1.25 is refused before sending.
    let newer = dockhand::operations::OPERATIONS
        .iter()
        .find(|o| {
            o.since > dockhand::ApiVersion::new(1, 25) && o.params.iter().all(|p| !p.required)
        })
        .expect("an operation newer than 1.25 without required parameters");
    let e = call(&c, newer.id, &json!({}), None).unwrap_err();
    assert_eq!(e["kind"], "unsupported_by_version", "{}: {e}", newer.id);
    assert_eq!(e["negotiated"], "1.25");
}

#[test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
fn a_container_runs_its_logs_are_followed_to_the_end_and_its_exit_code_waited() {
    let c = daemon();
    let ctr = run(
        &c,
        &["sh", "-c", "echo out-line; echo err-line >&2; exit 3"],
    );
    let s = open(
        &c,
        "ContainerLogs",
        &json!({"id": ctr.1, "follow": true, "stdout": true, "stderr": true}),
    )
    .expect("logs");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "logs did not end");
        match next(&s, 5000) {
            Next::Item(DH_ITEM_STDOUT, b) => out.extend(b),
            Next::Item(DH_ITEM_STDERR, b) => err.extend(b),
            Next::Item(k, b) => panic!("unexpected item {k}: {b:?}"),
            Next::End => break,
            Next::Timeout => {}
            Next::Error(e) => panic!("{e}"),
        }
    }
    assert_eq!(String::from_utf8_lossy(&out), "out-line\n");
    assert_eq!(String::from_utf8_lossy(&err), "err-line\n");
    let waited = call_json(&c, "ContainerWait", &json!({"id": ctr.1}), None);
    assert_eq!(waited["StatusCode"], 3, "{waited}");
}

#[test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
fn a_following_log_stream_is_cancelled_from_another_thread() {
    let c = daemon();
    let ctr = run(&c, &["sh", "-c", "echo started; sleep 60"]);
    let s = Arc::new(
        open(
            &c,
            "ContainerLogs",
            &json!({"id": ctr.1, "follow": true, "stdout": true}),
        )
        .expect("logs"),
    );
    match next(&s, 10_000) {
        Next::Item(DH_ITEM_STDOUT, b) => assert_eq!(b, b"started\n"),
        _ => panic!("no first line"),
    }
    let s2 = Arc::clone(&s);
    let started = Instant::now();
    let reader = std::thread::spawn(move || next(&s2, -1));
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: the stream is alive (held by `s`).
    unsafe { dh_stream_cancel(s.0) };
    let got = reader.join().expect("reader");
    assert!(started.elapsed() < Duration::from_secs(10));
    match got {
        Next::Error(e) => assert_eq!(e["kind"], "cancelled", "{e}"),
        _ => panic!("a cancelled stream must say so"),
    }
    drop(ctr);
}

#[test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
fn one_client_serves_several_threads_at_once() {
    let _ = env_image();
    let c = Arc::new(daemon());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let c = Arc::clone(&c);
            std::thread::spawn(move || {
                for _ in 0..25 {
                    assert_eq!(call(&c, "SystemPing", &json!({}), None).unwrap(), b"OK");
                    let list = call_json(&c, "ContainerList", &json!({"all": true}), None);
                    assert!(list.is_array());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
}

#[test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
fn pull_progress_comes_as_json_items() {
    let image = env_image();
    let registry = std::env::var("DOCKHAND_REGISTRY").expect("DOCKHAND_REGISTRY");
    assert!(registry.starts_with("127.0.0.1:"));
    let c = daemon();
    // Push the test image to the loopback registry under a fresh tag, then pull it.
    let repo = format!("{registry}/dockhand-native-pull");
    call(
        &c,
        "ImageTag",
        &json!({"name": image, "repo": repo, "tag": "t1"}),
        None,
    )
    .expect("tag");
    let push = open(&c, "ImagePush", &json!({"name": repo, "tag": "t1"})).expect("push");
    loop {
        match next(&push, 60_000) {
            Next::Item(..) => {}
            Next::End => break,
            Next::Timeout => panic!("push stalled"),
            Next::Error(e) => panic!("push: {e}"),
        }
    }
    let s = open(&c, "ImageCreate", &json!({"fromImage": repo, "tag": "t1"})).expect("pull");
    let mut messages = Vec::new();
    loop {
        match next(&s, 60_000) {
            Next::Item(k, b) => {
                assert_eq!(k, DH_ITEM_JSON);
                messages.push(serde_json::from_slice::<Value>(&b).expect("JSON message"));
            }
            Next::End => break,
            Next::Timeout => panic!("pull stalled"),
            Next::Error(e) => panic!("pull: {e}"),
        }
    }
    assert!(
        messages.iter().any(|m| m["status"].is_string()),
        "{messages:?}"
    );
    let _ = call(
        &c,
        "ImageDelete",
        &json!({"name": format!("{repo}:t1")}),
        None,
    );
}

fn write_stdin(s: &Stream, data: &[u8]) -> Result<(), Value> {
    let (mut e, mut n) = (ptr::null_mut(), 0);
    // SAFETY: valid pointers; the stream is alive.
    let code = unsafe { dh_stream_write(s.0, data.as_ptr(), data.len(), &mut e, &mut n) };
    let err = take(e, n);
    if code == DH_OK {
        Ok(())
    } else {
        Err(serde_json::from_slice(&err).expect("error JSON"))
    }
}

fn close_stdin(s: &Stream) {
    let (mut e, mut n) = (ptr::null_mut(), 0);
    // SAFETY: valid pointers; the stream is alive.
    let code = unsafe { dh_stream_close_write(s.0, &mut e, &mut n) };
    let err = take(e, n);
    assert_eq!(code, DH_OK, "{}", String::from_utf8_lossy(&err));
}

#[test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
fn exec_cat_echoes_stdin_until_it_is_half_closed() {
    let c = daemon();
    let ctr = run(&c, &["sleep", "60"]);
    let exec = call_json(
        &c,
        "ContainerExec",
        &json!({"id": ctr.1}),
        Some(
            &json!({"Cmd": ["cat"], "AttachStdin": true, "AttachStdout": true, "AttachStderr": true}),
        ),
    );
    let exec_id = exec["Id"].as_str().expect("exec Id").to_owned();
    let body = json!({"Detach": false, "Tty": false}).to_string();
    let p = json!({"id": exec_id}).to_string();
    let id = "ExecStart";
    let mut s = ptr::null_mut();
    let (mut e, mut n) = (ptr::null_mut(), 0);
    // SAFETY: valid pointers and lengths; the client is alive.
    let code = unsafe {
        dh_stream_open(
            c.0,
            id.as_ptr(),
            id.len(),
            p.as_ptr(),
            p.len(),
            body.as_ptr(),
            body.len(),
            &mut s,
            &mut e,
            &mut n,
        )
    };
    let err = take(e, n);
    assert_eq!(code, DH_OK, "{}", String::from_utf8_lossy(&err));
    let s = Stream(s);
    write_stdin(&s, b"hello ").expect("write");
    write_stdin(&s, b"stdin\n").expect("write");
    close_stdin(&s);
    // Writing after the half-close is a typed error, not a crash.
    let e = write_stdin(&s, b"late").unwrap_err();
    assert_eq!(e["kind"], "invalid_argument", "{e}");
    let mut out = Vec::new();
    loop {
        match next(&s, 10_000) {
            Next::Item(DH_ITEM_STDOUT, b) => out.extend(b),
            Next::Item(k, b) => panic!("unexpected item {k}: {b:?}"),
            Next::End => break,
            Next::Timeout => panic!("cat did not end after stdin was closed"),
            Next::Error(e) => panic!("{e}"),
        }
    }
    assert_eq!(String::from_utf8_lossy(&out), "hello stdin\n");
    let inspect = call_json(&c, "ExecInspect", &json!({"id": exec_id}), None);
    assert_eq!(inspect["ExitCode"], 0, "{inspect}");

    // A stream without stdin says so.
    let logs = open(&c, "ContainerLogs", &json!({"id": ctr.1, "stdout": true})).unwrap();
    let e = write_stdin(&logs, b"x").unwrap_err();
    assert_eq!(e["kind"], "invalid_argument");
}

#[test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
fn attach_writes_stdin_and_reads_the_output_to_the_end() {
    let c = daemon();
    let created = call_json(
        &c,
        "ContainerCreate",
        &json!({}),
        Some(&json!({
            "Image": env_image(),
            "Cmd": ["cat"],
            "OpenStdin": true,
            "StdinOnce": true,
            "AttachStdin": true,
            "AttachStdout": true,
        })),
    );
    let ctr = Container(&c, created["Id"].as_str().unwrap().to_owned());
    let s = open(
        &c,
        "ContainerAttach",
        &json!({"id": ctr.1, "stream": true, "stdin": true, "stdout": true}),
    )
    .expect("attach");
    call(&c, "ContainerStart", &json!({"id": ctr.1}), None).expect("start");
    write_stdin(&s, b"attached\n").expect("write");
    close_stdin(&s);
    let mut out = Vec::new();
    loop {
        match next(&s, 10_000) {
            Next::Item(DH_ITEM_STDOUT, b) => out.extend(b),
            Next::Item(k, b) => panic!("unexpected item {k}: {b:?}"),
            Next::End => break,
            Next::Timeout => panic!("attach did not end after stdin was closed"),
            Next::Error(e) => panic!("{e}"),
        }
    }
    assert_eq!(String::from_utf8_lossy(&out), "attached\n");
    let waited = call_json(&c, "ContainerWait", &json!({"id": ctr.1}), None);
    assert_eq!(waited["StatusCode"], 0, "{waited}");
}

#[test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
fn a_failed_pull_is_a_typed_error_at_open_or_in_band() {
    let registry = std::env::var("DOCKHAND_REGISTRY").expect("DOCKHAND_REGISTRY");
    assert!(registry.starts_with("127.0.0.1:"));
    let _ = env_image();
    let c = daemon();
    let params = json!({"fromImage": format!("{registry}/dockhand-native-missing"), "tag": "nope"});
    let err = match open(&c, "ImageCreate", &params) {
        Err(e) => e,
        Ok(s) => loop {
            match next(&s, 60_000) {
                Next::Item(DH_ITEM_JSON, _) => {}
                Next::Error(e) => break e,
                Next::Item(k, _) => panic!("unexpected item kind {k}"),
                Next::End => panic!("a pull of a missing image ended without an error"),
                Next::Timeout => panic!("pull stalled"),
            }
        },
    };
    assert!(
        matches!(err["kind"].as_str(), Some("not_found" | "api")),
        "{err}"
    );
    assert_eq!(err["operation"], "ImageCreate", "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("dockhand-native-missing"),
        "{err}"
    );
}

fn resize(s: &Stream, rows: u32, cols: u32) -> Result<(), Value> {
    let (mut e, mut n) = (ptr::null_mut(), 0);
    // SAFETY: valid pointers; the stream is alive.
    let code = unsafe { dh_stream_resize(s.0, rows, cols, &mut e, &mut n) };
    let err = take(e, n);
    match code {
        DH_OK => Ok(()),
        DH_ERROR => Err(serde_json::from_slice(&err).expect("error JSON")),
        other => panic!("resize: unexpected status {other}"),
    }
}

fn open_with_body(c: &Client, id: &str, params: &Value, body: &Value) -> Stream {
    let p = params.to_string();
    let b = body.to_string();
    let mut s = ptr::null_mut();
    let (mut e, mut n) = (ptr::null_mut(), 0);
    // SAFETY: valid pointers and lengths; the client is alive.
    let code = unsafe {
        dh_stream_open(
            c.0,
            id.as_ptr(),
            id.len(),
            p.as_ptr(),
            p.len(),
            b.as_ptr(),
            b.len(),
            &mut s,
            &mut e,
            &mut n,
        )
    };
    let err = take(e, n);
    assert_eq!(code, DH_OK, "{id}: {}", String::from_utf8_lossy(&err));
    Stream(s)
}

/// A TTY's console output to the end of the stream.
fn console_to_end(s: &Stream) -> String {
    let mut out = Vec::new();
    loop {
        match next(s, 10_000) {
            Next::Item(DH_ITEM_CONSOLE, b) => out.extend(b),
            Next::Item(k, b) => panic!("unexpected item {k}: {b:?}"),
            Next::End => break,
            Next::Timeout => panic!("the TTY's output did not end"),
            Next::Error(e) => panic!("{e}"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `stty size` after the resize prints the new size: the exec's TTY
/// (`ExecResize`) and the attached container's (`ContainerResize`). Without
/// a resize the TTY would be 0 × 0.
#[test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
fn a_tty_is_resized_through_its_attach_or_exec_stream() {
    let c = daemon();
    // Exec: sh waits for a line on stdin, then reports its terminal's size.
    let ctr = run(&c, &["sleep", "60"]);
    let script = ["sh", "-c", "read go; stty size"];
    let exec = call_json(
        &c,
        "ContainerExec",
        &json!({"id": ctr.1}),
        Some(&json!({"Cmd": script, "AttachStdin": true, "AttachStdout": true, "Tty": true})),
    );
    let exec_id = exec["Id"].as_str().expect("exec Id").to_owned();
    let s = open_with_body(
        &c,
        "ExecStart",
        &json!({"id": exec_id}),
        &json!({"Detach": false, "Tty": true}),
    );
    let e = resize(&s, 24, 0).unwrap_err();
    assert_eq!(e["kind"], "invalid_argument", "{e}");
    resize(&s, 41, 117).expect("resize the exec");
    write_stdin(&s, b"go\n").expect("write");
    let out = console_to_end(&s);
    assert!(out.contains("41 117"), "stty size said {out:?}");

    // A stream without a TTY, and one that is not an attach or exec, refuse.
    let exec = call_json(
        &c,
        "ContainerExec",
        &json!({"id": ctr.1}),
        Some(&json!({"Cmd": ["true"], "AttachStdout": true})),
    );
    let plain = open_with_body(
        &c,
        "ExecStart",
        &json!({"id": exec["Id"]}),
        &json!({"Detach": false, "Tty": false}),
    );
    let e = resize(&plain, 24, 80).unwrap_err();
    assert_eq!(e["kind"], "invalid_argument", "{e}");
    assert!(e["message"].as_str().unwrap().contains("no TTY"), "{e}");
    let logs = open(&c, "ContainerLogs", &json!({"id": ctr.1, "stdout": true})).unwrap();
    let e = resize(&logs, 24, 80).unwrap_err();
    assert_eq!(e["kind"], "invalid_argument", "{e}");

    // Attach: the container's TTY, found from its configuration.
    let created = call_json(
        &c,
        "ContainerCreate",
        &json!({}),
        Some(&json!({
            "Image": env_image(),
            "Cmd": script,
            "Tty": true,
            "OpenStdin": true,
            "AttachStdin": true,
            "AttachStdout": true,
        })),
    );
    let ctr = Container(&c, created["Id"].as_str().unwrap().to_owned());
    call(&c, "ContainerStart", &json!({"id": ctr.1}), None).expect("start");
    let s = open(
        &c,
        "ContainerAttach",
        &json!({"id": ctr.1, "stream": true, "stdin": true, "stdout": true}),
    )
    .expect("attach");
    resize(&s, 29, 93).expect("resize the container");
    write_stdin(&s, b"go\n").expect("write");
    let out = console_to_end(&s);
    assert!(out.contains("29 93"), "stty size said {out:?}");
    // A daemon error comes back as the resize operation's.
    call(
        &c,
        "ContainerDelete",
        &json!({"id": ctr.1, "force": true}),
        None,
    )
    .expect("delete");
    let e = resize(&s, 30, 90).unwrap_err();
    assert_eq!(e["kind"], "not_found", "{e}");
    assert_eq!(e["operation"], "ContainerResize", "{e}");
}

/// Cancelling or freeing an attach stream closes its connection: the daemon
/// sees the attached stdin end, and a `StdinOnce` container's `cat` exits.
#[test]
#[ignore = "needs the test environment (scripts/test-env.sh)"]
fn a_cancelled_or_freed_attach_stream_closes_its_connection() {
    let c = daemon();
    for how in ["cancel", "free"] {
        let created = call_json(
            &c,
            "ContainerCreate",
            &json!({}),
            Some(&json!({
                "Image": env_image(),
                "Cmd": ["cat"],
                "OpenStdin": true,
                "StdinOnce": true,
                "AttachStdin": true,
                "AttachStdout": true,
            })),
        );
        let ctr = Container(&c, created["Id"].as_str().unwrap().to_owned());
        let s = open(
            &c,
            "ContainerAttach",
            &json!({"id": ctr.1, "stream": true, "stdin": true, "stdout": true}),
        )
        .expect("attach");
        call(&c, "ContainerStart", &json!({"id": ctr.1}), None).expect("start");
        write_stdin(&s, b"before\n").expect("write");
        match next(&s, 10_000) {
            Next::Item(DH_ITEM_STDOUT, b) => assert_eq!(b, b"before\n"),
            _ => panic!("{how}: cat did not echo"),
        }
        let running = |c: &Client| {
            call_json(c, "ContainerInspect", &json!({"id": ctr.1}), None)["State"]["Running"]
                == json!(true)
        };
        assert!(running(&c), "{how}: cat runs while attached");
        let kept = if how == "cancel" {
            // SAFETY: the stream is alive (freed by its guard later).
            unsafe { dh_stream_cancel(s.0) };
            Some(s)
        } else {
            drop(s);
            None
        };
        let start = Instant::now();
        while running(&c) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{how}: the connection stayed open (cat still runs)"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Some(s) = kept {
            let e = write_stdin(&s, b"after").unwrap_err();
            assert_eq!(e["kind"], "cancelled", "{how}: {e}");
        }
    }
}
