use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fieldwork::{field, Field};
use crate::fixtures::{approve_month, restore_checked, Training};
use crate::helpers::{spawn_app, TestApp};

fn member_training() -> Value {
    json!({"title": "Tập huấn kỹ năng số cho tổ CNCĐ", "topics": ["VNeID", "Dịch vụ công"], "kind": "member_training",
           "mode": "blended", "platform": "onetouch", "organiser": "UBND phường", "trainer": "Sở KH&CN",
           "starts_at": "2025-10-10T08:00:00+07:00", "ends_at": "2025-10-10T11:30:00+07:00"})
}

fn citizen_class() -> Value {
    json!({"title": "Lớp Bình dân học vụ số", "kind": "citizen_class", "mode": "in_person", "platform": "binh_dan_hoc_vu_so",
           "starts_at": "2025-10-12T19:00:00+07:00", "ends_at": "2025-10-12T21:00:00+07:00",
           "participants": 40, "participants_male": 15, "participants_female": 25, "age_60_plus": 12})
}

#[tokio::test]
async fn officers_record_trainings_and_attendance() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, _, member) = f.actors(&app);
    let training = officer.create("/api/v1/trainings", member_training()).await;
    assert_eq!(training["commune_code"], "00004");
    assert_eq!(training["starts_at"], "2025-10-10T01:00:00Z");
    let id = training["id"].as_str().expect("id").to_string();

    let list = officer
        .attend(
            &id,
            json!([
                {"member_id": f.leader_member, "status": "completed", "certificate_ref": "CC-2025-001"},
                {"member_id": f.member_member, "status": "invited"}]),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(list.as_array().expect("list").len(), 2);

    // Sending again updates the member's one row.
    let list = officer
        .attend(
            &id,
            json!([{"member_id": f.member_member, "status": "attended"}]),
        )
        .await
        .expect(StatusCode::OK);
    let member_row = |list: &Value| row_of(list, f.member_member);
    assert_eq!(list.as_array().expect("list").len(), 2);
    assert_eq!(member_row(&list)["status"], "attended");
    assert_eq!(member_row(&list)["version"], 2);

    // A member of another commune, all or nothing.
    a_member_of_another_commune_refuses_the_whole_list(&app, &f, &id).await;

    // Attendance is for member trainings; citizen classes count participants.
    let class = officer.create("/api/v1/trainings", citizen_class()).await;
    officer
        .attend(
            class["id"].as_str().expect("id"),
            json!([{"member_id": f.member_member, "status": "attended"}]),
        )
        .await
        .problem(StatusCode::CONFLICT, "not_member_training");
    assert_eq!(class["participants"], 40);
    let list = member
        .get("/api/v1/trainings?kind=citizen_class")
        .await
        .body;
    assert_eq!(list["total"], 1);
}

/// `member`'s attendance row in `list`.
fn row_of(list: &Value, member: i64) -> Value {
    let rows = list.as_array().expect("list");
    rows.iter()
        .find(|r| r["member_id"] == member)
        .cloned()
        .expect("row")
}

/// Attendance of training `id` naming a member of another commune: 422 for that record, and
/// nothing of the request is stored (the fixture's member stays "attended").
async fn a_member_of_another_commune_refuses_the_whole_list(app: &TestApp, f: &Field, id: &str) {
    let (officer, _, member) = f.actors(app);
    let path = format!("/api/v1/trainings/{id}/attendance");
    let admin = app.actor("root", "admin", None, None).await;
    let far_team = app.create_team("00008", "Tổ Ngọc Hà");
    let far = admin
        .create(
            &format!("/api/v1/teams/{far_team}/members"),
            json!({"full_name": "Người xa", "affiliation": "other"}),
        )
        .await;
    let problem = officer
        .attend(
            id,
            json!([{"member_id": f.member_member, "status": "completed"},
                   {"member_id": far["id"], "status": "attended"}]),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "records[1].member_id");
    let list = member.get(&path).await.body;
    assert_eq!(
        row_of(&list, f.member_member)["status"],
        "attended",
        "nothing of the refused request was stored"
    );
}

#[tokio::test]
async fn leaders_run_classes_and_bad_trainings_are_refused() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, leader, member) = f.actors(&app);
    let trainings = "/api/v1/trainings";
    let id = Uuid::new_v4();
    let mut class = citizen_class();
    class["id"] = json!(id);
    let stored = leader.create(trainings, class.clone()).await;
    assert_eq!(stored["team_id"], f.team, "a leader's class is its team's");
    let res = leader.post(trainings, class).await;
    assert_eq!(res.status, StatusCode::OK, "a resend is recognised");
    member
        .post(trainings, citizen_class())
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");

    // A class with one field set to a bad value: [field, value, field and code of the error].
    for case in [
        json!([
            "ends_at",
            "2025-10-12T18:00:00+07:00",
            "ends_at",
            "before_start"
        ]),
        json!(["participants", null, "participants", "required"]),
        json!([
            "participants_female",
            30,
            "participants_male",
            "exceeds_total"
        ]),
        json!(["kind", "seminar", "kind", "invalid_value"]),
        json!(["title", "", "title", "length"]),
        json!(["village_id", 999_999, "village_id", "wrong_village"]),
    ] {
        let mut body = citizen_class();
        body[case[0].as_str().expect("key")] = case[1].clone();
        let problem = officer
            .post(trainings, body.clone())
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let errors = problem["errors"].as_array().expect("errors");
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == case[2] && e["code"] == case[3]),
            "{body}: {problem}"
        );
    }
    let mut with_counts = member_training();
    with_counts["participants"] = json!(5);
    officer
        .post(trainings, with_counts)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // Replace with If-Match.
    let path = format!("{trainings}/{id}");
    let mut changed = citizen_class();
    changed["participants"] = json!(45);
    leader
        .put(&path, Some("\"1\""), changed.clone())
        .await
        .expect(StatusCode::OK);
    leader
        .put(&path, Some("\"1\""), changed)
        .await
        .problem(StatusCode::PRECONDITION_FAILED, "version_mismatch");
}

#[tokio::test]
async fn attendance_syncs_from_the_phone() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, leader, member) = f.actors(&app);
    let training = officer.create("/api/v1/trainings", member_training()).await;
    let tid = training["id"].clone();
    let item = |status: &str, base: Option<i32>| {
        json!({"op": "upsert_attendance", "training_id": tid, "base_version": base,
               "data": {"id": Uuid::new_v4(), "member_id": f.member_member, "status": status}})
    };
    let body = leader.push_items(json!([item("attended", None)])).await;
    assert_eq!(body["results"][0]["status"], "created");
    let body = leader
        .push_items(json!([
            item("completed", Some(1)),
            item("invited", Some(1))
        ]))
        .await;
    assert_eq!(body["results"][0]["status"], "updated");
    assert_eq!(body["results"][1]["status"], "conflict");
    assert_eq!(body["results"][1]["current"]["status"], "completed");
    // A team member does not record attendance.
    let body = member.push_items(json!([item("attended", None)])).await;
    assert_eq!(body["results"][0]["status"], "rejected");
    assert_eq!(body["results"][0]["problem"]["status"], 403);

    let pull = || member.get("/api/v1/sync/pull?limit=1000");
    let mut page = pull().await.body;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while page["attendance"].as_array().map_or(0, |a| a.len()) == 0
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        page = pull().await.body;
    }
    assert_eq!(page["trainings"].as_array().expect("trainings").len(), 1);
    assert_eq!(page["attendance"][0]["status"], "completed");
}

/// A member training of the field's commune on `day` (a past month).
fn training_on(day: &str) -> Value {
    Training::on(day).body()
}

async fn approve(app: &TestApp, officer: &str, month: &str) {
    let province = app
        .actor("hn.approver", "province_officer", Some("01"), None)
        .await;
    approve_month(&app.acting(officer), &province, "00004", month).await;
}

#[tokio::test]
async fn attendance_and_trainings_keep_to_the_month_lock() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, leader, _) = f.actors(&app);
    let id = Training::on("2026-10-12")
        .attended(
            &officer,
            json!([{"member_id": f.member_member, "status": "completed"}]),
        )
        .await;
    let path = format!("/api/v1/trainings/{id}/attendance");
    approve(&app, &f.officer, "2026-10").await;
    let frozen = officer
        .get("/api/v1/reports/monthly?unit=00004&month=2026-10")
        .await
        .body;
    assert_eq!(frozen["totals"]["attendance_completed"], 1);

    // REST: attendance, and the training itself.
    officer
        .attend(
            &id,
            json!([
                {"member_id": f.member_member, "status": "completed"},
                {"member_id": f.leader_member, "status": "completed"}
            ]),
        )
        .await
        .problem(StatusCode::CONFLICT, "month_locked");
    let one = format!("/api/v1/trainings/{id}");
    officer
        .put(&one, None, training_on("2026-10-13"))
        .await
        .problem(StatusCode::CONFLICT, "month_locked");
    officer
        .delete(&one, None)
        .await
        .problem(StatusCode::CONFLICT, "month_locked");
    // Moving another month's training into the locked one is refused too.
    let other = Training::on("2026-09-12").create(&officer).await;
    officer
        .put(
            &format!("/api/v1/trainings/{other}"),
            None,
            training_on("2026-10-20"),
        )
        .await
        .problem(StatusCode::CONFLICT, "month_locked");

    // Sync: the leader's phone.
    let body = leader
        .post(
            "/api/v1/sync/push",
            json!({"items": [{"op": "upsert_attendance", "training_id": id,
                              "data": {"member_id": f.leader_member, "status": "attended"}}]}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(body["results"][0]["status"], "rejected");
    assert_eq!(body["results"][0]["problem"]["code"], "month_locked");

    // Nothing changed: one row, as approved; live figures equal the frozen ones.
    let rows = officer.get(&path).await.body;
    let rows = rows.as_array().expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["version"], 1);
    let live = officer
        .get("/api/v1/reports/monthly?unit=00004&month=2026-10&live=true")
        .await
        .body;
    assert_eq!(live["totals"], frozen["totals"]);
}

#[tokio::test]
async fn attendance_names_each_member_once_and_only_while_a_member() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, leader, _) = f.actors(&app);
    let training = officer.create("/api/v1/trainings", member_training()).await;
    let id = training["id"].as_str().expect("id").to_string();
    let path = format!("/api/v1/trainings/{id}/attendance");

    // The same member twice: 422 naming the second, nothing stored.
    let body = officer
        .attend(
            &id,
            json!([
                {"member_id": f.member_member, "status": "attended"},
                {"member_id": f.leader_member, "status": "attended"},
                {"member_id": f.member_member, "status": "completed"}
            ]),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "records[2].member_id");
    assert_eq!(body["errors"][0]["code"], "duplicate");
    let rows = officer.get(&path).await.expect(StatusCode::OK);
    assert_eq!(rows, json!([]));

    // Twice in one sync batch: the second is refused.
    let item = |status: &str| {
        json!({"op": "upsert_attendance", "training_id": id,
               "data": {"member_id": f.member_member, "status": status}})
    };
    let body = leader
        .push_items(json!([item("attended"), item("completed")]))
        .await;
    assert_eq!(body["results"][0]["status"], "created");
    assert_eq!(body["results"][1]["status"], "rejected");
    assert_eq!(body["results"][1]["problem"]["status"], 422);
    assert_eq!(
        body["results"][1]["problem"]["errors"][0]["code"],
        "duplicate"
    );
    let rows = officer.get(&path).await.expect(StatusCode::OK);
    assert_eq!(rows[0]["status"], "attended");
    assert_eq!(rows[0]["version"], 1);

    // A training before the member joined (2025-08-01).
    let early = officer
        .create("/api/v1/trainings", training_on("2025-07-15"))
        .await;
    let body = officer
        .attend(
            early["id"].as_str().expect("id"),
            json!([{"member_id": f.member_member, "status": "attended"}]),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "records[0].member_id");
    assert_eq!(body["errors"][0]["code"], "before_joined");
}

#[tokio::test]
async fn archived_trainings_are_not_edited_and_can_be_restored() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, leader, _) = f.actors(&app);
    let id = Training::on("2026-09-10").create(&officer).await;
    let one = format!("/api/v1/trainings/{id}");
    officer.delete(&one, None).await.expect(StatusCode::OK);
    officer
        .put(&one, None, training_on("2026-09-11"))
        .await
        .problem(StatusCode::CONFLICT, "training_archived");
    let stored = officer.get(&one).await.body;
    assert_eq!(stored["version"], 2);
    assert_eq!(stored["starts_at"], "2026-09-10T01:00:00Z");

    // Restore: a leader may not (the officer's training), a stale version is refused.
    restore_checked(&one, &leader, &officer).await;
    // Newest first; the edit (or create) before the archive is audited too.
    assert_eq!(
        officer.audit_actions("training", &id).await,
        ["restore", "archive", "create"]
    );

    // Not under an archived village (as the register's records).
    let village = officer.village_in(None, "Thôn Mới", "thon").await;
    let there = Training::on("2026-09-15")
        .village(Some(village))
        .create(&officer)
        .await;
    let there = format!("/api/v1/trainings/{there}");
    let village = format!("/api/v1/villages/{village}");
    for path in [&there, &village] {
        let res = officer.delete(path, None).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
    }
    officer
        .act(&format!("{there}/restore"), None)
        .await
        .problem(StatusCode::CONFLICT, "parent_archived");
    for path in [&village, &there] {
        let res = officer.act(&format!("{path}/restore"), None).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
    }
}

/// Creates and edits of trainings, and edits of logs (REST and sync), are in the audit trail
/// with the record before and after; a resent create writes no second entry.
#[tokio::test]
async fn training_and_log_changes_are_audited() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, _, member) = f.actors(&app);
    let training = officer.create("/api/v1/trainings", member_training()).await;
    let id = training["id"].as_str().expect("id").to_string();
    let mut resent = member_training();
    resent["id"] = json!(id);
    let res = officer.post("/api/v1/trainings", resent).await;
    assert_eq!(res.status, StatusCode::OK, "a resend");
    let mut edited = member_training();
    edited["title"] = json!("Tập huấn VNeID mức 2");
    officer
        .put(&format!("/api/v1/trainings/{id}"), Some("\"1\""), edited)
        .await
        .expect(StatusCode::OK);

    let log_id = Uuid::new_v4();
    member
        .create("/api/v1/assistance-logs", crate::fieldwork::log(log_id))
        .await;
    member
        .patch(
            &format!("/api/v1/assistance-logs/{log_id}"),
            Some("\"1\""),
            json!({"citizens_helped": 3}),
        )
        .await
        .expect(StatusCode::OK);
    let body = member
        .post(
            "/api/v1/sync/push",
            json!({"items": [{"op": "update_log", "id": log_id, "base_version": 2,
                              "data": {"citizens_helped": 4}}]}),
        )
        .await
        .body;
    assert_eq!(body["results"][0]["status"], "updated", "{body}");

    let entries = officer.audit_trail("training", &id).await;
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(actions, ["update", "create"], "newest first: {entries:?}");
    assert_eq!(entries[0]["before"]["title"], member_training()["title"]);
    assert_eq!(entries[0]["after"]["title"], "Tập huấn VNeID mức 2");
    assert_eq!(entries[1]["before"], Value::Null);

    let entries = officer
        .audit_trail("assistance_log", &log_id.to_string())
        .await;
    let helped: Vec<(i64, i64)> = entries
        .iter()
        .map(|e| {
            assert_eq!(e["action"], "update");
            (
                e["before"]["citizens_helped"].as_i64().expect("before"),
                e["after"]["citizens_helped"].as_i64().expect("after"),
            )
        })
        .collect();
    assert_eq!(helped, [(3, 4), (2, 3)], "{entries:?}");
}
