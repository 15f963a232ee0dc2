#!/usr/bin/env bash
# Fuzzes the whole API with schemathesis, driven by the app's own OpenAPI document, as a
# commune officer: every documented route with EXAMPLES generated cases per phase, every check
# but `positive_data_acceptance` (see README: requests the schema allows but the server
# rejects for reasons no schema can state, e.g. a commune code that does not exist).
# Fails on any 5xx, undocumented status or content type, body that breaks its schema, or a
# wrong answer to a missing token or an undeclared method.
# Needs PostgreSQL (scripts/postgres.sh) and the debug binary (cargo build).
set -euo pipefail
cd "$(dirname "$0")/.."

EXAMPLES="${FUZZ_EXAMPLES:-25}"
SCHEMATHESIS_VERSION=4.32.5
PORT="${FUZZ_PORT:-18090}"
db=toso_fuzz
base="http://127.0.0.1:$PORT"

if ! python3 -m schemathesis.cli --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "==> installing schemathesis $SCHEMATHESIS_VERSION from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    "schemathesis==$SCHEMATHESIS_VERSION"
fi
# One worker: with several threads CPython 3.11 can fail inside `ast` ("AST constructor
# recursion depth mismatch", a thread-safety bug of `ast`) while hypothesis describes a strategy;
# seen here twice in runs with two workers.
st() { python3 -m schemathesis.cli "$@"; }

cargo build --quiet
bin=target/debug/toso
su postgres -c "psql -qc 'DROP DATABASE IF EXISTS $db WITH (FORCE)' -c 'CREATE DATABASE $db OWNER toso'" \
  >/dev/null 2>&1
export DATABASE_URL="postgres://toso:toso@127.0.0.1:5432/$db" TOSO_ENV=dev TOSO_BIND="127.0.0.1:$PORT" \
  TOSO_LOG=warn
$bin migrate >/dev/null
$bin import-units data/vn-admin-units-2025.csv >/dev/null
TOSO_PASSWORD=fuzz-officer-2025 $bin create-user --username fuzz.officer --role commune_officer \
  --unit 00004 >/dev/null
TOSO_PASSWORD=fuzz-leaver-2025 $bin create-user --username fuzz.leaver --role commune_officer \
  --unit 00004 >/dev/null

log=$(mktemp)
$bin serve >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do curl -sf "$base/health/ready" >/dev/null && break; sleep 0.1; done

token_of() {
  curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$2\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

checks=(--checks all --exclude-checks positive_data_acceptance)
run() { # token, extra options
  local token=$1
  shift
  st run "$base/api/v1/openapi.json" -H "Authorization: Bearer $token" "${checks[@]}" \
    --max-examples "$EXAMPLES" --phases examples,coverage,fuzzing --workers 1 \
    --warnings off --no-color "$@"
}

echo "==> schemathesis: every route but logout and password change, as a commune officer"
run "$(token_of fuzz.officer fuzz-officer-2025)" --exclude-path-regex 'auth/logout|me/password'
echo "==> schemathesis: logout and password change (they end the session, so last)"
run "$(token_of fuzz.leaver fuzz-leaver-2025)" --include-path-regex 'auth/logout|me/password'

if grep -qiE "panicked|internal error" "$log"; then
  echo "the server logged a panic or an internal error during the fuzz run:" >&2
  grep -iE "panicked|internal error" "$log" | head -20 >&2
  exit 1
fi
echo "==> fuzz run clean"
