-- Villages (thôn, ấp, bản, làng, tổ dân phố, khu phố…): under one commune, no national code.
CREATE TABLE villages (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    commune_code  TEXT NOT NULL REFERENCES admin_units (code),
    province_code TEXT NOT NULL REFERENCES admin_units (code),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    search_name   TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN
                      ('thon', 'ap', 'ban', 'lang', 'buon', 'phum', 'soc', 'to_dan_pho', 'khu_pho', 'khom', 'other')),
    households    INTEGER CHECK (households >= 0),
    population    INTEGER CHECK (population >= 0),
    archived_at   TIMESTAMPTZ,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT villages_id_commune_key UNIQUE (id, commune_code)
);
CREATE UNIQUE INDEX villages_name_key ON villages (commune_code, search_name) WHERE archived_at IS NULL;
CREATE INDEX villages_province_idx ON villages (province_code);

-- Teams: under a commune, optionally for one village of that same commune.
CREATE TABLE teams (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    commune_code    TEXT NOT NULL REFERENCES admin_units (code),
    province_code   TEXT NOT NULL REFERENCES admin_units (code),
    village_id      BIGINT,
    name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    search_name     TEXT NOT NULL,
    decision_number TEXT CHECK (length(decision_number) <= 100),
    decision_date   DATE,
    established_on  DATE,
    dissolved_on    DATE,
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'dissolved')),
    archived_at     TIMESTAMPTZ,
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT teams_village_same_commune_fkey
        FOREIGN KEY (village_id, commune_code) REFERENCES villages (id, commune_code),
    CONSTRAINT teams_dates_ordered CHECK (dissolved_on IS NULL OR established_on IS NULL OR dissolved_on >= established_on)
);
CREATE INDEX teams_commune_idx ON teams (commune_code);
CREATE INDEX teams_province_idx ON teams (province_code);
CREATE INDEX teams_village_idx ON teams (village_id);

-- Memberships: one row per stint of a person in a team. Leaving sets left_on; moving to
-- another team ends this row and starts a new one with the same person_id.
CREATE TABLE members (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    person_id     UUID NOT NULL DEFAULT gen_random_uuid(),
    team_id       BIGINT NOT NULL REFERENCES teams (id),
    commune_code  TEXT NOT NULL REFERENCES admin_units (code),
    province_code TEXT NOT NULL REFERENCES admin_units (code),
    full_name     TEXT NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
    search_name   TEXT NOT NULL,
    phone         TEXT CHECK (phone ~ '^0[0-9]{9}$'),
    sex           TEXT CHECK (sex IN ('male', 'female', 'other')),
    birth_year    INTEGER CHECK (birth_year BETWEEN 1900 AND 2100),
    affiliation   TEXT NOT NULL CHECK (affiliation IN
                      ('village_head', 'area_police', 'youth_union', 'womens_union', 'farmers_union',
                       'veterans_association', 'telecom_digital_company', 'teacher', 'health_worker',
                       'resident_volunteer', 'other')),
    team_role     TEXT NOT NULL DEFAULT 'member' CHECK (team_role IN ('leader', 'deputy', 'member')),
    joined_on     DATE NOT NULL,
    left_on       DATE,
    user_id       UUID REFERENCES users (id),
    archived_at   TIMESTAMPTZ,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT members_dates_ordered CHECK (left_on IS NULL OR left_on >= joined_on)
);
CREATE UNIQUE INDEX members_one_active_leader ON members (team_id)
    WHERE team_role = 'leader' AND left_on IS NULL AND archived_at IS NULL;
CREATE UNIQUE INDEX members_user_active ON members (user_id)
    WHERE user_id IS NOT NULL AND left_on IS NULL AND archived_at IS NULL;
CREATE INDEX members_team_idx ON members (team_id);
CREATE INDEX members_commune_idx ON members (commune_code);
CREATE INDEX members_province_idx ON members (province_code);
CREATE INDEX members_person_idx ON members (person_id);

ALTER TABLE users ADD CONSTRAINT users_team_id_fkey FOREIGN KEY (team_id) REFERENCES teams (id);

-- Who changed what, when, with the record before and after; written in the same transaction.
CREATE TABLE audit_log (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor_id      UUID REFERENCES users (id),
    actor_username TEXT NOT NULL,
    action        TEXT NOT NULL,
    entity        TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    province_code TEXT,
    commune_code  TEXT,
    before        JSONB,
    after         JSONB
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id);
CREATE INDEX audit_log_province_idx ON audit_log (province_code, id);
CREATE INDEX audit_log_commune_idx ON audit_log (commune_code, id);
