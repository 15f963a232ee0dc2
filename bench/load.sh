#!/usr/bin/env bash
# Load held: a realistic peak mix (phones pushing and pulling, officers reading lists and
# reports, logins) against the release server on the national data set, then the same read
# route alone and during a login storm. Prints throughput, p50/p99 and errors per request
# kind, counts the acknowledged logs in the database (none may be lost) and appends the tables
# to bench/RESULTS.md. Exits non-zero on any error or lost write.
#
#   bash bench/load.sh                 # 60 s mix + 2 × 30 s storm on database toso_national
#   SECONDS_MIX=120 DB=toso_other bash bench/load.sh
#
# The national data set comes from `bash bench/suite.sh` (or bench/reports.sh); this script
# refuses to run on an empty database, because the figures would mean nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
db="${DB:-toso_national}"
port="${PORT:-18200}"
seconds_mix="${SECONDS_MIX:-60}"
seconds_storm="${SECONDS_STORM:-30}"
bash scripts/postgres.sh >/dev/null
cargo build --release --quiet --bin toso --example load
export DATABASE_URL="postgres://toso:toso@127.0.0.1:5432/$db" TOSO_ENV=dev TOSO_BIND="127.0.0.1:$port" TOSO_LOG=warn
logs=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM assistance_logs" 2>/dev/null || echo 0)
if [ "${logs:-0}" -lt 1000 ]; then
  echo "database $db holds no data set: run bash bench/suite.sh first" >&2
  exit 1
fi
target/release/toso migrate >/dev/null
target/release/toso serve & server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done
rss() { awk '/VmRSS/ {print int($2/1024) " MB"}' "/proc/$server/status"; }
hwm() { awk '/VmHWM/ {print int($2/1024) " MB"}' "/proc/$server/status"; }
out=$(mktemp)
{
  echo
  echo "## $(date -u +%Y-%m-%d): load held (\`bash bench/load.sh\`, commit $(git rev-parse --short HEAD))"
  echo
  echo "Release server (\`TOSO_DB_POOL_SIZE\` default), database \`$db\` with $logs logs; driver: \`examples/load.rs\` on the same 2-core machine."
  echo
} >"$out"
status=0
target/release/examples/load --base "http://127.0.0.1:$port" --database-url "$DATABASE_URL" \
  --scenario mix --seconds "$seconds_mix" | tee -a "$out" || status=$?
echo >>"$out"
target/release/examples/load --base "http://127.0.0.1:$port" --database-url "$DATABASE_URL" \
  --scenario storm --seconds "$seconds_storm" --officers 8 --logins 16 | tee -a "$out" || status=$?
echo "Server memory after the runs: RSS $(rss), peak $(hwm)." | tee -a "$out"
# The logs the load wrote go, so the data set keeps its size for the next run and the suite.
psql "$DATABASE_URL" -qc "DELETE FROM assistance_logs WHERE created_by IN
  (SELECT id FROM users WHERE username LIKE 'load.m%')" >/dev/null
if [ "${APPEND:-1}" = 1 ]; then cat "$out" >>bench/RESULTS.md; fi
rm -f "$out"
exit "$status"
