//! Two instances of the app on one database, as behind a load balancer: nothing that
//! matters lives in one process's memory.

use diesel::RunQueryDsl;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fieldwork::{field, log};
use crate::helpers::{spawn_app, Actor, Answer, Client, TestApp, Tokens, PASSWORD};

/// A login on A refreshes on B; the old refresh token replayed on A revokes the login, which
/// B then refuses too.
async fn a_replayed_refresh_token_ends_the_login_on_both(a: &TestApp, [on_a, on_b]: &[Client; 2]) {
    a.create_user("roamer", "admin", None, None);
    let first = a.login("roamer").await;
    let rotated = Tokens::of(on_b.refresh(&first.refresh).await);
    assert_eq!(
        a.get("/api/v1/me", &rotated.access).await.status(),
        StatusCode::OK
    );
    let res = on_a.refresh(&first.refresh).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "reuse detected on A");
    let res = on_b.acting(&rotated.access).get("/api/v1/me").await;
    assert_eq!(
        res.status,
        StatusCode::UNAUTHORIZED,
        "B sees the revocation"
    );
    on_b.refresh(&rotated.refresh)
        .await
        .expect(StatusCode::UNAUTHORIZED);
}

/// Logs the login of `access` out through `instance`.
async fn log_out(instance: &Client, access: &str) {
    let res = instance
        .acting(access)
        .post("/api/v1/auth/logout", json!({}))
        .await;
    assert!(res.status.is_success(), "{}", res.status);
}

/// A logout on B ends the login on A.
async fn a_logout_on_b_ends_the_login_on_a(a: &TestApp, on_b: &Client) {
    let again = a.login("roamer").await;
    log_out(on_b, &again.access).await;
    assert_eq!(
        a.get("/api/v1/me", &again.access).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Failed logins spread over both instances count together.
async fn failed_logins_on_both_count_together(a: &TestApp, on: &[Client; 2]) {
    a.create_user("guessed", "admin", None, None);
    for i in 0..5 {
        let res = on[i % 2].login("guessed", "guess").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    for instance in on {
        instance
            .login("guessed", PASSWORD)
            .await
            .problem(StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    }
}

/// One page of the phone's pull (200), after `cursor` when given.
async fn pull(phone: &Client, cursor: Option<&str>) -> Value {
    let mut path = "/api/v1/sync/pull?limit=500".to_string();
    if let Some(c) = cursor {
        path.push_str(&format!("&cursor={c}"));
    }
    phone.get(&path).await.expect(StatusCode::OK)
}

/// Pulls after `cursor` until 3 logs come (other tests' open transactions may hold back the
/// feed for a moment; a phone polls), 20 s at most; returns their ids and the next cursor.
async fn poll_for_three_logs(phone: &Client, cursor: &str) -> (Vec<String>, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let page = pull(phone, Some(cursor)).await;
        let logs: Vec<String> = page["assistance_logs"]
            .as_array()
            .expect("logs")
            .iter()
            .map(|l| l["id"].as_str().expect("id").to_string())
            .collect();
        if logs.len() >= 3 || std::time::Instant::now() > deadline {
            return (logs, page["cursor"].as_str().expect("cursor").to_string());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// A phone pushes through A and pulls through B; its cursor from B works on A; a resend
/// through B of what A stored is a duplicate.
async fn a_phone_pushes_to_a_and_pulls_from_b(a: &TestApp, on: &[Client; 2]) {
    let f = field(a).await;
    let [via_a, via_b] = [on[0].acting(&f.member), on[1].acting(&f.member)];
    let start = pull(&via_b, None).await;
    let cursor = start["cursor"].as_str().expect("cursor");
    let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    let items: Vec<Value> = ids
        .iter()
        .map(|id| json!({"op": "create_log", "data": log(*id)}))
        .collect();
    let batch = json!({"device_id": "phone-lb", "items": items});
    via_a
        .post("/api/v1/sync/push", batch.clone())
        .await
        .expect(StatusCode::OK);
    let body = via_b
        .post("/api/v1/sync/push", batch)
        .await
        .expect(StatusCode::OK);
    assert_eq!(body["summary"]["duplicate"], 3, "{body}");

    let (mut got, cursor) = poll_for_three_logs(&via_b, cursor).await;
    let mut expected: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    let tail = pull(&via_a, Some(&cursor)).await;
    assert_eq!(tail["assistance_logs"], json!([]));
    assert_eq!(tail["has_more"], false);
}

#[tokio::test]
async fn two_instances_share_logins_refresh_reuse_detection_throttling_and_sync() {
    let a = spawn_app().await;
    let b = a.another_instance(&[]);
    let on = [Client::to(&a.address), Client::to(&b.address)];

    a_replayed_refresh_token_ends_the_login_on_both(&a, &on).await;
    a_logout_on_b_ends_the_login_on_a(&a, &on[1]).await;
    failed_logins_on_both_count_together(&a, &on).await;
    a_phone_pushes_to_a_and_pulls_from_b(&a, &on).await;
}

/// How long a change may take to reach the other instance in these tests: the design's bound
/// is the notification's delivery plus one 2 ms poll of the listener (`auth::live_sessions`);
/// a second leaves room for a loaded test machine.
const REACH: std::time::Duration = std::time::Duration::from_secs(1);

/// `GET /api/v1/me` on `instance` with `token`, within 5 seconds.
async fn me_on(instance: &Client, token: &str) -> Answer {
    let req = instance
        .acting(token)
        .request(Method::GET, "/api/v1/me")
        .timeout(std::time::Duration::from_secs(5));
    Answer::read(req.send().await.expect("sent")).await
}

/// Asks `instance` until `/me` with `token` answers `status` (and, when given, `role`);
/// fails past `REACH`. Returns how long it took.
async fn reaches(
    instance: &Client,
    token: &str,
    status: StatusCode,
    role: Option<&str>,
) -> std::time::Duration {
    let start = std::time::Instant::now();
    loop {
        let me = me_on(instance, token).await;
        if me.status == status && role.is_none_or(|r| me.body["role"] == r) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < REACH,
            "{} still answers {} {} after {:?}",
            instance.address(),
            me.status,
            me.body,
            start.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// Both instances have answered `token` at least twice, so its session is in their caches.
async fn warm(instances: &[Client; 2], token: &str) {
    for instance in instances {
        for _ in 0..2 {
            let status = me_on(instance, token).await.status;
            assert_eq!(status, StatusCode::OK, "{}", instance.address());
        }
    }
}

/// A session both instances answered before is answered from memory: with `auth_sessions`
/// and `users` locked by another transaction, the request still goes through (without the
/// cache it would wait for the lock); a session neither has seen waits for the database.
#[tokio::test]
async fn a_session_seen_before_is_answered_without_the_database() {
    let a = spawn_app().await;
    let b = a.another_instance(&[]);
    let on = [Client::to(&a.address), Client::to(&b.address)];
    a.create_user("cached", "admin", None, None);
    let seen = a.login("cached").await;
    let unseen = a.login("cached").await;
    warm(&on, &seen.access).await;

    let mut locker = a.db.conn();
    diesel::sql_query("BEGIN")
        .execute(&mut locker)
        .expect("begin");
    diesel::sql_query("LOCK TABLE auth_sessions, users IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .expect("lock");
    for instance in &on {
        let me = me_on(instance, &seen.access).await;
        assert_eq!(
            me.status,
            StatusCode::OK,
            "{}: {}",
            instance.address(),
            me.body
        );
        assert_eq!(me.body["username"], "cached");
    }
    let res = on[1]
        .acting(&unseen.access)
        .request(Method::GET, "/api/v1/me")
        .timeout(std::time::Duration::from_millis(500))
        .send()
        .await;
    assert!(
        res.is_err(),
        "a session never seen needs the database: {res:?}"
    );
    diesel::sql_query("ROLLBACK")
        .execute(&mut locker)
        .expect("rollback");
    assert_eq!(me_on(&on[1], &unseen.access).await.status, StatusCode::OK);
}

/// Two instances on one database, and an admin who changes accounts through A.
struct Both<'a> {
    a: &'a TestApp,
    on: [Client; 2],
    admin: Actor<'a>,
}

impl Both<'_> {
    /// A fresh login of `username` whose session both instances hold in memory.
    async fn warm_login(&self, username: &str) -> Tokens {
        let t = self.a.login(username).await;
        warm(&self.on, &t.access).await;
        t
    }

    /// How long each instance took to refuse `token`.
    async fn refused(&self, token: &str) -> Vec<std::time::Duration> {
        let mut took = Vec::new();
        for instance in &self.on {
            took.push(reaches(instance, token, StatusCode::UNAUTHORIZED, None).await);
        }
        took
    }

    /// The admin changes the account `user` with `change` (200).
    async fn change(&self, user: uuid::Uuid, change: Value) {
        self.admin
            .patch(&format!("/api/v1/users/{user}"), None, change)
            .await
            .expect(StatusCode::OK);
    }
}

/// Logout, disabling, a change of role, a password change and a revocation written straight
/// into the database reach both instances while both hold the session in memory.
#[tokio::test]
async fn every_revocation_reaches_both_instances_whose_caches_hold_the_session() {
    let a = spawn_app().await;
    let b = a.another_instance(&[]);
    let both = Both {
        a: &a,
        on: [Client::to(&a.address), Client::to(&b.address)],
        admin: a.actor("root", "admin", None, None).await,
    };
    let mut took = Vec::new();

    // Logout through B ends the login on A.
    let user = a.create_user("leaver", "province_officer", Some("01"), None);
    let t = both.warm_login("leaver").await;
    log_out(&both.on[1], &t.access).await;
    took.extend(both.refused(&t.access).await);

    // Disabled through A: refused on B.
    let t = both.warm_login("leaver").await;
    both.change(user, json!({"disabled": true})).await;
    took.extend(both.refused(&t.access).await);

    // A change of role through A: B answers with the new role (and its scope).
    let promoted = a.create_user("promoted", "province_officer", Some("01"), None);
    let t = both.warm_login("promoted").await;
    both.change(
        promoted,
        json!({"role": "commune_officer", "unit_code": "00004"}),
    )
    .await;
    for instance in &both.on {
        let role = Some("commune_officer");
        took.push(reaches(instance, &t.access, StatusCode::OK, role).await);
        let me = me_on(instance, &t.access).await.body;
        assert_eq!(me["unit_code"], "00004", "{me}");
    }

    // A password change through A ends the account's other logins on both, not this one.
    a.create_user("changer", "admin", None, None);
    let (laptop, phone) = (
        both.warm_login("changer").await,
        both.warm_login("changer").await,
    );
    a.acting(&laptop.access)
        .change_password(PASSWORD, "a brand new passphrase 42")
        .await
        .expect(StatusCode::NO_CONTENT);
    for instance in &both.on {
        let gone = StatusCode::UNAUTHORIZED;
        took.push(reaches(instance, &phone.access, gone, None).await);
        let laptop_me = me_on(instance, &laptop.access).await.status;
        assert_eq!(laptop_me, StatusCode::OK, "{}", instance.address());
    }

    // A revocation written straight into the database (an operator's SQL) reaches both too.
    a.create_user("by.sql", "admin", None, None);
    let t = both.warm_login("by.sql").await;
    diesel::sql_query(
        "UPDATE auth_sessions SET revoked_at = now(), revoked_reason = 'operator' \
         WHERE user_id = (SELECT id FROM users WHERE username = 'by.sql')",
    )
    .execute(&mut a.db.conn())
    .expect("revoke");
    took.extend(both.refused(&t.access).await);
    eprintln!("revocations reached the instances after {took:?}");
}
