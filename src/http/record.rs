//! The routes every versioned record shares (villages, teams, members, assistance logs,
//! trainings): read one, archive it (soft delete) and restore it. Each answers the record with
//! its `ETag`. What differs per resource is the domain module, which already brings scope
//! (404 outside it), role (403), `If-Match` (412), the resource's own conflicts (409) and the
//! audit record; the 401/403/404/412 problems of the document come from `ErrorResponses`.
//!
//! ```ignore
//! record_routes! {
//!     domain = villages, record = Village, id = i64, tag = "villages",
//!     path = "/api/v1/villages/{id}", restore_path = "/api/v1/villages/{id}/restore",
//!     get = ("getVillage", ["One village; 404 when missing or outside the caller's scope."]),
//!     archive = ("archiveVillage", ["Archive a village (soft delete)."], "live teams depend on it"),
//!     restore = ("restoreVillage", ["Restore an archived village."]),
//! }
//! ```
//! The optional third item of `archive` / `restore` documents their 409. The calling module
//! imports `actix_web::{get, delete, post}` (utoipa knows a route by those names).

/// Expands to the handlers `get`, `archive` and `restore` of a record (see the module).
macro_rules! record_routes {
    (
        domain = $domain:ident, record = $record:ident, id = $id:ident, tag = $tag:tt,
        path = $path:tt, restore_path = $restore_path:tt,
        get = ($get_op:tt, [$($get_doc:tt),+ $(,)?]),
        archive = ($archive_op:tt, [$($archive_doc:tt),+ $(,)?] $(, $archive_409:tt)?),
        restore = ($restore_op:tt, [$($restore_doc:tt),+ $(,)?] $(, $restore_409:tt)?) $(,)?
    ) => {
        $(#[doc = $get_doc])+
        #[utoipa::path(
            operation_id = $get_op, tag = $tag, security(("bearer" = [])),
            params(("id" = $id, Path)),
            responses((status = 200, body = $record, headers(("ETag" = String))))
        )]
        #[get($path)]
        pub async fn get(
            state: actix_web::web::Data<$crate::state::AppState>,
            auth: $crate::http::extract::Auth,
            id: actix_web::web::Path<$id>,
        ) -> $crate::http::Reply {
            let record = $domain::get(&state, &auth.0, id.into_inner()).await?;
            $crate::http::record::answer(record.version, &record)
        }

        $crate::http::record::record_routes! { @set_archived
            archive, delete, $path, true, $archive_op, $tag, $id, $record, $domain,
            [$($archive_doc),+] $(, $archive_409)?
        }
        $crate::http::record::record_routes! { @set_archived
            restore, post, $restore_path, false, $restore_op, $tag, $id, $record, $domain,
            [$($restore_doc),+] $(, $restore_409)?
        }
    };
    // Archive (`true`) or restore (`false`).
    (@set_archived $name:ident, $method:ident, $path:tt, $archive:literal, $op:tt, $tag:tt,
        $id:ident, $record:ident, $domain:ident, [$($doc:tt),+] $(, $conflict:tt)?
    ) => {
        $(#[doc = $doc])+
        #[utoipa::path(
            operation_id = $op, tag = $tag, security(("bearer" = [])),
            params(("id" = $id, Path), $crate::http::extract::IfMatch),
            responses(
                (status = 200, body = $record, headers(("ETag" = String))),
                $((status = 409, description = $conflict, body = $crate::http::error::Problem,
                    content_type = "application/problem+json"),)?
            )
        )]
        #[$method($path)]
        pub async fn $name(
            state: actix_web::web::Data<$crate::state::AppState>,
            auth: $crate::http::extract::Auth,
            id: actix_web::web::Path<$id>,
            $crate::http::extract::IfMatch(expected): $crate::http::extract::IfMatch,
        ) -> $crate::http::Reply {
            let id = id.into_inner();
            let record = $domain::set_archived(&state, &auth.0, id, $archive, expected).await?;
            $crate::http::record::answer(record.version, &record)
        }
    };
}

pub(crate) use record_routes;

/// 200 with the record as it now stands and its `ETag`.
pub fn answer<T: serde::Serialize>(version: i32, record: &T) -> super::Reply {
    Ok(super::extract::versioned(
        actix_web::http::StatusCode::OK,
        version,
        record,
    ))
}
