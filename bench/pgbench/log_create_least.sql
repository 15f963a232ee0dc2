-- The least SQL that answers POST /api/v1/assistance-logs: the insert itself, in autocommit,
-- returning the id (its triggers claim the id in log_ids and add to the rollups, as they must
-- for any writer). No session check, no context, no read-back.
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
INSERT INTO "assistance_logs" ("id", "occurred_at", "member_id", "team_id", "commune_code", "province_code", "village_id", "category_code", "channel", "citizens_helped", "citizen_sex", "citizen_age_band", "outcome", "note", "created_by", "device_id") VALUES (md5(:r1::text || ':' || :r2::text)::uuid, TIMESTAMPTZ '2026-11-01 07:00:00+07' + :minute * INTERVAL '1 minute', :member, :team, :commune, :province, :village, (ARRAY['vneid_install','vneid_level2','vneid_other','online_public_services','cashless_payment','mobile_money','ecommerce','digital_health','online_safety','provincial_citizen_app','messaging_apps','digital_learning','other'])[:cat], (ARRAY['home_visit','commune_centre','phone','group_session'])[:chan], :helped, (ARRAY['male','female'])[:sex], (ARRAY['under_18','18_35','36_59','60_plus'])[:age], (ARRAY['done','done','done','partly_done','referred','could_not_help'])[:outcome], 'Hướng dẫn kích hoạt định danh mức 2', :uid, DEFAULT) RETURNING "assistance_logs"."id";
