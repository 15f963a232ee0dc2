#!/usr/bin/env bash
# A small PostgreSQL primary with a real streaming replica (pg_basebackup), for the replica
# test and for trying DATABASE_READ_URL by hand. Separate from the main cluster, so its
# replica copies only what the test writes.
#
#   scripts/replica.sh start    create (first time) and start both; prints the two URLs
#   scripts/replica.sh stop     stop the replica (the primary keeps its WAL in a slot)
#   scripts/replica.sh pause    pause WAL replay on the replica (it serves older data)
#   scripts/replica.sh resume   resume WAL replay
#   scripts/replica.sh remove   stop both and delete their data
#
# Runs the servers as the postgres user, as PostgreSQL refuses root.
set -euo pipefail

base="${TOSO_REPLICA_DIR:-/var/lib/postgresql/toso-replication}"
primary_port="${TOSO_REPLICA_PRIMARY_PORT:-5434}"
replica_port="${TOSO_REPLICA_PORT:-5433}"
bin=/usr/lib/postgresql/15/bin
socket=/var/run/postgresql

as_postgres() { su postgres -s /bin/bash -c "$*"; }
running() { [ -f "$1/postmaster.pid" ] && as_postgres "$bin/pg_ctl -D '$1' status" >/dev/null 2>&1; }
sql() { # port, statement
  as_postgres "psql -h $socket -p $1 -d postgres -v ON_ERROR_STOP=1 -qtAc \"$2\""
}

start() {
  if [ ! -x "$bin/initdb" ]; then
    bash "$(dirname "$0")/postgres.sh" >/dev/null
  fi
  mkdir -p "$base" "$socket"
  chown postgres:postgres "$base" "$socket"
  if [ ! -d "$base/primary" ]; then
    as_postgres "$bin/initdb -D '$base/primary' -U postgres --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8" >/dev/null
    cat >>"$base/primary/postgresql.conf" <<EOF
port = $primary_port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$socket'
wal_level = replica
max_wal_senders = 4
shared_buffers = 32MB
fsync = off
EOF
    echo "local replication postgres peer" >>"$base/primary/pg_hba.conf"
  fi
  if ! running "$base/primary"; then
    as_postgres "$bin/pg_ctl -D '$base/primary' -l '$base/primary.log' -w -t 30 start" >/dev/null
  fi
  if [ "$(sql "$primary_port" "SELECT count(*) FROM pg_roles WHERE rolname = 'toso'")" = "0" ]; then
    sql "$primary_port" "CREATE ROLE toso LOGIN CREATEDB PASSWORD 'toso'"
  fi
  if [ ! -d "$base/replica" ]; then
    as_postgres "$bin/pg_basebackup -h $socket -p $primary_port -U postgres -D '$base/replica' -R -X stream -C -S toso_replica -c fast"
    echo "port = $replica_port" >>"$base/replica/postgresql.auto.conf"
  fi
  if ! running "$base/replica"; then
    as_postgres "$bin/pg_ctl -D '$base/replica' -l '$base/replica.log' -w -t 30 start" >/dev/null
  fi
  [ "$(sql "$replica_port" "SELECT pg_is_in_recovery()")" = "t" ] || {
    echo "the replica on port $replica_port is not in recovery" >&2
    exit 1
  }
  echo "primary: postgres://toso:toso@127.0.0.1:$primary_port/postgres"
  echo "replica: postgres://toso:toso@127.0.0.1:$replica_port/postgres"
}

case "${1:-}" in
  start) start ;;
  stop)
    if running "$base/replica"; then
      as_postgres "$bin/pg_ctl -D '$base/replica' -m fast -w stop" >/dev/null
    fi
    ;;
  pause) sql "$replica_port" "SELECT pg_wal_replay_pause()" >/dev/null ;;
  resume) sql "$replica_port" "SELECT pg_wal_replay_resume()" >/dev/null ;;
  remove)
    for dir in "$base/replica" "$base/primary"; do
      if running "$dir"; then as_postgres "$bin/pg_ctl -D '$dir' -m immediate -w stop" >/dev/null; fi
    done
    rm -rf "$base"
    ;;
  *)
    echo "usage: $0 start|stop|pause|resume|remove" >&2
    exit 2
    ;;
esac
