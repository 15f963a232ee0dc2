//! The HTTP face of `AppError`: RFC 9457 problem details with a stable `code`.

use actix_web::HttpRequest;

use crate::error::{AppError, ErrorCode, FieldError};
pub use crate::error::{Problem, PROBLEM_JSON};

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

/// The 403 of a route only officers may call, for the document (`responses(…, NotAnOfficer)`).
pub struct NotAnOfficer;

impl utoipa::IntoResponses for NotAnOfficer {
    fn responses(
    ) -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>> {
        super::problem_responses(&[(403, "not an officer")])
    }
}
