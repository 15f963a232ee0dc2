#!/usr/bin/env bash
# Import benchmark (issue 15). Needs PostgreSQL (scripts/postgres.sh) and a release build.
# Creates a scratch database, loads the units, then times `toso import` (the same code as
# POST /api/v1/imports, without HTTP) with /usr/bin/time -v:
#   Đồng Nai: dry run, apply, re-apply (all unchanged);  national: dry run, apply.
# Usage: bash bench/imports/run.sh [dongnai|national|all]
set -euo pipefail
cd "$(dirname "$0")/../.."
CASE=${1:-all}
BIN=${BIN:-target/release/toso}
SERVER=${BENCH_SERVER:-postgres://toso:toso@127.0.0.1:5432}
DB=toso_bench_import
export PGSSLMODE=disable TOSO_JWT_SECRET=${TOSO_JWT_SECRET:-bench-secret-that-is-at-least-32-bytes}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

fresh() {
  psql "$SERVER/toso" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  export DATABASE_URL="$SERVER/$DB"
  $BIN migrate >/dev/null
  $BIN import-units data/vn-admin-units-2025.csv >/dev/null
}

timed() { # label, args…
  local label=$1; shift
  /usr/bin/time -v "$BIN" import "$@" 2>"$OUT/time" | tail -1
  awk -v l="$label" -F': ' '/Elapsed \(wall clock\)/{w=$2} /Maximum resident/{r=$2}
    END{printf "%-28s wall %s  max RSS %.0f MB\n", l, w, r/1024}' "$OUT/time"
}

if [[ $CASE == dongnai || $CASE == all ]]; then
  mkdir -p "$OUT/dn"; python3 bench/imports/generate.py dongnai "$OUT/dn"
  fresh
  timed "dongnai dry-run" "$OUT/dn/teams.csv" "$OUT/dn/members.csv" --unit 75 --dry-run
  timed "dongnai apply" "$OUT/dn/teams.csv" "$OUT/dn/members.csv" --unit 75
  timed "dongnai re-apply" "$OUT/dn/teams.csv" "$OUT/dn/members.csv" --unit 75
  # The activation sheet (6,400 QR codes) on top of an apply: a second province's worth.
  psql "$DATABASE_URL" -qc "DELETE FROM activation_codes; DELETE FROM audit_log; DELETE FROM members; DELETE FROM users; DELETE FROM teams"
  timed "dongnai apply + sheet" "$OUT/dn/teams.csv" "$OUT/dn/members.csv" --unit 75 --activation-sheet "$OUT/dn/activation.xlsx"
  ls -la "$OUT/dn/activation.xlsx" | awk '{printf "activation sheet: %.1f MB\n", $5/1048576}'
fi
if [[ $CASE == national || $CASE == all ]]; then
  mkdir -p "$OUT/vn"; python3 bench/imports/generate.py national "$OUT/vn"
  ls -la "$OUT/vn"/*.csv | awk '{printf "%s %.1f MB\n", $9, $5/1048576}'
  fresh
  timed "national dry-run" "$OUT/vn/teams.csv" "$OUT/vn/members.csv" --dry-run
  timed "national apply" "$OUT/vn/teams.csv" "$OUT/vn/members.csv"
fi
psql "$SERVER/toso" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
