use actix_web::web::Data;
use actix_web::{get, HttpResponse};
use uuid::Uuid;

use super::extract::Auth;
use super::extract::Query;
use super::pagination::{list_query, Paged};
use super::Reply;
use crate::db::audit::AuditFilter;
use crate::state::AppState;
use crate::views::AuditEntryView;

list_query! {
    window;
    pub struct AuditQuery {
        /// `village`, `team`, `member` or `user`.
        pub entity: Option<String>,
        pub entity_id: Option<String>,
        pub actor: Option<Uuid>,
        /// Changes made by this import.
        pub import_id: Option<Uuid>,
    }
}

/// The audit trail of the caller's scope, newest first (officers).
#[utoipa::path(
    operation_id = "listAuditRecords",
    tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses(
        (status = 200, body = Paged<AuditEntryView>),
    )
)]
#[get("/api/v1/audit")]
pub async fn list(state: Data<AppState>, auth: Auth, query: Query<AuditQuery>) -> Reply {
    let caller = auth.0;
    // Refused before its parameters are read, as every officer-only list.
    crate::registry::require_officer(&caller)?;
    let q = query.into_inner();
    let page = q.paging()?;
    super::extract::check_window(q.from, q.to)?;
    let filter = AuditFilter {
        entity: q.entity,
        entity_id: q.entity_id,
        actor_id: q.actor.map(crate::ids::UserId),
        import_id: q.import_id,
        from: q.from,
        to: q.to,
    };
    let (items, total) = crate::registry::trail(&state, &caller, filter, page.window()).await?;
    Ok(HttpResponse::Ok().json(Paged::served(items, total, &page)))
}
