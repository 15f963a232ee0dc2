use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::fixtures::unavailable_within;
use crate::helpers::{spawn_app, spawn_on, url_via, DbProxy, TestDb};

#[tokio::test]
async fn live_and_ready() {
    let app = spawn_app().await;
    let anyone = app.anyone();
    assert_eq!(anyone.get("/health/live").await.status, StatusCode::OK);
    assert_eq!(anyone.get("/health/ready").await.status, StatusCode::OK);
}

#[tokio::test]
async fn readiness_fails_fast_when_the_database_is_down_and_recovers() {
    let db = TestDb::new();
    let proxy = DbProxy::start(crate::helpers::pg_host_port()).await;
    let via = url_via(&db.name, proxy.port);
    let app = spawn_on(db, Some(via), &[("TOSO_DB_CHECKOUT_TIMEOUT_MS", "1000")]).await;
    app.create_user("watcher", "admin", None, None);
    let token = app.login("watcher").await.access;
    assert_eq!(app.get("/api/v1/me", &token).await.status(), StatusCode::OK);

    proxy.cut();
    for path in ["/health/ready", "/api/v1/me"] {
        unavailable_within(&app, &token, path, Duration::from_secs(5)).await;
    }
    // Liveness does not depend on the database.
    let anyone = app.anyone();
    assert_eq!(anyone.get("/health/live").await.status, StatusCode::OK);

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    while anyone.get("/health/ready").await.status != StatusCode::OK {
        assert!(Instant::now() < deadline, "readiness did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.get("/api/v1/me", &token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn readiness_reports_pending_migrations() {
    let app = spawn_app().await;
    use diesel::prelude::*;
    let mut conn = app.db.conn();
    diesel::sql_query("DELETE FROM __diesel_schema_migrations WHERE version = '20261122000002'")
        .execute(&mut conn)
        .expect("forget a migration");
    app.anyone()
        .get("/health/ready")
        .await
        .problem(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
}
