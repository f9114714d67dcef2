//! Cases on the phone (#23): a 预立案 with its 询问笔录 is refused without the person's signature
//! or the refusal, then kept offline with its `case.save`; a case pulled from the server shows
//! its number and clocks, an inspector is not offered the leader's acts, and an act is checked
//! offline and queued as `case.act`.

use chrono::Utc;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::HtmlElement;
use zhicha::pages::Page;
use zhicha::state;
use zhicha_core::case::{Case, CaseAct, CaseState, Stage};
use zhicha_core::model::{FindingStatus, Inspection, User};
use zhicha_core::protocol::{Change, EntityKind, MutationKind, MutationPayload};

use crate::fixtures;
use crate::screens::{document, find, open_app, sleep, wait_text};

/// Sets a field's value and fires `input`, as typing does.
fn type_text(el: &HtmlElement, value: &str) {
    if let Some(input) = el.dyn_ref::<web_sys::HtmlInputElement>() {
        input.set_value(value);
    } else if let Some(area) = el.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        area.set_value(value);
    }
    el.dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

/// A signed-in inspector with an inspection of his team (he and a colleague) and one finding.
async fn visit(name: &str) -> (User, Inspection) {
    let db = state::db().await.expect("database");
    let user = fixtures::inspector(name, "郑强", "15062301", None);
    fixtures::sign_in(&user).await;
    let mut enterprise = fixtures::enterprise();
    enterprise.org_id = user.org_id;
    enterprise.name = "案件测试煤矿".to_owned();
    db.put_enterprises(std::slice::from_ref(&enterprise))
        .await
        .unwrap();
    let mut inspection = fixtures::inspection(&enterprise);
    inspection.created_by = user.id;
    inspection.inspectors[0].user_id = user.id;
    db.save_inspection(&inspection).await.unwrap();
    let finding = fixtures::finding(&inspection, FindingStatus::Submitted);
    db.save_finding(&finding, &[]).await.unwrap();
    (user, inspection)
}

async fn queued(entity: uuid::Uuid, kind: MutationKind) -> Vec<MutationPayload> {
    let db = state::db().await.unwrap();
    db.outbox(10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.mutation.entity_id == entity && r.mutation.kind == kind)
        .map(|r| r.mutation.decode().unwrap())
        .collect()
}

#[wasm_bindgen_test]
async fn a_pre_filing_needs_the_signature_or_the_refusal_and_is_kept_offline() {
    let (_, inspection) = visit("case-prefile").await;
    let app = open_app(&Page::PreFile(inspection.id).path());
    wait_text("询问笔录", true).await;
    // The facts start from the finding; the party from the enterprise.
    let facts: web_sys::HtmlTextAreaElement =
        find("[data-testid=case-facts]").await.dyn_into().unwrap();
    assert!(
        facts.value().contains("瓦斯检查记录不全"),
        "{}",
        facts.value()
    );
    let party: web_sys::HtmlInputElement =
        find("[data-testid=case-party]").await.dyn_into().unwrap();
    assert_eq!(party.value(), "案件测试煤矿");
    type_text(&find("[data-testid=interview-person]").await, "张三");
    let answer = find("ol.qa > li:nth-child(3) [data-testid=qa-answer]").await;
    type_text(&answer, "当班瓦斯检查员请假。");

    // Neither signed nor refused: refused in words, nothing stored.
    find("[data-testid=case-save]").await.click();
    wait_text("须由被询问人签名，或记录其拒绝签名的情况及见证人", true).await;
    let db = state::db().await.unwrap();
    assert!(
        db.cases_of_inspection(inspection.id)
            .await
            .unwrap()
            .is_empty()
    );

    find("[data-testid=interview-refuse]").await.click();
    type_text(
        &find("[data-testid=interview-refusal]").await,
        "被询问人拒绝签名，见证人 周六（村委会主任）",
    );
    find("[data-testid=case-save]").await.click();
    wait_text("预立案（待立案审批）", true).await;
    let cases = db.cases_of_inspection(inspection.id).await.unwrap();
    assert_eq!(cases.len(), 1);
    let case = &cases[0];
    assert_eq!(case.state.stage(), Stage::PreFiled);
    assert_eq!(case.officers.len(), 2);
    assert_eq!(case.interviews[0].person, "张三");
    // The template's questions left unanswered are not in the record.
    let answers = &case.interviews[0].answers;
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert!(answers[0].question.contains("有什么要说明"), "{answers:?}");
    assert_eq!(answers[0].answer, "当班瓦斯检查员请假。");
    assert!(
        case.interviews[0]
            .refusal
            .as_deref()
            .unwrap()
            .contains("周六")
    );
    let saves = queued(case.id.0, MutationKind::CaseSave).await;
    assert_eq!(
        saves,
        vec![MutationPayload::CaseSave(Box::new(case.clone()))]
    );
    // 立案 is a leader's: an inspector is not offered it.
    assert!(
        document()
            .query_selector("[data-testid=act-approve]")
            .unwrap()
            .is_none()
    );
    drop(app);
}

#[wasm_bindgen_test]
async fn a_pulled_case_shows_its_number_and_clocks_and_an_act_is_checked_and_queued() {
    let (user, inspection) = visit("case-pulled").await;
    let today = zhicha_core::time::china_date(Utc::now());
    let case = Case {
        id: zhicha_core::ids::CaseId::new(),
        org_id: inspection.org_id,
        enterprise_id: inspection.enterprise_id,
        inspection_id: Some(inspection.id),
        finding_ids: vec![],
        source: Default::default(),
        party: zhicha_core::case::Party::Organisation,
        party_name: "案件测试煤矿".to_owned(),
        facts: "瓦斯检查记录不全".to_owned(),
        provisions: String::new(),
        proposal: String::new(),
        officers: vec![user.id, inspection.inspectors[1].user_id],
        interviews: vec![],
        created_by: user.id,
        created_at: Utc::now(),
        state: CaseState {
            stage: Some(Stage::Filed),
            number: Some("达旗应急立〔2026〕9号".to_owned()),
            filed_on: Some(today),
            ..CaseState::default()
        },
        history: vec![],
        decision: None,
        delivery: None,
        preserved: vec![],
    };
    let db = state::db().await.unwrap();
    let change = Change {
        entity: EntityKind::Case,
        id: case.id.0,
        rev: 2,
        data: Some(serde_json::to_value(&case).unwrap()),
        deleted: false,
    };
    db.apply_pulled(&[change], "c:1").await.unwrap();

    let app = open_app(&Page::Case(case.id).path());
    wait_text("达旗应急立〔2026〕9号", true).await;
    wait_text("作出处罚决定（立案后90日）", true).await;
    let due = (today + chrono::Days::new(90))
        .format("%Y-%m-%d")
        .to_string();
    wait_text(&due, true).await;
    wait_text("达旗应急立〔2026〕9号", true).await;
    // 撤销 is a leader's; an inspector records the 告知书's delivery.
    assert!(
        document()
            .query_selector("[data-testid=act-drop]")
            .unwrap()
            .is_none()
    );
    // A notice states the penalty proposed: refused offline without it.
    find("[data-testid=act-notify]").await.click();
    wait_text("请填写拟作出的行政处罚", true).await;
    type_text(
        &find("[data-testid=act-proposal]").await,
        "罚款人民币贰万元",
    );
    // A date before 立案 is refused offline, by the same rule the server applies.
    let date = find("[data-testid=act-date]").await;
    type_text(&date, &(today - chrono::Days::new(3)).to_string());
    find("[data-testid=act-notify]").await.click();
    wait_text("告知日期不能早于前一环节", true).await;
    assert!(queued(case.id.0, MutationKind::CaseAct).await.is_empty());
    type_text(&date, &today.to_string());
    find("[data-testid=act-notify]").await.click();
    wait_text("已提交，将自动同步到服务器", true).await;
    sleep(50).await;
    assert_eq!(
        queued(case.id.0, MutationKind::CaseAct).await,
        vec![MutationPayload::CaseAct(Box::new(CaseAct::Notify {
            on: today,
            proposal: "罚款人民币贰万元".to_owned(),
        }))]
    );
    drop(app);

    // The documents of the case, offline: the 立案审批表 under the case's number.
    let app = open_app(&Page::CaseDocuments(case.id).path());
    let sheet = find("[data-testid=case-document][data-title=立案审批表]").await;
    assert!(
        sheet.inner_text().contains("达旗应急立〔2026〕9号"),
        "{}",
        sheet.inner_text()
    );
    wait_text("条文待核", true).await;
    drop(app);
}

#[wasm_bindgen_test]
async fn a_preservation_is_refused_without_its_approval_and_queued_with_it() {
    let (user, inspection) = visit("case-preserve").await;
    let case = Case {
        id: zhicha_core::ids::CaseId::new(),
        org_id: inspection.org_id,
        enterprise_id: inspection.enterprise_id,
        inspection_id: Some(inspection.id),
        finding_ids: vec![],
        source: Default::default(),
        party: zhicha_core::case::Party::Organisation,
        party_name: "案件测试煤矿".to_owned(),
        facts: "瓦斯检查记录不全".to_owned(),
        provisions: String::new(),
        proposal: String::new(),
        officers: vec![user.id, inspection.inspectors[1].user_id],
        interviews: vec![],
        created_by: user.id,
        created_at: Utc::now(),
        state: CaseState::pre_filed(),
        history: vec![],
        decision: None,
        delivery: None,
        preserved: vec![],
    };
    let db = state::db().await.unwrap();
    db.save_case(&case).await.unwrap();
    let app = open_app(&Page::Case(case.id).path());
    find("[data-testid=case-preserve] summary").await.click();
    type_text(
        &find("[data-testid=preserve-items]").await,
        "瓦斯检查记录本 3 本，存放于调度室",
    );
    find("[data-testid=act-preserve]").await.click();
    wait_text("先行登记保存须经行政机关负责人批准", true).await;
    assert!(queued(case.id.0, MutationKind::CaseAct).await.is_empty());
    type_text(&find("[data-testid=preserve-approver]").await, "赵志刚");
    find("[data-testid=act-preserve]").await.click();
    wait_text("已提交，将自动同步到服务器", true).await;
    sleep(50).await;
    let today = zhicha_core::time::china_date(Utc::now());
    assert_eq!(
        queued(case.id.0, MutationKind::CaseAct).await,
        vec![MutationPayload::CaseAct(Box::new(CaseAct::Preserve {
            on: today,
            items: "瓦斯检查记录本 3 本，存放于调度室".to_owned(),
            approved_by: "赵志刚".to_owned(),
        }))]
    );
    drop(app);
}
