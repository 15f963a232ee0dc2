//! Accounts created without a password, activated by their owner with a one-time code.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, Actor, Answer, TestApp, PASSWORD};

const NEW_PASSWORD: &str = "tre xanh bên lũy";

/// `officer` creates `username`, a member of `team` without a password (201): the account
/// waits for its activation code.
async fn create_pending(officer: &Actor<'_>, username: &str, team: i64) -> Value {
    officer
        .post(
            "/api/v1/users",
            json!({"username": username, "role": "team_member", "team_id": team,
                   "full_name": "Nguyễn Văn An", "phone": "0912345678"}),
        )
        .await
        .expect(StatusCode::CREATED)
}

/// `by` issues a new activation code for the account `id`.
async fn issue(by: &Actor<'_>, id: &str) -> Answer {
    by.act(&format!("/api/v1/users/{id}/activation"), None)
        .await
}

/// A commune officer of Phường Ba Đình and a team there.
async fn officer_and_team(app: &TestApp) -> (Actor<'_>, i64) {
    let officer = app
        .actor("xa.officer", "commune_officer", Some("00004"), None)
        .await;
    (officer, app.create_team("00004", "Tổ CNS 1"))
}

/// The code of a pending account: 11 characters of an unambiguous alphabet, in its QR text,
/// and stored hashed only. Returns it.
fn the_code_is_shown_once_and_stored_hashed(app: &TestApp, created: &Value) -> String {
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

    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Hash {
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        code_hash: Vec<u8>,
    }
    let stored: Vec<Hash> = diesel::sql_query("SELECT code_hash FROM activation_codes")
        .load(&mut app.db.conn())
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].code_hash.len(), 32);
    assert!(!String::from_utf8_lossy(&stored[0].code_hash).contains(&code[..5]));
    code
}

/// No password logs in before activation, not even an empty one; the project's password
/// rules apply, and a refused password does not use the code up.
async fn nothing_else_opens_the_account(app: &TestApp, code: &str) {
    let res = app.login_raw("nva", "").await;
    assert!(res.status().is_client_error());
    app.anyone()
        .login("0912345678", PASSWORD)
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_credentials");

    let body = app
        .anyone()
        .activate(code, "12345678")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["errors"][0]["code"], "too_weak");
    app.anyone()
        .activate(code, "nguyenvanan")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

/// The account `id` is no longer pending, and its activation is audited as the owner's own.
async fn the_owner_activated_it(officer: &Actor<'_>, id: &str) {
    let user = officer.get(&format!("/api/v1/users/{id}")).await.body;
    assert_eq!(user["activation_pending"], false);
    let audit = officer.get("/api/v1/audit?entity=user").await.body;
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
async fn an_account_without_password_is_activated_once_with_its_code() {
    let app = spawn_app().await;
    let (officer, team) = officer_and_team(&app).await;
    let created = create_pending(&officer, "nva", team).await;
    let code = the_code_is_shown_once_and_stored_hashed(&app, &created);
    nothing_else_opens_the_account(&app, &code).await;

    // Typed in lower case with spaces: the same code.
    let typed = format!(" {} ", code.to_lowercase().replace('-', " "));
    let pair = app
        .anyone()
        .activate(&typed, NEW_PASSWORD)
        .await
        .expect(StatusCode::OK);
    assert_eq!(pair["must_change_password"], false);
    let access = pair["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/me", access).await;
    assert_eq!(me.status(), StatusCode::OK);

    // Single use.
    app.anyone()
        .activate(&code, "another good password 7")
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_activation_code");
    // The chosen password logs in, by username or phone.
    assert_eq!(
        app.login_raw("0912345678", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    the_owner_activated_it(&officer, created["id"].as_str().unwrap()).await;
}

/// Activates the account `id` with a freshly issued code; returns the access token.
async fn activated(officer: &Actor<'_>, id: &str) -> String {
    let third = issue(officer, id).await.body;
    let app = officer.app();
    let pair = app
        .anyone()
        .activate(third["code"].as_str().unwrap(), NEW_PASSWORD)
        .await
        .body;
    pair["access_token"].as_str().unwrap().to_string()
}

/// Re-issued for an active account: its password dies and its logins end.
async fn a_reissue_ends_an_active_account(officer: &Actor<'_>, id: &str) {
    let app = officer.app();
    let access = activated(officer, id).await;
    issue(officer, id).await.expect(StatusCode::CREATED);
    assert_eq!(
        app.get("/api/v1/me", &access).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.anyone()
        .login("nva", NEW_PASSWORD)
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
}

#[tokio::test]
async fn a_reissued_code_kills_the_old_one_and_expired_codes_fail() {
    let app = spawn_app().await;
    let (officer, team) = officer_and_team(&app).await;
    let created = create_pending(&officer, "nva", team).await;
    let id = created["id"].as_str().unwrap();
    let old = created["activation"]["code"].as_str().unwrap();

    let res = issue(&officer, id).await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let new = res.body["code"].as_str().unwrap();
    assert_ne!(old, new);
    app.anyone()
        .activate(old, NEW_PASSWORD)
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_activation_code");

    // An expired code is refused like a wrong one.
    diesel::RunQueryDsl::execute(
        diesel::sql_query("UPDATE activation_codes SET expires_at = now() - interval '1 second'"),
        &mut app.db.conn(),
    )
    .unwrap();
    app.anyone()
        .activate(new, NEW_PASSWORD)
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_activation_code");
    a_reissue_ends_an_active_account(&officer, id).await;

    // An officer setting the password instead kills the live code; the owner must change the
    // password at the first login (the existing rule).
    let fourth = issue(&officer, id).await.body;
    officer
        .patch(
            &format!("/api/v1/users/{id}"),
            Some("*"),
            json!({"password": PASSWORD}),
        )
        .await
        .expect(StatusCode::OK);
    app.anyone()
        .activate(fourth["code"].as_str().unwrap(), NEW_PASSWORD)
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_activation_code");
    let login = app.anyone().login("nva", PASSWORD).await.body;
    assert_eq!(login["must_change_password"], true);
}

#[tokio::test]
async fn activation_is_throttled_like_login() {
    let app = spawn_app().await;
    let mut last = StatusCode::OK;
    for i in 0..40 {
        let res = app
            .anyone()
            .activate(&format!("AAAAA-AAA{:02}", i % 100), NEW_PASSWORD)
            .await;
        last = res.status;
        if last == StatusCode::TOO_MANY_REQUESTS {
            assert!(res.headers().contains_key("retry-after"));
            break;
        }
        res.problem(StatusCode::UNAUTHORIZED, "invalid_activation_code");
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
    let (officer, team) = officer_and_team(&app).await;
    let elsewhere = app
        .actor("xa.khac", "commune_officer", Some("00008"), None)
        .await;
    let member = app
        .actor("member.one", "team_member", Some("00004"), Some(team))
        .await;
    let created = create_pending(&officer, "nva", team).await;
    let id = created["id"].as_str().unwrap();
    let code = created["activation"]["code"].as_str().unwrap();

    for (by, status) in [
        (&member, StatusCode::FORBIDDEN),
        (&elsewhere, StatusCode::NOT_FOUND),
    ] {
        assert_eq!(issue(by, id).await.status, status);
        let res = by
            .get(&format!("/api/v1/users/{id}/activation-qr?code={code}"))
            .await;
        assert_eq!(res.status, status);
    }
    // A peer's account: refused.
    let peer = app.create_user("xa.peer", "commune_officer", Some("00004"), None);
    issue(&officer, &peer.to_string())
        .await
        .problem(StatusCode::FORBIDDEN, "peer_account");

    // The QR of the live code, as PNG and as SVG; a wrong code draws nothing.
    let res = app
        .get(
            &format!("/api/v1/users/{id}/activation-qr?code={code}"),
            &officer.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/png");
    let png = res.bytes().await.unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let res = app
        .get(
            &format!("/api/v1/users/{id}/activation-qr?code={code}&format=svg"),
            &officer.token,
        )
        .await;
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert!(res.text().await.unwrap().contains("<svg"));
    let res = app
        .get(
            &format!("/api/v1/users/{id}/activation-qr?code=AAAAA-BBBBB"),
            &officer.token,
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
}
