//! The country's report as the sum of its provinces' parts (issue 16: computed whole, it took
//! 1.6–4 s, paid again at the first read after every write anywhere in the country).
//!
//! A province's part is its row of the country's report (its live figures, with those of its
//! approved communes replaced by their frozen ones) and the sums of its indicators. It depends
//! only on the province's records and on what every report reads, which are exactly the version
//! rows of the province and of `''` (`db::report_versions::per_province`). So a part is kept
//! with that version and computed again only when it changed: after a write in one province,
//! the country's report costs that province's part and the adding up of 34 rows. When many
//! parts are stale at once (after a start, or a change to what every report reads) they are
//! computed together, grouped by province over the country, as the whole report was before.
//! Parts are read and computed in the report's repeatable-read snapshot
//! (`cache::ReportCache::report`), so the report is exactly what a whole computation in that
//! snapshot gives.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use diesel::PgConnection;

use super::cache::Kept;
use super::indicators::{self, ProvinceSums};
use super::{Grouping, MonthlyReport, ReportRow, UnitRef};
use crate::db::{self, reports::Area};
use crate::error::{AppError, AppResult};

/// One province's part of the country's report.
pub struct ProvincePart {
    /// The province's row, without its indicators (they are figured against the targets when
    /// the report is put together).
    row: ReportRow,
    sums: ProvinceSums,
}

/// More stale parts than this are computed together, in one pass grouped by province over the
/// country (a cold start, a change to what every report reads): one query per figure instead of
/// one per figure and province.
const TOGETHER_FROM: usize = 8;

/// The parts of `provinces` (code, name) for `month`, computed over `area`: one province, or
/// the country grouped by province.
fn compute(
    conn: &mut PgConnection,
    area: &Area,
    provinces: Vec<(String, String)>,
    month: NaiveDate,
    categories: &[String],
) -> AppResult<Vec<ProvincePart>> {
    let mut sums = indicators::province_sums(conn, area, month)?;
    let mut rows = super::unit_rows(
        conn,
        area,
        Grouping::Province,
        "province",
        provinces,
        month,
        categories,
    )?;
    super::freeze_approved_communes(conn, area, month, categories, &mut rows)?;
    Ok(rows
        .into_iter()
        .map(|row| ProvincePart {
            sums: sums.remove(&row.key).unwrap_or_default(),
            row,
        })
        .collect())
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
    let provinces = db::units::provinces(conn)?;
    let version = |code: &str| every + versions.get(code).copied().unwrap_or(0);
    let mut kept: HashMap<String, Arc<ProvincePart>> = provinces
        .iter()
        .filter_map(|(code, _)| {
            let part = parts.get(&(code.clone(), month), version(code))?;
            Some((code.clone(), part))
        })
        .collect();
    let stale: Vec<(String, String)> = provinces
        .iter()
        .filter(|(code, _)| !kept.contains_key(code))
        .cloned()
        .collect();
    let computed = if stale.len() >= TOGETHER_FROM {
        compute(conn, &Area::Country, stale, month, categories)?
    } else {
        let mut one_by_one = Vec::new();
        for p in stale {
            let area = Area::Province(p.0.clone());
            one_by_one.extend(compute(conn, &area, vec![p], month, categories)?);
        }
        one_by_one
    };
    for part in computed {
        let code = part.row.key.clone();
        let part = Arc::new(part);
        parts.put((code.clone(), month), version(&code), part.clone());
        kept.insert(code, part);
    }
    let kept = provinces
        .iter()
        .map(|(code, _)| {
            kept.remove(code)
                .ok_or_else(|| AppError::internal("a province's part was not computed"))
        })
        .collect::<AppResult<Vec<Arc<ProvincePart>>>>()?;
    let mut rows: Vec<ReportRow> = kept.iter().map(|p| p.row.clone()).collect();
    let totals = super::sum_rows(&rows, categories);
    let indicators =
        indicators::country_section(conn, month, &mut rows, kept.iter().map(|p| &p.sums))?;
    Ok(MonthlyReport::live(unit, month, totals, rows, indicators))
}
