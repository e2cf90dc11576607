#!/usr/bin/env bash
# dockhand on Windows, as far as this Linux machine can take it:
#   1. `cargo clippy --target x86_64-pc-windows-gnu -- -D warnings` of the
#      library, the native library, their tests and examples (Debian's clippy
#      of the same rustc): no error and no warning allowed;
#   2. the named-pipe test (tests/windows/npipe.rs) built for Windows and run
#      under Wine, each test in a process of its own, through a pipe served
#      like dockerd's and bridged to the real test daemon by socat;
#   3. the native library (native/) built as dockhand_native.dll and the C
#      program of native/tests/c/smoke.c built with mingw against it: run
#      under Wine through such a pipe by one of those tests (every check it
#      makes on Linux), the shape in which a PowerShell module loads it.
# Wine is not Windows: see the README's "Windows" section.
#
# Installs what it needs once (as root; apt-get update only when a package is
# missing): Debian's rustc-web/cargo-web (Rust 1.96, bookworm-security) and
# rust-web-src to build the Windows std from source, rust-web-clippy to lint,
# mingw-w64 to link, wine64
# to run, socat to bridge. Builds in $CARGO_TARGET_DIR (target/windows), with
# the linker given on the command line: the normal Linux build is untouched.
# Prints PASS/FAIL per step and ends with "N passed, M failed".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

TARGET=x86_64-pc-windows-gnu
export CARGO_TARGET_DIR=${DOCKHAND_WINDOWS_TARGET_DIR:-$ROOT/target/windows}
WORK=$CARGO_TARGET_DIR/wine-run
mkdir -p "$WORK"

log() { printf '[windows] %s\n' "$*"; }
die() { printf '[windows] ERROR: %s\n' "$*" >&2; exit 1; }

# --- packages -----------------------------------------------------------------
pkgs=(rustc-web cargo-web rust-web-src rust-web-clippy binutils-mingw-w64-x86-64 gcc-mingw-w64-x86-64 wine64 socat)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "must run as root to install ${missing[*]}"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$WORK/apt.log" 2>&1 \
    || { tail -20 "$WORK/apt.log" >&2; die "apt-get install failed"; }
fi
WINE=/usr/lib/wine/wine64
[ -x "$WINE" ] || WINE=$(command -v wine64) || die "wine64 not found"

# The test environment (dockerd, the 127.0.0.1:5000 registry, the test image).
if [ -z "${DOCKHAND_TEST_ENV:-}" ]; then
  scripts/test-env.sh
fi
# shellcheck disable=SC1091
source "${DOCKHAND_TEST_ENV_DIR:-/var/lib/dockhand-test-env}/env.sh"

# Debian's rustc 1.96 with the std built from rust-web-src; rustup's toolchain
# (on PATH) cannot fetch a Windows std here.
wcargo() {
  local sub=$1
  shift
  # /usr/bin first: `cargo clippy` must find Debian's cargo-clippy (the
  # clippy of rustc 1.96), not rustup's proxy in ~/.cargo/bin.
  PATH=/usr/bin:$PATH RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc nice /usr/bin/cargo "$sub" \
    -Zbuild-std=std,panic_abort --target "$TARGET" \
    --config "target.$TARGET.linker=\"x86_64-w64-mingw32-gcc\"" "$@"
}
log "$(/usr/bin/rustc --version) for $TARGET, in $CARGO_TARGET_DIR"

passed=0
failed=0
pass() { printf '[windows] PASS %s\n' "$*"; passed=$((passed + 1)); }
fail() { printf '[windows] FAIL %s\n' "$*"; failed=$((failed + 1)); }

# --- 1. the lints ---------------------------------------------------------------
# clippy with warnings denied, as .ci/run does for Linux: the Windows-only
# code (named pipes, paths, the native library's Windows side) is linted too.
status=0
wcargo clippy -p dockhand -p dockhand-native --lib --tests --examples -- -D warnings \
  >"$WORK/check.log" 2>&1 || status=$?
if [ "$status" -eq 0 ] && ! grep -qE '^(warning|error)' "$WORK/check.log"; then
  pass "cargo clippy --target $TARGET (library, native library, tests, examples): no warnings"
else
  grep -E '^(warning|error)' -A8 "$WORK/check.log" | head -60 || tail -30 "$WORK/check.log"
  fail "cargo clippy --target $TARGET (library, native library, tests, examples): exit $status, warnings or errors above"
fi

# --- 2. Windows test executables ----------------------------------------------
# The library's unit tests and the pipe test. Prints the executable's path.
build_tests() { # NAME CARGO-ARGS...
  local name=$1 status=0 exe
  shift
  wcargo test -p dockhand "$@" --no-run --message-format=json \
    >"$WORK/build-$name.json" 2>"$WORK/build-$name.log" || status=$?
  exe=$(grep "\"name\":\"$name\"" "$WORK/build-$name.json" \
    | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1 || true)
  if [ "$status" -ne 0 ] || [ -z "$exe" ] || [ ! -f "$exe" ]; then
    tail -30 "$WORK/build-$name.log" >&2
    return 1
  fi
  echo "$exe"
}
if ! unit_exe=$(build_tests dockhand --lib) || ! pipe_exe=$(build_tests windows_npipe --test windows_npipe); then
  fail "build the test executables for $TARGET"
  echo "$passed passed, $failed failed"
  exit 1
fi
status=0
wcargo build -p dockhand --examples >"$WORK/build-examples.log" 2>&1 || status=$?
examples_dir=$CARGO_TARGET_DIR/$TARGET/debug/examples
if [ "$status" -ne 0 ] || [ ! -f "$examples_dir/exec.exe" ]; then
  tail -30 "$WORK/build-examples.log"
  fail "build the examples for $TARGET"
  echo "$passed passed, $failed failed"
  exit 1
fi
pass "build the library's unit tests, tests/windows/npipe.rs and the examples for $TARGET"

# The native library as a Windows DLL, and the C program linked to it through
# its import library (not the static one): what P/Invoke would load. A
# failure here also fails native_c_program_through_the_pipe (no program).
native_dir=$CARGO_TARGET_DIR/native-c
dll_dir=$CARGO_TARGET_DIR/$TARGET/debug
mkdir -p "$native_dir"
rm -f "$native_dir/smoke.exe" "$native_dir/dockhand_native.dll"
status=0
wcargo build -p dockhand-native >"$WORK/build-native.log" 2>&1 || status=$?
if [ "$status" -eq 0 ] && ! grep -qE '^(warning|error)' "$WORK/build-native.log" \
  && x86_64-w64-mingw32-gcc -std=c11 -Wall -Wextra -Werror -pedantic -I native/include \
    native/tests/c/smoke.c "$dll_dir/libdockhand_native.dll.a" -o "$native_dir/smoke.exe" \
    >"$WORK/build-smoke.log" 2>&1 \
  && x86_64-w64-mingw32-objdump -p "$native_dir/smoke.exe" | grep -q 'DLL Name: dockhand_native.dll'; then
  cp "$dll_dir/dockhand_native.dll" "$native_dir/"
  pass "build dockhand_native.dll and native/tests/c/smoke.c against it (mingw) for $TARGET: no warnings"
  # What P/Invoke finds in the DLL: exactly the header's functions.
  exported=$(x86_64-w64-mingw32-objdump -p "$native_dir/dockhand_native.dll" \
    | sed -n 's/^\s*\[ *[0-9]*\] \+\(dh_[a-z_]*\)$/\1/p' | sort)
  declared=$(grep -o '^[a-z0-9_ ]*\bdh_[a-z_]*(' native/include/dockhand.h \
    | sed 's/.*\b\(dh_[a-z_]*\)(/\1/' | sort)
  if [ -n "$declared" ] && [ "$exported" = "$declared" ]; then
    pass "dockhand_native.dll exports the header's $(wc -w <<<"$declared") functions, and nothing else named dh_"
  else
    diff <(echo "$declared") <(echo "$exported") || true
    fail "dockhand_native.dll exports differ from native/include/dockhand.h (< header, > DLL)"
  fi
else
  grep -E '^(warning|error)' -A8 "$WORK/build-native.log" | head -40 || true
  tail -20 "$WORK/build-native.log" "$WORK/build-smoke.log" 2>/dev/null || true
  fail "build dockhand_native.dll and native/tests/c/smoke.c against it for $TARGET"
fi

# ProcessPrng for Wine 8 (see tests/windows/bcryptprimitives.c), beside the exes.
dll=$CARGO_TARGET_DIR/bcryptprimitives.dll
if [ ! -f "$dll" ] || [ tests/windows/bcryptprimitives.c -nt "$dll" ]; then
  x86_64-w64-mingw32-gcc -shared -O2 -o "$dll" tests/windows/bcryptprimitives.c -ladvapi32
fi
cp "$dll" "$(dirname "$unit_exe")/"
cp "$dll" "$(dirname "$pipe_exe")/"
cp "$dll" "$examples_dir/"
cp "$dll" "$native_dir/"

export WINEPREFIX=$CARGO_TARGET_DIR/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES='mscoree,mshtml='
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  log "creating the Wine prefix $WINEPREFIX"
  "$WINE" wineboot --init >"$WORK/wineboot.log" 2>&1 || true
fi

# --- 3. the library's unit tests under Wine -----------------------------------
status=0
timeout 300 "$WINE" "$unit_exe" >"$WORK/unit.log" 2>&1 || status=$?
summary=$(tr -d '\r' <"$WORK/unit.log" | grep '^test result:' | tail -1 || true)
if [ "$status" -eq 0 ] && [[ "$summary" == "test result: ok."* ]]; then
  pass "wine: the library's unit tests (${summary#test result: ok. })"
else
  tr -d '\r' <"$WORK/unit.log" | grep -E '^(----|thread|test .*FAILED|  left|  right)' | head -40 || true
  fail "wine: the library's unit tests (exit $status; $summary)"
fi

# --- 4. the pipe tests under Wine ---------------------------------------------
exe=$pipe_exe

# The bridge: pipe server (in the test) -> 127.0.0.1:PORT -> socat -> dockerd.
socat_pid=
pull_ref=
cleanup() {
  [ -n "$socat_pid" ] && kill "$socat_pid" 2>/dev/null || true
  local left
  for label in dockhand-wine dockhand-native-c; do
    left=$(docker ps -aq --filter "label=$label" 2>/dev/null || true)
    [ -z "$left" ] || docker rm -f $left >/dev/null 2>&1 || true
  done
  [ -z "$pull_ref" ] || docker rmi -f "$pull_ref" >/dev/null 2>&1 || true
}
trap cleanup EXIT
# A random loopback port; socat exits at once when it is taken, then another.
# `-t 30`: after one side's end of input, the other side may go on for 30 s
# (an exec's output after its stdin ended).
port=
for _ in $(seq 1 20); do
  p=$((20000 + RANDOM % 20000))
  socat -t 30 "TCP-LISTEN:$p,bind=127.0.0.1,reuseaddr,fork" UNIX-CONNECT:/var/run/docker.sock \
    2>>"$WORK/socat.log" &
  socat_pid=$!
  for _ in $(seq 1 50); do
    kill -0 "$socat_pid" 2>/dev/null || break
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
    sleep 0.1
  done
  [ -z "$port" ] || break
  kill "$socat_pid" 2>/dev/null || true
  socat_pid=
done
[ -n "$port" ] || die "could not start the socat bridge on a loopback port (see $WORK/socat.log)"

# An image in the loopback registry that is not on the daemon: pulled with
# download progress by the test.
case "$DOCKHAND_REGISTRY" in 127.0.0.1:*) ;; *) die "DOCKHAND_REGISTRY is not a 127.0.0.1 registry" ;; esac
pull_ref=$DOCKHAND_REGISTRY/dockhand-wine/pull:$$-$RANDOM
blob_dir=$(mktemp -d)
head -c 300000 /dev/urandom >"$blob_dir/blob"
tar -C "$blob_dir" -c blob | docker import - "$pull_ref" >/dev/null
rm -rf "$blob_dir"
docker push "$pull_ref" >"$WORK/push.log" 2>&1 || { cat "$WORK/push.log"; die "push $pull_ref"; }
docker rmi "$pull_ref" >/dev/null

export DOCKHAND_WINE_BRIDGE=127.0.0.1:$port
export DOCKHAND_WINE_PULL_REF=$pull_ref
# Wine's drive Z: is the Unix root.
export DOCKHAND_WINE_EXAMPLES="Z:${examples_dir//\//\\}"
export DOCKHAND_WINE_NATIVE_SMOKE="Z:${native_dir//\//\\}\\smoke.exe"
DOCKHAND_WINE_DAEMON_VERSION=$(docker version --format '{{.Server.Version}}')
export DOCKHAND_WINE_DAEMON_VERSION

tests=$(timeout 120 "$WINE" "$exe" --list 2>/dev/null | sed -n 's/: test\r\{0,1\}$//p' || true)
[ -n "$tests" ] || { fail "list the tests of $(basename "$exe") under Wine"; echo "$passed passed, $failed failed"; exit 1; }
for t in $tests; do
  out=$WORK/$t.log
  status=0
  timeout 180 "$WINE" "$exe" --exact "$t" --nocapture >"$out" 2>&1 || status=$?
  if [ "$status" -eq 0 ] && grep -q 'test result: ok. 1 passed' "$out"; then
    # The test's own summary line (what it saw), when it printed one.
    note=$(tr -d '\r' <"$out" | grep -vE '^(running|test |$)' | tail -1 || true)
    pass "wine: $t${note:+ — $note}"
  else
    sed 's/\r$//' "$out" | grep -vE '^\s+(at |[0-9]+: )' | tail -25 || true
    fail "wine: $t (exit $status)"
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
