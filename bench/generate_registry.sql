-- National-scale synthetic registry: every official commune, about 60,000 villages, 70,000 teams
-- and 350,000 members. Run once on a migrated database holding the official units, then
-- bench/generate_logs.sql (as many times as wanted) for the logs. bench/generate.sql runs both.
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
ANALYZE villages, teams, members;
