use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{delete, get, patch, post, HttpResponse};

use super::extract::{search_text, served, Auth, Query, ValidJson};
use super::pagination::{list_query, Paged};
use super::record::record_routes;
use super::Reply;
use crate::db::teams::TeamFilter;
use crate::ids::{TeamId, VillageId};
use crate::registry::teams::{self, TeamInput, TeamPatch};
use crate::registry::TeamStatus;
use crate::state::AppState;
use crate::views::TeamView;

list_query! {
    pub struct TeamListQuery {
        pub commune: Option<String>,
        #[param(value_type = Option<i64>)]
        pub village: Option<VillageId>,
        pub status: Option<TeamStatus>,
        /// Name search ignoring case and diacritics.
        pub q: Option<String>,
        pub include_archived: Option<bool>,
    }
}

/// Teams in the caller's scope (a team account sees its own team).
#[utoipa::path(operation_id = "listTeams", tag = "teams", security(("bearer" = [])), params(TeamListQuery), responses((status = 200, body = Paged<TeamView>)))]
#[get("/api/v1/teams")]
pub async fn list(state: Data<AppState>, auth: Auth, query: Query<TeamListQuery>) -> Reply {
    let q = query.into_inner();
    let page = q.paging()?;
    let filter = TeamFilter {
        commune_code: q.commune,
        village_id: q.village,
        status: q.status,
        search: search_text(q.q),
        include_archived: q.include_archived.unwrap_or(false),
    };
    let (items, total) = teams::list(&state, &auth.0, filter, page.window()).await?;
    Ok(HttpResponse::Ok().json(Paged::served(items, total, &page)))
}

/// Register a team in a commune of the caller's scope (officers).
#[utoipa::path(
    operation_id = "createTeam",
    tag = "teams", security(("bearer" = [])), request_body = TeamInput,
    responses(
        (status = 201, body = TeamView, headers(("ETag" = String))),
        (status = 409, description = "the village is archived (`parent_archived`)", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/teams")]
pub async fn create(state: Data<AppState>, auth: Auth, body: ValidJson<TeamInput>) -> Reply {
    let input = body.0;
    let t = teams::create(&state, &auth.0, input).await?;
    Ok(served(StatusCode::CREATED, t.version, t))
}

record_routes! {
    domain = teams, view = TeamView, id = TeamId as i64, tag = "teams",
    path = "/api/v1/teams/{id}", restore_path = "/api/v1/teams/{id}/restore",
    get = ("getTeam", ["One team; 404 when missing or outside the caller's scope."]),
    archive = ("archiveTeam", ["Archive a team; 409 while active members or enabled accounts belong to it."], "active members or enabled accounts belong to it (`has_dependents`)"),
    restore = ("restoreTeam", ["Restore an archived team; 409 while its village is archived."], "its village is archived (`parent_archived`)"),
    update = (patch, "updateTeam", TeamPatch, ["Change a team (officers); a stale `If-Match` gets 412."], "the team would be live in an archived village (`parent_archived`)"),
}
