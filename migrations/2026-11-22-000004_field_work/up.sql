-- Change tracking for mobile sync. Every synced row records the transaction that last wrote
-- it (sync_xid) and a sequence number (sync_seq). A pull returns rows whose writer finished
-- before the oldest transaction still running (pg_snapshot_xmin), in (sync_xid, sync_seq)
-- order, so a transaction that commits late is never skipped and nothing is sent twice.
CREATE SEQUENCE sync_seq;

CREATE FUNCTION touch_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.sync_xid := pg_current_xact_id()::text::bigint;
    NEW.sync_seq := nextval('sync_seq');
    RETURN NEW;
END
$$;

ALTER TABLE villages ADD COLUMN sync_xid BIGINT NOT NULL DEFAULT 0, ADD COLUMN sync_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE teams ADD COLUMN sync_xid BIGINT NOT NULL DEFAULT 0, ADD COLUMN sync_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN sync_xid BIGINT NOT NULL DEFAULT 0, ADD COLUMN sync_seq BIGINT NOT NULL DEFAULT 0;
CREATE TRIGGER villages_sync BEFORE INSERT OR UPDATE ON villages FOR EACH ROW EXECUTE FUNCTION touch_sync();
CREATE TRIGGER teams_sync BEFORE INSERT OR UPDATE ON teams FOR EACH ROW EXECUTE FUNCTION touch_sync();
CREATE TRIGGER members_sync BEFORE INSERT OR UPDATE ON members FOR EACH ROW EXECUTE FUNCTION touch_sync();
UPDATE villages SET sync_seq = 0;
UPDATE teams SET sync_seq = 0;
UPDATE members SET sync_seq = 0;
CREATE INDEX villages_sync_idx ON villages (sync_xid, sync_seq);
CREATE INDEX teams_sync_idx ON teams (sync_xid, sync_seq);
CREATE INDEX members_sync_idx ON members (sync_xid, sync_seq);

-- Kinds of help, with stable codes. Retired categories stay valid for old logs.
CREATE TABLE assistance_categories (
    code       TEXT PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{2,40}$'),
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    sort_order INTEGER NOT NULL DEFAULT 100,
    retired_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    sync_xid   BIGINT NOT NULL DEFAULT 0,
    sync_seq   BIGINT NOT NULL DEFAULT 0
);
CREATE TRIGGER assistance_categories_sync BEFORE INSERT OR UPDATE ON assistance_categories
    FOR EACH ROW EXECUTE FUNCTION touch_sync();
INSERT INTO assistance_categories (code, name, sort_order) VALUES
    ('vneid_install', 'Cài đặt ứng dụng VNeID', 10),
    ('vneid_level2', 'Kích hoạt tài khoản định danh điện tử mức 2', 20),
    ('vneid_other', 'Tính năng khác của VNeID', 30),
    ('online_public_services', 'Dịch vụ công trực tuyến', 40),
    ('cashless_payment', 'Thanh toán không dùng tiền mặt', 50),
    ('mobile_money', 'Mobile Money', 60),
    ('ecommerce', 'Thương mại điện tử', 70),
    ('digital_health', 'Y tế số', 80),
    ('online_safety', 'An toàn trên mạng, phòng chống lừa đảo', 90),
    ('provincial_citizen_app', 'Ứng dụng công dân của tỉnh', 100),
    ('messaging_apps', 'Ứng dụng nhắn tin', 110),
    ('digital_learning', 'Học tập số', 120),
    ('other', 'Khác', 999);

-- One log: a member helped one or more citizens. The id is generated on the phone, so a
-- resend can never create a second record.
CREATE TABLE assistance_logs (
    id               UUID PRIMARY KEY,
    occurred_at      TIMESTAMPTZ NOT NULL,
    member_id        BIGINT NOT NULL REFERENCES members (id),
    team_id          BIGINT NOT NULL REFERENCES teams (id),
    commune_code     TEXT NOT NULL REFERENCES admin_units (code),
    province_code    TEXT NOT NULL REFERENCES admin_units (code),
    village_id       BIGINT REFERENCES villages (id),
    category_code    TEXT NOT NULL REFERENCES assistance_categories (code),
    channel          TEXT NOT NULL CHECK (channel IN ('home_visit', 'commune_centre', 'phone', 'group_session')),
    citizens_helped  INTEGER NOT NULL CHECK (citizens_helped BETWEEN 1 AND 1000),
    citizen_sex      TEXT CHECK (citizen_sex IN ('male', 'female', 'other')),
    citizen_age_band TEXT CHECK (citizen_age_band IN ('under_18', '18_35', '36_59', '60_plus')),
    outcome          TEXT NOT NULL CHECK (outcome IN ('done', 'partly_done', 'referred', 'could_not_help')),
    note             TEXT CHECK (length(note) <= 500),
    created_by       UUID NOT NULL REFERENCES users (id),
    device_id        TEXT CHECK (length(device_id) <= 100),
    archived_at      TIMESTAMPTZ,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    sync_xid         BIGINT NOT NULL DEFAULT 0,
    sync_seq         BIGINT NOT NULL DEFAULT 0
);
CREATE TRIGGER assistance_logs_sync BEFORE INSERT OR UPDATE ON assistance_logs
    FOR EACH ROW EXECUTE FUNCTION touch_sync();
CREATE INDEX assistance_logs_sync_idx ON assistance_logs (sync_xid, sync_seq);
CREATE INDEX assistance_logs_commune_time_idx ON assistance_logs (commune_code, occurred_at);
CREATE INDEX assistance_logs_province_time_idx ON assistance_logs (province_code, occurred_at);
CREATE INDEX assistance_logs_team_time_idx ON assistance_logs (team_id, occurred_at);
CREATE INDEX assistance_logs_member_idx ON assistance_logs (member_id);
