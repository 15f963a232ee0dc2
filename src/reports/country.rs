//! The country's report as the sum of its provinces' parts (issue 16: computed whole, it took
//! 1.6–4 s, paid again at the first read after every write anywhere in the country).
//!
//! A province's part is its row of the country's report (its live figures, with those of its
//! approved communes replaced by their frozen ones) and the sums of its indicators. It depends
//! only on the province's records and on what every report reads, which are exactly the version
//! rows of the province and of `''` (`db::report_versions::per_province`). So a part is kept
//! with that version and computed again only when it changed: after a write in one province,
//! the country's report costs that province's part and the adding up of 34 rows. Parts are
//! read and computed in the report's repeatable-read snapshot (`cache::ReportCache::report`),
//! so the report is exactly what a whole computation in that snapshot gives.

use std::sync::Arc;

use chrono::NaiveDate;
use diesel::PgConnection;

use super::cache::Kept;
use super::indicators::{self, ProvinceSums};
use super::{Grouping, MonthlyReport, ReportRow, UnitRef};
use crate::db::{self, reports::Area};
use crate::error::AppResult;

/// One province's part of the country's report.
pub struct ProvincePart {
    /// The province's row, without its indicators (they are figured against the targets when
    /// the report is put together).
    row: ReportRow,
    sums: ProvinceSums,
}

/// The part of `province` for `month`, computed.
fn part(
    conn: &mut PgConnection,
    (code, name): (String, String),
    month: NaiveDate,
    categories: &[String],
) -> AppResult<ProvincePart> {
    let area = Area::Province(code.clone());
    let sums = indicators::province_sums(conn, &code, month)?;
    let mut rows = super::unit_rows(
        conn,
        &area,
        Grouping::Province,
        "province",
        vec![(code, name)],
        month,
        categories,
    )?;
    super::freeze_approved_communes(conn, &area, month, categories, &mut rows)?;
    let row = rows.pop().ok_or_else(|| {
        crate::error::AppError::internal("a province's part of the country report has no row")
    })?;
    Ok(ProvincePart { row, sums })
}

/// The country's report for `month`: every province's part, kept in `parts` while its version
/// stands, else computed (and kept), then added up.
pub fn figures(
    conn: &mut PgConnection,
    parts: &Kept<ProvincePart>,
    unit: UnitRef,
    month: NaiveDate,
    categories: &[String],
) -> AppResult<MonthlyReport> {
    let versions = db::report_versions::per_province(conn, month)?;
    let every = versions.get("").copied().unwrap_or(0);
    let mut kept = Vec::new();
    for (code, name) in db::units::provinces(conn)? {
        let version = every + versions.get(&code).copied().unwrap_or(0);
        let key = (code.clone(), month);
        let part = match parts.get(&key, version) {
            Some(part) => part,
            None => {
                let part = Arc::new(part(conn, (code, name), month, categories)?);
                parts.put(key, version, part.clone());
                part
            }
        };
        kept.push(part);
    }
    let mut rows: Vec<ReportRow> = kept.iter().map(|p| p.row.clone()).collect();
    let totals = super::sum_rows(&rows, categories);
    let indicators =
        indicators::country_section(conn, month, &mut rows, kept.iter().map(|p| &p.sums))?;
    Ok(MonthlyReport::live(unit, month, totals, rows, indicators))
}
