#!/usr/bin/env bash
# Stops what scripts/test-env.sh and scripts/podman.sh started (by their pid
# files); packages and configuration stay.
set -uo pipefail
STATE=${DOCKHAND_TEST_ENV_DIR:-/var/lib/dockhand-test-env}
for pidfile in "$STATE"/podman-service.pid "$STATE"/ssh/sshd.pid "$STATE"/registry-*/registry.pid "$STATE"/dockerd.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    echo "[test-env-down] stopping $(basename "$(dirname "$pidfile")")/$(basename "$pidfile" .pid) ($pid)"
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  rm -f "$pidfile"
done
