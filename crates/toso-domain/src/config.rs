//! Typed configuration, read once from the environment at start. A missing or malformed
//! variable stops the process with a message naming it.

use std::collections::HashMap;
use std::env;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

pub use crate::db::DatabaseSettings;

/// Which browser origins may call the API (CORS). Empty: none (same origin only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorsSettings {
    /// Exact origins such as `https://toso.example.vn`; `*` means any origin.
    pub origins: Vec<String>,
    /// Let browsers send credentials (cookies, HTTP auth); never together with `*`.
    pub credentials: bool,
}

impl CorsSettings {
    fn parse(origins: Option<String>, credentials: bool) -> Result<Self, ConfigError> {
        let origins: Vec<String> = origins
            .unwrap_or_default()
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect();
        for origin in &origins {
            let scheme_ok = origin.starts_with("https://") || origin.starts_with("http://");
            if origin != "*" && (!scheme_ok || origin.matches('/').count() != 2) {
                return Err(ConfigError(format!(
                    "TOSO_CORS_ORIGINS: {origin:?} is not an origin (scheme://host[:port]) or *"
                )));
            }
        }
        if credentials && origins.iter().any(|o| o == "*") {
            return Err(ConfigError(
                "TOSO_CORS_ORIGINS cannot be * when TOSO_CORS_CREDENTIALS is true: list the origins"
                    .into(),
            ));
        }
        Ok(CorsSettings {
            origins,
            credentials,
        })
    }
}

#[derive(Clone, Debug)]
pub struct JwtSettings {
    /// Key id written into the header of new tokens.
    pub kid: String,
    pub secret: SecretString,
    /// Keys still accepted for verification while tokens signed with them expire.
    pub previous: HashMap<String, SecretString>,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

#[derive(Clone, Debug)]
pub struct Settings {
    pub dev_mode: bool,
    pub bind: String,
    pub workers: usize,
    pub database: DatabaseSettings,
    pub jwt: JwtSettings,
    pub log_format: LogFormat,
    pub log_filter: String,
    /// Take the client address from `Forwarded`/`X-Forwarded-For` (only behind a trusted proxy).
    pub trust_proxy_headers: bool,
    pub max_body_bytes: usize,
    pub cors: CorsSettings,
    /// Password hashes computed at once (argon2id takes a core for ~25 ms each).
    pub hash_concurrency: usize,
    /// Logins and password changes that may wait for a hash; beyond, 503 with `Retry-After`.
    pub hash_queue: usize,
    /// Keep live sessions in memory, kept exact by `LISTEN/NOTIFY` (`TOSO_SESSION_CACHE`,
    /// default true; false checks every request's session in the database).
    pub session_cache: bool,
    /// API requests handled at once (their bodies read, their answers built); more wait, for
    /// at most the checkout timeout, before their bodies are read.
    pub max_in_flight: usize,
    /// Of those, how many one client (an account, else an address) may hold at once.
    pub max_in_flight_per_client: usize,
    /// How long a request may take to deliver its body; past it, 408 and the connection closes.
    pub body_timeout: Duration,
    /// `Strict-Transport-Security` max-age, when the API is served over TLS (a proxy in front).
    pub hsts_max_age: Option<u64>,
    /// How long an activation code stays valid (`TOSO_ACTIVATION_TTL_HOURS`, default 14 days).
    pub activation_ttl: Duration,
    /// The largest file `POST /api/v1/imports` takes (`TOSO_MAX_IMPORT_BYTES`, default 20 MiB);
    /// 413 beyond. The command line has no limit (it streams).
    pub max_import_bytes: usize,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let parse = |name: &str, default: &str| -> Result<String, ConfigError> {
            Ok(get(name).unwrap_or_else(|| default.to_string()))
        };
        let dev_mode = dev_mode(&get);
        let log_format = log_format(&parse("TOSO_LOG_FORMAT", "text")?)?;
        let default_workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let pool_size = number(&get, "TOSO_DB_POOL_SIZE", 10, 1, 500)?;
        // One core is always left to other requests, so a storm of logins cannot starve them.
        let default_hashers = default_workers.saturating_sub(1).max(1);
        let max_in_flight = number(
            &get,
            "TOSO_MAX_IN_FLIGHT",
            2 * pool_size as usize,
            1,
            100_000,
        )?;
        let hsts_max_age = number(&get, "TOSO_HSTS_MAX_AGE", 0u64, 0, 2 * 365 * 86_400)?;

        Ok(Settings {
            dev_mode,
            bind: parse("TOSO_BIND", "127.0.0.1:8080")?,
            workers: number(&get, "TOSO_WORKERS", default_workers, 1, 256)?,
            database: database(&get, pool_size)?,
            jwt: jwt(&get, dev_mode)?,
            log_format,
            log_filter: parse("TOSO_LOG", "info")?,
            trust_proxy_headers: flag(&get, "TOSO_TRUST_PROXY_HEADERS")?,
            max_body_bytes: number(&get, "TOSO_MAX_BODY_BYTES", 2 * 1024 * 1024, 1024, 64 << 20)?,
            cors: CorsSettings::parse(
                get("TOSO_CORS_ORIGINS"),
                flag(&get, "TOSO_CORS_CREDENTIALS")?,
            )?,
            hash_concurrency: number(&get, "TOSO_HASH_CONCURRENCY", default_hashers, 1, 256)?,
            hash_queue: number(&get, "TOSO_HASH_QUEUE", 64, 0, 100_000)?,
            session_cache: get("TOSO_SESSION_CACHE").is_none() || flag(&get, "TOSO_SESSION_CACHE")?,
            max_in_flight,
            max_in_flight_per_client: number(
                &get,
                "TOSO_MAX_IN_FLIGHT_PER_CLIENT",
                (max_in_flight / 4).max(1),
                1,
                100_000,
            )?,
            body_timeout: Duration::from_millis(number(
                &get,
                "TOSO_BODY_TIMEOUT_MS",
                5_000,
                100,
                600_000,
            )?),
            hsts_max_age: (hsts_max_age > 0).then_some(hsts_max_age),
            activation_ttl: Duration::from_secs(
                3600 * number(&get, "TOSO_ACTIVATION_TTL_HOURS", 14 * 24u64, 1, 90 * 24)?,
            ),
            max_import_bytes: number(
                &get,
                "TOSO_MAX_IMPORT_BYTES",
                20 * 1024 * 1024,
                1024,
                256 << 20,
            )?,
        })
    }
}

/// `TOSO_ENV` names a development machine.
fn dev_mode(get: &impl Fn(&str) -> Option<String>) -> bool {
    matches!(
        get("TOSO_ENV")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("dev" | "development")
    )
}

fn log_format(text: &str) -> Result<LogFormat, ConfigError> {
    match text {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(ConfigError(format!(
            "TOSO_LOG_FORMAT must be text or json, not {other:?}"
        ))),
    }
}

/// `DATABASE_URL`, `DATABASE_READ_URL` and the pool's timeouts.
fn database(
    get: &impl Fn(&str) -> Option<String>,
    pool_size: u32,
) -> Result<DatabaseSettings, ConfigError> {
    let url = get("DATABASE_URL").ok_or_else(|| {
        ConfigError("DATABASE_URL is required (postgres://user:password@host:port/db)".into())
    })?;
    let is_postgres = |u: &str| u.starts_with("postgres://") || u.starts_with("postgresql://");
    if !is_postgres(&url) {
        return Err(ConfigError(
            "DATABASE_URL must start with postgres:// or postgresql://".into(),
        ));
    }
    let read_url = get("DATABASE_READ_URL");
    if read_url.as_deref().is_some_and(|u| !is_postgres(u)) {
        return Err(ConfigError(
            "DATABASE_READ_URL must start with postgres:// or postgresql://".into(),
        ));
    }
    Ok(DatabaseSettings {
        url: SecretString::from(url),
        pool_size,
        checkout_timeout: Duration::from_millis(number(
            get,
            "TOSO_DB_CHECKOUT_TIMEOUT_MS",
            2_000,
            10,
            60_000,
        )?),
        statement_timeout: Duration::from_millis(number(
            get,
            "TOSO_DB_STATEMENT_TIMEOUT_MS",
            10_000,
            10,
            600_000,
        )?),
        read_url: read_url.map(SecretString::from),
    })
}

/// The signing key (`TOSO_JWT_SECRET`, random in dev mode), the keys still accepted and the
/// token lifetimes.
fn jwt(get: &impl Fn(&str) -> Option<String>, dev_mode: bool) -> Result<JwtSettings, ConfigError> {
    let secret = match get("TOSO_JWT_SECRET") {
        Some(s) if s.len() >= 32 => s,
        Some(_) => {
            return Err(ConfigError(
                "TOSO_JWT_SECRET must be at least 32 bytes".into(),
            ))
        }
        None if dev_mode => random_secret(),
        None => {
            return Err(ConfigError(
                "TOSO_JWT_SECRET is required outside dev mode (TOSO_ENV=dev)".into(),
            ))
        }
    };
    let mut previous = HashMap::new();
    if let Some(list) = get("TOSO_JWT_PREVIOUS_KEYS") {
        for pair in list.split(',').filter(|p| !p.trim().is_empty()) {
            let (kid, key) = pair.trim().split_once(':').ok_or_else(|| {
                ConfigError("TOSO_JWT_PREVIOUS_KEYS must be a list of kid:secret".into())
            })?;
            if key.len() < 32 {
                return Err(ConfigError(format!(
                    "TOSO_JWT_PREVIOUS_KEYS: the key of {kid} must be at least 32 bytes"
                )));
            }
            previous.insert(kid.to_string(), SecretString::from(key.to_string()));
        }
    }
    Ok(JwtSettings {
        kid: get("TOSO_JWT_KID").unwrap_or_else(|| "k1".into()),
        secret: SecretString::from(secret),
        previous,
        access_ttl: Duration::from_secs(number(get, "TOSO_ACCESS_TOKEN_TTL_SECS", 900, 1, 86_400)?),
        refresh_ttl: Duration::from_secs(number(
            get,
            "TOSO_REFRESH_TOKEN_TTL_SECS",
            30 * 86_400,
            60,
            365 * 86_400,
        )?),
    })
}

fn number<T>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
    min: T,
    max: T,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(raw) = get(name) else {
        return Ok(default);
    };
    let value: T = raw
        .trim()
        .parse()
        .map_err(|_| ConfigError(format!("{name} must be a number, not {raw:?}")))?;
    if value < min || value > max {
        return Err(ConfigError(format!(
            "{name} must be between {min} and {max}, not {value}"
        )));
    }
    Ok(value)
}

fn flag(get: &impl Fn(&str) -> Option<String>, name: &str) -> Result<bool, ConfigError> {
    match get(name).as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("0" | "false" | "no") => Ok(false),
        Some("1" | "true" | "yes") => Ok(true),
        Some(other) => Err(ConfigError(format!(
            "{name} must be true or false, not {other:?}"
        ))),
    }
}

fn random_secret() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::rngs::OsRng, 48)
}
