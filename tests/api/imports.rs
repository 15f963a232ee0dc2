//! Bulk import of registers from spreadsheets: real files, made from the template in the test
//! or kept in tests/fixtures, through the HTTP API.

use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use reqwest::{Method, Response, StatusCode};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, TestApp};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const COMMUNE: &str = "00004"; // Phường Ba Đình, Hà Nội (01)

async fn upload(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>, query: &str) -> Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name.to_string());
    let form = reqwest::multipart::Form::new().part("file", part);
    app.request(Method::POST, &format!("/api/v1/imports{query}"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn json(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(got, status, "{body:#}");
    body
}

/// The headers of each sheet of the template (the row that names the columns).
async fn template_headers(app: &TestApp, token: &str) -> Vec<(String, Vec<String>)> {
    let res = app.get("/api/v1/imports/template", token).await;
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

fn count(app: &TestApp, table: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
        .get_result::<N>(&mut app.db.conn())
        .unwrap()
        .n
}

fn file_from_template(headers: &[(String, Vec<String>)]) -> Vec<u8> {
    let sheet = |i: usize| headers[i].clone();
    let (vn, vh) = sheet(0);
    let (tn, th) = sheet(1);
    let (mn, mh) = sheet(2);
    let villages = vec![
        row(
            &vh,
            &[
                ("Mã xã", COMMUNE),
                ("Thôn, ấp", "Tổ dân phố 1"),
                ("Loại", "Tổ dân phố"),
                ("Số hộ", "210"),
            ],
        ),
        row(
            &vh,
            &[
                ("Mã xã", COMMUNE),
                ("Thôn, ấp", "Tổ dân phố 2"),
                ("Loại", "Tổ dân phố"),
            ],
        ),
    ];
    let teams = vec![
        row(
            &th,
            &[
                ("Mã xã", COMMUNE),
                ("Tên tổ", "Tổ CNSCĐ TDP 1"),
                ("Thôn, ấp", "to dan pho 1"),
                ("Số quyết định", "12/QĐ-UBND"),
                ("Ngày quyết định", "05/03/2025"),
            ],
        ),
        row(
            &th,
            &[
                ("Mã xã", COMMUNE),
                ("Tên tổ", "Tổ CNSCĐ TDP 2"),
                ("Thôn, ấp", "Tổ dân phố 2"),
            ],
        ),
    ];
    let members = vec![
        row(
            &mh,
            &[
                ("Mã xã", COMMUNE),
                ("Tên tổ", "Tổ CNSCĐ TDP 1"),
                ("Họ và tên", "Nguyễn Văn An"),
                ("Giới tính", "Nam"),
                ("Năm sinh", "1990"),
                ("Số điện thoại", "0912000001"),
                ("Thành phần", "Đoàn Thanh niên"),
                ("Vai trò", "Tổ trưởng"),
                ("Ngày tham gia", "01/04/2025"),
                ("Tạo tài khoản", "Có"),
            ],
        ),
        row(
            &mh,
            &[
                ("Mã xã", COMMUNE),
                ("Tên tổ", "Tổ CNSCĐ TDP 1"),
                ("Họ và tên", "Trần Thị Bình"),
                ("Giới tính", "Nữ"),
                ("Năm sinh", "1985"),
                ("Số điện thoại", "0912000002"),
                ("Thành phần", "Hội Phụ nữ"),
                ("Tạo tài khoản", "Có"),
            ],
        ),
        row(
            &mh,
            &[
                ("Mã xã", COMMUNE),
                ("Tên tổ", "Tổ CNSCĐ TDP 2"),
                ("Họ và tên", "Lê Văn Cường"),
                ("Năm sinh", "1970"),
                ("Thành phần", "Công an khu vực"),
                ("Vai trò", "Tổ phó"),
            ],
        ),
    ];
    workbook(&[(vn, vh, villages), (tn, th, teams), (mn, mh, members)])
}

#[tokio::test]
async fn a_file_made_from_the_template_dry_runs_applies_once_and_reimports_unchanged() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("xa.officer", "commune_officer", Some(COMMUNE), None)
        .await;
    let headers = template_headers(&app, &officer).await;
    assert_eq!(headers.len(), 3);
    assert!(
        headers[2].1.contains(&"Họ và tên*".to_string()),
        "{headers:?}"
    );
    let file = file_from_template(&headers);
    let sha = format!("{:x}", Sha256::digest(&file));

    // Dry run: what would happen, nothing written to the register.
    let dry = json(
        upload(
            &app,
            &officer,
            "danh-sach.xlsx",
            file.clone(),
            "?dry_run=true",
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(dry["result"], "dry_run");
    assert_eq!(dry["sha256"], sha);
    assert_eq!(dry["counts"]["villages"]["created"], 2);
    assert_eq!(dry["counts"]["teams"]["created"], 2);
    assert_eq!(dry["counts"]["members"]["created"], 3);
    assert_eq!(dry["counts"]["accounts_created"], 2);
    assert_eq!(dry["activations"].as_array().unwrap().len(), 0);
    let first = &dry["rows"][0];
    assert_eq!(first["sheet"], headers[0].0);
    assert_eq!(first["row"], 4);
    assert_eq!(first["outcome"], "created");
    for table in ["villages", "teams", "members", "activation_codes"] {
        assert_eq!(count(&app, table), 0, "{table} after a dry run");
    }
    assert_eq!(count(&app, "users"), 1);

    // Apply: everything, with the accounts' activation codes shown once.
    let applied = json(
        upload(&app, &officer, "danh-sach.xlsx", file.clone(), "").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(applied["result"], "applied");
    assert_eq!(applied["counts"]["members"]["created"], 3);
    let activations = applied["activations"].as_array().unwrap();
    assert_eq!(activations.len(), 2);
    assert_eq!(count(&app, "members"), 3);
    assert_eq!(count(&app, "users"), 3);
    let teams: Value = app
        .acting(&officer)
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
    let members: Value = app
        .acting(&officer)
        .get("/api/v1/members?q=nguyen van an")
        .await
        .expect(StatusCode::OK);
    let an = &members["items"][0];
    assert_eq!(an["team_role"], "leader");
    assert_eq!(an["affiliation"], "youth_union");
    assert_eq!(an["joined_on"], "2025-04-01");
    assert!(an["user_id"].is_string(), "linked to the new account: {an}");

    // A member activates the account with the code from the answer.
    let code = activations
        .iter()
        .find(|a| a["username"] == "tv0912000001")
        .unwrap()["code"]
        .as_str()
        .unwrap();
    let res = app
        .post_json(
            "/api/v1/auth/activate",
            None,
            &serde_json::json!({"code": code, "password": "tre xanh bên lũy"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let pair: Value = res.json().await.unwrap();
    let me: Value = app
        .acting(pair["access_token"].as_str().unwrap())
        .get("/api/v1/me")
        .await
        .expect(StatusCode::OK);
    assert_eq!(me["role"], "team_leader");

    // Every record created is audited with the import's id.
    let id = applied["id"].as_str().unwrap();
    let audit: Value = app
        .acting(&officer)
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
    // Each entry names its record and the commune it sits in (an account: its team's).
    for e in audit["items"].as_array().unwrap() {
        let place = (e["province_code"].as_str(), e["commune_code"].as_str());
        assert!(
            matches!(place, (Some(p), Some(c)) if p.len() == 2 && c.len() == 5),
            "{e}"
        );
        assert!(!e["entity_id"].as_str().unwrap_or("").is_empty(), "{e}");
    }

    // The same file again: nothing changes.
    let again = json(
        upload(&app, &officer, "danh-sach.xlsx", file, "").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(again["counts"]["villages"]["unchanged"], 2);
    assert_eq!(again["counts"]["teams"]["unchanged"], 2);
    assert_eq!(again["counts"]["members"]["unchanged"], 3);
    assert_eq!(again["counts"]["accounts_created"], 0);
    assert_eq!(count(&app, "members"), 3);
    assert_eq!(count(&app, "users"), 3);

    // The records: who, when, file name and hash, counts, result; the report as XLSX.
    let list: Value = app
        .acting(&officer)
        .get("/api/v1/imports")
        .await
        .expect(StatusCode::OK);
    assert_eq!(list["total"], 3);
    let record: Value = app
        .acting(&officer)
        .get(&format!("/api/v1/imports/{id}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(record["actor_username"], "xa.officer");
    assert_eq!(record["file_name"], "danh-sach.xlsx");
    assert_eq!(record["sha256"], sha);
    assert_eq!(record["result"], "applied");
    assert_eq!(record["unit_code"], COMMUNE);
    assert_eq!(record["counts"]["members"]["created"], 3);
    let res = app
        .get(&format!("/api/v1/imports/{id}/report"), &officer)
        .await;
    assert_eq!(res.headers()["content-type"], XLSX);
    let mut book = Xlsx::new(Cursor::new(res.bytes().await.unwrap().to_vec())).unwrap();
    let range = book.worksheet_range("Kết quả").unwrap();
    assert_eq!(range.height(), 1 + 7);
    assert!(range
        .rows()
        .skip(1)
        .all(|r| r[3] == Data::String("Tạo mới".into())));

    // Another commune's officer sees none of it.
    let (_, other) = app
        .user_with_token("xa.khac", "commune_officer", Some("00008"), None)
        .await;
    let list: Value = app
        .acting(&other)
        .get("/api/v1/imports")
        .await
        .expect(StatusCode::OK);
    assert_eq!(list["total"], 0);
    assert_eq!(
        app.get(&format!("/api/v1/imports/{id}"), &other)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn changed_rows_update_and_ambiguous_matches_are_listed_not_guessed() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("xa.officer", "commune_officer", Some(COMMUNE), None)
        .await;
    let headers = template_headers(&app, &officer).await;
    let file = file_from_template(&headers);
    json(
        upload(&app, &officer, "a.xlsx", file, "").await,
        StatusCode::CREATED,
    )
    .await;

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
    let res = json(
        upload(&app, &officer, "b.xlsx", changed, "").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(res["rows"][0]["outcome"], "updated", "{res:#}");
    let id = res["rows"][0]["id"].as_i64().unwrap();
    let member: Value = app
        .acting(&officer)
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
    let res = upload(&app, &officer, "c.xlsx", ambiguous, "").await;
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
    let (_, officer) = app
        .user_with_token("tinh.officer", "province_officer", Some("01"), None)
        .await;
    app.create_team(COMMUNE, "Tổ CNSCĐ số 1");
    let headers = template_headers(&app, &officer).await;
    let (mn, mh) = headers[2].clone();
    let hcm = "25747"; // a commune of Hồ Chí Minh City (79): outside the province
    let rows = vec![
        row(
            &mh,
            &[
                ("Mã xã", COMMUNE),
                ("Tên tổ", "Tổ CNSCĐ số 1"),
                ("Họ và tên", "Người Một"),
                ("Số điện thoại", "0912000011"),
                ("Thành phần", "Khác"),
            ],
        ),
        row(
            &mh,
            &[
                ("Mã xã", COMMUNE),
                ("Tên tổ", "Tổ CNSCĐ số 1"),
                ("Họ và tên", "Người Một Lặp"),
                ("Số điện thoại", "0912000011"),
                ("Thành phần", "Khác"),
            ],
        ),
        row(
            &mh,
            &[
                ("Mã xã", hcm),
                ("Tên tổ", "Tổ CNSCĐ số 1"),
                ("Họ và tên", "Người Ngoài"),
                ("Thành phần", "Khác"),
            ],
        ),
        row(
            &mh,
            &[
                ("Mã xã", COMMUNE),
                ("Tên tổ", "Tổ CNSCĐ số 1"),
                ("Họ và tên", "Người Hai"),
                ("Số điện thoại", "12345"),
                ("Thành phần", "Không biết"),
            ],
        ),
        row(
            &mh,
            &[
                ("Mã xã", COMMUNE),
                ("Tên tổ", "Tổ không có"),
                ("Họ và tên", "Người Ba"),
                ("Thành phần", "Khác"),
                ("Tạo tài khoản", "Có"),
            ],
        ),
        row(
            &mh,
            &[
                ("Mã xã", COMMUNE),
                ("Tên tổ", "Tổ CNSCĐ số 1"),
                ("Họ và tên", "Gọi 0912345678 mã OTP 123456"),
                ("Thành phần", "Khác"),
            ],
        ),
        row(
            &mh,
            &[
                ("Tên tổ", "Tổ CNSCĐ số 1"),
                ("Họ và tên", "Không mã xã"),
                ("Thành phần", "Khác"),
            ],
        ),
    ];
    let file = workbook(&[(mn.clone(), mh, rows)]);
    for query in ["?dry_run=true", ""] {
        let res = upload(&app, &officer, "loi.xlsx", file.clone(), query).await;
        let report = if query.is_empty() {
            let body =
                assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "import_rejected").await;
            body["import"].clone()
        } else {
            json(res, StatusCode::OK).await
        };
        let rows = report["rows"].as_array().unwrap();
        let codes: Vec<Vec<&str>> = rows
            .iter()
            .map(|r| {
                r["errors"].as_array().map_or(vec![], |e| {
                    e.iter().map(|e| e["code"].as_str().unwrap()).collect()
                })
            })
            .collect();
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
    assert_eq!(count(&app, "members"), 0, "nothing is written");
    let list: Value = app
        .acting(&officer)
        .get("/api/v1/imports")
        .await
        .expect(StatusCode::OK);
    assert_eq!(list["items"][0]["result"], "rejected");
    assert_eq!(list["items"][1]["result"], "dry_run");

    // A commune officer cannot import into the province.
    let (_, commune) = app
        .user_with_token("xa.officer", "commune_officer", Some(COMMUNE), None)
        .await;
    let res = upload(&app, &commune, "loi.xlsx", file, "?unit=01").await;
    assert_problem(res, StatusCode::FORBIDDEN, "outside_scope").await;
}

#[tokio::test]
async fn the_hand_made_messy_csv_is_read() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("xa.officer", "commune_officer", Some(COMMUNE), None)
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
    let report = json(
        upload(&app, &officer, "messy.csv", bytes, "").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(report["counts"]["members"]["created"], 4, "{report:#}");
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r["row"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        [4, 5, 7, 8]
    );
    let members: Value = app
        .acting(&officer)
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
    let again = json(
        upload(&app, &officer, "messy-utf8.csv", utf8, "").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(again["counts"]["members"]["unchanged"], 4, "{again:#}");
}

#[tokio::test]
async fn a_messy_workbook_with_numbers_and_excel_dates_is_read() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("tinh.officer", "province_officer", Some("01"), None)
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
    let report = json(
        upload(
            &app,
            &officer,
            "so-lieu.xlsx",
            book.save_to_buffer().unwrap(),
            "",
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(report["counts"]["members"]["created"], 1, "{report:#}");
    let id = report["rows"][0]["id"].as_i64().unwrap();
    let m: Value = app
        .acting(&officer)
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
    let (_, officer) = app
        .user_with_token("xa.officer", "commune_officer", Some(COMMUNE), None)
        .await;
    app.create_team(COMMUNE, "Tổ 1");
    let refused = |code: &'static str| {
        move |body: Value| assert_eq!(body["errors"][0]["code"], code, "{body:#}")
    };
    let good_rows = |book: &mut Workbook| {
        let s = book.add_worksheet();
        for (c, h) in ["Tên tổ", "Họ và tên", "Thành phần"].iter().enumerate() {
            s.write_string(0, c as u16, *h).unwrap();
        }
        s.write_string(1, 0, "Tổ 1").unwrap();
        s.write_string(1, 1, "Ai Đó").unwrap();
        s.write_string(1, 2, "Khác").unwrap();
    };

    type Case = (&'static str, Vec<u8>, Box<dyn Fn(Value)>);
    let mut cases: Vec<Case> = vec![
        ("empty.csv", Vec::new(), Box::new(refused("empty_file"))),
        (
            "blank.csv",
            b" \r\n".to_vec(),
            Box::new(refused("empty_file")),
        ),
        (
            "photo.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            Box::new(refused("not_a_spreadsheet")),
        ),
        (
            "old.xls",
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0".to_vec(),
            Box::new(refused("legacy_xls")),
        ),
        (
            "notes.csv",
            "Ghi chú;Ngày\nhọp tổ;01/02/2025\n".as_bytes().to_vec(),
            Box::new(refused("unknown_header")),
        ),
        (
            "only-header.csv",
            "Tên tổ;Họ và tên;Thành phần\n".as_bytes().to_vec(),
            Box::new(refused("empty_file")),
        ),
        (
            "broken.xlsx",
            b"PK\x03\x04garbage".to_vec(),
            Box::new(refused("not_a_spreadsheet")),
        ),
    ];
    // Hidden sheet.
    let mut book = Workbook::new();
    good_rows(&mut book);
    book.add_worksheet()
        .set_name("Ẩn")
        .unwrap()
        .set_hidden(true);
    cases.push((
        "hidden.xlsx",
        book.save_to_buffer().unwrap(),
        Box::new(refused("hidden_sheet")),
    ));
    // Formulas.
    let mut book = Workbook::new();
    good_rows(&mut book);
    book.worksheet_from_index(0)
        .unwrap()
        .write_formula(1, 3, "=1+1")
        .unwrap();
    cases.push((
        "formula.xlsx",
        book.save_to_buffer().unwrap(),
        Box::new(refused("formulas_not_allowed")),
    ));
    // Macros.
    let dir = std::env::temp_dir().join(format!("toso-vba-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let vba = dir.join("vbaProject.bin");
    std::fs::write(
        &vba,
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 not really a VBA project",
    )
    .unwrap();
    let mut book = Workbook::new();
    good_rows(&mut book);
    book.add_vba_project(&vba).unwrap();
    cases.push((
        "macro.xlsm",
        book.save_to_buffer().unwrap(),
        Box::new(refused("macros_not_allowed")),
    ));
    // Windows-1252 text that Windows-1258 cannot decode either (0x81 is unassigned in both)
    let mut bad = "Tên tổ;Họ và tên;Thành phần\n".as_bytes().to_vec();
    bad.extend_from_slice(b"T\x81;X;Y\n");
    cases.push(("bad.csv", bad, Box::new(refused("unreadable_encoding"))));

    for (name, bytes, check) in cases {
        let res = upload(&app, &officer, name, bytes, "").await;
        let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "file", "{name}");
        check(body);
    }
    let _ = std::fs::remove_dir_all(dir);

    // Too large: 413 before anything is read.
    let res = upload(&app, &officer, "big.csv", vec![b'a'; 300_000], "").await;
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    // Not multipart.
    let res = app
        .request(Method::POST, "/api/v1/imports")
        .bearer_auth(&officer)
        .header("content-type", "text/csv")
        .body("Tên tổ;Họ và tên")
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::BAD_REQUEST, "unsupported_media_type").await;
    // Not an officer.
    let team = app.create_team(COMMUNE, "Tổ 2");
    let (_, member) = app
        .user_with_token("member.one", "team_member", Some(COMMUNE), Some(team))
        .await;
    let res = upload(&app, &member, "x.csv", b"a".to_vec(), "").await;
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(
        app.get("/api/v1/imports/template", &member).await.status(),
        StatusCode::FORBIDDEN
    );

    assert_eq!(count(&app, "members"), 0);
    assert_eq!(
        count(&app, "imports"),
        0,
        "unreadable files leave no record"
    );
}

#[tokio::test]
async fn the_activation_sheet_holds_a_code_and_a_qr_per_account_and_the_template_lists() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("xa.officer", "commune_officer", Some(COMMUNE), None)
        .await;
    // The template: drop-down lists for the enumerated columns and the caller's commune codes.
    let template = app
        .get("/api/v1/imports/template?kind=members", &officer)
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

    let headers = template_headers(&app, &officer).await;
    let file = file_from_template(&headers);
    let res = upload_accepting(&app, &officer, file).await;
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
    let res = app
        .post_json(
            "/api/v1/auth/activate",
            None,
            &serde_json::json!({"code": an[4], "password": "gio-mua-dong-bac-9"}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the sheet's code activates the account"
    );
}

async fn upload_accepting(app: &TestApp, token: &str, bytes: Vec<u8>) -> Response {
    let part = reqwest::multipart::Part::bytes(bytes).file_name("ds.xlsx");
    app.request(Method::POST, "/api/v1/imports")
        .bearer_auth(token)
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
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n = diesel::sql_query(
        "SELECT count(*) AS n FROM audit_log WHERE import_id IS NOT NULL AND actor_username = 'operator (command line)'",
    )
    .get_result::<N>(&mut app.db.conn())
    .unwrap()
    .n;
    assert_eq!(n, 4);
}

/// More rows than one write batch (4,000) of members and of accounts: the batched writer still
/// audits every record with the import's id, reports each row's own id, and a file with one bad
/// row (the last, after two batches' worth of good ones) writes nothing.
#[tokio::test]
async fn a_file_larger_than_a_write_batch_is_all_or_nothing_and_fully_audited() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("xa.officer", "commune_officer", Some(COMMUNE), None)
        .await;
    let teams = ["Tổ CNSCĐ số 1", "Tổ CNSCĐ số 2", "Tổ CNSCĐ số 3"];
    for t in teams {
        app.create_team(COMMUNE, t);
    }
    const MEMBERS: usize = 4_500;
    const ACCOUNTS: usize = 4_100;
    let csv = |last_phone: &str| {
        let mut text =
            String::from("Mã xã;Tên tổ;Họ và tên;Số điện thoại;Thành phần;Tạo tài khoản\n");
        for i in 0..MEMBERS {
            let phone = if i == MEMBERS - 1 {
                last_phone.to_string()
            } else {
                format!("09{i:08}")
            };
            let account = if i < ACCOUNTS { "Có" } else { "" };
            text.push_str(&format!(
                "{COMMUNE};{};Thành Viên {i};{phone};Khác;{account}\n",
                teams[i % teams.len()]
            ));
        }
        text.into_bytes()
    };
    let users_before = count(&app, "users");

    let res = upload(&app, &officer, "lon.csv", csv("12345"), "").await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "import_rejected").await;
    for table in ["members", "activation_codes"] {
        assert_eq!(count(&app, table), 0, "{table} after a rejected file");
    }
    assert_eq!(count(&app, "users"), users_before);
    assert_eq!(count(&app, "audit_log WHERE import_id IS NOT NULL"), 0);

    let last = format!("09{:08}", MEMBERS - 1);
    let applied = json(
        upload(&app, &officer, "lon.csv", csv(&last), "").await,
        StatusCode::CREATED,
    )
    .await;
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
    let first: Value = app
        .acting(&officer)
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
    let again = json(
        upload(&app, &officer, "lon.csv", csv(&last), "").await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(again["counts"]["members"]["unchanged"], MEMBERS);
    assert_eq!(count(&app, "members"), MEMBERS as i64);
}

/// An import refuses a row for exactly what a single write through the API refuses: both run
/// the registry's input types (lengths, ranges, the personal-data screen).
#[tokio::test]
async fn rows_are_checked_by_the_same_rules_as_single_writes() {
    let app = spawn_app().await;
    let (_, officer) = app
        .user_with_token("tinh.officer", "province_officer", Some("01"), None)
        .await;
    let headers = template_headers(&app, &officer).await;
    let (vn, vh) = headers[0].clone();
    let (tn, th) = headers[1].clone();
    let long_name = "Thôn ".repeat(40) + "A"; // 201 characters
    let villages = vec![
        row(
            &vh,
            &[
                ("Mã xã", COMMUNE),
                ("Thôn, ấp", &long_name),
                ("Loại", "Thôn"),
            ],
        ),
        row(
            &vh,
            &[
                ("Mã xã", COMMUNE),
                ("Thôn, ấp", "Thôn Âm"),
                ("Loại", "Thôn"),
                ("Số hộ", "-5"),
            ],
        ),
        row(
            &vh,
            &[
                ("Mã xã", COMMUNE),
                ("Thôn, ấp", &"Đ".repeat(200)),
                ("Loại", "Thôn"),
            ],
        ),
    ];
    let teams = vec![row(
        &th,
        &[
            ("Mã xã", COMMUNE),
            ("Tên tổ", "Tổ Một"),
            ("Số quyết định", "gọi 0912345678"),
        ],
    )];
    let file = workbook(&[(vn, vh, villages), (tn, th, teams)]);
    let report = json(
        upload(&app, &officer, "quy-tac.xlsx", file, "?dry_run=true").await,
        StatusCode::OK,
    )
    .await;
    let codes: Vec<Vec<&str>> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["errors"].as_array().map_or(vec![], |e| {
                e.iter().map(|e| e["code"].as_str().unwrap()).collect()
            })
        })
        .collect();
    assert_eq!(
        codes,
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
            serde_json::json!({"commune_code": COMMUNE, "name": long_name, "kind": "thon"}),
            "name",
        ),
        (
            serde_json::json!({"commune_code": COMMUNE, "name": "Thôn Âm", "kind": "thon", "households": -5}),
            "households",
        ),
    ] {
        let res = app
            .post_json("/api/v1/villages", Some(&officer), &body)
            .await;
        let problem =
            assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let res = app
        .post_json(
            "/api/v1/teams",
            Some(&officer),
            &serde_json::json!({"commune_code": COMMUNE, "name": "Tổ Một", "decision_number": "gọi 0912345678"}),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await;
    let res = app
        .post_json(
            "/api/v1/villages",
            Some(&officer),
            &serde_json::json!({"commune_code": COMMUNE, "name": "Đ".repeat(200), "kind": "thon"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}
