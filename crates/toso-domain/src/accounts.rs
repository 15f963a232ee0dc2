//! User management rules: who may create or change which account.

use diesel::{Connection, PgConnection};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::access::{Caller, Role, Scope};
use crate::auth::{activation, password};
use crate::db::{self, audit, members, sessions, teams, units, users};
use crate::error::{AppError, AppResult, ErrorCode, FieldError};
use crate::ids::{TeamId, UserId};
use crate::state::AppState;
use crate::vocab::AuditAction;

// A new account; also the request body (its schema keeps the name it had as an HTTP type).
// The password is wrapped as a secret when `create` reads it.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateUserRequest)]
pub struct NewAccount {
    /// 3–64 characters: lower-case letters, digits, `.`, `_`, `-`, with at least one letter
    /// (so that no username can be taken for a phone number, which also logs in).
    #[validate(custom(function = "valid_username"))]
    #[schema(
        pattern = "^[a-z0-9._-]*[a-z][a-z0-9._-]*$",
        min_length = 3,
        max_length = 64
    )]
    pub username: String,
    /// 8 to 128 characters, not a common or easily guessed password nor one made of the
    /// account's names (NIST SP 800-63B); a 422 on `password` with code `too_weak` says why.
    /// The owner must change it at the first login (`must_change_password`). Leave it out to
    /// create the account without a password: the answer then holds a one-time activation
    /// code (shown once) that the owner redeems at `POST /api/v1/auth/activate`.
    #[validate(custom(function = "crate::input::password_length"))]
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
    pub role: Role,
    #[validate(length(min = 2, max = 6))]
    #[schema(min_length = 2, max_length = 6)]
    pub unit_code: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub team_id: Option<TeamId>,
    #[validate(length(max = 200, code = "too_long"))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(max_length = 200)]
    pub full_name: Option<String>,
    #[validate(length(max = 20, code = "too_long"))]
    #[schema(max_length = 20)]
    pub phone: Option<String>,
}

fn valid_username(name: &str) -> Result<(), validator::ValidationError> {
    let ok = (3..=64).contains(&name.len())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if !ok {
        return Err(
            validator::ValidationError::new("invalid_username").with_message(
                "username must be 3 to 64 characters: a-z, 0-9, '.', '_' or '-'".into(),
            ),
        );
    }
    // Logins by phone number and by username are one namespace: a username holds a letter.
    if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        return Err(
            validator::ValidationError::new("needs_letter").with_message(
                "username must hold at least one letter: a name of digits could be a phone number"
                    .into(),
            ),
        );
    }
    Ok(())
}

fn short_text<T: AsRef<str>>(value: T) -> Result<(), validator::ValidationError> {
    if value.as_ref().chars().count() > 200 {
        return Err(validator::ValidationError::new("too_long")
            .with_message("must have at most 200 characters".into()));
    }
    Ok(())
}

/// Fields to change; absent fields stay, `null` clears an optional one.
#[derive(Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateUserRequest)]
pub struct AccountPatch {
    #[validate(custom(function = "short_text"))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(max_length = 200)]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub full_name: Option<Option<String>>,
    #[validate(custom(function = "short_text"))]
    #[schema(max_length = 200)]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub phone: Option<Option<String>>,
    pub role: Option<Role>,
    #[validate(custom(function = "short_text"))]
    #[schema(max_length = 200)]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub unit_code: Option<Option<String>>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<Option<i64>>)]
    pub team_id: Option<Option<TeamId>>,
    pub disabled: Option<bool>,
    /// Sets a new password and ends every login of the account; the owner must change it at
    /// the next login. Only a role above the account's may set it; never one's own (use
    /// `PUT /me/password`).
    #[validate(custom(function = "crate::input::password_length"))]
    #[schema(min_length = 8, max_length = 128)]
    pub password: Option<String>,
}

/// What the audit trail keeps of an account: never its password hash.
#[derive(serde::Serialize)]
pub(crate) struct AccountSnapshot<'a> {
    id: UserId,
    username: &'a str,
    full_name: Option<&'a str>,
    phone: Option<&'a str>,
    role: &'a str,
    unit_code: Option<&'a str>,
    team_id: Option<TeamId>,
    disabled: bool,
    must_change_password: bool,
    version: i32,
}

pub(crate) fn snapshot(u: &users::UserRow) -> AccountSnapshot<'_> {
    AccountSnapshot {
        id: u.id,
        username: &u.fields.username,
        full_name: u.fields.full_name.as_deref(),
        phone: u.fields.phone.as_deref(),
        role: &u.fields.role,
        unit_code: u.fields.unit_code.as_deref(),
        team_id: u.fields.team_id,
        disabled: u.disabled,
        must_change_password: u.must_change_password,
        version: u.version,
    }
}

pub(crate) fn audit_account(
    conn: &mut PgConnection,
    caller: &Caller,
    action: AuditAction,
    before: Option<&users::UserRow>,
    after: &users::UserRow,
) -> AppResult<()> {
    audit_account_as(
        conn,
        Some(caller.user_id),
        &caller.username,
        action,
        before,
        after,
    )
}

/// The command line's actor in the audit trail (no account).
pub const OPERATOR: &str = "operator (command line)";

/// Audits an account change made from the command line.
pub fn audit_by_operator(
    conn: &mut PgConnection,
    action: AuditAction,
    before: Option<&users::UserRow>,
    after: &users::UserRow,
) -> AppResult<()> {
    audit_account_as(conn, None, OPERATOR, action, before, after)
}

/// Audits a change the account's owner made to it without being logged in (activation).
pub(crate) fn audit_account_by_owner(
    conn: &mut PgConnection,
    action: AuditAction,
    before: &users::UserRow,
    after: &users::UserRow,
) -> AppResult<()> {
    let name = before.fields.username.clone();
    audit_account_as(conn, Some(before.id), &name, action, Some(before), after)
}

/// Where the audit trail places an account: its province, and its commune unless it works
/// for the whole province.
pub(crate) fn place(u: &users::UserRow) -> (Option<&str>, Option<&str>) {
    let (province, unit) = (
        u.fields.province_code.as_deref(),
        u.fields.unit_code.as_deref(),
    );
    (province, unit.filter(|_| province != unit))
}

fn audit_account_as(
    conn: &mut PgConnection,
    actor_id: Option<UserId>,
    actor_username: &str,
    action: AuditAction,
    before: Option<&users::UserRow>,
    after: &users::UserRow,
) -> AppResult<()> {
    let (province_code, commune_code) = place(after);
    let (before, after_snap) = (before.map(snapshot), snapshot(after));
    audit::record_as(
        conn,
        actor_id,
        actor_username,
        audit::Change {
            action,
            entity: "user",
            entity_id: after.id.to_string(),
            province_code,
            commune_code,
            before: before.as_ref(),
            after: Some(&after_snap),
        },
    )?;
    Ok(())
}

fn require_officer(caller: &Caller) -> AppResult<()> {
    caller.require_officer("only officers manage user accounts")
}

fn check_grant(caller: &Caller, role: Role) -> AppResult<()> {
    if role.rank() > caller.role.rank() {
        return Err(AppError::Forbidden {
            code: ErrorCode::RoleAboveOwn,
            detail: format!(
                "a {} cannot grant the role {}",
                caller.role.as_str(),
                role.as_str()
            ),
        });
    }
    Ok(())
}

/// Only a strictly higher role manages another account: sets its password, disables it,
/// changes its role, unit or team, or anything else of it. Peers do not manage peers.
fn check_manage(caller_rank: u8, target: Role) -> AppResult<()> {
    if target.rank() > caller_rank {
        return Err(AppError::Forbidden {
            code: ErrorCode::RoleAboveOwn,
            detail: "you cannot manage an account with a higher role".into(),
        });
    }
    if target.rank() == caller_rank {
        return Err(AppError::Forbidden {
            code: ErrorCode::PeerAccount,
            detail: format!(
                "only a role above {} may change this account",
                target.as_str()
            ),
        });
    }
    Ok(())
}

/// Cuts (audited) every link between `user_id` and a membership outside `team`, the team the
/// account now works in (`None`: no team): an active one, and also a left or archived one, so
/// that reviving it cannot bring back a link to an account that works elsewhere.
fn unlink_memberships(
    conn: &mut PgConnection,
    caller: &Caller,
    user_id: UserId,
    team: Option<TeamId>,
) -> AppResult<()> {
    for before in members::linked_outside(conn, user_id, team)? {
        let after = members::update(
            conn,
            before.id,
            &members::MemberChanges {
                user_id: Some(None),
                ..Default::default()
            },
        )?;
        crate::registry::audit(conn, caller, AuditAction::Update, Some(&before), &after)?;
    }
    Ok(())
}

/// A member linked to `user_id` moves from team `from` to `to`: the account follows, as a
/// change the caller makes to it. The account must be a team account of team `from` (the link
/// is consistent), within the caller's scope and of a role below the caller's; otherwise the
/// move is refused (409) and nothing changes. Audited like any account change.
pub(crate) fn follow_move(
    conn: &mut PgConnection,
    caller: &Caller,
    user_id: UserId,
    from: TeamId,
    to: &teams::Team,
) -> AppResult<()> {
    let conflict = |detail: String| AppError::Conflict {
        code: ErrorCode::LinkedAccountElsewhere,
        detail,
    };
    let in_scope = users::get_in_scope(conn, &caller.scope(), user_id)?.is_some();
    let current = users::lock(conn, user_id)?
        .filter(|_| in_scope)
        .ok_or_else(|| {
            conflict("the member's app account is outside your scope; unlink it first".into())
        })?;
    let role =
        Role::parse(&current.fields.role).ok_or_else(|| AppError::internal("unknown role"))?;
    if !role.needs_team() || current.fields.team_id != Some(from) {
        return Err(conflict(
            "the member's app account no longer works in the member's team; unlink it first".into(),
        ));
    }
    check_manage(caller.role.rank(), role)?;
    let changes = users::UserChanges {
        team_id: Some(Some(to.id)),
        unit_code: Some(Some(to.fields.commune_code.clone())),
        province_code: Some(Some(to.fields.province_code.clone())),
        ..Default::default()
    };
    let after =
        users::update(conn, user_id, &changes)?.ok_or_else(|| AppError::not_found("user"))?;
    audit_account(conn, caller, AuditAction::Move, Some(&current), &after)
}

/// A team role needs a team, and only a team role has one.
fn check_team_fits(role: Role, team_id: Option<TeamId>, errors: &mut Vec<FieldError>) {
    if role.needs_team() && team_id.is_none() {
        errors.push(FieldError::new(
            "team_id",
            "required",
            "team roles need a team_id",
        ));
    }
    if !role.needs_team() && team_id.is_some() {
        errors.push(FieldError::new(
            "team_id",
            "not_allowed",
            "only team roles belong to a team",
        ));
    }
}

/// The commune of a team account's live team (share-locked: the team cannot be archived under
/// the new account, see `db::teams::lock_shared`); a team archived in scope is refused.
fn team_commune(
    conn: &mut PgConnection,
    scope: &Scope,
    role: Role,
    team_id: Option<TeamId>,
    errors: &mut Vec<FieldError>,
) -> AppResult<Option<String>> {
    let Some(id) = team_id.filter(|_| role.needs_team()) else {
        return Ok(None);
    };
    match teams::lock_shared(conn, id)? {
        Some(team)
            if team.archived_at.is_some()
                && scope.contains(&team.fields.commune_code, &team.fields.province_code) =>
        {
            Err(crate::registry::parent_archived("team", id))
        }
        Some(team) if team.archived_at.is_none() => Ok(Some(team.fields.commune_code)),
        _ => {
            errors.push(FieldError::new(
                "team_id",
                "unknown_team",
                format!("no live team has the id {id}"),
            ));
            Ok(None)
        }
    }
}

/// The unit a role names: none for an admin, a known unit of the role's level otherwise.
fn unit_of_role(
    conn: &mut PgConnection,
    role: Role,
    unit_code: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> AppResult<Option<units::UnitRow>> {
    let error = match (role.unit_level(), unit_code) {
        (None, None) => return Ok(None),
        (None, Some(_)) => FieldError::new(
            "unit_code",
            "not_allowed",
            "an admin covers the whole country",
        ),
        (Some(level), None) => FieldError::new(
            "unit_code",
            "required",
            format!("the role needs a {level} unit_code"),
        ),
        (Some(level), Some(code)) => match units::get(conn, code)? {
            None => FieldError::new(
                "unit_code",
                "unknown_unit",
                format!("no unit has the code {code:?}"),
            ),
            Some(u) if u.fields.level != level => FieldError::new(
                "unit_code",
                "wrong_level",
                format!(
                    "the role {} needs a {level}, and {code} is a {}",
                    role.as_str(),
                    u.fields.level
                ),
            ),
            Some(u) => return Ok(Some(u)),
        },
    };
    errors.push(error);
    Ok(None)
}

/// Checks that `role` fits `unit_code` and `team_id` and that the unit lies in `scope`;
/// returns the unit and its province.
pub fn resolve_unit(
    conn: &mut PgConnection,
    scope: &Scope,
    role: Role,
    unit_code: Option<&str>,
    team_id: Option<TeamId>,
) -> AppResult<Option<units::UnitRow>> {
    let mut errors = Vec::new();
    check_team_fits(role, team_id, &mut errors);
    // A team account works in its team's commune; the unit may be left out.
    let team_commune = team_commune(conn, scope, role, team_id, &mut errors)?;
    if let (Some(given), Some(commune)) = (unit_code, team_commune.as_deref()) {
        if given != commune {
            errors.push(FieldError::new(
                "unit_code",
                "wrong_commune",
                format!(
                    "team {} is in commune {commune}, not {given}",
                    team_id.map_or(0, i64::from)
                ),
            ));
        }
    }
    let unit = unit_of_role(
        conn,
        role,
        unit_code.or(team_commune.as_deref()),
        &mut errors,
    )?;
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    if let Some(u) = &unit {
        if !scope.contains(&u.fields.code, &u.fields.province_code) {
            return Err(AppError::Forbidden {
                code: ErrorCode::OutsideScope,
                detail: format!("unit {} is outside your scope", u.fields.code),
            });
        }
    }
    Ok(unit)
}

/// Refuses a password too close to the account's names (before spending time on the hash).
fn check_password(
    password: &SecretString,
    username: &str,
    full_name: Option<&str>,
    phone: Option<&str>,
) -> AppResult<()> {
    password::check_policy(
        "password",
        password.expose_secret(),
        &password::account_words(username, full_name, phone),
    )
}

/// What issuing an activation code needs: the key its hash is made with and its expiry.
fn code_issuer(state: &AppState) -> (activation::CodeKey, chrono::DateTime<chrono::Utc>) {
    (
        activation::CodeKey::new(&state.settings),
        activation::expiry(&state.settings),
    )
}

/// The new account's row, in the unit found for it.
fn new_user(
    input: NewAccount,
    unit: Option<units::UnitRow>,
    phone: Option<String>,
    password_hash: Option<String>,
) -> users::NewUser {
    users::NewUser {
        username: input.username.trim().to_lowercase(),
        full_name: input
            .full_name
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
        phone,
        password_hash: password_hash.unwrap_or_else(|| activation::PENDING_HASH.to_string()),
        role: input.role.as_str().to_string(),
        province_code: unit.as_ref().map(|u| u.fields.province_code.clone()),
        unit_code: unit.map(|u| u.fields.code),
        team_id: input.team_id,
    }
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    mut input: NewAccount,
) -> AppResult<(users::UserRow, Option<activation::Issued>)> {
    let password = input.password.take().map(SecretString::from);
    require_officer(caller)?;
    check_grant(caller, input.role)?;
    let phone = crate::phone::field(input.phone.as_deref())?;
    if let Some(p) = &password {
        check_password(
            p,
            &input.username,
            input.full_name.as_deref(),
            phone.as_deref(),
        )?;
    }
    let scope = caller.scope();
    let (role, unit_code, team_id) = (input.role, input.unit_code.clone(), input.team_id);
    // Check scope before spending time on the hash.
    db::run(&state.pool, move |conn| {
        resolve_unit(conn, &scope, role, unit_code.as_deref(), team_id)
    })
    .await?;
    let password_hash = match password {
        Some(p) => Some(state.hasher.hash(p).await?),
        None => None,
    };
    let scope = caller.scope();
    let caller = caller.clone();
    let (key, expires_at) = code_issuer(state);
    db::run(&state.pool, move |conn| {
        conn.transaction(|c| {
            let unit = resolve_unit(c, &scope, role, input.unit_code.as_deref(), input.team_id)?;
            let pending = password_hash.is_none();
            // The officer chose the password: the owner changes it at the first login. Without
            // one, the owner chooses it when redeeming the activation code.
            let new = new_user(input, unit, phone, password_hash);
            let user = users::insert_with(c, &new, !pending)?;
            audit_account(c, &caller, AuditAction::Create, None, &user)?;
            let issued = if pending {
                activation::issue_in(
                    c,
                    &key,
                    expires_at,
                    &[(user.id, user.fields.username.clone())],
                )?
                .pop()
            } else {
                None
            };
            Ok((user, issued))
        })
    })
    .await
}

/// Issues a new activation code for an account (the old code dies): its password, if it had
/// one, is cleared and its logins end, so the owner chooses a new one by redeeming the code.
/// Only a role strictly above the account's, in scope, never for one's own account.
pub async fn issue_activation(
    state: &AppState,
    caller: &Caller,
    id: UserId,
) -> AppResult<activation::Issued> {
    require_officer(caller)?;
    if id == caller.user_id {
        return Err(AppError::Forbidden {
            code: crate::error::ErrorCode::CannotChangeOwnAccess,
            detail: "you cannot issue an activation code for your own account".into(),
        });
    }
    let scope = caller.scope();
    let caller = caller.clone();
    let (key, expires_at) = code_issuer(state);
    db::run(&state.pool, move |conn| {
        conn.transaction(|c| {
            users::get_in_scope(c, &scope, id)?.ok_or_else(|| AppError::not_found("user"))?;
            let current = users::lock(c, id)?.ok_or_else(|| AppError::not_found("user"))?;
            managed_role(caller.role.rank(), &current)?;
            let changes = users::UserChanges {
                password_hash: Some(activation::PENDING_HASH.to_string()),
                password_changed_at: Some(chrono::Utc::now()),
                must_change_password: Some(false),
                ..Default::default()
            };
            sessions::revoke_all_for_user(c, id, None, "activation_issued")?;
            let after =
                users::update(c, id, &changes)?.ok_or_else(|| AppError::not_found("user"))?;
            audit_account(
                c,
                &caller,
                AuditAction::ActivationIssued,
                Some(&current),
                &after,
            )?;
            let mut issued = activation::issue_in(
                c,
                &key,
                expires_at,
                &[(after.id, after.fields.username.clone())],
            )?;
            issued
                .pop()
                .ok_or_else(|| AppError::internal("no code issued"))
        })
    })
    .await
}

/// The text of the QR code for `code`, when it is the live activation code of account `id`
/// (in the caller's scope): a code is stored hashed, so only who holds it can draw it again.
pub async fn activation_qr_text(
    state: &AppState,
    caller: &Caller,
    id: UserId,
    code: &str,
) -> AppResult<String> {
    require_officer(caller)?;
    let scope = caller.scope();
    let hash = activation::CodeKey::new(&state.settings).hash(code);
    let normalized = activation::normalize(code);
    db::run(&state.pool, move |conn| {
        let user =
            users::get_in_scope(conn, &scope, id)?.ok_or_else(|| AppError::not_found("user"))?;
        match crate::db::activation::find(conn, &hash)? {
            Some((owner, expires)) if owner == id && expires > chrono::Utc::now() => {
                let shown = format!("{}-{}", &normalized[..5], &normalized[5..]);
                Ok(activation::qr_payload(&user.fields.username, &shown))
            }
            _ => Err(AppError::field(
                "code",
                "invalid_activation_code",
                "this is not the account's live activation code",
            )),
        }
    })
    .await
}

pub async fn get(state: &AppState, caller: &Caller, id: UserId) -> AppResult<users::UserRow> {
    require_officer(caller)?;
    let scope = caller.scope();
    db::run(&state.pool, move |conn| {
        users::get_in_scope(conn, &scope, id).map_err(Into::into)
    })
    .await?
    .ok_or_else(|| AppError::not_found("user"))
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    filter: users::UserFilter,
    page: db::Page,
) -> AppResult<(Vec<users::UserRow>, i64)> {
    require_officer(caller)?;
    let scope = caller.scope();
    db::run(&state.pool, move |conn| {
        Ok(users::list(conn, &scope, &filter, page)?)
    })
    .await
}

/// The role of an account the caller (of rank `caller_rank`) may manage.
fn managed_role(caller_rank: u8, account: &users::UserRow) -> AppResult<Role> {
    let role =
        Role::parse(&account.fields.role).ok_or_else(|| AppError::internal("unknown role"))?;
    check_manage(caller_rank, role)?;
    Ok(role)
}

/// One's own role, unit, team, state and password are changed by someone else (or, for the
/// password, through /me/password).
fn check_own_access(caller: &Caller, id: UserId, patch: &AccountPatch) -> AppResult<()> {
    if id == caller.user_id
        && (patch.role.is_some()
            || patch.unit_code.is_some()
            || patch.team_id.is_some()
            || patch.disabled.is_some()
            || patch.password.is_some())
    {
        return Err(AppError::Forbidden {
            code: ErrorCode::CannotChangeOwnAccess,
            detail: "you cannot change your own role, unit, team or state; change your own \
                     password with PUT /api/v1/me/password"
                .into(),
        });
    }
    Ok(())
}

/// The hash of a password an officer sets for account `id`, checked against the account's
/// names before spending time on the hash.
async fn hash_for_account(
    state: &AppState,
    caller: &Caller,
    id: UserId,
    password: SecretString,
) -> AppResult<String> {
    let scope = caller.scope();
    let user = db::run(&state.pool, move |conn| {
        Ok(users::get_in_scope(conn, &scope, id)?)
    })
    .await?
    .ok_or_else(|| AppError::not_found("user"))?;
    check_password(
        &password,
        &user.fields.username,
        user.fields.full_name.as_deref(),
        user.fields.phone.as_deref(),
    )?;
    state.hasher.hash(password).await
}

/// The account, locked for the update at `expected_version`: memberships are locked before
/// the account, in the order a member move locks them, so the two cannot deadlock.
fn lock_for_update(
    c: &mut PgConnection,
    scope: &Scope,
    id: UserId,
    expected_version: Option<i32>,
) -> AppResult<users::UserRow> {
    let current = users::get_in_scope(c, scope, id)?.ok_or_else(|| AppError::not_found("user"))?;
    members::linked_outside(c, current.id, None)?;
    let current = users::lock(c, current.id)?.ok_or_else(|| AppError::not_found("user"))?;
    if let Some(v) = expected_version {
        if v != current.version {
            return Err(AppError::PreconditionFailed {
                code: ErrorCode::VersionMismatch,
                detail: format!("the user is at version {}, not {v}", current.version),
            });
        }
    }
    Ok(current)
}

/// A new role, unit or team: checked like a new account's, and the account's memberships
/// outside a new team unlinked.
fn change_placement(
    c: &mut PgConnection,
    (scope, caller): (&Scope, &Caller),
    patch: &AccountPatch,
    (current, current_role): (&users::UserRow, Role),
    changes: &mut users::UserChanges,
) -> AppResult<()> {
    if patch.role.is_none() && patch.unit_code.is_none() && patch.team_id.is_none() {
        return Ok(());
    }
    let role = patch.role.unwrap_or(current_role);
    let unit_code = patch
        .unit_code
        .clone()
        .unwrap_or(current.fields.unit_code.clone());
    let team_id = patch.team_id.unwrap_or(if role.needs_team() {
        current.fields.team_id
    } else {
        None
    });
    let unit_code = if role.unit_level().is_none() {
        None
    } else {
        unit_code
    };
    let unit = resolve_unit(c, scope, role, unit_code.as_deref(), team_id)?;
    changes.role = Some(role.as_str().to_string());
    changes.province_code = Some(unit.as_ref().map(|u| u.fields.province_code.clone()));
    changes.unit_code = Some(unit.map(|u| u.fields.code));
    changes.team_id = Some(team_id);
    if team_id != current.fields.team_id {
        // The account leaves its team: its memberships stay with their teams.
        unlink_memberships(c, caller, current.id, team_id)?;
    }
    Ok(())
}

/// Enabling, disabling and a new password: a team account comes back only to a live team; a
/// new password or a disabled account ends the logins.
fn change_access(
    c: &mut PgConnection,
    patch: &AccountPatch,
    current: &users::UserRow,
    password_hash: Option<String>,
    changes: &mut users::UserChanges,
) -> AppResult<()> {
    let id = current.id;
    if patch.disabled == Some(false) && current.disabled {
        if let Some(team) = changes.team_id.unwrap_or(current.fields.team_id) {
            crate::registry::hold_live_team(c, team)?;
        }
    }
    if let Some(hash) = password_hash {
        changes.password_hash = Some(hash);
        changes.password_changed_at = Some(chrono::Utc::now());
        // Someone else chose it: the owner must change it at the next login.
        changes.must_change_password = Some(true);
        sessions::revoke_all_for_user(c, id, None, "password_reset")?;
        crate::db::activation::revoke(c, id)?;
    }
    if patch.disabled == Some(true) {
        sessions::revoke_all_for_user(c, id, None, "account_disabled")?;
    }
    Ok(())
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: UserId,
    mut patch: AccountPatch,
    expected_version: Option<i32>,
) -> AppResult<users::UserRow> {
    require_officer(caller)?;
    if let Some(role) = patch.role {
        check_grant(caller, role)?;
    }
    check_own_access(caller, id, &patch)?;
    let phone = match patch.phone.take() {
        Some(p) => Some(crate::phone::field(p.as_deref())?),
        None => None,
    };
    let password_hash = match patch.password.take() {
        Some(p) => Some(hash_for_account(state, caller, id, SecretString::from(p)).await?),
        None => None,
    };
    let scope = caller.scope();
    db::transact(&state.pool, caller, move |c, caller| {
        let current = lock_for_update(c, &scope, id, expected_version)?;
        let current_role = managed_role(caller.role.rank(), &current)?;
        let mut changes = users::UserChanges {
            full_name: patch
                .full_name
                .clone()
                .map(|n| n.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())),
            phone,
            disabled: patch.disabled,
            ..Default::default()
        };
        let who = (&scope, caller);
        change_placement(c, who, &patch, (&current, current_role), &mut changes)?;
        change_access(c, &patch, &current, password_hash, &mut changes)?;
        let after = users::update(c, id, &changes)?.ok_or_else(|| AppError::not_found("user"))?;
        audit_account(c, caller, AuditAction::Update, Some(&current), &after)?;
        Ok(after)
    })
    .await
}

/// The operator's way back in for any account, admins included (`toso set-password`): sets
/// the password of the account a login names (username or phone), optionally enables it,
/// ends its sessions and forgets its throttling counter. Someone other than the owner chose
/// the password, so the owner changes it at the next login. Audited as the operator's change.
pub fn set_password_by_operator(
    conn: &mut PgConnection,
    login: &str,
    password_hash: String,
    enable: bool,
) -> AppResult<users::UserRow> {
    conn.transaction(|c| {
        let found = users::find_for_login(c, login)?.ok_or_else(|| AppError::not_found("user"))?;
        members::linked_outside(c, found.id, None)?;
        let current = users::lock(c, found.id)?.ok_or_else(|| AppError::not_found("user"))?;
        if enable && current.disabled {
            if let Some(team) = current.fields.team_id {
                crate::registry::hold_live_team(c, team)?;
            }
        }
        let changes = users::UserChanges {
            password_hash: Some(password_hash),
            password_changed_at: Some(chrono::Utc::now()),
            must_change_password: Some(true),
            disabled: enable.then_some(false),
            ..Default::default()
        };
        sessions::revoke_all_for_user(c, current.id, None, "password_reset")?;
        crate::db::activation::revoke(c, current.id)?;
        crate::auth::throttle::forgive_account(c, &current.fields.username)?;
        let after =
            users::update(c, current.id, &changes)?.ok_or_else(|| AppError::not_found("user"))?;
        audit_by_operator(c, AuditAction::Update, Some(&current), &after)?;
        Ok(after)
    })
}

/// The caller's current membership with its team and the team's village, if it has one.
pub struct Membership {
    pub member: members::Member,
    pub team: teams::Team,
    pub village: Option<crate::db::villages::Village>,
}

pub async fn membership_of(state: &AppState, caller: &Caller) -> AppResult<Option<Membership>> {
    let user_id = caller.user_id;
    db::run(&state.pool, move |conn| {
        let Some(member) = members::active_for_user(conn, user_id)? else {
            return Ok(None);
        };
        let team = teams::get(conn, &Scope::Country, member.fields.team_id)?
            .ok_or_else(|| AppError::internal("a membership without its team"))?;
        let village = match team.fields.village_id {
            Some(v) => crate::db::villages::get(conn, &Scope::Country, v)?,
            None => None,
        };
        Ok(Some(Membership {
            member,
            team,
            village,
        }))
    })
    .await
}
