//! Teams: the community digital-technology teams of a commune.

use chrono::NaiveDate;
use diesel::pg::Pg;
use diesel::prelude::*;

use super::schema::{members, teams, users};
use crate::access::Scope;
use crate::ids::{TeamId, VillageId};
use crate::vocab::TeamStatus;

versioned_row! {
    Team in teams {
        id: TeamId,
        /// What the team was created with (changes update these columns in place).
        fields: NewTeam,
    }
}

/// A team's own columns: what is inserted, and read back as `Team::fields`.
#[derive(Clone, Debug, Insertable, Queryable, Selectable)]
#[diesel(table_name = teams, check_for_backend(Pg))]
pub struct NewTeam {
    pub commune_code: String,
    pub province_code: String,
    pub village_id: Option<VillageId>,
    pub name: String,
    pub search_name: String,
    pub decision_number: Option<String>,
    pub decision_date: Option<NaiveDate>,
    pub established_on: Option<NaiveDate>,
    pub dissolved_on: Option<NaiveDate>,
    pub status: TeamStatus,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = teams)]
pub struct TeamChanges {
    pub village_id: Option<Option<VillageId>>,
    pub name: Option<String>,
    pub search_name: Option<String>,
    pub decision_number: Option<Option<String>>,
    pub decision_date: Option<Option<NaiveDate>>,
    pub established_on: Option<Option<NaiveDate>>,
    pub dissolved_on: Option<Option<NaiveDate>>,
    pub status: Option<TeamStatus>,
}

#[derive(Debug, Default)]
pub struct TeamFilter {
    pub commune_code: Option<String>,
    pub village_id: Option<VillageId>,
    pub status: Option<TeamStatus>,
    pub search: Option<String>,
    pub include_archived: bool,
}

pub(crate) fn scoped(scope: &Scope) -> teams::BoxedQuery<'static, Pg> {
    team_scoped!(teams, scope, commune = commune_code, team = id)
}

/// Whether `scope` sees `team`: the rule of `scoped`, for a row read without it.
pub fn visible(scope: &Scope, team: &Team) -> bool {
    let fields = &team.fields;
    super::team_visible(scope, &fields.province_code, &fields.commune_code, team.id)
}

fn filtered(scope: &Scope, f: &TeamFilter) -> teams::BoxedQuery<'static, Pg> {
    let mut q = scoped(scope);
    register_filters!(q, teams, f);
    equal_filters!(q, teams, f, village_id, status);
    q
}

versioned_rows! {
    table = teams, row = Team, id = TeamId, scope = Scope,
    filter = TeamFilter, changes = TeamChanges, insert = NewTeam,
    order = (teams::commune_code.asc(), teams::search_name.asc(), teams::id.asc()),
    lock_shared,
    place_of,
}

/// Members still in the team and enabled accounts bound to it: what an archive would strand.
pub fn live_dependents(conn: &mut PgConnection, id: TeamId) -> QueryResult<i64> {
    let active_members: i64 = members::table
        .filter(members::team_id.eq(id))
        .filter(members::left_on.is_null())
        .filter(members::archived_at.is_null())
        .count()
        .get_result(conn)?;
    let accounts: i64 = users::table
        .filter(users::team_id.eq(id))
        .filter(users::disabled.eq(false))
        .count()
        .get_result(conn)?;
    Ok(active_members + accounts)
}
