//! Builds the server: binds the address (port 0 picks a free one, for tests) and wires state.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, HttpServer};

use crate::config::Settings;
use crate::db;
use crate::state::AppState;

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
        let state = web::Data::new(AppState::new(settings, pool));
        let server = HttpServer::new(move || crate::http::app(state.clone(), max_body))
            .workers(workers)
            .shutdown_timeout(30)
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
