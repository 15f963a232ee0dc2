#!/usr/bin/env bash
# The web console's main pages on the national data set (bench/console-load.js): the release
# server on the database bench/reports.sh built (toso_national, 10 M logs), headless Chromium.
# The database is only read: no migrate here, and the bench account (bench.admin, made by
# bench/reports.sh) logs in once (a session row, the one write).
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${CONSOLE_BENCH_DATABASE_URL:-postgres://toso:toso@127.0.0.1:5432/toso_national}"
port="${CONSOLE_BENCH_PORT:-18091}"
nice -n 10 cargo build --release --quiet
if ! [ -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi
TOSO_ENV=dev TOSO_BIND="127.0.0.1:${port}" TOSO_LOG=warn target/release/toso serve &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:${port}/health/ready" >/dev/null && break; sleep 0.2; done
echo "Logs in the database: $(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM assistance_logs")"
BASE_URL="http://127.0.0.1:${port}" node bench/console-load.js
