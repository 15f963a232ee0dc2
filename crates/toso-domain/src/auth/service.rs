//! Login, refresh-token rotation with reuse detection, logout and password change.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use diesel::Connection;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::throttle;
use crate::access::Caller;
use crate::db::{self, sessions, users};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ids::SessionId;
use crate::state::AppState;
use crate::vocab::AuditAction;

pub struct TokenPair {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
    /// The password was set by someone else: only `PUT /me/password` (and `/me`, logout,
    /// refresh) work until the owner changes it.
    pub must_change_password: bool,
}

fn invalid_credentials() -> AppError {
    AppError::Unauthorized {
        code: ErrorCode::InvalidCredentials,
        detail: "wrong username or password".into(),
    }
}

fn invalid_refresh() -> AppError {
    AppError::Unauthorized {
        code: ErrorCode::InvalidRefreshToken,
        detail: "the refresh token is not valid; log in again".into(),
    }
}

pub(crate) fn new_refresh_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = Sha256::digest(token.as_bytes()).to_vec();
    (token, hash)
}

fn hash_refresh_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Usernames are lower case; a phone may be written +84… or with spaces.
pub fn normalize_login(login: &str) -> String {
    let trimmed = login.trim().to_lowercase();
    crate::phone::normalize(&trimmed).unwrap_or(trimmed)
}

pub(crate) fn refresh_expiry(state: &AppState) -> chrono::DateTime<Utc> {
    let ttl = chrono::Duration::from_std(state.settings.jwt.refresh_ttl)
        .unwrap_or(chrono::Duration::days(30));
    Utc::now() + ttl
}

pub(crate) fn issue(
    state: &AppState,
    user: &users::UserRow,
    session_id: SessionId,
    refresh_token: String,
) -> AppResult<TokenPair> {
    let access_token = state
        .keys
        .issue(
            user.id,
            session_id,
            &user.fields.role,
            user.fields.unit_code.clone(),
            user.fields.team_id,
        )
        .map_err(AppError::internal)?;
    Ok(TokenPair {
        access_token,
        expires_in: state.keys.access_ttl_secs,
        refresh_token,
        must_change_password: user.must_change_password,
    })
}

/// Counts an attempt on `keys` (429 when they are blocked), checks `password` against
/// `stored_hash`, and takes the attempt back if it never reached the check.
async fn counted_verify(
    state: &AppState,
    keys: throttle::Keys,
    password: SecretString,
    stored_hash: Option<String>,
) -> AppResult<(bool, throttle::Keys)> {
    let keys = db::run(&state.pool, move |conn| {
        match throttle::attempt(conn, &keys)? {
            Some(secs) => Err(AppError::TooManyRequests {
                retry_after_secs: secs.unsigned_abs(),
            }),
            None => Ok(keys),
        }
    })
    .await?;
    match state.hasher.verify(password, stored_hash).await {
        Ok(ok) => Ok((ok, keys)),
        Err(e) => {
            db::run(&state.pool, move |conn| Ok(throttle::release(conn, &keys)?)).await?;
            Err(e)
        }
    }
}

pub async fn login(
    state: &AppState,
    login: &str,
    password: SecretString,
    address: &str,
) -> AppResult<TokenPair> {
    let login = normalize_login(login);
    let lookup = login.clone();
    let user = db::run(&state.pool, move |conn| {
        Ok(users::find_for_login(conn, &lookup)?)
    })
    .await?;
    // One counter per account, whichever of its logins was typed.
    let subject = user
        .as_ref()
        .map_or(login.as_str(), |u| u.fields.username.as_str());
    let keys = throttle::Keys::new(subject, address);
    let stored_hash = user.as_ref().map(|u| u.fields.password_hash.clone());
    let (ok, keys) = counted_verify(state, keys, password, stored_hash).await?;
    if !ok {
        return Err(invalid_credentials());
    }
    let user = user.ok_or_else(invalid_credentials)?;
    if user.disabled {
        return Err(AppError::Forbidden {
            code: ErrorCode::AccountDisabled,
            detail: "this account is disabled".into(),
        });
    }

    let (refresh_token, hash) = new_refresh_token();
    let expires = refresh_expiry(state);
    let user_id = user.id;
    let session_id = db::run(&state.pool, move |conn| {
        conn.transaction(|c| {
            throttle::record_success(c, &keys)?;
            let sid = sessions::create(c, user_id, expires)?;
            sessions::add_refresh_token(c, sid, &hash, expires)?;
            Ok(sid)
        })
    })
    .await?;
    tracing::info!(user_id = %user.id, "login succeeded");
    issue(state, &user, session_id, refresh_token)
}

enum RefreshOutcome {
    Rotated(Box<users::UserRow>, SessionId),
    Reused,
    Invalid,
}

pub async fn refresh(state: &AppState, token: SecretString) -> AppResult<TokenPair> {
    let hash = hash_refresh_token(token.expose_secret());
    let (new_token, new_hash) = new_refresh_token();
    let expires = refresh_expiry(state);
    // The transaction commits a revocation for reuse, then the error is answered.
    let outcome = db::run(&state.pool, move |conn| {
        conn.transaction::<_, AppError, _>(|c| {
            let Some(found) = sessions::lock_refresh_token(c, &hash)? else {
                return Ok(RefreshOutcome::Invalid);
            };
            if found.revoked_at.is_some() {
                return Ok(RefreshOutcome::Invalid);
            }
            if found.used_at.is_some() {
                sessions::revoke(c, found.session_id, "refresh_token_reuse")?;
                return Ok(RefreshOutcome::Reused);
            }
            let now = Utc::now();
            if found.token_expires_at <= now || found.session_expires_at <= now {
                return Ok(RefreshOutcome::Invalid);
            }
            let Some(user) = users::get(c, found.user_id)?.filter(|u| !u.disabled) else {
                return Ok(RefreshOutcome::Invalid);
            };
            sessions::mark_used(c, &hash)?;
            sessions::extend(c, found.session_id, expires)?;
            sessions::add_refresh_token(c, found.session_id, &new_hash, expires)?;
            Ok(RefreshOutcome::Rotated(Box::new(user), found.session_id))
        })
    })
    .await?;
    match outcome {
        RefreshOutcome::Rotated(user, sid) => issue(state, &user, sid, new_token),
        RefreshOutcome::Reused => {
            tracing::warn!("refresh token reused; the login was revoked");
            Err(AppError::Unauthorized {
                code: ErrorCode::RefreshTokenReused,
                detail: "this refresh token was already used; the login has been ended for safety"
                    .into(),
            })
        }
        RefreshOutcome::Invalid => Err(invalid_refresh()),
    }
}

pub async fn logout(state: &AppState, session_id: SessionId) -> AppResult<()> {
    db::run(&state.pool, move |conn| {
        Ok(sessions::revoke(conn, session_id, "logout")?)
    })
    .await
}

/// Changes the caller's password after checking the current one; other logins end. A wrong
/// current password counts on the account's login throttling counters (429 when blocked).
pub async fn change_password(
    state: &AppState,
    caller: &Caller,
    address: &str,
    current: SecretString,
    new: SecretString,
) -> AppResult<()> {
    let (user_id, session_id) = (caller.user_id, caller.session_id);
    let user = db::run(&state.pool, move |conn| Ok(users::get(conn, user_id)?))
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    let words = super::password::account_words(
        &user.fields.username,
        user.fields.full_name.as_deref(),
        user.fields.phone.as_deref(),
    );
    super::password::check_policy("new_password", new.expose_secret(), &words)?;
    let keys = throttle::Keys::new(&user.fields.username, address);
    let (ok, keys) = counted_verify(state, keys, current, Some(user.fields.password_hash)).await?;
    if !ok {
        return Err(AppError::field(
            "current_password",
            "incorrect",
            "the current password is wrong",
        ));
    }
    let hash = state.hasher.hash(new).await?;
    let caller = caller.clone();
    db::run(&state.pool, move |conn| {
        conn.transaction(|c| {
            throttle::record_success(c, &keys)?;
            let before = users::lock(c, user_id)?.ok_or_else(|| AppError::not_found("user"))?;
            let changes = users::UserChanges {
                password_hash: Some(hash),
                password_changed_at: Some(Utc::now()),
                must_change_password: Some(false),
                ..Default::default()
            };
            let after =
                users::update(c, user_id, &changes)?.ok_or_else(|| AppError::not_found("user"))?;
            crate::accounts::audit_account(
                c,
                &caller,
                AuditAction::PasswordChange,
                Some(&before),
                &after,
            )?;
            sessions::revoke_all_for_user(c, user_id, Some(session_id), "password_changed")?;
            Ok(())
        })
    })
    .await
}
