#!/usr/bin/env bash
# Runs every fuzz target for a while (default 10 s each: CI's smoke run) and fails on a crash.
#
# usage: .ci/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# cargo-fuzz runs on the stable toolchain with `--sanitizer none` (libFuzzer's coverage
# guidance, no AddressSanitizer, which would need nightly; the code under test forbids
# `unsafe`). A crash leaves its input in fuzz/artifacts/<target>/: turn it into a regression test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-10}
shift || true

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked --quiet
fi
cd "$root/fuzz"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)
cargo fuzz build --sanitizer none >/dev/null
for target in "${targets[@]}"; do
  log=$(mktemp)
  if ! cargo fuzz run "$target" --sanitizer none -- -max_total_time="$seconds" >"$log" 2>&1; then
    cat "$log" >&2
    echo "fuzz: $target crashed" >&2
    exit 1
  fi
  echo "fuzz: $target: $(grep -E '^Done [0-9]+ runs' "$log" | tail -n 1)"
  rm -f "$log"
done
