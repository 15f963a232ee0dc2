//! The officers' web console at `/`: a few ES modules and one stylesheet (`src/http/console/`,
//! no build step) embedded in the binary, so it works on an intranet without internet. It
//! calls the public API like any client and runs under the same strict Content-Security-Policy
//! as the docs page: scripts and styles from this server only, nothing inline.

use actix_web::http::header;
use actix_web::web::Path;
use actix_web::{web, HttpResponse};

use super::docs::CONTENT_SECURITY_POLICY;
use super::Reply;
use crate::error::AppError;

const JS: &str = "text/javascript; charset=utf-8";

/// Every asset under `/console/`: name, content type, body.
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.js", JS, include_str!("console/app.js")),
    ("api.js", JS, include_str!("console/api.js")),
    ("ui.js", JS, include_str!("console/ui.js")),
    ("pages.js", JS, include_str!("console/pages.js")),
    ("registry.js", JS, include_str!("console/registry.js")),
    ("imports.js", JS, include_str!("console/imports.js")),
    ("accounts.js", JS, include_str!("console/accounts.js")),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("console/style.css"),
    ),
];

const INDEX: &str = include_str!("console/index.html");

fn answer(content_type: &'static str, cache: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(body)
}

async fn asset(name: Path<String>) -> Reply {
    match ASSETS.iter().find(|(n, _, _)| *n == name.as_str()) {
        Some((_, content_type, body)) => Ok(answer(content_type, "no-cache", body)),
        None => Err(AppError::NotFound {
            code: crate::error::ErrorCode::RouteNotFound,
            detail: "no route matches this path".into(),
        }),
    }
}

/// Registers `/` (the page: `no-store`, like every answer that is not a static asset) and
/// `/console/{asset}` (revalidated: `no-cache`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/",
        web::get().to(|| async { answer("text/html; charset=utf-8", "no-store", INDEX) }),
    )
    .route("/console/{name}", web::get().to(asset));
}
