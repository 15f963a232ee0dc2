#!/usr/bin/env bash
# Makes sure a local PostgreSQL 15 runs and has the `toso` role and database.
# Installs Debian's packages when missing, creates and starts the cluster as the `postgres`
# user (PostgreSQL refuses to run as root). Prints nothing but progress; safe to run twice.
set -euo pipefail

PG_VERSION="${PG_VERSION:-15}"
PG_PORT="${PG_PORT:-5432}"
DB_USER="${TOSO_DB_USER:-toso}"
DB_PASSWORD="${TOSO_DB_PASSWORD:-toso}"
DB_NAME="${TOSO_DB_NAME:-toso}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sudo -u postgres sh -c "$*"; fi
}

if ! [ -x "/usr/lib/postgresql/${PG_VERSION}/bin/postgres" ] || ! command -v pg_ctlcluster >/dev/null \
   || ! [ -f /usr/include/postgresql/libpq-fe.h ]; then
  echo "==> installing PostgreSQL ${PG_VERSION} and libpq-dev from Debian's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "postgresql-${PG_VERSION}" postgresql-contrib libpq-dev >/dev/null
fi

if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -q "^${PG_VERSION} main$"; then
  echo "==> creating cluster ${PG_VERSION}/main"
  as_root pg_createcluster "${PG_VERSION}" main --port "${PG_PORT}" >/dev/null
fi

if ! pg_lsclusters -h | awk -v v="${PG_VERSION}" '$1==v && $2=="main" {print $4}' | grep -q online; then
  echo "==> starting cluster ${PG_VERSION}/main"
  as_root pg_ctlcluster "${PG_VERSION}" main start
fi

for _ in $(seq 1 30); do
  as_postgres "pg_isready -q -p ${PG_PORT}" && break
  sleep 1
done

as_postgres "psql -p ${PG_PORT} -v ON_ERROR_STOP=1 -qtA" <<SQL >/dev/null
SELECT 'CREATE ROLE ${DB_USER} LOGIN CREATEDB PASSWORD ''${DB_PASSWORD}'''
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${DB_USER}')\gexec
SELECT 'CREATE DATABASE ${DB_NAME} OWNER ${DB_USER}'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '${DB_NAME}')\gexec
SQL
echo "==> PostgreSQL ${PG_VERSION} ready on 127.0.0.1:${PG_PORT} (role ${DB_USER}, database ${DB_NAME})"
