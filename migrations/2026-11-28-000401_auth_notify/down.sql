DROP TRIGGER auth_sessions_notify_auth ON auth_sessions;
DROP TRIGGER users_notify_auth ON users;
DROP FUNCTION notify_auth_change();
