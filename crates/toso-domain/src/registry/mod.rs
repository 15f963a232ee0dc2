//! The register that commune officers keep: villages, teams and members. Every write checks
//! the caller's scope and role, runs in one transaction and leaves an audit record.

pub mod members;
pub mod teams;
pub mod villages;

use crate::db::coalesce::ByIds;
use diesel::PgConnection;

use crate::access::{Caller, Role, Scope};
use crate::db::{self, audit, units};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ids::{self, TeamId, VillageId};
use crate::vocab::AuditAction;

pub use crate::vocab::{Affiliation, Sex, TeamRole, TeamStatus, VillageKind};

pub fn require_officer(caller: &Caller) -> AppResult<()> {
    caller.require_officer("only officers change this part of the register")
}

/// The commune a new record goes in: it must exist and lie in the caller's scope.
pub fn commune_in_scope(
    conn: &mut PgConnection,
    scope: &Scope,
    code: &str,
) -> AppResult<units::UnitRow> {
    let unit = units::get(conn, code)?
        .filter(|u| u.fields.level == "commune" && u.valid_to.is_none())
        .ok_or_else(|| {
            AppError::field(
                "commune_code",
                "unknown_unit",
                format!("no commune has the code {code:?}"),
            )
        })?;
    if !scope.contains(&unit.fields.code, &unit.fields.province_code) {
        return Err(AppError::Forbidden {
            code: ErrorCode::OutsideScope,
            detail: format!("commune {code} is outside your scope"),
        });
    }
    Ok(unit)
}

/// The commune to use when a request names none: the caller's own, for commune-level roles.
pub fn default_commune(caller: &Caller, given: Option<String>) -> AppResult<String> {
    match (given, caller.role) {
        (Some(code), _) => Ok(code),
        (None, Role::CommuneOfficer | Role::TeamLeader | Role::TeamMember) => caller
            .unit_code
            .clone()
            .ok_or_else(|| AppError::internal("commune role without unit")),
        (None, _) => Err(AppError::field(
            "commune_code",
            "required",
            "commune_code is required",
        )),
    }
}

/// 409 `parent_archived`: a live record cannot be created, revived or restored under it.
pub(crate) fn parent_archived(what: &str, id: impl std::fmt::Display) -> AppError {
    AppError::Conflict {
        code: ErrorCode::ParentArchived,
        detail: format!("{what} {id} is archived; restore it first"),
    }
}

/// Share-locks a village that a live team is put in or kept in (see
/// `db::villages::lock_shared`); 409 `parent_archived` when it is archived.
pub(crate) fn hold_live_village(
    conn: &mut PgConnection,
    id: VillageId,
) -> AppResult<crate::db::villages::Village> {
    let village = crate::db::villages::lock_shared(conn, id)?
        .ok_or_else(|| AppError::not_found("village"))?;
    if village.archived_at.is_some() {
        return Err(parent_archived("village", id));
    }
    Ok(village)
}

/// Share-locks the team that a live member is put in or kept in; 409 `parent_archived` when
/// it is archived.
pub(crate) fn hold_live_team(
    conn: &mut PgConnection,
    id: TeamId,
) -> AppResult<crate::db::teams::Team> {
    let team =
        crate::db::teams::lock_shared(conn, id)?.ok_or_else(|| AppError::not_found("team"))?;
    if team.archived_at.is_some() {
        return Err(parent_archived("team", id));
    }
    Ok(team)
}

pub fn check_version(what: &str, current: i32, expected: Option<i32>) -> AppResult<()> {
    match expected {
        Some(v) if v != current => Err(AppError::PreconditionFailed {
            code: ErrorCode::VersionMismatch,
            detail: format!("the {what} is at version {current}, not {v}; read it again"),
        }),
        _ => Ok(()),
    }
}

/// A record as the audit trail names it (its snapshots are the record's view): the register's
/// rows, field work, the indicators' catalogue and figures, the reporting settings.
pub(crate) trait Audited: crate::views::Served {
    const ENTITY: &'static str;
    /// The record's id as the trail shows it.
    fn entity_id(&self) -> String;
    /// The province and the commune the record belongs to (none for a national record).
    fn place(&self) -> (Option<&str>, Option<&str>);
}

/// A register record that can be listed, read, changed, archived and restored.
pub(crate) trait Archivable: Audited + Clone + Send + Sized + 'static {
    /// The record's id type (`crate::ids`).
    type Id: Copy + PartialEq + std::fmt::Display + Send + 'static;
    type Filter: Send + 'static;
    fn version(&self) -> i32;
    fn is_archived(&self) -> bool;
    /// A page of the records within `scope` that `filter` keeps, and their count.
    fn list(
        conn: &mut PgConnection,
        scope: &Scope,
        filter: &Self::Filter,
        page: crate::db::Page,
    ) -> diesel::QueryResult<(Vec<Self>, i64)>;
    /// Whether `scope` sees the record: the rule of the scoped query, for a record read by id
    /// without it.
    fn visible(&self, scope: &Scope) -> bool;
    /// This kind's reads by id, batched when they queue (`db::coalesce`).
    fn reads(state: &crate::state::AppState) -> &std::sync::Arc<ByIds<Self::Id, Self>>;
    /// Reads and locks the record within `scope`.
    fn lock(
        conn: &mut PgConnection,
        scope: &Scope,
        id: Self::Id,
    ) -> diesel::QueryResult<Option<Self>>;
    fn store_archived(
        conn: &mut PgConnection,
        id: Self::Id,
        archived: bool,
    ) -> diesel::QueryResult<Self>;
}

/// Creates a record in one transaction: `insert` checks and stores it, then the audit record.
pub(crate) async fn create<T: Archivable>(
    state: &crate::state::AppState,
    caller: &Caller,
    insert: impl FnOnce(&mut PgConnection, &Caller) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    crate::db::transact(&state.pool, caller, move |c, caller| {
        let created = insert(c, caller)?;
        audit(c, caller, AuditAction::Create, None, &created)?;
        Ok(created)
    })
    .await
}

/// A page of the records in the caller's scope.
pub(crate) async fn list<T: Archivable>(
    state: &crate::state::AppState,
    caller: &Caller,
    filter: T::Filter,
    page: crate::db::Page,
) -> AppResult<(Vec<T>, i64)> {
    crate::db::read_in_scope(&state.reads, caller, move |c, scope| {
        Ok(T::list(c, scope, &filter, page)?)
    })
    .await
}

/// A record in the caller's scope (404 outside it).
pub(crate) async fn get<T: Archivable>(
    state: &crate::state::AppState,
    caller: &Caller,
    id: T::Id,
) -> AppResult<T> {
    let scope = caller.scope();
    T::reads(state)
        .get(&state.pool, id)
        .await?
        .filter(|record| record.visible(&scope))
        .ok_or_else(|| AppError::not_found(T::ENTITY))
}

/// Who may change a record of the register, and what archiving or restoring it must respect.
pub(crate) trait Rules: Archivable {
    /// 403 unless the caller may change `record`: officers, unless the record says otherwise.
    fn allowed(caller: &Caller, _record: &Self) -> AppResult<()> {
        require_officer(caller)
    }
    /// 409 when archiving would strand live dependents or restoring would put the record
    /// under an archived parent.
    fn check_archive(conn: &mut PgConnection, record: &Self, archive: bool) -> AppResult<()>;
}

/// The record about to change: locked within the caller's scope (404 outside it), `allowed`
/// decides the role (403), the version must match (412).
fn lock_for_change<T: Rules>(
    c: &mut PgConnection,
    caller: &Caller,
    id: T::Id,
    expected: Option<i32>,
) -> AppResult<T> {
    let before = T::lock(c, &caller.scope(), id)?.ok_or_else(|| AppError::not_found(T::ENTITY))?;
    T::allowed(caller, &before)?;
    check_version(T::ENTITY, before.version(), expected)?;
    Ok(before)
}

/// Updates a record in one transaction: locked as `lock_for_change` says, `change` checks
/// and stores the change, then the audit record.
pub(crate) async fn update<T: Rules>(
    state: &crate::state::AppState,
    caller: &Caller,
    id: T::Id,
    expected: Option<i32>,
    change: impl FnOnce(&mut PgConnection, &Caller, &T) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    crate::db::transact(&state.pool, caller, move |c, caller| {
        let before = lock_for_change(c, caller, id, expected)?;
        let after = change(c, caller, &before)?;
        audit(c, caller, AuditAction::Update, Some(&before), &after)?;
        Ok(after)
    })
    .await
}

/// Archives (`archive = true`) or restores a record in one transaction: locked as
/// `lock_for_change` says, `Rules::check_archive` refuses what would strand live dependents or
/// restore under an archived parent (409); then the audit record.
pub(crate) async fn set_archived<T: Rules>(
    state: &crate::state::AppState,
    caller: &Caller,
    id: T::Id,
    archive: bool,
    expected: Option<i32>,
) -> AppResult<T> {
    crate::db::transact(&state.pool, caller, move |c, caller| {
        let before: T = lock_for_change(c, caller, id, expected)?;
        if archive == before.is_archived() {
            return Ok(before);
        }
        T::check_archive(c, &before, archive)?;
        let after = T::store_archived(c, id, archive)?;
        audit(
            c,
            caller,
            AuditAction::archiving(archive),
            Some(&before),
            &after,
        )?;
        Ok(after)
    })
    .await
}

/// The register's reads and archiving of one record type as the web layer calls them
/// (`villages::get`, `teams::set_archived` …): this module's shared pipeline, typed to the
/// record. Its own rules are its `Rules` impl.
macro_rules! record_pipeline {
    ($row:ty, $id:ty, $filter:ty) => {
        /// A page of the records in the caller's scope.
        pub async fn list(
            state: &crate::state::AppState,
            caller: &crate::access::Caller,
            filter: $filter,
            page: crate::db::Page,
        ) -> crate::error::AppResult<(Vec<$row>, i64)> {
            super::list(state, caller, filter, page).await
        }

        /// One record in the caller's scope (404 outside it).
        pub async fn get(
            state: &crate::state::AppState,
            caller: &crate::access::Caller,
            id: $id,
        ) -> crate::error::AppResult<$row> {
            super::get(state, caller, id).await
        }

        /// Archives (`archive = true`) or restores the record, as `Rules::check_archive` allows.
        pub async fn set_archived(
            state: &crate::state::AppState,
            caller: &crate::access::Caller,
            id: $id,
            archive: bool,
            expected: Option<i32>,
        ) -> crate::error::AppResult<$row> {
            super::set_archived(state, caller, id, archive, expected).await
        }
    };
}
pub(crate) use record_pipeline;

/// Implements `Audited` for a record with an `id`, a `province_code` and a `commune_code` (the
/// last two in its part `$part`, with `in $part`).
macro_rules! audited_record {
    ($ty:ty, $entity:literal $(in $part:ident)?) => {
        impl $crate::registry::Audited for $ty {
            const ENTITY: &'static str = $entity;
            fn entity_id(&self) -> String {
                self.id.to_string()
            }
            fn place(&self) -> (Option<&str>, Option<&str>) {
                (
                    Some(&self$(.$part)?.province_code),
                    Some(&self$(.$part)?.commune_code),
                )
            }
        }
    };
}
pub(crate) use audited_record;

/// Implements `Audited` and `Archivable` for a register record stored by `db::$module`.
macro_rules! register_record {
    ($($ty:ty, $id:ty, $module:ident, $entity:literal $(in $part:ident)?, $filter:ty,
        $reads:ident;)+) => {$(
        audited_record!($ty, $entity $(in $part)?);

        impl Archivable for $ty {
            type Id = $id;
            type Filter = $filter;
            fn version(&self) -> i32 {
                self.version
            }
            fn is_archived(&self) -> bool {
                self.archived_at.is_some()
            }
            fn list(
                conn: &mut PgConnection,
                scope: &Scope,
                filter: &$filter,
                page: crate::db::Page,
            ) -> diesel::QueryResult<(Vec<Self>, i64)> {
                crate::db::$module::list(conn, scope, filter, page)
            }
            fn visible(&self, scope: &Scope) -> bool {
                crate::db::$module::visible(scope, self)
            }
            fn reads(state: &crate::state::AppState) -> &std::sync::Arc<ByIds<$id, Self>> {
                &state.$reads
            }
            fn lock(
                conn: &mut PgConnection,
                scope: &Scope,
                id: $id,
            ) -> diesel::QueryResult<Option<Self>> {
                crate::db::$module::lock(conn, scope, id)
            }
            fn store_archived(
                conn: &mut PgConnection,
                id: $id,
                archived: bool,
            ) -> diesel::QueryResult<Self> {
                crate::db::$module::set_archived(conn, id, archived)
            }
        }
    )+};
}
register_record! {
    db::villages::Village, ids::VillageId, villages, "village" in fields,
        db::villages::VillageFilter, village_reads;
    db::teams::Team, ids::TeamId, teams, "team" in fields, db::teams::TeamFilter, team_reads;
    db::members::Member, ids::MemberId, members, "member" in fields,
        db::members::MemberFilter, member_reads;
}

/// Writes the audit record of a change to `after` (or of a creation when `before` is `None`).
pub(crate) fn audit<T: Audited>(
    conn: &mut PgConnection,
    caller: &Caller,
    action: AuditAction,
    before: Option<&T>,
    after: &T,
) -> AppResult<()> {
    let (before, after_view) = (before.map(T::View::from), T::View::from(after));
    let (province_code, commune_code) = after.place();
    audit::record(
        conn,
        caller,
        audit::Change {
            action,
            entity: T::ENTITY,
            entity_id: after.entity_id(),
            province_code,
            commune_code,
            before: before.as_ref(),
            after: Some(&after_view),
        },
    )?;
    Ok(())
}

/// A name as stored (NFC already, trimmed of invisible characters) and folded for search;
/// 422 when nothing visible is left.
pub(crate) fn fold_name(field: &str, name: &str) -> AppResult<(String, String)> {
    let trimmed = crate::text::trim_invisible(name);
    if trimmed.is_empty() {
        return Err(AppError::field(
            field,
            "required",
            format!("{field} must not be empty"),
        ));
    }
    Ok((trimmed.to_string(), crate::text::fold(trimmed)))
}

/// A new name of a patch, as stored and folded (both none when the patch keeps the name).
pub(crate) fn fold_new_name(
    field: &str,
    name: Option<&str>,
) -> AppResult<(Option<String>, Option<String>)> {
    Ok(name.map(|n| fold_name(field, n)).transpose()?.unzip())
}

/// The audit trail of the caller's scope, newest first (officers).
pub async fn trail(
    state: &crate::state::AppState,
    caller: &Caller,
    filter: crate::db::audit::AuditFilter,
    page: crate::db::Page,
) -> AppResult<(Vec<crate::db::audit::AuditEntry>, i64)> {
    require_officer(caller)?;
    crate::db::read_in_scope(&state.reads, caller, move |c, scope| {
        Ok(crate::db::audit::list(c, scope, &filter, page)?)
    })
    .await
}
