//! Reading the monthly report and the trend: who may read which unit, the frozen copy of an
//! approved commune month, and the kept province and country reports (`cache`).

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::PgConnection;

use super::cache::Served;
use super::{workflow, MonthlyReport, TrendPoint, UnitRef};
use crate::access::{Caller, Scope};
use crate::db::{self, reports::Area};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::state::AppState;

/// A monthly report: computed for this request (a commune's, live or frozen), or kept
/// (a province's or the country's, served from its kept bytes while its version stands).
pub enum Monthly {
    Computed(Box<MonthlyReport>),
    Kept(Served),
}

/// The report of `unit` for `month` (officers of its area), with the category names an
/// export heads its columns with when `with_names`. An approved commune month is served as
/// frozen at approval unless `live`.
pub async fn monthly(
    state: &AppState,
    caller: &Caller,
    unit: String,
    month: &str,
    live: bool,
    with_names: bool,
) -> AppResult<(Monthly, HashMap<String, String>)> {
    crate::registry::require_officer(caller)?;
    let month = super::parse_month("month", month)?;
    let caller = caller.clone();
    let cache = state.report_cache.clone();
    let first = db::run_read(&state.reads, move |c| {
        let (unit, area) = super::unit_of(c, unit.trim())?;
        ensure_may_read(&caller, &unit, &area, c)?;
        let names = if with_names {
            super::category_names(c)?
        } else {
            HashMap::new()
        };
        if let Area::Commune(code) = &area {
            let report = commune_report(c, unit, code, month, live)?;
            return Ok((Ok(Monthly::Computed(Box::new(report))), names));
        }
        Ok(match cache.hit(c, &unit, &area, month)? {
            Some(served) => (Ok(Monthly::Kept(served)), names),
            None => (Err((unit, area)), names),
        })
    })
    .await?;
    match first {
        (Ok(monthly), names) => Ok((monthly, names)),
        (Err((unit, area)), names) => {
            // One computation of a report at a time; the requests waiting find it kept.
            let cache = state.report_cache.clone();
            let _turn = cache.turn(&unit.code, month).await;
            let served = db::run_read(&state.reads, move |c| {
                cache.report(c, unit.clone(), &area, month)
            })
            .await?;
            Ok((Monthly::Kept(served), names))
        }
    }
}

/// A commune's report: the copy frozen at approval, else the live figures with the state.
fn commune_report(
    c: &mut PgConnection,
    unit: UnitRef,
    code: &str,
    month: NaiveDate,
    live: bool,
) -> AppResult<MonthlyReport> {
    if !live {
        if let Some(snapshot) = workflow::frozen(c, code, month)? {
            let mut report =
                serde_json::from_value::<MonthlyReport>(snapshot).map_err(AppError::internal)?;
            for row in &mut report.rows {
                row.frozen = true;
            }
            return Ok(report);
        }
    }
    let status = workflow::status_of(c, code, month)?;
    let mut report = super::live(c, unit, &Area::Commune(code.to_string()), month)?;
    report.status = Some(status);
    Ok(report)
}

/// Headline figures month by month of a unit (officers of its area), over at most 36 months.
pub async fn trend(
    state: &AppState,
    caller: &Caller,
    unit: String,
    from: &str,
    to: &str,
) -> AppResult<Vec<TrendPoint>> {
    crate::registry::require_officer(caller)?;
    let from = super::parse_month("from", from)?;
    let to = super::parse_month("to", to)?;
    if to < from
        || from
            .checked_add_months(chrono::Months::new(36))
            .is_some_and(|limit| to > limit)
    {
        return Err(AppError::field(
            "to",
            "invalid_range",
            "to must be from 0 to 36 months after from",
        ));
    }
    let caller = caller.clone();
    db::run_read(&state.reads, move |c| {
        let (unit, area) = super::unit_of(c, unit.trim())?;
        ensure_may_read(&caller, &unit, &area, c)?;
        super::trend(c, &area, from, to)
    })
    .await
}

/// Officers see reports of their own area: admin the country, a province officer its province
/// and communes, a commune officer its commune. Others' areas answer 404.
fn ensure_may_read(
    caller: &Caller,
    unit: &UnitRef,
    area: &Area,
    conn: &mut PgConnection,
) -> AppResult<()> {
    let province_of = |conn: &mut PgConnection, code: &str| -> AppResult<String> {
        Ok(db::units::get(conn, code)?
            .map(|u| u.fields.province_code)
            .unwrap_or_default())
    };
    let ok = match (caller.scope(), area) {
        (Scope::Country, _) => true,
        (Scope::Province(p), Area::Province(c)) => &p == c,
        (Scope::Province(p), Area::Commune(c)) => province_of(conn, c)? == p,
        (Scope::Commune(mine), Area::Commune(c)) => &mine == c,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        // Out of scope answers like a missing record (404), as everywhere else.
        Err(AppError::NotFound {
            code: ErrorCode::NotFound,
            detail: format!("no report of {} in your scope", unit.code),
        })
    }
}
