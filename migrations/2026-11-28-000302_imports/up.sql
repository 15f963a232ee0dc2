-- Imports of registers kept in spreadsheets (issue 15): who imported which file (name,
-- SHA-256, size) into which unit, the counts, the result and the per-row report. Dry runs
-- and rejected files are recorded too (the register itself is untouched by them).
CREATE TABLE imports (
    id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    actor_id       UUID REFERENCES users (id),
    actor_username TEXT NOT NULL,
    -- The commune or province imported into; NULL: the whole country (the operator's CLI).
    unit_code      TEXT REFERENCES admin_units (code),
    province_code  TEXT REFERENCES admin_units (code),
    file_name      TEXT NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    sha256         TEXT NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes     BIGINT NOT NULL CHECK (size_bytes >= 0),
    dry_run        BOOLEAN NOT NULL,
    result         TEXT NOT NULL CHECK (result IN ('dry_run', 'applied', 'rejected')),
    counts         JSONB NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX imports_province_idx ON imports (province_code, created_at DESC);
CREATE INDEX imports_unit_idx ON imports (unit_code, created_at DESC);

-- One line of the per-row report.
CREATE TABLE import_rows (
    import_id UUID NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    sheet     TEXT NOT NULL,
    row_number INTEGER NOT NULL,
    entity    TEXT NOT NULL CHECK (entity IN ('village', 'team', 'member', 'file')),
    outcome   TEXT NOT NULL CHECK (outcome IN ('created', 'updated', 'unchanged', 'error')),
    record_id BIGINT,
    label     TEXT NOT NULL,
    errors    JSONB NOT NULL DEFAULT '[]',
    PRIMARY KEY (import_id, seq)
);

-- Every record an import creates or changes is audited with the import's id.
ALTER TABLE audit_log ADD COLUMN import_id UUID REFERENCES imports (id);
CREATE INDEX audit_log_import_idx ON audit_log (import_id) WHERE import_id IS NOT NULL;
