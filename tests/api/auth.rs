use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, Tokens, JWT_SECRET, PASSWORD};

fn claims_of(token: &str) -> (Value, Value) {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let header = engine.decode(parts.next().expect("header")).expect("b64");
    let claims = engine.decode(parts.next().expect("claims")).expect("b64");
    (
        serde_json::from_slice(&header).expect("header json"),
        serde_json::from_slice(&claims).expect("claims json"),
    )
}

#[tokio::test]
async fn login_returns_oauth_style_token_pair() {
    let app = spawn_app().await;
    let id = app.create_user("officer.hn", "province_officer", Some("01"), None);

    let res = app.anyone().login("Officer.HN", PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = res.body;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"]
        .as_str()
        .is_some_and(|t| t.len() >= 40));

    let (header, claims) = claims_of(body["access_token"].as_str().expect("token"));
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["kid"], "k1");
    assert_eq!(claims["sub"], id.to_string());
    assert_eq!(claims["role"], "province_officer");
    assert_eq!(claims["unit"], "01");
    assert!(claims["exp"].as_i64().expect("exp") > claims["iat"].as_i64().expect("iat"));

    // The refresh token is stored only as a hash.
    use diesel::prelude::*;
    let mut conn = app.db.conn();
    let stored: Vec<Vec<u8>> = toso::db::schema::refresh_tokens::table
        .select(toso::db::schema::refresh_tokens::token_hash)
        .load(&mut conn)
        .expect("tokens");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].len(), 32);
    assert_ne!(
        stored[0],
        body["refresh_token"].as_str().expect("token").as_bytes()
    );

    let me = app
        .acting(body["access_token"].as_str().expect("t"))
        .get("/api/v1/me")
        .await
        .body;
    assert_eq!(me["username"], "officer.hn");
    assert_eq!(me["role"], "province_officer");
    assert_eq!(me["unit_code"], "01");
}

#[tokio::test]
async fn login_failures_are_problems() {
    let app = spawn_app().await;
    app.create_user("alice", "admin", None, None);
    let anyone = app.anyone();

    let res = anyone.login("alice", "wrong password").await;
    assert!(res.headers().contains_key("www-authenticate"));
    res.problem(StatusCode::UNAUTHORIZED, "invalid_credentials");

    // An unknown user looks exactly like a wrong password.
    anyone
        .login("nobody", "wrong password")
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_credentials");

    let body = anyone
        .login("", "x")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "username");

    anyone
        .post("/api/v1/auth/login", json!({"username": "alice"}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // A disabled account is refused even with the right password.
    disable_every_account(&app);
    anyone
        .login("alice", PASSWORD)
        .await
        .problem(StatusCode::FORBIDDEN, "account_disabled");
}

/// Disables every account straight in the database.
fn disable_every_account(app: &TestApp) {
    use diesel::prelude::*;
    diesel::update(toso::db::schema::users::table)
        .set(toso::db::schema::users::disabled.eq(true))
        .execute(&mut app.db.conn())
        .expect("disable");
}

#[tokio::test]
async fn login_by_phone_number() {
    let app = spawn_app().await;
    let admin = app.actor("root", "admin", None, None).await;
    let body = admin
        .post(
            "/api/v1/users",
            json!({"username": "bich", "password": PASSWORD, "role": "commune_officer",
                   "unit_code": "00004", "phone": "+84 912 345 678"}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(body["phone"], "0912345678");
    let res = app.login_raw("0912 345 678", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn repeated_failures_are_throttled_then_released() {
    let app = spawn_app().await;
    app.create_user("victim", "admin", None, None);
    let anyone = app.anyone();
    let victim = |password: &'static str| anyone.login("victim", password);
    for _ in 0..5 {
        assert_eq!(victim("guess").await.status, StatusCode::UNAUTHORIZED);
    }
    let res = victim("guess").await;
    let retry = res.retry_after();
    assert!((1..=900).contains(&retry), "retry-after {retry}");
    res.problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    // Even the right password waits while the block lasts…
    assert_eq!(victim(PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);

    // …but the block is short: once it ends, the real user gets in and the counters reset.
    tokio::time::sleep(std::time::Duration::from_secs(retry + 1)).await;
    assert_eq!(victim(PASSWORD).await.status, StatusCode::OK);
    assert_eq!(victim("guess").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn many_usernames_from_one_address_are_throttled() {
    let app = spawn_app().await;
    for i in 0..30 {
        let res = app.login_raw(&format!("user{i}"), "guess").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    app.anyone()
        .login("someone.else", "guess")
        .await
        .problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
}

#[tokio::test]
async fn one_username_from_many_addresses_is_throttled() {
    let app = crate::helpers::spawn_app_with(&[("TOSO_TRUST_PROXY_HEADERS", "true")]).await;
    app.create_user("target", "admin", None, None);
    let from = |ip: &str| app.anyone().header("X-Forwarded-For", ip);
    for i in 0..20 {
        let res = from(&format!("203.0.113.{i}"))
            .login("target", "guess")
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    from("198.51.100.7")
        .login("target", "guess")
        .await
        .problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    // Other accounts are not affected by the attack on this one.
    app.create_user("bystander", "admin", None, None);
    let res = from("198.51.100.7").login("bystander", PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_login() {
    let app = spawn_app().await;
    app.create_user("mobile", "admin", None, None);
    let anyone = app.anyone();
    let first = app.login("mobile").await;

    let second = Tokens::of(anyone.refresh(&first.refresh).await);
    assert_ne!(second.refresh, first.refresh);
    assert_eq!(
        app.get("/api/v1/me", &second.access).await.status(),
        StatusCode::OK
    );

    // The spent token again: reuse. The whole login ends, including the newest tokens.
    anyone
        .refresh(&first.refresh)
        .await
        .problem(StatusCode::UNAUTHORIZED, "refresh_token_reused");
    anyone
        .refresh(&second.refresh)
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    app.acting(&second.access)
        .get("/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "session_revoked");

    // Another login of the same user is untouched.
    let other = app.login("mobile").await;
    assert_eq!(
        app.get("/api/v1/me", &other.access).await.status(),
        StatusCode::OK
    );

    anyone
        .refresh("made-up")
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
}

#[tokio::test]
async fn logout_ends_access_and_refresh() {
    let app = spawn_app().await;
    app.create_user("leaving", "admin", None, None);
    let t = app.login("leaving").await;
    let leaving = app.acting(&t.access);
    let res = leaving
        .send(Method::POST, "/api/v1/auth/logout", None, None)
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    leaving
        .get("/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "session_revoked");
    app.anyone()
        .refresh(&t.refresh)
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
}

fn forge(claims: &Value, secret: &str, kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_string);
    encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("encode")
}

/// Tokens that are no token of `good` (whose claims are `claims`), and the code each gets:
/// not a JWT, expired, signed with another key or an unknown key id, not valid yet, unsigned
/// (`alg=none`), a claim tampered with.
fn forged_tokens(good: &str, claims: &Value) -> Vec<(String, &'static str)> {
    let now = chrono::Utc::now().timestamp();
    let mut expired = claims.clone();
    expired["exp"] = json!(now - 3600);
    expired["iat"] = json!(now - 7200);
    expired["nbf"] = expired["iat"].clone();
    let mut future = claims.clone();
    future["nbf"] = json!(now + 3600);
    // alg=none: header and claims without a signature.
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let none = format!(
        "{}.{}.",
        engine.encode(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#),
        engine.encode(claims.to_string())
    );
    // A tampered claim breaks the signature.
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let mut tampered = claims.clone();
    tampered["role"] = json!("admin");
    tampered["unit"] = Value::Null;
    parts[1] = engine.encode(tampered.to_string());
    let invalid = "invalid_token";
    vec![
        ("not-a-jwt".into(), invalid),
        (forge(&expired, JWT_SECRET, Some("k1")), "token_expired"),
        (
            forge(claims, "another-secret-that-is-32-bytes-long!!", Some("k1")),
            invalid,
        ),
        (forge(claims, JWT_SECRET, Some("k9")), invalid),
        (forge(&future, JWT_SECRET, Some("k1")), invalid),
        (none, invalid),
        (parts.join("."), invalid),
    ]
}

#[tokio::test]
async fn bad_tokens_get_401_with_www_authenticate() {
    let app = spawn_app().await;
    app.create_user("holder", "admin", None, None);
    let good = app.login("holder").await.access;
    let (_, claims) = claims_of(&good);

    let res = app.anyone().get("/api/v1/me").await;
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .starts_with("Bearer"));
    res.problem(StatusCode::UNAUTHORIZED, "missing_token");

    app.anyone()
        .header("Authorization", "Basic abc")
        .get("/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_token");
    for (token, code) in forged_tokens(&good, &claims) {
        app.acting(&token)
            .get("/api/v1/me")
            .await
            .problem(StatusCode::UNAUTHORIZED, code);
    }

    // A valid token of a user who was disabled since.
    disable_every_account(&app);
    app.acting(&good)
        .get("/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "session_revoked");
}

#[tokio::test]
async fn access_token_lifetime_is_configurable() {
    let app = crate::helpers::spawn_app_with(&[("TOSO_ACCESS_TOKEN_TTL_SECS", "1")]).await;
    app.create_user("brief", "admin", None, None);
    let t = app.login("brief").await;
    assert_eq!(
        app.get("/api/v1/me", &t.access).await.status(),
        StatusCode::OK
    );
    let (_, claims) = claims_of(&t.access);
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        1
    );
}

#[tokio::test]
async fn password_change_ends_other_logins() {
    let app = spawn_app().await;
    app.create_user("changer", "admin", None, None);
    let phone = app.login("changer").await;
    let laptop = app.acting(&app.login("changer").await.access);
    let change = |current: &'static str, new: &'static str| laptop.change_password(current, new);

    let body = change("wrong", "a new long password")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "current_password");
    let body = change(PASSWORD, "short")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "new_password");
    change(PASSWORD, "a new long password")
        .await
        .expect(StatusCode::NO_CONTENT);

    laptop.get("/api/v1/me").await.expect(StatusCode::OK);
    app.acting(&phone.access)
        .get("/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "session_revoked");
    let anyone = app.anyone();
    anyone
        .refresh(&phone.refresh)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    anyone
        .login("changer", PASSWORD)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    anyone
        .login("changer", "a new long password")
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn expired_throttling_counters_are_purged_and_live_ones_kept() {
    use diesel::prelude::*;
    let app = spawn_app().await;
    let mut conn = app.db.conn();
    diesel::sql_query(
        "INSERT INTO login_throttle (key, failures, window_start, blocked_until) VALUES \
         ('ip:old', 3, now() - interval '1 hour', NULL), \
         ('user:old-blocked', 40, now() - interval '1 hour', now() - interval '1 minute'), \
         ('user:still-blocked', 40, now() - interval '1 hour', now() + interval '5 minutes'), \
         ('ip:recent', 2, now() - interval '1 minute', NULL)",
    )
    .execute(&mut conn)
    .expect("seed counters");
    assert_eq!(toso::auth::throttle::purge(&mut conn).expect("purge"), 2);
    #[derive(QueryableByName)]
    struct Key {
        #[diesel(sql_type = diesel::sql_types::Text)]
        key: String,
    }
    let mut left: Vec<String> = diesel::sql_query("SELECT key FROM login_throttle")
        .load::<Key>(&mut conn)
        .expect("keys")
        .into_iter()
        .map(|k| k.key)
        .collect();
    left.sort();
    assert_eq!(left, ["ip:recent", "user:still-blocked"]);
    // The blocked key still blocks a login after the purge.
    app.create_user("still-blocked", "admin", None, None);
    let res = app.login_raw("still-blocked", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}
