//! What every request body goes through on the way in: duplicate keys, control and bidi
//! characters, invisible names, NFC, plausible dates, and the screening of free text about
//! work done for citizens.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use crate::fieldwork::{field, log, Field};
use crate::helpers::{spawn_app, Actor, Answer, TestApp};

/// `token` sends `body` to `path` as it is, as JSON.
async fn send_raw(app: &TestApp, method: Method, path: &str, token: &str, body: &str) -> Answer {
    app.anyone()
        .acting(token)
        .send_raw(method, path, "application/json", body.to_string())
        .await
}

#[tokio::test]
async fn a_repeated_json_key_is_refused_on_every_body() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let villages_before = app.count("SELECT count(*) AS n FROM villages");
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
        let problem = send_raw(&app, method, &path, token, &body)
            .await
            .problem(StatusCode::BAD_REQUEST, "duplicate_key");
        assert!(
            problem["detail"]
                .as_str()
                .expect("detail")
                .contains("duplicate key"),
            "{path}: {problem}"
        );
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM villages"),
        villages_before
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM assistance_logs"), 0);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM members WHERE id = {} AND left_on IS NULL",
            f.member_member
        )),
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
    assert_eq!(res.status, StatusCode::CREATED);
}

/// Text with a bidi override or isolate, a control character, or nothing but invisible
/// characters, where it is sent: path, body, the field named and its code.
fn hidden_characters(members: &str) -> Vec<(&str, Value, &'static str, &'static str)> {
    let (forbidden, invisible) = ("forbidden_character", "invisible");
    let village = |name: &str| json!({"name": name, "kind": "thon"});
    let member = |name: &str| json!({"full_name": name, "affiliation": "other"});
    let v = "/api/v1/villages";
    vec![
        (v, village("Thôn \u{202E}1 gnoĐ"), "name", forbidden),
        (v, village("Thôn\u{2066}1"), "name", forbidden),
        (v, village("Thôn\u{0007}"), "name", forbidden),
        (v, village("\u{200B}\u{200B}"), "name", invisible),
        (v, village(" \u{3164} "), "name", invisible),
        (v, village("\u{FEFF}\u{00A0}\u{2060}"), "name", invisible),
        (
            "/api/v1/teams",
            json!({"name": "\u{200D}"}),
            "name",
            invisible,
        ),
        (
            "/api/v1/teams",
            json!({"name": "Tổ", "decision_number": "12/QĐ\u{202D}"}),
            "decision_number",
            forbidden,
        ),
        (members, member("\u{200C}\u{200B}"), "full_name", invisible),
        (members, member("An\u{200F}"), "full_name", forbidden),
        (
            "/api/v1/trainings",
            json!({"title": "Lớp\u{202E}", "kind": "member_training", "mode": "online",
            "starts_at": "2025-10-10T08:00:00+07:00", "ends_at": "2025-10-10T09:00:00+07:00"}),
            "title",
            forbidden,
        ),
    ]
}

/// Names of only spaces, or padded with zero-width characters, are trimmed like spaces.
async fn invisible_padding_is_trimmed(officer: &Actor<'_>) {
    officer
        .post("/api/v1/villages", json!({"name": "   ", "kind": "thon"}))
        .await
        .field_error("name", "required");
    let village = officer
        .post(
            "/api/v1/villages",
            json!({"name": "\u{200B}Thôn Hai\u{200B}", "kind": "thon"}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(village["name"], "Thôn Hai");
}

/// A sync batch rejects the bad item alone, naming the field by its path.
async fn a_batch_rejects_the_bad_item_alone(member: &Actor<'_>) {
    let mut bad = log(Uuid::new_v4());
    bad["note"] = json!("Hướng dẫn \u{202E}2 cụ");
    let good = log(Uuid::new_v4());
    let body = member
        .post(
            "/api/v1/sync/push",
            json!({"items": [{"op": "create_log", "data": bad},
                             {"op": "create_log", "data": good}]}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(body["results"][0]["status"], "rejected", "{body}");
    let error = &body["results"][0]["problem"]["errors"][0];
    assert_eq!(error["field"], "data.note", "{body}");
    assert_eq!(error["code"], "forbidden_character", "{body}");
    assert_eq!(body["results"][1]["status"], "created", "{body}");
}

#[tokio::test]
async fn control_bidi_and_invisible_text_is_refused() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let officer = app.acting(&f.officer);
    let villages_before = app.count("SELECT count(*) AS n FROM villages");
    let members = format!("/api/v1/teams/{}/members", f.team);
    for (path, body, field_name, code) in hidden_characters(&members) {
        officer.post(path, body).await.field_error(field_name, code);
    }
    invisible_padding_is_trimmed(&officer).await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM villages"),
        villages_before + 1
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM members WHERE full_name LIKE '%' || chr(8207) || '%'"),
        0
    );

    a_batch_rejects_the_bad_item_alone(&app.acting(&f.member)).await;
    assert_eq!(app.count("SELECT count(*) AS n FROM assistance_logs"), 1);
}

#[tokio::test]
async fn text_is_stored_nfc_so_composition_does_not_matter() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, member) = (app.acting(&f.officer), app.acting(&f.member));
    let composed = "Thôn Đông Hòa Ngọc";
    let decomposed: String = composed.nfd().collect();
    assert_ne!(composed, decomposed);

    let village = officer
        .post(
            "/api/v1/villages",
            json!({"name": decomposed, "kind": "thon"}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(village["name"], composed);
    let vid = village["id"].as_i64().expect("id");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM villages WHERE id = {vid} AND name = '{composed}'"
        )),
        1
    );
    // The same name typed composed is the same village (uniqueness per commune).
    officer
        .post(
            "/api/v1/villages",
            json!({"name": composed, "kind": "thon"}),
        )
        .await
        .field_error("name", "taken");

    // A member's name sent decomposed is stored composed and found by a composed search.
    let name = "Nguyễn Thị Huệ";
    let added = officer
        .post(
            &format!("/api/v1/teams/{}/members", f.team),
            json!({"full_name": name.nfd().collect::<String>(), "affiliation": "other",
                   "joined_on": "2025-08-01"}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(added["full_name"], name);
    let list = officer
        .get(&format!("/api/v1/members?q={}", "Thị Huệ"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(list["total"], 1, "{list}");

    // Free text too (a log's note, a PATCH).
    let mut body = log(Uuid::new_v4());
    body["note"] = json!("Hướng dẫn cụ Hòa".nfd().collect::<String>());
    let stored = member
        .post("/api/v1/assistance-logs", body)
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(stored["note"], "Hướng dẫn cụ Hòa");
    let village = officer
        .patch(
            &format!("/api/v1/villages/{vid}"),
            None,
            json!({"name": "Xóm Mới".nfd().collect::<String>()}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(village["name"], "Xóm Mới");
}

/// New records with a date before 2000 or far ahead: path, body, the field named and its code.
fn implausible_new_dates(members: &str) -> Vec<(&str, Value, &'static str, &'static str)> {
    let (old, ahead) = ("too_old", "too_far_ahead");
    let training = |starts: &str, ends: &str| {
        json!({"title": "Tập huấn", "kind": "member_training", "mode": "online",
        "starts_at": starts, "ends_at": ends})
    };
    let member = |name: &str, joined: &str| json!({"full_name": name, "affiliation": "other", "joined_on": joined});
    let t = "/api/v1/trainings";
    vec![
        (
            t,
            training("0001-01-01T08:00:00+07:00", "0001-01-01T09:00:00+07:00"),
            "starts_at",
            old,
        ),
        (
            t,
            training("2025-10-10T08:00:00+07:00", "9999-01-01T09:00:00+07:00"),
            "ends_at",
            ahead,
        ),
        (members, member("Ông Xa", "9999-01-01"), "joined_on", ahead),
        (members, member("Ông Xưa", "1999-12-31"), "joined_on", old),
        (
            "/api/v1/teams",
            json!({"name": "Tổ Xưa", "decision_date": "0001-01-01"}),
            "decision_date",
            old,
        ),
        (
            "/api/v1/teams",
            json!({"name": "Tổ Xa", "established_on": "9999-12-31"}),
            "established_on",
            ahead,
        ),
    ]
}

/// Edits and a move with implausible dates are refused too.
async fn implausible_changed_dates_are_refused(app: &TestApp, officer: &Actor<'_>, f: &Field) {
    officer
        .patch(
            &format!("/api/v1/members/{}", f.member_member),
            None,
            json!({"joined_on": "0001-01-01"}),
        )
        .await
        .field_error("joined_on", "too_old");
    officer
        .patch(
            &format!("/api/v1/teams/{}", f.team),
            None,
            json!({"dissolved_on": "9999-01-01"}),
        )
        .await
        .field_error("dissolved_on", "too_far_ahead");
    let other = app.create_team("00004", "Tổ khác");
    officer
        .move_member(f.member_member, other, "0001-01-01")
        .await
        .field_error("on", "too_old");
}

#[tokio::test]
async fn implausible_dates_are_refused() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let officer = app.acting(&f.officer);
    let members = format!("/api/v1/teams/{}/members", f.team);
    let trainings_before = app.count("SELECT count(*) AS n FROM trainings");
    let members_before = app.count("SELECT count(*) AS n FROM members");
    for (path, body, field_name, code) in implausible_new_dates(&members) {
        officer.post(path, body).await.field_error(field_name, code);
    }
    implausible_changed_dates_are_refused(&app, &officer, &f).await;
    assert_eq!(
        app.count("SELECT count(*) AS n FROM trainings"),
        trainings_before
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM members"),
        members_before
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM members WHERE joined_on < '2000-01-01'"),
        0
    );
    // The edges of the window pass.
    officer
        .post(
            &members,
            json!({"full_name": "Bà Đầu", "affiliation": "other", "joined_on": "2000-01-01"}),
        )
        .await
        .expect(StatusCode::CREATED);
}

#[tokio::test]
async fn log_notes_that_walk_around_the_old_guard_are_refused() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let member = app.acting(&f.member);
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
        member
            .post("/api/v1/assistance-logs", body)
            .await
            .field_error("note", "personal_data");
    }
    // Through sync too.
    let mut body = log(Uuid::new_v4());
    body["note"] = json!("gọi ０９１２\u{2013}３４５\u{2013}６７８");
    let result = member
        .post(
            "/api/v1/sync/push",
            json!({"items": [{"op": "create_log", "data": body}]}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(result["results"][0]["status"], "rejected", "{result}");
    assert_eq!(
        result["results"][0]["problem"]["errors"][0]["code"], "personal_data",
        "{result}"
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM assistance_logs"), 0);
    // Ordinary notes with dates, amounts, counts and decision numbers pass.
    for note in [
        "Theo 123/QĐ-UBND, từ 15/10/2026 - 20/10/2026, 2 người",
        "Thu hộ 1.500.000 đồng lúc 8:30",
    ] {
        let mut body = log(Uuid::new_v4());
        body["note"] = json!(note);
        let res = member.post("/api/v1/assistance-logs", body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{note}");
    }
}

/// A training with every free-text field filled in.
fn training() -> Value {
    json!({"title": "Tập huấn", "topics": ["VNeID"], "kind": "member_training", "mode": "online",
        "organiser": "UBND phường", "trainer": "Sở KH&CN",
        "starts_at": "2025-10-10T08:00:00+07:00", "ends_at": "2025-10-10T09:00:00+07:00"})
}

/// `training()` with `key` set to `value`.
fn with(key: &str, value: Value) -> Value {
    let mut b = training();
    b[key] = value;
    b
}

/// Free text about citizens holding a phone number, an email, an identity card number or a
/// code, as each writer sends it: method, path, the writer's token, body and the field named.
fn citizen_data_in_free_text<'a>(
    f: &'a Field,
    province: &'a String,
    admin: &'a String,
) -> Vec<(Method, String, &'a String, Value, &'static str)> {
    let phone = "gọi chị Lan 0912 345 678";
    let officer = &f.officer;
    let (villages, teams) = ("/api/v1/villages".to_string(), "/api/v1/teams".to_string());
    let mut cases = vec![
        (
            Method::POST,
            villages.clone(),
            officer,
            json!({"name": "Thôn nhà 0912.345.678", "kind": "thon"}),
            "name",
        ),
        (
            Method::PATCH,
            format!("{villages}/{}", f.village),
            officer,
            json!({"name": "Thôn a@b.vn"}),
            "name",
        ),
        (
            Method::POST,
            teams.clone(),
            officer,
            json!({"name": "Tổ 001234567890"}),
            "name",
        ),
        (
            Method::POST,
            teams.clone(),
            officer,
            json!({"name": "Tổ 2", "decision_number": "CCCD 001.234.567.890"}),
            "decision_number",
        ),
        (
            Method::PATCH,
            format!("{teams}/{}", f.team),
            officer,
            json!({"decision_number": phone}),
            "decision_number",
        ),
    ];
    let training_fields = [
        ("title", json!(phone)),
        ("topics", json!(["VNeID", "mã OTP 123456"])),
        ("organiser", json!("lan.nguyen@gmail.com")),
        ("trainer", json!("Chị Lan ０９１２３４５６７８")),
    ];
    cases.extend(training_fields.map(|(field, value)| {
        let path = "/api/v1/trainings".to_string();
        (Method::POST, path, officer, with(field, value), field)
    }));
    let report = "/api/v1/reports/monthly/00004/2025-10";
    cases.extend(
        [("return", phone), ("reopen", "CCCD 001234567890")].map(|(action, reason)| {
            let path = format!("{report}/{action}");
            (
                Method::POST,
                path,
                province,
                json!({ "reason": reason }),
                "reason",
            )
        }),
    );
    cases.push((
        Method::POST,
        "/api/v1/categories".into(),
        admin,
        json!({"code": "x_y", "name": "Gọi 0912345678"}),
        "name",
    ));
    cases
}

/// Attendance's certificate reference is screened too, and nothing of it is stored.
async fn certificate_references_are_screened(app: &TestApp, officer: &Actor<'_>, member: i64) {
    let t = officer
        .post("/api/v1/trainings", training())
        .await
        .expect(StatusCode::CREATED);
    let tid = t["id"].as_str().expect("id");
    officer
        .attend(
            tid,
            json!([{"member_id": member, "status": "attended",
                    "certificate_ref": "CCCD 001234567890"}]),
        )
        .await
        .field_error("records[0].certificate_ref", "personal_data");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM training_attendance"),
        0
    );
}

/// What is not about citizens stays as sent: a member's own name and phone, decision numbers.
async fn text_not_about_citizens_passes(officer: &Actor<'_>, team: i64) {
    officer
        .post(
            &format!("/api/v1/teams/{team}/members"),
            json!({"full_name": "Trần Văn Bình", "phone": "0912 345 678", "affiliation": "other",
                   "joined_on": "2025-08-01"}),
        )
        .await
        .expect(StatusCode::CREATED);
    officer
        .post(
            "/api/v1/teams",
            json!({"name": "Tổ CNCĐ số 2", "decision_number": "123/QĐ-UBND",
                   "decision_date": "2025-08-01"}),
        )
        .await
        .expect(StatusCode::CREATED);
}

#[tokio::test]
async fn free_text_about_citizens_is_screened_everywhere() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let province = app.hanoi_officer().await.token;
    let (_, admin) = app.user_with_token("root", "admin", None, None).await;
    for (method, path, token, body, field_name) in citizen_data_in_free_text(&f, &province, &admin)
    {
        app.acting(token)
            .send(method, &path, None, Some(&body))
            .await
            .field_error(field_name, "personal_data");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM trainings"), 0);
    assert_eq!(app.count("SELECT count(*) AS n FROM report_periods"), 0);

    let officer = app.acting(&f.officer);
    certificate_references_are_screened(&app, &officer, f.member_member).await;
    text_not_about_citizens_passes(&officer, f.team).await;
}

#[tokio::test]
async fn a_window_that_ends_before_it_starts_is_refused() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let officer = app.acting(&f.officer);
    for path in [
        "/api/v1/assistance-logs",
        "/api/v1/trainings",
        "/api/v1/audit",
    ] {
        officer
            .get(&format!("{path}?from=2026-09-01&to=2026-08-01"))
            .await
            .field_error("to", "invalid_range");
        // The same bounds the right way round are a valid, empty-or-not window.
        let res = officer
            .get(&format!("{path}?from=2026-08-01&to=2026-09-01"))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
    }
}
