#!/usr/bin/env bash
# Brings up Podman's Docker-compatible API for dockhand's tests (as root):
#   - Debian's podman (4.3, API 1.41) serving unix:///run/dockhand-podman.sock
#   - dockhand-owned drop-ins: containers.conf.d (ulimits this machine allows,
#     cgroupfs, events in a file) and registries.conf.d (the test registries
#     on 127.0.0.1:5000 and :5001 are plain HTTP)
#   - a test image localhost/dockhand-busybox:latest made from busybox-static
# Idempotent: what already runs is left alone. Never touches dockerd or
# docker0 (podman has its own bridge). Writes $STATE/podman.sh with the facts
# tests/podman.rs reads. Only loopback addresses are used.
set -euo pipefail

STATE=${DOCKHAND_TEST_ENV_DIR:-/var/lib/dockhand-test-env}
PODMAN_SOCK=/run/dockhand-podman.sock
PODMAN_IMAGE=localhost/dockhand-busybox:latest
CONF_DROPIN=/etc/containers/containers.conf.d/50-dockhand.conf
REG_DROPIN=/etc/containers/registries.conf.d/50-dockhand.conf

log() { printf '[podman] %s\n' "$*" >&2; }
die() { printf '[podman] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts a daemon)"
mkdir -p "$STATE"

# --- packages -----------------------------------------------------------------
need_pkgs=()
command -v podman >/dev/null || need_pkgs+=(podman)
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
command -v curl >/dev/null || need_pkgs+=(curl)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # `apt-get update` once: only when the package is not known yet.
  apt-cache show "${need_pkgs[@]}" >/dev/null 2>&1 || apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >"$STATE/podman-apt.log" 2>&1 \
    || { tail -20 "$STATE/podman-apt.log" >&2; die "apt-get install failed"; }
fi

# --- configuration (drop-ins owned by dockhand; the machine's files stay) ----------
write_if_changed() { # FILE, content on stdin
  local tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then
    rm -f "$tmp"
    return 1
  fi
  mkdir -p "$(dirname "$1")"
  mv "$tmp" "$1"
  chmod 644 "$1"
  log "wrote $1"
}
changed=no
# Podman's default ulimits are above this machine's hard limits, and runc then
# fails to start any container. Without systemd as init, cgroupfs and a file
# for events are what works (podman would fall back to them with a warning).
write_if_changed "$CONF_DROPIN" <<'EOF' && changed=yes
# Written by dockhand's scripts/podman.sh.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
# The test registries speak plain HTTP on loopback.
write_if_changed "$REG_DROPIN" <<'EOF' && changed=yes
# Written by dockhand's scripts/podman.sh: the test registries on loopback speak plain HTTP.
[[registry]]
location = "127.0.0.1:5000"
insecure = true

[[registry]]
location = "127.0.0.1:5001"
insecure = true
EOF

# --- the API service -----------------------------------------------------------------
podman_up() { curl -sf -o /dev/null --max-time 3 --unix-socket "$PODMAN_SOCK" http://localhost/_ping; }
PIDFILE=$STATE/podman-service.pid
if podman_up && [ "$changed" = yes ] && [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  # Our own service, started before the configuration changed: restart it.
  log "configuration changed: restarting the podman service"
  kill "$(cat "$PIDFILE")"
  for _ in $(seq 1 20); do podman_up || break; sleep 0.5; done
fi
# Our service, if its working directory has been deleted since it started:
# restart it (see below).
if [ -f "$PIDFILE" ] && [[ "$(readlink "/proc/$(cat "$PIDFILE")/cwd" 2>/dev/null)" == *" (deleted)" ]]; then
  log "the podman service's working directory is gone: restarting it"
  kill "$(cat "$PIDFILE")" 2>/dev/null || true
  for _ in $(seq 50); do podman_up || break; sleep 0.2; done
fi
if podman_up; then
  log "podman already answers on $PODMAN_SOCK"
else
  log "starting podman system service on unix://$PODMAN_SOCK"
  rm -f "$PODMAN_SOCK"
  # Started from / : the service runs conmon and the OCI runtime from its
  # working directory, and a service started in a directory deleted since
  # (a removed git worktree) answers /_ping but fails every container start
  # with "write child: broken pipe".
  (cd / && exec setsid nohup podman system service --time=0 "unix://$PODMAN_SOCK" \
    >"$STATE/podman-service.log" 2>&1 </dev/null) &
  echo $! >"$PIDFILE"
  deadline=$((SECONDS + 60))
  until podman_up; do
    [ $SECONDS -lt $deadline ] || { tail -20 "$STATE/podman-service.log" >&2; die "podman service did not come up"; }
    sleep 0.5
  done
  log "podman service is up"
fi

# --- test image ----------------------------------------------------------------------
if ! podman image exists "$PODMAN_IMAGE"; then
  log "importing $PODMAN_IMAGE from busybox-static"
  "$(dirname "${BASH_SOURCE[0]}")/busybox-rootfs.sh" | podman import -q -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$PODMAN_IMAGE" >/dev/null
fi
out=$(podman run --rm "$PODMAN_IMAGE" echo ok 2>&1) && [ "$out" = ok ] \
  || die "$PODMAN_IMAGE does not run under podman: $out"

# --- facts for the tests ---------------------------------------------------------------------
cat >"$STATE/podman.sh" <<EOF
# Written by scripts/podman.sh: tests/podman.rs reads it (source it for the variables).
export DOCKHAND_PODMAN_HOST=unix://$PODMAN_SOCK
export DOCKHAND_PODMAN_IMAGE=$PODMAN_IMAGE
EOF
log "ready: podman $(podman --version | awk '{print $3}') on unix://$PODMAN_SOCK; facts in $STATE/podman.sh"
