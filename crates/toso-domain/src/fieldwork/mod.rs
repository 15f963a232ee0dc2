//! Field work recorded by team members, mostly from phones: citizen-assistance logs.

pub mod categories;
pub mod logs;
pub mod sync;
pub mod trainings;

pub use crate::vocab::{AgeBand, Channel, Outcome};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::db::months::{self, MonthKey};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::ids::{MemberId, PersonId};

/// The commune-month a record dated `at` counts in.
pub(crate) fn month_key(commune: &str, at: DateTime<Utc>) -> MonthKey {
    (commune.to_string(), crate::reports::vn_month(at))
}

/// The calendar day of `at` in Vietnam.
pub(crate) fn vn_day(at: DateTime<Utc>) -> NaiveDate {
    (at + chrono::Duration::hours(7)).date_naive()
}

/// Holds the commune-months a write touches (`db::months`) until the transaction ends and
/// refuses the write when one of them is locked by an approved report (409 `month_locked`).
pub(crate) fn hold_open(conn: &mut PgConnection, keys: &[MonthKey]) -> AppResult<()> {
    match months::hold_shared(conn, keys)?.into_iter().min() {
        Some((_, month)) => Err(crate::reports::workflow::month_locked_error(month)),
        None => Ok(()),
    }
}

/// Holds the memberships that field work is attributed to (`member_id`, day of the work)
/// until the transaction ends, and returns the positions of those that no longer hold the
/// day: archived, or with dates changed since the work was checked. A change of membership
/// dates locks the row before it looks for stranded work (`registry::members`), so either
/// the change waits for this work and then sees it, or this work waits for the change and
/// is refused here (409 `membership_changed`, see [`membership_changed`]).
pub(crate) fn hold_stints(
    conn: &mut PgConnection,
    uses: &[(MemberId, NaiveDate)],
) -> QueryResult<Vec<usize>> {
    let mut ids: Vec<MemberId> = uses.iter().map(|(id, _)| *id).collect();
    ids.sort_unstable();
    ids.dedup();
    let held: std::collections::HashMap<MemberId, (NaiveDate, Option<NaiveDate>)> =
        crate::db::members::share_dates(conn, &ids)?
            .into_iter()
            .map(|(id, joined, left)| (id, (joined, left)))
            .collect();
    Ok(uses
        .iter()
        .enumerate()
        .filter(|(_, (id, day))| {
            !held
                .get(id)
                .is_some_and(|(joined, left)| joined <= day && left.is_none_or(|l| *day <= l))
        })
        .map(|(i, _)| i)
        .collect())
}

/// The answer for work whose membership changed while it was being recorded.
pub(crate) fn membership_changed(member_id: MemberId) -> AppError {
    AppError::Conflict {
        code: crate::error::ErrorCode::MembershipChanged,
        detail: format!(
            "membership {member_id} was changed or archived while this work was being \
             recorded; send it again"
        ),
    }
}

/// [`hold_stints`] for one write: 409 `membership_changed` when its membership moved.
pub(crate) fn hold_stint(
    conn: &mut PgConnection,
    member_id: MemberId,
    day: NaiveDate,
) -> AppResult<()> {
    if hold_stints(conn, &[(member_id, day)])?.is_empty() {
        Ok(())
    } else {
        Err(membership_changed(member_id))
    }
}

pub(crate) use crate::db::members::{stints_of, Stint};

/// The membership a person held on `day`: the one whose `joined_on..=left_on` holds the day,
/// the later one on the day of a move (the old stint ends the day the new one starts). None
/// held: a 422 on `field` saying whether the day is before joining, after leaving or between.
pub(crate) fn stint_on<'a>(
    stints: &'a [Stint],
    person: PersonId,
    day: NaiveDate,
    field: &str,
) -> Result<&'a Stint, crate::error::FieldError> {
    use crate::error::FieldError;
    let mine: Vec<&Stint> = stints.iter().filter(|s| s.person_id == person).collect();
    if let Some(s) = mine
        .iter()
        .filter(|s| s.joined_on <= day && s.left_on.is_none_or(|l| day <= l))
        .max_by_key(|s| (s.joined_on, s.id))
    {
        return Ok(s);
    }
    let first = mine.iter().map(|s| s.joined_on).min();
    let last = mine.iter().map(|s| s.left_on).max().flatten();
    let all_left = mine.iter().all(|s| s.left_on.is_some());
    Err(match (first, last) {
        (Some(j), _) if day < j => FieldError::new(
            field,
            "before_joined",
            format!("the member joined on {j}, after {day}"),
        ),
        (_, Some(l)) if all_left && day > l => FieldError::new(
            field,
            "after_left",
            format!("the member left on {l}, before {day}"),
        ),
        _ => FieldError::new(
            field,
            "not_a_member",
            format!("the member belonged to no team on {day}"),
        ),
    })
}

/// A write to a record that is archived: 409 with the record's state.
pub(crate) fn archived_error(what: &'static str, at: DateTime<Utc>) -> AppError {
    AppError::Conflict {
        code: match what {
            "training" => ErrorCode::TrainingArchived,
            _ => ErrorCode::LogArchived,
        },
        detail: format!(
            "the {what} was archived at {}; restore it before changing it",
            at.to_rfc3339()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TeamId;
    use uuid::Uuid;

    fn stint(id: i64, person: PersonId, joined: &str, left: Option<&str>) -> Stint {
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").expect("date");
        Stint {
            id: MemberId(id),
            person_id: person,
            team_id: TeamId(id * 10),
            commune_code: format!("{id:05}"),
            province_code: "01".into(),
            joined_on: day(joined),
            left_on: left.map(day),
            user_id: None,
        }
    }

    #[test]
    fn a_day_falls_in_the_membership_held_then() {
        let (p, other) = (PersonId(Uuid::new_v4()), PersonId(Uuid::new_v4()));
        // Joined T1 on 2025-08-01, moved to T2 on 2026-11-20, left T2 on 2026-12-10,
        // back in T3 from 2027-01-05; someone else in T4 all along.
        let stints = [
            stint(1, p, "2025-08-01", Some("2026-11-20")),
            stint(2, p, "2026-11-20", Some("2026-12-10")),
            stint(3, p, "2027-01-05", None),
            stint(4, other, "2024-01-01", None),
        ];
        let cases = [
            ("2025-07-31", Err("before_joined")),
            ("2025-08-01", Ok(1)),
            ("2026-11-10", Ok(1)),
            ("2026-11-20", Ok(2)),
            ("2026-12-10", Ok(2)),
            ("2026-12-11", Err("not_a_member")),
            ("2027-01-05", Ok(3)),
            ("2030-01-01", Ok(3)),
        ];
        for (day, want) in cases {
            let day = NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("date");
            let got = stint_on(&stints, p, day, "occurred_at")
                .map(|s| s.id.0)
                .map_err(|e| e.code);
            assert_eq!(got, want.map_err(str::to_string), "{day}");
        }
        let left = [stint(5, p, "2025-08-01", Some("2025-09-30"))];
        let day = NaiveDate::from_ymd_opt(2025, 10, 1).expect("date");
        let err = stint_on(&left, p, day, "member_id").expect_err("after leaving");
        assert_eq!(
            (err.field.as_str(), err.code.as_str()),
            ("member_id", "after_left")
        );
        assert!(stint_on(&stints, PersonId(Uuid::new_v4()), day, "x").is_err());
    }
}
