//! Reporting discipline (DHIS2's reporting rates): when a commune's monthly report is due, whether
//! it came in on time, and the members who recorded nothing in a month.

use crate::ids::TeamId;
use crate::vocab::AuditAction;
use crate::vocab::ReportStatus;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::workflow::{CommuneStatus, PeriodStatus};
use crate::access::{Caller, Role, Scope};
use crate::db;
use crate::db::discipline::{self as rows, Among, InactiveMember, ReportingSettings};
use crate::db::reports::Area;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The due date of a month's reports: `due_day` of the following month.
pub fn due_on(month: NaiveDate, due_day: i32) -> NaiveDate {
    let next = month
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(month);
    next.with_day(u32::try_from(due_day).unwrap_or(5).clamp(1, 28))
        .unwrap_or(next)
}

/// The instant a due date ends: 00:00 the next day in Asia/Ho_Chi_Minh.
pub fn deadline(due_on: NaiveDate) -> DateTime<Utc> {
    let next = due_on.succ_opt().unwrap_or(due_on);
    next.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - chrono::Duration::hours(7)
}

/// Whether a report counts as received: submitted and not sent back.
pub fn reported(status: &PeriodStatus) -> bool {
    status.submitted_at.is_some()
        && matches!(
            status.status,
            ReportStatus::Submitted | ReportStatus::Approved | ReportStatus::Reopened
        )
}

/// (on time, overdue) of a commune's report as of `now`.
pub fn timeliness(
    status: &PeriodStatus,
    due_on: NaiveDate,
    now: DateTime<Utc>,
) -> (Option<bool>, bool) {
    let end = deadline(due_on);
    if reported(status) {
        (status.submitted_at.map(|at| at < end), false)
    } else {
        (None, now >= end)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CommuneRef {
    pub code: String,
    pub name: String,
}

/// How a province's communes reported a month.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportingSummary {
    pub due_on: NaiveDate,
    /// Communes expected to report.
    pub communes: i64,
    /// Reports received (submitted, approved or reopened; not those returned).
    pub reported: i64,
    /// Of those, received by the end of the due date.
    pub on_time: i64,
    /// reported / communes.
    pub reporting_rate: Option<f64>,
    /// on_time / communes.
    pub on_time_rate: Option<f64>,
    /// Communes not reported past the due date.
    pub overdue: Vec<CommuneRef>,
}

pub fn summary(statuses: &[CommuneStatus]) -> Option<ReportingSummary> {
    let first = statuses.first()?;
    let communes = statuses.len() as i64;
    let reported = statuses.iter().filter(|s| reported(&s.status)).count() as i64;
    let on_time = statuses.iter().filter(|s| s.on_time == Some(true)).count() as i64;
    let rate = |n: i64| (communes > 0).then(|| n as f64 / communes as f64);
    Some(ReportingSummary {
        due_on: first.due_on,
        communes,
        reported,
        on_time,
        reporting_rate: rate(reported),
        on_time_rate: rate(on_time),
        overdue: statuses
            .iter()
            .filter(|s| s.overdue)
            .map(|s| CommuneRef {
                code: s.commune_code.clone(),
                name: s.commune_name.clone(),
            })
            .collect(),
    })
}

/// The reporting summary of a province's month, as of now.
pub fn province_summary(
    conn: &mut PgConnection,
    province: &str,
    month: NaiveDate,
) -> AppResult<Option<ReportingSummary>> {
    let statuses = super::workflow::province_statuses(conn, province, month, Utc::now())?;
    Ok(summary(&statuses))
}

/// Province officers read their province's settings, admins any; others 403, another province 404.
fn ensure_province(caller: &Caller, province: &str) -> AppResult<()> {
    match caller.scope() {
        Scope::Country => Ok(()),
        Scope::Province(p) if p == province => Ok(()),
        Scope::Province(_) => Err(AppError::not_found("province")),
        _ => Err(AppError::forbidden(
            "only the province's officers and admins manage its reporting",
        )),
    }
}

fn known_province(c: &mut PgConnection, province: &str) -> AppResult<()> {
    match crate::db::units::get(c, province)? {
        Some(u) if u.fields.level == "province" => Ok(()),
        _ => Err(AppError::not_found("province")),
    }
}

pub async fn settings(
    state: &AppState,
    caller: &Caller,
    province: String,
) -> AppResult<ReportingSettings> {
    ensure_province(caller, &province)?;
    db::run_read(&state.reads, move |c| {
        known_province(c, &province)?;
        Ok(
            rows::get(c, &province)?.unwrap_or_else(|| ReportingSettings {
                province_code: province.clone(),
                due_day: rows::DEFAULT_DUE_DAY,
                version: 0,
                updated_at: Utc::now(),
            }),
        )
    })
    .await
}

pub async fn set_due_day(
    state: &AppState,
    caller: &Caller,
    province: String,
    due_day: i32,
    expected: Option<i32>,
) -> AppResult<ReportingSettings> {
    ensure_province(caller, &province)?;
    if !(1..=28).contains(&due_day) {
        return Err(AppError::field(
            "due_day",
            "out_of_range",
            "due_day must be from 1 to 28",
        ));
    }
    db::transact(&state.pool, caller, move |c, caller| {
        known_province(c, &province)?;
        let before = rows::for_update(c, &province)?;
        crate::registry::check_version(
            "reporting settings",
            before.as_ref().map_or(0, |b| b.version),
            expected,
        )?;
        let after = rows::upsert(c, &province, due_day)?;
        crate::registry::audit(c, caller, AuditAction::Update, before.as_ref(), &after)?;
        Ok(after)
    })
    .await
}

impl crate::registry::Audited for ReportingSettings {
    const ENTITY: &'static str = "reporting_settings";
    fn entity_id(&self) -> String {
        self.province_code.clone()
    }
    fn place(&self) -> (Option<&str>, Option<&str>) {
        (Some(&self.province_code), None)
    }
}

/// Members who recorded nothing in a month: officers for a unit in their scope (or a team of
/// it), a team leader for its own team; team members are refused.
pub async fn inactive(
    state: &AppState,
    caller: &Caller,
    unit: Option<String>,
    team: Option<TeamId>,
    month: NaiveDate,
) -> AppResult<Vec<InactiveMember>> {
    let caller = caller.clone();
    match caller.role {
        Role::TeamMember => {
            return Err(AppError::forbidden(
                "officers and team leaders list the members who recorded nothing",
            ))
        }
        Role::TeamLeader if team.is_some_and(|t| Some(t) != caller.team_id) => {
            return Err(AppError::not_found("team"))
        }
        _ => {}
    }
    db::run_read(&state.reads, move |c| {
        let among = if caller.role == Role::TeamLeader {
            Among::Team(caller.team_id.unwrap_or(TeamId(-1)))
        } else if let Some(t) = team {
            let found = crate::db::teams::get(c, &caller.scope(), t)?;
            Among::Team(found.ok_or_else(|| AppError::not_found("team"))?.id)
        } else {
            let code = unit.clone().or_else(|| match caller.scope() {
                Scope::Province(p) | Scope::Commune(p) => Some(p),
                _ => None,
            });
            let code =
                code.ok_or_else(|| AppError::field("unit", "required", "name a unit (or a team)"))?;
            let (unit_ref, area) = super::unit_of(c, code.trim())?;
            let inside = match (caller.scope(), &area) {
                (Scope::Country, _) => true,
                (Scope::Province(p), Area::Province(x)) => &p == x,
                (Scope::Province(p), Area::Commune(x)) => {
                    crate::db::units::get(c, x)?.is_some_and(|u| u.fields.province_code == p)
                }
                (Scope::Commune(mine), Area::Commune(x)) => &mine == x,
                _ => false,
            };
            if !inside {
                return Err(AppError::NotFound {
                    code: crate::error::ErrorCode::NotFound,
                    detail: format!("no unit {} in your scope", unit_ref.code),
                });
            }
            Among::Area(area)
        };
        Ok(rows::inactive_members(c, &among, month)?)
    })
    .await
}
