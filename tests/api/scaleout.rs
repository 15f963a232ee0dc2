//! Two instances of the app on one database, as behind a load balancer: nothing that
//! matters lives in one process's memory.

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
