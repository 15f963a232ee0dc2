use actix_web::web::{Data, Path};
use actix_web::{get, patch, post, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{versioned, Auth, IfMatch, Query, ValidJson};
use super::pagination::{list_query, Paged};
use super::Reply;
use crate::access::Role;
use crate::accounts::{self, AccountPatch, NewAccount};
use crate::auth::activation::Issued;
use crate::db::users::{UserFilter, UserRow};
use crate::ids::{TeamId, UserId};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct UserOut {
    #[schema(value_type = Uuid)]
    pub id: UserId,
    pub username: String,
    pub full_name: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    /// The unit the account works in (none for admin).
    pub unit_code: Option<String>,
    pub province_code: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub team_id: Option<TeamId>,
    pub disabled: bool,
    /// The password was set by someone else and must be changed by the owner first.
    pub must_change_password: bool,
    /// The account has no password yet: its owner redeems an activation code first.
    pub activation_pending: bool,
    /// Optimistic-concurrency version, also sent as `ETag`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UserRow> for UserOut {
    fn from(u: UserRow) -> Self {
        let activation_pending = crate::auth::activation::is_pending(&u);
        UserOut {
            id: u.id,
            username: u.fields.username,
            full_name: u.fields.full_name,
            phone: u.fields.phone,
            role: Role::parse(&u.fields.role).unwrap_or(Role::TeamMember),
            unit_code: u.fields.unit_code,
            province_code: u.fields.province_code,
            team_id: u.fields.team_id,
            disabled: u.disabled,
            must_change_password: u.must_change_password,
            activation_pending,
            version: u.version,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

list_query! {
    pub struct UserListQuery {
        pub role: Option<Role>,
        /// A province or commune code: accounts working in it.
        pub unit: Option<String>,
        pub disabled: Option<bool>,
        /// Text found in the username or full name.
        pub q: Option<String>,
    }
}

/// Create an account inside the caller's scope, with a role no higher than the caller's.
#[utoipa::path(
    operation_id = "createUser",
    tag = "users",
    security(("bearer" = [])),
    request_body = NewAccount,
    responses(
        (status = 201, body = CreatedUserOut, headers(("ETag" = String))),
        (status = 403, description = "not an officer, role above own, or unit outside scope", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "the team is archived (`parent_archived`)", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/users")]
pub async fn create(state: Data<AppState>, auth: Auth, body: ValidJson<NewAccount>) -> Reply {
    let (user, issued) = accounts::create(&state, &auth.0, body.0).await?;
    Ok(versioned(
        actix_web::http::StatusCode::CREATED,
        user.version,
        &CreatedUserOut {
            user: UserOut::from(user),
            activation: issued,
        },
    ))
}

/// A new account, with its activation code when it was created without a password.
#[derive(Serialize, ToSchema)]
pub struct CreatedUserOut {
    #[serde(flatten)]
    pub user: UserOut,
    /// Shown once: only a keyed hash is kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activation: Option<Issued>,
}

/// Issue a new one-time activation code for an account; its previous code dies, its
/// password (if any) is cleared and its logins end. The code is in this answer only.
#[utoipa::path(
    operation_id = "issueActivationCode",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 201, body = Issued),
        (status = 403, description = "not an officer, a peer's or higher account, or one's own", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/users/{id}/activation")]
pub async fn issue_activation(state: Data<AppState>, auth: Auth, id: Path<UserId>) -> Reply {
    let issued = accounts::issue_activation(&state, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(issued))
}

#[derive(Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QrFormat {
    #[default]
    Png,
    Svg,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivationQrQuery {
    /// The account's live activation code (codes are stored hashed: only who holds the code
    /// can have it drawn).
    pub code: String,
    /// `png` (default) or `svg`.
    #[param(inline)]
    pub format: Option<QrFormat>,
}

/// The QR code of an account's live activation code, for the app to scan.
#[utoipa::path(
    operation_id = "getActivationQr",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ActivationQrQuery),
    responses(
        (status = 200, description = "the QR code", content_type = "image/png"),
        crate::http::error::NotAnOfficer,
    )
)]
#[get("/api/v1/users/{id}/activation-qr")]
pub async fn activation_qr(
    state: Data<AppState>,
    auth: Auth,
    id: Path<UserId>,
    query: Query<ActivationQrQuery>,
) -> Reply {
    let q = query.into_inner();
    let text = accounts::activation_qr_text(&state, &auth.0, id.into_inner(), &q.code).await?;
    let svg = matches!(q.format, Some(QrFormat::Svg));
    let image = crate::auth::activation::qr_image(&text, svg)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type(if svg { "image/svg+xml" } else { "image/png" })
        .body(image))
}

/// Accounts in the caller's scope, ordered by username.
#[utoipa::path(
    operation_id = "listUsers",
    tag = "users",
    security(("bearer" = [])),
    params(UserListQuery),
    responses(
        (status = 200, body = Paged<UserOut>),
        crate::http::error::NotAnOfficer,
    )
)]
#[get("/api/v1/users")]
pub async fn list(state: Data<AppState>, auth: Auth, query: Query<UserListQuery>) -> Reply {
    let q = query.into_inner();
    let page = q.paging()?;
    let filter = UserFilter {
        role: q.role.map(|r| r.as_str().to_string()),
        unit_code: q.unit,
        disabled: q.disabled,
        q: q.q
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().chars().take(100).collect()),
    };
    let (rows, total) = accounts::list(&state, &auth.0, filter, page.window()).await?;
    let items = rows.into_iter().map(UserOut::from).collect();
    Ok(HttpResponse::Ok().json(Paged::new(items, total, &page)))
}

/// One account; 404 when it does not exist or lies outside the caller's scope.
#[utoipa::path(
    operation_id = "getUser",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = UserOut, headers(("ETag" = String))),
        crate::http::error::NotAnOfficer,
    )
)]
#[get("/api/v1/users/{id}")]
pub async fn get(state: Data<AppState>, auth: Auth, id: Path<UserId>) -> Reply {
    let user = accounts::get(&state, &auth.0, id.into_inner()).await?;
    Ok(versioned(
        actix_web::http::StatusCode::OK,
        user.version,
        &UserOut::from(user),
    ))
}

/// Change an account. Send `If-Match` with the ETag you read: a stale one gets 412. Only a
/// role strictly above the account's may change it (403 `peer_account` between peers); moving
/// a team account to another team, or out of team roles, unlinks its membership.
#[utoipa::path(
    operation_id = "updateUser",
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), IfMatch),
    request_body = AccountPatch,
    responses(
        (status = 200, body = UserOut, headers(("ETag" = String))),
        (status = 403, description = "role above own, a peer's account, unit outside scope, or own access", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "moved to or enabled in an archived team (`parent_archived`)", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "the account changed since the ETag was read", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/api/v1/users/{id}")]
pub async fn update(
    state: Data<AppState>,
    auth: Auth,
    id: Path<UserId>,
    body: ValidJson<AccountPatch>,
    IfMatch(expected): IfMatch,
) -> Reply {
    let user = accounts::update(&state, &auth.0, id.into_inner(), body.0, expected).await?;
    Ok(versioned(
        actix_web::http::StatusCode::OK,
        user.version,
        &UserOut::from(user),
    ))
}
