//! Variants of the issue 12 findings that got past the first fixes, each through the API.

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fieldwork::field;
use crate::fixtures::id_of;
use crate::helpers::{spawn_app, spawn_app_with, Actor, Answer, TestApp, PASSWORD};

const A1: &str = "00004";
const A2: &str = "00008";

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app.request(method, path).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("sent")
}

/// A citizen class of 10, with `extra` fields set.
fn class(extra: Value) -> Value {
    let mut b = json!({"title": "Lớp kỹ năng số", "kind": "citizen_class", "mode": "in_person",
        "starts_at": "2025-10-12T19:00:00+07:00", "ends_at": "2025-10-12T21:00:00+07:00",
        "participants": 10});
    for (k, v) in extra.as_object().expect("object") {
        b[k] = v.clone();
    }
    b
}

/// A village and a team of `officer`'s commune, both archived; returns their ids.
async fn archived_village_and_team(officer: &Actor<'_>) -> (i64, i64) {
    let vid = officer.village_in(None, "Thôn Cũ", "thon").await;
    let tid = id_of(
        &officer
            .create("/api/v1/teams", json!({"name": "Tổ Cũ"}))
            .await,
    );
    for path in [
        format!("/api/v1/villages/{vid}"),
        format!("/api/v1/teams/{tid}"),
    ] {
        let res = officer.delete(&path, None).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
    }
    (vid, tid)
}

// Issue 12, item 8: trainings are children of their team and village too.
#[tokio::test]
async fn trainings_are_not_put_under_archived_teams_or_villages() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let officer = app.acting(&f.officer);
    let (vid, tid) = archived_village_and_team(&officer).await;
    let under_archived = [json!({"team_id": tid}), json!({"village_id": vid})];
    let before = app.count("SELECT count(*) AS n FROM trainings");
    for extra in &under_archived {
        officer
            .post("/api/v1/trainings", class(extra.clone()))
            .await
            .problem(StatusCode::CONFLICT, "parent_archived");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM trainings"), before);

    // A live training moved under an archived parent by a replace.
    let live = officer
        .create("/api/v1/trainings", class(json!({"village_id": f.village})))
        .await;
    let path = format!("/api/v1/trainings/{}", live["id"].as_str().expect("id"));
    for extra in under_archived {
        officer
            .put(&path, None, class(extra))
            .await
            .problem(StatusCode::CONFLICT, "parent_archived");
    }
    let stored = officer.get(&path).await.body;
    assert_eq!(stored["version"], live["version"]);
    assert_eq!(stored["village_id"], f.village);
    assert_eq!(stored["team_id"], Value::Null);
}

/// A team member's account `body` for the team `team`, with a password.
fn account_in(username: &str, team: i64) -> Value {
    json!({"username": username, "password": PASSWORD, "role": "team_member", "team_id": team})
}

// Issue 12, item 8: accounts are live children of their team (they block its archive).
#[tokio::test]
async fn accounts_are_not_created_moved_or_enabled_in_archived_teams() {
    let app = spawn_app().await;
    let admin = app.actor("root", "admin", None, None).await;
    let officer = app
        .actor("a1.officer", "commune_officer", Some(A1), None)
        .await;
    let outsider = app
        .actor("a2.officer", "commune_officer", Some(A2), None)
        .await;
    let old = app.create_team(A1, "Tổ Cũ");
    let live = app.create_team(A1, "Tổ Mới");
    let sleeper = app.create_user("u.sleeper", "team_member", Some(A1), Some(old));
    let mover = app.create_user("u.mover", "team_member", Some(A1), Some(live));
    let path = format!("/api/v1/users/{sleeper}");
    officer
        .patch(&path, None, json!({"disabled": true}))
        .await
        .expect(StatusCode::OK);
    let res = officer.delete(&format!("/api/v1/teams/{old}"), None).await;
    assert_eq!(res.status, StatusCode::OK, "no live dependents left");
    let before = admin.get(&path).await.body;

    officer
        .patch(&path, None, json!({"disabled": false}))
        .await
        .problem(StatusCode::CONFLICT, "parent_archived");
    let after = admin.get(&path).await.body;
    assert_eq!(after, before, "nothing changed");
    assert_eq!(after["disabled"], true);

    officer
        .post("/api/v1/users", account_in("u.new", old))
        .await
        .problem(StatusCode::CONFLICT, "parent_archived");
    let mover_path = format!("/api/v1/users/{mover}");
    officer
        .patch(&mover_path, None, json!({"team_id": old}))
        .await
        .problem(StatusCode::CONFLICT, "parent_archived");
    assert_eq!(admin.get(&mover_path).await.body["team_id"], live);
    // Outside the caller's scope the team is simply unknown (nothing said about its state).
    let body = outsider
        .post("/api/v1/users", account_in("u.far", old))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "team_id", "{body}");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE username IN ('u.new', 'u.far')"),
        0
    );
}

/// Three memberships of the account `user` in team `t1`: one left, one archived, and the
/// current one moved to `t1b` and unlinked there. Returns the ids of the left and the archived.
async fn three_stints(officer: &Actor<'_>, t1: i64, t1b: i64, user: uuid::Uuid) -> (i64, i64) {
    let stint = |joined: &'static str| async move {
        let member = officer
            .post(
                &format!("/api/v1/teams/{t1}/members"),
                json!({"full_name": "Lê Thị Hoa", "affiliation": "resident_volunteer",
                       "joined_on": joined, "user_id": user}),
            )
            .await;
        assert_eq!(member.status, StatusCode::CREATED, "{}", member.body);
        member.body["id"].as_i64().expect("id")
    };
    let left = stint("2025-01-01").await;
    officer
        .patch(
            &format!("/api/v1/members/{left}"),
            None,
            json!({"left_on": "2025-02-01"}),
        )
        .await
        .expect(StatusCode::OK);
    let archived = stint("2025-03-01").await;
    officer
        .delete(&format!("/api/v1/members/{archived}"), None)
        .await
        .expect(StatusCode::OK);
    let current = stint("2025-04-01").await;
    let moved = officer.move_member(current, t1b, "2025-10-15").await;
    assert_eq!(moved.status, StatusCode::CREATED, "{}", moved.body);
    officer
        .patch(
            &format!("/api/v1/members/{}", moved.body["id"]),
            None,
            json!({"user_id": null}),
        )
        .await
        .expect(StatusCode::OK);
    (left, archived)
}

// Issue 12, item 7: a membership revived (back from leaving, or restored) does not bring
// back a link to an account that now works in another team.
#[tokio::test]
async fn a_revived_membership_keeps_no_link_to_an_account_elsewhere() {
    let app = spawn_app().await;
    let officer = app
        .actor("a1.officer", "commune_officer", Some(A1), None)
        .await;
    let t1 = app.create_team(A1, "Tổ Một");
    let t1b = app.create_team(A1, "Tổ Hai");
    let user = app.create_user("u.linked", "team_member", Some(A1), Some(t1));
    // An earlier stint, left; another, archived; the current one, moved to another team.
    let (left, archived) = three_stints(&officer, t1, t1b, user).await;

    officer
        .patch(
            &format!("/api/v1/members/{left}"),
            None,
            json!({"left_on": null}),
        )
        .await
        .problem(StatusCode::CONFLICT, "linked_account_elsewhere");
    officer
        .act(&format!("/api/v1/members/{archived}/restore"), None)
        .await
        .problem(StatusCode::CONFLICT, "linked_account_elsewhere");
    let inconsistent = "SELECT count(*) AS n FROM members m JOIN users u ON u.id = m.user_id \
         WHERE m.left_on IS NULL AND m.archived_at IS NULL AND u.team_id IS DISTINCT FROM m.team_id";
    assert_eq!(app.count(inconsistent), 0);
    // Revived without the link, it is fine.
    let revived = officer
        .patch(
            &format!("/api/v1/members/{left}"),
            None,
            json!({"left_on": null, "user_id": null}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(revived["user_id"], Value::Null);
    assert_eq!(app.count(inconsistent), 0);
}

fn set_password_cli(app: &TestApp, args: &[&str], password: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_toso"))
        .arg("set-password")
        .args(args)
        .env("DATABASE_URL", app.db.url())
        .env("TOSO_PASSWORD", password)
        .output()
        .expect("run toso")
}

// Issue 12, item 14: admins are peers, so the operator's command line is the way back in.
#[tokio::test]
async fn the_operator_sets_a_locked_out_admins_password_from_the_command_line() {
    let app = spawn_app().await;
    let admin = app.actor("root", "admin", None, None).await;
    let root2 = app.create_user("root2", "admin", None, None);
    diesel::sql_query("UPDATE users SET disabled = true WHERE username = 'root2'")
        .execute(&mut app.db.conn())
        .expect("disable");
    // Typed decomposed at the terminal, composed by the phone: the same password.
    let fresh = "Mật khẩu mới của quản trị viên 7";
    let typed: String = unicode_normalization::UnicodeNormalization::nfd(fresh).collect();
    assert_ne!(typed, fresh);

    // A weak password and an unknown login change nothing.
    let out = set_password_cli(&app, &["--username", "root2"], "password1");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("too easy to guess"));
    let out = set_password_cli(&app, &["--username", "nobody"], fresh);
    assert!(!out.status.success());
    assert_eq!(
        app.login_raw("root2", fresh).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let out = set_password_cli(&app, &["--username", " Root2 ", "--enable"], &typed);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        app.login_raw("root2", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let body = app
        .anyone()
        .login("root2", fresh)
        .await
        .expect(StatusCode::OK);
    assert_eq!(body["must_change_password"], true, "someone else chose it");
    let stored = admin.get(&format!("/api/v1/users/{root2}")).await.body;
    assert_eq!(stored["disabled"], false);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM audit_log WHERE entity = 'user' AND entity_id = '{root2}' \
                 AND action = 'update' AND actor_id IS NULL \
                 AND actor_username = 'operator (command line)'"
        )),
        1
    );
}

/// Ways of writing an address or a code around the guard.
const AROUND_THE_GUARD: [&str; 8] = [
    "mail nguyenvana @ gmail . com",
    "mail nguyenvana(at)gmail(dot)com",
    "mail nguyenvana [at] mail.gov.vn",
    "gửi lan.nguyen@gmail nhé",
    "mk 12345678",
    "pass wifi 1234 5678",
    "mã code: 482913",
    "mã xác minh 4829",
];

/// `member` pushes one log from the phone `device`.
async fn push_one_log(member: &Actor<'_>, device: &str) -> Answer {
    let one = json!([{"op": "create_log", "data": crate::fieldwork::log(uuid::Uuid::new_v4())}]);
    member
        .post(
            "/api/v1/sync/push",
            json!({"device_id": device, "items": one}),
        )
        .await
}

/// Log notes sent by sync, and a training's title, organiser and trainer, with what the guard
/// must catch: each is refused as personal data.
async fn the_guard_sees_through_the_disguise(officer: &Actor<'_>, member: &Actor<'_>) {
    let items: Vec<Value> = AROUND_THE_GUARD
        .iter()
        .map(|note| {
            let mut l = crate::fieldwork::log(uuid::Uuid::new_v4());
            l["note"] = json!(note);
            json!({"op": "create_log", "data": l})
        })
        .collect();
    let body = member
        .post(
            "/api/v1/sync/push",
            json!({"device_id": "phone-9", "items": items}),
        )
        .await
        .expect(StatusCode::OK);
    for (i, note) in AROUND_THE_GUARD.iter().enumerate() {
        let r = &body["results"][i];
        assert_eq!(r["status"], "rejected", "{note}: {r}");
        assert_eq!(r["problem"]["errors"][0]["field"], "note", "{note}");
        assert_eq!(r["problem"]["errors"][0]["code"], "personal_data", "{note}");
    }
    for field_name in ["title", "organiser", "trainer"] {
        let mut training = json!({"title": "Lớp kỹ năng số", "kind": "citizen_class",
            "mode": "in_person", "starts_at": "2025-10-12T19:00:00+07:00",
            "ends_at": "2025-10-12T21:00:00+07:00", "participants": 10});
        training[field_name] = json!(AROUND_THE_GUARD[0]);
        let body = officer
            .post("/api/v1/trainings", training)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(body["errors"][0]["field"], field_name, "{body}");
        assert_eq!(body["errors"][0]["code"], "personal_data", "{body}");
    }
}

// Issue 12, items 3 and 4: addresses and codes written around the guard, in a log note sent
// by sync, in a training's fields, and in the phone's `device_id` stored with every log.
#[tokio::test]
async fn obfuscated_addresses_and_codes_do_not_pass_the_guard_in_any_field() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, member) = (app.acting(&f.officer), app.acting(&f.member));
    the_guard_sees_through_the_disguise(&officer, &member).await;

    // The device id is an identifier: no free text, no number alone.
    for device in [
        "0912345678",
        "SĐT 0912 345 678 bà Lan",
        "lan@gmail.com",
        "001203004567",
    ] {
        let body = push_one_log(&member, device)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(body["errors"][0]["field"], "device_id", "{device}: {body}");
    }
    assert_eq!(app.count("SELECT count(*) AS n FROM assistance_logs"), 0);
    for device in [
        "550e8400-e29b-41d4-a716-446655440000",
        "9774d56d682e549c",
        "SM-A546E:R58W",
    ] {
        let res = push_one_log(&member, device).await;
        assert_eq!(res.status, StatusCode::OK, "{device}: {}", res.body);
        let body = res.body;
        assert_eq!(body["results"][0]["status"], "created", "{device}: {body}");
    }
}

// Issue 12, items 10 and 11: every way of writing an account's login names that account, and
// all of them count on its one throttling counter.
#[tokio::test]
async fn every_form_of_a_login_names_one_account_and_one_counter() {
    let app = spawn_app().await;
    let admin = app.actor("root", "admin", None, None).await;
    admin
        .create(
            "/api/v1/users",
            json!({"username": "lan.nguyen", "password": PASSWORD, "role": "admin",
                   "phone": "0913456789"}),
        )
        .await;
    let anyone = app.anyone();
    let forms = [
        " LAN.NGUYEN ",
        "0913 456 789",
        "+84 (0) 913 456 789",
        "0084 913 456 789",
        "０９１３４５６７８９",
        "0913\u{a0}456\u{a0}789",
        "\t0913.456.789\n",
    ];
    for form in forms {
        let res = anyone.login(form, PASSWORD).await;
        assert_eq!(res.status, StatusCode::OK, "{form:?}: {}", res.body);
    }
    for form in [
        "lan.nguyen",
        "LAN.NGUYEN",
        " lan.nguyen ",
        "0913456789",
        "+84913456789",
    ] {
        anyone
            .login(form, "not the password at all")
            .await
            .problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    anyone
        .login("０９１３４５６７８９", PASSWORD)
        .await
        .problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
}

// Issue 12, item 16: every answer says whether it may be cached, errors and unknown routes
// outside `/api/` included (a token sent to a wrong path is still a caller's answer).
#[tokio::test]
async fn every_answer_says_it_may_not_be_cached() {
    let app = spawn_app().await;
    let token = app.user_with_token("cached", "admin", None, None).await.1;
    let big = "x".repeat(3 * 1024 * 1024);
    let answers = [
        app.get("/nope", &token).await,
        app.get("/", &token).await,
        app.get("/docs/nope.js", &token).await,
        app.get("/health/ready", &token).await,
        app.get("/health/live", &token).await,
        send(&app, Method::DELETE, "/api/v1/villages", &token, None).await,
        send(&app, Method::PATCH, "/health/live", &token, None).await,
        app.request(Method::POST, "/api/v1/auth/login")
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await
            .expect("sent"),
    ];
    for res in answers {
        let (status, url) = (res.status(), res.url().path().to_string());
        assert_eq!(
            res.headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap_or("")),
            Some("no-store"),
            "{status} {url}"
        );
        assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{url}");
    }
    // The documentation page keeps its own (revalidated, never personal).
    let res = app.get("/docs", &token).await;
    assert_eq!(res.headers()["cache-control"], "no-cache");
}

// Issue 12, item 18: dates in queries keep the window of dates in bodies.
#[tokio::test]
async fn query_dates_outside_the_window_are_refused() {
    let app = spawn_app().await;
    let admin = app.actor("root", "admin", None, None).await;
    for (path, field_name) in [
        ("/api/v1/assistance-logs?from=0001-01-01", "from"),
        ("/api/v1/assistance-logs?to=9999-12-31T00:00:00Z", "to"),
        ("/api/v1/trainings?from=1999-12-31", "from"),
        ("/api/v1/audit?to=3000-01-01", "to"),
    ] {
        let body = admin
            .get(path)
            .await
            .problem(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(body["errors"][0]["field"], field_name, "{path}: {body}");
    }
    for path in [
        "/api/v1/assistance-logs?from=2025-01-01&to=2025-02-01T00:00:00%2B07:00",
        "/api/v1/audit?from=2000-01-01",
    ] {
        assert_eq!(admin.get(path).await.status, StatusCode::OK, "{path}");
    }
}

/// A login of `lan.nguyen` with `password` through a proxy that forwards `forwarded`.
async fn login_from(app: &TestApp, forwarded: &str, password: &str) -> Answer {
    app.anyone()
        .header("x-forwarded-for", forwarded)
        .login("lan.nguyen", password)
        .await
}

// Issue 12, item 11: behind a trusted proxy, addresses a client writes into X-Forwarded-For
// itself, or rotates within its IPv6 network, do not give it fresh counters.
#[tokio::test]
async fn forged_or_rotated_addresses_share_the_throttling_counter() {
    let app = spawn_app_with(&[("TOSO_TRUST_PROXY_HEADERS", "true")]).await;
    app.create_user("lan.nguyen", "admin", None, None);
    // The proxy appends the address it saw (203.0.113.7); what comes before is the client's.
    for i in 0..5 {
        login_from(
            &app,
            &format!("10.0.0.{i}, 203.0.113.7"),
            "wrong password here",
        )
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    for forwarded in ["10.9.9.9, 203.0.113.7", "::ffff:203.0.113.7"] {
        login_from(&app, forwarded, PASSWORD)
            .await
            .problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    }

    let app = spawn_app_with(&[("TOSO_TRUST_PROXY_HEADERS", "true")]).await;
    app.create_user("lan.nguyen", "admin", None, None);
    for i in 1..=5 {
        login_from(&app, &format!("2001:db8:1:2::{i:x}"), "wrong password here")
            .await
            .problem(StatusCode::UNAUTHORIZED, "invalid_credentials");
    }
    login_from(&app, "2001:db8:1:2:ffff::1", PASSWORD)
        .await
        .problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    // Another network is another address.
    let res = login_from(&app, "2001:db8:9:9::1", PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK);
}

// Issue 12, item 4: names of members and accounts carry no citizen's data either.
#[tokio::test]
async fn names_of_members_and_accounts_hold_no_numbers_or_addresses() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let officer = app.acting(&f.officer);
    let admin = app.actor("root", "admin", None, None).await;
    let members = format!("/api/v1/teams/{}/members", f.team);
    for name in [
        "Nguyễn Văn A 0912 345 678",
        "Bà Lan lan@gmail.com",
        "Cụ Tư CCCD 001203004567",
    ] {
        let body = officer
            .post(&members, json!({"full_name": name, "affiliation": "other"}))
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(body["errors"][0]["field"], "full_name", "{body}");
        assert_eq!(body["errors"][0]["code"], "personal_data", "{body}");
        officer
            .patch(
                &format!("/api/v1/members/{}", f.member_member),
                None,
                json!({"full_name": name}),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        admin
            .post(
                "/api/v1/users",
                json!({"username": "named", "password": PASSWORD, "role": "admin",
                       "full_name": name}),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    assert_eq!(
        app.count("SELECT count(*) AS n FROM members WHERE full_name ~ '[0-9@]'"),
        0
    );
    assert_eq!(
        app.count("SELECT count(*) AS n FROM users WHERE username = 'named'"),
        0
    );
    // Ordinary names, a number in them included, pass.
    officer
        .post(
            &members,
            json!({"full_name": "Thành viên 3", "affiliation": "other"}),
        )
        .await
        .expect(StatusCode::CREATED);
}
