use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp, PASSWORD};

async fn create(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.post_json("/api/v1/users", Some(token), &body).await
}

fn account(username: &str, role: &str, unit: Option<&str>) -> Value {
    json!({"username": username, "password": PASSWORD, "role": role, "unit_code": unit})
}

#[tokio::test]
async fn officers_create_accounts_only_inside_their_scope() {
    let app = spawn_app().await;
    let (_, admin) = app.user_with_token("root", "admin", None, None).await;

    // Admin → province officer of Hà Nội (01).
    let res = create(
        &app,
        &admin,
        account("hn.officer", "province_officer", Some("01")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(res.headers().contains_key("etag"));
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["role"], "province_officer");
    assert_eq!(body["unit_code"], "01");
    assert_eq!(body["province_code"], "01");
    assert_eq!(body["version"], 1);
    assert!(body.get("password_hash").is_none());
    let province = app.login("hn.officer").await.access;

    // Province officer → commune officer of Phường Ba Đình (00004, in 01): fine.
    let res = create(
        &app,
        &province,
        account("badinh", "commune_officer", Some("00004")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // …but not in another province (79 is Hồ Chí Minh City: a commune code from there).
    let hcm_commune = first_commune(&app, &admin, "79").await;
    let res = create(
        &app,
        &province,
        account("hcm", "commune_officer", Some(&hcm_commune)),
    )
    .await;
    assert_problem(res, StatusCode::FORBIDDEN, "outside_scope").await;
    // …and never a role above its own.
    let res = create(&app, &province, account("boss", "admin", None)).await;
    assert_problem(res, StatusCode::FORBIDDEN, "role_above_own").await;

    let commune = app.login("badinh").await.access;
    let team = app.create_team("00004", "Tổ CNS Ba Đình");
    let res = create(
        &app,
        &commune,
        account("hn2", "province_officer", Some("01")),
    )
    .await;
    assert_problem(res, StatusCode::FORBIDDEN, "role_above_own").await;
    let res = create(
        &app,
        &commune,
        json!({"username": "member1", "password": PASSWORD, "role": "team_member",
                                             "unit_code": "00004", "team_id": team}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = create(
        &app,
        &commune,
        account("next.door", "commune_officer", Some("00008")),
    )
    .await;
    assert_problem(res, StatusCode::FORBIDDEN, "outside_scope").await;

    // Team roles do not manage accounts at all.
    let member = app.login("member1").await.access;
    let res = app.get("/api/v1/users", &member).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = create(
        &app,
        &member,
        json!({"username": "member2", "password": PASSWORD, "role": "team_member",
                                            "unit_code": "00004", "team_id": team}),
    )
    .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}

async fn first_commune(app: &TestApp, token: &str, province: &str) -> String {
    let body: Value = app
        .acting(token)
        .get(&format!("/api/v1/units?parent={province}&page_size=1"))
        .await
        .expect(StatusCode::OK);
    body["items"][0]["code"].as_str().expect("code").to_string()
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

    let names = |body: Value| -> Vec<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|u| u["username"].as_str().expect("name").to_string())
            .collect()
    };
    let all = admin.get("/api/v1/users").await.expect(StatusCode::OK);
    assert_eq!(all["total"], 5);
    assert_eq!(
        names(hn.get("/api/v1/users").await.expect(StatusCode::OK)),
        ["badinh", "hn.officer", "ngocha"]
    );
    assert_eq!(
        names(badinh.get("/api/v1/users").await.expect(StatusCode::OK)),
        ["badinh"]
    );

    // Out of scope answers exactly like a missing id.
    hn.get(&format!("/api/v1/users/{ngocha_id}"))
        .await
        .expect(StatusCode::OK);
    badinh
        .get(&format!("/api/v1/users/{ngocha_id}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    hn.get(&format!("/api/v1/users/{far_id}"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    admin
        .get(&format!("/api/v1/users/{}", uuid::Uuid::new_v4()))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");

    // Filters stay inside the scope: asking for another province's accounts finds none.
    let res = hn.get("/api/v1/users?unit=79").await.expect(StatusCode::OK);
    assert_eq!(res["total"], 0);
    assert_eq!(
        names(
            admin
                .get("/api/v1/users?role=commune_officer&q=ngoc")
                .await
                .expect(StatusCode::OK)
        ),
        ["ngocha"]
    );

    // Page sizes past the limit are refused with a field error; pages are stable.
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
        names(
            admin
                .get("/api/v1/users?page_size=2&page=1")
                .await
                .expect(StatusCode::OK)
        ),
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
async fn invalid_accounts_get_field_errors_and_nothing_is_written() {
    let app = spawn_app().await;
    let (_, admin) = app.user_with_token("root", "admin", None, None).await;

    // [body, field, code] of each refused account.
    let cases = [
        json!([
            account("A B", "admin", None),
            "username",
            "invalid_username"
        ]),
        json!([{"username": "weak", "password": "short", "role": "admin"}, "password", "too_weak"]),
        json!([
            account("nounit", "commune_officer", None),
            "unit_code",
            "required"
        ]),
        json!([
            account("badunit", "commune_officer", Some("99999")),
            "unit_code",
            "unknown_unit"
        ]),
        json!([
            account("wronglevel", "commune_officer", Some("01")),
            "unit_code",
            "wrong_level"
        ]),
        json!([
            account("adminunit", "admin", Some("01")),
            "unit_code",
            "not_allowed"
        ]),
        json!([
            account("noteam", "team_member", Some("00004")),
            "team_id",
            "required"
        ]),
        json!([{"username": "phone", "password": PASSWORD, "role": "admin", "phone": "12345"},
               "phone", "invalid_phone"]),
        json!([{"username": "long", "password": PASSWORD, "role": "admin", "full_name": "x".repeat(201)},
               "full_name", "too_long"]),
    ];
    for case in cases {
        let (body, field, code) = (&case[0], case[1].as_str(), case[2].as_str());
        let (field, code) = (field.expect("field"), code.expect("code"));
        let res = create(&app, &admin, body.clone()).await;
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        let errors = problem["errors"].as_array().expect("errors");
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field && e["code"] == code),
            "{body} should fail on {field}/{code}: {problem}"
        );
    }
    for body in [
        json!({"username": "enum", "password": PASSWORD, "role": "superuser"}),
        json!({"username": 42, "password": PASSWORD, "role": "admin"}),
        json!({"username": "extra", "password": PASSWORD, "role": "admin", "is_root": true}),
    ] {
        let res = create(&app, &admin, body).await;
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    }

    let res = create(&app, &admin, account("taken", "admin", None)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = create(&app, &admin, account("taken", "admin", None)).await;
    let problem = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "username");
    assert_eq!(problem["errors"][0]["code"], "taken");

    let all: Value = app
        .acting(&admin)
        .get("/api/v1/users")
        .await
        .expect(StatusCode::OK);
    assert_eq!(all["total"], 2, "only root and taken exist");
}

#[tokio::test]
async fn updates_use_optimistic_concurrency() {
    let app = spawn_app().await;
    let (admin_id, admin) = app.user_with_token("root", "admin", None, None).await;
    let id = app.create_user("target", "commune_officer", Some("00004"), None);
    let path = format!("/api/v1/users/{id}");

    let res = app.get(&path, &admin).await;
    assert_eq!(res.headers()["etag"], "\"1\"");

    let res = app
        .patch_json(
            &path,
            &admin,
            Some("\"1\""),
            &json!({"full_name": "Nguyễn Thị Target"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["full_name"], "Nguyễn Thị Target");
    assert_eq!(body["version"], 2);

    // A stale ETag changes nothing.
    let res = app
        .patch_json(
            &path,
            &admin,
            Some("\"1\""),
            &json!({"full_name": "Lost update"}),
        )
        .await;
    assert_problem(res, StatusCode::PRECONDITION_FAILED, "version_mismatch").await;
    let body: Value = app.acting(&admin).get(&path).await.expect(StatusCode::OK);
    assert_eq!(body["full_name"], "Nguyễn Thị Target");
    assert_eq!(body["version"], 2);

    let res = app
        .patch_json(&path, &admin, Some("garbage"), &json!({"full_name": "x"}))
        .await;
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_if_match").await;

    // Move to another commune, then clear the name.
    let res = app
        .patch_json(
            &path,
            &admin,
            None,
            &json!({"unit_code": "00008", "full_name": null}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["unit_code"], "00008");
    assert_eq!(body["full_name"], Value::Null);

    // Disabling ends the account's logins; an admin cannot disable itself.
    let target = app.login("target").await.access;
    let res = app
        .patch_json(&path, &admin, None, &json!({"disabled": true}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_problem(
        app.get("/api/v1/me", &target).await,
        StatusCode::UNAUTHORIZED,
        "session_revoked",
    )
    .await;
    let res = app
        .patch_json(
            &format!("/api/v1/users/{admin_id}"),
            &admin,
            None,
            &json!({"disabled": true}),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "cannot_change_own_access").await;

    // A commune officer cannot touch its province officer, nor promote anyone above itself.
    let (_, badinh) = app
        .user_with_token("badinh", "commune_officer", Some("00004"), None)
        .await;
    let hn_id = app.create_user("hn.officer", "province_officer", Some("01"), None);
    let res = app
        .patch_json(
            &format!("/api/v1/users/{hn_id}"),
            &badinh,
            None,
            &json!({"full_name": "x"}),
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    let team = app.create_team("00004", "Tổ CNS Ba Đình");
    let member = app.create_user("member.one", "team_member", Some("00004"), Some(team));
    let res = app
        .patch_json(
            &format!("/api/v1/users/{member}"),
            &badinh,
            None,
            &json!({"role": "province_officer"}),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "role_above_own").await;

    // An officer's password reset ends the account's logins.
    let m1 = app.login("member.one").await.access;
    let res = app
        .patch_json(
            &format!("/api/v1/users/{member}"),
            &badinh,
            None,
            &json!({"password": "reset by officer"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
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
