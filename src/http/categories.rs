use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{get, post, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{Auth, Query, ValidJson};
use super::record::retire_routes;
use super::Reply;
use crate::fieldwork::categories::{self, CategoryInput};
use crate::state::AppState;
use crate::views::{self, CategoryView};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CategoryQuery {
    /// Also list retired categories.
    pub include_retired: Option<bool>,
}

/// Assistance categories, in display order.
#[utoipa::path(operation_id = "listCategories", tag = "categories", security(("bearer" = [])), params(CategoryQuery), responses((status = 200, body = Vec<CategoryView>)))]
#[get("/api/v1/categories")]
pub async fn list(state: Data<AppState>, _auth: Auth, query: Query<CategoryQuery>) -> Reply {
    let items = categories::list(&state, query.include_retired.unwrap_or(false)).await?;
    Ok(HttpResponse::Ok().json(views::all(items)))
}

/// Add a category (admin).
#[utoipa::path(
    operation_id = "createCategory",
    tag = "categories", security(("bearer" = [])), request_body = CategoryInput,
    responses(
        (status = 201, body = CategoryView),
    )
)]
#[post("/api/v1/categories")]
pub async fn create(state: Data<AppState>, auth: Auth, body: ValidJson<CategoryInput>) -> Reply {
    let category = categories::create(&state, &auth.0, body.0).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(CategoryView::from(category)))
}

retire_routes! {
    domain = categories, entry = CategoryView, tag = "categories",
    retire = ("retireCategory", "/api/v1/categories/{code}/retire",
        ["Retire a category: old logs keep it, new logs cannot use it (admin)."]),
    restore = ("restoreCategory", "/api/v1/categories/{code}/restore",
        ["Bring a retired category back (admin)."]),
}
