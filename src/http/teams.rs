use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::extract::{search_text, versioned, Auth, IfMatch, ValidJson};
use super::pagination::{PageQuery, Paged};
use crate::db::teams::{Team, TeamFilter};
use crate::error::AppError;
use crate::registry::teams::{self, TeamInput, TeamPatch};
use crate::registry::TeamStatus;
use crate::state::AppState;

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeamRequest {
    /// The commune (5 digits); defaults to the caller's own for commune officers.
    #[validate(length(min = 5, max = 5))]
    #[schema(min_length = 5, max_length = 5)]
    pub commune_code: Option<String>,
    /// For a village-level team: a village of the same commune.
    pub village_id: Option<i64>,
    #[validate(length(min = 1, max = 200))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Number of the commune chairman's establishing decision, e.g. `123/QĐ-UBND`.
    #[validate(length(max = 100))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(max_length = 100)]
    pub decision_number: Option<String>,
    #[validate(custom(function = "crate::input::plausible_date"))]
    pub decision_date: Option<NaiveDate>,
    #[validate(custom(function = "crate::input::plausible_date"))]
    pub established_on: Option<NaiveDate>,
    #[validate(custom(function = "crate::input::plausible_date"))]
    pub dissolved_on: Option<NaiveDate>,
    /// Default `active` (or `dissolved` when `dissolved_on` is given).
    pub status: Option<TeamStatus>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTeamRequest {
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub village_id: Option<Option<i64>>,
    #[validate(length(min = 1, max = 200))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(length(max = 100))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(max_length = 100)]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub decision_number: Option<Option<String>>,
    #[validate(custom(function = "crate::input::plausible_date"))]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub decision_date: Option<Option<NaiveDate>>,
    #[validate(custom(function = "crate::input::plausible_date"))]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub established_on: Option<Option<NaiveDate>>,
    #[validate(custom(function = "crate::input::plausible_date"))]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub dissolved_on: Option<Option<NaiveDate>>,
    pub status: Option<TeamStatus>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TeamListQuery {
    pub commune: Option<String>,
    pub village: Option<i64>,
    pub status: Option<TeamStatus>,
    /// Name search ignoring case and diacritics.
    pub q: Option<String>,
    pub include_archived: Option<bool>,
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 200)]
    pub page_size: Option<i64>,
}

/// Teams in the caller's scope (a team account sees its own team).
#[utoipa::path(operation_id = "listTeams", tag = "teams", security(("bearer" = [])), params(TeamListQuery), responses((status = 200, body = Paged<Team>)))]
#[get("/api/v1/teams")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    query: super::extract::Query<TeamListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let page = PageQuery::new(q.page, q.page_size)?;
    let filter = TeamFilter {
        commune_code: q.commune,
        village_id: q.village,
        status: q.status,
        search: search_text(q.q),
        include_archived: q.include_archived.unwrap_or(false),
    };
    let (items, total) = teams::list(&state, &auth.0, filter, page.window()).await?;
    Ok(HttpResponse::Ok().json(Paged::new(items, total, &page)))
}

/// Register a team in a commune of the caller's scope (officers).
#[utoipa::path(
    operation_id = "createTeam",
    tag = "teams", security(("bearer" = [])), request_body = CreateTeamRequest,
    responses(
        (status = 201, body = Team, headers(("ETag" = String))),
        (status = 409, description = "the village is archived (`parent_archived`)", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/teams")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidJson<CreateTeamRequest>,
) -> Result<HttpResponse, AppError> {
    let b = body.0;
    let input = TeamInput {
        commune_code: b.commune_code,
        village_id: b.village_id,
        name: b.name,
        decision_number: b.decision_number,
        decision_date: b.decision_date,
        established_on: b.established_on,
        dissolved_on: b.dissolved_on,
        status: b.status,
    };
    let t = teams::create(&state, &auth.0, input).await?;
    Ok(versioned(StatusCode::CREATED, t.version, &t))
}

/// One team; 404 when missing or outside the caller's scope.
#[utoipa::path(
    operation_id = "getTeam",
    tag = "teams", security(("bearer" = [])), params(("id" = i64, Path)),
    responses(
        (status = 200, body = Team, headers(("ETag" = String))),
    )
)]
#[get("/api/v1/teams/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let t = teams::get(&state, &auth.0, id.into_inner()).await?;
    Ok(versioned(StatusCode::OK, t.version, &t))
}

/// Change a team (officers); a stale `If-Match` gets 412.
#[utoipa::path(
    operation_id = "updateTeam",
    tag = "teams", security(("bearer" = [])),
    params(("id" = i64, Path), IfMatch),
    request_body = UpdateTeamRequest,
    responses(
        (status = 200, body = Team, headers(("ETag" = String))),
        (status = 409, description = "the team would be live in an archived village (`parent_archived`)", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/api/v1/teams/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<i64>,
    body: ValidJson<UpdateTeamRequest>,
    IfMatch(expected): IfMatch,
) -> Result<HttpResponse, AppError> {
    let b = body.0;
    let patch = TeamPatch {
        village_id: b.village_id,
        name: b.name,
        decision_number: b.decision_number,
        decision_date: b.decision_date,
        established_on: b.established_on,
        dissolved_on: b.dissolved_on,
        status: b.status,
    };
    let t = teams::update(&state, &auth.0, id.into_inner(), patch, expected).await?;
    Ok(versioned(StatusCode::OK, t.version, &t))
}

/// Archive a team; 409 while active members or enabled accounts belong to it.
#[utoipa::path(
    operation_id = "archiveTeam",
    tag = "teams", security(("bearer" = [])),
    params(("id" = i64, Path), IfMatch),
    responses(
        (status = 200, body = Team, headers(("ETag" = String))),
        (status = 409, body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/api/v1/teams/{id}")]
pub async fn archive(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<i64>,
    IfMatch(expected): IfMatch,
) -> Result<HttpResponse, AppError> {
    let t = teams::set_archived(&state, &auth.0, id.into_inner(), true, expected).await?;
    Ok(versioned(StatusCode::OK, t.version, &t))
}

/// Restore an archived team; 409 while its village is archived.
#[utoipa::path(
    operation_id = "restoreTeam",
    tag = "teams", security(("bearer" = [])),
    params(("id" = i64, Path), IfMatch),
    responses(
        (status = 200, body = Team, headers(("ETag" = String))),
        (status = 409, body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/teams/{id}/restore")]
pub async fn restore(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<i64>,
    IfMatch(expected): IfMatch,
) -> Result<HttpResponse, AppError> {
    let t = teams::set_archived(&state, &auth.0, id.into_inner(), false, expected).await?;
    Ok(versioned(StatusCode::OK, t.version, &t))
}
