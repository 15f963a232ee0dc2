//! Programme indicators: the catalogue, denominators per unit and year, monthly entered values,
//! targets, and the grouped queries the report's indicator section is computed from.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Integer, Nullable, Text};

use super::reports::{area_code, area_filter, area_query, Area};
use super::schema::{
    denominators as den, indicator_targets as tgt, indicator_values as val, indicators as ind,
};
use crate::access::Scope;
use crate::ids::VillageId;

/// Declares the row `$row` of an entry table (denominators, values, targets): its `id`, the
/// written columns `$fields` embedded as `fields`, `version` and `updated_at`; and writes
/// `$insert` and `$update` of `$fields`, the update bumping the version and `updated_at`.
macro_rules! entry_table {
    ($table:ident, $row:ident, $fields:ident, $insert:ident, $update:ident) => {
        #[derive(Clone, Debug, PartialEq, Queryable, Selectable)]
        #[diesel(table_name = $table, check_for_backend(Pg))]
        pub struct $row {
            pub id: i64,
            /// What was entered (each change replaces them).
            #[diesel(embed)]
            pub fields: $fields,
            pub version: i32,
            pub updated_at: DateTime<Utc>,
        }

        pub fn $insert(conn: &mut PgConnection, fields: &$fields) -> QueryResult<$row> {
            diesel::insert_into($table::table)
                .values(fields)
                .returning($row::as_returning())
                .get_result(conn)
        }

        pub fn $update(conn: &mut PgConnection, id: i64, fields: &$fields) -> QueryResult<$row> {
            diesel::update($table::table.find(id))
                .set(one_version_up!($table, fields))
                .returning($row::as_returning())
                .get_result(conn)
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Catalogue

#[derive(Clone, Debug, PartialEq, Queryable, Selectable)]
#[diesel(table_name = ind, check_for_backend(Pg))]
pub struct Indicator {
    /// What the catalogue entry was created with.
    #[diesel(embed)]
    pub fields: NewIndicator,
    pub retired_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// An indicator's own columns: what is inserted, and read back as `Indicator::fields`.
#[derive(Clone, Debug, PartialEq, Insertable, Queryable, Selectable)]
#[diesel(table_name = ind, check_for_backend(Pg))]
pub struct NewIndicator {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub denominator: Option<String>,
    pub aggregation: String,
    pub source: String,
    pub level: String,
    pub category_code: Option<String>,
    pub sort_order: i32,
}

catalogue_rows!(ind, Indicator);

/// The indicator, share-locked so that it cannot be retired while a value or target for it
/// is being written.
pub fn hold(conn: &mut PgConnection, code: &str) -> QueryResult<Option<Indicator>> {
    ind::table
        .find(code)
        .select(Indicator::as_select())
        .for_share()
        .first(conn)
        .optional()
}

pub fn insert(conn: &mut PgConnection, new: &NewIndicator) -> QueryResult<Indicator> {
    diesel::insert_into(ind::table)
        .values(new)
        .returning(Indicator::as_returning())
        .get_result(conn)
}

// ---------------------------------------------------------------------------------------------
// Denominators

entry_table!(
    den,
    Denominator,
    DenominatorFields,
    insert_denominator,
    update_denominator
);

/// The written columns: inserted, changed as a whole, and read back as `Denominator::fields`.
#[derive(Clone, Debug, PartialEq, Insertable, AsChangeset, Queryable, Selectable)]
#[diesel(table_name = den, treat_none_as_null = true, check_for_backend(Pg))]
pub struct DenominatorFields {
    pub year: i32,
    pub commune_code: String,
    pub province_code: String,
    pub village_id: Option<VillageId>,
    pub population: Option<i32>,
    pub adults: Option<i32>,
    pub households: Option<i32>,
    pub source_note: Option<String>,
}

/// The entry of a unit and year, locked for update.
pub fn denominator_for_update(
    conn: &mut PgConnection,
    commune: &str,
    village: Option<VillageId>,
    year: i32,
) -> QueryResult<Option<Denominator>> {
    den::table
        .filter(den::commune_code.eq(commune))
        .filter(den::year.eq(year))
        .filter(den::village_id.is_not_distinct_from(village))
        .select(Denominator::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn list_denominators(
    conn: &mut PgConnection,
    scope: &Scope,
    commune: Option<&str>,
    year: Option<i32>,
) -> QueryResult<Vec<Denominator>> {
    let mut q = denominators_scoped(scope);
    if let Some(c) = commune {
        q = q.filter(den::commune_code.eq(c.to_string()));
    }
    if let Some(y) = year {
        q = q.filter(den::year.eq(y));
    }
    q.select(Denominator::as_select())
        .order((
            den::year.desc(),
            den::commune_code.asc(),
            den::village_id.asc().nulls_first(),
        ))
        .limit(5000)
        .load(conn)
}

// ---------------------------------------------------------------------------------------------
// Monthly values

entry_table!(val, IndicatorValue, ValueFields, insert_value, update_value);

/// The written columns: inserted, changed as a whole, and read back as `IndicatorValue::fields`.
#[derive(Clone, Debug, PartialEq, Insertable, AsChangeset, Queryable, Selectable)]
#[diesel(table_name = val, treat_none_as_null = true, check_for_backend(Pg))]
pub struct ValueFields {
    pub indicator_code: String,
    pub month: NaiveDate,
    pub commune_code: String,
    pub province_code: String,
    pub village_id: Option<VillageId>,
    pub value: i64,
    pub denominator: Option<i64>,
    pub source_note: Option<String>,
}

pub fn value_for_update(
    conn: &mut PgConnection,
    indicator: &str,
    commune: &str,
    village: Option<VillageId>,
    month: NaiveDate,
) -> QueryResult<Option<IndicatorValue>> {
    val::table
        .filter(val::indicator_code.eq(indicator))
        .filter(val::commune_code.eq(commune))
        .filter(val::month.eq(month))
        .filter(val::village_id.is_not_distinct_from(village))
        .select(IndicatorValue::as_select())
        .for_update()
        .first(conn)
        .optional()
}

#[derive(Debug, Default)]
pub struct ValueFilter {
    pub commune: Option<String>,
    pub month: Option<NaiveDate>,
    pub indicator: Option<String>,
}

pub fn list_values(
    conn: &mut PgConnection,
    scope: &Scope,
    f: &ValueFilter,
) -> QueryResult<Vec<IndicatorValue>> {
    let mut q = values_scoped(scope);
    equal_filters!(
        q,
        val,
        f,
        commune as commune_code,
        month,
        indicator as indicator_code
    );
    q.select(IndicatorValue::as_select())
        .order((
            val::month.desc(),
            val::commune_code.asc(),
            val::indicator_code.asc(),
            val::village_id.asc(),
        ))
        .limit(5000)
        .load(conn)
}

// ---------------------------------------------------------------------------------------------
// Targets

entry_table!(tgt, Target, TargetFields, insert_target, update_target);

/// The written columns: inserted, changed as a whole, and read back as `Target::fields`.
#[derive(Clone, Debug, PartialEq, Insertable, AsChangeset, Queryable, Selectable)]
#[diesel(table_name = tgt, treat_none_as_null = true, check_for_backend(Pg))]
pub struct TargetFields {
    pub indicator_code: String,
    pub year: i32,
    pub month: Option<NaiveDate>,
    pub unit_kind: String,
    pub unit_key: String,
    pub province_code: String,
    pub commune_code: Option<String>,
    pub target_value: Option<i64>,
    pub target_rate: Option<f64>,
    pub due_on: NaiveDate,
    pub split_from: Option<i64>,
}

pub fn target_for_update(conn: &mut PgConnection, f: &TargetFields) -> QueryResult<Option<Target>> {
    tgt::table
        .filter(tgt::indicator_code.eq(&f.indicator_code))
        .filter(tgt::unit_kind.eq(&f.unit_kind))
        .filter(tgt::unit_key.eq(&f.unit_key))
        .filter(tgt::year.eq(f.year))
        .filter(tgt::month.is_not_distinct_from(f.month))
        .select(Target::as_select())
        .for_update()
        .first(conn)
        .optional()
}

pub fn target_by_id(conn: &mut PgConnection, id: i64) -> QueryResult<Option<Target>> {
    tgt::table
        .find(id)
        .select(Target::as_select())
        .first(conn)
        .optional()
}

#[derive(Debug, Default)]
pub struct TargetFilter {
    pub year: Option<i32>,
    pub unit_kind: Option<String>,
    pub unit_key: Option<String>,
    pub indicator: Option<String>,
}

pub(crate) fn scoped_targets(scope: &Scope) -> tgt::BoxedQuery<'static, Pg> {
    let q = tgt::table.into_boxed();
    match scope {
        Scope::Country => q,
        Scope::Province(p) => q.filter(tgt::province_code.eq(p.clone())),
        Scope::Commune(c) => q.filter(tgt::commune_code.eq(c.clone())),
        // A team sees its commune's target, its village's and its own.
        Scope::Team { commune, team_id } => q.filter(tgt::commune_code.eq(commune.clone())).filter(
            tgt::unit_kind
                .eq("commune")
                .or(tgt::unit_kind
                    .eq("team")
                    .and(tgt::unit_key.eq(team_id.to_string())))
                .or(tgt::unit_kind.eq("village").and(
                    diesel::dsl::sql::<diesel::sql_types::Bool>(
                        "unit_key = (SELECT village_id::text FROM teams WHERE id = ",
                    )
                    .bind::<BigInt, _>(*team_id)
                    .sql(")"),
                )),
        ),
    }
}

/// One target of the caller's scope.
pub fn target(conn: &mut PgConnection, scope: &Scope, id: i64) -> QueryResult<Option<Target>> {
    scoped_targets(scope)
        .filter(tgt::id.eq(id))
        .select(Target::as_select())
        .first(conn)
        .optional()
}

pub fn list_targets(
    conn: &mut PgConnection,
    scope: &Scope,
    f: &TargetFilter,
) -> QueryResult<Vec<Target>> {
    let mut q = scoped_targets(scope);
    equal_filters!(
        q,
        tgt,
        f,
        year,
        unit_kind,
        unit_key,
        indicator as indicator_code
    );
    q.select(Target::as_select())
        .order((tgt::year.desc(), tgt::indicator_code.asc(), tgt::id.asc()))
        .limit(5000)
        .load(conn)
}

/// The targets of a year that apply in `month` to the units of an area: yearly ones and the
/// month's own.
pub fn targets_in(
    conn: &mut PgConnection,
    area: &Area,
    year: i32,
    month: NaiveDate,
) -> QueryResult<Vec<Target>> {
    let mut q = tgt::table
        .filter(tgt::year.eq(year))
        .filter(tgt::month.is_null().or(tgt::month.eq(month)))
        .into_boxed();
    q = match area {
        Area::Country => q.filter(tgt::unit_kind.eq("province")),
        Area::Province(p) => q
            .filter(tgt::province_code.eq(p.clone()))
            .filter(tgt::unit_kind.eq_any(["province", "commune"])),
        Area::Commune(c) => q
            .filter(tgt::commune_code.eq(c.clone()))
            .filter(tgt::unit_kind.eq_any(["commune", "village"])),
        Area::Communes(list) => q
            .filter(tgt::commune_code.eq_any(list.clone()))
            .filter(tgt::unit_kind.eq("commune")),
    };
    q.select(Target::as_select()).load(conn)
}

// ---------------------------------------------------------------------------------------------
// Grouped figures for the report

/// How the figures of an area are keyed: by commune code, or (one commune) by village id
/// as text, `0` holding what is recorded for the commune itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyed {
    Commune,
    Village,
}

/// The entered values of a unit standing at the end of a month: its latest value of the year
/// up to that month, summed per key. The latest month of each (indicator, commune, village) is
/// found by hashing, then joined back on the unique key: sorting the rows by their text codes
/// for `DISTINCT ON` was most of the query's cost (Hà Nội on the national data set: 38–57 ms
/// sorted, 21–29 ms hashed, the same rows).
#[derive(Debug, QueryableByName)]
pub struct EnteredSum {
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub value: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub denominator: Option<i64>,
}

pub fn entered(
    conn: &mut PgConnection,
    area: &Area,
    keyed: Keyed,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<EnteredSum>> {
    let key = match keyed {
        Keyed::Commune => "v.commune_code",
        Keyed::Village => "coalesce(v.village_id, 0)::text",
    };
    let sql = format!(
        "SELECT v.indicator_code AS code, {key} AS key, sum(v.value)::bigint AS value, \
                sum(v.denominator)::bigint AS denominator \
         FROM indicator_values v \
         JOIN (SELECT indicator_code, commune_code, coalesce(village_id, 0) AS village, \
                      max(month) AS month \
               FROM indicator_values WHERE {filter} AND month BETWEEN $1 AND $2 \
               GROUP BY 1, 2, 3) latest \
           ON v.indicator_code = latest.indicator_code AND v.commune_code = latest.commune_code \
          AND coalesce(v.village_id, 0) = latest.village AND v.month = latest.month \
         WHERE {outer} AND v.month BETWEEN $1 AND $2 \
         GROUP BY 1, 2",
        outer = area_filter(area, "v.province_code", "v.commune_code"),
        filter = area_filter(area, "province_code", "commune_code"),
    );
    area_query(sql, (from, to), area).load(conn)
}

/// The denominators of each unit for a year, counted for the villages that existed in `month`.
#[derive(Clone, Debug, Default, QueryableByName)]
pub struct UnitDenominators {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Text)]
    pub province_code: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub population: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub adults: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub households: Option<i64>,
    #[diesel(sql_type = BigInt)]
    pub villages: i64,
    #[diesel(sql_type = BigInt)]
    pub villages_with_team: i64,
}

/// The villages of an area that existed in `month` ($2), with their denominators of the year
/// ($1) and whether an active team works in them. Every table is filtered by the area first
/// (`{v}`, `{d}`, `{t}`: the area's filter on villages, denominators and teams), so a province's
/// report reads its own rows through the province indexes.
fn live_villages_sql(area: &Area) -> String {
    format!(
        "SELECT v.id, v.commune_code, v.province_code, \
                coalesce(d.population, v.population)::bigint AS population, d.adults::bigint AS adults, \
                coalesce(d.households, v.households)::bigint AS households, \
                tw.village_id IS NOT NULL AS with_team \
         FROM villages v \
         LEFT JOIN (SELECT dd.village_id, dd.population, dd.adults, dd.households FROM denominators dd \
                    WHERE {d} AND dd.year = $1 AND dd.village_id IS NOT NULL) d ON d.village_id = v.id \
         LEFT JOIN (SELECT DISTINCT t.village_id FROM teams t \
                    WHERE {t} AND t.village_id IS NOT NULL AND t.status <> 'inactive' \
                      AND t.archived_at IS NULL AND t.dissolved_on IS NULL) tw ON tw.village_id = v.id \
         WHERE {v} AND vn_month(v.created_at) <= $2 \
           AND (v.archived_at IS NULL OR vn_month(v.archived_at) >= $2)",
        v = area_filter(area, "v.province_code", "v.commune_code"),
        d = area_filter(area, "dd.province_code", "dd.commune_code"),
        t = area_filter(area, "t.province_code", "t.commune_code"),
    )
}

/// Per commune (its own figure when entered, else the sum of its villages'), or per village of
/// one commune.
pub fn unit_denominators(
    conn: &mut PgConnection,
    area: &Area,
    keyed: Keyed,
    year: i32,
    month: NaiveDate,
) -> QueryResult<Vec<UnitDenominators>> {
    let villages = live_villages_sql(area);
    let sql = match keyed {
        Keyed::Village => format!(
            "SELECT v.id::text AS key, v.province_code, v.population, v.adults, v.households, \
                    1::bigint AS villages, v.with_team::int::bigint AS villages_with_team \
             FROM ({villages}) v"
        ),
        Keyed::Commune => format!(
            "WITH c AS (SELECT v.commune_code, sum(v.population)::bigint AS population, \
                        sum(v.adults)::bigint AS adults, sum(v.households)::bigint AS households, \
                        count(*)::bigint AS villages, \
                        count(*) FILTER (WHERE v.with_team)::bigint AS villages_with_team \
                 FROM ({villages}) v GROUP BY 1), \
             cd AS (SELECT dd.id, dd.commune_code, dd.population, dd.adults, dd.households \
                 FROM denominators dd WHERE {dfilter} AND dd.year = $1 AND dd.village_id IS NULL) \
             SELECT u.code AS key, u.province_code, \
                    coalesce(cd.population::bigint, c.population) AS population, \
                    coalesce(cd.adults::bigint, c.adults) AS adults, \
                    coalesce(cd.households::bigint, c.households) AS households, \
                    coalesce(c.villages, 0) AS villages, \
                    coalesce(c.villages_with_team, 0) AS villages_with_team \
             FROM admin_units u \
             LEFT JOIN c ON c.commune_code = u.code \
             LEFT JOIN cd ON cd.commune_code = u.code \
             WHERE u.level = 'commune' AND u.valid_to IS NULL AND {ufilter} \
               AND (c.commune_code IS NOT NULL OR cd.id IS NOT NULL)",
            dfilter = area_filter(area, "dd.province_code", "dd.commune_code"),
            ufilter = area_filter(area, "u.province_code", "u.code"),
        ),
    };
    diesel::sql_query(sql)
        .bind::<Integer, _>(year)
        .bind::<Date, _>(month)
        .bind::<Text, _>(area_code(area))
        .load(conn)
}

/// A computed numerator per commune: (indicator code, commune, value).
#[derive(Debug, QueryableByName)]
pub struct Computed {
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub value: i64,
}

/// Participants of citizen classes that started from `from` to the end of `to`'s month, per
/// commune.
pub fn class_participants(
    conn: &mut PgConnection,
    area: &Area,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<(String, i64)>> {
    let end = to.checked_add_months(chrono::Months::new(1)).unwrap_or(to);
    let sql = format!(
        "SELECT '' AS code, tr.commune_code AS key, coalesce(sum(tr.participants), 0)::bigint AS value \
         FROM trainings tr WHERE {filter} AND tr.archived_at IS NULL AND tr.kind = 'citizen_class' \
           AND tr.starts_at >= ($1::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') \
           AND tr.starts_at < ($2::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') GROUP BY 2",
        filter = area_filter(area, "tr.province_code", "tr.commune_code"),
    );
    let rows: Vec<Computed> = area_query(sql, (from, end), area).load(conn)?;
    Ok(rows.into_iter().map(|r| (r.key, r.value)).collect())
}

/// Citizens helped in each of `categories` from `from` to `to` (months), per commune, from the
/// rollups.
pub fn citizens_helped(
    conn: &mut PgConnection,
    area: &Area,
    categories: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<Computed>> {
    let sql = format!(
        "SELECT r.category_code AS code, r.commune_code AS key, sum(r.citizens)::bigint AS value \
         FROM log_rollups r WHERE {filter} AND r.month BETWEEN $1 AND $2 \
           AND r.category_code = ANY($4) GROUP BY 1, 2",
        filter = area_filter(area, "r.province_code", "r.commune_code"),
    );
    area_query(sql, (from, to), area)
        .bind::<Array<Text>, _>(categories)
        .load(conn)
}

/// The frozen indicator section of each approved commune month of an area.
pub fn approved_indicators(
    conn: &mut PgConnection,
    area: &Area,
    month: NaiveDate,
) -> QueryResult<Vec<(String, String, serde_json::Value)>> {
    super::reports::approved_sections(conn, area, month, "indicators")
}

/// The live villages of a commune with their names (the rows of a split).
pub fn live_villages(
    conn: &mut PgConnection,
    commune: &str,
) -> QueryResult<Vec<(VillageId, String)>> {
    use super::schema::villages;
    villages::table
        .filter(villages::commune_code.eq(commune))
        .filter(villages::archived_at.is_null())
        .select((villages::id, villages::name))
        .order(villages::id.asc())
        .load(conn)
}

// ---------------------------------------------------------------------------------------------
// Change feeds for mobile sync

use super::sync::{feed, scoped_feeds, Changed, Window};

/// The catalogue changed since the cursor (retired indicators included, with `retired_at`).
pub fn feed_indicators(conn: &mut PgConnection, w: &Window) -> QueryResult<Changed<Indicator>> {
    feed!(conn, ind::table.into_boxed(), ind, Indicator, w)
}

fn values_scoped(scope: &Scope) -> val::BoxedQuery<'static, Pg> {
    commune_scoped!(val, scope)
}

fn denominators_scoped(scope: &Scope) -> den::BoxedQuery<'static, Pg> {
    commune_scoped!(den, scope)
}

scoped_feeds! {
    /// Targets of the caller's scope changed since the cursor (a team: its commune's, its
    /// village's and its own).
    feed_targets(Scope) -> Target: scoped_targets => tgt;
    /// Entered values of the caller's commune (or wider scope) changed since the cursor.
    feed_values(Scope) -> IndicatorValue: values_scoped => val;
    /// Denominators of the caller's commune (or wider scope) changed since the cursor.
    feed_denominators(Scope) -> Denominator: denominators_scoped => den;
}
