use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{delete, get, patch, post, HttpResponse};
use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use utoipa::ToSchema;

use validator::Validate;

use super::extract::{served, Auth, IfMatch, Query, ValidJson};
use super::pagination::{list_query, Paged};
use super::record::record_routes;
use super::Reply;
use crate::db::logs::LogFilter;
use crate::fieldwork::logs::{self, Created, LogInput, LogPatch};
use crate::fieldwork::{AgeBand, Channel, Outcome};
use crate::ids::LogId;
use crate::ids::MemberId;
use crate::ids::TeamId;
use crate::ids::VillageId;
use crate::registry::Sex;
use crate::state::AppState;
use crate::views::LogView;

#[derive(Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLogRequest {
    /// Generated on the phone; sending the same id again never creates a second log.
    #[schema(value_type = Uuid)]
    pub id: LogId,
    /// When the help happened, with its offset (e.g. `2025-10-31T23:30:00+07:00`).
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: DateTime<FixedOffset>,
    /// The member who helped; defaults to the caller's own membership.
    #[schema(value_type = Option<i64>)]
    pub member_id: Option<MemberId>,
    #[schema(value_type = Option<i64>)]
    pub village_id: Option<VillageId>,
    #[validate(length(min = 1, max = 40))]
    #[schema(min_length = 1, max_length = 40)]
    pub category_code: String,
    pub channel: Channel,
    pub citizens_helped: i32,
    pub citizen_sex: Option<Sex>,
    pub citizen_age_band: Option<AgeBand>,
    pub outcome: Outcome,
    /// Short note without names, ID numbers, phone numbers, OTPs or bank details.
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

impl From<CreateLogRequest> for LogInput {
    fn from(b: CreateLogRequest) -> Self {
        LogInput {
            id: b.id,
            occurred_at: b.occurred_at,
            member_id: b.member_id,
            village_id: b.village_id,
            category_code: b.category_code,
            channel: b.channel,
            citizens_helped: b.citizens_helped,
            citizen_sex: b.citizen_sex,
            citizen_age_band: b.citizen_age_band,
            outcome: b.outcome,
            note: b.note,
        }
    }
}

#[derive(Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLogRequest {
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<DateTime<FixedOffset>>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<Option<i64>>)]
    pub village_id: Option<Option<VillageId>>,
    #[validate(length(min = 1, max = 40))]
    #[schema(min_length = 1, max_length = 40)]
    pub category_code: Option<String>,
    pub channel: Option<Channel>,
    pub citizens_helped: Option<i32>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub citizen_sex: Option<Option<Sex>>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub citizen_age_band: Option<Option<AgeBand>>,
    pub outcome: Option<Outcome>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub note: Option<Option<String>>,
}

impl From<UpdateLogRequest> for LogPatch {
    fn from(b: UpdateLogRequest) -> Self {
        LogPatch {
            occurred_at: b.occurred_at,
            village_id: b.village_id,
            category_code: b.category_code,
            channel: b.channel,
            citizens_helped: b.citizens_helped,
            citizen_sex: b.citizen_sex,
            citizen_age_band: b.citizen_age_band,
            outcome: b.outcome,
            note: b.note,
        }
    }
}

list_query! {
    window;
    pub struct LogListQuery {
        /// A province or commune code.
        pub unit: Option<String>,
        #[param(value_type = Option<i64>)]
        pub team: Option<TeamId>,
        #[param(value_type = Option<i64>)]
        pub member: Option<MemberId>,
        pub category: Option<String>,
        pub outcome: Option<Outcome>,
        pub include_archived: Option<bool>,
    }
}

/// Record that a member helped citizens (team members as themselves; leaders for their team).
///
/// 201 when created; 200 with the stored log when this id was already recorded (a resend).
#[utoipa::path(
    operation_id = "createAssistanceLog",
    tag = "assistance logs", security(("bearer" = [])), request_body = CreateLogRequest,
    responses(
        (status = 201, body = LogView, headers(("ETag" = String))),
        (status = 200, description = "already recorded: the stored log", body = LogView),
        (status = 409, description = "the id belongs to another record", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/assistance-logs")]
pub async fn create(state: Data<AppState>, auth: Auth, body: ValidJson<CreateLogRequest>) -> Reply {
    match logs::create(&state, &auth.0, body.0.into()).await? {
        Created::New(log) => Ok(served(StatusCode::CREATED, log.version, log)),
        Created::Duplicate(log) => Ok(served(StatusCode::OK, log.version, log)),
    }
}

/// Logs in the caller's scope (a team member sees its own), newest first.
#[utoipa::path(operation_id = "listAssistanceLogs", tag = "assistance logs", security(("bearer" = [])), params(LogListQuery), responses((status = 200, body = Paged<LogView>)))]
#[get("/api/v1/assistance-logs")]
pub async fn list(state: Data<AppState>, auth: Auth, query: Query<LogListQuery>) -> Reply {
    let q = query.into_inner();
    let page = q.paging()?;
    super::extract::check_window(q.from, q.to)?;
    let filter = LogFilter {
        unit_code: q.unit,
        team_id: q.team,
        member_id: q.member,
        category_code: q.category,
        outcome: q.outcome,
        from: q.from,
        to: q.to,
        include_archived: q.include_archived.unwrap_or(false),
    };
    let (items, total) = logs::list(&state, &auth.0, filter, page.window()).await?;
    Ok(HttpResponse::Ok().json(Paged::served(items, total, &page)))
}

record_routes! {
    domain = logs, view = LogView, id = LogId as Uuid, tag = "assistance logs",
    path = "/api/v1/assistance-logs/{id}", restore_path = "/api/v1/assistance-logs/{id}/restore",
    get = ("getAssistanceLog", ["One log; 404 when missing or outside the caller's scope."]),
    archive = ("archiveAssistanceLog", ["Archive a log recorded by mistake."], "dated in an approved month"),
    restore = ("restoreAssistanceLog", ["Restore an archived log (its author, or the team's leader); 409 in an approved month."], "dated in an approved month"),
}

/// Edit a log (its author, or the team's leader); a stale `If-Match` gets 412, an archived
/// log 409 `log_archived`. A new `occurred_at` moves the log to the membership its member
/// held on that day (422 when none).
#[utoipa::path(
    operation_id = "updateAssistanceLog",
    tag = "assistance logs", security(("bearer" = [])),
    params(("id" = Uuid, Path), IfMatch),
    request_body = UpdateLogRequest,
    responses(
        (status = 200, body = LogView, headers(("ETag" = String))),
        (status = 409, description = "archived, or dated in an approved month", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/api/v1/assistance-logs/{id}")]
pub async fn update(
    state: Data<AppState>,
    auth: Auth,
    id: Path<LogId>,
    body: ValidJson<UpdateLogRequest>,
    IfMatch(expected): IfMatch,
) -> Reply {
    let log = logs::update(&state, &auth.0, id.into_inner(), body.0.into(), expected).await?;
    Ok(served(StatusCode::OK, log.version, log))
}
