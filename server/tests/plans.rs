//! Plans, 双随机 draws, tasks, caps, 回避 and the 扫码入企 code (issue #22), on SQLite and
//! PostgreSQL: who may make and see a plan; a draw that re-runs to the same result, in process
//! and with `zhicha-server verify-draw`; draws the database refuses to change; numbers that two
//! draws at once never share; tasks on the drawn team's phones, done by the inspection pushed
//! with them, refused alone for another team; 回避 and last time's officers never drawn; the
//! caps in force and the enterprises at their cap; the publication; the code; the campaign
//! filter of the ledger and statistics.

mod common;

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode, header};
use chrono::{Days, Utc};
use serde_json::{Value, json};
use sqlx::Executor as _;
use zhicha_core::ids::{EnterpriseId, OrgId, TaskId, UserId};
use zhicha_core::model::{Enterprise, Inspection, OrgUnit, Role, Sector, User};
use zhicha_core::plan::api::{CapTable, DrawRecord, PlanDetail, PlanList};
use zhicha_core::plan::{CapRule, Grade, Plan, Task, default_caps, draw};
use zhicha_core::protocol::{AckStatus, CommentPayload, MutationPayload};
use zhicha_server::operator::seed::DEMO_PASSWORD;

use common::{Backend, Device, TestApp, assert_applied};

on_both_backends!(
    plans_are_made_by_leaders_and_admins_and_seen_within_their_bureau,
    a_draw_is_recorded_reproducible_and_checked_by_verify_draw,
    a_draw_asking_for_nothing_or_too_much_is_refused,
    draws_are_append_only_in_the_database,
    draws_made_at_once_get_different_numbers,
    tasks_reach_the_drawn_team_and_an_inspection_pushed_with_one_completes_it,
    an_inspection_naming_another_teams_task_is_refused_alone,
    declared_conflicts_and_last_times_officers_are_never_drawn,
    caps_are_the_defaults_until_a_bureau_edits_them,
    an_enterprise_at_its_cap_is_named_in_the_coverage,
    the_publication_lists_every_pick_with_its_officers,
    the_code_is_an_svg_of_the_bureau_code,
    the_ledger_and_statistics_filter_by_campaign,
    a_phone_cannot_make_its_own_entry_key_or_graded,
);

const BIN: &str = env!("CARGO_BIN_EXE_zhicha-server");

fn new_plan(title: &str) -> Value {
    json!({
        "year": 2026,
        "title": title,
        "campaign": "安全生产月",
        "staffing": {
            "officers": 3,
            "workdays_per_officer": 248,
            "other_enforcement_days": 100,
            "non_enforcement_days": 100,
            "days_per_inspection": 2
        },
        "min_random_pct": 70,
        "approval": { "by": "王局长", "on": "2026-01-05", "reference": "达旗应急〔2026〕1号" }
    })
}

async fn make_plan(t: &TestApp, who: &Device, title: &str) -> Plan {
    let reply = t
        .call(
            Method::POST,
            "/api/v1/plans",
            Some(&who.token),
            Some(new_plan(title)),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    serde_json::from_slice(&reply.body).unwrap()
}

fn due() -> String {
    (Utc::now().date_naive() + Days::new(30)).to_string()
}

async fn draw_reply(t: &TestApp, who: &Device, plan: &Plan, body: Value) -> common::Reply {
    t.call(
        Method::POST,
        &format!("/api/v1/plans/{}/draws", plan.id),
        Some(&who.token),
        Some(body),
    )
    .await
}

async fn make_draw(t: &TestApp, who: &Device, plan: &Plan, body: Value) -> DrawRecord {
    let reply = draw_reply(t, who, plan, body).await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    serde_json::from_slice(&reply.body).unwrap()
}

async fn detail(t: &TestApp, who: &Device, plan: &Plan) -> PlanDetail {
    let reply = t
        .get(&format!("/api/v1/plans/{}", plan.id), &who.token)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    serde_json::from_slice(&reply.body).unwrap()
}

async fn bootstrap(t: &TestApp, who: &Device) -> Value {
    let reply = t.get("/api/v1/bootstrap", &who.token).await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.json()
}

async fn bootstrap_tasks(t: &TestApp, who: &Device) -> Vec<Task> {
    serde_json::from_value(bootstrap(t, who).await["tasks"].clone()).unwrap()
}

async fn directory(t: &TestApp, who: &Device) -> Vec<Enterprise> {
    serde_json::from_value(bootstrap(t, who).await["enterprises"].clone()).unwrap()
}

async fn by_code(t: &TestApp, who: &Device, code: &str) -> Enterprise {
    directory(t, who)
        .await
        .into_iter()
        .find(|e| e.credit_code.as_deref() == Some(code))
        .unwrap()
}

/// A bureau of its own at the root with a leader (`hangjin-leader`) and a directory entry.
async fn other_bureau(t: &TestApp) -> (Device, Enterprise) {
    let bureau = OrgUnit {
        id: OrgId::new(),
        parent_id: None,
        name: "杭锦旗应急管理局".into(),
        doc_code: "杭旗应急".into(),
        region: "杭锦旗".into(),
        review_authority: String::new(),
        court: String::new(),
    };
    t.state.store.insert_org(&bureau).await.unwrap();
    let hash = t.state.passwords.hash(DEMO_PASSWORD).await.unwrap();
    let leader = User {
        id: UserId::new(),
        username: "hangjin-leader".into(),
        display_name: "杭锦旗队长".into(),
        role: Role::Leader,
        org_id: bureau.id,
        certificate_no: Some("15062599".into()),
    };
    assert!(t.state.store.insert_user(&leader, &hash).await.unwrap());
    let enterprise = Enterprise {
        key: true,
        grade: Some(Grade::A),
        id: EnterpriseId::new(),
        org_id: bureau.id,
        name: "杭锦旗某化工有限公司".into(),
        credit_code: Some("91150625MA0HANG001".into()),
        address: String::new(),
        county: "杭锦旗".into(),
        township: "锡尼镇".into(),
        sectors: vec![Sector::HazardousChemicals],
        subsectors: vec![],
        legal_representative: String::new(),
        contact_phone: String::new(),
        location: None,
        ad_hoc: false,
        merged_into: None,
    };
    t.state.store.upsert_enterprise(&enterprise).await.unwrap();
    (t.login("hangjin-leader").await, enterprise)
}

/// An inspection of `enterprise` by `device` started from `task` (if any).
fn inspection_for(device: &Device, enterprise: EnterpriseId, task: Option<TaskId>) -> Inspection {
    let mut inspection = device.inspection(enterprise);
    inspection.entry.task_id = task;
    inspection.entry.no_scan_reason = "企业未张贴执法监督码或营业执照二维码".into();
    inspection
}

async fn plans_are_made_by_leaders_and_admins_and_seen_within_their_bureau(backend: Backend) {
    let t = TestApp::start(backend).await;
    let inspector = t.login("inspector1").await;
    let leader = t.login("leader1").await;
    let admin = t.login("admin").await;

    let reply = t
        .call(
            Method::POST,
            "/api/v1/plans",
            Some(&inspector.token),
            Some(new_plan("检查员的计划")),
        )
        .await;
    reply.assert_error(StatusCode::FORBIDDEN, "forbidden");
    t.get("/api/v1/plans", &inspector.token)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");

    let mut bad = new_plan(" ");
    bad["staffing"]["days_per_inspection"] = json!(0);
    let reply = t
        .call(
            Method::POST,
            "/api/v1/plans",
            Some(&leader.token),
            Some(bad),
        )
        .await;
    reply.assert_error(StatusCode::BAD_REQUEST, "validation");
    assert_eq!(reply.json()["error"]["field"], "title");

    let team_plan = make_plan(&t, &leader, "一中队2026年度计划").await;
    assert_eq!(
        team_plan.org_id, leader.user.org_id,
        "the leader's own unit"
    );
    assert_eq!(team_plan.created_by, leader.user.id);
    let bureau_plan = make_plan(&t, &admin, "达拉特旗2026年度计划").await;
    assert_eq!(bureau_plan.org_id, admin.user.org_id);

    // The team leader sees his team's plan and the bureau's above him.
    let list: PlanList =
        serde_json::from_slice(&t.get("/api/v1/plans", &leader.token).await.body).unwrap();
    let ids: BTreeSet<_> = list.plans.iter().map(|p| p.plan.id).collect();
    assert_eq!(ids, BTreeSet::from([team_plan.id, bureau_plan.id]));
    let summary = &list.plans[0];
    // 3 × 248 − 200 = 544 days, 272 enterprises; the demo directory has 3 重点.
    assert_eq!(summary.figures.inspection_days, 544);
    assert_eq!(summary.figures.capacity, 272);
    assert_eq!(summary.figures.key_enterprises, 3);
    assert_eq!(summary.tasks, 0);
    let list: PlanList =
        serde_json::from_slice(&t.get("/api/v1/plans", &admin.token).await.body).unwrap();
    assert_eq!(list.plans.len(), 2);
    assert_eq!(detail(&t, &leader, &bureau_plan).await.plan, bureau_plan);

    // Another bureau's leader sees neither, and cannot draw from them.
    let (other, _) = other_bureau(&t).await;
    let list: PlanList =
        serde_json::from_slice(&t.get("/api/v1/plans", &other.token).await.body).unwrap();
    assert!(list.plans.is_empty());
    t.get(&format!("/api/v1/plans/{}", bureau_plan.id), &other.token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    draw_reply(
        &t,
        &other,
        &bureau_plan,
        json!({ "count": 1, "due": due() }),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    t.get("/api/v1/plans/not-an-id", &admin.token)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid");
    t.finish().await;
}

async fn a_draw_is_recorded_reproducible_and_checked_by_verify_draw(backend: Backend) {
    let t = TestApp::start(backend).await;
    let admin = t.login("admin").await;
    let plan = make_plan(&t, &admin, "达拉特旗2026年度计划").await;
    let body =
        json!({ "count": 4, "include_key": true, "seed": "2026-12-06 体彩 12345", "due": due() });
    let record = make_draw(&t, &admin, &plan, body.clone()).await;
    assert_eq!(record.no, 1);
    assert_eq!(record.plan_id, plan.id);
    assert_eq!(record.made_by, admin.user.display_name);
    assert_eq!(record.input.seed, "2026-12-06 体彩 12345");
    assert_eq!(record.input.team_size, 2);
    // Every enterprise of the directory is a candidate; three are 重点, all taken.
    assert_eq!(record.input.candidates.len(), 14);
    assert_eq!(record.enterprises.len(), 14);
    assert_eq!(record.result.picks.len(), 7);
    assert_eq!(record.result.picks.iter().filter(|p| p.key).count(), 3);
    // The officers: the three inspectors with certificates, not the leader or the admin.
    let names: BTreeSet<&str> = record.officers.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["王建军", "李海燕", "刘晓东"]));
    assert!(record.result.picks.iter().all(|p| p.officers.len() == 2));
    assert!(record.result.short_staffed.is_empty());
    assert_eq!(draw::verify(&record.input, &record.result), Ok(()));
    assert_eq!(draw::input_hash(&record.input), record.input_hash);

    let served = t
        .get(&format!("/api/v1/draws/{}", record.id), &admin.token)
        .await;
    assert_eq!(served.status, StatusCode::OK);
    let served_record: DrawRecord = serde_json::from_slice(&served.body).unwrap();
    assert_eq!(served_record, record);

    // The same seed over the same inputs draws the same; the number goes on.
    let again = make_draw(&t, &admin, &plan, body).await;
    assert_eq!(again.no, 2);
    assert_eq!(again.result, record.result);
    // Tasks: one per pick, each of the team of its first officer.
    let detail = detail(&t, &admin, &plan).await;
    assert_eq!(detail.draws.len(), 2);
    assert_eq!(detail.tasks.len(), 14);
    let users: Vec<User> =
        serde_json::from_value(bootstrap(&t, &admin).await["roster"].clone()).unwrap();
    for task in &detail.tasks {
        let first = users.iter().find(|u| u.id == task.officers[0]).unwrap();
        assert_eq!(task.org_id, first.org_id);
        assert_eq!(task.campaign, "安全生产月");
        assert_eq!(task.approval.as_ref().unwrap().by, "王局长");
    }
    // No seed given: the server makes 32 hex characters.
    let random = make_draw(&t, &admin, &plan, json!({ "count": 1, "due": due() })).await;
    assert_eq!(random.input.seed.len(), 32);
    assert!(random.input.seed.chars().all(|c| c.is_ascii_hexdigit()));

    // The command line re-runs the served JSON, without a database.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("draw.json");
    std::fs::write(&file, &served.body).unwrap();
    let verify = |file: &std::path::Path| {
        let output = std::process::Command::new(BIN)
            .arg("verify-draw")
            .arg(file)
            .env_remove("DATABASE_URL")
            .env("ZHICHA_DATA", "/nonexistent/zhicha")
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
        )
    };
    let (code, text) = verify(&file);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("复核一致"), "{text}");
    // One officer id changed in the result: named and refused.
    let mut edited: Value = serde_json::from_slice(&served.body).unwrap();
    edited["result"]["picks"][0]["officers"][0] = json!(UserId::new());
    std::fs::write(&file, serde_json::to_vec(&edited).unwrap()).unwrap();
    let (code, text) = verify(&file);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("第 1 家单位的执法人员与记录不同"), "{text}");
    // One officer id changed in the input: its hash no longer matches.
    let mut edited: Value = serde_json::from_slice(&served.body).unwrap();
    edited["input"]["officers"][0] = json!(UserId::new());
    std::fs::write(&file, serde_json::to_vec(&edited).unwrap()).unwrap();
    let (code, text) = verify(&file);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("输入摘要不符"), "{text}");
    t.finish().await;
}

async fn a_draw_asking_for_nothing_or_too_much_is_refused(backend: Backend) {
    let t = TestApp::start(backend).await;
    let admin = t.login("admin").await;
    let inspector = t.login("inspector1").await;
    let plan = make_plan(&t, &admin, "计划").await;
    let reply = draw_reply(&t, &admin, &plan, json!({ "count": 0, "due": due() })).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid");
    assert_eq!(reply.json()["error"]["field"], "count");
    // 14 in the directory, 3 of them 重点: 11 to draw from.
    let reply = draw_reply(&t, &admin, &plan, json!({ "count": 12, "due": due() })).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid");
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("只有 11 家"), "{message}");
    // A filter with no 重点 enterprise and nothing random asked for.
    let reply = draw_reply(
        &t,
        &admin,
        &plan,
        json!({ "count": 0, "include_key": true, "filter": { "sector": "construction" }, "due": due() }),
    )
    .await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid");
    assert_eq!(reply.json()["error"]["field"], "include_key");
    // A filter narrows the candidates.
    let record = make_draw(
        &t,
        &admin,
        &plan,
        json!({ "count": 1, "filter": { "sector": "coal" }, "due": due() }),
    )
    .await;
    assert_eq!(record.filter, "行业：煤矿");
    // The coal underground mine is 重点 and not asked for: only the open-pit one is left.
    assert_eq!(record.input.candidates.len(), 1);
    assert_eq!(record.result.picks.len(), 1);
    assert!(!record.result.picks[0].key);
    draw_reply(&t, &inspector, &plan, json!({ "count": 1, "due": due() }))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    // Malformed bodies answer the one error shape, never a 5xx.
    let reply = draw_reply(&t, &admin, &plan, json!({ "count": -1 })).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_body");
    t.finish().await;
}

async fn draws_are_append_only_in_the_database(backend: Backend) {
    let t = TestApp::start(backend).await;
    let admin = t.login("admin").await;
    let plan = make_plan(&t, &admin, "计划").await;
    let record = make_draw(&t, &admin, &plan, json!({ "count": 2, "due": due() })).await;
    let mut db = t.database().await;
    let update = db
        .execute(sqlx::AssertSqlSafe(format!(
            "UPDATE draws SET record = '{{}}' WHERE id = '{}'",
            record.id
        )))
        .await;
    assert!(update.is_err(), "an update of a draw went through");
    let delete = db.execute("DELETE FROM draws").await;
    assert!(delete.is_err(), "a delete of draws went through");
    let served: DrawRecord = serde_json::from_slice(
        &t.get(&format!("/api/v1/draws/{}", record.id), &admin.token)
            .await
            .body,
    )
    .unwrap();
    assert_eq!(served, record);
    drop(db);
    t.finish().await;
}

async fn draws_made_at_once_get_different_numbers(backend: Backend) {
    let t = TestApp::start(backend).await;
    let admin = t.login("admin").await;
    let plan = make_plan(&t, &admin, "计划").await;
    let body = json!({ "count": 1, "due": due() });
    let (a, b, c, d) = tokio::join!(
        make_draw(&t, &admin, &plan, body.clone()),
        make_draw(&t, &admin, &plan, body.clone()),
        make_draw(&t, &admin, &plan, body.clone()),
        make_draw(&t, &admin, &plan, body.clone()),
    );
    let numbers: BTreeSet<u32> = [a.no, b.no, c.no, d.no].into();
    assert_eq!(numbers, BTreeSet::from([1, 2, 3, 4]));
    // The served records carry the number they were stored with.
    let detail = detail(&t, &admin, &plan).await;
    let stored: Vec<u32> = detail.draws.iter().map(|d| d.no).collect();
    assert_eq!(stored, [1, 2, 3, 4]);
    t.finish().await;
}

async fn tasks_reach_the_drawn_team_and_an_inspection_pushed_with_one_completes_it(
    backend: Backend,
) {
    let t = TestApp::start(backend).await;
    let leader = t.login("leader1").await;
    let inspector1 = t.login("inspector1").await;
    let inspector3 = t.login("inspector3").await;
    // The team's own plan draws the team's two officers only.
    let plan = make_plan(&t, &leader, "一中队计划").await;
    let record = make_draw(&t, &leader, &plan, json!({ "count": 3, "due": due() })).await;
    let team: BTreeSet<UserId> = record.input.officers.iter().copied().collect();
    assert_eq!(team.len(), 2);
    assert!(team.contains(&inspector1.user.id) && !team.contains(&inspector3.user.id));

    let tasks = bootstrap_tasks(&t, &inspector1).await;
    assert_eq!(tasks.len(), 3);
    assert!(
        tasks
            .iter()
            .all(|task| task.org_id == inspector1.user.org_id)
    );
    assert!(bootstrap_tasks(&t, &inspector3).await.is_empty());
    let bootstrap = bootstrap(&t, &inspector1).await;
    assert!(!bootstrap["caps"].as_array().unwrap().is_empty());

    let task = &tasks[0];
    let inspection = inspection_for(&inspector1, task.enterprise_id, Some(task.id));
    assert_applied(
        &t.push(
            &inspector1,
            &[inspector1.save_inspection(&inspection, None)],
        )
        .await,
    );
    let detail = detail(&t, &leader, &plan).await;
    let done = detail.tasks.iter().find(|d| d.id == task.id).unwrap();
    assert_eq!(done.inspection_id, Some(inspection.id));
    assert_eq!(detail.coverage.planned, 3);
    assert_eq!(detail.coverage.done, 1);
    assert_eq!(detail.coverage.overdue, 0);
    let rows: u32 = detail.coverage.rows.iter().map(|r| r.done).sum();
    assert_eq!(rows, 1);
    assert!(
        detail
            .coverage
            .rows
            .iter()
            .all(|r| r.team == inspector1.user.org_id && r.team_name == "综合行政执法一中队")
    );
    // Done: off the phone's list.
    let open = bootstrap_tasks(&t, &inspector1).await;
    assert_eq!(open.len(), 2);
    assert!(open.iter().all(|o| o.id != task.id));
    // A second inspection naming the same task leaves the first as the one that did it.
    let second = inspection_for(&inspector1, task.enterprise_id, Some(task.id));
    assert_applied(
        &t.push(&inspector1, &[inspector1.save_inspection(&second, None)])
            .await,
    );
    let detail = self::detail(&t, &leader, &plan).await;
    let done = detail.tasks.iter().find(|d| d.id == task.id).unwrap();
    assert_eq!(done.inspection_id, Some(inspection.id));
    let list: PlanList =
        serde_json::from_slice(&t.get("/api/v1/plans", &leader.token).await.body).unwrap();
    let summary = list.plans.iter().find(|p| p.plan.id == plan.id).unwrap();
    assert_eq!((summary.tasks, summary.done), (3, 1));
    t.finish().await;
}

async fn an_inspection_naming_another_teams_task_is_refused_alone(backend: Backend) {
    let t = TestApp::start(backend).await;
    let leader = t.login("leader1").await;
    let inspector1 = t.login("inspector1").await;
    let inspector3 = t.login("inspector3").await;
    let plan = make_plan(&t, &leader, "一中队计划").await;
    let record = make_draw(&t, &leader, &plan, json!({ "count": 2, "due": due() })).await;
    let task = &bootstrap_tasks(&t, &inspector1).await[0];
    assert_eq!(task.draw_id, record.id);

    // Team 2's inspector names team 1's task: that inspection alone is refused.
    let foreign = inspection_for(&inspector3, task.enterprise_id, Some(task.id));
    let plain = inspection_for(&inspector3, task.enterprise_id, None);
    let unknown = inspection_for(&inspector3, task.enterprise_id, Some(TaskId::new()));
    let response = t
        .push(
            &inspector3,
            &[
                inspector3.save_inspection(&foreign, None),
                inspector3.save_inspection(&plain, None),
                inspector3.save_inspection(&unknown, None),
            ],
        )
        .await;
    let statuses: Vec<AckStatus> = response.acks.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [AckStatus::Rejected, AckStatus::Applied, AckStatus::Rejected]
    );
    for ack in [&response.acks[0], &response.acks[2]] {
        let error = ack.error.as_ref().unwrap();
        assert_eq!(error.field.as_deref(), Some("entry.task_id"));
        assert!(
            error.message.contains("任务不存在或不属于本队"),
            "{error:?}"
        );
    }
    assert!(
        t.state
            .store
            .inspection(&foreign.id.to_string())
            .await
            .unwrap()
            .is_none()
    );
    // The task's own team, but another enterprise: refused too.
    let other = directory(&t, &inspector1)
        .await
        .into_iter()
        .find(|e| e.id != task.enterprise_id)
        .unwrap();
    let wrong = inspection_for(&inspector1, other.id, Some(task.id));
    let response = t
        .push(&inspector1, &[inspector1.save_inspection(&wrong, None)])
        .await;
    assert_eq!(response.acks[0].status, AckStatus::Rejected);
    assert_eq!(
        response.acks[0].error.as_ref().unwrap().field.as_deref(),
        Some("entry.task_id")
    );
    // The task's plan and draw are the stored task's: another draw's id, or a plan named
    // without a task, is refused alone.
    let mut wrong_draw = inspection_for(&inspector1, task.enterprise_id, Some(task.id));
    wrong_draw.entry.draw_id = Some(zhicha_core::ids::DrawId::new());
    let mut planless = inspection_for(&inspector1, task.enterprise_id, None);
    planless.entry.plan_id = Some(task.plan_id);
    let response = t
        .push(
            &inspector1,
            &[
                inspector1.save_inspection(&wrong_draw, None),
                inspector1.save_inspection(&planless, None),
            ],
        )
        .await;
    for ack in &response.acks {
        assert_eq!(ack.status, AckStatus::Rejected);
        assert_eq!(
            ack.error.as_ref().unwrap().field.as_deref(),
            Some("entry.plan_id")
        );
    }
    let detail = detail(&t, &leader, &plan).await;
    assert!(detail.tasks.iter().all(|d| d.inspection_id.is_none()));
    t.finish().await;
}

async fn declared_conflicts_and_last_times_officers_are_never_drawn(backend: Backend) {
    let t = TestApp::start(backend).await;
    let admin = t.login("admin").await;
    let leader = t.login("leader1").await;
    let inspector1 = t.login("inspector1").await;
    let inspector2 = t.login("inspector2").await;
    let inspector3 = t.login("inspector3").await;
    let enterprises = directory(&t, &admin).await;
    let (conflicted, visited) = (&enterprises[0], &enterprises[1]);

    let declare = |who: &Device, user: UserId, enterprise: EnterpriseId, reason: &str| {
        let body = json!({ "user_id": user, "enterprise_id": enterprise, "reason": reason });
        let token = who.token.clone();
        let t = &t;
        async move {
            t.call(Method::POST, "/api/v1/conflicts", Some(&token), Some(body))
                .await
        }
    };
    let reply = declare(
        &inspector1,
        inspector1.user.id,
        conflicted.id,
        "配偶在该单位任职",
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    // Not for a colleague, nor for someone outside the leader's team.
    declare(&inspector1, inspector2.user.id, conflicted.id, "代为登记")
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    declare(&leader, inspector3.user.id, conflicted.id, "曾在该单位工作")
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    declare(&leader, inspector2.user.id, conflicted.id, " ")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid");
    let reply = declare(&leader, inspector2.user.id, conflicted.id, "曾在该单位工作").await;
    assert_eq!(reply.status, StatusCode::CREATED);
    // An enterprise outside the directory is refused.
    let (_, foreign) = other_bureau(&t).await;
    declare(&inspector1, inspector1.user.id, foreign.id, "亲属")
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid");
    let mine = t.get("/api/v1/conflicts", &inspector1.token).await.json();
    assert_eq!(mine["conflicts"].as_array().unwrap().len(), 1);
    let all = t.get("/api/v1/conflicts", &admin.token).await.json();
    assert_eq!(all["conflicts"].as_array().unwrap().len(), 2);

    // inspector1 inspected `visited` last.
    let inspection = inspection_for(&inspector1, visited.id, None);
    assert_applied(
        &t.push(
            &inspector1,
            &[inspector1.save_inspection(&inspection, None)],
        )
        .await,
    );

    let plan = make_plan(&t, &admin, "计划").await;
    let record = make_draw(
        &t,
        &admin,
        &plan,
        json!({ "count": 11, "include_key": true, "due": due() }),
    )
    .await;
    assert_eq!(record.result.picks.len(), 14);
    let pick = |id: EnterpriseId| {
        record
            .result
            .picks
            .iter()
            .find(|p| p.enterprise_id == id)
            .unwrap()
    };
    // Both team 1 officers declared 回避: only inspector3 is left, short of a pair.
    assert_eq!(pick(conflicted.id).officers, [inspector3.user.id]);
    assert_eq!(record.result.short_staffed, [conflicted.id]);
    assert!(!pick(visited.id).officers.contains(&inspector1.user.id));
    let kinds: Vec<(UserId, EnterpriseId, draw::ExclusionKind)> = record
        .input
        .exclusions
        .iter()
        .map(|x| (x.user_id, x.enterprise_id, x.why))
        .collect();
    assert!(kinds.contains(&(
        inspector1.user.id,
        conflicted.id,
        draw::ExclusionKind::Conflict
    )));
    assert!(kinds.contains(&(
        inspector2.user.id,
        conflicted.id,
        draw::ExclusionKind::Conflict
    )));
    assert!(kinds.contains(&(
        inspector1.user.id,
        visited.id,
        draw::ExclusionKind::LastTime
    )));
    assert_eq!(draw::verify(&record.input, &record.result), Ok(()));
    t.finish().await;
}

async fn caps_are_the_defaults_until_a_bureau_edits_them(backend: Backend) {
    let t = TestApp::start(backend).await;
    let admin = t.login("admin").await;
    let leader = t.login("leader1").await;
    let inspector1 = t.login("inspector1").await;
    let inspector3 = t.login("inspector3").await;
    let caps = |who: &Device| {
        let token = who.token.clone();
        let t = &t;
        async move {
            let reply = t.get("/api/v1/caps", &token).await;
            assert_eq!(reply.status, StatusCode::OK);
            serde_json::from_slice::<CapTable>(&reply.body).unwrap()
        }
    };
    let put = |who: &Device, rules: Value| {
        let token = who.token.clone();
        let t = &t;
        async move {
            t.call(
                Method::PUT,
                "/api/v1/caps",
                Some(&token),
                Some(json!({ "rules": rules })),
            )
            .await
        }
    };
    let defaults = caps(&inspector1).await;
    assert!(!defaults.edited);
    assert_eq!(defaults.rules, default_caps());

    put(&inspector1, json!([]))
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let twice = json!([
        { "sector": "coal", "grade": "b", "per_year": 2 },
        { "sector": "coal", "grade": "b", "per_year": 3 }
    ]);
    let reply = put(&admin, twice).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "validation");
    assert_eq!(reply.json()["error"]["field"], "rules[1]");
    let reply = put(
        &admin,
        json!([{ "sector": "coal", "grade": "b", "per_year": 0 }]),
    )
    .await;
    assert_eq!(reply.json()["error"]["field"], "rules[0].per_year");
    put(
        &admin,
        json!([{ "sector": "coal", "grade": "x", "per_year": 1 }]),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_body");

    let reply = put(
        &admin,
        json!([{ "sector": "coal", "grade": "b", "per_year": 1 }]),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let bureau = [CapRule {
        sector: Sector::Coal,
        grade: Grade::B,
        per_year: 1,
    }];
    // In force below the bureau, on the phones too.
    let team1 = caps(&inspector1).await;
    assert!(team1.edited);
    assert_eq!(team1.rules, bureau);
    let carried: Vec<CapRule> =
        serde_json::from_value(bootstrap(&t, &inspector1).await["caps"].clone()).unwrap();
    assert_eq!(carried, bureau);
    // A team's own table wins for that team only.
    let reply = put(
        &leader,
        json!([{ "sector": "coal", "grade": "b", "per_year": 3 }]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(caps(&inspector1).await.rules[0].per_year, 3);
    assert_eq!(caps(&inspector3).await.rules, bureau);
    t.finish().await;
}

async fn an_enterprise_at_its_cap_is_named_in_the_coverage(backend: Backend) {
    let t = TestApp::start(backend).await;
    let admin = t.login("admin").await;
    let inspector1 = t.login("inspector1").await;
    // The underground coal mine is class B: capped at one inspection a year here.
    let reply = t
        .call(
            Method::PUT,
            "/api/v1/caps",
            Some(&admin.token),
            Some(json!({ "rules": [{ "sector": "coal", "grade": "b", "per_year": 1 }] })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let mine = by_code(&t, &inspector1, "91150621DEMO000011").await;
    assert_eq!(mine.grade, Some(Grade::B));
    assert!(mine.key);
    let plan = make_plan(&t, &admin, "计划").await;
    assert!(detail(&t, &admin, &plan).await.coverage.over_cap.is_empty());

    let inspection = inspection_for(&inspector1, mine.id, None);
    assert_applied(
        &t.push(
            &inspector1,
            &[inspector1.save_inspection(&inspection, None)],
        )
        .await,
    );
    let coverage = detail(&t, &admin, &plan).await.coverage;
    assert_eq!(coverage.over_cap.len(), 1);
    let warning = &coverage.over_cap[0];
    assert_eq!(warning.enterprise_id, mine.id);
    assert_eq!((warning.visits, warning.cap), (1, 1));
    let visits = bootstrap(&t, &inspector1).await["visits"].clone();
    assert_eq!(visits, json!([{ "enterprise_id": mine.id, "visits": 1 }]));
    t.finish().await;
}

async fn the_publication_lists_every_pick_with_its_officers(backend: Backend) {
    let t = TestApp::start(backend).await;
    let admin = t.login("admin").await;
    let leader = t.login("leader1").await;
    let plan = make_plan(&t, &admin, "达拉特旗2026年度计划").await;
    let record = make_draw(
        &t,
        &admin,
        &plan,
        json!({ "count": 2, "include_key": true, "seed": "公开种子", "filter": { "county": "达拉特旗" }, "due": due() }),
    )
    .await;
    let reply = t
        .get(
            &format!("/api/v1/draws/{}/publication.csv", record.id),
            &leader.token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "text/csv; charset=utf-8"
    );
    assert!(reply.body.starts_with("\u{feff}".as_bytes()));
    let text = std::str::from_utf8(&reply.body[3..]).unwrap();
    for expected in [
        "检查计划,达拉特旗2026年度计划",
        "抽取编号,第 1 号",
        "抽取范围,旗县：达拉特旗",
        "随机种子,公开种子",
        &format!("输入摘要（SHA-256）,{}", record.input_hash),
        "序号,单位名称,统一社会信用代码,旗县,类别,执法人员",
    ] {
        assert!(text.contains(expected), "{expected} missing from\n{text}");
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let start = rows.iter().position(|r| &r[0] == "序号").unwrap() + 1;
    let picks = &rows[start..];
    assert_eq!(picks.len(), record.result.picks.len());
    assert_eq!(picks.iter().filter(|r| &r[4] == "重点").count(), 3);
    for (row, pick) in picks.iter().zip(&record.result.picks) {
        let e = record
            .enterprises
            .iter()
            .find(|e| e.id == pick.enterprise_id)
            .unwrap();
        assert_eq!(&row[1], e.name);
        assert_eq!(Some(&row[2]), e.credit_code.as_deref());
        for officer in &pick.officers {
            let o = record.officers.iter().find(|o| o.id == *officer).unwrap();
            let named = format!("{}（{}）", o.name, o.certificate_no.as_deref().unwrap());
            assert!(row[5].contains(&named), "{:?}", row);
        }
    }
    // Another bureau sees nothing of it.
    let (other, _) = other_bureau(&t).await;
    t.get(
        &format!("/api/v1/draws/{}/publication.csv", record.id),
        &other.token,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    t.finish().await;
}

async fn the_code_is_an_svg_of_the_bureau_code(backend: Backend) {
    let t = TestApp::start(backend).await;
    let admin = t.login("admin").await;
    let inspector = t.login("inspector1").await;
    let enterprise = &directory(&t, &admin).await[0];
    let path = format!("/api/v1/enterprises/{}/code.svg", enterprise.id);
    let reply = t.get(&path, &admin.token).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "image/svg+xml; charset=utf-8"
    );
    let svg = std::str::from_utf8(&reply.body).unwrap();
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    assert!(svg.contains(&enterprise.name));
    assert!(svg.contains("<path d=\"M"));
    t.get(&path, &inspector.token)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let (other, foreign) = other_bureau(&t).await;
    t.get(
        &format!("/api/v1/enterprises/{}/code.svg", foreign.id),
        &admin.token,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    t.get(&path, &other.token)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    t.get("/api/v1/enterprises/nope/code.svg", &admin.token)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid");
    t.finish().await;
}

async fn the_ledger_and_statistics_filter_by_campaign(backend: Backend) {
    let t = TestApp::start(backend).await;
    let leader = t.login("leader1").await;
    let inspector = t.login("inspector1").await;
    let enterprise = t.some_enterprise(&inspector).await;
    let mut ids = Vec::new();
    for campaign in ["安全生产月", ""] {
        let mut inspection = inspection_for(&inspector, enterprise, None);
        inspection.entry.campaign = campaign.to_owned();
        let finding = inspector.finding(&inspection);
        ids.push(finding.id);
        let response = t
            .push(
                &inspector,
                &[
                    inspector.save_inspection(&inspection, None),
                    inspector.save_finding(&finding, None),
                    inspector.mutation(
                        finding.id.0,
                        Some(1),
                        &MutationPayload::FindingSubmit(CommentPayload::default()),
                    ),
                ],
            )
            .await;
        assert_applied(&response);
    }
    let page = t
        .get(
            "/api/v1/findings?campaign=%E5%AE%89%E5%85%A8%E7%94%9F%E4%BA%A7%E6%9C%88",
            &leader.token,
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&page.body)
    );
    let rows = page.json()["rows"].clone();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["id"], json!(ids[0]));
    let all = t.get("/api/v1/findings", &leader.token).await.json();
    assert_eq!(all["rows"].as_array().unwrap().len(), 2);
    let none = t
        .get("/api/v1/findings?campaign=nothing", &leader.token)
        .await
        .json();
    assert!(none["rows"].as_array().unwrap().is_empty());

    let stats = t
        .get(
            "/api/v1/stats?campaign=%E5%AE%89%E5%85%A8%E7%94%9F%E4%BA%A7%E6%9C%88",
            &leader.token,
        )
        .await
        .json();
    assert_eq!(stats["total"], 1, "{stats}");
    let stats = t
        .get("/api/v1/stats?campaign=nothing", &leader.token)
        .await
        .json();
    assert_eq!(stats["total"], 0, "{stats}");
    assert!(
        stats["by_inspector"].as_array().unwrap().is_empty(),
        "{stats}"
    );

    let csv = t
        .get(
            "/api/v1/ledger.csv?campaign=%E5%AE%89%E5%85%A8%E7%94%9F%E4%BA%A7%E6%9C%88",
            &leader.token,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(&csv.body[3..]);
    assert_eq!(reader.records().count(), 1);
    t.finish().await;
}

/// 重点 and the class come from the directory's import: an inspector's on-site entry pushed
/// with them is stored without (it would otherwise be drawn as 重点 and capped as its class).
async fn a_phone_cannot_make_its_own_entry_key_or_graded(backend: Backend) {
    let t = TestApp::start(backend).await;
    let inspector = t.login("inspector1").await;
    let mut on_site = directory(&t, &inspector).await[0].clone();
    on_site.id = EnterpriseId::new();
    on_site.org_id = inspector.user.org_id;
    on_site.name = "现场发现的无证作坊".to_owned();
    on_site.credit_code = None;
    on_site.ad_hoc = true;
    on_site.merged_into = None;
    on_site.key = true;
    on_site.grade = Some(Grade::A);
    let save = inspector.mutation(
        on_site.id.0,
        None,
        &MutationPayload::EnterpriseSave(Box::new(on_site.clone())),
    );
    assert_applied(&t.push(&inspector, &[save]).await);
    let stored = directory(&t, &inspector)
        .await
        .into_iter()
        .find(|e| e.id == on_site.id)
        .expect("the on-site entry is in the directory");
    assert!(!stored.key);
    assert_eq!(stored.grade, None);
    t.finish().await;
}
