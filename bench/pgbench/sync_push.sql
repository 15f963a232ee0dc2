-- The statements `toso serve` issues for POST /api/v1/sync/push of 500 new logs as
-- bench.member (captured with log_min_duration_statement = 0, issue 16 round two): the log
-- context (the persons the account logs as, their memberships, the communes' villages, the
-- categories), then one transaction: the shared lock of the commune-month and the check that
-- it is not approved, the share lock of the membership, the 500-row insert whose RETURNING
-- gives the new rows (its triggers claim the ids in log_ids and add to the rollups). Only
-- refused items are looked up in log_ids and only resends are read back: a push of new logs
-- has neither. Differences from the API: the 500 rows come from generate_series instead of
-- 8,000 bound parameters; ids are md5(random, 1..500); each row's figures (day, category,
-- channel, citizens, sex, age, outcome) vary from row to row, as the wrk script's do, so the
-- rollup trigger adds to as many rollup rows as the API's pushes.
-- Variables from bench/suite.sh: -D uid=… team=… member=… commune=… province=… village=…
-- Run with pgbench -M prepared. (The session check is answered from the in-process cache of
-- live sessions: a warm request issues no statement for it.)
\set r1 random(1, 9007199254740991)
\set r2 random(1, 9007199254740991)
\set minute random(0, 20 * 1440 - 1)
\set cat random(1, 13)
\set chan random(1, 4)
\set helped random(1, 3)
\set sex random(1, 2)
\set age random(1, 4)
\set outcome random(1, 6)
\set salt random(0, 999999)
SELECT DISTINCT "members"."person_id" FROM "members" WHERE (("members"."archived_at" IS NULL) AND ("members"."user_id" = :uid));
SELECT "members"."id", "members"."person_id", "members"."team_id", "members"."commune_code", "members"."province_code", "members"."joined_on", "members"."left_on", "members"."user_id" FROM "members" WHERE (("members"."person_id" = ANY(ARRAY(SELECT "person_id" FROM "members" WHERE "id" = :member))) AND ("members"."archived_at" IS NULL)) ORDER BY "members"."id" ASC;
SELECT "villages"."id", "villages"."commune_code" FROM "villages" WHERE (("villages"."commune_code" = ANY(ARRAY[:commune::text])) AND ("villages"."archived_at" IS NULL));
SELECT "assistance_categories"."code", ("assistance_categories"."retired_at" IS NOT NULL) FROM "assistance_categories";
BEGIN;
SELECT pg_advisory_xact_lock_shared(hashtextextended('commune-month:' || :commune || ':' || '2026-11-01'::text, 0));
SELECT "report_periods"."commune_code", "report_periods"."month" FROM "report_periods" WHERE ((("report_periods"."status" = 'approved') AND ("report_periods"."commune_code" = ANY(ARRAY[:commune::text]))) AND ("report_periods"."month" = ANY(ARRAY['2026-11-01'::date])));
SELECT "members"."id", "members"."joined_on", "members"."left_on" FROM "members" WHERE (("members"."id" = ANY(ARRAY[:member]::bigint[])) AND ("members"."archived_at" IS NULL)) ORDER BY "members"."id" ASC FOR SHARE;
INSERT INTO "assistance_logs" ("id", "occurred_at", "member_id", "team_id", "commune_code", "province_code", "village_id", "category_code", "channel", "citizens_helped", "citizen_sex", "citizen_age_band", "outcome", "note", "created_by", "device_id") SELECT md5(:r1::text || ':' || g)::uuid, TIMESTAMPTZ '2026-11-01 07:00:00+07' + (((hashint4(g + :salt) & 2147483647) % (20 * 1440) + :minute) % (20 * 1440)) * INTERVAL '1 minute', :member, :team, :commune, :province, :village, (ARRAY['vneid_install','vneid_level2','vneid_other','online_public_services','cashless_payment','mobile_money','ecommerce','digital_health','online_safety','provincial_citizen_app','messaging_apps','digital_learning','other'])[1 + (hashint4(g * 7 + :salt) & 2147483647) % 13], (ARRAY['home_visit','commune_centre','phone','group_session'])[1 + (hashint4(g * 11 + :salt) & 2147483647) % 4], 1 + (hashint4(g * 1 + :salt) & 2147483647) % 3, (ARRAY['male','female'])[1 + (hashint4(g * 1 + :salt) & 2147483647) % 2], (ARRAY['under_18','18_35','36_59','60_plus'])[1 + (hashint4(g * 3 + :salt) & 2147483647) % 4], (ARRAY['done','done','done','partly_done','referred','could_not_help'])[1 + (hashint4(g * 5 + :salt) & 2147483647) % 6], 'Hướng dẫn kích hoạt định danh mức 2', :uid, 'bench' FROM generate_series(1, 500) g RETURNING "assistance_logs"."id", "assistance_logs"."occurred_at", "assistance_logs"."member_id", "assistance_logs"."team_id", "assistance_logs"."commune_code", "assistance_logs"."province_code", "assistance_logs"."village_id", "assistance_logs"."category_code", "assistance_logs"."channel", "assistance_logs"."citizens_helped", "assistance_logs"."citizen_sex", "assistance_logs"."citizen_age_band", "assistance_logs"."outcome", "assistance_logs"."note", "assistance_logs"."created_by", "assistance_logs"."device_id", "assistance_logs"."archived_at", "assistance_logs"."version", "assistance_logs"."created_at", "assistance_logs"."updated_at";
COMMIT;
