#!/usr/bin/env bash
# Runs the fuzz targets (fuzz/fuzz_targets) for SECONDS each (default 120)
# with libFuzzer and AddressSanitizer, and prints executions and crashes.
# Needs the nightly toolchain; installs cargo-fuzz when missing.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-120}"
shift || true
if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(prometheus_responses alertmanager_responses rule_files)
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/fuzz"
mkdir -p "$CARGO_TARGET_DIR"
cd fuzz
cargo +nightly fuzz build -O
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="$CARGO_TARGET_DIR/$t.log"
  if cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
      -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="artifacts/$t/" >"$log" 2>&1; then
    verdict="no crash"
  else
    verdict="CRASH (see fuzz/artifacts/$t and $log)"
    status=1
  fi
  execs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' | tail -1 || true)
  echo "$t: ${execs:-?} executions in ${secs}s, $verdict"
done
exit $status
