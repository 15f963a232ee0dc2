DROP TABLE audit_log;
ALTER TABLE users DROP CONSTRAINT users_team_id_fkey;
DROP TABLE members;
DROP TABLE teams;
DROP TABLE villages;
