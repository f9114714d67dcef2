//! The case as a record: what the phone makes as 预立案 (`case.save`), the acts that move it
//! (`case.act`), and what the server adds (number, stage, history).
//!
//! The phone owns the facts while the case is 预立案: the party, the suspected violation, the
//! findings it comes from and the 询问笔录 taken on site. From 立案 on, the case moves only by
//! acts, each checked by [`super::apply`] against the stored case and the actor's role; the
//! server keeps the stage, the number and the history and ignores them in a save.
//! `documents` fills the case's documents for print.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Action, CaseState, Party, Refusal, Stage};
use crate::ids::{CaseId, EnterpriseId, FindingId, InspectionId, OrgId, PhotoHash, UserId};

/// Where a case comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CaseSource {
    /// Findings of an inspection (检查发现).
    #[default]
    Inspection,
    /// A 举报.
    Complaint,
    /// A leader's decision (交办).
    Assigned,
}

/// One question and its answer in a 询问笔录.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionAnswer {
    pub question: String,
    pub answer: String,
}

/// 询问笔录: taken on site, read back to the person and signed by them, or their refusal
/// recorded with a witness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interview {
    /// 被询问人.
    pub person: String,
    /// 工作单位及职务, or 身份.
    #[serde(default)]
    pub position: String,
    pub started_at: DateTime<Utc>,
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub place: String,
    pub answers: Vec<QuestionAnswer>,
    /// The person's signature, drawn on the phone (a photo of the inspection, role signature).
    #[serde(default)]
    pub signature: Option<PhotoHash>,
    /// Why there is no signature: the refusal as it happened, with the witness.
    #[serde(default)]
    pub refusal: Option<String>,
}

/// How a document reached the party (文书送达回执).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryMethod {
    /// 直接送达: signed for by the party.
    InPerson,
    /// 留置送达: refused, left with a witness present.
    LeftWithWitness,
    /// 电子送达: with the party's written consent (Art. 61).
    Electronic,
}

impl DeliveryMethod {
    pub fn label_zh(self) -> &'static str {
        match self {
            DeliveryMethod::InPerson => "直接送达",
            DeliveryMethod::LeftWithWitness => "留置送达",
            DeliveryMethod::Electronic => "电子送达（当事人书面同意）",
        }
    }
}

/// What the phone says of a case (`case.save`): the facts while it is 预立案.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: CaseId,
    /// The team handling it: as stored, or the inspection's team for a new case.
    pub org_id: OrgId,
    pub enterprise_id: EnterpriseId,
    #[serde(default)]
    pub inspection_id: Option<InspectionId>,
    #[serde(default)]
    pub finding_ids: Vec<FindingId>,
    #[serde(default)]
    pub source: CaseSource,
    pub party: Party,
    /// 当事人: the organisation's or the person's name.
    pub party_name: String,
    /// 涉嫌违法事实.
    pub facts: String,
    /// 违反的规定 (may wait for 立案).
    #[serde(default)]
    pub provisions: String,
    /// Kept by the server: the penalty proposed in the 行政处罚告知书.
    #[serde(default)]
    pub proposal: String,
    /// The officers handling it (at least two, Art. 42).
    pub officers: Vec<UserId>,
    #[serde(default)]
    pub interviews: Vec<Interview>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    /// Kept by the server: the stage, number and dates.
    #[serde(default)]
    pub state: CaseState,
    /// Kept by the server: every act, in order.
    #[serde(default)]
    pub history: Vec<CaseStep>,
    /// Kept by the server: the decision's basis (决定书).
    #[serde(default)]
    pub decision: Option<DecisionFacts>,
    /// Kept by the server: how the decision was served.
    #[serde(default)]
    pub delivery: Option<DeliveryFacts>,
    /// Kept by the server: each 先行登记保存 with what was preserved (its clock is in `state`).
    #[serde(default)]
    pub preserved: Vec<PreservedEvidence>,
}

/// One 先行登记保存证据 as its notice states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreservedEvidence {
    pub on: NaiveDate,
    pub items: String,
    pub approved_by: String,
    #[serde(default)]
    pub decision: Option<String>,
    #[serde(default)]
    pub decided_on: Option<NaiveDate>,
}

/// One act as the server recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStep {
    /// The stage the act led to.
    pub stage: Stage,
    pub on: NaiveDate,
    pub by: UserId,
    #[serde(default)]
    pub by_name: String,
    pub at: DateTime<Utc>,
    /// What was recorded with it (a reason, a statement, an amount).
    #[serde(default)]
    pub note: String,
}

/// The decision's content (行政处罚决定书 / 当场处罚决定书).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionFacts {
    /// 违反的规定, as decided.
    pub provisions: String,
    /// 处罚依据 and the 裁量 category applied.
    pub basis: String,
    pub fine_yuan: u64,
}

/// How the decision was served (文书送达回执).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryFacts {
    pub method: DeliveryMethod,
    /// Who received it (受送达人 or 代收人).
    pub recipient: String,
    /// The witness of a 留置送达.
    #[serde(default)]
    pub witness: String,
}

/// Payload of `case.act`: one step, taken by the pusher. The number of a 立案 is the server's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "act", rename_all = "snake_case")]
pub enum CaseAct {
    ApproveFiling {
        on: NaiveDate,
    },
    Drop {
        reason: String,
    },
    /// 行政处罚告知书 served, stating the penalty proposed.
    Notify {
        on: NaiveDate,
        proposal: String,
    },
    Hear {
        on: NaiveDate,
        statement: String,
    },
    Decide {
        on: NaiveDate,
        provisions: String,
        basis: String,
        fine_yuan: u64,
    },
    DecideOnSite {
        on: NaiveDate,
        provisions: String,
        basis: String,
        fine_yuan: u64,
    },
    Serve {
        on: NaiveDate,
        method: DeliveryMethod,
        recipient: String,
        #[serde(default)]
        witness: String,
    },
    Pay {
        on: NaiveDate,
        yuan: u64,
    },
    /// 先行登记保存证据通知书: what is preserved, where, and who approved it (Art. 56).
    Preserve {
        on: NaiveDate,
        items: String,
        approved_by: String,
    },
    /// The 处理决定 on the earliest undecided 先行登记保存 (returned, sealed, moved to a case …).
    DecidePreservation {
        on: NaiveDate,
        decision: String,
    },
    Close {
        on: NaiveDate,
    },
}

impl CaseAct {
    /// The rules' action; `number` is the one the server assigns to a 立案.
    pub fn action(&self, party: Party, number: &str) -> Action {
        match self.clone() {
            CaseAct::ApproveFiling { on } => Action::ApproveFiling {
                number: number.to_owned(),
                on,
            },
            CaseAct::Drop { reason } => Action::Drop { reason },
            CaseAct::Notify { on, .. } => Action::Notify { on },
            CaseAct::Hear { on, statement } => Action::Hear { on, statement },
            CaseAct::Decide { on, fine_yuan, .. } => Action::Decide { on, fine_yuan },
            CaseAct::DecideOnSite { on, fine_yuan, .. } => Action::DecideOnSite {
                on,
                fine_yuan,
                party,
            },
            CaseAct::Serve { on, .. } => Action::Serve { on },
            CaseAct::Pay { on, yuan } => Action::Pay { on, yuan },
            CaseAct::Preserve { on, .. } => Action::Preserve { on },
            CaseAct::DecidePreservation { on, .. } => Action::DecidePreservation { on },
            CaseAct::Close { on } => Action::Close { on },
        }
    }

    /// The act's own day (a 撤销 is dated by the server).
    pub fn day(&self) -> Option<NaiveDate> {
        match self {
            CaseAct::Drop { .. } => None,
            CaseAct::ApproveFiling { on }
            | CaseAct::Notify { on, .. }
            | CaseAct::Hear { on, .. }
            | CaseAct::Decide { on, .. }
            | CaseAct::DecideOnSite { on, .. }
            | CaseAct::Serve { on, .. }
            | CaseAct::Pay { on, .. }
            | CaseAct::Preserve { on, .. }
            | CaseAct::DecidePreservation { on, .. }
            | CaseAct::Close { on } => Some(*on),
        }
    }

    /// What the history keeps of the act besides its stage and day.
    fn note(&self) -> String {
        match self {
            CaseAct::Drop { reason } => reason.trim().to_owned(),
            CaseAct::Notify { proposal, .. } => format!("拟：{}", proposal.trim()),
            CaseAct::Hear { statement, .. } => statement.trim().to_owned(),
            CaseAct::Decide { fine_yuan, .. } | CaseAct::DecideOnSite { fine_yuan, .. } => {
                format!("罚款 {fine_yuan} 元")
            }
            CaseAct::Serve {
                method,
                recipient,
                witness,
                ..
            } => match method {
                DeliveryMethod::LeftWithWitness => {
                    format!(
                        "{}，受送达人 {}，见证人 {}",
                        method.label_zh(),
                        recipient.trim(),
                        witness.trim()
                    )
                }
                _ => format!("{}，受送达人 {}", method.label_zh(), recipient.trim()),
            },
            CaseAct::Pay { yuan, .. } => format!("缴款 {yuan} 元"),
            CaseAct::Preserve {
                items, approved_by, ..
            } => format!(
                "先行登记保存：{}（经 {} 批准）",
                items.trim(),
                approved_by.trim()
            ),
            CaseAct::DecidePreservation { decision, .. } => {
                format!("先行登记保存处理决定：{}", decision.trim())
            }
            _ => String::new(),
        }
    }

    /// Checks what the rules of `super::apply` do not: the decision's text and the delivery's
    /// names.
    fn check(&self) -> Result<(), Refusal> {
        match self {
            CaseAct::Preserve {
                items, approved_by, ..
            } => {
                if items.trim().is_empty() {
                    return Err(Refusal(
                        "请写明登记保存的证据名称、数量和存放地点".to_owned(),
                    ));
                }
                if approved_by.trim().is_empty() {
                    return Err(Refusal(
                        "先行登记保存须经行政机关负责人批准（行政处罚法第五十六条），请填写批准人"
                            .to_owned(),
                    ));
                }
            }
            CaseAct::DecidePreservation { decision, .. } if decision.trim().is_empty() => {
                return Err(Refusal("请写明处理决定".to_owned()));
            }
            CaseAct::Notify { proposal, .. } if proposal.trim().is_empty() => {
                return Err(Refusal(
                    "请填写拟作出的行政处罚（告知书须载明，行政处罚法第四十四条）".to_owned(),
                ));
            }
            CaseAct::Decide {
                provisions, basis, ..
            }
            | CaseAct::DecideOnSite {
                provisions, basis, ..
            } => {
                if provisions.trim().is_empty() {
                    return Err(Refusal("请填写违反的规定".to_owned()));
                }
                if basis.trim().is_empty() {
                    return Err(Refusal("请填写处罚依据及裁量情形".to_owned()));
                }
            }
            CaseAct::Serve {
                method,
                recipient,
                witness,
                ..
            } => {
                if recipient.trim().is_empty() {
                    return Err(Refusal("请填写受送达人".to_owned()));
                }
                if *method == DeliveryMethod::LeftWithWitness && witness.trim().is_empty() {
                    return Err(Refusal("留置送达须有见证人".to_owned()));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Who takes an act, as the server knows them.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: UserId,
    pub name: String,
    pub role: crate::model::Role,
}

/// Applies `act` by `actor` to the stored `case` at `at` (server time): the case as it is
/// afterwards, or why not. `number` is the number a 立案 takes (the server's next one).
pub fn act(
    case: &Case,
    act: &CaseAct,
    actor: &Actor,
    number: &str,
    at: DateTime<Utc>,
) -> Result<Case, Refusal> {
    act.check()?;
    let state = super::apply(&case.state, actor.role, &act.action(case.party, number))?;
    let mut next = case.clone();
    next.state = state;
    match act {
        CaseAct::Decide {
            provisions,
            basis,
            fine_yuan,
            ..
        }
        | CaseAct::DecideOnSite {
            provisions,
            basis,
            fine_yuan,
            ..
        } => {
            next.decision = Some(DecisionFacts {
                provisions: provisions.trim().to_owned(),
                basis: basis.trim().to_owned(),
                fine_yuan: *fine_yuan,
            });
        }
        CaseAct::Notify { proposal, .. } => next.proposal = proposal.trim().to_owned(),
        CaseAct::Preserve {
            on,
            items,
            approved_by,
        } => next.preserved.push(PreservedEvidence {
            on: *on,
            items: items.trim().to_owned(),
            approved_by: approved_by.trim().to_owned(),
            decision: None,
            decided_on: None,
        }),
        CaseAct::DecidePreservation { on, decision } => {
            // The same one the rules decided: the earliest undecided.
            if let Some(open) = next
                .preserved
                .iter_mut()
                .filter(|p| p.decided_on.is_none())
                .min_by_key(|p| p.on)
            {
                open.decision = Some(decision.trim().to_owned());
                open.decided_on = Some(*on);
            }
        }
        CaseAct::Serve {
            method,
            recipient,
            witness,
            ..
        } => {
            next.delivery = Some(DeliveryFacts {
                method: *method,
                recipient: recipient.trim().to_owned(),
                witness: witness.trim().to_owned(),
            });
        }
        _ => {}
    }
    next.history.push(CaseStep {
        stage: next.state.stage(),
        on: act.day().unwrap_or_else(|| crate::time::china_date(at)),
        by: actor.id,
        by_name: actor.name.clone(),
        at,
        note: act.note(),
    });
    Ok(next)
}

/// What a 预立案 must hold before it is stored.
pub fn validate_pre_filing(case: &Case) -> Result<(), (&'static str, String)> {
    let blank = |s: &str| s.trim().is_empty();
    if blank(&case.party_name) {
        return Err(("party_name", "请填写当事人".to_owned()));
    }
    if blank(&case.facts) {
        return Err(("facts", "请填写涉嫌违法事实".to_owned()));
    }
    let mut officers = case.officers.clone();
    officers.sort();
    officers.dedup();
    if officers.len() < 2 {
        return Err((
            "officers",
            "案件须由两名以上执法人员办理（行政处罚法第四十二条）".to_owned(),
        ));
    }
    for (i, interview) in case.interviews.iter().enumerate() {
        let n = i + 1;
        if blank(&interview.person) {
            return Err(("interviews", format!("第 {n} 份询问笔录缺少被询问人")));
        }
        if interview
            .answers
            .iter()
            .all(|qa| blank(&qa.question) || blank(&qa.answer))
        {
            return Err(("interviews", format!("第 {n} 份询问笔录至少须有一问一答")));
        }
        if interview.signature.is_none() && interview.refusal.as_deref().is_none_or(blank) {
            return Err((
                "interviews",
                format!("第 {n} 份询问笔录须由被询问人签名，或记录其拒绝签名的情况及见证人"),
            ));
        }
    }
    Ok(())
}

/// The number a case takes at 立案: `（简称）应急立〔年〕M号` (reference §3), `authority` the
/// numbering unit's short name (e.g. 达旗应急).
pub fn case_number(authority: &str, year: i32, seq: u32) -> String {
    format!("{authority}立〔{year}〕{seq}号")
}

/// The number of one of the case's documents: the case's M under the document's prefix (罚告,
/// 罚, 回, 结 …).
pub fn document_number(case_number: &str, prefix: &str) -> Option<String> {
    let (head, rest) = case_number.split_once("立〔")?;
    Some(format!("{head}{prefix}〔{rest}"))
}

/// A case as `GET /api/v1/cases` answers it: the record with what the screens show beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseView {
    pub case: Case,
    pub rev: i64,
    #[serde(default)]
    pub enterprise_name: String,
    /// The law's clocks still running today (China Standard Time).
    #[serde(default)]
    pub clocks: Vec<super::Clock>,
}

impl CaseView {
    pub fn overdue(&self) -> bool {
        self.clocks.iter().any(|c| c.overdue)
    }
}

/// `GET /api/v1/cases`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CaseList {
    pub cases: Vec<CaseView>,
}

/// The documents of a case at its stage: (title, prefix of its number), in the order issued.
pub fn documents_at(stage: Stage, on_site: bool) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    let reached = |s: Stage| stage_order(stage) >= stage_order(s) && stage != Stage::Dropped;
    if on_site {
        if reached(Stage::Decided) {
            out.push(("当场处罚决定书", "当罚"));
        }
    } else {
        if reached(Stage::Filed) {
            out.push(("立案审批表", "立"));
        }
        if reached(Stage::Notified) {
            out.push(("行政处罚告知书", "罚告"));
        }
        if reached(Stage::Decided) {
            out.push(("行政处罚决定书", "罚"));
        }
    }
    if reached(Stage::Served) {
        out.push(("文书送达回执", "回"));
    }
    if reached(Stage::Closed) {
        out.push(("结案审批表", "结"));
    }
    out
}

fn stage_order(stage: Stage) -> u8 {
    match stage {
        Stage::PreFiled | Stage::Dropped => 0,
        Stage::Filed => 1,
        Stage::Notified => 2,
        Stage::Heard => 3,
        Stage::Decided => 4,
        Stage::Served => 5,
        Stage::Executed => 6,
        Stage::Closed => 7,
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
