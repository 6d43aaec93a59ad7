#!/usr/bin/env bash
# The benchmarks, all of them, in one run (not part of .ci/run): the criterion benches, then the
# network load test against bare axum, Mitten, the peer stack and Flask, writing
# docs/benchmarks/results.md, results.json and chart.svg, and the allocations per request to
# docs/benchmarks/allocations.md.
#
# usage: bash benches/run.sh   (DURATION=8 ROUNDS=7 by default)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
venv=target/tools/flaskvenv
if [ ! -x "$venv/bin/gunicorn" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check flask==3.1.3 flask-talisman==1.1.0 flask-seasurf==2.0.0 gunicorn==27.0.1
fi

cargo build --release -p mitten-benches --bin bench_server
# loadtest.py reports only the criterion figures measured after this moment.
BENCH_STARTED=$(date +%s)
export BENCH_STARTED
if [ "${SKIP_CRITERION:-0}" != 1 ]; then
  cargo bench -p mitten-core --bench headers
  cargo bench -p mitten-tower --bench layer
  cargo bench -p mitten-benches --bench stacks --bench floor --bench csrf --bench sessions
fi
{
  echo "# Heap allocations per request"
  echo
  echo "Counted by an instrumented system allocator over 1 000 in-process requests after a warm-up;"
  echo "the requests are built outside the count. Command: \`cargo bench -p mitten-benches --bench allocations\`."
  echo
  cargo bench -q -p mitten-benches --bench allocations | grep '^|'
} > docs/benchmarks/allocations.md
python3 benches/loadtest.py
