use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{get, post, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::extract::{Auth, Query, ValidJson};
use super::Reply;
use crate::fieldwork::categories;
use crate::state::AppState;
use crate::views::{self, CategoryView};

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCategoryRequest {
    /// Stable code: 2–40 characters, a-z, 0-9 and `_`.
    #[validate(custom(function = "valid_code"))]
    #[schema(pattern = "^[a-z0-9_]{2,40}$")]
    pub code: String,
    #[validate(length(min = 1, max = 200))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(range(min = 0, max = 10_000))]
    #[schema(minimum = 0, maximum = 10_000)]
    pub sort_order: Option<i32>,
}

fn valid_code(code: &str) -> Result<(), validator::ValidationError> {
    let ok = (2..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(validator::ValidationError::new("invalid_code")
            .with_message("code must be 2 to 40 characters: a-z, 0-9, '_'".into()))
    }
}

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
    tag = "categories", security(("bearer" = [])), request_body = CreateCategoryRequest,
    responses(
        (status = 201, body = CategoryView),
    )
)]
#[post("/api/v1/categories")]
pub async fn create(
    state: Data<AppState>,
    auth: Auth,
    body: ValidJson<CreateCategoryRequest>,
) -> Reply {
    let b = body.0;
    let order = b.sort_order.unwrap_or(100);
    let category = categories::create(&state, &auth.0, b.code, b.name, order).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(CategoryView::from(category)))
}

/// Retire a category: old logs keep it, new logs cannot use it (admin).
#[utoipa::path(
    operation_id = "retireCategory",
    tag = "categories", security(("bearer" = [])), params(("code" = String, Path)),
    responses(
        (status = 200, body = CategoryView),
    )
)]
#[post("/api/v1/categories/{code}/retire")]
pub async fn retire(state: Data<AppState>, auth: Auth, code: Path<String>) -> Reply {
    let category = categories::set_retired(&state, &auth.0, code.into_inner(), true).await?;
    Ok(HttpResponse::Ok().json(CategoryView::from(category)))
}

/// Bring a retired category back (admin).
#[utoipa::path(
    operation_id = "restoreCategory",
    tag = "categories", security(("bearer" = [])), params(("code" = String, Path)),
    responses(
        (status = 200, body = CategoryView),
    )
)]
#[post("/api/v1/categories/{code}/restore")]
pub async fn restore(state: Data<AppState>, auth: Auth, code: Path<String>) -> Reply {
    let category = categories::set_retired(&state, &auth.0, code.into_inner(), false).await?;
    Ok(HttpResponse::Ok().json(CategoryView::from(category)))
}
