//! Rules for fields of request bodies, used as `validator` custom functions so a bad value is
//! a 422 field error naming the field, whatever the endpoint.

use chrono::{DateTime, FixedOffset, NaiveDate};
use validator::ValidationError;

/// The earliest date the service accepts for anything that happened (a training, a decision,
/// joining a team): the programme's records start well after it.
pub const EARLIEST: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => panic!("2000-01-01 is a date"),
};

/// Days after today (Vietnam time) that a date may lie: planned trainings and decisions that
/// take effect later, never `9999-12-31`.
pub const FUTURE_MARGIN_DAYS: i64 = 366;

fn window_error(date: NaiveDate) -> Option<ValidationError> {
    let latest = crate::month::today_local() + chrono::Duration::days(FUTURE_MARGIN_DAYS);
    let (code, message) = if date < EARLIEST {
        ("too_old", format!("must be on or after {EARLIEST}"))
    } else if date > latest {
        (
            "too_far_ahead",
            format!(
                "must be at most {FUTURE_MARGIN_DAYS} days from today ({latest} at the latest)"
            ),
        )
    } else {
        return None;
    };
    Some(ValidationError::new(code).with_message(message.into()))
}

/// A date within [`EARLIEST`] ..= today + [`FUTURE_MARGIN_DAYS`].
pub fn plausible_date(date: &NaiveDate) -> Result<(), ValidationError> {
    window_error(*date).map_or(Ok(()), Err)
}

/// A timestamp whose Vietnamese calendar date is a [`plausible_date`].
pub fn plausible_time(at: &DateTime<FixedOffset>) -> Result<(), ValidationError> {
    let local = (at.naive_utc() + chrono::Duration::hours(7)).date();
    window_error(local).map_or(Ok(()), Err)
}

/// Two ends of a span that must come in order (a team's establishment and dissolution, a
/// list's `from` and `to`): 422 on `field` with `code` when both are given and `later` comes
/// before `earlier`.
pub fn in_order<T: PartialOrd>(
    (earlier, later): (Option<T>, Option<T>),
    field: &str,
    code: &str,
    message: &str,
) -> Result<(), crate::error::AppError> {
    match (earlier, later) {
        (Some(earlier), Some(later)) if later < earlier => {
            Err(crate::error::AppError::field(field, code, message))
        }
        _ => Ok(()),
    }
}

/// Free text about work done for citizens: no citizen's identifiers (see `fieldwork::privacy`).
pub fn screened<T: AsRef<str>>(text: T) -> Result<(), ValidationError> {
    match crate::privacy::note_problem(text.as_ref()) {
        None => Ok(()),
        Some(why) => Err(ValidationError::new("personal_data").with_message(why.into())),
    }
}

/// The shortest and the longest password accepted, in characters (the policy's bounds; the
/// rest of it is `auth::password::policy_violation`).
pub const PASSWORD_MIN_LEN: usize = 8;
pub const PASSWORD_MAX_LEN: usize = 128;

/// A password's length: `PASSWORD_MIN_LEN` to `PASSWORD_MAX_LEN` (8 to 128) characters, else `too_weak` (what
/// else makes one weak is checked where it is set, knowing the account:
/// `auth::password::policy_violation`).
pub fn password_length<T: AsRef<str>>(password: T) -> Result<(), ValidationError> {
    if (PASSWORD_MIN_LEN..=PASSWORD_MAX_LEN).contains(&password.as_ref().chars().count()) {
        Ok(())
    } else {
        Err(ValidationError::new("too_weak").with_message(
            format!("password must have {PASSWORD_MIN_LEN} to {PASSWORD_MAX_LEN} characters")
                .into(),
        ))
    }
}

/// Each of a list of free texts [`screened`].
pub fn screened_all(texts: &[String]) -> Result<(), ValidationError> {
    texts.iter().try_for_each(screened)
}

/// A phone's own id (sync `device_id`): an identifier, not free text. ASCII letters, digits,
/// `.`, `_`, `:` and `-`, with at least one letter (a UUID, an Android id, a model and serial),
/// so it cannot carry a name, a phone or ID-card number or an e-mail address.
pub fn device_id(id: &str) -> Result<(), ValidationError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._:-".contains(c);
    if id.chars().all(allowed) && id.chars().any(|c| c.is_ascii_alphabetic()) {
        Ok(())
    } else {
        Err(ValidationError::new("invalid_format").with_message(
            "a device id holds ASCII letters, digits, '.', '_', ':' and '-', with at least \
             one letter"
                .into(),
        ))
    }
}

/// A catalogue entry's stable code (an assistance category, an indicator): 2 to 40 characters,
/// `a-z`, `0-9` and `_`.
pub fn catalogue_code(code: &str) -> Result<(), ValidationError> {
    let ok = (2..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new("invalid_code")
            .with_message("code must be 2 to 40 characters: a-z, 0-9, '_'".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::{in_order, password_length};
    use crate::error::AppError;

    #[test]
    fn two_ends_in_order_or_either_missing_pass_and_reversed_ones_name_the_later_field() {
        let check = |ends| in_order(ends, "to", "invalid_range", "to before from");
        for ends in [
            (Some(1), Some(2)),
            (Some(2), Some(2)),
            (None, Some(1)),
            (Some(1), None),
            (None, None),
        ] {
            assert!(check(ends).is_ok(), "{ends:?}");
        }
        match check((Some(2), Some(1))) {
            Err(AppError::Validation(errors)) => {
                assert_eq!(errors.len(), 1);
                assert_eq!(
                    (errors[0].field.as_str(), errors[0].code.as_str()),
                    ("to", "invalid_range")
                );
            }
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_password_has_8_to_128_characters_counted_not_bytes() {
        assert!(password_length("1234567").is_err());
        assert!(password_length("12345678").is_ok());
        assert!(password_length("mậtkhẩu1").is_ok());
        assert!(password_length("ậ".repeat(128)).is_ok());
        let long = password_length("a".repeat(129)).unwrap_err();
        assert_eq!(long.code, "too_weak");
        assert_eq!(
            long.message.as_deref(),
            Some("password must have 8 to 128 characters")
        );
    }
}
