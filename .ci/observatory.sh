#!/usr/bin/env bash
# Grades the demo over TLS with the MDN HTTP Observatory (Mozilla's security-header grader),
# offline, and fails unless it gets the best grade with no failed test.
#
# usage: .ci/observatory.sh [path/to/mitten-demo]
#
# The scanner only knows ports 80 and 443, so the demo is started there (this needs root, or
# the capability to bind low ports, and both ports free).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
demo=${1:-$root/target/debug/mitten-demo}
version=1.4.8
tools=$root/target/tools/observatory
scanner=$tools/node_modules/@mdn/mdn-http-observatory
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "observatory: installing Node.js and npm"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -f "$scanner/src/scan.js" ]; then
  echo "observatory: installing @mdn/mdn-http-observatory@$version"
  mkdir -p "$tools"
  # --ignore-scripts: the install scripts download CA bundles and the HSTS preload list from
  # hosts this machine cannot reach; the scanner itself needs neither for a local scan.
  if ! (cd "$tools" && npm init -y >/dev/null && npm install --no-audit --no-fund --ignore-scripts \
        "@mdn/mdn-http-observatory@$version" >"$work/npm.log" 2>&1); then
    cat "$work/npm.log" >&2
    exit 1
  fi
fi
# Neither 127.0.0.1 nor localhost is on the preload list; the scanner only needs the file.
[ -f "$scanner/conf/hsts-preload.json" ] || echo '{}' >"$scanner/conf/hsts-preload.json"

"$demo" --addr 127.0.0.1:443 --tls --redirect-http 127.0.0.1:80 >"$work/demo.log" 2>&1 &
pid=$!
for _ in $(seq 300); do grep -q '^listening on' "$work/demo.log" && break; sleep 0.1; done
cert=$(sed -n 's/^self-signed certificate .* written to //p' "$work/demo.log")
if [ -z "$cert" ] || ! grep -q '^listening on' "$work/demo.log"; then
  echo "observatory: the demo did not start on ports 80/443:" >&2
  cat "$work/demo.log" >&2
  exit 1
fi

# src/scan.js, not the bin wrapper: the wrapper replaces NODE_EXTRA_CA_CERTS with its own
# bundle, and the demo's self-signed certificate must be trusted for the HTTPS tests to count.
NODE_EXTRA_CA_CERTS="$cert" node "$scanner/src/scan.js" 127.0.0.1 >"$work/result.json"

OBSERVATORY_VERSION=$version node - "$work/result.json" <<'JS'
const result = JSON.parse(require("fs").readFileSync(process.argv[2], "utf8"));
if (result.error) { console.error(`observatory: scan failed: ${result.error}`); process.exit(1); }
const scan = result.scan;
console.log(`MDN HTTP Observatory ${process.env.OBSERVATORY_VERSION}: grade ${scan.grade}, score ${scan.score}, ` +
            `${scan.testsPassed} passed, ${scan.testsFailed} failed`);
for (const [name, test] of Object.entries(result.tests)) {
  console.log(`  ${test.pass ? "pass" : "FAIL"}  ${String(test.scoreModifier).padStart(3)}  ${name}: ${test.result}`);
}
if (scan.grade !== "A+" || scan.testsFailed !== 0) { console.error("observatory: not the best grade"); process.exit(1); }
JS
