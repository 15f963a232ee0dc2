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

catalogue_rows!(cat, Category);
