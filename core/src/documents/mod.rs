//! Enforcement documents (执法文书): which ones an inspection requires, their fields
//! (criteria.md §8), filling them from the records, and document numbers allocated offline.
//!
//! Number format (documented here, parsed back by `DocumentNumber::from_str`):
//!
//! ```text
//! {org code}{type code}〔{year}〕{device code}-{sequence, 4+ digits}号
//! 达旗应急检记〔2026〕A7-0003号
//! ```
//! The org code is the issuing authority's short name (`OrgUnit::doc_code`), the type code is
//! 检记 / 责改 / 现决 / 复查, the device code is issued by the server at login and unique within
//! the org, and the sequence counts per device and year. Every document of one inspection shares
//! its sequence number N under its own type code (检记 / 现决 / 责改 of one visit carry the same
//! N, and a 复查 takes the N of the 责改 it follows up). Two devices therefore never produce the
//! same number, with no network needed at the time of issue.

mod fill;
#[cfg(all(test, feature = "embedded-packs"))]
mod golden;
mod number;
pub mod pdf;
#[cfg(test)]
mod tests;

pub use fill::*;
pub use number::*;

use crate::model::{DocumentKind, Finding, Inspection, InspectionKind, Measure};

/// The 权利告知 printed on orders and decisions when the bureau has not named its 复议机关 and
/// court (the document then carries a note saying so).
pub const RIGHTS_NOTICE: &str = "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，\
     或者自收到本决定书之日起六个月内依法提起行政诉讼。复议、诉讼期间，本决定不停止执行。";

impl DocumentKind {
    pub const ALL: [DocumentKind; 4] = [
        DocumentKind::InspectionRecord,
        DocumentKind::RectificationOrder,
        DocumentKind::OnSiteMeasures,
        DocumentKind::ReinspectionOpinion,
    ];

    pub fn title_zh(self) -> &'static str {
        match self {
            DocumentKind::InspectionRecord => "现场检查记录",
            DocumentKind::RectificationOrder => "责令限期整改指令书",
            DocumentKind::OnSiteMeasures => "现场处理措施决定书",
            DocumentKind::ReinspectionOpinion => "整改复查意见书",
            DocumentKind::ServiceReceipt => "文书送达回执",
        }
    }

    /// The type code inside document numbers.
    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::InspectionRecord => "检记",
            DocumentKind::RectificationOrder => "责改",
            DocumentKind::OnSiteMeasures => "现决",
            DocumentKind::ReinspectionOpinion => "复查",
            DocumentKind::ServiceReceipt => "送达",
        }
    }

    /// The fields of the document, in print order.
    pub fn fields(self) -> &'static [DocField] {
        match self {
            DocumentKind::InspectionRecord => INSPECTION_RECORD,
            DocumentKind::RectificationOrder => RECTIFICATION_ORDER,
            DocumentKind::OnSiteMeasures => ON_SITE_MEASURES,
            DocumentKind::ReinspectionOpinion => REINSPECTION_OPINION,
            DocumentKind::ServiceReceipt => SERVICE_RECEIPT,
        }
    }
}

/// One field of a document form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocField {
    pub key: &'static str,
    pub label: &'static str,
    /// Must be filled from the record before printing. Signature and seal fields are filled
    /// by hand on paper, so they are not required here.
    pub required: bool,
}

const fn f(key: &'static str, label: &'static str, required: bool) -> DocField {
    DocField {
        key,
        label,
        required,
    }
}

const INSPECTION_RECORD: &[DocField] = &[
    f("number", "文书编号", true),
    f("enterprise", "被检查单位", true),
    f("address", "地址", true),
    f("legal_representative", "法定代表人（负责人）", true),
    f("contact_phone", "联系电话", false),
    f("places", "检查场所", true),
    f("time", "检查时间", true),
    f("entry", "入企与审批", false),
    f("inspectors", "检查人员及执法证号", true),
    f("situation", "检查情况", true),
    f("packs", "检查依据及结果", true),
    f("photo_index", "影像资料索引", false),
    f("recording", "全过程记录", false),
    f("inspector_signatures", "检查人员签名", false),
    f("enterprise_signature", "被检查单位负责人签名", false),
    f("date", "日期", true),
];

const RECTIFICATION_ORDER: &[DocField] = &[
    f("number", "文书编号", true),
    f("enterprise", "被责令单位", true),
    f("problems", "存在的问题", true),
    f("basis", "依据", true),
    f("requirement", "整改要求与期限", true),
    f("rights", "权利告知", true),
    f("inspectors", "执法人员及证号", true),
    f("receipt", "被责令单位负责人签收", false),
    f("seal", "机关印章", false),
    f("date", "日期", true),
];

const ON_SITE_MEASURES: &[DocField] = &[
    f("number", "文书编号", true),
    f("enterprise", "被检查单位", true),
    f("problems", "存在的问题", true),
    f("basis", "依据", true),
    f("measures", "现场处理措施", true),
    f("rights", "权利告知", true),
    f("inspectors", "执法人员及证号", true),
    f("receipt", "被检查单位负责人签收", false),
    f("seal", "机关印章", false),
    f("date", "日期", true),
];

const REINSPECTION_OPINION: &[DocField] = &[
    f("number", "文书编号", true),
    f("enterprise", "被复查单位", true),
    f("original_order", "原指令信息", true),
    f("opinion", "复查意见", true),
    f("inspectors", "执法人员及证号", true),
    f("date", "复查日期", true),
    f("enterprise_signature", "被复查单位负责人签名", false),
    f("seal", "机关印章", false),
];

const SERVICE_RECEIPT: &[DocField] = &[
    f("served", "送达文书名称及文号", true),
    f("recipient", "受送达人", true),
    f("place", "送达地点", true),
    f("method", "送达方式", true),
    f("receipt", "受送达人签收（签名、日期）", false),
    f("refusal", "拒收事由及见证人", false),
    f("servers", "送达人", true),
    f("date", "送达日期", true),
];

/// The documents served on the person in charge (送达, with a 回执): orders, decisions and the
/// re-inspection opinion.
pub fn served_kinds() -> [DocumentKind; 3] {
    [
        DocumentKind::RectificationOrder,
        DocumentKind::OnSiteMeasures,
        DocumentKind::ReinspectionOpinion,
    ]
}

/// The findings made during `inspection` (others in `findings` are ignored).
fn own<'a>(
    inspection: &'a Inspection,
    findings: &'a [Finding],
) -> impl Iterator<Item = &'a Finding> {
    findings
        .iter()
        .filter(move |f| f.inspection_id == inspection.id)
}

/// Which documents an inspection requires: the inspection record (except on a re-inspection visit
/// without a checklist); a rectification order
/// when any finding is 限期整改; an on-site measures decision for 停产停业整顿 or 责令暂时停止作业;
/// a re-inspection opinion when findings were re-inspected.
pub fn required_documents(inspection: &Inspection, findings: &[Finding]) -> Vec<DocumentKind> {
    // A re-inspection visit of its own (no checklist) is recorded by its opinion.
    let mut kinds =
        if inspection.kind == InspectionKind::Reinspection && inspection.packs.is_empty() {
            Vec::new()
        } else {
            vec![DocumentKind::InspectionRecord]
        };
    if own(inspection, findings).any(|f| f.measure == Measure::Deadline) {
        kinds.push(DocumentKind::RectificationOrder);
    }
    if own(inspection, findings)
        .any(|f| matches!(f.measure, Measure::SuspendOperations | Measure::StopWork))
    {
        kinds.push(DocumentKind::OnSiteMeasures);
    }
    if inspection.kind == InspectionKind::Reinspection
        || !inspection.reinspected_findings.is_empty()
    {
        kinds.push(DocumentKind::ReinspectionOpinion);
    }
    kinds
}

/// Documents required but not yet issued a number on the inspection.
pub fn missing_documents(inspection: &Inspection, findings: &[Finding]) -> Vec<DocumentKind> {
    required_documents(inspection, findings)
        .into_iter()
        .filter(|k| !inspection.documents.iter().any(|d| d.kind == *k))
        .collect()
}

/// Where a re-inspection's opinion is filled: on the phone, which may not hold the first
/// inspection, or on the server, which holds everything it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilledOn {
    Device,
    Server,
}

/// The 原指令书 line of a 整改复查意见书 for `finding`: the date and number of the 责令限期整改指令书
/// of `first` (the inspection it was found in) when there is one, else what is known of it.
pub fn original_order(first: Option<&Inspection>, finding: &Finding, on: FilledOn) -> String {
    let date = crate::time::document_date;
    let (no_number, not_held) = match on {
        FilledOn::Device => ("（本机无指令书编号）", "（原检查记录不在本机）"),
        FilledOn::Server => ("（无指令书编号）", ""),
    };
    match first {
        Some(first) => match first
            .documents
            .iter()
            .find(|d| d.kind == DocumentKind::RectificationOrder)
        {
            Some(order) => format!("{} {}", date(order.issued_at), order.number),
            None => format!("{}检查时责令整改{no_number}", date(first.started_at)),
        },
        None => format!("{}发现的隐患{not_held}", date(finding.created_at)),
    }
}
