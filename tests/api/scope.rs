//! The scope matrix: every documented route, as every role, on records inside and outside the
//! role's scope. A route missing from `ROUTES` fails the test, so scope cannot be forgotten.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fixtures::{id_of, Target as IndicatorTarget, Training};
use crate::helpers::{spawn_app, Actor, Answer, TestApp, PASSWORD};

/// Where a record lies relative to the team leader's team `tA` in commune 00004 (province 01).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Target {
    /// The team `tA` itself (and its commune's records).
    A,
    /// Another team of the same commune.
    A2,
    /// Another commune of the same province.
    B,
    /// Another province.
    X,
}
const TARGETS: [Target; 4] = [Target::A, Target::A2, Target::B, Target::X];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Admin,
    Province,
    Commune,
    Leader,
    Member,
}
const ROLES: [Role; 5] = [
    Role::Admin,
    Role::Province,
    Role::Commune,
    Role::Leader,
    Role::Member,
];

#[derive(Debug, PartialEq, Eq)]
enum Expect {
    /// Past the scope check: any answer but 401, 403 or 404.
    Allowed,
    Forbidden,
    Hidden,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Village,
    Team,
    Member,
    User,
}

fn visible(role: Role, kind: Kind, t: Target) -> bool {
    match role {
        Role::Admin => true,
        Role::Province => t != Target::X,
        Role::Commune => matches!(t, Target::A | Target::A2),
        Role::Leader | Role::Member => match kind {
            Kind::Village => matches!(t, Target::A | Target::A2),
            Kind::Team | Kind::Member => t == Target::A,
            Kind::User => false,
        },
    }
}

fn officer(role: Role) -> bool {
    matches!(role, Role::Admin | Role::Province | Role::Commune)
}

/// Reading a record by id.
fn read(role: Role, kind: Kind, t: Target) -> Expect {
    if kind == Kind::User && !officer(role) {
        return Expect::Forbidden;
    }
    if visible(role, kind, t) {
        Expect::Allowed
    } else {
        Expect::Hidden
    }
}

/// Changing a record by id.
fn write(role: Role, kind: Kind, t: Target) -> Expect {
    if kind == Kind::User && !officer(role) {
        return Expect::Forbidden;
    }
    if !visible(role, kind, t) {
        return Expect::Hidden;
    }
    let may = officer(role) || (kind == Kind::Member && role == Role::Leader);
    if may {
        Expect::Allowed
    } else {
        Expect::Forbidden
    }
}

/// Creating a record in the commune of `t` (named in the body).
fn create_in(role: Role, t: Target) -> Expect {
    let inside = match role {
        Role::Admin => true,
        Role::Province => t != Target::X,
        Role::Commune => matches!(t, Target::A | Target::A2),
        Role::Leader | Role::Member => false,
    };
    if inside {
        Expect::Allowed
    } else {
        Expect::Forbidden
    }
}

/// Adding a member to the team of `t`.
fn add_member(role: Role, t: Target) -> Expect {
    if !visible(role, Kind::Team, t) {
        return Expect::Hidden;
    }
    if officer(role) || role == Role::Leader {
        Expect::Allowed
    } else {
        Expect::Forbidden
    }
}

/// Recording a log for the member of `t`: team accounts only; a member only as itself (the
/// fixture's members are not linked to the member account, so it is refused).
fn create_log(role: Role, _: Target) -> Expect {
    if role == Role::Leader {
        Expect::Allowed
    } else {
        Expect::Forbidden
    }
}

/// Reading the log of the member of `t`: a team member sees only its own logs.
fn read_log(role: Role, t: Target) -> Expect {
    if role == Role::Member || !visible(role, Kind::Team, t) {
        Expect::Hidden
    } else {
        Expect::Allowed
    }
}

/// Changing it: officers read only; the leader manages its team's logs.
fn write_log(role: Role, t: Target) -> Expect {
    match read_log(role, t) {
        Expect::Hidden => Expect::Hidden,
        _ if role == Role::Leader => Expect::Allowed,
        _ => Expect::Forbidden,
    }
}

fn team_accounts(role: Role, _: Target) -> Expect {
    if officer(role) {
        Expect::Forbidden
    } else {
        Expect::Allowed
    }
}

fn admin_only(role: Role, _: Target) -> Expect {
    if role == Role::Admin {
        Expect::Allowed
    } else {
        Expect::Forbidden
    }
}

/// The member training of the scope tests in `commune`.
fn training_of(commune: &str) -> Training {
    Training::on("2025-10-10").commune(commune)
}

fn training_body(commune: &str) -> Value {
    training_of(commune).body()
}

/// Trainings are read by everyone in their commune, officers above it.
fn read_training(role: Role, t: Target) -> Expect {
    if visible(role, Kind::Village, t) {
        Expect::Allowed
    } else {
        Expect::Hidden
    }
}

/// Officers in scope change trainings; a leader only its own team's (the fixture's are the
/// admin's, so the leader is refused).
fn write_training(role: Role, t: Target) -> Expect {
    match read_training(role, t) {
        Expect::Hidden => Expect::Hidden,
        _ if officer(role) => Expect::Allowed,
        _ => Expect::Forbidden,
    }
}

/// Attendance: officers in scope; a leader for the members of its own team.
fn write_attendance(role: Role, t: Target) -> Expect {
    match read_training(role, t) {
        Expect::Hidden => Expect::Hidden,
        _ if officer(role) || (role == Role::Leader && t == Target::A) => Expect::Allowed,
        _ => Expect::Forbidden,
    }
}

/// Creating a training in the commune of `t`: officers in scope; a leader in its own commune.
fn create_training(role: Role, t: Target) -> Expect {
    match role {
        Role::Leader if matches!(t, Target::A | Target::A2) => Expect::Allowed,
        Role::Leader | Role::Member => Expect::Forbidden,
        _ => create_in(role, t),
    }
}

/// Reports of the commune of `t`: officers of that commune or above; team accounts are
/// refused by role (403); officers of other areas do not see it (404, like any record).
fn read_report(role: Role, t: Target) -> Expect {
    if !officer(role) {
        Expect::Forbidden
    } else if create_in(role, t) == Expect::Allowed {
        Expect::Allowed
    } else {
        Expect::Hidden
    }
}

/// The status list of the province of `t`: province officers and admins (others 403); another
/// province is out of scope (404).
fn province_status(role: Role, t: Target) -> Expect {
    match role {
        Role::Admin => Expect::Allowed,
        Role::Province if t != Target::X => Expect::Allowed,
        Role::Province => Expect::Hidden,
        _ => Expect::Forbidden,
    }
}

/// Submitting the report of the commune of `t`: its commune officer (or an admin); others who
/// see the commune are refused, the rest do not see it.
fn submit_report(role: Role, t: Target) -> Expect {
    if !visible(role, Kind::Village, t) || matches!(role, Role::Leader | Role::Member) {
        return Expect::Hidden;
    }
    if matches!(role, Role::Admin | Role::Commune) {
        Expect::Allowed
    } else {
        Expect::Forbidden
    }
}

/// Approving, returning or reopening: the province's officers (or an admin).
fn decide_report(role: Role, t: Target) -> Expect {
    if !visible(role, Kind::Village, t) || matches!(role, Role::Leader | Role::Member) {
        return Expect::Hidden;
    }
    if matches!(role, Role::Admin | Role::Province) {
        Expect::Allowed
    } else {
        Expect::Forbidden
    }
}

/// Members who recorded nothing: officers for units in their scope (others hidden); a leader
/// always gets its own team; team members are refused.
fn inactive_members(role: Role, t: Target) -> Expect {
    match role {
        Role::Leader => Expect::Allowed,
        Role::Member => Expect::Forbidden,
        _ => read_report(role, t),
    }
}

fn everyone(_: Role, _: Target) -> Expect {
    Expect::Allowed
}

fn officers_only(role: Role, _: Target) -> Expect {
    if officer(role) {
        Expect::Allowed
    } else {
        Expect::Forbidden
    }
}

struct Fixture {
    commune: HashMap<Target, String>,
    village: HashMap<Target, i64>,
    team: HashMap<Target, i64>,
    member: HashMap<Target, i64>,
    user: HashMap<Target, uuid::Uuid>,
    log: HashMap<Target, uuid::Uuid>,
    training: HashMap<Target, String>,
    target: HashMap<Target, i64>,
    tokens: Vec<(Role, String)>,
}

/// How one route is called for a target, and what each role should get. `None`: the route
/// is not bound to a scope (auth, health) and is covered by its own tests.
type Call = fn(&Fixture, Target, usize) -> (Method, String, Option<Value>);
type Rule = fn(Role, Target) -> Expect;

struct Route {
    method: &'static str,
    path: &'static str,
    check: Option<(Call, Rule)>,
}

macro_rules! route {
    ($m:literal, $p:literal) => {
        Route {
            method: $m,
            path: $p,
            check: None,
        }
    };
    ($m:literal, $p:literal, $call:expr, $rule:expr) => {
        Route {
            method: $m,
            path: $p,
            check: Some(($call, $rule)),
        }
    };
}

const ROUTES: &[Route] = &[
    route!("get", "/health/live"),
    route!("get", "/health/ready"),
    route!("post", "/api/v1/auth/login"),
    route!("post", "/api/v1/auth/refresh"),
    route!("post", "/api/v1/auth/logout"),
    route!("post", "/api/v1/auth/activate"),
    // Needs the account's live code; its scope is tested in `activation.rs`.
    route!("get", "/api/v1/users/{id}/activation-qr"),
    // A multipart upload and the records it makes: scoped in `imports.rs`.
    route!("post", "/api/v1/imports"),
    route!("get", "/api/v1/imports/{id}"),
    route!("get", "/api/v1/imports/{id}/report"),
    route!(
        "get",
        "/api/v1/imports",
        |_, _, _| (Method::GET, "/api/v1/imports".into(), None),
        officers_only
    ),
    route!(
        "get",
        "/api/v1/imports/template",
        |_, _, _| (
            Method::GET,
            "/api/v1/imports/template?kind=teams".into(),
            None
        ),
        officers_only
    ),
    route!("put", "/api/v1/me/password"),
    route!(
        "get",
        "/api/v1/me",
        |_, _, _| (Method::GET, "/api/v1/me".into(), None),
        everyone
    ),
    route!(
        "get",
        "/api/v1/units",
        |_, _, _| (Method::GET, "/api/v1/units".into(), None),
        everyone
    ),
    route!(
        "get",
        "/api/v1/units/{code}",
        |f, t, _| (
            Method::GET,
            format!("/api/v1/units/{}", f.commune[&t]),
            None
        ),
        everyone
    ),
    route!(
        "get",
        "/api/v1/categories",
        |_, _, _| (Method::GET, "/api/v1/categories".into(), None),
        everyone
    ),
    route!(
        "post",
        "/api/v1/categories",
        |_, _, n| (
            Method::POST,
            "/api/v1/categories".into(),
            Some(json!({"code": format!("cat_{n}"), "name": "Mới"}))
        ),
        admin_only
    ),
    route!(
        "post",
        "/api/v1/categories/{code}/retire",
        |_, _, _| (
            Method::POST,
            "/api/v1/categories/digital_learning/retire".into(),
            None
        ),
        admin_only
    ),
    route!(
        "post",
        "/api/v1/categories/{code}/restore",
        |_, _, _| (
            Method::POST,
            "/api/v1/categories/digital_learning/restore".into(),
            None
        ),
        admin_only
    ),
    route!(
        "get",
        "/api/v1/assistance-logs",
        |_, _, _| (Method::GET, "/api/v1/assistance-logs".into(), None),
        everyone
    ),
    route!(
        "post",
        "/api/v1/assistance-logs",
        |f, t, _| (
            Method::POST,
            "/api/v1/assistance-logs".into(),
            Some(json!({"id": uuid::Uuid::new_v4(),
            "occurred_at": "2025-10-01T09:00:00+07:00", "member_id": f.member[&t], "category_code": "vneid_install",
            "channel": "home_visit", "citizens_helped": 1, "outcome": "done"}))
        ),
        create_log
    ),
    route!(
        "get",
        "/api/v1/assistance-logs/{id}",
        |f, t, _| (
            Method::GET,
            format!("/api/v1/assistance-logs/{}", f.log[&t]),
            None
        ),
        read_log
    ),
    route!(
        "patch",
        "/api/v1/assistance-logs/{id}",
        |f, t, _| (
            Method::PATCH,
            format!("/api/v1/assistance-logs/{}", f.log[&t]),
            Some(json!({"citizens_helped": 2}))
        ),
        write_log
    ),
    route!(
        "delete",
        "/api/v1/assistance-logs/{id}",
        |f, t, _| (
            Method::DELETE,
            format!("/api/v1/assistance-logs/{}", f.log[&t]),
            None
        ),
        write_log
    ),
    route!(
        "post",
        "/api/v1/assistance-logs/{id}/restore",
        |f, t, _| (
            Method::POST,
            format!("/api/v1/assistance-logs/{}/restore", f.log[&t]),
            None
        ),
        write_log
    ),
    route!(
        "post",
        "/api/v1/sync/push",
        |_, _, _| (
            Method::POST,
            "/api/v1/sync/push".into(),
            Some(json!({"items": []}))
        ),
        team_accounts
    ),
    route!(
        "get",
        "/api/v1/sync/pull",
        |_, _, _| (Method::GET, "/api/v1/sync/pull?limit=10".into(), None),
        everyone
    ),
    route!(
        "get",
        "/api/v1/trainings",
        |_, _, _| (Method::GET, "/api/v1/trainings".into(), None),
        everyone
    ),
    route!(
        "post",
        "/api/v1/trainings",
        |f, t, _| (
            Method::POST,
            "/api/v1/trainings".into(),
            Some(training_body(&f.commune[&t]))
        ),
        create_training
    ),
    route!(
        "get",
        "/api/v1/trainings/{id}",
        |f, t, _| (
            Method::GET,
            format!("/api/v1/trainings/{}", f.training[&t]),
            None
        ),
        read_training
    ),
    route!(
        "put",
        "/api/v1/trainings/{id}",
        |f, t, _| (
            Method::PUT,
            format!("/api/v1/trainings/{}", f.training[&t]),
            Some(training_body(&f.commune[&t]))
        ),
        write_training
    ),
    route!(
        "get",
        "/api/v1/trainings/{id}/attendance",
        |f, t, _| (
            Method::GET,
            format!("/api/v1/trainings/{}/attendance", f.training[&t]),
            None
        ),
        read_training
    ),
    route!(
        "put",
        "/api/v1/trainings/{id}/attendance",
        |f, t, _| (
            Method::PUT,
            format!("/api/v1/trainings/{}/attendance", f.training[&t]),
            Some(json!({"records": [{"member_id": f.member[&t], "status": "attended"}]}))
        ),
        write_attendance
    ),
    route!(
        "delete",
        "/api/v1/trainings/{id}",
        |f, t, _| (
            Method::DELETE,
            format!("/api/v1/trainings/{}", f.training[&t]),
            None
        ),
        write_training
    ),
    route!(
        "post",
        "/api/v1/trainings/{id}/restore",
        |f, t, _| (
            Method::POST,
            format!("/api/v1/trainings/{}/restore", f.training[&t]),
            None
        ),
        write_training
    ),
    route!(
        "get",
        "/api/v1/users",
        |_, _, _| (Method::GET, "/api/v1/users".into(), None),
        officers_only
    ),
    route!(
        "post",
        "/api/v1/users",
        |f, t, n| (
            Method::POST,
            "/api/v1/users".into(),
            Some(
                json!({"username": format!("new.user{n}"), "password": PASSWORD,
            "role": "commune_officer", "unit_code": f.commune[&t]})
            )
        ),
        create_in
    ),
    route!(
        "get",
        "/api/v1/users/{id}",
        |f, t, _| (Method::GET, format!("/api/v1/users/{}", f.user[&t]), None),
        |r, t| read(r, Kind::User, t)
    ),
    route!(
        "patch",
        "/api/v1/users/{id}",
        |f, t, _| (
            Method::PATCH,
            format!("/api/v1/users/{}", f.user[&t]),
            Some(json!({"full_name": "Đã sửa"}))
        ),
        |r, t| write(r, Kind::User, t)
    ),
    route!(
        "post",
        "/api/v1/users/{id}/activation",
        |f, t, _| (
            Method::POST,
            format!("/api/v1/users/{}/activation", f.user[&t]),
            None
        ),
        |r, t| write(r, Kind::User, t)
    ),
    route!(
        "get",
        "/api/v1/villages",
        |_, _, _| (Method::GET, "/api/v1/villages".into(), None),
        everyone
    ),
    route!(
        "post",
        "/api/v1/villages",
        |f, t, n| (
            Method::POST,
            "/api/v1/villages".into(),
            Some(
                json!({"name": format!("Thôn mới {n}"), "kind": "thon", "commune_code": f.commune[&t]})
            )
        ),
        create_in
    ),
    route!(
        "get",
        "/api/v1/villages/{id}",
        |f, t, _| (
            Method::GET,
            format!("/api/v1/villages/{}", f.village[&t]),
            None
        ),
        |r, t| read(r, Kind::Village, t)
    ),
    route!(
        "patch",
        "/api/v1/villages/{id}",
        |f, t, _| (
            Method::PATCH,
            format!("/api/v1/villages/{}", f.village[&t]),
            Some(json!({"households": 10}))
        ),
        |r, t| write(r, Kind::Village, t)
    ),
    route!(
        "delete",
        "/api/v1/villages/{id}",
        |f, t, _| (
            Method::DELETE,
            format!("/api/v1/villages/{}", f.village[&t]),
            None
        ),
        |r, t| write(r, Kind::Village, t)
    ),
    route!(
        "post",
        "/api/v1/villages/{id}/restore",
        |f, t, _| (
            Method::POST,
            format!("/api/v1/villages/{}/restore", f.village[&t]),
            None
        ),
        |r, t| write(r, Kind::Village, t)
    ),
    route!(
        "get",
        "/api/v1/teams",
        |_, _, _| (Method::GET, "/api/v1/teams".into(), None),
        everyone
    ),
    route!(
        "post",
        "/api/v1/teams",
        |f, t, n| (
            Method::POST,
            "/api/v1/teams".into(),
            Some(json!({"name": format!("Tổ mới {n}"), "commune_code": f.commune[&t]}))
        ),
        create_in
    ),
    route!(
        "get",
        "/api/v1/teams/{id}",
        |f, t, _| (Method::GET, format!("/api/v1/teams/{}", f.team[&t]), None),
        |r, t| read(r, Kind::Team, t)
    ),
    route!(
        "patch",
        "/api/v1/teams/{id}",
        |f, t, _| (
            Method::PATCH,
            format!("/api/v1/teams/{}", f.team[&t]),
            Some(json!({"decision_number": "1/QĐ"}))
        ),
        |r, t| write(r, Kind::Team, t)
    ),
    route!(
        "delete",
        "/api/v1/teams/{id}",
        |f, t, _| (
            Method::DELETE,
            format!("/api/v1/teams/{}", f.team[&t]),
            None
        ),
        |r, t| write(r, Kind::Team, t)
    ),
    route!(
        "post",
        "/api/v1/teams/{id}/restore",
        |f, t, _| (
            Method::POST,
            format!("/api/v1/teams/{}/restore", f.team[&t]),
            None
        ),
        |r, t| write(r, Kind::Team, t)
    ),
    route!(
        "get",
        "/api/v1/teams/{id}/members",
        |f, t, _| (
            Method::GET,
            format!("/api/v1/teams/{}/members", f.team[&t]),
            None
        ),
        |r, t| read(r, Kind::Team, t)
    ),
    route!(
        "post",
        "/api/v1/teams/{id}/members",
        |f, t, n| (
            Method::POST,
            format!("/api/v1/teams/{}/members", f.team[&t]),
            Some(json!({"full_name": format!("Thành viên {n}"), "affiliation": "other"}))
        ),
        add_member
    ),
    route!(
        "get",
        "/api/v1/members",
        |_, _, _| (Method::GET, "/api/v1/members".into(), None),
        everyone
    ),
    route!(
        "get",
        "/api/v1/members/{id}",
        |f, t, _| (
            Method::GET,
            format!("/api/v1/members/{}", f.member[&t]),
            None
        ),
        |r, t| read(r, Kind::Member, t)
    ),
    route!(
        "patch",
        "/api/v1/members/{id}",
        |f, t, _| (
            Method::PATCH,
            format!("/api/v1/members/{}", f.member[&t]),
            Some(json!({"birth_year": 1990}))
        ),
        |r, t| write(r, Kind::Member, t)
    ),
    route!(
        "delete",
        "/api/v1/members/{id}",
        |f, t, _| (
            Method::DELETE,
            format!("/api/v1/members/{}", f.member[&t]),
            None
        ),
        |r, t| write(r, Kind::Member, t)
    ),
    route!(
        "post",
        "/api/v1/members/{id}/restore",
        |f, t, _| (
            Method::POST,
            format!("/api/v1/members/{}/restore", f.member[&t]),
            None
        ),
        |r, t| write(r, Kind::Member, t)
    ),
    route!(
        "post",
        "/api/v1/members/{id}/move",
        // Moving to the other team of the target's own commune; the member comes back below.
        |f, t, _| (
            Method::POST,
            format!("/api/v1/members/{}/move", f.member[&t]),
            Some(json!({"team_id": f.team[&t]}))
        ),
        |r, t| write(r, Kind::Member, t)
    ),
    route!(
        "get",
        "/api/v1/audit",
        |_, _, _| (Method::GET, "/api/v1/audit".into(), None),
        officers_only
    ),
    // Reports come last: approving locks October for the fixture's communes.
    route!(
        "get",
        "/api/v1/reports/monthly",
        |f, t, _| (
            Method::GET,
            format!(
                "/api/v1/reports/monthly?unit={}&month=2025-10",
                f.commune[&t]
            ),
            None
        ),
        read_report
    ),
    route!(
        "get",
        "/api/v1/reports/trend",
        |f, t, _| (
            Method::GET,
            format!(
                "/api/v1/reports/trend?unit={}&from=2025-09&to=2025-10",
                f.commune[&t]
            ),
            None
        ),
        read_report
    ),
    route!(
        "get",
        "/api/v1/reports/status",
        |_, t, _| (
            Method::GET,
            format!(
                "/api/v1/reports/status?province={}&month=2025-10",
                if t == Target::X { "79" } else { "01" }
            ),
            None
        ),
        province_status
    ),
    route!(
        "post",
        "/api/v1/reports/monthly/{commune}/{month}/submit",
        |f, t, _| (
            Method::POST,
            format!("/api/v1/reports/monthly/{}/2025-10/submit", f.commune[&t]),
            None
        ),
        submit_report
    ),
    route!(
        "post",
        "/api/v1/reports/monthly/{commune}/{month}/return",
        |f, t, _| (
            Method::POST,
            format!("/api/v1/reports/monthly/{}/2025-10/return", f.commune[&t]),
            Some(json!({"reason": "Thiếu"}))
        ),
        decide_report
    ),
    route!(
        "post",
        "/api/v1/reports/monthly/{commune}/{month}/approve",
        |f, t, _| (
            Method::POST,
            format!("/api/v1/reports/monthly/{}/2025-10/approve", f.commune[&t]),
            None
        ),
        decide_report
    ),
    route!(
        "post",
        "/api/v1/reports/monthly/{commune}/{month}/reopen",
        |f, t, _| (
            Method::POST,
            format!("/api/v1/reports/monthly/{}/2025-10/reopen", f.commune[&t]),
            Some(json!({"reason": "Sửa"}))
        ),
        decide_report
    ),
    route!(
        "get",
        "/api/v1/indicators",
        |_, _, _| (Method::GET, "/api/v1/indicators".into(), None),
        everyone
    ),
    route!(
        "post",
        "/api/v1/indicators",
        |_, _, n| (
            Method::POST,
            "/api/v1/indicators".into(),
            Some(
                json!({"code": format!("ind_{n}"), "name": "Mới", "kind": "count", "source": "entered"})
            )
        ),
        admin_only
    ),
    route!(
        "post",
        "/api/v1/indicators/{code}/retire",
        |_, _, _| (
            Method::POST,
            "/api/v1/indicators/ecommerce_farms_active/retire".into(),
            None
        ),
        admin_only
    ),
    route!(
        "post",
        "/api/v1/indicators/{code}/restore",
        |_, _, _| (
            Method::POST,
            "/api/v1/indicators/ecommerce_farms_active/restore".into(),
            None
        ),
        admin_only
    ),
    route!(
        "get",
        "/api/v1/denominators",
        |_, _, _| (Method::GET, "/api/v1/denominators".into(), None),
        everyone
    ),
    route!(
        "put",
        "/api/v1/denominators",
        |f, t, _| (
            Method::PUT,
            "/api/v1/denominators".into(),
            Some(json!({"year": 2026, "commune_code": f.commune[&t], "adults": 10}))
        ),
        create_in
    ),
    route!(
        "get",
        "/api/v1/indicator-values",
        |_, _, _| (Method::GET, "/api/v1/indicator-values".into(), None),
        everyone
    ),
    route!(
        "put",
        "/api/v1/indicator-values",
        |f, t, _| (
            Method::PUT,
            "/api/v1/indicator-values".into(),
            Some(
                json!({"indicator_code": "ecommerce_farms", "commune_code": f.commune[&t], "month": "2025-09", "value": 1})
            )
        ),
        create_in
    ),
    route!(
        "get",
        "/api/v1/indicator-targets",
        |_, _, _| (Method::GET, "/api/v1/indicator-targets".into(), None),
        everyone
    ),
    route!(
        "put",
        "/api/v1/indicator-targets",
        |f, t, _| (
            Method::PUT,
            "/api/v1/indicator-targets".into(),
            Some(
                json!({"indicator_code": "vneid_level2", "year": 2025, "unit_kind": "commune",
                        "unit_key": f.commune[&t], "target_percent": 60})
            )
        ),
        // Officers get past the role check; a unit they do not set targets for is a 422
        // field error (`outside_scope`), as issue 14 asks.
        officers_only
    ),
    route!(
        "get",
        "/api/v1/reports/settings/{province}",
        |_, t, _| (
            Method::GET,
            format!(
                "/api/v1/reports/settings/{}",
                if t == Target::X { "79" } else { "01" }
            ),
            None
        ),
        province_status
    ),
    route!(
        "put",
        "/api/v1/reports/settings/{province}",
        |_, t, _| (
            Method::PUT,
            format!(
                "/api/v1/reports/settings/{}",
                if t == Target::X { "79" } else { "01" }
            ),
            Some(json!({"due_day": 6}))
        ),
        province_status
    ),
    route!(
        "get",
        "/api/v1/reports/inactive",
        |f, t, _| (
            Method::GET,
            format!(
                "/api/v1/reports/inactive?unit={}&month=2025-10",
                f.commune[&t]
            ),
            None
        ),
        inactive_members
    ),
    route!(
        "post",
        "/api/v1/indicator-targets/{id}/split",
        |f, t, _| (
            Method::POST,
            format!("/api/v1/indicator-targets/{}/split", f.target[&t]),
            Some(json!({"dry_run": true}))
        ),
        read_report
    ),
];

/// A log of `member` in `team` of `commune`, inserted straight into the database by
/// `by` (a far commune's too, which nobody of the test may write); returns its id.
fn insert_log(app: &TestApp, commune: &str, team: i64, member: i64, by: uuid::Uuid) -> uuid::Uuid {
    let id = uuid::Uuid::new_v4();
    let unit = toso::db::units::get(&mut app.db.conn(), commune)
        .expect("q")
        .expect("unit");
    let row = toso::db::logs::NewLog {
        id: toso::ids::LogId(id),
        fields: toso::db::logs::LogFields {
            occurred_at: chrono::Utc::now(),
            member_id: toso::ids::MemberId(member),
            team_id: toso::ids::TeamId(team),
            commune_code: unit.fields.code,
            province_code: unit.fields.province_code,
            village_id: None,
            category_code: "vneid_install".into(),
            channel: toso::vocab::Channel::HomeVisit,
            citizens_helped: 1,
            citizen_sex: None,
            citizen_age_band: None,
            outcome: toso::vocab::Outcome::Done,
            note: None,
            created_by: toso::ids::UserId(by),
            device_id: None,
        },
    };
    toso::db::logs::insert_new(&mut app.db.conn(), &[row]).expect("log");
    id
}

/// A caller of each role: the admin (`token`), Hà Nội's province officer, Phường Ba Đình's
/// commune officer, and the leader and a member of `team_a`.
async fn callers(app: &TestApp, token: String, team_a: Option<i64>) -> Vec<(Role, String)> {
    let mut tokens = vec![(Role::Admin, token)];
    for (role, username, account, unit, team) in [
        (
            Role::Province,
            "province.01",
            "province_officer",
            Some("01"),
            None,
        ),
        (
            Role::Commune,
            "commune.a",
            "commune_officer",
            Some("00004"),
            None,
        ),
        (Role::Leader, "leader.a", "team_leader", None, team_a),
        (Role::Member, "member.a", "team_member", None, team_a),
    ] {
        let (_, token) = app.user_with_token(username, account, unit, team).await;
        tokens.push((role, token));
    }
    tokens
}

/// The commune of each target: A and A2 share Phường Ba Đình, B is Phường Ngọc Hà, X a
/// commune of Hồ Chí Minh City.
async fn communes(admin: &Actor<'_>) -> HashMap<Target, String> {
    let units = admin.get("/api/v1/units?parent=79&page_size=1").await.body;
    let far = units["items"][0]["code"]
        .as_str()
        .expect("code")
        .to_string();
    [
        (Target::A, "00004".to_string()),
        (Target::A2, "00004".to_string()),
        (Target::B, "00008".to_string()),
        (Target::X, far),
    ]
    .into_iter()
    .collect()
}

/// In each target's commune, made by the admin: a village, a team in it, a member, a log, a
/// training, a team member's account and an indicator target; and a caller of each role.
async fn fixture(app: &TestApp) -> Fixture {
    let (admin_id, token) = app.user_with_token("root", "admin", None, None).await;
    let admin = app.acting(&token);
    let commune = communes(&admin).await;
    let (mut village, mut team, mut member) = (HashMap::new(), HashMap::new(), HashMap::new());
    let (mut user, mut log, mut training) = (HashMap::new(), HashMap::new(), HashMap::new());
    let mut target = HashMap::new();
    for t in TARGETS {
        let c = &commune[&t];
        let v = admin
            .village_in(Some(c), &format!("Thôn {t:?}"), "thon")
            .await;
        let team_body = json!({"name": format!("Tổ {t:?}"), "commune_code": c, "village_id": v});
        let tid = id_of(&admin.create("/api/v1/teams", team_body).await);
        let person = json!({"full_name": format!("Người {t:?}"), "affiliation": "teacher"});
        let m = id_of(
            &admin
                .create(&format!("/api/v1/teams/{tid}/members"), person)
                .await,
        );
        village.insert(t, v);
        team.insert(t, tid);
        member.insert(t, m);
        log.insert(t, insert_log(app, c, tid, m, admin_id));
        training.insert(t, training_of(c).create(&admin).await);
        let account = format!("account.{t:?}").to_lowercase();
        user.insert(
            t,
            app.create_user(&account, "team_member", Some(c), Some(tid)),
        );
    }
    // A and A2 share a commune: its target is set once, then set again (200).
    for t in TARGETS {
        let body =
            IndicatorTarget::percent("vneid_level2", 2025, "commune", &commune[&t], 50).body();
        let set = admin.put("/api/v1/indicator-targets", None, body).await;
        assert!(set.status.is_success(), "{}", set.body);
        target.insert(t, id_of(&set.body));
    }
    let tokens = callers(app, token, Some(team[&Target::A])).await;
    Fixture {
        commune,
        village,
        team,
        member,
        user,
        log,
        training,
        target,
        tokens,
    }
}

fn classify(status: StatusCode) -> Expect {
    match status {
        StatusCode::FORBIDDEN => Expect::Forbidden,
        StatusCode::NOT_FOUND => Expect::Hidden,
        _ => Expect::Allowed,
    }
}

/// The scope table covers exactly the documented routes.
async fn the_table_covers_every_documented_route(app: &TestApp) {
    let doc = app.openapi().await;
    let mut documented: Vec<String> = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in ["get", "post", "put", "patch", "delete"] {
            if item.get(m).is_some() {
                documented.push(format!("{m} {path}"));
            }
        }
    }
    documented.sort();
    let mut table: Vec<String> = ROUTES
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    table.sort();
    assert_eq!(
        table, documented,
        "every route needs a row in the scope table"
    );
}

/// Security headers on every answer, allowed or refused; never a 401 (every caller is logged
/// in) nor a 5xx.
fn assert_answered_safely(res: &Answer, what: &str) {
    assert_ne!(res.status, StatusCode::UNAUTHORIZED, "{what}");
    for (name, value) in [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ] {
        assert_eq!(
            res.headers().get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{name} on {what}"
        );
    }
    assert!(!res.status.is_server_error(), "{what}: {}", res.status);
}

/// Undoes a move of `t`'s member that went through (`moved` is the new membership): the
/// original membership is reopened for the next checks.
fn undo_move(app: &TestApp, f: &Fixture, t: Target, moved: &Value) {
    use diesel::prelude::*;
    use toso::db::schema::members;
    let mut conn = app.db.conn();
    diesel::delete(members::table.find(moved["id"].as_i64().expect("id")))
        .execute(&mut conn)
        .expect("undo");
    diesel::update(members::table.find(f.member[&t]))
        .set(members::left_on.eq(None::<chrono::NaiveDate>))
        .execute(&mut conn)
        .expect("undo");
}

#[tokio::test]
async fn every_route_respects_every_role_scope() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    let roles: Vec<Role> = f.tokens.iter().map(|(r, _)| *r).collect();
    assert_eq!(roles, ROLES, "every role is tried");
    the_table_covers_every_documented_route(&app).await;

    let mut n = 0;
    let mut failures = Vec::new();
    for route in ROUTES {
        let Some((call, rule)) = route.check else {
            continue;
        };
        for (role, token) in &f.tokens {
            for t in TARGETS {
                n += 1;
                let (method, path, body) = call(&f, t, n);
                let res = app
                    .acting(token)
                    .send(method, &path, None, body.as_ref())
                    .await;
                let what = format!("{} {path} as {role:?}", route.method);
                assert_answered_safely(&res, &what);
                let expected = rule(*role, t);
                if classify(res.status) != expected {
                    failures.push(format!(
                        "{what} on {t:?}: {}, expected {expected:?}",
                        res.status
                    ));
                }
                if route.path.ends_with("/move") && res.status == StatusCode::CREATED {
                    undo_move(&app, &f, t, &res.body);
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} scope failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The ids of a list's items, sorted.
fn sorted_ids(list: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect();
    ids.sort();
    ids
}

/// The records of `kind` that `role` may see, sorted.
fn visible_ids(f: &Fixture, role: Role, kind: Kind) -> Vec<i64> {
    let map = match kind {
        Kind::Village => &f.village,
        Kind::Team => &f.team,
        _ => &f.member,
    };
    let mut expected: Vec<i64> = TARGETS
        .iter()
        .filter(|t| visible(role, kind, **t))
        .map(|t| map[t])
        .collect();
    expected.sort();
    expected.dedup();
    expected
}

/// The audit trail of an officer holds only its own area's changes, and some.
async fn the_audit_keeps_to_the_area(caller: &Actor<'_>, role: Role) {
    let body = caller.get("/api/v1/audit?page_size=200").await.body;
    for entry in body["items"].as_array().expect("items") {
        let ok = match role {
            Role::Province => entry["province_code"] == "01",
            Role::Commune => entry["commune_code"] == "00004",
            _ => true,
        };
        assert!(ok, "audit entry outside scope for {role:?}: {entry}");
    }
    assert!(body["total"].as_i64().expect("total") > 0);
}

#[tokio::test]
async fn lists_hold_only_what_the_role_may_see() {
    let app = spawn_app().await;
    let f = fixture(&app).await;
    for (role, token) in &f.tokens {
        let caller = app.acting(token);
        for (path, kind) in [
            ("/api/v1/villages", Kind::Village),
            ("/api/v1/teams", Kind::Team),
            ("/api/v1/members", Kind::Member),
        ] {
            let body = caller.get(&format!("{path}?page_size=200")).await.body;
            let expected = visible_ids(&f, *role, kind);
            assert_eq!(sorted_ids(&body), expected, "{path} as {role:?}");
            assert_eq!(body["total"], expected.len(), "{path} total as {role:?}");
        }
        if officer(*role) {
            the_audit_keeps_to_the_area(&caller, *role).await;
        }
        // Filters cannot widen the scope.
        let far = &f.commune[&Target::X];
        let body = caller
            .get(&format!("/api/v1/villages?commune={far}"))
            .await
            .body;
        let expected = usize::from(visible(*role, Kind::Village, Target::X));
        assert_eq!(body["total"], expected, "village filter as {role:?}");
    }
}
