//! Accounts hardening (issue 12, items 7 and 10–14; issue 18, item 10): member moves and
//! account scope, one login namespace, throttling counted before the hash, weak passwords,
//! peers and forced password changes, and `/me`'s membership.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{count, spawn_app, Actor, Answer, TestApp, PASSWORD};

/// A1 and A2: two communes of Hà Nội (01).
const A1: &str = "00004";
const A2: &str = "00008";

/// The stored account, as an admin reads it.
async fn account(admin: &Actor<'_>, id: uuid::Uuid) -> Value {
    admin
        .get(&format!("/api/v1/users/{id}"))
        .await
        .expect(StatusCode::OK)
}

fn audit_rows(app: &TestApp, entity: &str, id: &str) -> Vec<(String, String)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        action: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        actor_username: String,
    }
    diesel::sql_query(
        "SELECT action, actor_username FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY id",
    )
    .bind::<diesel::sql_types::Text, _>(entity)
    .bind::<diesel::sql_types::Text, _>(id)
    .load::<Row>(&mut app.db.conn())
    .expect("audit")
    .into_iter()
    .map(|r| (r.action, r.actor_username))
    .collect()
}

/// A team account `username` in team `team`, linked to a new active member of that team.
async fn linked_member(
    admin: &Actor<'_>,
    username: &str,
    commune: &str,
    team: i64,
) -> (uuid::Uuid, i64) {
    let user = admin
        .app()
        .create_user(username, "team_member", Some(commune), Some(team));
    let member = admin
        .create(
            &format!("/api/v1/teams/{team}/members"),
            json!({"full_name": "Lê Thị Hoa", "affiliation": "resident_volunteer",
                   "joined_on": "2025-08-01", "user_id": user}),
        )
        .await;
    (user, member["id"].as_i64().expect("member id"))
}

/// The world of the member-move tests: the admin, A1's officer and two teams of A1.
async fn moves(app: &TestApp) -> (Actor<'_>, Actor<'_>, i64, i64) {
    (
        app.actor("root", "admin", None, None).await,
        app.actor("a1.officer", "commune_officer", Some(A1), None)
            .await,
        app.create_team(A1, "Tổ Một"),
        app.create_team(A1, "Tổ Hai"),
    )
}

// Issue 12, item 7.
#[tokio::test]
async fn a_move_never_changes_an_account_outside_the_callers_scope() {
    let app = spawn_app().await;
    let (admin, officer, t1, t1b) = moves(&app).await;
    let t2 = app.create_team(A2, "Tổ Ngọc Hà");
    let (u, m) = linked_member(&admin, "u.roamer", A1, t1).await;

    // A left membership of the account in A1 is unlinked too: reviving it later brings no
    // link to an account that works elsewhere.
    let left = admin
        .create(
            &format!("/api/v1/teams/{t1}/members"),
            json!({"full_name": "Lê Thị Hoa", "affiliation": "resident_volunteer",
                   "joined_on": "2025-01-01"}),
        )
        .await;
    let left_id = left["id"].as_i64().expect("id");
    diesel::sql_query("UPDATE members SET left_on = '2025-02-01', user_id = $1 WHERE id = $2")
        .bind::<diesel::sql_types::Uuid, _>(u)
        .bind::<diesel::sql_types::BigInt, _>(left_id)
        .execute(&mut app.db.conn())
        .expect("an old stint linked to the account");

    // The admin moves the account to a team of A2: its membership in A1 is unlinked, audited.
    let before = account(&admin, u).await;
    let moved = admin
        .patch(
            &format!("/api/v1/users/{u}"),
            None,
            json!({"team_id": t2, "unit_code": A2}),
        )
        .await
        .expect(StatusCode::OK);
    let member = admin.get(&format!("/api/v1/members/{m}")).await.body;
    assert_eq!(member["user_id"], Value::Null, "{member}");
    assert_eq!(
        audit_rows(&app, "member", &m.to_string()).last(),
        Some(&("update".to_string(), "root".to_string()))
    );
    let stint = admin.get(&format!("/api/v1/members/{left_id}")).await.body;
    assert_eq!(stint["user_id"], Value::Null, "{stint}");

    // The A1 officer moves the member within A1: the account stays where the admin put it.
    let joined = officer
        .move_member(m, t1b, "2025-10-15")
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(joined["user_id"], Value::Null);
    let after = account(&admin, u).await;
    assert_eq!(after["team_id"], t2);
    assert_eq!(after["unit_code"], A2);
    assert_eq!(after["version"], moved["version"]);
    assert_ne!(after["version"], before["version"]);
    // The officer still cannot reach the account, so cannot reset its password.
    officer
        .patch(
            &format!("/api/v1/users/{u}"),
            None,
            json!({"password": "a fresh takeover phrase 77"}),
        )
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    // Every change to the account is in the users' audit trail: the creation was direct, so
    // only the admin's move.
    assert_eq!(
        audit_rows(&app, "user", &u.to_string()),
        [("update".to_string(), "root".to_string())]
    );
}

#[tokio::test]
async fn a_move_of_a_member_whose_account_was_promoted_is_a_problem_not_a_500() {
    let app = spawn_app().await;
    let (admin, officer, t1, t1b) = moves(&app).await;
    let (u, m) = linked_member(&admin, "u.promoted", A1, t1).await;

    // Promoted to commune officer of A2: the account leaves team roles; the link is cut.
    let promoted = admin
        .patch(
            &format!("/api/v1/users/{u}"),
            None,
            json!({"role": "commune_officer", "unit_code": A2}),
        )
        .await
        .expect(StatusCode::OK);
    officer
        .move_member(m, t1b, "2025-10-15")
        .await
        .expect(StatusCode::CREATED);
    let after = account(&admin, u).await;
    assert_eq!(after["role"], "commune_officer");
    assert_eq!(after["unit_code"], A2);
    assert_eq!(after["team_id"], Value::Null);
    assert_eq!(after["version"], promoted["version"]);

    // A link left inconsistent by an earlier version (written straight into the database):
    // the move is refused with a problem and changes nothing.
    let (u2, m2) = linked_member(&admin, "u.legacy", A1, t1).await;
    diesel::sql_query(
        "UPDATE users SET role = 'commune_officer', team_id = NULL, unit_code = $2, \
         province_code = '01' WHERE id = $1",
    )
    .bind::<diesel::sql_types::Uuid, _>(u2)
    .bind::<diesel::sql_types::Text, _>(A2)
    .execute(&mut app.db.conn())
    .expect("drift the link");
    officer
        .move_member(m2, t1b, "2025-10-15")
        .await
        .problem(StatusCode::CONFLICT, "linked_account_elsewhere");
    let member = admin.get(&format!("/api/v1/members/{m2}")).await.body;
    assert_eq!(member["left_on"], Value::Null, "{member}");
    assert_eq!(member["team_id"], t1);
    let after = account(&admin, u2).await;
    assert_eq!(after["team_id"], Value::Null);
    assert_eq!(after["unit_code"], A2);
}

#[tokio::test]
async fn a_member_move_takes_the_linked_account_along_and_audits_it() {
    let app = spawn_app().await;
    let (admin, officer, t1, t1b) = moves(&app).await;
    let (u, m) = linked_member(&admin, "u.follows", A1, t1).await;
    let joined = officer
        .move_member(m, t1b, "2025-10-15")
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(joined["user_id"], u.to_string());
    let after = account(&admin, u).await;
    assert_eq!(after["team_id"], t1b);
    assert_eq!(
        audit_rows(&app, "user", &u.to_string()),
        [("move".to_string(), "a1.officer".to_string())]
    );
    // And the member's `/me` shows the new membership.
    let me = app.acting(&app.login("u.follows").await.access);
    let body = me.get("/api/v1/me").await.body;
    assert_eq!(body["membership"]["member_id"], joined["id"]);
    assert_eq!(body["membership"]["team_id"], t1b);
}

// Issue 12, item 10.
#[tokio::test]
async fn logins_are_one_namespace() {
    let app = spawn_app().await;
    let admin = app.actor("root", "admin", None, None).await;
    // A username that reads as a phone number is refused, by the API and by the database.
    for name in ["0913456789", "0913.456.789", "84913456789", "123"] {
        let body = admin
            .post(
                "/api/v1/users",
                json!({"username": name, "password": PASSWORD, "role": "admin"}),
            )
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(body["errors"][0]["field"], "username", "{name}: {body}");
        assert_eq!(body["errors"][0]["code"], "needs_letter", "{name}: {body}");
    }
    let inserted = diesel::sql_query(
        "INSERT INTO users (username, password_hash, role) VALUES ('0913456789', 'x', 'admin')",
    )
    .execute(&mut app.db.conn());
    assert!(
        inserted.is_err(),
        "the database takes a digits-only username"
    );

    // The phone's owner logs in by the phone in any accepted form.
    admin
        .create(
            "/api/v1/users",
            json!({"username": "phone.owner", "password": PASSWORD, "role": "admin",
                   "phone": "0913456789"}),
        )
        .await;
    for login in [
        "0913456789",
        "+84913456789",
        "+84 913 456 789",
        "84913456789",
        "0913.456.789",
    ] {
        let res = app.anyone().login(login, PASSWORD).await;
        assert_eq!(res.status, StatusCode::OK, "{login}: {}", res.body);
    }
}

/// Reverts `conn`'s schema to before the migration 20261127000010 (that one included).
fn revert_to_before_the_login_rule(conn: &mut PgConnection) {
    use diesel_migrations::MigrationHarness;
    loop {
        let reverted = conn
            .revert_last_migration(toso::db::MIGRATIONS)
            .expect("revert");
        if reverted.to_string().starts_with("20261127000010") {
            break;
        }
    }
}

/// The data an older version allowed: phone-shaped usernames (one another's phone, one whose
/// renamed form is taken), and a membership still linked to an account that an older version
/// promoted out of its team.
fn insert_old_data(conn: &mut PgConnection, team: i64) {
    let hash = toso::auth::password::hash_blocking(PASSWORD).expect("hash");
    diesel::sql_query(
        "INSERT INTO users (username, password_hash, role, phone) VALUES \
         ('0913456789', $1, 'admin', NULL), ('other', $1, 'admin', '0987654321'), \
         ('0987654321', $1, 'admin', NULL), ('u0987654321', $1, 'admin', NULL)",
    )
    .bind::<diesel::sql_types::Text, _>(&hash)
    .execute(conn)
    .expect("old data");
    diesel::sql_query(
        "WITH u AS (INSERT INTO users (username, password_hash, role, unit_code, province_code) \
           VALUES ('drifted', $1, 'commune_officer', '00004', '01') RETURNING id) \
         INSERT INTO members (team_id, commune_code, province_code, full_name, search_name, \
           affiliation, joined_on, left_on, user_id) \
         SELECT $2, '00004', '01', n, n, 'other', '2025-01-01', l::date, u.id \
         FROM u, (VALUES ('an', NULL), ('binh', '2025-03-01')) AS v (n, l)",
    )
    .bind::<diesel::sql_types::Text, _>(&hash)
    .bind::<diesel::sql_types::BigInt, _>(team)
    .execute(conn)
    .expect("a drifted link");
}

/// Every account's username and phone, by username.
fn usernames_and_phones(conn: &mut PgConnection) -> Vec<(String, Option<String>)> {
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        username: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        phone: Option<String>,
    }
    let rows: Vec<Row> = diesel::sql_query("SELECT username, phone FROM users ORDER BY username")
        .load(conn)
        .expect("users");
    rows.into_iter().map(|r| (r.username, r.phone)).collect()
}

#[tokio::test]
async fn the_migration_renames_phone_shaped_usernames_and_keeps_their_logins() {
    use diesel_migrations::MigrationHarness;
    let app = spawn_app().await;
    let mut conn = app.db.conn();
    // Back to the schema before this rule, with the data an older version allowed.
    revert_to_before_the_login_rule(&mut conn);
    let team = app.create_team(A1, "Tổ Cũ");
    insert_old_data(&mut conn, team);
    conn.run_pending_migrations(toso::db::MIGRATIONS)
        .expect("migrate");

    assert_eq!(
        usernames_and_phones(&mut conn),
        [
            ("drifted".to_string(), None),
            ("other".to_string(), Some("0987654321".to_string())),
            // Its number was its own and free: it keeps logging in with it.
            ("u0913456789".to_string(), Some("0913456789".to_string())),
            ("u0987654321".to_string(), None),
            // The name was taken and the number is another's phone.
            ("u0987654321-1".to_string(), None),
        ]
    );
    assert_eq!(
        app.login_raw("0913456789", PASSWORD).await.status(),
        StatusCode::OK
    );
    let renamed = count(
        &mut conn,
        "SELECT count(*) AS n FROM audit_log WHERE entity = 'user' AND actor_username = 'migration'",
    );
    assert_eq!(renamed, 2);
    let linked = count(
        &mut conn,
        "SELECT count(*) AS n FROM members WHERE user_id IS NOT NULL",
    );
    assert_eq!(linked, 0, "the drifted links are cut");
    let cut = count(
        &mut conn,
        "SELECT count(*) AS n FROM audit_log WHERE entity = 'member' AND actor_username = 'migration'",
    );
    assert_eq!(cut, 2);
}

// Issue 12, item 11.
#[tokio::test]
async fn concurrent_wrong_logins_reach_the_password_check_at_most_the_threshold() {
    // A generous checkout timeout: on a loaded machine, 40 logins waiting for a connection
    // must not turn into 503s, which would hide what the counter did.
    let app = crate::helpers::spawn_app_with(&[("TOSO_DB_CHECKOUT_TIMEOUT_MS", "20000")]).await;
    app.create_user("target", "admin", None, None);
    let tries: Vec<_> = (0..40)
        .map(|_| {
            let client = app.client.clone();
            let url = format!("{}/api/v1/auth/login", app.address);
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({"username": "target", "password": "wrong guess"}))
                    .send()
                    .await
                    .expect("sent")
                    .status()
            })
        })
        .collect();
    let (mut checked, mut throttled) = (0, 0);
    for t in tries {
        match t.await.expect("task") {
            StatusCode::UNAUTHORIZED => checked += 1,
            StatusCode::TOO_MANY_REQUESTS => throttled += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    // Each 401 is one password check; the counter admits 5 per account and address.
    assert_eq!((checked, throttled), (5, 35));
}

#[tokio::test]
async fn username_and_phone_of_one_account_share_one_counter() {
    let app = spawn_app().await;
    let id = app.create_user("two.names", "admin", None, None);
    diesel::sql_query("UPDATE users SET phone = '0912345678' WHERE id = $1")
        .bind::<diesel::sql_types::Uuid, _>(id)
        .execute(&mut app.db.conn())
        .expect("phone");
    for login in [
        "two.names",
        "TWO.NAMES",
        "0912345678",
        "+84912345678",
        "84 912 345 678",
    ] {
        let res = app.login_raw(login, "wrong guess").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{login}");
    }
    let res = app.anyone().login("0912.345.678", PASSWORD).await;
    assert!(res.headers().contains_key("retry-after"));
    res.problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    let res = app.login_raw("two.names", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

// Issue 12, item 12.
#[tokio::test]
async fn wrong_current_passwords_are_throttled_like_logins() {
    let app = spawn_app().await;
    let stolen = app.actor("stolen", "admin", None, None).await;
    let new = "a brand new river stone";
    for i in 0..5 {
        let body = stolen
            .change_password(&format!("guess {i}"), new)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(body["errors"][0]["field"], "current_password");
    }
    let res = stolen.change_password("guess 5", new).await;
    let retry = res.retry_after();
    assert!((1..=900).contains(&retry));
    res.problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    // Even the right one waits, and so does a login to the same account from here.
    let res = stolen.change_password(PASSWORD, new).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        app.login_raw("stolen", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // The password did not change.
    tokio::time::sleep(std::time::Duration::from_secs(retry + 1)).await;
    assert_eq!(
        app.login_raw("stolen", PASSWORD).await.status(),
        StatusCode::OK
    );
}

// Issue 12, item 13.
/// The body of a 422 naming a password `field` as `too_weak`.
#[track_caller]
fn too_weak(answer: Answer, field: &str, password: &str) -> Value {
    let body = answer.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["errors"][0]["field"], field, "{password:?}: {body}");
    assert_eq!(
        body["errors"][0]["code"], "too_weak",
        "{password:?}: {body}"
    );
    body
}

/// How many accounts `admin` finds by `q`.
async fn found(admin: &Actor<'_>, q: &str) -> Value {
    admin.get(&format!("/api/v1/users?q={q}")).await.body["total"].clone()
}

/// The command line refuses a weak password too, and stores nothing.
async fn the_command_line_refuses_weak_passwords(admin: &Actor<'_>) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_toso"))
        .args(["create-user", "--username", "cli.weak", "--role", "admin"])
        .env("DATABASE_URL", admin.app().db.url())
        .env("TOSO_PASSWORD", "password1")
        .output()
        .expect("run toso");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("too easy to guess"), "{stderr}");
    assert_eq!(found(admin, "cli.weak").await, 0);
}

#[tokio::test]
async fn weak_passwords_are_refused_wherever_a_password_is_set() {
    let app = spawn_app().await;
    let admin = app.actor("root", "admin", None, None).await;
    let weak = [
        "12345678",
        "password",
        "        ",
        "iloveyou1",
        "qwertyuiop",
        "Password123",
        "aaaaaaaaaaaa",
        "weak.officer",
        "weak.officer2025",
    ];
    for password in weak {
        let res = admin
            .post(
                "/api/v1/users",
                json!({"username": "weak.officer", "password": password, "role": "admin"}),
            )
            .await;
        let body = too_weak(res, "password", password);
        let message = body["errors"][0]["message"].as_str().expect("message");
        assert!(
            message.contains("characters") || message.contains("guess"),
            "{password:?}: {message}"
        );
    }
    assert_eq!(found(&admin, "weak").await, 0, "nothing stored");

    let target = app.create_user("target.member", "province_officer", Some("01"), None);
    for password in ["password", "12345678", "target.member"] {
        let res = admin
            .patch(
                &format!("/api/v1/users/{target}"),
                None,
                json!({"password": password}),
            )
            .await;
        too_weak(res, "password", password);
    }
    for password in ["password", "        ", "root12345"] {
        let res = admin.change_password(PASSWORD, password).await;
        too_weak(res, "new_password", password);
    }
    assert_eq!(
        app.login_raw("root", PASSWORD).await.status(),
        StatusCode::OK
    );
    the_command_line_refuses_weak_passwords(&admin).await;
}

// Issue 12, item 14.
/// Each change of a peer's account (same role, same unit) is refused and changes nothing.
async fn no_peer_changes_a_peer(admin: &Actor<'_>, changes: [(&Actor<'_>, uuid::Uuid, Value); 7]) {
    for (by, target, body) in changes {
        let before = account(admin, target).await;
        by.patch(&format!("/api/v1/users/{target}"), None, body.clone())
            .await
            .problem(StatusCode::FORBIDDEN, "peer_account");
        assert_eq!(account(admin, target).await, before, "{body}");
    }
}

/// Nobody sets its own password without the current one.
async fn nobody_sets_its_own_password_unasked(c1: &Actor<'_>) {
    let app = c1.app();
    let me = app.acting(&app.login("c1.officer").await.access);
    let own = me.get("/api/v1/me").await.expect(StatusCode::OK)["id"]
        .as_str()
        .expect("id")
        .to_string();
    c1.patch(
        &format!("/api/v1/users/{own}"),
        None,
        json!({"password": "a password without the old one"}),
    )
    .await
    .problem(StatusCode::FORBIDDEN, "cannot_change_own_access");
}

/// The owner of a password an officer set, logged in with it: nothing but a change of the
/// password goes through, and after it everything does.
async fn the_owner_changes_the_set_password_first(app: &TestApp, username: &str, set: &str) {
    let login = app
        .anyone()
        .login(username, set)
        .await
        .expect(StatusCode::OK);
    assert_eq!(login["must_change_password"], true);
    let owner = app.acting(login["access_token"].as_str().expect("access"));
    for path in ["/api/v1/villages", "/api/v1/users", "/api/v1/members"] {
        owner
            .get(path)
            .await
            .problem(StatusCode::FORBIDDEN, "password_change_required");
    }
    let me = owner.get("/api/v1/me").await.expect(StatusCode::OK);
    assert_eq!(me["must_change_password"], true);
    owner
        .change_password(set, "my own quiet harbour 19")
        .await
        .expect(StatusCode::NO_CONTENT);
    owner.get("/api/v1/villages").await.expect(StatusCode::OK);
    assert_eq!(
        owner.get("/api/v1/me").await.body["must_change_password"],
        false
    );
}

// Issue 12, item 14.
#[tokio::test]
async fn peers_do_not_take_over_peers_and_set_passwords_must_be_changed() {
    let app = spawn_app().await;
    let c1 = app
        .actor("c1.officer", "commune_officer", Some(A1), None)
        .await;
    let c2 = app.create_user("c2.officer", "commune_officer", Some(A1), None);
    let p1 = app
        .actor("p1.officer", "province_officer", Some("01"), None)
        .await;
    let p2 = app.create_user("p2.officer", "province_officer", Some("01"), None);
    let admin = app.actor("root", "admin", None, None).await;
    let admin2 = app.create_user("root2", "admin", None, None);

    let takeover = json!({"password": "a takeover by my peer 42"});
    no_peer_changes_a_peer(
        &admin,
        [
            (&c1, c2, takeover.clone()),
            (&c1, c2, json!({"disabled": true})),
            (&c1, c2, json!({"full_name": "Đồng nghiệp"})),
            (&p1, p2, json!({"disabled": true})),
            (&p1, p2, takeover),
            (&p1, p2, json!({"role": "commune_officer", "unit_code": A1})),
            (&admin, admin2, json!({"disabled": true})),
        ],
    )
    .await;
    assert_eq!(
        app.login_raw("c2.officer", PASSWORD).await.status(),
        StatusCode::OK
    );
    nobody_sets_its_own_password_unasked(&c1).await;

    // A higher role resets it; the owner must change it before anything else.
    let reset = "tạm thời: đổi ngay sau khi vào";
    let body = p1
        .patch(
            &format!("/api/v1/users/{c2}"),
            None,
            json!({"password": reset}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(body["must_change_password"], true);
    the_owner_changes_the_set_password_first(&app, "c2.officer", reset).await;
    // Both changes are in the users' audit trail, by whom made them.
    assert_eq!(
        audit_rows(&app, "user", &c2.to_string()),
        [
            ("update".to_string(), "p1.officer".to_string()),
            ("password_change".to_string(), "c2.officer".to_string())
        ]
    );
    // Accounts created by an officer start the same way.
    let created = p1
        .create(
            "/api/v1/users",
            json!({"username": "c3.officer", "password": reset, "role": "commune_officer",
                   "unit_code": A1}),
        )
        .await;
    assert_eq!(created["must_change_password"], true);
    let login = app.anyone().login("c3.officer", reset).await.body;
    assert_eq!(login["must_change_password"], true);
}

/// The `MeOut` document says `/me` holds the membership and the password flag.
fn the_document_shows_the_membership(doc: &Value) {
    let me_schema = &doc["components"]["schemas"]["MeOut"]["properties"];
    assert!(me_schema.get("membership").is_some(), "{me_schema}");
    assert!(me_schema.get("must_change_password").is_some());
    let ms_schema = &doc["components"]["schemas"]["MembershipOut"]["properties"];
    for field in ["member_id", "team_id", "village_id", "commune_code"] {
        assert!(ms_schema.get(field).is_some(), "{field}");
    }
}

// Issue 18, item 10.
#[tokio::test]
async fn me_shows_the_current_membership() {
    let app = spawn_app().await;
    let admin = app.actor("root", "admin", None, None).await;
    let village = admin.village_in(Some(A1), "Thôn Đông", "thon").await;
    let team = admin
        .create(
            "/api/v1/teams",
            json!({"commune_code": A1, "name": "Tổ Thôn Đông", "village_id": village}),
        )
        .await;
    let tid = team["id"].as_i64().expect("team id");
    let (_, m) = linked_member(&admin, "hoa.mobile", A1, tid).await;
    let member = app.acting(&app.login("hoa.mobile").await.access);
    let me = member.get("/api/v1/me").await.expect(StatusCode::OK);
    let ms = &me["membership"];
    assert_eq!(ms["member_id"], m);
    assert_eq!(ms["team_id"], tid);
    assert_eq!(ms["team_name"], "Tổ Thôn Đông");
    assert_eq!(ms["village_id"], village);
    assert_eq!(ms["village_name"], "Thôn Đông");
    assert_eq!(ms["commune_code"], A1);
    assert_eq!(ms["province_code"], "01");
    assert_eq!(ms["team_role"], "member");
    assert_eq!(ms["joined_on"], "2025-08-01");
    // No membership: null.
    let me = admin.get("/api/v1/me").await.body;
    assert_eq!(me["membership"], Value::Null);
    assert_eq!(me["must_change_password"], false);
    // The document says so.
    the_document_shows_the_membership(&admin.get("/api/v1/openapi.json").await.body);
}

/// Both sides of the link changed at once: an admin moves the account to another commune's
/// team while the commune officer moves its member. Whatever the order, nothing answers 500
/// and no membership stays linked to an account that works in another team.
#[tokio::test]
async fn account_and_member_moves_racing_keep_the_link_consistent() {
    let app = spawn_app().await;
    let (admin, officer, t1, t1b) = moves(&app).await;
    let t2 = app.create_team(A2, "Tổ Ngọc Hà");
    for round in 0..10 {
        let (u, m) = linked_member(&admin, &format!("racer{round}"), A1, t1).await;
        let (path, body) = (
            format!("/api/v1/users/{u}"),
            json!({"team_id": t2, "unit_code": A2}),
        );
        let patch = admin.patch(&path, None, body);
        let moving = officer.move_member(m, t1b, "2025-10-15");
        let (patched, moved) = tokio::join!(patch, moving);
        let (patched, moved) = (patched.status, moved.status);
        assert_eq!(patched, StatusCode::OK, "round {round}");
        assert!(
            [StatusCode::CREATED, StatusCode::CONFLICT].contains(&moved),
            "round {round}: move answered {moved}"
        );
        let stale = app.count(
            "SELECT count(*) AS n FROM members m JOIN users u ON u.id = m.user_id \
             WHERE u.team_id IS DISTINCT FROM m.team_id",
        );
        assert_eq!(stale, 0, "round {round}");
        assert_eq!(account(&admin, u).await["team_id"], t2, "round {round}");
    }
}
