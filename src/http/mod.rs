//! The HTTP layer: routes, extractors, DTOs, error mapping and the OpenAPI document.

pub mod audit;
pub mod auth;
pub mod categories;
pub mod console;
pub mod discipline;
pub mod docs;
pub mod error;
pub mod extract;
pub mod health;
pub mod imports;
pub mod indicators;
pub mod logs;
pub mod me;
pub mod members;
pub mod middleware;
pub mod pagination;
pub mod record;
pub mod reports;
pub mod sync;
pub mod teams;
pub mod trainings;
pub mod units;
pub mod users;
pub mod villages;

use actix_web::dev::{ServiceFactory, ServiceRequest};
use actix_web::{web, App, HttpResponse};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{AppExt, UtoipaApp};

use crate::error::{AppError, ErrorCode};

/// What every handler answers: a response, or the error that becomes a problem+json.
pub type Reply = Result<HttpResponse, AppError>;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tổ Số API",
        description = "Backend for Vietnam's community digital-technology teams. Every error is \
                       an RFC 9457 problem (`application/problem+json`) with a stable `code`.",
        version = "1"
    ),
    components(schemas(error::Problem, crate::error::FieldError)),
    modifiers(&Security),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Login, token refresh, logout"),
        (name = "me", description = "The caller's own account"),
        (name = "users", description = "Accounts, managed by officers within their scope"),
        (name = "units", description = "Official administrative units"),
        (name = "villages", description = "Villages of a commune"),
        (name = "teams", description = "Community digital-technology teams"),
        (name = "members", description = "Team memberships"),
        (name = "audit", description = "Who changed what"),
        (name = "categories", description = "Kinds of help given to citizens"),
        (name = "assistance logs", description = "Citizens helped by team members"),
        (name = "trainings", description = "Trainings of members and classes for citizens"),
        (name = "sync", description = "Offline-safe mobile sync"),
        (name = "reports", description = "Monthly reports, their approval and exports"),
        (name = "indicators", description = "Programme indicators: catalogue, denominators, monthly values and targets"),
        (name = "imports", description = "Bulk import of registers from spreadsheets"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Adds the problem answers every operation can give, so that each route documents them.
/// Applied after the routes are collected (`document`).
struct ErrorResponses;

/// Problem answers of fixed descriptions by status, for a route's `responses(...)` type
/// (`error::NotAnOfficer`, `auth::SignInRefusals`).
pub(crate) fn problem_responses(
    answers: &[(u16, &str)],
) -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>> {
    answers
        .iter()
        .map(|(status, description)| (status.to_string(), problem_response(description).into()))
        .collect()
}

pub(crate) fn problem_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            error::PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

impl Modify for ErrorResponses {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        for (path, item) in api.paths.paths.iter_mut() {
            // The routes an account that must change its password may still call.
            let pending_ok = matches!(
                path.as_str(),
                "/api/v1/me" | "/api/v1/me/password" | "/api/v1/auth/logout"
            );
            let ops: [&mut Option<Operation>; 5] = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_body = op.request_body.is_some();
                let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let mut add = |status: &str, description: &str| {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| problem_response(description).into());
                };
                add("400", "malformed request");
                if secured {
                    add("401", "missing, malformed, expired or revoked access token");
                }
                if secured && !pending_ok {
                    add(
                        "403",
                        "forbidden; `password_change_required` until an account whose \
                         password someone else set changes it",
                    );
                }
                if has_body || has_params {
                    add("422", "invalid fields; see `errors`");
                }
                if path.contains('{') {
                    add("404", "missing, or outside the caller's scope");
                }
                if op.parameters.iter().flatten().any(|p| p.name == "If-Match") {
                    add("412", "the record changed since the ETag in `If-Match`");
                }
                if has_body {
                    add("408", "the body did not arrive within the body deadline");
                    add("413", "request body too large");
                }
                add("500", "unexpected error (logged with the request id)");
                add("503", "database unavailable or overloaded; retry");
            }
        }
    }
}

/// Registers every API route; the OpenAPI document is collected from the same registrations,
/// so a route cannot be served without being documented.
/// The app factories routes can be added to.
pub trait Routes:
    ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>
{
}
impl<T> Routes for T where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>
{
}

fn routes<T: Routes>(app: UtoipaApp<T>) -> UtoipaApp<T> {
    imports(reporting(field_work(register(accounts(app)))))
}

/// Health, login and sessions, the caller, accounts and activation.
fn accounts<T: Routes>(app: UtoipaApp<T>) -> UtoipaApp<T> {
    app.service(health::live)
        .service(health::ready)
        .service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(me::me)
        .service(me::change_password)
        .service(users::create)
        .service(users::list)
        .service(users::get)
        .service(users::update)
        .service(users::issue_activation)
        .service(users::activation_qr)
        .service(auth::activate)
}

/// The administrative units and the register: villages, teams, members, its audit trail.
fn register<T: Routes>(app: UtoipaApp<T>) -> UtoipaApp<T> {
    app.service(units::list)
        .service(units::get)
        .service(villages::list)
        .service(villages::create)
        .service(villages::get)
        .service(villages::update)
        .service(villages::archive)
        .service(villages::restore)
        .service(teams::list)
        .service(teams::create)
        .service(teams::get)
        .service(teams::update)
        .service(teams::archive)
        .service(teams::restore)
        .service(members::list)
        .service(members::list_of_team)
        .service(members::create)
        .service(members::get)
        .service(members::update)
        .service(members::archive)
        .service(members::restore)
        .service(members::move_to)
        .service(audit::list)
}

/// Field work: categories, assistance logs, trainings and the phones' sync.
fn field_work<T: Routes>(app: UtoipaApp<T>) -> UtoipaApp<T> {
    app.service(categories::list)
        .service(categories::create)
        .service(categories::retire)
        .service(categories::restore)
        .service(logs::create)
        .service(logs::list)
        .service(logs::get)
        .service(logs::update)
        .service(logs::archive)
        .service(logs::restore)
        .service(trainings::create)
        .service(trainings::list)
        .service(trainings::get)
        .service(trainings::replace)
        .service(trainings::archive)
        .service(trainings::restore)
        .service(trainings::attendance)
        .service(trainings::put_attendance)
        .service(sync::push)
        .service(sync::pull)
}

/// Monthly reports, their workflow and discipline, and the indicators.
fn reporting<T: Routes>(app: UtoipaApp<T>) -> UtoipaApp<T> {
    app.service(reports::monthly)
        .service(reports::trend)
        .service(reports::submit)
        .service(reports::approve)
        .service(reports::send_back)
        .service(reports::reopen)
        .service(reports::statuses)
        .service(indicators::list)
        .service(indicators::create)
        .service(indicators::retire)
        .service(indicators::restore)
        .service(indicators::list_denominators)
        .service(indicators::put_denominator)
        .service(indicators::list_values)
        .service(indicators::put_value)
        .service(indicators::list_targets)
        .service(indicators::put_target)
        .service(indicators::split_target)
        .service(discipline::settings)
        .service(discipline::put_settings)
        .service(discipline::inactive)
}

/// Bulk imports of the registers.
fn imports<T: Routes>(app: UtoipaApp<T>) -> UtoipaApp<T> {
    app.service(imports::template)
        .service(imports::create)
        .service(imports::list)
        .service(imports::get)
        .service(imports::row_report)
}

/// The OpenAPI document of every registered route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, api) =
        routes(App::new().into_utoipa_app().openapi(ApiDoc::openapi())).split_for_parts();
    document(api)
}

fn document(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    ErrorResponses.modify(&mut api);
    api
}

/// The documented paths with their methods, to tell "no such path" (404) from "no such
/// method on this path" (405 with `Allow`).
pub struct RouteTable(Vec<(Vec<String>, String)>);

impl RouteTable {
    fn new(api: &utoipa::openapi::OpenApi) -> Self {
        let mut routes: Vec<(Vec<String>, String)> = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.split('/').map(str::to_string).collect();
                let mut methods: Vec<&str> = Vec::new();
                for (method, present) in [
                    ("GET", item.get.is_some()),
                    ("HEAD", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ] {
                    if present {
                        methods.push(method);
                    }
                }
                (segments, methods.join(", "))
            })
            .collect();
        routes.push((
            "/api/v1/openapi.json"
                .split('/')
                .map(str::to_string)
                .collect(),
            "GET, HEAD".into(),
        ));
        RouteTable(routes)
    }

    /// The methods of the documented path that `path` matches, if any.
    fn allowed(&self, path: &str) -> Option<&str> {
        let parts: Vec<&str> = path.split('/').collect();
        self.0
            .iter()
            .find(|(template, _)| {
                template.len() == parts.len()
                    && template.iter().zip(&parts).all(|(t, p)| {
                        (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p
                    })
            })
            .map(|(_, methods)| methods.as_str())
    }
}

async fn route_not_found(
    req: actix_web::HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<HttpResponse, AppError> {
    match table.allowed(req.path()) {
        Some(allow) => Err(AppError::MethodNotAllowed {
            method: req.method().to_string(),
            allow: allow.to_string(),
        }),
        None => Err(AppError::NotFound {
            code: ErrorCode::RouteNotFound,
            detail: "no route matches this path".into(),
        }),
    }
}

/// The whole application: the API, its document, its docs page and the middleware.
pub fn app(
    state: web::Data<crate::state::AppState>,
    gates: web::Data<middleware::Gates>,
    max_body_bytes: usize,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Error = actix_web::Error,
        InitError = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
    >,
> {
    let cors = state.settings.cors.clone();
    let app = App::new()
        .app_data(state)
        .app_data(gates)
        .app_data(
            web::JsonConfig::default()
                .limit(max_body_bytes)
                .error_handler(error::json_error),
        )
        .app_data(web::QueryConfig::default().error_handler(error::query_error))
        .app_data(web::PathConfig::default().error_handler(error::path_error));
    let (app, api) = routes(app.into_utoipa_app().openapi(ApiDoc::openapi())).split_for_parts();
    let api = document(api);
    app.app_data(web::Data::new(RouteTable::new(&api)))
        .app_data(web::Data::new(api.clone()))
        .route("/api/v1/openapi.json", web::get().to(openapi_json))
        .configure(docs::configure)
        .configure(console::configure)
        .default_service(web::to(route_not_found))
        .wrap(actix_web::middleware::from_fn(middleware::admission))
        .wrap(actix_web::middleware::Condition::new(
            !cors.origins.is_empty(),
            cors_middleware(&cors),
        ))
        .wrap(actix_web::middleware::from_fn(middleware::response_headers))
        .wrap(actix_web::middleware::from_fn(middleware::request_context))
        .wrap(
            actix_web::middleware::DefaultHeaders::new()
                .add(("X-Content-Type-Options", "nosniff"))
                .add(("X-Frame-Options", "DENY"))
                .add(("Referrer-Policy", "no-referrer")),
        )
}

/// CORS for the configured origins: preflights are answered before routing, and a request
/// from another origin goes on without CORS headers (the browser then withholds the answer).
fn cors_middleware(settings: &crate::config::CorsSettings) -> actix_cors::Cors {
    use actix_web::http::header;
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::IF_MATCH,
            middleware::REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::CONTENT_DISPOSITION,
            middleware::REQUEST_ID,
        ])
        .block_on_origin_mismatch(false)
        .max_age(3600);
    for origin in &settings.origins {
        cors = if origin == "*" {
            cors.allow_any_origin().send_wildcard()
        } else {
            cors.allowed_origin(origin)
        };
    }
    if settings.credentials {
        cors = cors.supports_credentials();
    }
    cors
}

async fn openapi_json(doc: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(doc.get_ref())
}
