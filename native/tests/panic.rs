//! No panic crosses the boundary: every exported function runs its work
//! under the library's guard, a caught panic comes back as an error JSON of
//! kind `panic` with its message and place, and `dh_set_panic_output(0)`
//! keeps it off the host's stderr. One test per concern; the hook test is
//! alone in this binary's first test because it installs the process's hook.

use dockhand_native::{dh_buf_free, dh_set_panic_output, guarded, DH_ERROR, DH_OK};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `f` under the guard, as an exported function would.
fn run(f: impl FnOnce() -> Result<Vec<u8>, Value>) -> (i32, Vec<u8>) {
    let mut out = std::ptr::null_mut();
    let mut len = 0usize;
    // SAFETY: both out-pointers point to local storage.
    let code = unsafe { guarded(&mut out, &mut len, f) };
    let bytes = if out.is_null() {
        Vec::new()
    } else {
        // SAFETY: the library returned `len` bytes at `out`.
        unsafe { std::slice::from_raw_parts(out, len) }.to_vec()
    };
    // SAFETY: the pair came from the library, freed once.
    unsafe { dh_buf_free(out, len) };
    (code, bytes)
}

#[test]
fn a_panic_is_an_error_with_its_place_and_printed_only_when_asked() {
    // Stands for std's printing hook: the library's hook, installed on top of
    // it at its first use, passes panics on to it only while output is on.
    static PRINTED: AtomicUsize = AtomicUsize::new(0);
    std::panic::set_hook(Box::new(|_| {
        PRINTED.fetch_add(1, Ordering::SeqCst);
    }));

    let (code, out) = run(|| panic!("first on purpose"));
    assert_eq!(code, DH_ERROR);
    let e: Value = serde_json::from_slice(&out).expect("error JSON");
    assert_eq!(e["kind"], "panic", "{e}");
    let message = e["message"].as_str().expect("message");
    assert!(message.contains("first on purpose"), "{message}");
    assert!(
        message.contains("native/tests/panic.rs:"),
        "the place: {message}"
    );
    assert_eq!(PRINTED.load(Ordering::SeqCst), 1, "printed by default");

    assert_eq!(dh_set_panic_output(0), 1, "it was on");
    let (code, out) = run(|| panic!("second, {}", "formatted"));
    assert_eq!(code, DH_ERROR);
    let e: Value = serde_json::from_slice(&out).expect("error JSON");
    assert_eq!(e["kind"], "panic");
    assert!(
        e["message"].as_str().unwrap().contains("second, formatted"),
        "{e}"
    );
    assert_eq!(PRINTED.load(Ordering::SeqCst), 1, "quiet: nothing printed");

    // A panic on another thread (a stream's reader is one) is quiet too.
    let h = std::thread::spawn(|| run(|| panic!("on another thread")));
    let (code, _) = h.join().expect("the guard caught it");
    assert_eq!(code, DH_ERROR);
    assert_eq!(PRINTED.load(Ordering::SeqCst), 1);

    assert_eq!(dh_set_panic_output(1), 0, "it was off");
    let (code, _) = run(|| panic!("third"));
    assert_eq!(code, DH_ERROR);
    assert_eq!(PRINTED.load(Ordering::SeqCst), 2, "printed again");

    // Answers that do not panic are untouched.
    assert_eq!(run(|| Ok(b"fine".to_vec())), (DH_OK, b"fine".to_vec()));
}

/// Every exported function of `src/lib.rs` runs its work inside the guard
/// (`guarded` for those that answer, `shielded` for free/cancel), or is
/// one of the few that cannot panic; a new export without either fails here.
#[test]
fn every_exported_function_is_guarded() {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs"))
        .expect("read src/lib.rs");
    let mut exported = 0;
    for piece in src.split("#[no_mangle]").skip(1) {
        let name = piece
            .split("fn ")
            .nth(1)
            .and_then(|s| s.split('(').next())
            .expect("a function after #[no_mangle]");
        // The body: up to the first line that closes the function.
        let body = piece.split("\n}\n").next().expect("body");
        let guarded = body.contains("guarded(") || body.contains("shielded(");
        // Functions whose whole body forwards to a guarded export.
        let forwards = body.contains("unsafe { dh_client_new(");
        // Only an atomic swap after installing the hook (which runs once,
        // before any panic is possible).
        let trivial = name == "dh_set_panic_output";
        assert!(
            guarded || forwards || trivial,
            "{name}: exported without a panic guard"
        );
        exported += 1;
    }
    assert!(exported >= 13, "found only {exported} exports");
}
