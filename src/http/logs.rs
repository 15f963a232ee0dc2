use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{delete, get, patch, post, HttpResponse};

use super::extract::{served, Auth, Query, ValidJson};
use super::pagination::{list_query, Paged};
use super::record::record_routes;
use super::Reply;
use crate::db::logs::LogFilter;
use crate::fieldwork::logs::{self, Created, LogInput, LogPatch};
use crate::fieldwork::Outcome;
use crate::ids::LogId;
use crate::ids::MemberId;
use crate::ids::TeamId;
use crate::state::AppState;
use crate::views::LogView;

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
    tag = "assistance logs", security(("bearer" = [])), request_body = LogInput,
    responses(
        (status = 201, body = LogView, headers(("ETag" = String))),
        (status = 200, description = "already recorded: the stored log", body = LogView),
        (status = 409, description = "the id belongs to another record", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/assistance-logs")]
pub async fn create(state: Data<AppState>, auth: Auth, body: ValidJson<LogInput>) -> Reply {
    match logs::create(&state, &auth.0, body.0).await? {
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
    update = (patch, "updateAssistanceLog", LogPatch, ["Edit a log (its author, or the team's leader); a stale `If-Match` gets 412, an archived", "log 409 `log_archived`. A new `occurred_at` moves the log to the membership its member", "held on that day (422 when none)."], "archived, or dated in an approved month"),
}
