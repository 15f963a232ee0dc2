//! Request context: a request id on every span and response, one log line per request, and a
//! last guard that turns any error response without a problem body into one.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage, ResponseError};
use tracing::Instrument;

use super::error::{Problem, PROBLEM_JSON};
use crate::db;
use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, available to handlers through request extensions.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn incoming_id(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(&REQUEST_ID)?.to_str().ok()?;
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| v.to_string())
}

pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request_id = incoming_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        path = %req.path(),
    );
    let started = Instant::now();

    // Handlers answer errors as responses; an `Err` here comes from actix itself and is
    // answered by actix. (The request must not be cloned before routing, so it cannot be
    // rebuilt here.)
    let response = next
        .call(req)
        .instrument(span.clone())
        .await?
        .map_into_boxed_body();
    let mut response = ensure_problem(response);

    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| tracing::info!(status, latency_ms, "request completed"));

    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(response)
}

/// Admission: at most `TOSO_MAX_IN_FLIGHT` API requests are handled at once; the others wait
/// here, before their bodies are read, for at most the checkout timeout and are then answered
/// 503 with `Retry-After`. The database gate (`db::run`) bounds the work on PostgreSQL; this
/// bounds the memory of bodies read and answers built (64 concurrent 500-log pushes held about
/// 190 MB without it). Health checks and `/api/v1/auth/` (whose password hashing has its own
/// bounded queue) do not wait here.
pub async fn admission(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let gated = req.path().starts_with("/api/") && !req.path().starts_with("/api/v1/auth/");
    let gate = req
        .app_data::<web::Data<AppState>>()
        .filter(|_| gated)
        .map(|s| (s.admission.clone(), s.settings.database.checkout_timeout));
    let Some((gate, wait)) = gate else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let permit = match db::acquire_within(&gate, wait, "too many requests in flight").await {
        Ok(permit) => permit,
        Err(busy) => return Ok(req.into_response(busy.error_response())),
    };
    let response = next.call(req).await?.map_into_boxed_body();
    drop(permit);
    Ok(response)
}

fn ensure_problem(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if status.as_u16() < 400 || is_problem {
        return res;
    }
    let code = match status {
        StatusCode::NOT_FOUND => "route_not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::BAD_REQUEST => "bad_request",
        s if s.is_server_error() => "internal_error",
        _ => "error",
    };
    let detail = match status {
        StatusCode::NOT_FOUND => "no route matches this path".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "this route does not accept this method".to_string(),
        s => s.canonical_reason().unwrap_or("error").to_string(),
    };
    let (req, old) = res.into_parts();
    let mut fresh = Problem::new(status, code, detail).response();
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            fresh.headers_mut().insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(req, fresh)
}
