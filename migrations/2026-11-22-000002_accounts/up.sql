CREATE TABLE users (
    id                  UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    username            TEXT NOT NULL CHECK (username ~ '^[a-z0-9._-]{3,64}$'),
    full_name           TEXT CHECK (length(full_name) <= 200),
    phone               TEXT CHECK (phone ~ '^0[0-9]{9}$'),
    password_hash       TEXT NOT NULL,
    role                TEXT NOT NULL CHECK (role IN
                            ('admin', 'province_officer', 'commune_officer', 'team_leader', 'team_member')),
    -- Scope: the administrative unit the account works in (none for admin) and its province,
    -- and, for team roles, the team (a foreign key arrives with the teams table).
    unit_code           TEXT REFERENCES admin_units (code),
    province_code       TEXT REFERENCES admin_units (code),
    team_id             BIGINT,
    disabled            BOOLEAN NOT NULL DEFAULT false,
    password_changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT users_scope_matches_role CHECK (
        (role = 'admin' AND unit_code IS NULL AND team_id IS NULL)
        OR (role IN ('province_officer', 'commune_officer') AND unit_code IS NOT NULL AND team_id IS NULL)
        OR (role IN ('team_leader', 'team_member') AND unit_code IS NOT NULL AND team_id IS NOT NULL)
    ),
    CONSTRAINT users_province_with_unit CHECK ((unit_code IS NULL) = (province_code IS NULL))
);

CREATE UNIQUE INDEX users_username_key ON users (username);
CREATE UNIQUE INDEX users_phone_key ON users (phone);
CREATE INDEX users_unit_idx ON users (unit_code);
CREATE INDEX users_province_idx ON users (province_code);

-- One login: the family of refresh tokens that descend from one password login.
CREATE TABLE auth_sessions (
    id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ,
    revoked_reason TEXT
);

CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id);

-- Refresh tokens are stored only as SHA-256 hashes; a used token stays to detect reuse.
CREATE TABLE refresh_tokens (
    token_hash BYTEA PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);

CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- Failed-login counters, in the database so that every app instance sees the same ones.
CREATE TABLE login_throttle (
    key           TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    window_start  TIMESTAMPTZ NOT NULL,
    blocked_until TIMESTAMPTZ
);
