//! User accounts. Every read that serves a request takes the caller's scope.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;

use super::schema::users;
use super::Page;
use crate::access::Scope;
use crate::ids::{TeamId, UserId};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(Pg))]
pub struct UserRow {
    pub id: UserId,
    /// What the account was created with (changes update these columns in place).
    #[diesel(embed)]
    pub fields: NewUser,
    pub disabled: bool,
    pub password_changed_at: DateTime<Utc>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set when someone else chose the password: the owner must change it first.
    pub must_change_password: bool,
}

/// An account's own columns: what is inserted, and read back as `UserRow::fields`.
#[derive(Clone, Debug, Insertable, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(Pg))]
pub struct NewUser {
    pub username: String,
    pub full_name: Option<String>,
    pub phone: Option<String>,
    pub password_hash: String,
    pub role: String,
    pub unit_code: Option<String>,
    pub province_code: Option<String>,
    pub team_id: Option<TeamId>,
}

/// Changes to apply to a user; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub full_name: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub role: Option<String>,
    pub unit_code: Option<Option<String>>,
    pub province_code: Option<Option<String>>,
    pub team_id: Option<Option<TeamId>>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
    pub password_changed_at: Option<DateTime<Utc>>,
    pub must_change_password: Option<bool>,
}

#[derive(Debug, Default)]
pub struct UserFilter {
    pub role: Option<String>,
    pub unit_code: Option<String>,
    pub disabled: Option<bool>,
    /// Matched against the start of the username and inside the full name.
    pub q: Option<String>,
}

fn scoped(scope: &Scope) -> users::BoxedQuery<'static, Pg> {
    team_scoped!(users, scope, commune = unit_code, team = team_id)
}

fn filtered(scope: &Scope, f: &UserFilter) -> users::BoxedQuery<'static, Pg> {
    let mut q = scoped(scope);
    equal_filters!(q, users, f, role);
    if let Some(unit) = &f.unit_code {
        q = q.filter(
            users::unit_code
                .eq(unit.clone())
                .or(users::province_code.eq(unit.clone())),
        );
    }
    equal_filters!(q, users, f, disabled);
    if let Some(text) = &f.q {
        let pattern = crate::text::like_contains(&text.to_lowercase());
        q = q.filter(
            users::username
                .like(pattern.clone())
                .or(diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "lower(coalesce(full_name, '')) LIKE ",
                )
                .bind::<diesel::sql_types::Text, _>(pattern)),
        );
    }
    q
}

pub fn list(
    conn: &mut PgConnection,
    scope: &Scope,
    filter: &UserFilter,
    page: Page,
) -> QueryResult<(Vec<UserRow>, i64)> {
    let order = (users::username.asc(), users::id.asc());
    super::page_of!(conn, filtered(scope, filter), UserRow, order, page)
}

pub fn get_in_scope(
    conn: &mut PgConnection,
    scope: &Scope,
    id: UserId,
) -> QueryResult<Option<UserRow>> {
    scoped(scope)
        .filter(users::id.eq(id))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// The account a login names: a phone number (national form) or a username. The two never
/// overlap (a username holds a letter, a phone only digits: `users_username_has_letter`), and
/// each is unique, so a login resolves to at most one account.
pub fn find_for_login(conn: &mut PgConnection, login: &str) -> QueryResult<Option<UserRow>> {
    let q = users::table.select(UserRow::as_select()).into_boxed();
    let q = match crate::phone::normalize(login) {
        Some(phone) => q.filter(users::phone.eq(phone)),
        None => q.filter(users::username.eq(login.to_string())),
    };
    q.first(conn).optional()
}

pub fn find_by_username(conn: &mut PgConnection, username: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn get(conn: &mut PgConnection, id: UserId) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut PgConnection, new: &NewUser) -> QueryResult<UserRow> {
    insert_with(conn, new, false)
}

/// Inserts an account; `must_change_password` when someone else chose its password.
pub fn insert_with(
    conn: &mut PgConnection,
    new: &NewUser,
    must_change_password: bool,
) -> QueryResult<UserRow> {
    diesel::insert_into(users::table)
        .values((new, users::must_change_password.eq(must_change_password)))
        .returning(UserRow::as_returning())
        .get_result(conn)
}

/// Applies `changes` and bumps the version; `None` when the row is gone.
pub fn update(
    conn: &mut PgConnection,
    id: UserId,
    changes: &UserChanges,
) -> QueryResult<Option<UserRow>> {
    super::account_changed(id);
    diesel::update(users::table.find(id))
        .set(one_version_up!(users, changes))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .optional()
}

/// Locks the row for the rest of the transaction, for read-check-write updates.
pub fn lock(conn: &mut PgConnection, id: UserId) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .for_update()
        .first(conn)
        .optional()
}
