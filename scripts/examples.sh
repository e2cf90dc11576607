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

# cp: a directory into a container and back out, identical (contents, modes, links).
docker_cli=/usr/bin/docker
cp_tmp=$(mktemp -d)
cp_ctr=$("$docker_cli" create "$DOCKHAND_TEST_IMAGE" true)
cleanup_cp() {
  rm -rf "$cp_tmp"
  "$docker_cli" rm -f "$cp_ctr" >/dev/null 2>&1 || true
}
trap cleanup_cp EXIT
mkdir -p "$cp_tmp/in/tree/nested/deeper" "$cp_tmp/out"
printf 'hello\n' >"$cp_tmp/in/tree/a.txt"
: >"$cp_tmp/in/tree/empty"
head -c 300000 /dev/urandom >"$cp_tmp/in/tree/nested/deeper/blob.bin"
printf '#!/bin/sh\necho hi\n' >"$cp_tmp/in/tree/run.sh"
chmod 0755 "$cp_tmp/in/tree/run.sh"
chmod 0750 "$cp_tmp/in/tree/nested"
ln -s ../a.txt "$cp_tmp/in/tree/nested/link"
run "cp (host to container)" "copied" "$ex/cp" "$cp_tmp/in/tree" "$cp_ctr:/tmp"
run "cp (container to host)" "copied" "$ex/cp" "$cp_ctr:/tmp/tree" "$cp_tmp/out"
listing() { (cd "$1" && find . -printf '%p %y %m %l\n' | sort); }
if ! out=$(diff -r --no-dereference "$cp_tmp/in/tree" "$cp_tmp/out/tree" 2>&1 &&
  diff <(listing "$cp_tmp/in/tree") <(listing "$cp_tmp/out/tree") 2>&1); then
  printf '[examples] FAIL cp round trip differs:\n%s\n' "$out" >&2
  exit 1
fi
echo "[examples] ok   cp round trip is identical (diff -r, modes, links)"
passed=$((passed + 1))
# A missing container fails, and says so.
if out=$("$ex/cp" "$cp_tmp/in/tree" dockhand-no-such-container:/tmp 2>&1); then
  echo "[examples] FAIL cp to a missing container succeeded: $out" >&2
  exit 1
fi
grep -q "No such container" <<<"$out" || { echo "[examples] FAIL cp (missing container) gave no reason: $out" >&2; exit 1; }
echo "[examples] ok   cp to a missing container is refused"
passed=$((passed + 1))
echo "examples: $passed passed, 0 failed"
