//! Faults the service must survive: PostgreSQL going away mid-traffic, every connection held
//! by slow statements, and a SIGTERM while requests are in flight.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fieldwork::{field, log};
use crate::fixtures::{push_statuses, unavailable_within};
use crate::helpers::{
    assert_problem, count, lock_table, spawn_app_with, spawn_on, url_via, wait_for_lock_waiters,
    Actor, Answer, Client, DbProxy, ServerProcess, TestDb, Tokens, PASSWORD,
};

fn ids_sql(ids: &[Uuid]) -> String {
    ids.iter()
        .map(|id| format!("'{id}'"))
        .collect::<Vec<_>>()
        .join(",")
}

fn batch(ids: &[Uuid]) -> Value {
    json!({
        "device_id": "phone-outage",
        "items": ids.iter().map(|id| json!({"op": "create_log", "data": log(*id)})).collect::<Vec<_>>()
    })
}

enum Outcome {
    Acknowledged,
    Failed,
}

#[tokio::test]
async fn writes_survive_a_database_outage_exactly_once() {
    let db = TestDb::new();
    let proxy = DbProxy::start(crate::helpers::pg_host_port()).await;
    let via = url_via(&db.name, proxy.port);
    let app = spawn_on(
        db,
        Some(via),
        &[
            ("TOSO_DB_CHECKOUT_TIMEOUT_MS", "1000"),
            ("TOSO_WORKERS", "2"),
        ],
    )
    .await;
    let f = field(&app).await;
    let phone = Phone {
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client"),
        url: format!("{}/api/v1/sync/push", app.address),
        token: f.member.clone(),
    };

    // Four phones push batches of 20 logs without pause; the database goes away under them
    // and comes back 1.5 s later.
    let batches: Vec<Vec<Uuid>> = (0..48)
        .map(|_| (0..20).map(|_| Uuid::new_v4()).collect())
        .collect();
    let phones: Vec<_> = (0..4)
        .map(|n| {
            let mine = batches.iter().skip(n).step_by(4).cloned().collect();
            tokio::spawn(phone.clone().push_all(mine))
        })
        .collect();
    the_database_goes_away(&app.acting(&f.officer), &proxy).await;

    let mut acknowledged = Vec::new();
    let mut failed = Vec::new();
    for task in phones {
        for (ids, outcome) in task.await.expect("phone task") {
            match outcome {
                Outcome::Acknowledged => acknowledged.push(ids),
                Outcome::Failed => failed.push(ids),
            }
        }
    }
    assert!(!failed.is_empty(), "the outage hit some pushes");
    assert!(!acknowledged.is_empty(), "some pushes went through");
    let mut conn = app.db.conn();
    each_write_is_whole_or_absent(&mut conn, &acknowledged, &failed);

    // The service recovers by itself; the phones resend what failed, exactly once.
    let deadline = Instant::now() + Duration::from_secs(15);
    for ids in &failed {
        phone.resend(ids, deadline).await;
    }
    let sent: HashSet<Uuid> = batches.iter().flatten().copied().collect();
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM assistance_logs WHERE device_id = 'phone-outage'"
        ),
        sent.len() as i64,
        "every log once, none lost, none twice"
    );
    // The rollups that reports read agree with the rows.
    assert_eq!(
        count(
            &mut conn,
            "SELECT coalesce(sum(logs), 0)::bigint AS n FROM log_rollups WHERE commune_code = '00004'"
        ),
        sent.len() as i64
    );
}

/// 300 ms into the pushes the database goes away for 1.5 s: a registry write by `officer`
/// fails as a whole with 503, and the service reports itself not ready.
async fn the_database_goes_away(officer: &Actor<'_>, proxy: &DbProxy) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    proxy.cut();
    // A registry write during the outage fails as a whole.
    officer
        .post(
            "/api/v1/villages",
            json!({"name": "Thôn mất điện", "kind": "thon"}),
        )
        .await
        .problem(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    let res = officer
        .app()
        .request(Method::GET, "/health/ready")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    proxy.restore();
}

/// A phone of the member pushing batches of logs to the server, on a client of its own.
#[derive(Clone)]
struct Phone {
    client: reqwest::Client,
    url: String,
    token: String,
}

impl Phone {
    /// Sends the batch of logs `ids`; the answer, and how long its status took.
    async fn send(&self, ids: &[Uuid]) -> (Answer, Duration) {
        let started = Instant::now();
        let res = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&batch(ids))
            .send()
            .await
            .expect("the server answers, even without its database");
        let took = started.elapsed();
        (Answer::read(res).await, took)
    }

    /// Pushes each batch once: every log created (acknowledged), or a 503 problem (failed),
    /// answered within 5 s, even without a database.
    async fn push_all(self, batches: Vec<Vec<Uuid>>) -> Vec<(Vec<Uuid>, Outcome)> {
        let mut outcomes = Vec::new();
        for ids in batches {
            let (answer, took) = self.send(&ids).await;
            assert!(took < Duration::from_secs(5), "a push answered in {took:?}");
            let outcome = if answer.status == StatusCode::OK {
                assert!(
                    push_statuses(&answer.body).iter().all(|s| *s == "created"),
                    "fresh ids are created: {}",
                    answer.body
                );
                Outcome::Acknowledged
            } else {
                answer.problem(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
                Outcome::Failed
            };
            outcomes.push((ids, outcome));
        }
        outcomes
    }

    /// Resends the failed batch `ids` until the server takes it (before `deadline`): each
    /// log created or a duplicate.
    async fn resend(&self, ids: &[Uuid], deadline: Instant) {
        loop {
            let (answer, _) = self.send(ids).await;
            if answer.status == StatusCode::OK {
                for status in push_statuses(&answer.body) {
                    assert!(status == "created" || status == "duplicate", "{status}");
                }
                return;
            }
            assert!(Instant::now() < deadline, "the service did not recover");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Every acknowledged batch is stored; a batch that got an error is either wholly stored or
/// wholly absent; the village written during the outage, and its audit entry, are not.
fn each_write_is_whole_or_absent(
    conn: &mut PgConnection,
    acknowledged: &[Vec<Uuid>],
    failed: &[Vec<Uuid>],
) {
    let stored = |conn: &mut PgConnection, ids: &[Uuid]| {
        let sql = format!(
            "SELECT count(*) AS n FROM assistance_logs WHERE id IN ({})",
            ids_sql(ids)
        );
        count(conn, &sql)
    };
    for ids in acknowledged {
        assert_eq!(stored(conn, ids), ids.len() as i64);
    }
    for ids in failed {
        let stored = stored(conn, ids);
        assert!(
            stored == 0 || stored == ids.len() as i64,
            "{stored} of a batch"
        );
    }
    assert_eq!(
        count(
            conn,
            "SELECT count(*) AS n FROM villages WHERE name = 'Thôn mất điện'"
        ),
        0
    );
    assert_eq!(
        count(
            conn,
            "SELECT count(*) AS n FROM audit_log WHERE entity = 'village' AND action = 'create' \
             AND after->>'name' = 'Thôn mất điện'"
        ),
        0
    );
}

#[tokio::test]
async fn slow_statements_holding_every_connection_get_503_then_recover() {
    let app = spawn_app_with(&[
        ("TOSO_DB_POOL_SIZE", "2"),
        ("TOSO_DB_CHECKOUT_TIMEOUT_MS", "1000"),
        ("TOSO_WORKERS", "2"),
    ])
    .await;
    let (_, token) = app
        .user_with_token("holder", "commune_officer", Some("00004"), None)
        .await;
    let (_, other) = app
        .user_with_token("holder.two", "commune_officer", Some("00004"), None)
        .await;

    // Another session locks the villages table: two list requests (of two accounts, each
    // within its share of the slots) wait on it, each holding one of the pool's two
    // connections.
    let mut locker = lock_table(&app.db, "villages");
    let mut slow = Vec::new();
    for holder in [&token, &other] {
        let req = app
            .request(Method::GET, "/api/v1/villages")
            .bearer_auth(holder);
        slow.push(tokio::spawn(async move {
            req.send().await.expect("sent").status()
        }));
    }
    wait_for_lock_waiters(&app.db, 2).await;

    // Everyone else is answered 503 within the checkout timeout, not left hanging.
    for path in ["/api/v1/me", "/health/ready"] {
        unavailable_within(&app, &token, path, Duration::from_secs(3)).await;
    }

    diesel::sql_query("ROLLBACK")
        .execute(&mut locker)
        .expect("release");
    for req in slow {
        assert_eq!(req.await.expect("join"), StatusCode::OK);
    }
    assert_eq!(app.get("/api/v1/me", &token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish_and_takes_no_new_ones() {
    let db = TestDb::new();
    // An account to log in with, straight into the database.
    db.insert_admin("terminator");
    let server = ServerProcess::start(&db.url(), &[("TOSO_LOG", "info")]).await;
    let client = reqwest::Client::new();
    let token = Tokens::of(
        Client::to(&server.address)
            .login("terminator", PASSWORD)
            .await,
    )
    .access;

    let mut locker = lock_table(&db, "villages");
    let in_flight = {
        let req = client
            .get(format!("{}/api/v1/villages", server.address))
            .bearer_auth(&token);
        tokio::spawn(async move {
            let res = req.send().await.expect("the request in flight is answered");
            (res.status(), res.json::<Value>().await.expect("json"))
        })
    };
    wait_for_lock_waiters(&db, 1).await;

    server.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // No new connection is taken once the signal has arrived.
    let fresh = reqwest::Client::new();
    let refused = fresh
        .get(format!("{}/health/live", server.address))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(refused.is_err(), "a new request was served after SIGTERM");

    diesel::sql_query("ROLLBACK")
        .execute(&mut locker)
        .expect("release");
    let (status, body) = in_flight.await.expect("join");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["items"].is_array());

    let mut server = server;
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(exit.success(), "exit status {exit}");
}

#[tokio::test]
async fn requests_past_the_in_flight_limit_wait_then_get_503_while_health_and_login_go_on() {
    let app = spawn_app_with(&[
        ("TOSO_DB_POOL_SIZE", "4"),
        ("TOSO_DB_CHECKOUT_TIMEOUT_MS", "1000"),
        ("TOSO_MAX_IN_FLIGHT", "1"),
        ("TOSO_WORKERS", "2"),
    ])
    .await;
    let (_, token) = app
        .user_with_token("admitted", "commune_officer", Some("00004"), None)
        .await;
    let (_, other) = app
        .user_with_token("admitted.two", "commune_officer", Some("00004"), None)
        .await;

    // One request is in flight (waiting on a locked table) and takes the only admission.
    let mut locker = lock_table(&app.db, "villages");
    let req = app
        .request(Method::GET, "/api/v1/villages")
        .bearer_auth(&token);
    let slow = tokio::spawn(async move { req.send().await.expect("sent").status() });
    wait_for_lock_waiters(&app.db, 1).await;

    // The next API request (of another account) waits for the checkout timeout, then is told
    // to come back, although the pool has free connections.
    let started = Instant::now();
    let res = app.get("/api/v1/me", &other).await;
    let took = started.elapsed();
    assert_eq!(res.headers()["retry-after"], "1");
    assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
    assert!(
        took >= Duration::from_millis(900),
        "answered after {took:?}"
    );
    assert!(took < Duration::from_secs(3), "answered after {took:?}");

    // Health checks and logins do not wait for admission.
    assert_eq!(
        app.anyone().get("/health/ready").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.login_raw("admitted", PASSWORD).await.status(),
        StatusCode::OK
    );

    diesel::sql_query("ROLLBACK")
        .execute(&mut locker)
        .expect("release");
    assert_eq!(slow.await.expect("join"), StatusCode::OK);
    assert_eq!(app.get("/api/v1/me", &token).await.status(), StatusCode::OK);
}
