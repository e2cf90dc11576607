#!/usr/bin/env bash
# The project's one test command: brings up the real test environment, checks
# that generated code is up to date, and runs every test of the workspace.
# Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# A test run builds once: incremental artefacts only cost disk here.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

scripts/test-env.sh
# Podman's Docker-compatible API beside dockerd, for tests/podman.rs (which
# reads the facts file this writes).
scripts/podman.sh
# shellcheck disable=SC1091
source "${DOCKHAND_TEST_ENV_DIR:-/var/lib/dockhand-test-env}/env.sh"

if [ -d ../shared/docker-engine-api ]; then
  cargo run --quiet -p codegen -- --check
else
  echo "[test] ../shared/docker-engine-api not found: checking generated code against api-spec/ only"
  cargo run --quiet -p codegen -- generate --check
fi
# Tests that need the environment are #[ignore]d so that a plain `cargo test`
# lists them as not run; here the environment is up, so they run too.
with_env_tests() {
  case " $* " in
    *" -- "*) cargo test "$@" --include-ignored ;;
    *) cargo test "$@" -- --include-ignored ;;
  esac
}
with_env_tests --workspace "$@"
# The native library from C (header, shared and static) and Python (ctypes).
scripts/native.sh
# Without the default features (no TLS, no ssh): the library builds, and
# hosts that need them are refused with the feature's name.
cargo test -p dockhand --no-default-features --lib "$@"
# The `testing` feature (the fake daemon): its unit and doc tests, its own
# tests, and the conformance suite against the real daemon and the fake.
with_env_tests -p dockhand --features testing --lib --test conformance --test fake_daemon "$@"
cargo test -p dockhand --features testing --doc -- testing ReadmeDoctests
scripts/examples.sh
# The Windows build and the named-pipe tests under Wine (installs what it
# needs the first time).
scripts/windows.sh
