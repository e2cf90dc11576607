#!/usr/bin/env bash
# Brings up dockhand's real test environment on this machine (as root):
#   - Debian's docker.io (dockerd 20.10, API 1.41) on /var/run/docker.sock and,
#     with mutual TLS, on tcp://127.0.0.1:2376 (certificates made here)
#   - a test image dockhand-test/busybox:latest made from busybox-static
#   - registries on 127.0.0.1:5000 (open) and 127.0.0.1:5001 (htpasswd)
#   - sshd on 127.0.0.1:2222 for the ssh:// transport
# Idempotent: what already runs is left alone. Writes $STATE/env.sh with the
# facts tests read. Only loopback addresses are used.
set -euo pipefail

STATE=${DOCKHAND_TEST_ENV_DIR:-/var/lib/dockhand-test-env}
IMAGE=dockhand-test/busybox:latest
REG_USER=dockhand
# Standard base64 of the auth JSON for this password contains '+' and '/'.
REG_PASSWORD='p+s/w?rd>>>'
SOCK=/var/run/docker.sock

log() { printf '[test-env] %s\n' "$*" >&2; }
die() { printf '[test-env] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts daemons)"
mkdir -p "$STATE"

# --- packages -----------------------------------------------------------------
need_pkgs=()
command -v dockerd >/dev/null || need_pkgs+=(docker.io)
# The BuildKit tests compare with Debian's 20.10 CLI (DOCKER_BUILDKIT=1 runs
# the same session protocol against dockerd 20.10; a newer CLI wants buildx).
[ -x /usr/bin/docker ] || need_pkgs+=(docker.io)
# ssh-agent, for the BuildKit ssh forwarding test.
command -v ssh-agent >/dev/null || need_pkgs+=(openssh-client)
command -v docker-registry >/dev/null || need_pkgs+=(docker-registry)
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
command -v htpasswd >/dev/null || need_pkgs+=(apache2-utils)
command -v openssl >/dev/null || need_pkgs+=(openssl)
command -v curl >/dev/null || need_pkgs+=(curl)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >"$STATE/apt.log" 2>&1 \
    || { tail -20 "$STATE/apt.log" >&2; die "apt-get install failed"; }
fi
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker) || die "no docker CLI"

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
  log "$what is up"
}

# --- TLS material ------------------------------------------------------------------
make_ca() { # DIR SUBJECT
  openssl genrsa -out "$1/ca-key.pem" 2048 2>/dev/null
  openssl req -new -x509 -days 3650 -key "$1/ca-key.pem" -sha256 -subj "$2" -out "$1/ca.pem" 2>/dev/null
}
make_cert() { # CA_DIR OUT_KEY OUT_CERT SUBJECT EXTFILE
  local csr
  csr=$(mktemp)
  openssl genrsa -out "$2" 2048 2>/dev/null
  openssl req -new -key "$2" -subj "$4" -out "$csr" 2>/dev/null
  openssl x509 -req -days 3650 -sha256 -in "$csr" -CA "$1/ca.pem" -CAkey "$1/ca-key.pem" \
    -CAcreateserial -out "$3" -extfile "$5" 2>/dev/null
  rm -f "$csr"
}
TLS=$STATE/tls
if [ ! -s "$TLS/client/key.pem" ] || [ ! -s "$TLS/wrong-ca/key.pem" ]; then
  log "generating certificates in $TLS"
  rm -rf "$TLS"
  mkdir -p "$TLS/ca" "$TLS/server" "$TLS/client" "$TLS/wrong-ca"
  make_ca "$TLS/ca" "/CN=dockhand test CA"
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$TLS/server.ext"
  printf 'extendedKeyUsage=clientAuth\n' >"$TLS/client.ext"
  make_cert "$TLS/ca" "$TLS/server/server-key.pem" "$TLS/server/server-cert.pem" "/CN=localhost" "$TLS/server.ext"
  make_cert "$TLS/ca" "$TLS/client/key.pem" "$TLS/client/cert.pem" "/CN=dockhand-client" "$TLS/client.ext"
  cp "$TLS/ca/ca.pem" "$TLS/server/ca.pem"
  cp "$TLS/ca/ca.pem" "$TLS/client/ca.pem"
  # An unrelated CA with its own client certificate: must be refused.
  make_ca "$TLS/wrong-ca" "/CN=some other CA"
  make_cert "$TLS/wrong-ca" "$TLS/wrong-ca/key.pem" "$TLS/wrong-ca/cert.pem" "/CN=stranger" "$TLS/client.ext"
  chmod 600 "$TLS"/*/*key.pem
fi

# --- dockerd -----------------------------------------------------------------------
daemon_up() { curl -sf -o /dev/null --max-time 3 --unix-socket "$SOCK" http://localhost/_ping; }
tls_up() {
  curl -sf -o /dev/null --max-time 3 --cacert "$TLS/client/ca.pem" --cert "$TLS/client/cert.pem" \
    --key "$TLS/client/key.pem" https://127.0.0.1:2376/_ping
}
if daemon_up; then
  log "dockerd already answers on $SOCK"
  tls_up || log "WARNING: a daemon runs but tcp://127.0.0.1:2376 with this environment's TLS does not answer; TLS tests will fail (stop that daemon and rerun)"
else
  log "starting dockerd (unix socket + mutual TLS on 127.0.0.1:2376)"
  # A leftover pid file from a killed daemon blocks a new one.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  # From / : a daemon keeps its working directory, and one started in a
  # directory deleted since (a removed git worktree) can fail to start
  # containers (scripts/podman.sh found Podman doing so).
  (cd / && exec setsid nohup dockerd \
    -H "unix://$SOCK" -H tcp://127.0.0.1:2376 \
    --tlsverify --tlscacert "$TLS/server/ca.pem" \
    --tlscert "$TLS/server/server-cert.pem" --tlskey "$TLS/server/server-key.pem" \
    >"$STATE/dockerd.log" 2>&1 </dev/null) &
  echo $! >"$STATE/dockerd.pid"
  wait_for 90 "dockerd" daemon_up || { tail -30 "$STATE/dockerd.log" >&2; die "dockerd did not come up"; }
  wait_for 30 "dockerd TLS endpoint" tls_up || die "dockerd TLS endpoint did not come up"
fi

# --- test image ----------------------------------------------------------------------
if ! "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  log "building $IMAGE from busybox-static"
  "$(dirname "${BASH_SOURCE[0]}")/busybox-rootfs.sh" | "$DOCKER" import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
fi
"$DOCKER" run --rm "$IMAGE" echo ok >/dev/null || die "$IMAGE does not run"

# --- registries ------------------------------------------------------------------------
reg_up() { curl -s --max-time 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v2/" | grep -qE '^(200|401)$'; }
start_registry() { # NAME PORT AUTH(yes|no)
  local dir=$STATE/registry-$1
  mkdir -p "$dir/data"
  {
    printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n' "$dir/data"
    printf 'http:\n  addr: 127.0.0.1:%s\n' "$2"
    if [ "$3" = yes ]; then
      printf 'auth:\n  htpasswd:\n    realm: test-realm\n    path: %s\n' "$dir/htpasswd"
    fi
  } >"$dir/config.yml"
  if [ "$3" = yes ]; then
    htpasswd -Bbn "$REG_USER" "$REG_PASSWORD" >"$dir/htpasswd"
  fi
  (cd / && exec setsid nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null) &
  echo $! >"$dir/registry.pid"
  wait_for 30 "registry $1 on 127.0.0.1:$2" reg_up "$2" || { tail -20 "$dir/registry.log" >&2; die "registry $1 did not come up"; }
}
reg_up 5000 || start_registry plain 5000 no
reg_up 5001 || start_registry auth 5001 yes

# The test image in both registries, for pull tests.
PLAIN_REF=127.0.0.1:5000/dockhand-test/busybox:latest
AUTH_REF=127.0.0.1:5001/dockhand-test/busybox:latest
if ! curl -sf --max-time 5 http://127.0.0.1:5000/v2/dockhand-test/busybox/manifests/latest \
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' -o /dev/null; then
  "$DOCKER" tag "$IMAGE" "$PLAIN_REF"
  "$DOCKER" push "$PLAIN_REF" >/dev/null
  log "pushed $PLAIN_REF"
fi
if ! curl -sf --max-time 5 -u "$REG_USER:$REG_PASSWORD" \
  http://127.0.0.1:5001/v2/dockhand-test/busybox/manifests/latest \
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' -o /dev/null; then
  # A throwaway DOCKER_CONFIG so root's own config never holds the password.
  tmpcfg=$(mktemp -d)
  printf '%s' "$REG_PASSWORD" | DOCKER_CONFIG=$tmpcfg "$DOCKER" login -u "$REG_USER" --password-stdin 127.0.0.1:5001 >/dev/null 2>&1
  "$DOCKER" tag "$IMAGE" "$AUTH_REF"
  DOCKER_CONFIG=$tmpcfg "$DOCKER" push "$AUTH_REF" >/dev/null
  rm -rf "$tmpcfg"
  log "pushed $AUTH_REF"
fi

# --- sshd for ssh:// ---------------------------------------------------------------------
SSH=$STATE/ssh
ssh_up() {
  ssh -F "$SSH/client_config" -p 2222 root@127.0.0.1 true
}
mkdir -p "$SSH" /run/sshd
[ -s "$SSH/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$SSH/host_ed25519"
[ -s "$SSH/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C dockhand-test -f "$SSH/id_ed25519"
cp "$SSH/id_ed25519.pub" "$SSH/authorized_keys"
chmod 600 "$SSH/authorized_keys"
cat >"$SSH/sshd_config" <<EOF
Port 2222
ListenAddress 127.0.0.1
HostKey $SSH/host_ed25519
PidFile $SSH/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $SSH/authorized_keys
StrictModes no
UsePAM no
SetEnv PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF
cat >"$SSH/client_config" <<EOF
Host 127.0.0.1 localhost
  IdentityFile $SSH/id_ed25519
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
  BatchMode yes
EOF
# `docker -H ssh://…` and dockhand run plain `ssh`: root's client config must
# know the key. Added once, marked, never touching other entries.
mkdir -p /root/.ssh && chmod 700 /root/.ssh
touch /root/.ssh/config && chmod 600 /root/.ssh/config
if ! grep -q '# dockhand-test-env' /root/.ssh/config; then
  { printf '\n# dockhand-test-env (scripts/test-env.sh)\n'; cat "$SSH/client_config"; } >>/root/.ssh/config
fi
if ! ssh_up 2>/dev/null; then
  if [ -f "$SSH/sshd.pid" ] && kill -0 "$(cat "$SSH/sshd.pid")" 2>/dev/null; then
    kill "$(cat "$SSH/sshd.pid")" || true
    sleep 0.5
  fi
  /usr/sbin/sshd -f "$SSH/sshd_config" -E "$SSH/sshd.log" || die "sshd did not start: $(tail -5 "$SSH/sshd.log")"
  wait_for 20 "sshd on 127.0.0.1:2222" ssh_up || die "ssh to 127.0.0.1:2222 fails: $(tail -5 "$SSH/sshd.log")"
fi

# --- facts for the tests ---------------------------------------------------------------------
cat >"$STATE/env.sh" <<EOF
# Written by scripts/test-env.sh: source it before running the tests.
export DOCKHAND_TEST_ENV=1
export DOCKHAND_TEST_IMAGE=$IMAGE
export DOCKHAND_TLS_HOST=tcp://127.0.0.1:2376
export DOCKHAND_TLS_CERT_PATH=$TLS/client
export DOCKHAND_TLS_WRONG_CA_PATH=$TLS/wrong-ca
export DOCKHAND_SSH_HOST=ssh://root@127.0.0.1:2222
export DOCKHAND_REGISTRY=127.0.0.1:5000
export DOCKHAND_AUTH_REGISTRY=127.0.0.1:5001
export DOCKHAND_REGISTRY_USER=$(printf '%q' "$REG_USER")
export DOCKHAND_REGISTRY_PASSWORD=$(printf '%q' "$REG_PASSWORD")
EOF
log "ready: unix://$SOCK, tcp://127.0.0.1:2376 (mTLS), ssh://root@127.0.0.1:2222, registries 127.0.0.1:5000 and :5001; facts in $STATE/env.sh"
