use std::collections::{HashMap, HashSet};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{
    approve_month, push_statuses, restore_checked, Commune, Member, Team, Training,
};
use crate::helpers::{assert_problem, spawn_app, Actor, TestApp};

/// A team in Phường Ba Đình with a village, a leader and a member, each with an app account.
pub struct Field {
    pub team: i64,
    pub village: i64,
    pub leader_member: i64,
    pub member_member: i64,
    pub leader: String,
    pub member: String,
    pub officer: String,
}

pub async fn field(app: &TestApp) -> Field {
    let c = Commune::new(app, "00004", "badinh").await;
    let village = c
        .officer
        .village_in(None, "Tổ dân phố 1", "to_dan_pho")
        .await;
    let team = c.team(Team::named("Tổ CNCĐ 1").village(village)).await;
    let leader = c
        .member(team, Member::leader("Lê Tổ Trưởng").account("leader.one"))
        .await;
    let member = c
        .member(
            team,
            Member::ordinary("Mai Thành Viên").account("member.one"),
        )
        .await;
    Field {
        team,
        village,
        leader_member: leader.id,
        member_member: member.id,
        leader: leader.phone().token,
        member: member.phone().token,
        officer: c.officer.token,
    }
}

impl Field {
    /// The officer, the leader and the member, acting.
    pub fn actors<'a>(&self, app: &'a TestApp) -> (Actor<'a>, Actor<'a>, Actor<'a>) {
        (
            app.acting(&self.officer),
            app.acting(&self.leader),
            app.acting(&self.member),
        )
    }
}

pub fn log(id: Uuid) -> Value {
    json!({
        "id": id, "occurred_at": "2025-10-31T23:30:00+07:00", "category_code": "vneid_level2",
        "channel": "home_visit", "citizens_helped": 2, "citizen_sex": "female", "citizen_age_band": "60_plus",
        "outcome": "done", "note": "Hướng dẫn 2 cụ kích hoạt mức 2"
    })
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

#[tokio::test]
async fn a_member_records_a_log_once_however_often_it_is_sent() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, leader, member) = f.actors(&app);
    let logs = "/api/v1/assistance-logs";
    let id = Uuid::new_v4();

    let created = member.create(logs, log(id)).await;
    assert_eq!(created["member_id"], f.member_member);
    assert_eq!(created["team_id"], f.team);
    assert_eq!(created["commune_code"], "00004");
    assert_eq!(created["occurred_at"], "2025-10-31T16:30:00Z");

    // A resend (even with other content) answers with the stored log and changes nothing.
    let again = member
        .post(logs, with(log(id), "citizens_helped", json!(5)))
        .await
        .expect(StatusCode::OK);
    assert_eq!(again, created);

    // The leader and the officer read it; another member of the team does not see others' logs.
    let path = format!("{logs}/{id}");
    leader.get(&path).await.expect(StatusCode::OK);
    let list = officer
        .get(&format!("{logs}?unit=00004&category=vneid_level2"))
        .await
        .body;
    assert_eq!(list["total"], 1);
    let leader_log = Uuid::new_v4();
    leader.create(logs, log(leader_log)).await;
    let leaders = format!("{logs}/{leader_log}");
    member
        .get(&leaders)
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(member.get(logs).await.body["total"], 1);

    // Officers read but do not record.
    officer
        .post(logs, log(Uuid::new_v4()))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    // A member records only as itself; the leader records for its team.
    let as_member = |m: i64| with(log(Uuid::new_v4()), "member_id", json!(m));
    member
        .post(logs, as_member(f.leader_member))
        .await
        .problem(StatusCode::FORBIDDEN, "own_logs_only");
    leader.create(logs, as_member(f.member_member)).await;

    // Edits carry the version; the member edits its own log, not the leader's.
    member
        .patch(&path, Some("\"1\""), json!({"citizens_helped": 3}))
        .await
        .expect(StatusCode::OK);
    member
        .patch(&path, Some("\"1\""), json!({"citizens_helped": 4}))
        .await
        .problem(StatusCode::PRECONDITION_FAILED, "version_mismatch");
    member
        .patch(&leaders, None, json!({"citizens_helped": 4}))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn concurrent_duplicate_sends_store_one_log() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let id = Uuid::new_v4();
    let statuses: Vec<StatusCode> =
        concurrently(&app, &f.member, "/api/v1/assistance-logs", &log(id), 16)
            .await
            .into_iter()
            .map(|r| r.status())
            .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        15,
        "{statuses:?}"
    );

    // The same through concurrent sync batches.
    let ids: Vec<Uuid> = (0..50).map(|_| Uuid::new_v4()).collect();
    let batch = json!({"device_id": "phone-1", "items": ids.iter().map(|i| json!({"op": "create_log", "data": log(*i)})).collect::<Vec<_>>()});
    let mut created = 0;
    for res in concurrently(&app, &f.member, "/api/v1/sync/push", &batch, 4).await {
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.expect("json");
        created += body["summary"]["created"].as_u64().expect("n");
        assert_eq!(
            body["summary"]["created"].as_u64().expect("n")
                + body["summary"]["duplicate"].as_u64().expect("n"),
            50
        );
    }
    assert_eq!(created, 50);
    use diesel::prelude::*;
    let mut conn = app.db.conn();
    let stored: i64 = toso::db::schema::assistance_logs::table
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(stored, 51);
}

/// Sends the same request `n` times at once.
async fn concurrently(
    app: &TestApp,
    token: &str,
    path: &str,
    body: &Value,
    n: usize,
) -> Vec<reqwest::Response> {
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (client, url, token, body) = (
                app.client.clone(),
                format!("{}{path}", app.address),
                token.to_string(),
                body.clone(),
            );
            tokio::spawn(async move {
                client
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .expect("sent")
            })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

#[tokio::test]
async fn bad_logs_are_refused_with_the_reason() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, _, member) = f.actors(&app);
    let admin = app.actor("root", "admin", None, None).await;
    let other_village = admin.village_in(Some("00008"), "Thôn khác", "thon").await;
    admin
        .act("/api/v1/categories/digital_health/retire", None)
        .await
        .expect(StatusCode::OK);
    let future = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();

    // A log with one field set to a bad value: [field, value, code of the field error].
    for case in [
        json!(["note", "Gọi lại số 0912 345 678", "personal_data"]),
        json!(["note", "CCCD 001234567890", "personal_data"]),
        json!(["note", "CMND 123456789", "personal_data"]),
        json!(["occurred_at", future, "in_future"]),
        json!(["village_id", other_village, "wrong_village"]),
        json!(["category_code", "astrology", "unknown_category"]),
        json!(["category_code", "digital_health", "retired_category"]),
        json!(["citizens_helped", 0, "range"]),
        json!(["citizens_helped", -3, "range"]),
        json!(["id", "not-a-uuid", "invalid_value"]),
        json!(["occurred_at", "2025-10-31 23:30", "invalid_value"]),
    ] {
        let (field_name, code) = (case[0].as_str().expect("field"), &case[2]);
        let body = with(log(Uuid::new_v4()), field_name, case[1].clone());
        let problem = member
            .post("/api/v1/assistance-logs", body.clone())
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let errors = problem["errors"].as_array().expect("errors");
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field_name && &e["code"] == code),
            "{body}: {problem}"
        );
    }
    let list = officer.get("/api/v1/assistance-logs").await.body;
    assert_eq!(list["total"], 0, "nothing was stored");
    // The village of the member's own commune is fine.
    member
        .create(
            "/api/v1/assistance-logs",
            with(log(Uuid::new_v4()), "village_id", json!(f.village)),
        )
        .await;
}

#[tokio::test]
async fn a_mixed_batch_gets_a_result_per_item() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, _, member) = f.actors(&app);
    let existing = Uuid::new_v4();
    member
        .create("/api/v1/assistance-logs", log(existing))
        .await;
    // The server copy moves on (version 2) while the phone still holds version 1.
    member
        .patch(
            &format!("/api/v1/assistance-logs/{existing}"),
            None,
            json!({"outcome": "referred"}),
        )
        .await
        .expect(StatusCode::OK);

    let good = Uuid::new_v4();
    let items = json!([
        {"op": "create_log", "data": log(good)},
        {"op": "create_log", "data": log(existing)},
        {"op": "create_log", "data": with(log(Uuid::new_v4()), "id", json!("12345"))},
        {"op": "create_log", "data": with(log(Uuid::new_v4()), "category_code", json!("astrology"))},
        {"op": "create_log", "data": with(log(Uuid::new_v4()), "note", json!("sđt 0987654321"))},
        {"op": "update_log", "id": existing, "base_version": 1, "data": {"citizens_helped": 9}},
        {"op": "update_log", "id": existing, "base_version": 2, "data": {"citizens_helped": 7}},
        {"op": "teleport", "data": {}},
        {"op": "create_log", "data": log(good)},
    ]);
    let body = member
        .post(
            "/api/v1/sync/push",
            json!({"device_id": "phone-7", "items": items}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        push_statuses(&body),
        [
            "created",
            "duplicate",
            "rejected",
            "rejected",
            "rejected",
            "conflict",
            "updated",
            "rejected",
            "duplicate"
        ]
    );
    each_refusal_and_conflict_says_why(&body);

    let stored = member
        .get(&format!("/api/v1/assistance-logs/{good}"))
        .await
        .body;
    assert_eq!(stored["device_id"], "phone-7");

    a_push_holds_at_most_500_items_and_comes_from_the_field(&officer, &member).await;
}

/// The results of the mixed batch: why items 2–4 were rejected, the server copy of the
/// conflict, the update applied; the summary's counts.
fn each_refusal_and_conflict_says_why(body: &Value) {
    let results = body["results"].as_array().expect("results");
    assert_eq!(results[2]["problem"]["errors"][0]["field"], "data.id");
    assert_eq!(
        results[3]["problem"]["errors"][0]["code"],
        "unknown_category"
    );
    assert_eq!(results[4]["problem"]["errors"][0]["code"], "personal_data");
    assert_eq!(
        results[5]["current"]["version"], 2,
        "a conflict returns the server copy"
    );
    assert_eq!(results[5]["current"]["outcome"], "referred");
    assert_eq!(results[6]["current"]["citizens_helped"], 7);
    assert_eq!(body["summary"]["created"], 1);
    assert_eq!(body["summary"]["rejected"], 4);
}

/// 501 items are refused as a whole; an officer does not push.
async fn a_push_holds_at_most_500_items_and_comes_from_the_field(
    officer: &Actor<'_>,
    member: &Actor<'_>,
) {
    let too_many: Vec<Value> = (0..501)
        .map(|_| json!({"op": "create_log", "data": log(Uuid::new_v4())}))
        .collect();
    let problem = member
        .post("/api/v1/sync/push", json!({ "items": too_many }))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "items");
    officer
        .post("/api/v1/sync/push", json!({"items": []}))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
}

pub async fn pull_all(
    app: &TestApp,
    token: &str,
    mut cursor: Option<String>,
    limit: usize,
) -> (Vec<Value>, String) {
    let mut pages = Vec::new();
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/sync/pull?limit={limit}&cursor={c}"),
            None => format!("/api/v1/sync/pull?limit={limit}"),
        };
        let res = app.get(&path, token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let page: Value = res.json().await.expect("json");
        cursor = Some(page["cursor"].as_str().expect("cursor").to_string());
        let more = page["has_more"].as_bool().expect("has_more");
        pages.push(page);
        if !more {
            return (pages, cursor.unwrap_or_default());
        }
    }
}

fn ids(pages: &[Value], key: &str) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| p[key].as_array().cloned().unwrap_or_default())
        .map(|v| v["id"].to_string())
        .collect()
}

#[tokio::test]
async fn pull_pages_cover_every_change_exactly_once_while_writes_go_on() {
    let app = spawn_app().await;
    let f = field(&app).await;

    // A first sync: pull until the register has arrived (changes reach the feed once every
    // older transaction in the cluster has finished; other tests run alongside).
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while ids(&pages, "members").len() < 2 && std::time::Instant::now() < deadline {
        let (more, c) = pull_all(&app, &f.member, cursor.clone(), 5).await;
        pages.extend(more);
        cursor = Some(c);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let cursor = cursor.unwrap_or_default();
    assert_eq!(ids(&pages, "categories").len(), 13);
    assert_eq!(ids(&pages, "villages").len(), 1);
    assert_eq!(ids(&pages, "teams").len(), 1);
    assert_eq!(ids(&pages, "members").len(), 2);

    // Writers push logs while the reader pages with a small limit.
    let writer = pushes_200_logs(app.address.clone(), f.member.clone());
    let mut seen: Vec<String> = Vec::new();
    let mut cursor = Some(cursor);
    while !writer.is_finished() {
        let (pages, c) = pull_all(&app, &f.member, cursor.clone(), 7).await;
        seen.extend(ids(&pages, "assistance_logs"));
        cursor = Some(c);
    }
    let sent = writer.await.expect("writer");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while seen.len() < sent.len() && std::time::Instant::now() < deadline {
        let (pages, c) = pull_all(&app, &f.member, cursor, 7).await;
        seen.extend(ids(&pages, "assistance_logs"));
        cursor = Some(c);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no change is sent twice");
    let expected: HashSet<String> = sent.iter().map(|i| format!("\"{i}\"")).collect();
    assert_eq!(
        unique.into_iter().cloned().collect::<HashSet<String>>(),
        expected,
        "every change is sent"
    );

    // An archive shows up as an archived id; a malformed cursor is a 400.
    let member = app.acting(&f.member);
    member
        .delete(&format!("/api/v1/assistance-logs/{}", sent[0]), None)
        .await
        .expect(StatusCode::OK);
    member
        .get("/api/v1/sync/pull?cursor=garbage")
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_cursor");
}

/// The member (`token`) pushes 20 batches of 10 new logs to the server at `address`, each
/// answered 200; the task returns the ids sent.
fn pushes_200_logs(address: String, token: String) -> tokio::task::JoinHandle<Vec<Uuid>> {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        let mut sent = Vec::new();
        for _ in 0..20 {
            let batch: Vec<Uuid> = (0..10).map(|_| Uuid::new_v4()).collect();
            let items: Vec<Value> = batch
                .iter()
                .map(|i| json!({"op": "create_log", "data": log(*i)}))
                .collect();
            let res = client
                .post(format!("{address}/api/v1/sync/push"))
                .bearer_auth(&token)
                .json(&json!({"items": items}))
                .send()
                .await
                .expect("push");
            assert_eq!(res.status(), StatusCode::OK);
            sent.extend(batch);
        }
        sent
    })
}

#[tokio::test]
async fn archived_records_reach_the_phone_as_ids() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let id = Uuid::new_v4();
    assert_eq!(
        app.post_json("/api/v1/assistance-logs", Some(&f.member), &log(id))
            .await
            .status(),
        StatusCode::CREATED
    );
    let (_, cursor) = pull_all(&app, &f.member, None, 100).await;
    let res = app
        .request(Method::DELETE, &format!("/api/v1/assistance-logs/{id}"))
        .bearer_auth(&f.member)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    // Changes reach the feed once every older transaction of the server has finished, so a
    // phone pulls again until they show up.
    let mut cursor = Some(cursor);
    let mut archived: Vec<Value> = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while archived.is_empty() && std::time::Instant::now() < deadline {
        let (pages, c) = pull_all(&app, &f.member, cursor, 100).await;
        cursor = Some(c);
        archived.extend(pages.iter().flat_map(|p| {
            p["archived"]["assistance_logs"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        }));
        assert!(ids(&pages, "assistance_logs").is_empty());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(archived, vec![json!(id)]);
}

/// An admin adds the category `land_records`.
async fn add_land_records(app: &TestApp, admin: &str) {
    let res = app
        .post_json(
            "/api/v1/categories",
            Some(admin),
            &json!({"code": "land_records", "name": "Đất đai trực tuyến", "sort_order": 45}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// An admin retires the category `land_records`.
async fn retire_land_records(app: &TestApp, admin: &str) {
    let res = app
        .request(Method::POST, "/api/v1/categories/land_records/retire")
        .bearer_auth(admin)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn admins_manage_categories() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (_, admin) = app.user_with_token("root", "admin", None, None).await;
    add_land_records(&app, &admin).await;
    let res = app
        .post_json(
            "/api/v1/categories",
            Some(&admin),
            &json!({"code": "land_records", "name": "Again"}),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = app
        .post_json(
            "/api/v1/categories",
            Some(&f.officer),
            &json!({"code": "x_y", "name": "X"}),
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;

    let old = Uuid::new_v4();
    let body = with(log(old), "category_code", json!("land_records"));
    assert_eq!(
        app.post_json("/api/v1/assistance-logs", Some(&f.member), &body)
            .await
            .status(),
        StatusCode::CREATED
    );
    retire_land_records(&app, &admin).await;
    // Listed only on request; old logs keep it, resends stay duplicates, new logs are refused.
    let list: Value = app
        .get("/api/v1/categories", &f.member)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list.as_array().expect("list").len(), 13);
    let list: Value = app
        .get("/api/v1/categories?include_retired=true", &f.member)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list.as_array().expect("list").len(), 14);
    assert_eq!(
        app.post_json("/api/v1/assistance-logs", Some(&f.member), &body)
            .await
            .status(),
        StatusCode::OK
    );
    let res = app
        .post_json(
            "/api/v1/assistance-logs",
            Some(&f.member),
            &with(log(Uuid::new_v4()), "category_code", json!("land_records")),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = app
        .patch_json(
            &format!("/api/v1/assistance-logs/{old}"),
            &f.member,
            None,
            &json!({"citizens_helped": 4}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "editing an old log keeps its retired category"
    );
}

/// The log `log(id)`, at `time`.
pub fn log_at(id: Uuid, time: &str) -> Value {
    with(log(id), "occurred_at", json!(time))
}

/// A new log (its own fresh id) at `time`.
pub fn log_on(time: &str) -> Value {
    log_at(Uuid::new_v4(), time)
}

async fn push(app: &TestApp, token: &str, items: Value) -> Value {
    let res = app
        .post_json("/api/v1/sync/push", Some(token), &json!({ "items": items }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("json")
}

async fn stored(app: &TestApp, token: &str, id: &Value) -> Value {
    let res = app
        .get(
            &format!("/api/v1/assistance-logs/{}", id.as_str().expect("id")),
            token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("json")
}

async fn logs_of(app: &TestApp, token: &str, unit: &str, month: &str) -> i64 {
    let report: Value = app
        .get(
            &format!("/api/v1/reports/monthly?unit={unit}&month={month}&live=true"),
            token,
        )
        .await
        .json()
        .await
        .expect("json");
    report["totals"]["logs"].as_i64().expect("logs")
}

#[tokio::test]
async fn a_log_goes_to_the_membership_held_when_it_happened() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (_, _, member) = f.actors(&app);
    let province = app.hanoi_officer().await;
    // The member moves to a team of another commune on 2026-11-20.
    let team2 = app.create_team("00008", "Tổ CNCĐ Phúc Xá");
    let moved = province
        .move_member(f.member_member, team2, "2026-11-20")
        .await
        .expect(StatusCode::CREATED);
    let new_member = moved["id"].as_i64().expect("id");

    // Then the phone sends what it recorded offline, before, on and after the move day.
    let (before, move_day, after) = (
        log_on("2026-11-10T09:00:00+07:00"),
        log_on("2026-11-20T09:00:00+07:00"),
        log_on("2026-11-21T09:00:00+07:00"),
    );
    let items = json!([
        {"op": "create_log", "data": before},
        {"op": "create_log", "data": move_day},
        {"op": "create_log", "data": after},
    ]);
    let body = push(&app, &f.member, items.clone()).await;
    assert_eq!(
        body["summary"],
        json!({"created": 3, "duplicate": 0, "updated": 0, "rejected": 0, "conflict": 0}),
        "{body}"
    );
    let old = stored(&app, &province.token, &before["id"]).await;
    assert_eq!(old["member_id"], f.member_member);
    assert_eq!(old["team_id"], f.team);
    assert_eq!(old["commune_code"], "00004");
    for l in [&move_day, &after] {
        let new = stored(&app, &province.token, &l["id"]).await;
        assert_eq!(new["member_id"], new_member);
        assert_eq!(new["team_id"], team2);
        assert_eq!(new["commune_code"], "00008");
    }
    // A resend is a duplicate, though the log now lies outside the phone's team.
    let body = push(&app, &f.member, items).await;
    assert_eq!(body["summary"]["duplicate"], 3, "{body}");
    assert_eq!(body["results"][0]["current"]["team_id"], f.team);

    // REST alike, whichever of the person's membership ids the phone names.
    let early = with(
        log_on("2026-11-12T09:00:00+07:00"),
        "member_id",
        json!(new_member),
    );
    let body = member.create("/api/v1/assistance-logs", early).await;
    assert_eq!(body["member_id"], f.member_member);
    assert_eq!(body["commune_code"], "00004");
    // An edit that moves the date across the move moves the log with it.
    let path = format!(
        "/api/v1/assistance-logs/{}",
        body["id"].as_str().expect("id")
    );
    let body = member
        .patch(
            &path,
            None,
            json!({"occurred_at": "2026-11-22T09:00:00+07:00"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(body["member_id"], new_member);
    assert_eq!(body["team_id"], team2);
    assert_eq!(body["commune_code"], "00008");

    // Each commune's report counts what its team did.
    assert_eq!(logs_of(&app, &province.token, "00004", "2026-11").await, 1);
    assert_eq!(logs_of(&app, &province.token, "00008", "2026-11").await, 3);
}

#[tokio::test]
async fn logs_outside_the_membership_are_refused() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, leader, member) = f.actors(&app);
    let logs = "/api/v1/assistance-logs";
    // The member joined on 2025-08-01.
    let early = log_on("2025-07-20T09:00:00+07:00");
    let body = member
        .post(logs, early.clone())
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "occurred_at");
    assert_eq!(body["errors"][0]["code"], "before_joined");
    let body = push(
        &app,
        &f.member,
        json!([{"op": "create_log", "data": early}]),
    )
    .await;
    assert_eq!(body["results"][0]["status"], "rejected");
    assert_eq!(body["results"][0]["problem"]["status"], 422);
    assert_eq!(
        body["results"][0]["problem"]["errors"][0]["code"],
        "before_joined"
    );

    // It leaves on 2026-10-15: its leader may still record what it did before.
    officer
        .patch(
            &format!("/api/v1/members/{}", f.member_member),
            None,
            json!({"left_on": "2026-10-15"}),
        )
        .await
        .expect(StatusCode::OK);
    let by_leader = |l: Value| with(l, "member_id", json!(f.member_member));
    let late = by_leader(log_on("2026-10-20T09:00:00+07:00"));
    let body = leader
        .post(logs, late.clone())
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "occurred_at");
    assert_eq!(body["errors"][0]["code"], "after_left");
    let body = push(&app, &f.leader, json!([{"op": "create_log", "data": late}])).await;
    assert_eq!(
        body["results"][0]["problem"]["errors"][0]["code"],
        "after_left"
    );
    let kept = by_leader(log_on("2026-10-10T09:00:00+07:00"));
    leader.create(logs, kept.clone()).await;
    // Nor can an edit take a log outside the membership.
    let path = |l: &Value| format!("{logs}/{}", l["id"].as_str().expect("id"));
    let body = leader
        .patch(
            &path(&kept),
            None,
            json!({"occurred_at": "2026-10-16T09:00:00+07:00"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["errors"][0]["code"], "after_left");
    let stored = stored(&app, &f.officer, &kept["id"]).await;
    assert_eq!(stored["version"], 1);
    for l in [&early, &late] {
        let res = officer.get(&path(l)).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "nothing stored");
    }
}

#[tokio::test]
async fn archived_logs_are_not_edited_and_can_be_restored() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, leader, member) = f.actors(&app);
    let l = log_on("2026-09-30T09:00:00+07:00");
    let id = l["id"].as_str().expect("id").to_string();
    let path = format!("/api/v1/assistance-logs/{id}");
    member.create("/api/v1/assistance-logs", l).await;
    member.delete(&path, None).await.expect(StatusCode::OK);

    // Edits of the archived log: 409 with its state, REST and sync alike.
    member
        .patch(&path, None, json!({"citizens_helped": 7}))
        .await
        .problem(StatusCode::CONFLICT, "log_archived");
    let body = push(
        &app,
        &f.member,
        json!([{"op": "update_log", "id": id, "base_version": 2, "data": {"citizens_helped": 7}}]),
    )
    .await;
    assert_eq!(body["results"][0]["status"], "rejected");
    assert_eq!(body["results"][0]["problem"]["status"], 409);
    assert_eq!(body["results"][0]["problem"]["code"], "log_archived");
    assert!(body["results"][0]["current"]["archived_at"].is_string());
    let kept = stored(&app, &f.officer, &json!(id)).await;
    assert_eq!(kept["version"], 2);
    assert_eq!(kept["citizens_helped"], 2);

    // Restore: scope, version, audit.
    restore_checked(&path, &officer, &member).await;
    member
        .patch(&path, None, json!({"citizens_helped": 7}))
        .await
        .expect(StatusCode::OK);
    // Newest first; the edit after the restore is audited too.
    assert_eq!(
        officer.audit_actions("assistance_log", &id).await,
        ["update", "restore", "archive"]
    );

    // Neither archive nor restore in an approved month.
    leader.delete(&path, None).await.expect(StatusCode::OK);
    let province = app.hanoi_officer().await;
    approve_month(&officer, &province, "00004", "2026-09").await;
    leader
        .act(&format!("{path}/restore"), None)
        .await
        .problem(StatusCode::CONFLICT, "month_locked");

    // Not under an archived membership (as the register's records).
    let other = with(
        log_on("2026-08-10T09:00:00+07:00"),
        "member_id",
        json!(f.member_member),
    );
    let other_path = format!(
        "/api/v1/assistance-logs/{}",
        other["id"].as_str().expect("id")
    );
    leader.create("/api/v1/assistance-logs", other).await;
    leader
        .delete(&other_path, None)
        .await
        .expect(StatusCode::OK);
    officer
        .delete(&format!("/api/v1/members/{}", f.member_member), None)
        .await
        .expect(StatusCode::OK);
    leader
        .act(&format!("{other_path}/restore"), None)
        .await
        .problem(StatusCode::CONFLICT, "parent_archived");
}

/// Figures of a report that approval freezes (the rest says when and by whom).
/// A report's figures: its totals and each row's key, kind, name and figures (not whether
/// the row is served frozen, which is what differs between the two copies compared).
fn figures(report: &Value) -> Value {
    let rows: Vec<Value> = report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| json!({"key": r["key"], "kind": r["kind"], "name": r["name"], "figures": r["figures"]}))
        .collect();
    json!({"totals": report["totals"], "rows": rows})
}

#[tokio::test]
async fn approval_and_concurrent_pushes_serialise_on_the_month() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, _, _) = f.actors(&app);
    let province = app.hanoi_officer().await;
    let base = "/api/v1/reports/monthly/00004/2026-10";
    let approve = format!("{base}/approve");
    // Attendance at a training of that month races the approval too.
    let training = Training::on("2026-10-05").create(&officer).await;
    let (mut landed, mut refused) = (0, 0);
    for round in 0..20 {
        let res = officer.act(&format!("{base}/submit"), None).await;
        assert_eq!(res.status, StatusCode::OK, "submit, round {round}");
        let items: Vec<Value> = (0..500)
            .map(|i| {
                let at = format!("2026-10-{:02}T{:02}:00:00+07:00", 1 + i % 28, 8 + i % 10);
                json!({"op": "create_log", "data": log_on(&at)})
            })
            .collect();
        let status = ["attended", "completed"][round % 2];
        let (pushed, approved, attended) = tokio::join!(
            push(&app, &f.member, Value::Array(items)),
            province.act(&approve, None),
            officer.attend(
                &training,
                json!([{"member_id": f.leader_member, "status": status}])
            )
        );
        assert_eq!(approved.status, StatusCode::OK, "approve, round {round}");
        if attended.status != StatusCode::OK {
            attended.problem(StatusCode::CONFLICT, "month_locked");
        }
        let summary = &pushed["summary"];
        if summary["created"] == 500 {
            landed += 1;
        } else {
            assert_eq!(summary["rejected"], 500, "all or nothing: {summary}");
            let codes: HashSet<&str> = pushed["results"]
                .as_array()
                .expect("results")
                .iter()
                .map(|r| r["problem"]["code"].as_str().expect("code"))
                .collect();
            assert_eq!(codes, HashSet::from(["month_locked"]));
            refused += 1;
        }
        // The frozen snapshot equals a recount of the live figures.
        let monthly = "/api/v1/reports/monthly?unit=00004&month=2026-10";
        let frozen = officer.get(monthly).await.body;
        assert_eq!(frozen["frozen"], true);
        let live = officer.get(&format!("{monthly}&live=true")).await.body;
        assert_eq!(figures(&frozen), figures(&live), "round {round}");
        let listed = officer
            .get("/api/v1/assistance-logs?unit=00004&from=2026-10-01T00:00:00%2B07:00&to=2026-11-01T00:00:00%2B07:00&page_size=1")
            .await
            .body;
        assert_eq!(frozen["totals"]["logs"], listed["total"], "round {round}");
        assert_eq!(listed["total"], landed * 500, "round {round}");
        let res = province
            .post(
                &format!("{base}/reopen"),
                json!({"reason": "Bổ sung số liệu"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "reopen, round {round}");
    }
    println!("pushes stored before approval: {landed}, refused after it: {refused}");
}

#[tokio::test]
async fn the_document_lists_every_push_operation_the_server_takes() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let doc = app
        .acting(&f.member)
        .get("/api/v1/openapi.json")
        .await
        .expect(StatusCode::OK);
    let documented = documented_push_operations(&doc);
    let ops: HashSet<&str> = documented.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(
        ops,
        HashSet::from(["create_log", "update_log", "upsert_attendance"])
    );

    // Each documented operation, sent with only its documented required fields, is taken
    // (its result is about the record, never about the operation or a missing field).
    let training = Training::on("2025-10-10")
        .create(&app.acting(&f.officer))
        .await;
    let logged = log(Uuid::new_v4());
    let body = push(
        &app,
        &f.leader,
        json!([{"op": "create_log", "data": logged}]),
    )
    .await;
    assert_eq!(body["results"][0]["status"], "created");
    for (op, required) in &documented {
        let mut item = json!({ "op": op });
        for field in required {
            if *field != "op" {
                item[*field] = required_value(op, field, &logged, &training, f.member_member);
            }
        }
        let body = push(&app, &f.leader, json!([item])).await;
        let status = body["results"][0]["status"].as_str().expect("status");
        assert!(
            matches!(status, "created" | "updated"),
            "{op} is documented but not taken: {body}"
        );
    }
    // An operation the document does not list is refused by name.
    let body = push(
        &app,
        &f.leader,
        json!([{"op": "delete_log", "id": logged["id"]}]),
    )
    .await;
    assert_eq!(body["results"][0]["problem"]["errors"][0]["field"], "op");
}

/// The push operations of the document `doc`: each variant of `PushItemRequest` with its
/// required fields.
fn documented_push_operations(doc: &Value) -> Vec<(String, Vec<&str>)> {
    let variants = doc["components"]["schemas"]["PushItemRequest"]["oneOf"]
        .as_array()
        .expect("PushItemRequest is a oneOf");
    let mut documented = Vec::new();
    for v in variants {
        let op = v["properties"]["op"]["enum"][0]
            .as_str()
            .expect("each variant names its op")
            .to_string();
        let required: Vec<&str> = v["required"]
            .as_array()
            .expect("required")
            .iter()
            .map(|r| r.as_str().expect("name"))
            .collect();
        documented.push((op, required));
    }
    documented
}

/// A good value of the required `field` of `op`: a new log, the `logged` log at version 1,
/// the member's attendance of `training`.
fn required_value(op: &str, field: &str, logged: &Value, training: &str, member: i64) -> Value {
    match (op, field) {
        ("create_log", "data") => log(Uuid::new_v4()),
        ("update_log", "id") => logged["id"].clone(),
        ("update_log", "base_version") => json!(1),
        ("update_log", "data") => json!({"citizens_helped": 3}),
        ("upsert_attendance", "training_id") => json!(training),
        ("upsert_attendance", "data") => json!({"member_id": member, "status": "attended"}),
        other => panic!("a required field the test does not know: {other:?}"),
    }
}

/// A log sent while an officer's change of the membership's dates is being committed is
/// checked against the dates that change commits, not the ones read before it: it waits
/// for the change, then is refused with 409 `membership_changed`, and nothing is stored.
#[tokio::test]
async fn work_sent_during_a_membership_change_is_checked_against_the_new_dates() {
    use diesel::prelude::*;
    let app = spawn_app().await;
    let f = field(&app).await;
    // The change is under way: its row lock is held, its new joining day not yet committed.
    let mut officer_tx = app.db.conn();
    diesel::sql_query("BEGIN")
        .execute(&mut officer_tx)
        .expect("begin");
    diesel::sql_query(format!(
        "UPDATE members SET joined_on = '2025-11-05' WHERE id = {}",
        f.member_member
    ))
    .execute(&mut officer_tx)
    .expect("update");

    let item = log_on("2025-11-02T09:00:00+07:00");
    let (client, url, token) = (
        app.client.clone(),
        format!("{}/api/v1/sync/push", app.address),
        f.member.clone(),
    );
    let body = json!({"items": [{"op": "create_log", "data": item.clone()}]});
    let sent = tokio::spawn(async move {
        client
            .post(url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("sent")
    });
    crate::helpers::wait_for_lock_waiters(&app.db, 1).await;
    diesel::sql_query("COMMIT")
        .execute(&mut officer_tx)
        .expect("commit");

    let res = sent.await.expect("joined");
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["results"][0]["status"], "rejected", "{body}");
    assert_eq!(body["results"][0]["problem"]["status"], 409, "{body}");
    assert_eq!(body["results"][0]["problem"]["code"], "membership_changed");
    let res = app
        .get(
            &format!(
                "/api/v1/assistance-logs/{}",
                item["id"].as_str().expect("id")
            ),
            &f.member,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Sent again, it gets the ordinary answer for a day before joining.
    let body = push(&app, &f.member, json!([{"op": "create_log", "data": item}])).await;
    assert_eq!(body["results"][0]["problem"]["status"], 422, "{body}");
    assert_eq!(
        body["results"][0]["problem"]["errors"][0]["code"], "before_joined",
        "{body}"
    );
}

/// A push checks its new logs first and lets the insert's id claim tell resends apart; a
/// resend that would no longer pass the checks (its category retired since) is still a
/// duplicate answered with the stored log, a new log with the same fault is refused, and an
/// id taken by a log the caller cannot see is a conflict.
#[tokio::test]
async fn push_resends_are_duplicates_even_when_they_would_now_be_refused() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (_, admin) = app.user_with_token("root", "admin", None, None).await;
    add_land_records(&app, &admin).await;
    let (sent, leaders) = (Uuid::new_v4(), Uuid::new_v4());
    let first = with(log(sent), "category_code", json!("land_records"));
    let body = push(
        &app,
        &f.member,
        json!([{"op": "create_log", "data": first}]),
    )
    .await;
    assert_eq!(body["summary"]["created"], 1, "{body}");
    let res = app
        .post_json("/api/v1/assistance-logs", Some(&f.leader), &log(leaders))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    retire_land_records(&app, &admin).await;

    let fresh = Uuid::new_v4();
    let items = json!([
        {"op": "create_log", "data": with(first.clone(), "citizens_helped", json!(9))},
        {"op": "create_log", "data": with(log(fresh), "category_code", json!("land_records"))},
        {"op": "create_log", "data": with(log(leaders), "category_code", json!("land_records"))},
        {"op": "create_log", "data": log(fresh)},
    ]);
    let body = push(&app, &f.member, items).await;
    let results = body["results"].as_array().expect("results");
    let statuses: Vec<&str> = results
        .iter()
        .map(|r| r["status"].as_str().expect("status"))
        .collect();
    assert_eq!(
        statuses,
        ["duplicate", "rejected", "rejected", "rejected"],
        "{body}"
    );
    assert_eq!(
        results[0]["current"]["citizens_helped"], 2,
        "stored as first sent"
    );
    assert_eq!(results[0]["current"]["category_code"], "land_records");
    assert_eq!(
        results[1]["problem"]["errors"][0]["code"],
        "retired_category"
    );
    assert_eq!(results[2]["problem"]["code"], "id_conflict", "{body}");
    // The fourth reuses the id of the refused second: a second item of one id is answered
    // as that id was, and nothing was stored under it.
    assert_eq!(results[3]["problem"]["code"], "id_conflict", "{body}");
    assert_problem(
        app.get(&format!("/api/v1/assistance-logs/{fresh}"), &f.member)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

/// The sync pull's lists of records.
const FEEDS: [&str; 8] = [
    "categories",
    "indicators",
    "villages",
    "teams",
    "members",
    "assistance_logs",
    "trainings",
    "attendance",
];

/// Pulls as `token` until every wanted record (`(list, id)`) has come; the records pulled, by
/// list and id. Changes reach the feed once every older transaction has finished.
async fn pulled_until_in(
    app: &TestApp,
    token: &str,
    mut wanted: Vec<(&str, String)>,
) -> HashMap<(String, String), Value> {
    let (mut pulled, mut cursor) = (HashMap::new(), None);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !wanted.is_empty() && std::time::Instant::now() < deadline {
        let (pages, c) = pull_all(app, token, cursor.take(), 100).await;
        for page in pages {
            for key in FEEDS {
                for r in page[key].as_array().cloned().unwrap_or_default() {
                    let id = r.get("id").unwrap_or(&r["code"]);
                    let id = id.to_string().trim_matches('"').to_string();
                    pulled.insert((key.to_string(), id), r);
                }
            }
        }
        wanted.retain(|(key, id)| !pulled.contains_key(&(key.to_string(), id.clone())));
        cursor = Some(c);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(wanted.is_empty(), "not pulled: {wanted:?}");
    pulled
}

/// The properties the document gives the schema `name`.
fn documented(doc: &Value, name: &str) -> HashSet<String> {
    doc["components"]["schemas"][name]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no schema {name}"))
        .keys()
        .cloned()
        .collect()
}

/// The keys of a served, audited or pulled record.
fn keys(record: &Value) -> HashSet<String> {
    record
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {record}"))
        .keys()
        .cloned()
        .collect()
}

/// Every record is shown in one shape, its view: the API's answer, the audit trail's
/// snapshots and the phone's sync pull carry exactly the fields the document gives it, and
/// never a column the database keeps for itself (`search_name`); so do the categories and the
/// audit entries themselves.
#[tokio::test]
async fn the_api_the_audit_trail_and_the_phones_see_one_shape() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, leader, member) = f.actors(&app);
    let log_id = Uuid::new_v4();
    member.create("/api/v1/assistance-logs", log(log_id)).await;
    let log_path = format!("/api/v1/assistance-logs/{log_id}");
    member
        .patch(&log_path, Some("\"1\""), json!({"citizens_helped": 3}))
        .await
        .expect(StatusCode::OK);
    let training = Training::on("2025-10-20")
        .attended(
            &leader,
            json!([{"member_id": f.member_member, "status": "attended"}]),
        )
        .await;
    let doc = app.openapi().await;

    // (schema, audit entity, id, the pull's list, which is also the path's resource).
    let records = [
        ("Village", "village", f.village.to_string(), "villages"),
        ("Team", "team", f.team.to_string(), "teams"),
        ("Member", "member", f.member_member.to_string(), "members"),
        (
            "AssistanceLog",
            "assistance_log",
            log_id.to_string(),
            "assistance_logs",
        ),
        ("Training", "training", training.clone(), "trainings"),
    ];
    let attendance = officer
        .get(&format!("/api/v1/trainings/{training}/attendance"))
        .await
        .expect(StatusCode::OK);
    let attendance = attendance[0].clone();
    let attendance_id = attendance["id"].as_str().expect("id").to_string();
    let wanted = records.iter().map(|r| (r.3, r.2.clone())).chain([
        ("attendance", attendance_id.clone()),
        ("categories", "vneid_level2".to_string()),
        ("indicators", "vneid_level2".to_string()),
    ]);
    let pulled = pulled_until_in(&app, &f.member, wanted.collect()).await;
    let pulled = |key: &str, id: &str| pulled[&(key.to_string(), id.to_string())].clone();
    for (schema, entity, id, feed) in records {
        let shape =
            served_listed_and_audited_as_documented(&officer, &doc, schema, entity, &id, feed)
                .await;
        assert_eq!(keys(&pulled(feed, &id)), shape, "pulled {feed}");
    }

    let shape = documented(&doc, "Attendance");
    assert_eq!(keys(&attendance), shape);
    assert_eq!(keys(&pulled("attendance", &attendance_id)), shape);
    let shape = documented(&doc, "Category");
    let categories = officer.get("/api/v1/categories").await;
    assert_eq!(keys(&categories.expect(StatusCode::OK)[0]), shape);
    assert_eq!(keys(&pulled("categories", "vneid_level2")), shape);
    let shape = documented(&doc, "Indicator");
    let catalogue = officer.get("/api/v1/indicators").await;
    assert_eq!(keys(&catalogue.expect(StatusCode::OK)[0]), shape);
    assert_eq!(keys(&pulled("indicators", "vneid_level2")), shape);
}

/// The record `id` of `schema`, served and listed at the resource of the feed `feed` and
/// audited as `entity` (before and after), has the documented keys, and no search column;
/// returns them.
async fn served_listed_and_audited_as_documented(
    officer: &Actor<'_>,
    doc: &Value,
    schema: &str,
    entity: &str,
    id: &str,
    feed: &str,
) -> HashSet<String> {
    let resource = format!("/api/v1/{}", feed.replace('_', "-"));
    let shape = documented(doc, schema);
    assert!(!shape.contains("search_name"), "{schema}");
    let served = officer.get(&format!("{resource}/{id}")).await;
    assert_eq!(
        keys(&served.expect(StatusCode::OK)),
        shape,
        "{resource}/{id}"
    );
    let listed = officer.get(&resource).await.expect(StatusCode::OK);
    assert_eq!(keys(&listed["items"][0]), shape, "{resource}");
    let trail = officer.audit_trail(entity, id).await;
    assert!(!trail.is_empty(), "no audit of {entity} {id}");
    for entry in trail {
        assert_eq!(keys(&entry), documented(doc, "AuditEntry"));
        for snapshot in ["before", "after"] {
            if !entry[snapshot].is_null() {
                assert_eq!(keys(&entry[snapshot]), shape, "{entity} {snapshot}");
            }
        }
    }
    shape
}
