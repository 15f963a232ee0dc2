//! Monthly reports: live figures from rollups, the submission workflow, and exports.

pub mod cache;
pub mod country;
pub mod discipline;
pub mod export;
pub mod indicators;
pub mod read;
pub mod workflow;

use crate::month::Month;
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::reports::{self as agg, Area, Counts, Grouping};
use crate::error::{AppError, AppResult};

pub const OUTCOMES: [&str; 4] = ["done", "partly_done", "referred", "could_not_help"];
pub const CHANNELS: [&str; 4] = ["home_visit", "commune_centre", "phone", "group_session"];
pub const SEXES: [&str; 4] = ["male", "female", "other", "not_given"];
pub const AGE_BANDS: [&str; 5] = ["under_18", "18_35", "36_59", "60_plus", "not_given"];

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tally {
    pub logs: i64,
    pub citizens: i64,
}

/// The figures of one unit (or one row) for one month. Every breakdown lists every key, with
/// zeros where nothing happened.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Figures {
    pub teams_active: i64,
    pub members_active: i64,
    pub members_joined: i64,
    pub members_left: i64,
    /// Members who recorded at least one assistance log in the month.
    pub members_logging: i64,
    /// Active members who recorded nothing in the month (`GET /reports/inactive` lists them).
    #[serde(default)]
    pub members_inactive: i64,
    pub villages: i64,
    pub villages_with_team: i64,
    /// villages_with_team / villages (null without villages).
    pub village_coverage: Option<f64>,
    pub member_trainings: i64,
    pub citizen_classes: i64,
    pub attendance_attended: i64,
    pub attendance_completed: i64,
    pub class_participants: i64,
    pub logs: i64,
    pub citizens_helped: i64,
    pub by_category: BTreeMap<String, Tally>,
    pub by_outcome: BTreeMap<String, Tally>,
    pub by_channel: BTreeMap<String, Tally>,
    pub by_sex: BTreeMap<String, Tally>,
    pub by_age_band: BTreeMap<String, Tally>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportRow {
    /// `province`, `commune`, `village` or `team`.
    pub kind: String,
    /// Official code, or the id of a village or team; `none` for the row of what belongs to
    /// no village (village rows) or to no team (team rows).
    pub key: String,
    pub name: String,
    /// True when the row's figures are those frozen at approval: every row of an approved
    /// commune report served frozen; a commune row of an approved month in a province report; a
    /// province row whose every commune is approved (other province rows mix frozen communes
    /// with live ones).
    #[serde(default)]
    pub frozen: bool,
    pub figures: Figures,
    /// The row's indicators (village rows: the village-level ones; none for team rows).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<indicators::IndicatorFigure>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UnitRef {
    /// Official code; `VN` for the whole country.
    pub code: String,
    pub name: String,
    /// `country`, `province` or `commune`.
    pub level: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MonthlyReport {
    pub unit: UnitRef,
    /// `YYYY-MM`, a calendar month in Asia/Ho_Chi_Minh.
    pub month: String,
    pub generated_at: DateTime<Utc>,
    /// True when these are the figures frozen at approval.
    pub frozen: bool,
    /// For a commune: its report's workflow state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<workflow::PeriodStatus>,
    pub totals: Figures,
    pub rows: Vec<ReportRow>,
    /// Programme indicators of the unit: numerator, denominator, rate, target, progress.
    #[serde(default)]
    pub indicators: Vec<indicators::IndicatorFigure>,
    /// For a province: how its communes reported the month (rates, on time, overdue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporting: Option<discipline::ReportingSummary>,
}

/// The first day of the Vietnamese calendar month of an instant.
pub fn vn_month(t: DateTime<Utc>) -> NaiveDate {
    Month::of(t).first_day()
}

/// Parses `YYYY-MM` (or a day, `YYYY-MM-DD`, standing for its month; `Month::parse_or_day`);
/// refuses months in the future or before the programme.
pub fn parse_month(field: &str, text: &str) -> AppResult<NaiveDate> {
    let month = Month::parse_or_day(text.trim()).map_err(|_| {
        AppError::field(
            field,
            "invalid_month",
            "a month is written YYYY-MM, e.g. 2025-10 (a day, YYYY-MM-DD, stands for its month)",
        )
    })?;
    if month > Month::current() {
        return Err(AppError::field(
            field,
            "future_month",
            "the month has not started yet",
        ));
    }
    if month.first_day() < NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or(month.first_day()) {
        return Err(AppError::field(
            field,
            "too_old",
            "reports start in January 2024",
        ));
    }
    Ok(month.first_day())
}

fn breakdown(keys: &[&str]) -> BTreeMap<String, Tally> {
    keys.iter()
        .map(|k| (k.to_string(), Tally::default()))
        .collect()
}

fn empty_figures(categories: &[String]) -> Figures {
    let cats: Vec<&str> = categories.iter().map(String::as_str).collect();
    Figures {
        by_category: breakdown(&cats),
        by_outcome: breakdown(&OUTCOMES),
        by_channel: breakdown(&CHANNELS),
        by_sex: breakdown(&SEXES),
        by_age_band: breakdown(&AGE_BANDS),
        ..Default::default()
    }
}

fn add(map: &mut BTreeMap<String, Tally>, key: &str, logs: i64, citizens: i64) {
    let tally = map.entry(key.to_string()).or_default();
    tally.logs += logs;
    tally.citizens += citizens;
}

/// Figures per row key, for every key in `keys` (zeros for rows without activity).
fn figures_by_key(
    counts: &Counts,
    keys: &[String],
    categories: &[String],
) -> BTreeMap<String, Figures> {
    let mut out: BTreeMap<String, Figures> = keys
        .iter()
        .map(|k| (k.clone(), empty_figures(categories)))
        .collect();
    for (key, f) in out.iter_mut() {
        let get = |name: &str| {
            counts
                .figures
                .get(name)
                .and_then(|m| m.get(key))
                .copied()
                .unwrap_or(0)
        };
        // Each figure is counted under its own name (`db::reports::counts`).
        macro_rules! counted {
            ($($figure:ident),+ $(,)?) => {$( f.$figure = get(stringify!($figure)); )+};
        }
        counted!(
            teams_active,
            members_active,
            members_joined,
            members_left,
            members_logging,
            members_inactive,
            villages,
            villages_with_team,
            member_trainings,
            citizen_classes,
            class_participants,
            attendance_attended,
            attendance_completed,
        );
    }
    for row in &counts.logs {
        let Some(f) = out.get_mut(&row.key) else {
            continue;
        };
        let map = match row.dimension.as_str() {
            "category" => &mut f.by_category,
            "outcome" => &mut f.by_outcome,
            "channel" => &mut f.by_channel,
            "sex" => &mut f.by_sex,
            "age_band" => &mut f.by_age_band,
            _ => {
                f.logs += row.logs;
                f.citizens_helped += row.citizens;
                continue;
            }
        };
        add(map, &row.value, row.logs, row.citizens);
    }
    for f in out.values_mut() {
        f.village_coverage = coverage(f);
    }
    out
}

/// The report's unit: `VN` for the country, else an official province or commune code.
pub fn unit_of(conn: &mut PgConnection, code: &str) -> AppResult<(UnitRef, Area)> {
    if code.eq_ignore_ascii_case("VN") {
        return Ok((
            UnitRef {
                code: "VN".into(),
                name: "Việt Nam".into(),
                level: "country".into(),
            },
            Area::Country,
        ));
    }
    let unit = crate::db::units::get(conn, code)?.ok_or_else(|| {
        AppError::field(
            "unit",
            "unknown_unit",
            format!("no unit has the code {code:?}"),
        )
    })?;
    let area = match unit.fields.level.as_str() {
        "province" => Area::Province(unit.fields.code.clone()),
        "commune" => Area::Commune(unit.fields.code.clone()),
        _ => {
            return Err(AppError::field(
                "unit",
                "unsupported_level",
                "reports cover the country, a province or a commune",
            ))
        }
    };
    Ok((
        UnitRef {
            code: unit.fields.code,
            name: unit.fields.name,
            level: unit.fields.level,
        },
        area,
    ))
}

/// The key of the row holding what belongs to no village or no team.
pub const NONE_KEY: &str = "none";

/// The name of every category by code (for the headers of exported files).
pub fn category_names(
    conn: &mut PgConnection,
) -> QueryResult<std::collections::HashMap<String, String>> {
    Ok(crate::db::categories::names(conn)?.into_iter().collect())
}

fn categories(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    crate::db::categories::codes_in_order(conn)
}

/// Rows of one grouping of a commune: every village (team) that existed in the month or holds
/// figures of it, then the row of what belongs to none, so the rows add up to the totals.
fn commune_rows(
    conn: &mut PgConnection,
    area: &Area,
    commune: &str,
    grouping: Grouping,
    month: NaiveDate,
    categories: &[String],
) -> AppResult<Vec<ReportRow>> {
    let counts = agg::counts(conn, area, grouping, month)?;
    let mut with_data: Vec<i64> = counts
        .figures
        .values()
        .flat_map(|m| m.iter().filter(|(_, n)| **n != 0).map(|(k, _)| k))
        .chain(counts.logs.iter().map(|r| &r.key))
        .filter_map(|k| k.parse::<i64>().ok())
        .filter(|id| *id != 0)
        .collect();
    with_data.sort_unstable();
    with_data.dedup();
    let units = agg::row_units(conn, grouping, commune, month, &with_data)?;
    let (kind, none_name) = match grouping {
        Grouping::Team => ("team", "Không thuộc tổ nào"),
        _ => ("village", "Không thuộc thôn, tổ dân phố nào"),
    };
    let mut keys: Vec<String> = units.iter().map(|(id, _)| id.to_string()).collect();
    keys.push("0".into());
    let mut figures = figures_by_key(&counts, &keys, categories);
    let mut rows: Vec<ReportRow> = units
        .into_iter()
        .map(|(id, name)| ReportRow {
            kind: kind.into(),
            figures: figures
                .remove(&id.to_string())
                .unwrap_or_else(|| empty_figures(categories)),
            key: id.to_string(),
            name,
            frozen: false,
            indicators: Vec::new(),
        })
        .collect();
    rows.push(ReportRow {
        kind: kind.into(),
        key: NONE_KEY.into(),
        name: none_name.into(),
        frozen: false,
        indicators: Vec::new(),
        figures: figures
            .remove("0")
            .unwrap_or_else(|| empty_figures(categories)),
    });
    Ok(rows)
}

/// Rows keyed by official code, with zeros for units without activity.
fn unit_rows(
    conn: &mut PgConnection,
    area: &Area,
    grouping: Grouping,
    kind: &str,
    units: Vec<(String, String)>,
    month: NaiveDate,
    categories: &[String],
) -> AppResult<Vec<ReportRow>> {
    let keys: Vec<String> = units.iter().map(|(k, _)| k.clone()).collect();
    let counts = agg::counts(conn, area, grouping, month)?;
    let mut figures = figures_by_key(&counts, &keys, categories);
    Ok(units
        .into_iter()
        .map(|(key, name)| ReportRow {
            kind: kind.into(),
            figures: figures
                .remove(&key)
                .unwrap_or_else(|| empty_figures(categories)),
            key,
            name,
            frozen: false,
            indicators: Vec::new(),
        })
        .collect())
}

fn frozen_figures(value: serde_json::Value) -> AppResult<Figures> {
    serde_json::from_value(value).map_err(AppError::internal)
}

/// Computes the report of `area` for `month`: live figures, except that a province's or the
/// country's report takes the frozen figures of every approved commune month, so an approved
/// month reads the same in every report.
pub fn live(
    conn: &mut PgConnection,
    unit: UnitRef,
    area: &Area,
    month: NaiveDate,
) -> AppResult<MonthlyReport> {
    let mut report = figures(conn, unit, area, month)?;
    report.reporting = reporting(conn, area, month)?;
    Ok(report)
}

/// The reporting summary of a province's report, as of now (null for other areas).
pub fn reporting(
    conn: &mut PgConnection,
    area: &Area,
    month: NaiveDate,
) -> AppResult<Option<discipline::ReportingSummary>> {
    match area {
        Area::Province(p) => discipline::province_summary(conn, p, month),
        _ => Ok(None),
    }
}

/// A commune's totals and rows: its villages, then its teams.
fn commune_figures(
    conn: &mut PgConnection,
    area: &Area,
    commune: &String,
    month: NaiveDate,
    categories: &[String],
) -> AppResult<(Figures, Vec<ReportRow>)> {
    let counts = agg::counts(conn, area, Grouping::Commune, month)?;
    let totals = figures_by_key(&counts, std::slice::from_ref(commune), categories)
        .remove(commune)
        .unwrap_or_else(|| empty_figures(categories));
    let mut rows = commune_rows(conn, area, commune, Grouping::Village, month, categories)?;
    rows.extend(commune_rows(
        conn,
        area,
        commune,
        Grouping::Team,
        month,
        categories,
    )?);
    Ok((totals, rows))
}

/// A province's rows, its communes (the approved ones frozen), and their sum.
fn province_figures(
    conn: &mut PgConnection,
    area: &Area,
    province: &str,
    month: NaiveDate,
    categories: &[String],
) -> AppResult<(Figures, Vec<ReportRow>)> {
    let communes = crate::db::units::live_children(conn, province)?;
    let mut rows = unit_rows(
        conn,
        area,
        Grouping::Commune,
        "commune",
        communes,
        month,
        categories,
    )?;
    for (commune, _, totals) in agg::approved_totals(conn, area, month)? {
        if let Some(row) = rows.iter_mut().find(|r| r.key == commune) {
            row.figures = frozen_figures(totals)?;
            row.frozen = true;
        }
    }
    Ok((sum_rows(&rows, categories), rows))
}

/// Approved communes: their live figures out of their province's row, their frozen ones in;
/// a province row is frozen when all its communes are.
fn freeze_approved_communes(
    conn: &mut PgConnection,
    area: &Area,
    month: NaiveDate,
    categories: &[String],
    rows: &mut [ReportRow],
) -> AppResult<()> {
    let approved = agg::approved_totals(conn, area, month)?;
    if approved.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = approved.iter().map(|(c, _, _)| c.clone()).collect();
    let live_part = agg::counts(conn, &Area::Communes(list), Grouping::Province, month)?;
    let keys: Vec<String> = rows.iter().map(|r| r.key.clone()).collect();
    let live_part = figures_by_key(&live_part, &keys, categories);
    let communes = crate::db::units::communes_per_province(conn)?;
    for row in rows.iter_mut() {
        if let Some(f) = live_part.get(&row.key) {
            add_figures(&mut row.figures, f, -1);
        }
        let mut frozen = 0;
        for (_, _, totals) in approved.iter().filter(|(_, p, _)| *p == row.key) {
            add_figures(&mut row.figures, &frozen_figures(totals.clone())?, 1);
            frozen += 1;
        }
        let all = communes
            .iter()
            .find(|(p, _)| *p == row.key)
            .map_or(0, |(_, n)| *n);
        row.frozen = all > 0 && frozen >= all;
        row.figures.village_coverage = coverage(&row.figures);
    }
    Ok(())
}

/// The report without its reporting summary: what depends only on the records (and so can be
/// kept while their version stands, `cache`), not on the time it is read.
pub fn figures(
    conn: &mut PgConnection,
    unit: UnitRef,
    area: &Area,
    month: NaiveDate,
) -> AppResult<MonthlyReport> {
    figures_with(conn, &cache::Kept::new(0), unit, area, month)
}

/// `figures`, taking the country's province parts kept in `parts` where they still stand.
pub fn figures_with(
    conn: &mut PgConnection,
    parts: &cache::Kept<country::ProvincePart>,
    unit: UnitRef,
    area: &Area,
    month: NaiveDate,
) -> AppResult<MonthlyReport> {
    let categories = categories(conn)?;
    let (totals, mut rows) = match area {
        Area::Commune(c) => commune_figures(conn, area, c, month, &categories)?,
        Area::Province(p) => province_figures(conn, area, p, month, &categories)?,
        Area::Country => return country::figures(conn, parts, unit, month, &categories),
        Area::Communes(_) => {
            return Err(AppError::internal(
                "a set of communes is not the unit of a report",
            ))
        }
    };
    let indicators = indicators::section(conn, area, month, &mut rows)?;
    Ok(MonthlyReport::live(unit, month, totals, rows, indicators))
}

impl MonthlyReport {
    /// A report of live figures, as computed now (its reporting summary filled apart).
    fn live(
        unit: UnitRef,
        month: NaiveDate,
        totals: Figures,
        rows: Vec<ReportRow>,
        indicators: Vec<indicators::IndicatorFigure>,
    ) -> Self {
        MonthlyReport {
            unit,
            month: month.format("%Y-%m").to_string(),
            generated_at: Utc::now(),
            frozen: false,
            status: None,
            totals,
            rows,
            indicators,
            reporting: None,
        }
    }
}

fn coverage(f: &Figures) -> Option<f64> {
    (f.villages > 0).then(|| f.villages_with_team as f64 / f.villages as f64)
}

/// Adds (`sign` 1) or takes away (`sign` -1) the figures `f` from `t`.
fn add_figures(t: &mut Figures, f: &Figures, sign: i64) {
    t.teams_active += sign * f.teams_active;
    t.members_active += sign * f.members_active;
    t.members_joined += sign * f.members_joined;
    t.members_left += sign * f.members_left;
    t.members_logging += sign * f.members_logging;
    t.members_inactive += sign * f.members_inactive;
    t.villages += sign * f.villages;
    t.villages_with_team += sign * f.villages_with_team;
    t.member_trainings += sign * f.member_trainings;
    t.citizen_classes += sign * f.citizen_classes;
    t.attendance_attended += sign * f.attendance_attended;
    t.attendance_completed += sign * f.attendance_completed;
    t.class_participants += sign * f.class_participants;
    t.logs += sign * f.logs;
    t.citizens_helped += sign * f.citizens_helped;
    for (map, into) in [
        (&f.by_category, &mut t.by_category),
        (&f.by_outcome, &mut t.by_outcome),
        (&f.by_channel, &mut t.by_channel),
        (&f.by_sex, &mut t.by_sex),
        (&f.by_age_band, &mut t.by_age_band),
    ] {
        for (k, v) in map {
            add(into, k, sign * v.logs, sign * v.citizens);
        }
    }
}

/// Totals as the sum of rows that partition the unit (communes of a province, provinces).
fn sum_rows(rows: &[ReportRow], categories: &[String]) -> Figures {
    let mut t = empty_figures(categories);
    for r in rows {
        add_figures(&mut t, &r.figures, 1);
    }
    t.village_coverage = coverage(&t);
    t
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TrendPoint {
    /// `YYYY-MM`.
    pub month: String,
    pub logs: i64,
    pub citizens_helped: i64,
    pub members_logging: i64,
}

/// Headline figures month by month, every month present.
pub fn trend(
    conn: &mut PgConnection,
    area: &Area,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<TrendPoint>> {
    let logs = agg::log_trend(conn, area, from, to)?;
    let members = agg::members_logging_trend(conn, area, from, to)?;
    let mut out = Vec::new();
    let mut m = from;
    while m <= to {
        let l = logs.iter().find(|r| r.month == m);
        out.push(TrendPoint {
            month: m.format("%Y-%m").to_string(),
            logs: l.map_or(0, |r| r.logs),
            citizens_helped: l.map_or(0, |r| r.citizens),
            members_logging: members.iter().find(|r| r.month == m).map_or(0, |r| r.n),
        });
        m = match m.checked_add_months(chrono::Months::new(1)) {
            Some(next) => next,
            None => break,
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_of(y: i32, m: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, 1).expect("a real month")
    }

    /// The code of the one field error `parse_month` answers with.
    fn refusal(text: &str) -> String {
        match parse_month("month", text) {
            Err(AppError::Validation(errors)) => {
                assert_eq!(errors.len(), 1, "{text:?}");
                assert_eq!(errors[0].field, "month", "{text:?}");
                errors[0].code.clone()
            }
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    #[test]
    fn a_month_parses_to_its_first_day() {
        let now = vn_month(Utc::now());
        let now_text = now.format("%Y-%m").to_string();
        for (text, first) in [
            ("2025-10", first_of(2025, 10)),
            ("2024-01", first_of(2024, 1)),
            (" 2025-02 ", first_of(2025, 2)),
            (now_text.as_str(), now),
        ] {
            assert_eq!(parse_month("month", text).expect(text), first, "{text:?}");
        }
    }

    #[test]
    fn a_day_stands_for_its_month() {
        for (text, first) in [
            ("2025-10-31", first_of(2025, 10)),
            ("2024-02-29", first_of(2024, 2)),
        ] {
            assert_eq!(parse_month("month", text).expect(text), first, "{text:?}");
        }
        // Not a real day: not read as a month either.
        assert_eq!(refusal("2025-02-30"), "invalid_month");
        assert_eq!(refusal("2025-10-32"), "invalid_month");
    }

    #[test]
    fn what_is_not_a_month_is_refused() {
        for text in [
            "",
            "2025",
            "2025-1",
            "25-10",
            "2025-13",
            "2025-00",
            "2025/10",
            "10-2025",
            "2025-1O",
            "2025-10-",
            "abcd-ef",
            "2025–10",
            "２０２５-10",
        ] {
            assert_eq!(refusal(text), "invalid_month", "{text:?}");
        }
    }

    #[test]
    fn months_before_the_programme_or_to_come_are_refused() {
        assert_eq!(refusal("2023-12"), "too_old");
        assert_eq!(refusal("1999-01-15"), "too_old");
        let next = vn_month(Utc::now()) + chrono::Months::new(1);
        assert_eq!(refusal(&next.format("%Y-%m").to_string()), "future_month");
        assert_eq!(refusal("9999-12"), "future_month");
    }
}
