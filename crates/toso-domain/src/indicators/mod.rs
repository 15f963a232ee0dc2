//! Programme indicators (chỉ tiêu): the catalogue, denominators per unit and year, the values
//! commune officers enter each month, and targets with their automatic split. Every write
//! checks role and scope, runs in one transaction and leaves an audit record.

pub mod split;

use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::access::{Caller, Scope};
use crate::db::indicators::{
    self as rows, Denominator, DenominatorFields, Indicator, IndicatorValue, Keyed, NewIndicator,
    Target, TargetFields, ValueFields,
};
use crate::db::reports::Area;
use crate::db::{self, months, units};
use crate::error::{AppError, AppResult};
use crate::ids::{TeamId, VillageId};
use crate::registry::{self, check_version, Audited};
use crate::state::AppState;
use crate::vocab::AuditAction;

pub use crate::vocab::{DenominatorKind, IndicatorKind, Level, Source, UnitKind};

// What a new catalogue entry says; also the request body (its schema keeps the name it had as
// an HTTP type).
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateIndicatorRequest)]
pub struct IndicatorInput {
    /// Stable code: 2–40 characters, a-z, 0-9 and `_`.
    #[validate(custom(function = "crate::input::catalogue_code"))]
    #[schema(pattern = "^[a-z0-9_]{2,40}$")]
    pub code: String,
    /// Vietnamese name.
    #[validate(length(min = 1, max = 200))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: IndicatorKind,
    /// Required for a rate, absent for a count.
    pub denominator: Option<DenominatorKind>,
    pub source: Source,
    /// Where entered values are recorded (default `commune`; computed ones are per commune).
    pub level: Option<Level>,
    /// For `source = logs`: the category whose citizens helped are counted.
    #[validate(length(min = 1, max = 40))]
    #[schema(min_length = 1, max_length = 40)]
    pub category_code: Option<String>,
    #[validate(range(min = 0, max = 10_000))]
    #[schema(minimum = 0, maximum = 10_000)]
    pub sort_order: Option<i32>,
}

impl IndicatorInput {
    /// Where values are recorded: as given, else per commune.
    fn level(&self) -> Level {
        self.level.unwrap_or(Level::Commune)
    }
}

fn require_admin(caller: &Caller) -> AppResult<()> {
    caller.require_admin("only an admin manages the indicator catalogue")
}

/// The catalogue entry's parts agree: a rate has a denominator and a count none, only an
/// indicator computed from logs names a category, computed indicators are per commune and
/// take no denominator given with each value.
fn check_indicator(input: &IndicatorInput) -> AppResult<()> {
    use crate::error::FieldError;
    let mut errors = Vec::new();
    match (input.kind, input.denominator) {
        (IndicatorKind::Rate, None) => errors.push(FieldError::new(
            "denominator",
            "required",
            "a rate needs a denominator",
        )),
        (IndicatorKind::Count, Some(_)) => errors.push(FieldError::new(
            "denominator",
            "not_expected",
            "a count has no denominator",
        )),
        _ => {}
    }
    match (input.source, &input.category_code) {
        (Source::Logs, None) => errors.push(FieldError::new(
            "category_code",
            "required",
            "an indicator computed from logs counts the citizens helped in one category",
        )),
        (Source::Logs, Some(_)) | (_, None) => {}
        (_, Some(_)) => errors.push(FieldError::new(
            "category_code",
            "not_expected",
            "only an indicator computed from logs names a category",
        )),
    }
    if input.source != Source::Entered && input.level() != Level::Commune {
        errors.push(FieldError::new(
            "level",
            "computed_at_commune",
            "computed indicators are counted per commune",
        ));
    }
    if input.source != Source::Entered
        && matches!(
            input.denominator,
            Some(DenominatorKind::Dossiers | DenominatorKind::Entered)
        )
    {
        errors.push(FieldError::new(
            "denominator",
            "needs_entry",
            "a denominator given with each value needs an entered indicator",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The new entry's code is free and its category (if any) exists.
fn check_code_and_category(c: &mut PgConnection, input: &IndicatorInput) -> AppResult<()> {
    if rows::get(c, &input.code)?.is_some() {
        return Err(AppError::field(
            "code",
            "taken",
            "an indicator with this code exists",
        ));
    }
    if let Some(cat) = &input.category_code {
        if crate::db::categories::get(c, cat)?.is_none() {
            return Err(AppError::field(
                "category_code",
                "unknown_category",
                "no such category",
            ));
        }
    }
    Ok(())
}

fn new_indicator(input: &IndicatorInput) -> NewIndicator {
    let aggregation = match input.kind {
        IndicatorKind::Count => "sum",
        IndicatorKind::Rate => "ratio_of_sums",
    };
    NewIndicator {
        code: input.code.clone(),
        name: input.name.trim().to_string(),
        kind: input.kind.as_str().into(),
        denominator: input.denominator.map(|d| d.as_str().to_string()),
        aggregation: aggregation.into(),
        source: input.source.as_str().into(),
        level: input.level().as_str().into(),
        category_code: input.category_code.clone(),
        sort_order: input.sort_order.unwrap_or(100),
    }
}

impl Audited for Indicator {
    const ENTITY: &'static str = "indicator";
    fn entity_id(&self) -> String {
        self.fields.code.clone()
    }
    /// The catalogue is national.
    fn place(&self) -> (Option<&str>, Option<&str>) {
        (None, None)
    }
}

/// Adds an indicator to the catalogue (admin).
pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: IndicatorInput,
) -> AppResult<Indicator> {
    require_admin(caller)?;
    check_indicator(&input)?;
    db::transact(&state.pool, caller, move |c, caller| {
        check_code_and_category(c, &input)?;
        let created = rows::insert(c, &new_indicator(&input))?;
        registry::audit(c, caller, AuditAction::Create, None, &created)?;
        Ok(created)
    })
    .await
}

/// Retires an indicator (it takes no new values or targets and leaves the reports) or brings
/// it back (admin).
pub async fn set_retired(
    state: &AppState,
    caller: &Caller,
    code: String,
    retired: bool,
) -> AppResult<Indicator> {
    require_admin(caller)?;
    db::transact(&state.pool, caller, move |c, caller| {
        let before = rows::get(c, &code)?.ok_or_else(|| AppError::not_found("indicator"))?;
        let after = rows::set_retired(c, &code, retired)?
            .ok_or_else(|| AppError::not_found("indicator"))?;
        let action = if retired {
            AuditAction::Retire
        } else {
            AuditAction::Restore
        };
        registry::audit(c, caller, action, Some(&before), &after)?;
        Ok(after)
    })
    .await
}

/// A live indicator of the catalogue, share-locked for the transaction; 422 when unknown or
/// retired.
fn live_indicator(c: &mut PgConnection, code: &str) -> AppResult<Indicator> {
    let indicator = rows::hold(c, code)?.ok_or_else(|| {
        AppError::field(
            "indicator_code",
            "unknown_indicator",
            format!("no indicator has the code {code:?}"),
        )
    })?;
    if indicator.retired_at.is_some() {
        return Err(AppError::field(
            "indicator_code",
            "retired",
            "the indicator is retired; it takes no new values or targets",
        ));
    }
    Ok(indicator)
}

/// A live village of `commune`, share-locked; 422 when it is another commune's.
fn village_of(c: &mut PgConnection, commune: &str, id: VillageId) -> AppResult<()> {
    let village = registry::hold_live_village(c, id).map_err(|e| match e {
        AppError::NotFound { .. } => {
            AppError::field("village_id", "unknown_village", "no such village")
        }
        other => other,
    })?;
    if village.fields.commune_code != commune {
        return Err(AppError::field(
            "village_id",
            "wrong_commune",
            "the village is not in this commune",
        ));
    }
    Ok(())
}

/// A versioned record of this module, as its upsert and its audit entry need it.
trait Entry: Audited {
    fn id(&self) -> i64;
    fn version(&self) -> i32;
}

/// A commune column, required or optional.
trait CommuneColumn {
    fn as_commune(&self) -> Option<&str>;
}

impl CommuneColumn for String {
    fn as_commune(&self) -> Option<&str> {
        Some(self)
    }
}

impl CommuneColumn for Option<String> {
    fn as_commune(&self) -> Option<&str> {
        self.as_deref()
    }
}

macro_rules! entry {
    ($row:ty, $entity:literal) => {
        impl Audited for $row {
            const ENTITY: &'static str = $entity;
            fn entity_id(&self) -> String {
                self.id.to_string()
            }
            fn place(&self) -> (Option<&str>, Option<&str>) {
                (
                    Some(&self.fields.province_code),
                    self.fields.commune_code.as_commune(),
                )
            }
        }

        impl Entry for $row {
            fn id(&self) -> i64 {
                self.id
            }
            fn version(&self) -> i32 {
                self.version
            }
        }
    };
}

entry!(Denominator, "denominator");
entry!(IndicatorValue, "indicator_value");
entry!(Target, "indicator_target");

/// Updates the `current` entry (at the version `expected`, if given) or inserts a new one (412
/// when a version was expected of an entry that does not exist), and audits the change.
/// Answers the entry and whether it was created.
fn upsert<T: Entry>(
    c: &mut PgConnection,
    caller: &Caller,
    current: Option<T>,
    expected: Option<i32>,
    update: impl FnOnce(&mut PgConnection, i64) -> QueryResult<T>,
    insert: impl FnOnce(&mut PgConnection) -> QueryResult<T>,
) -> AppResult<(T, bool)> {
    let (saved, created) = match &current {
        Some(cur) => {
            check_version(T::ENTITY, cur.version(), expected)?;
            (update(c, cur.id())?, false)
        }
        None if expected.is_some() => {
            return Err(AppError::PreconditionFailed {
                code: crate::error::ErrorCode::VersionMismatch,
                detail: format!("there is no such {} yet", T::ENTITY),
            })
        }
        None => (insert(c)?, true),
    };
    let action = if created {
        AuditAction::Create
    } else {
        AuditAction::Update
    };
    registry::audit(c, caller, action, current.as_ref(), &saved)?;
    Ok((saved, created))
}

/// A note trimmed, empty as none.
fn note(text: &Option<String>) -> Option<String> {
    text.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn first_of(year: i32, month: u32) -> AppResult<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(|| AppError::internal("no such month"))
}

fn check_year(year: i32) -> AppResult<()> {
    if (2024..=2100).contains(&year) {
        Ok(())
    } else {
        Err(AppError::field(
            "year",
            "out_of_range",
            "year must be from 2024 to 2100",
        ))
    }
}

/// The rule of locked years: a commune's year is closed once its December report is approved;
/// its denominators (and its villages') then change only after a province officer reopens
/// December. Earlier approved months never change whatever happens: their figures are frozen.
pub fn year_locked_error(year: i32) -> AppError {
    AppError::Conflict {
        code: crate::error::ErrorCode::YearLocked,
        detail: format!(
            "the report for December {year} is approved, which closes {year}: its denominators cannot change until a province officer reopens it"
        ),
    }
}

// A commune's or village's denominators for a year; also the request body (its schema
// keeps the name it had as an HTTP type).
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DenominatorRequest)]
pub struct DenominatorInput {
    #[validate(range(min = 2024, max = 2100))]
    #[schema(minimum = 2024, maximum = 2100)]
    pub year: i32,
    /// Defaults to the caller's commune.
    pub commune_code: Option<String>,
    /// A village of the commune; absent for the commune's own figures.
    #[schema(value_type = Option<i64>)]
    pub village_id: Option<VillageId>,
    #[validate(range(min = 0))]
    #[schema(minimum = 0)]
    pub population: Option<i32>,
    /// People aged 15 and over.
    #[validate(range(min = 0))]
    #[schema(minimum = 0)]
    pub adults: Option<i32>,
    #[validate(range(min = 0))]
    #[schema(minimum = 0)]
    pub households: Option<i32>,
    #[validate(length(max = 500))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(max_length = 500)]
    pub source_note: Option<String>,
}

/// Sets the denominators of a commune or one of its villages for a year (officers in scope).
/// Answers the entry and whether it was created.
pub async fn put_denominator(
    state: &AppState,
    caller: &Caller,
    input: DenominatorInput,
    expected: Option<i32>,
) -> AppResult<(Denominator, bool)> {
    if let (Some(a), Some(p)) = (input.adults, input.population) {
        if a > p {
            return Err(AppError::field(
                "adults",
                "exceeds_population",
                "adults cannot outnumber the population",
            ));
        }
    }
    registry::require_officer(caller)?;
    check_year(input.year)?;
    let commune = registry::default_commune(caller, input.commune_code.clone())?;
    db::transact(&state.pool, caller, move |c, caller| {
        let unit = registry::commune_in_scope(c, &caller.scope(), &commune)?;
        if let Some(v) = input.village_id {
            village_of(c, &unit.fields.code, v)?;
        }
        // The same commune-month lock as field work: approving December waits for this
        // write, or this write sees December approved.
        let december = first_of(input.year, 12)?;
        if !months::hold_shared(c, &[(unit.fields.code.clone(), december)])?.is_empty() {
            return Err(year_locked_error(input.year));
        }
        let fields = DenominatorFields {
            year: input.year,
            commune_code: unit.fields.code.clone(),
            province_code: unit.fields.province_code.clone(),
            village_id: input.village_id,
            population: input.population,
            adults: input.adults,
            households: input.households,
            source_note: note(&input.source_note),
        };
        let current =
            rows::denominator_for_update(c, &unit.fields.code, input.village_id, input.year)?;
        upsert(
            c,
            caller,
            current,
            expected,
            |c, id| rows::update_denominator(c, id, &fields),
            |c| rows::insert_denominator(c, &fields),
        )
    })
    .await
}

pub async fn list_denominators(
    state: &AppState,
    caller: &Caller,
    commune: Option<String>,
    year: Option<i32>,
) -> AppResult<Vec<Denominator>> {
    db::read_in_scope(&state.reads, caller, move |c, scope| {
        Ok(rows::list_denominators(c, scope, commune.as_deref(), year)?)
    })
    .await
}

// An entered indicator's value for a commune (or village) and month; also the request body
// (its schema keeps the name it had as an HTTP type). Its month is read by `put_value`, first.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ValueRequest)]
pub struct ValueInput {
    #[validate(length(min = 1, max = 40))]
    #[schema(min_length = 1, max_length = 40)]
    pub indicator_code: String,
    /// Defaults to the caller's commune.
    pub commune_code: Option<String>,
    /// Required for village-level indicators, absent for commune-level ones.
    #[schema(value_type = Option<i64>)]
    pub village_id: Option<VillageId>,
    /// `YYYY-MM`: the month the value stands for (its end).
    #[schema(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: String,
    /// The numerator (a count), at most the denominator.
    pub value: i64,
    /// For indicators whose denominator is `dossiers` or `entered`: given with the value.
    pub denominator: Option<i64>,
    /// Where the figure comes from (e.g. "Công an xã").
    #[validate(length(max = 500))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(max_length = 500)]
    pub source_note: Option<String>,
}

/// The denominator a value of `indicator` for a unit is bounded by, when one is known.
fn bound_of(
    c: &mut PgConnection,
    indicator: &Indicator,
    commune: &str,
    village: Option<VillageId>,
    month: NaiveDate,
    given: Option<i64>,
) -> AppResult<Option<i64>> {
    let Some(kind) = indicator.fields.denominator.as_deref() else {
        return Ok(None);
    };
    if matches!(kind, "dossiers" | "entered") {
        return Ok(given);
    }
    let area = Area::Commune(commune.to_string());
    let (keyed, key) = match village {
        Some(v) => (Keyed::Village, v.to_string()),
        None => (Keyed::Commune, commune.to_string()),
    };
    let unit = rows::unit_denominators(c, &area, keyed, month.year(), month)?
        .into_iter()
        .find(|u| u.key == key);
    Ok(unit.and_then(|u| pick(&u, kind)))
}

/// The figure of a unit's denominators that an indicator's denominator names.
pub fn pick(u: &rows::UnitDenominators, kind: &str) -> Option<i64> {
    match kind {
        "adults" => u.adults,
        "households" => u.households,
        "population" => u.population,
        "villages" => Some(u.villages),
        _ => None,
    }
}

/// A value and its denominator are not negative.
fn check_value(input: &ValueInput) -> AppResult<()> {
    if input.value < 0 {
        return Err(AppError::field(
            "value",
            "out_of_range",
            "a value cannot be negative",
        ));
    }
    if input.denominator.is_some_and(|d| d < 0) {
        return Err(AppError::field(
            "denominator",
            "out_of_range",
            "a denominator cannot be negative",
        ));
    }
    Ok(())
}

/// The value fits its indicator: an entered one, given per village or for the commune as the
/// indicator is recorded.
fn check_value_fits(indicator: &Indicator, input: &ValueInput) -> AppResult<()> {
    if indicator.fields.source != "entered" {
        return Err(AppError::field(
            "indicator_code",
            "computed",
            "this indicator is computed from toso's records; it takes no entered values",
        ));
    }
    match (indicator.fields.level.as_str(), input.village_id) {
        ("village", None) => Err(AppError::field(
            "village_id",
            "required",
            "this indicator is recorded per village",
        )),
        ("commune", Some(_)) => Err(AppError::field(
            "village_id",
            "not_expected",
            "this indicator is recorded for the commune as a whole",
        )),
        _ => Ok(()),
    }
}

/// A value comes with a denominator exactly when its indicator takes it per value.
fn check_denominator_given(indicator: &Indicator, input: &ValueInput) -> AppResult<()> {
    let needs_denominator = matches!(
        indicator.fields.denominator.as_deref(),
        Some("dossiers" | "entered")
    );
    match (needs_denominator, input.denominator) {
        (true, None) => Err(AppError::field(
            "denominator",
            "required",
            "this indicator's denominator is given with each value",
        )),
        (false, Some(_)) => Err(AppError::field(
            "denominator",
            "not_expected",
            "this indicator's denominator comes from the unit's population figures",
        )),
        _ => Ok(()),
    }
}

/// A value stays within its denominator, when one is known: a rate cannot pass 100%.
fn check_within_bound(
    c: &mut PgConnection,
    indicator: &Indicator,
    commune: &str,
    input: &ValueInput,
    month: NaiveDate,
) -> AppResult<()> {
    let bound = bound_of(
        c,
        indicator,
        commune,
        input.village_id,
        month,
        input.denominator,
    )?;
    match bound {
        Some(b) if input.value > b => Err(AppError::field(
            "value",
            "exceeds_denominator",
            format!("the value is above its denominator ({b}): a rate cannot pass 100%"),
        )),
        _ => Ok(()),
    }
}

/// Checks and saves a value in the commune `unit`, under the commune-month lock of field work.
fn save_value(
    c: &mut PgConnection,
    caller: &Caller,
    unit: &units::UnitRow,
    input: &ValueInput,
    month: NaiveDate,
    expected: Option<i32>,
) -> AppResult<(IndicatorValue, bool)> {
    let indicator = live_indicator(c, &input.indicator_code)?;
    check_value_fits(&indicator, input)?;
    if let Some(v) = input.village_id {
        village_of(c, &unit.fields.code, v)?;
    }
    check_denominator_given(&indicator, input)?;
    check_within_bound(c, &indicator, &unit.fields.code, input, month)?;
    // The commune-month lock of field work, then the month's state.
    if !months::hold_shared(c, &[(unit.fields.code.clone(), month)])?.is_empty() {
        return Err(crate::reports::workflow::month_locked_error(month));
    }
    let fields = ValueFields {
        indicator_code: indicator.fields.code.clone(),
        month,
        commune_code: unit.fields.code.clone(),
        province_code: unit.fields.province_code.clone(),
        village_id: input.village_id,
        value: input.value,
        denominator: input.denominator,
        source_note: note(&input.source_note),
    };
    let current = rows::value_for_update(
        c,
        &indicator.fields.code,
        &unit.fields.code,
        input.village_id,
        month,
    )?;
    upsert(
        c,
        caller,
        current,
        expected,
        |c, id| rows::update_value(c, id, &fields),
        |c| rows::insert_value(c, &fields),
    )
}

/// Enters (or corrects) the value of an entered indicator for a commune or village and month
/// (officers in scope). Refused once the month is approved, under the same lock as logs.
pub async fn put_value(
    state: &AppState,
    caller: &Caller,
    input: ValueInput,
    expected: Option<i32>,
) -> AppResult<(IndicatorValue, bool)> {
    let month = crate::reports::parse_month("month", &input.month)?;
    registry::require_officer(caller)?;
    check_value(&input)?;
    let commune = registry::default_commune(caller, input.commune_code.clone())?;
    db::transact(&state.pool, caller, move |c, caller| {
        let unit = registry::commune_in_scope(c, &caller.scope(), &commune)?;
        save_value(c, caller, &unit, &input, month, expected)
    })
    .await
}

pub async fn list_values(
    state: &AppState,
    caller: &Caller,
    filter: rows::ValueFilter,
) -> AppResult<Vec<IndicatorValue>> {
    db::read_in_scope(&state.reads, caller, move |c, scope| {
        Ok(rows::list_values(c, scope, &filter)?)
    })
    .await
}

// A target for a unit and a year or month; also the request body (its schema keeps the name
// it had as an HTTP type). Its month is read by `put_target`, first.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TargetRequest)]
pub struct TargetInput {
    #[validate(length(min = 1, max = 40))]
    #[schema(min_length = 1, max_length = 40)]
    pub indicator_code: String,
    #[validate(range(min = 2024, max = 2100))]
    #[schema(minimum = 2024, maximum = 2100)]
    pub year: i32,
    /// `YYYY-MM` for a monthly target; absent for the year's.
    #[schema(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: Option<String>,
    pub unit_kind: UnitKind,
    /// A province or commune code, a village or team id.
    #[validate(length(min = 1, max = 20))]
    #[schema(min_length = 1, max_length = 20)]
    pub unit_key: String,
    /// A number to reach; or
    pub target_value: Option<i64>,
    /// a rate to reach, in percent (0 to 100; rates only).
    pub target_percent: Option<f64>,
    /// Defaults to the last day of the year (or month).
    pub due_on: Option<NaiveDate>,
}

/// `YYYY-MM` of any month of the programme's years (targets may name months to come).
fn plan_month(field: &str, text: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
        .ok()
        .filter(|d| text.trim().len() == 7 && (2024..=2100).contains(&d.year()))
        .ok_or_else(|| {
            AppError::field(
                field,
                "invalid_month",
                "a month is written YYYY-MM, from 2024-01 to 2100-12",
            )
        })
}

/// Where a target's unit lies: (province, commune).
#[derive(Clone, Debug, Serialize)]
pub struct UnitPlace {
    pub province_code: String,
    pub commune_code: Option<String>,
}

fn outside_scope() -> AppError {
    AppError::field(
        "unit_key",
        "outside_scope",
        "this unit is outside the units you set targets for",
    )
}

fn unknown_unit() -> AppError {
    AppError::field("unit_key", "unknown_unit", "no such unit")
}

/// Resolves a target's unit and checks that the caller sets targets for it: a province officer
/// for its province and its communes, a commune officer for its villages and teams, an admin for
/// any. Team accounts set none (403); a unit outside those is a field error (422).
pub fn target_unit(
    c: &mut PgConnection,
    caller: &Caller,
    kind: UnitKind,
    key: &str,
) -> AppResult<UnitPlace> {
    if !caller.role.is_officer() {
        return Err(AppError::forbidden("only officers set targets"));
    }
    let place = match kind {
        UnitKind::Province | UnitKind::Commune => {
            let unit = units::get(c, key)?
                .filter(|u| u.fields.level == kind.as_str() && u.valid_to.is_none())
                .ok_or_else(unknown_unit)?;
            UnitPlace {
                province_code: unit.fields.province_code,
                commune_code: (kind == UnitKind::Commune).then_some(unit.fields.code),
            }
        }
        UnitKind::Village | UnitKind::Team => {
            let id: i64 = key.parse().map_err(|_| unknown_unit())?;
            let found = if kind == UnitKind::Village {
                crate::db::villages::place_of(c, VillageId(id))?
            } else {
                crate::db::teams::place_of(c, TeamId(id))?
            };
            let (province, commune) = found.ok_or_else(unknown_unit)?;
            UnitPlace {
                province_code: province,
                commune_code: Some(commune),
            }
        }
    };
    let allowed = match (caller.scope(), kind) {
        (Scope::Country, _) => true,
        (Scope::Province(p), UnitKind::Province | UnitKind::Commune) => p == place.province_code,
        (Scope::Commune(own), UnitKind::Village | UnitKind::Team) => {
            place.commune_code.as_deref() == Some(own.as_str())
        }
        _ => false,
    };
    if allowed {
        Ok(place)
    } else {
        Err(outside_scope())
    }
}

fn last_day(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(chrono::Months::new(months))
        .and_then(|d| d.pred_opt())
        .unwrap_or(date)
}

/// A target's rate (0 to 1) when it is given in percent, none for a target value.
fn target_rate(input: &TargetInput) -> AppResult<Option<f64>> {
    match (input.target_value, input.target_percent) {
        (Some(v), None) if v < 0 => Err(AppError::field(
            "target_value",
            "out_of_range",
            "a target cannot be negative",
        )),
        (Some(_), None) => Ok(None),
        (None, Some(p)) if !(0.0..=100.0).contains(&p) || !p.is_finite() => Err(AppError::field(
            "target_percent",
            "out_of_range",
            "a rate target is from 0 to 100 (%)",
        )),
        (None, Some(p)) => Ok(Some(p / 100.0)),
        _ => Err(AppError::field(
            "target_value",
            "one_of",
            "give either target_value or target_percent",
        )),
    }
}

/// A target's due date: as given, else the end of its `month` or year; never before the
/// period.
fn due_date(input: &TargetInput, month: Option<NaiveDate>) -> AppResult<NaiveDate> {
    if let Some(m) = month {
        if m.year() != input.year {
            return Err(AppError::field(
                "month",
                "outside_year",
                "a monthly target's month lies in its year",
            ));
        }
    }
    let start = match month {
        Some(m) => m,
        None => first_of(input.year, 1)?,
    };
    let due_on = input
        .due_on
        .unwrap_or_else(|| last_day(start, if month.is_some() { 1 } else { 12 }));
    if due_on < start {
        return Err(AppError::field(
            "due_on",
            "before_period",
            "the due date is before the target's period starts",
        ));
    }
    Ok(due_on)
}

/// Sets (or changes) a target. Answers the target and whether it was created.
pub async fn put_target(
    state: &AppState,
    caller: &Caller,
    input: TargetInput,
    expected: Option<i32>,
) -> AppResult<(Target, bool)> {
    let month = input
        .month
        .as_deref()
        .map(|m| plan_month("month", m))
        .transpose()?;
    check_year(input.year)?;
    let rate = target_rate(&input)?;
    let due_on = due_date(&input, month)?;
    db::transact(&state.pool, caller, move |c, caller| {
        let indicator = live_indicator(c, &input.indicator_code)?;
        if rate.is_some() && indicator.fields.kind != "rate" {
            return Err(AppError::field(
                "target_percent",
                "not_a_rate",
                "this indicator is a count: give target_value",
            ));
        }
        let place = target_unit(c, caller, input.unit_kind, input.unit_key.trim())?;
        let fields = TargetFields {
            indicator_code: indicator.fields.code.clone(),
            year: input.year,
            month,
            unit_kind: input.unit_kind.as_str().into(),
            unit_key: input.unit_key.trim().to_string(),
            province_code: place.province_code.clone(),
            commune_code: place.commune_code.clone(),
            target_value: input.target_value,
            target_rate: rate,
            due_on,
            split_from: None,
        };
        save_target(c, caller, &fields, expected)
    })
    .await
}

/// Inserts or updates the target of `fields`' unit and period, audited.
pub(crate) fn save_target(
    c: &mut PgConnection,
    caller: &Caller,
    fields: &TargetFields,
    expected: Option<i32>,
) -> AppResult<(Target, bool)> {
    let current = rows::target_for_update(c, fields)?;
    upsert(
        c,
        caller,
        current,
        expected,
        |c, id| rows::update_target(c, id, fields),
        |c| rows::insert_target(c, fields),
    )
}

pub async fn list_targets(
    state: &AppState,
    caller: &Caller,
    filter: rows::TargetFilter,
) -> AppResult<Vec<Target>> {
    db::read_in_scope(&state.reads, caller, move |c, scope| {
        Ok(rows::list_targets(c, scope, &filter)?)
    })
    .await
}

/// The indicator catalogue in display order (retired ones too when asked): everyone reads it.
pub async fn catalogue(state: &AppState, include_retired: bool) -> AppResult<Vec<Indicator>> {
    db::run_read(&state.reads, move |c| Ok(rows::list(c, include_retired)?)).await
}
