use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app};

#[tokio::test]
async fn units_are_listed_and_searched_without_diacritics() {
    let app = spawn_app().await;
    let team = app.create_team("00004", "Tổ CNS");
    let (_, token) = app
        .user_with_token("viewer", "team_member", Some("00004"), Some(team))
        .await;

    let provinces: Value = app
        .get("/api/v1/units?level=province&page_size=200", &token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(provinces["total"], 34);
    let communes: Value = app
        .get("/api/v1/units?level=commune&page_size=1", &token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(communes["total"], 3321);

    for q in ["ha%20noi", "H%C3%A0%20N%E1%BB%99i", "HA%20NOI"] {
        let res: Value = app
            .get(&format!("/api/v1/units?level=province&q={q}"), &token)
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(res["total"], 1, "query {q}");
        assert_eq!(res["items"][0]["name"], "Thành phố Hà Nội");
    }
    let res: Value = app
        .get("/api/v1/units?level=province&q=dong%20nai", &token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(res["total"], 1);
    assert_eq!(res["items"][0]["name"], "Đồng Nai");
    assert_eq!(res["items"][0]["unit_type"], "tỉnh");

    let res: Value = app
        .get("/api/v1/units?parent=01&page_size=2", &token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(res["items"][0]["code"], "00004");
    assert_eq!(res["items"][0]["parent_code"], "01");
    assert!(res["total"].as_i64().expect("total") > 100);

    let res = app.get("/api/v1/units/00004", &token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let unit: Value = res.json().await.expect("json");
    assert_eq!(unit["name"], "Phường Ba Đình");
    assert_eq!(unit["unit_type"], "phường");
    assert_eq!(unit["level"], "commune");
    assert_eq!(unit["valid_from"], "2025-07-01");

    assert_problem(
        app.get("/api/v1/units/99", &token).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

fn run_cli(db_url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_toso"))
        .args(args)
        .env("DATABASE_URL", db_url)
        .output()
        .expect("toso runs")
}

#[tokio::test]
async fn import_is_idempotent_and_all_or_nothing() {
    let db = crate::helpers::TestDb::new();
    let csv = concat!(env!("CARGO_MANIFEST_DIR"), "/data/vn-admin-units-2025.csv");
    // The template already holds the official list: a second import changes nothing.
    let out = run_cli(&db.url(), &["import-units", csv]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "units: 0 inserted, 0 updated, 3355 unchanged (3355 in file)"
    );

    let dir = std::env::temp_dir().join(format!("toso-units-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "province_code,province_name,province_type,commune_code,commune_name,commune_type\n\
         98,Tỉnh Thử,tỉnh,99001,Xã Một,xã\n\
         98,Tỉnh Thử,tỉnh,9900X,Xã Hai,xã\n",
    )
    .expect("write");
    let out = run_cli(&db.url(), &["import-units", bad.to_str().expect("path")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 3") && stderr.contains("commune_code"),
        "{stderr}"
    );

    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        "province_code,province_name,province_type,commune_code,commune_name,commune_type\n\
         98,Tỉnh Thử,tỉnh,99001,Xã Một,xã\n",
    )
    .expect("write");
    let out = run_cli(&db.url(), &["import-units", good.to_str().expect("path")]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "units: 2 inserted, 0 updated, 0 unchanged (2 in file)"
    );

    use diesel::prelude::*;
    let mut conn = db.conn();
    let n: i64 = toso::db::schema::admin_units::table
        .count()
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(n, 3357, "nothing of the bad file was written");
    let _ = std::fs::remove_dir_all(dir);
}
