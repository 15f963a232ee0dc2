-- Targets: a value or a rate for one unit (a province or commune by code, a village or team by
-- id), for a year or one month of it, due on a day. `split_from` names the parent target an
-- automatic split derived it from (null: set by hand).
CREATE TABLE indicator_targets (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    indicator_code TEXT NOT NULL REFERENCES indicators (code),
    year           INTEGER NOT NULL CHECK (year BETWEEN 2024 AND 2100),
    month          DATE CHECK (extract(day FROM month) = 1),
    unit_kind      TEXT NOT NULL CHECK (unit_kind IN ('province', 'commune', 'village', 'team')),
    unit_key       TEXT NOT NULL CHECK (length(unit_key) BETWEEN 1 AND 20),
    province_code  TEXT NOT NULL REFERENCES admin_units (code),
    commune_code   TEXT REFERENCES admin_units (code),
    target_value   BIGINT CHECK (target_value >= 0),
    target_rate    DOUBLE PRECISION CHECK (target_rate >= 0 AND target_rate <= 1),
    due_on         DATE NOT NULL,
    split_from     BIGINT REFERENCES indicator_targets (id) ON DELETE SET NULL,
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    sync_xid       BIGINT NOT NULL DEFAULT 0,
    sync_seq       BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT indicator_targets_value_or_rate CHECK ((target_value IS NULL) <> (target_rate IS NULL)),
    CONSTRAINT indicator_targets_month_in_year CHECK (month IS NULL OR extract(year FROM month) = year)
);
CREATE UNIQUE INDEX indicator_targets_unit_key
    ON indicator_targets (indicator_code, unit_kind, unit_key, year, coalesce(month, DATE '2000-01-01'));
CREATE INDEX indicator_targets_province_idx ON indicator_targets (province_code, year);
CREATE INDEX indicator_targets_commune_idx ON indicator_targets (commune_code, year);
CREATE TRIGGER indicator_targets_sync BEFORE INSERT OR UPDATE ON indicator_targets
    FOR EACH ROW EXECUTE FUNCTION touch_sync();
CREATE INDEX indicator_targets_sync_idx ON indicator_targets (sync_xid, sync_seq);
