//! What every request body goes through on the way in: duplicate keys, control and bidi
//! characters, invisible names, NFC, plausible dates, and the screening of free text about
//! work done for citizens.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use crate::fieldwork::{field, log};
use crate::helpers::{assert_problem, spawn_app, TestApp};

async fn send_raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: &str,
) -> reqwest::Response {
    app.request(method, path)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("sent")
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: &Value,
) -> reqwest::Response {
    app.request(method, path)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("sent")
}

/// Asserts a 422 whose errors hold `field` with `code`.
async fn assert_field(res: reqwest::Response, field: &str, code: &str) -> Value {
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let errors = body["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .any(|e| e["field"] == field && e["code"] == code),
        "expected {field}: {code} in {body}"
    );
    body
}

fn count(app: &TestApp, sql: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.db.conn();
    diesel::sql_query(sql)
        .get_result::<N>(&mut conn)
        .expect("count")
        .n
}

#[tokio::test]
async fn a_repeated_json_key_is_refused_on_every_body() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let villages_before = count(&app, "SELECT count(*) AS n FROM villages");
    let id = Uuid::new_v4();
    let cases = [
        (Method::POST, "/api/v1/villages".to_string(), &f.officer,
         r#"{"name": "Thôn A", "kind": "thon", "name": "Thôn B"}"#.to_string()),
        (Method::PATCH, format!("/api/v1/members/{}", f.member_member), &f.officer,
         r#"{"left_on": "2025-09-01", "left_on": null}"#.to_string()),
        (Method::POST, "/api/v1/sync/push".to_string(), &f.member,
         format!(r#"{{"items": [{{"op": "create_log", "data": {{"id": "{id}", "note": "a", "note": "b"}}}}]}}"#)),
        (Method::POST, "/api/v1/trainings".to_string(), &f.officer,
         r#"{"title": "T", "kind": "member_training", "mode": "online", "kind": "citizen_class"}"#.to_string()),
        (Method::POST, "/api/v1/auth/login".to_string(), &f.officer,
         r#"{"username": "badinh", "password": "x", "username": "admin"}"#.to_string()),
    ];
    for (method, path, token, body) in cases {
        let res = send_raw(&app, method, &path, token, &body).await;
        let problem = assert_problem(res, StatusCode::BAD_REQUEST, "duplicate_key").await;
        assert!(
            problem["detail"]
                .as_str()
                .expect("detail")
                .contains("duplicate key"),
            "{path}: {problem}"
        );
    }
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM villages"),
        villages_before
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM assistance_logs"), 0);
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM members WHERE id = {} AND left_on IS NULL",
                f.member_member
            )
        ),
        1
    );
    // The same keys in different objects are fine.
    let res = send_raw(
        &app,
        Method::POST,
        "/api/v1/villages",
        &f.officer,
        r#"{"name": "Thôn Nhất", "kind": "thon"}"#,
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn control_bidi_and_invisible_text_is_refused() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let villages_before = count(&app, "SELECT count(*) AS n FROM villages");
    let members = format!("/api/v1/teams/{}/members", f.team);
    let cases = [
        (
            "/api/v1/villages",
            json!({"name": "Thôn \u{202E}1 gnoĐ", "kind": "thon"}),
            "name",
            "forbidden_character",
        ),
        (
            "/api/v1/villages",
            json!({"name": "Thôn\u{2066}1", "kind": "thon"}),
            "name",
            "forbidden_character",
        ),
        (
            "/api/v1/villages",
            json!({"name": "Thôn\u{0007}", "kind": "thon"}),
            "name",
            "forbidden_character",
        ),
        (
            "/api/v1/villages",
            json!({"name": "\u{200B}\u{200B}", "kind": "thon"}),
            "name",
            "invisible",
        ),
        (
            "/api/v1/villages",
            json!({"name": " \u{3164} ", "kind": "thon"}),
            "name",
            "invisible",
        ),
        (
            "/api/v1/villages",
            json!({"name": "\u{FEFF}\u{00A0}\u{2060}", "kind": "thon"}),
            "name",
            "invisible",
        ),
        (
            "/api/v1/teams",
            json!({"name": "\u{200D}"}),
            "name",
            "invisible",
        ),
        (
            "/api/v1/teams",
            json!({"name": "Tổ", "decision_number": "12/QĐ\u{202D}"}),
            "decision_number",
            "forbidden_character",
        ),
        (
            members.as_str(),
            json!({"full_name": "\u{200C}\u{200B}", "affiliation": "other"}),
            "full_name",
            "invisible",
        ),
        (
            members.as_str(),
            json!({"full_name": "An\u{200F}", "affiliation": "other"}),
            "full_name",
            "forbidden_character",
        ),
        (
            "/api/v1/trainings",
            json!({"title": "Lớp\u{202E}", "kind": "member_training", "mode": "online",
            "starts_at": "2025-10-10T08:00:00+07:00", "ends_at": "2025-10-10T09:00:00+07:00"}),
            "title",
            "forbidden_character",
        ),
    ];
    for (path, body, field_name, code) in cases {
        let res = app.post_json(path, Some(&f.officer), &body).await;
        assert_field(res, field_name, code).await;
    }
    // Names of only spaces, or padded with zero-width characters, are trimmed like spaces.
    let res = app
        .post_json(
            "/api/v1/villages",
            Some(&f.officer),
            &json!({"name": "   ", "kind": "thon"}),
        )
        .await;
    assert_field(res, "name", "required").await;
    let res = app
        .post_json(
            "/api/v1/villages",
            Some(&f.officer),
            &json!({"name": "\u{200B}Thôn Hai\u{200B}", "kind": "thon"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let village: Value = res.json().await.expect("json");
    assert_eq!(village["name"], "Thôn Hai");
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM villages"),
        villages_before + 1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM members WHERE full_name LIKE '%' || chr(8207) || '%'"
        ),
        0
    );

    // A sync batch rejects the bad item alone, naming the field by its path.
    let mut bad = log(Uuid::new_v4());
    bad["note"] = json!("Hướng dẫn \u{202E}2 cụ");
    let good = log(Uuid::new_v4());
    let res = app
        .post_json("/api/v1/sync/push", Some(&f.member),
            &json!({"items": [{"op": "create_log", "data": bad}, {"op": "create_log", "data": good}]}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["results"][0]["status"], "rejected", "{body}");
    assert_eq!(
        body["results"][0]["problem"]["errors"][0]["field"], "data.note",
        "{body}"
    );
    assert_eq!(
        body["results"][0]["problem"]["errors"][0]["code"], "forbidden_character",
        "{body}"
    );
    assert_eq!(body["results"][1]["status"], "created", "{body}");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM assistance_logs"), 1);
}

#[tokio::test]
async fn text_is_stored_nfc_so_composition_does_not_matter() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let composed = "Thôn Đông Hòa Ngọc";
    let decomposed: String = composed.nfd().collect();
    assert_ne!(composed, decomposed);

    let res = app
        .post_json(
            "/api/v1/villages",
            Some(&f.officer),
            &json!({"name": decomposed, "kind": "thon"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let village: Value = res.json().await.expect("json");
    assert_eq!(village["name"], composed);
    let vid = village["id"].as_i64().expect("id");
    assert_eq!(
        count(
            &app,
            &format!("SELECT count(*) AS n FROM villages WHERE id = {vid} AND name = '{composed}'")
        ),
        1
    );
    // The same name typed composed is the same village (uniqueness per commune).
    let res = app
        .post_json(
            "/api/v1/villages",
            Some(&f.officer),
            &json!({"name": composed, "kind": "thon"}),
        )
        .await;
    assert_field(res, "name", "taken").await;

    // A member's name sent decomposed is stored composed and found by a composed search.
    let name = "Nguyễn Thị Huệ";
    let res = app
        .post_json(&format!("/api/v1/teams/{}/members", f.team), Some(&f.officer),
            &json!({"full_name": name.nfd().collect::<String>(), "affiliation": "other", "joined_on": "2025-08-01"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let member: Value = res.json().await.expect("json");
    assert_eq!(member["full_name"], name);
    let list: Value = app
        .get(&format!("/api/v1/members?q={}", "Thị Huệ"), &f.officer)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["total"], 1, "{list}");

    // Free text too (a log's note, a PATCH).
    let id = Uuid::new_v4();
    let mut body = log(id);
    body["note"] = json!("Hướng dẫn cụ Hòa".nfd().collect::<String>());
    let res = app
        .post_json("/api/v1/assistance-logs", Some(&f.member), &body)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let stored: Value = res.json().await.expect("json");
    assert_eq!(stored["note"], "Hướng dẫn cụ Hòa");
    let res = app
        .patch_json(
            &format!("/api/v1/villages/{vid}"),
            &f.officer,
            None,
            &json!({"name": "Xóm Mới".nfd().collect::<String>()}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let village: Value = res.json().await.expect("json");
    assert_eq!(village["name"], "Xóm Mới");
}

#[tokio::test]
async fn implausible_dates_are_refused() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let members = format!("/api/v1/teams/{}/members", f.team);
    let trainings_before = count(&app, "SELECT count(*) AS n FROM trainings");
    let members_before = count(&app, "SELECT count(*) AS n FROM members");
    let training = |starts: &str, ends: &str| {
        json!({"title": "Tập huấn", "kind": "member_training", "mode": "online",
        "starts_at": starts, "ends_at": ends})
    };
    let cases = [
        (
            "/api/v1/trainings",
            training("0001-01-01T08:00:00+07:00", "0001-01-01T09:00:00+07:00"),
            "starts_at",
            "too_old",
        ),
        (
            "/api/v1/trainings",
            training("2025-10-10T08:00:00+07:00", "9999-01-01T09:00:00+07:00"),
            "ends_at",
            "too_far_ahead",
        ),
        (
            members.as_str(),
            json!({"full_name": "Ông Xa", "affiliation": "other", "joined_on": "9999-01-01"}),
            "joined_on",
            "too_far_ahead",
        ),
        (
            members.as_str(),
            json!({"full_name": "Ông Xưa", "affiliation": "other", "joined_on": "1999-12-31"}),
            "joined_on",
            "too_old",
        ),
        (
            "/api/v1/teams",
            json!({"name": "Tổ Xưa", "decision_date": "0001-01-01"}),
            "decision_date",
            "too_old",
        ),
        (
            "/api/v1/teams",
            json!({"name": "Tổ Xa", "established_on": "9999-12-31"}),
            "established_on",
            "too_far_ahead",
        ),
    ];
    for (path, body, field_name, code) in cases {
        let res = app.post_json(path, Some(&f.officer), &body).await;
        assert_field(res, field_name, code).await;
    }
    let res = app
        .patch_json(
            &format!("/api/v1/members/{}", f.member_member),
            &f.officer,
            None,
            &json!({"joined_on": "0001-01-01"}),
        )
        .await;
    assert_field(res, "joined_on", "too_old").await;
    let res = app
        .patch_json(
            &format!("/api/v1/teams/{}", f.team),
            &f.officer,
            None,
            &json!({"dissolved_on": "9999-01-01"}),
        )
        .await;
    assert_field(res, "dissolved_on", "too_far_ahead").await;
    let other = app.create_team("00004", "Tổ khác");
    let res = app
        .post_json(
            &format!("/api/v1/members/{}/move", f.member_member),
            Some(&f.officer),
            &json!({"team_id": other, "on": "0001-01-01"}),
        )
        .await;
    assert_field(res, "on", "too_old").await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM trainings"),
        trainings_before
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM members"),
        members_before
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM members WHERE joined_on < '2000-01-01'"
        ),
        0
    );
    // The edges of the window pass.
    let res = app
        .post_json(
            &members,
            Some(&f.officer),
            &json!({"full_name": "Bà Đầu", "affiliation": "other", "joined_on": "2000-01-01"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn log_notes_that_walk_around_the_old_guard_are_refused() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let notes = [
        "sđt ０９１２３４５６７８",
        "sđt 0912   345   678",
        "sđt 0912/345/678",
        "sđt 0912_345_678",
        "sđt 0912,345,678",
        "sđt 0912\u{00A0}345\u{00A0}678",
        "sđt 0912\u{2009}345\u{2009}678",
        "sđt 0912–345–678",
        "sđt 09\u{200B}12\u{200B}345\u{200B}678",
        "CCCD 001/234/567/890",
        "sđt ٠٩١٢٣٤٥٦٧٨",
        "sđt ०९१२३४५६७८",
        "mã xác thực 123456",
        "ＯＴＰ 123456",
        "email nguyenvana@gmail.com",
    ];
    for note in notes {
        let mut body = log(Uuid::new_v4());
        body["note"] = json!(note);
        let res = app
            .post_json("/api/v1/assistance-logs", Some(&f.member), &body)
            .await;
        assert_field(res, "note", "personal_data").await;
    }
    // Through sync too.
    let mut body = log(Uuid::new_v4());
    body["note"] = json!("gọi ０９１２\u{2013}３４５\u{2013}６７８");
    let res = app
        .post_json(
            "/api/v1/sync/push",
            Some(&f.member),
            &json!({"items": [{"op": "create_log", "data": body}]}),
        )
        .await;
    let result: Value = res.json().await.expect("json");
    assert_eq!(result["results"][0]["status"], "rejected", "{result}");
    assert_eq!(
        result["results"][0]["problem"]["errors"][0]["code"], "personal_data",
        "{result}"
    );
    assert_eq!(count(&app, "SELECT count(*) AS n FROM assistance_logs"), 0);
    // Ordinary notes with dates, amounts, counts and decision numbers pass.
    for note in [
        "Theo 123/QĐ-UBND, từ 15/10/2026 - 20/10/2026, 2 người",
        "Thu hộ 1.500.000 đồng lúc 8:30",
    ] {
        let mut body = log(Uuid::new_v4());
        body["note"] = json!(note);
        let res = app
            .post_json("/api/v1/assistance-logs", Some(&f.member), &body)
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{note}");
    }
}

#[tokio::test]
async fn free_text_about_citizens_is_screened_everywhere() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let province = app.hanoi_officer().await.token;
    let (_, admin) = app.user_with_token("root", "admin", None, None).await;
    let training = json!({"title": "Tập huấn", "topics": ["VNeID"], "kind": "member_training", "mode": "online",
        "organiser": "UBND phường", "trainer": "Sở KH&CN",
        "starts_at": "2025-10-10T08:00:00+07:00", "ends_at": "2025-10-10T09:00:00+07:00"});
    let with = |key: &str, value: Value| {
        let mut b = training.clone();
        b[key] = value;
        b
    };
    let phone = "gọi chị Lan 0912 345 678";
    let cases: Vec<(Method, String, &String, Value, &str)> = vec![
        (
            Method::POST,
            "/api/v1/villages".into(),
            &f.officer,
            json!({"name": "Thôn nhà 0912.345.678", "kind": "thon"}),
            "name",
        ),
        (
            Method::PATCH,
            format!("/api/v1/villages/{}", f.village),
            &f.officer,
            json!({"name": "Thôn a@b.vn"}),
            "name",
        ),
        (
            Method::POST,
            "/api/v1/teams".into(),
            &f.officer,
            json!({"name": "Tổ 001234567890"}),
            "name",
        ),
        (
            Method::POST,
            "/api/v1/teams".into(),
            &f.officer,
            json!({"name": "Tổ 2", "decision_number": "CCCD 001.234.567.890"}),
            "decision_number",
        ),
        (
            Method::PATCH,
            format!("/api/v1/teams/{}", f.team),
            &f.officer,
            json!({"decision_number": phone}),
            "decision_number",
        ),
        (
            Method::POST,
            "/api/v1/trainings".into(),
            &f.officer,
            with("title", json!(phone)),
            "title",
        ),
        (
            Method::POST,
            "/api/v1/trainings".into(),
            &f.officer,
            with("topics", json!(["VNeID", "mã OTP 123456"])),
            "topics",
        ),
        (
            Method::POST,
            "/api/v1/trainings".into(),
            &f.officer,
            with("organiser", json!("lan.nguyen@gmail.com")),
            "organiser",
        ),
        (
            Method::POST,
            "/api/v1/trainings".into(),
            &f.officer,
            with("trainer", json!("Chị Lan ０９１２３４５６７８")),
            "trainer",
        ),
        (
            Method::POST,
            "/api/v1/reports/monthly/00004/2025-10/return".into(),
            &province,
            json!({"reason": phone}),
            "reason",
        ),
        (
            Method::POST,
            "/api/v1/reports/monthly/00004/2025-10/reopen".into(),
            &province,
            json!({"reason": "CCCD 001234567890"}),
            "reason",
        ),
        (
            Method::POST,
            "/api/v1/categories".into(),
            &admin,
            json!({"code": "x_y", "name": "Gọi 0912345678"}),
            "name",
        ),
    ];
    for (method, path, token, body, field_name) in cases {
        let res = send(&app, method, &path, token, &body).await;
        assert_field(res, field_name, "personal_data").await;
    }
    assert_eq!(count(&app, "SELECT count(*) AS n FROM trainings"), 0);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM report_periods"), 0);

    // Attendance's certificate reference, REST and sync.
    let res = app
        .post_json("/api/v1/trainings", Some(&f.officer), &training)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let t: Value = res.json().await.expect("json");
    let tid = t["id"].as_str().expect("id");
    let res = send(&app, Method::PUT, &format!("/api/v1/trainings/{tid}/attendance"), &f.officer,
        &json!({"records": [{"member_id": f.member_member, "status": "attended", "certificate_ref": "CCCD 001234567890"}]})).await;
    assert_field(res, "records[0].certificate_ref", "personal_data").await;
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM training_attendance"),
        0
    );

    // What is not about citizens stays as sent: a member's own name and phone, decision numbers.
    let res = app
        .post_json(&format!("/api/v1/teams/{}/members", f.team), Some(&f.officer),
            &json!({"full_name": "Trần Văn Bình", "phone": "0912 345 678", "affiliation": "other", "joined_on": "2025-08-01"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .post_json("/api/v1/teams", Some(&f.officer), &json!({"name": "Tổ CNCĐ số 2", "decision_number": "123/QĐ-UBND", "decision_date": "2025-08-01"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_window_that_ends_before_it_starts_is_refused() {
    let app = spawn_app().await;
    let f = field(&app).await;
    for path in [
        "/api/v1/assistance-logs",
        "/api/v1/trainings",
        "/api/v1/audit",
    ] {
        let res = app
            .get(&format!("{path}?from=2026-09-01&to=2026-08-01"), &f.officer)
            .await;
        assert_field(res, "to", "invalid_range").await;
        // The same bounds the right way round are a valid, empty-or-not window.
        let res = app
            .get(&format!("{path}?from=2026-08-01&to=2026-09-01"), &f.officer)
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}
