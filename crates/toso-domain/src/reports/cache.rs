//! Province and country reports, computed once and served again while, and only while, what
//! they are computed from stands (issue 16: the country report took 1.6–2.9 s to compute).
//!
//! Exact and live by construction: every write to a table a report reads bumps, in the same
//! transaction, a version row of the commune (or province, or everything) and month it touched
//! (statement triggers, migration `report_versions`). A report is kept with the version read in
//! the same snapshot its figures were computed from (one repeatable-read transaction); each
//! request reads the current version first (one indexed sum) and serves the kept report only
//! when the two are equal, so no committed write is ever missing from what is served. The
//! reporting summary (overdue communes, which depends on the time) and `generated_at` are
//! filled at each request. Commune reports are cheap and not kept.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;

use serde::{Deserialize, Serialize};

use super::country::ProvincePart;
use super::discipline::ReportingSummary;
use super::indicators::IndicatorFigure;
use super::{Figures, MonthlyReport, ReportRow, UnitRef};
use crate::db::report_versions;
use crate::db::reports::Area;
use crate::error::{AppError, AppResult};

/// Reports kept: every province and the country for one month, about 0.6 MB each at most.
pub const CAPACITY: usize = 36;
/// Province parts of the country's report kept: every province for 13 months.
const PARTS: usize = 34 * 13;
/// Computations of one report are done one at a time (the others wait, then find it kept).
const FLIGHTS: usize = 16;

type Key = (String, NaiveDate);

struct Entry<V> {
    version: i64,
    value: Arc<V>,
    used: u64,
}

/// Values kept per (unit, month) with the version of what they were computed from, the least
/// recently served making room for a new one.
pub struct Kept<V> {
    entries: Mutex<HashMap<Key, Entry<V>>>,
    capacity: usize,
    tick: AtomicU64,
}

impl<V> Kept<V> {
    pub fn new(capacity: usize) -> Self {
        Kept {
            entries: Mutex::new(HashMap::new()),
            capacity,
            tick: AtomicU64::new(0),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry<V>>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value kept for `key`, when it was computed at `version`.
    pub fn get(&self, key: &Key, version: i64) -> Option<Arc<V>> {
        let mut entries = self.entries();
        let entry = entries.get_mut(key).filter(|e| e.version == version)?;
        entry.used = self.tick.fetch_add(1, Ordering::Relaxed);
        Some(entry.value.clone())
    }

    pub fn put(&self, key: Key, version: i64, value: Arc<V>) {
        let mut entries = self.entries();
        if let Some(old) = entries.get(&key) {
            // A value of a newer snapshot stays (versions only grow).
            if old.version > version {
                return;
            }
        } else if entries.len() >= self.capacity {
            let oldest = entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                entries.remove(&k);
            }
        }
        let used = self.tick.fetch_add(1, Ordering::Relaxed);
        entries.insert(
            key,
            Entry {
                version,
                value,
                used,
            },
        );
    }
}

/// A report as kept: its big parts serialized once, so that serving it is a copy of bytes.
pub struct KeptReport {
    unit: UnitRef,
    month: String,
    frozen: bool,
    /// `"totals":…,"rows":…,"indicators":…`, the middle of the report's JSON object.
    middle: Arc<[u8]>,
}

/// The kept parts of a report, in `MonthlyReport`'s order.
#[derive(Serialize)]
struct Middle<'a> {
    totals: &'a Figures,
    rows: &'a [ReportRow],
    indicators: &'a [IndicatorFigure],
}

#[derive(Deserialize)]
struct OwnedMiddle {
    totals: Figures,
    rows: Vec<ReportRow>,
    indicators: Vec<IndicatorFigure>,
}

/// What comes before the kept parts (`status` is a commune's and never kept).
#[derive(Serialize)]
struct Head<'a> {
    unit: &'a UnitRef,
    month: &'a str,
    generated_at: chrono::DateTime<Utc>,
    frozen: bool,
}

impl KeptReport {
    fn new(r: &MonthlyReport) -> serde_json::Result<Self> {
        let object = serde_json::to_vec(&Middle {
            totals: &r.totals,
            rows: &r.rows,
            indicators: &r.indicators,
        })?;
        // `{…}` without its braces.
        let middle = object
            .get(1..object.len().saturating_sub(1))
            .unwrap_or_default();
        Ok(KeptReport {
            unit: r.unit.clone(),
            month: r.month.clone(),
            frozen: r.frozen,
            middle: Arc::from(middle),
        })
    }
}

/// A kept report's JSON: (head, the kept middle, tail).
pub type JsonParts = (Vec<u8>, Arc<[u8]>, Vec<u8>);

/// A kept report with what is filled at each request: the time and the reporting summary
/// (overdue depends on the time).
pub struct Served {
    kept: Arc<KeptReport>,
    generated_at: chrono::DateTime<Utc>,
    reporting: Option<ReportingSummary>,
}

impl Served {
    /// The JSON body in three parts, the same bytes as `MonthlyReport`'s JSON once put
    /// together: what comes before the kept parts, the kept parts themselves (shared, not
    /// copied), and what comes after.
    pub fn json_parts(&self) -> serde_json::Result<JsonParts> {
        let k = &self.kept;
        let mut head = serde_json::to_vec(&Head {
            unit: &k.unit,
            month: &k.month,
            generated_at: self.generated_at,
            frozen: k.frozen,
        })?;
        head.pop(); // the closing brace
        head.push(b',');
        let mut tail = Vec::new();
        if let Some(reporting) = &self.reporting {
            tail.extend_from_slice(b",\"reporting\":");
            serde_json::to_writer(&mut tail, reporting)?;
        }
        tail.push(b'}');
        Ok((head, k.middle.clone(), tail))
    }

    /// The report itself (for the CSV and spreadsheet exports).
    pub fn report(&self) -> serde_json::Result<MonthlyReport> {
        let k = &self.kept;
        let mut object = Vec::with_capacity(k.middle.len() + 2);
        object.push(b'{');
        object.extend_from_slice(&k.middle);
        object.push(b'}');
        let m: OwnedMiddle = serde_json::from_slice(&object)?;
        Ok(MonthlyReport {
            unit: k.unit.clone(),
            month: k.month.clone(),
            generated_at: self.generated_at,
            frozen: k.frozen,
            status: None,
            totals: m.totals,
            rows: m.rows,
            indicators: m.indicators,
            reporting: self.reporting.clone(),
        })
    }
}

pub struct ReportCache {
    reports: Kept<KeptReport>,
    /// The provinces' parts of the country's report (`country`).
    parts: Kept<ProvincePart>,
    flights: Vec<Arc<tokio::sync::Mutex<()>>>,
}

impl Default for ReportCache {
    fn default() -> Self {
        Self::new(CAPACITY)
    }
}

impl ReportCache {
    pub fn new(capacity: usize) -> Self {
        ReportCache {
            reports: Kept::new(capacity),
            parts: Kept::new(PARTS),
            flights: (0..FLIGHTS)
                .map(|_| Arc::new(tokio::sync::Mutex::new(())))
                .collect(),
        }
    }

    /// Waits for the turn to compute the report of `unit` and `month` (held until dropped).
    pub async fn turn(&self, unit: &str, month: NaiveDate) -> tokio::sync::OwnedMutexGuard<()> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (unit, month).hash(&mut h);
        let i = (h.finish() % FLIGHTS as u64) as usize;
        self.flights[i].clone().lock_owned().await
    }

    /// The kept report of the unit, when what it was computed from has not changed since.
    /// `None` for a report not kept, a changed one, and commune reports.
    pub fn hit(
        &self,
        conn: &mut PgConnection,
        unit: &UnitRef,
        area: &Area,
        month: NaiveDate,
    ) -> AppResult<Option<Served>> {
        let Some(version) = report_versions::of(conn, area, month)? else {
            return Ok(None);
        };
        match self.reports.get(&(unit.code.clone(), month), version) {
            Some(kept) => Ok(Some(fresh(conn, kept, area, month)?)),
            None => Ok(None),
        }
    }

    /// The report, kept if it still stands, else computed and kept.
    pub fn report(
        &self,
        conn: &mut PgConnection,
        unit: UnitRef,
        area: &Area,
        month: NaiveDate,
    ) -> AppResult<Served> {
        if let Some(report) = self.hit(conn, &unit, area, month)? {
            return Ok(report);
        }
        let key = (unit.code.clone(), month);
        // The version and the figures read in one snapshot.
        let (version, report) =
            conn.build_transaction()
                .read_only()
                .repeatable_read()
                .run(|c| -> AppResult<_> {
                    Ok((
                        report_versions::of(c, area, month)?,
                        super::figures_with(c, &self.parts, unit, area, month)?,
                    ))
                })?;
        let kept = Arc::new(KeptReport::new(&report).map_err(AppError::internal)?);
        if let Some(version) = version {
            self.reports.put(key, version, kept.clone());
        }
        fresh(conn, kept, area, month)
    }
}

/// What is filled at each request: the time and the reporting summary (overdue depends on it).
fn fresh(
    conn: &mut PgConnection,
    kept: Arc<KeptReport>,
    area: &Area,
    month: NaiveDate,
) -> AppResult<Served> {
    Ok(Served {
        kept,
        generated_at: Utc::now(),
        reporting: super::reporting(conn, area, month)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::discipline::CommuneRef;

    fn report(reporting: Option<ReportingSummary>) -> MonthlyReport {
        let mut figures = Figures {
            logs: 7,
            citizens_helped: 11,
            village_coverage: Some(0.5),
            ..Default::default()
        };
        figures.by_sex.insert(
            "female".into(),
            super::super::Tally {
                logs: 7,
                citizens: 11,
            },
        );
        MonthlyReport {
            unit: UnitRef {
                code: "01".into(),
                name: "Thành phố Hà Nội".into(),
                level: "province".into(),
            },
            month: "2025-10".into(),
            generated_at: Utc::now(),
            frozen: false,
            status: None,
            totals: figures.clone(),
            rows: vec![ReportRow {
                kind: "commune".into(),
                key: "00004".into(),
                name: "Phường Ba Đình".into(),
                frozen: true,
                figures,
                indicators: vec![IndicatorFigure {
                    code: "vneid".into(),
                    numerator: 3,
                    rate: Some(0.25),
                    ..Default::default()
                }],
            }],
            indicators: Vec::new(),
            reporting,
        }
    }

    #[test]
    fn a_kept_report_is_served_as_the_report_itself() {
        let summary = ReportingSummary {
            due_on: NaiveDate::from_ymd_opt(2025, 11, 5).expect("a day"),
            communes: 2,
            reported: 1,
            on_time: 1,
            reporting_rate: Some(0.5),
            on_time_rate: Some(0.5),
            overdue: vec![CommuneRef {
                code: "00008".into(),
                name: "Phường Hoàn Kiếm".into(),
            }],
        };
        for reporting in [None, Some(summary)] {
            let r = report(reporting.clone());
            let served = Served {
                kept: Arc::new(KeptReport::new(&r).expect("serializes")),
                generated_at: r.generated_at,
                reporting,
            };
            let (head, middle, tail) = served.json_parts().expect("json");
            assert_eq!(
                [head.as_slice(), &middle, tail.as_slice()].concat(),
                serde_json::to_vec(&r).expect("json")
            );
            assert_eq!(served.report().expect("report"), r);
        }
    }

    #[test]
    fn the_least_recently_served_report_makes_room() {
        let cache = Kept::new(2);
        let kept = Arc::new(KeptReport::new(&report(None)).expect("serializes"));
        let month = NaiveDate::from_ymd_opt(2025, 10, 1).expect("a day");
        let key = |u: &str| (u.to_string(), month);
        cache.put(key("01"), 1, kept.clone());
        cache.put(key("79"), 1, kept.clone());
        assert!(cache.get(&key("01"), 1).is_some());
        assert!(cache.get(&key("01"), 2).is_none(), "another version");
        cache.put(key("VN"), 1, kept.clone());
        assert!(cache.get(&key("79"), 1).is_none(), "made room");
        assert!(cache.get(&key("01"), 1).is_some());
        // An older snapshot does not replace a newer one.
        cache.put(key("01"), 5, kept.clone());
        cache.put(key("01"), 4, kept);
        assert!(cache.get(&key("01"), 5).is_some());
    }
}
