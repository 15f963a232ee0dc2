#!/usr/bin/env bash
# Report benchmark at national scale: a database with the synthetic data set
# (bench/generate.sql; LOGS logs, default 10 million), the release server on 127.0.0.1:18081,
# and the province and national reports timed over HTTP. Reuses the database when it already
# holds the data set (delete it with: su postgres -c "dropdb toso_national").
# BENCH_DB names another database (e.g. a copy: CREATE DATABASE … TEMPLATE toso_national);
# BENCH_SKIP_BUILD=1 uses the server binary as it is (a build made apart, niced); SERVER_BIN
# names another (e.g. a build of an older commit, for a before/after in one sitting).
# The last lines: the province report 01 and the country report under wrk, 64 connections.
set -euo pipefail
cd "$(dirname "$0")/.."
LOGS="${LOGS:-10000000}"
db="${BENCH_DB:-toso_national}"
bash scripts/postgres.sh >/dev/null
[ "${BENCH_SKIP_BUILD:-0}" = 1 ] || cargo build --release --quiet
export DATABASE_URL="postgres://toso:toso@127.0.0.1:5432/$db" TOSO_ENV=dev TOSO_BIND=127.0.0.1:18081 TOSO_LOG=warn
# One client (the bench account) makes all the requests under wrk.
export TOSO_MAX_IN_FLIGHT_PER_CLIENT="${TOSO_MAX_IN_FLIGHT_PER_CLIENT:-100000}"
have=$(su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = '$db'\"")
if [ "$have" != "1" ]; then
  su postgres -c "psql -qc 'CREATE DATABASE $db OWNER toso'"
  target/release/toso migrate >/dev/null
  target/release/toso import-units data/vn-admin-units-2025.csv >/dev/null
  echo "==> generating $LOGS logs (takes a while)"
  start=$(date +%s)
  psql "$DATABASE_URL" -q -v logs="$LOGS" -f bench/generate.sql | grep -E "^Time|logs|^ *[0-9]+$" | tail -3
  echo "generation took $(( $(date +%s) - start )) s"
fi
target/release/toso migrate >/dev/null
# Programme indicators (issue 14): denominators, a year of entered values, targets.
if [ "$(psql "$DATABASE_URL" -tAc "SELECT count(*) > 0 FROM indicator_values")" != "t" ]; then
  echo "==> generating indicator values"
  psql "$DATABASE_URL" -q -f bench/generate_indicators.sql | grep -E "^Time" | tail -4
fi
TOSO_PASSWORD=bench-admin-2025 target/release/toso create-user --username bench.admin --role admin --if-missing >/dev/null
"${SERVER_BIN:-target/release/toso}" serve & server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18081/health/ready >/dev/null && break; sleep 0.2; done
token=$(curl -s http://127.0.0.1:18081/api/v1/auth/login -H 'content-type: application/json' \
  -d '{"username":"bench.admin","password":"bench-admin-2025"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
logs=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM assistance_logs")
time_it() { # name url runs
  python3 - "$1" "$2" "$3" "$token" <<'PY'
import statistics, sys, time, urllib.request
name, url, runs, token = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
times = []
for i in range(runs + 1):
    req = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        size = len(r.read())
    if i:  # the first run warms caches
        times.append((time.perf_counter() - t) * 1000)
times.sort()
print(f"| {name} | {statistics.median(times):.1f} | {times[-1]:.1f} | {size // 1024} KiB |")
PY
}
echo
echo "Logs in the database: $logs"
echo "| report (October 2026) | median ms | worst ms | size |"
echo "| --- | --- | --- | --- |"
base=http://127.0.0.1:18081/api/v1/reports
time_it "province 01 (Hà Nội, 126 communes)" "$base/monthly?unit=01&month=2026-10" 20
time_it "province 01 with indicators ($(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM indicators WHERE retired_at IS NULL") indicators, their values and targets)" "$base/monthly?unit=01&month=2026-10" 20
time_it "province 79 (Hồ Chí Minh City)" "$base/monthly?unit=79&month=2026-10" 20
time_it "commune 00004" "$base/monthly?unit=00004&month=2026-10" 20
time_it "country (34 provinces)" "$base/monthly?unit=VN&month=2026-10" 5
time_it "province 01 as XLSX" "$base/monthly?unit=01&month=2026-10&format=xlsx" 10
time_it "trend 01, 24 months" "$base/trend?unit=01&from=2024-11&to=2026-10" 10
echo
echo "| under load (wrk -c 64 -t 2 -d 10s) | requests | failed | ok req/s | p50 ms | p99 ms |"
echo "| --- | --- | --- | --- | --- | --- |"
for unit in 01 VN; do
  line=$(TOKEN=$token wrk -c 64 -t 2 -d 10s --timeout 10s -s bench/wrk/get.lua "$base/monthly?unit=$unit&month=2026-10" 2>/dev/null | tail -1)
  echo "| report $unit, 2026-10 | $(tr ' ' '|' <<<"$line" | sed 's/|/ | /g') |"
done
