//! Rules for assistance logs, shared by the REST routes and the sync push.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::{hold_open, month_key, AgeBand, Channel, Outcome, Stint};
use crate::access::{Caller, Role};
use crate::db::logs::{
    self as store, AssistanceLog, LogChanges, LogFields, LogFilter, LogScope, NewLog,
};
use crate::db::months::MonthKey;
use crate::db::{self, Page};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::ids::LogId;
use crate::ids::MemberId;
use crate::ids::PersonId;
use crate::ids::VillageId;
use crate::privacy::note_problem;
use crate::registry::Sex;
use crate::state::AppState;
use crate::vocab::AuditAction;

/// How far ahead of the server's clock a phone may be.
pub const CLOCK_SKEW_SECS: i64 = 10 * 60;
/// Logs before the programme existed are mistakes.
pub const EARLIEST: &str = "2024-01-01T00:00:00+07:00";

// A new assistance log; also the request body and a sync push's `create_log` data (its schema
// keeps the name it had as an HTTP type).
#[derive(Clone, Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateLogRequest)]
pub struct LogInput {
    /// Generated on the phone; sending the same id again never creates a second log.
    #[schema(value_type = Uuid)]
    pub id: LogId,
    /// When the help happened, with its offset (e.g. `2025-10-31T23:30:00+07:00`).
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: DateTime<FixedOffset>,
    /// The member who helped; defaults to the caller's own membership.
    #[schema(value_type = Option<i64>)]
    pub member_id: Option<MemberId>,
    #[schema(value_type = Option<i64>)]
    pub village_id: Option<VillageId>,
    #[validate(length(min = 1, max = 40))]
    #[schema(min_length = 1, max_length = 40)]
    pub category_code: String,
    pub channel: Channel,
    pub citizens_helped: i32,
    pub citizen_sex: Option<Sex>,
    pub citizen_age_band: Option<AgeBand>,
    pub outcome: Outcome,
    /// Short note without names, ID numbers, phone numbers, OTPs or bank details.
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

// An edit of a log (absent fields stay, `null` clears); also the request body and a sync
// push's `update_log` data (its schema keeps the name it had as an HTTP type).
#[derive(Clone, Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateLogRequest)]
pub struct LogPatch {
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<DateTime<FixedOffset>>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<Option<i64>>)]
    pub village_id: Option<Option<VillageId>>,
    #[validate(length(min = 1, max = 40))]
    #[schema(min_length = 1, max_length = 40)]
    pub category_code: Option<String>,
    pub channel: Option<Channel>,
    pub citizens_helped: Option<i32>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub citizen_sex: Option<Option<Sex>>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub citizen_age_band: Option<Option<AgeBand>>,
    pub outcome: Option<Outcome>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub note: Option<Option<String>>,
}

/// What a caller's logs are checked against, loaded once per request or batch.
pub struct LogContext {
    caller: Caller,
    /// Every live membership (past and present) of the people the caller may log for: a
    /// log belongs to the one its person held on the day it happened.
    stints: Vec<Stint>,
    /// Membership id → index in `stints`.
    by_id: HashMap<MemberId, usize>,
    /// The caller's own membership, the default author of its logs.
    own_member: Option<MemberId>,
    /// Live villages of the communes of those memberships: village id → commune.
    villages: HashMap<VillageId, String>,
    /// Category code → retired.
    categories: HashMap<String, bool>,
}

pub fn log_scope(caller: &Caller) -> LogScope {
    LogScope {
        scope: caller.scope(),
        own_user: (caller.role == Role::TeamMember).then_some(caller.user_id),
        author: matches!(caller.role, Role::TeamLeader | Role::TeamMember)
            .then_some(caller.user_id),
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
        // A member logs as itself (every stint of its person); a leader for the people of
        // its team, past and present.
        let leads = (caller.role != Role::TeamMember).then_some(team_id);
        let stints = crate::db::members::loggable_stints(conn, caller.user_id, leads)?;
        let own_member = stints
            .iter()
            .filter(|s| s.user_id == Some(caller.user_id))
            .max_by_key(|s| (s.left_on.is_none(), s.joined_on, s.id))
            .map(|s| s.id);
        let by_id = stints.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
        let mut communes: Vec<String> = stints.iter().map(|s| s.commune_code.clone()).collect();
        communes.extend(caller.unit_code.clone());
        let villages = crate::db::villages::live_in(conn, &communes)?
            .into_iter()
            .collect();
        let categories = crate::db::categories::retired_flags(conn)?
            .into_iter()
            .collect();
        Ok(LogContext {
            caller: caller.clone(),
            stints,
            by_id,
            own_member,
            villages,
            categories,
        })
    }

    fn stint(&self, id: MemberId) -> Option<&Stint> {
        self.by_id.get(&id).map(|i| &self.stints[*i])
    }

    /// Whether the stint is the caller's own or (for a leader) one in the leader's team.
    fn may_log_for(&self, stint: &Stint) -> bool {
        let own = self
            .own_member
            .and_then(|m| self.stint(m))
            .is_some_and(|o| o.person_id == stint.person_id);
        own || (self.caller.role == Role::TeamLeader && Some(stint.team_id) == self.caller.team_id)
    }

    /// The membership `person` held when `at` happened, which the caller may log for.
    fn stint_at(&self, person: PersonId, at: DateTime<Utc>) -> Result<&Stint, FieldError> {
        let stint = super::stint_on(&self.stints, person, super::vn_day(at), "occurred_at")?;
        if self.may_log_for(stint) {
            Ok(stint)
        } else {
            Err(FieldError::new(
                "member_id",
                "other_team",
                format!(
                    "on {} this member belonged to team {}, not yours",
                    super::vn_day(at),
                    stint.team_id
                ),
            ))
        }
    }

    fn check_common(
        &self,
        errors: &mut Vec<FieldError>,
        occurred_at: Option<&DateTime<FixedOffset>>,
        village_id: Option<VillageId>,
        commune: &str,
        citizens: Option<i32>,
        note: Option<&str>,
    ) {
        if let Some(at) = occurred_at {
            check_when(errors, at);
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
            check_note(errors, note);
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

    /// The membership a new log names (the caller's own by default), of a person the caller
    /// may log for.
    fn named_member(&self, input: &LogInput) -> AppResult<&Stint> {
        let Some(named) = input.member_id.or(self.own_member) else {
            return Err(AppError::field(
                "member_id",
                "required",
                "this account is not linked to a member",
            ));
        };
        let Some(named) = self.stint(named).filter(|s| self.may_log_for_person(s)) else {
            return Err(if self.caller.role == Role::TeamMember {
                AppError::Forbidden {
                    code: ErrorCode::OwnLogsOnly,
                    detail: "a team member records logs only as itself".into(),
                }
            } else {
                AppError::field(
                    "member_id",
                    "unknown_member",
                    "no member of your team has this id",
                )
            });
        };
        Ok(named)
    }

    /// Checks a new log completely, without touching the database. The log goes to the
    /// membership its member's person held on the day it happened.
    pub fn new_log(&self, input: &LogInput, device_id: Option<&str>) -> AppResult<NewLog> {
        let mut errors = Vec::new();
        let named = self.named_member(input)?;
        let at = input.occurred_at.with_timezone(&Utc);
        let member = match self.stint_at(named.person_id, at) {
            Ok(m) => m,
            Err(e) => {
                errors.push(e);
                named
            }
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
        Ok(NewLog {
            id: input.id,
            fields: LogFields {
                occurred_at: at,
                member_id: member.id,
                team_id: member.team_id,
                commune_code: member.commune_code.clone(),
                province_code: member.province_code.clone(),
                village_id: input.village_id,
                category_code: input.category_code.clone(),
                channel: input.channel,
                citizens_helped: input.citizens_helped,
                citizen_sex: input.citizen_sex,
                citizen_age_band: input.citizen_age_band,
                outcome: input.outcome,
                note: trimmed(input.note.clone()),
                created_by: self.caller.user_id,
                device_id: device_id.map(str::to_string),
            },
        })
    }

    /// A person the caller may log for: itself, or (a leader) someone of its team.
    fn may_log_for_person(&self, stint: &Stint) -> bool {
        self.stints
            .iter()
            .any(|s| s.person_id == stint.person_id && self.may_log_for(s))
    }

    /// The membership that recorded `current`, when the caller may edit it (its own, or its
    /// team's as leader) and it is live.
    fn editable(&self, current: &AssistanceLog) -> AppResult<&Stint> {
        let Some(author) = self
            .stint(current.fields.member_id)
            .filter(|s| self.may_log_for(s))
        else {
            return Err(AppError::Forbidden {
                code: ErrorCode::OwnLogsOnly,
                detail: "you can edit only logs of your own (or, as leader, your team's members)"
                    .into(),
            });
        };
        if let Some(at) = current.archived_at {
            return Err(super::archived_error("log", at));
        }
        Ok(author)
    }

    /// Checks an edit of `current` (live, not archived) and turns it into column changes. A
    /// new date moves the log to the membership held then.
    pub fn changes(&self, current: &AssistanceLog, patch: &LogPatch) -> AppResult<LogChanges> {
        let author = self.editable(current)?;
        let mut errors = Vec::new();
        let mut member = author;
        if let Some(at) = patch.occurred_at {
            match self.stint_at(author.person_id, at.with_timezone(&Utc)) {
                Ok(m) => member = m,
                Err(e) => errors.push(e),
            }
        }
        // A log that keeps its village but changes commune must name a village there.
        let village = match patch.village_id {
            Some(v) => v,
            None if member.commune_code != current.fields.commune_code => current.fields.village_id,
            None => None,
        };
        self.check_common(
            &mut errors,
            patch.occurred_at.as_ref(),
            village,
            &member.commune_code,
            patch.citizens_helped,
            patch.note.as_ref().and_then(|n| n.as_deref()),
        );
        if let Some(code) = patch
            .category_code
            .as_deref()
            .filter(|c| *c != current.fields.category_code)
        {
            self.check_new_category(&mut errors, code);
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let moved = member.id != current.fields.member_id;
        Ok(LogChanges {
            occurred_at: patch.occurred_at.map(|t| t.with_timezone(&Utc)),
            member_id: moved.then_some(member.id),
            team_id: moved.then_some(member.team_id),
            commune_code: moved.then(|| member.commune_code.clone()),
            province_code: moved.then(|| member.province_code.clone()),
            village_id: patch.village_id,
            category_code: patch.category_code.clone(),
            channel: patch.channel,
            citizens_helped: patch.citizens_helped,
            citizen_sex: patch.citizen_sex,
            citizen_age_band: patch.citizen_age_band,
            outcome: patch.outcome,
            note: patch.note.clone().map(trimmed),
        })
    }

    /// May the caller archive or restore this log (its own, or its team's as leader)?
    pub fn may_archive(&self, current: &AssistanceLog) -> AppResult<()> {
        match self.stint(current.fields.member_id) {
            Some(s) if self.may_log_for(s) => Ok(()),
            _ => Err(AppError::Forbidden {
                code: ErrorCode::OwnLogsOnly,
                detail:
                    "you can archive only logs of your own (or, as leader, your team's members)"
                        .into(),
            }),
        }
    }
}

/// A log happens neither in the future (beyond the clock skew allowed) nor before 2024.
fn check_when(errors: &mut Vec<FieldError>, at: &DateTime<FixedOffset>) {
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

/// A note is short and names no one (no personal data).
fn check_note(errors: &mut Vec<FieldError>, note: &str) {
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

/// A note trimmed, empty as none.
fn trimmed(note: Option<String>) -> Option<String> {
    note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty())
}

/// The commune-months a log and its edit touch.
pub(crate) fn log_months(current: &AssistanceLog, changes: &LogChanges) -> Vec<MonthKey> {
    let mut keys = vec![month_key(
        &current.fields.commune_code,
        current.fields.occurred_at,
    )];
    keys.push(month_key(
        changes
            .commune_code
            .as_deref()
            .unwrap_or(&current.fields.commune_code),
        changes.occurred_at.unwrap_or(current.fields.occurred_at),
    ));
    keys
}

/// The result of creating a log whose id may already exist.
pub enum Created {
    New(AssistanceLog),
    Duplicate(AssistanceLog),
}

fn id_conflict() -> AppError {
    AppError::Conflict {
        code: ErrorCode::IdConflict,
        detail: "another record already uses this id".into(),
    }
}

/// Tells a duplicate (a resend of a log the caller may see) from an id that belongs to a
/// record the caller cannot see.
pub fn existing(conn: &mut PgConnection, scope: &LogScope, id: LogId) -> AppResult<AssistanceLog> {
    store::get(conn, scope, id)?.ok_or_else(id_conflict)
}

pub async fn create(state: &AppState, caller: &Caller, input: LogInput) -> AppResult<Created> {
    let caller = caller.clone();
    db::run(&state.pool, move |conn| {
        conn.transaction(|c| {
            let ctx = LogContext::load(c, &caller)?;
            let scope = log_scope(&caller);
            // The caller may see what it just wrote (a team role sees the logs it recorded).
            match write_new(c, &ctx, &input) {
                Ok(Some(log)) => Ok(Created::New(log)),
                Ok(None) => Ok(Created::Duplicate(existing(c, &scope, input.id)?)),
                // A resend is recognised whatever its body would now fail (a category retired
                // since, a month approved since): the stored log stands as it is. Asked only
                // on failure, so a new log costs no round trip for it; when the failure was
                // the database's own, the question fails too and the first error stands.
                Err(e) => match store::taken_ids(c, &[input.id]) {
                    Ok(taken) if !taken.is_empty() => {
                        Ok(Created::Duplicate(existing(c, &scope, input.id)?))
                    }
                    _ => Err(e),
                },
            }
        })
    })
    .await
}

/// Checks a new log, holds its month open and its membership, and inserts it: `None` when
/// its id is already taken (the insert's trigger skips it).
fn write_new(
    c: &mut PgConnection,
    ctx: &LogContext,
    input: &LogInput,
) -> AppResult<Option<AssistanceLog>> {
    let new = ctx.new_log(input, None)?;
    hold_open(
        c,
        &[month_key(&new.fields.commune_code, new.fields.occurred_at)],
    )?;
    super::hold_stint(
        c,
        new.fields.member_id,
        super::vn_day(new.fields.occurred_at),
    )?;
    Ok(store::insert_new(c, std::slice::from_ref(&new))?.pop())
}

/// Writes a log's edit to the audit trail, in the edit's transaction. (Creates are not
/// audited: the log itself keeps who recorded it, when and from which device.)
pub(crate) fn audit_update(
    conn: &mut PgConnection,
    caller: &Caller,
    before: &AssistanceLog,
    after: &AssistanceLog,
) -> AppResult<()> {
    crate::registry::audit(conn, caller, AuditAction::Update, Some(before), after)
}

crate::registry::audited_record!(AssistanceLog, "assistance_log" in fields);

/// A log moved to another day is held to the membership of that day ([`super::hold_stint`]).
pub(crate) fn hold_attribution(
    conn: &mut PgConnection,
    current: &AssistanceLog,
    changes: &LogChanges,
) -> AppResult<()> {
    match changes.occurred_at {
        Some(at) => super::hold_stint(
            conn,
            changes.member_id.unwrap_or(current.fields.member_id),
            super::vn_day(at),
        ),
        None => Ok(()),
    }
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

pub async fn get(state: &AppState, caller: &Caller, id: LogId) -> AppResult<AssistanceLog> {
    let scope = log_scope(caller);
    db::run(&state.pool, move |c| {
        store::get(c, &scope, id)?.ok_or_else(|| AppError::not_found("log"))
    })
    .await
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: LogId,
    patch: LogPatch,
    expected: Option<i32>,
) -> AppResult<AssistanceLog> {
    db::transact(&state.pool, caller, move |c, caller| {
        let scope = log_scope(caller);
        let current = store::lock(c, &scope, id)?.ok_or_else(|| AppError::not_found("log"))?;
        let ctx = LogContext::load(c, caller)?;
        crate::registry::check_version("log", current.version, expected)?;
        let changes = ctx.changes(&current, &patch)?;
        hold_open(c, &log_months(&current, &changes))?;
        hold_attribution(c, &current, &changes)?;
        let after = store::update(c, id, &changes)?;
        audit_update(c, caller, &current, &after)?;
        Ok(after)
    })
    .await
}

/// Archives (`archive = true`) or restores a log, like the register's records: within the
/// caller's scope (404), its own or its team's (403), at the expected version (412), in an
/// open month (409), with an audit record.
pub async fn set_archived(
    state: &AppState,
    caller: &Caller,
    id: LogId,
    archive: bool,
    expected: Option<i32>,
) -> AppResult<AssistanceLog> {
    db::transact(&state.pool, caller, move |c, caller| {
        let scope = log_scope(caller);
        let current = store::lock(c, &scope, id)?.ok_or_else(|| AppError::not_found("log"))?;
        if !archive && current.archived_at.is_some() {
            if crate::db::members::is_archived(c, current.fields.member_id)? == Some(true) {
                return Err(crate::registry::parent_archived(
                    "membership",
                    current.fields.member_id,
                ));
            }
            if let Some(v) = current.fields.village_id {
                crate::registry::hold_live_village(c, v)?;
            }
        }
        let ctx = LogContext::load(c, caller)?;
        ctx.may_archive(&current)?;
        crate::registry::check_version("log", current.version, expected)?;
        if archive == current.archived_at.is_some() {
            return Ok(current);
        }
        hold_open(
            c,
            &[month_key(
                &current.fields.commune_code,
                current.fields.occurred_at,
            )],
        )?;
        let after = store::set_archived(c, id, archive)?;
        let action = AuditAction::archiving(archive);
        crate::registry::audit(c, caller, action, Some(&current), &after)?;
        Ok(after)
    })
    .await
}
