//! The web console (issue 17): its page and modules served from the binary under a strict
//! CSP, and its refresh token in an `HttpOnly` cookie that only a same-origin console request
//! can spend. The journeys through the console itself run in Chromium (`tests/browser/`).

use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, strict_csp, Answer, TestApp, PASSWORD};

#[tokio::test]
async fn the_console_and_its_modules_are_served_locally_with_a_strict_csp() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/").send().await.expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    let csp = strict_csp(
        &res,
        &[
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ],
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.expect("html");
    assert!(html.contains("<html lang=\"vi\">"), "{html}");
    assert!(
        !html.contains("//"),
        "the page names another origin:\n{html}"
    );
    assert!(
        !html.contains("<script>") && !html.contains("style=") && !html.contains("<style"),
        "{html}"
    );

    // Every module the page loads, and every module those import, comes from here under the
    // same policy, and none reaches another origin or writes inline styles.
    let mut pending: Vec<String> = html
        .split('"')
        .filter(|s| s.starts_with("/console/"))
        .map(str::to_string)
        .collect();
    assert_eq!(pending.len(), 2, "{pending:?}");
    let mut seen = Vec::new();
    while let Some(asset) = pending.pop() {
        if seen.contains(&asset) {
            continue;
        }
        let res = app.request(Method::GET, &asset).send().await.expect("sent");
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
        assert_eq!(res.headers()["content-security-policy"], csp.as_str());
        assert_eq!(res.headers()["cache-control"], "no-cache");
        let body = res.text().await.expect("text");
        // The SVG namespace is a name, not an address anything is fetched from.
        let fetched = body.replace("'http://www.w3.org/2000/svg'", "");
        assert!(
            !fetched.contains("http:") && !fetched.contains("https:"),
            "{asset} names another origin"
        );
        if asset.ends_with(".js") {
            assert!(!body.contains(".style."), "{asset} sets inline styles");
            for import in body.split("from './").skip(1) {
                let name = import.split('\'').next().expect("module name");
                pending.push(format!("/console/{name}"));
            }
        }
        seen.push(asset);
    }
    assert!(seen.len() >= 5, "{seen:?}");

    app.anyone()
        .get("/console/nope.js")
        .await
        .problem(StatusCode::NOT_FOUND, "route_not_found");
}

/// The `toso_refresh` cookie a response sets, with its attributes.
fn refresh_cookie(headers: &HeaderMap) -> String {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("toso_refresh="))
        .expect("a toso_refresh cookie")
        .to_string()
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .expect("name=value")
        .to_string()
}

/// `POST /api/v1/auth/refresh` with `cookie` and `headers`, no body.
async fn console_refresh(app: &TestApp, cookie: &str, headers: &[(&str, &str)]) -> Answer {
    let mut client = app.anyone().header("cookie", cookie);
    for (name, value) in headers {
        client = client.header(name, value);
    }
    client
        .send(Method::POST, "/api/v1/auth/refresh", None)
        .await
}

/// A console login of `officer.console`.
async fn console_login(app: &TestApp) -> Answer {
    let body = json!({"username": "officer.console", "password": PASSWORD, "console": true});
    app.anyone().post("/api/v1/auth/login", body).await
}

/// The access token of a console's answer (200), which holds no refresh token: that one is
/// only in the cookie. The token works.
async fn console_access(app: &TestApp, body: &Value) -> String {
    assert!(body.get("refresh_token").is_none(), "{body}");
    let access = body["access_token"].as_str().expect("access").to_string();
    assert_eq!(
        app.get("/api/v1/me", &access).await.status(),
        StatusCode::OK
    );
    access
}

/// A console login sets an `HttpOnly`, `Secure`, strict cookie for the auth routes only, for
/// 30 days; returns it as a request sends it.
async fn a_console_login_sets_the_cookie(app: &TestApp) -> String {
    let res = console_login(app).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let set = refresh_cookie(res.headers());
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/api/v1/auth",
        "Max-Age=2592000",
    ] {
        assert!(set.contains(attribute), "{set}");
    }
    console_access(app, &res.body).await;
    cookie_value(&set)
}

/// Without the console's header (a form or a link from elsewhere), or from another origin,
/// the cookie is refused and not spent; another cookie, or the body `null` (the document's "no
/// body"), is no token.
async fn foreign_refreshes_are_refused(app: &TestApp, cookie: &str) {
    let evil = [("x-toso-console", "1"), ("origin", "https://evil.example")];
    for headers in [&[][..], &[("x-toso-console", "yes")], &evil] {
        console_refresh(app, cookie, headers)
            .await
            .problem(StatusCode::FORBIDDEN, "csrf_check_failed");
    }
    console_refresh(app, "other=1", &[("x-toso-console", "1")])
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    app.anyone()
        .post("/api/v1/auth/refresh", Value::Null)
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
}

/// From the console's own page: a new access token and a new cookie, never in the body;
/// returns the new cookie.
async fn the_console_refreshes(app: &TestApp, cookie: &str) -> String {
    let origin = app.address.clone();
    let headers = [("x-toso-console", "1"), ("origin", origin.as_str())];
    let res = console_refresh(app, cookie, &headers).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let second = cookie_value(&refresh_cookie(res.headers()));
    assert_ne!(second, cookie);
    console_access(app, &res.body).await;
    second
}

/// Logout clears the cookie.
async fn logout_clears_the_cookie(app: &TestApp) {
    let login = console_login(app).await.expect(StatusCode::OK);
    let access = login["access_token"].as_str().expect("access");
    let res = app
        .acting(access)
        .send(Method::POST, "/api/v1/auth/logout", None, None)
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let cleared = refresh_cookie(res.headers());
    assert!(
        cleared.starts_with("toso_refresh=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
}

/// A client that sends its refresh token in the body is served as before, and a body that is
/// not JSON is still refused as one.
async fn body_tokens_are_served_as_before(app: &TestApp) {
    let tokens = app.login("officer.console").await;
    let res = app.anyone().refresh(&tokens.refresh).await;
    assert!(res.headers().get(SET_COOKIE).is_none());
    let body = res.expect(StatusCode::OK);
    assert!(body["refresh_token"]
        .as_str()
        .is_some_and(|t| t.len() >= 40));
    let res = app
        .anyone()
        .send_raw(
            Method::POST,
            "/api/v1/auth/refresh",
            "application/json",
            "{".into(),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_console_refresh_token_is_an_httponly_cookie_spent_only_by_the_console() {
    let app = spawn_app().await;
    app.create_user("officer.console", "province_officer", Some("01"), None);

    let first = a_console_login_sets_the_cookie(&app).await;
    foreign_refreshes_are_refused(&app, &first).await;
    let second = the_console_refreshes(&app, &first).await;

    // The spent cookie again is reuse, as with a token in the body: the login ends.
    let console = [("x-toso-console", "1")];
    console_refresh(&app, &first, &console)
        .await
        .problem(StatusCode::UNAUTHORIZED, "refresh_token_reused");
    console_refresh(&app, &second, &console)
        .await
        .problem(StatusCode::UNAUTHORIZED, "invalid_refresh_token");

    logout_clears_the_cookie(&app).await;
    body_tokens_are_served_as_before(&app).await;
}

#[tokio::test]
async fn an_activation_from_the_console_puts_the_refresh_token_in_the_cookie() {
    let app = spawn_app().await;
    let admin = app.actor("root", "admin", None, None).await;
    let user = admin
        .create(
            "/api/v1/users",
            json!({"username": "new.officer", "password": PASSWORD, "role": "commune_officer",
                   "unit_code": "00004"}),
        )
        .await;
    let path = format!(
        "/api/v1/users/{}/activation",
        user["id"].as_str().expect("id")
    );
    let issued = admin.create(&path, json!({})).await;
    let code = issued["code"].as_str().expect("code");

    let res = app
        .anyone()
        .post(
            "/api/v1/auth/activate",
            json!({"code": code, "password": "ruộng bậc thang mùa nước đổ", "console": true}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    let cookie = cookie_value(&refresh_cookie(res.headers()));
    assert!(res.body.get("refresh_token").is_none(), "{}", res.body);
    let res = console_refresh(&app, &cookie, &[("x-toso-console", "1")]).await;
    assert_eq!(res.status, StatusCode::OK);
}
