#!/usr/bin/env bash
# Starts a local PostgreSQL, migrates, loads the official units, a demo admin and a demo
# province (scripts/demo-seed.py, through the API), and serves the API and the web console on
# 127.0.0.1:8080 in dev mode.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/postgres.sh
export DATABASE_URL="${DATABASE_URL:-postgres://toso:toso@127.0.0.1:5432/toso}"
export TOSO_ENV="${TOSO_ENV:-dev}"
export TOSO_BIND="${TOSO_BIND:-127.0.0.1:8080}"

echo "==> cargo build --release (the first build takes a few minutes; later ones seconds)"
cargo build --release
bin=target/release/toso
echo "==> migrations, official units, demo admin"
$bin migrate
$bin import-units data/vn-admin-units-2025.csv
TOSO_PASSWORD="${TOSO_DEMO_PASSWORD:-demo-admin-2025}" $bin create-user --username admin --role admin \
  --full-name "Demo admin" --if-missing

$bin serve &
server=$!
# Ctrl-C or SIGTERM reach the server, which finishes its requests and exits.
trap 'kill -TERM "$server" 2>/dev/null || true' INT TERM
echo "==> demo province (Lai Châu: two communes, teams, logs, targets, a submitted month)"
python3 scripts/demo-seed.py "http://${TOSO_BIND}" || echo "(the demo data could not be loaded; the server keeps running)"

cat <<MSG

Tổ Số is running on http://${TOSO_BIND}
  Web console: http://${TOSO_BIND}/   (admin / ${TOSO_DEMO_PASSWORD:-demo-admin-2025};
               tinh.laichau, xa.binhlu, xa.sinsuoiho / ${TOSO_DEMO_USER_PASSWORD:-so hoa ban lang 2026})
  API docs:    http://${TOSO_BIND}/docs
  Log in through the API:
  curl -s http://${TOSO_BIND}/api/v1/auth/login -H 'content-type: application/json' \\
       -d '{"username":"admin","password":"${TOSO_DEMO_PASSWORD:-demo-admin-2025}"}'

MSG
while kill -0 "$server" 2>/dev/null; do
  wait "$server" || true
done
