//! Every problem `code` of the API, in one closed enum: serialised as the snake_case text a
//! client reads in `Problem.code` (unchanged on the wire) and exported in the OpenAPI document
//! as the string enum `ErrorCode`, with the meaning of each value, so a client can switch on
//! every code. Field errors (`Problem.errors[].code`) are a vocabulary of their own.

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($($variant:ident => $text:literal : $meaning:literal,)+) => {
        /// A problem's stable machine code (`Problem.code`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $(#[doc = $meaning] #[serde(rename = $text)] $variant,)+
        }

        impl ErrorCode {
            /// Every code, in the order of the documentation.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The wire spelling, e.g. `validation_failed`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $text),+
                }
            }

            /// What the code means, for the OpenAPI description.
            pub const fn meaning(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $meaning),+
                }
            }
        }
    };
}

error_codes! {
    // 400
    BadRequest => "bad_request": "the request could not be read",
    MalformedJson => "malformed_json": "the body is not JSON",
    MalformedBody => "malformed_body": "the body could not be read to its end",
    DuplicateKey => "duplicate_key": "a JSON object names a key twice",
    UnsupportedMediaType => "unsupported_media_type": "the body is not sent as application/json",
    InvalidText => "invalid_text": "text that is not valid UTF-8 or holds NUL characters",
    InvalidQuery => "invalid_query": "a query parameter does not parse; see `errors`",
    InvalidCursor => "invalid_cursor": "a cursor this server did not give",
    InvalidIfMatch => "invalid_if_match": "an If-Match header that is not one of our ETags",
    MalformedMultipart => "malformed_multipart": "a file upload that is not a readable multipart/form-data body",
    // 401
    MissingToken => "missing_token": "the route needs a bearer access token",
    InvalidToken => "invalid_token": "the access token or its header is not valid",
    TokenExpired => "token_expired": "the access token has expired; refresh it",
    SessionRevoked => "session_revoked": "the login has ended (logout, password change, disabled account)",
    InvalidCredentials => "invalid_credentials": "wrong username or password",
    InvalidRefreshToken => "invalid_refresh_token": "the refresh token is unknown or expired",
    RefreshTokenReused => "refresh_token_reused": "a spent refresh token was presented; the session is revoked",
    AccountDisabled => "account_disabled": "the account is disabled",
    InvalidActivationCode => "invalid_activation_code": "the activation code is unknown, spent or expired",
    // 403
    Forbidden => "forbidden": "the caller's role may not do this",
    PasswordChangeRequired => "password_change_required": "the account must change its password first",
    OutsideScope => "outside_scope": "the target lies outside the caller's administrative unit",
    RoleAboveOwn => "role_above_own": "the change would grant a role at or above the caller's",
    CsrfCheckFailed => "csrf_check_failed": "a cookie-borne refresh without the console's header or from another origin",
    PeerAccount => "peer_account": "an account of the caller's own role and unit",
    CannotChangeOwnAccess => "cannot_change_own_access": "a caller may not change its own role, unit or status",
    OwnLogsOnly => "own_logs_only": "a team member works only on its own logs",
    NotMemberTraining => "not_member_training": "attendance belongs to member trainings only",
    // 404
    NotFound => "not_found": "no such record within the caller's scope",
    RouteNotFound => "route_not_found": "no route matches this path",
    // 405, 408, 413, 429
    MethodNotAllowed => "method_not_allowed": "the path does not accept this method; see Allow",
    RequestTimeout => "request_timeout": "the body did not arrive in time",
    PayloadTooLarge => "payload_too_large": "the body is larger than the server accepts",
    TooManyRequests => "too_many_requests": "too many attempts; see Retry-After",
    // 409
    AlreadyExists => "already_exists": "a record with these values already exists",
    IdConflict => "id_conflict": "another record already uses this client-made id",
    ConcurrentChange => "concurrent_change": "a concurrent change wrote the same record; retry",
    DependentRecords => "dependent_records": "the change conflicts with records that depend on it",
    HasDependents => "has_dependents": "live records depend on this one; archive or move them first",
    ParentArchived => "parent_archived": "the parent record (village, team) is archived",
    TeamNotLive => "team_not_live": "the team is dissolved or archived",
    MemberNotActive => "member_not_active": "the member has left the team",
    LinkedAccountElsewhere => "linked_account_elsewhere": "the linked app account cannot follow the member",
    LogArchived => "log_archived": "the log is archived; restore it first",
    TrainingArchived => "training_archived": "the training is archived; restore it first",
    MonthLocked => "month_locked": "the month's report is submitted or approved",
    MonthNotEnded => "month_not_ended": "the month has not ended yet",
    AlreadySubmitted => "already_submitted": "the month's report is already submitted",
    AlreadyApproved => "already_approved": "the month's report is already approved",
    NotSubmitted => "not_submitted": "only a submitted report can be approved or returned",
    NotApproved => "not_approved": "only an approved report can be reopened",
    InvalidTransition => "invalid_transition": "the report's state does not allow this action",
    MembershipChanged => "membership_changed": "the membership the work belongs to changed meanwhile; send it again",
    YearLocked => "year_locked": "the year's figures are closed (its December is approved)",
    InvalidState => "invalid_state": "the change would leave the record in a state the database refuses",
    // 412
    VersionMismatch => "version_mismatch": "If-Match names an older version; read the record again",
    // 422
    ValidationFailed => "validation_failed": "some fields are invalid; see `errors`",
    ImportRejected => "import_rejected": "the file's rows hold errors; nothing was written (see the per-row report)",
    // 5xx
    InternalError => "internal_error": "an unexpected failure, logged with the request id",
    ServiceUnavailable => "service_unavailable": "the database is unreachable or busy; see Retry-After",
    Error => "error": "any other status the framework answered",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let mut description = String::from("A problem's stable machine code:");
        for code in ErrorCode::ALL {
            description.push_str(&format!("\n- `{}`: {}", code.as_str(), code.meaning()));
        }
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
            .description(Some(description))
            .into()
    }
}

impl utoipa::ToSchema for ErrorCode {
    fn name() -> std::borrow::Cow<'static, str> {
        "ErrorCode".into()
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;
    use std::collections::HashSet;

    #[test]
    fn every_code_is_unique_snake_case_and_serialises_as_written() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert_eq!(serde_json::to_value(code).unwrap(), text);
            let back: ErrorCode = serde_json::from_value(text.into()).unwrap();
            assert_eq!(back, *code);
        }
        assert!(ErrorCode::ALL.len() >= 40);
    }
}
