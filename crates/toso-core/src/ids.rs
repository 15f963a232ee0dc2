//! The ids of the register's records, one type each, so that a team id cannot be passed where
//! a village id is wanted. A neutral module (vocabulary layer): `db`, the domain modules and
//! `http` all use it, and it uses none of them.
//!
//! Each id is its inner type (`i64`, or `Uuid` for the ids made on phones) on the inside and
//! everywhere outside: the same JSON (serde `transparent`), the same diesel type (`BigInt` or
//! `Uuid`, `ToSql`/`FromSql`, so rows, inserts, filters and binds take it as they took the
//! bare value), a path segment (`Path<VillageId>` fails on a bad segment exactly as
//! `Path<i64>` did) and the same schema in the OpenAPI document. The document names no id
//! type: a field of one says `#[schema(value_type = i64)]` (or `Option<i64>`, `Uuid` …) and a
//! path parameter is documented as `("id" = i64, Path)`, so the served document is the one
//! the bare values gave (a test of `http::record` fails on a schema named after an id type).
//! A small macro rather than a crate such as `diesel-derive-newtype`: it is 60 lines beside
//! `text_enum!`, and it also writes the `utoipa` side, which that crate does not.

/// Declares id types over `$inner`, stored as diesel's `$sql`, documented by `$schema()`
/// (see the module): `Copy` newtypes, compared, hashed and ordered as their inner value.
macro_rules! id_type {
    ($inner:ty as $sql:ident, schema = $schema:expr; $($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize, diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::$sql)]
        pub struct $name(pub $inner);

        impl diesel::serialize::ToSql<diesel::sql_types::$sql, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <$inner as diesel::serialize::ToSql<diesel::sql_types::$sql, diesel::pg::Pg>>::to_sql(
                    &self.0, out,
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::$sql, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                <$inner as diesel::deserialize::FromSql<diesel::sql_types::$sql, diesel::pg::Pg>>::from_sql(
                    bytes,
                )
                .map($name)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for $inner {
            fn from(id: $name) -> $inner {
                id.0
            }
        }

        // What the inner type documents. Fields and path parameters still name the inner
        // type (see the module), so this is only what `inline(...)` would give.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $schema()
            }
        }

        impl utoipa::ToSchema for $name {}
    )+};
}

/// `{"type": "string", "format": "uuid"}`, what utoipa writes for a `Uuid` field.
fn uuid_schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
        .into()
}

id_type!(
    i64 as BigInt, schema = <i64 as utoipa::PartialSchema>::schema;
    /// A village (`villages.id`).
    VillageId,
    /// A team (`teams.id`).
    TeamId,
    /// A membership: one stint of a person in a team (`members.id`; the person across moves
    /// is `person_id`).
    MemberId,
);

id_type!(
    uuid::Uuid as Uuid, schema = uuid_schema;
    /// A person of the register across memberships (`members.person_id`): a move between
    /// teams ends one membership and starts another with the same person. Not an account
    /// (`users.id`), which a membership may link to as `user_id`.
    PersonId,
    /// A training or class (`trainings.id`, made on the phone or by the client).
    TrainingId,
    /// An assistance log (`assistance_logs.id`, made on the phone).
    LogId,
    /// An account (`users.id`): the caller, an audit actor, a record's `created_by`, a
    /// membership's `user_id`. Not a person of the register (`PersonId`).
    UserId,
    /// A login session (`auth_sessions.id`, the token's `sid`): what logout and refresh
    /// revoke. Not an account (`UserId`).
    SessionId,
);

/// The names of the id types, for the test that the OpenAPI document names none of them.
pub const NAMES: &[&str] = &[
    "VillageId",
    "TeamId",
    "MemberId",
    "PersonId",
    "TrainingId",
    "LogId",
    "UserId",
    "SessionId",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_a_bare_json_number() {
        let id = VillageId(42);
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(serde_json::from_str::<VillageId>("42").unwrap(), id);
        assert_eq!(
            serde_json::to_value(Some(id)).unwrap(),
            serde_json::json!(42)
        );
        assert!(serde_json::from_str::<VillageId>("\"42\"").is_err());
        assert!(serde_json::from_str::<VillageId>("4.2").is_err());
        assert_eq!(id.to_string(), "42");
        assert_eq!(i64::from(id), 42);
    }

    #[test]
    fn a_person_id_is_a_bare_uuid_string() {
        let uuid = uuid::Uuid::new_v4();
        let json = serde_json::to_string(&PersonId(uuid)).unwrap();
        assert_eq!(json, serde_json::to_string(&uuid).unwrap());
        assert_eq!(
            serde_json::from_str::<PersonId>(&json).unwrap(),
            PersonId(uuid)
        );
        assert!(serde_json::from_str::<PersonId>("\"not-a-uuid\"").is_err());
        assert_eq!(PersonId(uuid).to_string(), uuid.to_string());
    }

    #[test]
    fn an_id_is_documented_as_an_i64() {
        let doc = |s: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>| {
            serde_json::to_value(s).unwrap()
        };
        assert_eq!(
            doc(<VillageId as utoipa::PartialSchema>::schema()),
            doc(<i64 as utoipa::PartialSchema>::schema())
        );
        assert_eq!(
            doc(<PersonId as utoipa::PartialSchema>::schema()),
            serde_json::json!({"type": "string", "format": "uuid"})
        );
    }
}
