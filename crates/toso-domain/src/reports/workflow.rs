//! Submission and approval of a commune's monthly report. Approval freezes the figures and
//! locks the month: field work dated in it can no longer change until a reopening.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection, QueryResult};
use serde::{Deserialize, Serialize};

use crate::access::{Caller, Role};
use crate::db::periods::{self, Period};
use crate::db::{self, audit};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ids::UserId;
use crate::state::AppState;
use crate::vocab::ReportStatus;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PeriodStatus {
    pub status: ReportStatus,
    #[schema(value_type = Option<Uuid>)]
    pub submitted_by: Option<UserId>,
    pub submitted_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<Uuid>)]
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was returned or reopened.
    pub reason: Option<String>,
}

fn status(p: &Period) -> PeriodStatus {
    PeriodStatus {
        status: p.status,
        submitted_by: p.submitted_by,
        submitted_at: p.submitted_at,
        decided_by: p.decided_by,
        decided_at: p.decided_at,
        reason: p.reason.clone(),
    }
}

fn not_started_or_draft(
    conn: &mut PgConnection,
    commune: &str,
    month: NaiveDate,
) -> QueryResult<PeriodStatus> {
    let status = if periods::has_activity(conn, commune, month)? {
        ReportStatus::Draft
    } else {
        ReportStatus::NotStarted
    };
    Ok(PeriodStatus {
        status,
        submitted_by: None,
        submitted_at: None,
        decided_by: None,
        decided_at: None,
        reason: None,
    })
}

pub fn status_of(
    conn: &mut PgConnection,
    commune: &str,
    month: NaiveDate,
) -> QueryResult<PeriodStatus> {
    match periods::get(conn, commune, month)? {
        Some(p) => Ok(status(&p)),
        None => not_started_or_draft(conn, commune, month),
    }
}

/// The approved report of a commune and month, as frozen at approval.
pub fn frozen(
    conn: &mut PgConnection,
    commune: &str,
    month: NaiveDate,
) -> QueryResult<Option<serde_json::Value>> {
    Ok(periods::get(conn, commune, month)?
        .filter(|p| p.status == ReportStatus::Approved)
        .and_then(|p| p.snapshot))
}

pub fn month_locked_error(month: NaiveDate) -> AppError {
    AppError::Conflict {
        code: ErrorCode::MonthLocked,
        detail: format!(
            "the report for {} is approved; records dated in it cannot change until a province officer reopens it",
            month.format("%Y-%m")
        ),
    }
}

/// A month is submitted (and approved) only once it is over in Vietnam time: the first
/// submission can be made at 00:00 (Asia/Ho_Chi_Minh) on the 1st of the next month, so no
/// approval ever locks days that have not happened yet.
pub fn ensure_month_ended(month: NaiveDate, now: DateTime<Utc>) -> AppResult<()> {
    if super::vn_month(now) > month {
        return Ok(());
    }
    Err(AppError::Conflict {
        code: ErrorCode::MonthNotEnded,
        detail: format!(
            "{} is not over yet (Vietnam time); its report can be submitted from the 1st of the next month",
            month.format("%Y-%m")
        ),
    })
}

pub use crate::vocab::ReportAction as Action;

fn may(caller: &Caller, action: Action, commune: &str, province: &str) -> bool {
    match caller.role {
        Role::Admin => true,
        Role::ProvinceOfficer => {
            action != Action::Submit && caller.unit_code.as_deref() == Some(province)
        }
        Role::CommuneOfficer => {
            action == Action::Submit && caller.unit_code.as_deref() == Some(commune)
        }
        Role::TeamLeader | Role::TeamMember => false,
    }
}

fn wrong_state(action: Action, status: ReportStatus) -> AppError {
    let code = match (action, status) {
        (Action::Submit, ReportStatus::Submitted) => ErrorCode::AlreadySubmitted,
        (Action::Submit, ReportStatus::Approved) => ErrorCode::AlreadyApproved,
        (Action::Approve | Action::Return, _) => ErrorCode::NotSubmitted,
        (Action::Reopen, _) => ErrorCode::NotApproved,
        _ => ErrorCode::InvalidTransition,
    };
    AppError::Conflict {
        code,
        detail: format!(
            "cannot {} a report that is {}",
            action.as_str(),
            status.as_str()
        ),
    }
}

/// The reason trimmed; returning and reopening need one.
fn reason_for(action: Action, reason: Option<String>) -> AppResult<Option<String>> {
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if matches!(action, Action::Return | Action::Reopen) && reason.is_none() {
        return Err(AppError::field(
            "reason",
            "required",
            "say why the report is returned or reopened",
        ));
    }
    Ok(reason)
}

/// Who submitted and who decided, and when, after `action`.
type Signatures = (
    (Option<UserId>, Option<DateTime<Utc>>),
    (Option<UserId>, Option<DateTime<Utc>>),
);

fn signatures(action: Action, before: &PeriodStatus, by: UserId, now: DateTime<Utc>) -> Signatures {
    let submitted = match action {
        Action::Submit => (Some(by), Some(now)),
        _ => (before.submitted_by, before.submitted_at),
    };
    let decided = match action {
        Action::Submit => (None, None),
        _ => (Some(by), Some(now)),
    };
    (submitted, decided)
}

/// Audits a report's change of state.
fn audit_report(
    c: &mut PgConnection,
    caller: &Caller,
    action: Action,
    before: &PeriodStatus,
    saved: &Period,
) -> AppResult<PeriodStatus> {
    let after = status(saved);
    audit::record(
        c,
        caller,
        audit::Change {
            action: action.into(),
            entity: "report",
            entity_id: format!("{}:{}", saved.commune_code, saved.month.format("%Y-%m")),
            province_code: Some(&saved.province_code),
            commune_code: Some(&saved.commune_code),
            before: Some(before),
            after: Some(&after),
        },
    )?;
    Ok(after)
}

/// Moves the report of `commune` and `month` on by `action`, in the caller's transaction.
fn apply(
    c: &mut PgConnection,
    caller: &Caller,
    (commune, month): (&str, NaiveDate),
    action: Action,
    reason: Option<String>,
) -> AppResult<PeriodStatus> {
    let (code, province) = commune_in_reach(c, caller, commune, action)?;
    // Approving and reopening lock or unlock the month: they wait for field-work
    // writes in flight and keep new ones out until they commit (`db::months`).
    if matches!(action, Action::Approve | Action::Reopen) {
        crate::db::months::hold_exclusive(c, &code, month)?;
    }
    let current = periods::lock(c, &code, month)?;
    let before = match &current {
        Some(p) => status(p),
        None => not_started_or_draft(c, &code, month)?,
    };
    let next = next_status(action, before.status)?;
    let now = Utc::now();
    let snapshot = match action {
        Action::Approve => Some(freeze(c, &code, month, &before, caller, now)?),
        _ => None,
    };
    let ((submitted_by, submitted_at), (decided_by, decided_at)) =
        signatures(action, &before, caller.user_id, now);
    let write = periods::Period {
        commune_code: code,
        province_code: province,
        month,
        status: next,
        submitted_by,
        submitted_at,
        decided_by,
        decided_at,
        reason,
        snapshot,
    };
    let saved = periods::save(c, current.is_some(), &write)?;
    audit_report(c, caller, action, &before, &saved)
}

pub async fn transition(
    state: &AppState,
    caller: &Caller,
    commune: String,
    month: NaiveDate,
    action: Action,
    reason: Option<String>,
) -> AppResult<PeriodStatus> {
    let reason = reason_for(action, reason)?;
    if matches!(action, Action::Submit | Action::Approve) {
        ensure_month_ended(month, Utc::now())?;
    }
    let caller = caller.clone();
    db::run(&state.pool, move |conn| {
        conn.transaction(|c| apply(c, &caller, (&commune, month), action, reason.clone()))
    })
    .await
}

/// The commune (code, province) when the caller may act on its report: a commune the caller
/// cannot see is missing (404); one it sees but may not act on is 403.
fn commune_in_reach(
    c: &mut PgConnection,
    caller: &Caller,
    commune: &str,
    action: Action,
) -> AppResult<(String, String)> {
    let (code, province) = match crate::db::units::get(c, commune)? {
        Some(u) if u.fields.level == "commune" => (u.fields.code, u.fields.province_code),
        _ => return Err(AppError::not_found("commune")),
    };
    if !caller.scope().contains(&code, &province) {
        return Err(AppError::not_found("commune"));
    }
    if !may(caller, action, &code, &province) {
        return Err(AppError::forbidden(format!(
            "a {} cannot {} this report",
            caller.role.as_str(),
            action.as_str()
        )));
    }
    Ok((code, province))
}

/// The state an action leads to from `status`, or 409.
fn next_status(action: Action, status: ReportStatus) -> AppResult<ReportStatus> {
    use ReportStatus::*;
    Ok(match (action, status) {
        (Action::Submit, NotStarted | Draft | Returned | Reopened) => Submitted,
        (Action::Approve, Submitted) => Approved,
        (Action::Return, Submitted) => Returned,
        (Action::Reopen, Approved) => Reopened,
        _ => return Err(wrong_state(action, status)),
    })
}

/// The commune's live report of the month, frozen as approved now by the caller.
fn freeze(
    c: &mut PgConnection,
    code: &str,
    month: NaiveDate,
    before: &PeriodStatus,
    caller: &Caller,
    now: DateTime<Utc>,
) -> AppResult<serde_json::Value> {
    let (unit_ref, area) = super::unit_of(c, code)?;
    let mut report = super::live(c, unit_ref, &area, month)?;
    report.frozen = true;
    report.status = Some(PeriodStatus {
        status: ReportStatus::Approved,
        submitted_by: before.submitted_by,
        submitted_at: before.submitted_at,
        decided_by: Some(caller.user_id),
        decided_at: Some(now),
        reason: None,
    });
    serde_json::to_value(&report).map_err(AppError::internal)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommuneStatus {
    pub commune_code: String,
    pub commune_name: String,
    #[serde(flatten)]
    pub status: PeriodStatus,
    /// The report is due by the end of this day (Vietnam time): the province's due day of the
    /// following month.
    pub due_on: NaiveDate,
    /// Reported (submitted, approved or reopened, not returned) by the end of `due_on`; null
    /// while not reported. A report returned and submitted again counts by its last submission.
    pub on_time: Option<bool>,
    /// Not reported and past its due date.
    pub overdue: bool,
}

/// Every commune of a province with its report's state for the month (officers).
pub async fn list(
    state: &AppState,
    caller: &Caller,
    province: String,
    month: NaiveDate,
) -> AppResult<Vec<CommuneStatus>> {
    // The role decides first (403); another province is out of scope, answered like a
    // missing record (404).
    match caller.scope() {
        crate::access::Scope::Country => {}
        crate::access::Scope::Province(p) if p == province => {}
        crate::access::Scope::Province(_) => return Err(AppError::not_found("province")),
        _ => {
            return Err(AppError::forbidden(
                "only the province's officers and admins list its communes' reports",
            ))
        }
    }
    db::run_read(&state.reads, move |c| {
        province_statuses(c, &province, month, Utc::now())
    })
    .await
}

/// Every commune of a province with its report's state for the month and whether it came in on
/// time (as of `now`).
pub fn province_statuses(
    c: &mut PgConnection,
    province: &str,
    month: NaiveDate,
    now: DateTime<Utc>,
) -> AppResult<Vec<CommuneStatus>> {
    let communes = crate::db::units::live_children(c, province)?;
    if communes.is_empty() {
        return Err(AppError::field(
            "province",
            "unknown_unit",
            "no province has this code",
        ));
    }
    let rows = periods::of_province(c, province, month)?;
    let active = periods::active_communes(c, province, month)?;
    let due_on = super::discipline::due_on(month, crate::db::discipline::due_day(c, province)?);
    Ok(communes
        .into_iter()
        .map(|(code, name)| {
            let status = match rows.iter().find(|p| p.commune_code == code) {
                Some(p) => status(p),
                None => PeriodStatus {
                    status: if active.contains(&code) {
                        ReportStatus::Draft
                    } else {
                        ReportStatus::NotStarted
                    },
                    submitted_by: None,
                    submitted_at: None,
                    decided_by: None,
                    decided_at: None,
                    reason: None,
                },
            };
            let (on_time, overdue) = super::discipline::timeliness(&status, due_on, now);
            CommuneStatus {
                commune_code: code,
                commune_name: name,
                status,
                due_on,
                on_time,
                overdue,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReportStatus::*;

    /// Every (action, state) pair: the four transitions of the workflow, and 409 with the
    /// code a client can act on for every other pair.
    #[test]
    fn the_workflow_allows_exactly_its_four_transitions() {
        let allowed = [
            (Action::Submit, NotStarted, Submitted),
            (Action::Submit, Draft, Submitted),
            (Action::Submit, Returned, Submitted),
            (Action::Submit, Reopened, Submitted),
            (Action::Approve, Submitted, Approved),
            (Action::Return, Submitted, Returned),
            (Action::Reopen, Approved, Reopened),
        ];
        for &action in Action::ALL {
            for &status in ReportStatus::ALL {
                let expected = allowed
                    .iter()
                    .find(|(a, s, _)| *a == action && *s == status)
                    .map(|(_, _, next)| *next);
                match (next_status(action, status), expected) {
                    (Ok(next), Some(want)) => assert_eq!(next, want, "{action:?} {status:?}"),
                    (Err(AppError::Conflict { code, .. }), None) => {
                        let want = match (action, status) {
                            (Action::Submit, Submitted) => ErrorCode::AlreadySubmitted,
                            (Action::Submit, Approved) => ErrorCode::AlreadyApproved,
                            (Action::Approve | Action::Return, _) => ErrorCode::NotSubmitted,
                            (Action::Reopen, _) => ErrorCode::NotApproved,
                            _ => ErrorCode::InvalidTransition,
                        };
                        assert_eq!(code, want, "{action:?} {status:?}");
                    }
                    (got, want) => panic!("{action:?} {status:?}: {got:?}, expected {want:?}"),
                }
            }
        }
    }
}
