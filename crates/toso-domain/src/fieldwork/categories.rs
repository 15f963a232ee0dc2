//! The catalogue of assistance categories: read by everyone, managed by an admin.

use crate::access::Caller;
use crate::db::{self, categories, categories::Category};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

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
    code: String,
    name: String,
    sort_order: i32,
) -> AppResult<Category> {
    require_admin(caller)?;
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
