//! The catalogue of assistance categories: read by everyone, managed by an admin.

use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::access::Caller;
use crate::db::{self, categories, categories::Category};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

// A new category; also the request body (its schema keeps the name it had as an HTTP type).
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateCategoryRequest)]
pub struct CategoryInput {
    /// Stable code: 2–40 characters, a-z, 0-9 and `_`.
    #[validate(custom(function = "crate::input::catalogue_code"))]
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

fn require_admin(caller: &Caller) -> AppResult<()> {
    caller.require_admin("only an admin manages categories")
}

/// The categories in display order (retired ones too when asked).
pub async fn list(state: &AppState, include_retired: bool) -> AppResult<Vec<Category>> {
    db::run(&state.pool, move |c| {
        Ok(categories::list(c, include_retired)?)
    })
    .await
}

/// Adds a category (admin); a code already used is a field error.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: CategoryInput,
) -> AppResult<Category> {
    require_admin(caller)?;
    let CategoryInput {
        code,
        name,
        sort_order,
    } = input;
    let sort_order = sort_order.unwrap_or(100);
    db::run(&state.pool, move |c| {
        if categories::get(c, &code)?.is_some() {
            return Err(AppError::field(
                "code",
                "taken",
                "a category with this code exists",
            ));
        }
        Ok(categories::insert(c, &code, name.trim(), sort_order)?)
    })
    .await
}

/// Retires a category (old logs keep it, new ones cannot use it) or brings it back (admin).
pub async fn set_retired(
    state: &AppState,
    caller: &Caller,
    code: String,
    retired: bool,
) -> AppResult<Category> {
    require_admin(caller)?;
    db::run(&state.pool, move |c| {
        Ok(categories::set_retired(c, &code, retired)?)
    })
    .await?
    .ok_or_else(|| AppError::not_found("category"))
}
