-- Monthly values of the entered indicators: per commune (village_id null) or per village.
-- A value stands for the state at the end of its month; a month without one carries the
-- latest earlier value of the same year. `denominator` is given with the value when the
-- indicator's denominator is `dossiers` or `entered`.
CREATE TABLE indicator_values (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    indicator_code TEXT NOT NULL REFERENCES indicators (code),
    month          DATE NOT NULL CHECK (extract(day FROM month) = 1),
    commune_code   TEXT NOT NULL REFERENCES admin_units (code),
    province_code  TEXT NOT NULL REFERENCES admin_units (code),
    village_id     BIGINT,
    value          BIGINT NOT NULL CHECK (value >= 0),
    denominator    BIGINT CHECK (denominator >= 0),
    source_note    TEXT CHECK (length(source_note) <= 500),
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    sync_xid       BIGINT NOT NULL DEFAULT 0,
    sync_seq       BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT indicator_values_village_same_commune_fkey
        FOREIGN KEY (village_id, commune_code) REFERENCES villages (id, commune_code),
    CONSTRAINT indicator_values_within_denominator CHECK (denominator IS NULL OR value <= denominator)
);
CREATE UNIQUE INDEX indicator_values_unit_month_key
    ON indicator_values (indicator_code, commune_code, coalesce(village_id, 0), month);
CREATE INDEX indicator_values_province_idx ON indicator_values (province_code, month);
CREATE INDEX indicator_values_commune_idx ON indicator_values (commune_code, month);
CREATE TRIGGER indicator_values_sync BEFORE INSERT OR UPDATE ON indicator_values
    FOR EACH ROW EXECUTE FUNCTION touch_sync();
CREATE INDEX indicator_values_sync_idx ON indicator_values (sync_xid, sync_seq);
