//! Activation codes: at most one live code per account, kept only as a keyed hash.

use crate::ids::UserId;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::schema::activation_codes;

#[derive(Debug, Insertable)]
#[diesel(table_name = activation_codes)]
pub struct NewCode {
    pub user_id: UserId,
    pub code_hash: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

/// Stores the codes, each replacing its account's live one (the old code dies).
pub fn replace(conn: &mut PgConnection, codes: &[NewCode]) -> QueryResult<()> {
    // 3 parameters a row: well under PostgreSQL's 65,535 per statement.
    for chunk in codes.chunks(5_000) {
        diesel::insert_into(activation_codes::table)
            .values(chunk)
            .on_conflict(activation_codes::user_id)
            .do_update()
            .set((
                activation_codes::code_hash.eq(excluded(activation_codes::code_hash)),
                activation_codes::expires_at.eq(excluded(activation_codes::expires_at)),
                activation_codes::created_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The account a code belongs to and when it expires (without using it up).
pub fn find(
    conn: &mut PgConnection,
    code_hash: &[u8],
) -> QueryResult<Option<(UserId, DateTime<Utc>)>> {
    activation_codes::table
        .filter(activation_codes::code_hash.eq(code_hash))
        .select((activation_codes::user_id, activation_codes::expires_at))
        .first(conn)
        .optional()
}

/// Uses the code up: deletes it and answers its account, or `None` when another redemption
/// (or a re-issue) took it first.
pub fn take(
    conn: &mut PgConnection,
    code_hash: &[u8],
) -> QueryResult<Option<(UserId, DateTime<Utc>)>> {
    diesel::delete(activation_codes::table.filter(activation_codes::code_hash.eq(code_hash)))
        .returning((activation_codes::user_id, activation_codes::expires_at))
        .get_result(conn)
        .optional()
}

/// Forgets the account's live code, if any (its password was set otherwise).
pub fn revoke(conn: &mut PgConnection, user_id: UserId) -> QueryResult<usize> {
    diesel::delete(activation_codes::table.find(user_id)).execute(conn)
}

/// Forgets expired codes (run periodically by the server).
pub fn purge_expired(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::delete(
        activation_codes::table.filter(activation_codes::expires_at.lt(diesel::dsl::now)),
    )
    .execute(conn)
}
