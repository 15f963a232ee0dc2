//! Failed-login counters shared by every app instance.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Integer, Text};

use super::schema::login_throttle;

#[derive(QueryableByName)]
struct Seconds {
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    secs: Option<i64>,
}

/// How a counter blocks: from `threshold` attempts within `window_secs` on, for `base_secs`
/// doubling with each further attempt, never longer than `max_secs`.
#[derive(Clone, Copy)]
pub struct Policy {
    pub window_secs: f64,
    pub base_secs: f64,
    pub max_secs: f64,
}

/// Seconds until the longest block among `keys` ends, if any is blocked now.
pub fn blocked_for(conn: &mut PgConnection, keys: &[String]) -> QueryResult<Option<i64>> {
    let row: Seconds = diesel::sql_query(
        "SELECT ceil(extract(epoch FROM max(blocked_until) - now()))::bigint AS secs \
         FROM login_throttle WHERE key = ANY($1) AND blocked_until > now()",
    )
    .bind::<Array<Text>, _>(keys)
    .get_result(conn)?;
    Ok(row.secs.filter(|s| *s > 0))
}

/// Counts one attempt on every `(key, threshold)` of `limits`, or on none when one of them is
/// blocked now: then answers the seconds to wait. Must run inside a transaction: the rows are
/// locked (in key order, so concurrent attempts cannot deadlock) from the check to the count,
/// so concurrent attempts are counted one after the other and only `threshold` get through.
/// The attempt that reaches a threshold blocks its key at once (as if it failed); a success
/// clears or releases it (`clear`, `release`).
pub fn attempt(
    conn: &mut PgConnection,
    limits: &[(String, i32)],
    policy: Policy,
) -> QueryResult<Option<i64>> {
    let keys: Vec<String> = limits.iter().map(|(k, _)| k.clone()).collect();
    diesel::sql_query(
        "INSERT INTO login_throttle (key, failures, window_start) \
         SELECT k, 0, now() FROM unnest($1::text[]) AS k ON CONFLICT (key) DO NOTHING",
    )
    .bind::<Array<Text>, _>(&keys)
    .execute(conn)?;
    diesel::sql_query("SELECT key FROM login_throttle WHERE key = ANY($1) ORDER BY key FOR UPDATE")
        .bind::<Array<Text>, _>(&keys)
        .execute(conn)?;
    // A window that has passed starts again, unless its block still runs.
    diesel::sql_query(
        "UPDATE login_throttle SET failures = 0, window_start = now(), blocked_until = NULL \
         WHERE key = ANY($1) AND window_start < now() - make_interval(secs => $2) \
           AND (blocked_until IS NULL OR blocked_until <= now())",
    )
    .bind::<Array<Text>, _>(&keys)
    .bind::<Double, _>(policy.window_secs)
    .execute(conn)?;
    if let Some(secs) = blocked_for(conn, &keys)? {
        return Ok(Some(secs));
    }
    for (key, threshold) in limits {
        diesel::sql_query(
            "UPDATE login_throttle SET failures = failures + 1, \
               blocked_until = CASE WHEN failures + 1 >= $4 THEN now() + make_interval(secs => \
                 least($3, $2 * power(2, least(failures + 1 - $4, 30)))) ELSE blocked_until END \
             WHERE key = $1",
        )
        .bind::<Text, _>(key)
        .bind::<Double, _>(policy.base_secs)
        .bind::<Double, _>(policy.max_secs)
        .bind::<Integer, _>(*threshold)
        .execute(conn)?;
    }
    Ok(None)
}

/// Takes back one counted attempt on each `(key, threshold)`: it did not reach the password
/// check, or it succeeded. Below its threshold a key is not blocked.
pub fn release(conn: &mut PgConnection, limits: &[(String, i32)]) -> QueryResult<()> {
    for (key, threshold) in limits {
        diesel::sql_query(
            "UPDATE login_throttle SET failures = greatest(failures - 1, 0), \
               blocked_until = CASE WHEN failures - 1 < $2 THEN NULL ELSE blocked_until END \
             WHERE key = $1",
        )
        .bind::<Text, _>(key)
        .bind::<Integer, _>(*threshold)
        .execute(conn)?;
    }
    Ok(())
}

pub fn clear(conn: &mut PgConnection, keys: &[String]) -> QueryResult<()> {
    diesel::delete(login_throttle::table.filter(login_throttle::key.eq_any(keys)))
        .execute(conn)
        .map(|_| ())
}

/// Deletes counters whose window has passed and whose block, if any, has ended: they would
/// restart from zero anyway. Returns how many went.
pub fn purge_expired(conn: &mut PgConnection, window_secs: f64) -> QueryResult<usize> {
    diesel::sql_query(
        "DELETE FROM login_throttle WHERE window_start < now() - make_interval(secs => $1) \
         AND (blocked_until IS NULL OR blocked_until < now())",
    )
    .bind::<Double, _>(window_secs)
    .execute(conn)
}
