//! The one error type of the service and the problem (RFC 9457) each error is answered with.
//! Database errors are mapped here, once; `http::error` turns a problem into a response.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

mod code;
#[cfg(feature = "actix")]
mod http;
pub use code::ErrorCode;
#[cfg(feature = "actix")]
pub use http::PROBLEM_JSON;

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

/// RFC 9457 problem details, as every error of this API is answered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:toso:problem:{code}`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// Stable machine-readable code, e.g. `validation_failed`, `invalid_token`, `not_found`.
    pub code: ErrorCode,
    /// For `validation_failed` and `invalid_query`: one entry per invalid field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl AppError {
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Validation(_) => ErrorCode::ValidationFailed,
            AppError::InvalidQuery(_) => ErrorCode::InvalidQuery,
            AppError::BadRequest { code, .. }
            | AppError::Unauthorized { code, .. }
            | AppError::Forbidden { code, .. }
            | AppError::NotFound { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::PreconditionFailed { code, .. } => *code,
            AppError::MethodNotAllowed { .. } => ErrorCode::MethodNotAllowed,
            AppError::TooManyRequests { .. } => ErrorCode::TooManyRequests,
            AppError::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            AppError::Unavailable(_) => ErrorCode::ServiceUnavailable,
            AppError::Internal(_) => ErrorCode::InternalError,
        }
    }

    pub fn detail(&self) -> String {
        match self {
            AppError::Validation(fields) | AppError::InvalidQuery(fields) if fields.len() == 1 => {
                fields[0].message.clone()
            }
            AppError::Validation(_) | AppError::InvalidQuery(_) => {
                "some fields are invalid; see errors".into()
            }
            AppError::Unavailable(_) => {
                "the service is temporarily unavailable; retry shortly".into()
            }
            AppError::Internal(_) => "an unexpected error occurred; it has been logged".into(),
            other => other.to_string(),
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Validation(_) => 422,
            AppError::BadRequest { .. } | AppError::InvalidQuery(_) => 400,
            AppError::Unauthorized { .. } => 401,
            AppError::Forbidden { .. } => 403,
            AppError::NotFound { .. } => 404,
            AppError::Conflict { .. } => 409,
            AppError::PreconditionFailed { .. } => 412,
            AppError::MethodNotAllowed { .. } => 405,
            AppError::TooManyRequests { .. } => 429,
            AppError::PayloadTooLarge(_) => 413,
            AppError::Unavailable(_) => 503,
            AppError::Internal(_) => 500,
        }
    }

    /// The problem this error is answered with: by a route, or for one item of a sync batch.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let mut problem = Problem {
            type_: format!("urn:toso:problem:{}", self.code()),
            title: reason(status).to_string(),
            status,
            detail: self.detail(),
            code: self.code(),
            errors: Vec::new(),
        };
        if let AppError::Validation(fields) | AppError::InvalidQuery(fields) = self {
            problem.errors = fields.clone();
        }
        problem
    }
}

/// The reason phrase of a status this API answers with (RFC 9110).
pub fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("{detail}")]
    BadRequest { code: ErrorCode, detail: String },
    /// A query string that does not parse: 400 `invalid_query`, one entry per field.
    #[error("invalid query string")]
    InvalidQuery(Vec<FieldError>),
    #[error("{detail}")]
    Unauthorized { code: ErrorCode, detail: String },
    #[error("{detail}")]
    Forbidden { code: ErrorCode, detail: String },
    #[error("{detail}")]
    NotFound { code: ErrorCode, detail: String },
    #[error("{detail}")]
    Conflict { code: ErrorCode, detail: String },
    #[error("{detail}")]
    PreconditionFailed { code: ErrorCode, detail: String },
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
            code: ErrorCode::NotFound,
            detail: format!("{what} not found"),
        }
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        AppError::Forbidden {
            code: ErrorCode::Forbidden,
            detail: detail.into(),
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        AppError::Internal(err.to_string())
    }
}

/// What a violated database constraint means to the client.
#[derive(Clone, Copy, Debug)]
pub enum ConstraintProblem {
    /// The client sent a value the database refuses: 422 with this field error.
    Field {
        field: &'static str,
        code: &'static str,
        message: &'static str,
    },
    /// The change collides with stored records or with a concurrent change: 409.
    Conflict {
        code: ErrorCode,
        detail: &'static str,
    },
}

const fn field(
    field: &'static str,
    code: &'static str,
    message: &'static str,
) -> ConstraintProblem {
    ConstraintProblem::Field {
        field,
        code,
        message,
    }
}

const fn conflict(code: ErrorCode, detail: &'static str) -> ConstraintProblem {
    ConstraintProblem::Conflict { code, detail }
}

/// A row that collides with one stored at the same moment (a key the server makes).
const CONCURRENT: ConstraintProblem = conflict(
    ErrorCode::ConcurrentChange,
    "a concurrent change wrote the same record; read it again and retry",
);
/// A reference the server takes from a stored record that vanished meanwhile.
const GONE: ConstraintProblem = conflict(
    ErrorCode::DependentRecords,
    "the change refers to a record that no longer exists, or one that others depend on",
);
const UNKNOWN_UNIT: ConstraintProblem =
    field("unit_code", "unknown_unit", "no such administrative unit");
/// A value outside the set the server accepts, checked again by the database.
const STATE: ConstraintProblem = conflict(
    ErrorCode::InvalidState,
    "the change would leave the record in a state the database refuses",
);

/// Every constraint and unique index of the schema (`pg_constraint` and unique `pg_index`),
/// with the problem its violation answers. A test (`tests/api/errors.rs`) reads the names
/// from the database and fails on any name missing here, so that no constraint can answer
/// 500. A new constraint gets a line here; partitions' copies (`<table>_y2026m11_pkey`,
/// `<table>_default_pkey`) resolve to their parent's name.
pub const CONSTRAINTS: &[(&str, ConstraintProblem)] = &[
    ("__diesel_schema_migrations_pkey", CONCURRENT),
    // Administrative units (written by `toso import-units`).
    (
        "admin_levels_pkey",
        conflict(ErrorCode::AlreadyExists, "this level already exists"),
    ),
    (
        "admin_levels_depth_key",
        conflict(ErrorCode::AlreadyExists, "a level has this depth"),
    ),
    (
        "admin_levels_depth_check",
        field("depth", "out_of_range", "depth must be positive"),
    ),
    (
        "admin_units_pkey",
        conflict(ErrorCode::AlreadyExists, "a unit has this code"),
    ),
    (
        "admin_units_code_check",
        field("code", "invalid_code", "a unit code has 2 to 6 digits"),
    ),
    (
        "admin_units_name_check",
        field("name", "invalid_length", "a name has 1 to 200 characters"),
    ),
    (
        "admin_units_level_fkey",
        field("level", "unknown_level", "no such administrative level"),
    ),
    (
        "admin_units_parent_code_fkey",
        field("parent_code", "unknown_unit", "no such parent unit"),
    ),
    (
        "admin_units_province_code_fkey",
        field("province_code", "unknown_unit", "no such province"),
    ),
    (
        "admin_units_root_has_no_parent",
        field(
            "parent_code",
            "wrong_level",
            "a province has no parent; every other unit has one",
        ),
    ),
    (
        "admin_units_valid_range",
        field(
            "valid_to",
            "before_valid_from",
            "valid_to is not after valid_from",
        ),
    ),
    // Accounts and logins.
    ("users_pkey", CONCURRENT),
    (
        "users_username_key",
        field("username", "taken", "this username is already in use"),
    ),
    (
        "users_phone_key",
        field("phone", "taken", "this phone number is already in use"),
    ),
    (
        "users_username_check",
        field(
            "username",
            "invalid_username",
            "username must be 3 to 64 characters: a-z, 0-9, '.', '_' or '-'",
        ),
    ),
    (
        "users_username_has_letter",
        field(
            "username",
            "needs_letter",
            "username must hold at least one letter: a name of digits could be a phone number",
        ),
    ),
    (
        "users_full_name_check",
        field(
            "full_name",
            "too_long",
            "full_name must have at most 200 characters",
        ),
    ),
    (
        "users_phone_check",
        field(
            "phone",
            "invalid_phone",
            "phone must be a Vietnamese mobile number, e.g. 0912345678",
        ),
    ),
    (
        "users_role_check",
        field("role", "invalid_role", "unknown role"),
    ),
    (
        "users_scope_matches_role",
        field(
            "role",
            "wrong_scope",
            "the role does not fit the account's unit and team",
        ),
    ),
    (
        "users_province_with_unit",
        field(
            "unit_code",
            "wrong_scope",
            "the account's unit and province do not match",
        ),
    ),
    ("users_unit_code_fkey", UNKNOWN_UNIT),
    ("users_province_code_fkey", UNKNOWN_UNIT),
    (
        "users_team_id_fkey",
        field("team_id", "unknown_team", "no such team"),
    ),
    ("auth_sessions_pkey", CONCURRENT),
    ("auth_sessions_user_id_fkey", GONE),
    ("refresh_tokens_pkey", CONCURRENT),
    ("refresh_tokens_session_id_fkey", GONE),
    ("login_throttle_pkey", CONCURRENT),
    // Activation codes (one live code per account; the server makes the codes).
    ("activation_codes_pkey", CONCURRENT),
    ("activation_codes_hash_key", CONCURRENT),
    (
        "activation_codes_code_hash_check",
        conflict(
            crate::error::ErrorCode::InvalidState,
            "an activation code hash has 32 bytes",
        ),
    ),
    ("activation_codes_user_id_fkey", GONE),
    // Imports and their per-row reports (written by the server from a parsed file).
    ("imports_pkey", CONCURRENT),
    ("imports_actor_id_fkey", GONE),
    ("imports_unit_code_fkey", UNKNOWN_UNIT),
    ("imports_province_code_fkey", UNKNOWN_UNIT),
    (
        "imports_file_name_check",
        field(
            "file",
            "invalid_file_name",
            "a file name has 1 to 255 characters",
        ),
    ),
    ("imports_sha256_check", STATE),
    ("imports_size_bytes_check", STATE),
    ("imports_result_check", STATE),
    ("import_rows_pkey", CONCURRENT),
    ("import_rows_import_id_fkey", GONE),
    ("import_rows_entity_check", STATE),
    ("import_rows_outcome_check", STATE),
    ("audit_log_import_id_fkey", GONE),
    ("audit_log_pkey", CONCURRENT),
    ("audit_log_actor_id_fkey", GONE),
    // Register.
    ("villages_pkey", CONCURRENT),
    ("villages_id_commune_key", CONCURRENT),
    (
        "villages_name_key",
        field(
            "name",
            "taken",
            "the commune already has a village with this name",
        ),
    ),
    (
        "villages_name_check",
        field(
            "name",
            "invalid_length",
            "name must have 1 to 200 characters",
        ),
    ),
    (
        "villages_kind_check",
        field("kind", "invalid_kind", "unknown village kind"),
    ),
    (
        "villages_households_check",
        field(
            "households",
            "out_of_range",
            "households cannot be negative",
        ),
    ),
    (
        "villages_population_check",
        field(
            "population",
            "out_of_range",
            "population cannot be negative",
        ),
    ),
    ("villages_commune_code_fkey", UNKNOWN_UNIT),
    ("villages_province_code_fkey", UNKNOWN_UNIT),
    ("teams_pkey", CONCURRENT),
    (
        "teams_name_check",
        field(
            "name",
            "invalid_length",
            "name must have 1 to 200 characters",
        ),
    ),
    (
        "teams_decision_number_check",
        field(
            "decision_number",
            "too_long",
            "decision_number must have at most 100 characters",
        ),
    ),
    (
        "teams_status_check",
        field(
            "status",
            "invalid_status",
            "status must be active, inactive or dissolved",
        ),
    ),
    (
        "teams_village_same_commune_fkey",
        field(
            "village_id",
            "wrong_commune",
            "the village is not in the team's commune",
        ),
    ),
    (
        "teams_dates_ordered",
        field(
            "dissolved_on",
            "before_established",
            "dissolved_on is before established_on",
        ),
    ),
    ("teams_commune_code_fkey", UNKNOWN_UNIT),
    ("teams_province_code_fkey", UNKNOWN_UNIT),
    ("members_pkey", CONCURRENT),
    (
        "members_full_name_check",
        field(
            "full_name",
            "invalid_length",
            "full_name must have 1 to 200 characters",
        ),
    ),
    (
        "members_phone_check",
        field(
            "phone",
            "invalid_phone",
            "phone must be a Vietnamese mobile number, e.g. 0912345678",
        ),
    ),
    (
        "members_sex_check",
        field("sex", "invalid_sex", "sex must be male, female or other"),
    ),
    (
        "members_birth_year_check",
        field(
            "birth_year",
            "out_of_range",
            "birth_year must be between 1900 and 2100",
        ),
    ),
    (
        "members_affiliation_check",
        field("affiliation", "invalid_affiliation", "unknown affiliation"),
    ),
    (
        "members_team_role_check",
        field(
            "team_role",
            "invalid_team_role",
            "team_role must be leader, deputy or member",
        ),
    ),
    (
        "members_dates_ordered",
        field("left_on", "before_joined", "left_on is before joined_on"),
    ),
    (
        "members_one_active_leader",
        field(
            "team_role",
            "leader_exists",
            "the team already has an active leader",
        ),
    ),
    (
        "members_user_active",
        field(
            "user_id",
            "already_linked",
            "this account is already linked to an active member",
        ),
    ),
    (
        "members_user_id_fkey",
        field("user_id", "unknown_user", "no such user"),
    ),
    (
        "members_team_id_fkey",
        field("team_id", "unknown_team", "no such team"),
    ),
    ("members_commune_code_fkey", GONE),
    ("members_province_code_fkey", GONE),
    // Field work.
    (
        "assistance_categories_pkey",
        field("code", "taken", "a category has this code"),
    ),
    (
        "assistance_categories_code_check",
        field("code", "invalid_code", "invalid category code"),
    ),
    (
        "assistance_categories_name_check",
        field("name", "invalid_length", "invalid category name"),
    ),
    (
        "assistance_logs_pkey",
        conflict(ErrorCode::AlreadyExists, "a log has this id"),
    ),
    (
        "log_ids_pkey",
        conflict(ErrorCode::AlreadyExists, "a log has this id"),
    ),
    (
        "assistance_logs_category_code_fkey",
        field("category_code", "unknown_category", "no such category"),
    ),
    (
        "assistance_logs_member_id_fkey",
        field("member_id", "unknown_member", "no such member"),
    ),
    (
        "assistance_logs_village_id_fkey",
        field("village_id", "unknown_village", "no such village"),
    ),
    ("assistance_logs_team_id_fkey", GONE),
    ("assistance_logs_commune_code_fkey", GONE),
    ("assistance_logs_province_code_fkey", GONE),
    ("assistance_logs_created_by_fkey", GONE),
    (
        "assistance_logs_channel_check",
        field("channel", "invalid_channel", "unknown channel"),
    ),
    (
        "assistance_logs_citizens_helped_check",
        field(
            "citizens_helped",
            "out_of_range",
            "citizens_helped must be between 1 and 1000",
        ),
    ),
    (
        "assistance_logs_citizen_sex_check",
        field(
            "citizen_sex",
            "invalid_sex",
            "citizen_sex must be male, female or other",
        ),
    ),
    (
        "assistance_logs_citizen_age_band_check",
        field("citizen_age_band", "invalid_age_band", "unknown age band"),
    ),
    (
        "assistance_logs_outcome_check",
        field("outcome", "invalid_outcome", "unknown outcome"),
    ),
    (
        "assistance_logs_note_check",
        field("note", "too_long", "note must have at most 500 characters"),
    ),
    (
        "assistance_logs_device_id_check",
        field(
            "device_id",
            "too_long",
            "device_id must have at most 100 characters",
        ),
    ),
    (
        "trainings_pkey",
        conflict(ErrorCode::AlreadyExists, "a training has this id"),
    ),
    (
        "trainings_title_check",
        field(
            "title",
            "invalid_length",
            "title must have 1 to 300 characters",
        ),
    ),
    (
        "trainings_kind_check",
        field(
            "kind",
            "invalid_kind",
            "kind must be member_training or citizen_class",
        ),
    ),
    (
        "trainings_mode_check",
        field(
            "mode",
            "invalid_mode",
            "mode must be in_person, online or blended",
        ),
    ),
    (
        "trainings_platform_check",
        field("platform", "invalid_platform", "unknown platform"),
    ),
    (
        "trainings_organiser_check",
        field(
            "organiser",
            "too_long",
            "organiser must have at most 200 characters",
        ),
    ),
    (
        "trainings_trainer_check",
        field(
            "trainer",
            "too_long",
            "trainer must have at most 200 characters",
        ),
    ),
    (
        "trainings_participants_check",
        field(
            "participants",
            "out_of_range",
            "participants cannot be negative",
        ),
    ),
    (
        "trainings_participants_male_check",
        field(
            "participants_male",
            "out_of_range",
            "participants_male cannot be negative",
        ),
    ),
    (
        "trainings_participants_female_check",
        field(
            "participants_female",
            "out_of_range",
            "participants_female cannot be negative",
        ),
    ),
    (
        "trainings_age_under_18_check",
        field(
            "age_under_18",
            "out_of_range",
            "age_under_18 cannot be negative",
        ),
    ),
    (
        "trainings_age_18_35_check",
        field("age_18_35", "out_of_range", "age_18_35 cannot be negative"),
    ),
    (
        "trainings_age_36_59_check",
        field("age_36_59", "out_of_range", "age_36_59 cannot be negative"),
    ),
    (
        "trainings_age_60_plus_check",
        field(
            "age_60_plus",
            "out_of_range",
            "age_60_plus cannot be negative",
        ),
    ),
    (
        "trainings_times_ordered",
        field("ends_at", "before_start", "ends_at is before starts_at"),
    ),
    (
        "trainings_village_id_fkey",
        field("village_id", "unknown_village", "no such village"),
    ),
    (
        "trainings_team_id_fkey",
        field("team_id", "unknown_team", "no such team"),
    ),
    ("trainings_commune_code_fkey", UNKNOWN_UNIT),
    ("trainings_province_code_fkey", UNKNOWN_UNIT),
    ("trainings_created_by_fkey", GONE),
    ("training_attendance_pkey", CONCURRENT),
    (
        "training_attendance_member_key",
        field("member_id", "duplicate", "the member is listed twice"),
    ),
    (
        "training_attendance_status_check",
        field(
            "status",
            "invalid_status",
            "status must be invited, attended or completed",
        ),
    ),
    (
        "training_attendance_certificate_ref_check",
        field(
            "certificate_ref",
            "too_long",
            "certificate_ref must have at most 100 characters",
        ),
    ),
    (
        "training_attendance_member_id_fkey",
        field("member_id", "unknown_member", "no such member"),
    ),
    ("training_attendance_training_id_fkey", GONE),
    ("training_attendance_team_id_fkey", GONE),
    ("training_attendance_commune_code_fkey", GONE),
    ("training_attendance_province_code_fkey", GONE),
    // Reports.
    ("log_rollups_pkey", CONCURRENT),
    ("member_month_logs_pkey", CONCURRENT),
    ("commune_month_totals_pkey", CONCURRENT),
    ("report_versions_pkey", CONCURRENT),
    ("report_periods_pkey", CONCURRENT),
    (
        "report_periods_month_check",
        field("month", "invalid_month", "a month is written YYYY-MM"),
    ),
    ("report_periods_status_check", STATE),
    (
        "report_periods_reason_check",
        field(
            "reason",
            "too_long",
            "reason must have at most 1000 characters",
        ),
    ),
    ("report_periods_commune_code_fkey", UNKNOWN_UNIT),
    ("report_periods_province_code_fkey", UNKNOWN_UNIT),
    ("report_periods_submitted_by_fkey", GONE),
    ("report_periods_decided_by_fkey", GONE),
    // Programme indicators (issue 14).
    (
        "indicators_pkey",
        field("code", "taken", "an indicator has this code"),
    ),
    (
        "indicators_code_check",
        field("code", "invalid_code", "invalid indicator code"),
    ),
    (
        "indicators_name_check",
        field(
            "name",
            "invalid_length",
            "name must have 1 to 200 characters",
        ),
    ),
    (
        "indicators_kind_check",
        field("kind", "invalid_kind", "kind must be count or rate"),
    ),
    (
        "indicators_denominator_check",
        field("denominator", "invalid_denominator", "unknown denominator"),
    ),
    ("indicators_aggregation_check", STATE),
    (
        "indicators_source_check",
        field("source", "invalid_source", "unknown source"),
    ),
    (
        "indicators_level_check",
        field("level", "invalid_level", "level must be commune or village"),
    ),
    (
        "indicators_category_code_fkey",
        field("category_code", "unknown_category", "no such category"),
    ),
    (
        "indicators_rate_has_denominator",
        field(
            "denominator",
            "required",
            "a rate has a denominator, a count none",
        ),
    ),
    ("indicators_aggregation_fits_kind", STATE),
    (
        "indicators_logs_have_category",
        field(
            "category_code",
            "required",
            "an indicator computed from logs names one category",
        ),
    ),
    (
        "indicators_computed_at_commune",
        field(
            "level",
            "computed_at_commune",
            "computed indicators are counted per commune",
        ),
    ),
    ("denominators_pkey", CONCURRENT),
    (
        "denominators_year_check",
        field("year", "out_of_range", "year must be from 2024 to 2100"),
    ),
    ("denominators_commune_code_fkey", UNKNOWN_UNIT),
    ("denominators_province_code_fkey", UNKNOWN_UNIT),
    (
        "denominators_population_check",
        field(
            "population",
            "out_of_range",
            "population cannot be negative",
        ),
    ),
    (
        "denominators_adults_check",
        field("adults", "out_of_range", "adults cannot be negative"),
    ),
    (
        "denominators_households_check",
        field(
            "households",
            "out_of_range",
            "households cannot be negative",
        ),
    ),
    (
        "denominators_source_note_check",
        field(
            "source_note",
            "too_long",
            "source_note must have at most 500 characters",
        ),
    ),
    (
        "denominators_village_same_commune_fkey",
        field(
            "village_id",
            "wrong_commune",
            "the village is not in this commune",
        ),
    ),
    (
        "denominators_adults_within_population",
        field(
            "adults",
            "exceeds_population",
            "adults cannot outnumber the population",
        ),
    ),
    ("denominators_unit_year_key", CONCURRENT),
    ("indicator_values_pkey", CONCURRENT),
    (
        "indicator_values_indicator_code_fkey",
        field("indicator_code", "unknown_indicator", "no such indicator"),
    ),
    (
        "indicator_values_month_check",
        field("month", "invalid_month", "a month is its first day"),
    ),
    ("indicator_values_commune_code_fkey", UNKNOWN_UNIT),
    ("indicator_values_province_code_fkey", UNKNOWN_UNIT),
    (
        "indicator_values_value_check",
        field("value", "out_of_range", "a value cannot be negative"),
    ),
    (
        "indicator_values_denominator_check",
        field(
            "denominator",
            "out_of_range",
            "a denominator cannot be negative",
        ),
    ),
    (
        "indicator_values_source_note_check",
        field(
            "source_note",
            "too_long",
            "source_note must have at most 500 characters",
        ),
    ),
    (
        "indicator_values_village_same_commune_fkey",
        field(
            "village_id",
            "wrong_commune",
            "the village is not in this commune",
        ),
    ),
    (
        "indicator_values_within_denominator",
        field(
            "value",
            "exceeds_denominator",
            "the value is above its denominator",
        ),
    ),
    ("indicator_values_unit_month_key", CONCURRENT),
    ("indicator_targets_pkey", CONCURRENT),
    (
        "indicator_targets_indicator_code_fkey",
        field("indicator_code", "unknown_indicator", "no such indicator"),
    ),
    (
        "indicator_targets_year_check",
        field("year", "out_of_range", "year must be from 2024 to 2100"),
    ),
    (
        "indicator_targets_month_check",
        field("month", "invalid_month", "a month is its first day"),
    ),
    (
        "indicator_targets_unit_kind_check",
        field(
            "unit_kind",
            "invalid_unit_kind",
            "unit_kind must be province, commune, village or team",
        ),
    ),
    (
        "indicator_targets_unit_key_check",
        field(
            "unit_key",
            "invalid_length",
            "unit_key must have 1 to 20 characters",
        ),
    ),
    ("indicator_targets_province_code_fkey", UNKNOWN_UNIT),
    ("indicator_targets_commune_code_fkey", UNKNOWN_UNIT),
    (
        "indicator_targets_target_value_check",
        field(
            "target_value",
            "out_of_range",
            "a target cannot be negative",
        ),
    ),
    (
        "indicator_targets_target_rate_check",
        field(
            "target_percent",
            "out_of_range",
            "a rate target is from 0 to 100 (%)",
        ),
    ),
    ("indicator_targets_split_from_fkey", GONE),
    (
        "indicator_targets_value_or_rate",
        field(
            "target_value",
            "one_of",
            "give either target_value or target_percent",
        ),
    ),
    (
        "indicator_targets_month_in_year",
        field(
            "month",
            "outside_year",
            "a monthly target's month lies in its year",
        ),
    ),
    ("indicator_targets_unit_key", CONCURRENT),
    ("reporting_settings_pkey", CONCURRENT),
    ("reporting_settings_province_code_fkey", UNKNOWN_UNIT),
    (
        "reporting_settings_due_day_check",
        field("due_day", "out_of_range", "due_day must be from 1 to 28"),
    ),
    // Versions of what reports read (kept reports, issue 16): written by triggers only.
    ("report_versions_pkey", CONCURRENT),
];

/// A partition's copy of a constraint or index carries the partition's name
/// (`assistance_logs_y2026m11_pkey`, `log_rollups_default_pkey`): the parent's name.
fn parent_constraint(name: &str) -> Option<String> {
    if let Some(i) = name.find("_default_") {
        return Some(format!("{}{}", &name[..i], &name[i + "_default".len()..]));
    }
    let bytes = name.as_bytes();
    (0..bytes.len()).find_map(|i| {
        let part = bytes.get(i..i + 10)?;
        let month = part[0] == b'_'
            && part[1] == b'y'
            && part[2..6].iter().all(u8::is_ascii_digit)
            && part[6] == b'm'
            && part[7..9].iter().all(u8::is_ascii_digit)
            && part[9] == b'_';
        month.then(|| format!("{}{}", &name[..i], &name[i + 9..]))
    })
}

/// The problem that a violation of `constraint` answers; `None` for a name not in
/// `CONSTRAINTS` (a test keeps that from happening).
pub fn constraint_problem(constraint: &str) -> Option<ConstraintProblem> {
    let find = |name: &str| {
        CONSTRAINTS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| *p)
    };
    find(constraint).or_else(|| parent_constraint(constraint).and_then(|p| find(&p)))
}

impl From<ConstraintProblem> for AppError {
    fn from(p: ConstraintProblem) -> Self {
        match p {
            ConstraintProblem::Field {
                field,
                code,
                message,
            } => AppError::field(field, code, message),
            ConstraintProblem::Conflict { code, detail } => AppError::Conflict {
                code,
                detail: detail.into(),
            },
        }
    }
}

impl From<DieselError> for AppError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => AppError::not_found("resource"),
            DieselError::DatabaseError(kind, info) => {
                if let Some(problem) = info.constraint_name().and_then(constraint_problem) {
                    return problem.into();
                }
                match kind {
                    DatabaseErrorKind::UniqueViolation => AppError::Conflict {
                        code: ErrorCode::AlreadyExists,
                        detail: "a record with these values already exists".into(),
                    },
                    DatabaseErrorKind::ForeignKeyViolation => AppError::Conflict {
                        code: ErrorCode::DependentRecords,
                        detail: "the change conflicts with records that depend on it".into(),
                    },
                    DatabaseErrorKind::SerializationFailure => {
                        AppError::Unavailable(format!("serialization failure: {}", info.message()))
                    }
                    // Two transactions locked the same rows in opposite orders; PostgreSQL
                    // ended this one: nothing was written, and a retry succeeds.
                    _ if info.message().contains("deadlock detected") => {
                        AppError::Unavailable(format!("deadlock: {}", info.message()))
                    }
                    _ if is_connection_loss(kind, info.message()) => {
                        AppError::Unavailable(format!("connection lost: {}", info.message()))
                    }
                    // Text with a NUL character (PostgreSQL stores none): the client's input.
                    _ if info.message().contains("invalid byte sequence") => AppError::BadRequest {
                        code: ErrorCode::InvalidText,
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

#[cfg(test)]
mod tests {
    use super::{constraint_problem, parent_constraint};

    #[test]
    fn partition_constraints_resolve_to_their_parent() {
        assert_eq!(
            parent_constraint("assistance_logs_y2026m11_pkey").as_deref(),
            Some("assistance_logs_pkey")
        );
        assert_eq!(
            parent_constraint("log_rollups_default_pkey").as_deref(),
            Some("log_rollups_pkey")
        );
        assert_eq!(parent_constraint("users_pkey"), None);
        assert!(constraint_problem("member_month_logs_y2030m01_pkey").is_some());
        assert!(constraint_problem("no_such_constraint").is_none());
    }
}
