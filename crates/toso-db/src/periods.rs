//! The state of each commune's monthly report (`report_periods`) and the activity that makes
//! an unsubmitted month a draft (`commune_month_totals`).

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::dsl::AsSelect;
use diesel::pg::Pg;
use diesel::prelude::*;

use super::schema::{commune_month_totals as cmt, report_periods as rp};
use crate::ids::UserId;
use crate::vocab::ReportStatus;

/// A commune's monthly report row: as read, and as a transition writes its new state.
#[derive(Debug, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = rp, treat_none_as_null = true)]
pub struct Period {
    pub commune_code: String,
    pub province_code: String,
    pub month: NaiveDate,
    pub status: ReportStatus,
    pub submitted_by: Option<UserId>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub snapshot: Option<serde_json::Value>,
}

/// The report row of a commune month, to read or to lock.
#[diesel::dsl::auto_type(no_type_alias)]
fn one<'a>(commune: &'a str, month: NaiveDate) -> _ {
    let row: AsSelect<Period, Pg> = Period::as_select();
    rp::table.find((commune, month)).select(row)
}

pub fn get(
    conn: &mut PgConnection,
    commune: &str,
    month: NaiveDate,
) -> QueryResult<Option<Period>> {
    one(commune, month).first(conn).optional()
}

/// The report row locked for a transition (none before the first one).
pub fn lock(
    conn: &mut PgConnection,
    commune: &str,
    month: NaiveDate,
) -> QueryResult<Option<Period>> {
    one(commune, month).for_update().first(conn).optional()
}

/// Writes a transition: inserts the first row (two first transitions at once collide on the
/// primary key), else updates it and bumps its version.
pub fn save(conn: &mut PgConnection, exists: bool, write: &Period) -> QueryResult<Period> {
    if exists {
        diesel::update(rp::table.find((&write.commune_code, write.month)))
            .set(one_version_up!(rp, write))
            .returning(Period::as_returning())
            .get_result(conn)
    } else {
        diesel::insert_into(rp::table)
            .values(write)
            .returning(Period::as_returning())
            .get_result(conn)
    }
}

/// The report rows of a province's communes for a month.
pub fn of_province(
    conn: &mut PgConnection,
    province: &str,
    month: NaiveDate,
) -> QueryResult<Vec<Period>> {
    rp::table
        .filter(rp::province_code.eq(province))
        .filter(rp::month.eq(month))
        .select(Period::as_select())
        .load(conn)
}

/// Whether any live log of the commune falls in the month (read from the exact rollup).
pub fn has_activity(conn: &mut PgConnection, commune: &str, month: NaiveDate) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        cmt::table
            .filter(cmt::commune_code.eq(commune))
            .filter(cmt::month.eq(month))
            .filter(cmt::logs.gt(0)),
    ))
    .get_result(conn)
}

/// The communes of a province with live logs in the month.
pub fn active_communes(
    conn: &mut PgConnection,
    province: &str,
    month: NaiveDate,
) -> QueryResult<HashSet<String>> {
    Ok(cmt::table
        .filter(cmt::province_code.eq(province))
        .filter(cmt::month.eq(month))
        .filter(cmt::logs.gt(0))
        .select(cmt::commune_code)
        .load::<String>(conn)?
        .into_iter()
        .collect())
}
