-- Accounts hardening (issue 12, items 7, 10 and 14).

-- 14. A password set by someone else (an officer creating or resetting the account) must be
-- changed by its owner before the account can do anything else.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT false;

-- 10. Login names are one namespace: a login is a phone number (national form, digits only)
-- or a username, and a username holds at least one letter, so no username can ever be read as
-- a phone number. Existing usernames without a letter are renamed `u<name>` (with a number
-- added if that is taken); when the old name was the account's own mobile number and the
-- account had no phone, the number becomes its phone, so the owner logs in as before. Each
-- rename is written to the audit trail.
CREATE TEMPORARY TABLE renamed_users ON COMMIT DROP AS
SELECT id, username AS old_username,
       'u' || left(username, 58) AS base
FROM users WHERE username !~ '[a-z]';

UPDATE renamed_users r SET base = r.base || '-' || n.n
FROM (SELECT r2.id, row_number() OVER (ORDER BY r2.id) AS n
      FROM renamed_users r2 JOIN users u ON u.username = r2.base) n
WHERE n.id = r.id;

WITH renamed AS (
    UPDATE users u SET
        username = r.base,
        phone = coalesce(u.phone, CASE
            WHEN r.old_username ~ '^0[35789][0-9]{8}$'
                 AND NOT EXISTS (SELECT 1 FROM users p WHERE p.phone = r.old_username)
            THEN r.old_username END),
        version = u.version + 1,
        updated_at = now()
    FROM renamed_users r WHERE r.id = u.id
    RETURNING u.id, r.old_username, u.username, u.phone, u.province_code, u.unit_code
)
INSERT INTO audit_log (actor_id, actor_username, action, entity, entity_id, province_code,
                       commune_code, before, after)
SELECT NULL, 'migration', 'update', 'user', id::text, province_code,
       CASE WHEN unit_code IS DISTINCT FROM province_code THEN unit_code END,
       jsonb_build_object('username', old_username),
       jsonb_build_object('username', username, 'phone', phone)
FROM renamed;

ALTER TABLE users ADD CONSTRAINT users_username_has_letter CHECK (username ~ '[a-z]');

-- 7. A membership is linked only to a team account of the membership's team. Links that an
-- earlier version let drift (the account moved or promoted elsewhere) are cut, on left and
-- archived memberships too, so that reviving one cannot bring a stale link back.
WITH cut AS (
    UPDATE members m SET user_id = NULL, version = m.version + 1, updated_at = now()
    FROM users u
    WHERE u.id = m.user_id AND u.team_id IS DISTINCT FROM m.team_id
    RETURNING m.id, u.id AS user_id, m.province_code, m.commune_code
)
INSERT INTO audit_log (actor_id, actor_username, action, entity, entity_id, province_code,
                       commune_code, before, after)
SELECT NULL, 'migration', 'update', 'member', id::text, province_code, commune_code,
       jsonb_build_object('user_id', user_id), jsonb_build_object('user_id', NULL)
FROM cut;
