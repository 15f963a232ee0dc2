//! The one error type of the service. Database errors are mapped here, once; the HTTP shape
//! of each variant lives in `http::error`.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

/// One invalid field of a request, as listed in a validation problem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The field's path in the request, e.g. `username` or `members[2].phone`.
    pub field: String,
    /// Stable machine code, e.g. `required`, `too_long`, `unknown_unit`, `taken`.
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    /// A query string that does not parse: 400 `invalid_query`, one entry per field.
    #[error("invalid query string")]
    InvalidQuery(Vec<FieldError>),
    #[error("{detail}")]
    Unauthorized { code: &'static str, detail: String },
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    #[error("{detail}")]
    NotFound { code: &'static str, detail: String },
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    #[error("{detail}")]
    PreconditionFailed { code: &'static str, detail: String },
    /// The path exists but not with this method; `allow` lists the methods it has.
    #[error("this path does not accept {method}; it accepts {allow}")]
    MethodNotAllowed { method: String, allow: String },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("too many attempts; retry after {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// The database cannot be reached or is overloaded; the reason is logged, not shown.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; the reason is logged, not shown.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, code, message)])
    }

    pub fn not_found(what: &str) -> Self {
        AppError::NotFound {
            code: "not_found",
            detail: format!("{what} not found"),
        }
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        AppError::Forbidden {
            code: "forbidden",
            detail: detail.into(),
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        AppError::Internal(err.to_string())
    }
}

/// Field errors for constraints whose violation is the client's doing. Every constraint name
/// that a request can trip belongs here, so the client learns which field to fix.
fn constraint_field(constraint: &str) -> Option<FieldError> {
    let (field, code, message) = match constraint {
        "users_username_key" => ("username", "taken", "this username is already in use"),
        "users_phone_key" => ("phone", "taken", "this phone number is already in use"),
        "users_unit_code_fkey" => ("unit_code", "unknown_unit", "no such administrative unit"),
        "users_team_id_fkey" => ("team_id", "unknown_team", "no such team"),
        "villages_name_key" => (
            "name",
            "taken",
            "the commune already has a village with this name",
        ),
        "teams_village_same_commune_fkey" => (
            "village_id",
            "wrong_commune",
            "the village is not in the team's commune",
        ),
        "teams_dates_ordered" => (
            "dissolved_on",
            "before_established",
            "dissolved_on is before established_on",
        ),
        "members_one_active_leader" => (
            "team_role",
            "leader_exists",
            "the team already has an active leader",
        ),
        "members_user_active" => (
            "user_id",
            "already_linked",
            "this account is already linked to an active member",
        ),
        "members_user_id_fkey" => ("user_id", "unknown_user", "no such user"),
        "members_dates_ordered" => ("left_on", "before_joined", "left_on is before joined_on"),
        _ => return None,
    };
    Some(FieldError::new(field, code, message))
}

impl From<DieselError> for AppError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => AppError::not_found("resource"),
            DieselError::DatabaseError(kind, info) => {
                if let Some(field) = info.constraint_name().and_then(constraint_field) {
                    return AppError::Validation(vec![field]);
                }
                match kind {
                    DatabaseErrorKind::UniqueViolation => AppError::Conflict {
                        code: "already_exists",
                        detail: "a record with these values already exists".into(),
                    },
                    DatabaseErrorKind::ForeignKeyViolation => AppError::Conflict {
                        code: "dependent_records",
                        detail: "the change conflicts with records that depend on it".into(),
                    },
                    DatabaseErrorKind::SerializationFailure => {
                        AppError::Unavailable(format!("serialization failure: {}", info.message()))
                    }
                    _ if is_connection_loss(kind, info.message()) => {
                        AppError::Unavailable(format!("connection lost: {}", info.message()))
                    }
                    // Text with a NUL character (PostgreSQL stores none): the client's input.
                    _ if info.message().contains("invalid byte sequence") => AppError::BadRequest {
                        code: "invalid_text",
                        detail: "text must be valid UTF-8 without NUL characters".into(),
                    },
                    _ if info
                        .message()
                        .contains("canceling statement due to statement timeout") =>
                    {
                        AppError::Unavailable("statement timeout".into())
                    }
                    _ => AppError::Internal(format!("database: {}", info.message())),
                }
            }
            // The connection died inside a transaction and could not roll back.
            DieselError::BrokenTransactionManager => {
                AppError::Unavailable("connection lost inside a transaction".into())
            }
            other => AppError::Internal(format!("database: {other}")),
        }
    }
}

/// Whether the statement failed because the connection to PostgreSQL is gone (the server
/// stopped, restarted or the network broke): the client may retry, so 503, not 500.
fn is_connection_loss(kind: DatabaseErrorKind, message: &str) -> bool {
    matches!(
        kind,
        DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand
    ) || [
        "no connection to the server",
        "server closed the connection",
        "terminating connection",
        "could not receive data from server",
        "could not send data to server",
        "connection to server",
        "the database system is shutting down",
        "the database system is starting up",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

impl From<r2d2::Error> for AppError {
    fn from(err: r2d2::Error) -> Self {
        AppError::Unavailable(format!("database pool: {err}"))
    }
}

impl From<validator::ValidationErrors> for AppError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut fields = Vec::new();
        collect_validation_errors(&errors, "", &mut fields);
        fields.sort_by(|a, b| a.field.cmp(&b.field));
        AppError::Validation(fields)
    }
}

fn collect_validation_errors(
    errors: &validator::ValidationErrors,
    prefix: &str,
    out: &mut Vec<FieldError>,
) {
    use validator::ValidationErrorsKind;
    for (name, kind) in errors.errors() {
        let path = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let message = e
                        .message
                        .as_ref()
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| format!("{path} is invalid ({})", e.code));
                    out.push(FieldError::new(path.clone(), e.code.to_string(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect_validation_errors(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    collect_validation_errors(inner, &format!("{path}[{i}]"), out);
                }
            }
        }
    }
}
