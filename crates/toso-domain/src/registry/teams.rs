use chrono::NaiveDate;
use diesel::PgConnection;

use super::{
    commune_in_scope, default_commune, fold_name, fold_new_name, hold_live_village,
    require_officer, TeamStatus,
};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::access::{Caller, Scope};
use crate::db::teams::{self, NewTeam, Team, TeamChanges, TeamFilter};
use crate::db::villages;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ids::{TeamId, VillageId};
use crate::state::AppState;

#[derive(Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateTeamRequest)]
pub struct TeamInput {
    /// The commune (5 digits); defaults to the caller's own for commune officers.
    #[validate(length(min = 5, max = 5))]
    #[schema(min_length = 5, max_length = 5)]
    pub commune_code: Option<String>,
    /// For a village-level team: a village of the same commune.
    #[schema(value_type = Option<i64>)]
    pub village_id: Option<VillageId>,
    #[validate(length(min = 1, max = 200))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Number of the commune chairman's establishing decision, e.g. `123/QĐ-UBND`.
    #[validate(length(max = 100))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(max_length = 100)]
    pub decision_number: Option<String>,
    #[validate(custom(function = "crate::input::plausible_date"))]
    pub decision_date: Option<NaiveDate>,
    #[validate(custom(function = "crate::input::plausible_date"))]
    pub established_on: Option<NaiveDate>,
    #[validate(custom(function = "crate::input::plausible_date"))]
    pub dissolved_on: Option<NaiveDate>,
    /// Default `active` (or `dissolved` when `dissolved_on` is given).
    pub status: Option<TeamStatus>,
}

#[derive(Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateTeamRequest)]
pub struct TeamPatch {
    #[serde(default, with = "::serde_with::rust::double_option")]
    #[schema(value_type = Option<Option<i64>>)]
    pub village_id: Option<Option<VillageId>>,
    #[validate(length(min = 1, max = 200))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[validate(length(max = 100))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(max_length = 100)]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub decision_number: Option<Option<String>>,
    #[validate(custom(function = "crate::input::plausible_date"))]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub decision_date: Option<Option<NaiveDate>>,
    #[validate(custom(function = "crate::input::plausible_date"))]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub established_on: Option<Option<NaiveDate>>,
    #[validate(custom(function = "crate::input::plausible_date"))]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub dissolved_on: Option<Option<NaiveDate>>,
    pub status: Option<TeamStatus>,
}

/// The village must be visible, in the team's commune and live (share-locked until the end of
/// the transaction, 409 `parent_archived` when archived).
fn check_village(
    conn: &mut PgConnection,
    scope: &Scope,
    village_id: VillageId,
    commune: &str,
) -> AppResult<()> {
    villages::get(conn, scope, village_id)?
        .ok_or_else(|| AppError::field("village_id", "unknown_village", "no such village"))?;
    let village = hold_live_village(conn, village_id)?;
    if village.fields.commune_code != commune {
        return Err(AppError::field(
            "village_id",
            "wrong_commune",
            format!(
                "village {village_id} is in commune {}, not {commune}",
                village.fields.commune_code
            ),
        ));
    }
    Ok(())
}

fn check_dates(established: Option<NaiveDate>, dissolved: Option<NaiveDate>) -> AppResult<()> {
    crate::input::in_order(
        (established, dissolved),
        "dissolved_on",
        "before_established",
        "dissolved_on is before established_on",
    )
}

super::record_pipeline!(Team, TeamId, TeamFilter);

pub async fn create(state: &AppState, caller: &Caller, input: TeamInput) -> AppResult<Team> {
    require_officer(caller)?;
    let commune = default_commune(caller, input.commune_code)?;
    let (name, search_name) = fold_name("name", &input.name)?;
    check_dates(input.established_on, input.dissolved_on)?;
    super::create(state, caller, move |c, caller| {
        let scope = caller.scope();
        let unit = commune_in_scope(c, &scope, &commune)?;
        if let Some(v) = input.village_id {
            check_village(c, &scope, v, &unit.fields.code)?;
        }
        let status = input.status.unwrap_or(if input.dissolved_on.is_some() {
            TeamStatus::Dissolved
        } else {
            TeamStatus::Active
        });
        let new = NewTeam {
            commune_code: unit.fields.code,
            province_code: unit.fields.province_code,
            village_id: input.village_id,
            name,
            search_name,
            decision_number: input.decision_number,
            decision_date: input.decision_date,
            established_on: input.established_on,
            dissolved_on: input.dissolved_on,
            status,
        };
        Ok(teams::insert(c, &new)?)
    })
    .await
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: TeamId,
    patch: TeamPatch,
    expected: Option<i32>,
) -> AppResult<Team> {
    let (name, search_name) = fold_new_name("name", patch.name.as_deref())?;
    super::update(
        state,
        caller,
        id,
        expected,
        move |c, caller, before: &Team| {
            let status = patch
                .status
                .map_or(before.fields.status.as_str(), |s| s.as_str());
            let live = before.archived_at.is_none() && status != TeamStatus::Dissolved.as_str();
            match patch.village_id {
                Some(Some(v)) => check_village(c, &caller.scope(), v, &before.fields.commune_code)?,
                // A live team stays in, or comes back to, a village that must be live.
                None if live => {
                    if let Some(v) = before.fields.village_id {
                        hold_live_village(c, v)?;
                    }
                }
                _ => {}
            }
            check_dates(
                patch.established_on.unwrap_or(before.fields.established_on),
                patch.dissolved_on.unwrap_or(before.fields.dissolved_on),
            )?;
            let changes = TeamChanges {
                village_id: patch.village_id,
                name,
                search_name,
                decision_number: patch.decision_number,
                decision_date: patch.decision_date,
                established_on: patch.established_on,
                dissolved_on: patch.dissolved_on,
                status: patch.status,
            };
            Ok(teams::update(c, id, &changes)?)
        },
    )
    .await
}

/// A team: archiving it is refused (409) while active members or accounts belong to it,
/// restoring it while its village is archived.
impl super::Rules for Team {
    fn check_archive(conn: &mut PgConnection, team: &Self, archive: bool) -> AppResult<()> {
        if archive {
            let live = teams::live_dependents(conn, team.id)?;
            if live > 0 {
                return Err(AppError::Conflict {
                    code: ErrorCode::HasDependents,
                    detail: format!("{live} active member(s) or account(s) belong to this team"),
                });
            }
        } else if let Some(v) = team.fields.village_id {
            hold_live_village(conn, v)?;
        }
        Ok(())
    }
}
