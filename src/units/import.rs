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

    let mut provinces: Vec<NewUnit> = Vec::new();
    let mut province_index: HashMap<String, usize> = HashMap::new();
    let mut communes: Vec<NewUnit> = Vec::new();
    let mut commune_codes = HashSet::new();

    for record in csv.records() {
        let record = record.map_err(|e| RowError {
            line: e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let err = |message: String| RowError { line, message };
        if record.len() != 6 {
            return Err(err(format!("expected 6 columns, found {}", record.len())));
        }
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let (p_code, p_name, p_type) = (field(0), field(1), field(2));
        let (c_code, c_name, c_type) = (field(3), field(4), field(5));

        if !is_code(p_code, 2) {
            return Err(err(format!("province_code {p_code:?} must be 2 digits")));
        }
        if !is_code(c_code, 5) {
            return Err(err(format!("commune_code {c_code:?} must be 5 digits")));
        }
        check_name("province_name", p_name).map_err(err)?;
        check_name("commune_name", c_name).map_err(err)?;
        if !PROVINCE_TYPES.contains(&p_type) {
            return Err(err(format!(
                "province_type {p_type:?} must be one of {PROVINCE_TYPES:?}"
            )));
        }
        if !COMMUNE_TYPES.contains(&c_type) {
            return Err(err(format!(
                "commune_type {c_type:?} must be one of {COMMUNE_TYPES:?}"
            )));
        }

        match province_index.get(p_code) {
            Some(&i) if provinces[i].name != p_name || provinces[i].unit_type != p_type => {
                return Err(err(format!(
                    "province {p_code} is named {p_name:?} ({p_type}) here but {:?} ({}) earlier",
                    provinces[i].name, provinces[i].unit_type
                )));
            }
            Some(_) => {}
            None => {
                province_index.insert(p_code.to_string(), provinces.len());
                provinces.push(NewUnit {
                    code: p_code.to_string(),
                    name: p_name.to_string(),
                    search_name: fold(p_name),
                    level: "province".into(),
                    unit_type: p_type.to_string(),
                    parent_code: None,
                    province_code: p_code.to_string(),
                    valid_from,
                });
            }
        }
        if !commune_codes.insert(c_code.to_string()) {
            return Err(err(format!("commune_code {c_code} appears twice")));
        }
        communes.push(NewUnit {
            code: c_code.to_string(),
            name: c_name.to_string(),
            search_name: fold(c_name),
            level: "commune".into(),
            unit_type: c_type.to_string(),
            parent_code: Some(p_code.to_string()),
            province_code: p_code.to_string(),
            valid_from,
        });
    }
    if communes.is_empty() {
        return Err(RowError {
            line: 1,
            message: "the file has no rows".into(),
        });
    }
    provinces.extend(communes);
    Ok(provinces)
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

    #[test]
    fn parses_and_orders_parents_first() {
        let csv =
            "province_code,province_name,province_type,commune_code,commune_name,commune_type\n\
                   01,Thành phố Hà Nội,thành phố trung ương,00004,Phường Ba Đình,phường\n\
                   01,Thành phố Hà Nội,thành phố trung ương,00008,Phường Ngọc Hà,phường\n";
        let units = parse(csv.as_bytes(), date()).expect("valid csv");
        assert_eq!(units.len(), 3);
        assert_eq!(units[0].level, "province");
        assert_eq!(units[0].search_name, "thanh pho ha noi");
        assert_eq!(units[2].parent_code.as_deref(), Some("01"));
    }

    #[test]
    fn reports_bad_row_with_line() {
        let csv =
            "province_code,province_name,province_type,commune_code,commune_name,commune_type\n\
                   01,Thành phố Hà Nội,thành phố trung ương,00004,Phường Ba Đình,phường\n\
                   01,Thành phố Hà Nội,thành phố trung ương,0008,Phường Ngọc Hà,phường\n";
        let err = parse(csv.as_bytes(), date()).expect_err("bad code");
        assert_eq!(err.line, 3);
        assert!(err.message.contains("commune_code"));
    }
}
