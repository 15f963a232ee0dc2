use actix_web::body::{BodySize, MessageBody};
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::web::{Data, Path};
use actix_web::{get, post, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::extract::{Auth, Query, ValidJson};
use super::Reply;
use crate::error::AppError;
use crate::reports::read::{self, Monthly};
use crate::reports::workflow::{self, Action, CommuneStatus, PeriodStatus};
use crate::reports::{self, export, MonthlyReport, TrendPoint};
use crate::state::AppState;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// An Excel workbook (binary).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Spreadsheet(#[allow(dead_code)] Vec<u8>);

#[derive(Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthlyQuery {
    /// `VN` (admin), a province code or a commune code.
    pub unit: String,
    /// `YYYY-MM` (a day, `YYYY-MM-DD`, stands for its month).
    #[param(value_type = crate::month::MonthOrDay, inline)]
    pub month: String,
    /// `json` (default), `csv` or `xlsx`; the `Accept` header works too.
    #[param(inline)]
    pub format: Option<Format>,
    /// For an approved commune report: the live figures instead of the frozen ones.
    pub live: Option<bool>,
}

fn wanted(format: Option<Format>, req: &HttpRequest) -> Format {
    if let Some(f) = format {
        return f;
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accept.contains(XLSX) {
        Format::Xlsx
    } else if accept.contains("text/csv") {
        Format::Csv
    } else {
        Format::Json
    }
}

/// A body of a few byte chunks, written one after the other without being put together (a
/// kept report's big middle is shared, not copied, by every answer that sends it).
struct Parts {
    chunks: std::collections::VecDeque<Bytes>,
    size: u64,
}

impl Parts {
    fn new<const N: usize>(chunks: [Bytes; N]) -> Self {
        let size = chunks.iter().map(|c| c.len() as u64).sum();
        Parts {
            chunks: chunks.into_iter().collect(),
            size,
        }
    }
}

impl MessageBody for Parts {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.size)
    }

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Bytes, Self::Error>>> {
        std::task::Poll::Ready(self.chunks.pop_front().map(Ok))
    }
}

/// The monthly report of a unit: totals and a row per child unit (province → communes,
/// commune → villages and teams), zeros included. An approved commune report is served as
/// frozen at approval unless `live=true`.
#[utoipa::path(
    operation_id = "getMonthlyReport",
    tag = "reports", security(("bearer" = [])), params(MonthlyQuery),
    responses(
        (status = 200, description = "The report: JSON (`format=json`, the default), CSV (UTF-8 with BOM, `format=csv`) or an Excel workbook (`format=xlsx`)", content(
            (MonthlyReport = "application/json"),
            (String = "text/csv"),
            (Spreadsheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )),
        crate::http::error::NotAnOfficer,
        (status = 404, description = "the unit is outside the caller's scope", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/reports/monthly")]
pub async fn monthly(
    state: Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    query: Query<MonthlyQuery>,
) -> Reply {
    let q = query.into_inner();
    let format = wanted(q.format, &req);
    let (monthly, names) = read::monthly(
        &state,
        &auth.0,
        q.unit,
        &q.month,
        q.live.unwrap_or(false),
        format != Format::Json,
    )
    .await?;
    let report = match monthly {
        // A kept report's JSON is written from its kept bytes.
        Monthly::Kept(served) if format == Format::Json => {
            let (head, middle, tail) = served.json_parts().map_err(AppError::internal)?;
            return Ok(HttpResponse::Ok()
                .content_type("application/json")
                .body(Parts::new([
                    Bytes::from(head),
                    Bytes::from_owner(middle),
                    Bytes::from(tail),
                ])));
        }
        Monthly::Kept(served) => served.report().map_err(AppError::internal)?,
        Monthly::Computed(report) => *report,
    };
    let name = format!("bao-cao-{}-{}", report.unit.code, report.month);
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(report),
        Format::Csv => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ))
            .body(export::csv(&report, &names)?),
        Format::Xlsx => HttpResponse::Ok()
            .content_type(XLSX)
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.xlsx\""),
            ))
            .body(export::xlsx(&report, &names)?),
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendQuery {
    pub unit: String,
    /// `YYYY-MM` (a day, `YYYY-MM-DD`, stands for its month).
    #[param(value_type = crate::month::MonthOrDay, inline)]
    pub from: String,
    /// `YYYY-MM` (or a day of it), at most 36 months after `from`.
    #[param(value_type = crate::month::MonthOrDay, inline)]
    pub to: String,
}

/// Headline figures month by month, for charts.
#[utoipa::path(
    operation_id = "getReportTrend",
    tag = "reports", security(("bearer" = [])), params(TrendQuery),
    responses(
        (status = 200, body = Vec<TrendPoint>),
        crate::http::error::NotAnOfficer,
        (status = 404, description = "the unit is outside the caller's scope", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/reports/trend")]
pub async fn trend(state: Data<AppState>, auth: Auth, query: Query<TrendQuery>) -> Reply {
    let q = query.into_inner();
    let points = read::trend(&state, &auth.0, q.unit, &q.from, &q.to).await?;
    Ok(HttpResponse::Ok().json(points))
}

#[derive(Deserialize, Validate, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// Why the report is returned or reopened (required for those).
    #[validate(length(max = 1000))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

/// A commune's monthly report, as the workflow's paths name it.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ReportPath {
    pub commune: String,
    /// YYYY-MM
    #[param(value_type = crate::month::Month, inline)]
    pub month: String,
}

async fn decide(
    state: Data<AppState>,
    auth: Auth,
    path: Path<ReportPath>,
    body: Option<ValidJson<DecisionRequest>>,
    action: Action,
) -> Reply {
    let ReportPath { commune, month } = path.into_inner();
    let month = reports::parse_month("month", &month)?;
    let reason = body.and_then(|b| b.0.reason);
    let status = workflow::transition(&state, &auth.0, commune, month, action, reason).await?;
    Ok(HttpResponse::Ok().json(status))
}

/// Submit a commune's monthly report (its commune officer).
#[utoipa::path(
    operation_id = "submitMonthlyReport",
    tag = "reports", security(("bearer" = [])),
    params(ReportPath),
    responses(
        (status = 200, body = PeriodStatus),
        (status = 409, description = "already submitted or approved; `month_not_ended` before the month is over (Vietnam time)", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/reports/monthly/{commune}/{month}/submit")]
pub async fn submit(state: Data<AppState>, auth: Auth, path: Path<ReportPath>) -> Reply {
    decide(state, auth, path, None, Action::Submit).await
}

/// Approve a submitted report (its province's officer): the figures freeze and the month locks.
#[utoipa::path(
    operation_id = "approveMonthlyReport",
    tag = "reports", security(("bearer" = [])),
    params(ReportPath),
    responses(
        (status = 200, body = PeriodStatus),
        (status = 409, description = "not submitted; `month_not_ended` before the month is over (Vietnam time)", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/reports/monthly/{commune}/{month}/approve")]
pub async fn approve(state: Data<AppState>, auth: Auth, path: Path<ReportPath>) -> Reply {
    decide(state, auth, path, None, Action::Approve).await
}

/// Return a submitted report to the commune with a reason (its province's officer).
#[utoipa::path(
    operation_id = "returnMonthlyReport",
    tag = "reports", security(("bearer" = [])),
    params(ReportPath),
    request_body = DecisionRequest,
    responses(
        (status = 200, body = PeriodStatus),
        (status = 409, body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/reports/monthly/{commune}/{month}/return")]
pub async fn send_back(
    state: Data<AppState>,
    auth: Auth,
    path: Path<ReportPath>,
    body: ValidJson<DecisionRequest>,
) -> Reply {
    decide(state, auth, path, Some(body), Action::Return).await
}

/// Reopen an approved report with a reason (its province's officer): the month unlocks.
#[utoipa::path(
    operation_id = "reopenMonthlyReport",
    tag = "reports", security(("bearer" = [])),
    params(ReportPath),
    request_body = DecisionRequest,
    responses(
        (status = 200, body = PeriodStatus),
        (status = 409, body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/api/v1/reports/monthly/{commune}/{month}/reopen")]
pub async fn reopen(
    state: Data<AppState>,
    auth: Auth,
    path: Path<ReportPath>,
    body: ValidJson<DecisionRequest>,
) -> Reply {
    decide(state, auth, path, Some(body), Action::Reopen).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    pub province: String,
    /// `YYYY-MM` (a day, `YYYY-MM-DD`, stands for its month).
    #[param(value_type = crate::month::MonthOrDay, inline)]
    pub month: String,
}

/// Every commune of a province with its report's state: which communes are late.
#[utoipa::path(
    operation_id = "listReportStatuses",
    tag = "reports", security(("bearer" = [])), params(StatusQuery),
    responses(
        (status = 200, body = Vec<CommuneStatus>),
        (status = 403, description = "not a province officer or admin", body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 404, description = "the province is outside the caller's scope", body = crate::http::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/api/v1/reports/status")]
pub async fn statuses(state: Data<AppState>, auth: Auth, query: Query<StatusQuery>) -> Reply {
    let q = query.into_inner();
    let month = reports::parse_month("month", &q.month)?;
    Ok(HttpResponse::Ok().json(workflow::list(&state, &auth.0, q.province, month).await?))
}
