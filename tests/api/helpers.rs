use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use toso::config::Settings;
use toso::startup::Application;

pub const JWT_SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";
pub const PASSWORD: &str = "correct horse battery";

fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://toso:toso@127.0.0.1:5432/toso".into())
}

/// The same server, another database.
pub fn url_for(db: &str) -> String {
    let base = server_url();
    let without_query = base.split('?').next().unwrap_or(&base).to_string();
    let (prefix, _) = without_query
        .rsplit_once('/')
        .expect("TEST_DATABASE_URL has a database name");
    format!("{prefix}/{db}")
}

fn admin_conn() -> PgConnection {
    PgConnection::establish(&server_url()).unwrap_or_else(|e| {
        panic!("cannot reach the test PostgreSQL (TEST_DATABASE_URL; run scripts/check.sh): {e}")
    })
}

/// A name that changes whenever a migration or the units file changes.
fn template_name() -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files: Vec<_> = walk(&format!("{root}/migrations"));
    files.push(format!("{root}/data/vn-admin-units-2025.csv").into());
    files.sort();
    for f in files {
        f.hash(&mut hasher);
        std::fs::read(&f)
            .expect("readable migration")
            .hash(&mut hasher);
    }
    format!("toso_tpl_{:x}", hasher.finish())
}

fn walk(dir: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("migrations dir").flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p.to_string_lossy()));
        } else {
            out.push(p);
        }
    }
    out
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The number a `SELECT count(*) AS n …` answers on `conn`.
#[track_caller]
pub fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

/// Creates the template once per run (across processes, under an advisory lock).
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = template_name();
        let mut conn = admin_conn();
        diesel::sql_query("SELECT pg_advisory_lock(764501)")
            .execute(&mut conn)
            .expect("lock");
        let exists = count(
            &mut conn,
            &format!("SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"),
        ) > 0;
        if !exists {
            let building = format!("{name}_building");
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .execute(&mut conn)
                .expect("drop");
            diesel::sql_query(format!("CREATE DATABASE {building}"))
                .execute(&mut conn)
                .expect("create template");
            {
                let mut tpl =
                    PgConnection::establish(&url_for(&building)).expect("connect template");
                migrate_with_units(&mut tpl);
            }
            diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
                .execute(&mut conn)
                .expect("rename");
        }
        diesel::sql_query("SELECT pg_advisory_unlock(764501)")
            .execute(&mut conn)
            .expect("unlock");
        name
    })
}

/// A fresh database cloned from the template; dropped when the guard goes.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    pub fn new() -> Self {
        let tpl = template();
        let name = format!("toso_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = admin_conn();
        let mut tries = 0;
        loop {
            match diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {tpl}"))
                .execute(&mut conn)
            {
                Ok(_) => break,
                // Two clones at once can collide on the template; try again.
                Err(e) if tries < 20 && e.to_string().contains("being accessed by other users") => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => panic!("cannot create test database: {e}"),
            }
        }
        TestDb { name }
    }

    pub fn url(&self) -> String {
        url_for(&self.name)
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url()).expect("connect test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let mut conn = admin_conn();
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn);
        })
        .join();
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDb,
    server: JoinHandle<std::io::Result<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub fn settings(database_url: &str, overrides: &[(&str, &str)]) -> Settings {
    let mut env: HashMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("TOSO_JWT_SECRET", JWT_SECRET),
        ("TOSO_BIND", "127.0.0.1:0"),
        ("TOSO_WORKERS", "1"),
        ("TOSO_DB_POOL_SIZE", "4"),
        ("TOSO_DB_CHECKOUT_TIMEOUT_MS", "5000"),
        ("TOSO_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in overrides {
        env.insert(k.to_string(), v.to_string());
    }
    Settings::from_lookup(|k| env.get(k).cloned()).expect("test settings are valid")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let db = TestDb::new();
    spawn_on(db, None, overrides).await
}

/// Starts the app on `db`, reaching PostgreSQL through `via` when given (a proxy URL).
pub async fn spawn_on(db: TestDb, via: Option<String>, overrides: &[(&str, &str)]) -> TestApp {
    let url = via.unwrap_or_else(|| db.url());
    let app = Application::build(settings(&url, overrides)).expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let server = tokio::spawn(app.run());
    TestApp {
        address,
        client: reqwest::Client::new(),
        db,
        server,
    }
}

/// One more instance of the app on `app`'s database, as behind a load balancer.
pub struct Instance {
    pub address: String,
    server: JoinHandle<std::io::Result<()>>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    pub fn another_instance(&self, overrides: &[(&str, &str)]) -> Instance {
        let app = Application::build(settings(&self.db.url(), overrides)).expect("app builds");
        Instance {
            address: format!("http://127.0.0.1:{}", app.port()),
            server: tokio::spawn(app.run()),
        }
    }
}

pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{}", self.address, path))
    }

    /// The served OpenAPI document (no login needed).
    pub async fn openapi(&self) -> Value {
        self.request(Method::GET, "/api/v1/openapi.json")
            .send()
            .await
            .expect("request sent")
            .json()
            .await
            .expect("json")
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path)
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut req = self.request(Method::POST, path).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    pub async fn patch_json(
        &self,
        path: &str,
        token: &str,
        if_match: Option<&str>,
        body: &Value,
    ) -> Response {
        let mut req = self
            .request(Method::PATCH, path)
            .bearer_auth(token)
            .json(body);
        if let Some(tag) = if_match {
            req = req.header("If-Match", tag);
        }
        req.send().await.expect("request sent")
    }

    /// Inserts an account straight into the database (password `PASSWORD`).
    pub fn create_user(
        &self,
        username: &str,
        role: &str,
        unit: Option<&str>,
        team: Option<i64>,
    ) -> uuid::Uuid {
        let mut conn = self.db.conn();
        let team = team.map(toso::ids::TeamId);
        let role_enum = toso::access::Role::parse(role).expect("known role");
        let unit_row = toso::accounts::resolve_unit(
            &mut conn,
            &toso::access::Scope::Country,
            role_enum,
            unit,
            team,
        )
        .expect("valid test account");
        let new = toso::db::users::NewUser {
            username: username.to_string(),
            full_name: Some(format!("Test {username}")),
            phone: None,
            password_hash: password_hash().to_string(),
            role: role.to_string(),
            province_code: unit_row.as_ref().map(|u| u.fields.province_code.clone()),
            unit_code: unit_row.map(|u| u.fields.code),
            team_id: team,
        };
        toso::db::users::insert(&mut conn, &new)
            .expect("insert user")
            .id
            .0
    }

    /// Inserts a live team in `commune` straight into the database; returns its id.
    pub fn create_team(&self, commune: &str, name: &str) -> i64 {
        let mut conn = self.db.conn();
        let unit = toso::db::units::get(&mut conn, commune)
            .expect("query")
            .expect("known commune");
        let new = toso::db::teams::NewTeam {
            commune_code: unit.fields.code,
            province_code: unit.fields.province_code,
            village_id: None,
            name: name.to_string(),
            search_name: toso::text::fold(name),
            decision_number: None,
            decision_date: None,
            established_on: None,
            dissolved_on: None,
            status: toso::vocab::TeamStatus::Active,
        };
        toso::db::teams::insert(&mut conn, &new)
            .expect("insert team")
            .id
            .0
    }

    pub async fn login_raw(&self, username: &str, password: &str) -> Response {
        self.post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": username, "password": password}),
        )
        .await
    }

    /// Logs in with `PASSWORD`. An account whose password an officer set (created through
    /// the API) must change it first: the owner does, to `PASSWORD` again, as a person would
    /// at the first login.
    pub async fn login(&self, username: &str) -> Tokens {
        let res = self.login_raw(username, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "login of {username}");
        let body: Value = res.json().await.expect("json");
        if body["must_change_password"] == true {
            let access = body["access_token"].as_str().expect("access_token");
            let res = self
                .request(Method::PUT, "/api/v1/me/password")
                .bearer_auth(access)
                .json(&json!({"current_password": PASSWORD, "new_password": PASSWORD}))
                .send()
                .await
                .expect("sent");
            assert_eq!(
                res.status(),
                StatusCode::NO_CONTENT,
                "first password of {username}"
            );
        }
        Tokens {
            access: body["access_token"]
                .as_str()
                .expect("access_token")
                .to_string(),
            refresh: body["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_string(),
        }
    }

    /// Creates an account and logs it in; returns its id and access token.
    pub async fn user_with_token(
        &self,
        username: &str,
        role: &str,
        unit: Option<&str>,
        team: Option<i64>,
    ) -> (uuid::Uuid, String) {
        let id = self.create_user(username, role, unit, team);
        (id, self.login(username).await.access)
    }
}

/// One hash of `PASSWORD`, shared by every test account (hashing is slow on purpose).
fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| toso::auth::password::hash_blocking(PASSWORD).expect("hash"))
}

/// Asserts an RFC 9457 problem with `status` and `code`; returns the body.
pub async fn assert_problem(res: impl Answered, status: StatusCode, code: &str) -> Value {
    res.answered().await.problem(status, code)
}

/// What can be read as an [`Answer`]: a response, or an answer already read.
pub trait Answered {
    fn answered(self) -> impl std::future::Future<Output = Answer>;
}

impl Answered for Response {
    async fn answered(self) -> Answer {
        Answer::read(self).await
    }
}

impl Answered for Answer {
    async fn answered(self) -> Answer {
        self
    }
}

/// A logged-in account and the requests it makes with its token (crates.io's
/// `MockCookieUser`): `officer.post(path, body).await.expect(StatusCode::CREATED)`.
pub struct Actor<'a> {
    app: &'a TestApp,
    pub token: String,
}

impl TestApp {
    /// Creates an account (password `PASSWORD`) and logs it in.
    pub async fn actor(
        &self,
        username: &str,
        role: &str,
        unit: Option<&str>,
        team: Option<i64>,
    ) -> Actor<'_> {
        let (_, token) = self.user_with_token(username, role, unit, team).await;
        self.acting(&token)
    }

    /// The account holding `token`.
    pub fn acting(&self, token: &str) -> Actor<'_> {
        Actor {
            app: self,
            token: token.to_string(),
        }
    }
}

impl<'a> Actor<'a> {
    /// The app the account acts on.
    pub fn app(&self) -> &'a TestApp {
        self.app
    }

    /// Any request, with `If-Match` when given and a JSON body when given.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        if_match: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut client = self.app.anyone().acting(&self.token);
        if let Some(tag) = if_match {
            client = client.header("If-Match", tag);
        }
        client.send(method, path, body).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, None, Some(&body)).await
    }

    pub async fn put(&self, path: &str, if_match: Option<&str>, body: Value) -> Answer {
        self.send(Method::PUT, path, if_match, Some(&body)).await
    }

    pub async fn patch(&self, path: &str, if_match: Option<&str>, body: Value) -> Answer {
        self.send(Method::PATCH, path, if_match, Some(&body)).await
    }

    pub async fn delete(&self, path: &str, if_match: Option<&str>) -> Answer {
        self.send(Method::DELETE, path, if_match, None).await
    }
}

/// An answer read in full: status, headers and body (JSON, or `Null` when it is not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub async fn read(res: Response) -> Answer {
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.json().await.unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn headers(&self) -> &reqwest::header::HeaderMap {
        &self.headers
    }

    /// The body, once the status is `status`.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        self.body
    }

    /// The `ETag` of a versioned answer.
    pub fn etag(&self) -> String {
        self.headers["etag"].to_str().expect("etag").to_string()
    }

    /// The problem body, once it is an RFC 9457 problem with `status` and a `code` that the
    /// `ErrorCode` enum (and so the OpenAPI document) lists.
    #[track_caller]
    pub fn problem(self, status: StatusCode, code: &str) -> Value {
        assert_eq!(
            self.status, status,
            "status for expected problem {code}: {}",
            self.body
        );
        let content_type = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            content_type.starts_with("application/problem+json"),
            "content type {content_type}"
        );
        let body = self.body;
        assert_eq!(body["code"], code, "problem body {body}");
        assert!(
            toso::error::ErrorCode::ALL
                .iter()
                .any(|c| c.as_str() == code),
            "{code} is not an ErrorCode, so the OpenAPI document does not list it"
        );
        assert_eq!(body["status"], status.as_u16());
        assert!(body["type"].as_str().is_some_and(|t| t.ends_with(code)));
        assert!(body["title"].is_string() && body["detail"].is_string());
        body
    }
}

/// A TCP proxy in front of PostgreSQL that can be cut and restored, to play a database outage.
pub struct DbProxy {
    pub port: u16,
    down: Arc<Mutex<bool>>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    _accept: JoinHandle<()>,
}

impl DbProxy {
    pub async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let port = listener.local_addr().expect("addr").port();
        let down = Arc::new(Mutex::new(false));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::new(Mutex::new(Vec::new()));
        let (d, l) = (down.clone(), links.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if *d.lock().expect("lock") {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                l.lock().expect("lock").push(link);
            }
        });
        DbProxy {
            port,
            down,
            links,
            _accept: accept,
        }
    }

    /// Cuts every open connection and refuses new ones.
    pub fn cut(&self) {
        *self.down.lock().expect("lock") = true;
        for link in self.links.lock().expect("lock").drain(..) {
            link.abort();
        }
    }

    pub fn restore(&self) {
        *self.down.lock().expect("lock") = false;
    }
}

/// host:port of the test PostgreSQL.
pub fn pg_host_port() -> String {
    let url = server_url();
    let after_at = url.rsplit_once('@').map(|(_, r)| r).unwrap_or(&url);
    after_at
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:5432")
        .to_string()
}

/// The URL of `db` through a proxy on `port`.
pub fn url_via(db: &str, port: u16) -> String {
    url_for(db).replace(&pg_host_port(), &format!("127.0.0.1:{port}"))
}

/// The real `toso serve` binary in a child process, its log lines captured (stderr).
pub struct ServerProcess {
    pub child: std::process::Child,
    pub address: String,
    pub log: Arc<Mutex<String>>,
}

impl ServerProcess {
    /// Starts `toso serve` on `database_url` and waits until it answers `/health/ready`.
    pub async fn start(database_url: &str, env: &[(&str, &str)]) -> Self {
        use std::io::BufRead;
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_toso"));
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("TOSO_JWT_SECRET", JWT_SECRET)
            .env("TOSO_BIND", "127.0.0.1:0")
            .env("TOSO_WORKERS", "2")
            .env("TOSO_LOG_FORMAT", "json")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("toso serve starts");
        let stderr = child.stderr.take().expect("stderr piped");
        let log = Arc::new(Mutex::new(String::new()));
        let (port_tx, port_rx) = std::sync::mpsc::channel::<u16>();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    if v["message"] == "serving" {
                        if let Some(port) = v["port"].as_u64() {
                            let _ = port_tx.send(port as u16);
                        }
                    }
                }
                let mut all = sink.lock().expect("log lock");
                all.push_str(&line);
                all.push('\n');
            }
        });
        let port = tokio::task::spawn_blocking(move || {
            port_rx.recv_timeout(std::time::Duration::from_secs(20))
        })
        .await
        .expect("join")
        .expect("the server logged its port");
        let address = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        for _ in 0..100 {
            if let Ok(res) = client.get(format!("{address}/health/ready")).send().await {
                if res.status() == StatusCode::OK {
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        ServerProcess {
            child,
            address,
            log,
        }
    }

    pub fn logs(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    pub fn terminate(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits");
        // SAFETY: sends a signal to our own child process.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Another session of `db` that holds `table` locked (ACCESS EXCLUSIVE) until it rolls back:
/// requests touching the table wait, each holding a pooled connection.
pub fn lock_table(db: &TestDb, table: &str) -> PgConnection {
    let mut locker = db.conn();
    diesel::sql_query("BEGIN")
        .execute(&mut locker)
        .expect("begin");
    diesel::sql_query(format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        .execute(&mut locker)
        .expect("lock");
    locker
}

/// Waits until `n` statements of `db` wait for a lock (requests held in flight on purpose).
pub async fn wait_for_lock_waiters(db: &TestDb, n: i64) {
    let name = db.name.clone();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let mut conn = admin_conn();
        let waiting = count(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM pg_stat_activity \
                 WHERE datname = '{name}' AND wait_event_type = 'Lock'"
            ),
        );
        if waiting >= n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{waiting} of {n} requests reached the lock"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Requests to a server by its address (another instance of the app, a `toso serve` process,
/// or the app itself before any login), each read as an [`Answer`]; with a token once
/// [`Client::acting`] gives one.
#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    token: Option<String>,
    headers: Vec<(String, String)>,
}

impl Client {
    /// The server at `address` (`http://host:port`), no token.
    pub fn to(address: &str) -> Self {
        Client {
            base: address.to_string(),
            http: reqwest::Client::new(),
            token: None,
            headers: Vec::new(),
        }
    }

    /// The same server, with `token`.
    pub fn acting(&self, token: &str) -> Self {
        Client {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    /// The server's address.
    pub fn address(&self) -> &str {
        &self.base
    }

    /// The same, sending the header `name: value` with every request too.
    pub fn header(&self, name: &str, value: &str) -> Self {
        let mut client = self.clone();
        client.headers.push((name.to_string(), value.to_string()));
        client
    }

    /// A request to `path` with the token, if any, and the headers, for a body or a timeout
    /// of one's own.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        for (name, value) in &self.headers {
            req = req.header(name, value);
        }
        req
    }

    /// Any request, with a JSON body when given.
    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Answer {
        let mut req = self.request(method, path);
        if let Some(b) = body {
            req = req.json(b);
        }
        Answer::read(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.send(Method::PUT, path, Some(&body)).await
    }

    /// A request whose body is `body` exactly as given, sent as `content_type`.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: String,
    ) -> Answer {
        let req = self
            .request(method, path)
            .header("content-type", content_type)
            .body(body);
        Answer::read(req.send().await.expect("request sent")).await
    }

    /// `POST /api/v1/auth/login`.
    pub async fn login(&self, username: &str, password: &str) -> Answer {
        self.post(
            "/api/v1/auth/login",
            json!({"username": username, "password": password}),
        )
        .await
    }

    /// `POST /api/v1/auth/refresh` with `refresh` in the body.
    pub async fn refresh(&self, refresh: &str) -> Answer {
        self.post("/api/v1/auth/refresh", json!({ "refresh_token": refresh }))
            .await
    }

    /// `POST /api/v1/auth/activate` with `code` and `password`.
    pub async fn activate(&self, code: &str, password: &str) -> Answer {
        self.post(
            "/api/v1/auth/activate",
            json!({"code": code, "password": password}),
        )
        .await
    }
}

impl Tokens {
    /// The tokens a login or a refresh answered (200).
    #[track_caller]
    pub fn of(answer: Answer) -> Tokens {
        let body = answer.expect(StatusCode::OK);
        let token = |name: &str| body[name].as_str().expect(name).to_string();
        Tokens {
            access: token("access_token"),
            refresh: token("refresh_token"),
        }
    }
}

impl TestDb {
    /// Inserts an admin `username` (password `PASSWORD`) straight into the database, as for a
    /// server that is not a `TestApp` (a `toso serve` process).
    pub fn insert_admin(&self, username: &str) {
        toso::db::users::insert(
            &mut self.conn(),
            &toso::db::users::NewUser {
                username: username.into(),
                full_name: None,
                phone: None,
                password_hash: password_hash().to_string(),
                role: "admin".into(),
                province_code: None,
                unit_code: None,
                team_id: None,
            },
        )
        .expect("user");
    }
}

impl TestApp {
    /// Requests to this app without a token, on the app's own HTTP client.
    pub fn anyone(&self) -> Client {
        Client {
            base: self.address.clone(),
            http: self.client.clone(),
            token: None,
            headers: Vec::new(),
        }
    }

    /// The number a `SELECT count(*) AS n …` of the app's database answers.
    pub fn count(&self, sql: &str) -> i64 {
        count(&mut self.db.conn(), sql)
    }
}

impl Answer {
    /// The body of a 422 `validation_failed` problem whose errors hold `field` with `code`.
    #[track_caller]
    pub fn field_error(self, field: &str, code: &str) -> Value {
        let body = self.problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let errors = body["errors"].as_array().expect("errors");
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == field && e["code"] == code),
            "expected {field}: {code} in {body}"
        );
        body
    }

    /// The seconds its `Retry-After` header asks a client to wait.
    pub fn retry_after(&self) -> u64 {
        self.headers["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds")
    }
}

impl Actor<'_> {
    /// `PUT /api/v1/me/password`: the account changes its own password from `current` to `new`.
    pub async fn change_password(&self, current: &str, new: &str) -> Answer {
        let body = json!({"current_password": current, "new_password": new});
        self.put("/api/v1/me/password", None, body).await
    }
}

/// Applies the migrations to `conn`'s database and loads the official units (as of 1 July
/// 2025) into it.
pub fn migrate_with_units(conn: &mut PgConnection) {
    toso::db::migrate(conn).expect("migrations apply");
    let file = std::fs::File::open(format!(
        "{}/data/vn-admin-units-2025.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("units csv");
    let units = toso::units::import::parse(
        file,
        chrono::NaiveDate::from_ymd_opt(2025, 7, 1).expect("date"),
    )
    .expect("units parse");
    toso::db::units::upsert_all(conn, &units).expect("units import");
}

/// The `Content-Security-Policy` of `res`, once it holds each of `directives` and allows
/// nothing unsafe and no other origin.
#[track_caller]
pub fn strict_csp(res: &Response, directives: &[&str]) -> String {
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_string();
    for directive in directives {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe") && !csp.contains("http"), "{csp}");
    csp
}
