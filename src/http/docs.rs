//! The interactive API docs at `/docs`: Swagger UI, vendored from the npm package
//! `swagger-ui-dist` (see `docs/README.md`) and embedded in the binary, so the page works on
//! a network without internet and runs no script from anywhere but this server. A strict
//! Content-Security-Policy says so to the browser.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// Scripts, styles, images and requests from this origin only (images also as `data:` URIs,
/// which the stylesheet uses for its icons); nothing inline, no plugins, no framing, no forms.
/// Swagger UI renders under it without a violation (checked in headless Chromium with a
/// `report-uri`, the page and an expanded operation).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const INDEX: &str = include_str!("docs/index.html");
const INIT: &str = include_str!("docs/init.js");
const BUNDLE: &str = include_str!("docs/swagger-ui-bundle.js");
const CSS: &str = include_str!("docs/swagger-ui.css");

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

/// Registers `/docs` and its assets.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/docs",
        web::get().to(|| async { asset("text/html; charset=utf-8", INDEX) }),
    )
    .route(
        "/docs/",
        web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header((header::LOCATION, "/docs"))
                .finish()
        }),
    )
    .route(
        "/docs/init.js",
        web::get().to(|| async { asset("text/javascript; charset=utf-8", INIT) }),
    )
    .route(
        "/docs/swagger-ui-bundle.js",
        web::get().to(|| async { asset("text/javascript; charset=utf-8", BUNDLE) }),
    )
    .route(
        "/docs/swagger-ui.css",
        web::get().to(|| async { asset("text/css; charset=utf-8", CSS) }),
    );
}
