//! One end-to-end journey through the HTTP API, as a province runs the programme: a province
//! officer onboards two communes, phones push offline across a member's move between them,
//! trainings and attendance are recorded, logs are edited, archived and restored (REST and
//! sync), the month ends and goes through submit → return → resubmit → approve, writes into
//! the approved month are refused, and every report, export, trend, status board, `/me` and
//! sync pull is compared with figures computed here from what the test sent.

use std::collections::{BTreeMap, HashMap, HashSet};

use calamine::{Data, Reader, Xlsx};
use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{approve_month, id_of, Commune, Member, Team, Training};
use crate::helpers::{assert_problem, spawn_app, Answer, TestApp};
use crate::report_figures::{
    act, assert_csv_says_what_the_json_says, assert_rows_add_up, category_names, file, parse_csv,
    post, report, row, rows_of, BREAKDOWNS, SCALARS,
};

/// Codes of a breakdown with their names as the exports head them.
type Names = &'static [(&'static str, &'static str)];

const A: &str = "00004";
const B: &str = "00008";
const MONTH: &str = "2026-09";
const NEXT: &str = "2026-10";

/// What the API dates "now" happened earlier in the journey: the register was set up in July.
fn backdate(app: &TestApp, table: &str, column: &str, id: i64, at: &str) {
    let mut conn = app.db.conn();
    let n = diesel::sql_query(format!(
        "UPDATE {table} SET {column} = '{at}'::timestamptz WHERE id = {id}"
    ))
    .execute(&mut conn)
    .expect("backdate");
    assert_eq!(n, 1);
}

/// A log as the journey sent it, and where it must be counted.
#[derive(Clone)]
struct Sent {
    id: Uuid,
    day: &'static str,
    membership: i64,
    commune: &'static str,
    team: i64,
    village: Option<i64>,
    category: &'static str,
    outcome: &'static str,
    channel: &'static str,
    sex: Option<&'static str>,
    age: Option<&'static str>,
    citizens: i64,
    live: bool,
}

impl Sent {
    fn path(&self) -> String {
        format!("/api/v1/assistance-logs/{}", self.id)
    }

    fn body(&self) -> Value {
        json!({
            "id": self.id, "occurred_at": format!("{}T09:00:00+07:00", self.day),
            "category_code": self.category, "channel": self.channel, "outcome": self.outcome,
            "citizens_helped": self.citizens, "citizen_sex": self.sex, "citizen_age_band": self.age,
            "village_id": self.village, "note": "Hướng dẫn người dân"
        })
    }
}

/// Expected log figures of one commune-month: totals and per row key.
#[derive(Default, Debug)]
struct Expected {
    scalars: BTreeMap<(String, String), i64>,
    tallies: BTreeMap<(String, String, String, String), i64>,
}

impl Expected {
    fn add(&mut self, key: &str, figure: &str, n: i64) {
        *self.scalars.entry((key.into(), figure.into())).or_default() += n;
    }
    fn tally(&mut self, key: &str, breakdown: &str, code: &str, logs: i64, citizens: i64) {
        for (part, n) in [("logs", logs), ("citizens", citizens)] {
            *self
                .tallies
                .entry((key.into(), breakdown.into(), code.into(), part.into()))
                .or_default() += n;
        }
    }
    fn scalar(&self, key: &str, figure: &str) -> i64 {
        self.scalars
            .get(&(key.to_string(), figure.to_string()))
            .copied()
            .unwrap_or(0)
    }
}

/// The keys a log or record of `village` and `team` counts under: the total and its rows.
fn rows_of_unit(village: Option<i64>, team: Option<i64>) -> [String; 3] {
    [
        "total".to_string(),
        key("village", village),
        key("team", team),
    ]
}

fn key(kind: &str, id: Option<i64>) -> String {
    format!("{kind}:{}", id.map_or("none".into(), |i| i.to_string()))
}

/// Log figures from the logs sent: totals (key "total"), village rows, team rows.
fn log_figures(logs: &[Sent], commune: &str, month: &str, e: &mut Expected) {
    let counted: Vec<&Sent> = logs
        .iter()
        .filter(|l| l.live && l.commune == commune && l.day.starts_with(month))
        .collect();
    for l in &counted {
        for k in rows_of_unit(l.village, Some(l.team)) {
            e.add(&k, "logs", 1);
            e.add(&k, "citizens_helped", l.citizens);
            e.tally(&k, "by_category", l.category, 1, l.citizens);
            e.tally(&k, "by_outcome", l.outcome, 1, l.citizens);
            e.tally(&k, "by_channel", l.channel, 1, l.citizens);
            e.tally(&k, "by_sex", l.sex.unwrap_or("not_given"), 1, l.citizens);
            e.tally(
                &k,
                "by_age_band",
                l.age.unwrap_or("not_given"),
                1,
                l.citizens,
            );
        }
    }
    // members_logging: once in total and in its team; in the village of most of its logs
    // (a tie: its earliest log's).
    let mut per_member: BTreeMap<i64, Vec<&Sent>> = BTreeMap::new();
    for l in &counted {
        per_member.entry(l.membership).or_default().push(l);
    }
    for (_, mut ls) in per_member {
        ls.sort_by_key(|l| l.day);
        let mut n: HashMap<Option<i64>, i64> = HashMap::new();
        for l in &ls {
            *n.entry(l.village).or_default() += 1;
        }
        let most = n.values().max().copied().unwrap_or(0);
        let village = ls
            .iter()
            .find(|l| n[&l.village] == most)
            .expect("a log")
            .village;
        e.add("total", "members_logging", 1);
        e.add(&key("village", village), "members_logging", 1);
        e.add(&key("team", Some(ls[0].team)), "members_logging", 1);
    }
}

/// Compares a commune report with what was expected: totals and every row.
fn assert_report(r: &Value, e: &Expected, what: &str) {
    let figures_of = |k: &str| -> Value {
        if k == "total" {
            return r["totals"].clone();
        }
        let (kind, id) = k.split_once(':').expect("key");
        rows_of(r, kind)
            .into_iter()
            .find(|x| x["key"] == id)
            .map(|x| x["figures"].clone())
            .unwrap_or_else(|| panic!("{what}: no row {k} in {r}"))
    };
    let mut keys: HashSet<String> = e.scalars.keys().map(|(k, _)| k.clone()).collect();
    keys.extend(e.tallies.keys().map(|(k, ..)| k.clone()));
    for kind in ["village", "team"] {
        for x in rows_of(r, kind) {
            keys.insert(format!("{kind}:{}", x["key"].as_str().expect("key")));
        }
    }
    keys.insert("total".into());
    for k in &keys {
        let f = figures_of(k);
        for name in SCALARS {
            assert_eq!(
                f[name].as_i64(),
                Some(e.scalar(k, name)),
                "{what}: {k} {name}"
            );
        }
        for b in BREAKDOWNS {
            for (code, t) in f[b].as_object().expect("breakdown") {
                for part in ["logs", "citizens"] {
                    let want = e
                        .tallies
                        .get(&(k.clone(), b.to_string(), code.clone(), part.to_string()))
                        .copied()
                        .unwrap_or(0);
                    assert_eq!(
                        t[part].as_i64(),
                        Some(want),
                        "{what}: {k} {b}.{code}.{part}"
                    );
                }
            }
        }
    }
    assert_rows_add_up(
        &rows_of(r, "village"),
        &r["totals"],
        &format!("{what} village rows"),
    );
    assert_rows_add_up(
        &rows_of(r, "team"),
        &r["totals"],
        &format!("{what} team rows"),
    );
}

/// A log of `day` in September's scenarios: done at home for a woman over 60 unless told.
fn sent(
    day: &'static str,
    membership: i64,
    commune: &'static str,
    team: i64,
    village: Option<i64>,
    category: &'static str,
    citizens: i64,
) -> Sent {
    Sent {
        id: Uuid::new_v4(),
        day,
        membership,
        commune,
        team,
        village,
        category,
        outcome: "done",
        channel: "home_visit",
        sex: Some("female"),
        age: Some("60_plus"),
        citizens,
        live: true,
    }
}

/// Hà Nội at the start of the journey: communes A and B onboarded by the province officer,
/// villages registered in July, teams decided in August, members with phone accounts (the
/// phone number is the login). B2 has no account and leaves on 2026-09-25.
struct World<'a> {
    app: &'a TestApp,
    admin: String,
    province: String,
    officer: HashMap<&'static str, String>,
    va1: i64,
    va2: i64,
    vb1: i64,
    ta1: i64,
    ta2: i64,
    tb1: i64,
    a1: i64,
    x_old: i64,
    a2: i64,
    b1: i64,
    b2: i64,
    a1_phone: String,
    x_phone: String,
    a2_phone: String,
    b1_phone: String,
}

impl<'a> World<'a> {
    async fn onboard(app: &'a TestApp) -> World<'a> {
        let admin = app.actor("root", "admin", None, None).await;
        let province = app.hanoi_officer().await;
        let a = Commune::onboarded(&province, A, "ubnd.a").await;
        let b = Commune::onboarded(&province, B, "ubnd.b").await;
        let va1 = province.village_in(Some(A), "Thôn Đông", "thon").await;
        let va2 = province.village_in(Some(A), "Thôn Tây", "thon").await;
        let vb1 = province.village_in(Some(B), "Thôn Nam", "thon").await;
        for v in [va1, va2, vb1] {
            backdate(
                app,
                "villages",
                "created_at",
                v,
                "2026-07-01T08:00:00+07:00",
            );
        }
        let decided = |name: &str| Team::named(name).decided("12/QĐ-UBND", "2026-08-01");
        let ta1 = a.team(decided("Tổ CNCĐ Thôn Đông").village(va1)).await;
        let ta2 = a.team(decided("Tổ CNCĐ xã")).await;
        let tb1 = b.team(decided("Tổ CNCĐ Thôn Nam").village(vb1)).await;
        let (leader, member) = (
            |name: &str, phone: &str| Member::leader(name).phone(phone).joined("2026-08-01"),
            |name: &str, phone: &str| Member::ordinary(name).phone(phone).joined("2026-08-01"),
        );
        let a1 = a.member(ta1, leader("Lê Văn An", "0913000001")).await;
        let x = a.member(ta1, member("Phạm Thị Xuân", "0913000002")).await;
        let a2_joins = leader("Trần Văn Hai", "0913000003").joined("2026-09-05");
        let a2 = a.member(ta2, a2_joins).await;
        let b1 = b.member(tb1, leader("Ngô Thị Bình", "0913000004")).await;
        let b2_joins = Member::ordinary("Đỗ Văn Ba").joined("2026-08-01");
        let b2 = b.member(tb1, b2_joins).await;
        b.officer
            .patch(
                &format!("/api/v1/members/{}", b2.id),
                None,
                json!({"left_on": "2026-09-25"}),
            )
            .await
            .expect(StatusCode::OK);
        World {
            app,
            admin: admin.token,
            province: province.token,
            officer: HashMap::from([(A, a.officer.token), (B, b.officer.token)]),
            va1,
            va2,
            vb1,
            ta1,
            ta2,
            tb1,
            a1: a1.id,
            x_old: x.id,
            a2: a2.id,
            b1: b1.id,
            b2: b2.id,
            a1_phone: a1.phone().token,
            x_phone: x.phone().token,
            a2_phone: a2.phone().token,
            b1_phone: b1.phone().token,
        }
    }

    /// A village of commune `c`, made by the province officer.
    async fn village(&self, c: &str, name: &str) -> i64 {
        self.app
            .acting(&self.province)
            .village_in(Some(c), name, "thon")
            .await
    }

    /// A log X recorded: under its membership in A before the move, in B from the move day.
    fn x(
        &self,
        x_new: i64,
        day: &'static str,
        village: Option<i64>,
        category: &'static str,
        citizens: i64,
    ) -> Sent {
        let (m, c, t) = if day < "2026-09-20" {
            (self.x_old, A, self.ta1)
        } else {
            (x_new, B, self.tb1)
        };
        sent(day, m, c, t, village, category, citizens)
    }
}

/// Pulls from the start until the server has nothing more; returns the last cursor.
async fn pulled_to_the_end(app: &TestApp, token: &str) -> String {
    let mut cursor = String::new();
    loop {
        let path = if cursor.is_empty() {
            "/api/v1/sync/pull".to_string()
        } else {
            format!("/api/v1/sync/pull?cursor={cursor}")
        };
        let page: Value = app.get(&path, token).await.json().await.expect("json");
        cursor = page["cursor"].as_str().expect("cursor").to_string();
        if page["has_more"] != true {
            return cursor;
        }
    }
}

#[tokio::test]
async fn a_province_runs_a_month_end_to_end() {
    let app = spawn_app().await;
    let w = World::onboard(&app).await;
    let mut logs = field_work_before_the_move(&w).await;
    // X's phone is in sync before the move: it keeps this cursor.
    let x_cursor = pulled_to_the_end(&app, &w.x_phone).await;
    let x_new = the_move(&w, &mut logs).await;
    b_and_october_work(&w, &mut logs).await;
    let t = trainings(&w, x_new).await;
    let vb2 = registry_changes(&w).await;

    let mut exp = expected_september(&w, &logs);
    let report_a = report(&app, &w.officer[A], &format!("unit={A}&month={MONTH}")).await;
    assert_report(&report_a, &exp[A], "A live");
    let report_b = report(&app, &w.officer[B], &format!("unit={B}&month={MONTH}")).await;
    assert_report(&report_b, &exp[B], "B live");
    assert!(
        rows_of(&report_b, "village")
            .iter()
            .all(|r| r["key"] != vb2.to_string().as_str()),
        "a village created after the month is no row of it"
    );

    let base = format!("/api/v1/reports/monthly/{A}/{MONTH}");
    let frozen = submit_return_resubmit_approve(&w, &base).await;
    assert_eq!(frozen["frozen"], true);
    assert_eq!(frozen["status"]["status"], "approved");
    assert_report(&frozen, &exp[A], "A frozen");

    let locked = the_approved_month_refuses_writes(&w, &logs, x_new, &t).await;
    b_works_on(&w, x_new, &mut logs, &mut exp).await;
    let report_b = register_changes_after_approval(&w, &frozen, &exp).await;
    let prov = province_and_country(&w, &frozen, &report_b).await;
    let (header, lines) = the_csv_of_the_approved_month(&w, &frozen).await;
    the_xlsx_says_what_the_csv_says(&w, &header, &lines).await;
    trend_and_status(&w, &logs, &frozen).await;
    me_follows_the_move(&w, x_new).await;
    the_phone_follows_the_move(&w, x_cursor, x_new, vb2, &logs).await;
    the_document_carries_the_journey(&w).await;
    edits_into_the_approved_month_are_refused(&w, &logs).await;
    the_province_csv(&w, &prov).await;
    reopen_and_approve_again(&w, &base, &locked, &frozen).await;
}

/// The dimensions of the CSV head, by breakdown: codes and their names.
const DIMENSIONS: [(&str, &str, Names); 4] = [
    (
        "kết quả",
        "by_outcome",
        &[
            ("done", "Đã xong"),
            ("partly_done", "Xong một phần"),
            ("referred", "Chuyển nơi khác"),
            ("could_not_help", "Chưa hỗ trợ được"),
        ],
    ),
    (
        "hình thức",
        "by_channel",
        &[
            ("home_visit", "Tại nhà"),
            ("commune_centre", "Tại trụ sở xã"),
            ("phone", "Qua điện thoại"),
            ("group_session", "Buổi hướng dẫn nhóm"),
        ],
    ),
    (
        "giới tính",
        "by_sex",
        &[
            ("male", "Nam"),
            ("female", "Nữ"),
            ("other", "Khác"),
            ("not_given", "Không rõ"),
        ],
    ),
    (
        "độ tuổi",
        "by_age_band",
        &[
            ("under_18", "Dưới 18 tuổi"),
            ("18_35", "18–35 tuổi"),
            ("36_59", "36–59 tuổi"),
            ("60_plus", "Từ 60 tuổi"),
            ("not_given", "Không rõ"),
        ],
    ),
];

/// The first logs of September: A1's three and A2's one.
fn first_logs(w: &World<'_>) -> [Sent; 4] {
    let (va1, va2, ta1, ta2, a1, a2) = (w.va1, w.va2, w.ta1, w.ta2, w.a1, w.a2);
    let l4 = sent("2026-09-05", a1, A, ta1, Some(va1), "vneid_level2", 1);
    let l5 = Sent {
        outcome: "referred",
        channel: "phone",
        sex: None,
        age: None,
        ..sent("2026-09-06", a1, A, ta1, None, "cashless_payment", 2)
    };
    let l6 = sent("2026-09-07", a1, A, ta1, Some(va1), "ecommerce", 5);
    let l7 = Sent {
        sex: Some("male"),
        age: Some("18_35"),
        ..sent("2026-09-08", a2, A, ta2, Some(va2), "other", 1)
    };
    [l4, l5, l6, l7]
}

/// Before the move: A's phones record, edit, archive and restore logs, REST and sync.
async fn field_work_before_the_move(w: &World<'_>) -> Vec<Sent> {
    let (phone_a1, phone_a2) = (w.app.acting(&w.a1_phone), w.app.acting(&w.a2_phone));
    let (va1, ta1, ta2, a1, a2) = (w.va1, w.ta1, w.ta2, w.a1, w.a2);
    let [l4, l5, l6, l7] = first_logs(w);
    for (l, phone) in [
        (&l4, &phone_a1),
        (&l5, &phone_a1),
        (&l6, &phone_a1),
        (&l7, &phone_a2),
    ] {
        let res = phone.post("/api/v1/assistance-logs", l.body()).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", l.day);
        assert_eq!(res.body["member_id"], l.membership);
        assert_eq!(res.body["team_id"], l.team);
        assert_eq!(res.body["commune_code"], l.commune);
    }
    // A log before A2 joined (2026-09-05): refused, REST and sync.
    let early = sent("2026-09-01", a2, A, ta2, None, "other", 1);
    let p = phone_a2
        .post("/api/v1/assistance-logs", early.body())
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "occurred_at");
    assert_eq!(p["errors"][0]["code"], "before_joined");
    let body = phone_a2
        .push(json!([{"op": "create_log", "data": early.body()}]))
        .await;
    assert_eq!(
        body["results"][0]["problem"]["errors"][0]["code"], "before_joined",
        "{body}"
    );
    // Edits: L4 changes its category and citizens; L5 is archived then restored; L6 archived.
    phone_a1
        .patch(
            &l4.path(),
            Some("\"1\""),
            json!({"category_code": "digital_health", "citizens_helped": 4}),
        )
        .await
        .expect(StatusCode::OK);
    let l4 = Sent {
        category: "digital_health",
        citizens: 4,
        ..l4
    };
    for l in [&l5, &l6] {
        let res = phone_a1.delete(&l.path(), None).await;
        assert!(res.status.is_success(), "archive {}", res.status);
    }
    phone_a1
        .patch(&l6.path(), None, json!({"citizens_helped": 9}))
        .await
        .problem(StatusCode::CONFLICT, "log_archived");
    let body = phone_a1
        .push(json!([{"op": "update_log", "id": l6.id, "base_version": 2, "data": {"citizens_helped": 9}}]))
        .await;
    assert_ne!(body["results"][0]["status"], "updated", "{body}");
    phone_a1
        .act(&format!("{}/restore", l5.path()), None)
        .await
        .expect(StatusCode::OK);
    let l6 = Sent { live: false, ..l6 };
    // Sync from A1's phone: a create, then an edit of it with its base version.
    let l9 = Sent {
        channel: "group_session",
        ..sent("2026-09-09", a1, A, ta1, Some(va1), "vneid_install", 3)
    };
    let body = phone_a1
        .push(json!([{"op": "create_log", "data": l9.body()}]))
        .await;
    assert_eq!(body["results"][0]["status"], "created", "{body}");
    let body = phone_a1
        .push(json!([{"op": "update_log", "id": l9.id, "base_version": 1, "data": {"citizens_helped": 6}}]))
        .await;
    assert_eq!(body["results"][0]["status"], "updated", "{body}");
    let l9 = Sent { citizens: 6, ..l9 };
    vec![l4, l5, l6, l7, l9]
}

/// The move: X goes from A's team to B's team on 2026-09-20 (the province's officer), then
/// X's phone pushes what it recorded offline, before, on and after the move day; returns X's
/// new membership.
async fn the_move(w: &World<'_>, logs: &mut Vec<Sent>) -> i64 {
    let app = w.app;
    let province = w.province.clone();
    let x_phone = w.x_phone.clone();
    let (va1, va2, vb1, tb1, x_old) = (w.va1, w.va2, w.vb1, w.tb1, w.x_old);
    let res = app
        .post_json(
            &format!("/api/v1/members/{x_old}/move"),
            Some(&province),
            &json!({"team_id": tb1, "on": "2026-09-20"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let x_new = id_of(&res.json().await.expect("json"));
    let x = |day, village, category, citizens| w.x(x_new, day, village, category, citizens);
    let offline = vec![
        x("2026-09-10", Some(va1), "vneid_level2", 2),
        Sent {
            outcome: "referred",
            channel: "phone",
            sex: Some("male"),
            age: Some("18_35"),
            ..x("2026-09-12", Some(va2), "cashless_payment", 1)
        },
        Sent {
            outcome: "partly_done",
            channel: "commune_centre",
            sex: None,
            age: None,
            ..x("2026-09-15", None, "online_public_services", 3)
        },
        Sent {
            channel: "group_session",
            age: Some("36_59"),
            ..x("2026-09-20", Some(vb1), "ecommerce", 2)
        },
        Sent {
            sex: Some("other"),
            age: Some("under_18"),
            ..x("2026-09-22", Some(vb1), "vneid_install", 1)
        },
        x("2026-10-03", Some(vb1), "vneid_level2", 1),
    ];
    let items: Vec<Value> = offline
        .iter()
        .map(|l| json!({"op": "create_log", "data": l.body()}))
        .collect();
    let body = app.acting(&x_phone).push(Value::Array(items)).await;
    assert_eq!(body["summary"]["created"], offline.len(), "{body}");
    for l in &offline {
        let stored: Value = app
            .get(&format!("/api/v1/assistance-logs/{}", l.id), &province)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(
            (
                stored["member_id"].as_i64(),
                stored["commune_code"].as_str()
            ),
            (Some(l.membership), Some(l.commune)),
            "{}",
            l.day
        );
        assert_eq!(stored["team_id"], l.team);
    }
    logs.extend(offline);
    x_new
}

/// B's leader records for itself, and for B2 until B2 left; A1 works on into October.
async fn b_and_october_work(w: &World<'_>, logs: &mut Vec<Sent>) {
    let app = w.app;
    let a1_phone = w.a1_phone.clone();
    let b1_phone = w.b1_phone.clone();
    let (va1, vb1, ta1, tb1, a1, b1, b2) = (w.va1, w.vb1, w.ta1, w.tb1, w.a1, w.b1, w.b2);
    let l12 = Sent {
        sex: Some("male"),
        ..sent("2026-09-21", b1, B, tb1, Some(vb1), "vneid_level2", 3)
    };
    let l13 = sent("2026-09-24", b2, B, tb1, None, "mobile_money", 2);
    for l in [&l12, &l13] {
        let mut body = l.body();
        body["member_id"] = json!(l.membership);
        let res = app
            .post_json("/api/v1/assistance-logs", Some(&b1_phone), &body)
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let mut late = sent("2026-09-26", b2, B, tb1, None, "other", 1).body();
    late["member_id"] = json!(b2);
    let res = app
        .post_json("/api/v1/assistance-logs", Some(&b1_phone), &late)
        .await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["code"], "after_left");
    let a1_october = sent("2026-10-05", a1, A, ta1, Some(va1), "vneid_level2", 2);
    let res = app
        .post_json(
            "/api/v1/assistance-logs",
            Some(&a1_phone),
            &a1_october.body(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    logs.extend([l12, l13, a1_october]);
}

/// A member training of commune `c` on `day`, 08:00–11:00.
fn member_training(c: &str, day: &str) -> Training {
    Training::on(day)
        .title("Tập huấn kỹ năng số")
        .commune(c)
        .hours("08:00", "11:00")
}

/// A citizen class of commune `c` on `day` in the evening, with `n` participants.
fn class(c: &str, day: &str, village: Option<i64>, n: i64) -> Training {
    Training::on(day)
        .title("Lớp Bình dân học vụ số")
        .commune(c)
        .village(village)
        .hours("19:00", "21:00")
        .class(n)
}

/// The trainings of September that later steps touch.
struct Trainings {
    t_a1: String,
    c_a2: String,
    c_a3: String,
}

/// Trainings with attendance: A's officer and A1's phone in A, B's leader (sync) in B.
async fn trainings(w: &World<'_>, x_new: i64) -> Trainings {
    let app = w.app;
    let (officer, a1_phone, b1_phone) = (
        app.acting(&w.officer[A]),
        app.acting(&w.a1_phone),
        app.acting(&w.b1_phone),
    );
    let (a1, x_old, a2, b1, b2, va1, va2) = (w.a1, w.x_old, w.a2, w.b1, w.b2, w.va1, w.va2);
    let t_a0 = member_training(A, "2026-09-02").create(&officer).await;
    let t_a1 = member_training(A, "2026-09-12").create(&officer).await;
    // A2 joined on 2026-09-05: not at a training of 2026-09-02.
    let res = officer
        .attend(&t_a0, json!([{"member_id": a2, "status": "attended"}]))
        .await;
    let p = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    assert_eq!(p["errors"][0]["code"], "before_joined", "{p}");
    officer
        .attend(
            &t_a1,
            json!([{"member_id": a1, "status": "completed"}, {"member_id": x_old, "status": "attended"},
                   {"member_id": a2, "status": "invited"}]),
        )
        .await
        .expect(StatusCode::OK);
    class(A, "2026-09-18", Some(va1), 30)
        .create(&a1_phone)
        .await;
    let c_a2 = class(A, "2026-09-14", Some(va2), 12).create(&officer).await;
    let c_a3 = class(A, "2026-09-16", None, 50).create(&officer).await;
    for (t, restore) in [(&c_a2, true), (&c_a3, false)] {
        let res = officer
            .delete(&format!("/api/v1/trainings/{t}"), None)
            .await;
        assert!(res.status().is_success(), "archive training");
        if restore {
            officer
                .send(
                    Method::POST,
                    &format!("/api/v1/trainings/{t}/restore"),
                    None,
                    None,
                )
                .await
                .expect(StatusCode::OK);
        }
    }
    // B's leader runs its team's training; attendance from its phone (sync).
    let t_b1 = member_training(B, "2026-09-23").create(&b1_phone).await;
    let items: Vec<Value> = [(x_new, "attended"), (b1, "completed"), (b2, "attended")]
        .iter()
        .map(|(m, st)| json!({"op": "upsert_attendance", "training_id": t_b1, "data": {"member_id": m, "status": st}}))
        .collect();
    let body = b1_phone.push(Value::Array(items)).await;
    assert_eq!(body["summary"]["created"], 3, "{body}");
    Trainings { t_a1, c_a2, c_a3 }
}

/// VA2 is archived mid-September (it existed in September, not in October); VB2 is created
/// after the month. Returns VB2.
async fn registry_changes(w: &World<'_>) -> i64 {
    let va2 = w.va2;
    w.app
        .acting(&w.officer[A])
        .delete(&format!("/api/v1/villages/{va2}"), None)
        .await
        .expect(StatusCode::OK);
    backdate(
        w.app,
        "villages",
        "archived_at",
        va2,
        "2026-09-15T12:00:00+07:00",
    );
    w.village(B, "Thôn Mới").await
}

/// What A registered in September: villages, teams, members, trainings and attendance.
fn expect_register_a(w: &World<'_>, e: &mut Expected) {
    let (va1, va2, ta1, ta2) = (w.va1, w.va2, w.ta1, w.ta2);
    for (k, n) in [
        ("total".to_string(), 2),
        (key("village", Some(va1)), 1),
        (key("village", Some(va2)), 1),
        ("team:none".to_string(), 2),
    ] {
        let k = k.as_str();
        e.add(k, "villages", n);
    }
    for k in ["total", key("village", Some(va1)).as_str(), "team:none"] {
        e.add(k, "villages_with_team", 1);
    }
    for (t, v) in [(ta1, Some(va1)), (ta2, None)] {
        for k in rows_of_unit(v, Some(t)) {
            e.add(&k, "teams_active", 1);
        }
    }
    // A1 and X (left on the move day) in TA1; A2 joined in TA2.
    for (t, v, joined, left) in [
        (ta1, Some(va1), 0, 0),
        (ta1, Some(va1), 0, 1),
        (ta2, None, 1, 0),
    ] {
        for k in rows_of_unit(v, Some(t)) {
            e.add(&k, "members_active", 1);
            e.add(&k, "members_joined", joined);
            e.add(&k, "members_left", left);
        }
    }
    // Member trainings of the commune (no team, no village); classes by village and team.
    e.add("total", "member_trainings", 2);
    e.add("village:none", "member_trainings", 2);
    e.add("team:none", "member_trainings", 2);
    for (k, classes, participants) in [
        ("total".to_string(), 2, 42),
        (key("village", Some(va1)), 1, 30),
        (key("village", Some(va2)), 1, 12),
        (key("team", Some(ta1)), 1, 30),
        ("team:none".to_string(), 1, 12),
    ] {
        e.add(&k, "citizen_classes", classes);
        e.add(&k, "class_participants", participants);
    }
    // A1 completed, X attended (both TA1 in VA1), A2 invited.
    for k in rows_of_unit(Some(va1), Some(ta1)) {
        e.add(&k, "attendance_attended", 2);
        e.add(&k, "attendance_completed", 1);
    }
}

/// What B registered in September: its village, team, members, training and attendance.
fn expect_register_b(w: &World<'_>, e: &mut Expected) {
    let (vb1, tb1) = (w.vb1, w.tb1);
    for k in ["total", key("village", Some(vb1)).as_str(), "team:none"] {
        e.add(k, "villages", 1);
        e.add(k, "villages_with_team", 1);
    }
    for k in rows_of_unit(Some(vb1), Some(tb1)) {
        e.add(&k, "teams_active", 1);
        // B1; B2 left on the 25th; X joined on the move day.
        e.add(&k, "members_active", 3);
        e.add(&k, "members_joined", 1);
        e.add(&k, "members_left", 1);
        e.add(&k, "attendance_attended", 3);
        e.add(&k, "attendance_completed", 1);
    }
    for k in [
        "total".to_string(),
        "village:none".to_string(),
        key("team", Some(tb1)),
    ] {
        e.add(&k, "member_trainings", 1);
    }
}

/// Expected figures of September, from what was sent and registered.
fn expected_september(w: &World<'_>, logs: &[Sent]) -> HashMap<&'static str, Expected> {
    let mut exp: HashMap<&str, Expected> = HashMap::new();
    for c in [A, B] {
        let e = exp.entry(c).or_default();
        log_figures(logs, c, MONTH, e);
    }
    expect_register_a(w, exp.get_mut(A).expect("A"));
    expect_register_b(w, exp.get_mut(B).expect("B"));
    exp
}

/// The workflow: submit → return with a reason → resubmit → approve; returns the frozen report.
async fn submit_return_resubmit_approve(w: &World<'_>, base: &str) -> Value {
    let app = w.app;
    let officer = &w.officer;
    let province = w.province.clone();
    assert_eq!(
        act(app, &officer[A], &format!("{base}/submit"))
            .await
            .status(),
        StatusCode::OK
    );
    let res = app
        .post_json(
            &format!("{base}/return"),
            Some(&province),
            &json!({"reason": "Thiếu số liệu lớp học"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let returned: Value = res.json().await.expect("json");
    assert_eq!(returned["status"], "returned", "{returned}");
    assert_eq!(returned["reason"], "Thiếu số liệu lớp học");
    approve_month(&app.acting(&officer[A]), &app.acting(&province), A, MONTH).await;
    let frozen = report(app, &officer[A], &format!("unit={A}&month={MONTH}")).await;
    frozen
}

/// Writes into the approved month are refused, REST and sync alike; returns the refused log.
async fn the_approved_month_refuses_writes(
    w: &World<'_>,
    logs: &[Sent],
    x_new: i64,
    t: &Trainings,
) -> Sent {
    let (officer, phone_a1, phone_x) = (
        w.app.acting(&w.officer[A]),
        w.app.acting(&w.a1_phone),
        w.app.acting(&w.x_phone),
    );
    let locked_month = |answer: Answer| answer.problem(StatusCode::CONFLICT, "month_locked");
    let locked = sent("2026-09-28", w.a1, A, w.ta1, Some(w.va1), "other", 1);
    locked_month(
        phone_a1
            .post("/api/v1/assistance-logs", locked.body())
            .await,
    );
    let (l4, l6, l9) = (&logs[0], &logs[2], &logs[4]);
    locked_month(
        phone_a1
            .patch(&l4.path(), None, json!({"citizens_helped": 7}))
            .await,
    );
    locked_month(phone_a1.delete(&l4.path(), None).await);
    locked_month(phone_a1.act(&format!("{}/restore", l6.path()), None).await);
    for (phone, item) in [
        (
            &phone_a1,
            json!({"op": "create_log", "data": locked.body()}),
        ),
        (
            &phone_a1,
            json!({"op": "update_log", "id": l9.id, "base_version": 2, "data": {"citizens_helped": 1}}),
        ),
        // X, now in B, sends one more log of its days in A: A's month is locked.
        (
            &phone_x,
            json!({"op": "create_log", "data": w.x(x_new, "2026-09-11", None, "other", 1).body()}),
        ),
        (
            &phone_a1,
            json!({"op": "upsert_attendance", "training_id": t.t_a1, "data": {"member_id": w.a2, "status": "attended"}}),
        ),
    ] {
        let body = phone.push(json!([item])).await;
        assert_eq!(body["results"][0]["status"], "rejected", "{body}");
        assert_eq!(
            body["results"][0]["problem"]["code"], "month_locked",
            "{body}"
        );
    }
    locked_month(
        officer
            .post("/api/v1/trainings", member_training(A, "2026-09-25").body())
            .await,
    );
    locked_month(
        officer
            .attend(&t.t_a1, json!([{"member_id": w.a2, "status": "attended"}]))
            .await,
    );
    locked_month(
        officer
            .delete(&format!("/api/v1/trainings/{}", t.c_a2), None)
            .await,
    );
    locked_month(
        officer
            .act(&format!("/api/v1/trainings/{}/restore", t.c_a3), None)
            .await,
    );
    locked
}

/// B is not approved: X's later log lands there, and B's expected figures follow.
async fn b_works_on(
    w: &World<'_>,
    x_new: i64,
    logs: &mut Vec<Sent>,
    exp: &mut HashMap<&'static str, Expected>,
) {
    let l15 = w.x(x_new, "2026-09-27", Some(w.vb1), "digital_learning", 2);
    let body = w
        .app
        .acting(&w.x_phone)
        .push(json!([{"op": "create_log", "data": l15.body()}]))
        .await;
    assert_eq!(body["results"][0]["status"], "created", "{body}");
    logs.push(l15);
    let mut e_b = Expected::default();
    log_figures(logs, B, MONTH, &mut e_b);
    let e = exp.get_mut(B).expect("B");
    e.scalars
        .retain(|(_, f), _| !["logs", "citizens_helped", "members_logging"].contains(&f.as_str()));
    e.tallies = e_b.tallies;
    e.scalars.extend(e_b.scalars);
}

/// The register changes after approval: A's frozen month does not; returns B's live report.
async fn register_changes_after_approval(
    w: &World<'_>,
    frozen: &Value,
    exp: &HashMap<&'static str, Expected>,
) -> Value {
    let app = w.app;
    let officer = &w.officer;
    let ta1 = w.ta1;
    let late_member = post(
        app,
        &officer[A],
        &format!("/api/v1/teams/{ta1}/members"),
        json!({"full_name": "Hoàng Văn Muộn", "affiliation": "teacher", "joined_on": "2026-09-10"}),
    )
    .await;
    let va3 = w.village(A, "Thôn Sau").await;
    backdate(
        app,
        "villages",
        "created_at",
        va3,
        "2026-09-03T08:00:00+07:00",
    );
    let live_a = report(
        app,
        &officer[A],
        &format!("unit={A}&month={MONTH}&live=true"),
    )
    .await;
    assert_eq!(
        live_a["totals"]["members_joined"], 2,
        "live: {}",
        late_member
    );
    assert_eq!(live_a["totals"]["villages"], 3);
    let frozen_again = report(app, &officer[A], &format!("unit={A}&month={MONTH}")).await;
    assert_eq!(frozen_again["totals"], frozen["totals"]);
    assert_eq!(frozen_again["rows"], frozen["rows"]);
    let report_b = report(app, &officer[B], &format!("unit={B}&month={MONTH}")).await;
    assert_report(&report_b, &exp[B], "B live after A's approval");
    report_b
}

/// Province and country read A frozen and B live; returns the province report.
async fn province_and_country(w: &World<'_>, frozen: &Value, report_b: &Value) -> Value {
    let app = w.app;
    let admin = w.admin.clone();
    let province = w.province.clone();
    let prov = report(app, &province, &format!("unit=01&month={MONTH}")).await;
    let row_a = row(&prov, "commune", A);
    assert_eq!(row_a["frozen"], true);
    assert_eq!(
        row_a["figures"], frozen["totals"],
        "A reads the same in the province"
    );
    let row_b = row(&prov, "commune", B);
    assert_eq!(row_b["frozen"], false);
    assert_eq!(row_b["figures"], report_b["totals"]);
    for r in rows_of(&prov, "commune") {
        if r["key"] != A && r["key"] != B {
            assert_eq!(r["figures"]["logs"], 0, "{}", r["key"]);
            assert_eq!(r["figures"]["members_active"], 0, "{}", r["key"]);
        }
    }
    assert_rows_add_up(&rows_of(&prov, "commune"), &prov["totals"], "province rows");
    let country = report(app, &admin, &format!("unit=VN&month={MONTH}")).await;
    assert_eq!(row(&country, "province", "01")["figures"], prov["totals"]);
    assert_rows_add_up(
        &rows_of(&country, "province"),
        &country["totals"],
        "country rows",
    );
    assert_eq!(country["totals"], prov["totals"], "only Hà Nội worked");
    let res = app
        .get(
            &format!("/api/v1/reports/monthly?unit=VN&month={MONTH}"),
            &province,
        )
        .await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
    prov
}

/// The CSV of A's approved month says what its JSON says; returns its header and lines.
async fn the_csv_of_the_approved_month(
    w: &World<'_>,
    frozen: &Value,
) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let app = w.app;
    let officer = &w.officer;
    let names = category_names(app, &officer[A]).await;
    let (header, lines) = parse_csv(
        &file(
            app,
            &officer[A],
            &format!("unit={A}&month={MONTH}&format=csv"),
        )
        .await,
    );
    assert_csv_says_what_the_json_says(&header, &lines, frozen, &names);
    let col = |h: &str| {
        header
            .iter()
            .position(|x| x == h)
            .unwrap_or_else(|| panic!("no {h}"))
    };
    let rows = frozen["rows"].as_array().expect("rows");
    let with_totals: Vec<&Value> = rows
        .iter()
        .map(|r| &r["figures"])
        .chain([&frozen["totals"]])
        .collect();
    for (line, figures) in lines.iter().zip(with_totals) {
        for (dimension, b, keys) in DIMENSIONS {
            for (code, name) in keys {
                for (part, prefix) in [
                    ("logs", "Lượt hỗ trợ"),
                    ("citizens", "Người dân được hỗ trợ"),
                ] {
                    assert_eq!(
                        line[col(&format!("{prefix} – {dimension}: {name}"))]
                            .parse::<i64>()
                            .ok(),
                        figures[b][code][part].as_i64(),
                        "{b}.{code}.{part}"
                    );
                }
            }
        }
        assert_eq!(
            line[col("Người dân được hỗ trợ")].parse::<i64>().ok(),
            figures["citizens_helped"].as_i64()
        );
    }
    (header, lines)
}

/// The XLSX carries the same lines and figures as the CSV.
async fn the_xlsx_says_what_the_csv_says(
    w: &World<'_>,
    header: &csv::StringRecord,
    lines: &[csv::StringRecord],
) {
    let app = w.app;
    let officer = &w.officer;
    let bytes = file(
        app,
        &officer[A],
        &format!("unit={A}&month={MONTH}&format=xlsx"),
    )
    .await;
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("a valid workbook");
    let sheet = book.worksheet_range("Báo cáo").expect("sheet");
    let cell = |r: usize, c: usize| sheet.get_value((r as u32, c as u32)).cloned();
    for (c, h) in header.iter().enumerate() {
        assert_eq!(cell(4, c), Some(Data::String(h.to_string())), "header {c}");
    }
    for (n, line) in lines.iter().enumerate() {
        for (c, text) in line.iter().enumerate() {
            match (cell(5 + n, c), text.parse::<f64>()) {
                (Some(Data::Float(x)), Ok(y)) => {
                    assert!((x - y).abs() < 1e-9, "line {n} column {}", &header[c])
                }
                (Some(Data::Int(x)), Ok(y)) => assert_eq!(x as f64, y),
                (Some(Data::String(x)), _) => assert_eq!(x, text),
                (got, _) => assert!(
                    text.is_empty()
                        && matches!(got, None | Some(Data::Empty) | Some(Data::Float(_))),
                    "line {n} column {}: {got:?} against {text:?}",
                    &header[c]
                ),
            }
        }
    }
}

/// Trend and status board.
async fn trend_and_status(w: &World<'_>, logs: &[Sent], frozen: &Value) {
    let app = w.app;
    let officer = &w.officer;
    let province = w.province.clone();
    let trend: Value = app
        .get(
            &format!("/api/v1/reports/trend?unit={A}&from={MONTH}&to={NEXT}"),
            &officer[A],
        )
        .await
        .json()
        .await
        .expect("json");
    let mut e_next = Expected::default();
    log_figures(logs, A, NEXT, &mut e_next);
    let points = trend
        .as_array()
        .or(trend["points"].as_array())
        .unwrap_or_else(|| panic!("{trend}"));
    assert_eq!(points.len(), 2, "{trend}");
    assert_eq!(points[0]["month"], MONTH);
    for f in ["logs", "citizens_helped", "members_logging"] {
        assert_eq!(points[0][f], frozen["totals"][f], "trend {f}");
        assert_eq!(
            points[1][f].as_i64(),
            Some(e_next.scalar("total", f)),
            "trend {NEXT} {f}"
        );
    }
    let status: Value = app
        .get(
            &format!("/api/v1/reports/status?province=01&month={MONTH}"),
            &province,
        )
        .await
        .json()
        .await
        .expect("json");
    let state_of = |c: &str| {
        status
            .as_array()
            .expect("list")
            .iter()
            .find(|r| r["commune_code"] == c)
            .unwrap_or_else(|| panic!("{c}"))["status"]
            .clone()
    };
    assert_eq!(state_of(A), "approved");
    assert_eq!(state_of(B), "draft", "B recorded work and did not submit");
}

/// /me of X's phone after the move names its new membership.
async fn me_follows_the_move(w: &World<'_>, x_new: i64) {
    let (tb1, vb1) = (w.tb1, w.vb1);
    let me = w.app.acting(&w.x_phone).get("/api/v1/me").await.body;
    assert_eq!(me["membership"]["member_id"], x_new, "{me}");
    assert_eq!(me["membership"]["team_id"], tb1);
    assert_eq!(me["membership"]["village_id"], vb1);
    assert_eq!(me["membership"]["commune_code"], B);
    assert_eq!(me["team_id"], tb1);
    assert_eq!(me["unit_code"], B);
}

/// Pulls from `x_cursor` until X's phone has what it must see of B (or the time is up):
/// returns the ids of the villages, members and logs pulled.
async fn pull_until_caught_up(
    w: &World<'_>,
    x_cursor: String,
    x_new: i64,
    vb2: i64,
    logs: &[Sent],
) -> (HashSet<i64>, HashSet<i64>, HashSet<String>) {
    let app = w.app;
    let x_phone = w.x_phone.clone();
    let mut cursor: Option<String> = Some(x_cursor);
    let mut first_page = true;
    let pull_deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let (mut villages, mut members, mut pulled_logs) =
        (HashSet::new(), HashSet::new(), HashSet::new());
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/sync/pull?cursor={c}"),
            None => "/api/v1/sync/pull".into(),
        };
        let page: Value = app.get(&path, &x_phone).await.json().await.expect("json");
        // The first page tells the phone to drop what it held of its old team; later ones not.
        assert_eq!(page["reset"], first_page, "{page}");
        first_page = false;
        villages.extend(
            page["villages"]
                .as_array()
                .expect("villages")
                .iter()
                .map(id_of),
        );
        members.extend(
            page["members"]
                .as_array()
                .expect("members")
                .iter()
                .map(id_of),
        );
        pulled_logs.extend(
            page["assistance_logs"]
                .as_array()
                .expect("logs")
                .iter()
                .map(|l| l["id"].as_str().expect("id").to_string()),
        );
        cursor = Some(page["cursor"].as_str().expect("cursor").to_string());
        // A pull sends what every transaction of the cluster below its horizon wrote (tests of
        // other databases run at once): a phone pulls again until it has caught up.
        let caught_up = villages.contains(&vb2)
            && members.contains(&x_new)
            && logs
                .iter()
                .filter(|l| l.membership == x_new)
                .all(|l| pulled_logs.contains(&l.id.to_string()));
        if page["has_more"] != true && (caught_up || std::time::Instant::now() > pull_deadline) {
            break;
        }
        if page["has_more"] != true {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    (villages, members, pulled_logs)
}

/// Sync pull of X's phone after the move: it pulls on from the cursor it held; the new
/// team's register, made before that cursor, comes too, and nothing more of A.
async fn the_phone_follows_the_move(
    w: &World<'_>,
    x_cursor: String,
    x_new: i64,
    vb2: i64,
    logs: &[Sent],
) {
    let (va1, vb1, a1, x_old, b1) = (w.va1, w.vb1, w.a1, w.x_old, w.b1);
    let (villages, members, pulled_logs) =
        pull_until_caught_up(w, x_cursor, x_new, vb2, logs).await;
    assert!(
        villages.contains(&vb1) && villages.contains(&vb2),
        "{villages:?}"
    );
    assert!(
        !villages.contains(&va1),
        "A's villages are no longer the phone's"
    );
    assert!(
        members.contains(&x_new) && members.contains(&b1),
        "{members:?}"
    );
    assert!(
        !members.contains(&a1),
        "A's members are no longer the phone's"
    );
    for l in logs.iter().filter(|l| l.membership == x_new) {
        assert!(
            pulled_logs.contains(&l.id.to_string()),
            "X's log of {} in B",
            l.day
        );
    }
    for l in logs
        .iter()
        .filter(|l| l.commune == A && l.membership != x_old)
    {
        assert!(
            !pulled_logs.contains(&l.id.to_string()),
            "A's log of {}",
            l.day
        );
    }
}

/// The served document carries the contract items of the journey.
async fn the_document_carries_the_journey(w: &World<'_>) {
    let app = w.app;
    let doc = app.openapi().await;
    for path in [
        "/api/v1/assistance-logs/{id}/restore",
        "/api/v1/trainings/{id}/restore",
    ] {
        assert!(doc["paths"][path]["post"].is_object(), "{path}");
    }
    let me_schema = &doc["components"]["schemas"]["MeOut"]["properties"]["membership"];
    assert!(me_schema.is_object(), "/me documents the membership");
    for f in ["member_id", "team_id", "village_id", "commune_code"] {
        assert!(
            doc["components"]["schemas"]["MembershipOut"]["properties"][f].is_object(),
            "{f}"
        );
    }
}

/// Edits that would carry work into the approved month are refused too.
async fn edits_into_the_approved_month_are_refused(w: &World<'_>, logs: &[Sent]) {
    let (officer, phone_a1) = (w.app.acting(&w.officer[A]), w.app.acting(&w.a1_phone));
    let october = logs
        .iter()
        .find(|l| l.day == "2026-10-05")
        .expect("A1's October log");
    phone_a1
        .patch(
            &october.path(),
            None,
            json!({"occurred_at": "2026-09-29T09:00:00+07:00"}),
        )
        .await
        .problem(StatusCode::CONFLICT, "month_locked");
    let body = phone_a1
        .push(
            json!([{"op": "update_log", "id": october.id, "base_version": 1,
                      "data": {"occurred_at": "2026-09-29T09:00:00+07:00"}}]),
        )
        .await;
    assert_eq!(
        body["results"][0]["problem"]["code"], "month_locked",
        "{body}"
    );
    phone_a1
        .patch(
            &logs[0].path(),
            None,
            json!({"occurred_at": "2026-10-06T09:00:00+07:00"}),
        )
        .await
        .problem(StatusCode::CONFLICT, "month_locked");
    let t_oct = member_training(A, "2026-10-08").create(&officer).await;
    officer
        .put(
            &format!("/api/v1/trainings/{t_oct}"),
            None,
            member_training(A, "2026-09-29").body(),
        )
        .await
        .problem(StatusCode::CONFLICT, "month_locked");
}

/// The province's CSV: a commune per line, A's marked approved.
async fn the_province_csv(w: &World<'_>, prov: &Value) {
    let app = w.app;
    let province = w.province.clone();
    let (header, lines) =
        parse_csv(&file(app, &province, &format!("unit=01&month={MONTH}&format=csv")).await);
    let col = |h: &str| {
        header
            .iter()
            .position(|x| x == h)
            .unwrap_or_else(|| panic!("no {h}"))
    };
    let prov_rows = prov["rows"].as_array().expect("rows");
    assert_eq!(lines.len(), prov_rows.len() + 1);
    for (line, r) in lines.iter().zip(prov_rows) {
        assert_eq!(&line[col("Mã")], r["key"].as_str().expect("key"));
        assert_eq!(&line[col("Loại")], "Xã, phường");
        let approved = if r["frozen"] == true { "Có" } else { "" };
        assert_eq!(&line[col("Số liệu đã phê duyệt")], approved, "{}", r["key"]);
        assert_eq!(
            line[col("Lượt hỗ trợ")].parse::<i64>().ok(),
            r["figures"]["logs"].as_i64()
        );
    }
}

/// Reopened with a reason: live again everywhere, writable; approved again, refrozen.
async fn reopen_and_approve_again(w: &World<'_>, base: &str, locked: &Sent, frozen: &Value) {
    let app = w.app;
    let officer = &w.officer;
    let admin = w.admin.clone();
    let province = w.province.clone();
    let a1_phone = w.a1_phone.clone();
    let res = app
        .post_json(
            &format!("{base}/reopen"),
            Some(&province),
            &json!({"reason": "Bổ sung thành viên"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let reopened = report(app, &officer[A], &format!("unit={A}&month={MONTH}")).await;
    assert_eq!(reopened["frozen"], false);
    assert_eq!(reopened["status"]["status"], "reopened");
    assert_eq!(reopened["status"]["reason"], "Bổ sung thành viên");
    assert_eq!(reopened["totals"]["members_joined"], 2);
    let prov = report(app, &province, &format!("unit=01&month={MONTH}")).await;
    assert_eq!(row(&prov, "commune", A)["frozen"], false);
    assert_eq!(row(&prov, "commune", A)["figures"], reopened["totals"]);
    let res = app
        .post_json("/api/v1/assistance-logs", Some(&a1_phone), &locked.body())
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    approve_month(&app.acting(&officer[A]), &app.acting(&province), A, MONTH).await;
    let refrozen = report(app, &officer[A], &format!("unit={A}&month={MONTH}")).await;
    assert_eq!(refrozen["frozen"], true);
    assert_eq!(
        refrozen["totals"]["logs"].as_i64(),
        frozen["totals"]["logs"].as_i64().map(|n| n + 1)
    );
    assert_eq!(refrozen["totals"]["members_joined"], 2);
    let prov = report(app, &province, &format!("unit=01&month={MONTH}")).await;
    assert_eq!(row(&prov, "commune", A)["figures"], refrozen["totals"]);
    let country = report(app, &admin, &format!("unit=VN&month={MONTH}")).await;
    assert_eq!(country["totals"], prov["totals"]);
    let status: Value = app
        .get(
            &format!("/api/v1/reports/status?province=01&month={MONTH}"),
            &province,
        )
        .await
        .json()
        .await
        .expect("json");
    let a_state = status
        .as_array()
        .expect("list")
        .iter()
        .find(|r| r["commune_code"] == A)
        .expect("A")
        .clone();
    assert_eq!(a_state["status"], "approved");
}

/// A membership's dates never leave out work recorded under it: a move, `left_on` or
/// `joined_on` that would is refused (the work would otherwise count for a membership that
/// did not hold its day), and nothing is stored.
#[tokio::test]
async fn membership_dates_keep_the_work_recorded_under_them() {
    let app = spawn_app().await;
    let f = crate::fieldwork::field(&app).await;
    let (officer, _, member) = f.actors(&app);
    let province = app.hanoi_officer().await;
    // The member recorded a log on 2026-09-22, before the move was registered; the leader
    // attended a training on 2026-09-23.
    let body = crate::fieldwork::log_on("2026-09-22T09:00:00+07:00");
    member.create("/api/v1/assistance-logs", body.clone()).await;
    Training::on("2026-09-23")
        .attended(
            &officer,
            json!([{"member_id": f.leader_member, "status": "attended"}]),
        )
        .await;

    let team2 = app.create_team("00008", "Tổ CNCĐ Phúc Xá");
    let move_on = |on: &'static str| province.move_member(f.member_member, team2, on);
    for on in ["2026-09-20", "2026-09-22"] {
        let p = move_on(on)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(p["errors"][0]["field"], "on", "{p}");
        assert_eq!(p["errors"][0]["code"], "work_recorded_after");
    }
    let member_path = |id: i64| format!("/api/v1/members/{id}");
    for (id, body, field, code) in [
        (
            f.member_member,
            json!({"left_on": "2026-09-21"}),
            "left_on",
            "work_recorded_after",
        ),
        (
            f.member_member,
            json!({"joined_on": "2026-09-23"}),
            "joined_on",
            "work_recorded_before",
        ),
        (
            f.leader_member,
            json!({"left_on": "2026-09-22"}),
            "left_on",
            "work_recorded_after",
        ),
    ] {
        let p = officer
            .patch(&member_path(id), None, body)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(p["errors"][0]["field"], field, "{p}");
        assert_eq!(p["errors"][0]["code"], code);
    }
    let stored = officer.get(&member_path(f.member_member)).await.body;
    assert_eq!(stored["left_on"], Value::Null);
    assert_eq!(stored["joined_on"], "2025-08-01");
    assert_eq!(stored["team_id"], f.team);

    // Dates that keep the work are taken: leaving on the day of the last work, moving after it.
    officer
        .patch(
            &member_path(f.leader_member),
            None,
            json!({"left_on": "2026-09-23"}),
        )
        .await
        .expect(StatusCode::OK);
    move_on("2026-09-23").await.expect(StatusCode::CREATED);
    let log = province
        .get(&format!(
            "/api/v1/assistance-logs/{}",
            body["id"].as_str().expect("id")
        ))
        .await
        .body;
    assert_eq!(log["member_id"], f.member_member);
    assert_eq!(log["commune_code"], "00004");
}

/// Attendance belongs to the membership held on the training's day: moving the training to a
/// day when an attendee held another membership (here: after a move to another commune) is
/// refused, and nothing is stored.
#[tokio::test]
async fn a_training_keeps_its_attendees_in_their_membership() {
    let app = spawn_app().await;
    let f = crate::fieldwork::field(&app).await;
    let (officer, _, _) = f.actors(&app);
    let province = app.hanoi_officer().await;
    let on = |day: &str| Training::on(day).body();
    let t = Training::on("2026-09-12")
        .attended(
            &officer,
            json!([{"member_id": f.member_member, "status": "attended"}]),
        )
        .await;
    let path = format!("/api/v1/trainings/{t}");
    let team2 = app.create_team("00008", "Tổ CNCĐ Phúc Xá");
    province
        .move_member(f.member_member, team2, "2026-09-20")
        .await
        .expect(StatusCode::CREATED);

    for day in ["2026-09-20", "2026-09-22"] {
        let p = officer
            .put(&path, None, on(day))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(p["errors"][0]["field"], "starts_at", "{p}");
        assert_eq!(p["errors"][0]["code"], "attendee_not_member");
    }
    // Nor does a training with attendance become a citizen class (attendance is counted for
    // member trainings only).
    let class = Training::on("2026-09-12").class(20).body();
    let p = officer
        .put(&path, None, class)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(p["errors"][0]["field"], "kind", "{p}");
    assert_eq!(p["errors"][0]["code"], "has_attendance");
    let stored = officer.get(&path).await.body;
    assert_eq!(stored["starts_at"], "2026-09-12T01:00:00Z");
    assert_eq!(stored["kind"], "member_training");
    // A day the attendee still held the membership is taken.
    officer
        .put(&path, None, on("2026-09-19"))
        .await
        .expect(StatusCode::OK);
    let report = report(&app, &f.officer, "unit=00004&month=2026-09").await;
    assert_eq!(report["totals"]["attendance_attended"], 1);
    assert_eq!(
        row(&report, "team", &f.team.to_string())["figures"]["attendance_attended"],
        1
    );
}

/// A log is restored only in a live village, as it is created only in one (and as a training
/// is restored): 409 `parent_archived`, and it stays archived; restored with its village.
#[tokio::test]
async fn a_log_is_restored_only_in_a_live_village() {
    let app = spawn_app().await;
    let f = crate::fieldwork::field(&app).await;
    let (officer, leader, _) = f.actors(&app);
    let v2 = officer.village_in(None, "Thôn Hai", "thon").await;
    let mut body = crate::fieldwork::log_on("2026-09-11T09:00:00+07:00");
    body["village_id"] = json!(v2);
    leader.create("/api/v1/assistance-logs", body.clone()).await;
    let path = format!(
        "/api/v1/assistance-logs/{}",
        body["id"].as_str().expect("id")
    );
    let village = format!("/api/v1/villages/{v2}");
    leader.delete(&path, None).await.expect(StatusCode::OK);
    officer.delete(&village, None).await.expect(StatusCode::OK);

    leader
        .act(&format!("{path}/restore"), None)
        .await
        .problem(StatusCode::CONFLICT, "parent_archived");
    let stored = leader.get(&path).await.body;
    assert!(stored["archived_at"].is_string(), "{stored}");
    let month = report(&app, &f.officer, "unit=00004&month=2026-09").await;
    assert_eq!(month["totals"]["logs"], 0);

    officer
        .act(&format!("{village}/restore"), None)
        .await
        .expect(StatusCode::OK);
    leader
        .act(&format!("{path}/restore"), None)
        .await
        .expect(StatusCode::OK);
    let month = report(&app, &f.officer, "unit=00004&month=2026-09").await;
    assert_eq!(
        row(&month, "village", &v2.to_string())["figures"]["logs"],
        1
    );
}
