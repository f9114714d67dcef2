//! Cases (issue #23), on SQLite and PostgreSQL: a 预立案 pushed from a phone with its 询问笔录,
//! moved by acts to 结案 with the number given at 立案审批; numbers that approvals at once never
//! share; who may see and move a case, decided from the stored records; acts the law refuses,
//! each refused alone.

mod common;

use std::collections::BTreeSet;

use axum::http::StatusCode;
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{Datelike, Days, Utc};
use zhicha_core::case::{
    Case, CaseAct, CaseList, CaseSource, CaseState, CaseView, DeliveryMethod, Interview, Party,
    QuestionAnswer, Stage,
};
use zhicha_core::ids::{CaseId, UserId};
use zhicha_core::model::{Finding, Inspection};
use zhicha_core::protocol::{AckStatus, CommentPayload, MutationPayload, PushResponse};

use common::{Backend, Device, TestApp, assert_applied, recorded};

on_both_backends!(
    a_case_runs_from_a_phones_pre_filing_to_closing,
    approvals_at_once_never_share_a_number,
    a_case_is_seen_and_moved_only_within_its_team_or_scope,
    acts_the_law_refuses_are_refused_alone,
    rates_count_the_cases_and_penalties_of_each_teams_inspections,
);

fn today() -> chrono::NaiveDate {
    zhicha_core::time::china_date(Utc::now())
}

fn pre_filing(
    device: &Device,
    partner: UserId,
    inspection: &Inspection,
    finding: &Finding,
) -> Case {
    Case {
        id: CaseId::new(),
        // What the server takes from the stored inspection, whatever the phone says.
        org_id: zhicha_core::ids::OrgId::new(),
        enterprise_id: zhicha_core::ids::EnterpriseId::new(),
        inspection_id: Some(inspection.id),
        finding_ids: vec![finding.id],
        source: CaseSource::Inspection,
        party: Party::Organisation,
        party_name: "某某化工有限公司".to_owned(),
        facts: "安全出口被货物堵塞".to_owned(),
        provisions: String::new(),
        proposal: String::new(),
        officers: vec![device.user.id, partner],
        interviews: vec![Interview {
            person: "张三".to_owned(),
            position: "安全主管".to_owned(),
            started_at: Utc::now(),
            ended_at: None,
            place: "二层仓库".to_owned(),
            answers: vec![QuestionAnswer {
                question: "出口为何堵塞？".to_owned(),
                answer: "临时堆放。".to_owned(),
            }],
            signature: None,
            refusal: Some("拒绝签名，见证人 李四".to_owned()),
        }],
        created_by: UserId::new(),
        created_at: Utc::now(),
        // A phone cannot skip 立案 by saying so.
        state: CaseState {
            stage: Some(Stage::Filed),
            number: Some("伪造〔2026〕1号".to_owned()),
            ..CaseState::default()
        },
        history: vec![],
        decision: None,
        delivery: None,
        preserved: vec![],
    }
}

fn save(device: &Device, case: &Case) -> zhicha_core::protocol::Mutation {
    device.mutation(
        case.id.0,
        None,
        &MutationPayload::CaseSave(Box::new(case.clone())),
    )
}

fn act(device: &Device, case: &Case, act: CaseAct) -> zhicha_core::protocol::Mutation {
    device.mutation(case.id.0, None, &MutationPayload::CaseAct(Box::new(act)))
}

async fn pre_filed(t: &TestApp, device: &Device) -> Case {
    let (inspection, finding) = recorded(t, device).await;
    let partner = t.login("inspector2").await.user.id;
    let case = pre_filing(device, partner, &inspection, &finding);
    assert_applied(&t.push(device, &[save(device, &case)]).await);
    case
}

async fn view(t: &TestApp, who: &Device, case: &Case) -> CaseView {
    let reply = t
        .get(&format!("/api/v1/cases/{}", case.id), &who.token)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    serde_json::from_slice(&reply.body).unwrap()
}

fn rejected(response: &PushResponse, index: usize) -> String {
    let ack = &response.acks[index];
    assert_eq!(ack.status, AckStatus::Rejected, "{response:?}");
    ack.error.as_ref().unwrap().message.clone()
}

async fn a_case_runs_from_a_phones_pre_filing_to_closing(backend: Backend) {
    let t = TestApp::start(backend).await;
    let inspector = t.login("inspector1").await;
    let partner = t.login("inspector2").await.user.id;
    let leader = t.login("leader1").await;
    let (inspection, finding) = recorded(&t, &inspector).await;
    let case = pre_filing(&inspector, partner, &inspection, &finding);
    assert_applied(&t.push(&inspector, &[save(&inspector, &case)]).await);

    let stored = view(&t, &leader, &case).await;
    assert_eq!(stored.case.state.stage(), Stage::PreFiled);
    assert_eq!(stored.case.state.number, None);
    assert_eq!(stored.case.org_id, inspection.org_id);
    assert_eq!(stored.case.enterprise_id, inspection.enterprise_id);
    assert_eq!(stored.case.created_by, inspector.user.id);
    assert!(!stored.enterprise_name.is_empty());
    assert_eq!(stored.case.interviews[0].answers[0].answer, "临时堆放。");

    // 立案 is the leader's.
    let day = today();
    let response = t
        .push(
            &inspector,
            &[act(&inspector, &case, CaseAct::ApproveFiling { on: day })],
        )
        .await;
    assert_eq!(rejected(&response, 0), "立案须经负责人审批");
    assert_applied(
        &t.push(
            &leader,
            &[act(&leader, &case, CaseAct::ApproveFiling { on: day })],
        )
        .await,
    );
    let filed = view(&t, &leader, &case).await;
    let number = format!("达旗应急立〔{}〕1号", day.year());
    assert_eq!(filed.case.state.number.as_deref(), Some(number.as_str()));
    assert_eq!(filed.case.state.filed_on, Some(day));
    assert_eq!(filed.case.history[0].by_name, leader.user.display_name);
    // The decision clock runs 90 days from 立案.
    let decision = filed
        .clocks
        .iter()
        .find(|c| c.kind == zhicha_core::case::ClockKind::Decision)
        .unwrap();
    assert_eq!(decision.due, day + Days::new(90));
    assert!(!decision.overdue);

    // A pre-filing can no longer be rewritten from the phone.
    let response = t.push(&inspector, &[save(&inspector, &case)]).await;
    assert!(rejected(&response, 0).contains("不能再修改"));

    let steps = [
        (
            &inspector,
            CaseAct::Notify {
                on: day,
                proposal: "罚款人民币一万元".to_owned(),
            },
        ),
        (
            &inspector,
            CaseAct::Hear {
                on: day,
                statement: "当事人书面放弃陈述申辩".to_owned(),
            },
        ),
        (
            &leader,
            CaseAct::Decide {
                on: day,
                provisions: "《中华人民共和国消防法》第二十八条".to_owned(),
                basis: "《中华人民共和国消防法》第六十条；裁量：一般".to_owned(),
                fine_yuan: 10_000,
            },
        ),
        (
            &inspector,
            CaseAct::Serve {
                on: day,
                method: DeliveryMethod::InPerson,
                recipient: "张三".to_owned(),
                witness: String::new(),
            },
        ),
        (
            &inspector,
            CaseAct::Pay {
                on: day,
                yuan: 10_000,
            },
        ),
        (&leader, CaseAct::Close { on: day }),
    ];
    for (who, step) in steps {
        assert_applied(&t.push(who, &[act(who, &case, step)]).await);
    }
    let closed = view(&t, &inspector, &case).await;
    assert_eq!(closed.case.state.stage(), Stage::Closed);
    assert_eq!(closed.case.state.paid_yuan, 10_000);
    assert_eq!(closed.case.history.len(), 7);
    assert_eq!(closed.case.decision.as_ref().unwrap().fine_yuan, 10_000);
    assert_eq!(closed.case.delivery.as_ref().unwrap().recipient, "张三");
    assert!(closed.clocks.is_empty());
    assert_eq!(closed.rev, 8);

    // The team's phones pull it; every write is kept as a revision and an event.
    let pulled = t.pull_all(&inspector, 100).await;
    let change = pulled
        .iter()
        .find(|c| c["entity"] == "case" && c["id"] == case.id.to_string())
        .expect("the case is pulled");
    assert_eq!(change["data"]["state"]["number"], number.as_str());
    let mut db = t.database().await;
    let revisions: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM revisions WHERE entity = 'case' AND entity_id = $1",
    )
    .bind(case.id.to_string())
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(revisions, 7);
    t.finish().await;
}

async fn approvals_at_once_never_share_a_number(backend: Backend) {
    let t = TestApp::start(backend).await;
    let inspector = t.login("inspector1").await;
    let mut cases = Vec::new();
    for _ in 0..5 {
        cases.push(pre_filed(&t, &inspector).await);
    }
    // Five leader devices approve at the same moment.
    let mut leaders = Vec::new();
    for _ in 0..5 {
        leaders.push(t.login("leader1").await);
    }
    let day = today();
    let app = &t;
    let pushes = leaders.iter().zip(&cases).map(|(leader, case)| {
        let mutation = act(leader, case, CaseAct::ApproveFiling { on: day });
        async move { app.push(leader, &[mutation]).await }
    });
    for response in futures_util::future::join_all(pushes).await {
        assert_applied(&response);
    }
    let reply = t.get("/api/v1/cases", &leaders[0].token).await;
    assert_eq!(reply.status, StatusCode::OK);
    let list: CaseList = serde_json::from_slice(&reply.body).unwrap();
    let numbers: BTreeSet<String> = list
        .cases
        .iter()
        .filter_map(|c| c.case.state.number.clone())
        .collect();
    let expected: BTreeSet<String> = (1..=5)
        .map(|m| format!("达旗应急立〔{}〕{m}号", day.year()))
        .collect();
    assert_eq!(numbers, expected);
    t.finish().await;
}

async fn a_case_is_seen_and_moved_only_within_its_team_or_scope(backend: Backend) {
    let t = TestApp::start(backend).await;
    let inspector = t.login("inspector1").await;
    let partner = t.login("inspector2").await.user.id;
    let other_team = t.login("inspector3").await;
    let case = pre_filed(&t, &inspector).await;

    // Another team neither sees it nor moves it.
    let reply = t
        .get(&format!("/api/v1/cases/{}", case.id), &other_team.token)
        .await;
    reply.assert_error(StatusCode::NOT_FOUND, "not_found");
    let reply = t.get("/api/v1/cases", &other_team.token).await;
    let list: CaseList = serde_json::from_slice(&reply.body).unwrap();
    assert!(list.cases.iter().all(|c| c.case.id != case.id));
    let response = t
        .push(
            &other_team,
            &[act(
                &other_team,
                &case,
                CaseAct::Notify {
                    on: today(),
                    proposal: "罚款".to_owned(),
                },
            )],
        )
        .await;
    assert!(rejected(&response, 0).contains("不属于"));

    // Nor files a case on an inspection of another team, or rewrites this one.
    let (inspection, finding) = recorded(&t, &inspector).await;
    let theirs = pre_filing(&other_team, partner, &inspection, &finding);
    let mut rewritten = case.clone();
    rewritten.facts = "改写".to_owned();
    let response = t
        .push(
            &other_team,
            &[save(&other_team, &theirs), save(&other_team, &rewritten)],
        )
        .await;
    assert!(rejected(&response, 0).contains("不属于"));
    assert!(rejected(&response, 1).contains("不属于"));
    assert_eq!(view(&t, &inspector, &case).await.case.facts, case.facts);

    // A case naming a finding of another inspection is refused; the team's own list holds its
    // case.
    let (_, elsewhere) = recorded(&t, &inspector).await;
    let mut mixed = pre_filing(&inspector, partner, &inspection, &finding);
    mixed.finding_ids.push(elsewhere.id);
    let response = t.push(&inspector, &[save(&inspector, &mixed)]).await;
    assert!(rejected(&response, 0).contains("不属于该次检查"));
    // Officers are accounts of the bureau, not any id a phone names.
    let stranger = pre_filing(&inspector, UserId::new(), &inspection, &finding);
    let response = t.push(&inspector, &[save(&inspector, &stranger)]).await;
    assert!(rejected(&response, 0).contains("本局执法人员"));
    let reply = t.get("/api/v1/cases", &inspector.token).await;
    let list: CaseList = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(list.cases.len(), 1);
    t.finish().await;
}

async fn acts_the_law_refuses_are_refused_alone(backend: Backend) {
    let t = TestApp::start(backend).await;
    let inspector = t.login("inspector1").await;
    let first = pre_filed(&t, &inspector).await;
    let second = pre_filed(&t, &inspector).await;
    let day = today();
    let response = t
        .push(
            &inspector,
            &[
                // Above ¥3,000 an organisation is not fined on the spot.
                act(
                    &inspector,
                    &first,
                    CaseAct::DecideOnSite {
                        on: day,
                        provisions: "p".to_owned(),
                        basis: "b".to_owned(),
                        fine_yuan: 5_000,
                    },
                ),
                // No decision before 告知 and 陈述申辩.
                act(
                    &inspector,
                    &second,
                    CaseAct::Notify {
                        on: day,
                        proposal: "罚款".to_owned(),
                    },
                ),
                act(
                    &inspector,
                    &second,
                    CaseAct::DecideOnSite {
                        on: day,
                        provisions: "《安全生产法》第四十一条".to_owned(),
                        basis: "当场处罚".to_owned(),
                        fine_yuan: 2_000,
                    },
                ),
            ],
        )
        .await;
    assert!(rejected(&response, 0).contains("3000"));
    assert!(rejected(&response, 1).contains("立案后"));
    assert_eq!(response.acks[2].status, AckStatus::Applied, "{response:?}");
    let decided = view(&t, &inspector, &second).await;
    assert_eq!(decided.case.state.stage(), Stage::Decided);
    assert!(decided.case.state.on_site);
    // The delivery clock runs, counting working days and saying the holidays were not entered.
    let delivery = &decided.clocks[0];
    assert_eq!(delivery.kind, zhicha_core::case::ClockKind::Delivery);
    assert!(delivery.holidays_unchecked);
    assert_eq!(
        view(&t, &inspector, &first).await.case.state.stage(),
        Stage::PreFiled
    );

    // 先行登记保存 needs its approval; once recorded its 7-working-day clock runs until decided.
    let preserve = |approved_by: &str| CaseAct::Preserve {
        on: day,
        items: "瓦斯检查记录本 3 本".to_owned(),
        approved_by: approved_by.to_owned(),
    };
    let response = t
        .push(
            &inspector,
            &[
                act(&inspector, &first, preserve("")),
                act(&inspector, &first, preserve("赵志刚")),
            ],
        )
        .await;
    assert!(rejected(&response, 0).contains("第五十六条"));
    assert_eq!(response.acks[1].status, AckStatus::Applied, "{response:?}");
    let preserved = view(&t, &inspector, &first).await;
    assert_eq!(preserved.case.state.stage(), Stage::PreFiled);
    let clock = preserved
        .clocks
        .iter()
        .find(|c| c.kind == zhicha_core::case::ClockKind::Preservation)
        .expect("the preservation clock runs");
    assert!(clock.holidays_unchecked);
    let decide = CaseAct::DecidePreservation {
        on: day,
        decision: "解除登记保存".to_owned(),
    };
    assert_applied(&t.push(&inspector, &[act(&inspector, &first, decide)]).await);
    let decided = view(&t, &inspector, &first).await;
    assert!(
        decided
            .clocks
            .iter()
            .all(|c| c.kind != zhicha_core::case::ClockKind::Preservation)
    );
    t.finish().await;
}

/// An inspection of `device`'s team in `campaign` with one submitted finding.
async fn campaign_inspection(
    t: &TestApp,
    device: &Device,
    campaign: &str,
) -> (Inspection, Finding) {
    let mut inspection = device.inspection(t.some_enterprise(device).await);
    inspection.entry.campaign = campaign.to_owned();
    let finding = device.finding(&inspection);
    let submit = MutationPayload::FindingSubmit(CommentPayload::default());
    assert_applied(
        &t.push(
            device,
            &[
                device.save_inspection(&inspection, None),
                device.save_finding(&finding, None),
                device.mutation(finding.id.0, Some(1), &submit),
            ],
        )
        .await,
    );
    (inspection, finding)
}

async fn rates_count_the_cases_and_penalties_of_each_teams_inspections(backend: Backend) {
    let t = TestApp::start(backend).await;
    let inspector = t.login("inspector1").await;
    let partner = t.login("inspector2").await.user.id;
    let other_team = t.login("inspector3").await;
    let leader = t.login("leader1").await;
    let admin = t.login("admin").await;
    const CAMPAIGN: &str = "立案率统计";
    let day = today();

    // Team 1: three inspections; one case filed and fined on the spot, one filed and not (yet)
    // decided, one still 预立案 (not counted).
    let mut cases = Vec::new();
    for _ in 0..3 {
        let (inspection, finding) = campaign_inspection(&t, &inspector, CAMPAIGN).await;
        let case = pre_filing(&inspector, partner, &inspection, &finding);
        assert_applied(&t.push(&inspector, &[save(&inspector, &case)]).await);
        cases.push(case);
    }
    assert_applied(
        &t.push(
            &inspector,
            &[act(
                &inspector,
                &cases[0],
                CaseAct::DecideOnSite {
                    on: day,
                    provisions: "《安全生产法》第四十一条".to_owned(),
                    basis: "当场处罚".to_owned(),
                    fine_yuan: 2_000,
                },
            )],
        )
        .await,
    );
    assert_applied(
        &t.push(
            &leader,
            &[act(&leader, &cases[1], CaseAct::ApproveFiling { on: day })],
        )
        .await,
    );
    // Team 2: one inspection, no case: 零处罚.
    campaign_inspection(&t, &other_team, CAMPAIGN).await;
    // Outside the campaign: not counted.
    let (outside, finding) = recorded(&t, &inspector).await;
    let case = pre_filing(&inspector, partner, &outside, &finding);
    assert_applied(&t.push(&inspector, &[save(&inspector, &case)]).await);
    assert_applied(
        &t.push(
            &leader,
            &[act(&leader, &case, CaseAct::ApproveFiling { on: day })],
        )
        .await,
    );

    let query = "/api/v1/stats?campaign=%E7%AB%8B%E6%A1%88%E7%8E%87%E7%BB%9F%E8%AE%A1";
    let reply = t.get(query, &admin.token).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let stats: zhicha_core::ledger::StatsResponse = serde_json::from_slice(&reply.body).unwrap();
    let team = |org| stats.by_team.iter().find(|t| t.org_id == org).unwrap();
    let ours = team(inspector.user.org_id);
    assert_eq!(
        (ours.inspections, ours.findings, ours.cases, ours.penalties),
        (3, 3, 2, 1),
        "{ours:?}"
    );
    assert_eq!(ours.finding_rate(), Some(1.0));
    assert!((ours.case_rate().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert!(!ours.zero_penalties());
    let theirs = team(other_team.user.org_id);
    assert_eq!(
        (theirs.inspections, theirs.cases, theirs.penalties),
        (1, 0, 0)
    );
    assert!(theirs.zero_penalties());
    assert!(!theirs.name.is_empty());
    let person = stats
        .by_inspector
        .iter()
        .find(|p| p.user_id == inspector.user.id)
        .unwrap();
    assert_eq!(
        (person.inspections, person.cases, person.penalties),
        (3, 2, 1)
    );

    // The same figures as a workbook.
    let reply = t
        .get(&query.replace("/stats?", "/stats.xlsx?"), &admin.token)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let mut book: Xlsx<_> =
        open_workbook_from_rs(std::io::Cursor::new(reply.body.to_vec())).unwrap();
    let sheet = book.worksheet_range("执法效能").unwrap();
    let row = (1..sheet.height() as u32)
        .find(|r| sheet.get_value((*r, 0)).map(|d| d.to_string()) == Some(ours.name.clone()))
        .expect("the team's row");
    let cell = |c: u32| sheet.get_value((row, c)).cloned().unwrap_or(Data::Empty);
    assert_eq!(cell(1), Data::Float(3.0));
    assert_eq!(cell(5), Data::Float(2.0));
    assert_eq!(cell(7), Data::Float(1.0));
    let theirs_row = (1..sheet.height() as u32)
        .find(|r| sheet.get_value((*r, 0)).map(|d| d.to_string()) == Some(theirs.name.clone()))
        .expect("the other team's row");
    assert_eq!(
        sheet
            .get_value((theirs_row, 9))
            .map(|d| d.to_string())
            .as_deref(),
        Some("是"),
        "零处罚 marked"
    );
    let people = book.worksheet_range("执法人员").unwrap();
    assert!(people.height() > 1);

    // A leader sees only their scope's teams.
    let reply = t.get(query, &leader.token).await;
    let stats: zhicha_core::ledger::StatsResponse = serde_json::from_slice(&reply.body).unwrap();
    assert!(
        stats
            .by_team
            .iter()
            .all(|t| t.org_id != other_team.user.org_id)
    );
    t.finish().await;
}
