//! Bulk import of the registers officers keep in spreadsheets: villages, teams, members and
//! the members' app accounts, for one commune or a whole province (or, from the command line,
//! the country).
//!
//! A file is read whole into typed rows first (`read`, `vocab`); each row is then matched
//! against the register by its natural key (village: commune + name folded for diacritics;
//! team: commune + folded name; member: team + phone, else team + folded name + birth year)
//! and classified created / updated / unchanged / error. Several candidates for one key are
//! an `ambiguous_match` error listing them, never a guess. A file with any error is rejected
//! whole; a dry run stops before writing; otherwise every change is written in the caller's
//! one transaction, in batches, each record audited with the import's id. The import itself
//! (who, when, file name, SHA-256, counts, result, per-row report) is recorded in every case.

pub mod read;
pub mod vocab;
pub mod xlsx;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use self::read::{column_letter, Cell, RawRow, RawSheet};
use self::vocab::{Col, Kind};
use crate::access::{Caller, Role, Scope};
use crate::auth::activation::{self, CodeKey, Issued};
use crate::db::audit::{Change, NewAuditEntry};
pub use crate::db::imports::{Counts, Tally};
use crate::db::members::{Member, MemberChanges, NewMember};
use crate::db::teams::{NewTeam, Team, TeamChanges};
use crate::db::users::NewUser;
use crate::db::villages::{NewVillage, Village, VillageChanges};
use crate::db::{self, imports as store, units};
use crate::error::{AppError, AppResult};
use crate::ids::{MemberId, PersonId, TeamId, UserId, VillageId};
use crate::registry::members::MemberInput;
use crate::registry::teams::TeamInput;
use crate::registry::villages::VillageInput;
use crate::registry::Audited;
use crate::vocab::AuditAction;
use crate::vocab::{Affiliation, Sex, TeamRole, TeamStatus, VillageKind};

/// Who imports: an officer through the API, or the operator on the command line.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: Option<UserId>,
    pub username: String,
    pub role: Role,
    pub scope: Scope,
}

impl Actor {
    pub fn of(caller: &Caller) -> Self {
        Actor {
            user_id: Some(caller.user_id),
            username: caller.username.clone(),
            role: caller.role,
            scope: caller.scope(),
        }
    }

    pub fn operator() -> Self {
        Actor {
            user_id: None,
            username: crate::accounts::OPERATOR.to_string(),
            role: Role::Admin,
            scope: Scope::Country,
        }
    }
}

/// The unit a file is imported into: a commune or a province, `None` for the country.
#[derive(Clone, Debug)]
pub struct Target {
    pub unit_code: Option<String>,
    pub province_code: Option<String>,
    /// The unit is a commune: rows may leave the commune column out.
    pub commune: Option<String>,
}

/// Checks the unit named (or the caller's own) against the caller's scope.
pub fn target(conn: &mut PgConnection, actor: &Actor, unit: Option<&str>) -> AppResult<Target> {
    if !actor.role.is_officer() {
        return Err(AppError::forbidden("only officers import registers"));
    }
    let code = match (unit, &actor.scope) {
        (Some(u), _) => Some(u.to_string()),
        (None, Scope::Commune(c)) => Some(c.clone()),
        (None, Scope::Province(p)) => Some(p.clone()),
        (None, _) => None,
    };
    let Some(code) = code else {
        return Ok(Target {
            unit_code: None,
            province_code: None,
            commune: None,
        });
    };
    let unit = units::get(conn, &code)?
        .filter(|u| {
            u.valid_to.is_none() && (u.fields.level == "commune" || u.fields.level == "province")
        })
        .ok_or_else(|| {
            AppError::field(
                "unit",
                "unknown_unit",
                format!("no live commune or province has the code {code:?}"),
            )
        })?;
    if !actor
        .scope
        .contains(&unit.fields.code, &unit.fields.province_code)
    {
        return Err(AppError::Forbidden {
            code: crate::error::ErrorCode::OutsideScope,
            detail: format!("unit {} is outside your scope", unit.fields.code),
        });
    }
    Ok(Target {
        commune: (unit.fields.level == "commune").then(|| unit.fields.code.clone()),
        province_code: Some(unit.fields.province_code),
        unit_code: Some(unit.fields.code),
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Village,
    Team,
    Member,
}

impl Entity {
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Village => "village",
            Entity::Team => "team",
            Entity::Member => "member",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
            Outcome::Error => "error",
        }
    }
}

/// Why a row cannot be imported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CellError {
    /// The column's letter (`C`), when one column is at fault.
    pub column: Option<String>,
    /// The column's header as written in the file.
    pub header: Option<String>,
    /// Stable machine code, e.g. `invalid_phone`, `unknown_team`, `ambiguous_match`.
    pub code: String,
    /// In Vietnamese, for the officer.
    pub message: String,
}

/// What happened (or would happen) to one row.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RowReport {
    pub sheet: String,
    /// The row's number in the sheet, as the spreadsheet shows it.
    pub row: u32,
    pub entity: Entity,
    pub outcome: Outcome,
    /// The record's id (after an applied import, or when it matched an existing one).
    pub id: Option<i64>,
    /// The row's name (village, team or member).
    pub label: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<CellError>,
}

/// An account the import created: for the activation sheet, shown once.
#[derive(Clone, Debug)]
pub struct Activation {
    pub issued: Issued,
    pub full_name: String,
    pub team: String,
    pub commune_code: String,
}

// The import's answer (its schema keeps the name it had as an HTTP type; the doc comment
// below is the schema's description).
/// An import's answer.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[schema(as = ImportOut)]
pub struct Report {
    pub id: Uuid,
    pub file_name: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    pub size_bytes: i64,
    pub unit_code: Option<String>,
    pub dry_run: bool,
    /// `dry_run`, `applied` or `rejected` (a file with any row error writes nothing).
    #[schema(value_type = String)]
    pub result: &'static str,
    pub counts: Counts,
    /// Every row: created, updated, unchanged or error (with sheet, row, column, code and a
    /// message in Vietnamese).
    pub rows: Vec<RowReport>,
    /// The accounts created, each with its one-time activation code: shown only here (send
    /// `Accept: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` to get them
    /// as the activation sheet with a QR code per member instead).
    #[serde(serialize_with = "codes_only")]
    #[schema(value_type = Vec<Issued>)]
    pub activations: Vec<Activation>,
    pub created_at: DateTime<Utc>,
}

/// The answer shows an activation's code, not the sheet's other columns.
fn codes_only<S: serde::Serializer>(activations: &[Activation], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(activations.iter().map(|a| &a.issued))
}

/// One file to import.
pub struct Upload<'a> {
    /// Owned when the caller can let go of it: the file is dropped once its rows are read.
    pub bytes: std::borrow::Cow<'a, [u8]>,
    pub file_name: String,
}

/// Progress for the command line's bar: rows read, then records written.
pub trait Progress {
    fn rows_read(&mut self, _n: u64) {}
    fn writing(&mut self, _stage: &str, _done: u64, _total: u64) {}
}

/// No progress shown.
pub struct Quiet;
impl Progress for Quiet {}

pub struct Options {
    pub dry_run: bool,
    pub key: CodeKey,
    pub code_expiry: DateTime<Utc>,
}

/// Imports `uploads` (read in order, as one file) into `target` on `conn`: plans, then (not a
/// dry run, no error) applies in one transaction, and records the import. A file that cannot
/// be read at all is a 422 on `file` and leaves no record.
pub fn run(
    conn: &mut PgConnection,
    actor: &Actor,
    target: &Target,
    uploads: Vec<Upload<'_>>,
    options: &Options,
    progress: &mut dyn Progress,
) -> AppResult<Report> {
    use diesel::Connection;
    let mut hasher = Sha256::new();
    let mut size = 0usize;
    let mut sheets = Vec::new();
    for upload in &uploads {
        hasher.update(&upload.bytes);
        size += upload.bytes.len();
        let book = read::open(&upload.bytes, &upload.file_name)?;
        sheets.extend(book.sheets());
    }
    let file_name: String = uploads
        .iter()
        .map(|u| u.file_name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
        .chars()
        .take(255)
        .collect();
    let sha256 = format!("{:x}", hasher.finalize());
    let mut plan = Plan::default();
    parse_sheets(&mut plan, sheets, progress)?;
    // The rows are read: the file's bytes (42 MB for the national file) are no longer needed.
    drop(uploads);
    if plan.rows.is_empty() {
        return Err(AppError::field(
            "file",
            "empty_file",
            "Tệp không có dòng dữ liệu nào dưới dòng tiêu đề.",
        ));
    }
    let id = Uuid::new_v4();
    let mut report = Report {
        id,
        file_name,
        sha256,
        size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
        unit_code: target.unit_code.clone(),
        dry_run: options.dry_run,
        result: "dry_run",
        counts: Counts::default(),
        rows: Vec::new(),
        activations: Vec::new(),
        created_at: Utc::now(),
    };
    conn.transaction::<_, AppError, _>(|c| {
        let mut world = World::load(c, target, &plan)?;
        plan.check(target, &mut world, actor);
        let has_errors = plan.rows.iter().any(|r| !r.errors.is_empty());
        report.result = if options.dry_run {
            "dry_run"
        } else if has_errors {
            "rejected"
        } else {
            "applied"
        };
        record(c, actor, target, &report, &plan)?;
        if report.result == "applied" {
            report.activations = plan.apply(c, actor, id, &world, options, progress)?;
        }
        report.counts = plan.counts();
        store_rows(c, id, &plan)?;
        record_counts(c, id, &report.counts)?;
        Ok(())
    })?;
    report.rows = plan.into_report();
    Ok(report)
}

fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    target: &Target,
    report: &Report,
    plan: &Plan,
) -> AppResult<()> {
    store::insert_record(
        conn,
        &store::NewImport {
            id: report.id,
            actor_id: actor.user_id,
            actor_username: actor.username.clone(),
            unit_code: target.unit_code.clone(),
            province_code: target.province_code.clone(),
            file_name: report.file_name.clone(),
            sha256: report.sha256.clone(),
            size_bytes: report.size_bytes,
            dry_run: report.dry_run,
            result: report.result.to_string(),
            counts: serde_json::to_value(plan.counts()).map_err(AppError::internal)?,
        },
    )?;
    Ok(())
}

fn record_counts(conn: &mut PgConnection, id: Uuid, counts: &Counts) -> AppResult<()> {
    let counts = serde_json::to_value(counts).map_err(AppError::internal)?;
    store::set_counts(conn, id, &counts)?;
    Ok(())
}

/// The per-row report, written a batch at a time (a national file has 424,000 rows).
fn store_rows(conn: &mut PgConnection, id: Uuid, plan: &Plan) -> AppResult<()> {
    for (n, chunk) in plan.rows.chunks(BATCH).enumerate() {
        let rows: Vec<store::ImportRow> = chunk
            .iter()
            .enumerate()
            .map(|(i, r)| store::ImportRow {
                import_id: id,
                seq: i32::try_from(n * BATCH + i).unwrap_or(i32::MAX),
                sheet: plan.sheets[usize::from(r.sheet)].clone(),
                row_number: i32::try_from(r.row).unwrap_or(i32::MAX),
                entity: r.entity.as_str().to_string(),
                outcome: r.outcome.as_str().to_string(),
                record_id: r.id,
                label: r.label.chars().take(300).collect(),
                errors: if r.errors.is_empty() {
                    serde_json::Value::Array(Vec::new())
                } else {
                    serde_json::to_value(&r.errors).unwrap_or_default()
                },
            })
            .collect();
        store::insert_rows(conn, &rows)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Reading rows into typed records.

/// Where a record came from: its line in the report.
#[derive(Clone, Copy, Debug)]
struct At(usize);

struct VillageIn {
    at: At,
    commune: Option<String>,
    /// The folded name (the name itself is the line's label).
    search: String,
    kind: Option<VillageKind>,
    households: Option<i32>,
    population: Option<i32>,
}

struct TeamIn {
    at: At,
    commune: Option<String>,
    search: String,
    village: Option<(String, u32)>,
    decision_number: Option<String>,
    decision_date: Option<NaiveDate>,
    established_on: Option<NaiveDate>,
}

struct MemberIn {
    at: At,
    /// Shared by the members of a commune, and of a team (`Plan::intern`).
    commune: Option<Arc<str>>,
    team_search: Arc<str>,
    /// The folded name (the full name is the line's label).
    search: Box<str>,
    sex: Option<Sex>,
    birth_year: Option<i32>,
    phone: Option<Box<str>>,
    affiliation: Option<Affiliation>,
    team_role: Option<TeamRole>,
    joined_on: Option<NaiveDate>,
    account: bool,
}

/// A line of the report while the import runs: compact, as a national file has 424,000 (the
/// sheet by its index in `Plan::sheets`; the label is the record's name, which the writer
/// reads from here rather than keep a copy).
struct Line {
    sheet: u16,
    row: u32,
    entity: Entity,
    outcome: Outcome,
    id: Option<i64>,
    label: Box<str>,
    errors: Vec<CellError>,
}

#[derive(Default)]
struct Plan {
    rows: Vec<Line>,
    /// The name of each sheet read, by `Line::sheet`.
    sheets: Vec<String>,
    /// Column letter and header of each known column, per report line's sheet.
    headers: Vec<HashMap<Col, (u32, String)>>,
    villages: Vec<VillageIn>,
    teams: Vec<TeamIn>,
    members: Vec<MemberIn>,
    /// Decisions of `check`, by record.
    village_actions: Vec<Action<VillageChanges, VillageId>>,
    team_actions: Vec<Action<TeamChanges, TeamId>>,
    member_actions: Vec<MemberAction>,
    /// Texts many rows repeat (communes, teams' names), kept once.
    interned: HashSet<Arc<str>>,
}

/// What `check` decided for one record.
/// What to do with a record of the file; `Id` is the record's id type (`crate::ids`).
enum Action<C, Id = i64> {
    Skip,
    Create,
    /// Boxed: most records are created or unchanged, and a national file has 350,000.
    Update(Id, Box<C>),
    Unchanged(Id),
}

struct MemberAction {
    action: Action<MemberChanges, MemberId>,
    team: TeamRef,
    /// Create an account and link it.
    account: bool,
}

/// How a member row matches another of the file: team and phone, else team, folded name and
/// birth year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Natural<'a> {
    Phone(&'a str),
    Name(&'a str, Option<i32>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum TeamRef {
    Existing(TeamId),
    /// Index into `Plan::teams`.
    New(usize),
}

impl Plan {
    fn intern(&mut self, text: String) -> Arc<str> {
        if let Some(shared) = self.interned.get(text.as_str()) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(text);
        self.interned.insert(shared.clone());
        shared
    }

    /// The report's lines; the rest of the plan is dropped first.
    fn into_report(self) -> Vec<RowReport> {
        let Plan {
            rows,
            sheets,
            headers,
            villages,
            teams,
            members,
            village_actions,
            team_actions,
            member_actions,
            interned,
        } = self;
        drop((headers, villages, teams, members, interned));
        drop((village_actions, team_actions, member_actions));
        rows.into_iter()
            .map(|l| RowReport {
                sheet: sheets[usize::from(l.sheet)].clone(),
                row: l.row,
                entity: l.entity,
                outcome: l.outcome,
                id: l.id,
                label: l.label.into_string(),
                errors: l.errors,
            })
            .collect()
    }

    fn error(&mut self, at: At, col: Option<Col>, code: &str, message: impl Into<String>) {
        let (column, header) = match col.and_then(|c| {
            let sheet = usize::from(self.rows[at.0].sheet);
            self.headers[sheet].get(&c).cloned()
        }) {
            Some((i, h)) => (Some(column_letter(i as usize)), Some(h)),
            None => (None, col.map(|c| c.header().to_string())),
        };
        let row = &mut self.rows[at.0];
        row.outcome = Outcome::Error;
        row.errors.push(CellError {
            column,
            header,
            code: code.to_string(),
            message: message.into(),
        });
    }

    fn counts(&self) -> Counts {
        let mut c = Counts {
            rows: u32::try_from(self.rows.len()).unwrap_or(u32::MAX),
            ..Default::default()
        };
        for r in &self.rows {
            let t = match r.entity {
                Entity::Village => &mut c.villages,
                Entity::Team => &mut c.teams,
                Entity::Member => &mut c.members,
            };
            match r.outcome {
                Outcome::Created => t.created += 1,
                Outcome::Updated => t.updated += 1,
                Outcome::Unchanged => t.unchanged += 1,
                Outcome::Error => {
                    t.errors += 1;
                    c.errors += 1;
                }
            }
        }
        c.accounts_created =
            u32::try_from(self.member_actions.iter().filter(|a| a.account).count())
                .unwrap_or(u32::MAX);
        c
    }
}

/// Header rows are looked for among the first rows (title rows, merged or not, come first).
const HEADER_SEARCH_ROWS: usize = 30;

struct Header {
    kind: Kind,
    cols: Vec<(usize, Col)>,
}

fn find_header(cells: &[Cell]) -> Result<Option<Header>, String> {
    let mut cols = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        if let Cell::Text(t) = cell {
            if let Some(col) = Col::from_header(t) {
                if cols.iter().any(|(_, c)| *c == col) {
                    return Err(format!(
                        "Cột \"{}\" có hai lần trong dòng tiêu đề.",
                        col.header()
                    ));
                }
                cols.push((i, col));
            }
        }
    }
    let has = |c: Col| cols.iter().any(|(_, x)| *x == c);
    let kind = if has(Col::FullName) {
        Kind::Members
    } else if has(Col::TeamName) {
        Kind::Teams
    } else if has(Col::VillageName) && has(Col::VillageKind) {
        Kind::Villages
    } else {
        return Ok(None);
    };
    if kind.required().iter().all(|c| has(*c)) {
        Ok(Some(Header { kind, cols }))
    } else {
        Ok(None)
    }
}

fn parse_sheets(
    plan: &mut Plan,
    sheets: Vec<RawSheet<'_>>,
    progress: &mut dyn Progress,
) -> AppResult<()> {
    let mut read = 0u64;
    for sheet in sheets {
        let mut rows = sheet.rows;
        let mut seen = Vec::new();
        let mut header = None;
        for raw in rows.by_ref() {
            let raw = raw?;
            match find_header(&raw.cells) {
                Ok(Some(h)) => {
                    header = Some(h);
                    break;
                }
                Ok(None) => {}
                Err(message) => {
                    return Err(AppError::field("file", "duplicate_column", message));
                }
            }
            let blank = raw.cells.iter().all(Cell::is_empty);
            if !blank {
                seen.push(raw.number);
            }
            if seen.len() >= HEADER_SEARCH_ROWS {
                break;
            }
        }
        let Some(header) = header else {
            if seen.is_empty() {
                continue; // An empty sheet.
            }
            return Err(AppError::field(
                "file",
                "unknown_header",
                format!(
                    "Trang \"{}\": không tìm thấy dòng tiêu đề của mẫu nào trong {} dòng đầu. \
                     Mẫu thôn, ấp cần các cột {}; mẫu tổ: {}; mẫu thành viên: {} (tải mẫu tại \
                     GET /api/v1/imports/template).",
                    sheet.name,
                    HEADER_SEARCH_ROWS,
                    headers_of(Kind::Villages),
                    headers_of(Kind::Teams),
                    headers_of(Kind::Members)
                ),
            ));
        };
        let sheet_index = u16::try_from(plan.headers.len())
            .map_err(|_| AppError::field("file", "too_many_sheets", "Quá nhiều trang."))?;
        plan.sheets.push(sheet.name.clone());
        plan.headers.push(
            header
                .cols
                .iter()
                .map(|(i, c)| (*c, (*i as u32, c.header().to_string())))
                .collect(),
        );
        for raw in rows {
            let raw = raw?;
            if raw.cells.iter().all(Cell::is_empty) || is_example(&header, &raw.cells) {
                continue;
            }
            read += 1;
            if read.is_multiple_of(4096) {
                progress.rows_read(read);
            }
            parse_row(plan, sheet_index, &header, raw);
        }
    }
    progress.rows_read(read);
    Ok(())
}

/// The template's example row (its `STT` cell says "Ví dụ").
fn is_example(header: &Header, cells: &[Cell]) -> bool {
    header
        .cols
        .iter()
        .find(|(_, c)| *c == Col::Ordinal)
        .and_then(|(i, _)| cells.get(*i))
        .is_some_and(|c| crate::text::fold(&c.text()) == crate::text::fold(vocab::EXAMPLE_MARK))
}

fn headers_of(kind: Kind) -> String {
    kind.required()
        .iter()
        .map(|c| format!("\"{}\"", c.header()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The cells of one row by column, with the errors found reading them.
struct RowCells<'a> {
    header: &'a Header,
    cells: Vec<Cell>,
    errors: Vec<(Col, &'static str, String)>,
}

impl RowCells<'_> {
    fn cell(&self, col: Col) -> Option<&Cell> {
        let (i, _) = self.header.cols.iter().find(|(_, c)| *c == col)?;
        self.cells.get(*i).filter(|c| !c.is_empty())
    }

    fn index(&self, col: Col) -> Option<u32> {
        self.header
            .cols
            .iter()
            .find(|(_, c)| *c == col)
            .map(|(i, _)| *i as u32)
    }

    /// Text screened like every text of the API (NFC, no control or bidi characters).
    fn text(&mut self, col: Col) -> Option<String> {
        let mut text = self.cell(col)?.text().trim().to_string();
        match crate::text::screen_str(col.header(), &mut text) {
            Ok(()) => Some(text),
            Err(e) => {
                self.errors.push((col, "forbidden_character", e.message));
                None
            }
        }
    }

    fn err(&mut self, col: Col, code: &'static str, message: impl Into<String>) {
        self.errors.push((col, code, message.into()));
    }

    /// Checks the row's record with the registry's own input type, so that a row is refused
    /// for exactly what a single write through the API is refused for (lengths, ranges, the
    /// personal-data screen). `columns` names the column of each field the row fills.
    fn checked(&mut self, input: &impl Validate, columns: &[(&str, Col)]) {
        let Err(errors) = input.validate() else {
            return;
        };
        for (field, errs) in errors.field_errors() {
            let Some((_, col)) = columns.iter().find(|(f, _)| *f == field.as_ref()) else {
                continue;
            };
            if self.errors.iter().any(|(c, _, _)| c == col) {
                continue; // one error a cell: the cell's own reading failed first
            }
            for e in errs {
                let (code, message) = rule_message(e);
                self.err(*col, code, message);
            }
        }
    }

    fn name(&mut self, col: Col) -> Option<(String, String)> {
        let text = self.text(col)?;
        match crate::registry::fold_name(col.header(), &text) {
            Ok(pair) => Some(pair),
            Err(_) => {
                self.err(col, "required", "Ô này không được để trống.");
                None
            }
        }
    }

    /// A whole number; its range is checked by the registry's input type ([`checked`]).
    fn number(&mut self, col: Col) -> Option<i32> {
        let value = match self.cell(col)? {
            Cell::Number(n) if n.fract() == 0.0 => Some(*n as i64),
            other => other
                .text()
                .replace(['.', ',', ' '], "")
                .parse::<i64>()
                .ok(),
        };
        match value.and_then(|v| i32::try_from(v).ok()) {
            Some(v) => Some(v),
            None => {
                self.err(col, "invalid_number", "Cần một số nguyên.");
                None
            }
        }
    }

    fn date(&mut self, col: Col) -> Option<NaiveDate> {
        let date = match self.cell(col)? {
            Cell::Date(d) => Some(*d),
            Cell::Number(n) => read::excel_date(*n),
            other => parse_date(&other.text()),
        };
        let Some(date) = date else {
            self.err(
                col,
                "invalid_date",
                "Ngày phải ghi dạng dd/mm/yyyy (ví dụ 05/03/2025).",
            );
            return None;
        };
        if let Err(e) = crate::input::plausible_date(&date) {
            let code = if e.code == "too_old" {
                "too_old"
            } else {
                "too_far_ahead"
            };
            self.err(
                col,
                code,
                format!(
                    "Ngày {} nằm ngoài khoảng cho phép (từ 01/01/2000 đến một năm sau hôm nay).",
                    date.format("%d/%m/%Y")
                ),
            );
            return None;
        }
        Some(date)
    }

    fn require(&mut self, cols: &[Col]) {
        for col in cols {
            if self.cell(*col).is_none() {
                self.err(*col, "required", "Ô này không được để trống.");
            }
        }
    }

    /// A birth year, or a birth date whose year is taken.
    fn birth_year(&mut self) -> Option<i32> {
        let year = match self.cell(Col::BirthYear)? {
            Cell::Date(d) => Some(chrono::Datelike::year(d)),
            Cell::Number(n) if (1900.0..=2100.0).contains(n) => Some(*n as i32),
            Cell::Number(n) => read::excel_date(*n).map(|d| chrono::Datelike::year(&d)),
            other => {
                let t = other.text();
                t.trim()
                    .parse::<i32>()
                    .ok()
                    .or_else(|| parse_date(&t).map(|d| chrono::Datelike::year(&d)))
            }
        };
        let this_year = chrono::Datelike::year(&crate::month::today_local());
        let year = year.filter(|y| (1900..=this_year).contains(y));
        if year.is_none() {
            self.err(
                Col::BirthYear,
                "invalid_year",
                format!(
                    "Năm sinh phải là năm từ 1900 đến {this_year} (hoặc ngày sinh dd/mm/yyyy)."
                ),
            );
        }
        year
    }

    fn phone(&mut self) -> Option<String> {
        let typed = phone_of(self.cell(Col::Phone)?);
        let phone = crate::phone::normalize(&typed);
        if phone.is_none() {
            self.err(
                Col::Phone,
                "invalid_phone",
                format!("\"{typed}\" không phải số di động Việt Nam (ví dụ 0912345678)."),
            );
        }
        phone
    }

    /// Whether the row asks for an app account ("Có" / "Không", default no).
    fn account(&mut self) -> bool {
        let Some(t) = self.text(Col::Account) else {
            return false;
        };
        vocab::yes_no(&t).unwrap_or_else(|| {
            self.err(Col::Account, "unknown_value", "Ghi \"Có\" hoặc \"Không\".");
            false
        })
    }

    fn choice<T>(&mut self, col: Col, parse: fn(&str) -> Option<T>) -> Option<T> {
        let text = self.text(col)?;
        let value = parse(&text);
        if value.is_none() {
            let choices = col.choices().unwrap_or_default().join(", ");
            self.err(
                col,
                "unknown_value",
                format!("\"{text}\" không có trong danh sách: {choices}."),
            );
        }
        value
    }

    fn commune(&mut self) -> Option<String> {
        let cell = self.cell(Col::Commune)?.clone();
        let code = match &cell {
            // Excel drops the leading zeros of a code typed as a number: 4 → 00004.
            Cell::Number(n) if n.fract() == 0.0 && *n >= 0.0 => format!("{:05}", *n as i64),
            other => {
                let t = other.text().trim().to_string();
                if t.len() < 5 && !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                    format!("{t:0>5}")
                } else {
                    t
                }
            }
        };
        Some(code)
    }
}

/// `dd/mm/yyyy`, `d/m/yyyy`, `dd-mm-yyyy`, `dd.mm.yyyy` or `yyyy-mm-dd`.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let t = t.split_whitespace().next().unwrap_or(t);
    for format in ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, format) {
            return Some(d);
        }
    }
    None
}

/// A phone that lost its leading 0 as a number (912345678) is given it back.
fn phone_of(cell: &Cell) -> String {
    let text = cell.text().trim().to_string();
    if text.len() == 9 && text.bytes().all(|b| b.is_ascii_digit()) {
        format!("0{text}")
    } else {
        text
    }
}

fn entity_of(kind: Kind) -> Entity {
    match kind {
        Kind::Villages => Entity::Village,
        Kind::Teams => Entity::Team,
        Kind::Members => Entity::Member,
    }
}

fn parse_row(plan: &mut Plan, sheet_index: u16, header: &Header, raw: RawRow) {
    let at = At(plan.rows.len());
    let mut row = RowCells {
        header,
        cells: raw.cells,
        errors: Vec::new(),
    };
    plan.rows.push(Line {
        sheet: sheet_index,
        row: raw.number,
        entity: entity_of(header.kind),
        outcome: Outcome::Unchanged,
        id: None,
        label: Box::default(),
        errors: Vec::new(),
    });
    let commune = row.commune();
    match header.kind {
        Kind::Villages => parse_village(plan, at, &mut row, commune),
        Kind::Teams => parse_team(plan, at, &mut row, commune),
        Kind::Members => parse_member(plan, at, &mut row, commune),
    }
    for (col, code, message) in row.errors {
        plan.error(at, Some(col), code, message);
    }
}

fn parse_village(plan: &mut Plan, at: At, row: &mut RowCells<'_>, commune: Option<String>) {
    row.require(&[Col::VillageName, Col::VillageKind]);
    let name = row.name(Col::VillageName);
    let kind = row.choice(Col::VillageKind, vocab::village_kind);
    let households = row.number(Col::Households);
    let population = row.number(Col::Population);
    let Some((name, search)) = name else {
        return;
    };
    row.checked(
        &VillageInput {
            commune_code: None,
            name: name.clone(),
            kind: kind.unwrap_or(VillageKind::Other),
            households,
            population,
        },
        &[
            ("name", Col::VillageName),
            ("households", Col::Households),
            ("population", Col::Population),
        ],
    );
    plan.rows[at.0].label = name.into_boxed_str();
    plan.villages.push(VillageIn {
        at,
        commune,
        search,
        kind,
        households,
        population,
    });
}

fn parse_team(plan: &mut Plan, at: At, row: &mut RowCells<'_>, commune: Option<String>) {
    row.require(&[Col::TeamName]);
    let name = row.name(Col::TeamName);
    let village = row
        .name(Col::VillageName)
        .map(|(_, s)| (s, row.index(Col::VillageName).unwrap_or(0)));
    let decision_number = row.text(Col::DecisionNumber);
    let decision_date = row.date(Col::DecisionDate);
    let established_on = row.date(Col::EstablishedOn);
    row.checked(
        &TeamInput {
            name: name.as_ref().map(|n| n.0.clone()).unwrap_or_default(),
            decision_number: decision_number.clone(),
            ..TeamInput::default()
        },
        &[
            ("name", Col::TeamName),
            ("decision_number", Col::DecisionNumber),
        ],
    );
    if let Some((name, search)) = name {
        plan.rows[at.0].label = name.into_boxed_str();
        plan.teams.push(TeamIn {
            at,
            commune,
            search,
            village,
            decision_number,
            decision_date,
            established_on,
        });
    }
}

fn parse_member(plan: &mut Plan, at: At, row: &mut RowCells<'_>, commune: Option<String>) {
    row.require(&[Col::TeamName, Col::FullName, Col::Affiliation]);
    let team = row.name(Col::TeamName);
    let name = row.name(Col::FullName);
    let sex = row.choice(Col::Sex, vocab::sex);
    let birth_year = row.birth_year();
    let phone = row.phone();
    let affiliation = row.choice(Col::Affiliation, vocab::affiliation);
    let team_role = row.choice(Col::TeamRole, vocab::team_role);
    let joined_on = row.date(Col::JoinedOn);
    let account = row.account();
    let Some((full_name, search)) = name else {
        return;
    };
    row.checked(
        &MemberInput {
            full_name: full_name.clone(),
            phone: phone.clone(),
            sex,
            birth_year,
            affiliation: affiliation.unwrap_or(Affiliation::Other),
            team_role,
            joined_on,
            user_id: None,
        },
        &[
            ("full_name", Col::FullName),
            ("phone", Col::Phone),
            ("birth_year", Col::BirthYear),
            ("joined_on", Col::JoinedOn),
        ],
    );
    plan.rows[at.0].label = full_name.into_boxed_str();
    let Some((_, team_search)) = team else {
        return;
    };
    let commune = commune.map(|c| plan.intern(c));
    let team_search = plan.intern(team_search);
    plan.members.push(MemberIn {
        at,
        commune,
        team_search,
        search: search.into_boxed_str(),
        sex,
        birth_year,
        phone: phone.map(String::into_boxed_str),
        affiliation,
        team_role,
        joined_on,
        account,
    });
}

/// The import's code and Vietnamese message for a broken rule of a registry input type.
fn rule_message(e: &validator::ValidationError) -> (&'static str, String) {
    let param = |name: &str| {
        e.params
            .get(name)
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    match e.code.as_ref() {
        "length" => ("too_long", format!("Dài quá {} ký tự.", param("max"))),
        "range" => (
            "invalid_number",
            format!("Cần một số từ {} đến {}.", param("min"), param("max")),
        ),
        "personal_data" => ("personal_data", private(e)),
        "too_old" => ("too_old", "Ngày quá cũ (trước 01/01/2000).".into()),
        "too_far_ahead" => ("too_far_ahead", "Ngày quá xa (sau một năm nữa).".into()),
        _ => ("invalid_value", "Giá trị không hợp lệ.".into()),
    }
}

fn private(e: &validator::ValidationError) -> String {
    format!(
        "Không ghi dữ liệu cá nhân của người dân (số điện thoại, số giấy tờ, mã xác thực…) vào ô này: {}",
        e.message.as_deref().unwrap_or("")
    )
}

// ---------------------------------------------------------------------------------------
// Matching against the register.

/// The register as far as the file touches it.
struct World {
    communes: HashMap<String, String>,
    villages: HashMap<(String, String), Vec<Village>>,
    teams: HashMap<(String, String), Vec<Team>>,
    teams_by_id: HashMap<TeamId, Team>,
    members: HashMap<TeamId, Vec<Member>>,
    phones_taken: HashSet<String>,
    usernames_taken: HashSet<String>,
    /// Filled by `check`: the village each team (existing or new) goes in, when the file says.
    new_village_of_team: HashMap<usize, usize>,
    /// The import's commune, for rows that name none.
    default_commune: Option<String>,
}

impl World {
    fn load(conn: &mut PgConnection, target: &Target, plan: &Plan) -> AppResult<Self> {
        let unit = target.unit_code.as_deref();
        let communes = store::communes(conn, unit)?.into_iter().collect();
        let mut villages: HashMap<_, Vec<Village>> = HashMap::new();
        for v in store::villages(conn, unit)? {
            villages
                .entry((v.fields.commune_code.clone(), v.fields.search_name.clone()))
                .or_default()
                .push(v);
        }
        let mut teams: HashMap<_, Vec<Team>> = HashMap::new();
        let mut teams_by_id = HashMap::new();
        for t in store::teams(conn, unit)? {
            teams
                .entry((t.fields.commune_code.clone(), t.fields.search_name.clone()))
                .or_default()
                .push(t.clone());
            teams_by_id.insert(t.id, t);
        }
        let mut members: HashMap<TeamId, Vec<Member>> = HashMap::new();
        for m in store::active_members(conn, unit)? {
            members.entry(m.fields.team_id).or_default().push(m);
        }
        let phones: Vec<String> = plan
            .members
            .iter()
            .filter(|m| m.account)
            .filter_map(|m| m.phone.as_deref().map(str::to_string))
            .collect();
        let phones_taken = store::phones_taken(conn, &phones)?.into_iter().collect();
        let names: Vec<String> = phones.iter().map(|p| username_for(p)).collect();
        let usernames_taken = store::usernames_taken(conn, &names)?.into_iter().collect();
        Ok(World {
            communes,
            villages,
            teams,
            teams_by_id,
            members,
            phones_taken,
            usernames_taken,
            new_village_of_team: HashMap::new(),
            default_commune: target.commune.clone(),
        })
    }
}

/// The username of an account an import creates: `tv` and its phone (a username holds a
/// letter; the owner logs in with the phone anyway).
pub fn username_for(phone: &str) -> String {
    format!("tv{phone}")
}

fn ids<T>(records: &[T], id: fn(&T) -> i64) -> String {
    records
        .iter()
        .map(|r| id(r).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Plan {
    /// The commune of a row: named and in the import's unit, or the import's own commune.
    fn commune_of(
        &mut self,
        at: At,
        given: Option<&str>,
        target: &Target,
        world: &World,
    ) -> Option<String> {
        let code = match (given, &target.commune) {
            (Some(c), _) => c.to_string(),
            (None, Some(own)) => return Some(own.clone()),
            (None, None) => {
                self.error(
                    at,
                    Some(Col::Commune),
                    "required",
                    "Cần mã xã khi nhập cho cả tỉnh.",
                );
                return None;
            }
        };
        if world.communes.contains_key(&code) {
            return Some(code);
        }
        let known = matches!(code.len(), 5) && code.bytes().all(|b| b.is_ascii_digit());
        if known && target.unit_code.is_some() {
            self.error(
                at,
                Some(Col::Commune),
                "outside_scope",
                format!(
                    "Xã {code} không thuộc đơn vị đang nhập ({}).",
                    target.unit_code.as_deref().unwrap_or("")
                ),
            );
        } else {
            self.error(
                at,
                Some(Col::Commune),
                "unknown_commune",
                format!("Không có xã nào mã \"{code}\"."),
            );
        }
        None
    }

    fn check(&mut self, target: &Target, world: &mut World, actor: &Actor) {
        let village_keys = self.check_villages(target, world);
        let team_keys = self.check_teams(target, world, &village_keys);
        self.check_members(target, world, actor, &team_keys);
        self.settle_all();
    }

    /// Whether `key` is the first of its kind in the file (then it is kept, with record `i`);
    /// a repeat is an error `code` on `col`, `message` naming the first's row.
    fn first_in_file<K: std::hash::Hash + Eq, R: Placed>(
        &mut self,
        records: &[R],
        keys: &mut HashMap<K, usize>,
        key: K,
        i: usize,
        (col, code): (Col, &str),
        message: impl FnOnce(u32) -> String,
    ) -> bool {
        if let Some(first) = keys.get(&key) {
            let row = self.rows[records[*first].at().0].row;
            self.error(records[i].at(), Some(col), code, message(row));
            return false;
        }
        keys.insert(key, i);
        true
    }

    /// The one record `found` for a row's key (`None`: none); several are an
    /// `ambiguous_match` error on `col` listing them (`Err`).
    fn one_match<'w, R>(
        &mut self,
        at: At,
        col: Col,
        found: Option<&'w [R]>,
        (id, what): (fn(&R) -> i64, &str),
    ) -> Result<Option<&'w R>, ()> {
        match found.unwrap_or_default() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            many => {
                let message = format!("{what}: {}.", ids(many, id));
                self.error(at, Some(col), "ambiguous_match", message);
                Err(())
            }
        }
    }

    fn check_villages(
        &mut self,
        target: &Target,
        world: &World,
    ) -> HashMap<(String, String), usize> {
        let mut keys = HashMap::new();
        let villages = std::mem::take(&mut self.villages);
        for (i, v) in villages.iter().enumerate() {
            let mut action = Action::Skip;
            if let Some(commune) = self.commune_of(v.at, v.commune.as_deref(), target, world) {
                let key = (commune, v.search.clone());
                let found = world.villages.get(&key).map(Vec::as_slice);
                let duplicate = |row| format!("Thôn, ấp này đã có ở dòng {row}.");
                let col = (Col::VillageName, "duplicate_in_file");
                if self.first_in_file(&villages, &mut keys, key, i, col, duplicate) {
                    action = match self.one_match(v.at, Col::VillageName, found, VILLAGES) {
                        Ok(None) => Action::Create,
                        Ok(Some(one)) => village_action(v, one),
                        Err(()) => Action::Skip,
                    };
                }
            }
            if matches!(action, Action::Create) && v.kind.is_none() {
                action = Action::Skip;
            }
            self.village_actions.push(action);
        }
        self.villages = villages;
        keys
    }

    /// The village a team row names: existing (`Ok`), or new in the file (`Err`, its index).
    fn village_of_team(
        &mut self,
        t: &TeamIn,
        commune: &str,
        world: &World,
        village_keys: &HashMap<(String, String), usize>,
    ) -> Option<Result<VillageId, usize>> {
        let (search, _) = t.village.as_ref()?;
        let key = (commune.to_string(), search.clone());
        let found = world.villages.get(&key).map(Vec::as_slice);
        match self.one_match(t.at, Col::VillageName, found, VILLAGES) {
            Ok(Some(one)) => Some(Ok(one.id)),
            Err(()) => None,
            Ok(None) => match village_keys.get(&key) {
                Some(new) => Some(Err(*new)),
                None => {
                    self.error(
                        t.at,
                        Some(Col::VillageName),
                        "unknown_village",
                        "Không có thôn, ấp này trong xã (cũng không có trong tệp).",
                    );
                    None
                }
            },
        }
    }

    fn check_teams(
        &mut self,
        target: &Target,
        world: &mut World,
        village_keys: &HashMap<(String, String), usize>,
    ) -> HashMap<(String, String), usize> {
        let mut keys = HashMap::new();
        let teams = std::mem::take(&mut self.teams);
        for i in 0..teams.len() {
            let action = self.team_action(target, world, village_keys, (&teams, i), &mut keys);
            self.team_actions.push(action);
        }
        self.teams = teams;
        keys
    }

    fn team_action(
        &mut self,
        target: &Target,
        world: &mut World,
        village_keys: &HashMap<(String, String), usize>,
        (teams, i): (&[TeamIn], usize),
        keys: &mut HashMap<(String, String), usize>,
    ) -> Action<TeamChanges, TeamId> {
        let t = &teams[i];
        let Some(commune) = self.commune_of(t.at, t.commune.as_deref(), target, world) else {
            return Action::Skip;
        };
        let village = self.village_of_team(t, &commune, world, village_keys);
        let key = (commune, t.search.clone());
        let found = world.teams.get(&key).map(Vec::as_slice);
        let duplicate = |row| format!("Tổ này đã có ở dòng {row}.");
        if !self.first_in_file(
            teams,
            keys,
            key,
            i,
            (Col::TeamName, "duplicate_in_file"),
            duplicate,
        ) {
            return Action::Skip;
        }
        if let Some(Err(new)) = village {
            world.new_village_of_team.insert(i, new);
        }
        match self.one_match(t.at, Col::TeamName, found, TEAMS) {
            Ok(None) => Action::Create,
            Ok(Some(one)) => team_action(t, one, village),
            Err(()) => Action::Skip,
        }
    }

    fn check_members(
        &mut self,
        target: &Target,
        world: &World,
        actor: &Actor,
        team_keys: &HashMap<(String, String), usize>,
    ) {
        // Sized once: growing doubles the table and holds both while it moves (350,000 keys).
        let mut seen = MemberKeys {
            natural: HashMap::with_capacity(self.members.len()),
            leaders: HashMap::new(),
            account_phones: HashMap::new(),
        };
        self.member_actions.reserve_exact(self.members.len());
        let members = std::mem::take(&mut self.members);
        for i in 0..members.len() {
            let action = self
                .member_action(target, world, actor, team_keys, (&members, i), &mut seen)
                .unwrap_or(MemberAction {
                    action: Action::Skip,
                    team: TeamRef::New(usize::MAX),
                    account: false,
                });
            self.member_actions.push(action);
        }
        drop(seen);
        self.members = members;
    }

    /// The team a member row names: new in the file, else existing and live.
    fn member_team(
        &mut self,
        m: &MemberIn,
        commune: String,
        world: &World,
        team_keys: &HashMap<(String, String), usize>,
    ) -> Option<TeamRef> {
        let key = (commune, m.team_search.to_string());
        if let Some(new) = team_keys.get(&key) {
            if matches!(self.team_actions[*new], Action::Create) {
                return Some(TeamRef::New(*new));
            }
        }
        let found = world.teams.get(&key).map(Vec::as_slice);
        let Some(team) = self.one_match(m.at, Col::TeamName, found, TEAMS).ok()? else {
            self.error(
                m.at,
                Some(Col::TeamName),
                "unknown_team",
                "Không có tổ này trong xã (cũng không có trong tệp).",
            );
            return None;
        };
        if team.fields.status == TeamStatus::Dissolved {
            self.error(
                m.at,
                Some(Col::TeamName),
                "team_not_live",
                "Tổ này đã giải thể.",
            );
        }
        Some(TeamRef::Existing(team.id))
    }

    /// What to do with member row `i`; `None` when it cannot be imported.
    fn member_action<'m>(
        &mut self,
        target: &Target,
        world: &'m World,
        actor: &Actor,
        team_keys: &HashMap<(String, String), usize>,
        (members, i): (&'m [MemberIn], usize),
        seen: &mut MemberKeys<'m>,
    ) -> Option<MemberAction> {
        let m = &members[i];
        let commune = self.commune_of(m.at, m.commune.as_deref(), target, world)?;
        let team = self.member_team(m, commune, world, team_keys)?;
        let (natural, col) = match &m.phone {
            Some(p) => (Natural::Phone(p), Col::Phone),
            None => (Natural::Name(&m.search, m.birth_year), Col::FullName),
        };
        let duplicate = |row| {
            format!("Thành viên này đã có ở dòng {row} (cùng tổ, cùng số điện thoại hoặc cùng họ tên và năm sinh).")
        };
        let key = (team, natural);
        let col = (col, "duplicate_in_file");
        if !self.first_in_file(members, &mut seen.natural, key, i, col, duplicate) {
            return None;
        }
        let existing: &[Member] = match team {
            TeamRef::Existing(id) => world.members.get(&id).map_or(&[], Vec::as_slice),
            TeamRef::New(_) => &[],
        };
        let matched = self.matched_member(m, existing).ok()?;
        if m.team_role == Some(TeamRole::Leader) {
            self.check_leader((members, i), team, existing, matched, &mut seen.leaders);
        }
        let account = m.account && matched.is_none_or(|x| x.fields.user_id.is_none());
        let account = account && self.check_account((members, i), world, actor, seen);
        let action = match matched {
            None => Action::Create,
            Some(e) => self.member_changes(m, e, account),
        };
        Some(MemberAction {
            action,
            team,
            account,
        })
    }

    /// The member of the team a row is: by phone, else by folded name and birth year.
    fn matched_member<'w>(
        &mut self,
        m: &MemberIn,
        existing: &'w [Member],
    ) -> Result<Option<&'w Member>, ()> {
        let by_phone: Vec<&Member> = match m.phone.as_deref() {
            Some(p) => existing
                .iter()
                .filter(|e| e.fields.phone.as_deref() == Some(p))
                .collect(),
            None => Vec::new(),
        };
        let candidates: Vec<&Member> = if by_phone.is_empty() {
            existing
                .iter()
                .filter(|e| {
                    *e.fields.search_name == *m.search && e.fields.birth_year == m.birth_year
                })
                .filter(|e| m.phone.is_none() || e.fields.phone.is_none())
                .collect()
        } else {
            by_phone
        };
        let found = self.one_match(m.at, Col::FullName, Some(&candidates), MEMBERS)?;
        Ok(found.copied())
    }

    /// A team has one leader: in the register (other than the row's member) or in the file.
    fn check_leader(
        &mut self,
        (members, i): (&[MemberIn], usize),
        team: TeamRef,
        existing: &[Member],
        matched: Option<&Member>,
        leaders: &mut HashMap<TeamRef, usize>,
    ) {
        let current = existing
            .iter()
            .find(|e| e.fields.team_role == TeamRole::Leader);
        if let Some(leader) = current.filter(|l| matched.is_none_or(|x| x.id != l.id)) {
            self.error(
                members[i].at,
                Some(Col::TeamRole),
                "leader_taken",
                format!(
                    "Tổ đã có tổ trưởng ({}, mã {}).",
                    leader.fields.full_name, leader.id
                ),
            );
        } else {
            let message = |row| format!("Dòng {row} đã ghi tổ trưởng cho tổ này.");
            let col = (Col::TeamRole, "leader_taken");
            self.first_in_file(members, leaders, team, i, col, message);
        }
    }

    /// Whether member row `i` may get the account it asks for: a phone no account has, once in
    /// the file, for a role the actor may grant.
    fn check_account(
        &mut self,
        (members, i): (&[MemberIn], usize),
        world: &World,
        actor: &Actor,
        seen: &mut MemberKeys<'_>,
    ) -> bool {
        let m = &members[i];
        let mut account = false;
        match m.phone.as_deref() {
            None => self.error(
                m.at,
                Some(Col::Phone),
                "phone_required",
                "Cần số điện thoại để tạo tài khoản.",
            ),
            Some(p)
                if world.phones_taken.contains(p)
                    || world.usernames_taken.contains(&username_for(p)) =>
            {
                self.error(
                    m.at,
                    Some(Col::Phone),
                    "phone_taken",
                    "Số điện thoại này đã có tài khoản khác.",
                );
            }
            Some(p) => {
                let message = |row| format!("Dòng {row} đã tạo tài khoản với số điện thoại này.");
                let col = (Col::Phone, "duplicate_in_file");
                let phones = &mut seen.account_phones;
                account = self.first_in_file(members, phones, p.to_string(), i, col, message);
            }
        }
        let role = if m.team_role == Some(TeamRole::Leader) {
            Role::TeamLeader
        } else {
            Role::TeamMember
        };
        if role.rank() > actor.role.rank() {
            self.error(
                m.at,
                Some(Col::Account),
                "role_above_own",
                "Bạn không cấp được tài khoản có vai trò này.",
            );
        }
        account
    }

    fn member_changes(
        &self,
        m: &MemberIn,
        e: &Member,
        account: bool,
    ) -> Action<MemberChanges, MemberId> {
        let changes = MemberChanges {
            full_name: Some(self.rows[m.at.0].label.to_string())
                .filter(|n| *n != e.fields.full_name),
            search_name: Some(m.search.to_string()).filter(|s| *s != e.fields.search_name),
            phone: m
                .phone
                .as_deref()
                .filter(|p| Some(*p) != e.fields.phone.as_deref())
                .map(|p| Some(p.to_string())),
            sex: m.sex.filter(|s| Some(s) != e.fields.sex.as_ref()).map(Some),
            birth_year: m
                .birth_year
                .filter(|y| Some(*y) != e.fields.birth_year)
                .map(Some),
            affiliation: m.affiliation.filter(|a| *a != e.fields.affiliation),
            team_role: m.team_role.filter(|r| *r != e.fields.team_role),
            ..Default::default()
        };
        let same = changes.full_name.is_none()
            && changes.phone.is_none()
            && changes.sex.is_none()
            && changes.birth_year.is_none()
            && changes.affiliation.is_none()
            && changes.team_role.is_none()
            && !account;
        if same {
            Action::Unchanged(e.id)
        } else {
            Action::Update(e.id, Box::new(changes))
        }
    }

    /// Outcomes of rows without errors.
    fn settle_all(&mut self) {
        let Plan {
            rows,
            villages,
            teams,
            members,
            village_actions,
            team_actions,
            member_actions,
            ..
        } = self;
        let villages = villages
            .iter()
            .map(|v| v.at)
            .zip(village_actions.iter().map(outcome_of));
        let teams = teams
            .iter()
            .map(|t| t.at)
            .zip(team_actions.iter().map(outcome_of));
        let members = members
            .iter()
            .map(|m| m.at)
            .zip(member_actions.iter().map(|a| outcome_of(&a.action)));
        for (at, (outcome, id)) in villages.chain(teams).chain(members) {
            let row = &mut rows[at.0];
            if row.errors.is_empty() {
                row.outcome = outcome;
                row.id = id;
            }
        }
    }
}

/// The keys the member rows seen so far took.
struct MemberKeys<'m> {
    natural: HashMap<(TeamRef, Natural<'m>), usize>,
    leaders: HashMap<TeamRef, usize>,
    account_phones: HashMap<String, usize>,
}

/// How an ambiguous match lists the records it found.
const VILLAGES: (fn(&Village) -> i64, &str) = (|v| v.id.0, "Nhiều thôn, ấp trùng tên");
const TEAMS: (fn(&Team) -> i64, &str) = (|t| t.id.0, "Nhiều tổ trùng tên trong xã");
const MEMBERS: (fn(&&Member) -> i64, &str) = (|m| m.id.0, "Nhiều thành viên trùng khớp");

/// A record read from a row.
trait Placed {
    fn at(&self) -> At;
}

impl Placed for VillageIn {
    fn at(&self) -> At {
        self.at
    }
}

impl Placed for TeamIn {
    fn at(&self) -> At {
        self.at
    }
}

impl Placed for MemberIn {
    fn at(&self) -> At {
        self.at
    }
}

fn village_action(v: &VillageIn, one: &Village) -> Action<VillageChanges, VillageId> {
    let changes = VillageChanges {
        kind: v.kind.filter(|k| *k != one.fields.kind),
        households: v
            .households
            .filter(|h| Some(*h) != one.fields.households)
            .map(Some),
        population: v
            .population
            .filter(|p| Some(*p) != one.fields.population)
            .map(Some),
        ..Default::default()
    };
    if changes.kind.is_none() && changes.households.is_none() && changes.population.is_none() {
        Action::Unchanged(one.id)
    } else {
        Action::Update(one.id, Box::new(changes))
    }
}

fn team_action(
    t: &TeamIn,
    one: &Team,
    village: Option<Result<VillageId, usize>>,
) -> Action<TeamChanges, TeamId> {
    let changes = TeamChanges {
        village_id: match village {
            Some(Ok(id)) if one.fields.village_id != Some(id) => Some(Some(id)),
            _ => None,
        },
        decision_number: t
            .decision_number
            .clone()
            .filter(|d| Some(d) != one.fields.decision_number.as_ref())
            .map(Some),
        decision_date: t
            .decision_date
            .filter(|d| Some(*d) != one.fields.decision_date)
            .map(Some),
        established_on: t
            .established_on
            .filter(|d| Some(*d) != one.fields.established_on)
            .map(Some),
        ..Default::default()
    };
    let moved_to_new_village = matches!(village, Some(Err(_)));
    if changes.village_id.is_none()
        && changes.decision_number.is_none()
        && changes.decision_date.is_none()
        && changes.established_on.is_none()
        && !moved_to_new_village
    {
        Action::Unchanged(one.id)
    } else {
        Action::Update(one.id, Box::new(changes))
    }
}

fn outcome_of<C, Id: Copy + Into<i64>>(a: &Action<C, Id>) -> (Outcome, Option<i64>) {
    match a {
        Action::Skip => (Outcome::Error, None),
        Action::Create => (Outcome::Created, None),
        Action::Update(id, _) => (Outcome::Updated, Some((*id).into())),
        Action::Unchanged(id) => (Outcome::Unchanged, Some((*id).into())),
    }
}

// ---------------------------------------------------------------------------------------
// Writing.

/// Records created per statement, and audit entries held before they are written: a national
/// file is written in steps of this size, which bounds the memory the writing takes.
const BATCH: usize = 4_000;

/// Audit entries waiting to be written, each with the import's actor and id.
struct Audit<'a> {
    actor: &'a Actor,
    import_id: Uuid,
    entries: Vec<NewAuditEntry>,
}

impl<'a> Audit<'a> {
    fn new(actor: &'a Actor, import_id: Uuid) -> Self {
        Audit {
            actor,
            import_id,
            entries: Vec::new(),
        }
    }

    fn push<T: Serialize>(
        &mut self,
        action: AuditAction,
        (entity, id): (&str, String),
        (province, commune): (Option<&str>, Option<&str>),
        before: Option<&T>,
        after: &T,
    ) {
        let change = Change {
            action,
            entity,
            entity_id: id,
            province_code: province,
            commune_code: commune,
            before,
            after: Some(after),
        };
        let (actor, import) = (self.actor, Some(self.import_id));
        let entry = NewAuditEntry::new(actor.user_id, &actor.username, change, import);
        self.entries.push(entry);
    }

    fn created<R: Audited>(&mut self, record: &R) {
        self.push(
            AuditAction::Create,
            (R::ENTITY, record.entity_id()),
            record.place(),
            None::<&R::View>,
            &R::View::from(record),
        );
    }

    /// Locks record `id` (in the actor's scope), changes it with `write` and audits both states.
    fn update<R: Audited, Id>(
        &mut self,
        conn: &mut PgConnection,
        lock: fn(&mut PgConnection, &Scope, Id) -> diesel::QueryResult<Option<R>>,
        id: Id,
        write: impl FnOnce(&mut PgConnection) -> AppResult<R>,
    ) -> AppResult<()> {
        let before =
            lock(conn, &self.actor.scope, id)?.ok_or_else(|| AppError::not_found(R::ENTITY))?;
        let after = write(conn)?;
        self.push(
            AuditAction::Update,
            (R::ENTITY, after.entity_id()),
            after.place(),
            Some(&R::View::from(&before)),
            &R::View::from(&after),
        );
        Ok(())
    }

    /// Writes the entries held once there are a batch of them.
    fn flush_if_full(&mut self, conn: &mut PgConnection) -> AppResult<()> {
        if self.entries.len() >= BATCH {
            self.flush(conn)?;
        }
        Ok(())
    }

    fn flush(&mut self, conn: &mut PgConnection) -> AppResult<()> {
        db::audit::record_many(conn, &self.entries)?;
        self.entries.clear();
        Ok(())
    }
}

/// New records waiting to be inserted, with the plan's index of each.
struct Batch<N> {
    slots: Vec<usize>,
    new: Vec<N>,
}

/// One kind of record the import writes: new ones in batches of `BATCH` a statement, changed
/// ones one at a time as they come.
trait Writer {
    type New;
    type Record;
    /// Writes the change of record `i`, or hands back the record to create.
    fn item(
        &mut self,
        conn: &mut PgConnection,
        audit: &mut Audit<'_>,
        i: usize,
    ) -> AppResult<Option<Self::New>>;
    const INSERT: Inserter<Self::New, Self::Record>;
    /// Record `slot` of the plan was created as `record`.
    fn created(&mut self, audit: &mut Audit<'_>, slot: usize, record: Self::Record);
    /// After each batch is inserted.
    fn batch_written(&mut self, _conn: &mut PgConnection, _audit: &mut Audit<'_>) -> AppResult<()> {
        Ok(())
    }
}

/// Inserts new records in one statement, handing back the records created.
type Inserter<N, R> = fn(&mut PgConnection, &[N]) -> diesel::QueryResult<Vec<R>>;

/// Writes the `len` records of `writer`'s kind; `written` hears how many each batch created.
fn write_all<W: Writer>(
    conn: &mut PgConnection,
    audit: &mut Audit<'_>,
    (writer, len): (&mut W, usize),
    mut written: impl FnMut(u64),
) -> AppResult<()> {
    let mut batch = Batch {
        slots: Vec::with_capacity(BATCH),
        new: Vec::with_capacity(BATCH),
    };
    for i in 0..len {
        if let Some(new) = writer.item(conn, audit, i)? {
            batch.slots.push(i);
            batch.new.push(new);
        }
        if batch.new.len() >= BATCH {
            written(write_batch(conn, audit, writer, &mut batch)?);
        }
        audit.flush_if_full(conn)?;
    }
    written(write_batch(conn, audit, writer, &mut batch)?);
    audit.flush(conn)
}

/// Inserts the records held (one statement) and hands each to the writer; then the batch is
/// empty.
fn write_batch<W: Writer>(
    conn: &mut PgConnection,
    audit: &mut Audit<'_>,
    writer: &mut W,
    batch: &mut Batch<W::New>,
) -> AppResult<u64> {
    if batch.new.is_empty() {
        return Ok(0);
    }
    let records = W::INSERT(conn, &batch.new)?;
    let n = records.len() as u64;
    for (slot, record) in batch.slots.drain(..).zip(records) {
        writer.created(audit, slot, record);
    }
    batch.new.clear();
    writer.batch_written(conn, audit)?;
    Ok(n)
}

struct VillageWriter<'a> {
    rows: &'a mut [Line],
    villages: &'a [VillageIn],
    actions: &'a [Action<VillageChanges, VillageId>],
    world: &'a World,
    /// The new villages' ids, by index in the plan.
    ids: HashMap<usize, VillageId>,
}

impl Writer for VillageWriter<'_> {
    type New = NewVillage;
    type Record = Village;

    fn item(
        &mut self,
        conn: &mut PgConnection,
        audit: &mut Audit<'_>,
        i: usize,
    ) -> AppResult<Option<NewVillage>> {
        let v = &self.villages[i];
        match &self.actions[i] {
            Action::Create => Ok(resolved_commune(v.commune.as_deref(), self.world).map(
                |(commune_code, province_code)| NewVillage {
                    commune_code,
                    province_code,
                    name: self.rows[v.at.0].label.to_string(),
                    search_name: v.search.clone(),
                    kind: v.kind.unwrap_or(VillageKind::Other),
                    households: v.households,
                    population: v.population,
                },
            )),
            Action::Update(id, changes) => {
                audit.update(conn, db::villages::lock, *id, |c| {
                    Ok(db::villages::update(c, *id, changes)?)
                })?;
                Ok(None)
            }
            Action::Skip | Action::Unchanged(_) => Ok(None),
        }
    }

    const INSERT: Inserter<NewVillage, Village> = store::insert_villages;

    fn created(&mut self, audit: &mut Audit<'_>, slot: usize, v: Village) {
        self.ids.insert(slot, v.id);
        self.rows[self.villages[slot].at.0].id = Some(v.id.into());
        audit.created(&v);
    }
}

struct TeamWriter<'a> {
    rows: &'a mut [Line],
    teams: &'a [TeamIn],
    actions: &'a [Action<TeamChanges, TeamId>],
    world: &'a World,
    /// The new villages' ids, by index in the plan.
    village_ids: HashMap<usize, VillageId>,
    /// The new teams: id, commune and province (not the whole record: 74,000 nationally).
    ids: HashMap<usize, (TeamId, String, String)>,
}

impl TeamWriter<'_> {
    fn new_team(&self, t: &TeamIn, new_village: Option<VillageId>) -> Option<NewTeam> {
        let (commune_code, province_code) = resolved_commune(t.commune.as_deref(), self.world)?;
        let village_id = new_village.or_else(|| {
            let (search, _) = t.village.as_ref()?;
            let key = (commune_code.clone(), search.clone());
            self.world.villages.get(&key)?.first().map(|v| v.id)
        });
        Some(NewTeam {
            commune_code,
            province_code,
            village_id,
            name: self.rows[t.at.0].label.to_string(),
            search_name: t.search.clone(),
            decision_number: t.decision_number.clone(),
            decision_date: t.decision_date,
            established_on: t.established_on,
            dissolved_on: None,
            status: TeamStatus::Active,
        })
    }
}

impl Writer for TeamWriter<'_> {
    type New = NewTeam;
    type Record = Team;

    fn item(
        &mut self,
        conn: &mut PgConnection,
        audit: &mut Audit<'_>,
        i: usize,
    ) -> AppResult<Option<NewTeam>> {
        let new_village = self
            .world
            .new_village_of_team
            .get(&i)
            .and_then(|v| self.village_ids.get(v))
            .copied();
        let Action::Update(id, changes) = &self.actions[i] else {
            let create = matches!(self.actions[i], Action::Create);
            return Ok(create
                .then(|| self.new_team(&self.teams[i], new_village))
                .flatten());
        };
        let changes = TeamChanges {
            village_id: new_village.map(Some).or(changes.village_id),
            decision_number: changes.decision_number.clone(),
            decision_date: changes.decision_date,
            established_on: changes.established_on,
            ..Default::default()
        };
        audit.update(conn, db::teams::lock, *id, |c| {
            if let Some(Some(v)) = changes.village_id {
                crate::registry::hold_live_village(c, v)?;
            }
            Ok(db::teams::update(c, *id, &changes)?)
        })?;
        Ok(None)
    }

    const INSERT: Inserter<NewTeam, Team> = store::insert_teams;

    fn created(&mut self, audit: &mut Audit<'_>, slot: usize, t: Team) {
        self.rows[self.teams[slot].at.0].id = Some(t.id.into());
        audit.created(&t);
        self.ids
            .insert(slot, (t.id, t.fields.commune_code, t.fields.province_code));
    }
}

/// The team a member joins, as the writer needs it.
struct TeamPlace<'a> {
    id: TeamId,
    commune_code: &'a str,
    province_code: &'a str,
}

/// Where the members' teams are: in the register, or just written (by index in the plan).
struct Places<'a> {
    world: &'a World,
    new_teams: HashMap<usize, (TeamId, String, String)>,
}

impl Places<'_> {
    fn of(&self, team: TeamRef) -> Option<TeamPlace<'_>> {
        match team {
            TeamRef::Existing(id) => self.world.teams_by_id.get(&id).map(|t| TeamPlace {
                id: t.id,
                commune_code: &t.fields.commune_code,
                province_code: &t.fields.province_code,
            }),
            TeamRef::New(i) => self.new_teams.get(&i).map(|(id, c, p)| TeamPlace {
                id: *id,
                commune_code: c,
                province_code: p,
            }),
        }
    }
}

struct AccountWriter<'a> {
    rows: &'a [Line],
    members: &'a [MemberIn],
    actions: &'a [MemberAction],
    places: &'a Places<'a>,
    options: &'a Options,
    /// The account created for a member, by index in the plan.
    user_of: HashMap<usize, UserId>,
    /// The batch's new accounts, waiting for their activation codes.
    created: Vec<(UserId, String)>,
    issued: Vec<Issued>,
}

impl Writer for AccountWriter<'_> {
    type New = NewUser;
    type Record = crate::db::users::UserRow;

    fn item(
        &mut self,
        _conn: &mut PgConnection,
        _audit: &mut Audit<'_>,
        i: usize,
    ) -> AppResult<Option<NewUser>> {
        let (m, a) = (&self.members[i], &self.actions[i]);
        if !a.account {
            return Ok(None);
        }
        let (Some(team), Some(phone)) = (self.places.of(a.team), m.phone.as_ref()) else {
            return Ok(None);
        };
        let role = if m.team_role == Some(TeamRole::Leader) {
            Role::TeamLeader
        } else {
            Role::TeamMember
        };
        Ok(Some(NewUser {
            username: username_for(phone),
            full_name: Some(self.rows[m.at.0].label.to_string()),
            phone: Some(phone.to_string()),
            password_hash: activation::PENDING_HASH.to_string(),
            role: role.as_str().to_string(),
            unit_code: Some(team.commune_code.to_string()),
            province_code: Some(team.province_code.to_string()),
            team_id: Some(team.id),
        }))
    }

    const INSERT: Inserter<NewUser, Self::Record> = store::insert_users;

    fn created(&mut self, audit: &mut Audit<'_>, slot: usize, u: Self::Record) {
        self.user_of.insert(slot, u.id);
        audit.push(
            AuditAction::Create,
            ("user", u.id.to_string()),
            crate::accounts::place(&u),
            None,
            &crate::accounts::snapshot(&u),
        );
        self.created.push((u.id, u.fields.username));
    }

    /// The batch's accounts get their activation codes.
    fn batch_written(&mut self, conn: &mut PgConnection, audit: &mut Audit<'_>) -> AppResult<()> {
        if !self.created.is_empty() {
            let codes = activation::issue_in(
                conn,
                &self.options.key,
                self.options.code_expiry,
                &self.created,
            )?;
            self.issued.extend(codes);
            self.created.clear();
        }
        audit.flush(conn)
    }
}

struct MemberWriter<'a> {
    rows: &'a mut [Line],
    members: &'a [MemberIn],
    actions: &'a [MemberAction],
    places: &'a Places<'a>,
    user_of: &'a HashMap<usize, UserId>,
    today: NaiveDate,
}

impl MemberWriter<'_> {
    /// The activation sheet's lines.
    fn activations(&self, teams: &[TeamIn], issued: Vec<Issued>) -> Vec<Activation> {
        let by_user: HashMap<UserId, usize> =
            self.user_of.iter().map(|(slot, u)| (*u, *slot)).collect();
        let line = |issued: Issued| {
            let slot = *by_user.get(&issued.user_id)?;
            let place = self.actions[slot].team;
            let team = self.places.of(place)?;
            let name = match place {
                TeamRef::Existing(id) => {
                    self.places.world.teams_by_id.get(&id)?.fields.name.clone()
                }
                TeamRef::New(i) => self.rows[teams[i].at.0].label.to_string(),
            };
            Some(Activation {
                full_name: self.rows[self.members[slot].at.0].label.to_string(),
                team: name,
                commune_code: team.commune_code.to_string(),
                issued,
            })
        };
        issued.into_iter().filter_map(line).collect()
    }

    fn new_member(&self, i: usize, team: TeamPlace<'_>) -> NewMember {
        let m = &self.members[i];
        NewMember {
            person_id: PersonId(Uuid::new_v4()),
            team_id: team.id,
            commune_code: team.commune_code.to_string(),
            province_code: team.province_code.to_string(),
            full_name: self.rows[m.at.0].label.to_string(),
            search_name: m.search.to_string(),
            phone: m.phone.as_deref().map(str::to_string),
            sex: m.sex,
            birth_year: m.birth_year,
            affiliation: m.affiliation.unwrap_or(Affiliation::Other),
            team_role: m.team_role.unwrap_or(TeamRole::Member),
            joined_on: m.joined_on.unwrap_or(self.today),
            user_id: self.user_of.get(&i).copied(),
        }
    }
}

impl Writer for MemberWriter<'_> {
    type New = NewMember;
    type Record = Member;

    fn item(
        &mut self,
        conn: &mut PgConnection,
        audit: &mut Audit<'_>,
        i: usize,
    ) -> AppResult<Option<NewMember>> {
        let a = &self.actions[i];
        let Some(team) = self.places.of(a.team) else {
            return Ok(None);
        };
        let (id, changes) = match &a.action {
            Action::Create => return Ok(Some(self.new_member(i, team))),
            Action::Update(id, changes) => (*id, changes),
            Action::Skip | Action::Unchanged(_) => return Ok(None),
        };
        let changes = MemberChanges {
            full_name: changes.full_name.clone(),
            search_name: changes.search_name.clone(),
            phone: changes.phone.clone(),
            sex: changes.sex,
            birth_year: changes.birth_year,
            affiliation: changes.affiliation,
            team_role: changes.team_role,
            user_id: self.user_of.get(&i).map(|u| Some(*u)),
            ..Default::default()
        };
        audit.update(conn, db::members::lock, id, |c| {
            Ok(db::members::update(c, id, &changes)?)
        })?;
        Ok(None)
    }

    const INSERT: Inserter<NewMember, Member> = store::insert_members;

    fn created(&mut self, audit: &mut Audit<'_>, slot: usize, m: Member) {
        self.rows[self.members[slot].at.0].id = Some(m.id.into());
        audit.created(&m);
    }
}

/// Existing teams members join stay live until the end of the transaction.
fn hold_teams(conn: &mut PgConnection, actions: &[MemberAction]) -> AppResult<()> {
    let mut held = HashSet::new();
    for a in actions {
        if let TeamRef::Existing(id) = a.team {
            if !matches!(a.action, Action::Skip | Action::Unchanged(_)) && held.insert(id) {
                crate::registry::hold_live_team(conn, id)?;
            }
        }
    }
    Ok(())
}

impl Plan {
    /// Writes the checked plan: villages, teams, accounts (with their activation codes), then
    /// members, each kind in batches of `BATCH` rows a statement, every record audited with
    /// `import_id`. Memory stays bounded by the batch, not the file.
    fn apply(
        &mut self,
        conn: &mut PgConnection,
        actor: &Actor,
        import_id: Uuid,
        world: &World,
        options: &Options,
        progress: &mut dyn Progress,
    ) -> AppResult<Vec<Activation>> {
        let Plan {
            rows,
            villages,
            teams,
            members,
            village_actions,
            team_actions,
            member_actions,
            ..
        } = self;
        let total = (villages.len() + teams.len() + members.len()) as u64;
        let mut audit = Audit::new(actor, import_id);
        let mut villages_w = VillageWriter {
            rows,
            villages,
            actions: village_actions,
            world,
            ids: HashMap::new(),
        };
        write_all(conn, &mut audit, (&mut villages_w, villages.len()), |_| {})?;
        let village_ids = villages_w.ids;
        let mut done = villages.len() as u64;
        progress.writing("villages", done, total);
        let mut teams_w = TeamWriter {
            rows,
            teams,
            actions: team_actions,
            world,
            village_ids,
            ids: HashMap::new(),
        };
        write_all(conn, &mut audit, (&mut teams_w, teams.len()), |n| {
            done += n;
            progress.writing("teams", done, total);
        })?;
        done = (villages.len() + teams.len()) as u64;
        progress.writing("teams", done, total);
        let new_teams = teams_w.ids;
        let places = Places { world, new_teams };
        hold_teams(conn, member_actions)?;
        let mut accounts = AccountWriter {
            rows,
            members,
            actions: member_actions,
            places: &places,
            options,
            user_of: HashMap::new(),
            created: Vec::new(),
            issued: Vec::new(),
        };
        write_all(conn, &mut audit, (&mut accounts, members.len()), |_| {})?;
        let AccountWriter {
            user_of, issued, ..
        } = accounts;
        let mut members_w = MemberWriter {
            rows,
            members,
            actions: member_actions,
            places: &places,
            user_of: &user_of,
            today: crate::month::today_local(),
        };
        write_all(conn, &mut audit, (&mut members_w, members.len()), |n| {
            done += n;
            progress.writing("members", done, total);
        })?;
        progress.writing("members", total, total);
        Ok(members_w.activations(teams, issued))
    }
}

/// The commune and province of a checked row (rows without one never reach the writer).
fn resolved_commune(given: Option<&str>, world: &World) -> Option<(String, String)> {
    let code = given
        .map(str::to_string)
        .or_else(|| world.default_commune.clone())?;
    let province = world.communes.get(&code)?.clone();
    Some((code, province))
}

// ---------------------------------------------------------------------------------------
// The service the HTTP handlers call.

/// Imports an uploaded file for an officer (`unit`: the commune or province, default the
/// caller's own).
pub async fn upload(
    state: &crate::state::AppState,
    caller: &Caller,
    bytes: bytes::Bytes,
    file_name: String,
    unit: Option<String>,
    dry_run: bool,
) -> AppResult<Report> {
    let actor = Actor::of(caller);
    let options = Options {
        dry_run,
        key: CodeKey::new(&state.settings),
        code_expiry: activation::expiry(&state.settings),
    };
    db::run(&state.pool, move |conn| {
        let target = target(conn, &actor, unit.as_deref())?;
        run(
            conn,
            &actor,
            &target,
            vec![Upload {
                bytes: std::borrow::Cow::Borrowed(&bytes),
                file_name: file_name.clone(),
            }],
            &options,
            &mut Quiet,
        )
    })
    .await
}

fn require_officer(caller: &Caller) -> AppResult<()> {
    caller.require_officer("only officers import registers")
}

pub async fn list(
    state: &crate::state::AppState,
    caller: &Caller,
    page: db::Page,
) -> AppResult<(Vec<store::ImportRecord>, i64)> {
    require_officer(caller)?;
    let scope = caller.scope();
    db::run_read(&state.reads, move |c| Ok(store::list(c, &scope, page)?)).await
}

pub async fn get(
    state: &crate::state::AppState,
    caller: &Caller,
    id: Uuid,
) -> AppResult<store::ImportRecord> {
    require_officer(caller)?;
    let scope = caller.scope();
    db::run(&state.pool, move |c| {
        store::get(c, &scope, id)?.ok_or_else(|| AppError::not_found("import"))
    })
    .await
}

/// The per-row report of an import in the caller's scope, as XLSX.
pub async fn report_xlsx(
    state: &crate::state::AppState,
    caller: &Caller,
    id: Uuid,
) -> AppResult<Vec<u8>> {
    require_officer(caller)?;
    let scope = caller.scope();
    let rows = db::run(&state.pool, move |c| {
        store::get(c, &scope, id)?.ok_or_else(|| AppError::not_found("import"))?;
        Ok(store::rows(c, id)?)
    })
    .await?;
    let rows: Vec<RowReport> = rows.into_iter().map(row_of).collect();
    xlsx::report(&rows)
}

fn row_of(r: store::ImportRow) -> RowReport {
    let entity = match r.entity.as_str() {
        "village" => Entity::Village,
        "team" => Entity::Team,
        _ => Entity::Member,
    };
    let outcome = match r.outcome.as_str() {
        "created" => Outcome::Created,
        "updated" => Outcome::Updated,
        "unchanged" => Outcome::Unchanged,
        _ => Outcome::Error,
    };
    RowReport {
        sheet: r.sheet,
        row: u32::try_from(r.row_number).unwrap_or(0),
        entity,
        outcome,
        id: r.record_id,
        label: r.label,
        errors: serde_json::from_value(r.errors).unwrap_or_default(),
    }
}

/// The template of `kind` (all kinds when `None`), with the communes of the caller's scope.
pub async fn template(
    state: &crate::state::AppState,
    caller: &Caller,
    kind: Option<Kind>,
) -> AppResult<Vec<u8>> {
    require_officer(caller)?;
    let unit = match caller.scope() {
        Scope::Commune(c) => Some(c),
        Scope::Province(p) => Some(p),
        _ => None,
    };
    let communes = db::run_read(&state.reads, move |c| {
        Ok(store::communes_named(c, unit.as_deref())?)
    })
    .await?;
    let kinds: Vec<Kind> = kind.map_or_else(|| Kind::ALL.to_vec(), |k| vec![k]);
    xlsx::template(&kinds, &communes)
}
