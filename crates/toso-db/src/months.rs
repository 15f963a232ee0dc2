//! Commune-month locks: field-work writers and the approval of a commune's month serialise on
//! a transaction-scoped advisory lock per (commune, month). Writers take it shared, approval
//! and reopening exclusive, so a write either commits before the approval's snapshot (and is
//! in it) or starts after the approval and sees the month locked.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::report_periods as rp;

/// A commune and the first day of a month (Vietnam time).
pub type MonthKey = (String, NaiveDate);

/// PostgreSQL's `void`, what the advisory-lock functions return.
#[derive(diesel::sql_types::SqlType)]
#[diesel(postgres_type(name = "void"))]
pub struct Void;

diesel::define_sql_function! {
    /// A 64-bit hash of a text, the same on every server.
    fn hashtextextended(value: Text, seed: BigInt) -> BigInt;
}
diesel::define_sql_function! {
    fn pg_advisory_xact_lock_shared(key: BigInt) -> Void;
}
diesel::define_sql_function! {
    fn pg_advisory_xact_lock(key: BigInt) -> Void;
}

/// The lock's name: `commune-month:<commune>:<YYYY-MM-DD>`, hashed by PostgreSQL.
fn key_name(commune: &str, month: NaiveDate) -> String {
    format!("commune-month:{commune}:{month}")
}

/// Takes the shared lock of every key, in one stable order (no two writers can deadlock), and
/// returns the keys whose month is approved, read after the locks are held.
pub fn hold_shared(conn: &mut PgConnection, keys: &[MonthKey]) -> QueryResult<Vec<MonthKey>> {
    let mut keys = keys.to_vec();
    keys.sort();
    keys.dedup();
    for (commune, month) in &keys {
        // A statement the connection keeps prepared (its text never changes).
        let key = hashtextextended(key_name(commune, *month), 0);
        diesel::select(pg_advisory_xact_lock_shared(key)).execute(conn)?;
    }
    let communes: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
    let months: Vec<NaiveDate> = keys.iter().map(|k| k.1).collect();
    let approved: Vec<MonthKey> = rp::table
        .filter(rp::status.eq("approved"))
        .filter(rp::commune_code.eq_any(communes))
        .filter(rp::month.eq_any(months))
        .select((rp::commune_code, rp::month))
        .load(conn)?;
    Ok(approved.into_iter().filter(|k| keys.contains(k)).collect())
}

/// Takes the exclusive lock of one commune-month: waits for every writer holding it shared
/// and keeps new ones out until the transaction ends.
pub fn hold_exclusive(conn: &mut PgConnection, commune: &str, month: NaiveDate) -> QueryResult<()> {
    let key = hashtextextended(key_name(commune, month), 0);
    diesel::select(pg_advisory_xact_lock(key))
        .execute(conn)
        .map(|_| ())
}
