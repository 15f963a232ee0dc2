use actix_web::{get, put, web, HttpResponse};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::extract::{Auth, ValidJson};
use crate::auth::{service, Role};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct MeOut {
    pub id: uuid::Uuid,
    pub username: String,
    pub role: Role,
    /// The unit the caller works in (none for admin).
    pub unit_code: Option<String>,
    pub province_code: Option<String>,
    pub team_id: Option<i64>,
}

/// The caller, with its role and scope.
#[utoipa::path(operation_id = "getMe", tag = "me", security(("bearer" = [])), responses((status = 200, body = MeOut)))]
#[get("/api/v1/me")]
pub async fn me(auth: Auth) -> HttpResponse {
    let c = auth.0;
    HttpResponse::Ok().json(MeOut {
        id: c.user_id,
        username: c.username,
        role: c.role,
        unit_code: c.unit_code,
        province_code: c.province_code,
        team_id: c.team_id,
    })
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[validate(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    pub current_password: String,
    #[validate(length(
        min = 8,
        max = 128,
        code = "too_weak",
        message = "password must have 8 to 128 characters"
    ))]
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// Change the caller's password; every other login of the account ends.
#[utoipa::path(
    operation_id = "changeMyPassword",
    tag = "me",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 204, description = "password changed"))
)]
#[put("/api/v1/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidJson<ChangePasswordRequest>,
) -> Result<HttpResponse, AppError> {
    let b = body.0;
    service::change_password(
        &state,
        auth.0.user_id,
        auth.0.session_id,
        SecretString::from(b.current_password),
        SecretString::from(b.new_password),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
