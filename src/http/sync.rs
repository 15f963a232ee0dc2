use actix_web::web::Data;
use actix_web::{get, post, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::extract::{Auth, Query, ValidJson};
use super::Reply;
use crate::error::{AppError, FieldError};
use crate::fieldwork::logs::{LogInput, LogPatch};
use crate::fieldwork::sync::{self, ItemResult, ItemStatus, PullPage, PushItem, MAX_BATCH};
use crate::fieldwork::trainings::AttendanceInput;
use crate::ids::{LogId, TrainingId};
use crate::state::AppState;

/// One record from the phone.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum PushItemRequest {
    /// A new assistance log (its `id` generated on the phone).
    CreateLog { data: LogInput },
    /// An edit of a log, based on the version the phone last saw.
    UpdateLog {
        id: Uuid,
        base_version: i32,
        data: LogPatch,
    },
    /// A member's attendance at a member training; `base_version` when editing a record
    /// the phone has seen (a stale one comes back `conflict`).
    UpsertAttendance {
        #[schema(value_type = Uuid)]
        training_id: TrainingId,
        base_version: Option<i32>,
        data: AttendanceInput,
    },
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The phone's own id, kept with what it created.
    #[validate(length(min = 1, max = 100))]
    #[validate(custom(function = "crate::input::device_id"))]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[A-Za-z0-9._:-]*[A-Za-z][A-Za-z0-9._:-]*$"
    )]
    pub device_id: Option<String>,
    /// Up to 500 items. Each is parsed and applied on its own.
    #[schema(value_type = Vec<PushItemRequest>)]
    pub items: Vec<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct PushSummary {
    pub created: usize,
    pub duplicate: usize,
    pub updated: usize,
    pub rejected: usize,
    pub conflict: usize,
}

#[derive(Serialize, ToSchema)]
pub struct PushResponse {
    /// One result per item, in the order sent.
    pub results: Vec<ItemResult>,
    pub summary: PushSummary,
}

/// Send a batch of records recorded on the phone. Resending the same records is safe: each
/// comes back `duplicate`. A bad item is `rejected` with its problem and never blocks the rest;
/// an edit based on an old version comes back `conflict` with the server's copy.
#[utoipa::path(
    operation_id = "pushSync",
    tag = "sync", security(("bearer" = [])), request_body = PushRequest,
    responses(
        (status = 200, body = PushResponse),
        (status = 403, description = "not a team account", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/sync/push")]
pub async fn push(state: Data<AppState>, auth: Auth, body: ValidJson<PushRequest, true>) -> Reply {
    let body = body.0;
    if body.items.len() > MAX_BATCH {
        return Err(AppError::Validation(vec![FieldError::new(
            "items",
            "too_many",
            format!(
                "a batch holds at most {MAX_BATCH} items, not {}",
                body.items.len()
            ),
        )]));
    }
    let mut results = Vec::new();
    let mut items = Vec::new();
    for (index, raw) in body.items.into_iter().enumerate() {
        match parse_item(raw) {
            Ok(item) => items.push((index, item)),
            Err((id, err)) => results.push(ItemResult::rejected(index, id, &err)),
        }
    }
    results.extend(sync::push(&state, &auth.0, body.device_id, items).await?);
    results.sort_by_key(|r| r.index);
    let count = |s: ItemStatus| results.iter().filter(|r| r.status == s).count();
    let summary = PushSummary {
        created: count(ItemStatus::Created),
        duplicate: count(ItemStatus::Duplicate),
        updated: count(ItemStatus::Updated),
        rejected: count(ItemStatus::Rejected),
        conflict: count(ItemStatus::Conflict),
    };
    Ok(HttpResponse::Ok().json(PushResponse { results, summary }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PullQuery {
    /// The cursor of the previous page; none for a first sync.
    pub cursor: Option<String>,
    /// Changes per page (default 500, clamped to 1..=1000).
    pub limit: Option<i64>,
}

/// Everything the caller may see that changed since `cursor`: villages, teams, members,
/// categories, its logs, and ids archived since. Pages never skip or repeat a change, even
/// when many rows change at once or a transaction commits late.
#[utoipa::path(
    operation_id = "pullSync",
    tag = "sync", security(("bearer" = [])), params(PullQuery),
    responses((status = 200, body = PullPage))
)]
#[get("/api/v1/sync/pull")]
pub async fn pull(state: Data<AppState>, auth: Auth, query: Query<PullQuery>) -> Reply {
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(500).clamp(1, 1000);
    let page = sync::pull(&state, &auth.0, q.cursor, limit).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Reads one item, naming the wrong field by its path (`data.occurred_at`).
fn parse_item(mut raw: serde_json::Value) -> Result<PushItem, (Option<Uuid>, AppError)> {
    let id = raw
        .pointer("/data/id")
        .or_else(|| raw.get("id"))
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok());
    // The item's strings, screened like any request body's (`ValidJson` left them here).
    crate::text::screen_json(&mut raw, "", &[]).map_err(|e| (id, e))?;
    let data = raw.get("data").cloned().unwrap_or(serde_json::Value::Null);
    let result = match raw.get("op").and_then(|v| v.as_str()) {
        Some("create_log") => part::<LogInput>(data, "data").map(PushItem::CreateLog),
        Some("update_log") => update_log(&raw, data),
        Some("upsert_attendance") => upsert_attendance(&raw, data),
        _ => Err(invalid(
            "op",
            "op must be create_log, update_log or upsert_attendance",
        )),
    };
    result.map_err(|e| (id, e))
}

fn update_log(raw: &serde_json::Value, data: serde_json::Value) -> Result<PushItem, AppError> {
    match (uuid_at(raw, "id"), base_version(raw)) {
        (Some(id), Some(base_version)) => {
            part::<LogPatch>(data, "data").map(|d| PushItem::UpdateLog {
                id: LogId(id),
                base_version,
                patch: d,
            })
        }
        (None, _) => Err(invalid("id", "update_log needs the log's id")),
        (_, None) => Err(invalid(
            "base_version",
            "update_log needs the version the edit is based on",
        )),
    }
}

fn upsert_attendance(
    raw: &serde_json::Value,
    data: serde_json::Value,
) -> Result<PushItem, AppError> {
    let Some(training_id) = uuid_at(raw, "training_id") else {
        return Err(invalid(
            "training_id",
            "upsert_attendance needs the training's id",
        ));
    };
    part::<AttendanceInput>(data, "data").map(|d| PushItem::UpsertAttendance {
        training_id: TrainingId(training_id),
        input: d,
        base_version: base_version(raw),
    })
}

fn uuid_at(raw: &serde_json::Value, key: &str) -> Option<Uuid> {
    raw.get(key)
        .and_then(|v| v.as_str())
        .and_then(|s| Uuid::parse_str(s).ok())
}

fn base_version(raw: &serde_json::Value) -> Option<i32> {
    raw.get("base_version")
        .and_then(|v| v.as_i64())
        .and_then(|v| i32::try_from(v).ok())
}

fn invalid(name: &str, message: &str) -> AppError {
    AppError::Validation(vec![FieldError::new(name, "invalid_value", message)])
}

/// Deserialises and validates one part of an item, naming a wrong field `prefix.path`.
fn part<T: serde::de::DeserializeOwned + Validate>(
    value: serde_json::Value,
    prefix: &str,
) -> Result<T, AppError> {
    let parsed: T = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            prefix.to_string()
        } else {
            format!("{prefix}.{path}")
        };
        AppError::Validation(vec![FieldError::new(
            field,
            "invalid_value",
            e.inner().to_string(),
        )])
    })?;
    parsed.validate()?;
    Ok(parsed)
}
