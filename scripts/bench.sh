#!/usr/bin/env bash
# Side-by-side benchmarks, one process run: dockhand vs bollard vs the ceiling
# (raw hyper on kept-alive connections; raw socket reads for throughput), on a
# local mock daemon (a hyper server on a Unix socket in a temp dir) and on the
# real daemon (/var/run/docker.sock, brought up by scripts/test-env.sh).
# Prints the machine and one table; see bench/RESULTS.md for the latest.
#
#   scripts/bench.sh                # the full sizes of issue 6 (a few minutes)
#   scripts/bench.sh --quick        # smaller sizes (also DOCKHAND_BENCH_QUICK=1)
#   scripts/bench.sh --no-real      # mock daemon only
#   scripts/bench.sh --no-mock      # real daemon only
#   scripts/bench.sh --only ping,inspect,list,concurrent,logs16k,logs64,progress,rss,real,tls,ssh
#                                   # (tls, ssh: streams over the test daemon's mutual
#                                   # TLS port and over sshd, beside dockhand on the socket)
#   scripts/bench.sh --write        # also replace the table in bench/RESULTS.md
#   DOCKHAND_BENCH_RUNTIME=current-thread scripts/bench.sh   # clients on a
#                                   # current-thread tokio runtime (default:
#                                   # multi-thread, one worker per core)
#
# Profiling one client on the mock (for perf or valgrind --tool=callgrind):
#   target/release/dockhand-bench profile ping|inspect|list|logs16k|logs64|progress N [dockhand|bollard|ceiling]
# and one stream of the real daemon (source /var/lib/dockhand-test-env/env.sh first):
#   target/release/dockhand-bench profile remote-logs N unix|tls|ssh CONTAINER [bollard]   # N whole streams
#   target/release/dockhand-bench profile remote-first N unix|tls|ssh CONTAINER            # time to the first line
#
# Instruction counts of decoding (dockhand's library path and its models under
# serde_json, bollard, serde_json::Value on the
# 5,000-container list, 100,000 progress messages, a 20.10 inspect ×100;
# needs valgrind; the table of bench/RESULTS.md "Instruction counts: decoding"):
#   cargo build --release -p dockhand-bench && target/release/dockhand-bench decode-count [DIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

write=0
args=()
real=1
for a in "$@"; do
  case "$a" in
    --write) write=1 ;;
    --no-real) real=0; args+=("$a") ;;
    *) args+=("$a") ;;
  esac
done

if [ "$real" = 1 ]; then
  scripts/test-env.sh >/dev/null
  # The TLS daemon and the ssh host of the test environment (tls, ssh rows).
  # shellcheck disable=SC1091
  if [ -f /var/lib/dockhand-test-env/env.sh ]; then
    source /var/lib/dockhand-test-env/env.sh
  fi
  # bollard 0.21 hands `user@host:port` of an ssh:// URL to ssh as a host
  # name (no port option): it gets the URL without its port, and an `ssh`
  # first on PATH that adds the port (the same one dockhand and the docker
  # CLI pass with -p).
  if [ -n "${DOCKHAND_SSH_HOST:-}" ]; then
    sshwrap=$(mktemp -d)
    trap 'rm -rf "$sshwrap"' EXIT
    printf '#!/bin/sh\nexec %s -o Port=%s "$@"\n' "$(command -v ssh)" "${DOCKHAND_SSH_HOST##*:}" >"$sshwrap/ssh"
    chmod +x "$sshwrap/ssh"
    export PATH="$sshwrap:$PATH" DOCKHAND_BENCH_BOLLARD_SSH_HOST="${DOCKHAND_SSH_HOST%:*}"
  fi
fi

cargo build --release --quiet -p dockhand-bench

runtime="${DOCKHAND_BENCH_RUNTIME:-multi-thread}"
out="target/bench-results-${runtime}.md"
{
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/^Mem:/ {print $2}') GiB memory, kernel $(uname -r)"
  echo "- $(rustc -V), dockhand $(git describe --always --dirty 2>/dev/null || echo '?'), bollard $(grep -A1 '^name = "bollard"$' Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p')"
  if [ "$real" = 1 ]; then
    echo "- daemon: dockerd $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null || echo '?'), curl $(curl --version | head -1 | cut -d' ' -f2), docker CLI $(docker version --format '{{.Client.Version}}' 2>/dev/null || echo '?')"
  fi
  echo "- clients on tokio's ${runtime} runtime"
  echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  target/release/dockhand-bench run "${args[@]}"
} | tee "$out"

if [ "$write" = 1 ]; then
  python3 - "$out" bench/RESULTS.md "$runtime" <<'EOF'
import sys
new = open(sys.argv[1]).read().strip()
path = sys.argv[2]
text = open(path).read()
begin, end = f"<!-- bench:begin {sys.argv[3]} -->", f"<!-- bench:end {sys.argv[3]} -->"
i, j = text.index(begin) + len(begin), text.index(end)
open(path, "w").write(text[:i] + "\n" + new + "\n" + text[j:])
EOF
  echo "bench/RESULTS.md updated"
fi
