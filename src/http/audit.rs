use actix_web::web::Data;
use actix_web::{get, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::extract::Auth;
use super::extract::Query;
use super::pagination::{PageQuery, Paged};
use super::Reply;
use crate::db;
use crate::db::audit::{self, AuditEntry, AuditFilter};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `village`, `team`, `member` or `user`.
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<Uuid>,
    /// Changes made by this import.
    pub import_id: Option<Uuid>,
    /// From this instant, inclusive: RFC 3339, or a day `YYYY-MM-DD` (00:00 Vietnam time).
    #[serde(default, deserialize_with = "super::extract::day_or_instant")]
    #[param(value_type = Option<String>)]
    pub from: Option<DateTime<Utc>>,
    /// Until this instant, exclusive: RFC 3339, or a day `YYYY-MM-DD` (00:00 Vietnam time).
    #[serde(default, deserialize_with = "super::extract::day_or_instant")]
    #[param(value_type = Option<String>)]
    pub to: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 200)]
    pub page_size: Option<i64>,
}

/// The audit trail of the caller's scope, newest first (officers).
#[utoipa::path(
    operation_id = "listAuditRecords",
    tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses(
        (status = 200, body = Paged<AuditEntry>),
    )
)]
#[get("/api/v1/audit")]
pub async fn list(state: Data<AppState>, auth: Auth, query: Query<AuditQuery>) -> Reply {
    let caller = auth.0;
    crate::registry::require_officer(&caller)?;
    let q = query.into_inner();
    let page = PageQuery::new(q.page, q.page_size)?;
    super::extract::check_window(q.from, q.to)?;
    let filter = AuditFilter {
        entity: q.entity,
        entity_id: q.entity_id,
        actor_id: q.actor,
        import_id: q.import_id,
        from: q.from,
        to: q.to,
    };
    let scope = caller.scope();
    let window = page.window();
    let (items, total) = db::run_read(&state.reads, move |c| {
        Ok(audit::list(c, &scope, &filter, window)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Paged::new(items, total, &page)))
}
