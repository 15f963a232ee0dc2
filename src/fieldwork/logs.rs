//! Rules for assistance logs, shared by the REST routes and the sync push.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::privacy::note_problem;
use super::{AgeBand, Channel, Outcome};
use crate::auth::{Caller, Role};
use crate::db::logs::{self as store, AssistanceLog, LogChanges, LogFilter, LogScope, NewLog};
use crate::db::schema::{assistance_categories as cat, members, villages};
use crate::db::{self, Page};
use crate::error::{AppError, AppResult, FieldError};
use crate::registry::Sex;
use crate::state::AppState;

/// How far ahead of the server's clock a phone may be.
pub const CLOCK_SKEW_SECS: i64 = 10 * 60;
/// Logs before the programme existed are mistakes.
pub const EARLIEST: &str = "2024-01-01T00:00:00+07:00";

#[derive(Clone, Debug)]
pub struct LogInput {
    pub id: Uuid,
    pub occurred_at: DateTime<FixedOffset>,
    pub member_id: Option<i64>,
    pub village_id: Option<i64>,
    pub category_code: String,
    pub channel: Channel,
    pub citizens_helped: i32,
    pub citizen_sex: Option<Sex>,
    pub citizen_age_band: Option<AgeBand>,
    pub outcome: Outcome,
    pub note: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct LogPatch {
    pub occurred_at: Option<DateTime<FixedOffset>>,
    pub village_id: Option<Option<i64>>,
    pub category_code: Option<String>,
    pub channel: Option<Channel>,
    pub citizens_helped: Option<i32>,
    pub citizen_sex: Option<Option<Sex>>,
    pub citizen_age_band: Option<Option<AgeBand>>,
    pub outcome: Option<Outcome>,
    pub note: Option<Option<String>>,
}

#[derive(Clone, Debug)]
struct MemberInfo {
    team_id: i64,
    commune_code: String,
    province_code: String,
}

/// What a caller's logs are checked against, loaded once per request or batch.
pub struct LogContext {
    caller: Caller,
    /// Active memberships the caller may log for.
    members: HashMap<i64, MemberInfo>,
    /// The caller's own active membership, the default author of its logs.
    own_member: Option<i64>,
    /// Live villages of the caller's commune.
    villages: HashMap<i64, String>,
    /// Category code → retired.
    categories: HashMap<String, bool>,
    /// Months of the caller's commune locked by an approved report.
    locked: HashSet<NaiveDate>,
}

pub fn log_scope(caller: &Caller) -> LogScope {
    LogScope {
        scope: caller.scope(),
        own_user: (caller.role == Role::TeamMember).then_some(caller.user_id),
    }
}

fn require_team_role(caller: &Caller) -> AppResult<()> {
    if matches!(caller.role, Role::TeamLeader | Role::TeamMember) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "logs are recorded by team members; officers read them",
        ))
    }
}

impl LogContext {
    pub fn load(conn: &mut PgConnection, caller: &Caller) -> AppResult<Self> {
        require_team_role(caller)?;
        let team_id = caller
            .team_id
            .ok_or_else(|| AppError::internal("team role without team"))?;
        let mut q = members::table
            .filter(members::team_id.eq(team_id))
            .filter(members::left_on.is_null())
            .filter(members::archived_at.is_null())
            .into_boxed();
        if caller.role == Role::TeamMember {
            q = q.filter(members::user_id.eq(caller.user_id));
        }
        let rows: Vec<(i64, i64, String, String, Option<Uuid>)> = q
            .select((
                members::id,
                members::team_id,
                members::commune_code,
                members::province_code,
                members::user_id,
            ))
            .load(conn)?;
        let own_member = rows
            .iter()
            .find(|r| r.4 == Some(caller.user_id))
            .map(|r| r.0);
        let members = rows
            .into_iter()
            .map(|(id, team_id, commune_code, province_code, _)| {
                (
                    id,
                    MemberInfo {
                        team_id,
                        commune_code,
                        province_code,
                    },
                )
            })
            .collect();
        let commune = caller.unit_code.clone().unwrap_or_default();
        let villages = villages::table
            .filter(villages::commune_code.eq(&commune))
            .filter(villages::archived_at.is_null())
            .select((villages::id, villages::commune_code))
            .load::<(i64, String)>(conn)?
            .into_iter()
            .collect();
        let categories = cat::table
            .select((cat::code, cat::retired_at.is_not_null()))
            .load::<(String, bool)>(conn)?
            .into_iter()
            .collect();
        let locked = crate::reports::workflow::locked_months(conn, &commune)?;
        Ok(LogContext {
            caller: caller.clone(),
            members,
            own_member,
            villages,
            categories,
            locked,
        })
    }

    fn check_common(
        &self,
        errors: &mut Vec<FieldError>,
        occurred_at: Option<&DateTime<FixedOffset>>,
        village_id: Option<i64>,
        commune: &str,
        citizens: Option<i32>,
        note: Option<&str>,
    ) {
        if let Some(at) = occurred_at {
            let now = Utc::now();
            if at.with_timezone(&Utc) > now + chrono::Duration::seconds(CLOCK_SKEW_SECS) {
                errors.push(FieldError::new(
                    "occurred_at",
                    "in_future",
                    "occurred_at is in the future",
                ));
            }
            let earliest = DateTime::parse_from_rfc3339(EARLIEST)
                .map(|d| d.with_timezone(&Utc))
                .unwrap_or(now);
            if at.with_timezone(&Utc) < earliest {
                errors.push(FieldError::new(
                    "occurred_at",
                    "too_old",
                    "occurred_at is before 2024",
                ));
            }
        }
        if let Some(v) = village_id {
            match self.villages.get(&v) {
                Some(c) if c == commune => {}
                _ => errors.push(FieldError::new(
                    "village_id",
                    "wrong_village",
                    "the village must be a live village of the member's commune",
                )),
            }
        }
        if let Some(n) = citizens {
            if !(1..=1000).contains(&n) {
                errors.push(FieldError::new(
                    "citizens_helped",
                    "range",
                    "citizens_helped must be 1 to 1000",
                ));
            }
        }
        if let Some(note) = note {
            if note.chars().count() > 500 {
                errors.push(FieldError::new(
                    "note",
                    "too_long",
                    "note must have at most 500 characters",
                ));
            } else if let Some(why) = note_problem(note) {
                errors.push(FieldError::new("note", "personal_data", why));
            }
        }
    }

    fn check_new_category(&self, errors: &mut Vec<FieldError>, code: &str) {
        match self.categories.get(code) {
            None => errors.push(FieldError::new(
                "category_code",
                "unknown_category",
                format!("no category {code:?}"),
            )),
            Some(true) => errors.push(FieldError::new(
                "category_code",
                "retired_category",
                format!("category {code:?} is retired and takes no new logs"),
            )),
            Some(false) => {}
        }
    }

    /// Refuses a change that touches a month locked by an approved report.
    fn ensure_open(&self, dates: &[DateTime<Utc>]) -> AppResult<()> {
        match dates
            .iter()
            .map(|d| crate::reports::vn_month(*d))
            .find(|m| self.locked.contains(m))
        {
            Some(m) => Err(crate::reports::workflow::month_locked_error(m)),
            None => Ok(()),
        }
    }

    /// Checks a new log completely, without touching the database.
    pub fn new_log(&self, input: &LogInput, device_id: Option<&str>) -> AppResult<NewLog> {
        let mut errors = Vec::new();
        let member_id = match input.member_id.or(self.own_member) {
            Some(m) => m,
            None => {
                return Err(AppError::field(
                    "member_id",
                    "required",
                    "this account is not linked to an active member",
                ))
            }
        };
        let Some(member) = self.members.get(&member_id) else {
            return Err(if self.caller.role == Role::TeamMember {
                AppError::Forbidden {
                    code: "own_logs_only",
                    detail: "a team member records logs only as itself".into(),
                }
            } else {
                AppError::field(
                    "member_id",
                    "unknown_member",
                    "no active member of your team has this id",
                )
            });
        };
        self.check_common(
            &mut errors,
            Some(&input.occurred_at),
            input.village_id,
            &member.commune_code,
            Some(input.citizens_helped),
            input.note.as_deref(),
        );
        self.check_new_category(&mut errors, &input.category_code);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        self.ensure_open(&[input.occurred_at.with_timezone(&Utc)])?;
        Ok(NewLog {
            id: input.id,
            occurred_at: input.occurred_at.with_timezone(&Utc),
            member_id,
            team_id: member.team_id,
            commune_code: member.commune_code.clone(),
            province_code: member.province_code.clone(),
            village_id: input.village_id,
            category_code: input.category_code.clone(),
            channel: input.channel.as_str().to_string(),
            citizens_helped: input.citizens_helped,
            citizen_sex: input.citizen_sex.map(|s| s.as_str().to_string()),
            citizen_age_band: input.citizen_age_band.map(|a| a.as_str().to_string()),
            outcome: input.outcome.as_str().to_string(),
            note: input
                .note
                .clone()
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty()),
            created_by: self.caller.user_id,
            device_id: device_id.map(str::to_string),
        })
    }

    /// Checks an edit of `current` and turns it into column changes.
    pub fn changes(&self, current: &AssistanceLog, patch: &LogPatch) -> AppResult<LogChanges> {
        if !self.members.contains_key(&current.member_id) {
            return Err(AppError::Forbidden {
                code: "own_logs_only",
                detail:
                    "you can edit only logs of your own (or, as leader, your team's active members)"
                        .into(),
            });
        }
        let mut errors = Vec::new();
        self.check_common(
            &mut errors,
            patch.occurred_at.as_ref(),
            patch.village_id.flatten(),
            &current.commune_code,
            patch.citizens_helped,
            patch.note.as_ref().and_then(|n| n.as_deref()),
        );
        if let Some(code) = patch
            .category_code
            .as_deref()
            .filter(|c| *c != current.category_code)
        {
            self.check_new_category(&mut errors, code);
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let mut dates = vec![current.occurred_at];
        dates.extend(patch.occurred_at.map(|t| t.with_timezone(&Utc)));
        self.ensure_open(&dates)?;
        Ok(LogChanges {
            occurred_at: patch.occurred_at.map(|t| t.with_timezone(&Utc)),
            village_id: patch.village_id,
            category_code: patch.category_code.clone(),
            channel: patch.channel.map(|c| c.as_str().to_string()),
            citizens_helped: patch.citizens_helped,
            citizen_sex: patch.citizen_sex.map(|s| s.map(|s| s.as_str().to_string())),
            citizen_age_band: patch
                .citizen_age_band
                .map(|a| a.map(|a| a.as_str().to_string())),
            outcome: patch.outcome.map(|o| o.as_str().to_string()),
            note: patch
                .note
                .clone()
                .map(|n| n.map(|n| n.trim().to_string()).filter(|n| !n.is_empty())),
        })
    }
}

/// The result of creating a log whose id may already exist.
pub enum Created {
    New(AssistanceLog),
    Duplicate(AssistanceLog),
}

fn id_conflict() -> AppError {
    AppError::Conflict {
        code: "id_conflict",
        detail: "another record already uses this id".into(),
    }
}

/// Tells a duplicate (a resend of a log the caller may see) from an id that belongs to a
/// record the caller cannot see.
pub fn existing(conn: &mut PgConnection, scope: &LogScope, id: Uuid) -> AppResult<AssistanceLog> {
    store::get(conn, scope, id)?.ok_or_else(id_conflict)
}

pub async fn create(state: &AppState, caller: &Caller, input: LogInput) -> AppResult<Created> {
    let caller = caller.clone();
    db::run(&state.pool, move |conn| {
        conn.transaction(|c| {
            let ctx = LogContext::load(c, &caller)?;
            let scope = log_scope(&caller);
            // A resend is recognised before validation: the stored log stands as it is.
            if !store::taken_ids(c, &[input.id])?.is_empty() {
                return Ok(Created::Duplicate(existing(c, &scope, input.id)?));
            }
            let new = ctx.new_log(&input, None)?;
            let inserted = store::insert_new(c, std::slice::from_ref(&new))?;
            let log = existing(c, &scope, input.id)?;
            Ok(if inserted.is_empty() {
                Created::Duplicate(log)
            } else {
                Created::New(log)
            })
        })
    })
    .await
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    filter: LogFilter,
    page: Page,
) -> AppResult<(Vec<AssistanceLog>, i64)> {
    let scope = log_scope(caller);
    db::run_read(&state.reads, move |c| {
        Ok(store::list(c, &scope, &filter, page)?)
    })
    .await
}

pub async fn get(state: &AppState, caller: &Caller, id: Uuid) -> AppResult<AssistanceLog> {
    let scope = log_scope(caller);
    db::run(&state.pool, move |c| {
        store::get(c, &scope, id)?.ok_or_else(|| AppError::not_found("log"))
    })
    .await
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    patch: LogPatch,
    expected: Option<i32>,
) -> AppResult<AssistanceLog> {
    let caller = caller.clone();
    db::run(&state.pool, move |conn| {
        conn.transaction(|c| {
            let scope = log_scope(&caller);
            let current = store::lock(c, &scope, id)?.ok_or_else(|| AppError::not_found("log"))?;
            let ctx = LogContext::load(c, &caller)?;
            crate::registry::check_version("log", current.version, expected)?;
            let changes = ctx.changes(&current, &patch)?;
            Ok(store::update(c, id, &changes)?)
        })
    })
    .await
}

pub async fn set_archived(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    archive: bool,
    expected: Option<i32>,
) -> AppResult<AssistanceLog> {
    let caller = caller.clone();
    db::run(&state.pool, move |conn| {
        conn.transaction(|c| {
            let scope = log_scope(&caller);
            let current = store::lock(c, &scope, id)?.ok_or_else(|| AppError::not_found("log"))?;
            let ctx = LogContext::load(c, &caller)?;
            crate::registry::check_version("log", current.version, expected)?;
            ctx.changes(&current, &LogPatch::default())?;
            if archive == current.archived_at.is_some() {
                return Ok(current);
            }
            Ok(store::set_archived(c, id, archive)?)
        })
    })
    .await
}
