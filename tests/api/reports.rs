use std::collections::HashSet;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fieldwork::{field, log_on, Field};
use crate::fixtures::{approve_month, push_statuses, Training};
use crate::helpers::{assert_problem, count, spawn_app, Actor, TestApp};

const LOGS: &str = "/api/v1/assistance-logs";

/// The monthly report of `unit` for `month`, as `by` reads it (200).
async fn report(by: &Actor<'_>, unit: &str, month: &str) -> Value {
    by.get(&format!(
        "/api/v1/reports/monthly?unit={unit}&month={month}"
    ))
    .await
    .expect(StatusCode::OK)
}

/// The fixture registers its village and team today; these tests report on 2025, so they
/// date the registration back to before those months (reports count what existed then).
pub(crate) fn registered_in_2025(app: &TestApp) {
    use diesel::prelude::*;
    let mut conn = app.db.conn();
    for table in ["villages", "teams"] {
        diesel::sql_query(format!(
            "UPDATE {table} SET created_at = '2025-01-01T00:00:00+07:00'"
        ))
        .execute(&mut conn)
        .expect("backdate");
    }
}

#[tokio::test]
async fn months_follow_vietnam_time_and_rows_are_never_missing() {
    let app = spawn_app().await;
    let f = field(&app).await;
    registered_in_2025(&app);
    let (officer, _, member) = f.actors(&app);
    // 23:30 on 31 October in Hà Nội is 16:30 UTC; 00:30 on 1 November is 17:30 UTC on 31 October.
    member.create(LOGS, log_on("2025-10-31T16:30:00Z")).await;
    member.create(LOGS, log_on("2025-10-31T17:30:00Z")).await;
    let province = app.hanoi_officer().await;

    the_commune_counts_each_log_in_its_local_month(&officer).await;
    the_province_and_the_country_list_every_unit(&app, &province).await;
    let trend = officer
        .get("/api/v1/reports/trend?unit=00004&from=2025-09&to=2025-11")
        .await
        .expect(StatusCode::OK);
    let logs: Vec<i64> = trend
        .as_array()
        .expect("points")
        .iter()
        .map(|p| p["logs"].as_i64().expect("n"))
        .collect();
    assert_eq!(logs, [0, 1, 1]);
}

/// October and November hold one log each, every figure and category listed, a row per
/// village and team and one for what belongs to none.
async fn the_commune_counts_each_log_in_its_local_month(officer: &Actor<'_>) {
    let oct = report(officer, "00004", "2025-10").await;
    let nov = report(officer, "00004", "2025-11").await;
    assert_eq!(oct["totals"]["logs"], 1);
    assert_eq!(oct["totals"]["citizens_helped"], 2);
    assert_eq!(nov["totals"]["logs"], 1);
    assert_eq!(oct["totals"]["by_category"]["vneid_level2"]["logs"], 1);
    assert_eq!(
        oct["totals"]["by_category"]["ecommerce"]["logs"], 0,
        "every category is listed"
    );
    assert_eq!(oct["totals"]["by_sex"]["female"]["citizens"], 2);
    assert_eq!(oct["totals"]["by_age_band"]["60_plus"]["logs"], 1);
    assert_eq!(oct["totals"]["members_logging"], 1);
    assert_eq!(oct["totals"]["teams_active"], 1);
    assert_eq!(oct["totals"]["members_active"], 2);
    assert_eq!(oct["totals"]["villages"], 1);
    assert_eq!(oct["totals"]["village_coverage"], 1.0);
    assert_eq!(oct["status"]["status"], "draft");
    let kinds: Vec<&str> = oct["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["kind"].as_str().expect("k"))
        .collect();
    // A row per village and team, then the rows of what belongs to no village or no team.
    assert_eq!(kinds, ["village", "village", "team", "team"]);
    assert_eq!(oct["rows"][1]["key"], "none");
    assert_eq!(
        oct["rows"][1]["figures"]["logs"], 1,
        "the log names no village"
    );
    assert_eq!(oct["rows"][2]["figures"]["logs"], 1);
}

/// The province report has a row for each of its communes, zeros included; the country's
/// one for each of the 34 provinces.
async fn the_province_and_the_country_list_every_unit(app: &TestApp, province: &Actor<'_>) {
    let communes = province
        .get("/api/v1/units?parent=01&page_size=1")
        .await
        .expect(StatusCode::OK);
    let prov = report(province, "01", "2025-10").await;
    let rows = prov["rows"].as_array().expect("rows");
    assert_eq!(
        rows.len() as i64,
        communes["total"].as_i64().expect("total")
    );
    let badinh = rows.iter().find(|r| r["key"] == "00004").expect("Ba Đình");
    assert_eq!(badinh["figures"]["logs"], 1);
    let ngocha = rows.iter().find(|r| r["key"] == "00008").expect("Ngọc Hà");
    assert_eq!(ngocha["figures"]["logs"], 0);
    assert_eq!(ngocha["figures"]["by_outcome"]["done"]["logs"], 0);
    assert_eq!(prov["totals"]["logs"], 1);

    let admin = app.actor("root", "admin", None, None).await;
    let country = report(&admin, "VN", "2025-10").await;
    assert_eq!(country["rows"].as_array().expect("rows").len(), 34);
    assert_eq!(country["totals"]["logs"], 1);
}

#[tokio::test]
async fn bad_report_requests_are_refused() {
    let app = spawn_app().await;
    let f = field(&app).await;
    for (query, field_name, code) in [
        ("unit=99999&month=2025-10", "unit", "unknown_unit"),
        ("unit=00004&month=2025-13", "month", "invalid_month"),
        ("unit=00004&month=October", "month", "invalid_month"),
        ("unit=00004&month=2099-01", "month", "future_month"),
    ] {
        let res = app
            .get(&format!("/api/v1/reports/monthly?{query}"), &f.officer)
            .await;
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field_name);
        assert_eq!(problem["errors"][0]["code"], code);
    }
    // Out of scope answers 404 like any record outside the caller's scope.
    let (officer, _, member) = f.actors(&app);
    for unit in ["00008", "01", "VN"] {
        for path in [
            format!("/api/v1/reports/monthly?unit={unit}&month=2025-10"),
            format!("/api/v1/reports/trend?unit={unit}&from=2025-09&to=2025-10"),
        ] {
            officer
                .get(&path)
                .await
                .problem(StatusCode::NOT_FOUND, "not_found");
        }
    }
    let other_province = app
        .actor("hcm.officer", "province_officer", Some("79"), None)
        .await;
    for path in [
        "/api/v1/reports/status?province=01&month=2025-10",
        "/api/v1/reports/monthly?unit=00004&month=2025-10",
    ] {
        other_province
            .get(path)
            .await
            .problem(StatusCode::NOT_FOUND, "not_found");
    }
    member
        .get("/api/v1/reports/monthly?unit=00004&month=2025-10")
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn approval_locks_the_month_and_freezes_the_figures() {
    let app = spawn_app().await;
    let f = field(&app).await;
    registered_in_2025(&app);
    let (officer, leader, member) = f.actors(&app);
    let province = app.hanoi_officer().await;
    let edited = log_on("2025-10-10T09:00:00+07:00");
    member.create(LOGS, edited.clone()).await;

    only_the_commune_submits_and_only_the_province_approves(&officer, &province).await;
    october_takes_no_writes(&officer, &member, &edited).await;
    the_approved_report_is_frozen_and_the_live_one_is_not(&f, &officer).await;
    the_province_sees_which_communes_are_where(&officer, &province).await;

    // Reopening unlocks; every step was audited.
    province
        .post(&october("reopen"), json!({"reason": "Bổ sung số liệu"}))
        .await
        .expect(StatusCode::OK);
    // The leader records this one.
    leader
        .create(LOGS, log_on("2025-10-20T09:00:00+07:00"))
        .await;
    assert_eq!(
        province.audit_actions_of("report").await,
        ["reopen", "approve", "submit", "return", "submit"]
    );
}

/// `action` on Phường Ba Đình's October report.
fn october(action: &str) -> String {
    format!("/api/v1/reports/monthly/00004/2025-10/{action}")
}

/// Nothing is approved before it is submitted; the province neither submits nor lets a
/// return go without a reason; the officer neither submits twice nor approves. Returned,
/// resubmitted and approved, October is locked.
async fn only_the_commune_submits_and_only_the_province_approves(
    officer: &Actor<'_>,
    province: &Actor<'_>,
) {
    refused(province, "approve", StatusCode::CONFLICT, "not_submitted").await;
    refused(province, "submit", StatusCode::FORBIDDEN, "forbidden").await;
    let body = officer
        .act(&october("submit"), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(body["status"], "submitted");
    refused(officer, "submit", StatusCode::CONFLICT, "already_submitted").await;
    refused(officer, "approve", StatusCode::FORBIDDEN, "forbidden").await;
    province
        .post(&october("return"), json!({}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    province
        .post(
            &october("return"),
            json!({"reason": "Thiếu số liệu lớp học"}),
        )
        .await
        .expect(StatusCode::OK);
    approve_month(officer, province, "00004", "2025-10").await;
}

/// `by` is refused `action` on October's report with `status` and `code`.
async fn refused(by: &Actor<'_>, action: &str, status: StatusCode, code: &str) {
    by.act(&october(action), None).await.problem(status, code);
}

/// Locked: REST and sync push alike, for logs and trainings dated in October; a resend of
/// the log `edited` before the approval is still its duplicate, not refused.
async fn october_takes_no_writes(officer: &Actor<'_>, member: &Actor<'_>, edited: &Value) {
    member
        .post(LOGS, log_on("2025-10-20T09:00:00+07:00"))
        .await
        .problem(StatusCode::CONFLICT, "month_locked");
    let resent = member
        .post(LOGS, edited.clone())
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (&resent["id"], resent["version"].as_i64()),
        (&edited["id"], Some(1))
    );
    let id = edited["id"].as_str().expect("id");
    let path = format!("{LOGS}/{id}");
    member
        .patch(&path, None, json!({"citizens_helped": 9}))
        .await
        .problem(StatusCode::CONFLICT, "month_locked");
    member
        .delete(&path, None)
        .await
        .problem(StatusCode::CONFLICT, "month_locked");
    let items = json!([
        {"op": "create_log", "data": log_on("2025-10-21T09:00:00+07:00")},
        {"op": "create_log", "data": log_on("2025-11-02T09:00:00+07:00")},
        {"op": "update_log", "id": id, "base_version": 1, "data": {"citizens_helped": 5}},
    ]);
    let body = member.push_items(items).await;
    assert_eq!(push_statuses(&body), ["rejected", "created", "rejected"]);
    assert_eq!(body["results"][0]["problem"]["code"], "month_locked");
    assert_eq!(body["results"][2]["problem"]["code"], "month_locked");
    officer
        .post("/api/v1/trainings", Training::on("2025-10-25").body())
        .await
        .problem(StatusCode::CONFLICT, "month_locked");
}

/// The register changes (the village renamed, a member who joined and left in October);
/// the approved report is served exactly as approved, the live one shows the change.
async fn the_approved_report_is_frozen_and_the_live_one_is_not(f: &Field, officer: &Actor<'_>) {
    let before = report(officer, "00004", "2025-10").await;
    assert_eq!(before["frozen"], true);
    assert_eq!(before["status"]["status"], "approved");
    officer
        .patch(
            &format!("/api/v1/villages/{}", f.village),
            None,
            json!({"name": "Tổ dân phố Mới"}),
        )
        .await
        .expect(StatusCode::OK);
    // A membership's dates keep the work recorded under it, so the fixture's member, who
    // logged on the 10th, cannot be the one leaving.
    let short = officer
        .create(
            &format!("/api/v1/teams/{}/members", f.team),
            json!({"full_name": "Vũ Ngắn Hạn", "affiliation": "other", "joined_on": "2025-10-03"}),
        )
        .await;
    officer
        .patch(
            &format!("/api/v1/members/{}", short["id"]),
            None,
            json!({"left_on": "2025-10-05"}),
        )
        .await
        .expect(StatusCode::OK);
    let after = report(officer, "00004", "2025-10").await;
    assert_eq!(
        after, before,
        "the approved report is served exactly as approved"
    );
    let live = officer
        .get("/api/v1/reports/monthly?unit=00004&month=2025-10&live=true")
        .await
        .expect(StatusCode::OK);
    assert_eq!(live["frozen"], false);
    assert_eq!(live["rows"][0]["name"], "Tổ dân phố Mới");
    assert_eq!(before["rows"][0]["name"], "Tổ dân phố 1");
}

/// The province (and only the province) lists where each commune's October stands.
async fn the_province_sees_which_communes_are_where(officer: &Actor<'_>, province: &Actor<'_>) {
    let path = "/api/v1/reports/status?province=01&month=2025-10";
    let list = province.get(path).await.expect(StatusCode::OK);
    let status_of = |commune: &str| {
        list.as_array()
            .expect("list")
            .iter()
            .find(|c| c["commune_code"] == commune)
            .expect("row")["status"]
            .clone()
    };
    assert_eq!(status_of("00004"), "approved");
    assert_eq!(status_of("00008"), "not_started");
    officer
        .get(path)
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn exports_open_in_excel() {
    let app = spawn_app().await;
    let f = field(&app).await;
    registered_in_2025(&app);
    app.acting(&f.member)
        .create(LOGS, log_on("2025-10-10T09:00:00+07:00"))
        .await;
    let province = app.hanoi_officer().await.token;

    let res = app
        .get(
            "/api/v1/reports/monthly?unit=01&month=2025-10&format=csv",
            &province,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/csv"));
    let bytes = res.bytes().await.expect("body");
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 byte-order mark");
    let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("header").clone();
    assert_eq!(&header[0], "Mã");
    assert_eq!(&header[1], "Tên");
    assert!(header.iter().any(|h| h == "Người dân được hỗ trợ"));
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    let badinh = rows.iter().find(|r| &r[0] == "00004").expect("Ba Đình row");
    assert_eq!(&badinh[1], "Phường Ba Đình");
    let logs_col = header
        .iter()
        .position(|h| h == "Lượt hỗ trợ")
        .expect("column");
    assert_eq!(&badinh[logs_col], "1");
    assert!(rows.last().expect("total")[1].starts_with("Tổng"));

    let res = app
        .request(Method::GET, "/api/v1/reports/monthly?unit=01&month=2025-10")
        .bearer_auth(&province)
        .header(
            "Accept",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.expect("body").to_vec();
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("a valid workbook");
    let sheet = book.worksheet_range("Báo cáo").expect("sheet");
    assert_eq!(
        sheet.get_value((0, 0)),
        Some(&Data::String(
            "Báo cáo hoạt động Tổ công nghệ số cộng đồng".into()
        ))
    );
    assert!(
        matches!(sheet.get_value((1, 0)), Some(Data::String(s)) if s.contains("Thành phố Hà Nội"))
    );
    assert!(matches!(sheet.get_value((2, 0)), Some(Data::String(s)) if s.contains("2025-10")));
    assert_eq!(sheet.get_value((4, 0)), Some(&Data::String("Mã".into())));
    let header: Vec<String> = (0..sheet.width() as u32)
        .filter_map(|c| sheet.get_value((4, c)).map(|v| v.to_string()))
        .collect();
    let logs_col = header
        .iter()
        .position(|h| h == "Lượt hỗ trợ")
        .expect("column") as u32;
    let row = (5..sheet.height() as u32)
        .find(|r| sheet.get_value((*r, 0)) == Some(&Data::String("00004".into())))
        .expect("row");
    assert_eq!(sheet.get_value((row, logs_col)), Some(&Data::Float(1.0)));
}

#[tokio::test]
async fn rollups_match_a_recount_after_a_random_mix_of_changes() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, leader, member) = f.actors(&app);
    let mut mix = Mix {
        seed: 0x5eed,
        member,
        leader,
        ids: Vec::new(),
        archived: HashSet::new(),
    };
    for _ in 0..120 {
        match mix.next(5) {
            0 | 1 => mix.create().await,
            2 if !mix.ids.is_empty() => mix.edit().await,
            3 if !mix.ids.is_empty() => mix.archive().await,
            _ => mix.push().await,
        }
    }
    rollups_equal_a_recount(&app, &officer).await;
}

const MONTHS: [&str; 4] = [
    "2025-08-15T10:00:00+07:00",
    "2025-09-30T23:59:00+07:00",
    "2025-10-01T00:01:00+07:00",
    "2025-10-31T23:30:00+07:00",
];

const CATEGORIES: [&str; 4] = [
    "vneid_install",
    "online_public_services",
    "ecommerce",
    "online_safety",
];

/// A seeded random mix of log writes by the member and the leader: creates, edits,
/// archives and pushes, the logs it made and those it archived.
struct Mix<'a> {
    seed: u64,
    member: Actor<'a>,
    leader: Actor<'a>,
    ids: Vec<Uuid>,
    archived: HashSet<Uuid>,
}

impl Mix<'_> {
    /// A number below `n`.
    fn next(&mut self, n: usize) -> usize {
        self.seed = self
            .seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.seed >> 33) as usize) % n
    }

    /// A log of a random month, category and count, by the member or the leader.
    async fn create(&mut self) {
        let mut body = log_on(MONTHS[self.next(4)]);
        body["category_code"] = json!(CATEGORIES[self.next(4)]);
        body["citizens_helped"] = json!(1 + self.next(5));
        let by = if self.next(2) == 0 {
            &self.member
        } else {
            &self.leader
        };
        by.create(LOGS, body.clone()).await;
        self.ids
            .push(Uuid::parse_str(body["id"].as_str().expect("id")).expect("uuid"));
    }

    /// The leader moves a random log to a random month and category.
    async fn edit(&mut self) {
        let pick = self.next(self.ids.len());
        let id = self.ids[pick];
        let patch = json!({"occurred_at": MONTHS[self.next(4)], "category_code": CATEGORIES[self.next(4)], "citizens_helped": 1 + self.next(7)});
        let res = self
            .leader
            .patch(&format!("{LOGS}/{id}"), None, patch)
            .await;
        if self.archived.contains(&id) {
            // An archived log is not edited (restore it first).
            res.problem(StatusCode::CONFLICT, "log_archived");
        } else {
            assert!(
                res.status().is_success() || res.status() == StatusCode::NOT_FOUND,
                "{}",
                res.status()
            );
        }
    }

    /// The leader archives a random log.
    async fn archive(&mut self) {
        let pick = self.next(self.ids.len());
        let id = self.ids[pick];
        self.archived.insert(id);
        self.leader
            .delete(&format!("{LOGS}/{id}"), None)
            .await
            .expect(StatusCode::OK);
    }

    /// The member pushes five logs of random months and outcomes.
    async fn push(&mut self) {
        let items: Vec<Value> = (0..5)
            .map(|_| {
                let mut body = log_on(MONTHS[self.next(4)]);
                body["outcome"] = json!(["done", "referred", "could_not_help"][self.next(3)]);
                json!({"op": "create_log", "data": body})
            })
            .collect();
        self.member.push_items(json!(items)).await;
    }
}

/// The rollups, the member and commune totals and the live report equal a recount from the
/// raw rows.
async fn rollups_equal_a_recount(app: &TestApp, officer: &Actor<'_>) {
    let mut conn = app.db.conn();
    let recount = "SELECT vn_month(occurred_at) AS month, commune_code, team_id, coalesce(village_id, 0) AS village_id, category_code, \
                   outcome, channel, coalesce(citizen_sex, '') AS s, coalesce(citizen_age_band, '') AS a, count(*) AS logs, \
                   sum(citizens_helped) AS citizens FROM assistance_logs WHERE archived_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9";
    let rollup = "SELECT month, commune_code, team_id, village_id, category_code, outcome, channel, citizen_sex, citizen_age_band, \
                  logs, citizens FROM log_rollups WHERE logs <> 0 OR citizens <> 0";
    let diff = count(&mut conn, &format!(
        "SELECT count(*) AS n FROM (({recount} EXCEPT {rollup}) UNION ALL ({rollup} EXCEPT {recount})) d"
    ));
    assert_eq!(diff, 0, "rollups equal a recount from raw rows");
    let members = count(
        &mut conn,
        "SELECT count(*) AS n FROM ((SELECT vn_month(occurred_at), member_id, count(*) FROM assistance_logs WHERE archived_at IS NULL GROUP BY 1, 2) \
         EXCEPT (SELECT month, member_id, logs FROM member_month_logs WHERE logs > 0)) d",
    );
    assert_eq!(members, 0);
    let communes = count(
        &mut conn,
        "SELECT count(*) AS n FROM ((SELECT vn_month(occurred_at), commune_code, count(*), sum(citizens_helped) FROM assistance_logs \
         WHERE archived_at IS NULL GROUP BY 1, 2) EXCEPT (SELECT month, commune_code, logs, citizens FROM commune_month_totals \
         WHERE logs <> 0)) d",
    );
    assert_eq!(communes, 0);
    let live = report(officer, "00004", "2025-10").await;
    let raw = count(
        &mut conn,
        "SELECT count(*) AS n FROM assistance_logs WHERE archived_at IS NULL AND vn_month(occurred_at) = '2025-10-01'",
    );
    assert_eq!(live["totals"]["logs"], raw);
}
