//! Reporting discipline: each province's due day and the members who recorded nothing.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{get, put, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::extract::{served, Auth, IfMatch, Query, ValidJson};
use super::Reply;
use crate::ids::TeamId;
use crate::reports::{self, discipline};
use crate::state::AppState;
use crate::views::{self, InactiveMemberView, ReportingSettingsView};

/// A province's reporting settings (its officers and admins); the 5th applies until one is set.
#[utoipa::path(
    operation_id = "getReportingSettings",
    tag = "reports", security(("bearer" = [])), params(("province" = String, Path)),
    responses(
        (status = 200, body = ReportingSettingsView, headers(("ETag" = String))),
    )
)]
#[get("/api/v1/reports/settings/{province}")]
pub async fn settings(state: Data<AppState>, auth: Auth, province: Path<String>) -> Reply {
    let s = discipline::settings(&state, &auth.0, province.into_inner()).await?;
    Ok(served(StatusCode::OK, s.version, s))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsRequest {
    /// Reports of a month are due by this day (1–28) of the following month.
    #[validate(range(min = 1, max = 28))]
    #[schema(minimum = 1, maximum = 28)]
    pub due_day: i32,
}

/// Set the day reports are due (the province's officers and admins).
#[utoipa::path(
    operation_id = "putReportingSettings",
    tag = "reports", security(("bearer" = [])),
    params(("province" = String, Path), IfMatch),
    request_body = SettingsRequest,
    responses(
        (status = 200, body = ReportingSettingsView, headers(("ETag" = String))),
    )
)]
#[put("/api/v1/reports/settings/{province}")]
pub async fn put_settings(
    state: Data<AppState>,
    auth: Auth,
    province: Path<String>,
    body: ValidJson<SettingsRequest>,
    IfMatch(expected): IfMatch,
) -> Reply {
    let s = discipline::set_due_day(
        &state,
        &auth.0,
        province.into_inner(),
        body.0.due_day,
        expected,
    )
    .await?;
    Ok(served(StatusCode::OK, s.version, s))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InactiveQuery {
    /// A province or commune code (officers; defaults to their own unit).
    pub unit: Option<String>,
    /// A team (officers in scope; a team leader's own).
    #[param(value_type = Option<i64>)]
    pub team: Option<TeamId>,
    /// `YYYY-MM` (a day, `YYYY-MM-DD`, stands for its month).
    #[param(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])(-[0-3][0-9])?$")]
    pub month: String,
}

/// Members active in a month who recorded nothing in it (at most 5,000): officers for a unit or
/// team in their scope, a team leader for its own team.
#[utoipa::path(
    operation_id = "listInactiveMembers",
    tag = "reports", security(("bearer" = [])), params(InactiveQuery),
    responses(
        (status = 200, body = Vec<InactiveMemberView>),
        (status = 404, body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/reports/inactive")]
pub async fn inactive(state: Data<AppState>, auth: Auth, query: Query<InactiveQuery>) -> Reply {
    let q = query.into_inner();
    let month = reports::parse_month("month", &q.month)?;
    let items = discipline::inactive(&state, &auth.0, q.unit, q.team, month).await?;
    Ok(HttpResponse::Ok().json(views::all(items)))
}
