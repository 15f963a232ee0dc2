//! The official list of administrative units and its import.

pub mod import;

use crate::db::units::{UnitFilter, UnitRow};
use crate::db::{self, Page};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Administrative units by level, parent and name (the official list: everyone may read it).
pub async fn list(
    state: &AppState,
    filter: UnitFilter,
    page: Page,
) -> AppResult<(Vec<UnitRow>, i64)> {
    db::run_read(&state.reads, move |conn| {
        Ok(db::units::list(conn, &filter, page)?)
    })
    .await
}

/// One unit by its official code.
pub async fn get(state: &AppState, code: String) -> AppResult<UnitRow> {
    db::run(&state.pool, move |conn| Ok(db::units::get(conn, &code)?))
        .await?
        .ok_or_else(|| AppError::not_found("unit"))
}
