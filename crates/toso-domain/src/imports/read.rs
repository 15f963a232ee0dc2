//! From the bytes of an uploaded file to sheets of rows of cells: XLSX (read with calamine) or
//! CSV (UTF-8 with or without BOM, UTF-16 with BOM as Excel's "Unicode text", or
//! Windows-1258; `,`, `;` or tab separators). Refused whole, before any row is read: an empty
//! file, one that is not a spreadsheet, the old binary `.xls`, a workbook with macros, with
//! hidden sheets or with formulas, and text that no supported encoding decodes.

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{Data, Reader, SheetVisible, Xlsx};
use chrono::NaiveDate;

use crate::error::{AppError, AppResult};

/// The name of the template's sheet of reference lists, which is never imported.
pub const LISTS_SHEET: &str = "Danh mục";

#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Bool(bool),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text (numbers without a trailing `.0`).
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Cell::Empty => Cow::Borrowed(""),
            Cell::Text(t) => Cow::Borrowed(t.trim()),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                Cow::Owned(format!("{}", *n as i64))
            }
            Cell::Number(n) => Cow::Owned(n.to_string()),
            Cell::Date(d) => Cow::Owned(d.format("%d/%m/%Y").to_string()),
            Cell::Bool(b) => Cow::Borrowed(if *b { "1" } else { "0" }),
        }
    }
}

/// One row: its number in the sheet (1-based, as Excel shows it) and its cells from column A.
pub struct RawRow {
    pub number: u32,
    pub cells: Vec<Cell>,
}

pub type Rows<'a> = Box<dyn Iterator<Item = AppResult<RawRow>> + 'a>;

pub struct RawSheet<'a> {
    pub name: String,
    pub rows: Rows<'a>,
}

/// A file read into memory, ready to give its sheets.
pub enum Workbook<'a> {
    Csv {
        text: Cow<'a, str>,
        delimiter: u8,
        name: String,
    },
    Xlsx(Vec<(String, Vec<RawRow>)>),
}

fn refuse(code: &str, message: impl Into<String>) -> AppError {
    AppError::field("file", code, message)
}

/// Reads `bytes`, named `file_name`; refuses what is not an acceptable spreadsheet.
pub fn open<'a>(bytes: &'a [u8], file_name: &str) -> AppResult<Workbook<'a>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(refuse("empty_file", "Tệp rỗng: không có dòng nào để nhập."));
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return read_xlsx(bytes).map(Workbook::Xlsx);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(refuse(
            "legacy_xls",
            "Tệp Excel 97-2003 (.xls) không được hỗ trợ: hãy lưu lại thành .xlsx hoặc .csv.",
        ));
    }
    let utf16 = bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF");
    if !utf16 && bytes.iter().take(8_192).any(|b| *b == 0) {
        return Err(refuse(
            "not_a_spreadsheet",
            "Tệp không phải bảng tính (.xlsx) hay văn bản CSV.",
        ));
    }
    let text = decode(bytes)?;
    let head: String = text.chars().take(8_192).collect();
    if head
        .chars()
        .any(|c| c == '\0' || (c.is_control() && !matches!(c, '\t' | '\n' | '\r')))
    {
        return Err(refuse(
            "not_a_spreadsheet",
            "Tệp không phải bảng tính (.xlsx) hay văn bản CSV.",
        ));
    }
    let delimiter = sniff_delimiter(&head);
    let name = std::path::Path::new(file_name)
        .file_stem()
        .map_or_else(|| "CSV".to_string(), |s| s.to_string_lossy().into_owned());
    Ok(Workbook::Csv {
        text,
        delimiter,
        name,
    })
}

/// UTF-8 (a BOM is dropped), UTF-16 with a BOM, else Windows-1258 (the Vietnamese Windows code
/// page that Excel uses for "CSV" on Vietnamese Windows). Anything Windows-1258 cannot decode
/// is refused.
fn decode(bytes: &[u8]) -> AppResult<Cow<'_, str>> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest).map(Cow::Borrowed).map_err(|e| {
            refuse(
                "invalid_utf8",
                format!(
                    "Tệp ghi là UTF-8 nhưng có byte sai ở vị trí {}.",
                    e.valid_up_to() + 3
                ),
            )
        });
    }
    for (bom, encoding) in [
        (&b"\xFF\xFE"[..], encoding_rs::UTF_16LE),
        (&b"\xFE\xFF"[..], encoding_rs::UTF_16BE),
    ] {
        if bytes.starts_with(bom) {
            let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[2..]);
            if had_errors {
                return Err(refuse("unreadable_encoding", "Tệp UTF-16 có ký tự hỏng."));
            }
            return Ok(text);
        }
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text));
    }
    let (text, had_errors) = encoding_rs::WINDOWS_1258.decode_without_bom_handling(bytes);
    // The bytes Windows-1258 leaves unassigned decode to C1 controls: another encoding
    // (TCVN3, VNI, Windows-1252 with other letters…) or not text at all.
    if had_errors || text.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)) {
        return Err(refuse(
            "unreadable_encoding",
            "Không đọc được bảng mã của tệp: hãy lưu lại thành \"CSV UTF-8\" hoặc .xlsx.",
        ));
    }
    Ok(Cow::Owned(text.into_owned()))
}

/// The separator used most in the first lines, outside quotes: `;` (Excel in locales whose
/// decimal mark is a comma, as Vietnamese), `,` or tab.
fn sniff_delimiter(head: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in head.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => counts[0] += 1,
            ',' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(1);
    [b';', b',', b'\t'][best]
}

fn read_xlsx(bytes: &[u8]) -> AppResult<Vec<(String, Vec<RawRow>)>> {
    let not_xlsx = |e: calamine::XlsxError| {
        refuse(
            "not_a_spreadsheet",
            format!("Tệp nén không phải bảng tính Excel (.xlsx) đọc được: {e}"),
        )
    };
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(not_xlsx)?;
    if matches!(book.vba_project(), Ok(Some(_))) || has_vba(bytes) {
        return Err(refuse(
            "macros_not_allowed",
            "Bảng tính có macro (VBA): hãy lưu lại thành .xlsx không có macro.",
        ));
    }
    let sheets = book.sheets_metadata().to_vec();
    if let Some(hidden) = sheets.iter().find(|s| s.visible != SheetVisible::Visible) {
        return Err(refuse(
            "hidden_sheet",
            format!(
                "Bảng tính có trang ẩn \"{}\": hãy hiện hoặc xoá trang đó, để thấy hết những gì sẽ được nhập.",
                hidden.name
            ),
        ));
    }
    let mut out = Vec::new();
    for sheet in sheets.iter().filter(|s| s.name != LISTS_SHEET) {
        let formulas = book.worksheet_formula(&sheet.name).map_err(not_xlsx)?;
        if let Some((row, col, _)) = formulas.used_cells().find(|(_, _, f)| !f.is_empty()) {
            let (r0, c0) = formulas.start().unwrap_or((0, 0));
            return Err(refuse(
                "formulas_not_allowed",
                format!(
                    "Trang \"{}\" có công thức ở ô {}{}: hãy dán giá trị (Paste Values) thay cho công thức.",
                    sheet.name,
                    column_letter(c0 as usize + col),
                    r0 as usize + row + 1
                ),
            ));
        }
        let range = book.worksheet_range(&sheet.name).map_err(not_xlsx)?;
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let rows = range
            .rows()
            .enumerate()
            .map(|(i, cells)| RawRow {
                number: r0 + i as u32 + 1,
                cells: std::iter::repeat_n(Cell::Empty, c0 as usize)
                    .chain(cells.iter().map(cell_of))
                    .collect(),
            })
            .collect();
        out.push((sheet.name.clone(), rows));
    }
    Ok(out)
}

/// A macro-enabled workbook holds `xl/vbaProject.bin` whatever its name says.
fn has_vba(bytes: &[u8]) -> bool {
    bytes.windows(14).any(|w| w == b"vbaProject.bin")
}

fn cell_of(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => excel_date(dt.as_f64()).map_or(Cell::Number(dt.as_f64()), Cell::Date),
        Data::DateTimeIso(s) => NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d")
            .map_or_else(|_| Cell::Text(s.clone()), Cell::Date),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Text(format!("#{e:?}")),
    }
}

/// An Excel serial day (1900 system) as a date.
pub fn excel_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    NaiveDate::from_ymd_opt(1899, 12, 30)?
        .checked_add_signed(chrono::Duration::days(serial.floor() as i64))
}

/// `A`, `B`, … `Z`, `AA` for a 0-based column.
pub fn column_letter(mut col: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8_lossy(&out).into_owned()
}

impl<'a> Workbook<'a> {
    /// The sheets, each a stream of rows.
    pub fn sheets(self) -> Vec<RawSheet<'a>> {
        match self {
            Workbook::Xlsx(sheets) => sheets
                .into_iter()
                .map(|(name, rows)| RawSheet {
                    name,
                    rows: Box::new(rows.into_iter().map(Ok)),
                })
                .collect(),
            Workbook::Csv {
                text,
                delimiter,
                name,
            } => {
                vec![RawSheet {
                    name,
                    rows: csv_rows(text, delimiter),
                }]
            }
        }
    }
}

fn csv_rows<'a>(text: Cow<'a, str>, delimiter: u8) -> Rows<'a> {
    let reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(CowReader { text, pos: 0 });
    Box::new(reader.into_records().map(|record| {
        let record = record.map_err(|e| refuse("malformed_csv", format!("Tệp CSV hỏng: {e}")))?;
        // The reader's line is counted from 0 here; a spreadsheet's rows from 1.
        let number = record.position().map_or(0, |p| p.line() as u32 + 1);
        Ok(RawRow {
            number,
            cells: record
                .iter()
                .map(|v| {
                    if v.trim().is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(v.to_string())
                    }
                })
                .collect(),
        })
    }))
}

/// Reads a borrowed or owned text as bytes, for the CSV reader.
struct CowReader<'a> {
    text: Cow<'a, str>,
    pos: usize,
}

impl std::io::Read for CowReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let bytes = self.text.as_bytes();
        let n = buf.len().min(bytes.len() - self.pos);
        buf[..n].copy_from_slice(&bytes[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_encodings_and_letters() {
        assert_eq!(sniff_delimiter("Mã xã;Tên tổ;Họ và tên\n1;2;3"), b';');
        assert_eq!(sniff_delimiter("a,b,c\n\"x;y\",2,3"), b',');
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(27), "AB");
        // "Hà Nội" in Windows-1258: base letters with combining tone marks.
        let bytes = b"Ha\xcc N\xf4\xf2i".to_vec();
        assert!(std::str::from_utf8(&bytes).is_err());
        let text = decode(&bytes).unwrap();
        assert_eq!(crate::text::fold(&text), "ha noi");
        assert_eq!(excel_date(45658.0), NaiveDate::from_ymd_opt(2025, 1, 1));
    }
}
