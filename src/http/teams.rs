use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{search_text, versioned, Auth, IfMatch, ValidJson};
use super::pagination::{PageQuery, Paged};
use crate::db::teams::{Team, TeamFilter};
use crate::error::AppError;
use crate::registry::teams::{self, TeamInput, TeamPatch};
use crate::registry::TeamStatus;
use crate::state::AppState;

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
    tag = "teams", security(("bearer" = [])), request_body = TeamInput,
    responses(
        (status = 201, body = Team, headers(("ETag" = String))),
        (status = 409, description = "the village is archived (`parent_archived`)", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/teams")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidJson<TeamInput>,
) -> Result<HttpResponse, AppError> {
    let input = body.0;
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
    request_body = TeamPatch,
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
    body: ValidJson<TeamPatch>,
    IfMatch(expected): IfMatch,
) -> Result<HttpResponse, AppError> {
    let patch = body.0;
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
