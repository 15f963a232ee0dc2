-- Every membership of an account, past ones too (issue 16). The only index on user_id was
-- the partial unique one of live memberships (left_on IS NULL), so the log context's
-- "every person this account logs as" (`members::loggable_persons`) and the scope of a team
-- member's own logs (`member_id IN (SELECT id FROM members WHERE user_id = …)`) read the
-- whole table: 49 ms a request on the national data set (348,705 members), on every log
-- write and sync push.
CREATE INDEX members_user_idx ON members (user_id) WHERE user_id IS NOT NULL;
