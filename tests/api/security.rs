//! Browser access (CORS) and what the logs may never hold.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, ServerProcess, TestDb, PASSWORD};

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let origin = "https://toso.example.vn";
    let app = spawn_app_with(&[
        ("TOSO_CORS_ORIGINS", origin),
        ("TOSO_CORS_CREDENTIALS", "true"),
    ])
    .await;
    let preflight = |from: &str| {
        app.request(Method::OPTIONS, "/api/v1/villages")
            .header("Origin", from)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            )
    };
    let res = preflight(origin).send().await.expect("sent");
    assert!(res.status().is_success(), "{}", res.status());
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], origin);
    assert_eq!(h["access-control-allow-credentials"], "true");
    let methods = h["access-control-allow-methods"].to_str().expect("ascii");
    assert!(methods.contains("POST"), "{methods}");
    assert_eq!(h["x-content-type-options"], "nosniff");

    // Another origin gets no CORS grant, so its browser withholds the answer.
    let res = preflight("https://evil.example.com")
        .send()
        .await
        .expect("sent");
    assert!(!res.headers().contains_key("access-control-allow-origin"));
    let res = app
        .request(Method::GET, "/health/live")
        .header("Origin", "https://evil.example.com")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.headers().contains_key("access-control-allow-origin"));
    let res = app
        .request(Method::GET, "/health/live")
        .header("Origin", origin)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.headers()["access-control-allow-origin"], origin);
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    assert!(exposed.contains("etag") && exposed.contains("x-request-id"));

    // Without configuration no origin is granted anything.
    let plain = spawn_app().await;
    let res = plain
        .request(Method::GET, "/health/live")
        .header("Origin", origin)
        .send()
        .await
        .expect("sent");
    assert!(!res.headers().contains_key("access-control-allow-origin"));
}

#[test]
fn cors_refuses_a_wildcard_with_credentials() {
    let settings = |origins: &str, credentials: &str| {
        let env = [
            ("DATABASE_URL", "postgres://u:p@localhost/db"),
            ("TOSO_ENV", "dev"),
            ("TOSO_CORS_ORIGINS", origins),
            ("TOSO_CORS_CREDENTIALS", credentials),
        ];
        toso::config::Settings::from_lookup(|k| {
            env.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        })
    };
    let err = settings("*", "true").expect_err("wildcard with credentials");
    assert!(err.to_string().contains("TOSO_CORS_ORIGINS"), "{err}");
    assert!(settings("https://a.vn, *", "true").is_err());
    assert!(
        settings("toso.example.vn", "false").is_err(),
        "not an origin"
    );
    let ok = settings("*", "false").expect("a wildcard alone is allowed");
    assert_eq!(ok.cors.origins, ["*"]);
    let ok = settings("https://a.vn/, https://b.vn:8443", "true").expect("a list");
    assert_eq!(ok.cors.origins, ["https://a.vn", "https://b.vn:8443"]);
}

#[tokio::test]
async fn logs_never_hold_passwords_tokens_or_personal_data() {
    let db = TestDb::new();
    {
        let mut conn = db.conn();
        let hash = toso::auth::password::hash_blocking(PASSWORD).expect("hash");
        toso::db::users::insert(
            &mut conn,
            &toso::db::users::NewUser {
                username: "root.admin".into(),
                full_name: None,
                phone: None,
                password_hash: hash,
                role: "admin".into(),
                province_code: None,
                unit_code: None,
                team_id: None,
            },
        )
        .expect("user");
    }
    // The most verbose level an operator could set, every crate included.
    let server = ServerProcess::start(&db.url(), &[("TOSO_LOG", "trace")]).await;
    let base = server.address.clone();
    let client = reqwest::Client::new();
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut req = client.post(format!("{base}{path}")).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };

    let wrong_password = "Wr0ng-secret-guess-77";
    let res = post(
        "/api/v1/auth/login",
        None,
        json!({"username": "root.admin", "password": wrong_password}),
    )
    .await
    .expect("sent");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let login: Value = post(
        "/api/v1/auth/login",
        None,
        json!({"username": "root.admin", "password": PASSWORD}),
    )
    .await
    .expect("sent")
    .json()
    .await
    .expect("json");
    let access = login["access_token"].as_str().expect("access").to_string();
    let refresh = login["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();

    let new_password = "Mật-khẩu-mới-2025";
    let phone = "0912345678";
    let res = post(
        "/api/v1/users",
        Some(&access),
        json!({"username": "officer.log", "password": new_password, "role": "commune_officer",
               "unit_code": "00004", "full_name": "Nguyễn Thị Bí Mật", "phone": phone}),
    )
    .await
    .expect("sent");
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = post(
        "/api/v1/auth/login",
        None,
        json!({"username": phone, "password": new_password}),
    )
    .await
    .expect("sent");
    assert_eq!(res.status(), StatusCode::OK, "login by phone");
    let rotated: Value = post(
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": refresh}),
    )
    .await
    .expect("sent")
    .json()
    .await
    .expect("json");
    let access2 = rotated["access_token"]
        .as_str()
        .expect("access")
        .to_string();
    let res = client
        .put(format!("{base}/api/v1/me/password"))
        .bearer_auth(&access2)
        .json(&json!({"current_password": PASSWORD, "new_password": "Another-pass-2026"}))
        .send()
        .await
        .expect("sent");
    assert!(res.status().is_success(), "{}", res.status());
    // A bad token and a replayed refresh token are refused, and logged as such, by reason only.
    let res = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(format!("{access2}x"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = post(
        "/api/v1/auth/refresh",
        None,
        json!({"refresh_token": refresh}),
    )
    .await
    .expect("sent");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let logs = server.logs();
    assert!(
        logs.contains("request completed"),
        "requests are logged:\n{logs}"
    );
    for secret in [
        PASSWORD,
        wrong_password,
        new_password,
        "Another-pass-2026",
        access.as_str(),
        refresh.as_str(),
        access2.as_str(),
        crate::helpers::JWT_SECRET,
        phone,
        "Bí Mật",
    ] {
        assert!(
            !logs.contains(secret),
            "the logs hold {secret:?}:\n{}",
            logs.lines()
                .filter(|l| l.contains(secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    // Tokens are not even logged in part (a signature or a payload segment).
    for token in [&access, &access2] {
        for part in token.split('.') {
            assert!(!logs.contains(part), "a token segment is logged");
        }
    }
}

#[tokio::test]
async fn a_login_storm_is_shed_with_503_instead_of_queueing_without_bound() {
    // One hash at a time and nobody may wait: logins that arrive while a hash runs are told
    // to come back, and the requests that got through still succeed.
    let app = spawn_app_with(&[("TOSO_HASH_CONCURRENCY", "1"), ("TOSO_HASH_QUEUE", "0")]).await;
    // Sixteen accounts, one login each: concurrent logins of one account from one address
    // are capped by its throttling counter (429) before they reach the hashing queue.
    for i in 0..16 {
        app.create_user(
            &format!("storm.officer{i}"),
            "commune_officer",
            Some("00004"),
            None,
        );
    }
    let storm: Vec<_> = (0..16)
        .map(|i| {
            let client = reqwest::Client::new();
            let url = format!("{}/api/v1/auth/login", app.address);
            tokio::spawn(async move {
                client
                    .post(url)
                    .json(&json!({"username": format!("storm.officer{i}"), "password": PASSWORD}))
                    .send()
                    .await
            })
        })
        .collect();
    let (mut ok, mut shed) = (0, 0);
    for handle in storm {
        let res = handle.await.expect("task").expect("sent");
        match res.status() {
            StatusCode::OK => ok += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(res.headers()["retry-after"], "1");
                let problem: Value = res.json().await.expect("problem json");
                assert_eq!(problem["code"], "service_unavailable", "{problem}");
                shed += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok >= 1, "some logins went through");
    assert!(shed >= 1, "some logins were shed ({ok} went through)");

    // Once the storm is over, logging in works again.
    let res = app.login_raw("storm.officer0", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
}
