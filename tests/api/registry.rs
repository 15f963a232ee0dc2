use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::fixtures::{id_of, Commune, Member, Team};
use crate::helpers::{spawn_app, Actor, TestApp};

fn audit_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    let mut conn = app.db.conn();
    toso::db::schema::audit_log::table
        .count()
        .get_result(&mut conn)
        .expect("count")
}

/// A village, defaulting to the officer's commune; the same name (ignoring diacritics) in
/// the same commune is taken. Returns its id.
async fn a_village_of_its_own(officer: &Actor<'_>) -> i64 {
    let village = officer.create("/api/v1/villages",
        json!({"name": "Tổ dân phố Số 5", "kind": "to_dan_pho", "households": 320, "population": 1200})).await;
    assert_eq!(village["commune_code"], "00004");
    assert_eq!(village["province_code"], "01");
    assert_eq!(village["version"], 1);
    let body = officer
        .post(
            "/api/v1/villages",
            json!({"name": "to dan pho so 5", "kind": "to_dan_pho"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "name");
    id_of(&village)
}

/// A village-level team (active) with a leader (phone normalised) and a member; returns the
/// team's members path and the leader.
async fn a_team_with_a_leader(officer: &Actor<'_>, vid: i64) -> (String, Value) {
    let team = officer
        .create(
            "/api/v1/teams",
            json!({
            "name": "Tổ CNCĐ TDP Số 5", "village_id": vid, "decision_number": "45/QĐ-UBND",
            "decision_date": "2025-08-01", "established_on": "2025-08-01"}),
        )
        .await;
    assert_eq!(team["status"], "active");
    let members_path = format!("/api/v1/teams/{}/members", id_of(&team));
    let leader = officer
        .create(
            &members_path,
            json!({
        "full_name": "Nguyễn Văn An", "phone": "+84 912 345 678", "sex": "male", "birth_year": 1970,
        "affiliation": "village_head", "team_role": "leader", "joined_on": "2025-08-01"}),
        )
        .await;
    assert_eq!(leader["phone"], "0912345678");
    officer.create(&members_path, json!({
        "full_name": "Trần Thị Bình", "sex": "female", "affiliation": "womens_union", "joined_on": "2025-08-02"})).await;
    (members_path, leader)
}

/// Lists: filters, diacritic-insensitive search, totals.
async fn lists_filter_and_search(officer: &Actor<'_>, members_path: &str, vid: i64) {
    let list = officer
        .get(&format!("{members_path}?q=tran%20thi"))
        .await
        .body;
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["full_name"], "Trần Thị Bình");
    for (path, total) in [
        (
            "/api/v1/members?affiliation=village_head&role=leader".to_string(),
            1,
        ),
        (format!("/api/v1/members?village={vid}"), 2),
        ("/api/v1/teams?q=tdp%20so%205".to_string(), 1),
    ] {
        assert_eq!(officer.get(&path).await.body["total"], total, "{path}");
    }
}

/// Every write left one audit record with before and after: the update is the leader's leave.
async fn every_write_is_audited(officer: &Actor<'_>, writes: usize) {
    let audit = officer.get("/api/v1/audit?page_size=50").await.body;
    assert_eq!(audit["total"], writes, "{audit}");
    let update = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["action"] == "update")
        .expect("an update");
    assert_eq!(update["entity"], "member");
    assert_eq!(update["before"]["left_on"], Value::Null);
    assert_eq!(update["after"]["left_on"], "2025-10-01");
    assert_eq!(update["actor_username"], "badinh");
    assert!(update["after"].get("search_name").is_none());
}

#[tokio::test]
async fn commune_officer_keeps_its_register_with_audit() {
    let app = spawn_app().await;
    let officer = app
        .actor("badinh", "commune_officer", Some("00004"), None)
        .await;
    let vid = a_village_of_its_own(&officer).await;
    let (members_path, leader) = a_team_with_a_leader(&officer, vid).await;

    // At most one active leader.
    let second_leader =
        json!({"full_name": "Lê Văn Cường", "affiliation": "area_police", "team_role": "leader"});
    let body = officer
        .post(&members_path, second_leader.clone())
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(body["errors"][0]["field"], "team_role");
    assert_eq!(body["errors"][0]["code"], "leader_exists");
    lists_filter_and_search(&officer, &members_path, vid).await;

    // The leader leaves: history stays, the team can get a new leader.
    officer
        .patch(
            &format!("/api/v1/members/{}", id_of(&leader)),
            Some("\"1\""),
            json!({"left_on": "2025-10-01"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(officer.get(&members_path).await.body["total"], 1);
    let left = officer
        .get(&format!("{members_path}?status=left"))
        .await
        .body;
    assert_eq!(left["items"][0]["full_name"], "Nguyễn Văn An");
    officer.create(&members_path, second_leader).await;
    every_write_is_audited(&officer, 6).await;
}

/// Inputs the register refuses with a field error: `[path, body, field, code]`; `members` is
/// a team's members path, `elsewhere` a village of another commune.
fn refused_inputs(members: &str, elsewhere: i64) -> Vec<Value> {
    let (v, t, m) = ("/api/v1/villages", "/api/v1/teams", members);
    vec![
        json!([v, {"name": "X", "kind": "thon", "commune_code": "99999"}, "commune_code", "unknown_unit"]),
        json!([v, {"name": "X", "kind": "castle"}, "kind", "invalid_value"]),
        json!([v, {"name": "x".repeat(201), "kind": "thon"}, "name", "length"]),
        json!([v, {"name": "X", "kind": "thon", "households": "many"}, "households", "invalid_value"]),
        json!([v, {"name": "X", "kind": "thon", "population": -1}, "population", "range"]),
        json!([v, {"kind": "thon"}, "name", "required"]),
        json!([t, {"name": "T", "village_id": elsewhere}, "village_id", "unknown_village"]),
        json!([t, {"name": "T", "established_on": "2025-09-01", "dissolved_on": "2025-01-01"},
               "dissolved_on", "before_established"]),
        json!([t, {"name": "T", "decision_date": "01/08/2025"}, "decision_date", "invalid_value"]),
        json!([m, {"full_name": "A", "affiliation": "village_head", "phone": "12345"}, "phone", "invalid_phone"]),
        json!([m, {"full_name": "A", "affiliation": "wizard"}, "affiliation", "invalid_value"]),
        json!([m, {"full_name": "A", "affiliation": "teacher", "birth_year": 1800}, "birth_year", "range"]),
        json!([m, {"full_name": "", "affiliation": "teacher"}, "full_name", "length"]),
        json!([m, {"full_name": "A", "affiliation": "teacher", "extra": 1}, "extra", "invalid_value"]),
    ]
}

/// A village of commune `code` inserted straight into the database; returns its id.
fn insert_village(app: &TestApp, code: &str, name: &str) -> i64 {
    let mut conn = app.db.conn();
    let unit = toso::db::units::get(&mut conn, code)
        .expect("q")
        .expect("unit");
    toso::db::villages::insert(
        &mut conn,
        &toso::db::villages::NewVillage {
            commune_code: unit.fields.code,
            province_code: unit.fields.province_code,
            name: name.into(),
            search_name: toso::text::fold(name),
            kind: toso::vocab::VillageKind::Thon,
            households: None,
            population: None,
        },
    )
    .expect("insert")
    .id
    .0
}

/// Two edits based on version 1 of a village: the first wins, the second (and a delete) get
/// 412; one audit record is written.
async fn the_first_edit_of_a_version_wins(app: &TestApp, badinh: &Actor<'_>) {
    let village = badinh
        .post(
            "/api/v1/villages",
            json!({"name": "Thôn Một", "kind": "thon"}),
        )
        .await;
    assert_eq!(village.etag(), "\"1\"");
    let vid = village.expect(StatusCode::CREATED)["id"]
        .as_i64()
        .expect("id");
    let path = format!("/api/v1/villages/{vid}");
    let before = audit_count(app);

    let first = badinh
        .patch(&path, Some("\"1\""), json!({"name": "Thôn Hai"}))
        .await;
    assert_eq!(first.etag(), "\"2\"");
    badinh
        .patch(&path, Some("\"1\""), json!({"name": "Thôn Ba"}))
        .await
        .problem(StatusCode::PRECONDITION_FAILED, "version_mismatch");
    badinh
        .delete(&path, Some("\"1\""))
        .await
        .problem(StatusCode::PRECONDITION_FAILED, "version_mismatch");
    let now = badinh.get(&path).await.expect(StatusCode::OK);
    assert_eq!(now["name"], "Thôn Hai");
    assert_eq!(now["version"], 2);
    assert_eq!(audit_count(app), before + 1);
}

/// A member who joined on 2025-09-01 cannot have left before: refused, nothing audited.
/// Returns the audit count after the member was added.
async fn leaving_before_joining_is_refused(
    app: &TestApp,
    badinh: &Actor<'_>,
    members: &str,
) -> i64 {
    let m = badinh
        .create(
            members,
            json!({"full_name": "A", "affiliation": "teacher", "joined_on": "2025-09-01"}),
        )
        .await;
    let before_member = audit_count(app);
    let problem = badinh
        .patch(
            &format!("/api/v1/members/{}", m["id"]),
            None,
            json!({"left_on": "2025-08-01"}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "before_joined");
    assert_eq!(audit_count(app), before_member);
    before_member
}

#[tokio::test]
async fn stale_versions_and_bad_input_change_nothing() {
    let app = spawn_app().await;
    let badinh = app
        .actor("badinh", "commune_officer", Some("00004"), None)
        .await;
    the_first_edit_of_a_version_wins(&app, &badinh).await;

    let ngocha_village = insert_village(&app, "00008", "Thôn Xa");
    let admin = app.actor("root", "admin", None, None).await;
    let tid = id_of(
        &badinh
            .create("/api/v1/teams", json!({"name": "Tổ A"}))
            .await,
    );
    let members_path = format!("/api/v1/teams/{tid}/members");
    let before = audit_count(&app);

    for case in refused_inputs(&members_path, ngocha_village) {
        let (path, body) = (case[0].as_str().expect("path"), &case[1]);
        let (field, code) = (
            case[2].as_str().expect("field"),
            case[3].as_str().expect("code"),
        );
        badinh
            .post(path, body.clone())
            .await
            .field_error(field, code);
    }
    // A village of another commune, even for an admin who sees both.
    let problem = admin
        .post(
            "/api/v1/teams",
            json!({"name": "T", "commune_code": "00004", "village_id": ngocha_village}),
        )
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(problem["errors"][0]["code"], "wrong_commune");
    let before_member = leaving_before_joining_is_refused(&app, &badinh, &members_path).await;
    assert_eq!(
        before_member,
        before + 1,
        "only the one good member was written"
    );
}

/// A village holding a team holding a member, made by `officer`; returns their paths.
async fn village_team_member(officer: &Actor<'_>) -> [String; 3] {
    let vid = officer.village_in(None, "Thôn Đông", "thon").await;
    let tid = id_of(
        &officer
            .create(
                "/api/v1/teams",
                json!({"name": "Tổ Đông", "village_id": vid}),
            )
            .await,
    );
    let mid = id_of(
        &officer
            .create(
                &format!("/api/v1/teams/{tid}/members"),
                json!({"full_name": "Phạm Văn Dũng", "affiliation": "youth_union"}),
            )
            .await,
    );
    [
        format!("/api/v1/villages/{vid}"),
        format!("/api/v1/teams/{tid}"),
        format!("/api/v1/members/{mid}"),
    ]
}

/// Restore in order: the team waits for its village; then the team lists its member again
/// and the village's audit reads restore, archive, create.
async fn restores_go_parent_first(officer: &Actor<'_>, [village, team, member]: &[String; 3]) {
    let restore = |path: &str| format!("{path}/restore");
    officer
        .act(&restore(team), None)
        .await
        .problem(StatusCode::CONFLICT, "parent_archived");
    for path in [village, team, member] {
        officer
            .act(&restore(path), None)
            .await
            .expect(StatusCode::OK);
    }
    let list = officer
        .get(&format!("{team}/members"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(list["total"], 1);
    let audit = officer
        .get("/api/v1/audit?entity=village")
        .await
        .expect(StatusCode::OK);
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().expect("a"))
        .collect();
    assert_eq!(actions, ["restore", "archive", "create"]);
}

#[tokio::test]
async fn archive_is_soft_refused_with_dependents_and_restorable() {
    let app = spawn_app().await;
    let officer = app
        .actor("badinh", "commune_officer", Some("00004"), None)
        .await;
    let records = village_team_member(&officer).await;
    let [village, team, member] = &records;

    // Refused while live records depend on them.
    for path in [village, team] {
        officer
            .delete(path, None)
            .await
            .problem(StatusCode::CONFLICT, "has_dependents");
    }

    // Member archived (a record made by mistake), then the team, then the village.
    officer.delete(member, None).await.expect(StatusCode::OK);
    officer.delete(team, None).await.expect(StatusCode::OK);
    let archived = officer.delete(village, None).await.expect(StatusCode::OK);
    assert!(archived["archived_at"].is_string());

    // Hidden from lists by default, still readable by id and listable on request.
    let list = officer.get("/api/v1/villages").await.expect(StatusCode::OK);
    assert_eq!(list["total"], 0);
    let list = officer
        .get("/api/v1/villages?include_archived=true")
        .await
        .expect(StatusCode::OK);
    assert_eq!(list["total"], 1);
    officer.get(village).await.expect(StatusCode::OK);
    restores_go_parent_first(&officer, &records).await;
}

#[tokio::test]
async fn moving_a_member_is_a_leave_plus_a_join() {
    let app = spawn_app().await;
    let province = app.hanoi_officer().await;
    let from = app.create_team("00004", "Tổ Ba Đình");
    let to = app.create_team("00008", "Tổ Ngọc Hà");
    let user = app.create_user("an.mobile", "team_member", Some("00004"), Some(from));
    let member = province.post(&format!("/api/v1/teams/{from}/members"), json!({
        "full_name": "Nguyễn Văn An", "affiliation": "resident_volunteer", "joined_on": "2025-08-01", "user_id": user})).await.body;
    let mid = member["id"].as_i64().expect("id");

    let moved = province.move_member(mid, to, "2025-10-15").await;
    assert_eq!(moved.status, StatusCode::CREATED, "{}", moved.body);
    let moved = moved.body;
    assert_eq!(moved["team_id"], to);
    assert_eq!(moved["commune_code"], "00008");
    assert_eq!(moved["joined_on"], "2025-10-15");
    assert_eq!(moved["person_id"], member["person_id"]);
    assert_eq!(moved["user_id"], user.to_string());
    assert_ne!(moved["id"], member["id"]);

    let old = province.get(&format!("/api/v1/members/{mid}")).await.body;
    assert_eq!(old["left_on"], "2025-10-15");
    assert_eq!(old["team_id"], from);
    // The app account follows the member.
    let account = province.get(&format!("/api/v1/users/{user}")).await.body;
    assert_eq!(account["team_id"], to);
    assert_eq!(account["unit_code"], "00008");

    province
        .post(
            &format!("/api/v1/members/{mid}/move"),
            json!({"team_id": to}),
        )
        .await
        .problem(StatusCode::CONFLICT, "member_not_active");
}

/// Live teams in archived villages, and active members in archived teams: must stay 0.
fn live_children_under_archived_parents(app: &TestApp) -> i64 {
    app.count("SELECT (SELECT count(*) FROM teams t JOIN villages v ON v.id = t.village_id
                  WHERE v.archived_at IS NOT NULL AND t.archived_at IS NULL AND t.status <> 'dissolved')
              + (SELECT count(*) FROM members m JOIN teams t ON t.id = m.team_id
                  WHERE t.archived_at IS NOT NULL AND m.archived_at IS NULL AND m.left_on IS NULL) AS n",
    )
}

/// What `nothing_comes_alive_under_an_archived_parent` starts from: an archived village `vid`
/// holding a dissolved team `tid`, an archived team `t2` whose only member `mid` has left,
/// and a live team `other` with a member `mover`; returns `(vid, tid, t2, mid, other, mover)`.
async fn archived_parents(app: &TestApp, officer: &Actor<'_>) -> [i64; 6] {
    let vid = officer.village_in(None, "Thôn Cũ", "thon").await;
    // A dissolved team may stay in the village while it is archived.
    let team = officer
        .create(
            "/api/v1/teams",
            json!({"name": "Tổ Cũ", "village_id": vid,
                   "established_on": "2025-01-01", "dissolved_on": "2025-06-01"}),
        )
        .await;
    assert_eq!(team["status"], "dissolved");
    let tid = id_of(&team);
    // A team whose only member has left, then archived.
    let t2 = id_of(
        &officer
            .create("/api/v1/teams", json!({"name": "Tổ Hai"}))
            .await,
    );
    let joined =
        |name: &str| json!({"full_name": name, "affiliation": "other", "joined_on": "2025-01-01"});
    let mid = id_of(
        &officer
            .create(&format!("/api/v1/teams/{t2}/members"), joined("Bùi Văn Cư"))
            .await,
    );
    officer
        .patch(
            &format!("/api/v1/members/{mid}"),
            None,
            json!({"left_on": "2025-06-01"}),
        )
        .await
        .expect(StatusCode::OK);
    for path in [
        format!("/api/v1/villages/{vid}"),
        format!("/api/v1/teams/{t2}"),
    ] {
        officer.delete(&path, None).await.expect(StatusCode::OK);
    }
    let other = app.create_team("00004", "Tổ Khác");
    let mover = id_of(
        &officer
            .create(
                &format!("/api/v1/teams/{other}/members"),
                joined("Đỗ Thị Dời"),
            )
            .await,
    );
    [vid, tid, t2, mid, other, mover]
}

/// Writes that would bring a child alive under [`archived_parents`]: revive the dissolved
/// team `tid` in the archived village `vid`, put a new team in it, move the team `other` into
/// it; revive the member `mid` in the archived team `t2`, add one, move `mover` into it.
fn revivals([vid, tid, t2, mid, other, mover]: [i64; 6]) -> Vec<(Method, String, Value)> {
    let (team_path, member_path) = (
        format!("/api/v1/teams/{tid}"),
        format!("/api/v1/members/{mid}"),
    );
    let new_member = json!({"full_name": "Người Mới", "affiliation": "other"});
    vec![
        (
            Method::PATCH,
            team_path.clone(),
            json!({"status": "active"}),
        ),
        (
            Method::PATCH,
            team_path.clone(),
            json!({"status": "inactive", "dissolved_on": null}),
        ),
        (
            Method::POST,
            "/api/v1/teams".into(),
            json!({"name": "Tổ Mới", "village_id": vid}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/teams/{other}"),
            json!({"village_id": vid}),
        ),
        (Method::PATCH, member_path.clone(), json!({"left_on": null})),
        (
            Method::POST,
            format!("/api/v1/teams/{t2}/members"),
            new_member,
        ),
        (
            Method::POST,
            format!("/api/v1/members/{mover}/move"),
            json!({"team_id": t2}),
        ),
    ]
}

#[tokio::test]
async fn nothing_comes_alive_under_an_archived_parent() {
    let app = spawn_app().await;
    let officer = app
        .actor("badinh", "commune_officer", Some("00004"), None)
        .await;
    let world = archived_parents(&app, &officer).await;
    let [_, tid, _, mid, _, mover] = world;
    let audits = audit_count(&app);

    let (team_path, member_path) = (
        format!("/api/v1/teams/{tid}"),
        format!("/api/v1/members/{mid}"),
    );
    for (method, path, body) in revivals(world) {
        officer
            .send(method, &path, None, Some(&body))
            .await
            .problem(StatusCode::CONFLICT, "parent_archived");
    }
    // Restore one.
    officer
        .delete(&member_path, None)
        .await
        .expect(StatusCode::OK);
    officer
        .act(&format!("{member_path}/restore"), None)
        .await
        .problem(StatusCode::CONFLICT, "parent_archived");

    // Nothing changed but the one archive of the member.
    assert_eq!(audit_count(&app), audits + 1);
    assert_eq!(live_children_under_archived_parents(&app), 0);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM teams WHERE id = {tid} AND status = 'dissolved'"
        )),
        1
    );
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) AS n FROM members WHERE id = {mover} AND left_on IS NULL"
        )),
        1
    );
    // Edits that keep a child dead are fine.
    officer
        .patch(&team_path, None, json!({"name": "Tổ Cũ (giải thể)"}))
        .await
        .expect(StatusCode::OK);
}

/// `POST /teams` (or a new member) racing the archive of its village (or team): either the
/// child is created and the archive refused, or the archive wins and the child is refused;
/// never a live child under an archived parent.
#[tokio::test]
async fn creating_a_child_races_archiving_its_parent() {
    let app = spawn_app().await;
    let officer = app
        .actor("badinh", "commune_officer", Some("00004"), None)
        .await;
    let (mut created, mut archived) = (0, 0);
    for round in 0..25 {
        let village = officer
            .post(
                "/api/v1/villages",
                json!({"name": format!("Thôn đua {round}"), "kind": "thon"}),
            )
            .await
            .body;
        let vid = village["id"].as_i64().expect("id");
        let team = app.create_team("00004", &format!("Tổ đua {round}"));
        let (team_body, village_path) = (
            json!({"name": format!("Tổ con {round}"), "village_id": vid}),
            format!("/api/v1/villages/{vid}"),
        );
        let (members_path, member_body, team_path) = (
            format!("/api/v1/teams/{team}/members"),
            json!({"full_name": format!("Thành viên {round}"), "affiliation": "other"}),
            format!("/api/v1/teams/{team}"),
        );
        let new_team = officer.post("/api/v1/teams", team_body);
        let archive_village = officer.delete(&village_path, None);
        let new_member = officer.post(&members_path, member_body);
        let archive_team = officer.delete(&team_path, None);
        let (new_team, archive_village, new_member, archive_team) =
            tokio::join!(new_team, archive_village, new_member, archive_team);
        for (child, parent, refused) in [
            (new_team, archive_village, "parent_archived"),
            (new_member, archive_team, "parent_archived"),
        ] {
            match (child.status, parent.status) {
                (StatusCode::CREATED, StatusCode::CONFLICT) => {
                    created += 1;
                    parent.problem(StatusCode::CONFLICT, "has_dependents");
                }
                (StatusCode::CONFLICT, StatusCode::OK) => {
                    archived += 1;
                    child.problem(StatusCode::CONFLICT, refused);
                }
                other => panic!("round {round}: child and archive answered {other:?}"),
            }
        }
        assert_eq!(
            live_children_under_archived_parents(&app),
            0,
            "round {round}"
        );
    }
    eprintln!("children first: {created}, archives first: {archived}");
    assert_eq!(created + archived, 50);
}

/// The total of a list is the same on every page: counted on a full page and on one past
/// the end, and known from a short page without counting (one statement).
#[tokio::test]
async fn every_page_of_a_list_carries_the_same_total() {
    let app = spawn_app().await;
    let commune = crate::fixtures::Commune::new(&app, "00004", "pages.officer").await;
    for name in ["Thôn Một", "Thôn Hai", "Thôn Ba"] {
        commune.officer.village_in(None, name, "thon").await;
    }
    // 2 a page: a full page, a short one, one past the end; then all in one short page.
    let villages = [
        ("/api/v1/villages?page_size=2&page=1", 2),
        ("/api/v1/villages?page_size=2&page=2", 1),
        ("/api/v1/villages?page_size=2&page=3", 0),
        ("/api/v1/villages?page_size=50", 3),
    ];
    for (path, items) in villages {
        assert_page(&commune.officer, path, 3, items).await;
    }
    // The same for a list of fixed size: the 34 provinces, 10 a page.
    let provinces = "/api/v1/units?level=province&page_size=10&page=";
    for (page, items) in [(1, 10), (4, 4), (5, 0)] {
        assert_page(&commune.officer, &format!("{provinces}{page}"), 34, items).await;
    }
}

/// `path` answers a page of `items` items out of `total`.
async fn assert_page(actor: &Actor<'_>, path: &str, total: i64, items: usize) {
    let page = actor.get(path).await.expect(StatusCode::OK);
    assert_eq!(page["total"], total, "{path}: {page}");
    assert_eq!(
        page["items"].as_array().map(Vec::len),
        Some(items),
        "{path}"
    );
}

/// Two communes' registers: a village, teams and members in each, and a team account in A.
struct TwoRegisters<'a> {
    a: Commune<'a>,
    b: Commune<'a>,
    phone: Actor<'a>,
    villages: [i64; 2],
    /// A's team (the phone's), A's other team, B's team.
    teams: [i64; 3],
    /// The phone's own member, a member of A's other team, a member of B.
    members: [i64; 3],
}

async fn two_registers(app: &TestApp) -> TwoRegisters<'_> {
    let a = Commune::new(app, "00004", "together.a").await;
    let b = Commune::new(app, "00008", "together.b").await;
    let villages = [
        a.officer.village_in(None, "Thôn A", "thon").await,
        b.officer.village_in(None, "Thôn B", "thon").await,
    ];
    let teams = [
        a.team(Team::named("Tổ A")).await,
        a.team(Team::named("Tổ A2")).await,
        b.team(Team::named("Tổ B")).await,
    ];
    let phone = a
        .member(
            teams[0],
            Member::ordinary("Người A").account("together.phone"),
        )
        .await;
    let members = [
        phone.id,
        a.member(teams[1], Member::ordinary("Người A2")).await.id,
        b.member(teams[2], Member::ordinary("Người B")).await.id,
    ];
    TwoRegisters {
        phone: phone.phone(),
        a,
        b,
        villages,
        teams,
        members,
    }
}

/// Each of `cases` (reader, kind, id, expected name or None for 404), 15 times over, all at
/// once: each reader gets its own answer.
async fn read_together(cases: &[(&Actor<'_>, &str, i64, Option<&str>)]) {
    let reads = (0..15)
        .flat_map(|_| cases.iter())
        .map(|&(who, kind, id, name)| async move {
            let answer = who.get(&format!("/api/v1/{kind}/{id}")).await;
            (kind, id, name, answer)
        });
    for (kind, id, name, answer) in futures_util::future::join_all(reads).await {
        match name {
            Some(name) => {
                let record = answer.expect(StatusCode::OK);
                let shown = record.get("full_name").or(record.get("name"));
                assert_eq!(
                    (record["id"].as_i64(), shown.and_then(Value::as_str)),
                    (Some(id), Some(name)),
                    "{kind} {id}"
                );
            }
            None => {
                answer.problem(StatusCode::NOT_FOUND, "not_found");
            }
        }
    }
}

/// The rule the batch applies (`visible`) is the rule of the scoped query, for every scope.
fn visible_is_the_scoped_query(app: &TestApp, w: &TwoRegisters<'_>) {
    use toso::access::Scope;
    use toso::db::{members, teams, villages};
    use toso::ids::{MemberId, TeamId, VillageId};
    let [team_a, other_team_a, team_b] = w.teams;
    let team = |id, commune: &str| Scope::Team {
        commune: commune.to_string(),
        team_id: TeamId(id),
    };
    let scopes = [
        Scope::Country,
        Scope::Province("01".into()),
        Scope::Province("79".into()),
        Scope::Commune("00004".into()),
        Scope::Commune("00008".into()),
        team(team_a, "00004"),
        team(other_team_a, "00004"),
        team(team_b, "00008"),
    ];
    let mut conn = app.db.conn();
    let c = &mut conn;
    let vs = villages::by_ids(c, &w.villages.map(VillageId)).expect("villages");
    let ts = teams::by_ids(c, &w.teams.map(TeamId)).expect("teams");
    let ms = members::by_ids(c, &w.members.map(MemberId)).expect("members");
    assert_eq!((vs.len(), ts.len(), ms.len()), (2, 3, 3));
    for scope in &scopes {
        for r in &vs {
            let by_query = villages::get(c, scope, r.id).expect("get").is_some();
            assert_eq!(
                villages::visible(scope, r),
                by_query,
                "{scope:?} {:?}",
                r.id
            );
        }
        for r in &ts {
            let by_query = teams::get(c, scope, r.id).expect("get").is_some();
            assert_eq!(teams::visible(scope, r), by_query, "{scope:?} {:?}", r.id);
        }
        for r in &ms {
            let by_query = members::get(c, scope, r.id).expect("get").is_some();
            assert_eq!(members::visible(scope, r), by_query, "{scope:?} {:?}", r.id);
        }
    }
}

/// Reads of villages, teams and members by id that arrive together are answered by one
/// statement a kind (`db::coalesce`), yet each reader gets its own answer: the record, and 404
/// for one outside its scope (another commune, or for a team account another team) or missing,
/// never a row read for someone else.
#[tokio::test]
async fn records_read_together_answer_each_reader_within_its_own_scope() {
    let app = spawn_app().await;
    let w = two_registers(&app).await;
    let (a, b, phone) = (&w.a.officer, &w.b.officer, &w.phone);
    let [village_a, village_b] = w.villages;
    let [team_a, other_team_a, team_b] = w.teams;
    let [in_a, other_in_a, in_b] = w.members;
    let missing = 1_000_000;

    let (v, t, m) = ("villages", "teams", "members");
    read_together(&[
        (a, v, village_a, Some("Thôn A")),
        (a, v, village_b, None),
        (b, v, village_b, Some("Thôn B")),
        (phone, v, village_a, Some("Thôn A")),
        (phone, v, village_b, None),
        (a, t, other_team_a, Some("Tổ A2")),
        (a, t, team_b, None),
        (phone, t, team_a, Some("Tổ A")),
        (phone, t, other_team_a, None),
        (a, m, in_a, Some("Người A")),
        (a, m, other_in_a, Some("Người A2")),
        (a, m, in_b, None),
        (b, m, in_b, Some("Người B")),
        (b, m, in_a, None),
        (phone, m, in_a, Some("Người A")),
        (phone, m, other_in_a, None),
        (a, m, missing, None),
        (a, v, missing, None),
    ])
    .await;
    visible_is_the_scoped_query(&app, &w);
}
