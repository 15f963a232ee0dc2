//! Team memberships. A person leaving keeps the row (with `left_on`); a move between teams
//! ends one row and starts another with the same `person_id`.

use chrono::NaiveDate;
use diesel::pg::Pg;
use diesel::prelude::*;

use super::schema::{members, teams};
use crate::access::Scope;
use crate::ids::{MemberId, PersonId, TeamId, UserId, VillageId};
use crate::vocab::{Affiliation, Sex, TeamRole};

versioned_row! {
    Member in members {
        id: MemberId,
        /// What the membership was created with (changes update these columns in place).
        fields: NewMember,
        left_on: Option<NaiveDate>,
    }
}

/// A membership's own columns: what is inserted, and read back as `Member::fields`.
#[derive(Clone, Debug, Insertable, Queryable, Selectable)]
#[diesel(table_name = members, check_for_backend(Pg))]
pub struct NewMember {
    /// A new person gets a fresh random id (`Uuid::new_v4`); a move keeps the person's.
    pub person_id: PersonId,
    pub team_id: TeamId,
    pub commune_code: String,
    pub province_code: String,
    pub full_name: String,
    pub search_name: String,
    pub phone: Option<String>,
    pub sex: Option<Sex>,
    pub birth_year: Option<i32>,
    pub affiliation: Affiliation,
    pub team_role: TeamRole,
    pub joined_on: NaiveDate,
    pub user_id: Option<UserId>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = members)]
pub struct MemberChanges {
    pub full_name: Option<String>,
    pub search_name: Option<String>,
    pub phone: Option<Option<String>>,
    pub sex: Option<Option<Sex>>,
    pub birth_year: Option<Option<i32>>,
    pub affiliation: Option<Affiliation>,
    pub team_role: Option<TeamRole>,
    pub joined_on: Option<NaiveDate>,
    pub left_on: Option<Option<NaiveDate>>,
    pub user_id: Option<Option<UserId>>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemberStatus {
    #[default]
    Active,
    Left,
    All,
}

#[derive(Debug, Default)]
pub struct MemberFilter {
    pub commune_code: Option<String>,
    pub village_id: Option<VillageId>,
    pub team_id: Option<TeamId>,
    pub status: MemberStatus,
    pub affiliation: Option<Affiliation>,
    pub team_role: Option<TeamRole>,
    pub search: Option<String>,
    pub include_archived: bool,
}

pub(crate) fn scoped(scope: &Scope) -> members::BoxedQuery<'static, Pg> {
    team_scoped!(members, scope, commune = commune_code, team = team_id)
}

/// Whether `scope` sees `member`: the rule of `scoped`, for a row read without it.
pub fn visible(scope: &Scope, member: &Member) -> bool {
    let fields = &member.fields;
    super::team_visible(
        scope,
        &fields.province_code,
        &fields.commune_code,
        fields.team_id,
    )
}

fn filtered(scope: &Scope, f: &MemberFilter) -> members::BoxedQuery<'static, Pg> {
    let mut q = scoped(scope);
    register_filters!(q, members, f);
    if let Some(v) = f.village_id {
        q = q.filter(
            members::team_id.eq_any(
                teams::table
                    .select(teams::id)
                    .filter(teams::village_id.eq(v)),
            ),
        );
    }
    equal_filters!(q, members, f, team_id);
    q = match f.status {
        MemberStatus::Active => q.filter(members::left_on.is_null()),
        MemberStatus::Left => q.filter(members::left_on.is_not_null()),
        MemberStatus::All => q,
    };
    equal_filters!(q, members, f, affiliation, team_role);
    q
}

versioned_rows! {
    table = members, row = Member, id = MemberId, scope = Scope,
    filter = MemberFilter, changes = MemberChanges, insert = NewMember,
    order = (members::team_id.asc(), members::search_name.asc(), members::id.asc()),
}

/// One membership (a stint of a person in a team).
#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = members, check_for_backend(Pg))]
pub struct Stint {
    pub id: MemberId,
    pub person_id: PersonId,
    pub team_id: TeamId,
    pub commune_code: String,
    pub province_code: String,
    pub joined_on: NaiveDate,
    pub left_on: Option<NaiveDate>,
    pub user_id: Option<UserId>,
}

/// Every live (not archived) membership of these people.
pub fn stints_of(conn: &mut PgConnection, persons: &[PersonId]) -> QueryResult<Vec<Stint>> {
    members::table
        .filter(members::person_id.eq_any(persons))
        .filter(members::archived_at.is_null())
        .select(Stint::as_select())
        .order(members::id.asc())
        .load(conn)
}

/// The memberships (live, every stint) of the people an account logs work for: its own
/// (every live membership linked to it) and, with `team`, everyone with a live membership in
/// that team. One statement: the people are a subquery.
pub fn loggable_stints(
    conn: &mut PgConnection,
    user_id: UserId,
    team: Option<TeamId>,
) -> QueryResult<Vec<Stint>> {
    let linked = diesel::alias!(members as linked);
    let persons = linked
        .filter(linked.field(members::archived_at).is_null())
        .filter(
            linked
                .field(members::user_id)
                .eq(user_id)
                .or(linked.field(members::team_id).nullable().eq(team)),
        )
        .select(linked.field(members::person_id));
    members::table
        .filter(members::person_id.eq_any(persons))
        .filter(members::archived_at.is_null())
        .select(Stint::as_select())
        .order(members::id.asc())
        .load(conn)
}

/// Whether a member record is archived (`None` when there is none).
pub fn is_archived(conn: &mut PgConnection, id: MemberId) -> QueryResult<Option<bool>> {
    members::table
        .find(id)
        .select(members::archived_at.is_not_null())
        .first(conn)
        .optional()
}

/// The person of each live member among `ids`, as (member id, person id).
pub fn persons_of(
    conn: &mut PgConnection,
    ids: &[MemberId],
) -> QueryResult<Vec<(MemberId, PersonId)>> {
    members::table
        .filter(members::id.eq_any(ids))
        .filter(members::archived_at.is_null())
        .select((members::id, members::person_id))
        .load(conn)
}

/// Share-locks live memberships until the transaction ends and returns their dates
/// (`id`, `joined_on`, `left_on`): a concurrent change of those dates waits for the
/// transaction, and one already under way is waited for and then read as committed.
pub fn share_dates(
    conn: &mut PgConnection,
    ids: &[MemberId],
) -> QueryResult<Vec<(MemberId, NaiveDate, Option<NaiveDate>)>> {
    members::table
        .filter(members::id.eq_any(ids))
        .filter(members::archived_at.is_null())
        .select((members::id, members::joined_on, members::left_on))
        .order(members::id.asc())
        .for_share()
        .load(conn)
}

/// The first and last day (Vietnam time) of the field work recorded under a membership: its
/// logs (archived ones too, which may be restored) and its attendance at live trainings.
pub fn work_span(
    conn: &mut PgConnection,
    id: MemberId,
) -> QueryResult<(Option<NaiveDate>, Option<NaiveDate>)> {
    #[derive(QueryableByName)]
    struct Span {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
        first: Option<NaiveDate>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
        last: Option<NaiveDate>,
    }
    let span: Span = diesel::sql_query(
        "SELECT min(d) AS first, max(d) AS last FROM ( \
           SELECT (occurred_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS d \
             FROM assistance_logs WHERE member_id = $1 \
           UNION ALL \
           SELECT (t.starts_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date \
             FROM training_attendance a JOIN trainings t ON t.id = a.training_id \
            WHERE a.member_id = $1 AND t.archived_at IS NULL) w",
    )
    .bind::<diesel::sql_types::BigInt, _>(id)
    .get_result(conn)?;
    Ok((span.first, span.last))
}

/// The account's active membership (not left, not archived), if any.
pub fn active_for_user(conn: &mut PgConnection, user_id: UserId) -> QueryResult<Option<Member>> {
    members::table
        .filter(members::user_id.eq(user_id))
        .filter(members::left_on.is_null())
        .filter(members::archived_at.is_null())
        .select(Member::as_select())
        .first(conn)
        .optional()
}

/// Every membership (active, left or archived) linked to `user_id` outside team `team`
/// (`None`: all of them), locked: the links to cut when the account leaves for `team`.
pub fn linked_outside(
    conn: &mut PgConnection,
    user_id: UserId,
    team: Option<TeamId>,
) -> QueryResult<Vec<Member>> {
    let q = members::table
        .filter(members::user_id.eq(user_id))
        .select(Member::as_select())
        .order(members::id)
        .for_update();
    match team {
        Some(t) => q.filter(members::team_id.ne(t)).load(conn),
        None => q.load(conn),
    }
}
