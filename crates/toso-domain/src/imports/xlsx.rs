//! Spreadsheets the import writes: the template of each kind, the per-row report and the
//! activation sheet (a QR code per account).

use rust_xlsxwriter::{DataValidation, Format, Formula, Image, Workbook, Worksheet, XlsxError};

use super::read::LISTS_SHEET;
use super::vocab::{Col, Kind, EXAMPLE_MARK};
use super::{Activation, RowReport};
use crate::error::{AppError, AppResult};

fn err(e: XlsxError) -> AppError {
    AppError::internal(e)
}

/// Rows of the template that carry the drop-down lists.
const TEMPLATE_ROWS: u32 = 5_000;
const TITLE_ROW: u32 = 0;
const HEADER_ROW: u32 = 2;

fn example(col: Col, commune: &str) -> String {
    match col {
        Col::Ordinal => EXAMPLE_MARK.into(),
        Col::Commune => commune.into(),
        Col::VillageName => "Thôn Đông".into(),
        Col::VillageKind => "Thôn".into(),
        Col::Households => "320".into(),
        Col::Population => "1250".into(),
        Col::TeamName => "Tổ CNSCĐ thôn Đông".into(),
        Col::DecisionNumber => "125/QĐ-UBND".into(),
        Col::DecisionDate => "15/03/2025".into(),
        Col::EstablishedOn => "20/03/2025".into(),
        Col::FullName => "Nguyễn Văn An".into(),
        Col::Sex => "Nam".into(),
        Col::BirthYear => "1990".into(),
        Col::Phone => "0912345678".into(),
        Col::Affiliation => "Đoàn Thanh niên".into(),
        Col::TeamRole => "Tổ trưởng".into(),
        Col::JoinedOn => "01/04/2025".into(),
        Col::Account => "Có".into(),
    }
}

/// The enumerated columns, listed on the lists sheet from its third column on.
const ENUM_COLS: [Col; 5] = [
    Col::VillageKind,
    Col::Sex,
    Col::Affiliation,
    Col::TeamRole,
    Col::Account,
];

/// The template's cell formats.
struct Formats {
    title: Format,
    header: Format,
    note: Format,
    text: Format,
}

/// What every sheet of a template needs.
struct TemplateOf<'a> {
    communes: &'a [(String, String)],
    example_commune: String,
    formats: Formats,
}

/// The template of `kinds` (one sheet each) and a sheet of lists: the communes of the caller's
/// scope (`communes`: code, name) and the values of each enumerated column.
pub fn template(kinds: &[Kind], communes: &[(String, String)]) -> AppResult<Vec<u8>> {
    let mut book = Workbook::new();
    let of = TemplateOf {
        communes,
        example_commune: communes
            .first()
            .map_or("00004", |(c, _)| c.as_str())
            .to_string(),
        formats: Formats {
            title: Format::new().set_bold().set_font_size(14),
            header: Format::new()
                .set_bold()
                .set_background_color("#DDEBF7")
                .set_border(rust_xlsxwriter::FormatBorder::Thin),
            note: Format::new().set_italic().set_font_color("#7F7F7F"),
            text: Format::new().set_num_format("@"),
        },
    };
    for kind in kinds {
        template_sheet(book.add_worksheet(), *kind, &of)?;
    }
    lists_sheet(book.add_worksheet(), communes, &of.formats.header)?;
    book.save_to_buffer().map_err(err)
}

fn template_sheet(sheet: &mut Worksheet, kind: Kind, of: &TemplateOf<'_>) -> AppResult<()> {
    sheet.set_name(kind.sheet_name()).map_err(err)?;
    let cols: Vec<Col> = std::iter::once(Col::Ordinal)
        .chain(kind.columns().iter().copied())
        .collect();
    let last = u16::try_from(cols.len() - 1).unwrap_or(0);
    let title = format!("DANH SÁCH {} (mẫu nhập của Tổ Số)", title_of(kind));
    sheet
        .merge_range(TITLE_ROW, 0, TITLE_ROW, last, &title, &of.formats.title)
        .map_err(err)?;
    sheet
        .write_string_with_format(
            1,
            0,
            "Dòng \"Ví dụ\" không được nhập; có thể xoá. Cột có dấu * là bắt buộc.",
            &of.formats.note,
        )
        .map_err(err)?;
    for (i, col) in cols.iter().enumerate() {
        template_column(sheet, kind, (u16::try_from(i).unwrap_or(0), *col), of)?;
    }
    sheet.set_freeze_panes(HEADER_ROW + 1, 0).map_err(err)?;
    Ok(())
}

/// Column `c` of a template sheet: its header, example, width, format and list of values.
fn template_column(
    sheet: &mut Worksheet,
    kind: Kind,
    (c, col): (u16, Col),
    of: &TemplateOf<'_>,
) -> AppResult<()> {
    let required = kind.required().contains(&col) || (col == Col::Commune && of.communes.len() > 1);
    let name = if required {
        format!("{}*", col.header())
    } else {
        col.header().to_string()
    };
    sheet
        .write_string_with_format(HEADER_ROW, c, name, &of.formats.header)
        .map_err(err)?;
    sheet
        .write_string(HEADER_ROW + 1, c, example(col, &of.example_commune))
        .map_err(err)?;
    let width = if matches!(col, Col::Ordinal) { 7 } else { 20 };
    sheet.set_column_width(c, width).map_err(err)?;
    if matches!(col, Col::Phone | Col::Commune | Col::DecisionNumber) {
        // Typed as text, so Excel keeps the leading zeros.
        sheet.set_column_format(c, &of.formats.text).map_err(err)?;
    }
    if let Some(j) = ENUM_COLS.iter().position(|e| *e == col) {
        let n = col.choices().map_or(0, |v| v.len());
        let letter = super::read::column_letter(j + 2);
        let range = format!("${letter}$2:${letter}${}", n + 1);
        list_validation(sheet, c, &range, "Chọn một giá trị trong danh sách.")?;
    }
    if col == Col::Commune && !of.communes.is_empty() {
        let range = format!("$A$2:$A${}", of.communes.len() + 1);
        list_validation(
            sheet,
            c,
            &range,
            "Chọn mã xã trong danh sách (trang Danh mục).",
        )?;
    }
    Ok(())
}

/// Column `c` takes only the values of `range` on the lists sheet.
fn list_validation(sheet: &mut Worksheet, c: u16, range: &str, message: &str) -> AppResult<()> {
    let list = DataValidation::new()
        .allow_list_formula(Formula::new(format!("='{LISTS_SHEET}'!{range}")))
        .set_error_message(message)
        .map_err(err)?;
    sheet
        .add_data_validation(HEADER_ROW + 1, c, TEMPLATE_ROWS, c, &list)
        .map_err(err)?;
    Ok(())
}

/// The lists sheet: the communes (code, name), then the values of each enumerated column.
fn lists_sheet(
    lists: &mut Worksheet,
    communes: &[(String, String)],
    header: &Format,
) -> AppResult<()> {
    lists.set_name(LISTS_SHEET).map_err(err)?;
    lists
        .write_string_with_format(0, 0, "Mã xã", header)
        .map_err(err)?;
    lists
        .write_string_with_format(0, 1, "Tên xã", header)
        .map_err(err)?;
    for (i, (code, name)) in communes.iter().enumerate() {
        let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
        lists.write_string(r, 0, code).map_err(err)?;
        lists.write_string(r, 1, name).map_err(err)?;
    }
    for (j, col) in ENUM_COLS.iter().enumerate() {
        let c = u16::try_from(j + 2).unwrap_or(0);
        lists
            .write_string_with_format(0, c, col.header(), header)
            .map_err(err)?;
        for (i, value) in col.choices().unwrap_or_default().iter().enumerate() {
            lists
                .write_string(u32::try_from(i + 1).unwrap_or(0), c, *value)
                .map_err(err)?;
        }
        lists.set_column_width(c, 24).map_err(err)?;
    }
    lists.set_column_width(1, 30).map_err(err)?;
    Ok(())
}

fn title_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Villages => "THÔN, ẤP, TỔ DÂN PHỐ",
        Kind::Teams => "TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG",
        Kind::Members => "THÀNH VIÊN TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG",
    }
}

fn outcome_vi(o: super::Outcome) -> &'static str {
    match o {
        super::Outcome::Created => "Tạo mới",
        super::Outcome::Updated => "Cập nhật",
        super::Outcome::Unchanged => "Không đổi",
        super::Outcome::Error => "Lỗi",
    }
}

fn entity_vi(e: super::Entity) -> &'static str {
    match e {
        super::Entity::Village => "Thôn, ấp",
        super::Entity::Team => "Tổ",
        super::Entity::Member => "Thành viên",
    }
}

/// A new sheet of `book` named `name`, its first row the bold `headers`, frozen.
fn headed_sheet<'b>(
    book: &'b mut Workbook,
    name: &str,
    headers: &[&str],
) -> AppResult<&'b mut Worksheet> {
    let format = Format::new().set_bold().set_background_color("#DDEBF7");
    let sheet = book.add_worksheet();
    sheet.set_name(name).map_err(err)?;
    for (i, h) in headers.iter().enumerate() {
        let c = u16::try_from(i).unwrap_or(0);
        sheet
            .write_string_with_format(0, c, *h, &format)
            .map_err(err)?;
        sheet.set_column_width(c, 18).map_err(err)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(err)?;
    Ok(sheet)
}

/// The per-row report: one line per row, or per error of a row.
pub fn report(rows: &[RowReport]) -> AppResult<Vec<u8>> {
    let mut book = Workbook::new();
    let sheet = headed_sheet(
        &mut book,
        "Kết quả",
        &[
            "Trang",
            "Dòng",
            "Loại",
            "Kết quả",
            "Mã bản ghi",
            "Tên",
            "Cột",
            "Tiêu đề cột",
            "Mã lỗi",
            "Lỗi",
        ],
    )?;
    let mut r = 1u32;
    for row in rows {
        let lines = row.errors.len().max(1);
        for i in 0..lines {
            let e = row.errors.get(i);
            sheet.write_string(r, 0, &row.sheet).map_err(err)?;
            sheet.write_number(r, 1, f64::from(row.row)).map_err(err)?;
            sheet
                .write_string(r, 2, entity_vi(row.entity))
                .map_err(err)?;
            sheet
                .write_string(r, 3, outcome_vi(row.outcome))
                .map_err(err)?;
            if let Some(id) = row.id {
                sheet.write_number(r, 4, id as f64).map_err(err)?;
            }
            sheet.write_string(r, 5, &row.label).map_err(err)?;
            if let Some(e) = e {
                sheet
                    .write_string(r, 6, e.column.as_deref().unwrap_or(""))
                    .map_err(err)?;
                sheet
                    .write_string(r, 7, e.header.as_deref().unwrap_or(""))
                    .map_err(err)?;
                sheet.write_string(r, 8, &e.code).map_err(err)?;
                sheet.write_string(r, 9, &e.message).map_err(err)?;
            }
            r += 1;
        }
    }
    sheet.set_column_width(9, 60).map_err(err)?;
    book.save_to_buffer().map_err(err)
}

/// The QR code of each line, as PNG, drawn on every core: choosing each code's mask (eight
/// tried, as readers scan best the least ambiguous) is most of a sheet's time.
fn qr_pngs(lines: &[Activation]) -> AppResult<Vec<Vec<u8>>> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let per_thread = lines.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let workers: Vec<_> = lines
            .chunks(per_thread)
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|a| {
                            crate::auth::activation::qr_image(
                                &crate::auth::activation::qr_payload(
                                    &a.issued.username,
                                    &a.issued.code,
                                ),
                                false,
                            )
                        })
                        .collect::<AppResult<Vec<_>>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(lines.len());
        for w in workers {
            let pngs = w
                .join()
                .map_err(|_| AppError::internal("a QR code worker panicked"))??;
            out.extend(pngs);
        }
        Ok(out)
    })
}

/// The activation sheet: each new account's member, team, username, code and QR code.
pub fn activation_sheet(lines: &[Activation]) -> AppResult<Vec<u8>> {
    let mut book = Workbook::new();
    let code = Format::new()
        .set_font_name("Consolas")
        .set_font_size(14)
        .set_bold();
    let sheet = headed_sheet(
        &mut book,
        "Kích hoạt tài khoản",
        &[
            "Họ và tên",
            "Tổ",
            "Mã xã",
            "Tên đăng nhập",
            "Mã kích hoạt",
            "Hết hạn",
            "Mã QR",
        ],
    )?;
    sheet.set_column_width(0, 26).map_err(err)?;
    sheet.set_column_width(1, 26).map_err(err)?;
    sheet.set_column_width(4, 18).map_err(err)?;
    sheet.set_column_width(6, 20).map_err(err)?;
    let pngs = qr_pngs(lines)?;
    for (i, (a, png)) in lines.iter().zip(&pngs).enumerate() {
        let r = u32::try_from(i + 1).unwrap_or(u32::MAX);
        sheet.set_row_height(r, 110).map_err(err)?;
        sheet.write_string(r, 0, &a.full_name).map_err(err)?;
        sheet.write_string(r, 1, &a.team).map_err(err)?;
        sheet.write_string(r, 2, &a.commune_code).map_err(err)?;
        sheet.write_string(r, 3, &a.issued.username).map_err(err)?;
        sheet
            .write_string_with_format(r, 4, &a.issued.code, &code)
            .map_err(err)?;
        let local = a.issued.expires_at + chrono::Duration::hours(7);
        sheet
            .write_string(r, 5, local.format("%d/%m/%Y %H:%M").to_string())
            .map_err(err)?;
        let image = Image::new_from_buffer(png).map_err(err)?;
        sheet
            .insert_image_fit_to_cell(r, 6, &image, true)
            .map_err(err)?;
    }
    book.save_to_buffer().map_err(err)
}
