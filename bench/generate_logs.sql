-- Adds :logs synthetic assistance logs (default 10 million) spread evenly over the 24 months to
-- October 2026, on a database holding bench/generate_registry.sql's registry. Run it again to
-- grow the table: each run continues the sequence where the table stands (`first`, default:
-- the logs already there / 24) and seeds random() with :seed (default 0.42), so appended logs
-- fall on other members and times:
--   psql -v logs=2000000 -v seed=0.17 -f bench/generate_logs.sql
-- Logs go in month by month so the rollup trigger works on one month's rows at a time.
\set ON_ERROR_STOP on
\timing on
\if :{?logs}
\else
\set logs 10000000
\endif
\if :{?seed}
\else
\set seed 0.42
\endif
\if :{?first}
\else
SELECT count(*) / 24 AS first FROM assistance_logs \gset
\endif
SELECT setseed(:seed);

CREATE TEMP TABLE gen_members AS
SELECT row_number() OVER (ORDER BY m.id) AS k, m.id, m.team_id, m.commune_code, m.province_code, t.village_id
FROM members m JOIN teams t ON t.id = m.team_id;
CREATE UNIQUE INDEX ON gen_members (k);
SELECT count(*) AS generated_members FROM gen_members \gset

-- One INSERT per month of the 24: 2024-11 … 2026-10.
SELECT format(
  'INSERT INTO assistance_logs (id, occurred_at, member_id, team_id, commune_code, province_code, village_id, '
  'category_code, channel, citizens_helped, citizen_sex, citizen_age_band, outcome, created_by) '
  'SELECT gen_random_uuid(), %L::timestamptz + random() * interval ''27 days'', g.id, g.team_id, g.commune_code, '
  'g.province_code, g.village_id, '
  '(ARRAY[''vneid_install'',''vneid_level2'',''vneid_other'',''online_public_services'',''cashless_payment'','
  '''mobile_money'',''ecommerce'',''digital_health'',''online_safety'',''provincial_citizen_app'',''messaging_apps'','
  '''digital_learning'',''other''])[1 + (s %% 13)], '
  '(ARRAY[''home_visit'',''commune_centre'',''phone'',''group_session''])[1 + (s %% 4)], 1 + (s %% 3), '
  '(ARRAY[''male'',''female'',NULL])[1 + (s %% 3)], (ARRAY[''under_18'',''18_35'',''36_59'',''60_plus'',NULL])[1 + (s %% 5)], '
  '(ARRAY[''done'',''done'',''done'',''partly_done'',''referred'',''could_not_help''])[1 + (s %% 6)], '
  '(SELECT id FROM users WHERE username = ''generator'') '
  'FROM generate_series(%s::bigint, %s) AS s JOIN gen_members g ON g.k = 1 + (s * 7919) %% %s',
  date_trunc('month', DATE '2024-11-01' + make_interval(months => m)) + interval '1 day',
  :first + 1, :first + :logs / 24, :generated_members)
FROM generate_series(0, 23) AS m \gexec

DROP TABLE gen_members;
ANALYZE assistance_logs, log_rollups, member_month_logs, commune_month_totals;
SELECT count(*) AS logs FROM assistance_logs;
