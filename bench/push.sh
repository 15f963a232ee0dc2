#!/usr/bin/env bash
# Push benchmark: release build, a fresh database, the server on 127.0.0.1:18080, then
# bench/push_throughput.py. Prints a results table for bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/postgres.sh >/dev/null
cargo build --release --quiet
db=toso_bench
su postgres -c "psql -qc 'DROP DATABASE IF EXISTS $db WITH (FORCE)'" >/dev/null
su postgres -c "psql -qc 'CREATE DATABASE $db OWNER toso'" >/dev/null
export DATABASE_URL="postgres://toso:toso@127.0.0.1:5432/$db" TOSO_ENV=dev TOSO_BIND=127.0.0.1:18080 TOSO_LOG=warn
target/release/toso migrate >/dev/null
target/release/toso import-units data/vn-admin-units-2025.csv >/dev/null
TOSO_PASSWORD=bench-admin-2025 target/release/toso create-user --username admin --role admin >/dev/null
target/release/toso serve & server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18080/health/ready >/dev/null && break; sleep 0.2; done
python3 bench/push_throughput.py http://127.0.0.1:18080 admin bench-admin-2025 "${1:-20}"
