//! The routes every versioned record shares (villages, teams, members, assistance logs,
//! trainings): read one, archive it (soft delete) and restore it. Each answers the record's
//! view (`crate::views`) with its `ETag`. What differs per resource is the domain module, which
//! already brings scope (404 outside it), role (403), `If-Match` (412), the resource's own
//! conflicts (409) and the audit record; the 401/403/404/412 problems of the document come
//! from `ErrorResponses`.
//!
//! ```text
//! record_routes! {
//!     domain = villages, view = VillageView, id = VillageId as i64, tag = "villages",
//!     path = "/api/v1/villages/{id}", restore_path = "/api/v1/villages/{id}/restore",
//!     get = ("getVillage", ["One village; 404 when missing or outside the caller's scope."]),
//!     archive = ("archiveVillage", ["Archive a village (soft delete)."], "live teams depend on it"),
//!     restore = ("restoreVillage", ["Restore an archived village."]),
//! }
//! ```
//! `id = VillageId as i64`: the path takes a `VillageId`, the document shows the `i64` it is
//! (`crate::ids`); `id = Uuid` when the two are the same type.
//! The optional third item of `archive` / `restore` documents their 409. An optional last
//! line `update = (patch, "updateVillage", VillagePatch, ["…"], "409 …")` (or
//! `replace = (put, …)`) adds the handler of that name, which calls the domain function of
//! that name with the checked body and the `If-Match` version. The calling module imports
//! `actix_web::{get, delete, post}` and `patch` / `put` (utoipa knows a route by those names).

/// Expands to the handlers `get`, `archive`, `restore` and optionally `update` / `replace` of a
/// record (see the module).
macro_rules! record_routes {
    (domain = $domain:ident, view = $view:ident, id = $id:ident as $id_doc:ident, $($rest:tt)+) => {
        $crate::http::record::record_routes! { @routes $domain, $view, $id, $id_doc, $($rest)+ }
    };
    (domain = $domain:ident, view = $view:ident, id = $id:ident, $($rest:tt)+) => {
        $crate::http::record::record_routes! { @routes $domain, $view, $id, $id, $($rest)+ }
    };
    (
        @routes $domain:ident, $view:ident, $id:ident, $id_doc:ident, tag = $tag:tt,
        path = $path:tt, restore_path = $restore_path:tt,
        get = ($get_op:tt, [$($get_doc:tt),+ $(,)?]),
        archive = ($archive_op:tt, [$($archive_doc:tt),+ $(,)?] $(, $archive_409:tt)?),
        restore = ($restore_op:tt, [$($restore_doc:tt),+ $(,)?] $(, $restore_409:tt)?)
        $(, $change:ident = ($change_method:ident, $change_op:tt, $change_body:ident,
            [$($change_doc:tt),+ $(,)?] $(, $change_409:tt)?))? $(,)?
    ) => {
        $(#[doc = $get_doc])+
        #[utoipa::path(
            operation_id = $get_op, tag = $tag, security(("bearer" = [])),
            params(("id" = $id_doc, Path)),
            responses((status = 200, body = $view, headers(("ETag" = String))))
        )]
        #[get($path)]
        pub async fn get(
            state: actix_web::web::Data<$crate::state::AppState>,
            auth: $crate::http::extract::Auth,
            id: actix_web::web::Path<$id>,
        ) -> $crate::http::Reply {
            let record = $domain::get(&state, &auth.0, id.into_inner()).await?;
            Ok($crate::http::extract::served(actix_web::http::StatusCode::OK, record.version, record))
        }

        $crate::http::record::record_routes! { @set_archived
            archive, delete, $path, true, $archive_op, $tag, $id, $id_doc, $view, $domain,
            [$($archive_doc),+] $(, $archive_409)?
        }
        $crate::http::record::record_routes! { @set_archived
            restore, post, $restore_path, false, $restore_op, $tag, $id, $id_doc, $view, $domain,
            [$($restore_doc),+] $(, $restore_409)?
        }
        $($crate::http::record::record_routes! { @change
            $change, $change_method, $path, $change_op, $tag, $id, $id_doc, $view, $domain,
            $change_body, [$($change_doc),+] $(, $change_409)?
        })?
    };
    // Change the record (`update` by PATCH, `replace` by PUT): the domain function of that
    // name takes the checked body and the `If-Match` version.
    (@change $name:ident, $method:ident, $path:tt, $op:tt, $tag:tt, $id:ident, $id_doc:ident,
        $view:ident, $domain:ident, $body:ident, [$($doc:tt),+] $(, $conflict:tt)?
    ) => {
        $crate::http::record::record_routes! { @versioned
            $name, $method, $path, $op, $tag, $id, $id_doc, $view, $domain::$name,
            (body = $body), [$($doc),+] $(, $conflict)?
        }
    };
    // Archive (`true`) or restore (`false`): the domain's `set_archived`.
    (@set_archived $name:ident, $method:ident, $path:tt, $archive:literal, $op:tt, $tag:tt,
        $id:ident, $id_doc:ident, $view:ident, $domain:ident, [$($doc:tt),+] $(, $conflict:tt)?
    ) => {
        $crate::http::record::record_routes! { @versioned
            $name, $method, $path, $op, $tag, $id, $id_doc, $view, $domain::set_archived,
            (archived = $archive), [$($doc),+] $(, $conflict)?
        }
    };
    // A change under `If-Match`: `$call(state, caller, id, input, expected)`, the input being
    // the checked body (`body = Type`) or a value (`archived = true`).
    (@versioned $name:ident, $method:ident, $path:tt, $op:tt, $tag:tt, $id:ident,
        $id_doc:ident, $view:ident, $domain:ident::$call:ident,
        ($(body = $body:ident)? $(archived = $archived:literal)?), [$($doc:tt),+]
        $(, $conflict:tt)?
    ) => {
        $(#[doc = $doc])+
        #[utoipa::path(
            operation_id = $op, tag = $tag, security(("bearer" = [])),
            params(("id" = $id_doc, Path), $crate::http::extract::IfMatch),
            $(request_body = $body,)?
            responses(
                (status = 200, body = $view, headers(("ETag" = String))),
                $((status = 409, description = $conflict, body = $crate::http::error::Problem,
                    content_type = "application/problem+json"),)?
            )
        )]
        #[$method($path)]
        pub async fn $name(
            state: actix_web::web::Data<$crate::state::AppState>,
            auth: $crate::http::extract::Auth,
            id: actix_web::web::Path<$id>,
            $($crate::http::extract::ValidJson(input): $crate::http::extract::ValidJson<$body>,)?
            $crate::http::extract::IfMatch(expected): $crate::http::extract::IfMatch,
        ) -> $crate::http::Reply {
            $(let input = $archived;)?
            let record = $domain::$call(&state, &auth.0, id.into_inner(), input, expected).await?;
            Ok($crate::http::extract::served(actix_web::http::StatusCode::OK, record.version, record))
        }
    };
}

pub(crate) use record_routes;

/// Expands to the routes of a catalogue (assistance categories, indicators), whose entries are
/// found by their code: `list` (with its query, `include_retired`), `create` (201), `retire`
/// and `restore`. Each answers entries as `entry`, the served type, made `From` the domain's
/// answer. The domain brings `$list(state, include_retired)`, `create(state, caller, input)`
/// and `set_retired(state, caller, code, retired)`, which check the role (admin) and audit.
///
/// ```text
/// catalogue_routes! {
///     domain = categories, entry = CategoryView, tag = "categories",
///     list = ("listCategories", "/api/v1/categories", categories::list, CategoryQuery,
///         ["Assistance categories, in display order."], "Also list retired categories."),
///     create = ("createCategory", CategoryInput, ["Add a category (admin)."]),
///     retire = ("retireCategory", "/api/v1/categories/{code}/retire", ["Retire a category …"]),
///     restore = ("restoreCategory", "/api/v1/categories/{code}/restore", ["Bring … back."]),
/// }
/// ```
macro_rules! catalogue_routes {
    (
        domain = $domain:ident, entry = $entry:ident, tag = $tag:tt,
        list = ($list_op:tt, $path:tt, $list:path, $query:ident, [$($list_doc:tt),+ $(,)?],
            $retired_doc:tt),
        create = ($create_op:tt, $input:ident, [$($create_doc:tt),+ $(,)?]),
        retire = ($retire_op:tt, $retire_path:tt, [$($retire_doc:tt),+ $(,)?]),
        restore = ($restore_op:tt, $restore_path:tt, [$($restore_doc:tt),+ $(,)?]) $(,)?
    ) => {
        #[derive(serde::Deserialize, utoipa::IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct $query {
            #[doc = $retired_doc]
            pub include_retired: Option<bool>,
        }

        $(#[doc = $list_doc])+
        #[utoipa::path(
            operation_id = $list_op, tag = $tag, security(("bearer" = [])),
            params($query),
            responses((status = 200, body = Vec<$entry>))
        )]
        #[get($path)]
        pub async fn list(
            state: actix_web::web::Data<$crate::state::AppState>,
            _auth: $crate::http::extract::Auth,
            query: $crate::http::extract::Query<$query>,
        ) -> $crate::http::Reply {
            let items = $list(&state, query.include_retired.unwrap_or(false)).await?;
            Ok(actix_web::HttpResponse::Ok().json($crate::views::all(items)))
        }

        $(#[doc = $create_doc])+
        #[utoipa::path(
            operation_id = $create_op, tag = $tag, security(("bearer" = [])),
            request_body = $input,
            responses((status = 201, body = $entry))
        )]
        #[post($path)]
        pub async fn create(
            state: actix_web::web::Data<$crate::state::AppState>,
            auth: $crate::http::extract::Auth,
            body: $crate::http::extract::ValidJson<$input>,
        ) -> $crate::http::Reply {
            let created = $domain::create(&state, &auth.0, body.0).await?;
            Ok(actix_web::HttpResponse::Created().json(<$entry>::from(created)))
        }

        $crate::http::record::catalogue_routes! { @set_retired
            retire, true, $domain, $entry, $tag, $retire_op, $retire_path, [$($retire_doc),+]
        }
        $crate::http::record::catalogue_routes! { @set_retired
            restore, false, $domain, $entry, $tag, $restore_op, $restore_path, [$($restore_doc),+]
        }
    };
    (@set_retired $name:ident, $retired:literal, $domain:ident, $entry:ident, $tag:tt, $op:tt,
        $path:tt, [$($doc:tt),+]
    ) => {
        $(#[doc = $doc])+
        #[utoipa::path(
            operation_id = $op, tag = $tag, security(("bearer" = [])),
            params(("code" = String, Path)),
            responses((status = 200, body = $entry))
        )]
        #[post($path)]
        pub async fn $name(
            state: actix_web::web::Data<$crate::state::AppState>,
            auth: $crate::http::extract::Auth,
            code: actix_web::web::Path<String>,
        ) -> $crate::http::Reply {
            let entry = $domain::set_retired(&state, &auth.0, code.into_inner(), $retired).await?;
            Ok(actix_web::HttpResponse::Ok().json(<$entry>::from(entry)))
        }
    };
}

pub(crate) use catalogue_routes;

#[cfg(test)]
mod tests {
    use actix_web::test as web_test;
    use actix_web::web::{self, Path};
    use actix_web::{App, HttpResponse};

    use crate::ids::VillageId;

    /// The status and problem a path segment gets from a route taking `Path<i64>` and from one
    /// taking an id type: a bad id must be answered the same (404 `not_found`, same detail).
    #[actix_web::test]
    async fn a_bad_path_id_gets_the_problem_a_bare_i64_got() {
        let app = web_test::init_service(
            App::new()
                .app_data(web::PathConfig::default().error_handler(super::super::error::path_error))
                .route(
                    "/bare/{id}",
                    web::get().to(|id: Path<i64>| async move {
                        HttpResponse::Ok().body(id.into_inner().to_string())
                    }),
                )
                .route(
                    "/typed/{id}",
                    web::get().to(|id: Path<VillageId>| async move {
                        HttpResponse::Ok().body(id.into_inner().to_string())
                    }),
                ),
        )
        .await;
        for segment in ["abc", "1.5", "99999999999999999999", "%20", "-7", "42"] {
            let mut answers = Vec::new();
            for route in ["bare", "typed"] {
                let req = web_test::TestRequest::get()
                    .uri(&format!("/{route}/{segment}"))
                    .to_request();
                let res = web_test::call_service(&app, req).await;
                let status = res.status();
                let body = web_test::read_body(res).await;
                let body = match serde_json::from_slice::<serde_json::Value>(&body) {
                    Ok(problem) => (problem["code"].clone(), problem["detail"].clone()),
                    Err(_) => (
                        serde_json::Value::Null,
                        String::from_utf8_lossy(&body).into(),
                    ),
                };
                answers.push((status, body));
            }
            assert_eq!(answers[0], answers[1], "segment {segment:?}");
            if segment == "abc" {
                assert_eq!(answers[1].0, actix_web::http::StatusCode::NOT_FOUND);
                assert_eq!(answers[1].1 .0, "not_found");
            }
        }
    }

    /// Fields and path parameters of an id type are documented as the `i64` they are: the
    /// document names no id type (a field without `#[schema(value_type = i64)]` would add a
    /// `$ref` to a component named after it).
    #[test]
    fn the_document_names_no_id_type() {
        let doc = serde_json::to_string(&crate::http::openapi()).unwrap();
        for name in crate::ids::NAMES {
            assert!(
                !doc.contains(&format!("\"{name}\"")),
                "{name} is a component"
            );
            assert!(!doc.contains(&format!("/{name}\"")), "{name} is referenced");
        }
    }
}
