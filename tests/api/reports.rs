use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fieldwork::{field, log, Field};
use crate::helpers::{assert_problem, spawn_app, TestApp};

fn at(time: &str) -> Value {
    let mut l = log(Uuid::new_v4());
    l["occurred_at"] = json!(time);
    l
}

async fn record(app: &TestApp, f: &Field, body: &Value) -> StatusCode {
    app.post_json("/api/v1/assistance-logs", Some(&f.member), body)
        .await
        .status()
}

async fn report(app: &TestApp, token: &str, unit: &str, month: &str) -> Value {
    let res = app
        .get(
            &format!("/api/v1/reports/monthly?unit={unit}&month={month}"),
            token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "report {unit} {month}");
    res.json().await.expect("json")
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

async fn act(app: &TestApp, token: &str, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut req = app.request(Method::POST, path).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("sent")
}

#[tokio::test]
async fn months_follow_vietnam_time_and_rows_are_never_missing() {
    let app = spawn_app().await;
    let f = field(&app).await;
    registered_in_2025(&app);
    // 23:30 on 31 October in Hà Nội is 16:30 UTC; 00:30 on 1 November is 17:30 UTC on 31 October.
    assert_eq!(
        record(&app, &f, &at("2025-10-31T16:30:00Z")).await,
        StatusCode::CREATED
    );
    assert_eq!(
        record(&app, &f, &at("2025-10-31T17:30:00Z")).await,
        StatusCode::CREATED
    );
    let province = app.hanoi_officer().await.token;

    let oct = report(&app, &f.officer, "00004", "2025-10").await;
    let nov = report(&app, &f.officer, "00004", "2025-11").await;
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

    // The province report has a row for each of its communes, zeros included.
    let communes: Value = app
        .get("/api/v1/units?parent=01&page_size=1", &province)
        .await
        .json()
        .await
        .expect("json");
    let prov = report(&app, &province, "01", "2025-10").await;
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

    let (_, admin) = app.user_with_token("root", "admin", None, None).await;
    let country = report(&app, &admin, "VN", "2025-10").await;
    assert_eq!(country["rows"].as_array().expect("rows").len(), 34);
    assert_eq!(country["totals"]["logs"], 1);

    let trend: Value = app
        .get(
            "/api/v1/reports/trend?unit=00004&from=2025-09&to=2025-11",
            &f.officer,
        )
        .await
        .json()
        .await
        .expect("json");
    let logs: Vec<i64> = trend
        .as_array()
        .expect("points")
        .iter()
        .map(|p| p["logs"].as_i64().expect("n"))
        .collect();
    assert_eq!(logs, [0, 1, 1]);
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
    let province = app.hanoi_officer().await.token;
    let edited = at("2025-10-10T09:00:00+07:00");
    assert_eq!(record(&app, &f, &edited).await, StatusCode::CREATED);
    let base = "/api/v1/reports/monthly/00004/2025-10";

    let res = act(&app, &province, &format!("{base}/approve"), None).await;
    assert_problem(res, StatusCode::CONFLICT, "not_submitted").await;
    let res = act(&app, &province, &format!("{base}/submit"), None).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = act(&app, &f.officer, &format!("{base}/submit"), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["status"], "submitted");
    let res = act(&app, &f.officer, &format!("{base}/submit"), None).await;
    assert_problem(res, StatusCode::CONFLICT, "already_submitted").await;
    let res = act(&app, &f.officer, &format!("{base}/approve"), None).await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    let res = act(&app, &province, &format!("{base}/return"), Some(json!({}))).await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = act(
        &app,
        &province,
        &format!("{base}/return"),
        Some(json!({"reason": "Thiếu số liệu lớp học"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        act(&app, &f.officer, &format!("{base}/submit"), None)
            .await
            .status(),
        StatusCode::OK
    );
    let res = act(&app, &province, &format!("{base}/approve"), None).await;
    assert_eq!(res.status(), StatusCode::OK);

    // Locked: REST and sync push alike, for logs and trainings dated in October.
    let res = app
        .post_json(
            "/api/v1/assistance-logs",
            Some(&f.member),
            &at("2025-10-20T09:00:00+07:00"),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "month_locked").await;
    // A resend of a log recorded before the approval is still its duplicate, not refused.
    let res = app
        .post_json("/api/v1/assistance-logs", Some(&f.member), &edited)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let resent: Value = res.json().await.expect("json");
    assert_eq!(
        (&resent["id"], resent["version"].as_i64()),
        (&edited["id"], Some(1))
    );
    let id = edited["id"].as_str().expect("id");
    let res = app
        .patch_json(
            &format!("/api/v1/assistance-logs/{id}"),
            &f.member,
            None,
            &json!({"citizens_helped": 9}),
        )
        .await;
    assert_problem(res, StatusCode::CONFLICT, "month_locked").await;
    let res = app
        .request(Method::DELETE, &format!("/api/v1/assistance-logs/{id}"))
        .bearer_auth(&f.member)
        .send()
        .await
        .expect("sent");
    assert_problem(res, StatusCode::CONFLICT, "month_locked").await;
    let items = json!([
        {"op": "create_log", "data": at("2025-10-21T09:00:00+07:00")},
        {"op": "create_log", "data": at("2025-11-02T09:00:00+07:00")},
        {"op": "update_log", "id": id, "base_version": 1, "data": {"citizens_helped": 5}},
    ]);
    let body: Value = app
        .post_json(
            "/api/v1/sync/push",
            Some(&f.member),
            &json!({"items": items}),
        )
        .await
        .json()
        .await
        .expect("json");
    let statuses: Vec<&str> = body["results"]
        .as_array()
        .expect("r")
        .iter()
        .map(|r| r["status"].as_str().expect("s"))
        .collect();
    assert_eq!(statuses, ["rejected", "created", "rejected"]);
    assert_eq!(body["results"][0]["problem"]["code"], "month_locked");
    assert_eq!(body["results"][2]["problem"]["code"], "month_locked");
    let training = json!({"title": "Tập huấn", "kind": "member_training", "mode": "in_person",
                          "starts_at": "2025-10-25T08:00:00+07:00", "ends_at": "2025-10-25T10:00:00+07:00"});
    let res = app
        .post_json("/api/v1/trainings", Some(&f.officer), &training)
        .await;
    assert_problem(res, StatusCode::CONFLICT, "month_locked").await;

    // Frozen: the register changes, the approved report does not; the live one does.
    let before = report(&app, &f.officer, "00004", "2025-10").await;
    assert_eq!(before["frozen"], true);
    assert_eq!(before["status"]["status"], "approved");
    let res = app
        .patch_json(
            &format!("/api/v1/villages/{}", f.village),
            &f.officer,
            None,
            &json!({"name": "Tổ dân phố Mới"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // A member who joined and left in October (a membership's dates keep the work recorded
    // under it, so the fixture's member, who logged on the 10th, cannot be the one leaving).
    let res = app
        .post_json(
            &format!("/api/v1/teams/{}/members", f.team),
            Some(&f.officer),
            &json!({"full_name": "Vũ Ngắn Hạn", "affiliation": "other", "joined_on": "2025-10-03"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let short: Value = res.json().await.expect("json");
    let res = app
        .patch_json(
            &format!("/api/v1/members/{}", short["id"]),
            &f.officer,
            None,
            &json!({"left_on": "2025-10-05"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let after = report(&app, &f.officer, "00004", "2025-10").await;
    assert_eq!(
        after, before,
        "the approved report is served exactly as approved"
    );
    let live: Value = app
        .get(
            "/api/v1/reports/monthly?unit=00004&month=2025-10&live=true",
            &f.officer,
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(live["frozen"], false);
    assert_eq!(live["rows"][0]["name"], "Tổ dân phố Mới");
    assert_eq!(before["rows"][0]["name"], "Tổ dân phố 1");

    // The province sees which communes are where.
    let list: Value = app
        .get(
            "/api/v1/reports/status?province=01&month=2025-10",
            &province,
        )
        .await
        .json()
        .await
        .expect("json");
    let mine = list
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["commune_code"] == "00004")
        .expect("row");
    assert_eq!(mine["status"], "approved");
    let other = list
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["commune_code"] == "00008")
        .expect("row");
    assert_eq!(other["status"], "not_started");
    let res = app
        .get(
            "/api/v1/reports/status?province=01&month=2025-10",
            &f.officer,
        )
        .await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;

    // Reopening unlocks; every step was audited.
    let res = act(
        &app,
        &province,
        &format!("{base}/reopen"),
        Some(json!({"reason": "Bổ sung số liệu"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    // The leader records this one.
    let res = app
        .post_json(
            "/api/v1/assistance-logs",
            Some(&f.leader),
            &at("2025-10-20T09:00:00+07:00"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let audit: Value = app
        .get("/api/v1/audit?entity=report", &province)
        .await
        .json()
        .await
        .expect("json");
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().expect("a"))
        .collect();
    assert_eq!(actions, ["reopen", "approve", "submit", "return", "submit"]);
}

#[tokio::test]
async fn exports_open_in_excel() {
    let app = spawn_app().await;
    let f = field(&app).await;
    registered_in_2025(&app);
    assert_eq!(
        record(&app, &f, &at("2025-10-10T09:00:00+07:00")).await,
        StatusCode::CREATED
    );
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
    let months = [
        "2025-08-15T10:00:00+07:00",
        "2025-09-30T23:59:00+07:00",
        "2025-10-01T00:01:00+07:00",
        "2025-10-31T23:30:00+07:00",
    ];
    let categories = [
        "vneid_install",
        "online_public_services",
        "ecommerce",
        "online_safety",
    ];
    let mut seed: u64 = 0x5eed;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n
    };
    let mut ids: Vec<Uuid> = Vec::new();
    let mut archived = std::collections::HashSet::new();
    for _ in 0..120 {
        match next(5) {
            0 | 1 => {
                let mut body = at(months[next(4)]);
                body["category_code"] = json!(categories[next(4)]);
                body["citizens_helped"] = json!(1 + next(5));
                let token = if next(2) == 0 { &f.member } else { &f.leader };
                let res = app
                    .post_json("/api/v1/assistance-logs", Some(token), &body)
                    .await;
                assert_eq!(res.status(), StatusCode::CREATED);
                ids.push(Uuid::parse_str(body["id"].as_str().expect("id")).expect("uuid"));
            }
            2 if !ids.is_empty() => {
                let id = ids[next(ids.len())];
                let patch = json!({"occurred_at": months[next(4)], "category_code": categories[next(4)], "citizens_helped": 1 + next(7)});
                let res = app
                    .patch_json(
                        &format!("/api/v1/assistance-logs/{id}"),
                        &f.leader,
                        None,
                        &patch,
                    )
                    .await;
                if archived.contains(&id) {
                    // An archived log is not edited (restore it first).
                    assert_problem(res, StatusCode::CONFLICT, "log_archived").await;
                } else {
                    assert!(
                        res.status().is_success() || res.status() == StatusCode::NOT_FOUND,
                        "{}",
                        res.status()
                    );
                }
            }
            3 if !ids.is_empty() => {
                let id = ids[next(ids.len())];
                archived.insert(id);
                let res = app
                    .request(Method::DELETE, &format!("/api/v1/assistance-logs/{id}"))
                    .bearer_auth(&f.leader)
                    .send()
                    .await
                    .expect("sent");
                assert_eq!(res.status(), StatusCode::OK);
            }
            _ => {
                let items: Vec<Value> = (0..5)
                    .map(|_| {
                        let mut body = at(months[next(4)]);
                        body["outcome"] = json!(["done", "referred", "could_not_help"][next(3)]);
                        json!({"op": "create_log", "data": body})
                    })
                    .collect();
                let res = app
                    .post_json(
                        "/api/v1/sync/push",
                        Some(&f.member),
                        &json!({"items": items}),
                    )
                    .await;
                assert_eq!(res.status(), StatusCode::OK);
            }
        }
    }
    use diesel::prelude::*;
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Diff {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.db.conn();
    let recount = "SELECT vn_month(occurred_at) AS month, commune_code, team_id, coalesce(village_id, 0) AS village_id, category_code, \
                   outcome, channel, coalesce(citizen_sex, '') AS s, coalesce(citizen_age_band, '') AS a, count(*) AS logs, \
                   sum(citizens_helped) AS citizens FROM assistance_logs WHERE archived_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9";
    let rollup = "SELECT month, commune_code, team_id, village_id, category_code, outcome, channel, citizen_sex, citizen_age_band, \
                  logs, citizens FROM log_rollups WHERE logs <> 0 OR citizens <> 0";
    let diff: Diff = diesel::sql_query(format!(
        "SELECT count(*) AS n FROM (({recount} EXCEPT {rollup}) UNION ALL ({rollup} EXCEPT {recount})) d"
    ))
    .get_result(&mut conn)
    .expect("compare");
    assert_eq!(diff, Diff { n: 0 }, "rollups equal a recount from raw rows");
    let members: Diff = diesel::sql_query(
        "SELECT count(*) AS n FROM ((SELECT vn_month(occurred_at), member_id, count(*) FROM assistance_logs WHERE archived_at IS NULL GROUP BY 1, 2) \
         EXCEPT (SELECT month, member_id, logs FROM member_month_logs WHERE logs > 0)) d",
    )
    .get_result(&mut conn)
    .expect("compare");
    assert_eq!(members, Diff { n: 0 });
    let communes: Diff = diesel::sql_query(
        "SELECT count(*) AS n FROM ((SELECT vn_month(occurred_at), commune_code, count(*), sum(citizens_helped) FROM assistance_logs \
         WHERE archived_at IS NULL GROUP BY 1, 2) EXCEPT (SELECT month, commune_code, logs, citizens FROM commune_month_totals \
         WHERE logs <> 0)) d",
    )
    .get_result(&mut conn)
    .expect("compare");
    assert_eq!(communes, Diff { n: 0 });
    let live = report(&app, &f.officer, "00004", "2025-10").await;
    let raw: Diff = diesel::sql_query(
        "SELECT count(*) AS n FROM assistance_logs WHERE archived_at IS NULL AND vn_month(occurred_at) = '2025-10-01'",
    )
    .get_result(&mut conn)
    .expect("count");
    assert_eq!(live["totals"]["logs"], raw.n);
}
