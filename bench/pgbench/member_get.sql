-- Generated from the statements `toso serve` issues for this route (captured with
-- log_statement=all; see bench/suite.sh). Variables from bench/suite.sh: -D sid=… -D uid=… (a live
-- session of the calling account) and the ones named below. Run with pgbench -M prepared.
-- GET /api/v1/members/{id} as bench.admin: the Auth extractor's session check, then the member.
-- -D member_min=… -D member_max=…
\set id random(:member_min, :member_max)
-- (Issue 16: the session check is answered from the in-process cache of live sessions, so a
-- warm request issues no statement for it; the first request of a session reads it once.)
-- (Reads by id are coalesced, `toso_db::coalesce`: a read alone issues this statement with one
-- id; reads that queue under load share one, with their ids in the array. pgbench replays the
-- statement of a read alone, one id each.)
SELECT "members"."id", "members"."person_id", "members"."team_id", "members"."commune_code", "members"."province_code", "members"."full_name", "members"."search_name", "members"."phone", "members"."sex", "members"."birth_year", "members"."affiliation", "members"."team_role", "members"."joined_on", "members"."left_on", "members"."user_id", "members"."archived_at", "members"."version", "members"."created_at", "members"."updated_at" FROM "members" WHERE "members"."id" = ANY(ARRAY[:id]::bigint[]);
