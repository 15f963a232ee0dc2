//! What every request handler shares: built once at start.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::auth::jwt::JwtKeys;
use crate::auth::live_sessions::LiveSessions;
use crate::auth::password::Hasher;
use crate::config::Settings;
use crate::db::{PgPool, ReadPool};

pub struct AppState {
    /// The primary: every write, and reads that must see the caller's own writes.
    pub pool: PgPool,
    /// Lists and reports: a replica when configured, else the primary.
    pub reads: ReadPool,
    pub keys: JwtKeys,
    /// Live sessions seen recently, kept exact by `LISTEN/NOTIFY` (`auth::live_sessions`).
    pub sessions: Arc<LiveSessions>,
    pub hasher: Hasher,
    /// One permit per API request handled at once (`TOSO_MAX_IN_FLIGHT`).
    pub admission: Arc<Semaphore>,
    /// The slots each client (account or address) holds (`TOSO_MAX_IN_FLIGHT_PER_CLIENT`).
    pub shares: crate::http::middleware::ClientShares,
    /// Bytes of request bodies held at once, one permit a byte: twice `TOSO_MAX_IN_FLIGHT`
    /// bodies of `TOSO_MAX_BODY_BYTES`, so bodies read before admission stay bounded.
    pub bodies: Arc<Semaphore>,
    /// The same for spreadsheet uploads (`POST /api/v1/imports`), apart so that their larger
    /// limit does not widen the budget of every other body: two files of
    /// `TOSO_MAX_IMPORT_BYTES` at once.
    pub upload_bodies: Arc<Semaphore>,
    pub settings: Settings,
    /// Province and country reports kept while what they read stands (`reports::cache`).
    pub report_cache: Arc<crate::reports::cache::ReportCache>,
}

impl AppState {
    pub fn new(settings: Settings, pool: PgPool) -> Self {
        AppState {
            reads: ReadPool::new(&settings.database, pool.clone()),
            pool,
            keys: JwtKeys::new(&settings.jwt),
            sessions: Arc::new(LiveSessions::off()),
            hasher: Hasher::new(settings.hash_concurrency, settings.hash_queue),
            admission: Arc::new(Semaphore::new(settings.max_in_flight)),
            shares: crate::http::middleware::ClientShares::new(settings.max_in_flight_per_client),
            bodies: Arc::new(Semaphore::new(
                settings
                    .max_body_bytes
                    .saturating_mul(2 * settings.max_in_flight)
                    .min(Semaphore::MAX_PERMITS),
            )),
            upload_bodies: Arc::new(Semaphore::new(
                settings
                    .max_import_bytes
                    .saturating_mul(2)
                    .min(Semaphore::MAX_PERMITS),
            )),
            settings,
            report_cache: Arc::default(),
        }
    }
}
