-- Reporting discipline: the day of the following month by which a province's communes submit
-- their monthly report (the 5th when a province has set none).
CREATE TABLE reporting_settings (
    province_code TEXT PRIMARY KEY REFERENCES admin_units (code),
    due_day       INTEGER NOT NULL CHECK (due_day BETWEEN 1 AND 28),
    version       INTEGER NOT NULL DEFAULT 1,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
