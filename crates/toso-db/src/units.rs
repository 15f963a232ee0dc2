//! Administrative units: the official tree of provinces and communes.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;

use super::schema::admin_units;
use super::Page;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = admin_units, check_for_backend(Pg))]
pub struct UnitRow {
    /// What the official list gave (an import updates these columns in place).
    #[diesel(embed)]
    pub fields: NewUnit,
    pub valid_to: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

/// A unit's own columns: what is inserted, and read back as `UnitRow::fields`.
#[derive(Clone, Debug, PartialEq, Eq, Insertable, Queryable, Selectable)]
#[diesel(table_name = admin_units, check_for_backend(Pg))]
pub struct NewUnit {
    pub code: String,
    pub name: String,
    pub search_name: String,
    pub level: String,
    pub unit_type: String,
    pub parent_code: Option<String>,
    pub province_code: String,
    pub valid_from: NaiveDate,
}

#[derive(Debug, Default)]
pub struct UnitFilter {
    pub level: Option<String>,
    pub parent_code: Option<String>,
    /// Already folded with `text::fold`.
    pub search: Option<String>,
    pub include_expired: bool,
}

fn filtered(f: &UnitFilter) -> admin_units::BoxedQuery<'static, Pg> {
    let mut q = admin_units::table.into_boxed();
    equal_filters!(q, admin_units, f, level, parent_code);
    if let Some(search) = &f.search {
        q = q.filter(admin_units::search_name.like(crate::text::like_contains(search)));
    }
    if !f.include_expired {
        q = q.filter(admin_units::valid_to.is_null().or(admin_units::valid_to.gt(
            diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Date>>(
                "CURRENT_DATE",
            ),
        )));
    }
    q
}

pub fn list(
    conn: &mut PgConnection,
    filter: &UnitFilter,
    page: Page,
) -> QueryResult<(Vec<UnitRow>, i64)> {
    super::page_of!(
        conn,
        filtered(filter),
        UnitRow,
        admin_units::code.asc(),
        page
    )
}

/// Every province, as code and name, by code.
pub fn provinces(conn: &mut PgConnection) -> QueryResult<Vec<(String, String)>> {
    admin_units::table
        .filter(admin_units::level.eq("province"))
        .select((admin_units::code, admin_units::name))
        .order(admin_units::code.asc())
        .load(conn)
}

/// How many valid communes each province has, as (province code, count).
pub fn communes_per_province(conn: &mut PgConnection) -> QueryResult<Vec<(String, i64)>> {
    admin_units::table
        .filter(admin_units::level.eq("commune"))
        .filter(admin_units::valid_to.is_null())
        .group_by(admin_units::province_code)
        .select((admin_units::province_code, diesel::dsl::count_star()))
        .load(conn)
}

/// The valid children of a unit (a province's communes), as code and name, by code.
pub fn live_children(conn: &mut PgConnection, parent: &str) -> QueryResult<Vec<(String, String)>> {
    admin_units::table
        .filter(admin_units::parent_code.eq(parent))
        .filter(admin_units::valid_to.is_null())
        .select((admin_units::code, admin_units::name))
        .order(admin_units::code.asc())
        .load(conn)
}

pub fn get(conn: &mut PgConnection, code: &str) -> QueryResult<Option<UnitRow>> {
    admin_units::table
        .find(code)
        .select(UnitRow::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Inserts new units and updates changed ones, parents first, in one transaction.
pub fn upsert_all(conn: &mut PgConnection, units: &[NewUnit]) -> QueryResult<ImportSummary> {
    conn.transaction(|conn| {
        let existing: std::collections::HashMap<String, UnitRow> = admin_units::table
            .select(UnitRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|u| (u.fields.code.clone(), u))
            .collect();
        let mut summary = ImportSummary::default();
        let mut fresh = Vec::new();
        for unit in units {
            match existing.get(&unit.code) {
                None => fresh.push(unit),
                Some(old)
                    if old.fields.name == unit.name
                        && old.fields.unit_type == unit.unit_type
                        && old.fields.level == unit.level
                        && old.fields.parent_code == unit.parent_code =>
                {
                    summary.unchanged += 1
                }
                Some(_) => {
                    diesel::update(admin_units::table.find(&unit.code))
                        .set((
                            admin_units::name.eq(&unit.name),
                            admin_units::search_name.eq(&unit.search_name),
                            admin_units::unit_type.eq(&unit.unit_type),
                            admin_units::level.eq(&unit.level),
                            admin_units::parent_code.eq(&unit.parent_code),
                            admin_units::province_code.eq(&unit.province_code),
                        ))
                        .execute(conn)?;
                    summary.updated += 1;
                }
            }
        }
        // Parents (provinces) come first in `units`, so chunks keep foreign keys satisfied.
        for chunk in fresh.chunks(1000) {
            let rows: Vec<&NewUnit> = chunk.to_vec();
            diesel::insert_into(admin_units::table)
                .values(rows)
                .execute(conn)?;
        }
        summary.inserted = fresh.len();
        Ok(summary)
    })
}
