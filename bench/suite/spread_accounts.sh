#!/usr/bin/env bash
# Accounts for writes spread over the country: bench.spread.1..N, each a team member of the
# first village team of one commune (N communes taken evenly over the code list), linked to
# one of its generated members. Idempotent. Writes "username password village" lines to $2.
#   bash bench/suite/spread_accounts.sh DB OUT N
set -euo pipefail
cd "$(dirname "$0")/../.."
db=$1 out=$2 n=${3:-64}
url="postgres://toso:toso@127.0.0.1:5432/$db"
pw=bench-spread-2025
: >"$out"
psql "$url" -tAF' ' -v n="$n" <<'SQL' |
WITH c AS (
  SELECT code, row_number() OVER (ORDER BY code) AS i, count(*) OVER () AS total
  FROM admin_units WHERE level = 'commune'
)
SELECT k, t.id, t.village_id
FROM generate_series(1, :n) k
JOIN c ON c.i = 1 + ((k - 1) * c.total) / :n
CROSS JOIN LATERAL (SELECT id, village_id FROM teams WHERE commune_code = c.code AND village_id IS NOT NULL
  AND archived_at IS NULL ORDER BY id LIMIT 1) t
ORDER BY k
SQL
while read -r k team village; do
  [ -n "$k" ] || continue
  user="bench.spread.$k"
  DATABASE_URL="$url" TOSO_PASSWORD=$pw "${SERVER_BIN:-target/release/toso}" create-user \
    --username "$user" --role team_member --team "$team" --if-missing >/dev/null
  psql "$url" -qtA >/dev/null <<SQL
UPDATE members SET user_id = (SELECT id FROM users WHERE username = '$user')
WHERE id = (SELECT min(id) FROM members WHERE team_id = $team AND left_on IS NULL AND archived_at IS NULL
  AND user_id IS NULL)
  AND NOT EXISTS (SELECT 1 FROM members WHERE user_id = (SELECT id FROM users WHERE username = '$user'));
SQL
  echo "$user $pw $village" >>"$out"
done
