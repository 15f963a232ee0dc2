#!/usr/bin/env bash
# Every check and test: formatting, clippy with warnings as errors, the whole test suite
# against a real PostgreSQL that this script starts, the served OpenAPI document through a
# validator and a client generator, and schemathesis.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/postgres.sh
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://toso:toso@127.0.0.1:5432/toso}"
# Tests talk to PostgreSQL over loopback: no TLS. (With libpq's default `sslmode=prefer`, the
# test binary once died with SIGSEGV after all its tests had passed, as OpenSSL's exit-time
# cleanup ran under connections still open on pool threads.)
export PGSSLMODE="${PGSSLMODE:-disable}"

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "==> cargo test --workspace"
cargo test --workspace --no-fail-fast
bash scripts/browser-test.sh  # the web console's journeys in headless Chromium (tests/browser/)
echo "==> the served OpenAPI document: validator and client generation"
bash scripts/spec-check.sh
echo "==> schemathesis against the OpenAPI document"
bash scripts/fuzz.sh
