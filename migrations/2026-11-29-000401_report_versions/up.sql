-- Versions of what a province's or the country's monthly report is computed from, so that a
-- computed report can be kept and served again while, and only while, nothing it reads has
-- changed (issue 16). Every write to a table the report reads bumps, in the same transaction
-- (statement triggers), the version of the rows it touched, old and new:
--   (province, commune, month) for what counts in one month (logs, trainings, report periods,
--   entered indicator values), month 1970-01-01 for what counts in every month (the registry,
--   attendance, denominators, targets), and province '' / commune '' for what every report
--   reads (units, categories, the indicator catalogue).
-- A report of month M of area A depends on the rows of A (and of '') for months January of M's
-- year to M (computed indicators add up from January) and 1970-01-01; versions only grow and
-- rows are never deleted, so the sum of those versions changes whenever anything the report
-- reads changes (`db::report_versions::of`).
-- Lock order: a log write locks its (commune, month) row before the rollups (trigger names
-- sort "assistance_logs_report_versions_*" before "assistance_logs_rollup_*"), the same
-- granularity as `commune_month_totals`, so writes gain no new contention between communes.
CREATE TABLE report_versions (
    month         DATE NOT NULL,
    province_code TEXT NOT NULL,
    commune_code  TEXT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (month, province_code, commune_code)
);

-- TG_ARGV: the SQL expressions of a row's province, commune and month.
CREATE FUNCTION bump_report_versions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cols CONSTANT TEXT := format('(%s)::text AS province_code, (%s)::text AS commune_code, (%s)::date AS month',
        TG_ARGV[0], TG_ARGV[1], TG_ARGV[2]);
    src TEXT;
BEGIN
    src := CASE TG_OP
        WHEN 'INSERT' THEN format('SELECT %s FROM new_rows', cols)
        WHEN 'DELETE' THEN format('SELECT %s FROM old_rows', cols)
        ELSE format('SELECT %s FROM new_rows UNION SELECT %s FROM old_rows', cols, cols) END;
    EXECUTE format($q$
        INSERT INTO report_versions AS v (month, province_code, commune_code)
        SELECT DISTINCT month, province_code, commune_code FROM (%s) c ORDER BY 1, 2, 3
        ON CONFLICT (month, province_code, commune_code) DO UPDATE SET version = v.version + 1
    $q$, src);
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t RECORD;
    op TEXT;
    refs TEXT;
BEGIN
    FOR t IN SELECT * FROM (VALUES
        ('assistance_logs', 'province_code', 'commune_code', 'vn_month(occurred_at)'),
        ('trainings', 'province_code', 'commune_code', 'vn_month(starts_at)'),
        ('report_periods', 'province_code', 'commune_code', 'month'),
        ('indicator_values', 'province_code', 'commune_code', 'month'),
        ('members', 'province_code', 'commune_code', '''1970-01-01'''),
        ('teams', 'province_code', 'commune_code', '''1970-01-01'''),
        ('villages', 'province_code', 'commune_code', '''1970-01-01'''),
        ('training_attendance', 'province_code', 'commune_code', '''1970-01-01'''),
        ('denominators', 'province_code', 'commune_code', '''1970-01-01'''),
        ('indicator_targets', 'province_code', 'coalesce(commune_code, '''')', '''1970-01-01'''),
        ('indicators', '''''', '''''', '''1970-01-01'''),
        ('assistance_categories', '''''', '''''', '''1970-01-01'''),
        ('admin_units', '''''', '''''', '''1970-01-01''')
    ) AS x (tbl, province, commune, month)
    LOOP
        FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
            refs := CASE op WHEN 'insert' THEN 'NEW TABLE AS new_rows'
                WHEN 'delete' THEN 'OLD TABLE AS old_rows'
                ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows' END;
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s FOR EACH STATEMENT '
                'EXECUTE FUNCTION bump_report_versions(%L, %L, %L)',
                t.tbl || '_report_versions_' || op, upper(op), t.tbl, refs, t.province, t.commune, t.month);
        END LOOP;
    END LOOP;
END
$$;
