# Helpers for bench/suite.sh (sourced; not run on its own).

PORT="${BENCH_PORT:-18100}"
BASE="http://127.0.0.1:$PORT"
PGURL_BASE="postgres://toso:toso@127.0.0.1:5432"
ADMIN_PW=bench-admin-2025
MEMBER_PW=bench-member-2025
SERVER_PID=""
# The server binary the benchmarks start (bench/compare.sh sets it per run).
SERVER_BIN="${SERVER_BIN:-target/release/toso}"

as_pg() { su postgres -s /bin/sh -c "$*"; }
db_exists() { [ "$(as_pg "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = '$1'\"")" = "1" ]; }
logs_in() { psql "$PGURL_BASE/$1" -tAc "SELECT count(*) FROM assistance_logs"; }
now_ms() { date +%s%3N; }

# A database with the schema and the official units.
new_db() {
  as_pg "psql -qc 'CREATE DATABASE $1 OWNER toso'"
  DATABASE_URL="$PGURL_BASE/$1" target/release/toso migrate >/dev/null
  DATABASE_URL="$PGURL_BASE/$1" target/release/toso import-units data/vn-admin-units-2025.csv >/dev/null
}

# The accounts the suite drives the API with: bench.admin (country) and bench.member, a team
# member of the first village team of commune 00004 linked to one of its generated members.
bench_accounts() {
  local url="$PGURL_BASE/$1" team
  DATABASE_URL="$url" target/release/toso migrate >/dev/null
  DATABASE_URL="$url" TOSO_PASSWORD=$ADMIN_PW target/release/toso create-user \
    --username bench.admin --role admin --if-missing >/dev/null
  team=$(psql "$url" -tAc "SELECT min(id) FROM teams WHERE commune_code = '00004' AND village_id IS NOT NULL")
  DATABASE_URL="$url" TOSO_PASSWORD=$MEMBER_PW target/release/toso create-user \
    --username bench.member --role team_member --team "$team" --if-missing >/dev/null
  psql "$url" -qtA >/dev/null <<SQL
UPDATE members SET user_id = (SELECT id FROM users WHERE username = 'bench.member')
WHERE id = (SELECT min(id) FROM members WHERE team_id = $team AND left_on IS NULL AND archived_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM members WHERE user_id = (SELECT id FROM users WHERE username = 'bench.member'));
SQL
}

# Starts `toso serve` on database $1; sets SERVER_PID and COLD_START_MS.
start_server() {
  local t0 i
  t0=$(now_ms)
  # wrk drives each route from one account: lift the per-client share of the admission slots.
  DATABASE_URL="$PGURL_BASE/$1" TOSO_ENV=dev TOSO_BIND="127.0.0.1:$PORT" TOSO_LOG=warn \
    TOSO_MAX_IN_FLIGHT_PER_CLIENT="${TOSO_MAX_IN_FLIGHT_PER_CLIENT:-100000}" \
    TOSO_ACCESS_TOKEN_TTL_SECS=7200 TOSO_JWT_SECRET=bench-suite-secret-not-for-production-0123456789 "$SERVER_BIN" serve >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for i in $(seq 1 1000); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health/ready")" = "200" ]; then
      COLD_START_MS=$(( $(now_ms) - t0 )); return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited; see $WORK/server.log" >&2; return 1; }
    sleep 0.01
  done
  echo "server not ready after 10 s" >&2; return 1
}

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

login() { # user password -> access token
  curl -sf "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$2\"}" | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])'
}

rss_kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

# wrk_run NAME CONNECTIONS THREADS SECONDS SCRIPT [PATH]: runs wrk with --latency; the Lua
# script's done() writes "requests failed ok_per_second p50_ms p99_ms" to $WORK/NAME.wrk.
wrk_run() {
  local name=$1 c=$2 t=$3 d=$4 script=$5 path=${6:-/}
  WRK_OUT="$WORK/$name.wrk" wrk --latency --timeout 30s -c "$c" -t "$t" -d "${d}s" -s "bench/wrk/$script" "$BASE$path" \
    >"$WORK/$name.wrk.log" 2>&1
  cat "$WORK/$name.wrk"
}

# pgbench_run NAME CLIENTS SECONDS SCRIPT DB [-D var=value…]: prints tps (excluding connections)
# and writes the transactions' p99 latency (ms, from pgbench's per-transaction log) to
# $WORK/NAME.p99: what PostgreSQL alone answers in at that concurrency.
pgbench_run() {
  local name=$1 c=$2 d=$3 script=$4 db=$5; shift 5
  rm -f "$WORK/$name.txlog".*
  pgbench -n -M prepared -c "$c" -j 2 -T "$d" -f "bench/pgbench/$script" "$@" \
    --log --log-prefix="$WORK/$name.txlog" "$PGURL_BASE/$db" \
    >"$WORK/$name.pgbench.log" 2>&1 || { cat "$WORK/$name.pgbench.log" >&2; return 1; }
  cat "$WORK/$name.txlog".* | awk '{print $3}' | sort -n \
    | awk '{v[NR] = $1} END {i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", v[i] / 1000}' >"$WORK/$name.p99"
  rm -f "$WORK/$name.txlog".*
  awk '/^tps = / {print $3; exit}' "$WORK/$name.pgbench.log"
}

# Logs in bench.admin and bench.member on the running server and sets what the wrk and pgbench
# scripts need on database $1: ADMIN_TOKEN, MEMBER_TOKEN, ADMIN_VARS, MEMBER_VARS (pgbench -D
# arguments), MUID, and the exported MEMBER_MIN/MEMBER_MAX, COMMUNES, VILLAGE.
bench_vars() {
  local url="$PGURL_BASE/$1" asid auid msid team member commune province
  ADMIN_TOKEN=$(login bench.admin "$ADMIN_PW")
  MEMBER_TOKEN=$(login bench.member "$MEMBER_PW")
  session_of() { # username -> "sid uid" of its newest live session
    psql "$url" -tAF' ' -c "SELECT s.id, s.user_id FROM auth_sessions s JOIN users u ON u.id = s.user_id
      WHERE u.username = '$1' AND s.revoked_at IS NULL AND s.expires_at > now() ORDER BY s.expires_at DESC LIMIT 1"
  }
  read -r asid auid <<<"$(session_of bench.admin)"
  read -r msid MUID <<<"$(session_of bench.member)"
  read -r team member commune province VILLAGE <<<"$(psql "$url" -tAF' ' -c "SELECT m.team_id, m.id,
    m.commune_code, m.province_code, t.village_id FROM members m JOIN teams t ON t.id = m.team_id
    WHERE m.user_id = '$MUID' AND m.left_on IS NULL AND m.archived_at IS NULL")"
  read -r MEMBER_MIN MEMBER_MAX <<<"$(psql "$url" -tAF' ' -c 'SELECT min(id), max(id) FROM members')"
  read -r COMMUNE_MIN COMMUNE_MAX <<<"$(psql "$url" -tAF' ' -c \
    "SELECT min(code::int), max(code::int) FROM admin_units WHERE level = 'commune'")"
  psql "$url" -tAc "SELECT code FROM admin_units WHERE level = 'commune' ORDER BY code" >"$WORK/communes"
  export MEMBER_MIN MEMBER_MAX COMMUNES="$WORK/communes" VILLAGE
  ADMIN_VARS=(-D "sid=$asid" -D "uid=$auid" -D "member_min=$MEMBER_MIN" -D "member_max=$MEMBER_MAX"
    -D "commune_min=$COMMUNE_MIN" -D "commune_max=$COMMUNE_MAX" -D unit=01 -D m1=2026-10-01 -D m2=2026-10-31)
  MEMBER_VARS=(-D "sid=$msid" -D "uid=$MUID" -D "team=$team" -D "member=$member" -D "commune=$commune"
    -D "province=$province" -D "village=$VILLAGE")
}
