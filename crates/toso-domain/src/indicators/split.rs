//! The automatic split of a parent's target down to its children (a province's to its
//! communes, a commune's to its villages), in proportion to each child's remaining gap
//! (denominator minus current value), with manual overrides.

use std::collections::HashMap;

use chrono::Utc;
use diesel::prelude::*;
use serde::Serialize;

use super::{first_of, live_indicator, pick, save_target};
use crate::access::{Caller, Scope};
use crate::db::indicators::{self as rows, Keyed, Target, TargetFields};
use crate::db::reports::Area;
use crate::error::{AppError, AppResult, FieldError};
use crate::state::AppState;
use diesel::PgConnection;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Share {
    /// The child: a commune code or a village id.
    pub unit_key: String,
    pub name: String,
    /// The child's denominator for the year (null when not known: it then takes no share).
    pub denominator: Option<i64>,
    /// The child's current value (the latest of the year).
    pub current: i64,
    /// denominator − current, at least 0.
    pub gap: i64,
    /// The child's target: its current value plus its share, or the override.
    pub target_value: i64,
    /// True when the target is a manual override.
    pub manual: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SplitResult {
    pub parent: crate::views::TargetView,
    /// The parent's target as a number (a rate target times the parent's denominator,
    /// rounded up).
    pub amount: i64,
    /// The parent's current value.
    pub current: i64,
    /// What the children have to add: amount − current.
    pub remaining: i64,
    pub shares: Vec<Share>,
    /// Of `remaining`, what no child took (children whose gaps are full, or rounding never
    /// leaves any); negative when the overrides assign more than remains.
    pub unassigned: i64,
    /// False for a dry run: nothing was written.
    pub applied: bool,
}

/// Shares of `amount` in proportion to `weights`, never above a weight, summing to
/// min(amount, sum of weights) exactly (largest remainders get the units left by rounding
/// down; ties go to the earlier child).
pub fn proportional(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i64 = weights.iter().map(|w| (*w).max(0)).sum();
    if amount <= 0 || total == 0 {
        return vec![0; weights.len()];
    }
    if amount >= total {
        return weights.iter().map(|w| (*w).max(0)).collect();
    }
    let (a, t) = (i128::from(amount), i128::from(total));
    let mut shares: Vec<i64> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let w = i128::from((*w).max(0));
        shares.push(i64::try_from(a * w / t).unwrap_or(0));
        remainders.push((a * w % t, i));
    }
    let mut left = amount - shares.iter().sum::<i64>();
    remainders.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    for (_, i) in remainders {
        if left <= 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    shares
}

/// The children of a split parent: its communes (a province's target) or its live villages
/// (a commune's), with the area and keys their figures are read by.
struct Children {
    area: Area,
    keyed: Keyed,
    kind: &'static str,
    list: Vec<(String, String)>,
}

/// What the children hold of the indicator so far in the year: their villages with a team, or
/// their entered values.
fn current_values(
    c: &mut PgConnection,
    indicator: &rows::Indicator,
    children: &Children,
    dens: &HashMap<String, rows::UnitDenominators>,
    (jan, as_of): (chrono::NaiveDate, chrono::NaiveDate),
) -> AppResult<HashMap<String, i64>> {
    Ok(if indicator.fields.source == "villages" {
        dens.iter()
            .map(|(k, u)| (k.clone(), u.villages_with_team))
            .collect()
    } else {
        rows::entered(c, &children.area, children.keyed, jan, as_of)?
            .into_iter()
            .filter(|e| e.code == indicator.fields.code)
            .map(|e| (e.key, e.value))
            .collect()
    })
}

/// The parent's denominator: the sum of its communes' (a province), or its own (a commune).
fn parent_denominator(
    c: &mut PgConnection,
    parent: &Target,
    children: &Children,
    dens: &HashMap<String, rows::UnitDenominators>,
    kind: &str,
    as_of: chrono::NaiveDate,
) -> AppResult<Option<i64>> {
    Ok(if parent.fields.unit_kind == "province" {
        let parts: Vec<i64> = dens.values().filter_map(|u| pick(u, kind)).collect();
        (!parts.is_empty()).then(|| parts.iter().sum())
    } else {
        rows::unit_denominators(c, &children.area, Keyed::Commune, parent.fields.year, as_of)?
            .first()
            .and_then(|u| pick(u, kind))
    })
}

/// Splits target `id` in the caller's transaction (writing the shares unless `dry_run`).
fn split_in(
    c: &mut PgConnection,
    caller: &Caller,
    id: i64,
    overrides: &[(String, i64)],
    dry_run: bool,
) -> AppResult<SplitResult> {
    let (parent, indicator, kind) = splittable(c, caller, id)?;
    let now = crate::reports::vn_month(Utc::now());
    let jan = first_of(parent.fields.year, 1)?;
    let as_of = first_of(parent.fields.year, 12)?.min(now).max(jan);
    let children = children_of(c, &parent)?;
    let dens: HashMap<String, rows::UnitDenominators> =
        rows::unit_denominators(c, &children.area, children.keyed, parent.fields.year, as_of)?
            .into_iter()
            .map(|u| (u.key.clone(), u))
            .collect();
    let current = current_values(c, &indicator, &children, &dens, (jan, as_of))?;
    let parent_den = parent_denominator(c, &parent, &children, &dens, &kind, as_of)?;
    let amount = amount_of(&parent, parent_den)?;
    let parent_current: i64 = current.values().sum();
    let remaining = amount - parent_current;
    let fixed = fixed_children(overrides, &children)?;
    let (shares, unassigned) = shares_of(&children, &dens, &current, &fixed, &kind, remaining);
    if !dry_run {
        write_shares(c, caller, &parent, children.kind, &shares)?;
    }
    Ok(SplitResult {
        parent: parent.into(),
        amount,
        current: parent_current,
        remaining,
        shares,
        unassigned,
        applied: !dry_run,
    })
}

pub async fn split(
    state: &AppState,
    caller: &Caller,
    id: i64,
    overrides: Vec<(String, i64)>,
    dry_run: bool,
) -> AppResult<SplitResult> {
    if !caller.role.is_officer() {
        return Err(AppError::forbidden("only officers split targets"));
    }
    check_overrides(&overrides)?;
    let caller = caller.clone();
    crate::db::run(&state.pool, move |c| {
        c.transaction(|c| split_in(c, &caller, id, &overrides, dry_run))
    })
    .await
}

fn check_overrides(overrides: &[(String, i64)]) -> AppResult<()> {
    let bad: Vec<FieldError> = overrides
        .iter()
        .enumerate()
        .filter(|(_, (_, v))| *v < 0)
        .map(|(i, _)| {
            FieldError::new(
                format!("overrides[{i}].target_value"),
                "out_of_range",
                "a target cannot be negative",
            )
        })
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(bad))
    }
}

/// The target to split, its indicator and its denominator kind: a province's or a commune's
/// target, of an indicator over adults, households, population or villages, that the caller
/// sets the children's targets of.
fn splittable(
    c: &mut PgConnection,
    caller: &Caller,
    id: i64,
) -> AppResult<(Target, rows::Indicator, String)> {
    let parent =
        rows::target(c, &caller.scope(), id)?.ok_or_else(|| AppError::not_found("target"))?;
    let indicator = live_indicator(c, &parent.fields.indicator_code)?;
    let kind = indicator.fields.denominator.clone().unwrap_or_default();
    if !matches!(
        kind.as_str(),
        "adults" | "households" | "population" | "villages"
    ) {
        return Err(AppError::field(
            "indicator_code",
            "no_denominator",
            "only targets of indicators over adults, households, population or villages can be split by gap",
        ));
    }
    let allowed = match (caller.scope(), parent.fields.unit_kind.as_str()) {
        (Scope::Country, "province" | "commune") => true,
        (Scope::Province(p), "province") => p == parent.fields.province_code,
        (Scope::Commune(own), "commune") => parent.fields.commune_code.as_deref() == Some(&own),
        (_, "province" | "commune") => false,
        _ => {
            return Err(AppError::field(
                "unit_kind",
                "not_splittable",
                "only a province's or a commune's target is split",
            ))
        }
    };
    if !allowed {
        return Err(AppError::field(
            "unit_key",
            "outside_scope",
            "you do not set the targets of this unit's children",
        ));
    }
    Ok((parent, indicator, kind))
}

fn children_of(c: &mut PgConnection, parent: &Target) -> AppResult<Children> {
    Ok(if parent.fields.unit_kind == "province" {
        Children {
            area: Area::Province(parent.fields.unit_key.clone()),
            keyed: Keyed::Commune,
            kind: "commune",
            list: crate::db::units::live_children(c, &parent.fields.unit_key)?,
        }
    } else {
        Children {
            area: Area::Commune(parent.fields.unit_key.clone()),
            keyed: Keyed::Village,
            kind: "village",
            list: rows::live_villages(c, &parent.fields.unit_key)?
                .into_iter()
                .map(|(id, name)| (id.to_string(), name))
                .collect(),
        }
    })
}

/// The parent's target as a number: a rate times the parent's denominator, exact to the
/// unit (the smallest count whose rate reaches the target).
fn amount_of(parent: &Target, parent_den: Option<i64>) -> AppResult<i64> {
    Ok(
        match (parent.fields.target_value, parent.fields.target_rate) {
            (Some(v), _) => v,
            (None, Some(r)) => {
                let d = parent_den.ok_or_else(|| {
                    AppError::field(
                        "indicator_code",
                        "no_denominator",
                        "the unit has no denominator for this year; enter it first",
                    )
                })?;
                (r * d as f64 - 1e-9).ceil().max(0.0) as i64
            }
            (None, None) => 0,
        },
    )
}

/// The overrides, each of a child of the parent.
fn fixed_children(
    overrides: &[(String, i64)],
    children: &Children,
) -> AppResult<HashMap<String, i64>> {
    let mut errors = Vec::new();
    let mut fixed = HashMap::new();
    for (i, (key, v)) in overrides.iter().enumerate() {
        if children.list.iter().any(|(k, _)| k == key) {
            fixed.insert(key.clone(), *v);
        } else {
            errors.push(FieldError::new(
                format!("overrides[{i}].unit_key"),
                "unknown_unit",
                format!("{key} is not a {} of this unit", children.kind),
            ));
        }
    }
    if errors.is_empty() {
        Ok(fixed)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Each child's share of what remains after the overrides, in proportion to its gap; and
/// what no child took.
fn shares_of(
    children: &Children,
    dens: &HashMap<String, rows::UnitDenominators>,
    current: &HashMap<String, i64>,
    fixed: &HashMap<String, i64>,
    kind: &str,
    remaining: i64,
) -> (Vec<Share>, i64) {
    let mut left = remaining;
    let mut shares: Vec<Share> = children
        .list
        .iter()
        .map(|(key, name)| {
            let den = dens.get(key).and_then(|u| pick(u, kind));
            let cur = current.get(key).copied().unwrap_or(0);
            let gap = den.map_or(0, |d| (d - cur).max(0));
            let manual = fixed.get(key).copied();
            if let Some(v) = manual {
                left -= v - cur;
            }
            Share {
                unit_key: key.clone(),
                name: name.clone(),
                denominator: den,
                current: cur,
                gap,
                target_value: manual.unwrap_or(cur),
                manual: manual.is_some(),
            }
        })
        .collect();
    let weights: Vec<i64> = shares
        .iter()
        .map(|s| if s.manual { 0 } else { s.gap })
        .collect();
    let parts = proportional(left, &weights);
    for (s, p) in shares.iter_mut().zip(&parts) {
        s.target_value += p;
    }
    (shares, left - parts.iter().sum::<i64>())
}

/// One target per child, split from the parent.
fn write_shares(
    c: &mut PgConnection,
    caller: &Caller,
    parent: &Target,
    child_kind: &str,
    shares: &[Share],
) -> AppResult<()> {
    for s in shares {
        // The parent's indicator, period, province and due date.
        let fields = TargetFields {
            unit_kind: child_kind.into(),
            unit_key: s.unit_key.clone(),
            commune_code: if child_kind == "commune" {
                Some(s.unit_key.clone())
            } else {
                parent.fields.commune_code.clone()
            },
            target_value: Some(s.target_value),
            target_rate: None,
            split_from: Some(parent.id),
            ..parent.fields.clone()
        };
        save_target(c, caller, &fields, None)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::proportional;

    #[test]
    fn shares_follow_the_gaps_and_add_up_exactly() {
        assert_eq!(proportional(180, &[80, 200, 0]), vec![51, 129, 0]);
        assert_eq!(proportional(10, &[1, 1, 1]), vec![1, 1, 1]);
        assert_eq!(proportional(2, &[1, 1, 1]), vec![1, 1, 0]);
        assert_eq!(proportional(0, &[5, 5]), vec![0, 0]);
        assert_eq!(proportional(7, &[0, 0]), vec![0, 0]);
        let shares = proportional(1000, &[333, 333, 334, 1]);
        assert_eq!(shares.iter().sum::<i64>(), 1000);
        assert!(shares.iter().zip([333, 333, 334, 1]).all(|(s, w)| *s <= w));
    }
}
