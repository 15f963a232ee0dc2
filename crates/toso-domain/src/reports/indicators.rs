//! The indicators section of the monthly report: for each live indicator of the catalogue the
//! numerator, denominator, rate, target, progress and status, for the unit and each child row.
//! Numbers come from grouped queries (`db::indicators`): entered values standing at the end of
//! the month, computed numerators from January to the month, denominators of the year. Rates
//! aggregate as the sum of numerators over the sum of denominators. Approved communes count
//! with the section frozen in their snapshot.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};

use super::ReportRow;
use crate::db::indicators::{self as rows, Indicator, Keyed, Target, UnitDenominators};
use crate::db::reports::Area;
use crate::error::{AppError, AppResult};
use crate::indicators::pick;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IndicatorFigure {
    pub code: String,
    pub name: String,
    /// `count` or `rate`.
    pub kind: String,
    /// Entered indicators: the latest values of the year up to the month; computed ones: from
    /// January to the end of the month.
    pub numerator: i64,
    /// Rates only; null when the unit has no denominator for the year.
    pub denominator: Option<i64>,
    /// numerator / denominator (0.6985 is 69.85%); null for counts and without a denominator.
    pub rate: Option<f64>,
    /// The target that applies in the month (the month's own, else the year's).
    pub target_value: Option<i64>,
    /// A rate target, 0 to 1.
    pub target_rate: Option<f64>,
    pub due_on: Option<NaiveDate>,
    /// Share of the target reached: numerator / target_value, or rate / target_rate.
    pub progress: Option<f64>,
    /// `met`, `on_track` (progress at least the share of the target's period elapsed at the
    /// end of the month) or `behind`; null without a target.
    pub status: Option<String>,
}

/// A numerator and denominator being added up.
#[derive(Clone, Copy, Debug, Default)]
struct Sum {
    numerator: i64,
    denominator: Option<i64>,
}

impl Sum {
    fn add(&mut self, n: i64, d: Option<i64>) {
        self.numerator += n;
        if let Some(d) = d {
            self.denominator = Some(self.denominator.unwrap_or(0) + d);
        }
    }
}

/// Per indicator code, per key (commune code or village id).
type Table = HashMap<(String, String), Sum>;

/// The share of a target's period elapsed at the end of `month`, 0 to 1.
fn elapsed(month: NaiveDate, target: &Target) -> f64 {
    let start = target
        .fields
        .month
        .or_else(|| NaiveDate::from_ymd_opt(target.fields.year, 1, 1))
        .unwrap_or(month);
    let end_of_month = month
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(month);
    let period = (target.fields.due_on - start).num_days() + 1;
    if period <= 0 {
        return 1.0;
    }
    ((end_of_month - start).num_days() as f64 / period as f64).clamp(0.0, 1.0)
}

fn figure(ind: &Indicator, sum: Sum, target: Option<&Target>, month: NaiveDate) -> IndicatorFigure {
    let rate = if ind.fields.kind == "rate" {
        sum.denominator
            .filter(|d| *d > 0)
            .map(|d| sum.numerator as f64 / d as f64)
    } else {
        None
    };
    let mut f = IndicatorFigure {
        code: ind.fields.code.clone(),
        name: ind.fields.name.clone(),
        kind: ind.fields.kind.clone(),
        numerator: sum.numerator,
        denominator: if ind.fields.kind == "rate" {
            sum.denominator
        } else {
            None
        },
        rate,
        ..Default::default()
    };
    if let Some(t) = target {
        f.target_value = t.fields.target_value;
        f.target_rate = t.fields.target_rate;
        f.due_on = Some(t.fields.due_on);
        f.progress = match (t.fields.target_value, t.fields.target_rate) {
            (Some(0), _) | (None, Some(0.0)) => Some(1.0),
            (Some(v), _) => Some(sum.numerator as f64 / v as f64),
            (None, Some(r)) => rate.map(|x| x / r),
            (None, None) => None,
        };
        f.status = f.progress.map(|p| {
            if p >= 1.0 - 1e-9 {
                "met"
            } else if p + 1e-9 >= elapsed(month, t) {
                "on_track"
            } else {
                "behind"
            }
            .to_string()
        });
    }
    f
}

/// The target of a unit for an indicator: the month's own before the year's.
fn target_of<'a>(targets: &'a [Target], code: &str, kind: &str, key: &str) -> Option<&'a Target> {
    let mut found: Option<&Target> = None;
    for t in targets.iter().filter(|t| {
        t.fields.indicator_code == code && t.fields.unit_kind == kind && t.fields.unit_key == key
    }) {
        if found.is_none() || t.fields.month.is_some() {
            found = Some(t);
        }
    }
    found
}

/// Adds a numerator and denominator to the sum of an indicator at a key.
fn add_to(table: &mut Table, code: &str, key: &str, n: i64, d: Option<i64>) {
    table
        .entry((code.to_string(), key.to_string()))
        .or_default()
        .add(n, d);
}

/// Entered values standing at the end of the month, with their own denominators where the
/// indicator takes them from the entry.
fn add_entered(
    conn: &mut PgConnection,
    table: &mut Table,
    catalogue: &[Indicator],
    area: &Area,
    keyed: Keyed,
    (jan, month): (NaiveDate, NaiveDate),
) -> AppResult<()> {
    if !catalogue.iter().any(|i| i.fields.source == "entered") {
        return Ok(());
    }
    let by_code: HashMap<&str, &Indicator> = catalogue
        .iter()
        .map(|i| (i.fields.code.as_str(), i))
        .collect();
    for e in rows::entered(conn, area, keyed, jan, month)? {
        let Some(ind) = by_code.get(e.code.as_str()) else {
            continue;
        };
        let d = match ind.fields.denominator.as_deref() {
            Some("dossiers" | "entered") => e.denominator,
            _ => None,
        };
        add_to(table, &e.code, &e.key, e.value, d);
    }
    Ok(())
}

/// Computed numerators, counted per commune: class participants, citizens helped in the logs
/// of a category, villages with a team.
fn add_computed(
    conn: &mut PgConnection,
    table: &mut Table,
    catalogue: &[Indicator],
    area: &Area,
    dens: &HashMap<String, UnitDenominators>,
    (jan, month): (NaiveDate, NaiveDate),
) -> AppResult<()> {
    if catalogue.iter().any(|i| i.fields.source == "trainings") {
        let participants = rows::class_participants(conn, area, jan, month)?;
        for ind in catalogue.iter().filter(|i| i.fields.source == "trainings") {
            for (key, n) in &participants {
                add_to(table, &ind.fields.code, key, *n, None);
            }
        }
    }
    let categories: Vec<String> = catalogue
        .iter()
        .filter(|i| i.fields.source == "logs")
        .filter_map(|i| i.fields.category_code.clone())
        .collect();
    if !categories.is_empty() {
        let helped = rows::citizens_helped(conn, area, &categories, jan, month)?;
        for ind in catalogue.iter().filter(|i| i.fields.source == "logs") {
            for r in helped
                .iter()
                .filter(|r| Some(&r.code) == ind.fields.category_code.as_ref())
            {
                add_to(table, &ind.fields.code, &r.key, r.value, None);
            }
        }
    }
    for ind in catalogue.iter().filter(|i| i.fields.source == "villages") {
        for (key, u) in dens {
            add_to(table, &ind.fields.code, key, u.villages_with_team, None);
        }
    }
    Ok(())
}

/// Denominators of the unit's population figures.
fn add_population_denominators(
    table: &mut Table,
    catalogue: &[Indicator],
    dens: &HashMap<String, UnitDenominators>,
) {
    for ind in catalogue {
        let Some(kind) = ind.fields.denominator.as_deref() else {
            continue;
        };
        if matches!(kind, "dossiers" | "entered") {
            continue;
        }
        for (key, u) in dens {
            if let Some(d) = pick(u, kind) {
                add_to(table, &ind.fields.code, key, 0, Some(d));
            }
        }
    }
}

/// Numerators and denominators per key of an area, grouped in SQL.
fn numbers(
    conn: &mut PgConnection,
    catalogue: &[Indicator],
    area: &Area,
    keyed: Keyed,
    month: NaiveDate,
) -> AppResult<(Table, HashMap<String, UnitDenominators>)> {
    let jan = NaiveDate::from_ymd_opt(month.year(), 1, 1).unwrap_or(month);
    let dens: HashMap<String, UnitDenominators> =
        rows::unit_denominators(conn, area, keyed, month.year(), month)?
            .into_iter()
            .map(|u| (u.key.clone(), u))
            .collect();
    let mut table = Table::new();
    add_entered(conn, &mut table, catalogue, area, keyed, (jan, month))?;
    if keyed == Keyed::Commune {
        add_computed(conn, &mut table, catalogue, area, &dens, (jan, month))?;
    }
    add_population_denominators(&mut table, catalogue, &dens);
    Ok((table, dens))
}

fn frozen_section(value: &serde_json::Value) -> AppResult<Vec<IndicatorFigure>> {
    serde_json::from_value(value.clone()).map_err(AppError::internal)
}

fn sum_of(figures: &[IndicatorFigure], code: &str) -> Option<Sum> {
    figures.iter().find(|f| f.code == code).map(|f| Sum {
        numerator: f.numerator,
        denominator: f.denominator,
    })
}

/// The sum of an indicator at a key, zero when the table has none.
fn sum_at(table: &Table, code: &str, key: &str) -> Sum {
    table
        .get(&(code.to_string(), key.to_string()))
        .copied()
        .unwrap_or_default()
}

/// What every row's figures are made with: the live catalogue, the targets that apply and the
/// month.
struct Section<'a> {
    catalogue: &'a [Indicator],
    targets: &'a [Target],
    month: NaiveDate,
}

impl Section<'_> {
    /// The figure of an indicator from its sum, against the target of the unit (`kind`, `key`).
    fn figure(&self, i: &Indicator, sum: Sum, kind: &str, key: &str) -> IndicatorFigure {
        figure(
            i,
            sum,
            target_of(self.targets, &i.fields.code, kind, key),
            self.month,
        )
    }

    /// The figures of the whole catalogue for the unit `key` of a table.
    fn figures_at(&self, table: &Table, kind: &str, key: &str) -> Vec<IndicatorFigure> {
        self.catalogue
            .iter()
            .map(|i| self.figure(i, sum_at(table, &i.fields.code, key), kind, key))
            .collect()
    }

    /// A commune's report: village rows with the village-level indicators, and the commune's
    /// values (the sum of its villages' for village-level ones) over its own denominators.
    fn commune(
        &self,
        conn: &mut PgConnection,
        area: &Area,
        commune: &str,
        report_rows: &mut [ReportRow],
    ) -> AppResult<Vec<IndicatorFigure>> {
        let (villages, _) = numbers(conn, self.catalogue, area, Keyed::Village, self.month)?;
        for row in report_rows.iter_mut().filter(|r| r.kind == "village") {
            if row.key == super::NONE_KEY {
                continue;
            }
            let key = row.key.clone();
            row.indicators = self
                .catalogue
                .iter()
                .filter(|i| i.fields.level == "village")
                .map(|i| self.figure(i, sum_at(&villages, &i.fields.code, &key), "village", &key))
                .collect();
        }
        let (communes, _) = numbers(conn, self.catalogue, area, Keyed::Commune, self.month)?;
        Ok(self.figures_at(&communes, "commune", commune))
    }

    /// A province's report: commune rows (frozen for approved communes) added up.
    fn province(
        &self,
        conn: &mut PgConnection,
        area: &Area,
        province: &str,
        report_rows: &mut [ReportRow],
    ) -> AppResult<Vec<IndicatorFigure>> {
        let (communes, _) = numbers(conn, self.catalogue, area, Keyed::Commune, self.month)?;
        let frozen: HashMap<String, serde_json::Value> =
            rows::approved_indicators(conn, area, self.month)?
                .into_iter()
                .map(|(c, _, v)| (c, v))
                .collect();
        let mut totals: HashMap<String, Sum> = HashMap::new();
        for row in report_rows.iter_mut() {
            row.indicators = match frozen.get(&row.key) {
                Some(v) => frozen_section(v)?,
                None => self.figures_at(&communes, "commune", &row.key),
            };
            for i in self.catalogue {
                if let Some(s) = sum_of(&row.indicators, &i.fields.code) {
                    totals
                        .entry(i.fields.code.clone())
                        .or_default()
                        .add(s.numerator, s.denominator);
                }
            }
        }
        Ok(self
            .catalogue
            .iter()
            .map(|i| {
                let sum = totals.get(&i.fields.code).copied().unwrap_or_default();
                self.figure(i, sum, "province", province)
            })
            .collect())
    }

    /// The country's report: province rows from their provinces' sums, and their total
    /// without a target.
    fn country(&self, per_province: &Table, report_rows: &mut [ReportRow]) -> Vec<IndicatorFigure> {
        let mut totals: HashMap<String, Sum> = HashMap::new();
        for row in report_rows.iter_mut() {
            for i in self.catalogue {
                let sum = sum_at(per_province, &i.fields.code, &row.key);
                totals
                    .entry(i.fields.code.clone())
                    .or_default()
                    .add(sum.numerator, sum.denominator);
            }
            row.indicators = self.figures_at(per_province, "province", &row.key);
        }
        self.catalogue
            .iter()
            .map(|i| {
                let sum = totals.get(&i.fields.code).copied().unwrap_or_default();
                figure(i, sum, None, self.month)
            })
            .collect()
    }
}

/// The province of every commune of a table: from the denominators, else from the units.
fn provinces_of(
    conn: &mut PgConnection,
    communes: &Table,
    dens: &HashMap<String, UnitDenominators>,
) -> AppResult<HashMap<String, String>> {
    let mut province_of: HashMap<String, String> = dens
        .iter()
        .map(|(k, u)| (k.clone(), u.province_code.clone()))
        .collect();
    let missing: Vec<String> = communes
        .keys()
        .map(|(_, c)| c.clone())
        .filter(|c| !province_of.contains_key(c))
        .collect();
    for c in missing {
        if let Some(u) = crate::db::units::get(conn, &c)? {
            province_of.insert(c, u.fields.province_code);
        }
    }
    Ok(province_of)
}

/// Every commune's figures (frozen for approved ones), added up per province.
fn per_province(
    conn: &mut PgConnection,
    catalogue: &[Indicator],
    area: &Area,
    month: NaiveDate,
) -> AppResult<Table> {
    let (communes, dens) = numbers(conn, catalogue, area, Keyed::Commune, month)?;
    let approved = rows::approved_indicators(conn, area, month)?;
    let province_of = provinces_of(conn, &communes, &dens)?;
    let frozen_codes: std::collections::HashSet<&str> =
        approved.iter().map(|(c, _, _)| c.as_str()).collect();
    let mut per_province = Table::new();
    for ((code, commune), sum) in &communes {
        if frozen_codes.contains(commune.as_str()) {
            continue;
        }
        if let Some(p) = province_of.get(commune) {
            add_to(&mut per_province, code, p, sum.numerator, sum.denominator);
        }
    }
    for (_, p, v) in &approved {
        for f in frozen_section(v)? {
            add_to(&mut per_province, &f.code, p, f.numerator, f.denominator);
        }
    }
    Ok(per_province)
}

/// Fills the indicator figures of the report's rows and returns those of the unit.
pub fn section(
    conn: &mut PgConnection,
    area: &Area,
    month: NaiveDate,
    report_rows: &mut [ReportRow],
) -> AppResult<Vec<IndicatorFigure>> {
    let catalogue = rows::list(conn, false)?;
    if catalogue.is_empty() {
        return Ok(Vec::new());
    }
    let targets = rows::targets_in(conn, area, month.year(), month)?;
    let section = Section {
        catalogue: &catalogue,
        targets: &targets,
        month,
    };
    match area {
        Area::Commune(commune) => section.commune(conn, area, commune, report_rows),
        Area::Province(province) => section.province(conn, area, province, report_rows),
        Area::Country | Area::Communes(_) => Err(AppError::internal(
            "the country's indicators are added up from its provinces' sums (country_section)",
        )),
    }
}

/// The numerators and denominators of one province's communes (frozen for approved ones),
/// added up under the province's code: the province's part of the country's indicators.
#[derive(Clone, Debug, Default)]
pub struct ProvinceSums(Table);

/// The provinces' parts of the country's indicators for `month`, for the provinces of `area`
/// (one province, or the country), by province code.
pub fn province_sums(
    conn: &mut PgConnection,
    area: &Area,
    month: NaiveDate,
) -> AppResult<HashMap<String, ProvinceSums>> {
    let catalogue = rows::list(conn, false)?;
    if catalogue.is_empty() {
        return Ok(HashMap::new());
    }
    let mut parts: HashMap<String, ProvinceSums> = HashMap::new();
    for ((code, province), sum) in per_province(conn, &catalogue, area, month)? {
        parts
            .entry(province.clone())
            .or_default()
            .0
            .insert((code, province), sum);
    }
    Ok(parts)
}

/// The country's indicators from its provinces' sums: fills the indicators of the province
/// rows (against their targets) and returns the country's (without a target).
pub fn country_section<'a>(
    conn: &mut PgConnection,
    month: NaiveDate,
    report_rows: &mut [ReportRow],
    provinces: impl IntoIterator<Item = &'a ProvinceSums>,
) -> AppResult<Vec<IndicatorFigure>> {
    let catalogue = rows::list(conn, false)?;
    if catalogue.is_empty() {
        return Ok(Vec::new());
    }
    let targets = rows::targets_in(conn, &Area::Country, month.year(), month)?;
    let section = Section {
        catalogue: &catalogue,
        targets: &targets,
        month,
    };
    // Keys are (indicator, province): the provinces' tables do not overlap.
    let table: Table = provinces
        .into_iter()
        .flat_map(|p| p.0.iter().map(|(k, v)| (k.clone(), *v)))
        .collect();
    Ok(section.country(&table, report_rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(month: Option<NaiveDate>, due: NaiveDate) -> Target {
        Target {
            id: 1,
            fields: rows::TargetFields {
                indicator_code: "x".into(),
                year: 2025,
                month,
                unit_kind: "commune".into(),
                unit_key: "00004".into(),
                province_code: "01".into(),
                commune_code: Some("00004".into()),
                target_value: Some(100),
                target_rate: None,
                due_on: due,
                split_from: None,
            },
            version: 1,
            updated_at: chrono::Utc::now(),
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a day")
    }

    #[test]
    fn the_share_of_the_year_elapsed_runs_from_january_to_the_due_date() {
        let year = target(None, day(2025, 12, 31));
        assert!((elapsed(day(2025, 12, 1), &year) - 1.0).abs() < 1e-12);
        let june = elapsed(day(2025, 6, 1), &year);
        assert!((june - 181.0 / 365.0).abs() < 1e-12, "{june}");
        let month = target(Some(day(2025, 3, 1)), day(2025, 3, 31));
        assert!((elapsed(day(2025, 3, 1), &month) - 1.0).abs() < 1e-12);
        assert_eq!(elapsed(day(2025, 2, 1), &month), 0.0);
    }
}
