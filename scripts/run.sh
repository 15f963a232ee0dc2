#!/usr/bin/env bash
# Starts a local PostgreSQL, migrates, loads the official units and a demo admin, and serves
# the API on 127.0.0.1:8080 in dev mode.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/postgres.sh
export DATABASE_URL="${DATABASE_URL:-postgres://toso:toso@127.0.0.1:5432/toso}"
export TOSO_ENV="${TOSO_ENV:-dev}"
export TOSO_BIND="${TOSO_BIND:-127.0.0.1:8080}"

cargo build --release --quiet
bin=target/release/toso
$bin migrate
$bin import-units data/vn-admin-units-2025.csv
TOSO_PASSWORD="${TOSO_DEMO_PASSWORD:-demo-admin-2025}" $bin create-user --username admin --role admin \
  --full-name "Demo admin" --if-missing

cat <<MSG

Tổ Số is starting on http://${TOSO_BIND}  (API docs: http://${TOSO_BIND}/docs)
Log in:
  curl -s http://${TOSO_BIND}/api/v1/auth/login -H 'content-type: application/json' \\
       -d '{"username":"admin","password":"${TOSO_DEMO_PASSWORD:-demo-admin-2025}"}'

MSG
exec $bin serve
