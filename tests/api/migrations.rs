use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_migrations::MigrationHarness;

use crate::helpers::{count, TestDb};

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    table_name: String,
}

fn user_tables(conn: &mut PgConnection) -> i64 {
    count(
        conn,
        "SELECT count(*) AS n FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
}

fn table_names(conn: &mut PgConnection) -> Vec<String> {
    diesel::sql_query(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' ORDER BY 1",
    )
    .load::<Name>(conn)
    .expect("list tables")
    .into_iter()
    .map(|n| n.table_name)
    .collect()
}

/// The month of a monthly partition (`assistance_logs_y2026m11` → `2026m11`).
fn partition_month(name: &str) -> Option<&str> {
    let (_, suffix) = name.rsplit_once("_y")?;
    let month = suffix.len() == 7
        && suffix.as_bytes()[4] == b'm'
        && suffix
            .chars()
            .enumerate()
            .all(|(i, c)| i == 4 || c.is_ascii_digit());
    month.then_some(suffix)
}

#[test]
fn every_migration_reverts_and_reapplies() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let tables = user_tables(&mut conn);
    assert!(tables > 0);
    let before = table_names(&mut conn);
    // The template holds units; down migrations must cope with data in place.
    conn.revert_all_migrations(toso::db::MIGRATIONS)
        .expect("every down.sql runs");
    assert_eq!(user_tables(&mut conn), 0, "down.sql leaves nothing behind");
    conn.run_pending_migrations(toso::db::MIGRATIONS)
        .expect("every up.sql runs again");
    let after = table_names(&mut conn);
    // The same tables again. Only when the template was migrated in an earlier month does the
    // migration now also create partitions of months after the last one it had.
    let missing: Vec<_> = before.iter().filter(|t| !after.contains(t)).collect();
    assert!(missing.is_empty(), "not recreated: {missing:?}");
    let last = before.iter().filter_map(|t| partition_month(t)).max();
    let extra: Vec<_> = after
        .iter()
        .filter(|t| !before.contains(t))
        .filter(|t| !matches!((partition_month(t), last), (Some(m), Some(l)) if m > l))
        .collect();
    assert!(extra.is_empty(), "new tables: {extra:?}");
    assert!(user_tables(&mut conn) >= tables);
}
