DROP INDEX members_user_idx;
