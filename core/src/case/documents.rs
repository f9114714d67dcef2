//! The case's documents for print (A4), filled from the case as stored: 先行登记保存证据通知书,
//! 立案审批表, 行政处罚告知书,
//! 行政处罚决定书 (or 当场处罚决定书), 文书送达回执, 结案审批表 — each once its act is recorded,
//! numbered with the case's M under its prefix (reference §3).
//!
//! The statutory sentences cite 行政处罚法 (2021): 陈述申辩 Art. 44–45, 听证 Art. 63–64 (asked
//! within five days of the notice), payment within fifteen days Art. 67, 加处罚款 3 % a day
//! Art. 72; 复议 and 诉讼 as in the inspection documents (`documents::Rights`). Their wording
//! was written for this project and not checked against the published text: every document that
//! carries them says so (条文待核).

use serde::{Deserialize, Serialize};

use super::{Case, DeliveryMethod, Stage, document_number};
use crate::documents::Rights;

/// Said on screen and in print beside the statutory sentences.
pub const WORDING_UNCHECKED: &str =
    "条文待核：本文书所引法律条款的表述由本系统拟定，未与公布文本逐字核对，送达前请法制审核。";

/// One filled case document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSheet {
    pub title: String,
    /// `None` before 立案 (a 当场处罚 made without one).
    pub number: Option<String>,
    pub fields: Vec<(String, String)>,
}

/// What the documents need besides the case.
pub struct SheetContext<'a> {
    /// The issuing bureau's name (e.g. 达拉特旗应急管理局).
    pub authority: &'a str,
    pub enterprise: &'a str,
    /// The officers' names with their 执法证号, as shown on the documents.
    pub officers: &'a [String],
    pub rights: &'a Rights,
}

fn date(day: Option<chrono::NaiveDate>) -> String {
    day.map(crate::time::document_day).unwrap_or_default()
}

fn step_by(case: &Case, stage: Stage) -> String {
    case.history
        .iter()
        .find(|s| s.stage == stage)
        .map(|s| s.by_name.clone())
        .unwrap_or_default()
}

fn field(label: &str, value: impl Into<String>) -> (String, String) {
    (label.to_owned(), value.into())
}

/// The documents the case has reached, in the order they were issued.
pub fn sheets(case: &Case, cx: &SheetContext<'_>) -> Vec<CaseSheet> {
    let state = &case.state;
    let stage = state.stage();
    let numbered = |prefix: &str| {
        state
            .number
            .as_deref()
            .and_then(|n| document_number(n, prefix))
    };
    let party = field("当事人", case.party_name.clone());
    let provisions = case
        .decision
        .as_ref()
        .map_or_else(|| case.provisions.clone(), |d| d.provisions.clone());
    let mut out = Vec::new();
    for kept in &case.preserved {
        out.push(CaseSheet {
            title: "先行登记保存证据通知书".to_owned(),
            // Not numbered: its prefix is not in the bureau's list (reference §3).
            number: None,
            fields: vec![
                party.clone(),
                field("登记保存的证据", kept.items.clone()),
                field("批准人", kept.approved_by.clone()),
                field("登记保存日期", crate::time::document_day(kept.on)),
                field(
                    "告知",
                    "上述证据在本局作出处理决定前，当事人和其他人员不得损毁、销毁或者转移。本局将在\
                     七个工作日内作出处理决定（《中华人民共和国行政处罚法》第五十六条）。",
                ),
                field(
                    "处理决定",
                    match (&kept.decision, kept.decided_on) {
                        (Some(decision), Some(on)) => {
                            format!("{decision}（{}）", crate::time::document_day(on))
                        }
                        _ => String::new(),
                    },
                ),
                field("执法人员", cx.officers.join("、")),
                field("备注", WORDING_UNCHECKED),
            ],
        });
    }
    if state.filed_on.is_some() {
        out.push(CaseSheet {
            title: "立案审批表".to_owned(),
            number: numbered("立"),
            fields: vec![
                field("案由", case.facts.clone()),
                party.clone(),
                field("被检查单位", cx.enterprise),
                field("案件来源", "现场检查发现"),
                field("承办人", cx.officers.join("、")),
                field("立案意见", "同意立案"),
                field("审批人", step_by(case, Stage::Filed)),
                field("立案日期", date(state.filed_on)),
            ],
        });
    }
    if state.notified_on.is_some() {
        out.push(CaseSheet {
            title: "行政处罚告知书".to_owned(),
            number: numbered("罚告"),
            fields: vec![
                party.clone(),
                field("违法事实", case.facts.clone()),
                field("违反的规定", provisions.clone()),
                field("拟作出的行政处罚", case.proposal.clone()),
                field(
                    "当事人的权利",
                    "依据《中华人民共和国行政处罚法》第四十四条、第四十五条，你（单位）有权进行\
                     陈述和申辩；依据第六十三条、第六十四条，属于听证范围的，你（单位）有权在本局\
                     告知后五日内提出听证要求。逾期未提出的，视为放弃上述权利。",
                ),
                field("执法人员", cx.officers.join("、")),
                field("告知日期", date(state.notified_on)),
                field("备注", WORDING_UNCHECKED),
            ],
        });
    }
    if let (Some(decided), Some(decision)) = (state.decided_on, &case.decision) {
        let mut fields = vec![
            party.clone(),
            field("违法事实", case.facts.clone()),
            field("违反的规定", decision.provisions.clone()),
            field("处罚依据及裁量", decision.basis.clone()),
            field("处罚决定", format!("罚款人民币 {} 元", decision.fine_yuan)),
            field(
                "履行方式和期限",
                "自收到本决定书之日起十五日内缴纳罚款（《中华人民共和国行政处罚法》第六十七条）；\
                 到期不缴纳的，每日按罚款数额的百分之三加处罚款，加处罚款的数额不超过罚款数额\
                 （第七十二条）。",
            ),
            field("权利告知", cx.rights.notice()),
        ];
        if !state.on_site {
            fields.push(field("陈述申辩情况", step_note(case, Stage::Heard)));
        }
        fields.push(field("执法人员", cx.officers.join("、")));
        fields.push(field("决定日期", crate::time::document_day(decided)));
        fields.push(field("备注", WORDING_UNCHECKED));
        out.push(CaseSheet {
            title: if state.on_site {
                "当场处罚决定书".to_owned()
            } else {
                "行政处罚决定书".to_owned()
            },
            number: if state.on_site { None } else { numbered("罚") },
            fields,
        });
    }
    if let (Some(served), Some(delivery)) = (state.served_on, &case.delivery) {
        let decision_number = if state.on_site { None } else { numbered("罚") };
        let mut fields = vec![
            field(
                "送达文书",
                format!(
                    "{}{}",
                    if state.on_site {
                        "当场处罚决定书"
                    } else {
                        "行政处罚决定书"
                    },
                    decision_number
                        .map(|n| format!("（{n}）"))
                        .unwrap_or_default()
                ),
            ),
            field("受送达人", delivery.recipient.clone()),
            field("送达方式", delivery.method.label_zh()),
            field("送达日期", crate::time::document_day(served)),
            field("送达人", cx.officers.join("、")),
        ];
        if delivery.method == DeliveryMethod::LeftWithWitness {
            fields.push(field(
                "见证人",
                format!("{}（受送达人拒绝签收，留置送达）", delivery.witness),
            ));
        }
        out.push(CaseSheet {
            title: "文书送达回执".to_owned(),
            number: numbered("回"),
            fields,
        });
    }
    if stage == Stage::Closed {
        out.push(CaseSheet {
            title: "结案审批表".to_owned(),
            number: numbered("结"),
            fields: vec![
                party,
                field("案由", case.facts.clone()),
                field(
                    "处理结果",
                    case.decision
                        .as_ref()
                        .map(|d| format!("罚款人民币 {} 元", d.fine_yuan))
                        .unwrap_or_default(),
                ),
                field(
                    "执行情况",
                    format!("已缴纳 {} 元（{}）", state.paid_yuan, date(state.paid_on)),
                ),
                field("审批人", step_by(case, Stage::Closed)),
                field("结案日期", date(state.closed_on)),
            ],
        });
    }
    out
}

fn step_note(case: &Case, stage: Stage) -> String {
    case.history
        .iter()
        .find(|s| s.stage == stage)
        .map(|s| s.note.clone())
        .unwrap_or_default()
}
