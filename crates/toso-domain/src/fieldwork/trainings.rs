//! Training sessions and attendance: who may record them and what makes them valid.

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::access::{Caller, Role, Scope};
use crate::db::trainings::{
    self as store, Attendance, NewAttendance, NewTraining, Training, TrainingFields, TrainingFilter,
};
use crate::db::{self, Page};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::ids::MemberId;
use crate::ids::PersonId;
use crate::ids::TeamId;
use crate::ids::TrainingId;
use crate::ids::VillageId;
use crate::registry::audit as audit_change;
use crate::state::AppState;
use crate::vocab::AuditAction;

pub use crate::vocab::{AttendanceStatus, Platform, TrainingKind, TrainingMode};

// A training as recorded or replaced; also the request body (its schema keeps the name it had
// as an HTTP type).
#[derive(Clone, Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TrainingRequest)]
pub struct TrainingInput {
    /// Optional on update; on create, a phone may send its own UUID so resends are safe.
    #[schema(value_type = Option<Uuid>)]
    pub id: Option<TrainingId>,
    /// The commune (defaults to the caller's own); ignored on update.
    #[validate(length(min = 5, max = 5))]
    #[schema(min_length = 5, max_length = 5)]
    pub commune_code: Option<String>,
    #[validate(length(min = 1, max = 300))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    #[serde(default)]
    #[validate(custom(function = "crate::input::screened_all"))]
    pub topics: Vec<String>,
    pub kind: TrainingKind,
    pub mode: TrainingMode,
    pub platform: Option<Platform>,
    #[validate(length(max = 200))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(max_length = 200)]
    pub organiser: Option<String>,
    #[validate(length(max = 200))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(max_length = 200)]
    pub trainer: Option<String>,
    #[validate(custom(function = "crate::input::plausible_time"))]
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: DateTime<FixedOffset>,
    #[validate(custom(function = "crate::input::plausible_time"))]
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: DateTime<FixedOffset>,
    #[schema(value_type = Option<i64>)]
    pub village_id: Option<VillageId>,
    /// The team that ran it (a team leader's own team by default).
    #[schema(value_type = Option<i64>)]
    pub team_id: Option<TeamId>,
    /// Citizen classes only.
    pub participants: Option<i32>,
    pub participants_male: Option<i32>,
    pub participants_female: Option<i32>,
    pub age_under_18: Option<i32>,
    pub age_18_35: Option<i32>,
    pub age_36_59: Option<i32>,
    pub age_60_plus: Option<i32>,
}

// A member's attendance; also a record of the request body and a sync push's
// `upsert_attendance` data (its schema keeps the name it had as an HTTP type).
#[derive(Clone, Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AttendanceRecord)]
pub struct AttendanceInput {
    /// Optional client id of the record.
    pub id: Option<Uuid>,
    #[schema(value_type = i64)]
    pub member_id: MemberId,
    pub status: AttendanceStatus,
    #[validate(length(max = 100))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(max_length = 100)]
    pub certificate_ref: Option<String>,
}

fn not_found() -> AppError {
    AppError::not_found("training")
}

/// Holds the commune-months of a training's dates (see `db::months`); 409 `month_locked`
/// when one is approved.
fn ensure_open(conn: &mut PgConnection, commune: &str, dates: &[DateTime<Utc>]) -> AppResult<()> {
    let keys: Vec<_> = dates
        .iter()
        .map(|d| super::month_key(commune, *d))
        .collect();
    super::hold_open(conn, &keys)
}

/// Attendance counts in its training's month: holds it, refused when it is locked.
pub fn hold_attendance(conn: &mut PgConnection, training: &Training) -> AppResult<()> {
    ensure_open(conn, &training.commune_code, &[training.fields.starts_at])
}

/// The same member twice in one request (or one sync batch).
pub fn duplicate_attendance(field: impl Into<String>, member_id: MemberId) -> AppError {
    AppError::Validation(vec![FieldError::new(
        field,
        "duplicate",
        format!("member {member_id} appears more than once; send one record per member"),
    )])
}

/// Officers in scope, and a team leader for its own commune and team.
fn require_organiser(caller: &Caller) -> AppResult<()> {
    if caller.role.is_officer() || caller.role == Role::TeamLeader {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only officers and team leaders record trainings",
        ))
    }
}

/// Checks a training's input and turns it into the stored fields: the text and time rules,
/// the team and village (share-locked, so they cannot be archived under it) and the
/// participant counts. Every broken rule is reported at once.
fn fields(
    conn: &mut PgConnection,
    caller: &Caller,
    commune: &str,
    input: TrainingInput,
) -> AppResult<TrainingFields> {
    let mut errors = text_and_time_errors(&input);
    let team_id = recording_team(caller, input.team_id, &mut errors);
    hold_places(conn, commune, team_id, input.village_id, &mut errors)?;
    errors.extend(count_errors(&input));
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    Ok(stored_fields(input, team_id))
}

fn text_and_time_errors(input: &TrainingInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if input.title.trim().is_empty() {
        errors.push(FieldError::new(
            "title",
            "required",
            "title must not be empty",
        ));
    }
    if input.topics.len() > 20
        || input
            .topics
            .iter()
            .any(|t| t.trim().is_empty() || t.chars().count() > 100)
    {
        errors.push(FieldError::new(
            "topics",
            "invalid_value",
            "up to 20 topics of 1 to 100 characters",
        ));
    }
    if input.ends_at < input.starts_at {
        errors.push(FieldError::new(
            "ends_at",
            "before_start",
            "ends_at is before starts_at",
        ));
    }
    errors
}

/// The team a training is recorded for: a team leader's own (by default), anyone else's choice.
fn recording_team(
    caller: &Caller,
    asked: Option<TeamId>,
    errors: &mut Vec<FieldError>,
) -> Option<TeamId> {
    match (caller.role, asked) {
        (Role::TeamLeader, None) => caller.team_id,
        (Role::TeamLeader, Some(t)) if Some(t) != caller.team_id => {
            errors.push(FieldError::new(
                "team_id",
                "not_own_team",
                "a team leader records trainings of its own team",
            ));
            None
        }
        (_, t) => t,
    }
}

/// Share-locks the team and village of the commune; an archived one is 409 `parent_archived`,
/// as for the register, and a missing one a field error.
fn hold_places(
    conn: &mut PgConnection,
    commune: &str,
    team_id: Option<TeamId>,
    village_id: Option<VillageId>,
    errors: &mut Vec<FieldError>,
) -> AppResult<()> {
    if let Some(t) = team_id {
        let team =
            crate::db::teams::lock_shared(conn, t)?.filter(|t| t.fields.commune_code == commune);
        if team.as_ref().is_some_and(|t| t.archived_at.is_some()) {
            return Err(crate::registry::parent_archived("team", t));
        }
        if team.is_none() {
            errors.push(FieldError::new(
                "team_id",
                "unknown_team",
                "no live team of this commune has this id",
            ));
        }
    }
    if let Some(v) = village_id {
        let village =
            crate::db::villages::lock_shared(conn, v)?.filter(|v| v.fields.commune_code == commune);
        if village.as_ref().is_some_and(|v| v.archived_at.is_some()) {
            return Err(crate::registry::parent_archived("village", v));
        }
        if village.is_none() {
            errors.push(FieldError::new(
                "village_id",
                "wrong_village",
                "the village must be a live village of the commune",
            ));
        }
    }
    Ok(())
}

/// A member training counts attendance, not participants; a citizen class counts
/// participants (0 to 100,000), whose sex and age breakdowns may not exceed the total.
fn count_errors(input: &TrainingInput) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let counts = [
        ("participants_male", input.participants_male),
        ("participants_female", input.participants_female),
        ("age_under_18", input.age_under_18),
        ("age_18_35", input.age_18_35),
        ("age_36_59", input.age_36_59),
        ("age_60_plus", input.age_60_plus),
    ];
    match input.kind {
        TrainingKind::MemberTraining => {
            for (name, value) in counts
                .iter()
                .chain([("participants", input.participants)].iter())
            {
                if value.is_some() {
                    errors.push(FieldError::new(
                        *name,
                        "not_allowed",
                        "member trainings count attendance, not participants",
                    ));
                }
            }
        }
        TrainingKind::CitizenClass => {
            let total = input.participants.unwrap_or(-1);
            if !(0..=100_000).contains(&total) {
                errors.push(FieldError::new(
                    "participants",
                    "required",
                    "a citizen class needs participants (0 to 100000)",
                ));
            }
            for (name, value) in counts {
                if value.is_some_and(|v| !(0..=100_000).contains(&v)) {
                    errors.push(FieldError::new(
                        name,
                        "range",
                        format!("{name} must be 0 to 100000"),
                    ));
                }
            }
            errors.extend(breakdown_errors(input, total));
        }
    }
    errors
}

fn breakdown_errors(input: &TrainingInput, total: i32) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let by_sex = input.participants_male.unwrap_or(0) + input.participants_female.unwrap_or(0);
    let by_age = [
        input.age_under_18,
        input.age_18_35,
        input.age_36_59,
        input.age_60_plus,
    ]
    .iter()
    .map(|v| v.unwrap_or(0))
    .sum::<i32>();
    if total >= 0 && by_sex > total {
        errors.push(FieldError::new(
            "participants_male",
            "exceeds_total",
            "men and women add up to more than participants",
        ));
    }
    if total >= 0 && by_age > total {
        errors.push(FieldError::new(
            "age_under_18",
            "exceeds_total",
            "the age bands add up to more than participants",
        ));
    }
    errors
}

fn stored_fields(input: TrainingInput, team_id: Option<TeamId>) -> TrainingFields {
    let trimmed = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    TrainingFields {
        title: input.title.trim().to_string(),
        topics: input.topics.iter().map(|t| t.trim().to_string()).collect(),
        kind: input.kind,
        mode: input.mode,
        platform: input.platform,
        organiser: trimmed(input.organiser),
        trainer: trimmed(input.trainer),
        starts_at: input.starts_at.with_timezone(&Utc),
        ends_at: input.ends_at.with_timezone(&Utc),
        village_id: input.village_id,
        team_id,
        participants: input.participants,
        participants_male: input.participants_male,
        participants_female: input.participants_female,
        age_under_18: input.age_under_18,
        age_18_35: input.age_18_35,
        age_36_59: input.age_36_59,
        age_60_plus: input.age_60_plus,
    }
}

/// `Ok(true)` when created, `Ok(false)` when this id was already recorded (a resend).
pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: TrainingInput,
) -> AppResult<(Training, bool)> {
    let id = input.id.unwrap_or_else(|| TrainingId(Uuid::new_v4()));
    require_organiser(caller)?;
    let commune = crate::registry::default_commune(caller, input.commune_code.clone())?;
    db::transact(&state.pool, caller, move |c, caller| {
        let scope = caller.scope();
        if store::get_any(c, id)?.is_some() {
            let stored = store::get(c, &scope, id)?.ok_or_else(|| AppError::Conflict {
                code: ErrorCode::IdConflict,
                detail: "another record already uses this id".into(),
            })?;
            return Ok((stored, false));
        }
        let unit = match caller.role {
            Role::TeamLeader if caller.unit_code.as_deref() != Some(commune.as_str()) => {
                return Err(AppError::Forbidden {
                    code: ErrorCode::OutsideScope,
                    detail: "a team leader records trainings in its own commune".into(),
                })
            }
            Role::TeamLeader => {
                crate::registry::commune_in_scope(c, &Scope::Commune(commune.clone()), &commune)?
            }
            _ => crate::registry::commune_in_scope(c, &scope, &commune)?,
        };
        let fields = fields(c, caller, &unit.fields.code, input)?;
        ensure_open(c, &unit.fields.code, &[fields.starts_at])?;
        let new = NewTraining {
            id,
            commune_code: unit.fields.code,
            province_code: unit.fields.province_code,
            created_by: caller.user_id,
            fields,
        };
        let created = store::insert_new(c, &new)?;
        let stored = store::get_any(c, id)?.ok_or_else(not_found)?;
        if created {
            audit_change(c, caller, AuditAction::Create, None, &stored)?;
        }
        Ok((stored, created))
    })
    .await
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    filter: TrainingFilter,
    page: Page,
) -> AppResult<(Vec<Training>, i64)> {
    db::read_in_scope(&state.reads, caller, move |c, scope| {
        Ok(store::list(c, scope, &filter, page)?)
    })
    .await
}

pub async fn get(state: &AppState, caller: &Caller, id: TrainingId) -> AppResult<Training> {
    let scope = caller.scope();
    db::run(&state.pool, move |c| {
        store::get(c, &scope, id)?.ok_or_else(not_found)
    })
    .await
}

/// A leader may change only what its own team ran.
fn require_manager(caller: &Caller, training: &Training) -> AppResult<()> {
    require_organiser(caller)?;
    if caller.role == Role::TeamLeader && training.fields.team_id != caller.team_id {
        return Err(AppError::forbidden(
            "a team leader changes only its own team's trainings",
        ));
    }
    Ok(())
}

/// A training in scope, locked at the expected version, that the caller manages.
fn lock_managed(
    c: &mut PgConnection,
    caller: &Caller,
    id: TrainingId,
    expected: Option<i32>,
) -> AppResult<Training> {
    let current = store::lock(c, &caller.scope(), id)?.ok_or_else(not_found)?;
    require_manager(caller, &current)?;
    crate::registry::check_version("training", current.version, expected)?;
    Ok(current)
}

pub async fn replace(
    state: &AppState,
    caller: &Caller,
    id: TrainingId,
    input: TrainingInput,
    expected: Option<i32>,
) -> AppResult<Training> {
    db::transact(&state.pool, caller, move |c, caller| {
        let current = lock_managed(c, caller, id, expected)?;
        if let Some(at) = current.archived_at {
            return Err(super::archived_error("training", at));
        }
        let fields = fields(c, caller, &current.commune_code, input)?;
        ensure_open(
            c,
            &current.commune_code,
            &[current.fields.starts_at, fields.starts_at],
        )?;
        let day = super::vn_day(fields.starts_at);
        if day != super::vn_day(current.fields.starts_at) {
            attendees_held_on(c, id, day)?;
        }
        if fields.kind != TrainingKind::MemberTraining && !store::attendance_of(c, id)?.is_empty() {
            return Err(AppError::field(
                "kind",
                "has_attendance",
                "a training with attendance stays a member training",
            ));
        }
        let after = store::update(c, id, &fields)?;
        audit_change(c, caller, AuditAction::Update, Some(&current), &after)?;
        Ok(after)
    })
    .await
}

crate::registry::audited_record!(Training, "training");

pub async fn set_archived(
    state: &AppState,
    caller: &Caller,
    id: TrainingId,
    archive: bool,
    expected: Option<i32>,
) -> AppResult<Training> {
    db::transact(&state.pool, caller, move |c, caller| {
        let current = lock_managed(c, caller, id, expected)?;
        if archive == current.archived_at.is_some() {
            return Ok(current);
        }
        if !archive {
            // The same share locks as a new child of the register takes.
            if let Some(t) = current.fields.team_id {
                crate::registry::hold_live_team(c, t)?;
            }
            if let Some(v) = current.fields.village_id {
                crate::registry::hold_live_village(c, v)?;
            }
        }
        ensure_open(c, &current.commune_code, &[current.fields.starts_at])?;
        let after = store::set_archived(c, id, archive)?;
        let action = AuditAction::archiving(archive);
        audit_change(c, caller, action, Some(&current), &after)?;
        Ok(after)
    })
    .await
}

pub async fn attendance(
    state: &AppState,
    caller: &Caller,
    id: TrainingId,
) -> AppResult<Vec<Attendance>> {
    let scope = caller.scope();
    db::run(&state.pool, move |c| {
        store::get(c, &scope, id)?.ok_or_else(not_found)?;
        Ok(store::attendance_of(c, id)?)
    })
    .await
}

/// Attendance is kept for live member trainings.
fn check_attendable(training: &Training) -> AppResult<()> {
    if training.fields.kind != TrainingKind::MemberTraining {
        return Err(AppError::Conflict {
            code: ErrorCode::NotMemberTraining,
            detail: "attendance is kept for member trainings only".into(),
        });
    }
    if training.archived_at.is_some() {
        return Err(AppError::Conflict {
            code: ErrorCode::TrainingArchived,
            detail: "the training is archived".into(),
        });
    }
    Ok(())
}

/// Attendance belongs to the membership its member held on the training's day: a new day on
/// which a (live) attendee held another membership, or none, is a 422 on `starts_at`.
fn attendees_held_on(
    conn: &mut PgConnection,
    training: TrainingId,
    day: chrono::NaiveDate,
) -> AppResult<()> {
    let ids: Vec<MemberId> = store::attendance_of(conn, training)?
        .iter()
        .map(|a| a.fields.member_id)
        .collect();
    let attendees = crate::db::members::persons_of(conn, &ids)?;
    let persons: Vec<PersonId> = attendees.iter().map(|(_, p)| *p).collect();
    // Share-locked first, so the memberships read below stay as checked until commit.
    let uses: Vec<(MemberId, chrono::NaiveDate)> =
        attendees.iter().map(|(m, _)| (*m, day)).collect();
    super::hold_stints(conn, &uses)?;
    let stints = super::stints_of(conn, &persons)?;
    for (member_id, person) in attendees {
        let held = super::stint_on(&stints, person, day, "starts_at").map(|s| s.id);
        if held.ok() != Some(member_id) {
            return Err(AppError::field(
                "starts_at",
                "attendee_not_member",
                format!("attendee {member_id} did not hold that membership on {day}"),
            ));
        }
    }
    Ok(())
}

fn not_own_team() -> AppError {
    AppError::forbidden("a team leader records attendance of its own team's members")
}

/// The membership the person of `member_id` held on the training's day, in the training's
/// commune; a team leader names only its own team's members.
fn attendee_on(
    conn: &mut PgConnection,
    caller: &Caller,
    training: &Training,
    member_id: MemberId,
) -> AppResult<crate::db::members::Stint> {
    let named: Option<PersonId> = crate::db::members::persons_of(conn, &[member_id])?
        .first()
        .map(|(_, person)| *person);
    let unknown = || {
        AppError::field(
            "member_id",
            "unknown_member",
            "no member of the training's commune has this id",
        )
    };
    let person = named.ok_or_else(unknown)?;
    let stints = super::stints_of(conn, &[person])?;
    if !stints
        .iter()
        .any(|s| s.commune_code == training.commune_code)
    {
        return Err(unknown());
    }
    if !stints.iter().any(|s| leads(caller, s.team_id)) {
        return Err(not_own_team());
    }
    let day = super::vn_day(training.fields.starts_at);
    let member = super::stint_on(&stints, person, day, "member_id")
        .map_err(|e| AppError::Validation(vec![e]))?
        .clone();
    if member.commune_code != training.commune_code {
        return Err(AppError::field(
            "member_id",
            "other_commune",
            format!(
                "on {day} this member belonged to a team of commune {}",
                member.commune_code
            ),
        ));
    }
    Ok(member)
}

/// A team leader acts for its own team only; officers for any.
fn leads(caller: &Caller, team_id: TeamId) -> bool {
    caller.role != Role::TeamLeader || Some(team_id) == caller.team_id
}

/// Checks and records one member's attendance inside the caller's transaction.
/// Returns the row and whether it was new; `base_version` guards an edit from a phone.
pub fn record_attendance(
    conn: &mut PgConnection,
    caller: &Caller,
    training: &Training,
    input: &AttendanceInput,
    base_version: Option<i32>,
) -> AppResult<Result<(Attendance, bool), Attendance>> {
    check_attendable(training)?;
    require_organiser(caller)?;
    let member = attendee_on(conn, caller, training, input.member_id)?;
    super::hold_stint(conn, member.id, super::vn_day(training.fields.starts_at))?;
    if !leads(caller, member.team_id) {
        return Err(not_own_team());
    }
    if input
        .certificate_ref
        .as_ref()
        .is_some_and(|c| c.chars().count() > 100)
    {
        return Err(AppError::field(
            "certificate_ref",
            "too_long",
            "certificate_ref must have at most 100 characters",
        ));
    }
    if let (Some(base), Some(current)) = (
        base_version,
        store::attendance_for(conn, training.id, member.id)?,
    ) {
        if current.version != base {
            return Ok(Err(current));
        }
    }
    let new = NewAttendance {
        id: input.id.unwrap_or_else(Uuid::new_v4),
        training_id: training.id,
        member_id: member.id,
        team_id: member.team_id,
        commune_code: member.commune_code,
        province_code: member.province_code,
        status: input.status,
        certificate_ref: input.certificate_ref.clone(),
    };
    Ok(Ok(store::upsert_attendance(conn, &new)?))
}

/// Records several members' attendance at once (all or nothing); returns the whole list.
pub async fn put_attendance(
    state: &AppState,
    caller: &Caller,
    id: TrainingId,
    records: Vec<AttendanceInput>,
) -> AppResult<Vec<Attendance>> {
    db::transact(&state.pool, caller, move |c, caller| {
        let training = store::lock(c, &caller.scope(), id)?.ok_or_else(not_found)?;
        require_organiser(caller)?;
        let mut named = HashSet::new();
        if let Some((i, r)) = records
            .iter()
            .enumerate()
            .find(|(_, r)| !named.insert(r.member_id))
        {
            return Err(duplicate_attendance(
                format!("records[{i}].member_id"),
                r.member_id,
            ));
        }
        check_attendable(&training)?;
        hold_attendance(c, &training)?;
        let mut recorded = HashSet::new();
        for (i, record) in records.iter().enumerate() {
            // Without a base version there is no conflict to report.
            let done = record_attendance(c, caller, &training, record, None)
                .map_err(|e| field_of(e, i))?;
            // Two ids of one person (before and after a move) are the same member.
            if let Ok((row, _)) = done {
                if !recorded.insert(row.fields.member_id) {
                    return Err(field_of(
                        duplicate_attendance("member_id", record.member_id),
                        i,
                    ));
                }
            }
        }
        Ok(store::attendance_of(c, id)?)
    })
    .await
}

/// Names a field error of the `i`-th record by its path (`records[2].member_id`).
fn field_of(e: AppError, i: usize) -> AppError {
    match e {
        AppError::Validation(fields) => AppError::Validation(
            fields
                .into_iter()
                .map(|f| FieldError::new(format!("records[{i}].{}", f.field), f.code, f.message))
                .collect(),
        ),
        other => other,
    }
}
