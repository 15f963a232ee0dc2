//! One-time activation codes: an officer creates an account without choosing its password; the
//! owner redeems the code once, in the app, choosing the password (`POST /auth/activate`).
//!
//! A code is 10 characters of an alphabet without look-alikes (no 0/O, 1/I/L), about 49 bits,
//! shown as `XXXXX-XXXXX`; it expires (`TOSO_ACTIVATION_TTL_HOURS`) and dies when used, when
//! another is issued for the account, or when an officer sets the password. Only a keyed hash
//! is stored: HMAC-SHA256 under a key derived from the server's JWT secret. A fast keyed hash
//! is enough for a random, short-lived code that cannot be guessed offline without the key,
//! and keeps bulk creation fast (argon2 per code would make a 6,400-account import take
//! minutes). Redemptions count on the login throttle's counters (per address, and per code
//! typed), so guessing is slowed exactly like password guessing.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use hmac::{Hmac, Mac};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::ids::{SessionId, UserId};

use super::{password, service, throttle};
use crate::config::Settings;
use crate::db::{self, activation, sessions, users};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::vocab::AuditAction;

/// The password hash of an account waiting for activation: no password verifies against it.
pub const PENDING_HASH: &str = "!activation-pending";

/// Characters a person reads off paper without confusion: no 0, 1, I, L, O.
const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LEN: usize = 10;

/// Whether the account still waits for its owner to choose a password.
pub fn is_pending(user: &users::UserRow) -> bool {
    user.fields.password_hash == PENDING_HASH
}

/// A fresh code, `XXXXX-XXXXX`.
pub fn new_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let mut code = String::with_capacity(CODE_LEN + 1);
    for i in 0..CODE_LEN {
        if i == CODE_LEN / 2 {
            code.push('-');
        }
        code.push(char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]));
    }
    code
}

/// The code as typed, reduced to its characters: case, spaces and dashes do not matter.
pub fn normalize(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The key that codes are hashed under, derived from the JWT secret.
pub struct CodeKey([u8; 32]);

impl CodeKey {
    pub fn new(settings: &Settings) -> Self {
        CodeKey(mac_of(
            settings.jwt.secret.expose_secret().as_bytes(),
            b"toso activation codes v1",
        ))
    }

    /// The stored form of a code (typed in any form).
    pub fn hash(&self, code: &str) -> Vec<u8> {
        mac_of(&self.0, normalize(code).as_bytes()).to_vec()
    }
}

fn mac_of(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail; the fallback keeps the
    // manifest's ban on `expect`.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return [0; 32];
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

// A code just issued, never stored; also the answer that shows it, once (its schema keeps
// the name it had as an HTTP type, and the doc comment below is the schema's description).
/// A one-time activation code, shown once.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = ActivationOut)]
pub struct Issued {
    #[schema(value_type = Uuid)]
    pub user_id: UserId,
    pub username: String,
    /// 10 characters without look-alikes, `XXXXX-XXXXX`; case, spaces and dashes are ignored
    /// when redeemed.
    #[schema(example = "7KQ4M-XW2PH")]
    pub code: String,
    pub expires_at: DateTime<Utc>,
    /// What the account's QR code holds (`GET /api/v1/users/{id}/activation-qr` draws it).
    pub qr_text: String,
}

/// The text of an account's activation QR code: the app reads the code from it.
pub fn qr_payload(username: &str, code: &str) -> String {
    format!("toso://activate?code={code}&username={username}")
}

pub fn expiry(settings: &Settings) -> DateTime<Utc> {
    Utc::now()
        + chrono::Duration::from_std(settings.activation_ttl).unwrap_or(chrono::Duration::days(14))
}

/// Issues fresh codes for the accounts (each replacing the account's live one), sets their
/// password to "none" and ends their logins. Runs inside the caller's transaction.
pub fn issue_in(
    conn: &mut PgConnection,
    key: &CodeKey,
    expires_at: DateTime<Utc>,
    accounts: &[(UserId, String)],
) -> AppResult<Vec<Issued>> {
    let issued: Vec<Issued> = accounts
        .iter()
        .map(|(id, username)| {
            let code = new_code();
            Issued {
                user_id: *id,
                username: username.clone(),
                qr_text: qr_payload(username, &code),
                code,
                expires_at,
            }
        })
        .collect();
    let rows: Vec<activation::NewCode> = issued
        .iter()
        .map(|i| activation::NewCode {
            user_id: i.user_id,
            code_hash: key.hash(&i.code),
            expires_at,
        })
        .collect();
    activation::replace(conn, &rows)?;
    Ok(issued)
}

fn invalid_code() -> AppError {
    AppError::Unauthorized {
        code: crate::error::ErrorCode::InvalidActivationCode,
        detail: "the activation code is wrong, expired or already used".into(),
    }
}

/// The live account a code belongs to, if any; the attempt counts on the login throttle.
fn code_owner(
    conn: &mut PgConnection,
    keys: &throttle::Keys,
    hash: &[u8],
) -> AppResult<Option<users::UserRow>> {
    if let Some(secs) = throttle::attempt(conn, keys)? {
        return Err(AppError::TooManyRequests {
            retry_after_secs: secs.unsigned_abs(),
        });
    }
    let found = activation::find(conn, hash)?.filter(|(_, expires)| *expires > Utc::now());
    Ok(match found {
        Some((user_id, _)) => users::get(conn, user_id)?,
        None => None,
    })
}

/// What redeeming writes: the new password's hash and the new session's refresh token.
struct Redemption {
    code_hash: Vec<u8>,
    user_id: UserId,
    password_hash: String,
    refresh_hash: Vec<u8>,
    expires: DateTime<Utc>,
}

/// Uses the code up (once: a concurrent redemption or a re-issue finds it gone), sets the
/// password and opens a session in place of any other. Answers the account and the session.
fn redeem(
    c: &mut PgConnection,
    keys: &throttle::Keys,
    r: Redemption,
) -> AppResult<(users::UserRow, SessionId)> {
    let user_id = r.user_id;
    let (owner, expires_at) = activation::take(c, &r.code_hash)?.ok_or_else(invalid_code)?;
    if owner != user_id || expires_at <= Utc::now() {
        return Err(invalid_code());
    }
    let before = users::lock(c, user_id)?.ok_or_else(invalid_code)?;
    if before.disabled {
        return Err(invalid_code());
    }
    let changes = users::UserChanges {
        password_hash: Some(r.password_hash),
        password_changed_at: Some(Utc::now()),
        must_change_password: Some(false),
        ..Default::default()
    };
    let after = users::update(c, user_id, &changes)?.ok_or_else(invalid_code)?;
    crate::accounts::audit_account_by_owner(c, AuditAction::Activate, &before, &after)?;
    throttle::record_success(c, keys)?;
    sessions::revoke_all_for_user(c, user_id, None, "activated")?;
    let sid = sessions::create(c, user_id, r.expires)?;
    sessions::add_refresh_token(c, sid, &r.refresh_hash, r.expires)?;
    Ok((after, sid))
}

/// Redeems a code: the owner chooses the password (the project's policy applies) and is
/// logged in. Counted on the login throttle (429 when blocked); a wrong, expired or used code
/// is 401 `invalid_activation_code`.
pub async fn activate(
    state: &AppState,
    code: &str,
    new_password: SecretString,
    address: &str,
) -> AppResult<service::TokenPair> {
    let key = CodeKey::new(&state.settings);
    let hash = key.hash(code);
    let keys = throttle::Keys::new(&format!("activation:{}", normalize(code)), address);
    let lookup = hash.clone();
    let (user, keys) = db::run(&state.pool, move |conn| {
        Ok((code_owner(conn, &keys, &lookup)?, keys))
    })
    .await?;
    let user = user.ok_or_else(invalid_code)?;
    if user.disabled {
        return Err(AppError::Forbidden {
            code: crate::error::ErrorCode::AccountDisabled,
            detail: "this account is disabled".into(),
        });
    }
    let words = password::account_words(
        &user.fields.username,
        user.fields.full_name.as_deref(),
        user.fields.phone.as_deref(),
    );
    password::check_policy("password", new_password.expose_secret(), &words)?;
    let password_hash = state.hasher.hash(new_password).await?;
    let (refresh_token, refresh_hash) = service::new_refresh_token();
    let redemption = Redemption {
        code_hash: hash,
        user_id: user.id,
        password_hash,
        refresh_hash,
        expires: service::refresh_expiry(state),
    };
    let (after, session_id) = db::run(&state.pool, move |conn| {
        conn.transaction(|c| redeem(c, &keys, redemption))
    })
    .await?;
    tracing::info!(user_id = %after.id, "account activated");
    service::issue(state, &after, session_id, refresh_token)
}

/// A QR code of `text`, as SVG or PNG.
pub fn qr_image(text: &str, svg: bool) -> AppResult<Vec<u8>> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(AppError::internal)?;
    if svg {
        let image = code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .build();
        return Ok(image.into_bytes());
    }
    qr_png(&code, 4)
}

/// PNG of a QR code: `scale` pixels a module, with the 4-module quiet zone, one bit a pixel
/// (a few hundred bytes: an activation sheet holds thousands).
fn qr_png(code: &qrcode::QrCode, scale: usize) -> AppResult<Vec<u8>> {
    let width = code.width();
    let colors = code.to_colors();
    let side = (width + 8) * scale;
    let row_bytes = side.div_ceil(8);
    // 1 = white.
    let mut pixels = vec![0xFFu8; row_bytes * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x0, y0) = ((i % width + 4) * scale, (i / width + 4) * scale);
            for y in y0..y0 + scale {
                for x in x0..x0 + scale {
                    pixels[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
                }
            }
        }
    }
    let mut out = Vec::new();
    let side32 = u32::try_from(side).map_err(AppError::internal)?;
    let mut encoder = png::Encoder::new(&mut out, side32, side32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().map_err(AppError::internal)?;
    writer
        .write_image_data(&pixels)
        .map_err(AppError::internal)?;
    writer.finish().map_err(AppError::internal)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_unambiguous_alphabet() {
        for _ in 0..200 {
            let code = new_code();
            assert_eq!(code.len(), 11);
            assert_eq!(&code[5..6], "-");
            assert!(normalize(&code)
                .bytes()
                .all(|b| ALPHABET.contains(&b) && !b"01ILO".contains(&b)));
        }
        assert_eq!(normalize(" abcde-fghjk "), "ABCDEFGHJK");
    }

    #[test]
    fn qr_png_is_a_png() {
        let png = qr_image(&qr_payload("nva", "ABCDE-FGHJK"), false).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let svg = qr_image("x", true).unwrap();
        assert!(String::from_utf8(svg).unwrap().contains("<svg"));
    }
}
