//! Login sessions and their refresh tokens.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{auth_sessions, refresh_tokens, users};
use super::users::UserRow;
use crate::ids::{SessionId, UserId};

pub fn create(
    conn: &mut PgConnection,
    user_id: UserId,
    expires_at: DateTime<Utc>,
) -> QueryResult<SessionId> {
    diesel::insert_into(auth_sessions::table)
        .values((
            auth_sessions::user_id.eq(user_id),
            auth_sessions::expires_at.eq(expires_at),
        ))
        .returning(auth_sessions::id)
        .get_result(conn)
}

pub fn add_refresh_token(
    conn: &mut PgConnection,
    session_id: SessionId,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(|_| ())
}

#[derive(Debug, Queryable)]
pub struct RefreshLookup {
    pub session_id: SessionId,
    pub token_expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub session_expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub user_id: UserId,
}

/// Finds a refresh token and locks it, so that two concurrent uses cannot both succeed.
pub fn lock_refresh_token(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> QueryResult<Option<RefreshLookup>> {
    refresh_tokens::table
        .inner_join(auth_sessions::table)
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((
            refresh_tokens::session_id,
            refresh_tokens::expires_at,
            refresh_tokens::used_at,
            auth_sessions::expires_at,
            auth_sessions::revoked_at,
            auth_sessions::user_id,
        ))
        .for_update()
        .first(conn)
        .optional()
}

pub fn mark_used(conn: &mut PgConnection, token_hash: &[u8]) -> QueryResult<()> {
    diesel::update(refresh_tokens::table.find(token_hash))
        .set(refresh_tokens::used_at.eq(diesel::dsl::now))
        .execute(conn)
        .map(|_| ())
}

pub fn revoke(conn: &mut PgConnection, session_id: SessionId, reason: &str) -> QueryResult<()> {
    let accounts: Vec<UserId> = diesel::update(
        auth_sessions::table
            .find(session_id)
            .filter(auth_sessions::revoked_at.is_null()),
    )
    .set((
        auth_sessions::revoked_at.eq(diesel::dsl::now),
        auth_sessions::revoked_reason.eq(reason),
    ))
    .returning(auth_sessions::user_id)
    .get_results(conn)?;
    accounts.into_iter().for_each(super::account_changed);
    Ok(())
}

/// Revokes every live session of a user except `keep`; returns how many were revoked.
pub fn revoke_all_for_user(
    conn: &mut PgConnection,
    user_id: UserId,
    keep: Option<SessionId>,
    reason: &str,
) -> QueryResult<usize> {
    super::account_changed(user_id);
    let keep = keep.unwrap_or(SessionId(Uuid::nil()));
    diesel::update(
        auth_sessions::table
            .filter(auth_sessions::user_id.eq(user_id))
            .filter(auth_sessions::id.ne(keep))
            .filter(auth_sessions::revoked_at.is_null()),
    )
    .set((
        auth_sessions::revoked_at.eq(diesel::dsl::now),
        auth_sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)
}

/// The user behind a live session (not revoked, not expired, account enabled), and when the
/// session expires.
pub fn live_session_user(
    conn: &mut PgConnection,
    session_id: SessionId,
    user_id: UserId,
) -> QueryResult<Option<(UserRow, DateTime<Utc>)>> {
    auth_sessions::table
        .inner_join(users::table)
        .filter(auth_sessions::id.eq(session_id))
        .filter(auth_sessions::user_id.eq(user_id))
        .filter(auth_sessions::revoked_at.is_null())
        .filter(auth_sessions::expires_at.gt(diesel::dsl::now))
        .filter(users::disabled.eq(false))
        .select((UserRow::as_select(), auth_sessions::expires_at))
        .first(conn)
        .optional()
}

pub fn extend(
    conn: &mut PgConnection,
    session_id: SessionId,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(auth_sessions::table.find(session_id))
        .set(auth_sessions::expires_at.eq(expires_at))
        .execute(conn)
        .map(|_| ())
}
