//! Two instances of the app on one database, as behind a load balancer: nothing that
//! matters lives in one process's memory.

use diesel::RunQueryDsl;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fieldwork::{field, log};
use crate::helpers::{assert_problem, spawn_app, PASSWORD};

#[tokio::test]
async fn two_instances_share_logins_refresh_reuse_detection_throttling_and_sync() {
    let a = spawn_app().await;
    let b = a.another_instance(&[]);
    let http = reqwest::Client::new();
    let on = |base: &str, path: &str| format!("{base}{path}");

    // A login on A refreshes on B; the old refresh token replayed on A revokes the login,
    // which B then refuses too.
    a.create_user("roamer", "admin", None, None);
    let first = a.login("roamer").await;
    let res = http
        .post(on(&b.address, "/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": first.refresh}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    let rotated: Value = res.json().await.expect("json");
    let access_b = rotated["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    let refresh_b = rotated["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    assert_eq!(
        a.get("/api/v1/me", &access_b).await.status(),
        StatusCode::OK
    );
    let res = a
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": first.refresh}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "reuse detected on A"
    );
    let res = http
        .get(on(&b.address, "/api/v1/me"))
        .bearer_auth(&access_b)
        .send()
        .await
        .expect("sent");
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "B sees the revocation"
    );
    let res = http
        .post(on(&b.address, "/api/v1/auth/refresh"))
        .json(&json!({"refresh_token": refresh_b}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // A logout on B ends the login on A.
    let again = a.login("roamer").await;
    let res = http
        .post(on(&b.address, "/api/v1/auth/logout"))
        .bearer_auth(&again.access)
        .json(&json!({}))
        .send()
        .await
        .expect("sent");
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        a.get("/api/v1/me", &again.access).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Failed logins spread over both instances count together.
    a.create_user("guessed", "admin", None, None);
    for i in 0..5 {
        let base = if i % 2 == 0 { &a.address } else { &b.address };
        let res = http
            .post(on(base, "/api/v1/auth/login"))
            .json(&json!({"username": "guessed", "password": "guess"}))
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    for base in [&a.address, &b.address] {
        let res = http
            .post(on(base, "/api/v1/auth/login"))
            .json(&json!({"username": "guessed", "password": PASSWORD}))
            .send()
            .await
            .expect("sent");
        assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "too_many_requests").await;
    }

    // A phone pushes through A and pulls through B; its cursor from B works on A; a resend
    // through B of what A stored is a duplicate.
    let f = field(&a).await;
    let pull = |base: String, cursor: Option<String>| {
        let token = f.member.clone();
        let http = http.clone();
        async move {
            let mut url = format!("{base}/api/v1/sync/pull?limit=500");
            if let Some(c) = cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let res = http.get(url).bearer_auth(token).send().await.expect("sent");
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.expect("json")
        }
    };
    let start = pull(b.address.clone(), None).await;
    let cursor = start["cursor"].as_str().expect("cursor").to_string();
    let ids: Vec<Uuid> = (0..3).map(|_| Uuid::new_v4()).collect();
    let batch = json!({"device_id": "phone-lb", "items": ids.iter().map(|id| json!({"op": "create_log", "data": log(*id)})).collect::<Vec<_>>()});
    let res = a
        .post_json("/api/v1/sync/push", Some(&f.member), &batch)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = http
        .post(on(&b.address, "/api/v1/sync/push"))
        .bearer_auth(&f.member)
        .json(&batch)
        .send()
        .await
        .expect("sent");
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["summary"]["duplicate"], 3, "{body}");

    // Other tests' open transactions may hold back the feed for a moment; a phone polls.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let seen = loop {
        let page = pull(b.address.clone(), Some(cursor.clone())).await;
        let logs: Vec<String> = page["assistance_logs"]
            .as_array()
            .expect("logs")
            .iter()
            .map(|l| l["id"].as_str().expect("id").to_string())
            .collect();
        if logs.len() >= 3 || std::time::Instant::now() > deadline {
            break (logs, page["cursor"].as_str().expect("cursor").to_string());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let mut expected: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    expected.sort();
    let mut got = seen.0;
    got.sort();
    assert_eq!(got, expected);
    let tail = pull(a.address.clone(), Some(seen.1)).await;
    assert_eq!(tail["assistance_logs"], json!([]));
    assert_eq!(tail["has_more"], false);
}

/// How long a change may take to reach the other instance in these tests: the design's bound
/// is the notification's delivery plus one 2 ms poll of the listener (`auth::live_sessions`);
/// a second leaves room for a loaded test machine.
const REACH: std::time::Duration = std::time::Duration::from_secs(1);

/// `GET /api/v1/me` on `base`: status and body.
async fn me_on(http: &reqwest::Client, base: &str, token: &str) -> (StatusCode, Value) {
    let res = http
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(token)
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .expect("sent");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Asks `base` until `/me` with `token` answers `status` (and, when given, `role`); fails
/// past `REACH`. Returns how long it took.
async fn reaches(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    status: StatusCode,
    role: Option<&str>,
) -> std::time::Duration {
    let start = std::time::Instant::now();
    loop {
        let (got, body) = me_on(http, base, token).await;
        if got == status && role.is_none_or(|r| body["role"] == r) {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < REACH,
            "{base} still answers {got} {body} after {:?}",
            start.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// Both instances have answered `token` at least twice, so its session is in their caches.
async fn warm(http: &reqwest::Client, bases: [&str; 2], token: &str) {
    for base in bases {
        for _ in 0..2 {
            assert_eq!(me_on(http, base, token).await.0, StatusCode::OK, "{base}");
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
    let http = reqwest::Client::new();
    a.create_user("cached", "admin", None, None);
    let seen = a.login("cached").await;
    let unseen = a.login("cached").await;
    warm(&http, [&a.address, &b.address], &seen.access).await;

    let mut locker = a.db.conn();
    diesel::sql_query("BEGIN")
        .execute(&mut locker)
        .expect("begin");
    diesel::sql_query("LOCK TABLE auth_sessions, users IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .expect("lock");
    for base in [&a.address, &b.address] {
        let (status, body) = me_on(&http, base, &seen.access).await;
        assert_eq!(status, StatusCode::OK, "{base}: {body}");
        assert_eq!(body["username"], "cached");
    }
    let res = http
        .get(format!("{}/api/v1/me", b.address))
        .bearer_auth(&unseen.access)
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
    assert_eq!(
        me_on(&http, &b.address, &unseen.access).await.0,
        StatusCode::OK
    );
}

/// Logout, disabling, a change of role, a password change and a revocation written straight
/// into the database reach both instances while both hold the session in memory.
#[tokio::test]
async fn every_revocation_reaches_both_instances_whose_caches_hold_the_session() {
    let a = spawn_app().await;
    let b = a.another_instance(&[]);
    let http = reqwest::Client::new();
    let (bases, ok, gone) = (
        [a.address.as_str(), b.address.as_str()],
        StatusCode::OK,
        StatusCode::UNAUTHORIZED,
    );
    let (_, admin) = a.user_with_token("root", "admin", None, None).await;
    let mut took = Vec::new();

    // Logout through B ends the login on A.
    let user = a.create_user("leaver", "province_officer", Some("01"), None);
    let t = a.login("leaver").await;
    warm(&http, bases, &t.access).await;
    let res = http
        .post(format!("{}/api/v1/auth/logout", b.address))
        .bearer_auth(&t.access)
        .json(&json!({}))
        .send()
        .await
        .expect("sent");
    assert!(res.status().is_success(), "{}", res.status());
    for base in bases {
        took.push(reaches(&http, base, &t.access, gone, None).await);
    }

    // Disabled through A: refused on B.
    let t = a.login("leaver").await;
    warm(&http, bases, &t.access).await;
    let res = a
        .patch_json(
            &format!("/api/v1/users/{user}"),
            &admin,
            None,
            &json!({"disabled": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for base in bases {
        took.push(reaches(&http, base, &t.access, gone, None).await);
    }

    // A change of role through A: B answers with the new role (and its scope).
    let promoted = a.create_user("promoted", "province_officer", Some("01"), None);
    let t = a.login("promoted").await;
    warm(&http, bases, &t.access).await;
    let res = a
        .patch_json(
            &format!("/api/v1/users/{promoted}"),
            &admin,
            None,
            &json!({"role": "commune_officer", "unit_code": "00004"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for base in bases {
        took.push(reaches(&http, base, &t.access, ok, Some("commune_officer")).await);
        let (_, me) = me_on(&http, base, &t.access).await;
        assert_eq!(me["unit_code"], "00004", "{me}");
    }

    // A password change through A ends the account's other logins on both, not this one.
    a.create_user("changer", "admin", None, None);
    let (laptop, phone) = (a.login("changer").await, a.login("changer").await);
    warm(&http, bases, &laptop.access).await;
    warm(&http, bases, &phone.access).await;
    let res = a
        .request(reqwest::Method::PUT, "/api/v1/me/password")
        .bearer_auth(&laptop.access)
        .json(&json!({"current_password": PASSWORD, "new_password": "a brand new passphrase 42"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for base in bases {
        took.push(reaches(&http, base, &phone.access, gone, None).await);
        assert_eq!(me_on(&http, base, &laptop.access).await.0, ok, "{base}");
    }

    // A revocation written straight into the database (an operator's SQL) reaches both too.
    a.create_user("by.sql", "admin", None, None);
    let t = a.login("by.sql").await;
    warm(&http, bases, &t.access).await;
    diesel::sql_query(
        "UPDATE auth_sessions SET revoked_at = now(), revoked_reason = 'operator' \
         WHERE user_id = (SELECT id FROM users WHERE username = 'by.sql')",
    )
    .execute(&mut a.db.conn())
    .expect("revoke");
    for base in bases {
        took.push(reaches(&http, base, &t.access, gone, None).await);
    }
    eprintln!("revocations reached the instances after {took:?}");
}
