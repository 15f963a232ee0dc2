use actix_web::web::Data;
use actix_web::{get, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::Reply;
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(operation_id = "getLiveness", tag = "health", responses((status = 200, body = Health)))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The database answers and every migration is applied; 503 otherwise.
#[utoipa::path(
    operation_id = "getReadiness",
    tag = "health",
    responses(
        (status = 200, body = Health),
        (status = 503, body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/health/ready")]
pub async fn ready(state: Data<AppState>) -> Reply {
    let current = db::run(&state.pool, |conn| {
        db::migrations_current(conn).map_err(|e| AppError::Unavailable(format!("migrations: {e}")))
    })
    .await?;
    if !current {
        return Err(AppError::Unavailable("migrations pending".into()));
    }
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}
