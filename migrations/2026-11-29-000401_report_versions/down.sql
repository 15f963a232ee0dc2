DO $$
DECLARE
    tbl TEXT;
    op TEXT;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['assistance_logs', 'trainings', 'report_periods', 'indicator_values',
        'members', 'teams', 'villages', 'training_attendance', 'denominators', 'indicator_targets',
        'indicators', 'assistance_categories', 'admin_units'] LOOP
        FOREACH op IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', tbl || '_report_versions_' || op, tbl);
        END LOOP;
    END LOOP;
END
$$;
DROP FUNCTION bump_report_versions();
DROP TABLE report_versions;
