#!/usr/bin/env bash
# One route of the suite, for before/after comparisons in the same window:
#   bash bench/route.sh ROUTE [BINARY…]
# For each binary in turn (default target/release/toso), starts `toso serve` on BENCH_DB
# (default toso_national_perf), runs wrk as bench/suite.sh does (BENCH_CONNECTIONS, default 64;
# BENCH_SECONDS, default 10) and prints "binary requests failed ok/s p50_ms p99_ms" and the
# server's peak resident memory, then what
# the server's PostgreSQL sessions waited on during the run (pg_stat_activity sampled every
# 0.2 s: wait event, samples). ROUTE: member_get, villages, log_create, log_create_spread,
# sync_push, report. The logs the run created (by bench.member) are deleted afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUTE=${1:?route}
shift
BINS=("$@")
[ ${#BINS[@]} -gt 0 ] || BINS=(target/release/toso)
DB="${BENCH_DB:-toso_national_perf}"
SECS="${BENCH_SECONDS:-10}"
CONNS="${BENCH_CONNECTIONS:-64}"
WORK=$(mktemp -d /tmp/toso-route.XXXXXX)
# shellcheck source=bench/suite/lib.sh
source bench/suite/lib.sh
trap stop_server EXIT

case $ROUTE in
  member_get) script=member_get.lua path=/ who=admin ;;
  villages) script=villages.lua path=/ who=admin ;;
  log_create) script=log_create.lua path=/ who=member ;;
  log_create_spread) script=log_create_spread.lua path=/ who=member ;;
  sync_push) script=sync_push.lua path=/ who=member ;;
  report) script=get.lua path="/api/v1/reports/monthly?unit=01&month=2026-10" who=admin ;;
  *) echo "unknown route $ROUTE" >&2; exit 2 ;;
esac
if [ "$ROUTE" = log_create_spread ]; then
  # Team leaders of many communes: one account per commune, each writing for its own team.
  bash bench/suite/spread_accounts.sh "$DB" "$WORK/spread_tokens" 64 >/dev/null
fi

for bin in "${BINS[@]}"; do
  SERVER_BIN=$bin start_server "$DB"
  bench_vars "$DB"
  if [ "$who" = admin ]; then TOKEN=$ADMIN_TOKEN; else TOKEN=$MEMBER_TOKEN; fi
  export TOKEN
  if [ "$ROUTE" = log_create_spread ]; then
    SPREAD_TOKENS="$WORK/spread_tokens.$(basename "$bin")"
    while read -r user pw village; do echo "$(login "$user" "$pw") $village"; done \
      <"$WORK/spread_tokens" >"$SPREAD_TOKENS"
    export SPREAD_TOKENS
  fi
  # One second first, not counted (as bench/suite.sh): connections open, caches fill.
  wrk_run "$ROUTE-warmup" "$CONNS" 2 1 "$script" "$path" >/dev/null
  ( end=$(( $(date +%s) + SECS )); while [ "$(date +%s)" -lt "$end" ]; do
      psql "$PGURL_BASE/$DB" -tAc "SELECT coalesce(wait_event_type || ':' || wait_event, state)
        FROM pg_stat_activity WHERE datname = '$DB' AND pid <> pg_backend_pid()
        AND application_name = '' AND backend_type = 'client backend'"
      sleep 0.2; done ) >"$WORK/waits" 2>/dev/null &
  sampler=$!
  line=$(wrk_run "$ROUTE" "$CONNS" 2 "$SECS" "$script" "$path")
  wait "$sampler" || true
  echo "$(basename "$bin") $line (RSS peak $(( $(rss_kb "$SERVER_PID" VmHWM) / 1024 )) MB)"
  sort "$WORK/waits" | uniq -c | sort -rn | head -8 | sed 's/^/    /'
  stop_server
done
psql "$PGURL_BASE/$DB" -qc "DELETE FROM assistance_logs WHERE created_by IN (SELECT id FROM users
  WHERE username = 'bench.member' OR username LIKE 'bench.spread.%')" >/dev/null
