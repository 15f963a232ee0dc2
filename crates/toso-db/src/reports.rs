//! Aggregates for the monthly report. Log figures come from the rollups the triggers keep
//! exact; registry and training figures are counted from their (small) tables.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{BigInt, Date, Text};

/// Which records a report covers.
#[derive(Clone, Debug)]
pub enum Area {
    Country,
    Province(String),
    Commune(String),
    /// A set of communes (e.g. the approved ones of a province or the country).
    Communes(Vec<String>),
}

/// What the rows of a report are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    Province,
    Commune,
    Team,
    Village,
}

/// The key and filter of each source table, per grouping. Only these fixed strings are put
/// into SQL text; every value is bound.
struct Source {
    from: &'static str,
    /// Joined only when rows are villages (the key needs the team's village).
    village_join: &'static str,
    province: &'static str,
    commune: &'static str,
    team: &'static str,
    village: &'static str,
}

impl Source {
    fn key(&self, g: Grouping) -> &'static str {
        match g {
            Grouping::Province => self.province,
            Grouping::Commune => self.commune,
            Grouping::Team => self.team,
            Grouping::Village => self.village,
        }
    }

    fn from(&self, g: Grouping) -> String {
        if g == Grouping::Village && !self.village_join.is_empty() {
            format!("{} {}", self.from, self.village_join)
        } else {
            self.from.to_string()
        }
    }

    fn filter(&self, area: &Area) -> String {
        area_filter(area, self.province, self.commune)
    }
}

/// The SQL condition that keeps the rows of an area, given its province and commune columns
/// (the area's code is bound as `$3`).
pub(crate) fn area_filter(area: &Area, province: &str, commune: &str) -> String {
    match area {
        Area::Country => "$3 = $3".into(),
        Area::Province(_) => format!("{province} = $3"),
        Area::Commune(_) => format!("{commune} = $3"),
        Area::Communes(_) => format!("{commune} = ANY(string_to_array($3, ','))"),
    }
}

const ROLLUPS: Source = Source {
    from: "log_rollups r",
    village_join: "",
    province: "r.province_code",
    commune: "r.commune_code",
    team: "r.team_id::text",
    village: "r.village_id::text",
};
const MEMBER_LOGS: Source = Source {
    from: "member_month_logs m",
    village_join: "JOIN teams t ON t.id = m.team_id",
    province: "m.province_code",
    commune: "m.commune_code",
    team: "m.team_id::text",
    village: "coalesce(t.village_id, 0)::text",
};
const TEAMS: Source = Source {
    from: "teams t",
    village_join: "",
    province: "t.province_code",
    commune: "t.commune_code",
    team: "t.id::text",
    village: "coalesce(t.village_id, 0)::text",
};
const MEMBERS: Source = Source {
    from: "members m",
    village_join: "JOIN teams t ON t.id = m.team_id",
    province: "m.province_code",
    commune: "m.commune_code",
    team: "m.team_id::text",
    village: "coalesce(t.village_id, 0)::text",
};
const VILLAGES: Source = Source {
    from: "villages v",
    village_join: "",
    province: "v.province_code",
    commune: "v.commune_code",
    // Villages belong to no team: team rows show them in the "no team" row (key 0).
    team: "'0'::text",
    village: "v.id::text",
};
const TRAININGS: Source = Source {
    from: "trainings tr",
    village_join: "",
    province: "tr.province_code",
    commune: "tr.commune_code",
    team: "coalesce(tr.team_id, 0)::text",
    village: "coalesce(tr.village_id, 0)::text",
};
const ATTENDANCE: Source = Source {
    from: "training_attendance a JOIN trainings tr ON tr.id = a.training_id",
    village_join: "JOIN teams t ON t.id = a.team_id",
    province: "a.province_code",
    commune: "a.commune_code",
    team: "a.team_id::text",
    village: "coalesce(t.village_id, 0)::text",
};

#[derive(QueryableByName)]
struct KeyCounts {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = BigInt)]
    n1: i64,
    #[diesel(sql_type = BigInt)]
    n2: i64,
    #[diesel(sql_type = BigInt)]
    n3: i64,
}

/// The month's first and last day.
pub fn bounds(month: NaiveDate) -> (NaiveDate, NaiveDate) {
    let next = month
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(month);
    (month, next.pred_opt().unwrap_or(month))
}

/// `sql` with the parameters the grouped reads of an area share bound: `$1` and `$2` the
/// window's first and last (or next) month, `$3` the area's code (`area_filter`).
pub(crate) fn area_query(
    sql: String,
    (from, to): (NaiveDate, NaiveDate),
    area: &Area,
) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
    diesel::sql_query(sql)
        .into_boxed()
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<Text, _>(area_code(area))
}

/// The area's code as bound (`$3`): none, one code, or a comma-separated list.
pub(crate) fn area_code(area: &Area) -> String {
    match area {
        Area::Country => String::new(),
        Area::Province(c) | Area::Commune(c) => c.clone(),
        Area::Communes(list) => list.join(","),
    }
}

/// What one scan of a source counts: (figure name, aggregate expression), at most three.
type Values<'a> = &'a [(&'static str, &'a str)];

/// One report's counting: its area, its rows and its month, and the figures found so far.
struct Scan<'a> {
    area: &'a Area,
    g: Grouping,
    month: NaiveDate,
    out: HashMap<&'static str, HashMap<String, i64>>,
}

impl Scan<'_> {
    /// Up to three figures from one scan of `source`:
    /// `SELECT key, <value 1>, <value 2>, <value 3> FROM … WHERE <filter> AND <condition> GROUP BY key`.
    fn per_key(
        &mut self,
        conn: &mut PgConnection,
        source: &Source,
        values: Values<'_>,
        condition: &str,
    ) -> QueryResult<()> {
        self.per_key_joined(conn, source, "", values, condition)
    }

    /// `per_key` over the source with one more table joined (`join`, after the source's own).
    fn per_key_joined(
        &mut self,
        conn: &mut PgConnection,
        source: &Source,
        join: &str,
        values: Values<'_>,
        condition: &str,
    ) -> QueryResult<()> {
        let (start, end) = bounds(self.month);
        let expr = |i: usize| values.get(i).map_or("0", |(_, e)| *e);
        let sql = format!(
            "SELECT {key} AS key, ({v1})::bigint AS n1, ({v2})::bigint AS n2, ({v3})::bigint AS n3 FROM {from} \
             {join} WHERE {filter} AND ({condition}) AND $1 <= $2 GROUP BY 1",
            key = source.key(self.g),
            v1 = expr(0),
            v2 = expr(1),
            v3 = expr(2),
            from = source.from(self.g),
            filter = source.filter(self.area),
        );
        let rows: Vec<KeyCounts> = area_query(sql, (start, end), self.area).load(conn)?;
        for (i, (name, _)) in values.iter().enumerate() {
            let map = self.out.entry(name).or_default();
            for r in &rows {
                if let Some(k) = &r.key {
                    map.insert(k.clone(), [r.n1, r.n2, r.n3][i]);
                }
            }
        }
        Ok(())
    }

    /// Active teams, and members: active, joined, left, inactive (no log in the month) and
    /// logging.
    fn teams_and_members(&mut self, conn: &mut PgConnection) -> QueryResult<()> {
        self.per_key(conn, &TEAMS, &[("teams_active", "count(*)")], ACTIVE_TEAM)?;
        let active = format!("count(*) FILTER (WHERE {ACTIVE_MEMBER})");
        self.per_key(
            conn,
            &MEMBERS,
            &[
                ("members_active", &active),
                (
                    "members_joined",
                    "count(*) FILTER (WHERE m.joined_on BETWEEN $1 AND $2)",
                ),
                (
                    "members_left",
                    "count(*) FILTER (WHERE m.left_on BETWEEN $1 AND $2)",
                ),
            ],
            MEMBER_EXISTED,
        )?;
        // A member with no log in the month: the month's rollup of the area joined on its key
        // (one row a member and month), so that the planner may hash it once rather than probe
        // it per member (Hà Nội on the national data set: 23 → 10 ms).
        let logged = area_filter(self.area, "mm.province_code", "mm.commune_code");
        let join = format!(
            "LEFT JOIN member_month_logs mm ON mm.month = $1 AND mm.member_id = m.id \
             AND mm.logs > 0 AND {logged}"
        );
        let inactive = format!("count(*) FILTER (WHERE {ACTIVE_MEMBER} AND mm.member_id IS NULL)");
        self.per_key_joined(
            conn,
            &MEMBERS,
            &join,
            &[("members_inactive", &inactive)],
            MEMBER_EXISTED,
        )?;
        if self.g == Grouping::Village {
            members_logging_by_village(conn, &mut self.out, self.area, self.month)
        } else {
            self.per_key(
                conn,
                &MEMBER_LOGS,
                &[("members_logging", "count(*)")],
                "m.month = $1 AND m.logs > 0",
            )
        }
    }

    /// Villages (with a team or not), trainings and classes of the month, and attendance.
    fn villages_and_trainings(&mut self, conn: &mut PgConnection) -> QueryResult<()> {
        let with_team =
            format!("count(*) FILTER (WHERE EXISTS (SELECT 1 FROM teams t WHERE t.village_id = v.id AND {ACTIVE_TEAM}))");
        self.per_key(
            conn,
            &VILLAGES,
            &[("villages", "count(*)"), ("villages_with_team", &with_team)],
            VILLAGE_EXISTED,
        )?;
        self.per_key(
            conn,
            &TRAININGS,
            &[
                (
                    "member_trainings",
                    "count(*) FILTER (WHERE tr.kind = 'member_training')",
                ),
                (
                    "citizen_classes",
                    "count(*) FILTER (WHERE tr.kind = 'citizen_class')",
                ),
                (
                    "class_participants",
                    "coalesce(sum(tr.participants) FILTER (WHERE tr.kind = 'citizen_class'), 0)",
                ),
            ],
            IN_MONTH_TRAINING,
        )?;
        self.per_key(
            conn,
            &ATTENDANCE,
            &[
                (
                    "attendance_attended",
                    "count(*) FILTER (WHERE a.status IN ('attended', 'completed'))",
                ),
                (
                    "attendance_completed",
                    "count(*) FILTER (WHERE a.status = 'completed')",
                ),
            ],
            IN_MONTH_TRAINING,
        )
    }
}

/// Every counted figure of the month, per row key.
#[derive(Debug, Default)]
pub struct Counts {
    pub figures: HashMap<&'static str, HashMap<String, i64>>,
    pub logs: Vec<LogRow>,
}

/// One figure of the logs of a row: its total (`dimension` `total`, `value` empty) or one
/// value of one breakdown (`category`, `outcome`, `channel`, `sex`, `age_band`; an unrecorded
/// sex or age band is `not_given`).
#[derive(Debug, QueryableByName)]
pub struct LogRow {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Text)]
    pub dimension: String,
    #[diesel(sql_type = Text)]
    pub value: String,
    #[diesel(sql_type = BigInt)]
    pub logs: i64,
    #[diesel(sql_type = BigInt)]
    pub citizens: i64,
}

/// A team existed in the month: established (or, without a date, registered) before its end,
/// not dissolved and not archived before its start.
pub const TEAM_EXISTED: &str = "(t.archived_at IS NULL OR vn_month(t.archived_at) >= $1) \
    AND coalesce(t.established_on, (t.created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date) <= $2 \
    AND (t.dissolved_on IS NULL OR t.dissolved_on >= $1)";
const ACTIVE_TEAM: &str =
    "t.status <> 'inactive' AND (t.archived_at IS NULL OR vn_month(t.archived_at) >= $1) \
    AND coalesce(t.established_on, (t.created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date) <= $2 \
    AND (t.dissolved_on IS NULL OR t.dissolved_on >= $1)";
/// A village existed in the month: registered before its end, not archived before its start.
pub const VILLAGE_EXISTED: &str =
    "vn_month(v.created_at) <= $1 AND (v.archived_at IS NULL OR vn_month(v.archived_at) >= $1)";
/// A membership counts in the month: joined before its end, not left nor archived before its start.
const MEMBER_EXISTED: &str =
    "(m.archived_at IS NULL OR vn_month(m.archived_at) >= $1) AND m.joined_on <= $2";
const ACTIVE_MEMBER: &str = "(m.left_on IS NULL OR m.left_on >= $1)";
/// A membership under which no log of the month was recorded (read from the exact rollup).
pub const NOTHING_RECORDED: &str = "NOT EXISTS (SELECT 1 FROM member_month_logs mm \
    WHERE mm.month = $1 AND mm.member_id = m.id AND mm.logs > 0)";
/// A membership counted in the month and active in it.
pub const MEMBER_ACTIVE_IN_MONTH: &str =
    "(m.archived_at IS NULL OR vn_month(m.archived_at) >= $1) \
    AND m.joined_on <= $2 AND (m.left_on IS NULL OR m.left_on >= $1)";
const IN_MONTH_TRAINING: &str = "tr.archived_at IS NULL AND vn_month(tr.starts_at) = $1";

pub fn counts(
    conn: &mut PgConnection,
    area: &Area,
    g: Grouping,
    month: NaiveDate,
) -> QueryResult<Counts> {
    let mut scan = Scan {
        area,
        g,
        month,
        out: HashMap::new(),
    };
    scan.teams_and_members(conn)?;
    scan.villages_and_trainings(conn)?;
    Ok(Counts {
        figures: scan.out,
        logs: log_rows(conn, area, g, month)?,
    })
}

/// The figures of the logs of the month per row key, from the rollups.
fn log_rows(
    conn: &mut PgConnection,
    area: &Area,
    g: Grouping,
    month: NaiveDate,
) -> QueryResult<Vec<LogRow>> {
    // The marginals (each breakdown apart, and the total) are summed by SQL: a row of a
    // province report is ~30 figures instead of every combination of the five breakdowns.
    let sql = format!(
        "SELECT key, CASE WHEN GROUPING(category_code) = 0 THEN 'category' \
           WHEN GROUPING(outcome) = 0 THEN 'outcome' WHEN GROUPING(channel) = 0 THEN 'channel' \
           WHEN GROUPING(sex) = 0 THEN 'sex' WHEN GROUPING(age_band) = 0 THEN 'age_band' \
           ELSE 'total' END AS dimension, \
         coalesce(CASE WHEN GROUPING(category_code) = 0 THEN category_code \
           WHEN GROUPING(outcome) = 0 THEN outcome WHEN GROUPING(channel) = 0 THEN channel \
           WHEN GROUPING(sex) = 0 THEN sex WHEN GROUPING(age_band) = 0 THEN age_band END, '') AS value, \
         sum(logs)::bigint AS logs, sum(citizens)::bigint AS citizens FROM ( \
           SELECT {key} AS key, category_code, outcome, channel, \
             coalesce(nullif(citizen_sex, ''), 'not_given') AS sex, \
             coalesce(nullif(citizen_age_band, ''), 'not_given') AS age_band, logs, citizens \
           FROM {from} WHERE {filter} AND r.month = $1 AND $2 = $2) x \
         GROUP BY GROUPING SETS ((key), (key, category_code), (key, outcome), (key, channel), \
           (key, sex), (key, age_band))",
        key = ROLLUPS.key(g),
        from = ROLLUPS.from(g),
        filter = ROLLUPS.filter(area),
    );
    area_query(sql, (month, month), area).load(conn)
}

/// Members who logged in the month, per village row: a member counts once, in the village
/// (0: none) where it recorded the most logs that month; a tie goes to the village of its
/// earliest of those logs. Read from the month's logs of the area (one commune).
fn members_logging_by_village(
    conn: &mut PgConnection,
    out: &mut HashMap<&'static str, HashMap<String, i64>>,
    area: &Area,
    month: NaiveDate,
) -> QueryResult<()> {
    let next = month
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(month);
    let filter = area_filter(area, "l.province_code", "l.commune_code");
    let sql = format!(
        "SELECT key, count(*)::bigint AS n1, 0::bigint AS n2, 0::bigint AS n3 FROM ( \
           SELECT DISTINCT ON (member_id) member_id, village::text AS key FROM ( \
             SELECT l.member_id, coalesce(l.village_id, 0) AS village, count(*) AS n, min(l.occurred_at) AS first \
             FROM assistance_logs l WHERE {filter} AND l.archived_at IS NULL \
               AND l.occurred_at >= ($1::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') \
               AND l.occurred_at < ($2::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') \
             GROUP BY 1, 2) x \
           ORDER BY member_id, n DESC, first, village) y \
         GROUP BY 1"
    );
    let rows: Vec<KeyCounts> = area_query(sql, (month, next), area).load(conn)?;
    let map = out.entry("members_logging").or_default();
    for r in rows {
        if let Some(k) = r.key {
            map.insert(k, r.n1);
        }
    }
    Ok(())
}

/// The approved commune months of an area: (commune, province, frozen totals).
pub fn approved_totals(
    conn: &mut PgConnection,
    area: &Area,
    month: NaiveDate,
) -> QueryResult<Vec<(String, String, serde_json::Value)>> {
    approved_sections(conn, area, month, "totals")
}

/// One section (`totals`, `indicators`) of the snapshot frozen with each approved commune
/// month of an area, by commune: (commune, province, section); a snapshot without it is left
/// out.
pub(crate) fn approved_sections(
    conn: &mut PgConnection,
    area: &Area,
    month: NaiveDate,
    section: &str,
) -> QueryResult<Vec<(String, String, serde_json::Value)>> {
    use crate::schema::report_periods as rp;
    let mut q = rp::table
        .filter(rp::month.eq(month))
        .filter(rp::status.eq(crate::vocab::ReportStatus::Approved))
        .into_boxed();
    match area {
        Area::Country => {}
        Area::Province(p) => q = q.filter(rp::province_code.eq(p.clone())),
        Area::Commune(c) => q = q.filter(rp::commune_code.eq(c.clone())),
        Area::Communes(list) => q = q.filter(rp::commune_code.eq_any(list.clone())),
    }
    let rows: Vec<(String, String, Option<serde_json::Value>)> = q
        .select((
            rp::commune_code,
            rp::province_code,
            diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Jsonb>>(
                "snapshot -> ",
            )
            .bind::<Text, _>(section.to_string()),
        ))
        .order(rp::commune_code.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(c, p, t)| t.map(|t| (c, p, t)))
        .collect())
}

/// The villages (or teams) of a commune that are rows of its report for the month: those
/// that existed in the month, and any other that holds figures of it (`extra`).
pub fn row_units(
    conn: &mut PgConnection,
    g: Grouping,
    commune: &str,
    month: NaiveDate,
    extra: &[i64],
) -> QueryResult<Vec<(i64, String)>> {
    #[derive(QueryableByName)]
    struct Unit {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Text)]
        name: String,
    }
    let (_, end) = bounds(month);
    let sql = match g {
        Grouping::Team => format!(
            "SELECT t.id, t.name FROM teams t WHERE t.commune_code = $3 AND (({TEAM_EXISTED}) OR t.id = ANY($4)) ORDER BY t.id"
        ),
        _ => format!(
            "SELECT v.id, v.name FROM villages v WHERE v.commune_code = $3 AND (({VILLAGE_EXISTED} AND $2 = $2) OR v.id = ANY($4)) ORDER BY v.id"
        ),
    };
    let rows: Vec<Unit> = diesel::sql_query(sql)
        .bind::<Date, _>(month)
        .bind::<Date, _>(end)
        .bind::<Text, _>(commune)
        .bind::<diesel::sql_types::Array<BigInt>, _>(extra)
        .load(conn)?;
    Ok(rows.into_iter().map(|u| (u.id, u.name)).collect())
}

#[derive(Debug, QueryableByName)]
pub struct MonthTotals {
    #[diesel(sql_type = Date)]
    pub month: NaiveDate,
    #[diesel(sql_type = BigInt)]
    pub logs: i64,
    #[diesel(sql_type = BigInt)]
    pub citizens: i64,
}

const COMMUNE_MONTHS: Source = Source {
    from: "commune_month_totals r",
    village_join: "",
    province: "r.province_code",
    commune: "r.commune_code",
    team: "NULL::text",
    village: "NULL::text",
};

/// Logs and citizens helped per month in `[from, to]`.
pub fn log_trend(
    conn: &mut PgConnection,
    area: &Area,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<MonthTotals>> {
    let sql = format!(
        "SELECT r.month, sum(r.logs)::bigint AS logs, sum(r.citizens)::bigint AS citizens FROM {from} \
         WHERE {filter} AND r.month BETWEEN $1 AND $2 GROUP BY 1 ORDER BY 1",
        from = COMMUNE_MONTHS.from(Grouping::Commune),
        filter = COMMUNE_MONTHS.filter(area),
    );
    area_query(sql, (from, to), area).load(conn)
}

#[derive(Debug, QueryableByName)]
pub struct MonthCount {
    #[diesel(sql_type = Date)]
    pub month: NaiveDate,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Members who logged at least once, per month in `[from, to]`.
pub fn members_logging_trend(
    conn: &mut PgConnection,
    area: &Area,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<MonthCount>> {
    let sql = format!(
        "SELECT m.month, count(*)::bigint AS n FROM {from} WHERE {filter} AND m.month BETWEEN $1 AND $2 AND m.logs > 0 \
         GROUP BY 1 ORDER BY 1",
        from = MEMBER_LOGS.from(Grouping::Commune),
        filter = MEMBER_LOGS.filter(area),
    );
    area_query(sql, (from, to), area).load(conn)
}
