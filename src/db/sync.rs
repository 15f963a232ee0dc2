//! Change feeds for mobile sync: rows written since a cursor, by finished transactions only.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

use super::schema::{
    assistance_categories, assistance_logs, members, teams, training_attendance, trainings,
    villages,
};
use super::trainings::{self as training_rows, Attendance, Training};
use super::{
    categories::Category, logs::AssistanceLog, members::Member, teams::Team, villages::Village,
};
use super::{logs::LogScope, members as member_rows, teams as team_rows, villages as village_rows};
use crate::access::Scope;

/// A position in the change feed: the writing transaction and the sequence number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub xid: i64,
    pub seq: i64,
}

#[derive(QueryableByName)]
struct Horizon {
    #[diesel(sql_type = BigInt)]
    xid: i64,
}

/// Every transaction with a smaller id has finished: rows they wrote can be sent safely.
pub fn horizon(conn: &mut PgConnection) -> QueryResult<i64> {
    let h: Horizon =
        diesel::sql_query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xid")
            .get_result(conn)?;
    Ok(h.xid)
}

/// `(sync_xid, sync_seq) > from AND sync_xid < horizon`, on any table with those columns.
pub(crate) fn after<QS: 'static>(
    from: Position,
    horizon: i64,
) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>> {
    Box::new(
        diesel::dsl::sql::<Bool>("(sync_xid, sync_seq) > (")
            .bind::<BigInt, _>(from.xid)
            .sql(", ")
            .bind::<BigInt, _>(from.seq)
            .sql(") AND sync_xid < ")
            .bind::<BigInt, _>(horizon),
    )
}

pub struct Window {
    pub from: Position,
    pub horizon: i64,
    pub limit: i64,
}

pub(crate) type Changed<T> = Vec<(T, i64, i64)>;

pub fn villages(
    conn: &mut PgConnection,
    scope: &Scope,
    w: &Window,
) -> QueryResult<Changed<Village>> {
    village_rows::scoped(scope)
        .filter(after(w.from, w.horizon))
        .select((Village::as_select(), villages::sync_xid, villages::sync_seq))
        .order((villages::sync_xid.asc(), villages::sync_seq.asc()))
        .limit(w.limit)
        .load(conn)
}

pub fn teams(conn: &mut PgConnection, scope: &Scope, w: &Window) -> QueryResult<Changed<Team>> {
    team_rows::scoped(scope)
        .filter(after(w.from, w.horizon))
        .select((Team::as_select(), teams::sync_xid, teams::sync_seq))
        .order((teams::sync_xid.asc(), teams::sync_seq.asc()))
        .limit(w.limit)
        .load(conn)
}

pub fn members(conn: &mut PgConnection, scope: &Scope, w: &Window) -> QueryResult<Changed<Member>> {
    member_rows::scoped(scope)
        .filter(after(w.from, w.horizon))
        .select((Member::as_select(), members::sync_xid, members::sync_seq))
        .order((members::sync_xid.asc(), members::sync_seq.asc()))
        .limit(w.limit)
        .load(conn)
}

pub fn categories(conn: &mut PgConnection, w: &Window) -> QueryResult<Changed<Category>> {
    assistance_categories::table
        .into_boxed()
        .filter(after(w.from, w.horizon))
        .select((
            Category::as_select(),
            assistance_categories::sync_xid,
            assistance_categories::sync_seq,
        ))
        .order((
            assistance_categories::sync_xid.asc(),
            assistance_categories::sync_seq.asc(),
        ))
        .limit(w.limit)
        .load(conn)
}

pub fn logs(
    conn: &mut PgConnection,
    scope: &LogScope,
    w: &Window,
) -> QueryResult<Changed<AssistanceLog>> {
    super::logs::scoped(scope)
        .filter(after(w.from, w.horizon))
        .select((
            AssistanceLog::as_select(),
            assistance_logs::sync_xid,
            assistance_logs::sync_seq,
        ))
        .order((
            assistance_logs::sync_xid.asc(),
            assistance_logs::sync_seq.asc(),
        ))
        .limit(w.limit)
        .load(conn)
}

pub fn trainings(
    conn: &mut PgConnection,
    scope: &Scope,
    w: &Window,
) -> QueryResult<Changed<Training>> {
    training_rows::scoped(scope)
        .filter(after(w.from, w.horizon))
        .select((
            Training::as_select(),
            trainings::sync_xid,
            trainings::sync_seq,
        ))
        .order((trainings::sync_xid.asc(), trainings::sync_seq.asc()))
        .limit(w.limit)
        .load(conn)
}

pub fn attendance(
    conn: &mut PgConnection,
    scope: &Scope,
    w: &Window,
) -> QueryResult<Changed<Attendance>> {
    training_rows::attendance_scoped(scope)
        .filter(after(w.from, w.horizon))
        .select((
            Attendance::as_select(),
            training_attendance::sync_xid,
            training_attendance::sync_seq,
        ))
        .order((
            training_attendance::sync_xid.asc(),
            training_attendance::sync_seq.asc(),
        ))
        .limit(w.limit)
        .load(conn)
}
