//! The audit trail: one row per create, update, archive or restore, written in the same
//! transaction as the change.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::schema::audit_log;
use super::Page;
use crate::access::{Caller, Scope};
use crate::ids::UserId;
use crate::vocab::AuditAction;

/// What an audit entry tells besides its action: who made the change, to which record, where,
/// and the record before and after (as served).
#[derive(Debug, Insertable, Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(Pg))]
pub struct AuditFields {
    pub actor_id: Option<UserId>,
    pub actor_username: String,
    pub entity: String,
    pub entity_id: String,
    pub province_code: Option<String>,
    pub commune_code: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// The import that made the change, if one did.
    pub import_id: Option<Uuid>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAuditEntry {
    pub action: AuditAction,
    #[diesel(embed)]
    pub fields: AuditFields,
}

impl NewAuditEntry {
    /// The entry of `change`, made by the actor (`None` for the operator's command line) or by
    /// the import `import_id`.
    pub fn new<T: Serialize>(
        actor_id: Option<UserId>,
        actor_username: &str,
        change: Change<'_, T>,
        import_id: Option<Uuid>,
    ) -> Self {
        let to_json = |v: Option<&T>| v.and_then(|v| serde_json::to_value(v).ok());
        NewAuditEntry {
            action: change.action,
            fields: AuditFields {
                actor_id,
                actor_username: actor_username.to_string(),
                entity: change.entity.to_string(),
                entity_id: change.entity_id,
                province_code: change.province_code.map(str::to_string),
                commune_code: change.commune_code.map(str::to_string),
                before: to_json(change.before),
                after: to_json(change.after),
                import_id,
            },
        }
    }
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(Pg))]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Read as text, so rows written by an older version still list.
    pub action: String,
    #[diesel(embed)]
    pub fields: AuditFields,
}

/// One change to record: what happened to which record, where, and the record before and after.
pub struct Change<'a, T> {
    pub action: AuditAction,
    pub entity: &'a str,
    pub entity_id: String,
    pub province_code: Option<&'a str>,
    pub commune_code: Option<&'a str>,
    pub before: Option<&'a T>,
    pub after: Option<&'a T>,
}

/// Records one change made by `actor`.
pub fn record<T: Serialize>(
    conn: &mut PgConnection,
    actor: &Caller,
    change: Change<'_, T>,
) -> QueryResult<()> {
    record_as(conn, Some(actor.user_id), &actor.username, change)
}

/// `record` for a change made without an account (the operator's command line: no actor id).
pub fn record_as<T: Serialize>(
    conn: &mut PgConnection,
    actor_id: Option<UserId>,
    actor_username: &str,
    change: Change<'_, T>,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values(NewAuditEntry::new(actor_id, actor_username, change, None))
        .execute(conn)
        .map(|_| ())
}

#[derive(Debug, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<UserId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub import_id: Option<Uuid>,
}

/// Records many changes at once (an import), in chunks under PostgreSQL's parameter limit.
pub fn record_many(conn: &mut PgConnection, entries: &[NewAuditEntry]) -> QueryResult<()> {
    for chunk in entries.chunks(6_000) {
        diesel::insert_into(audit_log::table)
            .values(chunk)
            .execute(conn)?;
    }
    Ok(())
}

fn filtered(scope: &Scope, f: &AuditFilter) -> audit_log::BoxedQuery<'static, Pg> {
    let mut q = audit_log::table.into_boxed();
    q = match scope {
        Scope::Country => q,
        Scope::Province(p) => q.filter(audit_log::province_code.eq(p.clone())),
        Scope::Commune(c) => q.filter(audit_log::commune_code.eq(c.clone())),
        // Team roles do not read the audit trail; the domain layer refuses them first.
        Scope::Team { .. } => q.filter(audit_log::id.lt(0)),
    };
    equal_filters!(q, audit_log, f, entity, entity_id, import_id, actor_id);
    if let Some(from) = f.from {
        q = q.filter(audit_log::at.ge(from));
    }
    if let Some(to) = f.to {
        q = q.filter(audit_log::at.lt(to));
    }
    q
}

/// Newest first.
pub fn list(
    conn: &mut PgConnection,
    scope: &Scope,
    filter: &AuditFilter,
    page: Page,
) -> QueryResult<(Vec<AuditEntry>, i64)> {
    super::page_of!(
        conn,
        filtered(scope, filter),
        AuditEntry,
        audit_log::id.desc(),
        page
    )
}
