//! Fixture builders: the world a scenario starts from, each piece in one call, made through
//! the real API (accounts inserted directly where only the login matters). A scenario reads
//! as a story:
//!
//! ```ignore
//! let a = Commune::new(&app, "00004", "badinh").await;
//! let village = a.village("Thôn Đông").await;
//! let team = a.team(Team::named("Tổ CNCĐ 1").village(village)).await;
//! let leader = a.member(team, Member::leader("Lê Văn An").account("leader.one")).await;
//! let training = Training::on("2026-09-12").create(&a.officer).await;
//! ```

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{Actor, Answer, TestApp, PASSWORD};

/// Builder methods that each set one field of the JSON body (`self.0`), and `body()`.
macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty => $key:literal;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: $ty) -> Self {
                self.0[$key] = json!(value);
                self
            }
        )*

        /// The request body built so far.
        #[allow(dead_code)]
        pub fn body(&self) -> Value {
            self.0.clone()
        }
    };
}

/// The numeric `id` of a created record.
pub fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

impl Actor<'_> {
    /// POSTs `body` to `path` and returns the created record (201).
    pub async fn create(&self, path: &str, body: Value) -> Value {
        self.post(path, body).await.expect(StatusCode::CREATED)
    }

    /// A village of `commune` (a province or the admin names it; a commune officer leaves
    /// it out); returns its id.
    pub async fn village_in(&self, commune: Option<&str>, name: &str, kind: &str) -> i64 {
        let mut body = json!({"name": name, "kind": kind});
        if let Some(c) = commune {
            body["commune_code"] = json!(c);
        }
        id_of(&self.create("/api/v1/villages", body).await)
    }

    /// Sends one sync push of `items` from the device `phone`; returns the 200 body.
    pub async fn push(&self, items: Value) -> Value {
        self.post(
            "/api/v1/sync/push",
            json!({"device_id": "phone", "items": items}),
        )
        .await
        .expect(StatusCode::OK)
    }

    /// A POST without a body (archive, restore, submit …), with `If-Match` when given.
    pub async fn act(&self, path: &str, if_match: Option<&str>) -> Answer {
        self.send(Method::POST, path, if_match, None).await
    }

    /// The audit trail of `entity` `id`, newest first.
    pub async fn audit_trail(&self, entity: &str, id: &str) -> Vec<Value> {
        let audit = self
            .get(&format!("/api/v1/audit?entity={entity}&entity_id={id}"))
            .await
            .expect(StatusCode::OK);
        audit["items"].as_array().expect("items").clone()
    }

    /// The actions the audit trail lists for `entity` `id`, newest first.
    pub async fn audit_actions(&self, entity: &str, id: &str) -> Vec<String> {
        self.audit_trail(entity, id)
            .await
            .iter()
            .map(|e| e["action"].as_str().expect("action").to_string())
            .collect()
    }

    /// Moves `member` to `team` on `day` (`POST /api/v1/members/{id}/move`).
    pub async fn move_member(&self, member: i64, team: i64, day: &str) -> Answer {
        self.post(
            &format!("/api/v1/members/{member}/move"),
            json!({"team_id": team, "on": day}),
        )
        .await
    }

    /// `PUT /api/v1/trainings/{training}/attendance` with `records`.
    pub async fn attend(&self, training: &str, records: Value) -> Answer {
        self.put(
            &format!("/api/v1/trainings/{training}/attendance"),
            None,
            json!({ "records": records }),
        )
        .await
    }
}

/// Restores the record archived at version 2 at `path` as its owner would: `outsider` may
/// not (403), a stale `If-Match: "1"` is refused (412), the current version restores it (200,
/// version 3, no longer archived).
pub async fn restore_checked(path: &str, outsider: &Actor<'_>, owner: &Actor<'_>) {
    let restore = format!("{path}/restore");
    outsider
        .act(&restore, None)
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    owner
        .act(&restore, Some("\"1\""))
        .await
        .problem(StatusCode::PRECONDITION_FAILED, "version_mismatch");
    let body = owner
        .act(&restore, Some("\"2\""))
        .await
        .expect(StatusCode::OK);
    assert_eq!(body["archived_at"], Value::Null);
    assert_eq!(body["version"], 3);
}

impl TestApp {
    /// Hà Nội's province officer `hn.officer`, logged in.
    pub async fn hanoi_officer(&self) -> Actor<'_> {
        self.actor("hn.officer", "province_officer", Some("01"), None)
            .await
    }
}

/// `commune`'s `month` submitted by its `officer` and approved by `province`.
pub async fn approve_month(officer: &Actor<'_>, province: &Actor<'_>, commune: &str, month: &str) {
    let base = format!("/api/v1/reports/monthly/{commune}/{month}");
    for (by, action) in [(officer, "submit"), (province, "approve")] {
        let res = by.act(&format!("{base}/{action}"), None).await;
        assert_eq!(res.status, StatusCode::OK, "{action} {month}: {}", res.body);
    }
}

/// A commune and the officer who keeps its register.
pub struct Commune<'a> {
    pub app: &'a TestApp,
    pub officer: Actor<'a>,
}

impl<'a> Commune<'a> {
    /// `code` with a commune officer `username` inserted directly and logged in.
    pub async fn new(app: &'a TestApp, code: &str, username: &str) -> Self {
        let officer = app
            .actor(username, "commune_officer", Some(code), None)
            .await;
        Commune { app, officer }
    }

    /// `code` onboarded by a province officer `by`: the officer's account is created through
    /// the API with a set password, which the officer changes at the first login.
    pub async fn onboarded(by: &Actor<'a>, code: &str, username: &str) -> Self {
        by.post(
            "/api/v1/users",
            json!({"username": username, "password": PASSWORD, "role": "commune_officer",
                   "unit_code": code}),
        )
        .await
        .expect(StatusCode::CREATED);
        let app = by.app();
        Commune {
            app,
            officer: app.acting(&app.login(username).await.access),
        }
    }

    /// A team of the commune, made by its officer; returns its id.
    pub async fn team(&self, team: Team) -> i64 {
        id_of(&self.officer.create("/api/v1/teams", team.0).await)
    }

    /// `member` joins `team` (made by the officer), with its account when it has one.
    pub async fn member(&self, team: i64, member: Member) -> Joined<'a> {
        let user = match &member.account {
            None => None,
            Some(Account::Inserted(username)) => {
                let role = member.account_role();
                Some(json!(self.app.create_user(
                    username,
                    role,
                    None,
                    Some(team)
                )))
            }
            Some(Account::Phone(phone)) => {
                let u = self
                    .officer
                    .create(
                        "/api/v1/users",
                        json!({"username": format!("u{phone}"), "phone": phone,
                               "password": PASSWORD, "role": member.account_role(),
                               "team_id": team, "full_name": member.name}),
                    )
                    .await;
                Some(u["id"].clone())
            }
        };
        let m = self
            .officer
            .create(
                &format!("/api/v1/teams/{team}/members"),
                json!({"full_name": member.name, "affiliation": "youth_union",
                       "team_role": member.role, "user_id": user, "joined_on": member.joined}),
            )
            .await;
        let account = match &member.account {
            None => None,
            Some(Account::Inserted(login) | Account::Phone(login)) => {
                Some(self.app.acting(&self.app.login(login).await.access))
            }
        };
        Joined {
            id: id_of(&m),
            account,
        }
    }
}

/// A team to create: its name, village and decision.
pub struct Team(Value);

impl Team {
    pub fn named(name: &str) -> Self {
        Team(json!({ "name": name }))
    }

    setters! {
        village: i64 => "village_id";
    }

    /// Established on `day` by decision `number` of that day.
    pub fn decided(mut self, number: &str, day: &str) -> Self {
        self.0["established_on"] = json!(day);
        self.0["decision_number"] = json!(number);
        self.0["decision_date"] = json!(day);
        self
    }
}

enum Account {
    /// Inserted directly under this username.
    Inserted(String),
    /// Created by the officer through the API, with the phone as the login.
    Phone(String),
}

/// A member to add to a team (a youth union member who joined on 2025-08-01 unless told).
pub struct Member {
    name: String,
    role: &'static str,
    joined: String,
    account: Option<Account>,
}

impl Member {
    pub fn leader(name: &str) -> Self {
        Self::new(name, "leader")
    }

    pub fn ordinary(name: &str) -> Self {
        Self::new(name, "member")
    }

    fn new(name: &str, role: &'static str) -> Self {
        Member {
            name: name.to_string(),
            role,
            joined: "2025-08-01".into(),
            account: None,
        }
    }

    pub fn joined(mut self, day: &str) -> Self {
        self.joined = day.to_string();
        self
    }

    /// With an app account `username`, inserted directly.
    pub fn account(mut self, username: &str) -> Self {
        self.account = Some(Account::Inserted(username.to_string()));
        self
    }

    /// With an app account the officer creates, the phone number being the login.
    pub fn phone(mut self, phone: &str) -> Self {
        self.account = Some(Account::Phone(phone.to_string()));
        self
    }

    fn account_role(&self) -> &'static str {
        if self.role == "leader" {
            "team_leader"
        } else {
            "team_member"
        }
    }
}

/// A member added to a team, and its logged-in account when it has one.
pub struct Joined<'a> {
    pub id: i64,
    pub account: Option<Actor<'a>>,
}

impl<'a> Joined<'a> {
    /// The member's logged-in account.
    pub fn phone(self) -> Actor<'a> {
        self.account.expect("the member has an account")
    }
}

/// A training to create: a member training "Tập huấn" in person, 08:00–10:00 on its day,
/// unless told otherwise.
pub struct Training {
    body: Value,
    day: String,
}

impl Training {
    pub fn on(day: &str) -> Self {
        Training {
            body: json!({"title": "Tập huấn", "kind": "member_training", "mode": "in_person"}),
            day: day.to_string(),
        }
        .hours("08:00", "10:00")
    }

    pub fn title(mut self, title: &str) -> Self {
        self.body["title"] = json!(title);
        self
    }

    /// From `start` to `end` (local times) on its day.
    pub fn hours(mut self, start: &str, end: &str) -> Self {
        let day = &self.day;
        self.body["starts_at"] = json!(format!("{day}T{start}:00+07:00"));
        self.body["ends_at"] = json!(format!("{day}T{end}:00+07:00"));
        self
    }

    pub fn commune(mut self, code: &str) -> Self {
        self.body["commune_code"] = json!(code);
        self
    }

    pub fn village(mut self, village: Option<i64>) -> Self {
        self.body["village_id"] = json!(village);
        self
    }

    /// A citizen class of `participants` instead of a member training.
    pub fn class(mut self, participants: i64) -> Self {
        self.body["kind"] = json!("citizen_class");
        self.body["participants"] = json!(participants);
        self
    }

    pub fn body(&self) -> Value {
        self.body.clone()
    }

    /// Created by `by` with the attendance `records` (`[{"member_id", "status"}]`);
    /// returns its id.
    pub async fn attended(&self, by: &Actor<'_>, records: Value) -> String {
        let id = self.create(by).await;
        by.attend(&id, records).await.expect(StatusCode::OK);
        id
    }

    /// Created by `by`; returns its id.
    pub async fn create(&self, by: &Actor<'_>) -> String {
        by.create("/api/v1/trainings", self.body()).await["id"]
            .as_str()
            .expect("id")
            .to_string()
    }
}

/// `PUT`s a new row of `path` by `by` (201); returns it.
async fn put_new(by: &Actor<'_>, path: &str, body: Value) -> Value {
    by.put(path, None, body).await.expect(StatusCode::CREATED)
}

/// A monthly indicator value to record: `IndicatorValue::of("vneid_level2", "2025-10", 600)`,
/// of a village, with its own denominator or its source when told.
pub struct IndicatorValue(Value);

impl IndicatorValue {
    pub fn of(code: &str, month: &str, value: i64) -> Self {
        IndicatorValue(json!({"indicator_code": code, "month": month, "value": value}))
    }

    setters! {
        village: i64 => "village_id";
        denominator: i64 => "denominator";
        /// Where the figure comes from.
        note: &str => "source_note";
    }

    /// Recorded by `by` (201); returns the stored value.
    pub async fn record(&self, by: &Actor<'_>) -> Value {
        put_new(by, "/api/v1/indicator-values", self.body()).await
    }
}

/// The denominators of a year (a commune's, or a village's when told).
pub struct Denominators(Value);

impl Denominators {
    pub fn year(year: i32) -> Self {
        Denominators(json!({ "year": year }))
    }

    setters! {
        /// Of commune `code` (a province officer or the admin names it).
        commune: &str => "commune_code";
        village: i64 => "village_id";
        adults: i64 => "adults";
        population: i64 => "population";
        households: i64 => "households";
    }

    /// Set by `by` for the first time (201); returns the stored row.
    pub async fn set(&self, by: &Actor<'_>) -> Value {
        put_new(by, "/api/v1/denominators", self.body()).await
    }
}

/// An indicator target of a year for a unit (`unit_kind` province, commune, village or team,
/// `unit_key` its code or id), as a percentage or a count.
pub struct Target(Value);

impl Target {
    fn of(code: &str, year: i32, kind: &str, key: &str) -> Self {
        Target(json!({"indicator_code": code, "year": year, "unit_kind": kind, "unit_key": key}))
    }

    pub fn percent(code: &str, year: i32, kind: &str, key: &str, percent: i64) -> Self {
        Self::of(code, year, kind, key).target_percent(percent)
    }

    pub fn value(code: &str, year: i32, kind: &str, key: &str, value: i64) -> Self {
        Self::of(code, year, kind, key).target_value(value)
    }

    setters! {
        target_percent: i64 => "target_percent";
        target_value: i64 => "target_value";
        /// Due on `day`.
        due: &str => "due_on";
    }

    /// Set by `by` for the first time (201); returns the stored target.
    pub async fn set(&self, by: &Actor<'_>) -> Value {
        put_new(by, "/api/v1/indicator-targets", self.body()).await
    }
}

/// The `status` of each result of a sync push answer, in order.
pub fn push_statuses(body: &Value) -> Vec<&str> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["status"].as_str().expect("status"))
        .collect()
}

impl Actor<'_> {
    /// The audit trail of every `entity` in the caller's view, newest first.
    pub async fn audit_of(&self, entity: &str) -> Vec<Value> {
        let audit = self
            .get(&format!("/api/v1/audit?entity={entity}"))
            .await
            .expect(StatusCode::OK);
        audit["items"].as_array().expect("items").clone()
    }

    /// The actions the audit trail lists for every `entity` in the caller's view, newest
    /// first.
    pub async fn audit_actions_of(&self, entity: &str) -> Vec<String> {
        actions(&self.audit_of(entity).await)
    }
}

/// The `action` of each audit entry of `trail`, in order.
pub fn actions(trail: &[Value]) -> Vec<String> {
    trail
        .iter()
        .map(|e| e["action"].as_str().expect("action").to_string())
        .collect()
}

impl Actor<'_> {
    /// Sends one sync push of `items` that names no device; returns the 200 body.
    pub async fn push_items(&self, items: Value) -> Value {
        self.post("/api/v1/sync/push", json!({ "items": items }))
            .await
            .expect(StatusCode::OK)
    }
}

/// `GET path` with `token` is answered a 503 problem with `Retry-After` in less than
/// `within`, not left hanging.
pub async fn unavailable_within(
    app: &TestApp,
    token: &str,
    path: &str,
    within: std::time::Duration,
) {
    let started = std::time::Instant::now();
    let res = app
        .request(Method::GET, path)
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    let took = started.elapsed();
    assert!(res.headers().contains_key("retry-after"));
    Answer::read(res)
        .await
        .problem(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    assert!(took < within, "{path} answered in {took:?}");
}
