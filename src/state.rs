//! What every request handler shares: built once at start.

use crate::auth::jwt::JwtKeys;
use crate::auth::password::Hasher;
use crate::config::Settings;
use crate::db::{PgPool, ReadPool};

pub struct AppState {
    /// The primary: every write, and reads that must see the caller's own writes.
    pub pool: PgPool,
    /// Lists and reports: a replica when configured, else the primary.
    pub reads: ReadPool,
    pub keys: JwtKeys,
    pub hasher: Hasher,
    pub settings: Settings,
}

impl AppState {
    pub fn new(settings: Settings, pool: PgPool) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        AppState {
            reads: ReadPool::new(&settings.database, pool.clone()),
            pool,
            keys: JwtKeys::new(&settings.jwt),
            hasher: Hasher::new(cores),
            settings,
        }
    }
}
