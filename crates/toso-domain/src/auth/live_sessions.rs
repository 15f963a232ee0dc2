//! An in-process cache of live sessions, so a request's session check costs no database round
//! trip and no trip to the blocking pool when the session was seen recently.
//!
//! Correctness rests on PostgreSQL `LISTEN/NOTIFY`: triggers on `users` and `auth_sessions`
//! (migration `2026-11-28-000401_auth_notify`) announce every update or delete of an account or
//! a session on the channel `toso_auth`, with the account's id, when the writing transaction
//! commits. Each instance's listener thread reads those notifications and forgets the
//! account's cached sessions, so logout, reuse detection, password changes, disabling and
//! changes of role, unit or team reach every instance together, whatever path made them.
//!
//! The bound, per instance:
//! - in normal operation a change applies to the first request that starts after its
//!   notification reached the instance: every lookup first reads, without waiting, what the
//!   listener's socket holds (PostgreSQL signals listeners as the writing transaction commits,
//!   before the writer's client hears of the commit); between requests the listener thread
//!   reads it every [`POLL`];
//! - the cache answers only while its listener is known to be connected: it is emptied and
//!   switched off when the listener's connection fails, and switched back on, empty, once it
//!   listens again; a connection that dies silently is noticed by the ping every [`PING_EVERY`]
//!   and the cache stops answering [`FRESH`] (2 s) after the last successful ping;
//! - no entry is used longer than [`MAX_AGE`] after it was read from the database, nor after
//!   its session's own expiry.
//!
//! A read that raced a change is not cached: every notification bumps a generation, and an
//! entry read from the database is stored only if no notification arrived meanwhile.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use uuid::Uuid;

use crate::ids::{SessionId, UserId};

use crate::access::Caller;
use crate::db;

/// How often the listener thread reads the notifications that arrived (lookups read them too).
pub const POLL: Duration = Duration::from_millis(5);
/// How often the listener proves its connection with a round trip.
pub const PING_EVERY: Duration = Duration::from_millis(500);
/// The cache answers only this long after the listener's last successful ping.
pub const FRESH: Duration = Duration::from_secs(2);
/// No entry is used longer than this after it was read from the database.
pub const MAX_AGE: Duration = Duration::from_secs(30);
/// Past this many sessions the cache starts over (memory stays bounded, ~200 bytes each).
const MAX_ENTRIES: usize = 50_000;
/// Waits between attempts to (re)connect the listener.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

struct Entry {
    caller: Caller,
    expires_at: DateTime<Utc>,
    read_at: Instant,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<SessionId, Entry>,
    /// Bumped by every notification and every reset.
    generation: u64,
    listening: bool,
    pinged_at: Option<Instant>,
}

impl Inner {
    fn answers(&self) -> bool {
        self.listening && self.pinged_at.is_some_and(|t| t.elapsed() < FRESH)
    }
}

/// Live sessions by session id. `LiveSessions::off()` never answers (every request reads the
/// database, as without a cache).
#[derive(Default)]
pub struct LiveSessions {
    inner: Mutex<Inner>,
    /// The listener's connection, while it has one.
    listener: Mutex<Option<PgConnection>>,
}

/// What a lookup found: the caller, or a miss with the ticket to store the database's answer
/// under (`None` when the cache is not answering).
pub enum Lookup {
    Hit(Caller),
    Miss(Option<u64>),
}

impl LiveSessions {
    pub fn off() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn lookup(&self, session_id: SessionId, user_id: UserId) -> Lookup {
        // What already arrived applies to this request. When the listener thread holds the
        // connection it is reading it right now.
        if let Ok(mut conn) = self.listener.try_lock() {
            self.read_notifications(&mut conn);
        }
        let inner = self.lock();
        if !inner.answers() {
            return Lookup::Miss(None);
        }
        match inner.entries.get(&session_id) {
            Some(e)
                if e.caller.user_id == user_id
                    && e.expires_at > Utc::now()
                    && e.read_at.elapsed() < MAX_AGE =>
            {
                Lookup::Hit(e.caller.clone())
            }
            _ => Lookup::Miss(Some(inner.generation)),
        }
    }

    /// Stores what the database answered for a miss, unless something changed since the
    /// ticket was taken (the answer may predate the change).
    pub fn remember(&self, ticket: u64, caller: &Caller, expires_at: DateTime<Utc>) {
        let mut inner = self.lock();
        if inner.generation != ticket || !inner.answers() {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner.entries.insert(
            caller.session_id,
            Entry {
                caller: caller.clone(),
                expires_at,
                read_at: Instant::now(),
            },
        );
    }

    /// Applies the notifications `conn` received; on a failure the connection is given up
    /// (the cache stops answering) and the listener thread connects again.
    fn read_notifications(&self, conn: &mut Option<PgConnection>) -> bool {
        let Some(c) = conn.as_mut() else {
            return false;
        };
        match db::listen::received(c) {
            Ok(payloads) => {
                for p in &payloads {
                    self.forget_account(p);
                }
                true
            }
            Err(e) => {
                *conn = None;
                self.reset(false);
                tracing::warn!(error = %e, "session listener lost its connection; reconnecting");
                false
            }
        }
    }

    /// Forgets an account's sessions (a change made by this instance, known before the
    /// notification comes back).
    pub fn forget(&self, user_id: UserId) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.retain(|_, e| e.caller.user_id != user_id);
    }

    fn forget_account(&self, payload: &str) {
        match payload.parse::<Uuid>() {
            Ok(user_id) => self.forget(UserId(user_id)),
            Err(_) => {
                let mut inner = self.lock();
                inner.generation += 1;
                inner.entries.clear();
            }
        }
    }

    fn reset(&self, listening: bool) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.clear();
        inner.listening = listening;
        if listening {
            inner.pinged_at = Some(Instant::now());
        }
    }

    fn pinged(&self) {
        self.lock().pinged_at = Some(Instant::now());
    }

    /// Starts the listener thread on `url` (the primary). It ends when the cache is dropped.
    pub fn listen(self: &Arc<Self>, url: String, connect_timeout: Duration) {
        let weak = Arc::downgrade(self);
        let spawned = std::thread::Builder::new()
            .name("toso-auth-listen".into())
            .spawn(move || listen_loop(&weak, &url, connect_timeout));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no session listener; every request checks its session in the database");
        }
    }
}

fn listen_loop(cache: &Weak<LiveSessions>, url: &str, connect_timeout: Duration) {
    let mut logged_down = false;
    loop {
        let Some(live) = cache.upgrade() else { return };
        match db::listen::listener(url, connect_timeout, db::listen::AUTH_CHANNEL) {
            Ok(conn) => {
                *live.listener.lock().unwrap_or_else(|e| e.into_inner()) = Some(conn);
                // Listening from here on: whatever was cached before may have missed a change.
                live.reset(true);
                if logged_down {
                    tracing::info!("session listener connected again");
                }
            }
            Err(e) => {
                live.reset(false);
                if !logged_down {
                    tracing::warn!(error = %e, "session listener cannot connect; sessions are checked in the database until it does");
                    logged_down = true;
                }
                drop(live);
                std::thread::sleep(RECONNECT_EVERY);
                continue;
            }
        }
        drop(live);
        let mut pinged = Instant::now();
        loop {
            std::thread::sleep(POLL);
            let Some(live) = cache.upgrade() else { return };
            let mut conn = live.listener.lock().unwrap_or_else(|e| e.into_inner());
            if !live.read_notifications(&mut conn) {
                logged_down = true;
                break;
            }
            if pinged.elapsed() >= PING_EVERY {
                let ping = conn.as_mut().map(db::listen::ping);
                if let Some(Err(e)) = ping {
                    *conn = None;
                    live.reset(false);
                    tracing::warn!(error = %e, "session listener lost its connection; reconnecting");
                    logged_down = true;
                    break;
                }
                pinged = Instant::now();
                live.pinged();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    fn caller(user_id: Uuid) -> Caller {
        Caller {
            user_id: UserId(user_id),
            session_id: SessionId(Uuid::new_v4()),
            username: "u".into(),
            role: Role::Admin,
            unit_code: None,
            province_code: None,
            team_id: None,
            must_change_password: false,
        }
    }

    fn later() -> DateTime<Utc> {
        Utc::now() + chrono::Duration::minutes(5)
    }

    fn ticket(cache: &LiveSessions, c: &Caller) -> u64 {
        match cache.lookup(c.session_id, c.user_id) {
            Lookup::Miss(Some(t)) => t,
            Lookup::Miss(None) => panic!("the cache is not answering"),
            Lookup::Hit(_) => panic!("unexpected hit"),
        }
    }

    fn hit(cache: &LiveSessions, c: &Caller) -> bool {
        matches!(cache.lookup(c.session_id, c.user_id), Lookup::Hit(_))
    }

    #[test]
    fn a_cache_that_is_not_listening_never_answers_nor_stores() {
        let cache = LiveSessions::off();
        let c = caller(Uuid::new_v4());
        assert!(matches!(
            cache.lookup(c.session_id, c.user_id),
            Lookup::Miss(None)
        ));
        cache.remember(0, &c, later());
        assert!(!hit(&cache, &c));
    }

    #[test]
    fn a_notification_forgets_that_account_only() {
        let cache = LiveSessions::off();
        cache.reset(true);
        let (a, b) = (caller(Uuid::new_v4()), caller(Uuid::new_v4()));
        let t = ticket(&cache, &a);
        cache.remember(t, &a, later());
        let t = ticket(&cache, &b);
        cache.remember(t, &b, later());
        assert!(hit(&cache, &a) && hit(&cache, &b));
        cache.forget_account(&a.user_id.to_string());
        assert!(!hit(&cache, &a));
        assert!(hit(&cache, &b));
        // A payload that is not an id forgets everything.
        cache.forget_account("?");
        assert!(!hit(&cache, &b));
    }

    #[test]
    fn an_answer_read_before_a_change_is_not_stored() {
        let cache = LiveSessions::off();
        cache.reset(true);
        let a = caller(Uuid::new_v4());
        let t = ticket(&cache, &a);
        cache.forget_account(&Uuid::new_v4().to_string());
        cache.remember(t, &a, later());
        assert!(!hit(&cache, &a));
    }

    #[test]
    fn expired_sessions_other_accounts_and_lost_listeners_miss() {
        let cache = LiveSessions::off();
        cache.reset(true);
        let a = caller(Uuid::new_v4());
        let t = ticket(&cache, &a);
        cache.remember(t, &a, Utc::now() - chrono::Duration::seconds(1));
        assert!(!hit(&cache, &a), "expired");
        let t = ticket(&cache, &a);
        cache.remember(t, &a, later());
        assert!(hit(&cache, &a));
        assert!(
            !matches!(
                cache.lookup(a.session_id, UserId(Uuid::new_v4())),
                Lookup::Hit(_)
            ),
            "a token of another account naming this session"
        );
        cache.lock().pinged_at = Instant::now().checked_sub(FRESH);
        assert!(!hit(&cache, &a), "no recent ping");
        cache.pinged();
        assert!(hit(&cache, &a));
        cache.reset(false);
        assert!(!hit(&cache, &a), "listener lost");
    }
}
