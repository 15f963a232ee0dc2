//! PostgreSQL access: the pool, the migrations and the one helper that runs database work on
//! the blocking thread pool. Modules below know diesel and nothing of HTTP.

// The vocabulary, under the names the modules below use (`crate::access::Scope`…).
pub(crate) use toso_core::{access, error, ids, phone, text, vocab};

/// The rows of `$table` in a caller's scope, for tables whose rows belong to a commune (and
/// its province) and that a team sees commune-wide: `Country` all, `Province` by
/// `province_code`, `Commune` and `Team` by `commune_code`. A boxed query, to filter further.
macro_rules! commune_scoped {
    ($table:ident, $scope:expr) => {{
        let q = $table::table.into_boxed();
        match $scope {
            $crate::access::Scope::Country => q,
            $crate::access::Scope::Province(p) => q.filter($table::province_code.eq(p.clone())),
            $crate::access::Scope::Commune(c) | $crate::access::Scope::Team { commune: c, .. } => {
                q.filter($table::commune_code.eq(c.clone()))
            }
        }
    }};
}

/// The rows of `$table` in a caller's scope, for tables a team sees only its own part of:
/// `Country` all, `Province` by `province_code`, `Commune` by the column `$commune`, `Team` by
/// the column `$team` (the team's id). A boxed query, to filter further.
macro_rules! team_scoped {
    ($table:ident, $scope:expr, commune = $commune:ident, team = $team:ident) => {{
        let q = $table::table.into_boxed();
        match $scope {
            $crate::access::Scope::Country => q,
            $crate::access::Scope::Province(p) => q.filter($table::province_code.eq(p.clone())),
            $crate::access::Scope::Commune(c) => q.filter($table::$commune.eq(c.clone())),
            $crate::access::Scope::Team { team_id, .. } => q.filter($table::$team.eq(*team_id)),
        }
    }};
}

/// The filters field-work lists share (logs, trainings), on a boxed query `$q` of `$table`
/// and a filter `$f` with `unit_code`, `from`, `to` and `include_archived`: a unit (a commune
/// or a province code), the window `[from, to)` of the time column `$at`, and live rows unless
/// archived ones are asked for.
macro_rules! unit_window {
    ($q:ident, $table:ident, $at:ident, $f:expr) => {
        if let Some(u) = &$f.unit_code {
            $q = $q.filter(
                $table::commune_code
                    .eq(u.clone())
                    .or($table::province_code.eq(u.clone())),
            );
        }
        if let Some(from) = $f.from {
            $q = $q.filter($table::$at.ge(from));
        }
        if let Some(to) = $f.to {
            $q = $q.filter($table::$at.lt(to));
        }
        if !$f.include_archived {
            $q = $q.filter($table::archived_at.is_null());
        }
    };
}

/// The filters the register's lists share (villages, teams, members), on a boxed query `$q` of
/// `$table` and a filter `$f` with `commune_code`, `search` (folded with `text::fold`) and
/// `include_archived`: one commune, a name containing the search, live rows unless archived
/// ones are asked for.
macro_rules! register_filters {
    ($q:ident, $table:ident, $f:expr) => {
        if let Some(c) = &$f.commune_code {
            $q = $q.filter($table::commune_code.eq(c.clone()));
        }
        if let Some(s) = &$f.search {
            $q = $q.filter($table::search_name.like($crate::text::like_contains(s)));
        }
        if !$f.include_archived {
            $q = $q.filter($table::archived_at.is_null());
        }
    };
}

/// Narrows a boxed query `$q` of `$table` by each named optional field of the filter `$f` that
/// is set: to rows whose column of the same name (or the column named after `as`) equals it, in
/// the order named.
macro_rules! equal_filters {
    ($q:ident, $table:ident, $f:expr, $($field:ident $(as $column:ident)?),+ $(,)?) => {
        $(
            if let Some(value) = &$f.$field {
                $q = $q.filter(equal_filters!(@column $table, $field $($column)?).eq(value.clone()));
            }
        )+
    };
    (@column $table:ident, $field:ident) => {
        $table::$field
    };
    (@column $table:ident, $field:ident $column:ident) => {
        $table::$column
    };
}

/// Whether `scope` sees a row of a table that `commune_scoped!` filters: the same rule, for a
/// row read without it.
pub fn commune_visible(scope: &crate::access::Scope, province: &str, commune: &str) -> bool {
    use crate::access::Scope;
    match scope {
        Scope::Country => true,
        Scope::Province(p) => p == province,
        Scope::Commune(c) | Scope::Team { commune: c, .. } => c == commune,
    }
}

/// Whether `scope` sees a row of a table that `team_scoped!` filters (by the row's commune,
/// or for a team by the row's `team`): the same rule, for a row read without it.
pub fn team_visible(
    scope: &crate::access::Scope,
    province: &str,
    commune: &str,
    team: crate::ids::TeamId,
) -> bool {
    match scope {
        crate::access::Scope::Team { team_id, .. } => team == *team_id,
        _ => commune_visible(scope, province, commune),
    }
}

/// The `set` of a write to a versioned row of `$table`: the changes `$change…`, then one version
/// up (`version = version + 1`) and `updated_at = now()`, as every change of such a row carries.
macro_rules! one_version_up {
    ($table:ident, $($change:expr),+ $(,)?) => {
        (
            $($change,)+
            $table::version.eq($table::version + 1),
            $table::updated_at.eq(diesel::dsl::now),
        )
    };
}

/// The reads and writes every versioned record shares (`version` bumped and `updated_at` set
/// on each change, `archived_at` for soft delete), for a module that defines `scoped(scope)`
/// and `filtered(scope, filter)` over `$table`:
/// - `list`: one page in `order`, with the total;
/// - `get` (unless `custom_get`): the row by id within the scope;
/// - `lock`: the row by id within the scope, locked for the rest of the transaction;
/// - `update`: the changes, one version up; `set_archived`: archive or restore, one version up;
/// - with `insert = NewRow`: `insert`, the new row as stored;
/// - with the flag `lock_shared` (records others are created under): `lock_shared`, the row by
///   id share-locked for the rest of the transaction;
/// - with the flag `place_of`: `place_of`, the province and commune of a live row.
///
/// Flags follow `order`; `custom_get` (the module writes its own `get`) comes first.
macro_rules! versioned_rows {
    (
        table = $table:ident, row = $row:ident, id = $id:ty, scope = $scope:ty,
        filter = $filter:ty, changes = $changes:ty, $(insert = $new:ty,)?
        order = $order:expr $(, $flag:ident)* $(,)?
    ) => {
        pub fn list(
            conn: &mut PgConnection,
            scope: &$scope,
            f: &$filter,
            page: $crate::Page,
        ) -> QueryResult<(Vec<$row>, i64)> {
            $crate::page_of!(conn, filtered(scope, f), $row, $order, page)
        }

        $crate::versioned_rows!(@get $table, $row, $id, $scope; $($flag)*);
        $($crate::versioned_rows!(@$flag $table, $row, $id);)*
        $($crate::versioned_rows!(@insert $table, $row, $new);)?

        /// The rows of the given ids, whatever their scope: a batch of reads by id
        /// (`coalesce::ByIds`), each reader keeping its row only if `visible` to it.
        pub fn by_ids(conn: &mut PgConnection, ids: &[$id]) -> QueryResult<Vec<$row>> {
            $table::table
                .filter($table::id.eq_any(ids))
                .select($row::as_select())
                .load(conn)
        }

        /// Reads and locks the row for the rest of the transaction, within `scope`.
        pub fn lock(conn: &mut PgConnection, scope: &$scope, id: $id) -> QueryResult<Option<$row>> {
            // Boxed queries cannot lock: check the scope, then lock the row by id.
            if get(conn, scope, id)?.is_none() {
                return Ok(None);
            }
            $table::table
                .find(id)
                .select($row::as_select())
                .for_update()
                .first(conn)
                .optional()
        }

        pub fn update(conn: &mut PgConnection, id: $id, changes: &$changes) -> QueryResult<$row> {
            diesel::update($table::table.find(id))
                .set(one_version_up!($table, changes))
                .returning($row::as_returning())
                .get_result(conn)
        }

        pub fn set_archived(conn: &mut PgConnection, id: $id, archived: bool) -> QueryResult<$row> {
            let at: Option<chrono::DateTime<chrono::Utc>> = archived.then(chrono::Utc::now);
            diesel::update($table::table.find(id))
                .set(one_version_up!($table, $table::archived_at.eq(at)))
                .returning($row::as_returning())
                .get_result(conn)
        }
    };
    (@get $table:ident, $row:ident, $id:ty, $scope:ty; custom_get $($flag:ident)*) => {};
    (@get $table:ident, $row:ident, $id:ty, $scope:ty; $($flag:ident)*) => {
        pub fn get(conn: &mut PgConnection, scope: &$scope, id: $id) -> QueryResult<Option<$row>> {
            scoped(scope)
                .filter($table::id.eq(id))
                .select($row::as_select())
                .first(conn)
                .optional()
        }
    };
    (@custom_get $table:ident, $row:ident, $id:ty) => {};
    (@lock_shared $table:ident, $row:ident, $id:ty) => {
        /// Reads the row by id and holds a share lock on it for the rest of the transaction: a
        /// child is created or revived under it while an archive of it (which takes
        /// `FOR UPDATE`) waits, and then counts that child; or the archive went first and this
        /// sees it archived.
        pub fn lock_shared(conn: &mut PgConnection, id: $id) -> QueryResult<Option<$row>> {
            $table::table
                .find(id)
                .select($row::as_select())
                .for_share()
                .first(conn)
                .optional()
        }
    };
    (@place_of $table:ident, $row:ident, $id:ty) => {
        /// The province and commune of a live row.
        pub fn place_of(
            conn: &mut PgConnection,
            id: $id,
        ) -> QueryResult<Option<(String, String)>> {
            $table::table
                .find(id)
                .filter($table::archived_at.is_null())
                .select(($table::province_code, $table::commune_code))
                .first(conn)
                .optional()
        }
    };
    (@insert $table:ident, $row:ident, $new:ty) => {
        pub fn insert(conn: &mut PgConnection, new: &$new) -> QueryResult<$row> {
            diesel::insert_into($table::table)
                .values(new)
                .returning($row::as_returning())
                .get_result(conn)
        }
    };
}
pub(crate) use versioned_rows;

/// Declares the row of a versioned record, as `versioned_rows!` reads and writes it: `id`, the
/// columns `before` (if any), the columns the record was created with embedded as `fields`,
/// further columns of its own, then what every versioned record keeps: `archived_at` (soft
/// delete), `version` (one up on each change), `created_at` and `updated_at`. Derives `Clone`,
/// `Debug`, `Queryable` and `Selectable`; attributes written before the name are added.
macro_rules! versioned_row {
    (
        $(#[$meta:meta])*
        $row:ident in $table:ident {
            id: $id:ty,
            $(before { $($(#[$before_meta:meta])* $before:ident: $before_ty:ty,)+ },)?
            $(#[$fields_meta:meta])*
            fields: $fields:ty,
            $($(#[$own_meta:meta])* $own:ident: $own_ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Queryable, Selectable)]
        #[diesel(table_name = $table, check_for_backend(Pg))]
        pub struct $row {
            pub id: $id,
            $($($(#[$before_meta])* pub $before: $before_ty,)+)?
            $(#[$fields_meta])*
            #[diesel(embed)]
            pub fields: $fields,
            $($(#[$own_meta])* pub $own: $own_ty,)*
            pub archived_at: Option<chrono::DateTime<chrono::Utc>>,
            pub version: i32,
            pub created_at: chrono::DateTime<chrono::Utc>,
            pub updated_at: chrono::DateTime<chrono::Utc>,
        }
    };
}

/// The reads and writes a catalogue table shares (assistance categories, indicators): rows
/// keyed by `code`, shown by `sort_order` then `code`, retired (`retired_at`) rather than
/// deleted:
/// - `list`: the live rows, or every row with `include_retired`;
/// - `get`: the row by code;
/// - `set_retired`: retire the row or bring it back; the row as stored, none when missing.
macro_rules! catalogue_rows {
    ($table:ident, $row:ident) => {
        pub fn list(conn: &mut PgConnection, include_retired: bool) -> QueryResult<Vec<$row>> {
            let mut q = $table::table.into_boxed();
            if !include_retired {
                q = q.filter($table::retired_at.is_null());
            }
            q.select($row::as_select())
                .order(($table::sort_order.asc(), $table::code.asc()))
                .load(conn)
        }

        pub fn get(conn: &mut PgConnection, code: &str) -> QueryResult<Option<$row>> {
            $table::table
                .find(code)
                .select($row::as_select())
                .first(conn)
                .optional()
        }

        pub fn set_retired(
            conn: &mut PgConnection,
            code: &str,
            retired: bool,
        ) -> QueryResult<Option<$row>> {
            let at: Option<chrono::DateTime<chrono::Utc>> = retired.then(chrono::Utc::now);
            diesel::update($table::table.find(code))
                .set($table::retired_at.eq(at))
                .returning($row::as_returning())
                .get_result(conn)
                .optional()
        }
    };
}

/// One page of `$query` (a boxed query, written as the expression that builds it: it is built
/// again when the total must be counted) in `$order`, with the total of all pages, as
/// `QueryResult<(Vec<$row>, i64)>`. The page is read first; a page shorter than asked ends
/// the list, so then the total is known without a second statement (a commune's villages or
/// teams fit in one page: one round trip, issue 16); otherwise it is counted.
macro_rules! page_of {
    ($conn:expr, $query:expr, $row:ty, $order:expr, $page:expr) => {{
        let page: $crate::Page = $page;
        let rows: Vec<$row> = $query
            .select(<$row>::as_select())
            .order($order)
            .limit(page.limit)
            .offset(page.offset)
            .load($conn)?;
        let total = match page.total_from(rows.len()) {
            Some(total) => total,
            None => $query.count().get_result($conn)?,
        };
        Ok((rows, total))
    }};
}
pub(crate) use page_of;

pub mod activation;
pub mod audit;
pub mod categories;
pub mod coalesce;
pub mod discipline;
pub mod imports;
pub mod indicators;
pub mod listen;
pub mod logs;
pub mod members;
pub mod months;
pub mod partitions;
pub mod periods;
pub mod report_versions;
pub mod reports;
pub mod schema;
pub mod sessions;
pub mod sync;
pub mod teams;
pub mod throttle;
pub mod trainings;
pub mod units;
pub mod users;
pub mod villages;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use secrecy::ExposeSecret;

use crate::error::{AppError, AppResult};

/// How to reach PostgreSQL and how long to wait for it (read from the environment by the
/// server's configuration).
#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    pub url: secrecy::SecretString,
    pub pool_size: u32,
    /// How long a request waits for a free connection before it is answered 503.
    pub checkout_timeout: Duration,
    /// Server-side limit for every statement (`SET statement_timeout`).
    pub statement_timeout: Duration,
    /// A streaming replica for reads that tolerate a little lag (lists, reports).
    pub read_url: Option<secrecy::SecretString>,
}

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

pub type PgConn = PooledConnection<ConnectionManager<PgConnection>>;

/// The r2d2 pool and a gate with one permit per connection. Requests wait for a permit on the
/// async side, where waiting costs nothing, and only then take a blocking thread: however many
/// requests are in flight, no more threads wait on the database than it has connections (at 64
/// concurrent requests and 10 connections that was 64 threads, most of them parked in r2d2,
/// with their memory and context switches).
#[derive(Clone)]
pub struct PgPool {
    pool: Pool<ConnectionManager<PgConnection>>,
    gate: Arc<Semaphore>,
    checkout_timeout: Duration,
    /// Told, after each `run`, of the accounts whose row or sessions it wrote (committed or
    /// not): the cache of live sessions forgets them at once on this instance, before the
    /// answer leaves (other instances learn it from `LISTEN/NOTIFY`).
    on_account_change: Arc<OnceLock<AccountHook>>,
}

type AccountHook = Box<dyn Fn(crate::ids::UserId) + Send + Sync>;

thread_local! {
    static CHANGED_ACCOUNTS: std::cell::RefCell<Vec<crate::ids::UserId>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Called by every write of `users` and `auth_sessions` with the account concerned.
pub(crate) fn account_changed(id: crate::ids::UserId) {
    CHANGED_ACCOUNTS.with(|c| c.borrow_mut().push(id));
}

impl PgPool {
    /// Sets what is told of changed accounts (once; later calls are ignored).
    pub fn on_account_change(&self, hook: impl Fn(crate::ids::UserId) + Send + Sync + 'static) {
        let _ = self.on_account_change.set(Box::new(hook));
    }
}

impl std::ops::Deref for PgPool {
    type Target = Pool<ConnectionManager<PgConnection>>;

    fn deref(&self) -> &Self::Target {
        &self.pool
    }
}

/// Sets per-connection limits as each pooled connection is opened. JIT compilation is off: the
/// report queries are estimated just above its threshold and spent ~10 ms compiling to save
/// less (issue 16, the country report's first read after a write).
#[derive(Debug)]
struct SessionSettings {
    statement_timeout_ms: u128,
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(&format!(
            "SET statement_timeout = {}; SET idle_in_transaction_session_timeout = 60000; \
             SET TIME ZONE 'UTC'; SET jit = off",
            self.statement_timeout_ms
        ))
        .map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Builds the pool without waiting for the database: a server can start while PostgreSQL is
/// still coming up, and answers 503 until it is reachable.
pub fn build_pool(settings: &DatabaseSettings) -> PgPool {
    pool_for(
        settings.url.expose_secret(),
        settings,
        settings.checkout_timeout,
    )
}

fn pool_for(url: &str, settings: &DatabaseSettings, checkout_timeout: Duration) -> PgPool {
    let manager =
        ConnectionManager::<PgConnection>::new(with_connect_timeout(url, checkout_timeout));
    let pool = Pool::builder()
        .max_size(settings.pool_size)
        .min_idle(Some(0))
        .connection_timeout(checkout_timeout)
        .test_on_check_out(false)
        .connection_customizer(Box::new(SessionSettings {
            statement_timeout_ms: settings.statement_timeout.as_millis(),
        }))
        .build_unchecked(manager);
    PgPool {
        pool,
        gate: Arc::new(Semaphore::new(settings.pool_size as usize)),
        checkout_timeout,
        on_account_change: Arc::new(OnceLock::new()),
    }
}

/// How long a read waits for the replica before it goes to the primary instead.
const REPLICA_CHECKOUT_TIMEOUT: Duration = Duration::from_millis(500);
/// After the replica fails, reads go to the primary for this long before it is tried again.
const REPLICA_PAUSE: Duration = Duration::from_secs(5);

/// Where reads that tolerate a little lag go: a streaming replica when one is configured
/// (`DATABASE_READ_URL`) and reachable, else the primary. A replica that fails is left alone
/// for a few seconds, so an outage costs each read nothing once noticed.
#[derive(Clone)]
pub struct ReadPool {
    primary: PgPool,
    replica: Option<PgPool>,
    /// Until when (ms since the pool was built) the replica is skipped.
    paused_until_ms: Arc<AtomicU64>,
    epoch: Instant,
}

impl ReadPool {
    pub fn new(settings: &DatabaseSettings, primary: PgPool) -> Self {
        let replica = settings
            .read_url
            .as_ref()
            .map(|url| pool_for(url.expose_secret(), settings, REPLICA_CHECKOUT_TIMEOUT));
        ReadPool {
            primary,
            replica,
            paused_until_ms: Arc::new(AtomicU64::new(0)),
            epoch: Instant::now(),
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn replica_if_up(&self) -> Option<PgPool> {
        let paused = self.now_ms() < self.paused_until_ms.load(Ordering::Relaxed);
        self.replica.clone().filter(|_| !paused)
    }

    fn pause_replica(&self, cause: &dyn std::fmt::Display) {
        let until = self.now_ms() + u64::try_from(REPLICA_PAUSE.as_millis()).unwrap_or(5_000);
        self.paused_until_ms.store(until, Ordering::Relaxed);
        tracing::warn!(error = %cause, "replica unavailable; reading from the primary");
    }
}

/// Runs a read that tolerates replication lag: on the replica when it is up, else (or when
/// the replica fails under it) on the primary. `f` may run twice, so it must not consume.
pub async fn run_read<T, F>(reads: &ReadPool, mut f: F) -> AppResult<T>
where
    F: FnMut(&mut PgConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let Some(replica) = reads.replica_if_up() else {
        return run(&reads.primary, f).await;
    };
    let reads = reads.clone();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        match replica.get() {
            Ok(mut conn) => match f(&mut conn) {
                Err(AppError::Unavailable(cause)) => reads.pause_replica(&cause),
                done => return done,
            },
            Err(e) => reads.pause_replica(&e),
        }
        let mut conn = reads.primary.get()?;
        f(&mut conn)
    })
    .await
    .map_err(AppError::internal)?
}

/// Runs a read of the caller's scope (`run_read`, so on the replica when it is up): `f` gets
/// the scope every query of the read is narrowed to.
pub async fn read_in_scope<T, F>(
    reads: &ReadPool,
    caller: &crate::access::Caller,
    mut f: F,
) -> AppResult<T>
where
    F: FnMut(&mut PgConnection, &crate::access::Scope) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let scope = caller.scope();
    run_read(reads, move |c| f(c, &scope)).await
}

/// Adds libpq's `connect_timeout` (whole seconds, at least 1) unless the URL sets one.
pub(crate) fn with_connect_timeout(url: &str, timeout: Duration) -> String {
    if url.contains("connect_timeout=") {
        return url.to_string();
    }
    let secs = timeout.as_secs().max(1);
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}connect_timeout={secs}")
}

/// Runs `f` in one transaction on `pool` on behalf of `caller` (the write path of the domain:
/// every change and its audit record commit together or not at all).
pub async fn transact<T, F>(pool: &PgPool, caller: &crate::access::Caller, f: F) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection, &crate::access::Caller) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    use diesel::Connection;
    let caller = caller.clone();
    run(pool, move |conn| conn.transaction(|c| f(c, &caller))).await
}

/// Runs `f` with a pooled connection on the blocking thread pool, once the pool's gate lets
/// it through. The wait for the gate and the checkout share one deadline, the checkout
/// timeout: past it the answer is 503. Checking a connection out blocks (it may connect), so
/// it happens inside the closure.
pub async fn run<T, F>(pool: &PgPool, f: F) -> AppResult<T>
where
    F: FnOnce(&mut PgConnection) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let started = Instant::now();
    let permit = acquire_within(
        &pool.gate,
        pool.checkout_timeout,
        "no database connection was free in time",
    )
    .await?;
    let left = pool
        .checkout_timeout
        .saturating_sub(started.elapsed())
        .max(Duration::from_millis(10));
    let pool = pool.clone();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let _permit = permit;
        let mut conn = pool.get_timeout(left)?;
        CHANGED_ACCOUNTS.with(|c| c.borrow_mut().clear());
        let result = f(&mut conn);
        if matches!(result, Err(AppError::Unavailable(_))) {
            drop_if_lost(&mut conn);
        }
        let changed = CHANGED_ACCOUNTS.with(|c| std::mem::take(&mut *c.borrow_mut()));
        if let Some(hook) = pool.on_account_change.get() {
            changed.into_iter().for_each(hook);
        }
        result
    })
    .await
    .map_err(AppError::internal)?
}

/// Diesel flags a pooled connection as broken only when a transaction failed on it, so one
/// whose server went away while it was idle would go back to the pool looking healthy and
/// fail every request that gets it, long after the database is back. After a failure, a
/// connection that can no longer run an empty statement is marked broken, so r2d2 drops it
/// and the next checkout connects afresh (a round trip on the error path only).
fn drop_if_lost(conn: &mut PgConnection) {
    use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
    if conn.batch_execute("").is_err() {
        AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
    }
}

/// One of `gate`'s permits, waited for (asynchronously) for at most `wait`; past it the
/// answer is 503 with `busy` as the cause. Used by the database gate and by admission.
pub async fn acquire_within(
    gate: &Arc<Semaphore>,
    wait: Duration,
    busy: &str,
) -> AppResult<OwnedSemaphorePermit> {
    tokio::time::timeout(wait, gate.clone().acquire_owned())
        .await
        .map_err(|_| AppError::Unavailable(busy.into()))?
        .map_err(AppError::internal)
}

/// Applies every pending embedded migration; returns the versions applied.
pub fn migrate(conn: &mut PgConnection) -> Result<Vec<String>, String> {
    conn.run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(|v| v.to_string()).collect())
        .map_err(|e| e.to_string())
}

/// True when every embedded migration has been applied to the database.
pub fn migrations_current(conn: &mut PgConnection) -> Result<bool, String> {
    conn.has_pending_migration(MIGRATIONS)
        .map(|pending| !pending)
        .map_err(|e| e.to_string())
}

/// A window into an ordered list, already clamped by the caller.
#[derive(Clone, Copy, Debug)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    /// The list's total, when this page (of `rows` rows) tells it: a page with fewer rows than
    /// asked for is the last, unless it is empty past the start (the list may end before the
    /// offset). `None`: count.
    pub fn total_from(self, rows: usize) -> Option<i64> {
        let rows = i64::try_from(rows).ok()?;
        (rows < self.limit && (rows > 0 || self.offset == 0)).then_some(self.offset + rows)
    }
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn a_short_page_tells_the_total_and_a_full_or_empty_later_one_does_not() {
        let first = Page {
            limit: 50,
            offset: 0,
        };
        assert_eq!(first.total_from(18), Some(18));
        assert_eq!(first.total_from(0), Some(0));
        assert_eq!(first.total_from(50), None);
        let third = Page {
            limit: 50,
            offset: 100,
        };
        assert_eq!(third.total_from(7), Some(107));
        assert_eq!(third.total_from(0), None);
        assert_eq!(third.total_from(50), None);
    }

    /// A row of a team-scoped table (a team, a membership) in commune 00004 of province 01,
    /// of team 7: who sees it read by id is who finds it in the scoped list.
    #[test]
    fn a_team_sees_its_own_rows_and_officers_their_units() {
        use super::{commune_visible, team_visible};
        use crate::access::Scope;
        use crate::ids::TeamId;
        let sees = |scope: Scope| team_visible(&scope, "01", "00004", TeamId(7));
        assert!(sees(Scope::Country));
        assert!(sees(Scope::Province("01".into())));
        assert!(!sees(Scope::Province("79".into())));
        assert!(sees(Scope::Commune("00004".into())));
        assert!(!sees(Scope::Commune("00007".into())));
        let team = |id| Scope::Team {
            commune: "00004".into(),
            team_id: TeamId(id),
        };
        assert!(sees(team(7)));
        // Another team of the same commune sees the commune's villages, not this team's rows.
        assert!(!sees(team(8)));
        assert!(commune_visible(&team(8), "01", "00004"));
    }
}
