#!/usr/bin/env bash
# The demo: talks to the daemon the docker CLI would talk to. When none is
# reachable, starts the local test environment first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

reachable() {
  if [ -n "${DOCKER_HOST:-}" ]; then
    command -v docker >/dev/null && timeout 20 docker version >/dev/null 2>&1
  else
    curl -sf -o /dev/null --max-time 3 --unix-socket /var/run/docker.sock http://localhost/_ping
  fi
}
if ! reachable; then
  echo "[demo] no daemon reachable: starting the local test environment"
  scripts/test-env.sh
fi
cargo run --quiet --example demo
