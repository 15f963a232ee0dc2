//! Monthly partitions of the logs and their rollups. The migration creates them from 2024 to
//! two years ahead; the server keeps them a year ahead (`ensure_month_partitions` in SQL
//! creates the missing ones and moves rows of such a month out of the DEFAULT partition).

use diesel::prelude::*;
use diesel::sql_types::Integer;

/// How far ahead the server keeps partitions, in months.
pub const MONTHS_AHEAD: i32 = 12;

#[derive(QueryableByName)]
struct Created {
    #[diesel(sql_type = Integer)]
    created: i32,
}

/// Creates the partitions missing from this month (in Vietnam) to `months_ahead` months
/// ahead; returns how many were created. Gives up after a short lock wait rather than queue
/// writers behind it (the next round tries again).
pub fn ensure_ahead(conn: &mut PgConnection, months_ahead: i32) -> QueryResult<i32> {
    conn.transaction(|c| {
        diesel::sql_query("SET LOCAL lock_timeout = '5s'").execute(c)?;
        let done: Created = diesel::sql_query(
            "SELECT ensure_month_partitions(vn_month(now()), \
             (vn_month(now()) + make_interval(months => $1))::date) AS created",
        )
        .bind::<Integer, _>(months_ahead)
        .get_result(c)?;
        Ok(done.created)
    })
}
