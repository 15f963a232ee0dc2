use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{delete, get, patch, post, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{search_text, served, Auth, Query, ValidJson};
use super::pagination::{list_query, PageQuery, Paged};
use super::record::record_routes;
use super::Reply;
use crate::db::members::{MemberFilter, MemberStatus};
use crate::error::AppError;
use crate::ids::VillageId;
use crate::ids::{MemberId, TeamId};
use crate::registry::members::{self, MemberInput, MemberPatch, Move};
use crate::registry::{Affiliation, TeamRole};
use crate::state::AppState;
use crate::views::MemberView;

#[derive(Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusQuery {
    Active,
    Left,
    All,
}

list_query! {
    pub struct MemberListQuery {
        pub commune: Option<String>,
        #[param(value_type = Option<i64>)]
        pub village: Option<VillageId>,
        #[param(value_type = Option<i64>)]
        pub team: Option<TeamId>,
        /// `active` (default), `left` or `all`.
        #[param(inline)]
        pub status: Option<StatusQuery>,
        pub affiliation: Option<Affiliation>,
        pub role: Option<TeamRole>,
        /// Name search ignoring case and diacritics.
        pub q: Option<String>,
        pub include_archived: Option<bool>,
    }
}

impl MemberListQuery {
    fn split(self) -> Result<(MemberFilter, PageQuery), AppError> {
        let page = self.paging()?;
        let filter = MemberFilter {
            commune_code: self.commune,
            village_id: self.village,
            team_id: self.team,
            status: match self.status {
                None | Some(StatusQuery::Active) => MemberStatus::Active,
                Some(StatusQuery::Left) => MemberStatus::Left,
                Some(StatusQuery::All) => MemberStatus::All,
            },
            affiliation: self.affiliation,
            team_role: self.role,
            search: search_text(self.q),
            include_archived: self.include_archived.unwrap_or(false),
        };
        Ok((filter, page))
    }
}

/// Members in the caller's scope, across teams.
#[utoipa::path(operation_id = "listMembers", tag = "members", security(("bearer" = [])), params(MemberListQuery), responses((status = 200, body = Paged<MemberView>)))]
#[get("/api/v1/members")]
pub async fn list(state: Data<AppState>, auth: Auth, query: Query<MemberListQuery>) -> Reply {
    let (filter, page) = query.into_inner().split()?;
    let (items, total) = members::list(&state, &auth.0, filter, page.window()).await?;
    Ok(HttpResponse::Ok().json(Paged::served(items, total, &page)))
}

/// Members of one team.
#[utoipa::path(
    operation_id = "listTeamMembers",
    tag = "members", security(("bearer" = [])), params(("id" = i64, Path), MemberListQuery),
    responses(
        (status = 200, body = Paged<MemberView>),
    )
)]
#[get("/api/v1/teams/{id}/members")]
pub async fn list_of_team(
    state: Data<AppState>,
    auth: Auth,
    id: Path<TeamId>,
    query: Query<MemberListQuery>,
) -> Reply {
    let (filter, page) = query.into_inner().split()?;
    let (items, total) =
        members::list_of_team(&state, &auth.0, id.into_inner(), filter, page.window()).await?;
    Ok(HttpResponse::Ok().json(Paged::served(items, total, &page)))
}

/// Add a member to a team (officers in scope, or the team's leader).
#[utoipa::path(
    operation_id = "createTeamMember",
    tag = "members", security(("bearer" = [])), params(("id" = i64, Path)), request_body = MemberInput,
    responses(
        (status = 201, body = MemberView, headers(("ETag" = String))),
        (status = 409, description = "team archived or dissolved", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/teams/{id}/members")]
pub async fn create(
    state: Data<AppState>,
    auth: Auth,
    id: Path<TeamId>,
    body: ValidJson<MemberInput>,
) -> Reply {
    let input = body.0;
    let m = members::create(&state, &auth.0, id.into_inner(), input).await?;
    Ok(served(StatusCode::CREATED, m.version, m))
}

record_routes! {
    domain = members, view = MemberView, id = MemberId as i64, tag = "members",
    path = "/api/v1/members/{id}", restore_path = "/api/v1/members/{id}/restore",
    get = ("getMember", ["One membership; 404 when missing or outside the caller's scope."]),
    archive = ("archiveMember", ["Archive a membership recorded by mistake (a member who left keeps the record: set `left_on`)."]),
    restore = ("restoreMember", ["Restore an archived membership; 409 while its team is archived."], "its team is archived (`parent_archived`)"),
    update = (patch, "updateMember", MemberPatch, ["Change a membership; set `left_on` when the member leaves. A stale `If-Match` gets 412."], "the member would be active in an archived team (`parent_archived`), or revived linked to an account that works elsewhere (`linked_account_elsewhere`)"),
}

/// Move a member to another team: the old membership ends on `on`, a new one starts the same
/// day for the same person (`person_id`). Returns the new membership.
#[utoipa::path(
    operation_id = "moveMember",
    tag = "members", security(("bearer" = [])), params(("id" = i64, Path)), request_body = Move,
    responses(
        (status = 201, body = MemberView, headers(("ETag" = String))),
        (status = 409, body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/members/{id}/move")]
pub async fn move_to(
    state: Data<AppState>,
    auth: Auth,
    id: Path<MemberId>,
    body: ValidJson<Move>,
) -> Reply {
    let m = members::move_to(&state, &auth.0, id.into_inner(), body.0).await?;
    Ok(served(StatusCode::CREATED, m.version, m))
}
