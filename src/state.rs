//! What every request handler shares: built once at start.

use crate::auth::jwt::JwtKeys;
use crate::auth::password::Hasher;
use crate::config::Settings;
use crate::db::PgPool;

pub struct AppState {
    pub pool: PgPool,
    pub keys: JwtKeys,
    pub hasher: Hasher,
    pub settings: Settings,
}

impl AppState {
    pub fn new(settings: Settings, pool: PgPool) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        AppState {
            pool,
            keys: JwtKeys::new(&settings.jwt),
            hasher: Hasher::new(cores),
            settings,
        }
    }
}
