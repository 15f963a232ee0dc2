//! Reads the official CSV (`province_code, province_name, province_type, commune_code,
//! commune_name, commune_type`) into units, checking every row before anything is written.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use chrono::NaiveDate;

use crate::db::units::NewUnit;
use crate::text::fold;

const PROVINCE_TYPES: [&str; 2] = ["tỉnh", "thành phố trung ương"];
const COMMUNE_TYPES: [&str; 3] = ["xã", "phường", "đặc khu"];
const HEADER: [&str; 6] = [
    "province_code",
    "province_name",
    "province_type",
    "commune_code",
    "commune_name",
    "commune_type",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

/// Units in the order they can be inserted: every province, then every commune.
pub fn parse(reader: impl Read, valid_from: NaiveDate) -> Result<Vec<NewUnit>, RowError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(reader);
    check_header(&mut csv)?;
    let mut units = Units {
        valid_from,
        ..Units::default()
    };
    for record in csv.records() {
        let record = record.map_err(|e| RowError {
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let err = |message: String| RowError { line, message };
        let row = check_row(&record).map_err(err)?;
        units.add(&row).map_err(err)?;
    }
    if units.communes.is_empty() {
        return Err(RowError {
            line: 1,
            message: "the file has no rows".into(),
        });
    }
    units.provinces.extend(units.communes);
    Ok(units.provinces)
}

fn check_header<R: Read>(csv: &mut csv::Reader<R>) -> Result<(), RowError> {
    let header = csv.headers().map_err(|e| RowError {
        line: 1,
        message: e.to_string(),
    })?;
    let names: Vec<&str> = header
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}'))
        .collect();
    if names != HEADER {
        return Err(RowError {
            line: 1,
            message: format!("expected the header {}", HEADER.join(",")),
        });
    }
    Ok(())
}

/// One checked row: the province's code, name and type, then the commune's.
struct Row<'r> {
    province: [&'r str; 3],
    commune: [&'r str; 3],
}

fn check_row(record: &csv::StringRecord) -> Result<Row<'_>, String> {
    if record.len() != 6 {
        return Err(format!("expected 6 columns, found {}", record.len()));
    }
    let field = |i: usize| record.get(i).unwrap_or("").trim();
    let (p_code, p_name, p_type) = (field(0), field(1), field(2));
    let (c_code, c_name, c_type) = (field(3), field(4), field(5));
    if !is_code(p_code, 2) {
        return Err(format!("province_code {p_code:?} must be 2 digits"));
    }
    if !is_code(c_code, 5) {
        return Err(format!("commune_code {c_code:?} must be 5 digits"));
    }
    check_name("province_name", p_name)?;
    check_name("commune_name", c_name)?;
    if !PROVINCE_TYPES.contains(&p_type) {
        return Err(format!(
            "province_type {p_type:?} must be one of {PROVINCE_TYPES:?}"
        ));
    }
    if !COMMUNE_TYPES.contains(&c_type) {
        return Err(format!(
            "commune_type {c_type:?} must be one of {COMMUNE_TYPES:?}"
        ));
    }
    Ok(Row {
        province: [p_code, p_name, p_type],
        commune: [c_code, c_name, c_type],
    })
}

/// The units read so far.
#[derive(Default)]
struct Units {
    valid_from: NaiveDate,
    provinces: Vec<NewUnit>,
    province_index: HashMap<String, usize>,
    communes: Vec<NewUnit>,
    commune_codes: HashSet<String>,
}

impl Units {
    fn add(&mut self, row: &Row<'_>) -> Result<(), String> {
        let [p_code, p_name, p_type] = row.province;
        let [c_code, c_name, c_type] = row.commune;
        match self.province_index.get(p_code) {
            Some(&i)
                if self.provinces[i].name != p_name || self.provinces[i].unit_type != p_type =>
            {
                return Err(format!(
                    "province {p_code} is named {p_name:?} ({p_type}) here but {:?} ({}) earlier",
                    self.provinces[i].name, self.provinces[i].unit_type
                ));
            }
            Some(_) => {}
            None => {
                self.province_index
                    .insert(p_code.to_string(), self.provinces.len());
                let province = self.unit(row.province, "province", None, p_code);
                self.provinces.push(province);
            }
        }
        if !self.commune_codes.insert(c_code.to_string()) {
            return Err(format!("commune_code {c_code} appears twice"));
        }
        let commune = self.unit([c_code, c_name, c_type], "commune", Some(p_code), p_code);
        self.communes.push(commune);
        Ok(())
    }

    fn unit(
        &self,
        [code, name, unit_type]: [&str; 3],
        level: &str,
        parent: Option<&str>,
        province: &str,
    ) -> NewUnit {
        NewUnit {
            code: code.to_string(),
            name: name.to_string(),
            search_name: fold(name),
            level: level.into(),
            unit_type: unit_type.to_string(),
            parent_code: parent.map(str::to_string),
            province_code: province.to_string(),
            valid_from: self.valid_from,
        }
    }
}

fn is_code(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

fn check_name(field: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        Err(format!("{field} is empty"))
    } else if name.chars().count() > 200 {
        Err(format!("{field} is longer than 200 characters"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 7, 1).unwrap_or_default()
    }

    /// Two communes of Hà Nội, the second with the code `second`.
    fn file(second: &str) -> String {
        format!(
            "{}\n\
             01,Thành phố Hà Nội,thành phố trung ương,00004,Phường Ba Đình,phường\n\
             01,Thành phố Hà Nội,thành phố trung ương,{second},Phường Ngọc Hà,phường\n",
            HEADER.join(",")
        )
    }

    #[test]
    fn parses_and_orders_parents_first() {
        let csv = file("00008");
        let units = parse(csv.as_bytes(), date()).expect("valid csv");
        assert_eq!(units.len(), 3);
        assert_eq!(units[0].level, "province");
        assert_eq!(units[0].search_name, "thanh pho ha noi");
        assert_eq!(units[2].parent_code.as_deref(), Some("01"));
    }

    #[test]
    fn reports_bad_row_with_line() {
        let csv = file("0008");
        let err = parse(csv.as_bytes(), date()).expect_err("bad code");
        assert_eq!(err.line, 3);
        assert!(err.message.contains("commune_code"));
    }
}
