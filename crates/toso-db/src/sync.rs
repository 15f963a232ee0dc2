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

/// One change feed: the rows of `$query` (a boxed query of `$table`, already scoped to the
/// caller) written after the window's start by finished transactions, in feed order, as
/// `(row, sync_xid, sync_seq)`. A macro because the columns differ in type from table to table.
macro_rules! feed {
    ($conn:expr, $query:expr, $table:ident, $row:ty, $w:expr) => {
        $query
            .filter($crate::sync::after($w.from, $w.horizon))
            .select((<$row>::as_select(), $table::sync_xid, $table::sync_seq))
            .order(($table::sync_xid.asc(), $table::sync_seq.asc()))
            .limit($w.limit)
            .load($conn)
    };
}

pub(crate) use feed;

/// Declares change feeds of scoped rows: `name(Scope) -> Row: scoped => table;` writes
/// `pub fn name(conn, scope: &Scope, w: &Window) -> QueryResult<Changed<Row>>`, the `feed!` of
/// `scoped(scope)` (a boxed query of `table`).
macro_rules! scoped_feeds {
    ($($(#[$meta:meta])* $name:ident($scope:ty) -> $row:ty: $scoped:path => $table:ident;)+) => {$(
        $(#[$meta])*
        pub fn $name(
            conn: &mut PgConnection,
            scope: &$scope,
            w: &$crate::sync::Window,
        ) -> QueryResult<$crate::sync::Changed<$row>> {
            $crate::sync::feed!(conn, $scoped(scope), $table, $row, w)
        }
    )+};
}
pub(crate) use scoped_feeds;

scoped_feeds! {
    villages(Scope) -> Village: village_rows::scoped => villages;
    teams(Scope) -> Team: team_rows::scoped => teams;
    members(Scope) -> Member: member_rows::scoped => members;
    logs(LogScope) -> AssistanceLog: super::logs::scoped => assistance_logs;
    trainings(Scope) -> Training: training_rows::scoped => trainings;
    attendance(Scope) -> Attendance: training_rows::attendance_scoped => training_attendance;
}

pub fn categories(conn: &mut PgConnection, w: &Window) -> QueryResult<Changed<Category>> {
    feed!(
        conn,
        assistance_categories::table.into_boxed(),
        assistance_categories,
        Category,
        w
    )
}
