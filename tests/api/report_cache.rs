//! Province and country reports are kept between requests (issue 16); these tests check that a
//! kept report never outlives a write: every change reaches the next request, on every instance.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fieldwork::{field, log_on, Field};
use crate::helpers::TestApp;
use crate::reports::registered_in_2025;

const MONTH: &str = "2025-10";

async fn report_at(http: &reqwest::Client, base: &str, token: &str, unit: &str) -> Value {
    let res = http
        .get(format!(
            "{base}/api/v1/reports/monthly?unit={unit}&month={MONTH}"
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK, "report {unit}");
    res.json().await.expect("json")
}

async fn report(app: &TestApp, token: &str, unit: &str) -> Value {
    report_at(&app.client, &app.address, token, unit).await
}

/// A figure of the row of commune 00004 (province report) or province 01 (country report)
/// (`frozen`: whether it is frozen; `figures`: all its figures).
fn row(report: &Value, key: &str, figure: &str) -> Value {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == key)
        .map(|r| {
            if figure == "frozen" {
                r["frozen"].clone()
            } else if figure == "figures" {
                r["figures"].clone()
            } else {
                r["figures"][figure].clone()
            }
        })
        .expect("row")
}

fn n(v: &Value) -> i64 {
    v.as_i64().expect("a number")
}

async fn record(app: &TestApp, f: &Field, occurred_at: &str) {
    let l = log_on(occurred_at);
    let res = app
        .post_json("/api/v1/assistance-logs", Some(&f.member), &l)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

/// A third member of the fixture's team, who joined in September 2025.
async fn add_member(app: &TestApp, f: &Field) {
    let res = app
        .post_json(
            &format!("/api/v1/teams/{}/members", f.team),
            Some(&f.officer),
            &json!({"full_name": "Trần Văn Mới", "affiliation": "youth_union",
                    "team_role": "member", "joined_on": "2025-09-01"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

async fn act(app: &TestApp, token: &str, path: &str, body: Option<Value>) {
    let mut req = app.request(Method::POST, path).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("sent");
    assert_eq!(res.status(), StatusCode::OK, "{path}");
}

async fn setup(app: &TestApp) -> (Field, String, String) {
    let f = field(app).await;
    registered_in_2025(app);
    let province = app.hanoi_officer().await.token;
    let (_, admin) = app.user_with_token("the.admin", "admin", None, None).await;
    (f, province, admin)
}

#[tokio::test]
async fn a_log_reaches_the_kept_province_and_country_reports_at_the_next_request() {
    let app = crate::helpers::spawn_app().await;
    let (f, province, admin) = setup(&app).await;
    record(&app, &f, "2025-10-10T09:00:00+07:00").await;
    let before = report(&app, &province, "01").await;
    let country = report(&app, &admin, "VN").await;
    // Read again: the same figures (served as kept).
    let again = report(&app, &province, "01").await;
    assert_eq!(again["totals"], before["totals"]);
    assert_eq!(again["rows"], before["rows"]);
    assert_eq!(again["indicators"], before["indicators"]);
    assert_eq!(again["reporting"], before["reporting"]);
    assert_eq!(n(&before["totals"]["logs"]), 1);
    assert_eq!(n(&country["totals"]["logs"]), 1);

    record(&app, &f, "2025-10-11T09:00:00+07:00").await;
    let after = report(&app, &province, "01").await;
    assert_eq!(n(&after["totals"]["logs"]), 2);
    assert_eq!(n(&row(&after, "00004", "logs")), 2);
    assert_eq!(n(&after["totals"]["citizens_helped"]), 4);
    let country = report(&app, &admin, "VN").await;
    assert_eq!(n(&country["totals"]["logs"]), 2);
    assert_eq!(n(&row(&country, "01", "logs")), 2);

    // Another month's log leaves October's figures as they are; an archived log leaves them.
    record(&app, &f, "2025-11-02T09:00:00+07:00").await;
    assert_eq!(n(&report(&app, &province, "01").await["totals"]["logs"]), 2);
    {
        use diesel::prelude::*;
        diesel::sql_query(
            "UPDATE assistance_logs SET archived_at = now() \
             WHERE occurred_at = '2025-10-11T09:00:00+07:00'",
        )
        .execute(&mut app.db.conn())
        .expect("archive");
    }
    assert_eq!(n(&report(&app, &province, "01").await["totals"]["logs"]), 1);
    assert_eq!(n(&report(&app, &admin, "VN").await["totals"]["logs"]), 1);
}

#[tokio::test]
async fn a_registry_change_reaches_the_kept_reports() {
    let app = crate::helpers::spawn_app().await;
    let (f, province, admin) = setup(&app).await;
    let before = report(&app, &province, "01").await;
    let country = report(&app, &admin, "VN").await;
    assert_eq!(n(&before["totals"]["members_active"]), 2);
    assert_eq!(n(&country["totals"]["members_active"]), 2);
    assert_eq!(n(&before["totals"]["villages"]), 1);

    add_member(&app, &f).await;
    let after = report(&app, &province, "01").await;
    assert_eq!(n(&after["totals"]["members_active"]), 3);
    assert_eq!(n(&row(&after, "00004", "members_joined")), 0);
    assert_eq!(
        n(&report(&app, &admin, "VN").await["totals"]["members_active"]),
        3
    );

    // A change written straight into the database reaches the reports too (the triggers).
    {
        use diesel::prelude::*;
        diesel::sql_query("UPDATE villages SET created_at = '2025-12-01T00:00:00+07:00'")
            .execute(&mut app.db.conn())
            .expect("re-date");
    }
    let after = report(&app, &province, "01").await;
    assert_eq!(
        n(&after["totals"]["villages"]),
        0,
        "registered after October"
    );
    assert_eq!(
        n(&report(&app, &admin, "VN").await["totals"]["villages"]),
        0
    );
}

#[tokio::test]
async fn approving_and_reopening_reach_the_kept_reports() {
    let app = crate::helpers::spawn_app().await;
    let (f, province, admin) = setup(&app).await;
    record(&app, &f, "2025-10-10T09:00:00+07:00").await;
    let base = format!("/api/v1/reports/monthly/00004/{MONTH}");
    let live = report(&app, &province, "01").await;
    assert_eq!(row(&live, "00004", "frozen"), false);
    let _ = report(&app, &admin, "VN").await;

    act(&app, &f.officer, &format!("{base}/submit"), None).await;
    act(&app, &province, &format!("{base}/approve"), None).await;
    let approved = report(&app, &province, "01").await;
    assert_eq!(row(&approved, "00004", "frozen"), true);
    assert_eq!(n(&approved["reporting"]["reported"]), 1);
    assert_eq!(n(&row(&approved, "00004", "members_active")), 2);

    // The register changes after approval: the province and country reports keep the frozen
    // figures of the approved commune.
    add_member(&app, &f).await;
    let frozen = report(&app, &province, "01").await;
    assert_eq!(n(&row(&frozen, "00004", "members_active")), 2);
    let country = report(&app, &admin, "VN").await;
    assert_eq!(n(&country["totals"]["members_active"]), 2);
    assert_eq!(row(&country, "01", "frozen"), false, "one commune of many");
    // Hà Nội's part, computed alone with its frozen commune, is what a whole computation gives.
    let other = app.another_instance(&[]);
    let whole = report_at(&reqwest::Client::new(), &other.address, &admin, "VN").await;
    for part in ["totals", "rows", "indicators"] {
        assert_eq!(country[part], whole[part], "{part}");
    }

    act(
        &app,
        &province,
        &format!("{base}/reopen"),
        Some(json!({"reason": "Bổ sung số liệu"})),
    )
    .await;
    let reopened = report(&app, &province, "01").await;
    assert_eq!(row(&reopened, "00004", "frozen"), false);
    assert_eq!(n(&row(&reopened, "00004", "members_active")), 3);
    assert_eq!(
        n(&report(&app, &admin, "VN").await["totals"]["members_active"]),
        3
    );
}

#[tokio::test]
async fn a_write_through_one_instance_reaches_the_report_kept_by_another() {
    let app = crate::helpers::spawn_app().await;
    let (f, province, _) = setup(&app).await;
    let other = app.another_instance(&[]);
    let http = reqwest::Client::new();
    let here = report_at(&http, &app.address, &province, "01").await;
    let there = report_at(&http, &other.address, &province, "01").await;
    assert_eq!(here["totals"], there["totals"]);
    assert_eq!(n(&there["totals"]["logs"]), 0);

    record(&app, &f, "2025-10-10T09:00:00+07:00").await;
    let there = report_at(&http, &other.address, &province, "01").await;
    assert_eq!(n(&there["totals"]["logs"]), 1);
    assert_eq!(n(&row(&there, "00004", "logs")), 1);
}

/// The numerator of an indicator of a report's unit.
fn numerator(report: &Value, code: &str) -> Option<i64> {
    report["indicators"]
        .as_array()
        .expect("indicators")
        .iter()
        .find(|i| i["code"] == code)
        .map(|i| n(&i["numerator"]))
}

#[tokio::test]
async fn the_catalogue_and_an_earlier_month_of_the_year_reach_the_kept_reports() {
    let app = crate::helpers::spawn_app().await;
    let (f, province, admin) = setup(&app).await;
    record(&app, &f, "2025-10-10T09:00:00+07:00").await;
    let before = report(&app, &province, "01").await;
    assert_eq!(numerator(&before, "vneid_helped"), None);

    // A new indicator of the catalogue: in the next report.
    let new = json!({"code": "vneid_helped", "name": "Người dân được hỗ trợ kích hoạt VNeID mức 2",
                     "kind": "count", "source": "logs", "category_code": "vneid_level2", "sort_order": 5});
    let res = app
        .post_json("/api/v1/indicators", Some(&admin), &new)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let with = report(&app, &province, "01").await;
    assert_eq!(numerator(&with, "vneid_helped"), Some(2));
    assert_eq!(
        numerator(&report(&app, &admin, "VN").await, "vneid_helped"),
        Some(2)
    );

    // A log of September: not in October's figures, but in its indicator, which adds up from
    // January.
    record(&app, &f, "2025-09-15T09:00:00+07:00").await;
    let after = report(&app, &province, "01").await;
    assert_eq!(n(&after["totals"]["logs"]), 1);
    assert_eq!(numerator(&after, "vneid_helped"), Some(4));
    let country = report(&app, &admin, "VN").await;
    assert_eq!(numerator(&country, "vneid_helped"), Some(4));
}

/// A team in commune 25747 (province 79) with one member account; returns its token.
async fn team_in_ho_chi_minh_city(app: &TestApp) -> String {
    let (_, officer) = app
        .user_with_token("thudaumot", "commune_officer", Some("25747"), None)
        .await;
    let act = app.acting(&officer);
    let village = act
        .post(
            "/api/v1/villages",
            json!({"name": "Khu phố 1", "kind": "to_dan_pho"}),
        )
        .await
        .expect(StatusCode::CREATED)["id"]
        .clone();
    let team = act
        .post(
            "/api/v1/teams",
            json!({"name": "Tổ CNCĐ khu phố 1", "village_id": village}),
        )
        .await
        .expect(StatusCode::CREATED)["id"]
        .as_i64()
        .expect("id");
    let user = app.create_user("hcm.member", "team_member", None, Some(team));
    act.post(
        &format!("/api/v1/teams/{team}/members"),
        json!({"full_name": "Nguyễn Thị Sài Gòn", "affiliation": "womens_union",
               "team_role": "member", "user_id": user, "joined_on": "2025-08-01"}),
    )
    .await
    .expect(StatusCode::CREATED);
    app.login("hcm.member").await.access
}

#[tokio::test]
async fn the_country_report_after_a_write_in_one_province_equals_a_whole_computation() {
    let app = crate::helpers::spawn_app().await;
    let (f, _, admin) = setup(&app).await;
    let hcm = team_in_ho_chi_minh_city(&app).await;
    registered_in_2025(&app);
    record(&app, &f, "2025-10-10T09:00:00+07:00").await;
    let l = log_on("2025-10-12T09:00:00+07:00");
    app.acting(&hcm)
        .post("/api/v1/assistance-logs", l)
        .await
        .expect(StatusCode::CREATED);
    let first = report(&app, &admin, "VN").await;
    assert_eq!(n(&first["totals"]["logs"]), 2);
    assert_eq!(n(&row(&first, "01", "logs")), 1);
    assert_eq!(n(&row(&first, "79", "logs")), 1);
    assert_eq!(n(&row(&first, "79", "teams_active")), 1);

    // A write in Hà Nội: this instance computes Hà Nội's part again and keeps the others'.
    record(&app, &f, "2025-10-11T09:00:00+07:00").await;
    add_member(&app, &f).await;
    let kept = report(&app, &admin, "VN").await;
    assert_eq!(n(&kept["totals"]["logs"]), 3);
    assert_eq!(n(&row(&kept, "01", "logs")), 2);
    assert_eq!(n(&row(&kept, "01", "members_active")), 3);
    assert_eq!(n(&row(&kept, "79", "logs")), 1);
    assert_eq!(row(&kept, "79", "figures"), row(&first, "79", "figures"));

    // Another instance, which keeps nothing yet, computes every part: the same report.
    let other = app.another_instance(&[]);
    let whole = report_at(&reqwest::Client::new(), &other.address, &admin, "VN").await;
    for part in ["totals", "rows", "indicators"] {
        assert_eq!(kept[part], whole[part], "{part}");
    }
    assert_ne!(kept["totals"], first["totals"]);
}
