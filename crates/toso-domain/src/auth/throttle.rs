//! Login throttling policy. Counters live in PostgreSQL so that every instance shares them.
//!
//! Three counters slow an attacker down without locking a real user out for long:
//! - per account and address: blocked after 5 attempts (the person mistyping);
//! - per address: blocked after 30 attempts (one machine trying many usernames);
//! - per account: blocked after 20 attempts (many machines trying one account).
//!
//! An attempt is counted before its password is checked, atomically (`db::throttle::attempt`),
//! so concurrent guesses cannot all slip through before the first failure is recorded: at most
//! the threshold of them reach the hash. The account is named by its username whichever login
//! (username or phone, in any form) was typed, so both share one counter; an unknown login is
//! counted under the name typed. The wrong `current_password` of `PUT /me/password` counts on
//! the same counters. A block starts at 2 s and doubles with each further attempt, never
//! beyond 15 minutes, and a window of attempts is forgotten after 15 minutes. A success clears
//! the account's counters and takes its attempt back from the address's.

use diesel::PgConnection;
use diesel::QueryResult;

use crate::db::throttle::{self as store, Policy};

const POLICY: Policy = Policy {
    window_secs: 15.0 * 60.0,
    base_secs: 2.0,
    max_secs: 15.0 * 60.0,
};

pub struct Keys {
    pair: String,
    address: String,
    account: String,
}

impl Keys {
    /// `subject`: the account's username, or the login typed when no account has it.
    pub fn new(subject: &str, address: &str) -> Self {
        Keys {
            pair: format!("pair:{subject}|{address}"),
            address: format!("ip:{address}"),
            account: format!("user:{subject}"),
        }
    }

    fn limits(&self) -> [(String, i32); 3] {
        [
            (self.pair.clone(), 5),
            (self.address.clone(), 30),
            (self.account.clone(), 20),
        ]
    }
}

/// Counts an attempt before its password is checked; `Some(seconds)` when it must wait
/// instead. Runs in a transaction of its own (a savepoint inside one).
pub fn attempt(conn: &mut PgConnection, keys: &Keys) -> QueryResult<Option<i64>> {
    use diesel::Connection;
    conn.transaction(|c| store::attempt(c, &keys.limits(), POLICY))
}

/// Takes back an attempt that never reached the password check (the hashing queue was full).
pub fn release(conn: &mut PgConnection, keys: &Keys) -> QueryResult<()> {
    store::release(conn, &keys.limits())
}

/// Forgets counters that can no longer block anyone (run periodically by the server).
pub fn purge(conn: &mut PgConnection) -> QueryResult<usize> {
    store::purge_expired(conn, POLICY.window_secs)
}

/// Forgets the account's own counter (the operator set a new password from the command line).
pub fn forgive_account(conn: &mut PgConnection, username: &str) -> QueryResult<()> {
    store::clear(conn, &[Keys::new(username, "").account])
}

/// The right password: the account's counters go, the address keeps only its failures.
pub fn record_success(conn: &mut PgConnection, keys: &Keys) -> QueryResult<()> {
    let [pair, address, account] = keys.limits();
    store::clear(conn, &[pair.0, account.0])?;
    store::release(conn, &[address])
}
