use crate::month::today_local;
use chrono::NaiveDate;
use diesel::{Connection, PgConnection};
use uuid::Uuid;

use super::{audit, fold_name, fold_new_name, hold_live_team, Affiliation, Sex, TeamRole};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::access::{Caller, Role, Scope};
use crate::db::members::{self, Member, MemberChanges, MemberFilter, NewMember};
use crate::db::{self, teams, users, Page};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ids::{MemberId, PersonId, TeamId, UserId};
use crate::state::AppState;
use crate::vocab::AuditAction;

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateMemberRequest)]
pub struct MemberInput {
    #[validate(length(min = 1, max = 200))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: String,
    /// Vietnamese mobile number; stored as 0xxxxxxxxx.
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    pub phone: Option<String>,
    pub sex: Option<Sex>,
    #[validate(range(min = 1900, max = 2100))]
    #[schema(minimum = 1900, maximum = 2100)]
    pub birth_year: Option<i32>,
    pub affiliation: Affiliation,
    /// Default `member`; a team has at most one active leader.
    pub team_role: Option<TeamRole>,
    /// Default today (Asia/Ho_Chi_Minh).
    #[validate(custom(function = "crate::input::plausible_date"))]
    pub joined_on: Option<NaiveDate>,
    /// A team account of this team, for the mobile app.
    pub user_id: Option<Uuid>,
}

#[derive(Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateMemberRequest)]
pub struct MemberPatch {
    #[validate(length(min = 1, max = 200))]
    #[validate(custom(function = "crate::input::screened"))]
    #[schema(min_length = 1, max_length = 200)]
    pub full_name: Option<String>,
    #[validate(length(max = 20))]
    #[schema(max_length = 20)]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub phone: Option<Option<String>>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub sex: Option<Option<Sex>>,
    #[validate(range(min = 1900, max = 2100))]
    #[schema(minimum = 1900, maximum = 2100)]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub birth_year: Option<Option<i32>>,
    pub affiliation: Option<Affiliation>,
    pub team_role: Option<TeamRole>,
    #[validate(custom(function = "crate::input::plausible_date"))]
    pub joined_on: Option<NaiveDate>,
    /// Set to record that the member left; the record stays in the history.
    #[validate(custom(function = "crate::input::plausible_date"))]
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub left_on: Option<Option<NaiveDate>>,
    #[serde(default, with = "::serde_with::rust::double_option")]
    pub user_id: Option<Option<Uuid>>,
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MoveMemberRequest)]
pub struct Move {
    /// The team the member joins.
    #[schema(value_type = i64)]
    pub team_id: TeamId,
    /// The day the member leaves the old team and joins the new one (default today).
    #[validate(custom(function = "crate::input::plausible_date"))]
    pub on: Option<NaiveDate>,
    pub team_role: Option<TeamRole>,
}

/// Officers in scope and the leader of the member's team manage members.
fn require_manager(caller: &Caller, team_id: TeamId) -> AppResult<()> {
    let ok = caller.role.is_officer()
        || (caller.role == Role::TeamLeader && caller.team_id == Some(team_id));
    if ok {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only officers and the team's leader manage its members",
        ))
    }
}

fn check_dates(joined: NaiveDate, left: Option<NaiveDate>) -> AppResult<()> {
    if let Some(l) = left {
        if l < joined {
            return Err(AppError::field(
                "left_on",
                "before_joined",
                "left_on is before joined_on",
            ));
        }
        if l > today_local() {
            return Err(AppError::field(
                "left_on",
                "in_future",
                "left_on cannot be in the future",
            ));
        }
    }
    Ok(())
}

/// Field work belongs to the membership held on its day (`fieldwork::stint_on`), so a
/// membership's dates may not leave out work already recorded under it: a day before
/// `joined_on`, or after `last_day` (the day before a move, or `left_on`), is a 422 on `field`.
fn check_work_within(
    conn: &mut PgConnection,
    id: MemberId,
    joined_on: NaiveDate,
    last_day: Option<(NaiveDate, &str)>,
) -> AppResult<()> {
    let (first, last) = members::work_span(conn, id)?;
    if let Some(first) = first.filter(|f| *f < joined_on) {
        return Err(AppError::field(
            "joined_on",
            "work_recorded_before",
            format!("field work was recorded for this membership on {first}, before {joined_on}"),
        ));
    }
    if let (Some(last), Some((day, field))) = (last, last_day) {
        if last > day {
            return Err(AppError::field(
                field,
                "work_recorded_after",
                format!("field work was recorded for this membership on {last}, after {day}"),
            ));
        }
    }
    Ok(())
}

/// A linked account must be a team account of the same team, visible to the caller.
fn check_user(
    conn: &mut PgConnection,
    scope: &Scope,
    user_id: UserId,
    team_id: TeamId,
) -> AppResult<()> {
    let user = users::get_in_scope(conn, scope, user_id)?
        .ok_or_else(|| AppError::field("user_id", "unknown_user", "no such user"))?;
    if user.fields.team_id != Some(team_id) {
        return Err(AppError::field(
            "user_id",
            "wrong_team",
            "the account must be a team account of the member's team",
        ));
    }
    Ok(())
}

/// A membership that becomes active again (back from `left_on`, or restored) keeps its link
/// to an app account only while that account still works in the member's team: 409
/// `linked_account_elsewhere` otherwise (send `user_id: null` to revive it unlinked).
fn check_kept_link(conn: &mut PgConnection, member: &Member) -> AppResult<()> {
    let Some(user_id) = member.fields.user_id else {
        return Ok(());
    };
    let user = users::get_in_scope(conn, &Scope::Country, user_id)?;
    if user.is_some_and(|u| u.fields.team_id == Some(member.fields.team_id)) {
        return Ok(());
    }
    Err(AppError::Conflict {
        code: ErrorCode::LinkedAccountElsewhere,
        detail: "the member's app account no longer works in the member's team; \
                 revive the member with user_id: null"
            .into(),
    })
}

/// The team a member joins or stays active in: in scope, not archived (409
/// `parent_archived`), not dissolved (409 `team_not_live`); share-locked until the end of
/// the transaction, so the team cannot be archived under the new member.
fn live_team(conn: &mut PgConnection, scope: &Scope, team_id: TeamId) -> AppResult<teams::Team> {
    teams::get(conn, scope, team_id)?.ok_or_else(|| AppError::not_found("team"))?;
    let team = hold_live_team(conn, team_id)?;
    if team.fields.status == crate::vocab::TeamStatus::Dissolved {
        return Err(AppError::Conflict {
            code: ErrorCode::TeamNotLive,
            detail: format!("team {team_id} is dissolved"),
        });
    }
    Ok(team)
}

super::record_pipeline!(Member, MemberId, MemberFilter);

/// Members of one team; 404 when the team is not visible.
pub async fn list_of_team(
    state: &AppState,
    caller: &Caller,
    team_id: TeamId,
    mut filter: MemberFilter,
    page: Page,
) -> AppResult<(Vec<Member>, i64)> {
    filter.team_id = Some(team_id);
    db::read_in_scope(&state.reads, caller, move |c, scope| {
        teams::get(c, scope, team_id)?.ok_or_else(|| AppError::not_found("team"))?;
        Ok(members::list(c, scope, &filter, page)?)
    })
    .await
}

pub async fn create(
    state: &AppState,
    caller: &Caller,
    team_id: TeamId,
    input: MemberInput,
) -> AppResult<Member> {
    let (full_name, search_name) = fold_name("full_name", &input.full_name)?;
    let phone = crate::phone::field(input.phone.as_deref())?;
    let joined_on = input.joined_on.unwrap_or_else(today_local);
    super::create(state, caller, move |c, caller| {
        let scope = caller.scope();
        let team = live_team(c, &scope, team_id)?;
        require_manager(caller, team.id)?;
        if let Some(u) = input.user_id {
            check_user(c, &scope, UserId(u), team.id)?;
        }
        let new = NewMember {
            person_id: PersonId(Uuid::new_v4()),
            team_id: team.id,
            commune_code: team.fields.commune_code,
            province_code: team.fields.province_code,
            full_name,
            search_name,
            phone,
            sex: input.sex,
            birth_year: input.birth_year,
            affiliation: input.affiliation,
            team_role: input.team_role.unwrap_or(TeamRole::Member),
            joined_on,
            user_id: input.user_id.map(UserId),
        };
        Ok(members::insert(c, &new)?)
    })
    .await
}

/// New dates agree with each other and with the work recorded, a new link names an account
/// of the team, and a membership left active keeps a live team and a consistent link.
fn check_patch(
    c: &mut PgConnection,
    scope: &Scope,
    before: &Member,
    patch: &MemberPatch,
) -> AppResult<()> {
    let (joined_on, left_on) = (
        patch.joined_on.unwrap_or(before.fields.joined_on),
        patch.left_on.unwrap_or(before.left_on),
    );
    check_dates(joined_on, left_on)?;
    if patch.joined_on.is_some() || patch.left_on.is_some() {
        check_work_within(c, before.id, joined_on, left_on.map(|l| (l, "left_on")))?;
    }
    if let Some(Some(u)) = patch.user_id {
        check_user(c, scope, UserId(u), before.fields.team_id)?;
    }
    let active = before.archived_at.is_none() && patch.left_on.unwrap_or(before.left_on).is_none();
    if active {
        // An active member stays in, or comes back to, a team that must be live.
        hold_live_team(c, before.fields.team_id)?;
        if before.left_on.is_some() && patch.user_id.is_none() {
            check_kept_link(c, before)?;
        }
    }
    Ok(())
}

pub async fn update(
    state: &AppState,
    caller: &Caller,
    id: MemberId,
    patch: MemberPatch,
    expected: Option<i32>,
) -> AppResult<Member> {
    let (full_name, search_name) = fold_new_name("full_name", patch.full_name.as_deref())?;
    let phone = match &patch.phone {
        Some(p) => Some(crate::phone::field(p.as_deref())?),
        None => None,
    };
    super::update(
        state,
        caller,
        id,
        expected,
        move |c, caller, before: &Member| {
            check_patch(c, &caller.scope(), before, &patch)?;
            let changes = MemberChanges {
                full_name,
                search_name,
                phone,
                sex: patch.sex,
                birth_year: patch.birth_year,
                affiliation: patch.affiliation,
                team_role: patch.team_role,
                joined_on: patch.joined_on,
                left_on: patch.left_on,
                user_id: patch.user_id.map(|u| u.map(UserId)),
            };
            Ok(members::update(c, id, &changes)?)
        },
    )
    .await
}

/// A membership: restoring it under an archived team is refused (409).
impl super::Rules for Member {
    fn allowed(caller: &Caller, member: &Self) -> AppResult<()> {
        require_manager(caller, member.fields.team_id)
    }

    fn check_archive(conn: &mut PgConnection, member: &Self, archive: bool) -> AppResult<()> {
        if !archive {
            hold_live_team(conn, member.fields.team_id)?;
            if member.left_on.is_none() {
                check_kept_link(conn, member)?;
            }
        }
        Ok(())
    }
}

/// The team a member moves to: another, live one in scope that the caller manages.
fn team_to_join(
    c: &mut PgConnection,
    caller: &Caller,
    before: &Member,
    team_id: TeamId,
) -> AppResult<teams::Team> {
    if before.left_on.is_some() || before.archived_at.is_some() {
        return Err(AppError::Conflict {
            code: ErrorCode::MemberNotActive,
            detail: "only an active member can move".into(),
        });
    }
    if team_id == before.fields.team_id {
        return Err(AppError::field(
            "team_id",
            "same_team",
            "the member is already in this team",
        ));
    }
    let team = live_team(c, &caller.scope(), team_id).map_err(|e| match e {
        AppError::NotFound { .. } => {
            AppError::field("team_id", "unknown_team", "no such team in your scope")
        }
        other => other,
    })?;
    require_manager(caller, team.id)?;
    Ok(team)
}

/// The same person's membership of `team` from `on`.
fn moved(before: &Member, team: &teams::Team, role: Option<TeamRole>, on: NaiveDate) -> NewMember {
    NewMember {
        team_id: team.id,
        commune_code: team.fields.commune_code.clone(),
        province_code: team.fields.province_code.clone(),
        team_role: role.unwrap_or(TeamRole::Member),
        joined_on: on,
        ..before.fields.clone()
    }
}

/// Ends the membership and starts one in another team for the same person; returns the new one.
pub async fn move_to(
    state: &AppState,
    caller: &Caller,
    id: MemberId,
    to: Move,
) -> AppResult<Member> {
    let on = to.on.unwrap_or_else(today_local);
    let caller = caller.clone();
    db::run(&state.pool, move |conn| {
        conn.transaction(|c| {
            let before: Member = super::lock_for_change(c, &caller, id, None)?;
            let team = team_to_join(c, &caller, &before, to.team_id)?;
            check_dates(before.fields.joined_on, Some(on))?;
            // On the move day the work is the new membership's.
            let eve = on.pred_opt().unwrap_or(on);
            check_work_within(c, id, before.fields.joined_on, Some((eve, "on")))?;
            let left = members::update(
                c,
                id,
                &MemberChanges {
                    left_on: Some(Some(on)),
                    user_id: Some(None),
                    ..Default::default()
                },
            )?;
            audit(c, &caller, AuditAction::Move, Some(&before), &left)?;
            let joined = members::insert(c, &moved(&before, &team, to.team_role, on))?;
            if let Some(user_id) = before.fields.user_id {
                // The member's app account follows them to the new team, if the caller may
                // change it (409 otherwise, and nothing is moved).
                crate::accounts::follow_move(c, &caller, user_id, before.fields.team_id, &team)?;
            }
            audit(c, &caller, AuditAction::Move, None, &joined)?;
            Ok(joined)
        })
    })
    .await
}
