//! Login throttling policy. Counters live in PostgreSQL so that every instance shares them.
//!
//! Three counters slow an attacker down without locking a real user out for long:
//! - per username and address: blocked after 5 failures (the person mistyping);
//! - per address: blocked after 30 failures (one machine trying many usernames);
//! - per username: blocked after 20 failures (many machines trying one username).
//!
//! A block starts at 2 s and doubles with each further failure, never beyond 15 minutes, and
//! a window of failures is forgotten after 15 minutes. A successful login clears the
//! username's counters.

use diesel::PgConnection;
use diesel::QueryResult;

use crate::db::throttle as store;

const WINDOW_SECS: f64 = 15.0 * 60.0;
const BASE_BLOCK_SECS: f64 = 2.0;
const MAX_BLOCK_SECS: f64 = 15.0 * 60.0;

pub struct Keys {
    pair: String,
    address: String,
    username: String,
}

impl Keys {
    pub fn new(username: &str, address: &str) -> Self {
        Keys {
            pair: format!("pair:{username}|{address}"),
            address: format!("ip:{address}"),
            username: format!("user:{username}"),
        }
    }

    fn all(&self) -> Vec<String> {
        vec![
            self.pair.clone(),
            self.address.clone(),
            self.username.clone(),
        ]
    }
}

pub fn blocked_for(conn: &mut PgConnection, keys: &Keys) -> QueryResult<Option<i64>> {
    store::blocked_for(conn, &keys.all())
}

pub fn record_failure(conn: &mut PgConnection, keys: &Keys) -> QueryResult<()> {
    for (key, threshold) in [(&keys.pair, 5), (&keys.address, 30), (&keys.username, 20)] {
        store::record_failure(
            conn,
            key,
            threshold,
            WINDOW_SECS,
            BASE_BLOCK_SECS,
            MAX_BLOCK_SECS,
        )?;
    }
    Ok(())
}

/// Forgets counters that can no longer block anyone (run periodically by the server).
pub fn purge(conn: &mut PgConnection) -> QueryResult<usize> {
    store::purge_expired(conn, WINDOW_SECS)
}

pub fn record_success(conn: &mut PgConnection, keys: &Keys) -> QueryResult<()> {
    store::clear(conn, &[keys.pair.clone(), keys.username.clone()])
}
