//! Failed-login counters shared by every app instance.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Integer, Text};

use super::schema::login_throttle;

#[derive(QueryableByName)]
struct Seconds {
    #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)]
    secs: Option<i64>,
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

/// Counts one failure for `key` within a sliding window; from `threshold` failures on, the key
/// is blocked for `base_secs` doubling with each further failure, never longer than `max_secs`.
pub fn record_failure(
    conn: &mut PgConnection,
    key: &str,
    threshold: i32,
    window_secs: f64,
    base_secs: f64,
    max_secs: f64,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO login_throttle AS t (key, failures, window_start) VALUES ($1, 1, now()) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN t.window_start < now() - make_interval(secs => $2) \
                           THEN 1 ELSE t.failures + 1 END, \
           window_start = CASE WHEN t.window_start < now() - make_interval(secs => $2) \
                               THEN now() ELSE t.window_start END",
    )
    .bind::<Text, _>(key)
    .bind::<Double, _>(window_secs)
    .execute(conn)?;
    diesel::sql_query(
        "UPDATE login_throttle SET blocked_until = now() + make_interval(secs => \
           least($3, $2 * power(2, least(failures - $4, 30)))) \
         WHERE key = $1 AND failures >= $4",
    )
    .bind::<Text, _>(key)
    .bind::<Double, _>(base_secs)
    .bind::<Double, _>(max_secs)
    .bind::<Integer, _>(threshold)
    .execute(conn)?;
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
