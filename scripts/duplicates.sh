#!/usr/bin/env bash
# The code's `duplicates` figure (ARCHITECTURE.md, "Figures"), where the workplace's
# `duplicates` tool is installed:
#   bash scripts/duplicates.sh            # the Rust code: src/ and crates/ together
#   bash scripts/duplicates.sh tests      # the tests
# Copies the tracked .rs files of those folders out of the checkout (so nothing else is
# read), runs `duplicates --most 200`, prints its rows, then sorts the pairs into three
# kinds: the same lines to the letter; two blocks of declarations (struct fields, their
# attributes) that only share a shape; and other same-shape code.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v duplicates >/dev/null || { echo "the duplicates tool is not installed here" >&2; exit 1; }
DIRS=("$@")
[ ${#DIRS[@]} -gt 0 ] || DIRS=(src crates)
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
git ls-files "${DIRS[@]}" | grep '\.rs$' | xargs cp --parents -t "$OUT"
(cd "$OUT" && git init -q && git add . && git -c user.email=x@y -c user.name=x commit -qm x)
duplicates --repo "$OUT" --most 200 --seconds 120 | tee "$OUT/rows.txt"
python3 - "$OUT" <<'EOF'
import re, sys
root = sys.argv[1]
def lines(place):
    path, span = place.rsplit(':', 1)
    first, last = map(int, span.split('-'))
    with open(f'{root}/{path}') as f:
        return f.read().split('\n')[first - 1:last]
def declarations(place):
    code = [l.strip() for l in lines(place) if l.strip() and not l.strip().startswith('//')]
    fields = [l for l in code if l.startswith('#[') or re.match(r'^(pub(\(crate\))? )?\w+( in \w+)?: [^=]+,$', l)]
    return bool(code) and len(fields) >= 0.6 * len(code)
kinds = {'identical lines': 0, 'declarations of the same shape': 0, 'other code of the same shape': 0}
for row in open(f'{root}/rows.txt'):
    if not re.match(r'^D\d+ ', row):
        continue
    words = row.split()
    if 'shape' not in words:
        kinds['identical lines'] += 1
    elif declarations(words[1]) and declarations(words[3]):
        kinds['declarations of the same shape'] += 1
    else:
        kinds['other code of the same shape'] += 1
for kind, n in kinds.items():
    print(f'{n:4} {kind}')
EOF
