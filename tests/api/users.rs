use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Actor, TestApp, PASSWORD};

/// `by` creates the account `body` (`POST /api/v1/users`).
async fn create(by: &Actor<'_>, body: Value) -> crate::helpers::Answer {
    by.post("/api/v1/users", body).await
}

fn account(username: &str, role: &str, unit: Option<&str>) -> Value {
    json!({"username": username, "password": PASSWORD, "role": role, "unit_code": unit})
}

/// The admin creates Hà Nội's province officer `hn.officer`: the answer is versioned and holds
/// no password hash. Returns the officer, logged in.
async fn the_admin_creates_a_province_officer<'a>(admin: &Actor<'a>) -> Actor<'a> {
    let res = create(admin, account("hn.officer", "province_officer", Some("01"))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert!(res.headers().contains_key("etag"));
    let body = res.body;
    assert_eq!(body["role"], "province_officer");
    assert_eq!(body["unit_code"], "01");
    assert_eq!(body["province_code"], "01");
    assert_eq!(body["version"], 1);
    assert!(body.get("password_hash").is_none());
    let app = admin.app();
    app.acting(&app.login("hn.officer").await.access)
}

/// A member of `team` in Phường Ba Đình, `username`.
fn team_member(username: &str, team: i64) -> Value {
    json!({"username": username, "password": PASSWORD, "role": "team_member",
           "unit_code": "00004", "team_id": team})
}

#[tokio::test]
async fn officers_create_accounts_only_inside_their_scope() {
    let app = spawn_app().await;
    let admin = app.actor("root", "admin", None, None).await;
    let province = the_admin_creates_a_province_officer(&admin).await;

    // Province officer → commune officer of Phường Ba Đình (00004, in 01): fine.
    create(
        &province,
        account("badinh", "commune_officer", Some("00004")),
    )
    .await
    .expect(StatusCode::CREATED);
    // …but not in another province (79 is Hồ Chí Minh City: a commune code from there).
    let hcm_commune = first_commune(&app, &admin.token, "79").await;
    create(
        &province,
        account("hcm", "commune_officer", Some(&hcm_commune)),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "outside_scope");
    // …and never a role above its own.
    create(&province, account("boss", "admin", None))
        .await
        .problem(StatusCode::FORBIDDEN, "role_above_own");

    let commune = app.acting(&app.login("badinh").await.access);
    let team = app.create_team("00004", "Tổ CNS Ba Đình");
    create(&commune, account("hn2", "province_officer", Some("01")))
        .await
        .problem(StatusCode::FORBIDDEN, "role_above_own");
    create(&commune, team_member("member1", team))
        .await
        .expect(StatusCode::CREATED);
    create(
        &commune,
        account("next.door", "commune_officer", Some("00008")),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "outside_scope");

    // Team roles do not manage accounts at all.
    let member = app.acting(&app.login("member1").await.access);
    member
        .get("/api/v1/users")
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    create(&member, team_member("member2", team))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
}

async fn first_commune(app: &TestApp, token: &str, province: &str) -> String {
    let body: Value = app
        .acting(token)
        .get(&format!("/api/v1/units?parent={province}&page_size=1"))
        .await
        .expect(StatusCode::OK);
    body["items"][0]["code"].as_str().expect("code").to_string()
}

/// The usernames a list of accounts holds.
fn names(body: Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| u["username"].as_str().expect("name").to_string())
        .collect()
}

/// The usernames `by` lists at `path` (200).
async fn listed(by: &Actor<'_>, path: &str) -> Vec<String> {
    names(by.get(path).await.expect(StatusCode::OK))
}

/// Page sizes past the limit are refused with a field error; pages are stable.
async fn pages_are_bounded_and_stable(admin: &Actor<'_>) {
    let body = admin
        .get("/api/v1/users?page_size=100000")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "page_size");
    let body = admin
        .get("/api/v1/users?page=0&page_size=0")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(2));
    let res = admin
        .get("/api/v1/users?page_size=200")
        .await
        .expect(StatusCode::OK);
    assert_eq!(res["page_size"], 200);
    assert_eq!(
        listed(admin, "/api/v1/users?page_size=2&page=1").await,
        ["badinh", "far.away"]
    );
    let p2 = admin
        .get("/api/v1/users?page_size=2&page=2")
        .await
        .expect(StatusCode::OK);
    assert_eq!(p2["total"], 5);
    assert_eq!(names(p2), ["hn.officer", "ngocha"]);
}

#[tokio::test]
async fn lists_and_reads_are_scoped() {
    let app = spawn_app().await;
    let admin = app.actor("root", "admin", None, None).await;
    let hn = app.hanoi_officer().await;
    let badinh = app
        .actor("badinh", "commune_officer", Some("00004"), None)
        .await;
    let ngocha_id = app.create_user("ngocha", "commune_officer", Some("00008"), None);
    let hcm = first_commune(&app, &admin.token, "79").await;
    let far_id = app.create_user("far.away", "commune_officer", Some(&hcm), None);

    let all = admin.get("/api/v1/users").await.expect(StatusCode::OK);
    assert_eq!(all["total"], 5);
    assert_eq!(
        listed(&hn, "/api/v1/users").await,
        ["badinh", "hn.officer", "ngocha"]
    );
    assert_eq!(listed(&badinh, "/api/v1/users").await, ["badinh"]);

    // Out of scope answers exactly like a missing id.
    hn.get(&format!("/api/v1/users/{ngocha_id}"))
        .await
        .expect(StatusCode::OK);
    let missing = uuid::Uuid::new_v4();
    for (by, id) in [(&badinh, ngocha_id), (&hn, far_id), (&admin, missing)] {
        by.get(&format!("/api/v1/users/{id}"))
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
    }

    // Filters stay inside the scope: asking for another province's accounts finds none.
    let res = hn.get("/api/v1/users?unit=79").await.expect(StatusCode::OK);
    assert_eq!(res["total"], 0);
    assert_eq!(
        listed(&admin, "/api/v1/users?role=commune_officer&q=ngoc").await,
        ["ngocha"]
    );
    pages_are_bounded_and_stable(&admin).await;
}

#[tokio::test]
async fn invalid_accounts_get_field_errors_and_nothing_is_written() {
    let app = spawn_app().await;
    let admin = app.actor("root", "admin", None, None).await;

    // The body, field and code of each refused account.
    let cases = [
        (
            account("A B", "admin", None),
            "username",
            "invalid_username",
        ),
        (
            json!({"username": "weak", "password": "short", "role": "admin"}),
            "password",
            "too_weak",
        ),
        (
            account("nounit", "commune_officer", None),
            "unit_code",
            "required",
        ),
        (
            account("badunit", "commune_officer", Some("99999")),
            "unit_code",
            "unknown_unit",
        ),
        (
            account("wronglevel", "commune_officer", Some("01")),
            "unit_code",
            "wrong_level",
        ),
        (
            account("adminunit", "admin", Some("01")),
            "unit_code",
            "not_allowed",
        ),
        (
            account("noteam", "team_member", Some("00004")),
            "team_id",
            "required",
        ),
        (
            json!({"username": "phone", "password": PASSWORD, "role": "admin", "phone": "12345"}),
            "phone",
            "invalid_phone",
        ),
        (
            json!({"username": "long", "password": PASSWORD, "role": "admin",
                   "full_name": "x".repeat(201)}),
            "full_name",
            "too_long",
        ),
    ];
    for (body, field, code) in cases {
        create(&admin, body).await.field_error(field, code);
    }
    for body in [
        json!({"username": "enum", "password": PASSWORD, "role": "superuser"}),
        json!({"username": 42, "password": PASSWORD, "role": "admin"}),
        json!({"username": "extra", "password": PASSWORD, "role": "admin", "is_root": true}),
    ] {
        create(&admin, body)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }

    create(&admin, account("taken", "admin", None))
        .await
        .expect(StatusCode::CREATED);
    let problem = create(&admin, account("taken", "admin", None))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "username");
    assert_eq!(problem["errors"][0]["code"], "taken");

    let all = admin.get("/api/v1/users").await.expect(StatusCode::OK);
    assert_eq!(all["total"], 2, "only root and taken exist");
}

/// The account at `path` is read at version 1, changed with `If-Match: "1"` to version 2; a
/// stale ETag changes nothing and one that is no ETag is refused.
async fn changes_follow_the_version(admin: &Actor<'_>, path: &str) {
    let res = admin.get(path).await;
    assert_eq!(res.headers()["etag"], "\"1\"");

    let named = json!({"full_name": "Nguyễn Thị Target"});
    let res = admin.patch(path, Some("\"1\""), named).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    assert_eq!(res.body["full_name"], "Nguyễn Thị Target");
    assert_eq!(res.body["version"], 2);

    // A stale ETag changes nothing.
    admin
        .patch(path, Some("\"1\""), json!({"full_name": "Lost update"}))
        .await
        .problem(StatusCode::PRECONDITION_FAILED, "version_mismatch");
    let body = admin.get(path).await.expect(StatusCode::OK);
    assert_eq!(body["full_name"], "Nguyễn Thị Target");
    assert_eq!(body["version"], 2);

    admin
        .patch(path, Some("garbage"), json!({"full_name": "x"}))
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_if_match");
}

/// Disabling ends the account's logins; an admin cannot disable itself.
async fn disabling_ends_the_logins(admin: &Actor<'_>, admin_id: uuid::Uuid, path: &str) {
    let app = admin.app();
    let target = app.acting(&app.login("target").await.access);
    admin
        .patch(path, None, json!({"disabled": true}))
        .await
        .expect(StatusCode::OK);
    target
        .get("/api/v1/me")
        .await
        .problem(StatusCode::UNAUTHORIZED, "session_revoked");
    admin
        .patch(
            &format!("/api/v1/users/{admin_id}"),
            None,
            json!({"disabled": true}),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "cannot_change_own_access");
}

/// A commune officer cannot touch its province officer, nor promote anyone above itself; its
/// password reset of a member ends the member's logins.
async fn a_commune_officer_manages_only_below_itself(app: &TestApp) {
    let badinh = app
        .actor("badinh", "commune_officer", Some("00004"), None)
        .await;
    let hn_id = app.create_user("hn.officer", "province_officer", Some("01"), None);
    badinh
        .patch(
            &format!("/api/v1/users/{hn_id}"),
            None,
            json!({"full_name": "x"}),
        )
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    let team = app.create_team("00004", "Tổ CNS Ba Đình");
    let member = app.create_user("member.one", "team_member", Some("00004"), Some(team));
    let member_path = format!("/api/v1/users/{member}");
    badinh
        .patch(&member_path, None, json!({"role": "province_officer"}))
        .await
        .problem(StatusCode::FORBIDDEN, "role_above_own");

    // An officer's password reset ends the account's logins.
    let m1 = app.login("member.one").await.access;
    badinh
        .patch(&member_path, None, json!({"password": "reset by officer"}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/me", &m1).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login_raw("member.one", "reset by officer")
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn updates_use_optimistic_concurrency() {
    let app = spawn_app().await;
    let (admin_id, admin) = app.user_with_token("root", "admin", None, None).await;
    let admin = app.acting(&admin);
    let id = app.create_user("target", "commune_officer", Some("00004"), None);
    let path = format!("/api/v1/users/{id}");

    changes_follow_the_version(&admin, &path).await;
    // Move to another commune, then clear the name.
    let body = admin
        .patch(
            &path,
            None,
            json!({"unit_code": "00008", "full_name": null}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(body["unit_code"], "00008");
    assert_eq!(body["full_name"], Value::Null);
    disabling_ends_the_logins(&admin, admin_id, &path).await;
    a_commune_officer_manages_only_below_itself(&app).await;
}
