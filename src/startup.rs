//! Builds the server: binds the address (port 0 picks a free one, for tests) and wires state.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, HttpServer};

use crate::config::Settings;
use crate::db;
use crate::state::AppState;

/// How often expired login-throttling counters are deleted and log partitions checked.
const HOUSEKEEPING_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Periodic upkeep, at start and then every 10 minutes, that needs no coordination between
/// instances: each delete is idempotent, and partition creation is serialised in the database.
fn spawn_housekeeping(pool: db::PgPool) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(HOUSEKEEPING_EVERY);
        loop {
            every.tick().await;
            match db::run(&pool, |conn| Ok(crate::auth::throttle::purge(conn)?)).await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "expired login counters purged"),
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "housekeeping skipped"),
            }
            match db::run(&pool, |conn| Ok(db::activation::purge_expired(conn)?)).await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "expired activation codes purged"),
                Ok(_) => {}
                Err(e) => tracing::debug!(error = %e, "housekeeping skipped"),
            }
            let months = db::partitions::MONTHS_AHEAD;
            match db::run(&pool, move |conn| {
                Ok(db::partitions::ensure_ahead(conn, months)?)
            })
            .await
            {
                Ok(n) if n > 0 => tracing::info!(created = n, "monthly partitions created"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "partition upkeep skipped; retried later"),
            }
        }
    });
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    pub fn build(settings: Settings) -> std::io::Result<Self> {
        let listener = TcpListener::bind(&settings.bind)?;
        let port = listener.local_addr()?.port();
        let pool = db::build_pool(&settings.database);
        let workers = settings.workers;
        let max_body = settings.max_body_bytes;
        // The request head must arrive within the body deadline too (actix's own timer); the
        // body's deadline is kept by the admission middleware.
        let head_timeout = settings.body_timeout;
        spawn_housekeeping(pool.clone());
        let gates = web::Data::new(crate::http::middleware::Gates::new(&settings));
        let state = web::Data::new(AppState::new(settings, pool));
        if state.settings.session_cache {
            use secrecy::ExposeSecret;
            let sessions = std::sync::Arc::downgrade(&state.sessions);
            state.pool.on_account_change(move |id| {
                if let Some(s) = sessions.upgrade() {
                    s.forget(id);
                }
            });
            let db = &state.settings.database;
            state
                .sessions
                .listen(db.url.expose_secret().to_string(), db.checkout_timeout);
        }
        let server =
            HttpServer::new(move || crate::http::app(state.clone(), gates.clone(), max_body))
                .workers(workers)
                .shutdown_timeout(30)
                .client_request_timeout(head_timeout)
                .listen(listener)?
                .run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the server stops; SIGTERM and SIGINT stop it gracefully.
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}
