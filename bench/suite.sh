#!/usr/bin/env bash
# The benchmark suite: one command, `bash bench/suite.sh`, on a fresh Debian machine with Rust.
#
#  1. installs wrk, pgbench (postgresql-client/contrib) and linux-perf from Debian's packages
#     when missing, starts PostgreSQL (scripts/postgres.sh), builds the release binary;
#  2. data: the national synthetic set, toso_national (bench/generate_registry.sql + 10 M logs
#     from bench/generate_logs.sql over the 24 months 2024-11..2026-10, ~416,000 a month;
#     bench/reports.sh uses it too), and two copies of it with less history for the growth
#     step: toso_growth_1m keeps the newest 3 months (2026-08..10, ~1.25 M logs) and
#     toso_growth_3m the newest 7 (2026-04..10, ~2.9 M). A copy is CREATE DATABASE … TEMPLATE
#     toso_national (nothing may be connected to toso_national meanwhile), then the older
#     monthly partitions are dropped (the retention operation) with those months' rows of
#     commune_month_totals and report_periods, log_ids is rebuilt and the copy VACUUM ANALYZEd.
#     Databases that already exist are reused, so a second run generates nothing (a copy
#     holding other months, e.g. from the suite's first version, is copied again);
#     BENCH_REGENERATE=1 drops all three and starts again.
#     Each database gets `toso migrate` (so the suite brings toso_national to the worktree's
#     schema) and two accounts, bench.admin and bench.member (bench/suite/lib.sh);
#  3. growth: the province report and a filtered log list, one client, on the same month at
#     3, 7 and 24 months of history (1.25, 2.9 and 10 M logs): the table grows by accumulating
#     months at a fixed monthly volume. BENCH_ONLY=growth stops after this step, prints the
#     growth table and appends nothing to bench/RESULTS.md;
#  4. on toso_national: cold start, idle RSS, then for each route wrk (64 connections, 2 threads,
#     the log inserts twice: all for bench.member, one member of one commune, whose rollup rows
#     every insert locks, and spread over 64 accounts of 64 communes, bench.spread.1..64),
#     Lua scripts in bench/wrk/) and pgbench -M prepared at the same concurrency running the
#     statements the server issues for that route (bench/pgbench/), RSS under load, and a
#     perf profile of the whole machine under the member-read load;
#  5. prints a markdown table and appends it, with the date and commit, to bench/RESULTS.md.
#
# Server on 127.0.0.1:18100 (BENCH_PORT). BENCH_SECONDS (default 15) per wrk/pgbench run,
# BENCH_GROWTH_SECONDS (default 10), BENCH_CONNECTIONS (default 64), BENCH_PROFILE=0 skips perf,
# BENCH_REGENERATE=1 rebuilds the data, BENCH_ONLY=growth stops after the growth step (3.).
set -euo pipefail
cd "$(dirname "$0")/.."

SECS="${BENCH_SECONDS:-15}"
GROWTH_SECS="${BENCH_GROWTH_SECONDS:-10}"
CONNS="${BENCH_CONNECTIONS:-64}"
PROFILE="${BENCH_PROFILE:-1}"
WORK=$(mktemp -d /tmp/toso-suite.XXXXXX)
SUITE_START=$(date +%s)
# shellcheck source=bench/suite/lib.sh
source bench/suite/lib.sh

cleanup() {
  stop_server
  [ -n "${PERF_PID:-}" ] && kill "$PERF_PID" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "==> [$(( $(date +%s) - SUITE_START )) s] $*" >&2; }

# ---------------------------------------------------------------- 1. tools, PostgreSQL, build
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v pgbench >/dev/null || need+=(postgresql-client-15 postgresql-contrib)
command -v psql >/dev/null || need+=(postgresql-client-15)
if [ "$PROFILE" = 1 ] && ! command -v perf >/dev/null; then need+=(linux-perf); fi
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]} from Debian's packages"
  as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ "$PROFILE" = 1 ] && ! perf record -e cpu-clock -o "$WORK/probe.data" true >/dev/null 2>&1; then
  log "perf cannot record here (perf_event_paranoid?); skipping the profile"
  PROFILE=0
fi
bash scripts/postgres.sh >/dev/null
if [ "${BENCH_SKIP_BUILD:-0}" = 1 ]; then
  log "BENCH_SKIP_BUILD=1: using $SERVER_BIN as it is"
else
  log "building the release binary"
  cargo build --release --quiet
fi

# ---------------------------------------------------------------- 2. data
# The growth copies: database, first month kept, months of history (to 2026-10).
# BENCH_DB: the national database the routes (and the growth's 24 months) are measured on, e.g.
# a copy of toso_national (CREATE DATABASE … TEMPLATE toso_national) that may be migrated and
# written while toso_national stays as it is; toso_national by default.
NATIONAL_DB="${BENCH_DB:-toso_national}"
GROWTH_DBS=(toso_growth_1m toso_growth_3m "$NATIONAL_DB")
declare -A FIRST_MONTH=([toso_growth_1m]=2026-08-01 [toso_growth_3m]=2026-04-01 [$NATIONAL_DB]=2024-11-01)
declare -A HISTORY=([toso_growth_1m]=3 [toso_growth_3m]=7 [$NATIONAL_DB]=24)

generate_logs() { # db n seed
  local t0
  t0=$(date +%s)
  psql "$PGURL_BASE/$1" -q -v logs="$2" -v seed="$3" -f bench/generate_logs.sql >>"$WORK/generate.log"
  echo $(( $(date +%s) - t0 ))
}
month_start() { echo "'$1 00:00:00 Asia/Ho_Chi_Minh'::timestamptz"; } # YYYY-MM-DD -> SQL
# 0 when $1 is a copy holding exactly the months from $2 on: none before, some in that month.
is_history_copy() { # db first_month
  db_exists "$1" && [ "$(psql "$PGURL_BASE/$1" -tAc "SELECT
    NOT EXISTS (SELECT 1 FROM assistance_logs WHERE occurred_at < $(month_start "$2"))
    AND EXISTS (SELECT 1 FROM assistance_logs WHERE occurred_at >= $(month_start "$2")
      AND occurred_at < $(month_start "$2") + interval '1 month')")" = t ]
}
# Copies toso_national to $1 and keeps the months from $2 on; prints the seconds it took.
history_copy() { # db first_month
  local db=$1 first=$2 t0 i
  t0=$(date +%s)
  as_pg "psql -qc 'DROP DATABASE IF EXISTS $db WITH (FORCE)'" 2>/dev/null
  # CREATE DATABASE … TEMPLATE fails while anything is connected to the template.
  for i in $(seq 1 30); do
    [ "$(as_pg "psql -tAc \"SELECT count(*) FROM pg_stat_activity WHERE datname = 'toso_national'\"")" = 0 ] && break
    if [ "$i" = 30 ]; then
      echo "cannot copy toso_national: these sessions are connected to it (close them and run again):" >&2
      as_pg "psql -c \"SELECT pid, usename, application_name, client_addr, state, backend_start
        FROM pg_stat_activity WHERE datname = 'toso_national'\"" >&2
      exit 1
    fi
    sleep 1
  done
  as_pg "psql -qc 'CREATE DATABASE $db OWNER toso TEMPLATE toso_national STRATEGY FILE_COPY'"
  # One transaction: a copy is either the original or cut to its months (is_history_copy).
  psql "$PGURL_BASE/$db" -q -1 -v ON_ERROR_STOP=1 -v first="$first" -f - >>"$WORK/generate.log" <<'SQL'
SELECT format('DROP TABLE %I', c.relname)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent IN ('assistance_logs'::regclass, 'log_rollups'::regclass, 'member_month_logs'::regclass)
  AND c.relname ~ '_y[0-9]{4}m[0-9]{2}$'
  AND to_date(substring(c.relname FROM '([0-9]{4}m[0-9]{2})$'), 'YYYY"m"MM') < :'first'::date
ORDER BY c.relname \gexec
-- The DEFAULT partitions hold no such rows in the generated data; in case they do.
DELETE FROM assistance_logs_default WHERE occurred_at < (:'first' || ' 00:00:00 Asia/Ho_Chi_Minh')::timestamptz;
DELETE FROM log_rollups_default WHERE month < :'first'::date;
DELETE FROM member_month_logs_default WHERE month < :'first'::date;
-- The other per-month tables: the trend's totals, and the reports' workflow (none generated).
DELETE FROM commune_month_totals WHERE month < :'first'::date;
DELETE FROM report_periods WHERE month < :'first'::date;
TRUNCATE log_ids;
INSERT INTO log_ids SELECT id FROM assistance_logs;
SQL
  as_pg "psql -d $db -qc 'VACUUM ANALYZE'" >>"$WORK/generate.log"
  echo $(( $(date +%s) - t0 ))
}
# Logs per month of the months $2 keeps, in $1 (to check a copy against toso_national).
logs_per_month() { # db first_month
  psql "$PGURL_BASE/$1" -tAF' ' -c "SELECT to_char(vn_month(occurred_at), 'YYYY-MM'), count(*)
    FROM assistance_logs WHERE occurred_at >= $(month_start "$2") GROUP BY 1 ORDER BY 1"
}

GEN_NOTE="reused"
if [ "${BENCH_REGENERATE:-0}" = 1 ]; then
  log "BENCH_REGENERATE=1: dropping the growth databases and toso_national"
  for db in toso_growth toso_growth_1m toso_growth_3m toso_national; do
    as_pg "psql -qc 'DROP DATABASE IF EXISTS $db WITH (FORCE)'" 2>/dev/null
  done
fi
if db_exists toso_national; then
  n=$(logs_in toso_national)
  if [ "$n" -lt 9900000 ]; then
    echo "toso_national exists with $n logs (not the 10 M set); drop it or run with BENCH_REGENERATE=1" >&2
    exit 1
  fi
else
  # Generated under another name and renamed when complete, so an interrupted run leaves no
  # partial toso_national; the copies of an older toso_national go too.
  as_pg "psql -qc 'DROP DATABASE IF EXISTS toso_growth WITH (FORCE)'" 2>/dev/null
  for db in toso_growth_1m toso_growth_3m; do
    as_pg "psql -qc 'DROP DATABASE IF EXISTS $db WITH (FORCE)'" 2>/dev/null
  done
  log "generating the registry in toso_growth"
  t0=$(date +%s)
  new_db toso_growth
  psql "$PGURL_BASE/toso_growth" -q -f bench/generate_registry.sql >>"$WORK/generate.log"
  GEN_NOTE="registry $(( $(date +%s) - t0 )) s"
  log "generating 10 M logs (the longest step)"
  GEN_NOTE="$GEN_NOTE; 10 M logs $(generate_logs toso_growth 10000000 0.42) s"
  as_pg "psql -qc 'ALTER DATABASE toso_growth RENAME TO toso_national'"
  GEN_NOTE="generated in $(( $(date +%s) - t0 )) s ($GEN_NOTE)"
fi
COPY_NOTE=""
for db in toso_growth_1m toso_growth_3m; do
  is_history_copy "$db" "${FIRST_MONTH[$db]}" && continue
  if [ -z "$COPY_NOTE" ]; then
    # Migrated and with the accounts before copying, so the copies inherit both.
    bench_accounts toso_national
  fi
  log "copying toso_national to $db, keeping the months from ${FIRST_MONTH[$db]}"
  secs=$(history_copy "$db" "${FIRST_MONTH[$db]}")
  if [ "$(logs_per_month "$db" "${FIRST_MONTH[$db]}")" != "$(logs_per_month toso_national "${FIRST_MONTH[$db]}")" ]; then
    echo "$db: the logs per month differ from toso_national's:" >&2
    diff <(logs_per_month "$db" "${FIRST_MONTH[$db]}") <(logs_per_month toso_national "${FIRST_MONTH[$db]}") >&2 || true
    exit 1
  fi
  COPY_NOTE="$COPY_NOTE${COPY_NOTE:+, }$db ${HISTORY[$db]} months $secs s"
done
if [ -n "$COPY_NOTE" ]; then GEN_NOTE="$GEN_NOTE; copied ($COPY_NOTE)"; fi
DATA_DONE=$(date +%s)

# ---------------------------------------------------------------- 3. growth
REPORT_PATH="/api/v1/reports/monthly?unit=01&month=2026-10"
NATIONAL_PATH="/api/v1/reports/monthly?unit=VN&month=2026-10"
LIST_PATH="/api/v1/assistance-logs?unit=00004&from=2026-10-01T00:00:00%2B07:00&to=2026-11-01T00:00:00%2B07:00"
declare -A GROWTH
for db in "${GROWTH_DBS[@]}"; do
  bench_accounts "$db"
  start_server "$db"
  TOKEN=$(login bench.admin "$ADMIN_PW")
  export TOKEN
  GROWTH[$db.logs]=$(logs_in "$db")
  log "growth: $db (${HISTORY[$db]} months, ${GROWTH[$db.logs]} logs)"
  curl -sf -o /dev/null "$BASE$REPORT_PATH" -H "authorization: Bearer $TOKEN"
  curl -sf -o /dev/null "$BASE$LIST_PATH" -H "authorization: Bearer $TOKEN"
  GROWTH[$db.report]=$(wrk_run "growth-report-$db" 1 1 "$GROWTH_SECS" get.lua "$REPORT_PATH")
  GROWTH[$db.list]=$(wrk_run "growth-list-$db" 1 1 "$GROWTH_SECS" get.lua "$LIST_PATH")
  stop_server
done

f() { awk -v i="$2" '{print $i}' <<<"$1"; }   # field i of a wrk/pgbench line
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
mark() { awk -v v="$1" -v g="$2" -v d="$3" 'BEGIN { if ((d == "ge" && v >= g) || (d == "lt" && v < g)) print "met"; else print "**not met**" }'; }
growth_table() {
  local db r1 r10 l1 l10
  echo "Growth: the same month (province report 01 and the log list of commune 00004, 2026-10) as the"
  echo "log table accumulates history at a fixed national volume (~416,000 logs a month): copies of"
  echo "toso_national keeping its newest 3 and 7 of 24 months (older monthly partitions dropped), so"
  echo "the month measured holds the same logs and rollup rows at each point; 1 client, ${GROWTH_SECS} s each."
  echo
  echo "| database | months of history | logs | report p50 / p99 ms | log list p50 / p99 ms |"
  echo "| --- | --- | --- | --- | --- |"
  for db in "${GROWTH_DBS[@]}"; do
    echo "| $db | ${HISTORY[$db]} (${FIRST_MONTH[$db]%-01}..2026-10) | ${GROWTH[$db.logs]} | $(f "${GROWTH[$db.report]}" 4) / $(f "${GROWTH[$db.report]}" 5) | $(f "${GROWTH[$db.list]}" 4) / $(f "${GROWTH[$db.list]}" 5) |"
  done
  r1=$(f "${GROWTH[toso_growth_1m.report]}" 4); r10=$(f "${GROWTH[$NATIONAL_DB.report]}" 4)
  l1=$(f "${GROWTH[toso_growth_1m.list]}" 4); l10=$(f "${GROWTH[$NATIONAL_DB.list]}" 4)
  echo "| 24 / 3 months (goal ≤ 2) | | $(ratio "${GROWTH[$NATIONAL_DB.logs]}" "${GROWTH[toso_growth_1m.logs]}")× logs | $(ratio "$r10" "$r1") ($(mark 2 "$(ratio "$r10" "$r1")" ge)) | $(ratio "$l10" "$l1") ($(mark 2 "$(ratio "$l10" "$l1")" ge)) |"
}
if [ "${BENCH_ONLY:-}" = growth ]; then
  echo "Data: ${GEN_NOTE}."
  echo
  growth_table
  log "BENCH_ONLY=growth: stopping after the growth step (nothing appended to bench/RESULTS.md)"
  exit 0
fi

# ---------------------------------------------------------------- 4. routes on toso_national
DB=$NATIONAL_DB
URL="$PGURL_BASE/$DB"
psql "$URL" -qc "VACUUM ANALYZE auth_sessions, users" >/dev/null
start_server "$DB"
COLD_MS=$COLD_START_MS
RSS_IDLE=$(rss_kb "$SERVER_PID" VmRSS)
bench_vars "$DB"
# Writes spread over the country: 64 team members of 64 communes (log_create_spread).
log "accounts for the spread log inserts (bench.spread.1..64)"
bash bench/suite/spread_accounts.sh "$DB" "$WORK/spread_accounts" 64
while read -r user pw village; do echo "$(login "$user" "$pw") $village"; done \
  <"$WORK/spread_accounts" >"$WORK/spread_tokens"
export SPREAD_TOKENS="$WORK/spread_tokens"

declare -A API PG PGPOOL PGLEAST
POOL="${TOSO_DB_POOL_SIZE:-10}"
# route name, wrk script, path, token, pgbench script of the server's statements, pgbench
# script of the least SQL that answers the route
routes=(
  "member_get|member_get.lua|/|admin|member_get.sql|member_get_least.sql"
  "villages|villages.lua|/|admin|villages.sql|villages_least.sql"
  "log_create|log_create.lua|/|member|log_create.sql|log_create_least.sql"
  "log_create_spread|log_create_spread.lua|/|spread|log_create_spread.sql|log_create_spread_least.sql"
  "sync_push|sync_push.lua|/|member|sync_push.sql|sync_push_least.sql"
  "report|get.lua|$REPORT_PATH|admin|report.sql|report_least.sql"
)
for r in "${routes[@]}"; do
  IFS='|' read -r name script path who sql least <<<"$r"
  case $who in
    admin) TOKEN=$ADMIN_TOKEN; vars=("${ADMIN_VARS[@]}") ;;
    member) TOKEN=$MEMBER_TOKEN; vars=("${MEMBER_VARS[@]}") ;;
    spread) TOKEN=$MEMBER_TOKEN; vars=() ;;  # the Lua and SQL scripts pick their accounts
  esac
  export TOKEN
  log "$name: wrk -c $CONNS -t 2 -d ${SECS}s"
  if [ "$name" = member_get ] && [ "$PROFILE" = 1 ]; then
    # The profile: the whole machine (server, PostgreSQL, wrk) during the middle of the run.
    ( sleep 3; perf record -e cpu-clock -F 499 -a -g -o "$WORK/perf.data" -- sleep 8 >/dev/null 2>&1 ) &
    PERF_PID=$!
  fi
  # One second first, not counted: the pool's connections open and the caches fill.
  wrk_run "$name-warmup" "$CONNS" 2 1 "$script" "$path" >/dev/null
  API[$name]=$(wrk_run "$name" "$CONNS" 2 "$SECS" "$script" "$path")
  if [ -n "${PERF_PID:-}" ]; then wait "$PERF_PID" || true; PERF_PID=""; SERVER_PID_PROFILED=$SERVER_PID; fi
  RSS_LOAD=$(rss_kb "$SERVER_PID" VmRSS)
  log "$name: pgbench -M prepared -c $CONNS -T $SECS"
  PG[$name]=$(pgbench_run "$name" "$CONNS" "$SECS" "$sql" "$DB" "${vars[@]}")
  log "$name: pgbench -M prepared -c $CONNS -T $SECS, the least SQL ($least)"
  PGLEAST[$name]=$(pgbench_run "$name-least" "$CONNS" "$SECS" "$least" "$DB" "${vars[@]}")
  # For information: PostgreSQL with as many clients as the server has pooled connections.
  log "$name: pgbench -M prepared -c $POOL -T $SECS"
  PGPOOL[$name]=$(pgbench_run "$name-pool" "$POOL" "$SECS" "$sql" "$DB" "${vars[@]}")
done
# The national report, one client (goal: under 100 ms).
TOKEN=$ADMIN_TOKEN
export TOKEN
log "national report: wrk -c 1 -d ${GROWTH_SECS}s"
curl -sf -o /dev/null "$BASE$NATIONAL_PATH" -H "authorization: Bearer $TOKEN"
NATIONAL=$(wrk_run national 1 1 "$GROWTH_SECS" get.lua "$NATIONAL_PATH")
# Its first read after a write: a write in one commune of Hà Nội (its version row of October
# bumped, as the write triggers do), then one read; 10 times, median and worst ms. The country
# report computes Hà Nội's part again and keeps the 33 others (reports::country).
log "national report: first read after a write, 10 times"
AFTER_WRITE=$(for _ in $(seq 1 10); do
  psql "$URL" -qc "INSERT INTO report_versions VALUES ('2026-10-01', '01', '00004', 1)
    ON CONFLICT (month, province_code, commune_code) DO UPDATE SET version = report_versions.version + 1" >/dev/null
  curl -sf -o /dev/null -w '%{time_total}\n' "$BASE$NATIONAL_PATH" -H "authorization: Bearer $TOKEN"
done | sort -n | awk '{ms[NR] = $1 * 1000} END {printf "%.1f %.1f", (ms[5] + ms[6]) / 2, ms[NR]}')
RSS_HWM=$(rss_kb "$SERVER_PID" VmHWM)
stop_server
# The suite's own logs (November 2026, created by bench.member: the generated ones are by
# `generator`) go, so toso_national keeps its 10 M.
log "removing the logs the suite created"
psql "$URL" -qc "DELETE FROM assistance_logs WHERE created_by = '$MUID' OR created_by IN
  (SELECT id FROM users WHERE username LIKE 'bench.spread.%')" >/dev/null

# ---------------------------------------------------------------- 5. table
TOTAL=$(( $(date +%s) - SUITE_START ))
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with uncommitted changes)" || true)
{
  echo
  echo "## $(date -u +%Y-%m-%d): benchmark suite (\`bash bench/suite.sh\`, commit $COMMIT$DIRTY)"
  echo
  echo "$(nproc) cores; release build; database $DB (${GROWTH[$DB.logs]} logs);"
  echo "wrk -c $CONNS -t 2 -d ${SECS}s against pgbench -M prepared -c $CONNS -j 2 -T $SECS running the"
  echo "statements the server issues for the route (bench/pgbench/<route>.sql) and, apart, the least"
  echo "SQL that can produce the answer (bench/pgbench/<route>_least.sql), in the same run; each ratio is"
  echo "API / pgbench at the same concurrency. For information, pgbench with $POOL clients (the server's"
  echo "pool size): with hot rows (the inserts all lock the same rollup rows) fewer clients go faster."
  echo "Data: ${GEN_NOTE}. Suite time: ${TOTAL} s (data $(( DATA_DONE - SUITE_START )) s)."
  echo
  echo "| route | API ok req/s (goal) | pgbench, server's statements | ratio | pgbench, least SQL | ratio to least (goal) | p50 ms | p99 ms (goal) | least SQL's own p99 ms | failed requests | pgbench -c $POOL |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  for r in "${routes[@]}"; do
    IFS='|' read -r name _ <<<"$r"
    a=${API[$name]}; p=${PG[$name]}; pp=${PGPOOL[$name]}; pl=${PGLEAST[$name]}
    rps=$(f "$a" 3); rt=$(ratio "$rps" "$p"); rl=$(ratio "$rps" "$pl"); rps_goal=""
    case $name in
      sync_push) label="sync push, 500 logs (rows/s)"; goal=0.9
        rps_s=$(awk -v x="$rps" 'BEGIN{printf "%.0f", x*500}'); p_s=$(awk -v x="$p" 'BEGIN{printf "%.0f", x*500}')
        pp_s=$(awk -v x="$pp" 'BEGIN{printf "%.0f", x*500}'); pl_s=$(awk -v x="$pl" 'BEGIN{printf "%.0f", x*500}') ;;
      *) goal=0.5; rps_s=$rps; p_s=$(awk -v x="$p" 'BEGIN{printf "%.1f", x}'); pp_s=$(awk -v x="$pp" 'BEGIN{printf "%.1f", x}')
        pl_s=$(awk -v x="$pl" 'BEGIN{printf "%.1f", x}')
        case $name in member_get) label="member by id";; villages) label="village list page";;
          log_create) label="log insert (one member: hot rows)";;
          log_create_spread) label="log insert, 64 communes";; report) label="province report 01, 2026-10";; esac ;;
    esac
    case $name in member_get|villages|report) p99goal="$(f "$a" 5) ($(mark "$(f "$a" 5)" 20 lt) < 20)";; *) p99goal=$(f "$a" 5);; esac
    # The report's goal is its throughput (3 × the 25/s before issue 16), not a ratio.
    if [ "$name" = report ]; then rps_goal=" ($(mark "$rps" 75 ge) ≥ 75)"; rl_s=$rl; else rl_s="$rl ($(mark "$rl" "$goal" ge) ≥ $goal)"; fi
    echo "| $label | $rps_s$rps_goal | $p_s | $rt | $pl_s | $rl_s | $(f "$a" 4) | $p99goal | $(cat "$WORK/$name-least.p99" 2>/dev/null || echo n/a) | $(f "$a" 2) of $(f "$a" 1) | $pp_s |"
  done
  echo
  echo "National report (unit VN, 2026-10), 1 client, ${GROWTH_SECS} s: p50 $(f "$NATIONAL" 4) ms ($(mark "$(f "$NATIONAL" 4)" 100 lt) < 100), p99 $(f "$NATIONAL" 5) ms, $(f "$NATIONAL" 3) req/s, $(f "$NATIONAL" 2) failed of $(f "$NATIONAL" 1)."
  echo "National report, first read after a write in one commune (10 times): median $(f "$AFTER_WRITE" 1) ms ($(mark "$(f "$AFTER_WRITE" 1)" 100 lt) < 100), worst $(f "$AFTER_WRITE" 2) ms."
  echo
  growth_table
  echo
  echo "| server | value |"
  echo "| --- | --- |"
  echo "| cold start, launch to /health/ready 200 | ${COLD_MS} ms |"
  echo "| RSS idle (after start) | $(( RSS_IDLE / 1024 )) MB |"
  echo "| RSS after the load / peak (VmHWM), goal < 100 MB | $(( RSS_LOAD / 1024 )) / $(( RSS_HWM / 1024 )) MB ($(mark "$(( RSS_HWM / 1024 ))" 100 lt)) |"
  if [ "$PROFILE" = 1 ] && [ -s "$WORK/perf.data" ]; then
    echo
    echo "CPU by process under the member-read load (perf, whole machine, 8 s):"
    echo
    echo "| process | share |"
    echo "| --- | --- |"
    perf report -i "$WORK/perf.data" --no-children --sort comm --stdio 2>/dev/null \
      | awk '/^ +[0-9.]+%/ && n++ < 6 {print "| " $2 " | " $1 " |"}' || true
    echo
    echo "Where the server's CPU goes (share of all samples; kernel = syscalls, context switches):"
    echo
    echo '```'
    perf report -i "$WORK/perf.data" --no-children --pid "$SERVER_PID_PROFILED" --sort comm,dso --stdio 2>/dev/null \
      | awk '/^ +[0-9.]+%/ && n++ < 10 {print substr($0, 1, 80)}' || true
    echo
    perf report -i "$WORK/perf.data" --no-children --pid "$SERVER_PID_PROFILED" --sort dso,symbol --stdio 2>/dev/null \
      | awk '/^ +[0-9.]+%/ && n++ < 12 {print substr($0, 1, 100)}' || true
    echo '```'
  fi
} >"$WORK/table.md"
cat "$WORK/table.md"
cat "$WORK/table.md" >>bench/RESULTS.md
log "appended to bench/RESULTS.md; logs of this run in $WORK"
