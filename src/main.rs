use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use diesel::{Connection, PgConnection};

use toso::access::{Role, Scope};
use toso::auth::password;
use toso::config::Settings;
use toso::db;
use toso::startup::Application;
use toso::vocab::AuditAction;

/// Tổ Số: backend for Vietnam's community digital-technology teams.
///
/// Every command reads DATABASE_URL; `serve` reads the rest of the configuration from the
/// environment too (see .env.example).
#[derive(Parser)]
#[command(name = "toso", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API on TOSO_BIND (default 127.0.0.1:8080).
    Serve,
    /// Apply every pending database migration (they are embedded in this binary).
    Migrate,
    /// Create a user account. The password comes from TOSO_PASSWORD or a prompt, never argv.
    CreateUser {
        /// 3–64 characters: a-z, 0-9, '.', '_', '-'.
        #[arg(long)]
        username: String,
        /// admin, province_officer, commune_officer, team_leader or team_member.
        #[arg(long)]
        role: String,
        /// Official code of the unit the account works in (a province or commune; none for admin).
        #[arg(long)]
        unit: Option<String>,
        /// Team id, for team_leader and team_member.
        #[arg(long)]
        team: Option<i64>,
        #[arg(long)]
        full_name: Option<String>,
        /// Succeed without change when the username already exists.
        #[arg(long)]
        if_missing: bool,
    },
    /// Set the password of any account, admins included (the way back in for a locked-out
    /// admin). The password comes from TOSO_PASSWORD or a prompt, never argv; the owner must
    /// change it at the next login. Ends the account's sessions; audited.
    SetPassword {
        /// The account's username or phone number.
        #[arg(long)]
        username: String,
        /// Also enable the account when it is disabled.
        #[arg(long)]
        enable: bool,
    },
    /// Import villages, teams, members and their accounts from spreadsheets (XLSX or CSV), as
    /// `POST /api/v1/imports` does, with a progress bar: the files are read in order as one
    /// import, applied all or nothing in one transaction, audited as the operator's. Needs
    /// TOSO_JWT_SECRET (the activation codes are hashed with the server's key).
    Import {
        /// One or more files (for example teams.csv then members.csv).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The commune or province imported into; the whole country when left out.
        #[arg(long)]
        unit: Option<String>,
        /// Check only: answer what would happen, write nothing to the register.
        #[arg(long)]
        dry_run: bool,
        /// Write the per-row report here (XLSX).
        #[arg(long)]
        report: Option<PathBuf>,
        /// Write the activation sheet of the accounts created here (XLSX, a QR per account).
        #[arg(long)]
        activation_sheet: Option<PathBuf>,
    },
    /// Load the official list of administrative units from a CSV file (idempotent).
    ImportUnits {
        /// CSV with columns province_code, province_name, province_type, commune_code,
        /// commune_name, commune_type.
        file: PathBuf,
    },
}

fn database_url() -> Result<String, String> {
    std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is required".to_string())
}

fn connect() -> Result<PgConnection, String> {
    PgConnection::establish(&database_url()?)
        .map_err(|e| format!("cannot connect to the database: {e}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve => serve(),
        Command::Migrate => migrate(),
        Command::CreateUser {
            username,
            role,
            unit,
            team,
            full_name,
            if_missing,
        } => create_user(&username, &role, unit, team, full_name, if_missing),
        Command::SetPassword { username, enable } => set_password(&username, enable),
        Command::ImportUnits { file } => import_units(&file),
        Command::Import {
            files,
            unit,
            dry_run,
            report,
            activation_sheet,
        } => import(&files, unit, dry_run, report, activation_sheet),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn serve() -> Result<(), String> {
    password::tune_allocator();
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    toso::telemetry::init(settings.log_format, &settings.log_filter);
    if settings.dev_mode {
        tracing::warn!("dev mode: do not use in production");
    }
    let bind = settings.bind.clone();
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings).map_err(|e| format!("cannot bind {bind}: {e}"))?;
        tracing::info!(address = %bind, port = app.port(), "serving");
        app.run().await.map_err(|e| e.to_string())
    })
}

fn migrate() -> Result<(), String> {
    let mut conn = connect()?;
    let applied = db::migrate(&mut conn)?;
    if applied.is_empty() {
        println!("database is up to date");
    } else {
        println!(
            "applied {} migration(s): {}",
            applied.len(),
            applied.join(", ")
        );
    }
    Ok(())
}

fn create_user(
    username: &str,
    role: &str,
    unit: Option<String>,
    team: Option<i64>,
    full_name: Option<String>,
    if_missing: bool,
) -> Result<(), String> {
    let role = Role::parse(role).ok_or_else(|| {
        format!("unknown role {role:?}; use one of admin, province_officer, commune_officer, team_leader, team_member")
    })?;
    let username = username.trim().to_lowercase();
    let mut conn = connect()?;
    if db::users::find_by_username(&mut conn, &username)
        .map_err(|e| e.to_string())?
        .is_some()
    {
        return if if_missing {
            println!("user {username} already exists; nothing changed");
            Ok(())
        } else {
            Err(format!("user {username} already exists"))
        };
    }
    let password = read_password(&username)?;
    let words = password::account_words(&username, full_name.as_deref(), None);
    if let Some(message) = password::policy_violation(&password, &words) {
        return Err(message);
    }
    let team = team.map(toso::ids::TeamId);
    let unit =
        toso::accounts::resolve_unit(&mut conn, &Scope::Country, role, unit.as_deref(), team)
            .map_err(|e| describe(&e))?;
    let new = db::users::NewUser {
        username: username.clone(),
        full_name,
        phone: None,
        password_hash: password::hash_blocking(&password).map_err(|e| e.to_string())?,
        role: role.as_str().to_string(),
        province_code: unit.as_ref().map(|u| u.fields.province_code.clone()),
        unit_code: unit.map(|u| u.fields.code),
        team_id: team,
    };
    let user = conn
        .transaction(|c| {
            let user = db::users::insert(c, &new)?;
            toso::accounts::audit_by_operator(c, AuditAction::Create, None, &user)?;
            Ok(user)
        })
        .map_err(|e: toso::error::AppError| describe(&e))?;
    println!(
        "created user {} ({}) with id {}",
        user.fields.username, user.fields.role, user.id
    );
    Ok(())
}

/// The password from TOSO_PASSWORD, or else a prompt (never argv), read as the API reads a
/// JSON string (NFC, no control characters), so the owner can log in with what was typed.
fn read_password(login: &str) -> Result<String, String> {
    let mut password = match std::env::var("TOSO_PASSWORD") {
        Ok(p) if !p.is_empty() => p,
        _ => rpassword::prompt_password(format!("password for {login}: "))
            .map_err(|e| e.to_string())?,
    };
    toso::text::screen_str("password", &mut password).map_err(|e| e.message)?;
    Ok(password)
}

fn set_password(login: &str, enable: bool) -> Result<(), String> {
    let login = login.trim().to_lowercase();
    let mut conn = connect()?;
    let user = db::users::find_for_login(&mut conn, &login)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no account has the login {login}"))?;
    let password = read_password(&login)?;
    let words = password::account_words(
        &user.fields.username,
        user.fields.full_name.as_deref(),
        user.fields.phone.as_deref(),
    );
    if let Some(message) = password::policy_violation(&password, &words) {
        return Err(message);
    }
    let hash = password::hash_blocking(&password).map_err(|e| e.to_string())?;
    let user = toso::accounts::set_password_by_operator(&mut conn, &login, hash, enable)
        .map_err(|e| describe(&e))?;
    println!(
        "set the password of {} ({}); it must be changed at the next login",
        user.fields.username, user.fields.role
    );
    Ok(())
}

fn describe(err: &toso::error::AppError) -> String {
    match err {
        toso::error::AppError::Validation(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn import_units(file: &PathBuf) -> Result<(), String> {
    let reader =
        std::fs::File::open(file).map_err(|e| format!("cannot open {}: {e}", file.display()))?;
    let valid_from = chrono::NaiveDate::from_ymd_opt(2025, 7, 1).ok_or("bad constant date")?;
    let units = toso::units::import::parse(reader, valid_from)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let mut conn = connect()?;
    let summary = db::units::upsert_all(&mut conn, &units).map_err(|e| e.to_string())?;
    println!(
        "units: {} inserted, {} updated, {} unchanged ({} in file)",
        summary.inserted,
        summary.updated,
        summary.unchanged,
        units.len()
    );
    Ok(())
}

/// The command line's progress bar: rows read, then records written.
struct Bar(indicatif::ProgressBar);

impl toso::imports::Progress for Bar {
    fn rows_read(&mut self, n: u64) {
        self.0.set_message(format!("{n} rows read"));
        self.0.tick();
    }

    fn writing(&mut self, stage: &str, done: u64, total: u64) {
        if self.0.length() != Some(total) {
            self.0.set_length(total);
            self.0.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:40}] {pos}/{len} records {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
        }
        self.0.set_position(done);
        self.0.set_message(stage.to_string());
    }
}

fn import(
    files: &[PathBuf],
    unit: Option<String>,
    dry_run: bool,
    report: Option<PathBuf>,
    activation_sheet: Option<PathBuf>,
) -> Result<(), String> {
    // The same allocator tuning as `serve`: large row buffers go back to the system when
    // freed, and the threads drawing QR codes share two arenas (a national file: 203 → 192 MB).
    password::tune_allocator();
    let settings = Settings::from_env().map_err(|e| e.to_string())?;
    let uploads = read_uploads(files)?;
    let mut conn = connect()?;
    let actor = toso::imports::Actor::operator();
    let target = toso::imports::target(&mut conn, &actor, unit.as_deref()).map_err(show)?;
    let options = toso::imports::Options {
        dry_run,
        key: toso::auth::activation::CodeKey::new(&settings),
        code_expiry: toso::auth::activation::expiry(&settings),
    };
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message("reading");
    let mut progress = Bar(bar);
    let outcome = toso::imports::run(&mut conn, &actor, &target, uploads, &options, &mut progress)
        .map_err(show)?;
    progress.0.finish_and_clear();
    print_import(&outcome);
    if let Some(path) = report {
        write_file(&path, toso::imports::xlsx::report(&outcome.rows))?;
    }
    if let Some(path) = activation_sheet {
        write_file(
            &path,
            toso::imports::xlsx::activation_sheet(&outcome.activations),
        )?;
    }
    if outcome.result == "applied" || dry_run {
        Ok(())
    } else {
        Err("the file has errors; nothing was written".into())
    }
}

/// The files to import, read whole, each with its name.
fn read_uploads(files: &[PathBuf]) -> Result<Vec<toso::imports::Upload<'static>>, String> {
    let mut uploads = Vec::new();
    for f in files {
        let bytes = std::fs::read(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        let file_name = f.file_name().map_or_else(
            || f.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        uploads.push(toso::imports::Upload {
            bytes: std::borrow::Cow::Owned(bytes),
            file_name,
        });
    }
    Ok(uploads)
}

/// An import's error for the operator: the fields at fault, or the error itself.
fn show(e: toso::error::AppError) -> String {
    match e {
        toso::error::AppError::Validation(fields) => fields
            .iter()
            .map(|f| format!("{}: {} ({})", f.field, f.message, f.code))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn write_file(path: &Path, bytes: toso::error::AppResult<Vec<u8>>) -> Result<(), String> {
    std::fs::write(path, bytes.map_err(show)?).map_err(|e| format!("{}: {e}", path.display()))
}

/// The counts, then the errors of the first 20 rows that have some.
fn print_import(outcome: &toso::imports::Report) {
    let c = &outcome.counts;
    println!(
        "import {} ({}): {} rows; villages {}/{}/{} teams {}/{}/{} members {}/{}/{}          (created/updated/unchanged); {} accounts; {} errors",
        outcome.id,
        outcome.result,
        c.rows,
        c.villages.created,
        c.villages.updated,
        c.villages.unchanged,
        c.teams.created,
        c.teams.updated,
        c.teams.unchanged,
        c.members.created,
        c.members.updated,
        c.members.unchanged,
        c.accounts_created,
        c.errors
    );
    let failed = outcome.rows.iter().filter(|r| !r.errors.is_empty());
    for row in failed.take(20) {
        for e in &row.errors {
            println!(
                "  {} row {} {}: {} ({})",
                row.sheet,
                row.row,
                e.column.as_deref().unwrap_or(""),
                e.message,
                e.code
            );
        }
    }
}
