use actix_web::{post, web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::extract::{client_ip, AuthPendingPasswordChange, ValidJson};
use crate::auth::service;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Deserialize, Validate, ToSchema)]
pub struct LoginRequest {
    /// Username, or the phone number of the account.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    #[schema(example = "admin")]
    pub username: String,
    #[validate(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivateRequest {
    /// The one-time activation code an officer handed over (`XXXXX-XXXXX`; case, spaces and
    /// dashes are ignored).
    #[validate(length(min = 1, max = 40))]
    #[schema(min_length = 1, max_length = 40, example = "7KQ4M-XW2PH")]
    pub code: String,
    /// The password the owner chooses: 8 to 128 characters, not common nor made of the
    /// account's names (422 `too_weak` says why).
    #[validate(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

#[derive(Deserialize, Validate, ToSchema)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub refresh_token: String,
}

/// OAuth2-style token answer.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque, single use: exchange it at `/api/v1/auth/refresh` for a new pair.
    pub refresh_token: String,
    /// `true` when someone else set the password (an officer creating or resetting the
    /// account): every route but `GET /me`, `PUT /me/password`, `/auth/refresh` and
    /// `/auth/logout` answers 403 `password_change_required` until the owner changes it.
    pub must_change_password: bool,
}

impl From<service::TokenPair> for TokenResponse {
    fn from(p: service::TokenPair) -> Self {
        TokenResponse {
            access_token: p.access_token,
            token_type: "Bearer",
            expires_in: p.expires_in,
            refresh_token: p.refresh_token,
            must_change_password: p.must_change_password,
        }
    }
}

fn no_store(body: TokenResponse) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(body)
}

/// Log in with a username (or phone) and password.
///
/// Repeated failures for one username or from one address are slowed down with 429 and
/// `Retry-After`.
#[utoipa::path(
    operation_id = "login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "wrong username or password", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "account disabled", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many failed attempts", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidJson<LoginRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.0;
    let ip = client_ip(&req, state.settings.trust_proxy_headers);
    let pair = service::login(
        &state,
        &body.username,
        SecretString::from(body.password),
        &ip,
    )
    .await?;
    Ok(no_store(pair.into()))
}

/// Exchange a refresh token for a new token pair. The old refresh token is spent; presenting
/// it again ends the whole login (reuse detection).
#[utoipa::path(
    operation_id = "refreshToken",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "invalid, expired or reused refresh token", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: ValidJson<RefreshRequest>,
) -> Result<HttpResponse, AppError> {
    let pair = service::refresh(&state, SecretString::from(body.0.refresh_token)).await?;
    Ok(no_store(pair.into()))
}

/// End the current login: its access and refresh tokens stop working.
#[utoipa::path(operation_id = "logout", tag = "auth", security(("bearer" = [])), responses((status = 204, description = "logged out")))]
#[post("/api/v1/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    auth: AuthPendingPasswordChange,
) -> Result<HttpResponse, AppError> {
    service::logout(&state, auth.0.session_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Redeem a one-time activation code: the owner chooses the password and is logged in.
///
/// Counted like logins: repeated failures from one address are slowed down with 429.
#[utoipa::path(
    operation_id = "activateAccount",
    tag = "auth",
    request_body = ActivateRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "wrong, expired or used code (`invalid_activation_code`)", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "account disabled", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "too many failed attempts", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/activate")]
pub async fn activate(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: ValidJson<ActivateRequest>,
) -> Result<HttpResponse, AppError> {
    let body = body.0;
    let ip = client_ip(&req, state.settings.trust_proxy_headers);
    let pair = crate::auth::activation::activate(
        &state,
        &body.code,
        SecretString::from(body.password),
        &ip,
    )
    .await?;
    Ok(no_store(pair.into()))
}
