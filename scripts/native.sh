#!/usr/bin/env bash
# The native library (native/, issue 14) from outside Rust, against the real
# test environment: builds it, checks the C header compiles on its own,
# compiles the C program against the header and runs it (linked to the shared
# library, then to the static one), and runs the Python ctypes tests
# (installing pytest with pip if it is missing). Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

if [ -z "${DOCKHAND_TEST_ENV:-}" ]; then
  scripts/test-env.sh
  # shellcheck disable=SC1091
  source "${DOCKHAND_TEST_ENV_DIR:-/var/lib/dockhand-test-env}/env.sh"
fi

cargo build --quiet -p dockhand-native
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
lib_dir="$target_dir/debug"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

cflags=(-std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -pedantic -I native/include)
echo "[native] the header compiles alone (C and C++)"
printf '#include "dockhand.h"\nint main(void){return DH_OK;}\n' > "$out/h.c"
gcc "${cflags[@]}" "$out/h.c" -o "$out/h"
g++ -std=c++17 -Wall -Wextra -Werror -I native/include -x c++ "$out/h.c" -o "$out/hpp"

echo "[native] C program, shared library"
gcc "${cflags[@]}" native/tests/c/smoke.c -L "$lib_dir" -ldockhand_native -lpthread -o "$out/smoke"
LD_LIBRARY_PATH="$lib_dir" "$out/smoke"

echo "[native] C program, static library"
gcc "${cflags[@]}" native/tests/c/smoke.c "$lib_dir/libdockhand_native.a" -lpthread -ldl -lm -o "$out/smoke-static"
"$out/smoke-static"

echo "[native] Python ctypes tests"
if ! python3 -c 'import pytest' 2>/dev/null; then
  python3 -m pip install --quiet pytest
fi
DOCKHAND_NATIVE_LIB="$lib_dir/libdockhand_native.so" \
  python3 -m pytest -q -p no:cacheprovider native/tests/python
