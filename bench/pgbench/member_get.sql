-- Generated from the statements `toso serve` issues for this route (captured with
-- log_statement=all; see bench/suite.sh). Variables from bench/suite.sh: -D sid=… -D uid=… (a live
-- session of the calling account) and the ones named below. Run with pgbench -M prepared.
-- GET /api/v1/members/{id} as bench.admin: the Auth extractor's session check, then the member.
-- -D member_min=… -D member_max=…
\set id random(:member_min, :member_max)
SELECT "users"."id", "users"."username", "users"."full_name", "users"."phone", "users"."password_hash", "users"."role", "users"."unit_code", "users"."province_code", "users"."team_id", "users"."disabled", "users"."password_changed_at", "users"."version", "users"."created_at", "users"."updated_at" FROM ("auth_sessions" INNER JOIN "users" ON ("auth_sessions"."user_id" = "users"."id")) WHERE ((((("auth_sessions"."id" = :sid) AND ("auth_sessions"."user_id" = :uid)) AND ("auth_sessions"."revoked_at" IS NULL)) AND ("auth_sessions"."expires_at" > CURRENT_TIMESTAMP)) AND ("users"."disabled" = false)) LIMIT 1;
SELECT "members"."id", "members"."person_id", "members"."team_id", "members"."commune_code", "members"."province_code", "members"."full_name", "members"."search_name", "members"."phone", "members"."sex", "members"."birth_year", "members"."affiliation", "members"."team_role", "members"."joined_on", "members"."left_on", "members"."user_id", "members"."archived_at", "members"."version", "members"."created_at", "members"."updated_at" FROM "members" WHERE ("members"."id" = :id) LIMIT 1;
