//! Extractors: the authenticated caller, the client address and `If-Match` versions.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};

use crate::auth::jwt::TokenError;
use crate::auth::{Caller, Role};
use crate::db;
use crate::error::AppError;
use crate::state::AppState;

fn unauthorized(code: &'static str, detail: &str) -> AppError {
    AppError::Unauthorized {
        code,
        detail: detail.to_string(),
    }
}

fn bearer(req: &HttpRequest) -> Result<String, AppError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("missing_token", "this route needs a bearer access token"))?;
    let value = value
        .to_str()
        .map_err(|_| unauthorized("invalid_token", "the Authorization header is not readable"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_string())
        }
        _ => Err(unauthorized(
            "invalid_token",
            "the Authorization header must be `Bearer <token>`",
        )),
    }
}

/// The caller behind a valid access token whose session is live and whose account is enabled.
/// Role and scope come from the database, so a change takes effect at the next request. An
/// account whose password was set by someone else gets 403 `password_change_required` until
/// its owner changes it (`AuthPendingPasswordChange` lets the few routes that allow it in).
pub struct Auth(pub Caller);

/// Like `Auth`, but also lets in an account that must change its password first: for
/// `GET /me`, `PUT /me/password` and `POST /auth/logout`.
pub struct AuthPendingPasswordChange(pub Caller);

type CallerFuture = Pin<Box<dyn Future<Output = Result<Caller, AppError>>>>;

fn authenticate(req: &HttpRequest) -> CallerFuture {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer(req);
    Box::pin(async move {
        let state = state.ok_or_else(|| AppError::internal("application state is missing"))?;
        let claims = state.keys.verify(&token?).map_err(|e| match e {
            TokenError::Expired => unauthorized("token_expired", "the access token has expired"),
            _ => unauthorized("invalid_token", "the access token is not valid"),
        })?;
        let (sid, sub) = (claims.sid, claims.sub);
        let user = db::run(&state.pool, move |conn| {
            Ok(db::sessions::live_session_user(conn, sid, sub)?)
        })
        .await?
        .ok_or_else(|| unauthorized("session_revoked", "this login has ended; log in again"))?;
        let role = Role::parse(&user.role)
            .ok_or_else(|| AppError::internal("unknown role in database"))?;
        Ok(Caller {
            user_id: user.id,
            session_id: sid,
            username: user.username,
            role,
            unit_code: user.unit_code,
            province_code: user.province_code,
            team_id: user.team_id,
            must_change_password: user.must_change_password,
        })
    })
}

impl FromRequest for Auth {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = authenticate(req);
        Box::pin(async move {
            let caller = caller.await?;
            if caller.must_change_password {
                return Err(AppError::Forbidden {
                    code: "password_change_required",
                    detail: "your password was set by someone else: change it with \
                             PUT /api/v1/me/password first"
                        .into(),
                });
            }
            Ok(Auth(caller))
        })
    }
}

impl FromRequest for AuthPendingPasswordChange {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let caller = authenticate(req);
        Box::pin(async move { Ok(AuthPendingPasswordChange(caller.await?)) })
    }
}

/// The client's address: the peer, or the forwarded one when the proxy is trusted.
pub fn client_ip(req: &HttpRequest, trust_proxy: bool) -> String {
    let info = req.connection_info();
    let addr = if trust_proxy {
        info.realip_remote_addr()
    } else {
        info.peer_addr()
    };
    let addr = addr.unwrap_or("unknown");
    // Strip a port, keeping IPv6 addresses whole.
    match addr.parse::<std::net::SocketAddr>() {
        Ok(sa) => sa.ip().to_string(),
        Err(_) => addr.to_string(),
    }
}

/// The version named by `If-Match: "3"` (or `W/"3"`); `None` when the header is absent.
pub fn if_match_version(req: &HttpRequest) -> Result<Option<i32>, AppError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = || AppError::BadRequest {
        code: "invalid_if_match",
        detail: "If-Match must be an ETag of this API, e.g. \"3\"".into(),
    };
    let text = value.to_str().map_err(|_| bad())?.trim();
    let text = text.strip_prefix("W/").unwrap_or(text);
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .ok_or_else(bad)?;
    inner.parse::<i32>().map(Some).map_err(|_| bad())
}

pub fn etag(version: i32) -> header::ETag {
    header::ETag(header::EntityTag::new_strong(version.to_string()))
}

/// A JSON body that is deserialized and then validated; failures are 422 with field errors.
pub struct ValidJson<T>(pub T);

impl<T> FromRequest for ValidJson<T>
where
    T: serde::de::DeserializeOwned + validator::Validate + 'static,
{
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let value = fut.await?.into_inner();
            // Deserialising from a value keeps the path of a wrong field for the error.
            let body: T = serde_path_to_error::deserialize(value).map_err(|e| {
                let path = e.path().to_string();
                let message = e.inner().to_string();
                let field = if path == "." {
                    named_field(&message).unwrap_or("body").to_string()
                } else {
                    path
                };
                let code = if message.starts_with("missing field") {
                    "required"
                } else {
                    "invalid_value"
                };
                AppError::Validation(vec![crate::error::FieldError::new(field, code, message)])
            })?;
            body.validate().map_err(AppError::from)?;
            Ok(ValidJson(body))
        })
    }
}

/// The field serde names in "missing field `x`" or "unknown field `x`, expected …".
fn named_field(message: &str) -> Option<&str> {
    let rest = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))?;
    rest.split('`').next()
}

/// A JSON answer with the record's version as its `ETag`.
pub fn versioned<T: serde::Serialize>(
    status: actix_web::http::StatusCode,
    version: i32,
    body: &T,
) -> actix_web::HttpResponse {
    actix_web::HttpResponse::build(status)
        .insert_header(etag(version))
        .json(body)
}

/// Trims a search text, caps its length and folds it for diacritic-insensitive matching.
pub fn search_text(q: Option<String>) -> Option<String> {
    q.map(|s| crate::text::fold(&s.chars().take(100).collect::<String>()))
        .filter(|s| !s.is_empty())
}
