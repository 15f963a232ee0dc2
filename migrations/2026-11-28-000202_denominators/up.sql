-- Denominators per unit and year: population, adults (15 and over) and households of a village
-- (village_id set) or of a commune (village_id null). A commune's figure is its own when
-- entered, else the sum of its villages' (a village without an entry falls back to the
-- households and population of its register record). Dated by year, so last year's rates
-- keep last year's denominators.
CREATE TABLE denominators (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    year          INTEGER NOT NULL CHECK (year BETWEEN 2024 AND 2100),
    commune_code  TEXT NOT NULL REFERENCES admin_units (code),
    province_code TEXT NOT NULL REFERENCES admin_units (code),
    village_id    BIGINT,
    population    INTEGER CHECK (population >= 0),
    adults        INTEGER CHECK (adults >= 0),
    households    INTEGER CHECK (households >= 0),
    source_note   TEXT CHECK (length(source_note) <= 500),
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    sync_xid      BIGINT NOT NULL DEFAULT 0,
    sync_seq      BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT denominators_village_same_commune_fkey
        FOREIGN KEY (village_id, commune_code) REFERENCES villages (id, commune_code),
    CONSTRAINT denominators_adults_within_population
        CHECK (adults IS NULL OR population IS NULL OR adults <= population)
);
CREATE UNIQUE INDEX denominators_unit_year_key ON denominators (commune_code, coalesce(village_id, 0), year);
CREATE INDEX denominators_province_idx ON denominators (province_code, year);
CREATE TRIGGER denominators_sync BEFORE INSERT OR UPDATE ON denominators
    FOR EACH ROW EXECUTE FUNCTION touch_sync();
CREATE INDEX denominators_sync_idx ON denominators (sync_xid, sync_seq);
