-- bench/pgbench/log_create.sql (the server's statements), spread over the country (the realistic shape): each transaction as one of the 64
-- accounts bench.spread.1..64 (bench/suite/spread_accounts.sh: a team member of each of 64
-- communes taken evenly over the code list), drawn at random, as bench/wrk/log_create_spread.lua
-- does. The first statement only picks that account's ids (an indexed lookup, ~0.05 ms, the same
-- in both scripts) and is not part of what the server or the least SQL issue.
-- Run with pgbench -M prepared.
\set k random(1, 64)
SELECT m.id AS member, m.team_id AS team, m.commune_code AS commune, m.province_code AS province, t.village_id AS village, u.id AS uid FROM users u JOIN members m ON m.user_id = u.id AND m.left_on IS NULL AND m.archived_at IS NULL JOIN teams t ON t.id = m.team_id WHERE u.username = 'bench.spread.' || :k \gset
\set r1 random(1, 9007199254740991)
\set r2 random(1, 9007199254740991)
\set minute random(0, 20 * 1440 - 1)
\set cat random(1, 13)
\set chan random(1, 4)
\set helped random(1, 3)
\set sex random(1, 2)
\set age random(1, 4)
\set outcome random(1, 6)
BEGIN;
SELECT "members"."id", "members"."person_id", "members"."team_id", "members"."commune_code", "members"."province_code", "members"."joined_on", "members"."left_on", "members"."user_id" FROM "members" WHERE (("members"."person_id" = ANY(SELECT "linked"."person_id" FROM "members" AS "linked" WHERE (("linked"."archived_at" IS NULL) AND (("linked"."user_id" = :uid) OR ("linked"."team_id" = NULL))))) AND ("members"."archived_at" IS NULL)) ORDER BY "members"."id" ASC;
SELECT "villages"."id", "villages"."commune_code" FROM "villages" WHERE (("villages"."commune_code" = ANY(ARRAY[:commune::text])) AND ("villages"."archived_at" IS NULL));
SELECT "assistance_categories"."code", ("assistance_categories"."retired_at" IS NOT NULL) FROM "assistance_categories";
SELECT pg_advisory_xact_lock_shared(hashtextextended('commune-month:' || :commune || ':' || '2026-11-01'::text, 0));
SELECT "report_periods"."commune_code", "report_periods"."month" FROM "report_periods" WHERE ((("report_periods"."status" = 'approved') AND ("report_periods"."commune_code" = ANY(ARRAY[:commune::text]))) AND ("report_periods"."month" = ANY(ARRAY['2026-11-01'::date])));
SELECT "members"."id", "members"."joined_on", "members"."left_on" FROM "members" WHERE (("members"."id" = ANY(ARRAY[:member]::bigint[])) AND ("members"."archived_at" IS NULL)) ORDER BY "members"."id" ASC FOR SHARE;
INSERT INTO "assistance_logs" ("id", "occurred_at", "member_id", "team_id", "commune_code", "province_code", "village_id", "category_code", "channel", "citizens_helped", "citizen_sex", "citizen_age_band", "outcome", "note", "created_by", "device_id") VALUES (md5(:r1::text || ':' || :r2::text)::uuid, TIMESTAMPTZ '2026-11-01 07:00:00+07' + :minute * INTERVAL '1 minute', :member, :team, :commune, :province, :village, (ARRAY['vneid_install','vneid_level2','vneid_other','online_public_services','cashless_payment','mobile_money','ecommerce','digital_health','online_safety','provincial_citizen_app','messaging_apps','digital_learning','other'])[:cat], (ARRAY['home_visit','commune_centre','phone','group_session'])[:chan], :helped, (ARRAY['male','female'])[:sex], (ARRAY['under_18','18_35','36_59','60_plus'])[:age], (ARRAY['done','done','done','partly_done','referred','could_not_help'])[:outcome], 'Hướng dẫn kích hoạt định danh mức 2', :uid, DEFAULT) RETURNING "assistance_logs"."id", "assistance_logs"."occurred_at", "assistance_logs"."member_id", "assistance_logs"."team_id", "assistance_logs"."commune_code", "assistance_logs"."province_code", "assistance_logs"."village_id", "assistance_logs"."category_code", "assistance_logs"."channel", "assistance_logs"."citizens_helped", "assistance_logs"."citizen_sex", "assistance_logs"."citizen_age_band", "assistance_logs"."outcome", "assistance_logs"."note", "assistance_logs"."created_by", "assistance_logs"."device_id", "assistance_logs"."archived_at", "assistance_logs"."version", "assistance_logs"."created_at", "assistance_logs"."updated_at";
COMMIT;
