use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{delete, get, patch, post, HttpResponse};

use super::extract::{search_text, served, Auth, Query, ValidJson};
use super::pagination::{list_query, Paged};
use super::record::record_routes;
use super::Reply;
use crate::db::villages::VillageFilter;
use crate::ids::VillageId;
use crate::registry::villages::{self, VillageInput, VillagePatch};
use crate::registry::VillageKind;
use crate::state::AppState;
use crate::views::VillageView;

list_query! {
    pub struct VillageListQuery {
        pub commune: Option<String>,
        pub kind: Option<VillageKind>,
        /// Name search ignoring case and diacritics.
        pub q: Option<String>,
        /// Also list archived villages.
        pub include_archived: Option<bool>,
    }
}

/// Villages in the caller's scope, by commune and name.
#[utoipa::path(operation_id = "listVillages", tag = "villages", security(("bearer" = [])), params(VillageListQuery), responses((status = 200, body = Paged<VillageView>)))]
#[get("/api/v1/villages")]
pub async fn list(state: Data<AppState>, auth: Auth, query: Query<VillageListQuery>) -> Reply {
    let q = query.into_inner();
    let page = q.paging()?;
    let filter = VillageFilter {
        commune_code: q.commune,
        kind: q.kind,
        search: search_text(q.q),
        include_archived: q.include_archived.unwrap_or(false),
    };
    let (items, total) = villages::list(&state, &auth.0, filter, page.window()).await?;
    Ok(HttpResponse::Ok().json(Paged::served(items, total, &page)))
}

/// Add a village to a commune in the caller's scope (officers).
#[utoipa::path(
    operation_id = "createVillage",
    tag = "villages", security(("bearer" = [])), request_body = VillageInput,
    responses(
        (status = 201, body = VillageView, headers(("ETag" = String))),
        (status = 403, description = "not an officer, or commune outside scope", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/villages")]
pub async fn create(state: Data<AppState>, auth: Auth, body: ValidJson<VillageInput>) -> Reply {
    let input = body.0;
    let v = villages::create(&state, &auth.0, input).await?;
    Ok(served(StatusCode::CREATED, v.version, v))
}

record_routes! {
    domain = villages, view = VillageView, id = VillageId as i64, tag = "villages",
    path = "/api/v1/villages/{id}", restore_path = "/api/v1/villages/{id}/restore",
    get = ("getVillage", ["One village; 404 when missing or outside the caller's scope."]),
    archive = ("archiveVillage", ["Archive a village (soft delete); 409 while live teams work in it."], "live teams depend on it"),
    restore = ("restoreVillage", ["Restore an archived village."]),
    update = (patch, "updateVillage", VillagePatch, ["Change a village; `If-Match` with a stale ETag gets 412 and changes nothing."]),
}
