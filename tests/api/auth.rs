use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, JWT_SECRET, PASSWORD};

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

    let res = app.login_raw("Officer.HN", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.expect("json");
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

    let me: Value = app
        .get("/api/v1/me", body["access_token"].as_str().expect("t"))
        .await
        .json()
        .await
        .expect("me");
    assert_eq!(me["username"], "officer.hn");
    assert_eq!(me["role"], "province_officer");
    assert_eq!(me["unit_code"], "01");
}

#[tokio::test]
async fn login_failures_are_problems() {
    let app = spawn_app().await;
    app.create_user("alice", "admin", None, None);

    let res = app.login_raw("alice", "wrong password").await;
    assert!(res.headers().contains_key("www-authenticate"));
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    // An unknown user looks exactly like a wrong password.
    let res = app.login_raw("nobody", "wrong password").await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    let res = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": "", "password": "x"}),
        )
        .await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "username");

    let res = app
        .post_json("/api/v1/auth/login", None, &json!({"username": "alice"}))
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // A disabled account is refused even with the right password.
    let mut conn = app.db.conn();
    use diesel::prelude::*;
    diesel::update(toso::db::schema::users::table)
        .set(toso::db::schema::users::disabled.eq(true))
        .execute(&mut conn)
        .expect("disable");
    let res = app.login_raw("alice", PASSWORD).await;
    assert_problem(res, StatusCode::FORBIDDEN, "account_disabled").await;
}

#[tokio::test]
async fn login_by_phone_number() {
    let app = spawn_app().await;
    let (_, admin) = app.user_with_token("root", "admin", None, None).await;
    let res = app
        .post_json(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": "bich", "password": PASSWORD, "role": "commune_officer",
                    "unit_code": "00004", "phone": "+84 912 345 678"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["phone"], "0912345678");
    let res = app.login_raw("0912 345 678", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn repeated_failures_are_throttled_then_released() {
    let app = spawn_app().await;
    app.create_user("victim", "admin", None, None);
    for _ in 0..5 {
        let res = app.login_raw("victim", "guess").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app.login_raw("victim", "guess").await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&retry), "retry-after {retry}");
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    // Even the right password waits while the block lasts…
    let res = app.login_raw("victim", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    // …but the block is short: once it ends, the real user gets in and the counters reset.
    tokio::time::sleep(std::time::Duration::from_secs(retry + 1)).await;
    let res = app.login_raw("victim", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.login_raw("victim", "guess").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn many_usernames_from_one_address_are_throttled() {
    let app = spawn_app().await;
    for i in 0..30 {
        let res = app.login_raw(&format!("user{i}"), "guess").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let res = app.login_raw("someone.else", "guess").await;
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
}

#[tokio::test]
async fn one_username_from_many_addresses_is_throttled() {
    let app = crate::helpers::spawn_app_with(&[("TOSO_TRUST_PROXY_HEADERS", "true")]).await;
    app.create_user("target", "admin", None, None);
    let attempt = |ip: String, password: &'static str| {
        app.request(Method::POST, "/api/v1/auth/login")
            .header("X-Forwarded-For", ip)
            .json(&json!({"username": "target", "password": password}))
            .send()
    };
    for i in 0..20 {
        let res = attempt(format!("203.0.113.{i}"), "guess")
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let res = attempt("198.51.100.7".into(), "guess").await.expect("sent");
    assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    // Other accounts are not affected by the attack on this one.
    app.create_user("bystander", "admin", None, None);
    let res = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("X-Forwarded-For", "198.51.100.7")
        .json(&json!({"username": "bystander", "password": PASSWORD}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_login() {
    let app = spawn_app().await;
    app.create_user("mobile", "admin", None, None);
    let first = app.login("mobile").await;

    let res = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": first.refresh}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let second: Value = res.json().await.expect("json");
    let second_refresh = second["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    let second_access = second["access_token"].as_str().expect("access").to_string();
    assert_ne!(second_refresh, first.refresh);
    assert_eq!(
        app.get("/api/v1/me", &second_access).await.status(),
        StatusCode::OK
    );

    // The spent token again: reuse. The whole login ends, including the newest tokens.
    let res = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": first.refresh}),
        )
        .await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "refresh_token_reused").await;
    let res = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": second_refresh}),
        )
        .await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    let res = app.get("/api/v1/me", &second_access).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "session_revoked").await;

    // Another login of the same user is untouched.
    let other = app.login("mobile").await;
    assert_eq!(
        app.get("/api/v1/me", &other.access).await.status(),
        StatusCode::OK
    );

    let res = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": "made-up"}),
        )
        .await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

#[tokio::test]
async fn logout_ends_access_and_refresh() {
    let app = spawn_app().await;
    app.create_user("leaving", "admin", None, None);
    let t = app.login("leaving").await;
    let res = app
        .request(Method::POST, "/api/v1/auth/logout")
        .bearer_auth(&t.access)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get("/api/v1/me", &t.access).await,
        StatusCode::UNAUTHORIZED,
        "session_revoked",
    )
    .await;
    let res = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": t.refresh}),
        )
        .await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
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

#[tokio::test]
async fn bad_tokens_get_401_with_www_authenticate() {
    let app = spawn_app().await;
    app.create_user("holder", "admin", None, None);
    let good = app.login("holder").await.access;
    let (_, claims) = claims_of(&good);

    let res = app
        .request(Method::GET, "/api/v1/me")
        .send()
        .await
        .expect("sent");
    assert!(res.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .starts_with("Bearer"));
    assert_problem(res, StatusCode::UNAUTHORIZED, "missing_token").await;

    let res = app
        .request(Method::GET, "/api/v1/me")
        .header("Authorization", "Basic abc")
        .send()
        .await
        .expect("sent");
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_token").await;
    assert_problem(
        app.get("/api/v1/me", "not-a-jwt").await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    let mut expired = claims.clone();
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 3600);
    expired["iat"] = json!(chrono::Utc::now().timestamp() - 7200);
    expired["nbf"] = expired["iat"].clone();
    let res = app
        .get("/api/v1/me", &forge(&expired, JWT_SECRET, Some("k1")))
        .await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "token_expired").await;

    let wrong_key = forge(
        &claims,
        "another-secret-that-is-32-bytes-long!!",
        Some("k1"),
    );
    assert_problem(
        app.get("/api/v1/me", &wrong_key).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    let unknown_kid = forge(&claims, JWT_SECRET, Some("k9"));
    assert_problem(
        app.get("/api/v1/me", &unknown_kid).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    let mut future = claims.clone();
    future["nbf"] = json!(chrono::Utc::now().timestamp() + 3600);
    let not_yet = forge(&future, JWT_SECRET, Some("k1"));
    assert_problem(
        app.get("/api/v1/me", &not_yet).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    // alg=none: header and claims without a signature.
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let none = format!(
        "{}.{}.",
        engine.encode(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#),
        engine.encode(claims.to_string())
    );
    assert_problem(
        app.get("/api/v1/me", &none).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    // A tampered claim breaks the signature.
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let mut tampered = claims.clone();
    tampered["role"] = json!("admin");
    tampered["unit"] = Value::Null;
    parts[1] = engine.encode(tampered.to_string());
    assert_problem(
        app.get("/api/v1/me", &parts.join(".")).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;

    // A valid token of a user who was disabled since.
    use diesel::prelude::*;
    let mut conn = app.db.conn();
    diesel::update(toso::db::schema::users::table)
        .set(toso::db::schema::users::disabled.eq(true))
        .execute(&mut conn)
        .expect("disable");
    assert_problem(
        app.get("/api/v1/me", &good).await,
        StatusCode::UNAUTHORIZED,
        "session_revoked",
    )
    .await;
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
    let laptop = app.login("changer").await;

    let put = |token: &str, body: Value| {
        app.request(Method::PUT, "/api/v1/me/password")
            .bearer_auth(token.to_string())
            .json(&body)
            .send()
    };
    let res = put(
        &laptop.access,
        json!({"current_password": "wrong", "new_password": "a new long password"}),
    )
    .await
    .expect("sent");
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "current_password");

    let res = put(
        &laptop.access,
        json!({"current_password": PASSWORD, "new_password": "short"}),
    )
    .await
    .expect("sent");
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "new_password");

    let res = put(
        &laptop.access,
        json!({"current_password": PASSWORD, "new_password": "a new long password"}),
    )
    .await
    .expect("sent");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    assert_eq!(
        app.get("/api/v1/me", &laptop.access).await.status(),
        StatusCode::OK
    );
    assert_problem(
        app.get("/api/v1/me", &phone.access).await,
        StatusCode::UNAUTHORIZED,
        "session_revoked",
    )
    .await;
    let res = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": phone.refresh}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login_raw("changer", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login_raw("changer", "a new long password")
            .await
            .status(),
        StatusCode::OK
    );
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
