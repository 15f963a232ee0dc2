//! Citizen-assistance logs. Ids come from the phone; inserts never overwrite.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;

use super::schema::{assistance_logs as logs, log_ids, members};
use crate::access::Scope;
use crate::ids::LogId;
use crate::ids::MemberId;
use crate::ids::TeamId;
use crate::ids::UserId;
use crate::ids::VillageId;
use crate::vocab::{AgeBand, Channel, Outcome, Sex};

versioned_row! {
    #[derive(PartialEq)]
    AssistanceLog in logs {
        id: LogId,
        /// What the log was recorded with (each change replaces some of them).
        fields: LogFields,
    }
}

/// A log's own columns: inserted under the phone's id (`NewLog`), and read back as
/// `AssistanceLog::fields`.
#[derive(Clone, Debug, PartialEq, Insertable, Queryable, Selectable)]
#[diesel(table_name = logs, treat_none_as_default_value = false, check_for_backend(Pg))]
pub struct LogFields {
    pub occurred_at: DateTime<Utc>,
    pub member_id: MemberId,
    pub team_id: TeamId,
    pub commune_code: String,
    pub province_code: String,
    pub village_id: Option<VillageId>,
    pub category_code: String,
    pub channel: Channel,
    pub citizens_helped: i32,
    pub citizen_sex: Option<Sex>,
    pub citizen_age_band: Option<AgeBand>,
    pub outcome: Outcome,
    pub note: Option<String>,
    pub created_by: UserId,
    pub device_id: Option<String>,
}

/// A log to insert: its id (made on the phone) and its columns. `None` is written as NULL (no
/// column has another default), here and in `LogFields`, so a single row's insert is one
/// prepared statement.
#[derive(Clone, Debug, Insertable)]
#[diesel(table_name = logs, treat_none_as_default_value = false)]
pub struct NewLog {
    pub id: LogId,
    #[diesel(embed)]
    pub fields: LogFields,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = logs)]
pub struct LogChanges {
    pub occurred_at: Option<DateTime<Utc>>,
    /// Set when a new date falls in another membership of the same person.
    pub member_id: Option<MemberId>,
    pub team_id: Option<TeamId>,
    pub commune_code: Option<String>,
    pub province_code: Option<String>,
    pub village_id: Option<Option<VillageId>>,
    pub category_code: Option<String>,
    pub channel: Option<Channel>,
    pub citizens_helped: Option<i32>,
    pub citizen_sex: Option<Option<Sex>>,
    pub citizen_age_band: Option<Option<AgeBand>>,
    pub outcome: Option<Outcome>,
    pub note: Option<Option<String>>,
}

/// Who may see which logs: the scope, narrowed for a team member to its own logs.
#[derive(Clone, Debug)]
pub struct LogScope {
    pub scope: Scope,
    /// For team members: only logs of the memberships linked to this account.
    pub own_user: Option<UserId>,
    /// For team accounts: logs this account recorded stay its own when a move took their
    /// membership out of its scope (one by id; lists keep to the scope).
    pub author: Option<UserId>,
}

#[derive(Debug, Default)]
pub struct LogFilter {
    pub unit_code: Option<String>,
    pub team_id: Option<TeamId>,
    pub member_id: Option<MemberId>,
    pub category_code: Option<String>,
    pub outcome: Option<Outcome>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub include_archived: bool,
}

pub(crate) fn scoped(s: &LogScope) -> logs::BoxedQuery<'static, Pg> {
    let mut q = logs::table.into_boxed();
    q = match &s.scope {
        Scope::Country => q,
        Scope::Province(p) => q.filter(logs::province_code.eq(p.clone())),
        Scope::Commune(c) => q.filter(logs::commune_code.eq(c.clone())),
        Scope::Team { team_id, .. } => q.filter(logs::team_id.eq(*team_id)),
    };
    if let Some(user) = s.own_user {
        q = q.filter(
            logs::member_id.eq_any(
                members::table
                    .select(members::id)
                    .filter(members::user_id.eq(user)),
            ),
        );
    }
    q
}

fn filtered(s: &LogScope, f: &LogFilter) -> logs::BoxedQuery<'static, Pg> {
    let mut q = scoped(s);
    unit_window!(q, logs, occurred_at, f);
    equal_filters!(q, logs, f, team_id, member_id, category_code, outcome);
    q
}

versioned_rows! {
    table = logs, row = AssistanceLog, id = LogId, scope = LogScope,
    filter = LogFilter, changes = LogChanges,
    order = (logs::occurred_at.desc(), logs::id.asc()),
    custom_get,
}

pub fn get(conn: &mut PgConnection, s: &LogScope, id: LogId) -> QueryResult<Option<AssistanceLog>> {
    let found = scoped(s)
        .filter(logs::id.eq(id))
        .select(AssistanceLog::as_select())
        .first(conn)
        .optional()?;
    match (found, s.author) {
        (None, Some(author)) => logs::table
            .filter(logs::id.eq(id))
            .filter(logs::created_by.eq(author))
            .select(AssistanceLog::as_select())
            .first(conn)
            .optional(),
        (found, _) => Ok(found),
    }
}

/// Which of `ids` stored logs have, whoever may see them: one probe of `log_ids` per id,
/// where a lookup of the partitioned table by id alone probes every month's index.
pub fn taken_ids(conn: &mut PgConnection, ids: &[LogId]) -> QueryResult<Vec<LogId>> {
    log_ids::table
        .select(log_ids::id)
        .filter(log_ids::id.eq_any(ids))
        .load(conn)
}

/// Inserts the logs whose ids are new; returns the rows actually inserted, as stored (read
/// back in the insert: a second statement would hold the insert's rollup rows locked a round
/// trip longer, and a lookup by id alone plans over every month's partition). The primary
/// key of `log_ids`, not a check before the insert, decides: the table's BEFORE INSERT
/// trigger claims each id there and skips the row when the id is taken (by a log of any
/// month, or by a concurrent insert that commits first), so concurrent resends cannot both
/// win.
pub fn insert_new(conn: &mut PgConnection, rows: &[NewLog]) -> QueryResult<Vec<AssistanceLog>> {
    let insert = diesel::insert_into(logs::table);
    match rows {
        // One row: a statement the connection keeps prepared (a batch's text varies with its
        // length, so diesel prepares it anew).
        [row] => insert
            .values(row)
            .returning(AssistanceLog::as_returning())
            .get_results(conn),
        _ => insert
            .values(rows)
            .returning(AssistanceLog::as_returning())
            .get_results(conn),
    }
}

/// The logs with these ids that the scope may see (or, for a team role, that it recorded).
pub fn get_visible(
    conn: &mut PgConnection,
    s: &LogScope,
    ids: &[LogId],
) -> QueryResult<Vec<AssistanceLog>> {
    let mut found: Vec<AssistanceLog> = scoped(s)
        .filter(logs::id.eq_any(ids))
        .select(AssistanceLog::as_select())
        .load(conn)?;
    if let Some(author) = s.author {
        let got: HashSet<LogId> = found.iter().map(|l| l.id).collect();
        let rest: Vec<LogId> = ids.iter().filter(|i| !got.contains(i)).copied().collect();
        if !rest.is_empty() {
            found.extend(
                logs::table
                    .filter(logs::id.eq_any(rest))
                    .filter(logs::created_by.eq(author))
                    .select(AssistanceLog::as_select())
                    .load(conn)?,
            );
        }
    }
    Ok(found)
}
