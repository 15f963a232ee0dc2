//! Browser access (CORS) and what the logs may never hold.

use reqwest::{Method, StatusCode};
use serde_json::json;

use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;

use crate::helpers::{
    spawn_app, spawn_app_with, Actor, Client, ServerProcess, TestDb, Tokens, PASSWORD,
};

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let origin = "https://toso.example.vn";
    let app = spawn_app_with(&[
        ("TOSO_CORS_ORIGINS", origin),
        ("TOSO_CORS_CREDENTIALS", "true"),
    ])
    .await;
    let from = |origin: &str| app.anyone().header("Origin", origin);
    let preflight = |origin: &str| {
        let client = from(origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            );
        async move { client.send(Method::OPTIONS, "/api/v1/villages", None).await }
    };
    let res = preflight(origin).await;
    assert!(res.status.is_success(), "{}", res.status);
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], origin);
    assert_eq!(h["access-control-allow-credentials"], "true");
    let methods = h["access-control-allow-methods"].to_str().expect("ascii");
    assert!(methods.contains("POST"), "{methods}");
    assert_eq!(h["x-content-type-options"], "nosniff");

    // Another origin gets no CORS grant, so its browser withholds the answer.
    let res = preflight("https://evil.example.com").await;
    assert!(!res.headers().contains_key("access-control-allow-origin"));
    let res = from("https://evil.example.com").get("/health/live").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(!res.headers().contains_key("access-control-allow-origin"));
    let res = from(origin).get("/health/live").await;
    assert_eq!(res.headers()["access-control-allow-origin"], origin);
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    assert!(exposed.contains("etag") && exposed.contains("x-request-id"));

    // Without configuration no origin is granted anything.
    let plain = spawn_app().await;
    let res = plain
        .anyone()
        .header("Origin", origin)
        .get("/health/live")
        .await;
    assert!(!res.headers().contains_key("access-control-allow-origin"));
}

#[test]
fn cors_refuses_a_wildcard_with_credentials() {
    let settings = |origins: &str, credentials: &str| {
        let env = [
            ("DATABASE_URL", "postgres://u:p@localhost/db"),
            ("TOSO_ENV", "dev"),
            ("TOSO_CORS_ORIGINS", origins),
            ("TOSO_CORS_CREDENTIALS", credentials),
        ];
        toso::config::Settings::from_lookup(|k| {
            env.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        })
    };
    let err = settings("*", "true").expect_err("wildcard with credentials");
    assert!(err.to_string().contains("TOSO_CORS_ORIGINS"), "{err}");
    assert!(settings("https://a.vn, *", "true").is_err());
    assert!(
        settings("toso.example.vn", "false").is_err(),
        "not an origin"
    );
    let ok = settings("*", "false").expect("a wildcard alone is allowed");
    assert_eq!(ok.cors.origins, ["*"]);
    let ok = settings("https://a.vn/, https://b.vn:8443", "true").expect("a list");
    assert_eq!(ok.cors.origins, ["https://a.vn", "https://b.vn:8443"]);
}

/// What an admin's work sent the server: every password, token and personal datum (which
/// the logs may not hold), and the access tokens among them (not even in part).
struct Sent {
    secrets: Vec<String>,
    access_tokens: [String; 2],
}

/// `root.admin` guesses a password, logs in, creates an officer with a password, a name and
/// a phone, who logs in by phone; refreshes, changes its password, and has a bad token and a
/// replayed refresh token refused.
async fn an_admin_handles_secrets(server: &Client) -> Sent {
    let wrong_password = "Wr0ng-secret-guess-77";
    server
        .login("root.admin", wrong_password)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    let login = Tokens::of(server.login("root.admin", PASSWORD).await);

    let (new_password, phone) = ("Mật-khẩu-mới-2025", "0912345678");
    server
        .acting(&login.access)
        .post(
            "/api/v1/users",
            json!({"username": "officer.log", "password": new_password,
                   "role": "commune_officer", "unit_code": "00004",
                   "full_name": "Nguyễn Thị Bí Mật", "phone": phone}),
        )
        .await
        .expect(StatusCode::CREATED);
    let res = server.login(phone, new_password).await;
    assert_eq!(res.status, StatusCode::OK, "login by phone");
    let rotated = Tokens::of(server.refresh(&login.refresh).await);
    let res = server
        .acting(&rotated.access)
        .put(
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "Another-pass-2026"}),
        )
        .await;
    assert!(res.status.is_success(), "{}", res.status);
    // A bad token and a replayed refresh token are refused, and logged as such, by reason only.
    server
        .acting(&format!("{}x", rotated.access))
        .get("/api/v1/me")
        .await
        .expect(StatusCode::UNAUTHORIZED);
    server
        .refresh(&login.refresh)
        .await
        .expect(StatusCode::UNAUTHORIZED);

    let secrets = [
        PASSWORD,
        wrong_password,
        new_password,
        "Another-pass-2026",
        &login.access,
        &login.refresh,
        &rotated.access,
        crate::helpers::JWT_SECRET,
        phone,
        "Bí Mật",
    ];
    Sent {
        secrets: secrets.map(str::to_string).to_vec(),
        access_tokens: [login.access, rotated.access],
    }
}

#[tokio::test]
async fn logs_never_hold_passwords_tokens_or_personal_data() {
    let db = TestDb::new();
    db.insert_admin("root.admin");
    // The most verbose level an operator could set, every crate included.
    let server = ServerProcess::start(&db.url(), &[("TOSO_LOG", "trace")]).await;
    let sent = an_admin_handles_secrets(&Client::to(&server.address)).await;

    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let logs = server.logs();
    assert!(
        logs.contains("request completed"),
        "requests are logged:\n{logs}"
    );
    for secret in &sent.secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "the logs hold {secret:?}:\n{}",
            logs.lines()
                .filter(|l| l.contains(secret.as_str()))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    // Tokens are not even logged in part (a signature or a payload segment).
    for token in &sent.access_tokens {
        for part in token.split('.') {
            assert!(!logs.contains(part), "a token segment is logged");
        }
    }
}

#[tokio::test]
async fn a_login_storm_is_shed_with_503_instead_of_queueing_without_bound() {
    // One hash at a time and nobody may wait: logins that arrive while a hash runs are told
    // to come back, and the requests that got through still succeed.
    let app = spawn_app_with(&[("TOSO_HASH_CONCURRENCY", "1"), ("TOSO_HASH_QUEUE", "0")]).await;
    // Sixteen accounts, one login each: concurrent logins of one account from one address
    // are capped by its throttling counter (429) before they reach the hashing queue.
    for i in 0..16 {
        app.create_user(
            &format!("storm.officer{i}"),
            "commune_officer",
            Some("00004"),
            None,
        );
    }
    let storm: Vec<_> = (0..16)
        .map(|i| {
            let client = Client::to(&app.address);
            tokio::spawn(async move { client.login(&format!("storm.officer{i}"), PASSWORD).await })
        })
        .collect();
    let (mut ok, mut shed) = (0, 0);
    for handle in storm {
        let res = handle.await.expect("task");
        match res.status {
            StatusCode::OK => ok += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(res.headers()["retry-after"], "1");
                let problem = &res.body;
                assert_eq!(problem["code"], "service_unavailable", "{problem}");
                shed += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok >= 1, "some logins went through");
    assert!(shed >= 1, "some logins were shed ({ok} went through)");

    // Once the storm is over, logging in works again.
    let res = app.login_raw("storm.officer0", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// Reads what the server sends until it closes the connection (or `limit` passes).
async fn read_until_closed(
    stream: &mut (impl tokio::io::AsyncRead + Unpin),
    limit: std::time::Duration,
) -> (bool, String) {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let until = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(until, stream.read(&mut buf)).await {
            Err(_) => return (false, String::from_utf8_lossy(&answer).into_owned()),
            Ok(Ok(0)) | Ok(Err(_)) => return (true, String::from_utf8_lossy(&answer).into_owned()),
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
        }
    }
}

/// Opens a raw connection to `addr` and sends `head` (a request head, perhaps with the start
/// of its body); returns its two halves.
async fn send_head(
    addr: &str,
    head: &str,
) -> (
    tokio::net::tcp::OwnedReadHalf,
    tokio::net::tcp::OwnedWriteHalf,
) {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (reader, mut writer) = stream.into_split();
    writer.write_all(head.as_bytes()).await.expect("head sent");
    (reader, writer)
}

/// What a raw connection read until it was closed: whether the server closed it, its answer,
/// and when (since the start of the test).
type Cut = tokio::task::JoinHandle<(bool, String, std::time::Duration)>;

/// Reads `reader` until the server closes it (8 s at most), noting when since `started`.
fn watch(mut reader: impl tokio::io::AsyncRead + Unpin + Send + 'static, started: Instant) -> Cut {
    tokio::spawn(async move {
        let (closed, answer) = read_until_closed(&mut reader, Duration::from_secs(8)).await;
        (closed, answer, started.elapsed())
    })
}

/// 50 connections of the member `token` announce a 5,000-byte log: 40 send a few bytes of it
/// and stop, 10 trickle a byte every 250 ms.
async fn slow_bodies(addr: &str, token: &str, started: Instant) -> Vec<Cut> {
    let mut slow = Vec::new();
    for i in 0..50 {
        let head = format!(
            "POST /api/v1/assistance-logs HTTP/1.1\r\nHost: {addr}\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
             Content-Length: 5000\r\n\r\n{{\"id\": \""
        );
        let (reader, mut writer) = send_head(addr, &head).await;
        if i % 5 == 0 {
            tokio::spawn(async move {
                for _ in 0..4_000 {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    if writer.write_all(b"a").await.is_err() {
                        break;
                    }
                }
            });
        } else {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(10)).await;
                drop(writer);
            });
        }
        slow.push(watch(reader, started));
    }
    slow
}

/// 5 connections that never finish their request head.
async fn endless_heads(addr: &str, started: Instant) -> Vec<Cut> {
    let mut heads = Vec::new();
    for _ in 0..5 {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let head = format!("POST /api/v1/assistance-logs HTTP/1.1\r\nHost: {addr}\r\n");
        stream
            .write_all(head.as_bytes())
            .await
            .expect("part of a head sent");
        heads.push(watch(stream, started));
    }
    heads
}

/// Until 1.8 s after `started`, `officer`'s reads answer, each within a second; at least 5.
async fn reads_keep_answering(officer: &Actor<'_>, started: Instant) {
    let mut reads = 0;
    while started.elapsed() < Duration::from_millis(1800) {
        let sent = Instant::now();
        let res = officer.get("/api/v1/villages").await;
        let took = sent.elapsed();
        assert_eq!(res.status, StatusCode::OK, "read {reads}");
        assert!(took < Duration::from_secs(1), "read {reads} took {took:?}");
        reads += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reads >= 5, "{reads} reads");
}

#[tokio::test]
async fn slow_bodies_hold_no_slot_and_are_cut_with_408() {
    let app = spawn_app_with(&[
        ("TOSO_BODY_TIMEOUT_MS", "2000"),
        ("TOSO_DB_CHECKOUT_TIMEOUT_MS", "1000"),
    ])
    .await;
    let f = crate::fieldwork::field(&app).await;
    let addr = app.address.trim_start_matches("http://").to_string();

    let started = Instant::now();
    let slow = slow_bodies(&addr, &f.member, started).await;
    let heads = endless_heads(&addr, started).await;
    // Meanwhile another account's reads keep answering.
    let officer = app.acting(&f.officer);
    reads_keep_answering(&officer, started).await;

    // At the body deadline each slow connection gets 408 and is closed by the server.
    for task in slow {
        let (closed, answer, at) = task.await.expect("join");
        assert!(closed, "the server left a slow connection open: {answer:?}");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
        assert!(answer.contains("request_timeout"), "{answer:?}");
        assert!(
            at >= Duration::from_millis(1900) && at < Duration::from_secs(6),
            "closed after {at:?}"
        );
    }
    // A head that never ends is answered 408 by actix at the same deadline, and closed.
    for task in heads {
        let (closed, answer, at) = task.await.expect("join");
        assert!(closed, "the server left a slow head open: {answer:?}");
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{answer:?}"
        );
        assert!(at < Duration::from_secs(6), "closed after {at:?}");
    }
    // Nothing was stored from them.
    let logs = officer
        .get("/api/v1/assistance-logs")
        .await
        .expect(StatusCode::OK);
    assert_eq!(logs["total"], 0);
}

#[tokio::test]
async fn one_account_holds_at_most_its_share_of_the_slots() {
    // Pool of 4, so 8 admission slots and 2 per client.
    let app = spawn_app_with(&[("TOSO_DB_CHECKOUT_TIMEOUT_MS", "1000")]).await;
    let (_, greedy) = app
        .user_with_token("greedy", "commune_officer", Some("00004"), None)
        .await;
    let (_, patient) = app
        .user_with_token("patient", "commune_officer", Some("00004"), None)
        .await;

    // Six list requests of one account, all of which would wait on a locked table.
    let mut locker = crate::helpers::lock_table(&app.db, "villages");
    let started = Instant::now();
    let mut held = Vec::new();
    for _ in 0..6 {
        let req = app
            .request(Method::GET, "/api/v1/villages")
            .bearer_auth(&greedy);
        held.push(tokio::spawn(async move {
            req.send().await.expect("sent").status()
        }));
    }
    crate::helpers::wait_for_lock_waiters(&app.db, 2).await;

    // Another account is served at once: the first one holds only its share of the slots
    // and of the database connections.
    let sent = Instant::now();
    let res = app.get("/api/v1/me", &patient).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        sent.elapsed() < Duration::from_secs(1),
        "{:?}",
        sent.elapsed()
    );

    // The requests past the share waited the checkout timeout and were told to come back.
    tokio::time::sleep(Duration::from_millis(1500).saturating_sub(started.elapsed())).await;
    diesel::RunQueryDsl::execute(diesel::sql_query("ROLLBACK"), &mut locker).expect("release");
    let mut statuses = Vec::new();
    for task in held {
        statuses.push(task.await.expect("join").as_u16());
    }
    statuses.sort();
    assert_eq!(statuses, vec![200, 200, 503, 503, 503, 503]);
}

#[tokio::test]
async fn api_answers_are_not_cached_and_hsts_follows_the_configuration() {
    let app = spawn_app().await;
    app.create_user("cached", "admin", None, None);
    let token = app.login("cached").await.access;
    for res in [
        app.get("/api/v1/me", &token).await,
        app.get("/api/v1/villages", &token).await,
        app.get("/api/v1/villages/999999", &token).await,
        app.get("/api/v1/me", "not-a-token").await,
        app.login_raw("cached", PASSWORD).await,
    ] {
        let status = res.status();
        assert_eq!(res.headers()["cache-control"], "no-store", "{status}");
        assert!(!res.headers().contains_key("strict-transport-security"));
    }

    let app = spawn_app_with(&[("TOSO_HSTS_MAX_AGE", "31536000")]).await;
    for path in ["/health/live", "/api/v1/openapi.json", "/docs"] {
        let res = app.request(Method::GET, path).send().await.expect("sent");
        assert_eq!(
            res.headers()["strict-transport-security"],
            "max-age=31536000; includeSubDomains",
            "{path}"
        );
    }
}

#[tokio::test]
async fn bodies_read_before_admission_hold_a_bounded_budget() {
    // One slot and 1 KiB bodies: at most 2 KiB of bodies are held at once.
    let app = spawn_app_with(&[
        ("TOSO_MAX_BODY_BYTES", "1024"),
        ("TOSO_MAX_IN_FLIGHT", "1"),
        ("TOSO_BODY_TIMEOUT_MS", "1500"),
    ])
    .await;
    let addr = app.address.trim_start_matches("http://").to_string();
    let started = Instant::now();
    // Two connections send 1,000 bytes of a 1,024-byte body and stop: 2,000 bytes held.
    let mut stalled = Vec::new();
    for _ in 0..2 {
        let head = format!(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Type: application/json\r\nContent-Length: 1024\r\n\r\n{}",
            " ".repeat(1000)
        );
        let (mut reader, writer) = send_head(&addr, &head).await;
        stalled.push(tokio::spawn(async move {
            let answer = read_until_closed(&mut reader, Duration::from_secs(8)).await;
            drop(writer);
            answer
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A whole login of 300 bytes does not fit beside them: it is read only once they are cut.
    let res = app.login_raw("nobody", &"x".repeat(250)).await;
    let answered = started.elapsed();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        answered >= Duration::from_millis(1400),
        "read while the budget was full: answered after {answered:?}"
    );
    for task in stalled {
        let (closed, answer) = task.await.expect("join");
        assert!(closed && answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    }
}

#[tokio::test]
async fn pushes_past_the_pool_wait_for_their_turn_before_their_bodies_are_read() {
    use crate::helpers::{lock_table, wait_for_lock_waiters};
    use diesel::RunQueryDsl;

    // One pooled connection, so one push at a time; a body has 5 s to arrive, a turn 1 s.
    let app = spawn_app_with(&[
        ("TOSO_DB_POOL_SIZE", "1"),
        ("TOSO_DB_CHECKOUT_TIMEOUT_MS", "1000"),
        ("TOSO_BODY_TIMEOUT_MS", "5000"),
    ])
    .await;
    let f = crate::fieldwork::field(&app).await;
    let one_log = |id: uuid::Uuid| json!({"device_id": "phone-1", "items": [{"op": "create_log", "data": crate::fieldwork::log(id)}]});

    // The leader's push has its turn and waits on a locked table.
    let mut locker = lock_table(&app.db, "villages");
    let leader = app.anyone().acting(&f.leader);
    let first = one_log(uuid::Uuid::new_v4());
    let first = tokio::spawn(async move { leader.post("/api/v1/sync/push", first).await });
    wait_for_lock_waiters(&app.db, 1).await;

    // The member's push sends its head and holds back its body. It is not read: at the end of
    // its wait for a turn (1 s, long before the body's deadline) it is told to come back, and
    // its connection is closed.
    let addr = app.address.trim_start_matches("http://").to_string();
    let head = format!(
        "POST /api/v1/sync/push HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 2000\r\n\r\n{{\"items\": [",
        f.member
    );
    let started = Instant::now();
    let (mut reader, writer) = send_head(&addr, &head).await;
    let (closed, answer) = read_until_closed(&mut reader, Duration::from_secs(8)).await;
    let took = started.elapsed();
    drop(writer);
    assert!(closed, "the connection stays open: {answer:?}");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("retry-after: 1\r\n"), "{answer:?}");
    assert!(answer.contains("service_unavailable"), "{answer:?}");
    assert!(
        took >= Duration::from_millis(900),
        "answered after {took:?}"
    );
    assert!(took < Duration::from_secs(4), "answered after {took:?}");

    // Once the first push is done, the next one has its turn.
    diesel::sql_query("ROLLBACK")
        .execute(&mut locker)
        .expect("release");
    let body = first.await.expect("join").expect(StatusCode::OK);
    assert_eq!(body["summary"]["created"], 1, "{body}");
    let body = app
        .acting(&f.member)
        .post("/api/v1/sync/push", one_log(uuid::Uuid::new_v4()))
        .await
        .expect(StatusCode::OK);
    assert_eq!(body["summary"]["created"], 1, "{body}");
}
