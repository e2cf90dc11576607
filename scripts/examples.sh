#!/usr/bin/env bash
# Runs the examples against the test environment and checks their exit status
# and output. Called by scripts/test.sh after the environment is up.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck disable=SC1091
source "${DOCKHAND_TEST_ENV_DIR:-/var/lib/dockhand-test-env}/env.sh"

cargo build --quiet --examples --features testing
run() { # NAME EXPECTED-SUBSTRING COMMAND...
  local name=$1 want=$2 out status=0
  shift 2
  out=$("$@" 2>&1) || status=$?
  if [ "$status" -ne 0 ]; then
    printf '[examples] FAIL %s (exit status %s):\n%s\n' "$name" "$status" "$out" >&2
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
cleanups=()
run_cleanups() { local c; for c in "${cleanups[@]}"; do "$c"; done; }
trap run_cleanups EXIT
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
# run: output streamed, exit code passed on, container removed.
run "run (exit code passed on)" "out-and-err" bash -c \
  "$ex/run $DOCKHAND_TEST_IMAGE sh -c 'echo out-and-err; echo to-stderr >&2; exit 3' 2>&1; test \$? -eq 3"
# exec: stdin reaches the process, EOF ends it, its exit code is ours.
DOCKER_CLI=/usr/bin/docker
[ -x "$DOCKER_CLI" ] || DOCKER_CLI=docker
cid=$("$DOCKER_CLI" run -d "$DOCKHAND_TEST_IMAGE" sleep 120)
remove_exec_container() { "$DOCKER_CLI" rm -f "$cid" >/dev/null 2>&1 || true; }
cleanups+=(remove_exec_container)
run "exec (stdin to cat)" "piped-through-exec" bash -c "echo piped-through-exec | $ex/exec $cid cat"
run "exec (exit code passed on)" "exit-seven" bash -c "$ex/exec $cid sh -c 'echo exit-seven; exit 7' </dev/null; test \$? -eq 7"
# exec on a terminal (script(1) provides one): a TTY is allocated.
run "exec (TTY when stdin is a terminal)" "/dev/pts/" bash -c \
  "script -qec \"$ex/exec $cid sh -c 'tty; exit 5'\" /dev/null </dev/null | tr -d '\\000'; test \${PIPESTATUS[0]} -eq 5"
# events: a labelled container's life, within a closed time window.
since=$(date +%s)
label="dockhand-examples-$$"
"$DOCKER_CLI" run --rm --label "$label=1" "$DOCKHAND_TEST_IMAGE" true
until=$(($(date +%s) + 1))
sleep 1.5
run "events (filters and window)" "container die" timeout 60 "$ex/events" --since "$since" --until "$until" \
  --filter "label=$label" --filter type=container
# pull: credentials from a config.json `auths` entry (as `docker login` writes
# it) in a temporary DOCKER_CONFIG; the example has no auth code. The local
# tag goes first, so the registry must serve the manifest to these credentials.
pullcfg=$(mktemp -d)
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$DOCKHAND_AUTH_REGISTRY" \
  "$(printf '%s:%s' "$DOCKHAND_REGISTRY_USER" "$DOCKHAND_REGISTRY_PASSWORD" | base64 -w0)" >"$pullcfg/config.json"
pullref="$DOCKHAND_AUTH_REGISTRY/dockhand-test/busybox:latest"
"$DOCKER_CLI" rmi "$pullref" >/dev/null 2>&1 || true
run "pull (config.json auths)" "Downloaded newer image for $pullref" env DOCKER_CONFIG="$pullcfg" "$ex/pull" "$pullref"
# Without credentials the registry refuses, and the example says why.
if out=$(env DOCKER_CONFIG="$pullcfg/empty" "$ex/pull" "$pullref" 2>&1); then
  echo "[examples] FAIL pull (no credentials) succeeded: $out" >&2
  exit 1
fi
grep -q "no basic auth credentials" <<<"$out" || { echo "[examples] FAIL pull (no credentials) gave no reason: $out" >&2; exit 1; }
echo "[examples] ok   pull (no credentials) is refused"
passed=$((passed + 1))
rm -rf "$pullcfg"

# cp: a directory into a container and back out, identical (contents, modes, links).
docker_cli=/usr/bin/docker
cp_tmp=$(mktemp -d)
cp_ctr=$("$docker_cli" create "$DOCKHAND_TEST_IMAGE" true)
cleanup_cp() {
  rm -rf "$cp_tmp"
  "$docker_cli" rm -f "$cp_ctr" >/dev/null 2>&1 || true
}
cleanups+=(cleanup_cp)
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
# build: a directory (a file, a RUN) into an image, then a failing RUN.
ctx=$(mktemp -d)
tag="dockhand-test/example-build:$$"
cleanup_build() {
  rm -rf "$ctx"
  "$DOCKER_CLI" image rm -f "$tag" >/dev/null 2>&1 || true
}
cleanups+=(cleanup_build)
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
# build --kit: the same with BuildKit, progress printed like --progress=plain.
printf 'FROM %s\nCOPY greeting.txt /greeting.txt\nRUN cat /greeting.txt\n' "$DOCKHAND_TEST_IMAGE" >"$ctx/Dockerfile"
# Text of this run only, so that the RUN step is not a cached one.
echo "hello from BuildKit, run $$-$RANDOM" >"$ctx/greeting.txt"
run "build --kit (a directory)" "$(cat "$ctx/greeting.txt")" "$ex/build" --kit "$ctx" "$tag"
out=$("$ex/build" --kit "$ctx" "$tag" 2>&1)
grep -q "image id: sha256:" <<<"$out" || { echo "[examples] FAIL build --kit gave no image id: $out" >&2; exit 1; }
grep -q "^#[0-9]* \[internal\] load build definition from Dockerfile" <<<"$out" \
  || { echo "[examples] FAIL build --kit printed no plain progress: $out" >&2; exit 1; }
printf 'FROM %s\nRUN echo failing-step-output && false\n' "$DOCKHAND_TEST_IMAGE" >"$ctx/Dockerfile"
if out=$("$ex/build" --kit "$ctx" "$tag" 2>&1); then
  echo "[examples] FAIL build --kit (RUN false) succeeded: $out" >&2
  exit 1
fi
grep -q "  | failing-step-output" <<<"$out" \
  || { echo "[examples] FAIL build --kit (RUN false) did not show the step's output: $out" >&2; exit 1; }
echo "[examples] ok   build --kit (RUN false) exits non-zero with the step's output"
passed=$((passed + 1))

# The same examples against the fake daemon (dockhand::testing), as a
# process: DOCKER_HOST points at it, nothing else changes.
fake_fifo=$(mktemp -u)
mkfifo "$fake_fifo"
"$ex/fake_daemon" --api 1.41 --pullable 127.0.0.1:5000/team/app:1 <"$fake_fifo" >"$fake_fifo.out" 2>&1 &
fake_pid=$!
exec 7>"$fake_fifo" # its stdin: closing it ends the fake
stop_fake() {
  exec 7>&- || true
  kill "$fake_pid" 2>/dev/null || true
  rm -f "$fake_fifo" "$fake_fifo.out"
}
cleanups+=(stop_fake)
for _ in $(seq 50); do grep -q '^DOCKER_HOST=tcp' "$fake_fifo.out" 2>/dev/null && break; sleep 0.1; done
fake_host=$(sed -n 's/^DOCKER_HOST=\(tcp:.*\)/\1/p' "$fake_fifo.out")
fake_unix=$(sed -n 's/^DOCKER_HOST=\(unix:.*\)/\1/p' "$fake_fifo.out")
[ -n "$fake_host" ] || { echo "[examples] FAIL fake_daemon did not start: $(cat "$fake_fifo.out")" >&2; exit 1; }
run "fake: demo" "fake-box" env DOCKER_HOST="$fake_host" "$ex/demo"
run "fake: version (unix socket)" "API version: 1.41" env DOCKER_HOST="$fake_unix" "$ex/version"
run "fake: run (exit code passed on)" "out-and-err" bash -c \
  "DOCKER_HOST=$fake_host $ex/run busybox sh -c 'echo out-and-err; echo to-stderr >&2; exit 3' 2>&1; test \$? -eq 3"
run "fake: exec (stdin to cat)" "piped-through-exec" bash -c "echo piped-through-exec | DOCKER_HOST=$fake_host $ex/exec fake-box cat"
run "fake: exec (exit code passed on)" "exit-seven" bash -c \
  "DOCKER_HOST=$fake_host $ex/exec fake-box sh -c 'echo exit-seven; exit 7' </dev/null; test \$? -eq 7"
run "fake: exec (TTY when stdin is a terminal)" "/dev/pts/" bash -c \
  "script -qec \"env DOCKER_HOST=$fake_host $ex/exec fake-box sh -c 'tty; exit 5'\" /dev/null </dev/null | tr -d '\\000'; test \${PIPESTATUS[0]} -eq 5"
run "fake: pull (scripted progress)" "Downloaded newer image for 127.0.0.1:5000/team/app:1" \
  env DOCKER_HOST="$fake_host" "$ex/pull" 127.0.0.1:5000/team/app:1
run "fake: events (what the runs above did)" "container die" env DOCKER_HOST="$fake_host" timeout 60 "$ex/events" \
  --since 0 --until "$(($(date +%s) + 1))" --filter type=container --filter event=die
echo "examples: $passed passed, 0 failed"
