//! Imports: bulk reads of what a file is matched against, bulk inserts, and the import records.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::members::{Member, NewMember};
use super::schema::{admin_units, import_rows, imports, members, teams, users, villages};
use super::teams::{NewTeam, Team};
use super::users::{NewUser, UserRow};
use super::villages::{NewVillage, Village};
use super::Page;
use crate::access::Scope;
use crate::ids::UserId;

/// Rows a statement inserts at once: PostgreSQL takes at most 65,535 parameters.
const CHUNK: usize = 4_000;

/// Live communes in `unit` (a commune or a province code; `None`: the country), with their
/// province.
pub fn communes(conn: &mut PgConnection, unit: Option<&str>) -> QueryResult<Vec<(String, String)>> {
    let mut q = admin_units::table
        .filter(admin_units::level.eq("commune"))
        .filter(admin_units::valid_to.is_null())
        .select((admin_units::code, admin_units::province_code))
        .into_boxed();
    if let Some(u) = unit {
        q = q.filter(
            admin_units::code
                .eq(u.to_string())
                .or(admin_units::province_code.eq(u.to_string())),
        );
    }
    q.load(conn)
}

macro_rules! in_unit {
    ($table:ident, $unit:expr) => {{
        let mut q = $table::table
            .filter($table::archived_at.is_null())
            .into_boxed::<Pg>();
        if let Some(u) = $unit {
            q = q.filter(
                $table::commune_code
                    .eq(u.to_string())
                    .or($table::province_code.eq(u.to_string())),
            );
        }
        q
    }};
}

/// Live villages in `unit`.
pub fn villages(conn: &mut PgConnection, unit: Option<&str>) -> QueryResult<Vec<Village>> {
    in_unit!(villages, unit)
        .select(Village::as_select())
        .load(conn)
}

/// Live teams in `unit`.
pub fn teams(conn: &mut PgConnection, unit: Option<&str>) -> QueryResult<Vec<Team>> {
    in_unit!(teams, unit).select(Team::as_select()).load(conn)
}

/// Active memberships (not left, not archived) in `unit`.
pub fn active_members(conn: &mut PgConnection, unit: Option<&str>) -> QueryResult<Vec<Member>> {
    in_unit!(members, unit)
        .filter(members::left_on.is_null())
        .select(Member::as_select())
        .load(conn)
}

/// Of `phones`, those some account already has.
pub fn phones_taken(conn: &mut PgConnection, phones: &[String]) -> QueryResult<Vec<String>> {
    let mut out = Vec::new();
    for chunk in phones.chunks(20_000) {
        out.extend(
            users::table
                .filter(users::phone.eq_any(chunk))
                .select(users::phone.assume_not_null())
                .load::<String>(conn)?,
        );
    }
    Ok(out)
}

/// Of `names`, the usernames already taken.
pub fn usernames_taken(conn: &mut PgConnection, names: &[String]) -> QueryResult<Vec<String>> {
    let mut out = Vec::new();
    for chunk in names.chunks(20_000) {
        out.extend(
            users::table
                .filter(users::username.eq_any(chunk))
                .select(users::username)
                .load::<String>(conn)?,
        );
    }
    Ok(out)
}

/// Inserts `$rows` into `$table` `CHUNK` rows a statement, answering the stored rows.
macro_rules! insert_chunked {
    ($conn:expr, $table:ident, $rows:expr, $row:ty) => {{
        let mut out = Vec::with_capacity($rows.len());
        for chunk in $rows.chunks(CHUNK) {
            out.extend(
                diesel::insert_into($table::table)
                    .values(chunk)
                    .returning(<$row>::as_returning())
                    .get_results($conn)?,
            );
        }
        Ok(out)
    }};
}

pub fn insert_villages(conn: &mut PgConnection, rows: &[NewVillage]) -> QueryResult<Vec<Village>> {
    insert_chunked!(conn, villages, rows, Village)
}

pub fn insert_teams(conn: &mut PgConnection, rows: &[NewTeam]) -> QueryResult<Vec<Team>> {
    insert_chunked!(conn, teams, rows, Team)
}

pub fn insert_members(conn: &mut PgConnection, rows: &[NewMember]) -> QueryResult<Vec<Member>> {
    insert_chunked!(conn, members, rows, Member)
}

/// Accounts whose owners choose their password by activation code.
pub fn insert_users(conn: &mut PgConnection, rows: &[NewUser]) -> QueryResult<Vec<UserRow>> {
    insert_chunked!(conn, users, rows, UserRow)
}

#[derive(Debug, Insertable)]
#[diesel(table_name = imports)]
pub struct NewImport {
    pub id: Uuid,
    pub actor_id: Option<UserId>,
    pub actor_username: String,
    pub unit_code: Option<String>,
    pub province_code: Option<String>,
    pub file_name: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub dry_run: bool,
    pub result: String,
    pub counts: Value,
}

#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = imports, check_for_backend(Pg))]
pub struct ImportRecord {
    pub id: Uuid,
    pub actor_id: Option<UserId>,
    pub actor_username: String,
    pub unit_code: Option<String>,
    pub province_code: Option<String>,
    pub file_name: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub dry_run: bool,
    pub result: String,
    pub counts: Value,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Insertable, Queryable, Selectable)]
#[diesel(table_name = import_rows, check_for_backend(Pg))]
pub struct ImportRow {
    pub import_id: Uuid,
    pub seq: i32,
    pub sheet: String,
    pub row_number: i32,
    pub entity: String,
    pub outcome: String,
    pub record_id: Option<i64>,
    pub label: String,
    pub errors: Value,
}

pub fn insert_record(conn: &mut PgConnection, new: &NewImport) -> QueryResult<()> {
    diesel::insert_into(imports::table)
        .values(new)
        .execute(conn)
        .map(|_| ())
}

pub fn insert_rows(conn: &mut PgConnection, rows: &[ImportRow]) -> QueryResult<()> {
    for chunk in rows.chunks(CHUNK) {
        diesel::insert_into(import_rows::table)
            .values(chunk)
            .execute(conn)?;
    }
    Ok(())
}

fn scoped(scope: &Scope) -> imports::BoxedQuery<'static, Pg> {
    let q = imports::table.into_boxed();
    match scope {
        Scope::Country => q,
        Scope::Province(p) => q.filter(imports::province_code.eq(p.clone())),
        Scope::Commune(c) => q.filter(imports::unit_code.eq(c.clone())),
        Scope::Team { .. } => q.filter(imports::size_bytes.lt(0)),
    }
}

/// Imports in the caller's scope, newest first.
pub fn list(
    conn: &mut PgConnection,
    scope: &Scope,
    page: Page,
) -> QueryResult<(Vec<ImportRecord>, i64)> {
    let order = (imports::created_at.desc(), imports::id);
    super::page_of!(conn, scoped(scope), ImportRecord, order, page)
}

pub fn get(conn: &mut PgConnection, scope: &Scope, id: Uuid) -> QueryResult<Option<ImportRecord>> {
    scoped(scope)
        .filter(imports::id.eq(id))
        .select(ImportRecord::as_select())
        .first(conn)
        .optional()
}

/// The per-row report, in file order.
pub fn rows(conn: &mut PgConnection, id: Uuid) -> QueryResult<Vec<ImportRow>> {
    import_rows::table
        .filter(import_rows::import_id.eq(id))
        .order(import_rows::seq)
        .select(ImportRow::as_select())
        .load(conn)
}

/// Live communes in `unit` with their names, by code.
pub fn communes_named(
    conn: &mut PgConnection,
    unit: Option<&str>,
) -> QueryResult<Vec<(String, String)>> {
    let mut q = admin_units::table
        .filter(admin_units::level.eq("commune"))
        .filter(admin_units::valid_to.is_null())
        .select((admin_units::code, admin_units::name))
        .order(admin_units::code)
        .into_boxed();
    if let Some(u) = unit {
        q = q.filter(
            admin_units::code
                .eq(u.to_string())
                .or(admin_units::province_code.eq(u.to_string())),
        );
    }
    q.load(conn)
}

/// Records an import's final counts.
pub fn set_counts(conn: &mut PgConnection, id: Uuid, counts: &Value) -> QueryResult<()> {
    diesel::update(imports::table.find(id))
        .set(imports::counts.eq(counts))
        .execute(conn)
        .map(|_| ())
}
