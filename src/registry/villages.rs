use diesel::Connection;

use super::{
    audit, check_version, commune_in_scope, default_commune, fold_name, require_officer,
    VillageKind,
};
use crate::access::Caller;
use crate::db::villages::{self, NewVillage, Village, VillageChanges, VillageFilter};
use crate::db::{self, Page};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::state::AppState;

pub struct VillageInput {
    pub commune_code: Option<String>,
    pub name: String,
    pub kind: VillageKind,
    pub households: Option<i32>,
    pub population: Option<i32>,
}

#[derive(Default)]
pub struct VillagePatch {
    pub name: Option<String>,
    pub kind: Option<VillageKind>,
    pub households: Option<Option<i32>>,
    pub population: Option<Option<i32>>,
}

fn not_found() -> AppError {
    AppError::not_found("village")
}

pub async fn list(
    state: &AppState,
    caller: &Caller,
    filter: VillageFilter,
    page: Page,
) -> AppResult<(Vec<Village>, i64)> {
    let scope = caller.scope();
    db::run_read(&state.reads, move |c| {
        Ok(villages::list(c, &scope, &filter, page)?)
    })
    .await
}

pub async fn get(state: &AppState, caller: &Caller, id: i64) -> AppResult<Village> {
    let scope = caller.scope();
    db::run(&state.pool, move |c| {
        villages::get(c, &scope, id)?.ok_or_else(not_found)
    })
    .await
}

pub async fn create(state: &AppState, caller: &Caller, input: VillageInput) -> AppResult<Village> {
    require_officer(caller)?;
    let commune = default_commune(caller, input.commune_code)?;
    let (name, search_name) = fold_name("name", &input.name)?;
    let caller = caller.clone();
    db::run(&state.pool, move |conn| {
        conn.transaction(|c| {
            let unit = commune_in_scope(c, &caller.scope(), &commune)?;
            let village = villages::insert(
                c,
                &NewVillage {
                    commune_code: unit.code,
                    province_code: unit.province_code,
                    name,
                    search_name,
                    kind: input.kind,
                    households: input.households,
                    population: input.population,
                },
            )?;
            audit(c, &caller, "create", None, &village)?;
            Ok(village)
        })
    })
    .await
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: i64,
    patch: VillagePatch,
    expected: Option<i32>,
) -> AppResult<Village> {
    let scope = caller.scope();
    let names = patch
        .name
        .as_deref()
        .map(|n| fold_name("name", n))
        .transpose()?;
    let caller = caller.clone();
    db::run(&state.pool, move |conn| {
        conn.transaction(|c| {
            let before = villages::lock(c, &scope, id)?.ok_or_else(not_found)?;
            require_officer(&caller)?;
            check_version("village", before.version, expected)?;
            let (name, search_name) = names.unzip();
            let changes = VillageChanges {
                name,
                search_name,
                kind: patch.kind,
                households: patch.households,
                population: patch.population,
            };
            let after = villages::update(c, id, &changes)?;
            audit(c, &caller, "update", Some(&before), &after)?;
            Ok(after)
        })
    })
    .await
}

/// Archives (`archive = true`) or restores a village; 409 while live teams work in it.
pub async fn set_archived(
    state: &AppState,
    caller: &Caller,
    id: i64,
    archive: bool,
    expected: Option<i32>,
) -> AppResult<Village> {
    super::set_archived(
        state,
        caller,
        id,
        archive,
        expected,
        |c, _| require_officer(c),
        |conn, village: &Village, archive| {
            let teams = if archive {
                villages::live_teams(conn, village.id)?
            } else {
                0
            };
            if teams > 0 {
                return Err(AppError::Conflict {
                    code: ErrorCode::HasDependents,
                    detail: format!(
                        "{teams} live team(s) work in this village; archive or move them first"
                    ),
                });
            }
            Ok(())
        },
    )
    .await
}
