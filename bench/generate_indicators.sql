-- Programme indicators for the benchmark (issue 14), on top of the national synthetic set:
-- the 2026 denominators of every village, every commune's entered values for each month of
-- 2026 up to October, the village-level values of October, and a target per province and
-- commune. Idempotent: rows already there are kept.
\timing on
INSERT INTO denominators (year, commune_code, province_code, village_id, population, adults, households)
SELECT 2026, v.commune_code, v.province_code, v.id,
       900 + (v.id % 700), 650 + (v.id % 500), 250 + (v.id % 180)
FROM villages v
ON CONFLICT DO NOTHING;

-- Commune-level entered indicators, January to October: a value growing month by month.
INSERT INTO indicator_values (indicator_code, month, commune_code, province_code, value, denominator)
SELECT i.code, m.month, u.code, u.province_code,
       ((hashtext(u.code || i.code) & 1023) + 40 * extract(month FROM m.month))::bigint,
       CASE WHEN i.denominator IN ('dossiers', 'entered') THEN 3000 END
FROM admin_units u
CROSS JOIN indicators i
CROSS JOIN generate_series(DATE '2026-01-01', DATE '2026-10-01', INTERVAL '1 month') AS m(month)
WHERE u.level = 'commune' AND u.valid_to IS NULL
  AND i.source = 'entered' AND i.level = 'commune' AND i.retired_at IS NULL
ON CONFLICT DO NOTHING;

-- Village-level entered indicators, October.
INSERT INTO indicator_values (indicator_code, month, commune_code, province_code, village_id, value)
SELECT i.code, DATE '2026-10-01', v.commune_code, v.province_code, v.id,
       CASE WHEN i.denominator = 'villages' THEN (v.id % 2) ELSE (v.id % 300) END
FROM villages v
CROSS JOIN indicators i
WHERE i.source = 'entered' AND i.level = 'village' AND i.retired_at IS NULL
ON CONFLICT DO NOTHING;

INSERT INTO indicator_targets (indicator_code, year, unit_kind, unit_key, province_code, commune_code, target_rate, due_on)
SELECT 'vneid_level2', 2026, 'province', u.code, u.code, NULL, 0.8, DATE '2026-12-31'
FROM admin_units u WHERE u.level = 'province'
UNION ALL
SELECT 'vneid_level2', 2026, 'commune', u.code, u.province_code, u.code, 0.8, DATE '2026-12-31'
FROM admin_units u WHERE u.level = 'commune' AND u.valid_to IS NULL
ON CONFLICT DO NOTHING;
ANALYZE denominators, indicator_values, indicator_targets;
