//! A connection of its own, outside the pool, that listens for PostgreSQL notifications
//! (`LISTEN`/`NOTIFY`). Reading what arrived costs no round trip: libpq reads the socket
//! without blocking.

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::{Connection, ConnectionResult, QueryResult};

/// The channel the `notify_auth_change` triggers announce account and session changes on;
/// the payload is the account's id.
pub const AUTH_CHANNEL: &str = "toso_auth";

/// Connects to `url` (giving up after `timeout`) and listens on `channel` (a fixed name of
/// ours, never input).
pub fn listener(
    url: &str,
    timeout: std::time::Duration,
    channel: &'static str,
) -> ConnectionResult<PgConnection> {
    let mut conn = PgConnection::establish(&super::with_connect_timeout(url, timeout))?;
    conn.batch_execute(&format!(
        "SET statement_timeout = {}; LISTEN {channel}",
        timeout.as_millis()
    ))
    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
    Ok(conn)
}

/// The payloads of the notifications received so far, without waiting for more.
pub fn received(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
    conn.notifications_iter()
        .map(|n| n.map(|n| n.payload))
        .collect()
}

/// One round trip, to learn that the connection still works (a half-open TCP connection
/// shows nothing to a read that does not wait).
pub fn ping(conn: &mut PgConnection) -> QueryResult<()> {
    conn.batch_execute("SELECT 1")
}
