//! Villages: the places under a commune where teams work.

use diesel::pg::Pg;
use diesel::prelude::*;

use super::schema::{teams, villages};
use crate::access::Scope;
use crate::ids::VillageId;
use crate::vocab::VillageKind;

versioned_row! {
    Village in villages {
        id: VillageId,
        /// What the village was created with.
        fields: NewVillage,
    }
}

/// A village's own columns: what is inserted, and read back as `Village::fields`.
#[derive(Clone, Debug, Insertable, Queryable, Selectable)]
#[diesel(table_name = villages, check_for_backend(Pg))]
pub struct NewVillage {
    pub commune_code: String,
    pub province_code: String,
    pub name: String,
    pub search_name: String,
    pub kind: VillageKind,
    pub households: Option<i32>,
    pub population: Option<i32>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = villages)]
pub struct VillageChanges {
    pub name: Option<String>,
    pub search_name: Option<String>,
    pub kind: Option<VillageKind>,
    pub households: Option<Option<i32>>,
    pub population: Option<Option<i32>>,
}

#[derive(Debug, Default)]
pub struct VillageFilter {
    pub commune_code: Option<String>,
    pub kind: Option<VillageKind>,
    /// Folded with `text::fold`.
    pub search: Option<String>,
    pub include_archived: bool,
}

pub(crate) fn scoped(scope: &Scope) -> villages::BoxedQuery<'static, Pg> {
    commune_scoped!(villages, scope)
}

/// Whether `scope` sees `village`: the rule of `scoped`, for a row read without it.
pub fn visible(scope: &Scope, village: &Village) -> bool {
    super::commune_visible(
        scope,
        &village.fields.province_code,
        &village.fields.commune_code,
    )
}

fn filtered(scope: &Scope, f: &VillageFilter) -> villages::BoxedQuery<'static, Pg> {
    let mut q = scoped(scope);
    register_filters!(q, villages, f);
    equal_filters!(q, villages, f, kind);
    q
}

/// The live villages of these communes, as (id, commune).
pub fn live_in(
    conn: &mut PgConnection,
    communes: &[String],
) -> QueryResult<Vec<(VillageId, String)>> {
    villages::table
        .filter(villages::commune_code.eq_any(communes))
        .filter(villages::archived_at.is_null())
        .select((villages::id, villages::commune_code))
        .load(conn)
}

versioned_rows! {
    table = villages, row = Village, id = VillageId, scope = Scope,
    filter = VillageFilter, changes = VillageChanges, insert = NewVillage,
    order = (villages::commune_code.asc(), villages::search_name.asc(), villages::id.asc()),
    lock_shared,
    place_of,
}

/// Teams that still work in the village (not archived, not dissolved).
pub fn live_teams(conn: &mut PgConnection, id: VillageId) -> QueryResult<i64> {
    teams::table
        .filter(teams::village_id.eq(id))
        .filter(teams::archived_at.is_null())
        .filter(teams::status.ne("dissolved"))
        .count()
        .get_result(conn)
}
