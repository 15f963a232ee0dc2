use reqwest::{Method, StatusCode};

use serde_json::json;

use crate::helpers::{spawn_app, Actor};

#[tokio::test]
async fn malformed_requests_are_problems() {
    let app = spawn_app().await;
    let anyone = app.anyone();

    // Login bodies: cut short, not JSON, too large, of the wrong type.
    let (json, bad) = ("application/json", StatusCode::BAD_REQUEST);
    let huge = format!(
        "{{\"username\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(3 * 1024 * 1024)
    );
    let wrong_type = "{\"username\": [1], \"password\": \"x\"}".to_string();
    for (content_type, body, status, code) in [
        (json, "{\"username\": ".to_string(), bad, "malformed_json"),
        (
            "text/plain",
            "username=a".into(),
            bad,
            "unsupported_media_type",
        ),
        (
            json,
            huge,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            json,
            wrong_type,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
    ] {
        anyone
            .send_raw(Method::POST, "/api/v1/auth/login", content_type, body)
            .await
            .problem(status, code);
    }
    anyone
        .get("/api/v1/nothing-here")
        .await
        .problem(StatusCode::NOT_FOUND, "route_not_found");

    let querier = app.actor("querier", "admin", None, None).await;
    for (path, status, code) in [
        ("/api/v1/users?page=abc", bad, "invalid_query"),
        (
            "/api/v1/users/not-a-uuid",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        // PostgreSQL stores no NUL character: a clear 400, not a 500 (found by schemathesis).
        ("/api/v1/users?q=a%00b", bad, "invalid_text"),
    ] {
        querier.get(path).await.problem(status, code);
    }
    querier
        .post(
            "/api/v1/villages",
            json!({"name": "Thôn\u{0}", "kind": "thon", "commune_code": "00004"}),
        )
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_text");
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

    let with_id = |id: &str| app.anyone().header("X-Request-Id", id);
    let res = with_id("client-chosen-42").get("/api/v1/nope").await;
    assert_eq!(res.headers()["x-request-id"], "client-chosen-42");

    // An unsafe id is replaced, not echoed.
    let res = with_id("bad id with spaces").get("/health/live").await;
    assert_ne!(res.headers()["x-request-id"], "bad id with spaces");
}

#[tokio::test]
async fn request_limits_are_clear_client_errors() {
    let app = spawn_app().await;
    let admin = app.actor("limits", "admin", None, None).await;

    // A documented path with a method it does not have: 405 with the methods it has.
    let res = admin
        .send(Method::PUT, "/api/v1/villages", None, None)
        .await;
    assert_eq!(res.headers()["allow"], "GET, HEAD, POST");
    res.problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let res = app
        .anyone()
        .send(Method::DELETE, "/api/v1/units/01", None)
        .await;
    assert_eq!(res.headers()["allow"], "GET, HEAD");
    res.problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");

    // JSON nested deeper than the parser allows: a 4xx problem, not a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let res = app
        .anyone()
        .acting(&admin.token)
        .send_raw(
            Method::POST,
            "/api/v1/villages",
            "application/json",
            format!("{{\"name\": \"x\", \"kind\": \"thon\", \"extra\": {deep}}}"),
        )
        .await;
    assert!(res.status.is_client_error(), "status {}", res.status);
    assert!(res.body["code"].is_string(), "{}", res.body);

    // Strings past their documented length: a field error naming the field.
    let problem = admin
        .post(
            "/api/v1/villages",
            json!({"name": "x".repeat(201), "kind": "thon", "commune_code": "00004"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "name");
    let res = admin
        .get(&format!("/api/v1/villages?q={}", "a".repeat(300)))
        .await;
    // A long search is cut to its first 100 characters, as documented.
    assert_eq!(res.status, StatusCode::OK);

    // Page sizes: past the limit is a field error, not a silent clamp.
    let problem = admin
        .get("/api/v1/villages?page_size=201")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "page_size");
}

#[tokio::test]
async fn every_query_string_error_names_its_field() {
    let app = spawn_app().await;
    let admin = app.actor("queries", "admin", None, None).await;
    // One broken parameter on every route that reads a query string.
    for (path, field, code) in [
        ("/api/v1/users?page=abc", "page", "invalid_value"),
        (
            "/api/v1/units?include_expired=maybe",
            "include_expired",
            "invalid_value",
        ),
        ("/api/v1/villages?kind=castle", "kind", "invalid_value"),
        ("/api/v1/teams?village=x", "village", "invalid_value"),
        ("/api/v1/members?team=x", "team", "invalid_value"),
        (
            "/api/v1/teams/1/members?page_size=x",
            "page_size",
            "invalid_value",
        ),
        ("/api/v1/audit?actor=not-a-uuid", "actor", "invalid_value"),
        (
            "/api/v1/categories?include_retired=maybe",
            "include_retired",
            "invalid_value",
        ),
        (
            "/api/v1/assistance-logs?from=yesterday",
            "from",
            "invalid_value",
        ),
        ("/api/v1/trainings?to=2026-13-01", "to", "invalid_value"),
        ("/api/v1/reports/monthly?unit=VN", "month", "required"),
        (
            "/api/v1/reports/trend?unit=VN&from=2026-01",
            "to",
            "required",
        ),
        (
            "/api/v1/reports/status?month=2026-01",
            "province",
            "required",
        ),
        ("/api/v1/sync/pull?limit=many", "limit", "invalid_value"),
    ] {
        let problem = admin
            .get(path)
            .await
            .problem(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(problem["errors"][0]["field"], field, "{path}: {problem}");
        assert_eq!(problem["errors"][0]["code"], code, "{path}: {problem}");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{path}: {problem}"
        );
    }
    // What a time parameter expects is said in the message.
    let problem = admin
        .get("/api/v1/assistance-logs?from=yesterday")
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_query");
    let message = problem["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("YYYY-MM-DD") && message.contains("RFC 3339"),
        "{message}"
    );
}

/// Two logs of `member`, half an hour either side of midnight into August 2026 (Vietnam
/// time); returns their ids.
async fn logs_either_side_of_midnight(member: &Actor<'_>) -> [String; 2] {
    let mut ids = Vec::new();
    for at in ["2026-07-31T23:30:00+07:00", "2026-08-01T00:30:00+07:00"] {
        let id = uuid::Uuid::new_v4();
        let body = crate::fieldwork::log_at(id, at);
        let res = member.post("/api/v1/assistance-logs", body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{at}");
        ids.push(id.to_string());
    }
    [ids[0].clone(), ids[1].clone()]
}

/// A day stands for 00:00 of that day in Vietnam time; `to` is exclusive.
async fn a_day_is_its_midnight(officer: &Actor<'_>, [before, after]: [String; 2]) {
    for (query, expected) in [
        ("from=2026-08-01", vec![after.clone()]),
        ("to=2026-08-01", vec![before.clone()]),
        (
            "from=2026-07-31&to=2026-08-02",
            vec![after.clone(), before.clone()],
        ),
        ("from=2026-08-01T00:00:00%2B07:00", vec![after.clone()]),
    ] {
        let page = officer
            .get(&format!("/api/v1/assistance-logs?{query}"))
            .await
            .body;
        let got: Vec<String> = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|l| l["id"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(got, expected, "{query}");
    }
    officer
        .get("/api/v1/trainings?from=2026-08-01&to=2026-09-01")
        .await
        .expect(StatusCode::OK);
}

/// Where a month is meant, a day stands for its month.
async fn a_day_is_its_month(officer: &Actor<'_>) {
    let points = officer
        .get("/api/v1/reports/trend?unit=00004&from=2026-07-15&to=2026-08-01")
        .await
        .expect(StatusCode::OK);
    let months: Vec<&str> = points
        .as_array()
        .expect("points")
        .iter()
        .map(|p| p["month"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(months, ["2026-07", "2026-08"]);
    assert_eq!(points[0]["logs"], 1);
    assert_eq!(points[1]["logs"], 1);
    let report = officer
        .get("/api/v1/reports/monthly?unit=00004&month=2026-08-20")
        .await
        .expect(StatusCode::OK);
    assert_eq!(report["month"], "2026-08");
}

#[tokio::test]
async fn a_day_is_accepted_where_a_time_or_a_month_is_meant() {
    let app = spawn_app().await;
    let f = crate::fieldwork::field(&app).await;
    let (officer, member) = (app.acting(&f.officer), app.acting(&f.member));
    let ids = logs_either_side_of_midnight(&member).await;
    a_day_is_its_midnight(&officer, ids).await;
    a_day_is_its_month(&officer).await;

    // Not a day at all: the field and what is expected.
    let problem = officer
        .get("/api/v1/reports/trend?unit=00004&from=2026-02-30&to=2026-08")
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "from");
    assert!(problem["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("YYYY-MM"));
}

#[tokio::test]
async fn if_match_star_means_any_current_version() {
    let app = spawn_app().await;
    let officer = app
        .actor("star", "commune_officer", Some("00004"), None)
        .await;
    let village = officer
        .post(
            "/api/v1/villages",
            json!({"name": "Thôn Sao", "kind": "thon"}),
        )
        .await
        .body;
    let path = format!("/api/v1/villages/{}", village["id"]);
    let res = officer
        .patch(&path, Some("*"), json!({"name": "Thôn Sao Mới"}))
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    assert_eq!(res.body["name"], "Thôn Sao Mới");
    // A named version still has to be the current one; other values are still refused.
    officer
        .patch(&path, Some("\"1\""), json!({"name": "x"}))
        .await
        .problem(StatusCode::PRECONDITION_FAILED, "version_mismatch");
    officer
        .patch(&path, Some("**"), json!({"name": "x"}))
        .await
        .problem(StatusCode::BAD_REQUEST, "invalid_if_match");
    let res = officer.delete(&path, Some("*")).await;
    assert_eq!(res.status, StatusCode::OK);
    // `*` on a record that does not exist is still 404.
    officer
        .delete("/api/v1/villages/999999", Some("*"))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
}
/// Every constraint of the schema (and every unique index, whose name a unique violation
/// reports), partitions' copies included, maps to a problem in `crates/toso-core/src/error.rs`: no constraint
/// can answer 500.
#[tokio::test]
async fn every_database_constraint_maps_to_a_problem() {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    let db = crate::helpers::TestDb::new();
    let names: Vec<String> = diesel::sql_query(
        "SELECT c.conname::text AS name FROM pg_constraint c \
           JOIN pg_class t ON t.oid = c.conrelid \
           JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() \
         UNION \
         SELECT i.relname::text FROM pg_index x \
           JOIN pg_class i ON i.oid = x.indexrelid \
           JOIN pg_namespace n ON n.oid = i.relnamespace \
         WHERE n.nspname = current_schema() AND x.indisunique \
         ORDER BY 1",
    )
    .load::<Name>(&mut db.conn())
    .expect("constraint names")
    .into_iter()
    .map(|n| n.name)
    .collect();
    assert!(names.len() > 100, "only {} names", names.len());
    assert!(names.iter().any(|n| n.starts_with("assistance_logs_y20")));
    let unmapped: Vec<&String> = names
        .iter()
        .filter(|n| toso::error::constraint_problem(n).is_none())
        .collect();
    assert!(
        unmapped.is_empty(),
        "constraints without a problem in crates/toso-core/src/error.rs (add them to CONSTRAINTS): {unmapped:?}"
    );
}
