//! Monthly partitions of the logs and rollups: where rows land, resends after a move between
//! months, rollups across moves, rows outside the created months, and the server's upkeep.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Text;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fieldwork::{field, log, log_at};
use crate::helpers::{count, spawn_app, Actor, TestApp};

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    v: String,
}

fn text(conn: &mut PgConnection, sql: &str) -> String {
    diesel::sql_query(sql)
        .get_result::<Name>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .v
}

fn exec(conn: &mut PgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The partition that holds the log `id`.
fn partition_of(conn: &mut PgConnection, id: Uuid) -> String {
    text(
        conn,
        &format!("SELECT tableoid::regclass::text AS v FROM assistance_logs WHERE id = '{id}'"),
    )
}

fn rows_with_id(conn: &mut PgConnection, id: Uuid) -> i64 {
    count(
        conn,
        &format!("SELECT count(*) AS n FROM assistance_logs WHERE id = '{id}'"),
    )
}

/// Rows of the rollups that differ from a recount of the raw logs (0 when exact).
fn rollup_errors(conn: &mut PgConnection) -> i64 {
    let recount = "SELECT vn_month(occurred_at) AS month, commune_code, team_id, coalesce(village_id, 0) AS village_id, \
                   category_code, outcome, channel, coalesce(citizen_sex, '') AS s, coalesce(citizen_age_band, '') AS a, \
                   count(*) AS logs, sum(citizens_helped) AS citizens FROM assistance_logs WHERE archived_at IS NULL \
                   GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9";
    let rollup = "SELECT month, commune_code, team_id, village_id, category_code, outcome, channel, citizen_sex, \
                  citizen_age_band, logs, citizens FROM log_rollups WHERE logs <> 0 OR citizens <> 0";
    let members =
        "SELECT vn_month(occurred_at) AS month, member_id, count(*) AS logs FROM assistance_logs \
                   WHERE archived_at IS NULL GROUP BY 1, 2";
    let member_rollup = "SELECT month, member_id, logs FROM member_month_logs WHERE logs <> 0";
    count(
        conn,
        &format!(
            "SELECT count(*) AS n FROM (({recount} EXCEPT {rollup}) UNION ALL ({rollup} EXCEPT {recount})) d"
        ),
    ) + count(
        conn,
        &format!(
            "SELECT count(*) AS n FROM (({members} EXCEPT {member_rollup}) UNION ALL ({member_rollup} EXCEPT {members})) d"
        ),
    )
}

/// The partitions of `table` that hold rows, in name order, comma-separated.
fn partitions_holding_rows(conn: &mut PgConnection, table: &str) -> String {
    text(
        conn,
        &format!(
            "SELECT string_agg(DISTINCT tableoid::regclass::text, ',' ORDER BY tableoid::regclass::text) AS v \
             FROM {table}"
        ),
    )
}

/// The logs of Ba Đình's `month` report, as `by` reads it.
async fn monthly_logs(by: &Actor<'_>, month: &str) -> i64 {
    let body = by
        .get(&format!("/api/v1/reports/monthly?unit=00004&month={month}"))
        .await
        .expect(StatusCode::OK);
    body["totals"]["logs"].as_i64().expect("logs")
}

const LOGS: &str = "/api/v1/assistance-logs";

#[tokio::test]
async fn logs_land_in_the_partition_of_their_vietnamese_month() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let member = app.acting(&f.member);
    let mut conn = app.db.conn();

    // 23:30 on 31 October in Vietnam is October, though it is 16:30 UTC.
    let rest = Uuid::new_v4();
    member.create(LOGS, log(rest)).await;
    assert_eq!(partition_of(&mut conn, rest), "assistance_logs_y2025m10");

    // 00:10 on 1 November in Vietnam is November, though it is still 31 October in UTC.
    let synced = Uuid::new_v4();
    let body = member
        .push_items(
            json!([{"op": "create_log", "data": log_at(synced, "2025-11-01T00:10:00+07:00")}]),
        )
        .await;
    assert_eq!(body["results"][0]["status"], "created");
    assert_eq!(partition_of(&mut conn, synced), "assistance_logs_y2025m11");

    // The rollups sit in the partitions of the same months.
    assert_eq!(
        partitions_holding_rows(&mut conn, "log_rollups"),
        "log_rollups_y2025m10,log_rollups_y2025m11"
    );
    assert_eq!(
        partitions_holding_rows(&mut conn, "member_month_logs"),
        "member_month_logs_y2025m10,member_month_logs_y2025m11"
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM log_ids"),
        2,
        "one claimed id per log"
    );
}

#[tokio::test]
async fn a_resend_after_a_move_to_another_month_is_still_a_duplicate() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, _, member) = f.actors(&app);
    let mut conn = app.db.conn();

    let (by_rest, by_sync, moved) = two_logs_moved_out_of_october(&member, &mut conn).await;
    // Both resent as first sent (dated October), by REST and by sync: duplicates, nothing new.
    for id in [by_rest, by_sync] {
        a_resend_is_a_duplicate(&member, &mut conn, id).await;
    }
    let stored = member
        .get(&format!("{LOGS}/{by_rest}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(stored, moved, "the resend changed nothing");
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM assistance_logs"),
        2
    );
    assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM log_ids"), 2);

    // The moves kept the rollups exact: October is empty, August and December hold one each.
    assert_eq!(rollup_errors(&mut conn), 0);
    assert_eq!(monthly_logs(&officer, "2025-10").await, 0);
    assert_eq!(monthly_logs(&officer, "2025-08").await, 1);
    assert_eq!(monthly_logs(&officer, "2025-12").await, 1);

    // Several logs moved by one statement, back and forth, stay one row each.
    exec(
        &mut conn,
        "UPDATE assistance_logs SET occurred_at = occurred_at + interval '40 days'",
    );
    exec(
        &mut conn,
        "UPDATE assistance_logs SET occurred_at = occurred_at - interval '40 days'",
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM assistance_logs"),
        2
    );
    assert_eq!(rollup_errors(&mut conn), 0);
    assert_eq!(partition_of(&mut conn, by_rest), "assistance_logs_y2025m12");
}

/// Two October logs, one sent by REST and one by sync; the first moves to December by REST,
/// the second to August by sync, each into that month's partition. Returns their ids and the
/// first as moved.
async fn two_logs_moved_out_of_october(
    member: &Actor<'_>,
    conn: &mut PgConnection,
) -> (Uuid, Uuid, Value) {
    let by_rest = Uuid::new_v4();
    member.create(LOGS, log(by_rest)).await;
    let by_sync = Uuid::new_v4();
    let body = member
        .push_items(json!([{"op": "create_log", "data": log(by_sync)}]))
        .await;
    assert_eq!(body["results"][0]["status"], "created");

    let moved = member
        .patch(
            &format!("{LOGS}/{by_rest}"),
            Some("\"1\""),
            json!({"occurred_at": "2025-12-05T09:00:00+07:00"}),
        )
        .await
        .expect(StatusCode::OK);
    let body = member
        .push_items(
            json!([{"op": "update_log", "id": by_sync, "base_version": 1,
                "data": {"occurred_at": "2025-08-20T09:00:00+07:00", "citizens_helped": 4}}]),
        )
        .await;
    assert_eq!(body["results"][0]["status"], "updated", "{body}");
    assert_eq!(partition_of(conn, by_rest), "assistance_logs_y2025m12");
    assert_eq!(partition_of(conn, by_sync), "assistance_logs_y2025m08");
    (by_rest, by_sync, moved)
}

/// The log `id` resent as first sent, by REST (200, the log) and twice in one push (two
/// duplicates naming it): still one row.
async fn a_resend_is_a_duplicate(member: &Actor<'_>, conn: &mut PgConnection, id: Uuid) {
    let again = member.post(LOGS, log(id)).await.expect(StatusCode::OK);
    assert_eq!(again["id"], json!(id));
    let body = member
        .push_items(
            json!([{"op": "create_log", "data": log(id)}, {"op": "create_log", "data": log(id)}]),
        )
        .await;
    assert_eq!(body["summary"]["duplicate"], 2, "{body}");
    assert_eq!(body["results"][0]["current"]["id"], json!(id));
    assert_eq!(rows_with_id(conn, id), 1);
}

const ROLLED_UP_2019_05: &str =
    "SELECT coalesce(sum(logs), 0)::bigint AS n FROM log_rollups WHERE month = '2019-05-01'";

#[tokio::test]
async fn logs_outside_the_created_months_go_to_the_default_partition_and_count() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let (officer, _, member) = f.actors(&app);
    let mut conn = app.db.conn();

    // A month whose partitions are gone (as on a database whose upkeep lapsed), and a
    // member who was already in the team then.
    for t in ["assistance_logs", "log_rollups", "member_month_logs"] {
        exec(&mut conn, &format!("DROP TABLE {t}_y2024m03"));
    }
    officer
        .patch(
            &format!("/api/v1/members/{}", f.member_member),
            None,
            json!({"joined_on": "2024-01-02"}),
        )
        .await
        .expect(StatusCode::OK);
    let id = Uuid::new_v4();
    member
        .create(LOGS, log_at(id, "2024-03-10T08:00:00+07:00"))
        .await;
    assert_eq!(partition_of(&mut conn, id), "assistance_logs_default");
    assert_eq!(monthly_logs(&officer, "2024-03").await, 1);
    assert_eq!(
        member
            .post(LOGS, log_at(id, "2024-03-10T08:00:00+07:00"))
            .await
            .status(),
        StatusCode::OK,
        "a resend is a duplicate there too"
    );

    // Far before any partition (the API refuses dates before 2024; an import might not).
    let old = Uuid::new_v4();
    exec(
        &mut conn,
        &format!(
            "INSERT INTO assistance_logs (id, occurred_at, member_id, team_id, commune_code, province_code, \
             category_code, channel, citizens_helped, outcome, created_by) \
             SELECT '{old}', '2019-05-20 10:00+07', m.id, m.team_id, m.commune_code, m.province_code, 'other', \
             'phone', 3, 'done', m.user_id FROM members m WHERE m.id = {}",
            f.member_member
        ),
    );
    assert_eq!(partition_of(&mut conn, old), "assistance_logs_default");
    // (Reports start in 2024 too: the rollups hold the count.)
    assert_eq!(count(&mut conn, ROLLED_UP_2019_05), 1);
    member
        .get(&format!("{LOGS}/{old}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(rollup_errors(&mut conn), 0);
    the_month_created_moves_its_rows_out_of_the_default(&mut conn, old);
}

/// Creating the partition of May 2019 moves its rows (the log `old`) out of the DEFAULT
/// partition, without touching the rollups.
fn the_month_created_moves_its_rows_out_of_the_default(conn: &mut PgConnection, old: Uuid) {
    let created = count(
        conn,
        "SELECT ensure_month_partitions('2019-05-01', '2019-05-01')::bigint AS n",
    );
    assert_eq!(created, 3);
    assert_eq!(partition_of(conn, old), "assistance_logs_y2019m05");
    assert_eq!(
        text(
            conn,
            "SELECT tableoid::regclass::text AS v FROM log_rollups WHERE month = '2019-05-01'"
        ),
        "log_rollups_y2019m05"
    );
    assert_eq!(rollup_errors(conn), 0);
    assert_eq!(count(conn, ROLLED_UP_2019_05), 1);
    assert_eq!(rows_with_id(conn, old), 1);
}

/// Waits until `sql` (a count) answers `want`.
async fn eventually(app: &TestApp, sql: &str, want: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut conn = app.db.conn();
    loop {
        let n = count(&mut conn, sql);
        if n == want {
            return;
        }
        assert!(Instant::now() < deadline, "{sql}: {n}, not {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_server_creates_missing_months_and_empties_the_default_partition() {
    let app = spawn_app().await;
    let f = field(&app).await;
    let mut conn = app.db.conn();

    // This month's partitions are missing, and one five months ahead.
    let now = chrono::Utc::now() - chrono::Duration::minutes(1);
    let month = text(
        &mut conn,
        &format!(
            "SELECT to_char(vn_month('{}'), '\"y\"YYYY\"m\"MM') AS v",
            now.to_rfc3339()
        ),
    );
    let ahead = text(
        &mut conn,
        &format!(
            "SELECT to_char(vn_month('{}') + interval '5 months', '\"y\"YYYY\"m\"MM') AS v",
            now.to_rfc3339()
        ),
    );
    for t in ["assistance_logs", "log_rollups", "member_month_logs"] {
        exec(&mut conn, &format!("DROP TABLE {t}_{month}, {t}_{ahead}"));
    }
    let member = app.acting(&f.member);
    let id = Uuid::new_v4();
    let logged = log_at(id, &now.to_rfc3339());
    member.create(LOGS, logged.clone()).await;
    assert_eq!(partition_of(&mut conn, id), "assistance_logs_default");

    // Another instance starts: its upkeep creates both months and moves the log and its
    // rollups out of the DEFAULT partition.
    let _second = app.another_instance(&[]);
    let missing = format!(
        "SELECT count(*) AS n FROM unnest(ARRAY['assistance_logs', 'log_rollups', 'member_month_logs']) t, \
         unnest(ARRAY['{month}', '{ahead}']) m WHERE to_regclass(t || '_' || m) IS NULL"
    );
    eventually(&app, &missing, 0).await;
    assert_eq!(
        partition_of(&mut conn, id),
        format!("assistance_logs_{month}")
    );
    for t in ["assistance_logs", "log_rollups", "member_month_logs"] {
        assert_eq!(
            count(&mut conn, &format!("SELECT count(*) AS n FROM {t}_default")),
            0,
            "{t}"
        );
    }
    assert_eq!(rollup_errors(&mut conn), 0);
    assert_eq!(
        member.post(LOGS, logged).await.status(),
        StatusCode::OK,
        "still a duplicate after the move"
    );
    assert_eq!(rows_with_id(&mut conn, id), 1);
}
