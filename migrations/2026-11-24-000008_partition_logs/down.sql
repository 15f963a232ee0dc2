-- Back to plain tables, with the rows. Triggers are created after the copy, as in up.sql.
DROP TRIGGER assistance_logs_release_ids ON assistance_logs;
DROP TRIGGER assistance_logs_rollup_delete ON assistance_logs;
DROP TRIGGER assistance_logs_rollup_update ON assistance_logs;
DROP TRIGGER assistance_logs_rollup_insert ON assistance_logs;
DROP TRIGGER assistance_logs_track_move ON assistance_logs;
DROP TRIGGER assistance_logs_sync ON assistance_logs;
DROP TRIGGER assistance_logs_claim_id ON assistance_logs;

ALTER TABLE assistance_logs RENAME TO assistance_logs_partitioned;
ALTER TABLE assistance_logs_partitioned DROP CONSTRAINT assistance_logs_pkey;
DROP INDEX assistance_logs_sync_idx, assistance_logs_commune_time_idx, assistance_logs_province_time_idx,
    assistance_logs_team_time_idx, assistance_logs_member_idx;
ALTER TABLE log_rollups RENAME TO log_rollups_partitioned;
ALTER TABLE log_rollups_partitioned DROP CONSTRAINT log_rollups_pkey;
DROP INDEX log_rollups_province_idx;
ALTER TABLE member_month_logs RENAME TO member_month_logs_partitioned;
ALTER TABLE member_month_logs_partitioned DROP CONSTRAINT member_month_logs_pkey;
DROP INDEX member_month_logs_commune_idx, member_month_logs_province_idx,
    member_month_logs_province_month_idx, member_month_logs_commune_month_idx;

CREATE TABLE assistance_logs (
    id               UUID NOT NULL,
    occurred_at      TIMESTAMPTZ NOT NULL,
    member_id        BIGINT NOT NULL,
    team_id          BIGINT NOT NULL,
    commune_code     TEXT NOT NULL,
    province_code    TEXT NOT NULL,
    village_id       BIGINT,
    category_code    TEXT NOT NULL,
    channel          TEXT NOT NULL CONSTRAINT assistance_logs_channel_check CHECK (channel IN ('home_visit', 'commune_centre', 'phone', 'group_session')),
    citizens_helped  INTEGER NOT NULL CONSTRAINT assistance_logs_citizens_helped_check CHECK (citizens_helped BETWEEN 1 AND 1000),
    citizen_sex      TEXT CONSTRAINT assistance_logs_citizen_sex_check CHECK (citizen_sex IN ('male', 'female', 'other')),
    citizen_age_band TEXT CONSTRAINT assistance_logs_citizen_age_band_check CHECK (citizen_age_band IN ('under_18', '18_35', '36_59', '60_plus')),
    outcome          TEXT NOT NULL CONSTRAINT assistance_logs_outcome_check CHECK (outcome IN ('done', 'partly_done', 'referred', 'could_not_help')),
    note             TEXT CONSTRAINT assistance_logs_note_check CHECK (length(note) <= 500),
    created_by       UUID NOT NULL,
    device_id        TEXT CONSTRAINT assistance_logs_device_id_check CHECK (length(device_id) <= 100),
    archived_at      TIMESTAMPTZ,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    sync_xid         BIGINT NOT NULL DEFAULT 0,
    sync_seq         BIGINT NOT NULL DEFAULT 0
);
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
    citizens         BIGINT NOT NULL
);
CREATE TABLE member_month_logs (
    month         DATE NOT NULL,
    member_id     BIGINT NOT NULL,
    province_code TEXT NOT NULL,
    commune_code  TEXT NOT NULL,
    team_id       BIGINT NOT NULL,
    logs          BIGINT NOT NULL
);

INSERT INTO assistance_logs SELECT * FROM assistance_logs_partitioned;
INSERT INTO log_rollups SELECT * FROM log_rollups_partitioned;
INSERT INTO member_month_logs SELECT * FROM member_month_logs_partitioned;

DO $$
DECLARE
    t text;
    g record;
BEGIN
    FOREACH t IN ARRAY ARRAY['assistance_logs', 'log_rollups', 'member_month_logs'] LOOP
        EXECUTE format('ALTER TABLE %I OWNER TO %I', t,
            (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = (t || '_partitioned')::regclass));
        FOR g IN
            SELECT a.privilege_type, a.is_grantable,
                   CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee
            FROM pg_class c, aclexplode(c.relacl) a
            WHERE c.oid = (t || '_partitioned')::regclass AND a.grantee <> c.relowner
        LOOP
            EXECUTE format('GRANT %s ON %I TO %s%s', g.privilege_type, t, g.grantee,
                CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        END LOOP;
    END LOOP;
END
$$;

DROP TABLE assistance_logs_partitioned, log_rollups_partitioned, member_month_logs_partitioned, log_ids;
DROP FUNCTION ensure_month_partitions(date, date);
DROP FUNCTION ensure_month_partition(regclass, date);
DROP FUNCTION claim_log_id();
DROP FUNCTION mark_log_move();
DROP FUNCTION release_log_ids();

ALTER TABLE assistance_logs ADD PRIMARY KEY (id);
CREATE INDEX assistance_logs_sync_idx ON assistance_logs (sync_xid, sync_seq);
CREATE INDEX assistance_logs_commune_time_idx ON assistance_logs (commune_code, occurred_at);
CREATE INDEX assistance_logs_province_time_idx ON assistance_logs (province_code, occurred_at);
CREATE INDEX assistance_logs_team_time_idx ON assistance_logs (team_id, occurred_at);
CREATE INDEX assistance_logs_member_idx ON assistance_logs (member_id);
ALTER TABLE assistance_logs
    ADD FOREIGN KEY (member_id) REFERENCES members (id),
    ADD FOREIGN KEY (team_id) REFERENCES teams (id),
    ADD FOREIGN KEY (commune_code) REFERENCES admin_units (code),
    ADD FOREIGN KEY (province_code) REFERENCES admin_units (code),
    ADD FOREIGN KEY (village_id) REFERENCES villages (id),
    ADD FOREIGN KEY (category_code) REFERENCES assistance_categories (code),
    ADD FOREIGN KEY (created_by) REFERENCES users (id);
ALTER TABLE log_rollups
    ADD PRIMARY KEY (month, commune_code, team_id, village_id, category_code, outcome, channel, citizen_sex, citizen_age_band);
CREATE INDEX log_rollups_province_idx ON log_rollups (month, province_code);
ALTER TABLE member_month_logs ADD PRIMARY KEY (month, member_id);
CREATE INDEX member_month_logs_commune_idx ON member_month_logs (month, commune_code);
CREATE INDEX member_month_logs_province_idx ON member_month_logs (month, province_code);
CREATE INDEX member_month_logs_province_month_idx ON member_month_logs (province_code, month);
CREATE INDEX member_month_logs_commune_month_idx ON member_month_logs (commune_code, month);

CREATE TRIGGER assistance_logs_sync BEFORE INSERT OR UPDATE ON assistance_logs
    FOR EACH ROW EXECUTE FUNCTION touch_sync();
CREATE TRIGGER assistance_logs_rollup_insert AFTER INSERT ON assistance_logs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION apply_log_rollups();
CREATE TRIGGER assistance_logs_rollup_update AFTER UPDATE ON assistance_logs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION apply_log_rollups();
CREATE TRIGGER assistance_logs_rollup_delete AFTER DELETE ON assistance_logs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION apply_log_rollups();
