use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_migrations::MigrationHarness;

use crate::helpers::TestDb;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn user_tables(conn: &mut PgConnection) -> i64 {
    diesel::sql_query(
        "SELECT count(*) AS n FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .get_result::<Count>(conn)
    .expect("count tables")
    .n
}

#[test]
fn every_migration_reverts_and_reapplies() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let tables = user_tables(&mut conn);
    assert!(tables > 0);
    // The template holds units; down migrations must cope with data in place.
    conn.revert_all_migrations(toso::db::MIGRATIONS)
        .expect("every down.sql runs");
    assert_eq!(user_tables(&mut conn), 0, "down.sql leaves nothing behind");
    conn.run_pending_migrations(toso::db::MIGRATIONS)
        .expect("every up.sql runs again");
    assert_eq!(user_tables(&mut conn), tables);
}
