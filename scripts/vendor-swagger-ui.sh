#!/usr/bin/env bash
# Refreshes the docs page's vendored Swagger UI (src/http/docs/) from the npm registry, pinned,
# and checks the files against the sums in src/http/docs/README.md. Run by hand when upgrading
# (change VERSION and the sums together); the build never downloads anything.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=5.35.0
dir=src/http/docs
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "swagger-ui-dist@$VERSION" >/dev/null && tar xzf ./*.tgz)
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE; do
  cp "$work/package/$f" "$dir/$f"
done
grep -E '^[0-9a-f]{64}  ' "$dir/README.md" | (cd "$dir" && sha256sum --check --quiet)
echo "swagger-ui-dist $VERSION vendored in $dir"
