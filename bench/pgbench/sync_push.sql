-- Generated from the statements `toso serve` issues for this route (captured with
-- log_statement=all; see bench/suite.sh). Variables from bench/suite.sh: -D sid=… -D uid=… (a live
-- session of the calling account) and the ones named below. Run with pgbench -M prepared.
-- POST /api/v1/sync/push of 500 new logs as bench.member: session check, log context, lookup
-- of the 500 ids in log_ids, one transaction with the 500-row insert (its triggers claim the ids
-- in log_ids and add to the rollups), then one read-back of the new logs from their months.
-- Differences from the API: the 500 rows come from generate_series (same figures for the
-- batch) instead of 7,500 bound parameters; ids are md5(random, 1..500).
-- -D team=… member=… commune=… province=… village=…
\set r1 random(1, 9007199254740991)
\set minute random(0, 20 * 1440 - 1)
\set cat random(1, 13)
\set chan random(1, 4)
\set helped random(1, 3)
\set sex random(1, 2)
\set age random(1, 4)
\set outcome random(1, 6)
-- (Issue 16: the session check is answered from the in-process cache of live sessions, so a
-- warm request issues no statement for it; the first request of a session reads it once.)
SELECT "members"."id", "members"."team_id", "members"."commune_code", "members"."province_code", "members"."user_id" FROM "members" WHERE (((("members"."team_id" = :team) AND ("members"."left_on" IS NULL)) AND ("members"."archived_at" IS NULL)) AND ("members"."user_id" = :uid));
SELECT "villages"."id", "villages"."commune_code" FROM "villages" WHERE (("villages"."commune_code" = :commune) AND ("villages"."archived_at" IS NULL));
SELECT "assistance_categories"."code", ("assistance_categories"."retired_at" IS NOT NULL) FROM "assistance_categories";
SELECT "report_periods"."month" FROM "report_periods" WHERE (("report_periods"."commune_code" = :commune) AND ("report_periods"."status" = 'approved'));
SELECT "log_ids"."id" FROM "log_ids" WHERE ("log_ids"."id" = ANY(ARRAY(SELECT md5(:r1::text || ':' || g)::uuid FROM generate_series(1, 500) g)));
BEGIN;
INSERT INTO "assistance_logs" ("id", "occurred_at", "member_id", "team_id", "commune_code", "province_code", "village_id", "category_code", "channel", "citizens_helped", "citizen_sex", "citizen_age_band", "outcome", "note", "created_by", "device_id") SELECT md5(:r1::text || ':' || g)::uuid, TIMESTAMPTZ '2026-11-01 07:00:00+07' + :minute * INTERVAL '1 minute', :member, :team, :commune, :province, :village, (ARRAY['vneid_install','vneid_level2','vneid_other','online_public_services','cashless_payment','mobile_money','ecommerce','digital_health','online_safety','provincial_citizen_app','messaging_apps','digital_learning','other'])[:cat], (ARRAY['home_visit','commune_centre','phone','group_session'])[:chan], :helped, (ARRAY['male','female'])[:sex], (ARRAY['under_18','18_35','36_59','60_plus'])[:age], (ARRAY['done','done','done','partly_done','referred','could_not_help'])[:outcome], 'Hướng dẫn kích hoạt định danh mức 2', :uid, 'bench' FROM generate_series(1, 500) g RETURNING "assistance_logs"."id";
COMMIT;
SELECT "assistance_logs"."id", "assistance_logs"."occurred_at", "assistance_logs"."member_id", "assistance_logs"."team_id", "assistance_logs"."commune_code", "assistance_logs"."province_code", "assistance_logs"."village_id", "assistance_logs"."category_code", "assistance_logs"."channel", "assistance_logs"."citizens_helped", "assistance_logs"."citizen_sex", "assistance_logs"."citizen_age_band", "assistance_logs"."outcome", "assistance_logs"."note", "assistance_logs"."created_by", "assistance_logs"."device_id", "assistance_logs"."archived_at", "assistance_logs"."version", "assistance_logs"."created_at", "assistance_logs"."updated_at" FROM "assistance_logs" WHERE (((("assistance_logs"."team_id" = :team) AND ("assistance_logs"."member_id" = ANY(SELECT "members"."id" FROM "members" WHERE ("members"."user_id" = :uid)))) AND ("assistance_logs"."id" = ANY(ARRAY(SELECT md5(:r1::text || ':' || g)::uuid FROM generate_series(1, 500) g)))) AND ("assistance_logs"."occurred_at" = ANY(ARRAY[TIMESTAMPTZ '2026-11-01 07:00:00+07' + :minute * INTERVAL '1 minute'])));
