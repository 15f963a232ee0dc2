-- Renamed usernames and cut membership links stay as they are (the audit trail keeps the old
-- values); only the schema is reverted.
ALTER TABLE users DROP CONSTRAINT users_username_has_letter;
ALTER TABLE users DROP COLUMN must_change_password;
