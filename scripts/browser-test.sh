#!/usr/bin/env bash
# The web console's journeys in a real browser: headless Debian Chromium driven by
# playwright-core (pinned in tests/browser/package-lock.json; it downloads no browser of its
# own). Installs chromium and the npm packages when missing, starts PostgreSQL, builds the
# server, serves it on a fresh database with the official units and the demo province
# (scripts/demo-seed.py), runs tests/browser/journeys.test.js, then stops the server and
# drops the database. Screenshots go to docs/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! [ -x /usr/bin/chromium ]; then
  echo "==> installing chromium from Debian's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "==> installing nodejs and npm from Debian's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs npm >/dev/null
fi
if ! [ -d tests/browser/node_modules/playwright-core ]; then
  echo "==> npm ci (tests/browser)"
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi

bash scripts/postgres.sh
export PGSSLMODE="${PGSSLMODE:-disable}"
admin_url="${TEST_DATABASE_URL:-postgres://toso:toso@127.0.0.1:5432/toso}"
db="toso_browser_$$"
export DATABASE_URL="${admin_url%/*}/${db}"
port="${BROWSER_TEST_PORT:-18171}"
export TOSO_ENV=dev TOSO_BIND="127.0.0.1:${port}" TOSO_LOG="${TOSO_LOG:-warn}"
base="http://127.0.0.1:${port}"

echo "==> cargo build"
cargo build --quiet
bin="$root/target/debug/toso"

psql "$admin_url" -qc "CREATE DATABASE ${db}" >/dev/null
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS ${db}" >/dev/null 2>&1 || true
}
trap cleanup EXIT

"$bin" migrate >/dev/null
"$bin" import-units data/vn-admin-units-2025.csv >/dev/null
TOSO_PASSWORD="${TOSO_DEMO_PASSWORD:-demo-admin-2025}" "$bin" create-user --username admin --role admin \
  --full-name "Demo admin" --if-missing >/dev/null
log="$root/target/browser-test-server.log"
"$bin" serve >"$log" 2>&1 &
server_pid=$!

echo "==> demo data (waits for the server to be ready)"
python3 scripts/demo-seed.py "$base" || { echo "see the server's log: $log"; exit 1; }

echo "==> journeys in headless Chromium"
(cd tests/browser && BASE_URL="$base" SCREENSHOTS="$root/docs/screenshots" node --test --test-concurrency=1 journeys.test.js)
