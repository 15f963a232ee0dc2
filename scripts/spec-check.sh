#!/usr/bin/env bash
# Checks the OpenAPI document the server really serves: a real validator
# (openapi-spec-validator, pinned, from PyPI) must accept it, and a typed client must be
# generated from it (openapi-typescript, pinned, from npm, installed under target/ which git
# ignores) without a single warning about the document.
# Needs the debug binary (cargo build); the document needs no database, so the server is
# pointed at one that does not exist and never touches another.
set -euo pipefail
cd "$(dirname "$0")/.."

VALIDATOR_VERSION=0.9.0
GENERATOR_VERSION=7.13.0
PORT="${SPEC_PORT:-18091}"
base="http://127.0.0.1:$PORT"
tools=target/spec-tools
work=$(mktemp -d)

if ! python3 -m pip show openapi-spec-validator 2>/dev/null | grep -qx "Version: $VALIDATOR_VERSION"; then
  echo "==> installing openapi-spec-validator $VALIDATOR_VERSION from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    "openapi-spec-validator==$VALIDATOR_VERSION"
fi
generator="$tools/node_modules/.bin/openapi-typescript"
if ! [ -x "$generator" ] || ! "$generator" --version 2>/dev/null | grep -q "$GENERATOR_VERSION"; then
  echo "==> installing openapi-typescript $GENERATOR_VERSION from npm into $tools"
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --silent --save-exact \
    "openapi-typescript@$GENERATOR_VERSION" >/dev/null
fi

cargo build --quiet
DATABASE_URL="postgres://toso:toso@127.0.0.1:5432/toso_spec_check_absent" TOSO_ENV=dev \
  TOSO_BIND="127.0.0.1:$PORT" TOSO_LOG=error target/debug/toso serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -sf "$base/api/v1/openapi.json" -o "$work/openapi.json" && break
  sleep 0.1
done
[ -s "$work/openapi.json" ] || { echo "the server did not serve its document" >&2; exit 1; }

echo "==> openapi-spec-validator $VALIDATOR_VERSION"
python3 -m openapi_spec_validator "$work/openapi.json"

echo "==> openapi-typescript $GENERATOR_VERSION"
if ! "$generator" "$work/openapi.json" -o "$work/client.d.ts" >"$work/generate.log" 2>&1; then
  cat "$work/generate.log" >&2
  exit 1
fi
if grep -qiE "warn|error|⚠|✘" "$work/generate.log"; then
  echo "openapi-typescript warned about the document:" >&2
  cat "$work/generate.log" >&2
  exit 1
fi
# Every operation is in the client under its operationId.
grep -q "listVillages: {" "$work/client.d.ts" || { echo "no operations in the client" >&2; exit 1; }
echo "==> the served document is valid and generates a typed client without warnings"
