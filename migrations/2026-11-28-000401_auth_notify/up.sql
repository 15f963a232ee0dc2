-- Every change that can end or alter a login is announced on the channel `toso_auth`, with the
-- account's id as payload, in the writing transaction (delivered at its commit). Each app
-- instance keeps an in-process cache of live sessions and listens on that channel, so logout,
-- refresh-token reuse, a password change, disabling an account and a change of role, unit or
-- team take effect on every instance at once, whichever path (API, CLI, SQL) made them.
CREATE FUNCTION notify_auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- TG_ARGV[0] names the column holding the account's id (`id` of users, `user_id` of
    -- sessions).
    PERFORM pg_notify('toso_auth', to_jsonb(OLD) ->> TG_ARGV[0]);
    RETURN NULL;
END
$$;

CREATE TRIGGER users_notify_auth AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_auth_change('id');
CREATE TRIGGER auth_sessions_notify_auth AFTER UPDATE OR DELETE ON auth_sessions
    FOR EACH ROW EXECUTE FUNCTION notify_auth_change('user_id');
