-- The least SQL that answers POST /api/v1/sync/push of 500 new logs: the one 500-row insert,
-- in autocommit (its triggers claim the ids in log_ids and add to the rollups). No session
-- check, no context, no read-back. Rows from generate_series as in sync_push.sql, their
-- figures varying from row to row as the API's do (until issue 16 round two every row of a
-- batch had the same figures, one rollup row a batch: cheaper than any real push).
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
INSERT INTO "assistance_logs" ("id", "occurred_at", "member_id", "team_id", "commune_code", "province_code", "village_id", "category_code", "channel", "citizens_helped", "citizen_sex", "citizen_age_band", "outcome", "note", "created_by", "device_id") SELECT md5(:r1::text || ':' || g)::uuid, TIMESTAMPTZ '2026-11-01 07:00:00+07' + (((hashint4(g + :salt) & 2147483647) % (20 * 1440) + :minute) % (20 * 1440)) * INTERVAL '1 minute', :member, :team, :commune, :province, :village, (ARRAY['vneid_install','vneid_level2','vneid_other','online_public_services','cashless_payment','mobile_money','ecommerce','digital_health','online_safety','provincial_citizen_app','messaging_apps','digital_learning','other'])[1 + (hashint4(g * 7 + :salt) & 2147483647) % 13], (ARRAY['home_visit','commune_centre','phone','group_session'])[1 + (hashint4(g * 11 + :salt) & 2147483647) % 4], 1 + (hashint4(g * 1 + :salt) & 2147483647) % 3, (ARRAY['male','female'])[1 + (hashint4(g * 1 + :salt) & 2147483647) % 2], (ARRAY['under_18','18_35','36_59','60_plus'])[1 + (hashint4(g * 3 + :salt) & 2147483647) % 4], (ARRAY['done','done','done','partly_done','referred','could_not_help'])[1 + (hashint4(g * 5 + :salt) & 2147483647) % 6], 'Hướng dẫn kích hoạt định danh mức 2', :uid, 'bench' FROM generate_series(1, 500) g RETURNING "assistance_logs"."id";
