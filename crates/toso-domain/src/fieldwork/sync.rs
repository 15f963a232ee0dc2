//! Offline-safe mobile sync: a batch push with a result per item, and a cursor-based pull.

use std::collections::{HashMap, HashSet};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::logs::{log_months, log_scope, LogContext, LogInput, LogPatch};
use super::trainings::{duplicate_attendance, hold_attendance, record_attendance, AttendanceInput};
use super::{hold_open, month_key};
use crate::access::{Caller, Scope};
use crate::db::indicators::{
    self as indicator_rows, Denominator, Indicator, IndicatorValue, Target,
};
use crate::db::logs::{self as store, AssistanceLog, LogScope, NewLog};
use crate::db::sync::{self as feed, Position, Window};
use crate::db::trainings::{self, Attendance, Training};
use crate::db::{self, categories::Category, members::Member, teams::Team, villages::Village};
use crate::error::{AppError, AppResult, ErrorCode, Problem};
use crate::ids::{LogId, MemberId, TeamId, TrainingId, VillageId};
use crate::state::AppState;
use crate::views::{
    AttendanceView, CategoryView, DenominatorView, IndicatorValueView, IndicatorView, LogView,
    MemberView, Served, TargetView, TeamView, TrainingView, VillageView,
};

pub const MAX_BATCH: usize = 500;

/// One item of a push, already parsed.
pub enum PushItem {
    CreateLog(LogInput),
    UpdateLog {
        id: LogId,
        base_version: i32,
        patch: LogPatch,
    },
    /// A member's attendance at a training; `base_version` when editing a known record.
    UpsertAttendance {
        training_id: TrainingId,
        input: AttendanceInput,
        base_version: Option<i32>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    Created,
    Duplicate,
    Updated,
    Rejected,
    Conflict,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemResult {
    pub index: usize,
    pub id: Option<Uuid>,
    pub status: ItemStatus,
    /// Why the item was rejected (an RFC 9457 problem).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    /// For `conflict`, `duplicate` and `updated`: the server's copy now.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub current: Option<serde_json::Value>,
}

impl ItemResult {
    pub fn rejected(index: usize, id: Option<Uuid>, error: &AppError) -> Self {
        ItemResult {
            index,
            id,
            status: ItemStatus::Rejected,
            problem: Some(error.problem()),
            current: None,
        }
    }
}

/// Applies a batch: every item gets a result and a bad item never blocks the good ones.
pub async fn push(
    state: &AppState,
    caller: &Caller,
    device_id: Option<String>,
    items: Vec<(usize, PushItem)>,
) -> AppResult<Vec<ItemResult>> {
    let caller = caller.clone();
    db::run(&state.pool, move |conn| {
        let ctx = LogContext::load(conn, &caller)?;
        let scope = log_scope(&caller);
        let mut results = Vec::with_capacity(items.len());
        push_creates(
            conn,
            &ctx,
            &scope,
            device_id.as_deref(),
            &items,
            &mut results,
        )?;
        push_edits(conn, &ctx, &caller, &scope, &items, &mut results);
        push_attendance(conn, &caller, &items, &mut results);
        results.sort_by_key(|r| r.index);
        Ok(results)
    })
    .await
}

/// Creates: new ones are checked, then inserted together; the claim of each id in `log_ids`
/// (at the insert) tells resends apart and decides between concurrent ones. Resends are
/// answered from what is stored, also when they would no longer pass the checks: the ids of
/// the items refused are looked up before refusing them (usually none, so a push of new logs
/// is not probed id by id before its insert, and its new rows come back from the insert).
fn push_creates(
    conn: &mut PgConnection,
    ctx: &LogContext,
    scope: &LogScope,
    device_id: Option<&str>,
    items: &[(usize, PushItem)],
    results: &mut Vec<ItemResult>,
) -> AppResult<()> {
    let (seen, fresh, mut refused) = check_creates(ctx, device_id, items);
    let mut visible: HashMap<LogId, AssistanceLog> = HashMap::new();
    insert_batch(conn, &fresh, &mut visible, &mut refused)?;
    let inserted: HashSet<LogId> = visible.keys().copied().collect();
    reject_unsent(conn, refused, results)?;
    let rejected: HashSet<usize> = results.iter().map(|r| r.index).collect();
    // Stored logs the caller may see; any other id belongs to a record it cannot see. The
    // new rows came back from the insert (the caller recorded them, so it sees them).
    let others: Vec<LogId> = seen
        .into_iter()
        .filter(|id| !inserted.contains(id))
        .collect();
    if !others.is_empty() {
        for log in store::get_visible(conn, scope, &others)? {
            visible.insert(log.id, log);
        }
    }
    answer_creates(items, &rejected, &inserted, &visible, results);
    Ok(())
}

/// A refused create, with the id it carried.
type Refused = (usize, LogId, AppError);

/// Checks each create once per id: the new rows to insert, and those refused.
fn check_creates(
    ctx: &LogContext,
    device_id: Option<&str>,
    items: &[(usize, PushItem)],
) -> (HashSet<LogId>, Vec<(usize, NewLog)>, Vec<Refused>) {
    let mut seen = HashSet::new();
    let mut fresh: Vec<(usize, NewLog)> = Vec::new();
    let mut refused: Vec<Refused> = Vec::new();
    for (index, item) in items {
        let PushItem::CreateLog(input) = item else {
            continue;
        };
        if !seen.insert(input.id) {
            continue; // answered below, once the batch is stored
        }
        match ctx.new_log(input, device_id) {
            Ok(new) => fresh.push((*index, new)),
            Err(e) => refused.push((*index, input.id, e)),
        }
    }
    (seen, fresh, refused)
}

/// Rejects the refused creates whose id is not stored (a stored one is a resend, answered
/// from what is stored even when it would no longer pass the checks).
fn reject_unsent(
    conn: &mut PgConnection,
    refused: Vec<Refused>,
    results: &mut Vec<ItemResult>,
) -> AppResult<()> {
    let maybe_sent: Vec<LogId> = refused.iter().map(|(_, id, _)| *id).collect();
    let stored: HashSet<LogId> = if maybe_sent.is_empty() {
        HashSet::new()
    } else {
        store::taken_ids(conn, &maybe_sent)?.into_iter().collect()
    };
    for (index, id, err) in refused {
        if !stored.contains(&id) {
            results.push(ItemResult::rejected(index, Some(id.0), &err));
        }
    }
    Ok(())
}

/// The answer to every create not rejected: created (the first item of an id the batch
/// inserted), duplicate (with the stored log), or 409 `id_conflict` for an id the caller
/// cannot see.
fn answer_creates(
    items: &[(usize, PushItem)],
    rejected: &HashSet<usize>,
    inserted: &HashSet<LogId>,
    visible: &HashMap<LogId, AssistanceLog>,
    results: &mut Vec<ItemResult>,
) {
    let mut first = HashSet::new();
    for (index, item) in items {
        let PushItem::CreateLog(input) = item else {
            continue;
        };
        if rejected.contains(index) {
            continue;
        }
        let id = input.id;
        let is_first = first.insert(id);
        let status = if is_first && inserted.contains(&id) {
            ItemStatus::Created
        } else {
            ItemStatus::Duplicate
        };
        results.push(match visible.get(&id) {
            Some(log) => ItemResult {
                index: *index,
                id: Some(id.0),
                status,
                problem: None,
                current: (status == ItemStatus::Duplicate).then(|| view_json(log)),
            },
            None => ItemResult::rejected(
                *index,
                Some(id.0),
                &AppError::Conflict {
                    code: ErrorCode::IdConflict,
                    detail: "another record already uses this id".into(),
                },
            ),
        });
    }
}

/// Edits: each on its own, based on the version the phone saw.
fn push_edits(
    conn: &mut PgConnection,
    ctx: &LogContext,
    caller: &Caller,
    scope: &LogScope,
    items: &[(usize, PushItem)],
    results: &mut Vec<ItemResult>,
) {
    for (index, item) in items {
        let PushItem::UpdateLog {
            id,
            base_version,
            patch,
        } = item
        else {
            continue;
        };
        let mut stored = None;
        let outcome = conn.transaction::<_, AppError, _>(|c| {
            let Some(current) = store::lock(c, scope, *id)? else {
                return Err(AppError::not_found("log"));
            };
            stored = Some(current.clone());
            if current.version != *base_version {
                return Ok((ItemStatus::Conflict, current));
            }
            let changes = ctx.changes(&current, patch)?;
            hold_open(c, &log_months(&current, &changes))?;
            crate::fieldwork::logs::hold_attribution(c, &current, &changes)?;
            let after = store::update(c, *id, &changes)?;
            crate::fieldwork::logs::audit_update(c, caller, &current, &after)?;
            Ok((ItemStatus::Updated, after))
        });
        results.push(match outcome {
            Ok((status, log)) => ItemResult {
                index: *index,
                id: Some(id.0),
                status,
                problem: None,
                current: Some(view_json(&log)),
            },
            Err(e) => {
                let mut r = ItemResult::rejected(*index, Some(id.0), &e);
                // An archived log comes back with its state, as a conflict would.
                if e.code() == ErrorCode::LogArchived {
                    r.current = stored.as_ref().map(view_json);
                }
                r
            }
        });
    }
}

/// Attendance: each on its own; the (training, member) pair is unique, and a batch naming it
/// twice gets the second refused.
fn push_attendance(
    conn: &mut PgConnection,
    caller: &Caller,
    items: &[(usize, PushItem)],
    results: &mut Vec<ItemResult>,
) {
    let mut recorded: HashSet<(TrainingId, MemberId)> = HashSet::new();
    for (index, item) in items {
        let PushItem::UpsertAttendance {
            training_id,
            input,
            base_version,
        } = item
        else {
            continue;
        };
        let outcome = conn.transaction::<_, AppError, _>(|c| {
            let training = trainings::get(c, &caller.scope(), *training_id)?
                .ok_or_else(|| AppError::not_found("training"))?;
            hold_attendance(c, &training)?;
            let done = record_attendance(c, caller, &training, input, *base_version)?;
            if let Ok((row, _)) = &done {
                if !recorded.insert((row.fields.training_id, row.fields.member_id)) {
                    return Err(duplicate_attendance("data.member_id", row.fields.member_id));
                }
            }
            Ok(done)
        });
        results.push(match outcome {
            Ok(Ok((row, new))) => ItemResult {
                index: *index,
                id: Some(row.fields.id),
                status: if new {
                    ItemStatus::Created
                } else {
                    ItemStatus::Updated
                },
                problem: None,
                current: Some(view_json(&row)),
            },
            Ok(Err(current)) => ItemResult {
                index: *index,
                id: Some(current.fields.id),
                status: ItemStatus::Conflict,
                problem: None,
                current: Some(view_json(&current)),
            },
            Err(e) => ItemResult::rejected(*index, input.id, &e),
        });
    }
}

/// Inserts the checked logs in one transaction, holding their months open and their
/// memberships; the rows inserted go to `inserted`, those refused (a locked month, a changed
/// membership) to `refused`. When the batch fails as a whole, each log is tried alone.
fn insert_batch(
    conn: &mut PgConnection,
    fresh: &[(usize, NewLog)],
    inserted: &mut HashMap<LogId, AssistanceLog>,
    refused: &mut Vec<(usize, LogId, AppError)>,
) -> AppResult<()> {
    let key = |n: &NewLog| month_key(&n.fields.commune_code, n.fields.occurred_at);
    if fresh.is_empty() {
        return Ok(());
    }
    let batch = conn.transaction::<_, AppError, _>(|c| {
        let keys: Vec<_> = fresh.iter().map(|(_, n)| key(n)).collect();
        let locked = db::months::hold_shared(c, &keys)?;
        let uses: Vec<_> = fresh.iter().map(|(_, n)| stint_use(n)).collect();
        let moved: HashSet<usize> = crate::fieldwork::hold_stints(c, &uses)?
            .into_iter()
            .collect();
        let mut out = Vec::new();
        let mut rows = Vec::with_capacity(fresh.len());
        for (position, (index, row)) in fresh.iter().enumerate() {
            if locked.contains(&key(row)) {
                let month = crate::reports::vn_month(row.fields.occurred_at);
                out.push((
                    *index,
                    row.id,
                    crate::reports::workflow::month_locked_error(month),
                ));
            } else if moved.contains(&position) {
                out.push((
                    *index,
                    row.id,
                    crate::fieldwork::membership_changed(row.fields.member_id),
                ));
            } else {
                rows.push(row.clone());
            }
        }
        let logs = store::insert_new(c, &rows)?;
        Ok((logs, out))
    });
    match batch {
        Ok((logs, out)) => {
            refused.extend(out);
            inserted.extend(logs.into_iter().map(|l| (l.id, l)));
            Ok(())
        }
        Err(AppError::Unavailable(e)) => Err(AppError::Unavailable(e)),
        Err(_) => {
            for (index, row) in fresh {
                let one = conn.transaction::<_, AppError, _>(|c| {
                    hold_open(c, &[key(row)])?;
                    let (member, day) = stint_use(row);
                    crate::fieldwork::hold_stint(c, member, day)?;
                    Ok(store::insert_new(c, std::slice::from_ref(row))?)
                });
                match one {
                    Ok(logs) => inserted.extend(logs.into_iter().map(|l| (l.id, l))),
                    Err(e) => refused.push((*index, row.id, e)),
                }
            }
            Ok(())
        }
    }
}

/// The membership a new log is attributed to and the day it counts on.
fn stint_use(row: &NewLog) -> (MemberId, chrono::NaiveDate) {
    (
        row.fields.member_id,
        crate::fieldwork::vn_day(row.fields.occurred_at),
    )
}

/// A record as the phone is shown it: its view (`crate::views`).
fn view_json<T: Served>(row: &T) -> serde_json::Value {
    serde_json::to_value(T::View::from(row)).unwrap_or_default()
}

/// What a caller may see, as a cursor remembers it: a cursor given for another role or scope
/// (the account moved with its member, changed team or role) starts the feed over, so records
/// the caller newly sees are sent even though they changed before the cursor.
fn scope_key(caller: &Caller) -> String {
    let scope = match caller.scope() {
        Scope::Country => "vn".to_string(),
        Scope::Province(p) => format!("p{p}"),
        Scope::Commune(c) => format!("c{c}"),
        Scope::Team { team_id, .. } => format!("t{team_id}"),
    };
    format!("{}.{scope}", caller.role.as_str())
}

pub fn encode_cursor(p: Position, scope: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{}:{}:{scope}", p.xid, p.seq))
}

/// The position of a cursor, and the scope it was given for (none in older cursors).
pub fn decode_cursor(cursor: &str) -> AppResult<(Position, Option<String>)> {
    let bad = || AppError::BadRequest {
        code: ErrorCode::InvalidCursor,
        detail: "the cursor is not one this server gave".into(),
    };
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?)
        .map_err(|_| bad())?;
    let mut parts = text.split(':');
    if parts.next() != Some("v1") {
        return Err(bad());
    }
    let xid = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let seq = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    // `role.scope` (see `scope_key`).
    let scope = match parts.next() {
        Some(k)
            if k.split_once('.')
                .is_some_and(|(r, s)| !r.is_empty() && !s.is_empty()) =>
        {
            Some(k.to_string())
        }
        Some(_) => return Err(bad()),
        None => None,
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok((Position { xid, seq }, scope))
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Archived {
    #[schema(value_type = Vec<i64>)]
    pub villages: Vec<VillageId>,
    #[schema(value_type = Vec<i64>)]
    pub teams: Vec<TeamId>,
    #[schema(value_type = Vec<i64>)]
    pub members: Vec<MemberId>,
    #[schema(value_type = Vec<Uuid>)]
    pub assistance_logs: Vec<LogId>,
    #[schema(value_type = Vec<Uuid>)]
    pub trainings: Vec<TrainingId>,
}

/// One page of changes. Apply them in any order; then pull again with `cursor` while
/// `has_more` is true.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct PullPage {
    /// Opaque; send it back to get what changed after this page.
    pub cursor: String,
    /// True when the feed starts over because the cursor was given for another role or scope
    /// (the account moved team or commune, or changed role): drop every record held from
    /// earlier pulls and keep what this page and the next ones send. Logs pushed but not yet
    /// acknowledged stay queued on the phone.
    pub reset: bool,
    pub has_more: bool,
    pub villages: Vec<VillageView>,
    pub teams: Vec<TeamView>,
    pub members: Vec<MemberView>,
    pub categories: Vec<CategoryView>,
    pub assistance_logs: Vec<LogView>,
    pub trainings: Vec<TrainingView>,
    pub attendance: Vec<AttendanceView>,
    /// The indicator catalogue (a retired indicator comes with `retired_at`: hide it).
    pub indicators: Vec<IndicatorView>,
    /// Targets of the commune, of the team's village and of the team itself.
    pub indicator_targets: Vec<TargetView>,
    /// The commune's entered indicator values and its (and its villages') denominators, so the
    /// phone can show "412 of 640 adults, goal 80%" offline.
    pub indicator_values: Vec<IndicatorValueView>,
    pub denominators: Vec<DenominatorView>,
    /// Records archived since the cursor: remove them from the phone.
    pub archived: Archived,
}

enum Change {
    Village(Village),
    Team(Team),
    Member(Member),
    Category(Category),
    Log(AssistanceLog),
    Training(Training),
    Attendance(Attendance),
    Indicator(Indicator),
    Target(Target),
    Value(IndicatorValue),
    Denominator(Denominator),
}

impl PullPage {
    /// Puts a change where the phone reads it: an archived record among `archived`, any
    /// other in its list.
    fn push(&mut self, change: Change) {
        match change {
            Change::Village(v) if v.archived_at.is_some() => self.archived.villages.push(v.id),
            Change::Village(v) => self.villages.push(v.into()),
            Change::Team(t) if t.archived_at.is_some() => self.archived.teams.push(t.id),
            Change::Team(t) => self.teams.push(t.into()),
            Change::Member(m) if m.archived_at.is_some() => self.archived.members.push(m.id),
            Change::Member(m) => self.members.push(m.into()),
            Change::Category(k) => self.categories.push(k.into()),
            Change::Log(l) if l.archived_at.is_some() => self.archived.assistance_logs.push(l.id),
            Change::Log(l) => self.assistance_logs.push(l.into()),
            Change::Training(t) if t.archived_at.is_some() => self.archived.trainings.push(t.id),
            Change::Training(t) => self.trainings.push(t.into()),
            Change::Attendance(a) => self.attendance.push(a.into()),
            Change::Indicator(i) => self.indicators.push(i.into()),
            Change::Target(t) => self.indicator_targets.push(t.into()),
            Change::Value(v) => self.indicator_values.push(v.into()),
            Change::Denominator(d) => self.denominators.push(d.into()),
        }
    }
}

/// The changes read from every feed, each at its position; `full` when a feed gave as many
/// rows as a page holds (it may have more).
struct Changes {
    list: Vec<(Position, Change)>,
    full: bool,
    limit: i64,
}

impl Changes {
    fn add<T>(&mut self, rows: Vec<(T, i64, i64)>, change: fn(T) -> Change) {
        self.full |= rows.len() as i64 >= self.limit;
        self.list.extend(
            rows.into_iter()
                .map(|(row, xid, seq)| (Position { xid, seq }, change(row))),
        );
    }
}

/// Every feed's changes in the window, for the caller's scope.
fn read_changes(c: &mut PgConnection, caller: &Caller, w: &Window) -> AppResult<Changes> {
    let scope = caller.scope();
    let mut changes = Changes {
        list: Vec::new(),
        full: false,
        limit: w.limit,
    };
    changes.add(feed::villages(c, &scope, w)?, Change::Village);
    changes.add(feed::teams(c, &scope, w)?, Change::Team);
    changes.add(feed::members(c, &scope, w)?, Change::Member);
    changes.add(feed::categories(c, w)?, Change::Category);
    changes.add(feed::logs(c, &log_scope(caller), w)?, Change::Log);
    changes.add(feed::trainings(c, &scope, w)?, Change::Training);
    changes.add(feed::attendance(c, &scope, w)?, Change::Attendance);
    changes.add(indicator_rows::feed_indicators(c, w)?, Change::Indicator);
    changes.add(indicator_rows::feed_targets(c, &scope, w)?, Change::Target);
    changes.add(indicator_rows::feed_values(c, &scope, w)?, Change::Value);
    changes.add(
        indicator_rows::feed_denominators(c, &scope, w)?,
        Change::Denominator,
    );
    Ok(changes)
}

/// The first `limit` changes in order, with the cursor after the last of them.
fn page_of(mut changes: Changes, from: Position, reset: bool, key: &str) -> PullPage {
    let limit = changes.limit;
    changes.list.sort_by_key(|(p, _)| *p);
    let has_more = changes.full || changes.list.len() as i64 > limit;
    changes.list.truncate(usize::try_from(limit).unwrap_or(0));
    let last = changes.list.last().map(|(p, _)| *p).unwrap_or(from);
    let mut page = PullPage {
        cursor: encode_cursor(last, key),
        has_more,
        reset,
        ..Default::default()
    };
    for (_, change) in changes.list {
        page.push(change);
    }
    page
}

pub async fn pull(
    state: &AppState,
    caller: &Caller,
    cursor: Option<String>,
    limit: i64,
) -> AppResult<PullPage> {
    let start = Position { xid: -1, seq: -1 };
    let key = scope_key(caller);
    let (from, reset) = match cursor.as_deref().map(decode_cursor).transpose()? {
        Some((_, Some(given))) if given != key => (start, true),
        Some((position, _)) => (position, false),
        None => (start, false),
    };
    let caller = caller.clone();
    db::run(&state.pool, move |conn| {
        conn.build_transaction()
            .read_only()
            .repeatable_read()
            .run(|c| {
                let w = Window {
                    from,
                    horizon: feed::horizon(c)?,
                    limit,
                };
                let changes = read_changes(c, &caller, &w)?;
                Ok(page_of(changes, from, reset, &key))
            })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(cursor: &str) -> bool {
        matches!(
            decode_cursor(cursor),
            Err(AppError::BadRequest {
                code: ErrorCode::InvalidCursor,
                ..
            })
        )
    }

    #[test]
    fn a_cursor_decodes_to_the_position_it_was_made_from() {
        for (xid, seq) in [(0, 0), (1, 2), (739_021, 15), (i64::MAX, i64::MAX)] {
            let p = Position { xid, seq };
            let cursor = encode_cursor(p, "team_member.t7");
            let scoped = (p, Some("team_member.t7".to_string()));
            assert_eq!(decode_cursor(&cursor).expect("own cursor"), scoped);
            // Opaque and URL-safe: no padding, nothing a query string must escape.
            assert!(cursor
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
            // Spaces around it, as a copy and paste adds them, are ignored.
            assert_eq!(
                decode_cursor(&format!(" {cursor}\n")).expect("own cursor"),
                scoped
            );
            // Cursors given before they carried a scope still decode.
            let old = URL_SAFE_NO_PAD.encode(format!("v1:{xid}:{seq}"));
            assert_eq!(decode_cursor(&old).expect("old cursor"), (p, None));
        }
    }

    #[test]
    fn a_cursor_this_server_did_not_make_is_refused() {
        let b64 = |text: &[u8]| URL_SAFE_NO_PAD.encode(text);
        let garbage = [
            String::new(),
            "   ".into(),
            "not a cursor!".into(),
            "djE6MToy==".into(), // standard base64 with padding
            b64(b"v2:1:2"),
            b64(b"v1"),
            b64(b"v1:1"),
            b64(b"v1:1:"),
            b64(b"v1::2"),
            b64(b"v1:1:2:3"),
            b64(b"v1:1:2:admin."),
            b64(b"v1:1:2:admin.vn:4"),
            b64(b"v1:x:2"),
            b64(b"v1:1:2.5"),
            b64(b"v1:99999999999999999999:1"),
            b64(b"V1:1:2"),
            b64(b"1:2"),
            b64(&[0xff, 0xfe, b':', b'1']),
        ];
        for cursor in &garbage {
            assert!(refused(cursor), "{cursor:?} was accepted");
        }
        // A valid cursor cut short no longer decodes to a position.
        let cursor = encode_cursor(Position { xid: 12, seq: 34 }, "admin.vn");
        assert!(refused(&cursor[..cursor.len() - 1]));
    }
}
