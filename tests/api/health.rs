use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

use crate::helpers::{assert_problem, spawn_app, spawn_on, url_via, DbProxy, TestDb};

#[tokio::test]
async fn live_and_ready() {
    let app = spawn_app().await;
    let res = app
        .request(Method::GET, "/health/live")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .request(Method::GET, "/health/ready")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
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
        let started = Instant::now();
        let res = app
            .request(Method::GET, path)
            .bearer_auth(&token)
            .send()
            .await
            .expect("sent");
        let took = started.elapsed();
        assert!(res.headers().contains_key("retry-after"));
        assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
        assert!(took < Duration::from_secs(5), "{path} answered in {took:?}");
    }
    // Liveness does not depend on the database.
    let res = app
        .request(Method::GET, "/health/live")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let res = app
            .request(Method::GET, "/health/ready")
            .send()
            .await
            .expect("sent");
        if res.status() == StatusCode::OK {
            break;
        }
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
    let res = app
        .request(Method::GET, "/health/ready")
        .send()
        .await
        .expect("sent");
    assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
}
