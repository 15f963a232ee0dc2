-- Training sessions: trainings of team members, and classes the teams run for citizens.
CREATE TABLE trainings (
    id                  UUID PRIMARY KEY,
    title               TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    topics              TEXT[] NOT NULL DEFAULT '{}',
    kind                TEXT NOT NULL CHECK (kind IN ('member_training', 'citizen_class')),
    mode                TEXT NOT NULL CHECK (mode IN ('in_person', 'online', 'blended')),
    platform            TEXT CHECK (platform IN ('onetouch', 'binh_dan_hoc_vu_so', 'other')),
    organiser           TEXT CHECK (length(organiser) <= 200),
    trainer             TEXT CHECK (length(trainer) <= 200),
    starts_at           TIMESTAMPTZ NOT NULL,
    ends_at             TIMESTAMPTZ NOT NULL,
    commune_code        TEXT NOT NULL REFERENCES admin_units (code),
    province_code       TEXT NOT NULL REFERENCES admin_units (code),
    village_id          BIGINT REFERENCES villages (id),
    team_id             BIGINT REFERENCES teams (id),
    participants        INTEGER CHECK (participants >= 0),
    participants_male   INTEGER CHECK (participants_male >= 0),
    participants_female INTEGER CHECK (participants_female >= 0),
    age_under_18        INTEGER CHECK (age_under_18 >= 0),
    age_18_35           INTEGER CHECK (age_18_35 >= 0),
    age_36_59           INTEGER CHECK (age_36_59 >= 0),
    age_60_plus         INTEGER CHECK (age_60_plus >= 0),
    created_by          UUID NOT NULL REFERENCES users (id),
    archived_at         TIMESTAMPTZ,
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    sync_xid            BIGINT NOT NULL DEFAULT 0,
    sync_seq            BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT trainings_times_ordered CHECK (ends_at >= starts_at)
);
CREATE TRIGGER trainings_sync BEFORE INSERT OR UPDATE ON trainings FOR EACH ROW EXECUTE FUNCTION touch_sync();
CREATE INDEX trainings_sync_idx ON trainings (sync_xid, sync_seq);
CREATE INDEX trainings_commune_time_idx ON trainings (commune_code, starts_at);
CREATE INDEX trainings_province_time_idx ON trainings (province_code, starts_at);

-- Attendance of team members at a member training: one row per member and training.
CREATE TABLE training_attendance (
    id              UUID PRIMARY KEY,
    training_id     UUID NOT NULL REFERENCES trainings (id),
    member_id       BIGINT NOT NULL REFERENCES members (id),
    team_id         BIGINT NOT NULL REFERENCES teams (id),
    commune_code    TEXT NOT NULL REFERENCES admin_units (code),
    province_code   TEXT NOT NULL REFERENCES admin_units (code),
    status          TEXT NOT NULL CHECK (status IN ('invited', 'attended', 'completed')),
    certificate_ref TEXT CHECK (length(certificate_ref) <= 100),
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    sync_xid        BIGINT NOT NULL DEFAULT 0,
    sync_seq        BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT training_attendance_member_key UNIQUE (training_id, member_id)
);
CREATE TRIGGER training_attendance_sync BEFORE INSERT OR UPDATE ON training_attendance
    FOR EACH ROW EXECUTE FUNCTION touch_sync();
CREATE INDEX training_attendance_sync_idx ON training_attendance (sync_xid, sync_seq);
CREATE INDEX training_attendance_member_idx ON training_attendance (member_id);
