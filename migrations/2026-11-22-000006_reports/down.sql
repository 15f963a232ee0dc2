DROP TABLE report_periods;
DROP TRIGGER assistance_logs_rollup_delete ON assistance_logs;
DROP TRIGGER assistance_logs_rollup_update ON assistance_logs;
DROP TRIGGER assistance_logs_rollup_insert ON assistance_logs;
DROP FUNCTION apply_log_rollups();
DROP TABLE member_month_logs;
DROP TABLE log_rollups;
DROP FUNCTION vn_month(TIMESTAMPTZ);
