//! Report figures recomputed in the test from what it sent: rows that add up to the totals,
//! registry figures of past months, approved months read the same everywhere, the month that
//! is not over yet, and the exported files (CSV and XLSX) against the JSON.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, Duration, Months, NaiveDate, Utc};
use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fieldwork::{field, log, log_on};
use crate::fixtures::approve_month;
use crate::helpers::{spawn_app, Actor, TestApp};

/// The calendar month of an instant in Vietnam (UTC+7), `YYYY-MM`.
fn vn_month(t: DateTime<Utc>) -> String {
    (t + Duration::hours(7)).format("%Y-%m").to_string()
}

fn previous_month(month: &str) -> String {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").expect("month");
    (first - Months::new(1)).format("%Y-%m").to_string()
}

/// A moment safely inside a month (the 10th, 09:00 Vietnam time), or `now - 2 min` for the
/// current month.
fn moment_in(month: &str) -> String {
    if month == vn_month(Utc::now()) {
        (Utc::now() - Duration::minutes(2)).to_rfc3339()
    } else {
        format!("{month}-10T09:00:00+07:00")
    }
}

pub(crate) async fn report(app: &TestApp, token: &str, query: &str) -> Value {
    let res = app
        .get(&format!("/api/v1/reports/monthly?{query}"), token)
        .await;
    assert_eq!(res.status(), StatusCode::OK, "report {query}");
    res.json().await.expect("json")
}

pub(crate) async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let res = app.post_json(path, Some(token), &body).await;
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.expect("json")
}

/// The names of the log categories by code, as `token` reads them.
pub(crate) async fn category_names(app: &TestApp, token: &str) -> HashMap<String, String> {
    let categories: Value = app
        .get("/api/v1/categories", token)
        .await
        .json()
        .await
        .expect("json");
    categories["items"]
        .as_array()
        .or(categories.as_array())
        .expect("categories")
        .iter()
        .map(|c| {
            (
                c["code"].as_str().expect("code").into(),
                c["name"].as_str().expect("name").into(),
            )
        })
        .collect()
}

pub(crate) async fn act(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.request(Method::POST, path)
        .bearer_auth(token)
        .send()
        .await
        .expect("sent")
}

pub(crate) const SCALARS: [&str; 14] = [
    "teams_active",
    "members_active",
    "members_joined",
    "members_left",
    "members_logging",
    "villages",
    "villages_with_team",
    "member_trainings",
    "citizen_classes",
    "attendance_attended",
    "attendance_completed",
    "class_participants",
    "logs",
    "citizens_helped",
];
pub(crate) const BREAKDOWNS: [&str; 5] = [
    "by_category",
    "by_outcome",
    "by_channel",
    "by_sex",
    "by_age_band",
];

/// Every figure of `totals` equals the sum of that figure over `rows`.
pub(crate) fn assert_rows_add_up(rows: &[&Value], totals: &Value, what: &str) {
    for name in SCALARS {
        let sum: i64 = rows
            .iter()
            .map(|r| r["figures"][name].as_i64().expect("n"))
            .sum();
        assert_eq!(Some(sum), totals[name].as_i64(), "{what}: {name}");
    }
    for name in BREAKDOWNS {
        for (key, tally) in totals[name].as_object().expect("map") {
            for part in ["logs", "citizens"] {
                let sum: i64 = rows
                    .iter()
                    .map(|r| r["figures"][name][key][part].as_i64().unwrap_or(0))
                    .sum();
                assert_eq!(
                    Some(sum),
                    tally[part].as_i64(),
                    "{what}: {name}.{key}.{part}"
                );
            }
        }
    }
}

pub(crate) fn rows_of<'a>(report: &'a Value, kind: &str) -> Vec<&'a Value> {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["kind"] == kind)
        .collect()
}

pub(crate) fn row<'a>(report: &'a Value, kind: &str, key: &str) -> &'a Value {
    rows_of(report, kind)
        .into_iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no {kind} row {key}"))
}

#[tokio::test]
async fn every_breakdown_adds_up_to_the_totals() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, leader, member) = f.actors(&app);
    let month = vn_month(Utc::now() - Duration::minutes(2));
    let v1 = f.village;
    let v2 = officer.village_in(None, "Thôn Hai", "thon").await;
    a_team_without_a_village_and_a_training_of_the_commune(&officer, &month).await;

    // (who, village, minutes before now, citizens): the member logs twice in v1 and once in
    // v2, the leader once without a village (earlier) and once in v2: a tie, so its earliest
    // counts.
    let sent: [Sent; 5] = [
        ("member", Some(v1), 3, 1),
        ("member", Some(v1), 3, 2),
        ("member", Some(v2), 2, 3),
        ("leader", None, 3, 4),
        ("leader", Some(v2), 2, 5),
    ];
    for (who, village, minutes, citizens) in sent {
        let mut body = log(Uuid::new_v4());
        body["occurred_at"] = json!((Utc::now() - Duration::minutes(minutes)).to_rfc3339());
        body["citizens_helped"] = json!(citizens);
        if let Some(v) = village {
            body["village_id"] = json!(v);
        }
        let by = if who == "member" { &member } else { &leader };
        by.create("/api/v1/assistance-logs", body).await;
    }

    let r = report(&app, &f.officer, &format!("unit=00004&month={month}")).await;
    each_village_row_counts_what_was_sent(&r, &sent, [v1, v2]);
    assert_eq!(r["totals"]["logs"], sent.len());
    assert_eq!(r["totals"]["members_logging"], 2);
    assert_eq!(
        row(&r, "village", "none")["name"],
        "Không thuộc thôn, tổ dân phố nào"
    );
    assert_eq!(row(&r, "team", "none")["figures"]["villages"], 2);
    assert_eq!(r["totals"]["teams_active"], 2);
    assert_eq!(row(&r, "village", "none")["figures"]["teams_active"], 1);
    assert_rows_add_up(&rows_of(&r, "village"), &r["totals"], "village rows");
    assert_rows_add_up(&rows_of(&r, "team"), &r["totals"], "team rows");
}

/// A log sent: (who, village, minutes before now, citizens helped).
type Sent = (&'static str, Option<i64>, i64, i64);

/// A team without a village, and a member training of the commune (no team, no village)
/// when it still falls in `month`.
async fn a_team_without_a_village_and_a_training_of_the_commune(officer: &Actor<'_>, month: &str) {
    officer
        .create("/api/v1/teams", json!({"name": "Tổ không thôn"}))
        .await;
    let start = Utc::now() - Duration::minutes(4);
    if vn_month(start) == month {
        officer
            .create(
                "/api/v1/trainings",
                json!({"title": "Tập huấn", "kind": "member_training", "mode": "in_person", "commune_code": "00004",
                       "starts_at": start.to_rfc3339(), "ends_at": (start + Duration::minutes(1)).to_rfc3339()}),
            )
            .await;
    }
}

/// Expected, from what was `sent`: logs and citizens by the log's village; a member counts
/// once, in the village of most of its logs (a tie: its earliest log's). The report `r` says
/// so for each village row (`villages` and the one of no village).
fn each_village_row_counts_what_was_sent(r: &Value, sent: &[Sent], villages: [i64; 2]) {
    let key = |v: Option<i64>| v.map_or("none".to_string(), |v| v.to_string());
    let mut logs: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut per_member: HashMap<&str, BTreeMap<String, (i64, i64)>> = HashMap::new();
    for &(who, village, minutes, citizens) in sent {
        let e = logs.entry(key(village)).or_default();
        e.0 += 1;
        e.1 += citizens;
        let m = per_member
            .entry(who)
            .or_default()
            .entry(key(village))
            .or_insert((0, 0));
        m.0 += 1;
        m.1 = m.1.max(minutes); // how long ago its earliest log was
    }
    let mut logging: BTreeMap<String, i64> = BTreeMap::new();
    for villages in per_member.values() {
        let (best, _) = villages
            .iter()
            .max_by_key(|(_, (n, ago))| (*n, *ago))
            .expect("a village");
        *logging.entry(best.clone()).or_default() += 1;
    }
    for (k, (n, citizens)) in &logs {
        let row = row(r, "village", k);
        assert_eq!(row["figures"]["logs"], *n, "logs of village {k}");
        assert_eq!(
            row["figures"]["citizens_helped"], *citizens,
            "citizens of {k}"
        );
    }
    let [v1, v2] = villages;
    for k in [v1.to_string(), v2.to_string(), "none".into()] {
        assert_eq!(
            row(r, "village", &k)["figures"]["members_logging"],
            logging.get(&k).copied().unwrap_or(0),
            "members_logging of village {k}"
        );
    }
}

/// Dates a village's registration back, as if it had been registered then (the API dates
/// every new record today).
fn registered_on(app: &TestApp, table: &str, id: i64, at: &str) {
    let mut conn = app.db.conn();
    diesel::sql_query(format!(
        "UPDATE {table} SET created_at = '{at}'::timestamptz WHERE id = {id}"
    ))
    .execute(&mut conn)
    .expect("backdate");
}

#[tokio::test]
async fn past_months_count_the_registry_of_that_month() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let officer = app.acting(&f.officer);
    let now = vn_month(Utc::now());
    let past = previous_month(&now);
    // Registered long ago, archived today: it existed last month and this month.
    let old = officer.village_in(None, "Thôn Cũ", "thon").await;
    registered_on(&app, "villages", old, "2024-06-01T00:00:00+07:00");
    officer
        .delete(&format!("/api/v1/villages/{old}"), None)
        .await
        .expect(StatusCode::OK);
    // Registered today: it did not exist last month.
    let new = officer.village_in(None, "Thôn Mới", "thon").await;
    // A team established (by its decision) long ago, registered today, in no village.
    officer
        .create(
            "/api/v1/teams",
            json!({"name": "Tổ lâu năm", "established_on": "2024-05-01"}),
        )
        .await;

    // Expected: villages registered before the month's end and not archived before its start.
    let last = report(&app, &f.officer, &format!("unit=00004&month={past}")).await;
    assert_eq!(
        last["totals"]["villages"], 1,
        "only the old village existed"
    );
    let keys: Vec<&str> = rows_of(&last, "village")
        .iter()
        .map(|r| r["key"].as_str().expect("key"))
        .collect();
    // The fixture's village did not exist yet; it is a row only because the fixture's members
    // (joined in 2025) are counted in their team's village, and it counts no village.
    let fixture = f.village.to_string();
    assert_eq!(keys, [fixture.as_str(), old.to_string().as_str(), "none"]);
    assert_eq!(row(&last, "village", &fixture)["figures"]["villages"], 0);
    assert_eq!(
        row(&last, "village", &old.to_string())["figures"]["villages"],
        1
    );
    assert_eq!(
        row(&last, "village", &fixture)["figures"]["members_active"],
        2
    );
    // The fixture's team was registered today without an establishing date.
    assert_eq!(
        last["totals"]["teams_active"], 1,
        "only the long-established team"
    );
    assert_eq!(last["totals"]["villages_with_team"], 0);

    let this = report(&app, &f.officer, &format!("unit=00004&month={now}")).await;
    assert_eq!(
        this["totals"]["villages"], 3,
        "fixture, old (archived this month), new"
    );
    assert_eq!(
        row(&this, "village", &new.to_string())["figures"]["villages"],
        1
    );
    assert_eq!(this["totals"]["teams_active"], 2);
    assert_eq!(this["totals"]["villages_with_team"], 1);
    assert_rows_add_up(&rows_of(&this, "village"), &this["totals"], "village rows");
}

#[tokio::test]
async fn a_month_is_submitted_only_once_it_is_over() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let officer = app.acting(&f.officer);
    let province = app.hanoi_officer().await;
    let now = vn_month(Utc::now());
    let base = format!("/api/v1/reports/monthly/00004/{now}");
    officer
        .act(&format!("{base}/submit"), None)
        .await
        .problem(StatusCode::CONFLICT, "month_not_ended");
    province
        .act(&format!("{base}/approve"), None)
        .await
        .problem(StatusCode::CONFLICT, "month_not_ended");
    let status = province
        .get(&format!("/api/v1/reports/status?province=01&month={now}"))
        .await
        .expect(StatusCode::OK);
    let mine = status
        .as_array()
        .expect("list")
        .iter()
        .find(|c| c["commune_code"] == "00004")
        .expect("row");
    assert_ne!(mine["status"], "submitted", "nothing was stored");

    approve_month(&officer, &province, "00004", &previous_month(&now)).await;
}

#[tokio::test]
async fn approved_communes_read_the_same_in_province_and_country_reports() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, _, member) = f.actors(&app);
    let province = app.hanoi_officer().await;
    let (_, admin) = app.user_with_token("root", "admin", None, None).await;
    let month = previous_month(&vn_month(Utc::now()));
    let body = log_on(&moment_in(&month));
    member.create("/api/v1/assistance-logs", body).await;
    approve_month(&officer, &province, "00004", &month).await;
    let frozen = report(&app, &f.officer, &format!("unit=00004&month={month}")).await;
    assert_eq!(frozen["frozen"], true);
    assert!(frozen["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .all(|r| r["frozen"] == true));
    assert_eq!(frozen["totals"]["logs"], 1);
    assert_eq!(frozen["totals"]["members_joined"], 0);

    // After approval the register changes: a member who joined in that month.
    officer
        .create(
            &format!("/api/v1/teams/{}/members", f.team),
            json!({"full_name": "Trần Mới", "affiliation": "teacher", "joined_on": format!("{month}-15")}),
        )
        .await;
    let live = report(
        &app,
        &f.officer,
        &format!("unit=00004&month={month}&live=true"),
    )
    .await;
    assert_eq!(live["totals"]["members_joined"], 1);
    assert_eq!(
        live["totals"]["members_active"],
        frozen["totals"]["members_active"].as_i64().expect("n") + 1
    );

    // The province reads the frozen figures for 00004, live ones for the rest.
    let prov = report(&app, &province.token, &format!("unit=01&month={month}")).await;
    let a = row(&prov, "commune", "00004");
    assert_eq!(a["frozen"], true);
    assert_eq!(
        a["figures"], frozen["totals"],
        "the approved month reads the same"
    );
    let others: Vec<&Value> = rows_of(&prov, "commune")
        .into_iter()
        .filter(|r| r["key"] != "00004")
        .collect();
    assert!(others.iter().all(|r| r["frozen"] == false));
    assert_rows_add_up(&rows_of(&prov, "commune"), &prov["totals"], "province rows");

    // The country: Hà Nội's row holds the frozen commune, and equals the province's totals.
    let country = report(&app, &admin, &format!("unit=VN&month={month}")).await;
    let hn = row(&country, "province", "01");
    assert_eq!(hn["figures"], prov["totals"]);
    assert_eq!(hn["figures"]["members_joined"], 0);
    assert_eq!(hn["frozen"], false, "Hà Nội's other communes are live");
    assert_rows_add_up(
        &rows_of(&country, "province"),
        &country["totals"],
        "country rows",
    );
}

/// Whether a spreadsheet could read a text cell as a formula.
fn formula_like(text: &str) -> bool {
    let visible = text
        .trim_start_matches(|c: char| c.is_whitespace() || c.is_control())
        .chars()
        .next();
    text.starts_with(['\t', '\r', '\n', '\0'])
        || matches!(
            visible,
            Some('=' | '+' | '-' | '@' | '＝' | '＋' | '－' | '＠')
        )
}

/// A text cell as the export must write it: a `'` before anything formula-like.
fn neutralised(text: &str) -> String {
    if formula_like(text) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

pub(crate) fn parse_csv(bytes: &[u8]) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 byte-order mark");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header = reader.headers().expect("header").clone();
    let rows = reader.records().map(|r| r.expect("row")).collect();
    (header, rows)
}

pub(crate) async fn file(app: &TestApp, token: &str, query: &str) -> Vec<u8> {
    let res = app
        .get(&format!("/api/v1/reports/monthly?{query}"), token)
        .await;
    assert_eq!(res.status(), StatusCode::OK, "{query}");
    res.bytes().await.expect("body").to_vec()
}

#[tokio::test]
async fn exported_names_are_never_formulas() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let month = vn_month(Utc::now());
    let stored = names_that_look_like_formulas(&app.acting(&f.officer)).await;
    assert!(stored.len() >= 8);

    let (header, rows) = parse_csv(
        &file(
            &app,
            &f.officer,
            &format!("unit=00004&month={month}&format=csv"),
        )
        .await,
    );
    no_csv_cell_is_a_formula(&header, &rows, &stored);

    // XLSX: the same names as plain strings, never formulas.
    let bytes = file(
        &app,
        &f.officer,
        &format!("unit=00004&month={month}&format=xlsx"),
    )
    .await;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("a valid workbook");
    let formulas = book.worksheet_formula("Báo cáo").expect("formulas");
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no cell holds a formula"
    );
    let sheet = book.worksheet_range("Báo cáo").expect("sheet");
    for name in &stored {
        assert!(
            sheet
                .used_cells()
                .any(|(_, c, v)| c == 1 && *v == Data::String(name.clone())),
            "{name:?} as a string"
        );
    }
}

/// Villages and teams named like formulas (the first four must be accepted, the others may
/// be refused); returns the names stored.
async fn names_that_look_like_formulas(officer: &Actor<'_>) -> Vec<String> {
    let names = [
        "=HYPERLINK(\"http://x\",\"y\")",
        "+cmd|'/C calc'!A0",
        "@SUM(1)",
        "-1+1",
        "\tTab đầu",
        "\rCR đầu",
        "=1+1 (tổ)",
        "＝1+1",
        "＠SUM(1)",
    ];
    let mut stored: Vec<String> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let res = officer
            .post("/api/v1/villages", json!({"name": name, "kind": "thon"}))
            .await;
        let must_accept = i < 4;
        if res.status() == StatusCode::CREATED || must_accept {
            assert_eq!(res.status(), StatusCode::CREATED, "{name:?}");
            let v = res.body;
            stored.push(v["name"].as_str().expect("name").to_string());
        }
        let res = officer.post("/api/v1/teams", json!({"name": name})).await;
        if res.status() == StatusCode::CREATED || must_accept {
            assert_eq!(res.status(), StatusCode::CREATED, "team {name:?}");
            let t = res.body;
            stored.push(t["name"].as_str().expect("name").to_string());
        }
    }
    stored
}

/// Each `stored` name is written neutralised in the CSV's name column, and no cell starts
/// like a formula.
fn no_csv_cell_is_a_formula(
    header: &csv::StringRecord,
    rows: &[csv::StringRecord],
    stored: &[String],
) {
    let name_col = header.iter().position(|h| h == "Tên").expect("name column");
    let cells: Vec<&str> = rows.iter().map(|r| &r[name_col]).collect();
    for name in stored {
        assert!(
            cells.iter().filter(|c| **c == neutralised(name)).count() >= 1,
            "{name:?} is written as {:?} in {cells:?}",
            neutralised(name)
        );
        if formula_like(name) {
            assert!(!cells.contains(&name.as_str()), "{name:?} written raw");
        }
    }
    for record in rows.iter().chain(std::iter::once(header)) {
        for cell in record.iter() {
            let numeric = cell.parse::<f64>().is_ok();
            assert!(
                numeric || !formula_like(cell),
                "a cell starts like a formula: {cell:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_csv_says_what_the_json_says() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let month = vn_month(Utc::now() - Duration::minutes(2));
    let mut body = log(Uuid::new_v4());
    body["occurred_at"] = json!((Utc::now() - Duration::minutes(2)).to_rfc3339());
    body["village_id"] = json!(f.village);
    post(&app, &f.member, "/api/v1/assistance-logs", body).await;
    let names = category_names(&app, &f.officer).await;

    let query = format!("unit=00004&month={month}");
    let json = report(&app, &f.officer, &query).await;
    let (header, lines) = parse_csv(&file(&app, &f.officer, &format!("{query}&format=csv")).await);
    assert_csv_says_what_the_json_says(&header, &lines, &json, &names);
    let col = |h: &str| header.iter().position(|x| x == h).expect("column");
    let rows = json["rows"].as_array().expect("rows");
    let female = col("Người dân được hỗ trợ – giới tính: Nữ");
    assert_eq!(&lines[rows.len()][female], "2", "the log helped two women");
    let code_headed = header.iter().any(|h| h.contains("vneid_level2"));
    assert!(!code_headed, "categories are headed by their names");
}

/// A commune report's CSV against its JSON: a line per row then the totals, each with its kind,
/// the categories headed by their names, and every breakdown summing as the JSON's.
pub(crate) fn assert_csv_says_what_the_json_says(
    header: &csv::StringRecord,
    lines: &[csv::StringRecord],
    json: &Value,
    names: &HashMap<String, String>,
) {
    let col = |h: &str| column(header, h);
    let rows = json["rows"].as_array().expect("rows");
    assert_eq!(lines.len(), rows.len() + 1, "a line per row and the totals");
    // Village 1 and team 1 are told apart by their kind.
    for (line, row) in lines.iter().zip(rows) {
        assert_eq!(&line[col("Mã")], row["key"].as_str().expect("key"));
        let kind = match row["kind"].as_str().expect("kind") {
            "village" => "Thôn, tổ dân phố",
            "team" => "Tổ công nghệ số",
            other => panic!("{other}"),
        };
        assert_eq!(&line[col("Loại")], kind);
    }
    assert_eq!(&lines[rows.len()][col("Loại")], "Tổng");
    let with_totals: Vec<&Value> = rows
        .iter()
        .chain(std::iter::once(&json["totals"]))
        .collect();
    for (line, item) in lines.iter().zip(with_totals) {
        let figures = if item.get("figures").is_some() {
            &item["figures"]
        } else {
            item
        };
        assert_line_holds_the_figures(header, line, figures, names);
    }
}

/// The index of the column headed `h`.
fn column(header: &csv::StringRecord, h: &str) -> usize {
    header
        .iter()
        .position(|x| x == h)
        .unwrap_or_else(|| panic!("no column {h:?} in {header:?}"))
}

/// A CSV `line` holds the `figures` of its row: the logs, those of each category by `names`,
/// and each breakdown's columns add up to its figures.
fn assert_line_holds_the_figures(
    header: &csv::StringRecord,
    line: &csv::StringRecord,
    figures: &Value,
    names: &HashMap<String, String>,
) {
    let col = |h: &str| column(header, h);
    assert_eq!(
        line[col("Lượt hỗ trợ")].parse::<i64>().ok(),
        figures["logs"].as_i64()
    );
    for (code, tally) in figures["by_category"].as_object().expect("categories") {
        let name = &names[code];
        assert_eq!(
            line[col(&format!("Lượt hỗ trợ – lĩnh vực: {name}"))]
                .parse::<i64>()
                .ok(),
            tally["logs"].as_i64()
        );
        assert_eq!(
            line[col(&format!("Người dân được hỗ trợ – lĩnh vực: {name}"))]
                .parse::<i64>()
                .ok(),
            tally["citizens"].as_i64()
        );
    }
    for (dimension, key, count) in [
        ("kết quả", "by_outcome", 4),
        ("hình thức", "by_channel", 4),
        ("giới tính", "by_sex", 4),
        ("độ tuổi", "by_age_band", 5),
    ] {
        for (part, prefix) in [
            ("logs", "Lượt hỗ trợ"),
            ("citizens", "Người dân được hỗ trợ"),
        ] {
            let cols: Vec<usize> = header
                .iter()
                .enumerate()
                .filter(|(_, h)| h.starts_with(&format!("{prefix} – {dimension}: ")))
                .map(|(i, _)| i)
                .collect();
            assert_eq!(cols.len(), count, "{prefix} {dimension}");
            let csv_sum: i64 = cols
                .iter()
                .map(|i| line[*i].parse::<i64>().expect("n"))
                .sum();
            let json_sum: i64 = figures[key]
                .as_object()
                .expect("map")
                .values()
                .map(|t| t[part].as_i64().expect("n"))
                .sum();
            assert_eq!(csv_sum, json_sum, "{key} {part}");
        }
    }
}

#[tokio::test]
async fn the_monthly_report_documents_json_csv_and_xlsx() {
    let app = spawn_app().await;
    let doc = app.openapi().await;
    let content = &doc["paths"]["/api/v1/reports/monthly"]["get"]["responses"]["200"]["content"];
    assert_eq!(
        content["application/json"]["schema"]["$ref"],
        "#/components/schemas/MonthlyReport"
    );
    assert_eq!(content["text/csv"]["schema"]["type"], "string");
    let xlsx = &content["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"];
    let reference = xlsx["schema"]["$ref"].as_str().expect("a schema");
    let name = reference.rsplit('/').next().expect("name");
    let schema = &doc["components"]["schemas"][name];
    assert_eq!(schema["type"], "string", "{schema}");
    assert_eq!(schema["format"], "binary", "{schema}");
    assert!(doc["components"]["schemas"]["MonthlyReport"]["properties"]["rows"].is_object());
    assert!(doc["components"]["schemas"]["ReportRow"]["properties"]["frozen"].is_object());
}
