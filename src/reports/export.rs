//! The monthly report as files for Excel: CSV (UTF-8 with BOM) and XLSX.

use rust_xlsxwriter::{Format, FormatAlign, Workbook};

use super::{Figures, MonthlyReport};
use crate::error::{AppError, AppResult};

/// A column: its Vietnamese header and how to read its figure.
type Column = (String, Box<dyn Fn(&Figures) -> f64>);

fn columns(report: &MonthlyReport) -> Vec<Column> {
    let mut cols: Vec<Column> = vec![
        (
            "Tổ hoạt động".into(),
            Box::new(|f: &Figures| f.teams_active as f64),
        ),
        (
            "Thành viên".into(),
            Box::new(|f: &Figures| f.members_active as f64),
        ),
        (
            "Thành viên mới".into(),
            Box::new(|f: &Figures| f.members_joined as f64),
        ),
        (
            "Thành viên rời tổ".into(),
            Box::new(|f: &Figures| f.members_left as f64),
        ),
        (
            "Thành viên có hỗ trợ".into(),
            Box::new(|f: &Figures| f.members_logging as f64),
        ),
        (
            "Thôn, tổ dân phố".into(),
            Box::new(|f: &Figures| f.villages as f64),
        ),
        (
            "Thôn có tổ".into(),
            Box::new(|f: &Figures| f.villages_with_team as f64),
        ),
        (
            "Tỷ lệ bao phủ".into(),
            Box::new(|f: &Figures| f.village_coverage.unwrap_or(0.0)),
        ),
        (
            "Tập huấn thành viên".into(),
            Box::new(|f: &Figures| f.member_trainings as f64),
        ),
        (
            "Lớp cho người dân".into(),
            Box::new(|f: &Figures| f.citizen_classes as f64),
        ),
        (
            "Lượt tham dự".into(),
            Box::new(|f: &Figures| f.attendance_attended as f64),
        ),
        (
            "Hoàn thành".into(),
            Box::new(|f: &Figures| f.attendance_completed as f64),
        ),
        (
            "Người dân dự lớp".into(),
            Box::new(|f: &Figures| f.class_participants as f64),
        ),
        ("Lượt hỗ trợ".into(), Box::new(|f: &Figures| f.logs as f64)),
        (
            "Người dân được hỗ trợ".into(),
            Box::new(|f: &Figures| f.citizens_helped as f64),
        ),
    ];
    for code in report.totals.by_category.keys() {
        let key = code.clone();
        cols.push((
            format!("Lượt hỗ trợ: {code}"),
            Box::new(move |f: &Figures| f.by_category.get(&key).map_or(0.0, |t| t.logs as f64)),
        ));
    }
    cols
}

const COVERAGE: &str = "Tỷ lệ bao phủ";

fn lines(report: &MonthlyReport) -> Vec<(String, String, &Figures)> {
    let mut out: Vec<(String, String, &Figures)> = report
        .rows
        .iter()
        .map(|r| (r.key.clone(), r.name.clone(), &r.figures))
        .collect();
    out.push((
        report.unit.code.clone(),
        format!("Tổng: {}", report.unit.name),
        &report.totals,
    ));
    out
}

/// CSV with a byte-order mark so Excel reads UTF-8; a number per cell, a row per line.
pub fn csv(report: &MonthlyReport) -> AppResult<Vec<u8>> {
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let cols = columns(report);
        let mut header = vec!["Mã".to_string(), "Tên".to_string()];
        header.extend(cols.iter().map(|(h, _)| h.clone()));
        w.write_record(&header).map_err(AppError::internal)?;
        for (key, name, figures) in lines(report) {
            let mut record = vec![key, name];
            for (h, read) in &cols {
                let v = read(figures);
                record.push(if h == COVERAGE {
                    format!("{v:.4}")
                } else {
                    format!("{v:.0}")
                });
            }
            w.write_record(&record).map_err(AppError::internal)?;
        }
        w.flush().map_err(AppError::internal)?;
    }
    Ok(out)
}

/// XLSX: a title, the unit and month, Vietnamese headers, number formats, frozen header row.
pub fn xlsx(report: &MonthlyReport) -> AppResult<Vec<u8>> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Báo cáo").map_err(AppError::internal)?;
    let title = Format::new().set_bold().set_font_size(14);
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_background_color(0xDDEBF7);
    let integer = Format::new().set_num_format("#,##0");
    let percent = Format::new().set_num_format("0.0%");
    let cols = columns(report);
    let err = |e: rust_xlsxwriter::XlsxError| AppError::internal(e);

    sheet
        .write_string_with_format(0, 0, "Báo cáo hoạt động Tổ công nghệ số cộng đồng", &title)
        .map_err(err)?;
    sheet
        .write_string(
            1,
            0,
            format!("Đơn vị: {} ({})", report.unit.name, report.unit.code),
        )
        .map_err(err)?;
    let state = if report.frozen {
        " (số liệu đã phê duyệt)"
    } else {
        ""
    };
    sheet
        .write_string(2, 0, format!("Tháng: {}{state}", report.month))
        .map_err(err)?;

    let head_row = 4;
    sheet
        .write_string_with_format(head_row, 0, "Mã", &header)
        .map_err(err)?;
    sheet
        .write_string_with_format(head_row, 1, "Tên", &header)
        .map_err(err)?;
    for (i, (h, _)) in cols.iter().enumerate() {
        let col = u16::try_from(i + 2).map_err(AppError::internal)?;
        sheet
            .write_string_with_format(head_row, col, h, &header)
            .map_err(err)?;
        sheet.set_column_width(col, 14).map_err(err)?;
    }
    sheet.set_column_width(1, 36).map_err(err)?;
    for (n, (key, name, figures)) in lines(report).into_iter().enumerate() {
        let row = head_row + 1 + u32::try_from(n).map_err(AppError::internal)?;
        sheet.write_string(row, 0, key).map_err(err)?;
        sheet.write_string(row, 1, name).map_err(err)?;
        for (i, (h, read)) in cols.iter().enumerate() {
            let col = u16::try_from(i + 2).map_err(AppError::internal)?;
            let format = if h == COVERAGE { &percent } else { &integer };
            sheet
                .write_number_with_format(row, col, read(figures), format)
                .map_err(err)?;
        }
    }
    sheet.set_freeze_panes(head_row + 1, 2).map_err(err)?;
    book.save_to_buffer().map_err(err)
}
