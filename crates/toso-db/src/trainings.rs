//! Training sessions and the attendance of team members.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use uuid::Uuid;

use super::schema::{training_attendance as att, trainings};
use crate::access::Scope;
use crate::ids::MemberId;
use crate::ids::TeamId;
use crate::ids::TrainingId;
use crate::ids::UserId;
use crate::ids::VillageId;
use crate::vocab::{AttendanceStatus, Platform, TrainingKind, TrainingMode};

versioned_row! {
    #[derive(PartialEq)]
    Training in trainings {
        id: TrainingId,
        before {
            commune_code: String,
            province_code: String,
            created_by: UserId,
        },
        /// What the client wrote (created with, and replaced by each change).
        fields: TrainingFields,
    }
}

/// A training's columns that the client writes: inserted, changed as a whole, and read back as
/// `Training::fields`.
#[derive(Clone, Debug, PartialEq, Insertable, AsChangeset, Queryable, Selectable)]
#[diesel(table_name = trainings, treat_none_as_null = true, check_for_backend(Pg))]
pub struct TrainingFields {
    pub title: String,
    pub topics: Vec<String>,
    pub kind: TrainingKind,
    pub mode: TrainingMode,
    pub platform: Option<Platform>,
    pub organiser: Option<String>,
    pub trainer: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub village_id: Option<VillageId>,
    pub team_id: Option<TeamId>,
    pub participants: Option<i32>,
    pub participants_male: Option<i32>,
    pub participants_female: Option<i32>,
    pub age_under_18: Option<i32>,
    pub age_18_35: Option<i32>,
    pub age_36_59: Option<i32>,
    pub age_60_plus: Option<i32>,
}

#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = trainings)]
pub struct NewTraining {
    pub id: TrainingId,
    pub commune_code: String,
    pub province_code: String,
    pub created_by: UserId,
    #[diesel(embed)]
    pub fields: TrainingFields,
}

#[derive(Debug, Default)]
pub struct TrainingFilter {
    pub unit_code: Option<String>,
    pub team_id: Option<TeamId>,
    pub kind: Option<TrainingKind>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub include_archived: bool,
}

pub(crate) fn scoped(scope: &Scope) -> trainings::BoxedQuery<'static, Pg> {
    commune_scoped!(trainings, scope)
}

fn filtered(scope: &Scope, f: &TrainingFilter) -> trainings::BoxedQuery<'static, Pg> {
    let mut q = scoped(scope);
    unit_window!(q, trainings, starts_at, f);
    equal_filters!(q, trainings, f, team_id, kind);
    q
}

versioned_rows! {
    table = trainings, row = Training, id = TrainingId, scope = Scope,
    filter = TrainingFilter, changes = TrainingFields,
    order = (trainings::starts_at.desc(), trainings::id.asc()),
}

pub fn get_any(conn: &mut PgConnection, id: TrainingId) -> QueryResult<Option<Training>> {
    trainings::table
        .find(id)
        .select(Training::as_select())
        .first(conn)
        .optional()
}

/// Inserts unless the id exists; `false` when it did (a resend).
pub fn insert_new(conn: &mut PgConnection, new: &NewTraining) -> QueryResult<bool> {
    diesel::insert_into(trainings::table)
        .values(new)
        .on_conflict(trainings::id)
        .do_nothing()
        .execute(conn)
        .map(|n| n == 1)
}

#[derive(Clone, Debug, PartialEq, Queryable, Selectable)]
#[diesel(table_name = att, check_for_backend(Pg))]
pub struct Attendance {
    /// What was recorded (a resend changes `status` and `certificate_ref` in place).
    #[diesel(embed)]
    pub fields: NewAttendance,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An attendance's own columns: what is inserted, and read back as `Attendance::fields`.
#[derive(Clone, Debug, PartialEq, Insertable, Queryable, Selectable)]
#[diesel(table_name = att, check_for_backend(Pg))]
pub struct NewAttendance {
    pub id: Uuid,
    pub training_id: TrainingId,
    pub member_id: MemberId,
    pub team_id: TeamId,
    pub commune_code: String,
    pub province_code: String,
    pub status: AttendanceStatus,
    pub certificate_ref: Option<String>,
}

pub fn attendance_of(
    conn: &mut PgConnection,
    training_id: TrainingId,
) -> QueryResult<Vec<Attendance>> {
    att::table
        .filter(att::training_id.eq(training_id))
        .select(Attendance::as_select())
        .order((att::member_id.asc(), att::id.asc()))
        .load(conn)
}

pub fn attendance_for(
    conn: &mut PgConnection,
    training_id: TrainingId,
    member_id: MemberId,
) -> QueryResult<Option<Attendance>> {
    att::table
        .filter(att::training_id.eq(training_id))
        .filter(att::member_id.eq(member_id))
        .select(Attendance::as_select())
        .for_update()
        .first(conn)
        .optional()
}

/// Records a member's attendance; the (training, member) pair is unique, so a resend or a
/// second phone updates the one row. Returns the row and whether it was new.
pub fn upsert_attendance(
    conn: &mut PgConnection,
    new: &NewAttendance,
) -> QueryResult<(Attendance, bool)> {
    let inserted = diesel::insert_into(att::table)
        .values(new)
        .on_conflict((att::training_id, att::member_id))
        .do_nothing()
        .returning(Attendance::as_returning())
        .get_result(conn)
        .optional()?;
    if let Some(row) = inserted {
        return Ok((row, true));
    }
    let row = diesel::update(
        att::table
            .filter(att::training_id.eq(new.training_id))
            .filter(att::member_id.eq(new.member_id)),
    )
    .set(one_version_up!(
        att,
        att::status.eq(&new.status),
        att::certificate_ref.eq(&new.certificate_ref)
    ))
    .returning(Attendance::as_returning())
    .get_result(conn)?;
    Ok((row, false))
}

pub(crate) fn attendance_scoped(scope: &Scope) -> att::BoxedQuery<'static, Pg> {
    commune_scoped!(att, scope)
}
