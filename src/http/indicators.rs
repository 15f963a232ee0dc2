//! Programme indicators: the catalogue, denominators, monthly values and targets.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{get, post, put, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::extract::{served, Auth, IfMatch, Query, ValidJson};
use super::record::catalogue_routes;
use super::Reply;
use crate::db::indicators::{TargetFilter, ValueFilter};
use crate::indicators::split::{self, SplitResult};
use crate::indicators::{
    self, DenominatorInput, IndicatorInput, TargetInput, UnitKind, ValueInput,
};
use crate::state::AppState;
use crate::views::{self, DenominatorView, IndicatorValueView, IndicatorView, Served, TargetView};

/// 201 for a new entry, 200 for a changed one, with its version as `ETag`.
fn stored<T: Served>(version: i32, row: T, created: bool) -> HttpResponse {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    served(status, version, row)
}

/// Expands to the handler `$name`, which puts an entry (creates it, or replaces it under
/// `If-Match`): the domain function of that name takes the checked body and answers the entry
/// and whether it is new, served by `stored`. Optional `(status, description)` pairs document
/// the problems besides the shared ones.
macro_rules! put_route {
    (
        $(#[$doc:meta])+
        $name:ident, $op:tt, $path:tt, $input:ident, $view:ident
        $(, ($status:tt, $description:tt))* $(,)?
    ) => {
        $(#[$doc])+
        #[utoipa::path(
            operation_id = $op,
            tag = "indicators", security(("bearer" = [])),
            params(IfMatch),
            request_body = $input,
            responses(
                (status = 200, body = $view, headers(("ETag" = String))),
                (status = 201, body = $view, headers(("ETag" = String))),
                $((status = $status, description = $description,
                    body = crate::http::error::Problem, content_type = "application/problem+json"),)*
            )
        )]
        #[put($path)]
        pub async fn $name(
            state: Data<AppState>,
            auth: Auth,
            body: ValidJson<$input>,
            IfMatch(expected): IfMatch,
        ) -> Reply {
            let (saved, created) = indicators::$name(&state, &auth.0, body.0, expected).await?;
            Ok(stored(saved.version, saved, created))
        }
    };
}

catalogue_routes! {
    domain = indicators, entry = IndicatorView, tag = "indicators",
    list = ("listIndicators", "/api/v1/indicators", indicators::catalogue, IndicatorQuery,
        ["The indicator catalogue, in display order."], "Also list retired indicators."),
    create = ("createIndicator", IndicatorInput, ["Add an indicator to the catalogue (admin)."]),
    retire = ("retireIndicator", "/api/v1/indicators/{code}/retire", [
        "Retire an indicator: it keeps its history, takes no new values or targets and leaves the",
        "reports (admin).",
    ]),
    restore = ("restoreIndicator", "/api/v1/indicators/{code}/restore",
        ["Bring a retired indicator back (admin)."]),
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DenominatorQuery {
    pub commune: Option<String>,
    #[param(minimum = 2024, maximum = 2100)]
    #[serde(default, deserialize_with = "super::extract::programme_year")]
    pub year: Option<i32>,
}

/// Denominator entries in the caller's scope (at most 5,000), newest year first.
#[utoipa::path(operation_id = "listDenominators", tag = "indicators", security(("bearer" = [])), params(DenominatorQuery), responses((status = 200, body = Vec<DenominatorView>)))]
#[get("/api/v1/denominators")]
pub async fn list_denominators(
    state: Data<AppState>,
    auth: Auth,
    query: Query<DenominatorQuery>,
) -> Reply {
    let q = query.into_inner();
    let items = indicators::list_denominators(&state, &auth.0, q.commune, q.year).await?;
    Ok(HttpResponse::Ok().json(views::all(items)))
}

put_route! {
    /// Set the population, adults (15 and over) and households of a commune or village for a year
    /// (officers in scope). The whole entry is replaced; 409 `year_locked` once December of the
    /// year is approved for the commune.
    put_denominator, "putDenominator", "/api/v1/denominators", DenominatorInput, DenominatorView,
    (404, ""), (409, "`year_locked`: December of the year is approved"),
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ValueQuery {
    pub commune: Option<String>,
    /// `YYYY-MM`.
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])(-[0-3][0-9])?$")]
    pub month: Option<String>,
    pub indicator: Option<String>,
}

/// Entered values in the caller's scope (at most 5,000), newest month first.
#[utoipa::path(operation_id = "listIndicatorValues", tag = "indicators", security(("bearer" = [])), params(ValueQuery), responses((status = 200, body = Vec<IndicatorValueView>)))]
#[get("/api/v1/indicator-values")]
pub async fn list_values(state: Data<AppState>, auth: Auth, query: Query<ValueQuery>) -> Reply {
    let q = query.into_inner();
    let month = q
        .month
        .as_deref()
        .map(|m| crate::reports::parse_month("month", m))
        .transpose()?;
    let items = indicators::list_values(
        &state,
        &auth.0,
        ValueFilter {
            commune: q.commune,
            month,
            indicator: q.indicator,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(views::all(items)))
}

put_route! {
    /// Enter or correct an entered indicator's value for a commune (or village) and month
    /// (officers in scope). 409 `month_locked` once the month is approved, under the same lock as
    /// logs.
    put_value, "putIndicatorValue", "/api/v1/indicator-values", ValueInput, IndicatorValueView,
    (404, ""), (409, "`month_locked`: the month is approved"),
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetQuery {
    #[param(minimum = 2024, maximum = 2100)]
    #[serde(default, deserialize_with = "super::extract::programme_year")]
    pub year: Option<i32>,
    #[param(inline)]
    pub unit_kind: Option<UnitKind>,
    pub unit_key: Option<String>,
    pub indicator: Option<String>,
}

/// Targets in the caller's scope (a team sees its commune's, its village's and its own).
#[utoipa::path(operation_id = "listIndicatorTargets", tag = "indicators", security(("bearer" = [])), params(TargetQuery), responses((status = 200, body = Vec<TargetView>)))]
#[get("/api/v1/indicator-targets")]
pub async fn list_targets(state: Data<AppState>, auth: Auth, query: Query<TargetQuery>) -> Reply {
    let q = query.into_inner();
    let items = indicators::list_targets(
        &state,
        &auth.0,
        TargetFilter {
            year: q.year,
            unit_kind: q.unit_kind.map(|k| k.as_str().to_string()),
            unit_key: q.unit_key,
            indicator: q.indicator,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(views::all(items)))
}

put_route! {
    /// Set a target: a province officer for its province and communes, a commune officer for its
    /// villages and teams. A unit outside those is refused (422 `outside_scope`).
    put_target, "putIndicatorTarget", "/api/v1/indicator-targets", TargetInput, TargetView,
}

#[derive(Deserialize, serde::Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitOverride {
    /// A child: commune code or village id.
    #[schema(min_length = 1, max_length = 20)]
    pub unit_key: String,
    pub target_value: i64,
}

#[derive(Deserialize, Validate, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SplitRequest {
    /// Children whose target is set by hand; the rest share what remains.
    #[serde(default)]
    #[validate(length(max = 5000))]
    pub overrides: Vec<SplitOverride>,
    /// Compute the split without writing it.
    #[serde(default)]
    pub dry_run: bool,
}

/// Split a province's (commune's) target down to its communes (villages) in proportion to each
/// one's remaining gap (denominator minus current value), with manual overrides; the answer
/// says what is left unassigned. Writes one target per child unless `dry_run`.
#[utoipa::path(
    operation_id = "splitIndicatorTarget",
    tag = "indicators", security(("bearer" = [])), params(("id" = i64, Path)),
    request_body = SplitRequest,
    responses(
        (status = 200, body = SplitResult),
    )
)]
#[post("/api/v1/indicator-targets/{id}/split")]
pub async fn split_target(
    state: Data<AppState>,
    auth: Auth,
    id: Path<i64>,
    body: ValidJson<SplitRequest>,
) -> Reply {
    let b = body.0;
    let overrides = b
        .overrides
        .into_iter()
        .map(|o| (o.unit_key, o.target_value))
        .collect();
    let result = split::split(&state, &auth.0, id.into_inner(), overrides, b.dry_run).await?;
    Ok(HttpResponse::Ok().json(result))
}
