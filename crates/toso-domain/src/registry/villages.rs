use super::{
    commune_in_scope, default_commune, fold_name, fold_new_name, require_officer, VillageKind,
};
use diesel::PgConnection;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::access::Caller;
use crate::db::villages::{self, NewVillage, Village, VillageChanges, VillageFilter};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ids::VillageId;
use crate::state::AppState;

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateVillageRequest)]
pub struct VillageInput {
    /// The commune (5 digits); defaults to the caller's own for commune officers.
    #[validate(length(min = 5, max = 5))]
    #[schema(min_length = 5, max_length = 5)]
    pub commune_code: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: VillageKind,
    #[validate(range(min = 0, max = 1_000_000))]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub households: Option<i32>,
    #[validate(range(min = 0, max = 10_000_000))]
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub population: Option<i32>,
}

#[derive(Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateVillageRequest)]
pub struct VillagePatch {
    #[validate(length(min = 1, max = 200))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    pub kind: Option<VillageKind>,
    #[validate(range(min = 0, max = 1_000_000))]
    #[schema(minimum = 0, maximum = 1_000_000)]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub households: Option<Option<i32>>,
    #[validate(range(min = 0, max = 10_000_000))]
    #[schema(minimum = 0, maximum = 10_000_000)]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub population: Option<Option<i32>>,
}

super::record_pipeline!(Village, VillageId, VillageFilter);

pub async fn create(state: &AppState, caller: &Caller, input: VillageInput) -> AppResult<Village> {
    require_officer(caller)?;
    let commune = default_commune(caller, input.commune_code)?;
    let (name, search_name) = fold_name("name", &input.name)?;
    super::create(state, caller, move |c, caller| {
        let unit = commune_in_scope(c, &caller.scope(), &commune)?;
        let new = NewVillage {
            commune_code: unit.fields.code,
            province_code: unit.fields.province_code,
            name,
            search_name,
            kind: input.kind,
            households: input.households,
            population: input.population,
        };
        Ok(villages::insert(c, &new)?)
    })
    .await
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: VillageId,
    patch: VillagePatch,
    expected: Option<i32>,
) -> AppResult<Village> {
    let (name, search_name) = fold_new_name("name", patch.name.as_deref())?;
    super::update(state, caller, id, expected, move |c, _, _| {
        let changes = VillageChanges {
            name,
            search_name,
            kind: patch.kind,
            households: patch.households,
            population: patch.population,
        };
        Ok(villages::update(c, id, &changes)?)
    })
    .await
}

/// A village: archiving it is refused (409) while live teams work in it.
impl super::Rules for Village {
    fn check_archive(conn: &mut PgConnection, village: &Self, archive: bool) -> AppResult<()> {
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
    }
}
