use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::case::{Calendar, ClockKind};
use crate::ids::{CaseId, EnterpriseId, FindingId, InspectionId, OrgId, UserId};
use crate::model::Role;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn interview() -> Interview {
    Interview {
        person: "张三".into(),
        position: "安全矿长".into(),
        started_at: Utc.with_ymd_and_hms(2026, 12, 7, 2, 0, 0).unwrap(),
        ended_at: None,
        place: "调度室".into(),
        answers: vec![QuestionAnswer {
            question: "瓦斯检查员为何不在岗？".into(),
            answer: "当班请假。".into(),
        }],
        signature: None,
        refusal: Some("被询问人拒绝签名，见证人 李四（村委会）".into()),
    }
}

fn pre_filed() -> Case {
    Case {
        id: CaseId::new(),
        org_id: OrgId::new(),
        enterprise_id: EnterpriseId::new(),
        inspection_id: Some(InspectionId::new()),
        finding_ids: vec![FindingId::new()],
        source: CaseSource::Inspection,
        party: Party::Organisation,
        party_name: "某煤业有限公司".into(),
        facts: "未按规定配备瓦斯检查员".into(),
        provisions: String::new(),
        proposal: String::new(),
        officers: vec![UserId::new(), UserId::new()],
        interviews: vec![interview()],
        created_by: UserId::new(),
        created_at: Utc.with_ymd_and_hms(2026, 12, 7, 3, 0, 0).unwrap(),
        state: CaseState::pre_filed(),
        history: Vec::new(),
        decision: None,
        delivery: None,
        preserved: vec![],
    }
}

fn leader() -> Actor {
    Actor {
        id: UserId::new(),
        name: "赵志刚".into(),
        role: Role::Leader,
    }
}

fn inspector() -> Actor {
    Actor {
        id: UserId::new(),
        name: "王建军".into(),
        role: Role::Inspector,
    }
}

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 8, 1, 0, 0).unwrap()
}

#[test]
fn a_pre_filing_needs_a_party_facts_two_officers_and_signed_or_refused_interviews() {
    assert_eq!(validate_pre_filing(&pre_filed()), Ok(()));
    let mut c = pre_filed();
    c.party_name = " ".into();
    assert_eq!(validate_pre_filing(&c).unwrap_err().0, "party_name");
    let mut c = pre_filed();
    c.facts.clear();
    assert_eq!(validate_pre_filing(&c).unwrap_err().0, "facts");
    let mut c = pre_filed();
    c.officers = vec![c.officers[0], c.officers[0]];
    assert!(
        validate_pre_filing(&c)
            .unwrap_err()
            .1
            .contains("第四十二条")
    );
    let mut c = pre_filed();
    c.interviews[0].refusal = None;
    let (field, message) = validate_pre_filing(&c).unwrap_err();
    assert_eq!(field, "interviews");
    assert!(message.contains("签名"), "{message}");
    let mut c = pre_filed();
    c.interviews[0].answers[0].answer = "  ".into();
    assert!(validate_pre_filing(&c).unwrap_err().1.contains("一问一答"));
}

#[test]
fn acts_move_the_case_and_the_history_keeps_who_when_and_what() {
    let c = pre_filed();
    let number = case_number("达旗应急", 2026, 7);
    assert_eq!(number, "达旗应急立〔2026〕7号");
    let refused = act(
        &c,
        &CaseAct::ApproveFiling {
            on: day(2026, 12, 8),
        },
        &inspector(),
        &number,
        at(),
    )
    .unwrap_err();
    assert_eq!(refused.0, "立案须经负责人审批");

    let c = act(
        &c,
        &CaseAct::ApproveFiling {
            on: day(2026, 12, 8),
        },
        &leader(),
        &number,
        at(),
    )
    .unwrap();
    assert_eq!(c.state.stage(), Stage::Filed);
    assert_eq!(c.state.number.as_deref(), Some("达旗应急立〔2026〕7号"));
    assert_eq!(c.history.len(), 1);
    assert_eq!(c.history[0].by_name, "赵志刚");
    assert_eq!(c.history[0].on, day(2026, 12, 8));

    let filed = c;
    let refused = act(
        &filed,
        &CaseAct::Notify {
            on: day(2026, 12, 9),
            proposal: "  ".into(),
        },
        &inspector(),
        "",
        at(),
    )
    .unwrap_err();
    assert!(
        refused.0.contains("第四十四条"),
        "a notice states the penalty proposed: {}",
        refused.0
    );
    let c = act(
        &filed,
        &CaseAct::Notify {
            on: day(2026, 12, 9),
            proposal: "罚款人民币三万元".into(),
        },
        &inspector(),
        "",
        at(),
    )
    .unwrap();
    assert_eq!(c.proposal, "罚款人民币三万元");
    let c = act(
        &c,
        &CaseAct::Hear {
            on: day(2026, 12, 12),
            statement: "当事人放弃陈述申辩".into(),
        },
        &inspector(),
        "",
        at(),
    )
    .unwrap();
    let no_basis = CaseAct::Decide {
        on: day(2026, 12, 15),
        provisions: "《煤矿安全规程》第一百八十条".into(),
        basis: " ".into(),
        fine_yuan: 30_000,
    };
    assert_eq!(
        act(&c, &no_basis, &leader(), "", at()).unwrap_err().0,
        "请填写处罚依据及裁量情形"
    );
    let c = act(
        &c,
        &CaseAct::Decide {
            on: day(2026, 12, 15),
            provisions: "《煤矿安全规程》第一百八十条".into(),
            basis: "《安全生产法》第九十九条；裁量：较轻".into(),
            fine_yuan: 30_000,
        },
        &leader(),
        "",
        at(),
    )
    .unwrap();
    assert_eq!(c.decision.as_ref().map(|d| d.fine_yuan), Some(30_000));
    assert_eq!(c.history.last().unwrap().note, "罚款 30000 元");

    let no_witness = CaseAct::Serve {
        on: day(2026, 12, 16),
        method: DeliveryMethod::LeftWithWitness,
        recipient: "张三".into(),
        witness: String::new(),
    };
    assert_eq!(
        act(&c, &no_witness, &inspector(), "", at()).unwrap_err().0,
        "留置送达须有见证人"
    );
    let c = act(
        &c,
        &CaseAct::Serve {
            on: day(2026, 12, 16),
            method: DeliveryMethod::LeftWithWitness,
            recipient: "张三".into(),
            witness: "李四".into(),
        },
        &inspector(),
        "",
        at(),
    )
    .unwrap();
    assert!(c.history.last().unwrap().note.contains("见证人 李四"));
    let c = act(
        &c,
        &CaseAct::Pay {
            on: day(2026, 12, 20),
            yuan: 30_000,
        },
        &inspector(),
        "",
        at(),
    )
    .unwrap();
    assert_eq!(c.state.stage(), Stage::Executed);
    let c = act(
        &c,
        &CaseAct::Close {
            on: day(2026, 12, 21),
        },
        &leader(),
        "",
        at(),
    )
    .unwrap();
    assert_eq!(c.state.stage(), Stage::Closed);
    assert_eq!(c.history.len(), 7);
    // The number stays the one given at 立案, whatever a later act is handed.
    assert_eq!(c.state.number.as_deref(), Some("达旗应急立〔2026〕7号"));
}

#[test]
fn an_on_site_penalty_takes_the_party_of_the_case_for_its_limit() {
    let mut c = pre_filed();
    c.party = Party::Person;
    let over = CaseAct::DecideOnSite {
        on: day(2026, 12, 7),
        provisions: "p".into(),
        basis: "b".into(),
        fine_yuan: 201,
    };
    assert!(
        act(&c, &over, &inspector(), "", at())
            .unwrap_err()
            .0
            .contains("200")
    );
    c.party = Party::Organisation;
    let c = act(&c, &over, &inspector(), "", at()).unwrap();
    assert!(c.state.on_site);
}

#[test]
fn a_dropped_case_dates_its_step_by_the_server_day_in_china() {
    let c = act(
        &pre_filed(),
        &CaseAct::Drop {
            reason: "证据不足".into(),
        },
        &leader(),
        "",
        // 17:00 UTC is already the next day in Beijing.
        Utc.with_ymd_and_hms(2026, 12, 8, 17, 0, 0).unwrap(),
    )
    .unwrap();
    assert_eq!(c.state.stage(), Stage::Dropped);
    assert_eq!(c.history[0].on, day(2026, 12, 9));
    assert_eq!(c.history[0].note, "证据不足");
}

#[test]
fn document_numbers_reuse_the_case_number_under_their_prefix() {
    let number = case_number("达旗应急", 2026, 12);
    assert_eq!(
        document_number(&number, "罚告").as_deref(),
        Some("达旗应急罚告〔2026〕12号")
    );
    assert_eq!(
        document_number(&number, "罚").as_deref(),
        Some("达旗应急罚〔2026〕12号")
    );
    assert_eq!(document_number("无编号", "罚"), None);
}

/// A case taken from 预立案 to 结案 by `acts`, each by the leader.
fn through(acts: &[CaseAct]) -> Case {
    let mut c = pre_filed();
    for a in acts {
        c = act(&c, a, &leader(), &case_number("达旗应急", 2026, 4), at())
            .unwrap_or_else(|e| panic!("{a:?}: {e}"));
    }
    c
}

#[test]
fn the_documents_follow_the_acts_with_the_cases_number_and_the_unchecked_wording_said() {
    use crate::case::documents::{SheetContext, WORDING_UNCHECKED, sheets};
    let rights = crate::documents::Rights {
        review_authority: "达拉特旗人民政府".into(),
        court: "达拉特旗人民法院".into(),
    };
    let officers = vec![
        "王建军（15062101）".to_owned(),
        "李海燕（15062102）".to_owned(),
    ];
    let cx = SheetContext {
        authority: "达拉特旗应急管理局",
        enterprise: "某煤业有限公司",
        officers: &officers,
        rights: &rights,
    };
    assert!(
        sheets(&pre_filed(), &cx).is_empty(),
        "nothing to print before 立案"
    );
    let d = day(2026, 12, 8);
    let c = through(&[
        CaseAct::ApproveFiling { on: d },
        CaseAct::Notify {
            on: d,
            proposal: "罚款人民币三万元".into(),
        },
        CaseAct::Hear {
            on: d,
            statement: "当事人放弃陈述申辩".into(),
        },
        CaseAct::Decide {
            on: d,
            provisions: "《煤矿安全规程》第一百八十条".into(),
            basis: "《安全生产法》第一百零一条；裁量：一般".into(),
            fine_yuan: 30_000,
        },
        CaseAct::Serve {
            on: d,
            method: DeliveryMethod::LeftWithWitness,
            recipient: "张三".into(),
            witness: "周六".into(),
        },
        CaseAct::Pay {
            on: d,
            yuan: 30_000,
        },
        CaseAct::Close { on: d },
    ]);
    let docs = sheets(&c, &cx);
    let titles: Vec<&str> = docs.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            "立案审批表",
            "行政处罚告知书",
            "行政处罚决定书",
            "文书送达回执",
            "结案审批表"
        ]
    );
    let numbers: Vec<&str> = docs.iter().filter_map(|s| s.number.as_deref()).collect();
    assert_eq!(
        numbers,
        [
            "达旗应急立〔2026〕4号",
            "达旗应急罚告〔2026〕4号",
            "达旗应急罚〔2026〕4号",
            "达旗应急回〔2026〕4号",
            "达旗应急结〔2026〕4号"
        ]
    );
    let value = |sheet: usize, label: &str| {
        docs[sheet]
            .fields
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{label} missing from {}", docs[sheet].title))
    };
    assert_eq!(value(1, "拟作出的行政处罚"), "罚款人民币三万元");
    assert_eq!(value(1, "备注"), WORDING_UNCHECKED);
    assert_eq!(value(2, "处罚决定"), "罚款人民币 30000 元");
    assert!(value(2, "权利告知").contains("达拉特旗人民政府"));
    assert_eq!(value(2, "决定日期"), "2026年12月8日");
    assert!(value(3, "送达文书").contains("达旗应急罚〔2026〕4号"));
    assert!(value(3, "见证人").contains("周六"));
    assert_eq!(value(4, "审批人"), "赵志刚");

    // On the spot, without 立案: one decision, unnumbered, and its receipt.
    let on_site = through(&[
        CaseAct::DecideOnSite {
            on: d,
            provisions: "p".into(),
            basis: "b".into(),
            fine_yuan: 1_000,
        },
        CaseAct::Serve {
            on: d,
            method: DeliveryMethod::InPerson,
            recipient: "张三".into(),
            witness: String::new(),
        },
    ]);
    let docs = sheets(&on_site, &cx);
    let titles: Vec<&str> = docs.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles, ["当场处罚决定书", "文书送达回执"]);
    assert!(docs.iter().all(|s| s.number.is_none()));
}

#[test]
fn a_preservation_needs_its_approval_runs_seven_working_days_and_stops_when_decided() {
    let monday = day(2026, 12, 7);
    let preserve = |approved_by: &str| CaseAct::Preserve {
        on: monday,
        items: "瓦斯检查记录本 3 本，存放于调度室".into(),
        approved_by: approved_by.into(),
    };
    let refused = act(&pre_filed(), &preserve(" "), &inspector(), "", at()).unwrap_err();
    assert!(refused.0.contains("第五十六条"), "{}", refused.0);
    let c = act(&pre_filed(), &preserve("赵志刚"), &inspector(), "", at()).unwrap();
    assert_eq!(c.state.stage(), Stage::PreFiled, "the stage does not move");
    assert!(c.history[0].note.contains("经 赵志刚 批准"));
    let clock = |c: &Case, today| {
        crate::case::clocks(&c.state, today, &Calendar::default())
            .into_iter()
            .find(|k| k.kind == ClockKind::Preservation)
    };
    // Seven working days after a Monday: the Wednesday of the week after next.
    let running = clock(&c, day(2026, 12, 16)).unwrap();
    assert_eq!(running.due, day(2026, 12, 16));
    assert!(!running.overdue);
    assert!(running.holidays_unchecked);
    assert!(clock(&c, day(2026, 12, 17)).unwrap().overdue);
    let no_decision = CaseAct::DecidePreservation {
        on: day(2026, 12, 10),
        decision: String::new(),
    };
    assert!(act(&c, &no_decision, &inspector(), "", at()).is_err());
    let early = CaseAct::DecidePreservation {
        on: day(2026, 12, 4),
        decision: "解除登记保存，退还当事人".into(),
    };
    assert!(
        act(&c, &early, &inspector(), "", at())
            .unwrap_err()
            .0
            .contains("不能早于")
    );
    let decided = act(
        &c,
        &CaseAct::DecidePreservation {
            on: day(2026, 12, 10),
            decision: "解除登记保存，退还当事人".into(),
        },
        &inspector(),
        "",
        at(),
    )
    .unwrap();
    assert!(clock(&decided, day(2026, 12, 30)).is_none());
    assert_eq!(c.preserved[0].approved_by, "赵志刚");
    assert_eq!(
        decided.preserved[0].decision.as_deref(),
        Some("解除登记保存，退还当事人")
    );
    // Its notice, for print, with what was preserved and the decision.
    let rights = crate::documents::Rights::default();
    let officers = vec!["王建军".to_owned()];
    let cx = crate::case::documents::SheetContext {
        authority: "达拉特旗应急管理局",
        enterprise: "某煤业有限公司",
        officers: &officers,
        rights: &rights,
    };
    let docs = crate::case::documents::sheets(&decided, &cx);
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].title, "先行登记保存证据通知书");
    let text: String = docs[0]
        .fields
        .iter()
        .map(|(l, v)| format!("{l}:{v};"))
        .collect();
    assert!(text.contains("瓦斯检查记录本 3 本"), "{text}");
    assert!(
        text.contains("解除登记保存，退还当事人（2026年12月10日）"),
        "{text}"
    );
    // Nothing is preserved once the decision is made.
    let decided_case = through(&[CaseAct::DecideOnSite {
        on: monday,
        provisions: "p".into(),
        basis: "b".into(),
        fine_yuan: 100,
    }]);
    assert!(act(&decided_case, &preserve("赵志刚"), &inspector(), "", at()).is_err());
}
