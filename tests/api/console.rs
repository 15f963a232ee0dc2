//! The web console (issue 17): its page and modules served from the binary under a strict
//! CSP, and its refresh token in an `HttpOnly` cookie that only a same-origin console request
//! can spend. The journeys through the console itself run in Chromium (`tests/browser/`).

use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp, PASSWORD};

#[tokio::test]
async fn the_console_and_its_modules_are_served_locally_with_a_strict_csp() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/").send().await.expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("ascii")
        .to_string();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe") && !csp.contains("http"), "{csp}");
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

    let res = app
        .request(Method::GET, "/console/nope.js")
        .send()
        .await
        .expect("sent");
    assert_problem(res, StatusCode::NOT_FOUND, "route_not_found").await;
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

async fn console_refresh(
    app: &TestApp,
    cookie: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app
        .request(Method::POST, "/api/v1/auth/refresh")
        .header("cookie", cookie);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.expect("sent")
}

async fn console_login(app: &TestApp) -> reqwest::Response {
    let body = json!({"username": "officer.console", "password": PASSWORD, "console": true});
    app.post_json("/api/v1/auth/login", None, &body).await
}

#[tokio::test]
async fn the_console_refresh_token_is_an_httponly_cookie_spent_only_by_the_console() {
    let app = spawn_app().await;
    app.create_user("officer.console", "province_officer", Some("01"), None);
    let host = app.address.trim_start_matches("http://").to_string();

    let res = console_login(&app).await;
    assert_eq!(res.status(), StatusCode::OK);
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
    let body: Value = res.json().await.expect("json");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let access = body["access_token"].as_str().expect("access").to_string();
    assert_eq!(
        app.get("/api/v1/me", &access).await.status(),
        StatusCode::OK
    );
    let first = cookie_value(&set);

    // Without the console's header (a form or a link from elsewhere), or from another origin,
    // the cookie is refused and not spent.
    let res = console_refresh(&app, &first, &[]).await;
    assert_problem(res, StatusCode::FORBIDDEN, "csrf_check_failed").await;
    let res = console_refresh(&app, &first, &[("x-toso-console", "yes")]).await;
    assert_problem(res, StatusCode::FORBIDDEN, "csrf_check_failed").await;
    let res = console_refresh(
        &app,
        &first,
        &[("x-toso-console", "1"), ("origin", "https://evil.example")],
    )
    .await;
    assert_problem(res, StatusCode::FORBIDDEN, "csrf_check_failed").await;
    let res = console_refresh(&app, "other=1", &[("x-toso-console", "1")]).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
    // The body `null` (the document's "no body") is no token either.
    let res = app
        .post_json("/api/v1/auth/refresh", None, &Value::Null)
        .await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;

    // From the console's own page: a new access token and a new cookie, never in the body.
    let origin = format!("http://{host}");
    let res = console_refresh(
        &app,
        &first,
        &[("x-toso-console", "1"), ("origin", origin.as_str())],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let second = cookie_value(&refresh_cookie(res.headers()));
    assert_ne!(second, first);
    let body: Value = res.json().await.expect("json");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let access = body["access_token"].as_str().expect("access").to_string();
    assert_eq!(
        app.get("/api/v1/me", &access).await.status(),
        StatusCode::OK
    );

    // The spent cookie again is reuse, as with a token in the body: the login ends.
    let res = console_refresh(&app, &first, &[("x-toso-console", "1")]).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "refresh_token_reused").await;
    let res = console_refresh(&app, &second, &[("x-toso-console", "1")]).await;
    assert_problem(res, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;

    // Logout clears the cookie.
    let body: Value = console_login(&app).await.json().await.expect("json");
    let res = app
        .request(Method::POST, "/api/v1/auth/logout")
        .bearer_auth(body["access_token"].as_str().expect("access"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let cleared = refresh_cookie(res.headers());
    assert!(
        cleared.starts_with("toso_refresh=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );

    // A client that sends its refresh token in the body is served as before, and a body that
    // is not JSON is still refused as one.
    let tokens = app.login("officer.console").await;
    let res = app
        .post_json(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": tokens.refresh}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get(SET_COOKIE).is_none());
    let body: Value = res.json().await.expect("json");
    assert!(body["refresh_token"]
        .as_str()
        .is_some_and(|t| t.len() >= 40));
    let res = app
        .request(Method::POST, "/api/v1/auth/refresh")
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_activation_from_the_console_puts_the_refresh_token_in_the_cookie() {
    let app = spawn_app().await;
    let (_, admin) = app.user_with_token("root", "admin", None, None).await;
    let created = |path: String, body: Value| {
        let (app, admin) = (&app, &admin);
        async move {
            let res = app.post_json(&path, Some(admin), &body).await;
            assert_eq!(res.status(), StatusCode::CREATED, "{path}");
            res.json::<Value>().await.expect("json")
        }
    };
    let user = created(
        "/api/v1/users".into(),
        json!({"username": "new.officer", "password": PASSWORD, "role": "commune_officer",
               "unit_code": "00004"}),
    )
    .await;
    let path = format!(
        "/api/v1/users/{}/activation",
        user["id"].as_str().expect("id")
    );
    let issued = created(path, json!({})).await;
    let code = issued["code"].as_str().expect("code");

    let res = app
        .post_json(
            "/api/v1/auth/activate",
            None,
            &json!({"code": code, "password": "ruộng bậc thang mùa nước đổ", "console": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = cookie_value(&refresh_cookie(res.headers()));
    let body: Value = res.json().await.expect("json");
    assert!(body.get("refresh_token").is_none(), "{body}");
    let res = console_refresh(&app, &cookie, &[("x-toso-console", "1")]).await;
    assert_eq!(res.status(), StatusCode::OK);
}
