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
    province: "r.province_code",
    commune: "r.commune_code",
    team: "r.team_id::text",
    village: "r.village_id::text",
};
const MEMBER_LOGS: Source = Source {
    from: "member_month_logs m JOIN teams t ON t.id = m.team_id",
    province: "m.province_code",
    commune: "m.commune_code",
    team: "m.team_id::text",
    village: "coalesce(t.village_id, 0)::text",
};
const TEAMS: Source = Source {
    from: "teams t",
    province: "t.province_code",
    commune: "t.commune_code",
    team: "t.id::text",
    village: "coalesce(t.village_id, 0)::text",
};
const MEMBERS: Source = Source {
    from: "members m JOIN teams t ON t.id = m.team_id",
    province: "m.province_code",
    commune: "m.commune_code",
    team: "m.team_id::text",
    village: "coalesce(t.village_id, 0)::text",
};
const VILLAGES: Source = Source {
    from: "villages v",
    province: "v.province_code",
    commune: "v.commune_code",
    team: "NULL::text",
    village: "v.id::text",
};
const TRAININGS: Source = Source {
    from: "trainings tr",
    province: "tr.province_code",
    commune: "tr.commune_code",
    team: "coalesce(tr.team_id, 0)::text",
    village: "coalesce(tr.village_id, 0)::text",
};
const ATTENDANCE: Source = Source {
    from: "training_attendance a JOIN trainings tr ON tr.id = a.training_id JOIN teams t ON t.id = a.team_id",
    province: "a.province_code",
    commune: "a.commune_code",
    team: "a.team_id::text",
    village: "coalesce(t.village_id, 0)::text",
};

#[derive(QueryableByName)]
struct KeyCount {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
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

/// Runs `SELECT key, <value> FROM <source> WHERE <filter> AND <condition> GROUP BY key`.
fn per_key(
    conn: &mut PgConnection,
    source: &Source,
    value: &str,
    condition: &str,
    area: &Area,
    g: Grouping,
    month: NaiveDate,
) -> QueryResult<HashMap<String, i64>> {
    let (start, end) = bounds(month);
    let sql = format!(
        "SELECT {key} AS key, ({value})::bigint AS n FROM {from} WHERE {filter} AND ({condition}) \
         AND $1 <= $2 GROUP BY 1",
        key = source.key(g),
        from = source.from,
        filter = source.filter(area),
    );
    let rows: Vec<KeyCount> = diesel::sql_query(sql)
        .bind::<Date, _>(start)
        .bind::<Date, _>(end)
        .bind::<Text, _>(area_code(area))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.key.map(|k| (k, r.n)))
        .collect())
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
    let mut put = |name: &'static str, map: HashMap<String, i64>| {
        c.figures.insert(name, map);
    };
    put(
        "teams_active",
        per_key(conn, &TEAMS, "count(*)", ACTIVE_TEAM, area, g, month)?,
    );
    put(
        "members_active",
        per_key(conn, &MEMBERS, "count(*)", ACTIVE_MEMBER, area, g, month)?,
    );
    put(
        "members_joined",
        per_key(
            conn,
            &MEMBERS,
            "count(*)",
            "m.archived_at IS NULL AND m.joined_on BETWEEN $1 AND $2",
            area,
            g,
            month,
        )?,
    );
    put(
        "members_left",
        per_key(
            conn,
            &MEMBERS,
            "count(*)",
            "m.archived_at IS NULL AND m.left_on BETWEEN $1 AND $2",
            area,
            g,
            month,
        )?,
    );
    put(
        "members_logging",
        per_key(
            conn,
            &MEMBER_LOGS,
            "count(*)",
            "m.month = $1 AND m.logs > 0",
            area,
            g,
            month,
        )?,
    );
    put(
        "villages",
        per_key(
            conn,
            &VILLAGES,
            "count(*)",
            "v.archived_at IS NULL",
            area,
            g,
            month,
        )?,
    );
    put(
        "villages_with_team",
        per_key(
            conn,
            &VILLAGES,
            "count(*)",
            &format!("v.archived_at IS NULL AND EXISTS (SELECT 1 FROM teams t WHERE t.village_id = v.id AND {ACTIVE_TEAM})"),
            area,
            g,
            month,
        )?,
    );
    put(
        "member_trainings",
        per_key(
            conn,
            &TRAININGS,
            "count(*)",
            &format!("{IN_MONTH_TRAINING} AND tr.kind = 'member_training'"),
            area,
            g,
            month,
        )?,
    );
    put(
        "citizen_classes",
        per_key(
            conn,
            &TRAININGS,
            "count(*)",
            &format!("{IN_MONTH_TRAINING} AND tr.kind = 'citizen_class'"),
            area,
            g,
            month,
        )?,
    );
    put(
        "class_participants",
        per_key(
            conn,
            &TRAININGS,
            "coalesce(sum(tr.participants), 0)",
            &format!("{IN_MONTH_TRAINING} AND tr.kind = 'citizen_class'"),
            area,
            g,
            month,
        )?,
    );
    put(
        "attendance_attended",
        per_key(
            conn,
            &ATTENDANCE,
            "count(*)",
            &format!("{IN_MONTH_TRAINING} AND a.status IN ('attended', 'completed')"),
            area,
            g,
            month,
        )?,
    );
    put(
        "attendance_completed",
        per_key(
            conn,
            &ATTENDANCE,
            "count(*)",
            &format!("{IN_MONTH_TRAINING} AND a.status = 'completed'"),
            area,
            g,
            month,
        )?,
    );

    let sql = format!(
        "SELECT {key} AS key, category_code, outcome, channel, citizen_sex, citizen_age_band, \
         sum(logs)::bigint AS logs, sum(citizens)::bigint AS citizens \
         FROM {from} WHERE {filter} AND r.month = $1 AND $2 = $2 GROUP BY 1, 2, 3, 4, 5, 6",
        key = ROLLUPS.key(g),
        from = ROLLUPS.from,
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
        from = ROLLUPS.from,
        filter = ROLLUPS.filter(area),
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
        from = MEMBER_LOGS.from,
        filter = MEMBER_LOGS.filter(area),
    );
    diesel::sql_query(sql)
        .bind::<Date, _>(from)
        .bind::<Date, _>(to)
        .bind::<Text, _>(area_code(area))
        .load(conn)
}
