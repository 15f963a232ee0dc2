//! The HTTP face of `AppError`: RFC 9457 problem details with a stable `code`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};

pub use crate::error::Problem;
use crate::error::{AppError, ErrorCode, FieldError};

pub const PROBLEM_JSON: &str = "application/problem+json";

impl Problem {
    pub fn new(status: StatusCode, code: ErrorCode, detail: impl Into<String>) -> Self {
        Problem {
            type_: format!("urn:toso:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            code,
            errors: Vec::new(),
        }
    }

    pub fn response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        HttpResponse::build(status)
            .content_type(PROBLEM_JSON)
            .json(self)
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        // Logged once, here, inside the request span that carries the request id.
        match self {
            AppError::Internal(cause) => tracing::error!(error = %cause, "internal error"),
            AppError::Unavailable(cause) => tracing::warn!(error = %cause, "service unavailable"),
            _ => {}
        }
        let mut response = self.problem().response();
        let headers = response.headers_mut();
        match self {
            AppError::Unauthorized { code, .. } => {
                let value = format!("Bearer realm=\"toso\", error=\"{code}\"");
                if let Ok(v) = HeaderValue::from_str(&value) {
                    headers.insert(header::WWW_AUTHENTICATE, v);
                }
            }
            AppError::TooManyRequests { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            AppError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(1u32));
            }
            AppError::MethodNotAllowed { allow, .. } => {
                if let Ok(v) = HeaderValue::from_str(allow) {
                    headers.insert(header::ALLOW, v);
                }
            }
            _ => {}
        }
        response
    }
}

/// Turns actix's own extractor failures into the same problem shape.
pub fn json_error(err: actix_web::error::JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let app = match &err {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => {
            AppError::PayloadTooLarge("the request body is too large".into())
        }
        E::ContentType => AppError::BadRequest {
            code: ErrorCode::UnsupportedMediaType,
            detail: "the body must be sent as application/json".into(),
        },
        E::Deserialize(e) if e.to_string().starts_with(super::extract::DUPLICATE_KEY) => {
            AppError::BadRequest {
                code: ErrorCode::DuplicateKey,
                detail: format!("malformed JSON: {e}"),
            }
        }
        E::Deserialize(e) if e.is_data() => {
            AppError::Validation(vec![FieldError::new("body", "invalid_type", e.to_string())])
        }
        other => AppError::BadRequest {
            code: ErrorCode::MalformedJson,
            detail: format!("malformed JSON: {other}"),
        },
    };
    app.into()
}

/// A query string actix could not parse (the API's own `extract::Query` names the field).
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    AppError::InvalidQuery(vec![FieldError::new(
        "query",
        "invalid_value",
        err.to_string(),
    )])
    .into()
}

pub fn path_error(err: actix_web::error::PathError, _req: &HttpRequest) -> actix_web::Error {
    AppError::NotFound {
        code: ErrorCode::NotFound,
        detail: format!("no such resource: {err}"),
    }
    .into()
}
