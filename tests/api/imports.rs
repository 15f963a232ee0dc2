//! Bulk import of registers from spreadsheets: real files, made from the template in the test
//! or kept in tests/fixtures, through the HTTP API.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use reqwest::{Method, Response, StatusCode};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, Actor, Answer, TestApp};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const COMMUNE: &str = "00004"; // Phường Ba Đình, Hà Nội (01)

/// `by` uploads `bytes` as the file `name` to `/api/v1/imports{query}`.
async fn upload(by: &Actor<'_>, name: &str, bytes: Vec<u8>, query: &str) -> Answer {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
    let form = reqwest::multipart::Form::new().part("file", part);
    let res = by
        .app()
        .request(Method::POST, &format!("/api/v1/imports{query}"))
        .bearer_auth(&by.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    Answer::read(res).await
}

/// The headers of each sheet of the template (the row that names the columns).
async fn template_headers(by: &Actor<'_>) -> Vec<(String, Vec<String>)> {
    let res = by.app().get("/api/v1/imports/template", &by.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], XLSX);
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut book = Xlsx::new(Cursor::new(bytes)).unwrap();
    let mut out = Vec::new();
    for name in book.sheet_names() {
        if name == "Danh mục" {
            continue;
        }
        let range = book.worksheet_range(&name).unwrap();
        let header = range
            .rows()
            .find(|r| r.iter().any(|c| *c == "STT"))
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        out.push((name, header));
    }
    out
}

/// A workbook with a title row merged above each sheet's header, as officers make them.
/// (sheet name, header, rows).
type Sheet = (String, Vec<String>, Vec<Vec<String>>);

fn workbook(sheets: &[Sheet]) -> Vec<u8> {
    let mut book = Workbook::new();
    for (name, header, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(name).unwrap();
        sheet
            .merge_range(0, 0, 0, 4, "DANH SÁCH NĂM 2025", &Format::new().set_bold())
            .unwrap();
        for (c, h) in header.iter().enumerate() {
            sheet.write_string(2, c as u16, h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() {
                    sheet.write_string(3 + r as u32, c as u16, v).unwrap();
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

/// A row for the template's `header`, from (header without `*`, value) pairs.
fn row(header: &[String], values: &[(&str, &str)]) -> Vec<String> {
    header
        .iter()
        .map(|h| {
            let h = h.trim_end_matches('*');
            values
                .iter()
                .find(|(k, _)| *k == h)
                .map_or(String::new(), |(_, v)| v.to_string())
        })
        .collect()
}

/// Rows for the template's `header`, each from (header without `*`, value) pairs.
fn rows(header: &[String], rows: &[&[(&str, &str)]]) -> Vec<Vec<String>> {
    rows.iter().map(|values| row(header, values)).collect()
}

fn count(app: &TestApp, table: &str) -> i64 {
    app.count(&format!("SELECT count(*) AS n FROM {table}"))
}

/// A workbook of the template's three sheets: two villages, two teams (one with its
/// decision), three members (two asking for an account).
fn file_from_template(headers: &[(String, Vec<String>)]) -> Vec<u8> {
    let sheet = |i: usize| headers[i].clone();
    let (vn, vh) = sheet(0);
    let (tn, th) = sheet(1);
    let (mn, mh) = sheet(2);
    let here = ("Mã xã", COMMUNE);
    let village = ("Loại", "Tổ dân phố");
    let villages = rows(
        &vh,
        &[
            &[
                here,
                ("Thôn, ấp", "Tổ dân phố 1"),
                village,
                ("Số hộ", "210"),
            ],
            &[here, ("Thôn, ấp", "Tổ dân phố 2"), village],
        ],
    );
    let teams = rows(
        &th,
        &[
            &[
                here,
                ("Tên tổ", "Tổ CNSCĐ TDP 1"),
                ("Thôn, ấp", "to dan pho 1"),
                ("Số quyết định", "12/QĐ-UBND"),
                ("Ngày quyết định", "05/03/2025"),
            ],
            &[
                here,
                ("Tên tổ", "Tổ CNSCĐ TDP 2"),
                ("Thôn, ấp", "Tổ dân phố 2"),
            ],
        ],
    );
    let first = ("Tên tổ", "Tổ CNSCĐ TDP 1");
    let account = ("Tạo tài khoản", "Có");
    let members = rows(
        &mh,
        &[
            &[
                here,
                first,
                ("Họ và tên", "Nguyễn Văn An"),
                ("Giới tính", "Nam"),
                ("Năm sinh", "1990"),
                ("Số điện thoại", "0912000001"),
                ("Thành phần", "Đoàn Thanh niên"),
                ("Vai trò", "Tổ trưởng"),
                ("Ngày tham gia", "01/04/2025"),
                account,
            ],
            &[
                here,
                first,
                ("Họ và tên", "Trần Thị Bình"),
                ("Giới tính", "Nữ"),
                ("Năm sinh", "1985"),
                ("Số điện thoại", "0912000002"),
                ("Thành phần", "Hội Phụ nữ"),
                account,
            ],
            &[
                here,
                ("Tên tổ", "Tổ CNSCĐ TDP 2"),
                ("Họ và tên", "Lê Văn Cường"),
                ("Năm sinh", "1970"),
                ("Thành phần", "Công an khu vực"),
                ("Vai trò", "Tổ phó"),
            ],
        ],
    );
    workbook(&[(vn, vh, villages), (tn, th, teams), (mn, mh, members)])
}

#[tokio::test]
async fn a_file_made_from_the_template_dry_runs_applies_once_and_reimports_unchanged() {
    let app = spawn_app().await;
    let officer = app
        .actor("xa.officer", "commune_officer", Some(COMMUNE), None)
        .await;
    let headers = template_headers(&officer).await;
    assert_eq!(headers.len(), 3);
    assert!(
        headers[2].1.contains(&"Họ và tên*".to_string()),
        "{headers:?}"
    );
    let file = file_from_template(&headers);
    let sha = format!("{:x}", Sha256::digest(&file));

    a_dry_run_writes_nothing(&officer, &file, &sha, &headers[0].0).await;
    let applied = applying_writes_the_register(&officer, &file).await;
    let activations = applied["activations"].as_array().unwrap();
    a_member_activates_the_account_with_its_code(&app, activations).await;
    let id = applied["id"].as_str().unwrap();
    every_record_is_audited_with_the_import(&officer, id).await;

    // The same file again: nothing changes.
    let again = upload(&officer, "danh-sach.xlsx", file, "")
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(again["counts"]["villages"]["unchanged"], 2);
    assert_eq!(again["counts"]["teams"]["unchanged"], 2);
    assert_eq!(again["counts"]["members"]["unchanged"], 3);
    assert_eq!(again["counts"]["accounts_created"], 0);
    assert_eq!(count(&app, "members"), 3);
    assert_eq!(count(&app, "users"), 3);

    the_import_is_recorded_with_its_report(&officer, id, &sha).await;

    // Another commune's officer sees none of it.
    let other = app
        .actor("xa.khac", "commune_officer", Some("00008"), None)
        .await;
    let list = other.get("/api/v1/imports").await.expect(StatusCode::OK);
    assert_eq!(list["total"], 0);
    assert_eq!(
        other.get(&format!("/api/v1/imports/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

/// Dry run: what would happen, row by row (the first on `first_sheet`'s row 4), and
/// nothing written to the register.
async fn a_dry_run_writes_nothing(officer: &Actor<'_>, file: &[u8], sha: &str, first_sheet: &str) {
    let dry = upload(officer, "danh-sach.xlsx", file.to_vec(), "?dry_run=true")
        .await
        .expect(StatusCode::OK);
    assert_eq!(dry["result"], "dry_run");
    assert_eq!(dry["sha256"], sha);
    assert_eq!(dry["counts"]["villages"]["created"], 2);
    assert_eq!(dry["counts"]["teams"]["created"], 2);
    assert_eq!(dry["counts"]["members"]["created"], 3);
    assert_eq!(dry["counts"]["accounts_created"], 2);
    assert_eq!(dry["activations"].as_array().unwrap().len(), 0);
    let first = &dry["rows"][0];
    assert_eq!(first["sheet"], first_sheet);
    assert_eq!(first["row"], 4);
    assert_eq!(first["outcome"], "created");
    let app = officer.app();
    for table in ["villages", "teams", "members", "activation_codes"] {
        assert_eq!(count(app, table), 0, "{table} after a dry run");
    }
    assert_eq!(count(app, "users"), 1);
}

/// Apply: everything, with the accounts' activation codes shown once; the team has its
/// decision and village, the leader its role, affiliation, day and account. Returns the
/// answer.
async fn applying_writes_the_register(officer: &Actor<'_>, file: &[u8]) -> Value {
    let applied = upload(officer, "danh-sach.xlsx", file.to_vec(), "")
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(applied["result"], "applied");
    assert_eq!(applied["counts"]["members"]["created"], 3);
    assert_eq!(applied["activations"].as_array().unwrap().len(), 2);
    assert_eq!(count(officer.app(), "members"), 3);
    assert_eq!(count(officer.app(), "users"), 3);
    let teams = officer
        .get("/api/v1/teams?q=TDP 1")
        .await
        .expect(StatusCode::OK);
    let team = &teams["items"][0];
    assert_eq!(team["decision_number"], "12/QĐ-UBND");
    assert_eq!(team["decision_date"], "2025-03-05");
    assert!(
        team["village_id"].is_i64(),
        "the team is in its village: {team}"
    );
    let members = officer
        .get("/api/v1/members?q=nguyen van an")
        .await
        .expect(StatusCode::OK);
    let an = &members["items"][0];
    assert_eq!(an["team_role"], "leader");
    assert_eq!(an["affiliation"], "youth_union");
    assert_eq!(an["joined_on"], "2025-04-01");
    assert!(an["user_id"].is_string(), "linked to the new account: {an}");
    applied
}

/// A member activates the account with the code from the answer's `activations`.
async fn a_member_activates_the_account_with_its_code(app: &TestApp, activations: &[Value]) {
    let code = activations
        .iter()
        .find(|a| a["username"] == "tv0912000001")
        .unwrap()["code"]
        .as_str()
        .unwrap();
    let pair = app
        .anyone()
        .activate(code, "tre xanh bên lũy")
        .await
        .expect(StatusCode::OK);
    let me = app
        .acting(pair["access_token"].as_str().unwrap())
        .get("/api/v1/me")
        .await
        .expect(StatusCode::OK);
    assert_eq!(me["role"], "team_leader");
}

/// `POST /api/v1/auth/activate` with `code` and a new `password`, signed in as no one.
/// Every record the import `id` created is audited with its id, naming the record and the
/// commune it sits in (an account: its team's).
async fn every_record_is_audited_with_the_import(officer: &Actor<'_>, id: &str) {
    let audit = officer
        .get(&format!("/api/v1/audit?import_id={id}&page_size=100"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        audit["total"],
        2 + 2 + 3 + 2,
        "villages, teams, members, accounts"
    );
    assert!(audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["import_id"] == id));
    for e in audit["items"].as_array().unwrap() {
        let place = (e["province_code"].as_str(), e["commune_code"].as_str());
        assert!(
            matches!(place, (Some(p), Some(c)) if p.len() == 2 && c.len() == 5),
            "{e}"
        );
        assert!(!e["entity_id"].as_str().unwrap_or("").is_empty(), "{e}");
    }
}

/// The records: who, when, file name and hash, counts, result; the report as XLSX.
async fn the_import_is_recorded_with_its_report(officer: &Actor<'_>, id: &str, sha: &str) {
    let list = officer.get("/api/v1/imports").await.expect(StatusCode::OK);
    assert_eq!(list["total"], 3);
    let record = officer
        .get(&format!("/api/v1/imports/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(record["actor_username"], "xa.officer");
    assert_eq!(record["file_name"], "danh-sach.xlsx");
    assert_eq!(record["sha256"], sha);
    assert_eq!(record["result"], "applied");
    assert_eq!(record["unit_code"], COMMUNE);
    assert_eq!(record["counts"]["members"]["created"], 3);
    let res = officer
        .app()
        .get(&format!("/api/v1/imports/{id}/report"), &officer.token)
        .await;
    assert_eq!(res.headers()["content-type"], XLSX);
    let mut book = Xlsx::new(Cursor::new(res.bytes().await.unwrap().to_vec())).unwrap();
    let range = book.worksheet_range("Kết quả").unwrap();
    assert_eq!(range.height(), 1 + 7);
    assert!(range
        .rows()
        .skip(1)
        .all(|r| r[3] == Data::String("Tạo mới".into())));
}

#[tokio::test]
async fn changed_rows_update_and_ambiguous_matches_are_listed_not_guessed() {
    let app = spawn_app().await;
    let officer = app
        .actor("xa.officer", "commune_officer", Some(COMMUNE), None)
        .await;
    let headers = template_headers(&officer).await;
    let file = file_from_template(&headers);
    upload(&officer, "a.xlsx", file, "")
        .await
        .expect(StatusCode::CREATED);

    // One change (Bình's affiliation), matched by phone even with the name typed differently.
    let (mn, mh) = headers[2].clone();
    let changed = workbook(&[(
        mn.clone(),
        mh.clone(),
        vec![row(
            &mh,
            &[
                ("Tên tổ", "to cnscd tdp 1"),
                ("Họ và tên", "TRẦN THỊ BÌNH"),
                ("Số điện thoại", "+84 912 000 002"),
                ("Thành phần", "Giáo viên"),
            ],
        )],
    )]);
    let res = upload(&officer, "b.xlsx", changed, "")
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(res["rows"][0]["outcome"], "updated", "{res:#}");
    let id = res["rows"][0]["id"].as_i64().unwrap();
    let member: Value = officer
        .get(&format!("/api/v1/members/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(member["affiliation"], "teacher");
    assert_eq!(member["full_name"], "TRẦN THỊ BÌNH");

    // Two live teams with one name: the answer lists both, nothing is guessed or written.
    let a = app.create_team(COMMUNE, "Tổ trùng tên");
    let b = app.create_team(COMMUNE, "Tổ Trùng Tên");
    let ambiguous = workbook(&[(
        mn,
        mh.clone(),
        vec![row(
            &mh,
            &[
                ("Tên tổ", "To trung ten"),
                ("Họ và tên", "Đỗ Văn Em"),
                ("Thành phần", "Khác"),
            ],
        )],
    )]);
    let before = count(&app, "members");
    let res = upload(&officer, "c.xlsx", ambiguous, "").await;
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "import_rejected").await;
    let error = &body["import"]["rows"][0]["errors"][0];
    assert_eq!(error["code"], "ambiguous_match");
    assert_eq!(error["column"], "C");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains(&a.to_string()) && message.contains(&b.to_string()),
        "{message}"
    );
    assert_eq!(count(&app, "members"), before);
}

#[tokio::test]
async fn row_errors_reject_the_whole_file_with_sheet_row_column_and_code() {
    let app = spawn_app().await;
    let officer = app
        .actor("tinh.officer", "province_officer", Some("01"), None)
        .await;
    app.create_team(COMMUNE, "Tổ CNSCĐ số 1");
    let headers = template_headers(&officer).await;
    let (mn, mh) = headers[2].clone();
    let file = workbook(&[(mn.clone(), mh.clone(), rows_with_errors(&mh))]);
    for query in ["?dry_run=true", ""] {
        let res = upload(&officer, "loi.xlsx", file.clone(), query).await;
        let report = if query.is_empty() {
            let body = res.problem(StatusCode::UNPROCESSABLE_ENTITY, "import_rejected");
            body["import"].clone()
        } else {
            res.expect(StatusCode::OK)
        };
        each_bad_row_has_its_errors(&report, &mn);
    }
    assert_eq!(count(&app, "members"), 0, "nothing is written");
    let list = officer.get("/api/v1/imports").await.expect(StatusCode::OK);
    assert_eq!(list["items"][0]["result"], "rejected");
    assert_eq!(list["items"][1]["result"], "dry_run");

    // A commune officer cannot import into the province.
    let commune = app
        .actor("xa.officer", "commune_officer", Some(COMMUNE), None)
        .await;
    upload(&commune, "loi.xlsx", file, "?unit=01")
        .await
        .problem(StatusCode::FORBIDDEN, "outside_scope");
}

/// Members' rows for the header `mh`: a good one, then one of each mistake (a phone twice in
/// the file, a commune outside the province, a bad phone and affiliation, an unknown team,
/// personal data in the name, no commune).
fn rows_with_errors(mh: &[String]) -> Vec<Vec<String>> {
    let hcm = "25747"; // a commune of Hồ Chí Minh City (79): outside the province
    let team = ("Tên tổ", "Tổ CNSCĐ số 1");
    let other = ("Thành phần", "Khác");
    let here = ("Mã xã", COMMUNE);
    let phone = ("Số điện thoại", "0912000011");
    rows(
        mh,
        &[
            &[here, team, ("Họ và tên", "Người Một"), phone, other],
            &[here, team, ("Họ và tên", "Người Một Lặp"), phone, other],
            &[("Mã xã", hcm), team, ("Họ và tên", "Người Ngoài"), other],
            &[
                here,
                team,
                ("Họ và tên", "Người Hai"),
                ("Số điện thoại", "12345"),
                ("Thành phần", "Không biết"),
            ],
            &[
                here,
                ("Tên tổ", "Tổ không có"),
                ("Họ và tên", "Người Ba"),
                other,
                ("Tạo tài khoản", "Có"),
            ],
            &[
                here,
                team,
                ("Họ và tên", "Gọi 0912345678 mã OTP 123456"),
                other,
            ],
            &[team, ("Họ và tên", "Không mã xã"), other],
        ],
    )
}

/// The error codes of each row of an import's `report`, in order (none for a good row).
fn error_codes(report: &Value) -> Vec<Vec<&str>> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["errors"].as_array().map_or(vec![], |e| {
                e.iter().map(|e| e["code"].as_str().unwrap()).collect()
            })
        })
        .collect()
}

/// The `report` of the file of [`rows_with_errors`] on sheet `mn`: each row's errors by
/// sheet, row, column and code, and six errors counted.
fn each_bad_row_has_its_errors(report: &Value, mn: &str) {
    let rows = report["rows"].as_array().unwrap();
    let codes = error_codes(report);
    assert_eq!(rows[0]["outcome"], "created");
    assert_eq!(codes[1], ["duplicate_in_file"]);
    assert_eq!(rows[1]["sheet"], mn);
    assert_eq!(rows[1]["row"], 5);
    assert_eq!(codes[2], ["outside_scope"]);
    assert_eq!(rows[2]["errors"][0]["column"], "B");
    assert!(
        codes[3].contains(&"invalid_phone") && codes[3].contains(&"unknown_value"),
        "{:?}",
        codes[3]
    );
    assert_eq!(codes[4], ["unknown_team"]);
    assert_eq!(codes[5], ["personal_data"]);
    assert_eq!(codes[6], ["required"]);
    assert!(rows[3]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("số di động"));
    assert_eq!(report["counts"]["errors"], 6);
}

#[tokio::test]
async fn the_hand_made_messy_csv_is_read() {
    let app = spawn_app().await;
    let officer = app
        .actor("xa.officer", "commune_officer", Some(COMMUNE), None)
        .await;
    app.create_team(COMMUNE, "Tổ CNSCĐ số 1");
    app.create_team(COMMUNE, "Tổ CNSCĐ số 2");
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/messy-members-cp1258.csv"
    ))
    .unwrap();
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the fixture is Windows-1258"
    );
    let report = upload(&officer, "messy.csv", bytes, "")
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(report["counts"]["members"]["created"], 4, "{report:#}");
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r["row"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [4, 5, 7, 8]
    );
    let members: Value = officer
        .get("/api/v1/members?page_size=10")
        .await
        .expect(StatusCode::OK);
    let by_name = |n: &str| {
        members["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["full_name"] == n)
            .cloned()
            .unwrap()
    };
    let hoa = by_name("Nguyễn Thị Hoà");
    assert_eq!(hoa["phone"], "0912345678", "the lost leading 0 is back");
    assert_eq!(hoa["birth_year"], 1988);
    assert_eq!(hoa["sex"], "female");
    assert_eq!(hoa["team_role"], "leader");
    assert_eq!(hoa["affiliation"], "womens_union");
    assert_eq!(hoa["joined_on"], "2025-02-03");
    assert_eq!(by_name("Trần Văn Đức")["phone"], "0987654321");
    assert_eq!(by_name("Lê Thị Ánh Tuyết")["affiliation"], "youth_union");
    assert_eq!(by_name("Phạm Quốc Khánh")["phone"], "0358111222");

    // The same list saved as UTF-8 with a BOM and `,` separators: all unchanged.
    let text = encoding_rs::WINDOWS_1258
        .decode(
            &std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/messy-members-cp1258.csv"
            ))
            .unwrap(),
        )
        .0
        .replace(';', ",");
    let mut utf8 = b"\xEF\xBB\xBF".to_vec();
    utf8.extend_from_slice(text.as_bytes());
    let again = upload(&officer, "messy-utf8.csv", utf8, "")
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(again["counts"]["members"]["unchanged"], 4, "{again:#}");
}

#[tokio::test]
async fn a_messy_workbook_with_numbers_and_excel_dates_is_read() {
    let app = spawn_app().await;
    let officer = app
        .actor("tinh.officer", "province_officer", Some("01"), None)
        .await;
    app.create_team(COMMUNE, "Tổ 1");
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .merge_range(0, 0, 1, 5, "UBND TỈNH\nDANH SÁCH", &Format::new())
        .unwrap();
    for (c, h) in [
        "STT",
        "Mã xã",
        "Tên tổ",
        "Họ tên",
        "SĐT",
        "Ngày vào tổ",
        "Nguồn",
        "Năm sinh",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(3, c as u16, *h).unwrap();
    }
    let date = Format::new().set_num_format("dd/mm/yyyy");
    sheet.write_number(4, 0, 1).unwrap();
    sheet.write_number(4, 1, 4).unwrap(); // the commune code lost its zeros: 00004
    sheet.write_string(4, 2, "Tổ 1").unwrap();
    sheet.write_string(4, 3, "Vũ Thị Giang").unwrap();
    sheet.write_number(4, 4, 912555666).unwrap();
    sheet
        .write_datetime_with_format(4, 5, ExcelDateTime::from_ymd(2025, 3, 8).unwrap(), &date)
        .unwrap();
    sheet.write_string(4, 6, "Hội Nông dân").unwrap();
    sheet.write_number(4, 7, 1979).unwrap();
    let report = upload(&officer, "so-lieu.xlsx", book.save_to_buffer().unwrap(), "")
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(report["counts"]["members"]["created"], 1, "{report:#}");
    let id = report["rows"][0]["id"].as_i64().unwrap();
    let m: Value = officer
        .get(&format!("/api/v1/members/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(m["phone"], "0912555666");
    assert_eq!(m["joined_on"], "2025-03-08");
    assert_eq!(m["commune_code"], COMMUNE);
    assert_eq!(m["affiliation"], "farmers_union");
}

#[tokio::test]
async fn bad_files_are_refused_clearly_and_nothing_is_written() {
    let app = spawn_app_with(&[("TOSO_MAX_IMPORT_BYTES", "200000")]).await;
    let officer = app
        .actor("xa.officer", "commune_officer", Some(COMMUNE), None)
        .await;
    app.create_team(COMMUNE, "Tổ 1");
    let dir = std::env::temp_dir().join(format!("toso-vba-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes, code) in bad_files(&dir) {
        let body = upload(&officer, name, bytes, "")
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(body["errors"][0]["field"], "file", "{name}");
        assert_eq!(body["errors"][0]["code"], code, "{body:#}");
    }
    let _ = std::fs::remove_dir_all(dir);

    // Too large: 413 before anything is read.
    upload(&officer, "big.csv", vec![b'a'; 300_000], "")
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    // Not multipart.
    let res = app
        .request(Method::POST, "/api/v1/imports")
        .bearer_auth(&officer.token)
        .header("content-type", "text/csv")
        .body("Tên tổ;Họ và tên")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "unsupported_media_type").await;
    // Not an officer.
    let team = app.create_team(COMMUNE, "Tổ 2");
    let member = app
        .actor("member.one", "team_member", Some(COMMUNE), Some(team))
        .await;
    upload(&member, "x.csv", b"a".to_vec(), "")
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        member.get("/api/v1/imports/template").await.status(),
        StatusCode::FORBIDDEN
    );

    assert_eq!(count(&app, "members"), 0);
    assert_eq!(
        count(&app, "imports"),
        0,
        "unreadable files leave no record"
    );
}

/// Files that hold no register: (name, bytes, the code their refusal names). The macro
/// workbook's VBA project is written in `dir`.
fn bad_files(dir: &std::path::Path) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let text = |s: &str| s.as_bytes().to_vec();
    let vba = dir.join("vbaProject.bin");
    std::fs::write(
        &vba,
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 not really a VBA project",
    )
    .unwrap();
    // Windows-1252 text that Windows-1258 cannot decode either (0x81 is unassigned in both)
    let mut bad = text("Tên tổ;Họ và tên;Thành phần\n");
    bad.extend_from_slice(b"T\x81;X;Y\n");
    vec![
        ("empty.csv", Vec::new(), "empty_file"),
        ("blank.csv", b" \r\n".to_vec(), "empty_file"),
        (
            "photo.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            "not_a_spreadsheet",
        ),
        (
            "old.xls",
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0".to_vec(),
            "legacy_xls",
        ),
        (
            "notes.csv",
            text("Ghi chú;Ngày\nhọp tổ;01/02/2025\n"),
            "unknown_header",
        ),
        (
            "only-header.csv",
            text("Tên tổ;Họ và tên;Thành phần\n"),
            "empty_file",
        ),
        (
            "broken.xlsx",
            b"PK\x03\x04garbage".to_vec(),
            "not_a_spreadsheet",
        ),
        (
            "hidden.xlsx",
            good_book(|book| {
                book.add_worksheet()
                    .set_name("Ẩn")
                    .unwrap()
                    .set_hidden(true);
            }),
            "hidden_sheet",
        ),
        (
            "formula.xlsx",
            good_book(|book| {
                book.worksheet_from_index(0)
                    .unwrap()
                    .write_formula(1, 3, "=1+1")
                    .unwrap();
            }),
            "formulas_not_allowed",
        ),
        (
            "macro.xlsm",
            good_book(|book| {
                book.add_vba_project(&vba).unwrap();
            }),
            "macros_not_allowed",
        ),
        ("bad.csv", bad, "unreadable_encoding"),
    ]
}

/// A workbook of one good member row, with `change` made to it before it is saved.
fn good_book(change: impl FnOnce(&mut Workbook)) -> Vec<u8> {
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    for (c, h) in ["Tên tổ", "Họ và tên", "Thành phần"].iter().enumerate() {
        s.write_string(0, c as u16, *h).unwrap();
    }
    s.write_string(1, 0, "Tổ 1").unwrap();
    s.write_string(1, 1, "Ai Đó").unwrap();
    s.write_string(1, 2, "Khác").unwrap();
    change(&mut book);
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn the_activation_sheet_holds_a_code_and_a_qr_per_account_and_the_template_lists() {
    let app = spawn_app().await;
    let officer = app
        .actor("xa.officer", "commune_officer", Some(COMMUNE), None)
        .await;
    // The template: drop-down lists for the enumerated columns and the caller's commune codes.
    let template = app
        .get("/api/v1/imports/template?kind=members", &officer.token)
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let mut zip = zip::ZipArchive::new(Cursor::new(template.clone())).unwrap();
    let mut sheet = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut sheet)
        .unwrap();
    assert_eq!(
        sheet.matches("<dataValidation ").count(),
        5,
        "commune, sex, affiliation, role, account"
    );
    let mut book = Xlsx::new(Cursor::new(template)).unwrap();
    let lists = book.worksheet_range("Danh mục").unwrap();
    let codes: Vec<String> = lists
        .rows()
        .skip(1)
        .map(|r| r[0].to_string())
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(codes, [COMMUNE]);
    assert!(lists
        .rows()
        .any(|r| r.iter().any(|c| *c == "Đoàn Thanh niên")));
    let members = book.worksheet_range("Thành viên").unwrap();
    assert!(members.rows().any(|r| r[0] == "Ví dụ"), "an example row");

    let headers = template_headers(&officer).await;
    let file = file_from_template(&headers);
    let res = upload_accepting(&officer, file).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["content-type"], XLSX);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/api/v1/imports/"));
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes.clone())).unwrap();
    let images = (0..zip.len())
        .filter(|i| {
            zip.by_index(*i)
                .unwrap()
                .name()
                .unwrap()
                .starts_with("xl/media/")
        })
        .count();
    assert_eq!(images, 2, "one QR per account");
    let mut book = Xlsx::new(Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("Kích hoạt tài khoản").unwrap();
    let lines: Vec<Vec<String>> = sheet
        .rows()
        .skip(1)
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(lines.len(), 2);
    let an = lines.iter().find(|l| l[0] == "Nguyễn Văn An").unwrap();
    assert_eq!(an[1], "Tổ CNSCĐ TDP 1");
    assert_eq!(an[3], "tv0912000001");
    let res = app.anyone().activate(&an[4], "gio-mua-dong-bac-9").await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the sheet's code activates the account"
    );
}

/// `by` uploads `bytes` asking for the activation sheet (XLSX) as the answer.
async fn upload_accepting(by: &Actor<'_>, bytes: Vec<u8>) -> Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name("ds.xlsx");
    by.app()
        .request(Method::POST, "/api/v1/imports")
        .bearer_auth(&by.token)
        .header("accept", XLSX)
        .multipart(reqwest::multipart::Form::new().part("file", part))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_command_line_imports_the_same_files_for_the_operator() {
    let app = spawn_app().await;
    app.create_team(COMMUNE, "Tổ CNSCĐ số 1");
    app.create_team(COMMUNE, "Tổ CNSCĐ số 2");
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/messy-members-cp1258.csv"
    );
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_toso"))
            .args(["import", fixture, "--unit", COMMUNE])
            .args(extra)
            .env("DATABASE_URL", app.db.url())
            .env("TOSO_JWT_SECRET", crate::helpers::JWT_SECRET)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, out) = run(&["--dry-run"]);
    assert!(ok, "{out}");
    assert!(
        out.contains("(dry_run)") && out.contains("members 4/0/0"),
        "{out}"
    );
    assert_eq!(count(&app, "members"), 0);
    let (ok, out) = run(&[]);
    assert!(ok && out.contains("(applied)"), "{out}");
    assert_eq!(count(&app, "members"), 4);
    let (ok, out) = run(&[]);
    assert!(ok && out.contains("members 0/0/4"), "{out}");
    // Audited as the operator's change, with the import's id.
    let n = app.count(
        "SELECT count(*) AS n FROM audit_log WHERE import_id IS NOT NULL AND actor_username = 'operator (command line)'",
    );
    assert_eq!(n, 4);
}

const BIG_TEAMS: [&str; 3] = ["Tổ CNSCĐ số 1", "Tổ CNSCĐ số 2", "Tổ CNSCĐ số 3"];
const MEMBERS: usize = 4_500;
const ACCOUNTS: usize = 4_100;

/// A CSV of `MEMBERS` members spread over `BIG_TEAMS`, the first `ACCOUNTS` with an account,
/// the last with the phone `last_phone`.
fn big_file(last_phone: &str) -> Vec<u8> {
    let mut text = String::from("Mã xã;Tên tổ;Họ và tên;Số điện thoại;Thành phần;Tạo tài khoản\n");
    for i in 0..MEMBERS {
        let phone = if i == MEMBERS - 1 {
            last_phone.to_string()
        } else {
            format!("09{i:08}")
        };
        let account = if i < ACCOUNTS { "Có" } else { "" };
        text.push_str(&format!(
            "{COMMUNE};{};Thành Viên {i};{phone};Khác;{account}\n",
            BIG_TEAMS[i % BIG_TEAMS.len()]
        ));
    }
    text.into_bytes()
}

/// More rows than one write batch (4,000) of members and of accounts: the batched writer still
/// audits every record with the import's id, reports each row's own id, and a file with one bad
/// row (the last, after two batches' worth of good ones) writes nothing.
#[tokio::test]
async fn a_file_larger_than_a_write_batch_is_all_or_nothing_and_fully_audited() {
    let app = spawn_app().await;
    let officer = app
        .actor("xa.officer", "commune_officer", Some(COMMUNE), None)
        .await;
    for t in BIG_TEAMS {
        app.create_team(COMMUNE, t);
    }
    let csv = big_file;
    let users_before = count(&app, "users");

    let res = upload(&officer, "lon.csv", csv("12345"), "").await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "import_rejected").await;
    for table in ["members", "activation_codes"] {
        assert_eq!(count(&app, table), 0, "{table} after a rejected file");
    }
    assert_eq!(count(&app, "users"), users_before);
    assert_eq!(count(&app, "audit_log WHERE import_id IS NOT NULL"), 0);

    let last = format!("09{:08}", MEMBERS - 1);
    let applied = upload(&officer, "lon.csv", csv(&last), "")
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(applied["counts"]["members"]["created"], MEMBERS);
    assert_eq!(applied["counts"]["accounts_created"], ACCOUNTS);
    let rows = applied["rows"].as_array().unwrap();
    let ids: std::collections::HashSet<i64> =
        rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), MEMBERS, "each row has its own record's id");
    assert_eq!(count(&app, "members"), MEMBERS as i64);
    assert_eq!(count(&app, "activation_codes"), ACCOUNTS as i64);
    let activations = applied["activations"].as_array().unwrap();
    assert_eq!(activations.len(), ACCOUNTS);
    // Row 2 is the file's first member: its id is the member named on it.
    let first: Value = officer
        .get(&format!("/api/v1/members/{}", rows[0]["id"]))
        .await
        .expect(StatusCode::OK);
    assert_eq!(first["full_name"], "Thành Viên 0");
    let id = applied["id"].as_str().unwrap();
    assert_eq!(
        count(
            &app,
            &format!(
                "audit_log WHERE import_id = '{id}' AND entity = 'member' AND action = 'create'"
            )
        ),
        MEMBERS as i64
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "audit_log WHERE import_id = '{id}' AND entity = 'user' AND action = 'create'"
            )
        ),
        ACCOUNTS as i64
    );
    assert_eq!(
        count(&app, "audit_log WHERE import_id IS NOT NULL"),
        (MEMBERS + ACCOUNTS) as i64,
        "nothing else is audited under an import"
    );

    // Again: all unchanged, nothing written.
    let again = upload(&officer, "lon.csv", csv(&last), "")
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(again["counts"]["members"]["unchanged"], MEMBERS);
    assert_eq!(count(&app, "members"), MEMBERS as i64);
}

/// An import refuses a row for exactly what a single write through the API refuses: both run
/// the registry's input types (lengths, ranges, the personal-data screen).
#[tokio::test]
async fn rows_are_checked_by_the_same_rules_as_single_writes() {
    let app = spawn_app().await;
    let officer = app
        .actor("tinh.officer", "province_officer", Some("01"), None)
        .await;
    let headers = template_headers(&officer).await;
    let (vn, vh) = headers[0].clone();
    let (tn, th) = headers[1].clone();
    let long_name = "Thôn ".repeat(40) + "A"; // 201 characters
    let here = ("Mã xã", COMMUNE);
    let thon = ("Loại", "Thôn");
    let wide = "Đ".repeat(200);
    let villages = rows(
        &vh,
        &[
            &[here, ("Thôn, ấp", &long_name), thon],
            &[here, ("Thôn, ấp", "Thôn Âm"), thon, ("Số hộ", "-5")],
            &[here, ("Thôn, ấp", &wide), thon],
        ],
    );
    let team = [
        here,
        ("Tên tổ", "Tổ Một"),
        ("Số quyết định", "gọi 0912345678"),
    ];
    let teams = vec![row(&th, &team)];
    let file = workbook(&[(vn, vh, villages), (tn, th, teams)]);
    let report = upload(&officer, "quy-tac.xlsx", file, "?dry_run=true")
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        error_codes(&report),
        [
            vec!["too_long"],
            vec!["invalid_number"],
            vec![],
            vec!["personal_data"]
        ]
    );

    // The same values through the API: refused, and a 200-character name accepted.
    for (body, field) in [
        (
            json!({"commune_code": COMMUNE, "name": long_name, "kind": "thon"}),
            "name",
        ),
        (
            json!({"commune_code": COMMUNE, "name": "Thôn Âm", "kind": "thon", "households": -5}),
            "households",
        ),
    ] {
        let problem = officer
            .post("/api/v1/villages", body)
            .await
            .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    officer
        .post(
            "/api/v1/teams",
            json!({"commune_code": COMMUNE, "name": "Tổ Một", "decision_number": "gọi 0912345678"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    officer
        .create(
            "/api/v1/villages",
            json!({"commune_code": COMMUNE, "name": "Đ".repeat(200), "kind": "thon"}),
        )
        .await;
}
