-- The least SQL that answers GET /api/v1/members/{id}: one indexed select of the member's
-- columns by primary key, with nothing else (no session check, no scope). bench/suite.sh
-- compares the API with it. -D member_min=… -D member_max=…
\set id random(:member_min, :member_max)
SELECT "members"."id", "members"."person_id", "members"."team_id", "members"."commune_code", "members"."province_code", "members"."full_name", "members"."search_name", "members"."phone", "members"."sex", "members"."birth_year", "members"."affiliation", "members"."team_role", "members"."joined_on", "members"."left_on", "members"."user_id", "members"."archived_at", "members"."version", "members"."created_at", "members"."updated_at" FROM "members" WHERE "members"."id" = :id;
