-- Administrative levels are data, not schema: a deployment that still reports by district
-- inserts a 'district' row here and units that point to it.
CREATE TABLE admin_levels (
    code  TEXT PRIMARY KEY,
    depth INTEGER NOT NULL UNIQUE CHECK (depth > 0),
    name  TEXT NOT NULL
);

INSERT INTO admin_levels (code, depth, name) VALUES
    ('province', 1, 'Tỉnh / thành phố trung ương'),
    ('commune', 3, 'Xã / phường / đặc khu');

-- One row per official unit. Codes are text so leading zeros survive; they are never reused,
-- so history survives a merger: the old unit gets valid_to, the new one its own code.
CREATE TABLE admin_units (
    code          TEXT PRIMARY KEY CHECK (code ~ '^[0-9]{2,6}$'),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    search_name   TEXT NOT NULL,
    level         TEXT NOT NULL REFERENCES admin_levels (code),
    unit_type     TEXT NOT NULL,
    parent_code   TEXT REFERENCES admin_units (code),
    -- The province at the root of the tree (itself for a province): scope checks need no recursion.
    province_code TEXT NOT NULL REFERENCES admin_units (code),
    valid_from    DATE NOT NULL,
    valid_to      DATE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT admin_units_root_has_no_parent CHECK ((level = 'province') = (parent_code IS NULL)),
    CONSTRAINT admin_units_valid_range CHECK (valid_to IS NULL OR valid_to > valid_from)
);

CREATE INDEX admin_units_parent_idx ON admin_units (parent_code);
CREATE INDEX admin_units_province_idx ON admin_units (province_code);
CREATE INDEX admin_units_level_idx ON admin_units (level, code);
