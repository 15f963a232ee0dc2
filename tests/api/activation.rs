//! Accounts created without a password, activated by their owner with a one-time code.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp, PASSWORD};

const NEW_PASSWORD: &str = "tre xanh bên lũy";

async fn create_pending(app: &TestApp, token: &str, username: &str, team: i64) -> Value {
    let res = app
        .post_json(
            "/api/v1/users",
            Some(token),
            &json!({"username": username, "role": "team_member", "team_id": team,
                    "full_name": "Nguyễn Văn An", "phone": "0912345678"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn activate(app: &TestApp, code: &str, password: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/auth/activate",
        None,
        &json!({"code": code, "password": password}),
    )
    .await
}

#[tokio::test]
async fn an_account_without_password_is_activated_once_with_its_code() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("xa.officer", "commune_officer", Some("00004"), None)
        .await;
    let team = app.create_team("00004", "Tổ CNS 1");
    let created = create_pending(&app, &officer, "nva", team).await;
    assert_eq!(created["activation_pending"], true);
    assert_eq!(created["must_change_password"], false);
    let code = created["activation"]["code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 11, "{code}");
    assert!(code
        .chars()
        .all(|c| c == '-' || "23456789ABCDEFGHJKMNPQRSTUVWXYZ".contains(c)));
    assert!(created["activation"]["qr_text"]
        .as_str()
        .unwrap()
        .contains(&code));

    // Stored hashed only.
    let mut conn = app.db.conn();
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Hash {
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        code_hash: Vec<u8>,
    }
    let stored: Vec<Hash> = diesel::sql_query("SELECT code_hash FROM activation_codes")
        .load(&mut conn)
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].code_hash.len(), 32);
    assert!(!String::from_utf8_lossy(&stored[0].code_hash).contains(&code[..5]));

    // No password logs in before activation, not even an empty one.
    let res = app.login_raw("nva", "").await;
    assert!(res.status().is_client_error());
    let res = app.login_raw("0912345678", PASSWORD).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    // The project's password rules apply, and a refused password does not use the code up.
    let res = activate(&app, &code, "12345678").await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "too_weak");
    let res = activate(&app, &code, "nguyenvanan").await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    // Typed in lower case with spaces: the same code.
    let typed = format!(" {} ", code.to_lowercase().replace('-', " "));
    let res = activate(&app, &typed, NEW_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let pair: Value = res.json().await.unwrap();
    assert_eq!(pair["must_change_password"], false);
    let access = pair["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/me", access).await;
    assert_eq!(me.status(), StatusCode::OK);

    // Single use.
    let res = activate(&app, &code, "another good password 7").await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_activation_code").await;
    // The chosen password logs in, by username or phone.
    assert_eq!(
        app.login_raw("0912345678", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    let user: Value = app
        .get(
            &format!("/api/v1/users/{}", created["id"].as_str().unwrap()),
            &officer,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["activation_pending"], false);

    // Audited as the owner's own activation.
    let audit: Value = app
        .get("/api/v1/audit?entity=user", &officer)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "activate" && e["actor_username"] == "nva"),
        "{audit}"
    );
}

#[tokio::test]
async fn a_reissued_code_kills_the_old_one_and_expired_codes_fail() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("xa.officer", "commune_officer", Some("00004"), None)
        .await;
    let team = app.create_team("00004", "Tổ CNS 1");
    let created = create_pending(&app, &officer, "nva", team).await;
    let id = created["id"].as_str().unwrap();
    let old = created["activation"]["code"].as_str().unwrap();

    let res = app
        .request(Method::POST, &format!("/api/v1/users/{id}/activation"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let fresh: Value = res.json().await.unwrap();
    let new = fresh["code"].as_str().unwrap();
    assert_ne!(old, new);
    let res = activate(&app, old, NEW_PASSWORD).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_activation_code").await;

    // An expired code is refused like a wrong one.
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE activation_codes SET expires_at = now() - interval '1 second'"),
        &mut app.db.conn(),
    )
    .unwrap();
    let res = activate(&app, new, NEW_PASSWORD).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_activation_code").await;

    // Re-issued for an active account: its password dies and its logins end.
    let third: Value = app
        .request(Method::POST, &format!("/api/v1/users/{id}/activation"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pair: Value = activate(&app, third["code"].as_str().unwrap(), NEW_PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let access = pair["access_token"].as_str().unwrap().to_string();
    let res = app
        .request(Method::POST, &format!("/api/v1/users/{id}/activation"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        app.get("/api/v1/me", &access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_problem(
        app.login_raw("nva", NEW_PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;

    // An officer setting the password instead kills the live code; the owner must change the
    // password at the first login (the existing rule).
    let fourth: Value = app
        .request(Method::POST, &format!("/api/v1/users/{id}/activation"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = app
        .patch_json(
            &format!("/api/v1/users/{id}"),
            &officer,
            Some("*"),
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = activate(&app, fourth["code"].as_str().unwrap(), NEW_PASSWORD).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_activation_code").await;
    let login: Value = app.login_raw("nva", PASSWORD).await.json().await.unwrap();
    assert_eq!(login["must_change_password"], true);
}

#[tokio::test]
async fn activation_is_throttled_like_login() {
    let app = spawn_app().await;
    let mut last = StatusCode::OK;
    for i in 0..40 {
        let res = activate(&app, &format!("AAAAA-AAA{:02}", i % 100), NEW_PASSWORD).await;
        last = res.status();
        if last == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers().contains_key("retry-after"));
            break;
        }
        assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_activation_code").await;
    }
    assert_eq!(
        last,
        StatusCode::TOO_MANY_REQUESTS,
        "guessing is slowed down"
    );
}

#[tokio::test]
async fn only_officers_above_the_account_in_scope_issue_codes_and_draw_qr() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("xa.officer", "commune_officer", Some("00004"), None)
        .await;
    let (_, elsewhere) = app
        .user_with_token("xa.khac", "commune_officer", Some("00008"), None)
        .await;
    let team = app.create_team("00004", "Tổ CNS 1");
    let (_, member) = app
        .user_with_token("member.one", "team_member", Some("00004"), Some(team))
        .await;
    let created = create_pending(&app, &officer, "nva", team).await;
    let id = created["id"].as_str().unwrap();
    let code = created["activation"]["code"].as_str().unwrap();

    for (token, status) in [
        (&member, StatusCode::FORBIDDEN),
        (&elsewhere, StatusCode::NOT_FOUND),
    ] {
        let res = app
            .request(Method::POST, &format!("/api/v1/users/{id}/activation"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status);
        let res = app
            .get(
                &format!("/api/v1/users/{id}/activation-qr?code={code}"),
                token,
            )
            .await;
        assert_eq!(res.status(), status);
    }
    // A peer's account: refused.
    let peer = app.create_user("xa.peer", "commune_officer", Some("00004"), None);
    let res = app
        .request(Method::POST, &format!("/api/v1/users/{peer}/activation"))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, "peer_account").await;

    // The QR of the live code, as PNG and as SVG; a wrong code draws nothing.
    let res = app
        .get(
            &format!("/api/v1/users/{id}/activation-qr?code={code}"),
            &officer,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    let png = res.bytes().await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let res = app
        .get(
            &format!("/api/v1/users/{id}/activation-qr?code={code}&format=svg"),
            &officer,
        )
        .await;
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert!(res.text().await.unwrap().contains("<svg"));
    let res = app
        .get(
            &format!("/api/v1/users/{id}/activation-qr?code=AAAAA-BBBBB"),
            &officer,
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}
