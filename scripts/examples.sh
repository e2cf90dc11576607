#!/usr/bin/env bash
# Runs the examples against the test environment and checks their exit status
# and output. Called by scripts/test.sh after the environment is up.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck disable=SC1091
source "${DOCKHAND_TEST_ENV_DIR:-/var/lib/dockhand-test-env}/env.sh"

cargo build --quiet --examples
run() { # NAME EXPECTED-SUBSTRING COMMAND...
  local name=$1 want=$2 out
  shift 2
  if ! out=$("$@" 2>&1); then
    printf '[examples] FAIL %s (exit status %s):\n%s\n' "$name" "$?" "$out" >&2
    exit 1
  fi
  if ! grep -q -- "$want" <<<"$out"; then
    printf '[examples] FAIL %s: output lacks %q:\n%s\n' "$name" "$want" "$out" >&2
    exit 1
  fi
  echo "[examples] ok   $name"
  passed=$((passed + 1))
}
passed=0
ex=target/debug/examples
run "demo (unix socket)" "negotiated API 1.41" env -u DOCKER_HOST "$ex/demo"
run "version (unix socket)" "API version: 1.41" env DOCKER_HOST=unix:///var/run/docker.sock "$ex/version"
run "version (mutual TLS)" "API version: 1.41" env DOCKER_HOST="$DOCKHAND_TLS_HOST" DOCKER_TLS_VERIFY=1 \
  DOCKER_CERT_PATH="$DOCKHAND_TLS_CERT_PATH" "$ex/version"
run "version (ssh)" "API version: 1.41" env DOCKER_HOST="$DOCKHAND_SSH_HOST" "$ex/version"
# A wrong CA must fail, and say why.
if out=$(env DOCKER_HOST="$DOCKHAND_TLS_HOST" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$DOCKHAND_TLS_WRONG_CA_PATH" "$ex/version" 2>&1); then
  echo "[examples] FAIL version (wrong CA) succeeded: $out" >&2
  exit 1
fi
grep -q UnknownIssuer <<<"$out" || { echo "[examples] FAIL version (wrong CA) gave no reason: $out" >&2; exit 1; }
echo "[examples] ok   version (wrong CA) is refused"
passed=$((passed + 1))
# build: a directory (a file, a RUN) into an image, then a failing RUN.
ctx=$(mktemp -d)
tag="dockhand-test/example-build:$$"
cleanup_build() {
  rm -rf "$ctx"
  docker image rm -f "$tag" >/dev/null 2>&1 || true
}
trap cleanup_build EXIT
printf 'FROM %s\nCOPY greeting.txt /greeting.txt\nRUN cat /greeting.txt\n' "$DOCKHAND_TEST_IMAGE" >"$ctx/Dockerfile"
echo "hello from the build context" >"$ctx/greeting.txt"
run "build (a directory)" "image id: sha256:" "$ex/build" "$ctx" "$tag"
printf 'FROM %s\nRUN false\n' "$DOCKHAND_TEST_IMAGE" >"$ctx/Dockerfile"
if out=$("$ex/build" "$ctx" "$tag" 2>&1); then
  echo "[examples] FAIL build (RUN false) succeeded: $out" >&2
  exit 1
fi
grep -q "returned a non-zero code" <<<"$out" \
  || { echo "[examples] FAIL build (RUN false) gave no reason: $out" >&2; exit 1; }
echo "[examples] ok   build (RUN false) exits non-zero with the daemon's message"
passed=$((passed + 1))
echo "examples: $passed passed, 0 failed"
