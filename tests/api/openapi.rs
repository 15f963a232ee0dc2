use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{spawn_app, strict_csp, TestApp};

/// Every route the app serves, as (method, path). A route added to the app but not here, or
/// here but not in the document, fails this test.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/me"),
    ("put", "/api/v1/me/password"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users"),
    ("get", "/api/v1/users/{id}"),
    ("patch", "/api/v1/users/{id}"),
    ("post", "/api/v1/users/{id}/activation"),
    ("get", "/api/v1/users/{id}/activation-qr"),
    ("post", "/api/v1/auth/activate"),
    ("post", "/api/v1/imports"),
    ("get", "/api/v1/imports"),
    ("get", "/api/v1/imports/template"),
    ("get", "/api/v1/imports/{id}"),
    ("get", "/api/v1/imports/{id}/report"),
    ("get", "/api/v1/units"),
    ("get", "/api/v1/units/{code}"),
    ("get", "/api/v1/villages"),
    ("post", "/api/v1/villages"),
    ("get", "/api/v1/villages/{id}"),
    ("patch", "/api/v1/villages/{id}"),
    ("delete", "/api/v1/villages/{id}"),
    ("post", "/api/v1/villages/{id}/restore"),
    ("get", "/api/v1/teams"),
    ("post", "/api/v1/teams"),
    ("get", "/api/v1/teams/{id}"),
    ("patch", "/api/v1/teams/{id}"),
    ("delete", "/api/v1/teams/{id}"),
    ("post", "/api/v1/teams/{id}/restore"),
    ("get", "/api/v1/teams/{id}/members"),
    ("post", "/api/v1/teams/{id}/members"),
    ("get", "/api/v1/members"),
    ("get", "/api/v1/members/{id}"),
    ("patch", "/api/v1/members/{id}"),
    ("delete", "/api/v1/members/{id}"),
    ("post", "/api/v1/members/{id}/restore"),
    ("post", "/api/v1/members/{id}/move"),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/categories"),
    ("post", "/api/v1/categories"),
    ("post", "/api/v1/categories/{code}/retire"),
    ("post", "/api/v1/categories/{code}/restore"),
    ("post", "/api/v1/assistance-logs"),
    ("get", "/api/v1/assistance-logs"),
    ("get", "/api/v1/assistance-logs/{id}"),
    ("patch", "/api/v1/assistance-logs/{id}"),
    ("delete", "/api/v1/assistance-logs/{id}"),
    ("post", "/api/v1/assistance-logs/{id}/restore"),
    ("post", "/api/v1/trainings"),
    ("get", "/api/v1/trainings"),
    ("get", "/api/v1/trainings/{id}"),
    ("put", "/api/v1/trainings/{id}"),
    ("delete", "/api/v1/trainings/{id}"),
    ("post", "/api/v1/trainings/{id}/restore"),
    ("get", "/api/v1/trainings/{id}/attendance"),
    ("put", "/api/v1/trainings/{id}/attendance"),
    ("get", "/api/v1/reports/monthly"),
    ("get", "/api/v1/reports/trend"),
    ("post", "/api/v1/reports/monthly/{commune}/{month}/submit"),
    ("post", "/api/v1/reports/monthly/{commune}/{month}/approve"),
    ("post", "/api/v1/reports/monthly/{commune}/{month}/return"),
    ("post", "/api/v1/reports/monthly/{commune}/{month}/reopen"),
    ("get", "/api/v1/reports/status"),
    ("post", "/api/v1/sync/push"),
    ("get", "/api/v1/sync/pull"),
    ("get", "/api/v1/indicators"),
    ("post", "/api/v1/indicators"),
    ("post", "/api/v1/indicators/{code}/retire"),
    ("post", "/api/v1/indicators/{code}/restore"),
    ("get", "/api/v1/denominators"),
    ("put", "/api/v1/denominators"),
    ("get", "/api/v1/indicator-values"),
    ("put", "/api/v1/indicator-values"),
    ("get", "/api/v1/indicator-targets"),
    ("put", "/api/v1/indicator-targets"),
    ("post", "/api/v1/indicator-targets/{id}/split"),
    ("get", "/api/v1/reports/settings/{province}"),
    ("put", "/api/v1/reports/settings/{province}"),
    ("get", "/api/v1/reports/inactive"),
];

fn documented(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                out.push((method.to_string(), path.clone()));
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn the_document_covers_every_route() {
    let app = spawn_app().await;
    let res = app
        .request(Method::GET, "/api/v1/openapi.json")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.expect("json");
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    enums_are_documented_as_they_travel(&doc["components"]["schemas"]);
    every_problem_code_is_an_enum_value(&doc["components"]["schemas"]);

    let mut expected: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(documented(&doc), expected);
    for (method, path) in documented(&doc) {
        documents_its_failures(&doc["paths"][&path][&method], &method, &path);
        is_routed(&app, &method, &path).await;
    }
}

/// Enums are documented as they travel on the wire (a client generated from the document
/// must send `home_visit`, not `HomeVisit`).
fn enums_are_documented_as_they_travel(schemas: &Value) {
    assert_eq!(
        schemas["Channel"]["enum"],
        serde_json::json!(["home_visit", "commune_centre", "phone", "group_session"])
    );
    assert_eq!(schemas["AgeBand"]["enum"][1], "18_35");
    assert_eq!(schemas["VillageKind"]["enum"][7], "to_dan_pho");
}

/// Every problem code is a value of the `ErrorCode` string enum the Problem schema's `code`
/// refers to, so a client can switch on every code.
fn every_problem_code_is_an_enum_value(schemas: &Value) {
    assert_eq!(
        schemas["Problem"]["properties"]["code"]["$ref"],
        "#/components/schemas/ErrorCode"
    );
    let codes: Vec<&str> = toso::error::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(schemas["ErrorCode"]["type"], "string");
    assert_eq!(schemas["ErrorCode"]["enum"], serde_json::json!(codes));
    for code in [
        "validation_failed",
        "version_mismatch",
        "outside_scope",
        "month_locked",
    ] {
        assert!(codes.contains(&code), "{code}");
    }
}

/// Every operation documents the failures any request may meet: 500 and 503; 401 when it
/// needs a token; 408 and 413 when it takes a body.
fn documents_its_failures(op: &Value, method: &str, path: &str) {
    let responses = op["responses"].as_object().expect("responses");
    assert!(
        responses.contains_key("500") && responses.contains_key("503"),
        "{method} {path}"
    );
    if op.get("security").is_some() {
        assert!(
            responses.contains_key("401"),
            "{method} {path} documents 401"
        );
    }
    if op.get("requestBody").is_some() {
        assert!(
            responses.contains_key("408") && responses.contains_key("413"),
            "{method} {path} documents the body deadline and limit"
        );
    }
}

/// A documented operation is really served (not the router's fallback).
async fn is_routed(app: &TestApp, method: &str, path: &str) {
    let concrete = path
        .replace("{id}", &uuid::Uuid::new_v4().to_string())
        .replace("{code}", "01")
        .replace("{commune}", "00004")
        .replace("{month}", "2025-10");
    let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
    let res = app.request(m, &concrete).send().await.expect("sent");
    if res.status() == StatusCode::NOT_FOUND {
        let body: Value = res.json().await.expect("json");
        assert_ne!(
            body["code"], "route_not_found",
            "{method} {path} is documented but not routed"
        );
    }
}

#[tokio::test]
async fn every_operation_id_is_unique_and_names_its_resource() {
    let doc = serde_json::to_value(toso::http::openapi()).expect("json");
    let mut seen = std::collections::HashMap::new();
    for (method, path) in documented(&doc) {
        let id = doc["paths"][&path][&method]["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
            .to_string();
        assert!(
            id.len() >= 5
                && id.starts_with(|c: char| c.is_ascii_lowercase())
                && id.chars().all(|c| c.is_ascii_alphanumeric()),
            "{method} {path}: {id}"
        );
        if let Some(other) = seen.insert(id.clone(), format!("{method} {path}")) {
            panic!("operationId {id} of {method} {path} is also that of {other}");
        }
    }
    for (id, route) in [
        ("listVillages", "get /api/v1/villages"),
        ("createTeamMember", "post /api/v1/teams/{id}/members"),
        (
            "archiveAssistanceLog",
            "delete /api/v1/assistance-logs/{id}",
        ),
    ] {
        assert_eq!(seen[id], route);
    }
}

#[tokio::test]
async fn the_docs_page_and_its_assets_are_served_locally_with_a_strict_csp() {
    let app = spawn_app().await;
    let res = app
        .request(Method::GET, "/docs")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    let csp = strict_csp(
        &res,
        &[
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ],
    );
    let script_src = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .expect("script-src");
    assert_eq!(script_src.trim(), "script-src 'self'");
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/html"));
    let html = res.text().await.expect("html");
    assert!(
        !html.contains("//"),
        "the page names another origin:\n{html}"
    );
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "{html}"
    );

    // Every asset the page references is served here, with the same policy.
    let assets: Vec<String> = html
        .split(['"', '\''])
        .filter(|s| s.starts_with("/docs/"))
        .map(str::to_string)
        .collect();
    assert_eq!(assets.len(), 3, "{assets:?}");
    for asset in assets {
        let res = app.request(Method::GET, &asset).send().await.expect("sent");
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
        assert_eq!(
            res.headers()["content-security-policy"]
                .to_str()
                .expect("ascii"),
            csp,
            "{asset}"
        );
        let content_type = res.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .to_string();
        let body = res.text().await.expect("text");
        if asset.ends_with(".js") {
            assert!(content_type.starts_with("text/javascript"), "{asset}");
        } else {
            assert!(content_type.starts_with("text/css"), "{asset}");
        }
        assert!(!body.is_empty(), "{asset}");
        if asset == "/docs/init.js" {
            assert!(body.contains("\"/api/v1/openapi.json\""), "{body}");
            assert!(body.contains("validatorUrl: null"), "{body}");
            assert!(
                !body.contains("http:") && !body.contains("https:"),
                "{body}"
            );
        }
    }
}
