//! What every request handler shares: built once at start.

use std::sync::Arc;

use crate::auth::jwt::JwtKeys;
use crate::auth::live_sessions::LiveSessions;
use crate::auth::password::Hasher;
use crate::config::Settings;
use crate::db::coalesce::ByIds;
use crate::db::members::Member;
use crate::db::teams::Team;
use crate::db::villages::Village;
use crate::db::{self, PgPool, ReadPool};
use crate::ids::{MemberId, TeamId, VillageId};

/// Batches of reads by id in flight at once: one fills while the other runs. Measured on the
/// 2-core bench machine (`bench/route.sh member_get`, 64 connections): 1 lane 18,800 req/s,
/// 2 lanes 16,500, 3 lanes 14,300, 5 lanes 12,200, no batching 7,000–8,500; two keep a read
/// from waiting behind one slow batch.
const READ_LANES: usize = 2;

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
    /// Villages, teams and members read by id, in batches when reads queue (`db::coalesce`).
    pub village_reads: Arc<ByIds<VillageId, Village>>,
    pub team_reads: Arc<ByIds<TeamId, Team>>,
    pub member_reads: Arc<ByIds<MemberId, Member>>,
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
            village_reads: ByIds::new(READ_LANES, db::villages::by_ids, |v| v.id),
            team_reads: ByIds::new(READ_LANES, db::teams::by_ids, |t| t.id),
            member_reads: ByIds::new(READ_LANES, db::members::by_ids, |m| m.id),
        }
    }
}
