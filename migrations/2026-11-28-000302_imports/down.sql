DROP INDEX audit_log_import_idx;
ALTER TABLE audit_log DROP COLUMN import_id;
DROP TABLE import_rows;
DROP TABLE imports;
