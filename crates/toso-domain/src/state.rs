//! What every request handler shares: built once at start.

use std::sync::Arc;

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
            settings,
            report_cache: Arc::default(),
        }
    }
}
