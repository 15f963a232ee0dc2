//! Programme indicators through the API: the catalogue, denominators by year, monthly values
//! under the month lock, targets and their split, and the report's indicator section.

use calamine::{Data, Reader, Xlsx};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::fieldwork::{field, Field};
use crate::fixtures::{actions, approve_month, Denominators, IndicatorValue, Target, Training};
use crate::helpers::{assert_problem, spawn_app, Actor, Answer, Answered, TestApp};
use crate::reports::registered_in_2025;

async fn put(
    app: &TestApp,
    token: &str,
    path: &str,
    if_match: Option<&str>,
    body: &Value,
) -> Answer {
    app.acting(token).put(path, if_match, body.clone()).await
}

async fn ok_json(res: impl Answered, status: StatusCode) -> Value {
    res.answered().await.expect(status)
}

/// A 422 whose first field error has `expected` as its `key` (`field` or `code`).
async fn invalid(res: impl Answered, key: &str, expected: &str) -> Value {
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(body["errors"][0][key], expected, "{body}");
    body
}

async fn report(app: &TestApp, token: &str, unit: &str, month: &str, extra: &str) -> Value {
    ok_json(
        app.get(
            &format!("/api/v1/reports/monthly?unit={unit}&month={month}{extra}"),
            token,
        )
        .await,
        StatusCode::OK,
    )
    .await
}

fn indicator<'a>(section: &'a Value, code: &str) -> &'a Value {
    section
        .as_array()
        .expect("indicators")
        .iter()
        .find(|i| i["code"] == code)
        .unwrap_or_else(|| panic!("{code} in {section}"))
}

fn row<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("row {key}"))
}

async fn value(app: &TestApp, token: &str, body: Value) -> Answer {
    put(app, token, "/api/v1/indicator-values", None, &body).await
}

async fn denominators(app: &TestApp, token: &str, body: Value) -> Answer {
    put(app, token, "/api/v1/denominators", None, &body).await
}

/// `PUT /api/v1/denominators` with `If-Match: "version"`.
async fn denominators_at(app: &TestApp, token: &str, version: i64, body: &Value) -> Answer {
    let if_match = format!("\"{version}\"");
    put(app, token, "/api/v1/denominators", Some(&if_match), body).await
}

async fn target_put(app: &TestApp, token: &str, body: &Value) -> Answer {
    put(app, token, "/api/v1/indicator-targets", None, body).await
}

#[tokio::test]
async fn the_catalogue_holds_the_national_indicators_and_admins_manage_it() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, _, member) = f.actors(&app);
    let admin = app.actor("root", "admin", None, None).await;

    the_catalogue_lists_the_national_indicators(&member).await;
    only_an_admin_adds_one_that_makes_sense(&officer, &admin).await;
    a_retired_indicator_takes_no_new_values_until_restored(&officer, &member, &admin).await;
    the_trail_keeps_each_change_of_the_catalogue_with_no_place(&admin).await;
}

/// The national indicators in their order; a rate names its denominator and aggregates as a
/// ratio of sums, a count as a sum.
async fn the_catalogue_lists_the_national_indicators(member: &Actor<'_>) {
    let list = member
        .get("/api/v1/indicators")
        .await
        .expect(StatusCode::OK);
    let codes: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|i| i["code"].as_str().expect("code"))
        .collect();
    assert_eq!(
        codes,
        [
            "vneid_level2",
            "smartphone",
            "fibre_households",
            "cashless_account",
            "basic_skills_households",
            "online_dossiers",
            "ecommerce_farms",
            "ecommerce_farms_active",
            "tech_savvy_per_100",
            "village_community_group",
            "skills_course_enrolled",
            "skills_course_completed",
        ]
    );
    for i in list.as_array().expect("list") {
        let rate = i["kind"] == "rate";
        assert_eq!(i["denominator"].is_string(), rate, "{i}");
        let expected = if rate { "ratio_of_sums" } else { "sum" };
        assert_eq!(i["aggregation"], expected, "{i}");
    }
    assert_eq!(
        indicator(&list, "fibre_households")["denominator"],
        "households"
    );
    assert_eq!(indicator(&list, "smartphone")["level"], "village");
    assert_eq!(
        indicator(&list, "skills_course_enrolled")["source"],
        "trainings"
    );
}

/// Only an admin adds one; the combinations must make sense (a code once, a rate with its
/// denominator).
async fn only_an_admin_adds_one_that_makes_sense(officer: &Actor<'_>, admin: &Actor<'_>) {
    let new = json!({"code": "vneid_helped", "name": "Người dân được hỗ trợ kích hoạt VNeID mức 2",
                     "kind": "count", "source": "logs", "category_code": "vneid_level2", "sort_order": 5});
    officer
        .post("/api/v1/indicators", new.clone())
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let created = admin.create("/api/v1/indicators", new.clone()).await;
    assert_eq!(created["aggregation"], "sum");
    let body = invalid(admin.post("/api/v1/indicators", new).await, "field", "code").await;
    assert_eq!(body["errors"][0]["code"], "taken");
    let bad_rate =
        json!({"code": "bad_rate", "name": "Tỷ lệ", "kind": "rate", "source": "entered"});
    let res = admin.post("/api/v1/indicators", bad_rate).await;
    let body = invalid(res, "field", "denominator").await;
    assert_eq!(body["errors"][0]["code"], "required");
}

/// Retired: out of the list and of new values; history kept; restored by an admin only.
async fn a_retired_indicator_takes_no_new_values_until_restored(
    officer: &Actor<'_>,
    member: &Actor<'_>,
    admin: &Actor<'_>,
) {
    let fibre = "/api/v1/indicators/fibre_households";
    let retired = admin
        .act(&format!("{fibre}/retire"), None)
        .await
        .expect(StatusCode::OK);
    assert!(retired["retired_at"].is_string());
    let list = member
        .get("/api/v1/indicators")
        .await
        .expect(StatusCode::OK);
    assert!(list
        .as_array()
        .expect("l")
        .iter()
        .all(|i| i["code"] != "fibre_households"));
    let all = member
        .get("/api/v1/indicators?include_retired=true")
        .await
        .expect(StatusCode::OK);
    assert!(all
        .as_array()
        .expect("l")
        .iter()
        .any(|i| i["code"] == "fibre_households"));
    let ten = IndicatorValue::of("fibre_households", "2025-10", 10);
    let res = officer
        .put("/api/v1/indicator-values", None, ten.body())
        .await;
    let body = invalid(res, "field", "indicator_code").await;
    assert_eq!(body["errors"][0]["code"], "retired");
    officer
        .act(&format!("{fibre}/restore"), None)
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    admin
        .act(&format!("{fibre}/restore"), None)
        .await
        .expect(StatusCode::OK);
    ten.record(officer).await;
    admin
        .act("/api/v1/indicators/nothing_here/retire", None)
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
}

/// The trail keeps each change of the national catalogue, with no place.
async fn the_trail_keeps_each_change_of_the_catalogue_with_no_place(admin: &Actor<'_>) {
    let trail = admin
        .get("/api/v1/audit?entity=indicator")
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        text_pairs(&trail["items"], "action", "entity_id"),
        [
            ("restore", "fibre_households"),
            ("retire", "fibre_households"),
            ("create", "vneid_helped")
        ]
    );
    for e in trail["items"].as_array().expect("items") {
        assert_eq!(
            (&e["province_code"], &e["commune_code"]),
            (&json!(null), &json!(null))
        );
    }
    assert!(trail["items"][1]["before"]["retired_at"].is_null());
    assert!(trail["items"][1]["after"]["retired_at"].is_string());
    assert_eq!(trail["items"][2]["after"]["kind"], "count");
}

#[tokio::test]
async fn denominators_are_kept_per_year_and_a_closed_year_refuses_changes() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, leader, _) = f.actors(&app);
    let province = app.hanoi_officer().await;
    let far = app
        .actor("hcm.officer", "province_officer", Some("79"), None)
        .await;

    the_commune_keeps_a_versioned_entry_a_year(&officer).await;
    bad_denominators_are_refused(&officer, &leader, &province, &far).await;
    // A village's own figures.
    Denominators::year(2025)
        .village(f.village)
        .adults(300)
        .set(&officer)
        .await;
    december_approved_closes_the_year(&f, &officer, &province).await;
}

const DENOMINATORS: &str = "/api/v1/denominators";

/// The first entry of 2025 is version 1; a stale If-Match is refused, the current one
/// replaces the entry; another year is another entry and last year's stays.
async fn the_commune_keeps_a_versioned_entry_a_year(officer: &Actor<'_>) {
    let path = DENOMINATORS;
    let year = Denominators::year;
    let body = json!({"year": 2025, "population": 1500, "adults": 1000, "households": 400,
                      "source_note": "Niên giám thống kê"});
    let res = officer.put(path, None, body).await;
    assert_eq!(res.headers()["etag"], "\"1\"");
    let saved = res.expect(StatusCode::CREATED);
    assert_eq!(saved["commune_code"], "00004");
    assert_eq!(saved["adults"], 1000);

    officer
        .put(path, Some("\"7\""), year(2025).adults(1).body())
        .await
        .problem(StatusCode::PRECONDITION_FAILED, "version_mismatch");
    let replaced = year(2025).population(1500).adults(1100).households(400);
    let again = officer
        .put(path, Some("\"1\""), replaced.body())
        .await
        .expect(StatusCode::OK);
    assert_eq!(again["version"], 2);
    assert_eq!(again["adults"], 1100);
    year(2026).adults(1200).set(officer).await;
    let list = officer
        .get(&format!("{path}?commune=00004"))
        .await
        .expect(StatusCode::OK);
    let years: Vec<(i64, i64)> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|d| {
            (
                d["year"].as_i64().expect("y"),
                d["adults"].as_i64().expect("a"),
            )
        })
        .collect();
    assert_eq!(years, [(2026, 1200), (2025, 1100)]);
}

/// Adults above the population, a negative figure, a village of another commune, a
/// commune outside the province, a leader: refused, nothing written.
async fn bad_denominators_are_refused(
    officer: &Actor<'_>,
    leader: &Actor<'_>,
    province: &Actor<'_>,
    far: &Actor<'_>,
) {
    let path = DENOMINATORS;
    let year = Denominators::year;
    let res = officer
        .put(path, None, year(2025).population(10).adults(20).body())
        .await;
    invalid(res, "field", "adults").await;
    officer
        .put(path, None, year(2025).households(-1).body())
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let other = province
        .village_in(Some("00008"), "Thôn khác xã", "thon")
        .await;
    let res = officer
        .put(path, None, year(2025).village(other).adults(5).body())
        .await;
    invalid(res, "field", "village_id").await;
    far.put(path, None, year(2025).commune("00004").adults(5).body())
        .await
        .problem(StatusCode::FORBIDDEN, "outside_scope");
    leader
        .put(path, None, year(2025).adults(5).body())
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
}

/// December approved closes the year: 409 for the commune's and the village's entries,
/// nothing written; the next year stays open.
async fn december_approved_closes_the_year(f: &Field, officer: &Actor<'_>, province: &Actor<'_>) {
    let path = DENOMINATORS;
    let year = Denominators::year;
    approve_month(officer, province, "00004", "2025-12").await;
    for (body, if_match) in [
        (year(2025).adults(1).body(), Some("\"2\"")),
        (year(2025).village(f.village).adults(1).body(), None),
    ] {
        officer
            .put(path, if_match, body)
            .await
            .problem(StatusCode::CONFLICT, "year_locked");
    }
    let list = officer
        .get(&format!("{path}?commune=00004&year=2025"))
        .await
        .expect(StatusCode::OK);
    let adults: Vec<i64> = list
        .as_array()
        .expect("l")
        .iter()
        .map(|d| d["adults"].as_i64().expect("a"))
        .collect();
    assert_eq!(adults, [1100, 300]);
    officer
        .put(path, Some("\"1\""), year(2026).adults(1300).body())
        .await
        .expect(StatusCode::OK);
}

/// Ba Đình's October value of `vneid_level2` (`n` adults), with its source.
fn vneid_level2(n: i64) -> Value {
    IndicatorValue::of("vneid_level2", "2025-10", n)
        .note("Công an xã")
        .body()
}

/// Above the denominator (a rate above 100%), negative, misplaced, computed, or by a
/// leader: refused, nothing written.
async fn bad_values_are_refused(officer: &Actor<'_>, leader: &Actor<'_>) {
    let of = IndicatorValue::of;
    let v = vneid_level2;
    let values = "/api/v1/indicator-values";
    let dossiers = of("online_dossiers", "2025-10", 30).denominator(20).body();
    for (body, key, expected) in [
        (v(1001), "code", "exceeds_denominator"),
        (v(-1), "field", "value"),
        (of("smartphone", "2025-10", 5).body(), "field", "village_id"),
        (
            of("online_dossiers", "2025-10", 5).body(),
            "field",
            "denominator",
        ),
        (dossiers, "code", "exceeds_denominator"),
        (
            of("skills_course_enrolled", "2025-10", 5).body(),
            "code",
            "computed",
        ),
    ] {
        invalid(officer.put(values, None, body).await, key, expected).await;
    }
    leader
        .put(values, None, v(600))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn monthly_values_are_checked_versioned_audited_and_locked_with_the_month() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, leader, _) = f.actors(&app);
    registered_in_2025(&app);
    let province = app.hanoi_officer().await.token;
    Denominators::year(2025)
        .adults(1000)
        .households(400)
        .set(&officer)
        .await;
    let of = IndicatorValue::of;
    let v = vneid_level2;
    let values = "/api/v1/indicator-values";
    let res = officer.put(values, None, v(600)).await;
    assert_eq!(res.headers()["etag"], "\"1\"");
    let saved = res.expect(StatusCode::CREATED);
    assert_eq!(saved["month"], "2025-10-01");
    assert_eq!(saved["commune_code"], "00004");
    assert!(saved["village_id"].is_null());

    bad_values_are_refused(&officer, &leader).await;

    // A stale version is refused; the current one changes the value.
    officer
        .put(values, Some("\"9\""), v(650))
        .await
        .problem(StatusCode::PRECONDITION_FAILED, "version_mismatch");
    let changed = officer
        .put(values, Some("\"1\""), v(650))
        .await
        .expect(StatusCode::OK);
    assert_eq!(changed["version"], 2);
    let audit = officer.audit_of("indicator_value").await;
    assert_eq!(actions(&audit), ["update", "create"]);
    assert_eq!(audit[0]["before"]["value"], 600);
    assert_eq!(audit[0]["after"]["value"], 650);

    // The month approved: the value is locked (409) and stays as it was.
    approve_month(&officer, &app.acting(&province), "00004", "2025-10").await;
    for (body, if_match) in [
        (v(700), Some("\"2\"")),
        (of("ecommerce_farms", "2025-10", 3).body(), None),
    ] {
        officer
            .put(values, if_match, body)
            .await
            .problem(StatusCode::CONFLICT, "month_locked");
    }
    let list = officer
        .get(&format!("{values}?commune=00004&month=2025-10"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(list.as_array().expect("l").len(), 1);
    assert_eq!(list[0]["value"], 650);
    // November is open.
    of("vneid_level2", "2025-11", 700).record(&officer).await;
}

/// Province 01 with two communes: Ba Đình (00004) with its own adults figure, and 00008 whose
/// figure is the sum of its two villages'. Rates aggregate as sums, exactly.
/// Hà Nội's figures of 2025 for the rate tests: denominators, values (one of 2024), citizen
/// classes and targets of Ba Đình (the field) and of 00008 with two villages.
struct Rates<'a> {
    province: Actor<'a>,
    other: Actor<'a>,
    v1: i64,
    v2: i64,
}

async fn rates_world<'a>(app: &'a TestApp, f: &Field) -> Rates<'a> {
    let badinh = app.acting(&f.officer);
    let province = app.hanoi_officer().await;
    let other = app
        .actor("commune.b", "commune_officer", Some("00008"), None)
        .await;
    let v1 = other.village_in(Some("00008"), "Thôn Một", "thon").await;
    let v2 = other.village_in(Some("00008"), "Thôn Hai", "thon").await;
    registered_in_2025(app);

    let year = || Denominators::year(2025);
    year().adults(1000).population(1600).set(&badinh).await;
    year().village(f.village).adults(999).set(&badinh).await;
    year()
        .village(v1)
        .adults(300)
        .population(450)
        .set(&other)
        .await;
    year()
        .village(v2)
        .adults(200)
        .population(350)
        .set(&other)
        .await;
    // Ba Đình: 600 of 1000 in October; 00008 reported 100 in September, carried to October;
    // a value of last year is not carried into this one.
    let of = IndicatorValue::of;
    for (by, value) in [
        (&badinh, of("vneid_level2", "2025-10", 600)),
        (&other, of("vneid_level2", "2024-12", 400)),
        (&other, of("vneid_level2", "2025-09", 100)),
        (&other, of("smartphone", "2025-10", 150).village(v1)),
        (&other, of("smartphone", "2025-10", 50).village(v2)),
        (&other, of("online_dossiers", "2025-10", 30).denominator(40)),
        (
            &badinh,
            of("online_dossiers", "2025-10", 10).denominator(60),
        ),
        (&badinh, of("ecommerce_farms", "2025-10", 12)),
        (&other, of("ecommerce_farms", "2025-10", 8)),
    ] {
        value.record(by).await;
    }
    // Classes for citizens count from January to the month.
    for (day, n) in [("2025-03-05", 10), ("2025-10-12", 25), ("2025-11-02", 99)] {
        Training::on(day)
            .title("Lớp Bình dân học vụ số")
            .hours("19:00", "21:00")
            .class(n)
            .create(&badinh)
            .await;
    }
    // Targets: the province 50%, 00008 60%, Ba Đình 500 adults.
    for target in [
        Target::percent("vneid_level2", 2025, "province", "01", 50),
        Target::percent("vneid_level2", 2025, "commune", "00008", 60),
        Target::value("vneid_level2", 2025, "commune", "00004", 500),
    ] {
        target.set(&province).await;
    }
    Rates {
        province,
        other,
        v1,
        v2,
    }
}

/// The province's rates are sums of numerators over sums of denominators, per commune too.
fn assert_province_rates(prov: &Value) {
    let total = indicator(&prov["indicators"], "vneid_level2");
    assert_eq!(total["numerator"], 700);
    assert_eq!(total["denominator"], 1500);
    // Exactly 700 / 1500, not the average of 0.6 and 0.2 (serde_json reads a float to
    // within one unit in the last place).
    let rate = total["rate"].as_f64().expect("rate");
    assert!((rate - 700.0 / 1500.0).abs() < 1e-15, "{rate}");
    assert_eq!(total["target_rate"].as_f64(), Some(0.5));
    let progress = total["progress"].as_f64().expect("progress");
    assert!(
        (progress - 700.0 / 1500.0 / 0.5).abs() < 1e-12,
        "{progress}"
    );
    // 304 of 365 days elapsed at the end of October; 93% of the target reached.
    assert_eq!(total["status"], "on_track");
    let dossiers = indicator(&prov["indicators"], "online_dossiers");
    assert_eq!(dossiers["numerator"], 40);
    assert_eq!(dossiers["denominator"], 100);
    assert_eq!(dossiers["rate"].as_f64(), Some(0.4));
    let farms = indicator(&prov["indicators"], "ecommerce_farms");
    assert_eq!(farms["numerator"], 20);
    assert!(farms["denominator"].is_null() && farms["rate"].is_null());
    let enrolled = indicator(&prov["indicators"], "skills_course_enrolled");
    assert_eq!(enrolled["numerator"], 35);
    let smart = indicator(&prov["indicators"], "smartphone");
    assert_eq!(smart["numerator"], 200);
    assert_eq!(smart["denominator"], 1500);

    let badinh = indicator(&row(prov, "00004")["indicators"], "vneid_level2");
    assert_eq!(badinh["rate"].as_f64(), Some(0.6));
    assert_eq!(badinh["target_value"], 500);
    assert_eq!(badinh["status"], "met");
    let b = indicator(&row(prov, "00008")["indicators"], "vneid_level2");
    assert_eq!(b["numerator"], 100);
    assert_eq!(b["denominator"], 500);
    assert_eq!(b["rate"].as_f64(), Some(0.2));
    assert_eq!(b["status"], "behind");
    // A commune without figures has a row of zeros.
    let quiet = prov["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["key"] != "00004" && r["key"] != "00008")
        .expect("another commune");
    let q = indicator(&quiet["indicators"], "vneid_level2");
    assert_eq!(q["numerator"], 0);
    assert!(q["denominator"].is_null() && q["rate"].is_null());
}

/// The commune report: village rows carry the village-level indicators.
async fn assert_commune_rates(app: &TestApp, w: &Rates<'_>) {
    let (other, v1, v2) = (&w.other.token, w.v1, w.v2);
    let commune = report(app, other, "00008", "2025-10", "").await;
    let s = indicator(&commune["indicators"], "smartphone");
    assert_eq!(
        (s["numerator"].as_i64(), s["denominator"].as_i64()),
        (Some(200), Some(500))
    );
    assert_eq!(s["rate"].as_f64(), Some(0.4));
    let r1 = indicator(&row(&commune, &v1.to_string())["indicators"], "smartphone");
    assert_eq!(r1["rate"].as_f64(), Some(0.5));
    let r2 = indicator(&row(&commune, &v2.to_string())["indicators"], "smartphone");
    assert_eq!(r2["rate"].as_f64(), Some(0.25));
    assert!(row(&commune, &v1.to_string())["indicators"]
        .as_array()
        .expect("a")
        .iter()
        .all(|i| i["code"] != "vneid_level2"));
    // January has nothing carried from 2024.
    let jan = report(app, other, "00008", "2025-01", "").await;
    assert_eq!(
        indicator(&jan["indicators"], "vneid_level2")["numerator"],
        0
    );
}

/// The files say the same: six columns per indicator, on every line.
async fn assert_files_carry_the_rates(app: &TestApp, province: &str) {
    let csv = crate::report_figures::file(app, province, "unit=01&month=2025-10&format=csv").await;
    let (header, lines) = crate::report_figures::parse_csv(&csv);
    let col = |h: &str| {
        header
            .iter()
            .position(|x| x == h)
            .unwrap_or_else(|| panic!("no column {h:?}"))
    };
    let name = "Người từ 15 tuổi có tài khoản định danh điện tử mức 2";
    let total_line = &lines[lines.len() - 1];
    assert_eq!(&total_line[col(&format!("{name} – tử số"))], "700");
    assert_eq!(&total_line[col(&format!("{name} – mẫu số"))], "1500");
    assert_eq!(&total_line[col(&format!("{name} – tỷ lệ"))], "0.4667");
    assert_eq!(&total_line[col(&format!("{name} – chỉ tiêu"))], "0.5000");
    assert_eq!(
        &total_line[col(&format!("{name} – đánh giá"))],
        "Đúng tiến độ"
    );
    let b_line = lines.iter().find(|l| &l[0] == "00008").expect("00008");
    assert_eq!(&b_line[col(&format!("{name} – đánh giá"))], "Chậm");
    let xlsx =
        crate::report_figures::file(app, province, "unit=01&month=2025-10&format=xlsx").await;
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx)).expect("a valid workbook");
    let sheet = book.worksheet_range("Báo cáo").expect("sheet");
    let heads: Vec<String> = (0..sheet.width() as u32)
        .filter_map(|c| sheet.get_value((4, c)).map(|v| v.to_string()))
        .collect();
    let rate_col = heads
        .iter()
        .position(|h| *h == format!("{name} – tỷ lệ"))
        .expect("rate column") as u32;
    let last = 4 + lines.len() as u32;
    let cell = sheet.get_value((last, rate_col)).expect("rate cell");
    assert!(
        matches!(cell, Data::Float(r) if (r - 700.0 / 1500.0).abs() < 1e-12),
        "{cell:?}"
    );
}

#[tokio::test]
async fn rates_aggregate_across_a_province_as_sums_of_numerators_and_denominators() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let w = rates_world(&app, &f).await;
    let province = w.province.token.clone();
    let prov = report(&app, &province, "01", "2025-10", "").await;
    assert_province_rates(&prov);
    assert_commune_rates(&app, &w).await;
    assert_files_carry_the_rates(&app, &province).await;

    // The country adds provinces up the same way.
    let (_, admin) = app.user_with_token("root", "admin", None, None).await;
    let country = report(&app, &admin, "VN", "2025-10", "").await;
    let vn = indicator(&country["indicators"], "vneid_level2");
    assert_eq!(
        (vn["numerator"].as_i64(), vn["denominator"].as_i64()),
        (Some(700), Some(1500))
    );
    let hn = indicator(&row(&country, "01")["indicators"], "vneid_level2");
    assert_eq!(hn["status"], "on_track");
}

#[tokio::test]
async fn approved_months_keep_their_indicators_whatever_changes_later() {
    let app = spawn_app().await;
    let f = field(&app).await;
    registered_in_2025(&app);
    let province = app.hanoi_officer().await.token;
    let res = denominators(&app, &f.officer, json!({"year": 2025, "adults": 1000})).await;
    ok_json(res, StatusCode::CREATED).await;
    ok_json(
        value(
            &app,
            &f.officer,
            json!({"indicator_code": "vneid_level2", "month": "2025-10", "value": 600}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let target = json!({"indicator_code": "vneid_level2", "year": 2025, "unit_kind": "commune",
                        "unit_key": "00004", "target_percent": 80});
    ok_json(
        target_put(&app, &province, &target).await,
        StatusCode::CREATED,
    )
    .await;
    approve_month(
        &app.acting(&f.officer),
        &app.acting(&province),
        "00004",
        "2025-10",
    )
    .await;
    let before = report(&app, &f.officer, "00004", "2025-10", "").await;
    let frozen = indicator(&before["indicators"], "vneid_level2").clone();
    assert_eq!(frozen["rate"].as_f64(), Some(0.6));
    assert_eq!(frozen["target_rate"].as_f64(), Some(0.8));

    // The denominator and the target change afterwards (the year is still open).
    ok_json(
        denominators_at(&app, &f.officer, 1, &json!({"year": 2025, "adults": 2000})).await,
        StatusCode::OK,
    )
    .await;
    let mut changed = target.clone();
    changed["target_percent"] = json!(20);
    ok_json(
        put(
            &app,
            &province,
            "/api/v1/indicator-targets",
            Some("\"1\""),
            &changed,
        )
        .await,
        StatusCode::OK,
    )
    .await;

    let after = report(&app, &f.officer, "00004", "2025-10", "").await;
    assert_eq!(indicator(&after["indicators"], "vneid_level2"), &frozen);
    let prov = report(&app, &province, "01", "2025-10", "").await;
    let r = row(&prov, "00004");
    assert_eq!(r["frozen"], true);
    assert_eq!(indicator(&r["indicators"], "vneid_level2"), &frozen);
    assert_eq!(
        indicator(&prov["indicators"], "vneid_level2")["denominator"],
        1000
    );
    // The live figures show the change.
    let live = report(&app, &f.officer, "00004", "2025-10", "&live=true").await;
    let now = indicator(&live["indicators"], "vneid_level2");
    assert_eq!(now["rate"].as_f64(), Some(0.3));
    assert_eq!(now["target_rate"].as_f64(), Some(0.2));
    assert_eq!(now["status"], "met");
}

/// Ba Đình's three villages with their adults and smartphone owners of October 2025 (20 of
/// 100, 100 of 300, 100 of 100); returns their ids.
async fn three_villages(app: &TestApp, f: &Field) -> [i64; 3] {
    let officer = app.acting(&f.officer);
    let v2 = officer
        .village_in(Some("00004"), "Tổ dân phố 2", "thon")
        .await;
    let v3 = officer
        .village_in(Some("00004"), "Tổ dân phố 3", "thon")
        .await;
    registered_in_2025(app);
    let v1 = f.village;
    for (v, adults, now) in [(v1, 100, 20), (v2, 300, 100), (v3, 100, 100)] {
        Denominators::year(2025)
            .village(v)
            .adults(adults)
            .set(&officer)
            .await;
        IndicatorValue::of("smartphone", "2025-10", now)
            .village(v)
            .record(&officer)
            .await;
    }
    [v1, v2, v3]
}

#[tokio::test]
async fn targets_keep_to_their_setters_units_and_split_by_remaining_gap() {
    let app = spawn_app().await;
    let f: Field = field(&app).await;
    let (officer, leader, _) = f.actors(&app);
    let province = app.hanoi_officer().await;
    let [v1, v2, v3] = three_villages(&app, &f).await;
    let path = "/api/v1/indicator-targets";
    // Who sets what.
    let v1_key = v1.to_string();
    let (percent, count) = (Target::percent, Target::value);
    for (by, target, key, expected) in [
        (
            &officer,
            percent("smartphone", 2025, "commune", "00004", 80),
            "code",
            "outside_scope",
        ),
        (
            &province,
            count("smartphone", 2025, "village", &v1_key, 5),
            "code",
            "outside_scope",
        ),
        (
            &province,
            count("smartphone", 2025, "province", "79", 5),
            "code",
            "outside_scope",
        ),
    ] {
        invalid(by.put(path, None, target.body()).await, key, expected).await;
    }
    leader
        .put(
            path,
            None,
            count("smartphone", 2025, "village", &v1_key, 5).body(),
        )
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    for (target, key, expected) in [
        (
            percent("smartphone", 2025, "commune", "00004", 101),
            "field",
            "target_percent",
        ),
        (
            percent("ecommerce_farms", 2025, "commune", "00004", 50),
            "code",
            "not_a_rate",
        ),
    ] {
        invalid(province.put(path, None, target.body()).await, key, expected).await;
    }
    province
        .put(
            path,
            None,
            count("smartphone", 2025, "commune", "00004", -3).body(),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let listed = province.get(path).await.expect(StatusCode::OK);
    assert_eq!(listed.as_array().expect("l").len(), 0, "nothing written");

    // The province sets the commune 80%; the commune officer splits it to its villages.
    let parent = percent("smartphone", 2025, "commune", "00004", 80)
        .due("2025-12-15")
        .set(&province)
        .await;
    assert_eq!(parent["target_rate"].as_f64(), Some(0.8));
    the_split_shares_the_gap(&app, &f, parent, [v1, v2, v3]).await;
}

/// The commune officer splits the commune's target (80% of 500 adults) to its villages by
/// their gaps, dry and then with an override; the village rows show their targets.
async fn the_split_shares_the_gap(app: &TestApp, f: &Field, parent: Value, villages: [i64; 3]) {
    let (officer, leader, _) = f.actors(app);
    let id = parent["id"].as_i64().expect("id");
    let split = format!("/api/v1/indicator-targets/{id}/split");
    leader
        .post(&split, json!({}))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    a_dry_run_shares_the_gap_and_writes_nothing(&officer, &split).await;
    an_override_is_kept_and_the_rest_left_unassigned(&officer, &split, id, villages).await;
    invalid(
        officer
            .post(
                &split,
                json!({"overrides": [{"unit_key": "999999", "target_value": 1}]}),
            )
            .await,
        "field",
        "overrides[0].unit_key",
    )
    .await;

    // The village rows of the report show their targets.
    let [v1, _, v3] = villages;
    let rep = report(app, &f.officer, "00004", "2025-10", "").await;
    let r1 = indicator(&row(&rep, &v1.to_string())["indicators"], "smartphone");
    assert_eq!(r1["target_value"], 100);
    assert_eq!(r1["progress"].as_f64(), Some(0.2));
    assert_eq!(r1["status"], "behind");
    let r3 = indicator(&row(&rep, &v3.to_string())["indicators"], "smartphone");
    assert_eq!(r3["status"], "met");
}

const VILLAGE_TARGETS: &str = "/api/v1/indicator-targets?unit_kind=village";

/// 80% of 500 adults is 400; 220 reached; 180 left, shared 80 : 200 : 0 by gap; a dry run
/// writes nothing.
async fn a_dry_run_shares_the_gap_and_writes_nothing(officer: &Actor<'_>, split: &str) {
    let dry = officer
        .post(split, json!({"dry_run": true}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(dry["amount"], 400);
    assert_eq!(dry["current"], 220);
    assert_eq!(dry["remaining"], 180);
    let targets: Vec<(i64, i64)> = dry["shares"]
        .as_array()
        .expect("shares")
        .iter()
        .map(|s| {
            (
                s["gap"].as_i64().expect("g"),
                s["target_value"].as_i64().expect("t"),
            )
        })
        .collect();
    assert_eq!(targets, [(80, 71), (200, 229), (0, 100)]);
    assert_eq!(dry["unassigned"], 0);
    assert_eq!(dry["applied"], false);
    let none = officer.get(VILLAGE_TARGETS).await.expect(StatusCode::OK);
    assert_eq!(
        none.as_array().expect("l").len(),
        0,
        "a dry run writes nothing"
    );
}

/// An override of the second village: the first takes what it can, the rest is unassigned;
/// the three targets are written, split from target `id` and due with it.
async fn an_override_is_kept_and_the_rest_left_unassigned(
    officer: &Actor<'_>,
    split: &str,
    id: i64,
    [v1, v2, v3]: [i64; 3],
) {
    let applied = officer
        .post(
            split,
            json!({"overrides": [{"unit_key": v2.to_string(), "target_value": 120}]}),
        )
        .await
        .expect(StatusCode::OK);
    let targets: Vec<(i64, bool)> = applied["shares"]
        .as_array()
        .expect("shares")
        .iter()
        .map(|s| {
            (
                s["target_value"].as_i64().expect("t"),
                s["manual"].as_bool().expect("m"),
            )
        })
        .collect();
    assert_eq!(targets, [(100, false), (120, true), (100, false)]);
    assert_eq!(applied["unassigned"], 80);
    let written = officer.get(VILLAGE_TARGETS).await.expect(StatusCode::OK);
    let mut got: Vec<(String, i64, i64, String)> = written
        .as_array()
        .expect("l")
        .iter()
        .map(|t| {
            (
                t["unit_key"].as_str().expect("k").to_string(),
                t["target_value"].as_i64().expect("v"),
                t["split_from"].as_i64().expect("s"),
                t["due_on"].as_str().expect("d").to_string(),
            )
        })
        .collect();
    got.sort();
    let mut expected = vec![
        (v1.to_string(), 100, id, "2025-12-15".to_string()),
        (v2.to_string(), 120, id, "2025-12-15".to_string()),
        (v3.to_string(), 100, id, "2025-12-15".to_string()),
    ];
    expected.sort();
    assert_eq!(got, expected);
}

/// Hà Nội's due day: read as 5 (version 0), refused stale, out of range, to a commune and to
/// another province; set to 10 by its province officer.
async fn the_province_sets_its_due_day(app: &TestApp, f: &Field, province: &Actor<'_>) {
    let far = app
        .actor("hcm.officer", "province_officer", Some("79"), None)
        .await;
    let settings = "/api/v1/reports/settings/01";
    let res = province.get(settings).await;
    assert_eq!(res.headers()["etag"], "\"0\"");
    assert_eq!(res.expect(StatusCode::OK)["due_day"], 5);
    let ten = || json!({"due_day": 10});
    province
        .put(settings, Some("\"3\""), ten())
        .await
        .problem(StatusCode::PRECONDITION_FAILED, "version_mismatch");
    province
        .put(settings, None, json!({"due_day": 31}))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.acting(&f.officer)
        .put(settings, None, ten())
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    far.put(settings, None, ten())
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    let saved = province
        .put(settings, Some("\"0\""), ten())
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (saved["due_day"].as_i64(), saved["version"].as_i64()),
        (Some(10), Some(1))
    );
    let trail = province
        .get("/api/v1/audit?entity=reporting_settings")
        .await
        .expect(StatusCode::OK);
    assert_eq!(trail["total"], 1);
    let entry = &trail["items"][0];
    assert_eq!(
        (
            &entry["action"],
            &entry["entity_id"],
            &entry["province_code"],
            &entry["commune_code"]
        ),
        (&json!("update"), &json!("01"), &json!("01"), &json!(null))
    );
    assert!(entry["before"].is_null());
    assert_eq!(
        (&entry["after"]["due_day"], &entry["after"]["version"]),
        (&json!(10), &json!(1))
    );
}

#[tokio::test]
async fn reports_have_a_due_date_and_the_province_its_reporting_rates() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let province_officer = app.hanoi_officer().await;
    let province = province_officer.token.clone();
    let other = app
        .actor("commune.b", "commune_officer", Some("00008"), None)
        .await;
    the_province_sets_its_due_day(&app, &f, &province_officer).await;

    // Ba Đình reported on 3 November, 00008 now (a year late), 00016 was sent back.
    for (by, commune) in [(&app.acting(&f.officer), "00004"), (&other, "00008")] {
        by.act(
            &format!("/api/v1/reports/monthly/{commune}/2025-10/submit"),
            None,
        )
        .await
        .expect(StatusCode::OK);
    }
    {
        use diesel::prelude::*;
        diesel::sql_query(
            "UPDATE report_periods SET submitted_at = '2025-11-03T10:00:00+07:00' WHERE commune_code = '00004'",
        )
        .execute(&mut app.db.conn())
        .expect("backdate");
    }
    let n = each_commune_is_on_time_late_or_overdue(&province_officer).await;
    the_province_report_counts_who_reported(&app, &province, n).await;

    // Sent back, 00008 is no longer counted as reported, and it is overdue.
    province_officer
        .post(
            "/api/v1/reports/monthly/00008/2025-10/return",
            json!({"reason": "Thiếu số liệu"}),
        )
        .await
        .expect(StatusCode::OK);
    let prov = report(&app, &province, "01", "2025-10", "").await;
    assert_eq!(prov["reporting"]["reported"], 1);
    assert_eq!(
        prov["reporting"]["overdue"].as_array().expect("o").len(),
        n - 1
    );
    // The month under way is overdue nowhere.
    let now = chrono::Utc::now() + chrono::Duration::hours(7);
    let current = now.format("%Y-%m").to_string();
    let this = report(&app, &province, "01", &current, "").await;
    assert_eq!(this["reporting"]["overdue"].as_array().expect("o").len(), 0);
    // Commune reports carry no province summary.
    let commune = report(&app, &f.officer, "00004", "2025-10", "").await;
    assert!(commune.get("reporting").is_none());
}

/// The status list: Ba Đình on time before its due day, 00008 late, a silent commune
/// overdue. Returns how many communes the province has.
async fn each_commune_is_on_time_late_or_overdue(province: &Actor<'_>) -> usize {
    let statuses = province
        .get("/api/v1/reports/status?province=01&month=2025-10")
        .await
        .expect(StatusCode::OK);
    let of = |code: &str| {
        statuses
            .as_array()
            .expect("list")
            .iter()
            .find(|s| s["commune_code"] == code)
            .unwrap_or_else(|| panic!("{code}"))
            .clone()
    };
    let badinh = of("00004");
    assert_eq!(badinh["due_on"], "2025-11-10");
    assert_eq!(badinh["on_time"], true);
    assert_eq!(badinh["overdue"], false);
    let late = of("00008");
    assert_eq!(late["on_time"], false);
    assert_eq!(late["overdue"], false);
    let n = statuses.as_array().expect("list").len();
    let silent = statuses
        .as_array()
        .expect("list")
        .iter()
        .find(|s| s["commune_code"] != "00004" && s["commune_code"] != "00008")
        .expect("a silent commune");
    assert!(silent["on_time"].is_null());
    assert_eq!(silent["overdue"], true);
    n
}

/// The province report of October: of its `n` communes two reported, one on time, the
/// others overdue, as rates.
async fn the_province_report_counts_who_reported(app: &TestApp, province: &str, n: usize) {
    let prov = report(app, province, "01", "2025-10", "").await;
    let r = &prov["reporting"];
    assert_eq!(r["due_on"], "2025-11-10");
    assert_eq!(r["communes"], n);
    assert_eq!(r["reported"], 2);
    assert_eq!(r["on_time"], 1);
    assert_eq!(r["reporting_rate"].as_f64(), Some(2.0 / n as f64));
    assert_eq!(r["on_time_rate"].as_f64(), Some(1.0 / n as f64));
    let overdue: Vec<&str> = r["overdue"]
        .as_array()
        .expect("overdue")
        .iter()
        .map(|c| c["code"].as_str().expect("code"))
        .collect();
    assert_eq!(overdue.len(), n - 2);
    assert!(!overdue.contains(&"00004") && !overdue.contains(&"00008"));
}

/// The names of the members who recorded nothing in October, as `by` lists them with
/// `query`.
async fn inactive(by: &Actor<'_>, query: &str) -> Vec<String> {
    by.get(&format!("/api/v1/reports/inactive?month=2025-10{query}"))
        .await
        .expect(StatusCode::OK)
        .as_array()
        .expect("list")
        .iter()
        .map(|m| m["full_name"].as_str().expect("name").to_string())
        .collect()
}

#[tokio::test]
async fn members_who_recorded_nothing_are_listed_and_counted() {
    let app = spawn_app().await;
    let f = field(&app).await;
    registered_in_2025(&app);
    let (officer, leader, member) = f.actors(&app);
    member
        .create(
            "/api/v1/assistance-logs",
            crate::fieldwork::log(uuid::Uuid::new_v4()),
        )
        .await;
    // Elsewhere in the province, a member who recorded nothing either.
    let province = app.hanoi_officer().await;
    let far = app
        .actor("hcm.officer", "province_officer", Some("79"), None)
        .await;
    let team_b = app.create_team("00008", "Tổ CNCĐ xã B");
    province
        .create(
            &format!("/api/v1/teams/{team_b}/members"),
            json!({"full_name": "Trần Văn Bê", "affiliation": "teacher", "joined_on": "2025-01-01"}),
        )
        .await;

    let path = "/api/v1/reports/inactive?month=2025-10";
    let mine = officer
        .get(&format!("{path}&unit=00004"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(inactive(&officer, "&unit=00004").await, ["Lê Tổ Trưởng"]);
    assert_eq!(mine[0]["team_id"], f.team);
    assert_eq!(mine[0]["member_id"], f.leader_member);
    let own = officer.get(path).await.expect(StatusCode::OK);
    assert_eq!(own, mine, "a commune officer's own commune by default");
    assert_eq!(
        inactive(&province, "&unit=01").await,
        ["Lê Tổ Trưởng", "Trần Văn Bê"]
    );
    let in_team_b = format!("&team={team_b}");
    assert_eq!(inactive(&province, &in_team_b).await, ["Trần Văn Bê"]);
    assert_eq!(inactive(&leader, "").await, ["Lê Tổ Trưởng"]);
    for (by, query, status, code) in [
        (
            &leader,
            in_team_b.as_str(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (&member, "", StatusCode::FORBIDDEN, "forbidden"),
        (&far, "&unit=00004", StatusCode::NOT_FOUND, "not_found"),
        (
            &officer,
            in_team_b.as_str(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ] {
        by.get(&format!("{path}{query}"))
            .await
            .problem(status, code);
    }
    // Before they joined, nobody is listed.
    let before = officer
        .get("/api/v1/reports/inactive?month=2025-07&unit=00004")
        .await
        .expect(StatusCode::OK);
    assert_eq!(before.as_array().expect("l").len(), 0);

    // The report counts them, per team too, and the province adds up.
    let rep = report(&app, &f.officer, "00004", "2025-10", "").await;
    assert_eq!(rep["totals"]["members_inactive"], 1);
    assert_eq!(
        row(&rep, &f.team.to_string())["figures"]["members_inactive"],
        1
    );
    let prov = report(&app, &province.token, "01", "2025-10", "").await;
    assert_eq!(prov["totals"]["members_inactive"], 2);
    assert_eq!(row(&prov, "00008")["figures"]["members_inactive"], 1);
}

/// The field's year 2025 as its member's phone should see it, beside what it should not:
/// targets of its commune, village and team (and of others), its village's denominators and
/// value, and a far commune's denominators.
async fn targets_near_and_far(app: &TestApp, f: &Field) {
    let officer = app.acting(&f.officer);
    let province = app.hanoi_officer().await;
    let other_village = officer
        .village_in(Some("00004"), "Tổ dân phố 9", "thon")
        .await;
    let far_village = province.village_in(Some("00008"), "Thôn xa", "thon").await;
    let (percent, count) = (Target::percent, Target::value);
    let (village, other, team) = (
        f.village.to_string(),
        other_village.to_string(),
        f.team.to_string(),
    );
    for (by, target) in [
        (
            &province,
            percent("vneid_level2", 2025, "commune", "00004", 80),
        ),
        (
            &province,
            percent("vneid_level2", 2025, "commune", "00008", 70),
        ),
        (
            &officer,
            percent("smartphone", 2025, "village", &village, 80),
        ),
        (&officer, percent("smartphone", 2025, "village", &other, 60)),
        (&officer, count("ecommerce_farms", 2025, "team", &team, 20)),
        (
            &province,
            percent("vneid_level2", 2025, "province", "01", 75),
        ),
    ] {
        target.set(by).await;
    }
    Denominators::year(2025)
        .village(f.village)
        .adults(640)
        .set(&officer)
        .await;
    IndicatorValue::of("smartphone", "2025-10", 412)
        .village(f.village)
        .record(&officer)
        .await;
    Denominators::year(2025)
        .commune("00008")
        .village(far_village)
        .adults(5)
        .set(&province)
        .await;
}

#[tokio::test]
async fn the_phone_pulls_the_catalogue_and_its_villages_targets_and_figures() {
    let app = spawn_app().await;
    let f = field(&app).await;
    targets_near_and_far(&app, &f).await;
    let member = app.acting(&f.member);

    // Changes reach the feed once every older transaction of the cluster has finished, so the
    // phone pulls again until the last write shows up.
    let mut pages: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(150);
    loop {
        let (more, c) = crate::fieldwork::pull_all(&app, &f.member, cursor, 5).await;
        cursor = Some(c);
        pages.extend(more);
        let denominators_seen = pages
            .iter()
            .any(|p| p["denominators"].as_array().is_some_and(|a| !a.is_empty()));
        if denominators_seen || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let cursor = cursor.unwrap_or_default();
    let all = |key: &str| -> Vec<Value> {
        pages
            .iter()
            .flat_map(|p| p[key].as_array().expect(key).clone())
            .collect()
    };
    assert_eq!(all("indicators").len(), 12, "the whole catalogue");
    let mut seen: Vec<(String, String)> = all("indicator_targets")
        .iter()
        .map(|t| {
            (
                t["unit_kind"].as_str().expect("k").to_string(),
                t["unit_key"].as_str().expect("u").to_string(),
            )
        })
        .collect();
    seen.sort();
    let mut expected = vec![
        ("commune".to_string(), "00004".to_string()),
        ("team".to_string(), f.team.to_string()),
        ("village".to_string(), f.village.to_string()),
    ];
    expected.sort();
    assert_eq!(seen, expected, "its commune, its village and its team only");
    let values = all("indicator_values");
    assert_eq!(values.len(), 1);
    assert_eq!(values[0]["value"], 412);
    let dens = all("denominators");
    assert_eq!(dens.len(), 1, "its commune's only");
    assert_eq!(dens[0]["adults"], 640);

    // A change reaches the next pull, and only it.
    let admin = app.actor("root", "admin", None, None).await;
    admin
        .act("/api/v1/indicators/ecommerce_farms_active/retire", None)
        .await
        .expect(StatusCode::OK);
    let mut next = Value::Null;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(150);
    while std::time::Instant::now() < deadline {
        next = member
            .get(&format!("/api/v1/sync/pull?cursor={cursor}"))
            .await
            .expect(StatusCode::OK);
        if next["indicators"].as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let changed = next["indicators"].as_array().expect("indicators");
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["code"], "ecommerce_farms_active");
    assert!(changed[0]["retired_at"].is_string());
    assert_eq!(next["indicator_targets"].as_array().expect("t").len(), 0);
}

/// The year filters of the lists hold to the document's range: a year outside the
/// programme's is a 400 naming the parameter, not an empty list.
#[tokio::test]
async fn list_filters_refuse_years_outside_the_programme() {
    let app = spawn_app().await;
    let f: Field = field(&app).await;
    for path in ["/api/v1/denominators", "/api/v1/indicator-targets"] {
        for year in ["2023", "2101"] {
            let res = app.get(&format!("{path}?year={year}"), &f.officer).await;
            let body = assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
            assert_eq!(body["errors"][0]["field"], "year", "{path}: {body}");
        }
        let res = app.get(&format!("{path}?year=2026"), &f.officer).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
    }
}

/// `by` putting `body` to `path` is refused (422) with exactly one field error, `field`'s `code`.
async fn only_error(by: &Actor<'_>, path: &str, body: Value, (field, code): (&str, &str)) {
    let problem = assert_problem(
        by.put(path, None, body.clone()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    let errors = text_pairs(&problem["errors"], "field", "code");
    assert_eq!(errors, [(field, code)], "{body}: {problem}");
}

/// The texts `a` and `b` of each item of `list` (empty where one is missing).
fn text_pairs<'v>(list: &'v Value, a: &str, b: &str) -> Vec<(&'v str, &'v str)> {
    let text = |item: &'v Value, key: &str| item[key].as_str().unwrap_or("");
    let items = list.as_array().map(Vec::as_slice).unwrap_or_default();
    items.iter().map(|e| (text(e, a), text(e, b))).collect()
}

/// A value's or a target's month is read after the body's rules and before anything else: a
/// bad month is the one error, whatever else is wrong after it and whoever asks.
#[tokio::test]
async fn a_bad_month_is_refused_after_the_body_rules_and_before_all_else() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, leader, _) = f.actors(&app);
    let province = app.hanoi_officer().await;
    let of = |code: &str, month: &str, n: i64| IndicatorValue::of(code, month, n).body();
    let values = "/api/v1/indicator-values";
    let bad_month = ("month", "invalid_month");
    for (by, body, expected) in [
        (&officer, of("vneid_level2", "2025-13", 5), bad_month),
        (
            &officer,
            of("vneid_level2", "2025-10", -1),
            ("value", "out_of_range"),
        ),
        (&officer, of("vneid_level2", "2025/10", -1), bad_month),
        (
            &officer,
            of("vneid_level2", "2999-01", -1),
            ("month", "future_month"),
        ),
        (
            &officer,
            of("vneid_level2", "2023-12", 5),
            ("month", "too_old"),
        ),
        (&leader, of("vneid_level2", "2025-13", -1), bad_month),
        (
            &officer,
            of("", "2025-13", -1),
            ("indicator_code", "length"),
        ),
    ] {
        only_error(by, values, body, expected).await;
    }
    let target = |year: i32, n: i64, month: &str| {
        let mut body = Target::value("smartphone", year, "commune", "00004", n).body();
        body["month"] = json!(month);
        body
    };
    let targets = "/api/v1/indicator-targets";
    for (by, body, expected) in [
        (&province, target(2025, 5, "2025-13"), bad_month),
        (&province, target(2025, 5, "2023-05"), bad_month),
        (&province, target(2025, -3, "2025-13"), bad_month),
        (
            &province,
            target(2025, -3, "2025-05"),
            ("target_value", "out_of_range"),
        ),
        (
            &province,
            target(2025, 5, "2026-03"),
            ("month", "outside_year"),
        ),
        (&leader, target(2025, 5, "2025-13"), bad_month),
        (&province, target(2023, 5, "2025-13"), ("year", "range")),
    ] {
        only_error(by, targets, body, expected).await;
    }
    let listed = province.get(targets).await.expect(StatusCode::OK);
    assert_eq!(listed.as_array().expect("l").len(), 0, "nothing written");
}
