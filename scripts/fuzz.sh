#!/usr/bin/env bash
# Fuzzes dockhand's parsers: runs every target of fuzz/ (cargo-fuzz,
# libFuzzer) for SECONDS each (default 60), one after the other.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Installs cargo-fuzz when missing. libFuzzer's instrumentation needs nightly
# compiler flags: with a stable toolchain, RUSTC_BOOTSTRAP=1 unlocks them.
# Each target starts from its seeds (fuzz/seeds/TARGET, committed) and the
# corpus earlier runs grew (fuzz/corpus/TARGET, not committed). An input that
# fails is copied to fuzz/regressions/TARGET/, which `cargo test`
# (tests/fuzz_regressions.rs) replays from then on; the script then exits 1.
# The table of the run (executions, coverage, crashes per target) is printed
# and written to fuzz/last-run.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

seconds="${1:-60}"
shift || true

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "[fuzz] installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi
if ! rustc --version | grep -q nightly; then
  export RUSTC_BOOTSTRAP=1
fi

cd fuzz
# Release build with overflow checks and debug assertions (-a): arithmetic on
# daemon-supplied numbers that could overflow is found, not wrapped. No
# sanitizer: the code under test is safe Rust, and it doubles the speed.
flags=(-O -a -s none)
nice cargo fuzz build "${flags[@]}"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi

mkdir -p logs
table="| target | seconds | executions | exec/s | coverage (cov) | features (ft) | corpus | crashes |
|---|---|---|---|---|---|---|---|"
failed=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t" "regressions/$t"
  echo "[fuzz] $t for ${seconds}s"
  set +e
  nice cargo fuzz run "${flags[@]}" "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"logs/$t.log" 2>&1
  status=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "logs/$t.log" | tail -n1 | grep -o '[0-9]*$' || true)
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "logs/$t.log" | tail -n1 | grep -o '[0-9]*$' || true)
  cov=$(grep -o 'cov: [0-9]*' "logs/$t.log" | tail -n1 | grep -o '[0-9]*$' || true)
  ft=$(grep -o 'ft: [0-9]*' "logs/$t.log" | tail -n1 | grep -o '[0-9]*$' || true)
  corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "logs/$t.log" | tail -n1 | cut -d' ' -f2 || true)
  crashes=0
  for f in "artifacts/$t"/*; do
    [ -e "$f" ] || continue
    cp "$f" "regressions/$t/"
    crashes=$((crashes + 1))
  done
  rm -f "artifacts/$t"/*
  if [ "$status" -ne 0 ]; then
    failed=1
    echo "[fuzz] $t FAILED (exit $status): see fuzz/logs/$t.log; inputs copied to fuzz/regressions/$t/"
    grep -m1 -A3 "panicked at" "logs/$t.log" || tail -n 20 "logs/$t.log"
  fi
  table+="
| $t | $seconds | ${execs:-?} | ${speed:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $crashes |"
done
rm -rf "${TMPDIR:-/tmp}"/dockhand-fuzz-*

echo "$table" | tee last-run.md
exit "$failed"
