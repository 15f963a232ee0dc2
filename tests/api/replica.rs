//! Reads that tolerate lag go to a real streaming replica (`DATABASE_READ_URL`); writes and
//! reads of one record go to the primary; with the replica down, reads fall back to the
//! primary, and go back to the replica once it returns.

use std::process::Command;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

use toso::startup::Application;

use crate::helpers::{migrate_with_units, settings, Client, PASSWORD};

const PRIMARY: &str = "postgres://toso:toso@127.0.0.1:5434";
const REPLICA: &str = "postgres://toso:toso@127.0.0.1:5433";

fn replica_sh(command: &str) {
    let out = Command::new("bash")
        .arg(format!("{}/scripts/replica.sh", env!("CARGO_MANIFEST_DIR")))
        .arg(command)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "scripts/replica.sh {command} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The primary and its replica, removed when the test ends (pass or fail).
struct ReplicaSet;

impl ReplicaSet {
    fn start() -> Self {
        replica_sh("remove");
        replica_sh("start");
        ReplicaSet
    }
}

impl Drop for ReplicaSet {
    fn drop(&mut self) {
        replica_sh("remove");
    }
}

/// A migrated database with the official units and one commune officer, on the primary.
fn prepare_primary(db: &str) {
    let mut admin = PgConnection::establish(&format!("{PRIMARY}/postgres")).expect("primary");
    diesel::sql_query(format!("CREATE DATABASE {db}"))
        .execute(&mut admin)
        .expect("create database");
    let mut conn = PgConnection::establish(&format!("{PRIMARY}/{db}")).expect("connect");
    migrate_with_units(&mut conn);
    let unit = toso::db::units::get(&mut conn, "00004")
        .expect("query")
        .expect("commune 00004");
    toso::db::users::insert(
        &mut conn,
        &toso::db::users::NewUser {
            username: "reader".into(),
            full_name: None,
            phone: None,
            password_hash: toso::auth::password::hash_blocking(PASSWORD).expect("hash"),
            role: "commune_officer".into(),
            province_code: Some(unit.fields.province_code),
            unit_code: Some(unit.fields.code),
            team_id: None,
        },
    )
    .expect("officer");
}

async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `reader` creates the village `name` (201); returns its id.
async fn create(reader: &Client, name: &str) -> i64 {
    let village = reader
        .post("/api/v1/villages", json!({"name": name, "kind": "thon"}))
        .await
        .expect(StatusCode::CREATED);
    village["id"].as_i64().expect("id")
}

/// Whether `reader`'s list of villages (200) holds `name`.
async fn listed(reader: &Client, name: &str) -> bool {
    let page = reader
        .get("/api/v1/villages?page_size=200")
        .await
        .expect(StatusCode::OK);
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|v| v["name"] == name)
}

/// The app on the primary `db` reading lists from its replica, and its commune officer.
async fn app_with_a_replica(db: &str) -> (tokio::task::JoinHandle<std::io::Result<()>>, Client) {
    let replica_url = format!("{REPLICA}/{db}");
    wait_until("the database reaches the replica", || {
        let url = replica_url.clone();
        async move { PgConnection::establish(&url).is_ok() }
    })
    .await;
    let app = Application::build(settings(
        &format!("{PRIMARY}/{db}"),
        &[("DATABASE_READ_URL", replica_url.as_str())],
    ))
    .expect("app builds");
    let server = Client::to(&format!("http://127.0.0.1:{}", app.port()));
    let running = tokio::spawn(app.run());
    let login = server.login("reader", PASSWORD).await.body;
    let token = login["access_token"].as_str().expect("token");
    (running, server.acting(token))
}

/// With replay paused the replica lags: the list (replica) does not show a new village,
/// while the village itself (primary, read-your-own-writes) does.
async fn a_lagging_replica_serves_the_lists_only(reader: &Client) {
    replica_sh("pause");
    let second = create(reader, "Thôn Hai").await;
    let res = reader.get(&format!("/api/v1/villages/{second}")).await;
    assert_eq!(res.status, StatusCode::OK, "one record reads the primary");
    assert!(
        !listed(reader, "Thôn Hai").await,
        "the list is served by the replica"
    );
    replica_sh("resume");
    wait_until("the replica catches up", || listed(reader, "Thôn Hai")).await;
}

/// Replica down: lists fall back to the primary, quickly, and show everything.
async fn without_the_replica_the_primary_answers(reader: &Client) {
    replica_sh("stop");
    create(reader, "Thôn Ba").await;
    let started = Instant::now();
    assert!(
        listed(reader, "Thôn Ba").await,
        "the primary answers the list"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    let res = reader
        .get("/api/v1/reports/monthly?unit=00004&month=2025-10")
        .await;
    assert_eq!(res.status, StatusCode::OK, "reports too");
}

#[tokio::test]
async fn lists_read_from_the_replica_and_fall_back_to_the_primary() {
    let _set = ReplicaSet::start();
    let db = "toso_replica_test";
    prepare_primary(db);
    let (server, reader) = app_with_a_replica(db).await;

    create(&reader, "Thôn Một").await;
    wait_until("the replica shows the first village", || {
        listed(&reader, "Thôn Một")
    })
    .await;
    a_lagging_replica_serves_the_lists_only(&reader).await;
    without_the_replica_the_primary_answers(&reader).await;

    // Back up: after its pause, reads return to the replica (a paused replay shows it).
    replica_sh("start");
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    wait_until("the replica is used again", || listed(&reader, "Thôn Ba")).await;
    replica_sh("pause");
    create(&reader, "Thôn Bốn").await;
    assert!(
        !listed(&reader, "Thôn Bốn").await,
        "lists read the replica again"
    );
    replica_sh("resume");

    server.abort();
}
