//! Assistance categories: reference data with stable codes.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;

use super::schema::assistance_categories as cat;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = cat, check_for_backend(Pg))]
pub struct Category {
    pub code: String,
    pub name: String,
    pub sort_order: i32,
    pub retired_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Every category's code and whether it is retired (what a log may name).
pub fn retired_flags(conn: &mut PgConnection) -> QueryResult<Vec<(String, bool)>> {
    cat::table
        .select((cat::code, cat::retired_at.is_not_null()))
        .load(conn)
}

/// Every category's code and Vietnamese name.
pub fn names(conn: &mut PgConnection) -> QueryResult<Vec<(String, String)>> {
    cat::table.select((cat::code, cat::name)).load(conn)
}

/// Every category's code, in the order reports show them.
pub fn codes_in_order(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    cat::table
        .select(cat::code)
        .order((cat::sort_order.asc(), cat::code.asc()))
        .load(conn)
}

pub fn list(conn: &mut PgConnection, include_retired: bool) -> QueryResult<Vec<Category>> {
    let mut q = cat::table.into_boxed();
    if !include_retired {
        q = q.filter(cat::retired_at.is_null());
    }
    q.select(Category::as_select())
        .order((cat::sort_order.asc(), cat::code.asc()))
        .load(conn)
}

pub fn get(conn: &mut PgConnection, code: &str) -> QueryResult<Option<Category>> {
    cat::table
        .find(code)
        .select(Category::as_select())
        .first(conn)
        .optional()
}

pub fn insert(
    conn: &mut PgConnection,
    code: &str,
    name: &str,
    sort_order: i32,
) -> QueryResult<Category> {
    diesel::insert_into(cat::table)
        .values((
            cat::code.eq(code),
            cat::name.eq(name),
            cat::sort_order.eq(sort_order),
        ))
        .returning(Category::as_returning())
        .get_result(conn)
}

pub fn set_retired(
    conn: &mut PgConnection,
    code: &str,
    retired: bool,
) -> QueryResult<Option<Category>> {
    let at: Option<DateTime<Utc>> = retired.then(Utc::now);
    diesel::update(cat::table.find(code))
        .set(cat::retired_at.eq(at))
        .returning(Category::as_returning())
        .get_result(conn)
        .optional()
}
