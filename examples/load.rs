//! Load driver for a running `toso serve` on a database holding the national data set
//! (`bench/load.sh` sets everything up and runs it; see bench/RESULTS.md for figures).
//!
//! Scenario `mix` (the realistic peak): phones of team members push batches of logs (a resend
//! now and then, as a phone with a flaky network does) and pull changes; commune and province
//! officers list villages, members and logs and open reports; officers log in. At the end every
//! batch that did not get an answer is resent until it does, and the logs the server
//! acknowledged (`created` or `duplicate`) are counted in the database: none may be missing.
//!
//! Scenario `storm`: a read route alone, then the same read route while logins hammer the
//! server, to show that password hashing cannot starve other requests.
//!
//! Exits non-zero when any request failed or any acknowledged log is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed set-up should stop the run

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{FixedOffset, Offset, Utc};
use clap::{Parser, ValueEnum};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use uuid::Uuid;

const PASSWORD: &str = "load-test-password-2025";
const CATEGORIES: [&str; 6] = [
    "vneid_install",
    "vneid_level2",
    "online_public_services",
    "cashless_payment",
    "ecommerce",
    "online_safety",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Mix,
    Storm,
}

#[derive(Parser, Debug)]
#[command(about = "Drive a running toso server with a realistic load")]
struct Args {
    /// The server, e.g. http://127.0.0.1:18200
    #[arg(long)]
    base: String,
    /// The server's database (accounts for the load are created there).
    #[arg(long)]
    database_url: String,
    #[arg(long, value_enum, default_value = "mix")]
    scenario: Scenario,
    /// How long the load runs (each of the two phases of `storm`).
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Concurrent phones (each with its own team-member accounts).
    #[arg(long, default_value_t = 24)]
    phones: usize,
    /// Concurrent officers reading lists and reports.
    #[arg(long, default_value_t = 12)]
    officers: usize,
    /// Concurrent logins (mix: a steady trickle; storm: the storm).
    #[arg(long, default_value_t = 2)]
    logins: usize,
    /// Team-member accounts the phones use.
    #[arg(long, default_value_t = 240)]
    accounts: i64,
}

/// A team-member account on a phone.
#[derive(Clone)]
struct Phone {
    username: String,
    village: Option<i64>,
    token: String,
    cursor: Option<String>,
    last_batch: Option<Value>,
}

#[derive(Clone)]
struct Officer {
    username: String,
    unit: String,
    province: bool,
    token: String,
}

#[derive(Default)]
struct Stats {
    /// Per request kind: latencies in microseconds and failures.
    kinds: BTreeMap<&'static str, (Vec<u64>, u64)>,
    acknowledged: HashSet<Uuid>,
    rejected: Vec<String>,
    unanswered: Vec<Value>,
}

impl Stats {
    fn record(&mut self, kind: &'static str, started: Instant, ok: bool) {
        let entry = self.kinds.entry(kind).or_default();
        entry.0.push(started.elapsed().as_micros() as u64);
        if !ok {
            entry.1 += 1;
        }
    }

    fn merge(&mut self, other: Stats) {
        for (kind, (times, errors)) in other.kinds {
            let entry = self.kinds.entry(kind).or_default();
            entry.0.extend(times);
            entry.1 += errors;
        }
        self.acknowledged.extend(other.acknowledged);
        self.rejected.extend(other.rejected);
        self.unanswered.extend(other.unanswered);
    }

    fn errors(&self) -> u64 {
        self.kinds.values().map(|(_, e)| e).sum()
    }

    fn table(&self, seconds: f64) -> String {
        let mut out = String::from(
            "| request | count | per second | p50 ms | p99 ms | max ms | errors |\n| --- | --- | --- | --- | --- | --- | --- |\n",
        );
        for (kind, (times, errors)) in &self.kinds {
            let mut t = times.clone();
            t.sort_unstable();
            let q = |p: f64| {
                t.get(((t.len() as f64 * p) as usize).min(t.len().saturating_sub(1)))
                    .map_or(0.0, |v| *v as f64 / 1000.0)
            };
            out.push_str(&format!(
                "| {kind} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {errors} |\n",
                t.len(),
                t.len() as f64 / seconds,
                q(0.50),
                q(0.99),
                q(1.0),
            ));
        }
        out
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let args = Args::parse();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(256)
        .build()?;
    let setup = Instant::now();
    let (phones, officers) = prepare_accounts(&args)?;
    let phones = log_in_all(
        &client,
        &args.base,
        phones,
        |p| &p.username,
        |p, t| p.token = t,
    )
    .await?;
    let officers = log_in_all(
        &client,
        &args.base,
        officers,
        |o| &o.username,
        |o, t| o.token = t,
    )
    .await?;
    eprintln!(
        "{} phone accounts and {} officers ready in {:.1} s",
        phones.len(),
        officers.len(),
        setup.elapsed().as_secs_f64()
    );
    match args.scenario {
        Scenario::Mix => mix(&args, client, phones, officers).await,
        Scenario::Storm => storm(&args, client, officers).await,
    }
}

#[derive(QueryableByName)]
struct Chosen {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    village_id: Option<i64>,
}

#[derive(QueryableByName)]
struct UnitCode {
    #[diesel(sql_type = Text)]
    code: String,
}

/// Creates (once) team-member accounts linked to members of provinces 01 and 79, one per
/// commune, and officers for their communes and provinces. Straight into the database: the
/// load is about field work, not about creating accounts.
fn prepare_accounts(args: &Args) -> Result<(Vec<Phone>, Vec<Officer>), Failure> {
    let mut conn = PgConnection::establish(&args.database_url)?;
    let hash = toso::auth::password::hash_blocking(PASSWORD).map_err(|e| format!("{e:?}"))?;
    let chosen: Vec<Chosen> = conn.transaction(|conn| {
        diesel::sql_query(
            "CREATE TEMP TABLE load_members ON COMMIT DROP AS
             SELECT DISTINCT ON (m.commune_code) m.id, m.team_id, m.commune_code, m.province_code, t.village_id
             FROM members m JOIN teams t ON t.id = m.team_id
             WHERE m.province_code IN ('01', '79') AND m.team_role = 'member'
               AND m.left_on IS NULL AND m.archived_at IS NULL AND t.archived_at IS NULL
             ORDER BY m.commune_code, m.id
             LIMIT $1",
        )
        .bind::<BigInt, _>(args.accounts)
        .execute(conn)?;
        diesel::sql_query(
            "INSERT INTO users (username, password_hash, role, unit_code, province_code, team_id)
             SELECT 'load.m' || id, $1, 'team_member', commune_code, province_code, team_id FROM load_members
             UNION ALL
             SELECT DISTINCT 'load.c' || commune_code, $1, 'commune_officer', commune_code, province_code, NULL::bigint FROM load_members
             UNION ALL
             SELECT DISTINCT 'load.p' || province_code, $1, 'province_officer', province_code, province_code, NULL::bigint FROM load_members
             ON CONFLICT (username) DO NOTHING",
        )
        .bind::<Text, _>(&hash)
        .execute(conn)?;
        diesel::sql_query(
            "UPDATE members m SET user_id = u.id FROM users u
             WHERE u.username = 'load.m' || m.id AND m.user_id IS DISTINCT FROM u.id
               AND m.id IN (SELECT id FROM load_members)",
        )
        .execute(conn)?;
        diesel::sql_query("SELECT id, village_id FROM load_members ORDER BY id").load(conn)
    })?;
    let communes: Vec<UnitCode> = diesel::sql_query(
        "SELECT DISTINCT unit_code AS code FROM users WHERE username LIKE 'load.c%' ORDER BY 1",
    )
    .load(&mut conn)?;
    let provinces: Vec<UnitCode> = diesel::sql_query(
        "SELECT DISTINCT unit_code AS code FROM users WHERE username LIKE 'load.p%' ORDER BY 1",
    )
    .load(&mut conn)?;
    let phones = chosen
        .into_iter()
        .map(|c| Phone {
            username: format!("load.m{}", c.id),
            village: c.village_id,
            token: String::new(),
            cursor: None,
            last_batch: None,
        })
        .collect();
    let officers = communes
        .into_iter()
        .map(|u| (u.code, false))
        .chain(provinces.into_iter().map(|u| (u.code, true)))
        .map(|(unit, province)| Officer {
            username: format!("load.{}{unit}", if province { "p" } else { "c" }),
            unit,
            province,
            token: String::new(),
        })
        .collect();
    Ok((phones, officers))
}

async fn login(client: &reqwest::Client, base: &str, username: &str) -> Result<String, Failure> {
    let res = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await?;
    if !res.status().is_success() {
        return Err(format!("login of {username}: {}", res.status()).into());
    }
    let body: Value = res.json().await?;
    body["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "no access_token".into())
}

async fn log_in_all<T>(
    client: &reqwest::Client,
    base: &str,
    mut accounts: Vec<T>,
    name: impl Fn(&T) -> &String,
    set: impl Fn(&mut T, String),
) -> Result<Vec<T>, Failure> {
    for chunk in accounts.chunks_mut(8) {
        let handles: Vec<_> = chunk
            .iter()
            .map(|a| {
                let (client, base, name) = (client.clone(), base.to_string(), name(a).clone());
                tokio::spawn(async move { login(&client, &base, &name).await })
            })
            .collect();
        for (account, handle) in chunk.iter_mut().zip(handles) {
            set(account, handle.await??);
        }
    }
    Ok(accounts)
}

/// Vietnam's offset, UTC+7.
fn vn() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).unwrap_or_else(|| Utc.fix())
}

fn new_batch(rng: &mut StdRng, village: Option<i64>) -> Value {
    let tz = vn();
    let size = rng.gen_range(1..=50);
    let items: Vec<Value> = (0..size)
        .map(|_| {
            let at = Utc::now() - chrono::Duration::minutes(rng.gen_range(1..3 * 24 * 60));
            json!({"op": "create_log", "data": {
                "id": Uuid::new_v4(),
                "occurred_at": at.with_timezone(&tz).to_rfc3339(),
                "village_id": village,
                "category_code": CATEGORIES[rng.gen_range(0..CATEGORIES.len())],
                "channel": "home_visit",
                "citizens_helped": rng.gen_range(1..4),
                "citizen_sex": if rng.gen_bool(0.5) { "female" } else { "male" },
                "citizen_age_band": "60_plus",
                "outcome": "done",
                "note": "Hướng dẫn cài đặt và kích hoạt VNeID",
            }})
        })
        .collect();
    json!({"device_id": "load", "items": items})
}

/// Sends one batch; acknowledged ids go to `stats`. Err when there was no usable answer.
async fn push(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    batch: &Value,
    stats: &mut Stats,
) -> Result<(), ()> {
    let started = Instant::now();
    let res = client
        .post(format!("{base}/api/v1/sync/push"))
        .bearer_auth(token)
        .json(batch)
        .send()
        .await;
    let body: Option<Value> = match res {
        Ok(r) if r.status().is_success() => r.json().await.ok(),
        _ => None,
    };
    let Some(body) = body else {
        stats.record("POST /sync/push", started, false);
        return Err(());
    };
    let mut ok = true;
    for result in body["results"].as_array().into_iter().flatten() {
        match (result["status"].as_str(), result["id"].as_str()) {
            (Some("created" | "duplicate"), Some(id)) => {
                if let Ok(id) = id.parse() {
                    stats.acknowledged.insert(id);
                }
            }
            _ => {
                ok = false;
                stats.rejected.push(result.to_string());
            }
        }
    }
    stats.record("POST /sync/push", started, ok);
    Ok(())
}

async fn get(
    client: &reqwest::Client,
    url: String,
    token: &str,
    kind: &'static str,
    stats: &mut Stats,
) -> Option<Value> {
    let started = Instant::now();
    let res = client.get(url).bearer_auth(token).send().await;
    let body = match res {
        Ok(r) if r.status().is_success() => r.json::<Value>().await.ok(),
        _ => None,
    };
    stats.record(kind, started, body.is_some());
    body
}

async fn phone_loop(
    client: reqwest::Client,
    base: String,
    mut phones: Vec<Phone>,
    until: Instant,
    seed: u64,
) -> Stats {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut stats = Stats::default();
    while Instant::now() < until && !phones.is_empty() {
        let i = rng.gen_range(0..phones.len());
        let phone = &mut phones[i];
        if rng.gen_bool(0.2) {
            // Pull what changed since the phone's last sync (one page).
            let mut url = format!("{base}/api/v1/sync/pull?limit=200");
            if let Some(c) = &phone.cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            if let Some(page) = get(&client, url, &phone.token, "GET /sync/pull", &mut stats).await
            {
                phone.cursor = page["cursor"].as_str().map(str::to_string);
            }
            continue;
        }
        let batch = match (&phone.last_batch, rng.gen_bool(0.05)) {
            // A phone that lost the answer sends the same batch again.
            (Some(last), true) => last.clone(),
            _ => new_batch(&mut rng, phone.village),
        };
        if push(&client, &base, &phone.token, &batch, &mut stats)
            .await
            .is_err()
        {
            stats
                .unanswered
                .push(json!({"token": phone.token, "batch": batch}));
        }
        phone.last_batch = Some(batch);
    }
    stats
}

async fn officer_loop(
    client: reqwest::Client,
    base: String,
    officers: Vec<Officer>,
    until: Instant,
    seed: u64,
) -> Stats {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut stats = Stats::default();
    let now = Utc::now().with_timezone(&vn());
    let month = now.format("%Y-%m").to_string();
    let last_month = (now - chrono::Duration::days(31))
        .format("%Y-%m")
        .to_string();
    let start_of_month = format!("{month}-01T00:00:00%2B07:00");
    while Instant::now() < until && !officers.is_empty() {
        let o = &officers[rng.gen_range(0..officers.len())];
        let u = &o.unit;
        let (kind, path) = match (o.province, rng.gen_range(0..10)) {
            (false, 0..=2) => ("GET /villages", format!("villages?commune={u}")),
            (false, 3..=4) => ("GET /members", format!("members?commune={u}")),
            (false, 5..=6) => (
                "GET /assistance-logs",
                format!("assistance-logs?unit={u}&from={start_of_month}"),
            ),
            (false, 7..=8) => (
                "GET /reports/monthly (commune)",
                format!("reports/monthly?unit={u}&month={last_month}"),
            ),
            (false, _) => (
                "GET /reports/trend (commune)",
                format!("reports/trend?unit={u}&from=2025-11&to={month}"),
            ),
            (true, 0..=4) => (
                "GET /reports/monthly (province)",
                format!("reports/monthly?unit={u}&month={last_month}"),
            ),
            (true, 5..=7) => (
                "GET /reports/status",
                format!("reports/status?province={u}&month={last_month}"),
            ),
            (true, _) => (
                "GET /assistance-logs (province)",
                format!("assistance-logs?unit={u}&from={start_of_month}"),
            ),
        };
        let url = format!("{base}/api/v1/{path}");
        get(&client, url, &o.token, kind, &mut stats).await;
    }
    stats
}

async fn login_loop(
    client: reqwest::Client,
    base: String,
    usernames: Vec<String>,
    until: Instant,
    seed: u64,
) -> Stats {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut stats = Stats::default();
    while Instant::now() < until && !usernames.is_empty() {
        let name = &usernames[rng.gen_range(0..usernames.len())];
        let started = Instant::now();
        let ok = login(&client, &base, name).await.is_ok();
        stats.record("POST /auth/login", started, ok);
    }
    stats
}

async fn join_all(handles: Vec<tokio::task::JoinHandle<Stats>>) -> Result<Stats, Failure> {
    let mut total = Stats::default();
    for h in handles {
        total.merge(h.await?);
    }
    Ok(total)
}

async fn mix(
    args: &Args,
    client: reqwest::Client,
    phones: Vec<Phone>,
    officers: Vec<Officer>,
) -> Result<(), Failure> {
    let until = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut handles = Vec::new();
    let per_phone = phones.len().div_ceil(args.phones.max(1)).max(1);
    for (i, chunk) in phones.chunks(per_phone).enumerate() {
        handles.push(tokio::spawn(phone_loop(
            client.clone(),
            args.base.clone(),
            chunk.to_vec(),
            until,
            i as u64,
        )));
    }
    for i in 0..args.officers {
        handles.push(tokio::spawn(officer_loop(
            client.clone(),
            args.base.clone(),
            officers.clone(),
            until,
            1000 + i as u64,
        )));
    }
    let usernames: Vec<String> = officers.iter().map(|o| o.username.clone()).collect();
    for i in 0..args.logins {
        handles.push(tokio::spawn(login_loop(
            client.clone(),
            args.base.clone(),
            usernames.clone(),
            until,
            2000 + i as u64,
        )));
    }
    let mut stats = join_all(handles).await?;
    let elapsed = started.elapsed().as_secs_f64();

    // What got no answer is sent again, as the phone would, until it is acknowledged.
    let unanswered = std::mem::take(&mut stats.unanswered);
    let resent = unanswered.len();
    for item in unanswered {
        let token = item["token"].as_str().unwrap_or_default().to_string();
        let mut done = false;
        for _ in 0..10 {
            let mut retry = Stats::default();
            if push(&client, &args.base, &token, &item["batch"], &mut retry)
                .await
                .is_ok()
            {
                stats.acknowledged.extend(retry.acknowledged);
                stats.rejected.extend(retry.rejected);
                done = true;
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        if !done {
            stats.rejected.push("a batch never got an answer".into());
        }
    }

    let ids: Vec<Uuid> = stats.acknowledged.iter().copied().collect();
    let mut conn = PgConnection::establish(&args.database_url)?;
    let found: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM assistance_logs WHERE id = ANY($1) AND archived_at IS NULL",
    )
    .bind::<Array<diesel::sql_types::Uuid>, _>(&ids)
    .get_result(&mut conn)?;
    let lost = ids.len() as i64 - found.n;

    println!(
        "Scenario mix: {} phones over {} accounts, {} officers, {} login loops, {:.0} s",
        args.phones,
        phones.len(),
        args.officers,
        args.logins,
        elapsed
    );
    println!();
    print!("{}", stats.table(elapsed));
    let requests: usize = stats.kinds.values().map(|(t, _)| t.len()).sum();
    println!();
    println!("| total | value |\n| --- | --- |");
    println!(
        "| requests | {requests} ({:.0}/s) |",
        requests as f64 / elapsed
    );
    println!(
        "| errors (non-2xx, transport, rejected items) | {} |",
        stats.errors()
    );
    println!("| batches resent after no answer | {resent} |");
    println!("| logs acknowledged | {} |", ids.len());
    println!("| acknowledged logs found in the database | {} |", found.n);
    println!("| lost | {lost} |");
    for r in stats.rejected.iter().take(5) {
        eprintln!("rejected: {r}");
    }
    if stats.errors() > 0 || lost != 0 || !stats.rejected.is_empty() {
        return Err(format!("{} errors, {lost} lost", stats.errors()).into());
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn storm(
    args: &Args,
    client: reqwest::Client,
    officers: Vec<Officer>,
) -> Result<(), Failure> {
    let communes: Vec<Officer> = officers.iter().filter(|o| !o.province).cloned().collect();
    let usernames: Vec<String> = officers.iter().map(|o| o.username.clone()).collect();
    let mut tables = Vec::new();
    for (phase, logins) in [
        ("reads alone", 0),
        ("reads during a login storm", args.logins),
    ] {
        let until = Instant::now() + Duration::from_secs(args.seconds);
        let started = Instant::now();
        let mut handles = Vec::new();
        for i in 0..args.officers {
            let client = client.clone();
            let base = args.base.clone();
            let communes = communes.clone();
            handles.push(tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(3000 + i as u64);
                let mut stats = Stats::default();
                while Instant::now() < until && !communes.is_empty() {
                    let o = &communes[rng.gen_range(0..communes.len())];
                    let url = format!("{base}/api/v1/villages?commune={}", o.unit);
                    get(&client, url, &o.token, "GET /villages", &mut stats).await;
                }
                stats
            }));
        }
        for i in 0..logins {
            handles.push(tokio::spawn(login_loop(
                client.clone(),
                args.base.clone(),
                usernames.clone(),
                until,
                4000 + i as u64,
            )));
        }
        let stats = join_all(handles).await?;
        let elapsed = started.elapsed().as_secs_f64();
        tables.push((phase, logins, stats.table(elapsed), stats.errors()));
    }
    let mut errors = 0;
    for (phase, logins, table, e) in tables {
        println!(
            "Scenario storm, {phase}: {} readers, {logins} login loops, {} s",
            args.officers, args.seconds
        );
        println!();
        print!("{table}");
        println!();
        errors += e;
    }
    if errors > 0 {
        return Err(format!("{errors} errors").into());
    }
    Ok(())
}
