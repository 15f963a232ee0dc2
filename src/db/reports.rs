//! Aggregates for the monthly report. Log figures come from the rollups the triggers keep
//! exact; registry and training figures are counted from their (small) tables.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};

/// Which records a report covers.
#[derive(Clone, Debug)]
pub enum Area {
    Country,
    Province(String),
    Commune(String),
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
        match area {
            Area::Country => "$3 = $3".into(),
            Area::Province(_) => format!("{} = $3", self.province),
            Area::Commune(_) => format!("{} = $3", self.commune),
        }
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
    team: "NULL::text",
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

fn area_code(area: &Area) -> String {
    match area {
        Area::Country => String::new(),
        Area::Province(c) | Area::Commune(c) => c.clone(),
    }
}

/// What one scan of a source counts: (figure name, aggregate expression), at most three.
type Values<'a> = &'a [(&'static str, &'a str)];

/// Up to three figures from one scan of `source`:
/// `SELECT key, <value 1>, <value 2>, <value 3> FROM … WHERE <filter> AND <condition> GROUP BY key`.
#[allow(clippy::too_many_arguments)]
fn per_key(
    conn: &mut PgConnection,
    out: &mut HashMap<&'static str, HashMap<String, i64>>,
    source: &Source,
    values: Values<'_>,
    condition: &str,
    area: &Area,
    g: Grouping,
    month: NaiveDate,
) -> QueryResult<()> {
    let (start, end) = bounds(month);
    let expr = |i: usize| values.get(i).map_or("0", |(_, e)| *e);
    let sql = format!(
        "SELECT {key} AS key, ({v1})::bigint AS n1, ({v2})::bigint AS n2, ({v3})::bigint AS n3 FROM {from} \
         WHERE {filter} AND ({condition}) AND $1 <= $2 GROUP BY 1",
        key = source.key(g),
        v1 = expr(0),
        v2 = expr(1),
        v3 = expr(2),
        from = source.from(g),
        filter = source.filter(area),
    );
    let rows: Vec<KeyCounts> = diesel::sql_query(sql)
        .bind::<Date, _>(start)
        .bind::<Date, _>(end)
        .bind::<Text, _>(area_code(area))
        .load(conn)?;
    for (i, (name, _)) in values.iter().enumerate() {
        let map = out.entry(name).or_default();
        for r in &rows {
            if let Some(k) = &r.key {
                map.insert(k.clone(), [r.n1, r.n2, r.n3][i]);
            }
        }
    }
    Ok(())
}

/// Every counted figure of the month, per row key.
#[derive(Debug, Default)]
pub struct Counts {
    pub figures: HashMap<&'static str, HashMap<String, i64>>,
    pub logs: Vec<LogRow>,
}

#[derive(Debug, QueryableByName)]
pub struct LogRow {
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Text)]
    pub category_code: String,
    #[diesel(sql_type = Text)]
    pub outcome: String,
    #[diesel(sql_type = Text)]
    pub channel: String,
    #[diesel(sql_type = Text)]
    pub citizen_sex: String,
    #[diesel(sql_type = Text)]
    pub citizen_age_band: String,
    #[diesel(sql_type = BigInt)]
    pub logs: i64,
    #[diesel(sql_type = BigInt)]
    pub citizens: i64,
}

const ACTIVE_TEAM: &str = "t.archived_at IS NULL AND t.status <> 'inactive' \
    AND (t.established_on IS NULL OR t.established_on <= $2) AND (t.dissolved_on IS NULL OR t.dissolved_on >= $1)";
const ACTIVE_MEMBER: &str =
    "m.archived_at IS NULL AND m.joined_on <= $2 AND (m.left_on IS NULL OR m.left_on >= $1)";
const IN_MONTH_TRAINING: &str = "tr.archived_at IS NULL AND vn_month(tr.starts_at) = $1";

pub fn counts(
    conn: &mut PgConnection,
    area: &Area,
    g: Grouping,
    month: NaiveDate,
) -> QueryResult<Counts> {
    let mut c = Counts::default();
    let f = &mut c.figures;
    per_key(
        conn,
        f,
        &TEAMS,
        &[("teams_active", "count(*)")],
        ACTIVE_TEAM,
        area,
        g,
        month,
    )?;
    let active = format!("count(*) FILTER (WHERE {ACTIVE_MEMBER})");
    per_key(
        conn,
        f,
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
        "m.archived_at IS NULL AND m.joined_on <= $2",
        area,
        g,
        month,
    )?;
    per_key(
        conn,
        f,
        &MEMBER_LOGS,
        &[("members_logging", "count(*)")],
        "m.month = $1 AND m.logs > 0",
        area,
        g,
        month,
    )?;
    let with_team =
        format!("count(*) FILTER (WHERE EXISTS (SELECT 1 FROM teams t WHERE t.village_id = v.id AND {ACTIVE_TEAM}))");
    per_key(
        conn,
        f,
        &VILLAGES,
        &[("villages", "count(*)"), ("villages_with_team", &with_team)],
        "v.archived_at IS NULL",
        area,
        g,
        month,
    )?;
    per_key(
        conn,
        f,
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
        area,
        g,
        month,
    )?;
    per_key(
        conn,
        f,
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
        area,
        g,
        month,
    )?;

    let sql = format!(
        "SELECT {key} AS key, category_code, outcome, channel, citizen_sex, citizen_age_band, \
         sum(logs)::bigint AS logs, sum(citizens)::bigint AS citizens \
         FROM {from} WHERE {filter} AND r.month = $1 AND $2 = $2 GROUP BY 1, 2, 3, 4, 5, 6",
        key = ROLLUPS.key(g),
        from = ROLLUPS.from(g),
        filter = ROLLUPS.filter(area),
    );
    c.logs = diesel::sql_query(sql)
        .bind::<Date, _>(month)
        .bind::<Date, _>(month)
        .bind::<Text, _>(area_code(area))
        .load(conn)?;
    Ok(c)
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
    diesel::sql_query(sql)
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<Text, _>(area_code(area))
        .load(conn)
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
    diesel::sql_query(sql)
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<Text, _>(area_code(area))
        .load(conn)
}
