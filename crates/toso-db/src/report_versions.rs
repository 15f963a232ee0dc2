//! The version of what a monthly report is computed from (migration `report_versions`): the
//! sum of the versions the write triggers bump, over the rows a report of the area and month
//! depends on. Versions only grow and rows are never deleted, so the sum changes whenever
//! anything the report reads changes, in the transaction that changes it.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};

use super::reports::Area;

/// The month of the rows that count in every month.
const EVERY_MONTH: &str = "DATE '1970-01-01'";

/// The version of the report of `area` (the country or a province) for `month`: the rows of
/// the area and of every area (''), for January of the month's year to the month (computed
/// indicators add up from January) and for every month. `None` for other areas. The country's
/// is the sum of `per_province`, the versions its parts are kept with.
pub fn of(conn: &mut PgConnection, area: &Area, month: NaiveDate) -> QueryResult<Option<i64>> {
    #[derive(QueryableByName)]
    struct Sum {
        #[diesel(sql_type = BigInt)]
        version: i64,
    }
    let province = match area {
        Area::Country => return Ok(Some(per_province(conn, month)?.values().sum())),
        Area::Province(p) => p.clone(),
        Area::Commune(_) | Area::Communes(_) => return Ok(None),
    };
    let january = january(month);
    let sql = format!(
        "SELECT coalesce(sum(version), 0)::bigint AS version FROM report_versions \
         WHERE (month = {EVERY_MONTH} OR month BETWEEN $1 AND $2) \
           AND province_code IN ('', $3)"
    );
    let sum: Sum = diesel::sql_query(sql)
        .bind::<Date, _>(january)
        .bind::<Date, _>(month)
        .bind::<Text, _>(province)
        .get_result(conn)?;
    Ok(Some(sum.version))
}

fn january(month: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(month.year(), 1, 1).unwrap_or(month)
}

/// The versions of `month`'s reports per province (the same rows as `of`, grouped): the
/// version of a province's part of the country's report is its own plus that of `''`, what
/// every report reads; their sum over every province is the country's version.
pub fn per_province(
    conn: &mut PgConnection,
    month: NaiveDate,
) -> QueryResult<HashMap<String, i64>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        province_code: String,
        #[diesel(sql_type = BigInt)]
        version: i64,
    }
    let sql = format!(
        "SELECT province_code, sum(version)::bigint AS version FROM report_versions \
         WHERE month = {EVERY_MONTH} OR month BETWEEN $1 AND $2 GROUP BY province_code"
    );
    let rows: Vec<Row> = diesel::sql_query(sql)
        .bind::<Date, _>(january(month))
        .bind::<Date, _>(month)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.province_code, r.version))
        .collect())
}
