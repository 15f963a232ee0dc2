use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{post, FromRequest, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::{ready, Future};
use std::pin::Pin;
use utoipa::openapi::{RefOr, Response};
use utoipa::ToSchema;
use validator::Validate;

use super::extract::{client_ip, AuthPendingPasswordChange, ValidJson};
use super::Reply;
use crate::auth::service;
use crate::error::{AppError, AppResult};
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
    /// For the web console: the refresh token is set as an `HttpOnly; Secure;
    /// SameSite=Strict` cookie on `/api/v1/auth` instead of being in the answer, and
    /// `/auth/refresh` is then called without a body (see `refreshToken`).
    #[serde(default)]
    pub console: bool,
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
    /// For the web console: the refresh token goes into the `HttpOnly` cookie, as at a login
    /// with `console: true`.
    #[serde(default)]
    pub console: bool,
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
    /// Opaque, single use: exchange it at `/api/v1/auth/refresh` for a new pair. Absent for
    /// the web console (`console: true` at login, or a refresh by cookie): it is in the
    /// `HttpOnly` cookie `toso_refresh` instead, out of reach of the page's scripts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
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
            refresh_token: Some(p.refresh_token),
            must_change_password: p.must_change_password,
        }
    }
}

fn no_store(body: TokenResponse) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(body)
}

/// The web console's refresh-token cookie: `HttpOnly` (no script reads it), `Secure`,
/// `SameSite=Strict` (no other site's page sends it) and sent only to `/api/v1/auth`.
pub const REFRESH_COOKIE: &str = "toso_refresh";
const COOKIE_PATH: &str = "/api/v1/auth";
/// The header a cookie refresh must carry: a form or a link from another site cannot set
/// it, and a script of another origin cannot send it without a CORS preflight.
pub const CONSOLE_HEADER: &str = "x-toso-console";

fn refresh_cookie(value: String, max_age: time::Duration) -> Cookie<'static> {
    Cookie::build(REFRESH_COOKIE, value)
        .path(COOKIE_PATH)
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .max_age(max_age)
        .finish()
}

/// The token answer for the console: the refresh token goes into the cookie, not the body.
fn console_answer(state: &AppState, pair: service::TokenPair) -> HttpResponse {
    let ttl = i64::try_from(state.settings.jwt.refresh_ttl.as_secs()).unwrap_or(i64::MAX);
    let cookie = refresh_cookie(pair.refresh_token.clone(), time::Duration::seconds(ttl));
    let mut body = TokenResponse::from(pair);
    body.refresh_token = None;
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .cookie(cookie)
        .json(body)
}

/// The token answer of a login or activation: for the console (`console: true`) the refresh
/// token goes into the cookie, for other clients into the body.
fn token_answer(state: &AppState, pair: service::TokenPair, console: bool) -> HttpResponse {
    if console {
        console_answer(state, pair)
    } else {
        no_store(pair.into())
    }
}

fn csrf_refused(detail: &str) -> AppError {
    AppError::Forbidden {
        code: crate::error::ErrorCode::CsrfCheckFailed,
        detail: detail.into(),
    }
}

/// A refresh by cookie must say it comes from the console (`X-Toso-Console: 1`) and, when the
/// browser names the page's origin, come from this server's own host (the `Host` header; a
/// proxy in front must pass it through).
fn console_refresh_token(req: &HttpRequest) -> Result<SecretString, AppError> {
    let Some(cookie) = req.cookie(REFRESH_COOKIE) else {
        return Err(AppError::Unauthorized {
            code: crate::error::ErrorCode::InvalidRefreshToken,
            detail: "no refresh token: send `refresh_token`, or log in to the console".into(),
        });
    };
    let text = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if text(CONSOLE_HEADER) != Some("1") {
        return Err(csrf_refused(
            "a refresh by cookie must carry the header `X-Toso-Console: 1`",
        ));
    }
    if let Some(origin) = text(header::ORIGIN.as_str()) {
        let origin_host = origin.split_once("://").map(|(_, host)| host);
        if origin_host.is_none() || origin_host != text(header::HOST.as_str()) {
            return Err(csrf_refused("a refresh by cookie from another origin"));
        }
    }
    Ok(SecretString::from(cookie.value().to_string()))
}

/// An optional JSON body: a request without `Content-Type` and without a body, or with the
/// body `null`, reads as none; anything else is read and validated as [`ValidJson`] (its
/// errors are the answer).
pub struct OptionalJson<T>(pub Option<T>);

/// `null` or a `T`, validated when present.
#[derive(Deserialize)]
#[serde(transparent)]
struct Nullable<T>(Option<T>);

impl<T: Validate> Validate for Nullable<T> {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        self.0.as_ref().map_or(Ok(()), Validate::validate)
    }
}

impl<T> FromRequest for OptionalJson<T>
where
    T: serde::de::DeserializeOwned + Validate + 'static,
{
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let headers = req.headers();
        let length = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let empty = !headers.contains_key(header::CONTENT_TYPE)
            && !headers.contains_key(header::TRANSFER_ENCODING)
            && length.unwrap_or(0) == 0;
        if empty {
            return Box::pin(ready(Ok(OptionalJson(None))));
        }
        let body = ValidJson::<Nullable<T>>::from_request(req, payload);
        Box::pin(async move { Ok(OptionalJson(body.await?.0 .0)) })
    }
}

/// The refusals of a sign-in by credentials (a login, an activation) besides its 401: the
/// account is disabled (403), or there were too many failures (429).
struct SignInRefusals;

impl utoipa::IntoResponses for SignInRefusals {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        super::problem_responses(&[(403, "account disabled"), (429, "too many failed attempts")])
    }
}

/// A request body that signs in (a login's password, an activation's code).
trait Credentials {
    /// Whether the console asks: the refresh token then goes into its cookie.
    fn console(&self) -> bool;
    /// Signs in from the client's address `ip`.
    async fn sign_in(self, state: &AppState, ip: &str) -> AppResult<service::TokenPair>;
}

impl Credentials for LoginRequest {
    fn console(&self) -> bool {
        self.console
    }

    async fn sign_in(self, state: &AppState, ip: &str) -> AppResult<service::TokenPair> {
        service::login(state, &self.username, SecretString::from(self.password), ip).await
    }
}

impl Credentials for ActivateRequest {
    fn console(&self) -> bool {
        self.console
    }

    async fn sign_in(self, state: &AppState, ip: &str) -> AppResult<service::TokenPair> {
        let password = SecretString::from(self.password);
        crate::auth::activation::activate(state, &self.code, password, ip).await
    }
}

/// Signs in with `credentials` sent from the request's address: answers the token pair, or
/// for the console its cookie.
async fn signed_in(state: &AppState, req: &HttpRequest, credentials: impl Credentials) -> Reply {
    let ip = client_ip(req, state.settings.trust_proxy_headers);
    let console = credentials.console();
    let pair = credentials.sign_in(state, &ip).await?;
    Ok(token_answer(state, pair, console))
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
        SignInRefusals,
    )
)]
#[post("/api/v1/auth/login")]
pub async fn login(
    state: Data<AppState>,
    req: HttpRequest,
    body: ValidJson<LoginRequest>,
) -> Reply {
    signed_in(&state, &req, body.0).await
}

/// Exchange a refresh token for a new token pair. The old refresh token is spent; presenting
/// it again ends the whole login (reuse detection).
///
/// The web console sends no body: its refresh token is the `toso_refresh` cookie set at a
/// login with `console: true`, and the request must carry `X-Toso-Console: 1` and, when the
/// browser sends `Origin`, come from this server's host (403 `csrf_check_failed` otherwise).
/// The new refresh token then goes into the cookie again, not into the answer.
#[utoipa::path(
    operation_id = "refreshToken",
    tag = "auth",
    request_body(content = Option<RefreshRequest>, description = "The refresh token; none for a refresh by the console's cookie"),
    params(("X-Toso-Console" = Option<String>, Header, description = "`1`: required for a refresh by cookie")),
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "invalid, expired or reused refresh token", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "a refresh by cookie without `X-Toso-Console: 1` or from another origin (`csrf_check_failed`)", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/auth/refresh")]
pub async fn refresh(
    state: Data<AppState>,
    req: HttpRequest,
    body: OptionalJson<RefreshRequest>,
) -> Reply {
    match body.0 {
        Some(body) => {
            let pair = service::refresh(&state, SecretString::from(body.refresh_token)).await?;
            Ok(no_store(pair.into()))
        }
        None => {
            let token = console_refresh_token(&req)?;
            let pair = service::refresh(&state, token).await?;
            Ok(console_answer(&state, pair))
        }
    }
}

/// End the current login: its access and refresh tokens stop working (and the console's
/// refresh cookie is cleared).
#[utoipa::path(operation_id = "logout", tag = "auth", security(("bearer" = [])), responses((status = 204, description = "logged out")))]
#[post("/api/v1/auth/logout")]
pub async fn logout(state: Data<AppState>, auth: AuthPendingPasswordChange) -> Reply {
    service::logout(&state, auth.0.session_id).await?;
    Ok(HttpResponse::NoContent()
        .cookie(refresh_cookie(String::new(), time::Duration::ZERO))
        .finish())
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
        SignInRefusals,
    )
)]
#[post("/api/v1/auth/activate")]
pub async fn activate(
    state: Data<AppState>,
    req: HttpRequest,
    body: ValidJson<ActivateRequest>,
) -> Reply {
    signed_in(&state, &req, body.0).await
}
