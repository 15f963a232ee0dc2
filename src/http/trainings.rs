use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{delete, get, post, put, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::extract::{served, Auth, Query, ValidJson};
use super::pagination::{list_query, Paged};
use super::record::record_routes;
use super::Reply;
use crate::db::trainings::TrainingFilter;
use crate::error::AppError;
use crate::fieldwork::trainings::{self, AttendanceInput, TrainingInput, TrainingKind};
use crate::ids::TeamId;
use crate::ids::TrainingId;
use crate::state::AppState;
use crate::views::{self, AttendanceView, TrainingView};

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceRequest {
    /// 1 to 500 records.
    #[validate(nested)]
    pub records: Vec<AttendanceInput>,
}

list_query! {
    window;
    pub struct TrainingListQuery {
        /// A province or commune code.
        pub unit: Option<String>,
        #[param(value_type = Option<i64>)]
        pub team: Option<TeamId>,
        pub kind: Option<TrainingKind>,
        pub include_archived: Option<bool>,
    }
}

/// Record a training of team members or a class for citizens (officers; team leaders for
/// their team). 200 with the stored training when its id was already recorded.
#[utoipa::path(
    operation_id = "createTraining",
    tag = "trainings", security(("bearer" = [])), request_body = TrainingInput,
    responses(
        (status = 201, body = TrainingView, headers(("ETag" = String))),
        (status = 200, description = "already recorded", body = TrainingView),
        (status = 409, description = "the id is taken, the team or village is archived (`parent_archived`), or dated in an approved month", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/trainings")]
pub async fn create(state: Data<AppState>, auth: Auth, body: ValidJson<TrainingInput>) -> Reply {
    let (t, created) = trainings::create(&state, &auth.0, body.0).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(served(status, t.version, t))
}

/// Trainings in the caller's scope, newest first.
#[utoipa::path(operation_id = "listTrainings", tag = "trainings", security(("bearer" = [])), params(TrainingListQuery), responses((status = 200, body = Paged<TrainingView>)))]
#[get("/api/v1/trainings")]
pub async fn list(state: Data<AppState>, auth: Auth, query: Query<TrainingListQuery>) -> Reply {
    let q = query.into_inner();
    let page = q.paging()?;
    super::extract::check_window(q.from, q.to)?;
    let filter = TrainingFilter {
        unit_code: q.unit,
        team_id: q.team,
        kind: q.kind,
        from: q.from,
        to: q.to,
        include_archived: q.include_archived.unwrap_or(false),
    };
    let (items, total) = trainings::list(&state, &auth.0, filter, page.window()).await?;
    Ok(HttpResponse::Ok().json(Paged::served(items, total, &page)))
}

record_routes! {
    domain = trainings, view = TrainingView, id = TrainingId as Uuid, tag = "trainings",
    path = "/api/v1/trainings/{id}", restore_path = "/api/v1/trainings/{id}/restore",
    get = ("getTraining", ["One training; 404 when missing or outside the caller's scope."]),
    archive = ("archiveTraining", ["Archive a training recorded by mistake."], "dated in an approved month"),
    restore = ("restoreTraining", ["Restore an archived training (officers in scope; a leader its own team's); 409 in an", "approved month."], "dated in an approved month"),
    replace = (put, "replaceTraining", TrainingInput, ["Replace a training's details; a stale `If-Match` gets 412, an archived training 409", "`training_archived`."], "archived, its team or village archived (`parent_archived`), or dated in an approved month"),
}

/// Attendance of a member training.
#[utoipa::path(
    operation_id = "getTrainingAttendance",
    tag = "trainings", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Vec<AttendanceView>),
    )
)]
#[get("/api/v1/trainings/{id}/attendance")]
pub async fn attendance(state: Data<AppState>, auth: Auth, id: Path<TrainingId>) -> Reply {
    let rows = trainings::attendance(&state, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(views::all(rows)))
}

/// Record members' attendance (invited, attended, completed); one row per member, so sending
/// it again updates instead of duplicating. All records or none are stored.
#[utoipa::path(
    operation_id = "replaceTrainingAttendance",
    tag = "trainings", security(("bearer" = [])), params(("id" = Uuid, Path)), request_body = AttendanceRequest,
    responses(
        (status = 200, body = Vec<AttendanceView>),
        (status = 409, description = "not a member training, archived, or dated in an approved month", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/api/v1/trainings/{id}/attendance")]
pub async fn put_attendance(
    state: Data<AppState>,
    auth: Auth,
    id: Path<TrainingId>,
    body: ValidJson<AttendanceRequest>,
) -> Reply {
    let records = body.0.records;
    if records.is_empty() || records.len() > 500 {
        return Err(AppError::field(
            "records",
            "length",
            "send 1 to 500 records",
        ));
    }
    let rows = trainings::put_attendance(&state, &auth.0, id.into_inner(), records).await?;
    Ok(HttpResponse::Ok().json(views::all(rows)))
}
