//! The ids of the register's records, one type each, so that a team id cannot be passed where
//! a village id is wanted. A neutral module (vocabulary layer): `db`, the domain modules and
//! `http` all use it, and it uses none of them.
//!
//! Each id is an `i64` on the inside and everywhere outside: a JSON number (serde
//! `transparent`), a diesel `BigInt` (`ToSql`/`FromSql`, so rows, inserts, filters and binds
//! take it as they took the `i64`), a path segment (`Path<VillageId>` fails on a bad segment
//! exactly as `Path<i64>` did) and an `integer`/`int64` in the OpenAPI document. The document
//! names no id type: a field of one says `#[schema(value_type = i64)]` (or `Option<i64>`) and
//! a path parameter is documented as `("id" = i64, Path)`, so the served document is the one
//! the bare `i64` gave (a test of `http` fails on a schema named after an id type).

/// Declares an id type: a `Copy` newtype over `i64` (see the module).
macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize, diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        pub struct $name(pub i64);

        impl diesel::serialize::ToSql<diesel::sql_types::BigInt, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <i64 as diesel::serialize::ToSql<diesel::sql_types::BigInt, diesel::pg::Pg>>::to_sql(
                    &self.0, out,
                )
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::BigInt, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                <i64 as diesel::deserialize::FromSql<diesel::sql_types::BigInt, diesel::pg::Pg>>::from_sql(
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

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        // What `i64` documents: `{"type": "integer", "format": "int64"}`. Fields and path
        // parameters still name `i64` (see the module), so this is what `inline(...)` gives.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <i64 as utoipa::PartialSchema>::schema()
            }
        }

        impl utoipa::ToSchema for $name {}
    )+};
}

id_type!(
    /// A village (`villages.id`).
    VillageId,
    /// A team (`teams.id`).
    TeamId,
    /// A membership: one stint of a person in a team (`members.id`; the person across moves
    /// is `person_id`).
    MemberId,
);

/// The names of the id types, for the test that the OpenAPI document names none of them.
pub const NAMES: &[&str] = &["VillageId", "TeamId", "MemberId"];

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
    fn an_id_is_documented_as_an_i64() {
        let doc = |s: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>| {
            serde_json::to_value(s).unwrap()
        };
        assert_eq!(
            doc(<VillageId as utoipa::PartialSchema>::schema()),
            doc(<i64 as utoipa::PartialSchema>::schema())
        );
    }
}
