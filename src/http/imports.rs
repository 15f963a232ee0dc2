//! Bulk import of registers from spreadsheets, the templates and the import records.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::extract::Auth;
use super::extract::Query;
use super::pagination::{list_query, Paged};
use super::Reply;
use crate::db::imports::ImportRecord;
use crate::error::AppError;
use crate::imports::{self, vocab::Kind, Report};
use crate::state::AppState;

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check the file and answer what would happen, row by row, writing nothing to the
    /// register (the import is still recorded, as a dry run).
    pub dry_run: Option<bool>,
    /// The commune or province imported into (default: the caller's own unit). Rows of other
    /// communes are errors.
    pub unit: Option<String>,
}

/// The multipart body of an import.
#[derive(ToSchema)]
#[allow(dead_code)] // documents the body only
pub struct ImportUpload {
    /// The spreadsheet: `.xlsx`, or `.csv` (UTF-8 with or without BOM, or Windows-1258;
    /// `,` or `;` separated).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

fn spreadsheet(bytes: Vec<u8>, name: &str) -> HttpResponse {
    let cd = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::Filename(name.to_string())],
    };
    HttpResponse::Ok()
        .content_type(XLSX)
        .insert_header((header::CONTENT_DISPOSITION, cd))
        .insert_header(("Cache-Control", "no-store"))
        .body(bytes)
}

/// Reads the `file` part of a multipart body (its file name too), or a raw body.
async fn file_of(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(web::Bytes, String), AppError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !content_type.starts_with("multipart/form-data") {
        return Err(AppError::BadRequest {
            code: crate::error::ErrorCode::UnsupportedMediaType,
            detail: "send the file as multipart/form-data, in a part named `file`".into(),
        });
    }
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| AppError::BadRequest {
            code: crate::error::ErrorCode::MalformedMultipart,
            detail: format!("the multipart body could not be read: {e}"),
        })?;
        let disposition = field.content_disposition().cloned();
        if disposition.as_ref().and_then(|d| d.get_name()) != Some("file") {
            continue;
        }
        let name = disposition
            .as_ref()
            .and_then(|d| d.get_filename())
            .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "upload".into());
        let mut bytes = web::BytesMut::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| AppError::BadRequest {
                code: crate::error::ErrorCode::MalformedMultipart,
                detail: format!("the multipart body could not be read: {e}"),
            })?;
            bytes.extend_from_slice(&chunk);
        }
        return Ok((bytes.freeze(), name));
    }
    Err(AppError::field(
        "file",
        "required",
        "the multipart body has no part named `file`",
    ))
}

/// Import villages, teams, members and members' app accounts from a spreadsheet.
///
/// The file is matched row by row against the register by natural keys (village: commune +
/// name without diacritics; team: commune + name; member: team + phone, else team + name +
/// birth year). With `dry_run=true` nothing is written. Otherwise a file without errors is
/// applied in one transaction and a file with any error is rejected whole (422
/// `import_rejected`, the report under `import`). Importing the same file again changes
/// nothing. Larger than `TOSO_MAX_IMPORT_BYTES` (default 20 MiB): 413.
#[utoipa::path(
    operation_id = "createImport",
    tag = "imports",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = ImportUpload, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "dry run: what would happen", body = Report),
        (status = 201, description = "applied; send `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` to receive the activation sheet instead", body = Report, headers(("Location" = String))),
        (status = 403, description = "not an officer, or the unit is outside the caller's scope", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "a file that cannot be read (`validation_failed` on `file`: `empty_file`, `not_a_spreadsheet`, `legacy_xls`, `macros_not_allowed`, `hidden_sheet`, `formulas_not_allowed`, `unknown_header`, `unreadable_encoding`…), or rows with errors (`import_rejected`)", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/imports")]
pub async fn create(
    state: Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
    query: Query<ImportQuery>,
) -> Reply {
    let q = query.into_inner();
    crate::registry::require_officer(&auth.0)?;
    let (bytes, name) = file_of(&req, payload).await?;
    let dry_run = q.dry_run.unwrap_or(false);
    let outcome = imports::upload(&state, &auth.0, bytes, name, q.unit, dry_run).await?;
    let wants_sheet = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains(XLSX));
    match outcome.result {
        "rejected" => {
            let errors = outcome.counts.errors;
            let problem = super::error::Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                crate::error::ErrorCode::ImportRejected,
                format!("{errors} row(s) have errors; nothing was written. See import.rows."),
            );
            let mut body = serde_json::to_value(&problem).map_err(AppError::internal)?;
            body["import"] = serde_json::to_value(&outcome).map_err(AppError::internal)?;
            Ok(HttpResponse::UnprocessableEntity()
                .content_type(super::error::PROBLEM_JSON)
                .json(body))
        }
        "applied" if wants_sheet => {
            let sheet = imports::xlsx::activation_sheet(&outcome.activations)?;
            let mut res = spreadsheet(sheet, &format!("kich-hoat-{}.xlsx", outcome.id));
            *res.status_mut() = StatusCode::CREATED;
            res.headers_mut().insert(
                header::LOCATION,
                header::HeaderValue::from_str(&format!("/api/v1/imports/{}", outcome.id))
                    .map_err(AppError::internal)?,
            );
            Ok(res)
        }
        "applied" => Ok(HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/api/v1/imports/{}", outcome.id)))
            .insert_header(("Cache-Control", "no-store"))
            .json(outcome)),
        _ => Ok(HttpResponse::Ok().json(outcome)),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateQuery {
    /// `villages`, `teams` or `members`; all three sheets when left out.
    #[param(inline)]
    pub kind: Option<Kind>,
}

/// The XLSX template: Vietnamese headers, an example row, drop-down lists for the enumerated
/// columns and the commune codes of the caller's scope.
#[utoipa::path(
    operation_id = "getImportTemplate",
    tag = "imports",
    security(("bearer" = [])),
    params(TemplateQuery),
    responses(
        (status = 200, description = "the template", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        crate::http::error::NotAnOfficer,
    )
)]
#[get("/api/v1/imports/template")]
pub async fn template(state: Data<AppState>, auth: Auth, query: Query<TemplateQuery>) -> Reply {
    let kind = query.into_inner().kind;
    let bytes = imports::template(&state, &auth.0, kind).await?;
    let name = format!("mau-nhap-{}.xlsx", kind.map_or("tat-ca", Kind::as_str));
    Ok(spreadsheet(bytes, &name))
}

list_query! {
    pub struct ImportListQuery {
    }
}

/// Imports into the caller's scope, newest first (dry runs and rejected files included).
#[utoipa::path(
    operation_id = "listImports",
    tag = "imports",
    security(("bearer" = [])),
    params(ImportListQuery),
    responses(
        (status = 200, body = Paged<ImportRecord>),
        crate::http::error::NotAnOfficer,
    )
)]
#[get("/api/v1/imports")]
pub async fn list(state: Data<AppState>, auth: Auth, query: Query<ImportListQuery>) -> Reply {
    let q = query.into_inner();
    let page = q.paging()?;
    let (rows, total) = imports::list(&state, &auth.0, page.window()).await?;
    Ok(HttpResponse::Ok().json(Paged::new(rows, total, &page)))
}

/// One import: who, when, which file (name, SHA-256, size), the counts and the result.
#[utoipa::path(
    operation_id = "getImport",
    tag = "imports",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ImportRecord),
        crate::http::error::NotAnOfficer,
    )
)]
#[get("/api/v1/imports/{id}")]
pub async fn get(state: Data<AppState>, auth: Auth, id: Path<Uuid>) -> Reply {
    let record = imports::get(&state, &auth.0, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(record))
}

/// The per-row report of an import, as XLSX (one line per row, or per error of a row).
#[utoipa::path(
    operation_id = "getImportReport",
    tag = "imports",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the report", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        crate::http::error::NotAnOfficer,
    )
)]
#[get("/api/v1/imports/{id}/report")]
pub async fn row_report(state: Data<AppState>, auth: Auth, id: Path<Uuid>) -> Reply {
    let id = id.into_inner();
    let bytes = imports::report_xlsx(&state, &auth.0, id).await?;
    Ok(spreadsheet(bytes, &format!("ket-qua-nhap-{id}.xlsx")))
}
