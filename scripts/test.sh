#!/usr/bin/env bash
# The project's one test command: brings up the real test environment, checks
# that generated code is up to date, and runs every test of the workspace.
# Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.cargo/bin:$PATH"

scripts/test-env.sh
# shellcheck disable=SC1091
source "${DOCKHAND_TEST_ENV_DIR:-/var/lib/dockhand-test-env}/env.sh"

if [ -d ../shared/docker-engine-api ]; then
  cargo run --quiet -p codegen -- --check
else
  echo "[test] ../shared/docker-engine-api not found: checking generated code against api-spec/ only"
  cargo run --quiet -p codegen -- generate --check
fi
# Tests that need the environment are #[ignore]d so that a plain `cargo test`
# lists them as not run; here the environment is up, so they run too.
case " $* " in
  *" -- "*) cargo test --workspace "$@" --include-ignored ;;
  *) cargo test --workspace "$@" -- --include-ignored ;;
esac
scripts/examples.sh
