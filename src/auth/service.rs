//! Login, refresh-token rotation with reuse detection, logout and password change.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use diesel::Connection;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::throttle;
use crate::db::{self, sessions, users};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub struct TokenPair {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: String,
}

fn invalid_credentials() -> AppError {
    AppError::Unauthorized {
        code: "invalid_credentials",
        detail: "wrong username or password".into(),
    }
}

fn invalid_refresh() -> AppError {
    AppError::Unauthorized {
        code: "invalid_refresh_token",
        detail: "the refresh token is not valid; log in again".into(),
    }
}

fn new_refresh_token() -> (String, Vec<u8>) {
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

fn refresh_expiry(state: &AppState) -> chrono::DateTime<Utc> {
    let ttl = chrono::Duration::from_std(state.settings.jwt.refresh_ttl)
        .unwrap_or(chrono::Duration::days(30));
    Utc::now() + ttl
}

fn issue(
    state: &AppState,
    user: &users::UserRow,
    session_id: Uuid,
    refresh_token: String,
) -> AppResult<TokenPair> {
    let access_token = state
        .keys
        .issue(
            user.id,
            session_id,
            &user.role,
            user.unit_code.clone(),
            user.team_id,
        )
        .map_err(AppError::internal)?;
    Ok(TokenPair {
        access_token,
        expires_in: state.keys.access_ttl_secs,
        refresh_token,
    })
}

pub async fn login(
    state: &AppState,
    login: &str,
    password: SecretString,
    address: &str,
) -> AppResult<TokenPair> {
    let login = normalize_login(login);
    let keys = throttle::Keys::new(&login, address);
    let lookup = login.clone();
    let (user, keys) = db::run(&state.pool, move |conn| {
        if let Some(secs) = throttle::blocked_for(conn, &keys)? {
            return Err(AppError::TooManyRequests {
                retry_after_secs: secs.unsigned_abs(),
            });
        }
        Ok((users::find_for_login(conn, &lookup)?, keys))
    })
    .await?;

    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    if !state.hasher.verify(password, stored_hash).await? {
        db::run(&state.pool, move |conn| {
            Ok(conn.transaction(|c| throttle::record_failure(c, &keys))?)
        })
        .await?;
        return Err(invalid_credentials());
    }
    let user = user.ok_or_else(invalid_credentials)?;
    if user.disabled {
        return Err(AppError::Forbidden {
            code: "account_disabled",
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
    Rotated(Box<users::UserRow>, Uuid),
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
                code: "refresh_token_reused",
                detail: "this refresh token was already used; the login has been ended for safety"
                    .into(),
            })
        }
        RefreshOutcome::Invalid => Err(invalid_refresh()),
    }
}

pub async fn logout(state: &AppState, session_id: Uuid) -> AppResult<()> {
    db::run(&state.pool, move |conn| {
        Ok(sessions::revoke(conn, session_id, "logout")?)
    })
    .await
}

/// Changes the caller's password after checking the current one; other logins end.
pub async fn change_password(
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
    current: SecretString,
    new: SecretString,
) -> AppResult<()> {
    if let Some(message) = super::password::policy_violation(new.expose_secret()) {
        return Err(AppError::field("new_password", "too_weak", message));
    }
    let user = db::run(&state.pool, move |conn| Ok(users::get(conn, user_id)?))
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    if !state
        .hasher
        .verify(current, Some(user.password_hash))
        .await?
    {
        return Err(AppError::field(
            "current_password",
            "incorrect",
            "the current password is wrong",
        ));
    }
    let hash = state.hasher.hash(new).await?;
    db::run(&state.pool, move |conn| {
        conn.transaction(|c| {
            let changes = users::UserChanges {
                password_hash: Some(hash),
                password_changed_at: Some(Utc::now()),
                ..Default::default()
            };
            users::update(c, user_id, &changes)?;
            sessions::revoke_all_for_user(c, user_id, Some(session_id), "password_changed")?;
            Ok(())
        })
    })
    .await
}
