use reqwest::{Method, StatusCode};

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn malformed_requests_are_problems() {
    let app = spawn_app().await;

    let res = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .expect("sent");
    assert_problem(res, StatusCode::BAD_REQUEST, "malformed_json").await;

    let res = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("content-type", "text/plain")
        .body("username=a")
        .send()
        .await
        .expect("sent");
    assert_problem(res, StatusCode::BAD_REQUEST, "unsupported_media_type").await;

    let res = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("content-type", "application/json")
        .body(format!(
            "{{\"username\": \"{}\", \"password\": \"x\"}}",
            "a".repeat(3 * 1024 * 1024)
        ))
        .send()
        .await
        .expect("sent");
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    let res = app
        .request(Method::POST, "/api/v1/auth/login")
        .header("content-type", "application/json")
        .body("{\"username\": [1], \"password\": \"x\"}")
        .send()
        .await
        .expect("sent");
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;

    let res = app
        .request(Method::GET, "/api/v1/nothing-here")
        .send()
        .await
        .expect("sent");
    assert_problem(res, StatusCode::NOT_FOUND, "route_not_found").await;

    app.create_user("querier", "admin", None, None);
    let token = app.login("querier").await.access;
    let res = app.get("/api/v1/users?page=abc", &token).await;
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_query").await;
    let res = app.get("/api/v1/users/not-a-uuid", &token).await;
    assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;

    // PostgreSQL stores no NUL character: a clear 400, not a 500 (found by schemathesis).
    let res = app.get("/api/v1/users?q=a%00b", &token).await;
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_text").await;
    let res = app
        .post_json(
            "/api/v1/villages",
            Some(&token),
            &serde_json::json!({"name": "Thôn\u{0}", "kind": "thon", "commune_code": "00004"}),
        )
        .await;
    assert_problem(res, StatusCode::BAD_REQUEST, "invalid_text").await;
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_security_headers() {
    let app = spawn_app().await;
    let res = app
        .request(Method::GET, "/health/live")
        .send()
        .await
        .expect("sent");
    let id = res.headers()["x-request-id"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert_eq!(uuid::Uuid::parse_str(&id).map(|_| ()), Ok(()));
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");

    let res = app
        .request(Method::GET, "/api/v1/nope")
        .header("X-Request-Id", "client-chosen-42")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.headers()["x-request-id"], "client-chosen-42");

    // An unsafe id is replaced, not echoed.
    let res = app
        .request(Method::GET, "/health/live")
        .header("X-Request-Id", "bad id with spaces")
        .send()
        .await
        .expect("sent");
    assert_ne!(res.headers()["x-request-id"], "bad id with spaces");
}
