//! The monthly report as files for Excel: CSV (UTF-8 with BOM) and XLSX.

use std::borrow::Cow;
use std::collections::HashMap;

use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet};

use super::indicators::IndicatorFigure;
use super::{Figures, MonthlyReport};
use crate::error::{AppError, AppResult};

/// A column: its Vietnamese header and how to read its figure.
type Column = (String, Box<dyn Fn(&Figures) -> f64>);

/// Vietnamese names of the codes of each breakdown.
const OUTCOME_NAMES: [(&str, &str); 4] = [
    ("done", "Đã xong"),
    ("partly_done", "Xong một phần"),
    ("referred", "Chuyển nơi khác"),
    ("could_not_help", "Chưa hỗ trợ được"),
];
const CHANNEL_NAMES: [(&str, &str); 4] = [
    ("home_visit", "Tại nhà"),
    ("commune_centre", "Tại trụ sở xã"),
    ("phone", "Qua điện thoại"),
    ("group_session", "Buổi hướng dẫn nhóm"),
];
const SEX_NAMES: [(&str, &str); 4] = [
    ("male", "Nam"),
    ("female", "Nữ"),
    ("other", "Khác"),
    ("not_given", "Không rõ"),
];
const AGE_NAMES: [(&str, &str); 5] = [
    ("under_18", "Dưới 18 tuổi"),
    ("18_35", "18–35 tuổi"),
    ("36_59", "36–59 tuổi"),
    ("60_plus", "Từ 60 tuổi"),
    ("not_given", "Không rõ"),
];

fn kind_name(kind: &str) -> &'static str {
    match kind {
        "country" => "Cả nước",
        "province" => "Tỉnh, thành phố",
        "commune" => "Xã, phường",
        "village" => "Thôn, tổ dân phố",
        "team" => "Tổ công nghệ số",
        _ => "Khác",
    }
}

/// The columns of one breakdown: logs and citizens for each of its keys, headed by names.
fn breakdown_columns(
    cols: &mut Vec<Column>,
    dimension: &str,
    keys: Vec<(String, String)>,
    read: fn(&Figures) -> &std::collections::BTreeMap<String, super::Tally>,
) {
    for (key, name) in keys {
        let k = key.clone();
        cols.push((
            format!("Lượt hỗ trợ – {dimension}: {name}"),
            Box::new(move |f: &Figures| read(f).get(&k).map_or(0.0, |t| t.logs as f64)),
        ));
        cols.push((
            format!("Người dân được hỗ trợ – {dimension}: {name}"),
            Box::new(move |f: &Figures| read(f).get(&key).map_or(0.0, |t| t.citizens as f64)),
        ));
    }
}

fn named(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, n)| (k.to_string(), n.to_string()))
        .collect()
}

/// A column of a count.
fn count(header: &str, read: fn(&Figures) -> i64) -> Column {
    (header.into(), Box::new(move |f: &Figures| read(f) as f64))
}

/// Every figure of the JSON report, category columns headed by the categories' names.
fn columns(report: &MonthlyReport, category_names: &HashMap<String, String>) -> Vec<Column> {
    let mut cols: Vec<Column> = vec![
        count("Tổ hoạt động", |f| f.teams_active),
        count("Thành viên", |f| f.members_active),
        count("Thành viên mới", |f| f.members_joined),
        count("Thành viên rời tổ", |f| f.members_left),
        count("Thành viên có hỗ trợ", |f| f.members_logging),
        count("Thành viên chưa ghi nhận hỗ trợ", |f| {
            f.members_inactive
        }),
        count("Thôn, tổ dân phố", |f| f.villages),
        count("Thôn có tổ", |f| f.villages_with_team),
        (
            COVERAGE.into(),
            Box::new(|f: &Figures| f.village_coverage.unwrap_or(0.0)),
        ),
        count("Tập huấn thành viên", |f| f.member_trainings),
        count("Lớp cho người dân", |f| f.citizen_classes),
        count("Lượt tham dự", |f| f.attendance_attended),
        count("Hoàn thành", |f| f.attendance_completed),
        count("Người dân dự lớp", |f| f.class_participants),
        count("Lượt hỗ trợ", |f| f.logs),
        count("Người dân được hỗ trợ", |f| f.citizens_helped),
    ];
    let categories = report
        .totals
        .by_category
        .keys()
        .map(|code| {
            let name = category_names.get(code).unwrap_or(code).clone();
            (code.clone(), name)
        })
        .collect();
    breakdown_columns(&mut cols, "lĩnh vực", categories, |f| &f.by_category);
    breakdown_columns(&mut cols, "kết quả", named(&OUTCOME_NAMES), |f| {
        &f.by_outcome
    });
    breakdown_columns(&mut cols, "hình thức", named(&CHANNEL_NAMES), |f| {
        &f.by_channel
    });
    breakdown_columns(&mut cols, "giới tính", named(&SEX_NAMES), |f| &f.by_sex);
    breakdown_columns(&mut cols, "độ tuổi", named(&AGE_NAMES), |f| {
        &f.by_age_band
    });
    cols
}

const COVERAGE: &str = "Tỷ lệ bao phủ";
/// The text columns before the figures.
const LEADING: [&str; 4] = ["Mã", "Tên", "Loại", "Số liệu đã phê duyệt"];

/// One line of the file: its text cells (as in `LEADING`), its figures and its indicators.
type Line<'a> = ([String; 4], &'a Figures, &'a [IndicatorFigure]);

fn lines(report: &MonthlyReport) -> Vec<Line<'_>> {
    let yes = |frozen: bool| if frozen { "Có" } else { "" }.to_string();
    let mut out: Vec<Line<'_>> = report
        .rows
        .iter()
        .map(|r| {
            (
                [
                    r.key.clone(),
                    r.name.clone(),
                    kind_name(&r.kind).to_string(),
                    yes(r.frozen || report.frozen),
                ],
                &r.figures,
                r.indicators.as_slice(),
            )
        })
        .collect();
    out.push((
        [
            report.unit.code.clone(),
            format!("Tổng: {}", report.unit.name),
            "Tổng".into(),
            yes(report.frozen),
        ],
        &report.totals,
        report.indicators.as_slice(),
    ));
    out
}

/// What each indicator adds to a line, in the order of the report's own section.
const INDICATOR_PARTS: [&str; 6] = [
    "tử số",
    "mẫu số",
    "tỷ lệ",
    "chỉ tiêu",
    "tiến độ",
    "đánh giá",
];

fn indicator_headers(report: &MonthlyReport) -> Vec<String> {
    report
        .indicators
        .iter()
        .flat_map(|i| {
            INDICATOR_PARTS
                .iter()
                .map(move |p| format!("{} – {p}", i.name))
        })
        .collect()
}

fn status_name(status: Option<&str>) -> &'static str {
    match status {
        Some("met") => "Đạt",
        Some("on_track") => "Đúng tiến độ",
        Some("behind") => "Chậm",
        _ => "",
    }
}

/// One cell of an indicator: a count, a share (formatted as a percentage), or text.
enum Cell {
    Count(f64),
    Share(f64),
    Text(&'static str),
    Empty,
}

/// The cells of a line's indicators, in the columns of `indicator_headers` (empty where the
/// line does not carry the indicator, as team rows).
fn indicator_cells(report: &MonthlyReport, figures: &[IndicatorFigure]) -> Vec<Cell> {
    let mut out = Vec::new();
    for head in &report.indicators {
        let Some(f) = figures.iter().find(|f| f.code == head.code) else {
            out.extend((0..INDICATOR_PARTS.len()).map(|_| Cell::Empty));
            continue;
        };
        let count = |v: Option<i64>| v.map_or(Cell::Empty, |n| Cell::Count(n as f64));
        let share = |v: Option<f64>| v.map_or(Cell::Empty, Cell::Share);
        out.push(Cell::Count(f.numerator as f64));
        out.push(count(f.denominator));
        out.push(share(f.rate));
        out.push(match (f.target_value, f.target_rate) {
            (Some(v), _) => Cell::Count(v as f64),
            (None, r) => share(r),
        });
        out.push(share(f.progress));
        out.push(Cell::Text(status_name(f.status.as_deref())));
    }
    out
}

/// A text cell of a CSV file, made safe for spreadsheets (OWASP CSV injection): a cell that
/// starts with `=`, `+`, `-`, `@`, a tab, a carriage return (or a line feed, a NUL), or whose
/// first visible character is one of `=+-@` or their full-width forms, could be read as a
/// formula, so it gets a leading `'`. Every text cell of every CSV the API writes goes through
/// this; numbers the API writes itself do not (a negative number stays a number).
pub fn csv_text(text: &str) -> Cow<'_, str> {
    let visible = text
        .trim_start_matches(|c: char| c.is_whitespace() || c.is_control())
        .chars()
        .next();
    let formula_like = matches!(text.chars().next(), Some('\t' | '\r' | '\n' | '\0'))
        || matches!(
            visible,
            Some('=' | '+' | '-' | '@' | '\u{FF1D}' | '\u{FF0B}' | '\u{FF0D}' | '\u{FF20}')
        );
    if formula_like {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// CSV with a byte-order mark so Excel reads UTF-8; a number per cell, a row per line.
pub fn csv(report: &MonthlyReport, category_names: &HashMap<String, String>) -> AppResult<Vec<u8>> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let cols = columns(report, category_names);
        let header: Vec<Cow<'_, str>> = LEADING
            .iter()
            .map(|h| csv_text(h))
            .chain(cols.iter().map(|(h, _)| csv_text(h)))
            .chain(
                indicator_headers(report)
                    .into_iter()
                    .map(|h| Cow::Owned(csv_text(&h).into_owned())),
            )
            .collect();
        w.write_record(header.iter().map(|h| h.as_bytes()))
            .map_err(AppError::internal)?;
        for (text, figures, indicators) in lines(report) {
            let mut record: Vec<String> = text.iter().map(|t| csv_text(t).into_owned()).collect();
            for (h, read) in &cols {
                let v = read(figures);
                record.push(if h == COVERAGE {
                    format!("{v:.4}")
                } else {
                    format!("{v:.0}")
                });
            }
            for cell in indicator_cells(report, indicators) {
                record.push(match cell {
                    Cell::Count(v) => format!("{v:.0}"),
                    Cell::Share(v) => format!("{v:.4}"),
                    Cell::Text(t) => t.to_string(),
                    Cell::Empty => String::new(),
                });
            }
            w.write_record(&record).map_err(AppError::internal)?;
        }
        w.flush().map_err(AppError::internal)?;
    }
    Ok(out)
}

/// The formats of the sheet.
struct Formats {
    header: Format,
    integer: Format,
    percent: Format,
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(e)
}

/// The column index of the `i`-th cell of a line.
fn column(i: usize) -> AppResult<u16> {
    u16::try_from(i).map_err(AppError::internal)
}

/// The title, the unit and the month (approved or not) above the table.
fn write_title(sheet: &mut Worksheet, report: &MonthlyReport) -> AppResult<()> {
    let title = Format::new().set_bold().set_font_size(14);
    sheet
        .write_string_with_format(0, 0, "Báo cáo hoạt động Tổ công nghệ số cộng đồng", &title)
        .map_err(xlsx_error)?;
    sheet
        .write_string(
            1,
            0,
            format!("Đơn vị: {} ({})", report.unit.name, report.unit.code),
        )
        .map_err(xlsx_error)?;
    let state = if report.frozen {
        " (số liệu đã phê duyệt)"
    } else {
        ""
    };
    sheet
        .write_string(2, 0, format!("Tháng: {}{state}", report.month))
        .map_err(xlsx_error)?;
    Ok(())
}

/// The header row: the text columns, the figures' and the indicators' (these two 14 wide).
fn write_headers(
    sheet: &mut Worksheet,
    row: u32,
    format: &Format,
    cols: &[Column],
    indicators: &[String],
) -> AppResult<()> {
    for (i, h) in LEADING.iter().enumerate() {
        sheet
            .write_string_with_format(row, column(i)?, *h, format)
            .map_err(xlsx_error)?;
    }
    let figures = cols.iter().map(|(h, _)| h.as_str());
    let wide = figures.chain(indicators.iter().map(String::as_str));
    for (i, h) in wide.enumerate() {
        let col = column(i + LEADING.len())?;
        sheet
            .write_string_with_format(row, col, h, format)
            .map_err(xlsx_error)?;
        sheet.set_column_width(col, 14).map_err(xlsx_error)?;
    }
    Ok(())
}

/// One line of the table: its text, its figures and its indicators' cells.
fn write_line(
    sheet: &mut Worksheet,
    row: u32,
    formats: &Formats,
    (cols, cells): (&[Column], Vec<Cell>),
    (text, figures): (&[String; 4], &Figures),
) -> AppResult<()> {
    for (i, t) in text.iter().enumerate() {
        sheet.write_string(row, column(i)?, t).map_err(xlsx_error)?;
    }
    let first = LEADING.len();
    for (i, (h, read)) in cols.iter().enumerate() {
        let format = if h == COVERAGE {
            &formats.percent
        } else {
            &formats.integer
        };
        sheet
            .write_number_with_format(row, column(i + first)?, read(figures), format)
            .map_err(xlsx_error)?;
    }
    for (i, cell) in cells.into_iter().enumerate() {
        let col = column(i + first + cols.len())?;
        match cell {
            Cell::Count(v) => sheet.write_number_with_format(row, col, v, &formats.integer),
            Cell::Share(v) => sheet.write_number_with_format(row, col, v, &formats.percent),
            Cell::Text(t) => sheet.write_string(row, col, t),
            Cell::Empty => continue,
        }
        .map_err(xlsx_error)?;
    }
    Ok(())
}

/// XLSX: a title, the unit and month, Vietnamese headers, number formats, frozen header row.
/// Text cells are always written as strings, never as formulas.
pub fn xlsx(
    report: &MonthlyReport,
    category_names: &HashMap<String, String>,
) -> AppResult<Vec<u8>> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Báo cáo").map_err(xlsx_error)?;
    let formats = Formats {
        header: Format::new()
            .set_bold()
            .set_text_wrap()
            .set_align(FormatAlign::Center)
            .set_background_color(0xDDEBF7),
        integer: Format::new().set_num_format("#,##0"),
        percent: Format::new().set_num_format("0.0%"),
    };
    let cols = columns(report, category_names);
    write_title(sheet, report)?;
    let head_row = 4;
    let extra = indicator_headers(report);
    write_headers(sheet, head_row, &formats.header, &cols, &extra)?;
    sheet.set_column_width(1, 36).map_err(xlsx_error)?;
    for (n, (text, figures, indicators)) in lines(report).into_iter().enumerate() {
        let row = head_row + 1 + u32::try_from(n).map_err(AppError::internal)?;
        let cells = indicator_cells(report, indicators);
        write_line(sheet, row, &formats, (&cols, cells), (&text, figures))?;
    }
    sheet
        .set_freeze_panes(head_row + 1, 2)
        .map_err(xlsx_error)?;
    book.save_to_buffer().map_err(xlsx_error)
}

#[cfg(test)]
mod tests {
    use super::csv_text;

    #[test]
    fn cells_that_spreadsheets_read_as_formulas_are_neutralised() {
        for bad in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+cmd|'/C calc'!A0",
            "-1+1",
            "@SUM(1)",
            "\tx",
            "\rx",
            "\nx",
            "\0x",
            " =1+1",
            "\u{a0}@SUM(1)",
            "＝1+1",
            "＋1",
            "－1",
            "＠SUM(1)",
        ] {
            assert_eq!(csv_text(bad), format!("'{bad}"), "{bad:?}");
        }
        for good in ["Thôn 1", "", " Thôn", "1-2", "'quoted", "Tổ CNCĐ", "a=b"] {
            assert_eq!(csv_text(good), good, "{good:?}");
        }
    }
}
