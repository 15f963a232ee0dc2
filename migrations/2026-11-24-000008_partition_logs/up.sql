-- Monthly partitions of the big tables: logs by occurred_at (months start at 00:00 in Vietnam,
-- the same months as vn_month()), rollups by month, each with a DEFAULT partition for rows
-- outside the months created so far. Existing rows are copied set-based; triggers are created
-- only after the copy, so rollups are not counted twice and sync positions are kept.
SET LOCAL maintenance_work_mem = '256MB';

-- A partitioned table's unique keys must contain the partition key, so the primary key of a
-- log becomes (id, occurred_at) and the one-row-per-client-id rule moves here: a log is
-- inserted only if its id could be claimed in this table (see claim_log_id).
CREATE TABLE log_ids (id UUID NOT NULL);

-- Creates the partition of `parent` for one month unless it exists. The new table is filled
-- with the rows of that month the DEFAULT partition holds (if any) and then attached, so the
-- parent is never locked against reads and writes (ATTACH takes SHARE UPDATE EXCLUSIVE). The
-- DEFAULT partition is locked while its rows move, and the tables the foreign keys point to
-- take no writes until the transaction ends (cloning a foreign key takes SHARE ROW EXCLUSIVE
-- on them): callers keep the transaction short. Rows only change place: no trigger fires,
-- rollups, log ids and sync positions stay as they are.
CREATE FUNCTION ensure_month_partition(parent regclass, month date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    base  CONSTANT text := (SELECT relname FROM pg_class WHERE oid = parent);
    part  CONSTANT text := format('%s_y%sm%s', base, to_char(month, 'YYYY'), to_char(month, 'MM'));
    dflt  CONSTANT text := base || '_default';
    first CONSTANT date := date_trunc('month', month)::date;
    next  CONSTANT date := (date_trunc('month', month) + interval '1 month')::date;
    key   text;
    lo    text;
    hi    text;
    moved bigint;
BEGIN
    IF to_regclass(part) IS NOT NULL THEN
        RETURN false;
    END IF;
    IF base = 'assistance_logs' THEN
        key := 'occurred_at';
        lo := format('%s 00:00:00 Asia/Ho_Chi_Minh', first);
        hi := format('%s 00:00:00 Asia/Ho_Chi_Minh', next);
    ELSE
        key := 'month';
        lo := first::text;
        hi := next::text;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, base);
    IF to_regclass(dflt) IS NOT NULL THEN
        -- No writer may add rows of this month to the DEFAULT partition until it is attached.
        EXECUTE format('LOCK TABLE %I IN EXCLUSIVE MODE', dflt);
        EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= %L AND %I < %L RETURNING *) '
                       'INSERT INTO %I SELECT * FROM moved', dflt, key, lo, key, hi, part);
        GET DIAGNOSTICS moved = ROW_COUNT;
        IF moved > 0 THEN
            RAISE LOG 'ensure_month_partition: moved % rows of % from % to %', moved, first, dflt, part;
        END IF;
    END IF;
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', base, part, lo, hi);
    RETURN true;
END
$$;

-- Partitions of every month from `from_month` to `to_month` (inclusive) for the logs and the
-- two rollup tables; returns how many were created. Concurrent callers (several app
-- instances) are serialised; when every partition exists nothing is locked.
CREATE FUNCTION ensure_month_partitions(from_month date, to_month date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    parents CONSTANT text[] := ARRAY['assistance_logs', 'log_rollups', 'member_month_logs'];
    months date[];
    m date;
    p text;
    created integer := 0;
BEGIN
    months := ARRAY(SELECT generate_series(date_trunc('month', from_month), to_month, interval '1 month')::date);
    IF NOT EXISTS (
        SELECT FROM unnest(months) AS mm (month), unnest(parents) AS pp (parent)
        WHERE to_regclass(format('%s_y%sm%s', pp.parent, to_char(mm.month, 'YYYY'), to_char(mm.month, 'MM'))) IS NULL
    ) THEN
        RETURN 0;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('toso.ensure_month_partitions'));
    FOREACH m IN ARRAY months LOOP
        -- Logs before rollups, the order in which writers lock them.
        FOREACH p IN ARRAY parents LOOP
            IF ensure_month_partition(p::regclass, m) THEN
                created := created + 1;
            END IF;
        END LOOP;
    END LOOP;
    RETURN created;
END
$$;

-- Claims the id of a log about to be inserted. A resend (the id is taken, whatever month the
-- stored log is in now) is skipped, as ON CONFLICT DO NOTHING did: RETURNING leaves it out
-- and the rollup trigger never sees it. A concurrent insert of the same id waits here for
-- the first one and is skipped if it commits. An UPDATE that moves a log to another month's
-- partition re-inserts the row there: that row keeps its claim (see mark_log_move).
CREATE FUNCTION claim_log_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('toso.moving_log', true) = NEW.id::text || '/' || NEW.sync_seq THEN
        PERFORM set_config('toso.moving_log', '', true);
        RETURN NEW;
    END IF;
    INSERT INTO log_ids (id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

-- Before an UPDATE of occurred_at (after touch_sync, which gave the row a fresh sync_seq):
-- remembers the row for claim_log_id, in case PostgreSQL moves it to another partition
-- (a DELETE there and a re-INSERT, which fires the BEFORE INSERT triggers). The mark names
-- the id and that sync_seq, so it can only match the re-insert of this very row version.
CREATE FUNCTION mark_log_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('toso.moving_log', NEW.id::text || '/' || NEW.sync_seq, true);
    RETURN NEW;
END
$$;

-- A log deleted for good frees its id, as the old primary key did.
CREATE FUNCTION release_log_ids() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM log_ids WHERE id IN (SELECT id FROM old_rows);
    RETURN NULL;
END
$$;

-- The tables as they were: out of the way, without their indexes (whose names move over).
ALTER TABLE assistance_logs RENAME TO assistance_logs_unpartitioned;
ALTER TABLE assistance_logs_unpartitioned DROP CONSTRAINT assistance_logs_pkey;
DROP INDEX assistance_logs_sync_idx, assistance_logs_commune_time_idx, assistance_logs_province_time_idx,
    assistance_logs_team_time_idx, assistance_logs_member_idx;
ALTER TABLE log_rollups RENAME TO log_rollups_unpartitioned;
ALTER TABLE log_rollups_unpartitioned DROP CONSTRAINT log_rollups_pkey;
DROP INDEX log_rollups_province_idx;
ALTER TABLE member_month_logs RENAME TO member_month_logs_unpartitioned;
ALTER TABLE member_month_logs_unpartitioned DROP CONSTRAINT member_month_logs_pkey;
DROP INDEX member_month_logs_commune_idx, member_month_logs_province_idx,
    member_month_logs_province_month_idx, member_month_logs_commune_month_idx;

-- Same columns in the same order; keys, indexes and foreign keys follow the copy.
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
) PARTITION BY RANGE (occurred_at);
CREATE TABLE assistance_logs_default PARTITION OF assistance_logs DEFAULT;

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
) PARTITION BY RANGE (month);
CREATE TABLE log_rollups_default PARTITION OF log_rollups DEFAULT;

CREATE TABLE member_month_logs (
    month         DATE NOT NULL,
    member_id     BIGINT NOT NULL,
    province_code TEXT NOT NULL,
    commune_code  TEXT NOT NULL,
    team_id       BIGINT NOT NULL,
    logs          BIGINT NOT NULL
) PARTITION BY RANGE (month);
CREATE TABLE member_month_logs_default PARTITION OF member_month_logs DEFAULT;

-- From the programme's first year to two years ahead; the server keeps a year ahead.
SELECT ensure_month_partitions('2024-01-01', (vn_month(now()) + interval '24 months')::date);

INSERT INTO assistance_logs SELECT * FROM assistance_logs_unpartitioned;
INSERT INTO log_ids SELECT id FROM assistance_logs_unpartitioned;
INSERT INTO log_rollups SELECT * FROM log_rollups_unpartitioned;
INSERT INTO member_month_logs SELECT * FROM member_month_logs_unpartitioned;

-- Owner and privileges as the old tables had them.
DO $$
DECLARE
    t text;
    old text;
    g record;
BEGIN
    -- log_ids is written by whoever writes logs (the trigger runs as the caller).
    FOREACH t IN ARRAY ARRAY['assistance_logs', 'log_ids', 'log_rollups', 'member_month_logs'] LOOP
        old := CASE t WHEN 'log_ids' THEN 'assistance_logs' ELSE t END || '_unpartitioned';
        EXECUTE format('ALTER TABLE %I OWNER TO %I', t,
            (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = old::regclass));
        FOR g IN
            SELECT a.privilege_type, a.is_grantable,
                   CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee
            FROM pg_class c, aclexplode(c.relacl) a
            WHERE c.oid = old::regclass AND a.grantee <> c.relowner
        LOOP
            EXECUTE format('GRANT %s ON %I TO %s%s', g.privilege_type, t, g.grantee,
                CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        END LOOP;
    END LOOP;
END
$$;

DROP TABLE assistance_logs_unpartitioned, log_rollups_unpartitioned, member_month_logs_unpartitioned;

ALTER TABLE log_ids ADD PRIMARY KEY (id);
ALTER TABLE assistance_logs ADD PRIMARY KEY (id, occurred_at);
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

-- BEFORE triggers fire in name order: the id is claimed before touch_sync takes a sync_seq
-- (a skipped resend takes none), and a move is marked after touch_sync gave the new one.
CREATE TRIGGER assistance_logs_claim_id BEFORE INSERT ON assistance_logs
    FOR EACH ROW EXECUTE FUNCTION claim_log_id();
CREATE TRIGGER assistance_logs_sync BEFORE INSERT OR UPDATE ON assistance_logs
    FOR EACH ROW EXECUTE FUNCTION touch_sync();
CREATE TRIGGER assistance_logs_track_move BEFORE UPDATE ON assistance_logs
    FOR EACH ROW WHEN (NEW.occurred_at IS DISTINCT FROM OLD.occurred_at) EXECUTE FUNCTION mark_log_move();
-- Statement triggers on the partitioned table see every row of the statement, including rows
-- that an UPDATE moved between partitions (in its OLD and NEW tables, not as DELETE/INSERT).
CREATE TRIGGER assistance_logs_rollup_insert AFTER INSERT ON assistance_logs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION apply_log_rollups();
CREATE TRIGGER assistance_logs_rollup_update AFTER UPDATE ON assistance_logs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION apply_log_rollups();
CREATE TRIGGER assistance_logs_rollup_delete AFTER DELETE ON assistance_logs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION apply_log_rollups();
CREATE TRIGGER assistance_logs_release_ids AFTER DELETE ON assistance_logs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION release_log_ids();

ANALYZE assistance_logs, log_ids, log_rollups, member_month_logs;
