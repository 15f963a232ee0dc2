//! Reporting discipline: each province's due day, and the members who recorded nothing.

use crate::ids::MemberId;
use crate::ids::TeamId;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text};

use super::reports::{Area, MEMBER_ACTIVE_IN_MONTH, NOTHING_RECORDED};
use super::schema::reporting_settings as rs;

/// The day of the following month reports are due when a province has set none.
pub const DEFAULT_DUE_DAY: i32 = 5;

#[derive(Clone, Debug, PartialEq, Queryable, Selectable)]
#[diesel(table_name = rs, check_for_backend(diesel::pg::Pg))]
pub struct ReportingSettings {
    pub province_code: String,
    pub due_day: i32,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

pub fn get(conn: &mut PgConnection, province: &str) -> QueryResult<Option<ReportingSettings>> {
    rs::table
        .find(province)
        .select(ReportingSettings::as_select())
        .first(conn)
        .optional()
}

pub fn for_update(
    conn: &mut PgConnection,
    province: &str,
) -> QueryResult<Option<ReportingSettings>> {
    rs::table
        .find(province)
        .select(ReportingSettings::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn upsert(
    conn: &mut PgConnection,
    province: &str,
    due_day: i32,
) -> QueryResult<ReportingSettings> {
    diesel::insert_into(rs::table)
        .values((rs::province_code.eq(province), rs::due_day.eq(due_day)))
        .on_conflict(rs::province_code)
        .do_update()
        .set(one_version_up!(rs, rs::due_day.eq(due_day)))
        .returning(ReportingSettings::as_returning())
        .get_result(conn)
}

pub fn due_day(conn: &mut PgConnection, province: &str) -> QueryResult<i32> {
    Ok(get(conn, province)?.map_or(DEFAULT_DUE_DAY, |s| s.due_day))
}

#[derive(Clone, Debug, PartialEq, QueryableByName)]
pub struct InactiveMember {
    #[diesel(sql_type = BigInt)]
    pub member_id: MemberId,
    #[diesel(sql_type = Text)]
    pub full_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub phone: Option<String>,
    #[diesel(sql_type = Text)]
    pub team_role: String,
    #[diesel(sql_type = BigInt)]
    pub team_id: TeamId,
    #[diesel(sql_type = Text)]
    pub team_name: String,
    #[diesel(sql_type = Text)]
    pub commune_code: String,
}

/// What the list of inactive members covers.
pub enum Among {
    Area(Area),
    Team(TeamId),
}

/// Members active in the month (joined by its end, not left nor archived before its start)
/// who recorded no assistance log in it, at most 5,000.
pub fn inactive_members(
    conn: &mut PgConnection,
    among: &Among,
    month: NaiveDate,
) -> QueryResult<Vec<InactiveMember>> {
    let (_, end) = super::reports::bounds(month);
    let (filter, key) = match among {
        Among::Team(id) => ("m.team_id::text = $3", id.to_string()),
        Among::Area(Area::Country) => ("$3 = $3", String::new()),
        Among::Area(Area::Province(p)) => ("m.province_code = $3", p.clone()),
        Among::Area(Area::Commune(c)) => ("m.commune_code = $3", c.clone()),
        Among::Area(Area::Communes(list)) => (
            "m.commune_code = ANY(string_to_array($3, ','))",
            list.join(","),
        ),
    };
    let sql = format!(
        "SELECT m.id AS member_id, m.full_name, m.phone, m.team_role, m.team_id, t.name AS team_name, \
                m.commune_code \
         FROM members m JOIN teams t ON t.id = m.team_id \
         WHERE {filter} AND {MEMBER_ACTIVE_IN_MONTH} AND {NOTHING_RECORDED} \
         ORDER BY m.commune_code, t.name, m.full_name, m.id LIMIT 5000"
    );
    diesel::sql_query(sql)
        .bind::<Date, _>(month)
        .bind::<Date, _>(end)
        .bind::<Text, _>(key)
        .load(conn)
}
