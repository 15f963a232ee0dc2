//! `Month`: a calendar month in Vietnam (Asia/Ho_Chi_Minh, UTC+7 all year), parsed once.
//!
//! Written `YYYY-MM` on the wire (serde, OpenAPI), stored as the `date` of its first day
//! (`report_periods.month`, `commune_month_totals.month`, the SQL `vn_month()`), bounded by
//! the instants of its first and last local midnight.

use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use diesel::deserialize::{FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{Output, ToSql};
use diesel::sql_types::Date;

/// Vietnam's offset from UTC (no daylight saving).
pub const VN_OFFSET_HOURS: i64 = 7;

/// The years a month may name: four digits from 1900 (what lies outside the range a use
/// allows, such as reports before 2024, is that use's own refusal).
const YEARS: std::ops::RangeInclusive<i32> = 1900..=9999;

/// A calendar month in Vietnam. Ordered by time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Date)]
pub struct Month(NaiveDate);

/// Why a text is not a month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotAMonth;

impl fmt::Display for NotAMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a month is written YYYY-MM, e.g. 2025-10")
    }
}

impl std::error::Error for NotAMonth {}

/// Today in Vietnam (UTC+7, no daylight saving).
pub fn today_local() -> NaiveDate {
    (Utc::now() + Duration::hours(7)).date_naive()
}

impl Month {
    /// Strict: exactly `YYYY-MM`, four ASCII digits of a year from 1900, a dash, two
    /// ASCII digits 01–12 (no sign, no spaces, no other digits).
    pub fn parse(text: &str) -> Result<Month, NotAMonth> {
        let bytes = text.as_bytes();
        let digits = |r: std::ops::Range<usize>| {
            bytes
                .get(r.clone())
                .filter(|b| b.iter().all(u8::is_ascii_digit))
                .and_then(|_| text.get(r))
                .and_then(|s| s.parse::<u32>().ok())
        };
        if bytes.len() != 7 || bytes[4] != b'-' {
            return Err(NotAMonth);
        }
        let year = digits(0..4).and_then(|y| i32::try_from(y).ok());
        let (Some(year), Some(month)) = (year, digits(5..7)) else {
            return Err(NotAMonth);
        };
        if !YEARS.contains(&year) {
            return Err(NotAMonth);
        }
        NaiveDate::from_ymd_opt(year, month, 1)
            .map(Month)
            .ok_or(NotAMonth)
    }

    /// `YYYY-MM`, or a real day `YYYY-MM-DD` standing for its month (the report queries
    /// accept both).
    pub fn parse_or_day(text: &str) -> Result<Month, NotAMonth> {
        match text.get(..7) {
            Some(month) if text.len() == 10 && text.as_bytes()[7] == b'-' => {
                let day = Month::parse(month)?;
                let d = text
                    .get(8..10)
                    .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|d| d.parse::<u32>().ok())
                    .ok_or(NotAMonth)?;
                NaiveDate::from_ymd_opt(day.0.year(), day.0.month(), d)
                    .map(|_| day)
                    .ok_or(NotAMonth)
            }
            _ => Month::parse(text),
        }
    }

    /// The month of a day.
    pub fn of_day(day: NaiveDate) -> Month {
        Month(day.with_day(1).unwrap_or(day))
    }

    /// The Vietnamese month an instant falls in.
    pub fn of(at: DateTime<Utc>) -> Month {
        Month::of_day((at + Duration::hours(VN_OFFSET_HOURS)).date_naive())
    }

    /// The month under way in Vietnam now.
    pub fn current() -> Month {
        Month::of(Utc::now())
    }

    /// Its first day (what the `date` columns store).
    pub fn first_day(self) -> NaiveDate {
        self.0
    }

    /// The month after.
    pub fn next(self) -> Month {
        Month(self.0 + chrono::Months::new(1))
    }

    /// The month before.
    pub fn previous(self) -> Month {
        Month(self.0 - chrono::Months::new(1))
    }

    /// 00:00 Vietnam time on its first day, inclusive.
    pub fn start(self) -> DateTime<Utc> {
        self.0.and_time(chrono::NaiveTime::MIN).and_utc() - Duration::hours(VN_OFFSET_HOURS)
    }

    /// 00:00 Vietnam time on the first day of the next month, exclusive.
    pub fn end(self) -> DateTime<Utc> {
        self.next().start()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.0.year(), self.0.month())
    }
}

impl std::str::FromStr for Month {
    type Err = NotAMonth;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Month::parse(s)
    }
}

impl serde::Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Month::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The pattern of `Month` in the OpenAPI document.
pub const MONTH_PATTERN: &str = r"^[0-9]{4}-(0[1-9]|1[0-2])$";

impl utoipa::PartialSchema for Month {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(MONTH_PATTERN))
            .description(Some("A calendar month in Vietnam (UTC+7), `YYYY-MM`."))
            .examples([serde_json::json!("2025-10")])
            .into()
    }
}

impl utoipa::ToSchema for Month {}

/// A month, or a day standing for its month, in report queries (schema only; the handler
/// parses with `Month::parse_or_day` to answer field errors).
pub struct MonthOrDay;

impl utoipa::PartialSchema for MonthOrDay {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^[0-9]{4}-(0[1-9]|1[0-2])(-[0-3][0-9])?$"))
            .description(Some(
                "`YYYY-MM`, a month in Vietnam (a day, `YYYY-MM-DD`, stands for its month).",
            ))
            .into()
    }
}

impl utoipa::ToSchema for MonthOrDay {}

impl ToSql<Date, Pg> for Month {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> diesel::serialize::Result {
        <NaiveDate as ToSql<Date, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<Date, Pg> for Month {
    fn from_sql(bytes: PgValue<'_>) -> diesel::deserialize::Result<Self> {
        <NaiveDate as FromSql<Date, Pg>>::from_sql(bytes).map(Month::of_day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_exactly_yyyy_mm() {
        assert_eq!(Month::parse("2025-10").unwrap().to_string(), "2025-10");
        assert_eq!(
            Month::parse("2024-01").unwrap().first_day(),
            NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
        );
        for bad in [
            "",
            "2025",
            "2025-1",
            "2025-13",
            "2025-00",
            "+202-05",
            "-2025-05",
            " 2025-05",
            "2025-05 ",
            "2025/05",
            "２０２５-10",
            "2025-1O",
            "1899-12",
            "0999-01",
            "2025-10-01",
        ] {
            assert_eq!(Month::parse(bad), Err(NotAMonth), "{bad:?}");
        }
    }

    #[test]
    fn a_real_day_stands_for_its_month() {
        let oct = Month::parse("2025-10").unwrap();
        assert_eq!(Month::parse_or_day("2025-10-31"), Ok(oct));
        assert_eq!(Month::parse_or_day("2025-10"), Ok(oct));
        assert_eq!(Month::parse_or_day("2025-02-30"), Err(NotAMonth));
        assert_eq!(Month::parse_or_day("2025-10-+1"), Err(NotAMonth));
    }

    #[test]
    fn bounds_are_vietnamese_midnights() {
        let oct = Month::parse("2025-10").unwrap();
        assert_eq!(oct.start().to_rfc3339(), "2025-09-30T17:00:00+00:00");
        assert_eq!(oct.end().to_rfc3339(), "2025-10-31T17:00:00+00:00");
        assert_eq!(Month::of(oct.start()), oct);
        assert_eq!(Month::of(oct.end() - Duration::seconds(1)), oct);
        assert_eq!(Month::of(oct.end()), oct.next());
        assert_eq!(oct.next().previous(), oct);
        let dec = Month::parse("2025-12").unwrap();
        assert_eq!(dec.next().to_string(), "2026-01");
    }

    #[test]
    fn serde_speaks_yyyy_mm() {
        let oct = Month::parse("2025-10").unwrap();
        assert_eq!(serde_json::to_value(oct).unwrap(), "2025-10");
        assert_eq!(
            serde_json::from_value::<Month>("2025-10".into()).unwrap(),
            oct
        );
        assert!(serde_json::from_value::<Month>("2025-1".into()).is_err());
    }
}
