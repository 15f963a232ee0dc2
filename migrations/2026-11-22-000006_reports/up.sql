-- Monthly rollups of assistance logs, kept exact by a statement-level trigger in the same
-- transaction as every insert, update and delete. Months are calendar months in Vietnam.
CREATE FUNCTION vn_month(t TIMESTAMPTZ) RETURNS DATE LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT date_trunc('month', t AT TIME ZONE 'Asia/Ho_Chi_Minh')::date $$;

CREATE TABLE log_rollups (
    month            DATE NOT NULL,
    province_code    TEXT NOT NULL,
    commune_code     TEXT NOT NULL,
    team_id          BIGINT NOT NULL,
    village_id       BIGINT NOT NULL,  -- 0: no village given
    category_code    TEXT NOT NULL,
    outcome          TEXT NOT NULL,
    channel          TEXT NOT NULL,
    citizen_sex      TEXT NOT NULL,    -- '': not given
    citizen_age_band TEXT NOT NULL,    -- '': not given
    logs             BIGINT NOT NULL,
    citizens         BIGINT NOT NULL,
    PRIMARY KEY (month, commune_code, team_id, village_id, category_code, outcome, channel, citizen_sex, citizen_age_band)
);
CREATE INDEX log_rollups_province_idx ON log_rollups (month, province_code);

-- How many logs each member recorded in a month (for "members who logged at least once").
CREATE TABLE member_month_logs (
    month         DATE NOT NULL,
    member_id     BIGINT NOT NULL,
    province_code TEXT NOT NULL,
    commune_code  TEXT NOT NULL,
    team_id       BIGINT NOT NULL,
    logs          BIGINT NOT NULL,
    PRIMARY KEY (month, member_id)
);
CREATE INDEX member_month_logs_commune_idx ON member_month_logs (month, commune_code);
CREATE INDEX member_month_logs_province_idx ON member_month_logs (month, province_code);

-- Applies the net change of one statement, keys in a fixed order so concurrent writers
-- always lock rollup rows in the same order (no deadlocks). Transition tables exist only for
-- the operations that have them, so the source of the change is put together per operation.
CREATE FUNCTION apply_log_rollups() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cols CONSTANT TEXT := format('vn_month(occurred_at) AS month, province_code, commune_code, team_id, '
        'coalesce(village_id, 0) AS village_id, category_code, outcome, channel, '
        'coalesce(citizen_sex, %L) AS citizen_sex, coalesce(citizen_age_band, %L) AS citizen_age_band, '
        'member_id, citizens_helped', '', '');
    plus TEXT := format('SELECT %s, 1 AS sign FROM new_rows WHERE archived_at IS NULL', cols);
    minus TEXT := format('SELECT %s, -1 AS sign FROM old_rows WHERE archived_at IS NULL', cols);
    src TEXT;
BEGIN
    src := CASE TG_OP WHEN 'INSERT' THEN plus WHEN 'DELETE' THEN minus ELSE plus || ' UNION ALL ' || minus END;
    EXECUTE format($q$
        WITH changes AS (%s), summed AS (
            SELECT month, province_code, commune_code, team_id, village_id, category_code, outcome, channel,
                   citizen_sex, citizen_age_band, sum(sign) AS logs, sum(sign * citizens_helped) AS citizens
            FROM changes
            GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
            HAVING sum(sign) <> 0 OR sum(sign * citizens_helped) <> 0
            ORDER BY 1, 3, 4, 5, 6, 7, 8, 9, 10
        )
        INSERT INTO log_rollups AS r SELECT * FROM summed
        ON CONFLICT (month, commune_code, team_id, village_id, category_code, outcome, channel, citizen_sex, citizen_age_band)
        DO UPDATE SET logs = r.logs + excluded.logs, citizens = r.citizens + excluded.citizens
    $q$, src);
    EXECUTE format($q$
        WITH changes AS (%s), summed AS (
            SELECT month, member_id, province_code, commune_code, team_id, sum(sign) AS logs
            FROM changes GROUP BY 1, 2, 3, 4, 5 HAVING sum(sign) <> 0 ORDER BY 1, 2
        )
        INSERT INTO member_month_logs AS m SELECT * FROM summed
        ON CONFLICT (month, member_id) DO UPDATE SET logs = m.logs + excluded.logs
    $q$, src);
    RETURN NULL;
END
$$;

CREATE TRIGGER assistance_logs_rollup_insert AFTER INSERT ON assistance_logs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION apply_log_rollups();
CREATE TRIGGER assistance_logs_rollup_update AFTER UPDATE ON assistance_logs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION apply_log_rollups();
CREATE TRIGGER assistance_logs_rollup_delete AFTER DELETE ON assistance_logs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION apply_log_rollups();

-- The monthly report of a commune: its workflow state and, once approved, its frozen figures.
CREATE TABLE report_periods (
    commune_code    TEXT NOT NULL REFERENCES admin_units (code),
    province_code   TEXT NOT NULL REFERENCES admin_units (code),
    month           DATE NOT NULL CHECK (extract(day FROM month) = 1),
    status          TEXT NOT NULL CHECK (status IN ('submitted', 'returned', 'approved', 'reopened')),
    submitted_by    UUID REFERENCES users (id),
    submitted_at    TIMESTAMPTZ,
    decided_by      UUID REFERENCES users (id),
    decided_at      TIMESTAMPTZ,
    reason          TEXT CHECK (length(reason) <= 1000),
    snapshot        JSONB,
    version         INTEGER NOT NULL DEFAULT 1,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (commune_code, month)
);
CREATE INDEX report_periods_province_idx ON report_periods (province_code, month);
