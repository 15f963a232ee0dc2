-- One-time activation codes (issue 15): an account an officer creates without a password gets
-- a short code that its owner redeems once, choosing the password. At most one live code per
-- account (issuing another replaces it); only a keyed hash (HMAC-SHA256) of the code is kept.
CREATE TABLE activation_codes (
    user_id    UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    code_hash  BYTEA NOT NULL CHECK (length(code_hash) = 32),
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX activation_codes_hash_key ON activation_codes (code_hash);
CREATE INDEX activation_codes_expires_idx ON activation_codes (expires_at);
