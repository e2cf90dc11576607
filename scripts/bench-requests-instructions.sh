#!/usr/bin/env bash
# Per-request instruction counts under callgrind (issue 15): for a ping and a
# container inspect on the bench's mock daemon, each client's count for
# N = 4,000 requests minus its count for N = 2,000, divided by 2,000 (start-up,
# the mock's warm-up and the first connection cancel out; the mock daemon runs
# in a process of its own, not counted). Instructions, unlike wall-clock time,
# repeat to within a fraction of a percent on a loaded machine.
#
#   scripts/bench-requests-instructions.sh            # ping and inspect, three clients
#   scripts/bench-requests-instructions.sh ping:dockhand inspect:bollard
#
# Clients: dockhand, bollard, ceiling (raw hyper on one kept-alive
# connection; for inspect, + serde_json into dockhand's type). Needs valgrind.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
cargo build --release --quiet -p dockhand-bench
bin=target/release/dockhand-bench
specs=("$@")
if [ ${#specs[@]} -eq 0 ]; then
  specs=(ping:dockhand ping:ceiling ping:bollard inspect:dockhand inspect:ceiling inspect:bollard)
fi
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" profile "$1" "$2" "$3" 2>&1 |
    sed -n 's/.*Collected : //p'
}
echo "| request | client | instructions per request |"
echo "|---|---|---:|"
for spec in "${specs[@]}"; do
  what=${spec%%:*} peer=${spec##*:}
  a=$(count "$what" 2000 "$peer")
  b=$(count "$what" 4000 "$peer")
  echo "| $what | $peer | $(( (b - a) / 2000 )) |"
done
