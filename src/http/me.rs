use actix_web::web::Data;
use actix_web::{get, put, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::extract::{client_ip, AuthPendingPasswordChange, ValidJson};
use super::Reply;
use crate::access::Role;
use crate::accounts;
use crate::auth::service;
use crate::ids::MemberId;
use crate::ids::VillageId;
use crate::ids::{TeamId, UserId};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct MeOut {
    #[schema(value_type = uuid::Uuid)]
    pub id: UserId,
    pub username: String,
    pub role: Role,
    /// The unit the caller works in (none for admin).
    pub unit_code: Option<String>,
    pub province_code: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub team_id: Option<TeamId>,
    /// `true` when someone else set the password: every route but this one,
    /// `PUT /me/password`, `/auth/refresh` and `/auth/logout` answers 403
    /// `password_change_required` until the caller changes it.
    pub must_change_password: bool,
    /// The caller's current membership (active, not archived), when its account is linked to
    /// one; `null` otherwise.
    pub membership: Option<MembershipOut>,
}

/// A membership as `/me` shows it: where the caller works in the register.
#[derive(Serialize, ToSchema)]
pub struct MembershipOut {
    #[schema(value_type = i64)]
    pub member_id: MemberId,
    /// The same person across moves between teams.
    #[schema(value_type = uuid::Uuid)]
    pub person_id: crate::ids::PersonId,
    /// leader, deputy or member.
    pub team_role: crate::vocab::TeamRole,
    pub joined_on: NaiveDate,
    #[schema(value_type = i64)]
    pub team_id: TeamId,
    pub team_name: String,
    #[schema(value_type = Option<i64>)]
    pub village_id: Option<VillageId>,
    pub village_name: Option<String>,
    pub commune_code: String,
    pub province_code: String,
    /// The membership's version (its `ETag` at `GET /members/{id}`).
    pub version: i32,
}

impl From<accounts::Membership> for MembershipOut {
    fn from(m: accounts::Membership) -> Self {
        MembershipOut {
            member_id: m.member.id,
            person_id: m.member.fields.person_id,
            team_role: m.member.fields.team_role,
            joined_on: m.member.fields.joined_on,
            team_id: m.team.id,
            team_name: m.team.fields.name,
            village_id: m.village.as_ref().map(|v| v.id),
            village_name: m.village.map(|v| v.fields.name),
            commune_code: m.member.fields.commune_code,
            province_code: m.member.fields.province_code,
            version: m.member.version,
        }
    }
}

/// The caller, with its role, scope and current membership.
#[utoipa::path(operation_id = "getMe", tag = "me", security(("bearer" = [])), responses((status = 200, body = MeOut)))]
#[get("/api/v1/me")]
pub async fn me(state: Data<AppState>, auth: AuthPendingPasswordChange) -> Reply {
    let membership = accounts::membership_of(&state, &auth.0).await?;
    let c = auth.0;
    Ok(HttpResponse::Ok().json(MeOut {
        id: c.user_id,
        username: c.username,
        role: c.role,
        unit_code: c.unit_code,
        province_code: c.province_code,
        team_id: c.team_id,
        must_change_password: c.must_change_password,
        membership: membership.map(MembershipOut::from),
    }))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[validate(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    pub current_password: String,
    /// 8 to 128 characters, not a common or easily guessed password (NIST SP 800-63B);
    /// a 422 on `new_password` with code `too_weak` says why.
    #[validate(custom(function = "crate::input::password_length"))]
    #[schema(min_length = 8, max_length = 128)]
    pub new_password: String,
}

/// Change the caller's password; every other login of the account ends. Wrong current
/// passwords count like failed logins: past the limit, 429 with `Retry-After`.
#[utoipa::path(
    operation_id = "changeMyPassword",
    tag = "me",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "password changed"),
        (status = 429, description = "too many wrong current passwords", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/api/v1/me/password")]
pub async fn change_password(
    state: Data<AppState>,
    req: HttpRequest,
    auth: AuthPendingPasswordChange,
    body: ValidJson<ChangePasswordRequest>,
) -> Reply {
    let b = body.0;
    let ip = client_ip(&req, state.settings.trust_proxy_headers);
    service::change_password(
        &state,
        &auth.0,
        &ip,
        SecretString::from(b.current_password),
        SecretString::from(b.new_password),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
