-- National-scale synthetic data: every official commune, about 60,000 villages, 70,000 teams,
-- 350,000 members and :logs assistance logs spread over the 24 months to October 2026.
-- Run on a migrated database holding the official units (bench/reports.sh does it all):
--   psql -v logs=10000000 -f bench/generate.sql
-- Logs go in month by month so the rollup trigger works on one month's rows at a time.
\set ON_ERROR_STOP on
\timing on
SELECT setseed(0.42);

INSERT INTO users (username, password_hash, role)
VALUES ('generator', 'not-a-login', 'admin') ON CONFLICT DO NOTHING;

-- 18 villages per commune (59,778).
INSERT INTO villages (commune_code, province_code, name, search_name, kind, households, population)
SELECT u.code, u.province_code, 'Thôn ' || n, 'thon ' || n, 'thon', 150 + (n * 37) % 400, 600 + (n * 131) % 1500
FROM admin_units u CROSS JOIN generate_series(1, 18) AS n
WHERE u.level = 'commune';

-- 21 teams per commune (69,741): one per village and three at commune level.
INSERT INTO teams (commune_code, province_code, village_id, name, search_name, established_on, status)
SELECT v.commune_code, v.province_code, v.id, 'Tổ CNCĐ ' || v.name, 'to cncd ' || v.search_name, DATE '2024-03-01', 'active'
FROM villages v;
INSERT INTO teams (commune_code, province_code, name, search_name, established_on, status)
SELECT u.code, u.province_code, 'Tổ CNCĐ xã ' || n, 'to cncd xa ' || n, DATE '2024-03-01', 'active'
FROM admin_units u CROSS JOIN generate_series(1, 3) AS n
WHERE u.level = 'commune';

-- 5 members per team (348,705); the first is the leader.
INSERT INTO members (team_id, commune_code, province_code, full_name, search_name, sex, birth_year, affiliation, team_role, joined_on)
SELECT t.id, t.commune_code, t.province_code, 'Thành viên ' || t.id || '-' || n, 'thanh vien ' || t.id || '-' || n,
       CASE WHEN n % 2 = 0 THEN 'female' ELSE 'male' END, 1960 + (n * 7 + t.id) % 45,
       (ARRAY['village_head','area_police','youth_union','womens_union','resident_volunteer'])[n],
       CASE WHEN n = 1 THEN 'leader' ELSE 'member' END, DATE '2024-03-01'
FROM teams t CROSS JOIN generate_series(1, 5) AS n;

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
  'FROM generate_series(1::bigint, %s) AS s JOIN gen_members g ON g.k = 1 + (s * 7919) %% %s',
  date_trunc('month', DATE '2024-11-01' + make_interval(months => m)) + interval '1 day',
  :logs / 24, :generated_members)
FROM generate_series(0, 23) AS m \gexec

ANALYZE;
SELECT count(*) AS logs FROM assistance_logs;
