//! Filling a document's fields from the records.

use serde::{Deserialize, Serialize};

use crate::ids::OrgId;
use crate::model::{
    DocumentKind, Enterprise, EnterpriseSignature, Finding, Inspection, Measure, OrgUnit, Outcome,
};
use crate::packs::{ChecklistPack, PENDING_CHECK_MARK};
use crate::validation::FieldError;

use super::{DocumentNumber, RIGHTS_NOTICE};

/// The bodies a party may turn to against a decision, as the bureau set them (OrgUnit settings):
/// the nearest unit up the tree that names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rights {
    pub review_authority: String,
    pub court: String,
}

impl Rights {
    pub fn for_org(org: OrgId, orgs: &[OrgUnit]) -> Self {
        let chain = crate::org::ancestors(org, orgs);
        let first = |get: fn(&OrgUnit) -> &str| {
            std::iter::once(org)
                .chain(chain.iter().copied())
                .filter_map(|id| orgs.iter().find(|o| o.id == id))
                .map(get)
                .find(|v| !v.trim().is_empty())
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        Self {
            review_authority: first(|o| o.review_authority.as_str()),
            court: first(|o| o.court.as_str()),
        }
    }

    /// Both named.
    pub fn complete(&self) -> bool {
        !self.review_authority.is_empty() && !self.court.is_empty()
    }

    /// The 权利告知: 60 days for 行政复议 (行政复议法 Art. 20), six months for 行政诉讼
    /// (行政诉讼法 Art. 46), naming the bodies when the bureau set them.
    pub fn notice(&self) -> String {
        if !self.complete() {
            return RIGHTS_NOTICE.to_owned();
        }
        format!(
            "如不服本决定，可以自收到本决定书之日起六十日内向{}申请行政复议，\
             或者自收到本决定书之日起六个月内依法向{}提起行政诉讼。\
             复议、诉讼期间，本决定不停止执行。",
            self.review_authority, self.court
        )
    }
}

/// A document filled from the records, ready for the print view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilledDocument {
    pub kind: DocumentKind,
    pub title: String,
    pub fields: Vec<FilledField>,
    /// What should be put right before the document is served (shown on screen, never printed).
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilledField {
    pub key: String,
    pub label: String,
    pub value: String,
    pub required: bool,
}

impl FilledDocument {
    pub fn value(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.value.as_str())
    }

    /// Required fields still empty, as errors for the form.
    pub fn missing(&self) -> Vec<FieldError> {
        self.fields
            .iter()
            .filter(|f| f.required && f.value.trim().is_empty())
            .map(|f| FieldError::new(f.key.clone(), format!("{}：请填写{}", self.title, f.label)))
            .collect()
    }
}

/// What a document is filled from.
#[derive(Debug, Clone, Copy)]
pub struct DocumentSource<'a> {
    pub inspection: &'a Inspection,
    pub enterprise: &'a Enterprise,
    /// Findings of this inspection (for a re-inspection opinion: the re-inspected ones).
    pub findings: &'a [Finding],
    pub number: Option<&'a DocumentNumber>,
    /// For a re-inspection opinion: the date and number of the original order.
    pub original_order: &'a str,
    /// The packs on the device (the inspection's versions are looked up in it).
    pub packs: &'a [ChecklistPack],
    /// The 复议机关 and court of the inspecting unit.
    pub rights: &'a Rights,
}

use crate::time::{document_date as cst_date, document_day, document_minute as cst};

fn basis_of(f: &Finding) -> String {
    let mark = crate::packs::PENDING_CHECK_MARK;
    if f.basis_unverified && !f.legal_basis.contains(mark) {
        format!("{}（{mark}）", f.legal_basis)
    } else {
        f.legal_basis.clone()
    }
}

fn numbered<'a>(
    items: impl Iterator<Item = &'a Finding>,
    line: impl Fn(&Finding) -> String,
) -> String {
    items
        .enumerate()
        .map(|(n, f)| format!("{}. {}", n + 1, line(f)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Per pack used: its standard as cited on the inspection's day, and the answers counted over
/// the items the runner showed (符合 / 不符合 / 不涉及 / 未检查), with the edition notice when
/// there is one.
fn packs_used(src: &DocumentSource<'_>) -> String {
    let i = src.inspection;
    let day = crate::time::china_date(i.started_at);
    let items = crate::fieldwork::items_of(i, src.packs, &src.enterprise.subsectors);
    let mut lines = Vec::new();
    for used in &i.packs {
        let Some(pack) = crate::packs::get_in(src.packs, used.id.as_str(), used.version) else {
            lines.push(format!(
                "检查表 {} 第{}版（本机未存）",
                used.id, used.version
            ));
            continue;
        };
        let edition = pack.standard.edition_on(day);
        let (mut ok, mut bad, mut na, mut open) = (0, 0, 0, 0);
        for (_, item) in items.iter().filter(|(p, _)| p.id == pack.id) {
            match i
                .item_results
                .iter()
                .find(|r| r.item_id == item.id)
                .map(|r| r.outcome)
            {
                Some(Outcome::Compliant) => ok += 1,
                Some(Outcome::NonCompliant) => bad += 1,
                Some(Outcome::NotApplicable) => na += 1,
                None => open += 1,
            }
        }
        // Groups that cite a standard of their own (烟花爆竹 in the chemicals pack) and applied
        // to this site are named with the pack's.
        let mut cited = vec![format!("《{}》（{}）", edition.name, edition.doc_number)];
        for (_, item) in items.iter().filter(|(p, _)| p.id == pack.id) {
            let own = pack
                .groups
                .iter()
                .find(|g| g.id == item.group)
                .and_then(|g| g.standard.as_ref())
                .map(|s| s.edition_on(day));
            if let Some(own) = own {
                let name = format!("《{}》（{}）", own.name, own.doc_number);
                if !cited.contains(&name) {
                    cited.push(name);
                }
            }
        }
        let mut line = format!(
            "{}（依据{}）：符合 {ok} 项，不符合 {bad} 项，不涉及 {na} 项",
            pack.title,
            cited.join("及")
        );
        if open > 0 {
            line.push_str(&format!("，未检查 {open} 项"));
        }
        if !edition.text_found {
            line.push_str(&format!("（{PENDING_CHECK_MARK}：本版条文未核对）"));
        }
        // A newer edition or a supplement the pack does not hold is said on paper too.
        if let Some(notice) = pack.standard.notice_on(day) {
            line.push_str(&format!("\n注：{notice}"));
        }
        lines.push(line);
    }
    if lines.is_empty() {
        "未使用检查表。".to_owned()
    } else {
        lines.join("\n")
    }
}

/// The 全过程记录 line: the recorder, its clip's times, and the announcement recorded on the
/// phone by its hash prefix; empty when nothing was recorded.
fn recording_text(recording: Option<&crate::model::Recording>) -> String {
    let Some(r) = recording else {
        return String::new();
    };
    let mut parts = Vec::new();
    if !r.recorder.trim().is_empty() {
        let clip = match (r.started_at, r.ended_at) {
            (Some(start), Some(end)) => format!("，录像{}至{}", cst(start), cst(end)),
            (Some(start), None) => format!("，录像自{}起", cst(start)),
            _ => String::new(),
        };
        parts.push(format!("执法记录仪{}{clip}", r.recorder.trim()));
    }
    if let Some(hash) = &r.announcement {
        let hash = hash.to_string();
        parts.push(format!("告知录音1段（{}）", hash.get(..8).unwrap_or(&hash)));
    }
    parts.join("；")
}

/// How the team entered and on whose approval: the 扫码入企 record (or why there was none), the
/// 行政检查 approval and notice, the campaign, and the reason for passing the yearly cap; empty
/// for inspections made before these were recorded.
fn entry_text(entry: &crate::plan::Entry) -> String {
    let mut parts = Vec::new();
    if let Some(scan) = &entry.scan {
        let what = match crate::plan::scan::read_code(&scan.text) {
            crate::plan::scan::ScannedCode::CreditCode(_) => "营业执照二维码",
            crate::plan::scan::ScannedCode::Enterprise(_) => "执法监督码",
            crate::plan::scan::ScannedCode::Unknown => "二维码",
        };
        let verdict = if scan.matches {
            "与被检查单位一致"
        } else {
            "与被检查单位不一致"
        };
        parts.push(format!("{}扫码入企（{what}，{verdict}）", cst(scan.at)));
    } else if !entry.no_scan_reason.trim().is_empty() {
        parts.push(format!("未扫码入企：{}", entry.no_scan_reason.trim()));
    }
    if let Some(a) = &entry.approval {
        let reference = if a.reference.trim().is_empty() {
            String::new()
        } else {
            format!("，{}", a.reference.trim())
        };
        parts.push(format!(
            "经{}于{}批准{reference}",
            a.by.trim(),
            document_day(a.on)
        ));
    }
    if let Some(n) = &entry.notice {
        parts.push(format!(
            "于{}以{}方式通知",
            document_day(n.on),
            n.method.trim()
        ));
    }
    if !entry.campaign.trim().is_empty() {
        parts.push(format!("专项行动：{}", entry.campaign.trim()));
    }
    if let Some(o) = &entry.over_cap {
        parts.push(format!(
            "本年度第{}次检查（上限{}次），理由：{}",
            o.visits + 1,
            o.cap,
            o.reason.label_zh()
        ));
    }
    parts.join("；")
}

/// The photo index: each evidence photo numbered in finding order (影像1, 影像2 …) with the
/// start of its content hash, so the paper points at the file, then the finding it shows.
fn photo_index(findings: &[&Finding]) -> String {
    let mut n = 0;
    let mut lines = Vec::new();
    for (k, f) in findings.iter().enumerate() {
        if f.photos.is_empty() {
            continue;
        }
        let names: Vec<String> = f
            .photos
            .iter()
            .map(|h| {
                n += 1;
                let hash = h.to_string();
                format!("影像{n}（{}）", hash.get(..8).unwrap_or(&hash))
            })
            .collect();
        lines.push(format!(
            "{} → 问题{}：{}",
            names.join("、"),
            k + 1,
            f.description
        ));
    }
    if lines.is_empty() {
        "无。".to_owned()
    } else {
        lines.join("\n")
    }
}

/// The 文书送达回执 of an inspection: every served document with how, when and to whom; None
/// until one was served.
pub fn service_receipt(src: &DocumentSource<'_>) -> Option<FilledDocument> {
    use crate::model::Service;
    let i = src.inspection;
    let served: Vec<(&crate::model::IssuedDocument, &Service)> = i
        .documents
        .iter()
        .filter_map(|d| d.service.as_ref().map(|s| (d, s)))
        .collect();
    if served.is_empty() {
        return None;
    }
    let per = |line: &dyn Fn(&Service) -> String| {
        served
            .iter()
            .map(|(d, s)| format!("{}：{}", d.kind.title_zh(), line(s)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let inspectors = i
        .inspectors
        .iter()
        .map(|x| format!("{}（执法证号：{}）", x.name, x.certificate_no))
        .collect::<Vec<_>>()
        .join("、");
    let value = |key: &str| -> String {
        match key {
            "served" => served
                .iter()
                .map(|(d, _)| format!("{} {}", d.kind.title_zh(), d.number))
                .collect::<Vec<_>>()
                .join("\n"),
            "recipient" => src.enterprise.name.clone(),
            "place" => src.enterprise.address.clone(),
            "method" => per(&|s| s.method_zh().to_owned()),
            "receipt" => {
                let signed: Vec<String> = served
                    .iter()
                    .filter_map(|(d, s)| match s {
                        Service::Signed { recipient, at, .. } => Some(format!(
                            "{}：{recipient}，{}签收",
                            d.kind.title_zh(),
                            cst(*at)
                        )),
                        Service::Left { .. } => None,
                    })
                    .collect();
                signed.join("\n")
            }
            "refusal" => {
                let left: Vec<String> = served
                    .iter()
                    .filter_map(|(d, s)| match s {
                        Service::Left {
                            recipient,
                            witness,
                            note,
                            at,
                        } => Some(format!(
                            "{}：{recipient}于{}拒绝签收，已留置送达。见证人：{witness}。{note}",
                            d.kind.title_zh(),
                            cst(*at)
                        )),
                        Service::Signed { .. } => None,
                    })
                    .collect();
                left.join("\n")
            }
            "servers" => inspectors.clone(),
            "date" => {
                let mut days: Vec<String> = served
                    .iter()
                    .map(|(_, s)| crate::time::document_date(s.at()))
                    .collect();
                days.dedup();
                days.join("、")
            }
            _ => String::new(),
        }
    };
    let kind = DocumentKind::ServiceReceipt;
    Some(FilledDocument {
        kind,
        title: kind.title_zh().to_owned(),
        fields: kind
            .fields()
            .iter()
            .map(|d| FilledField {
                key: d.key.to_owned(),
                label: d.label.to_owned(),
                value: value(d.key),
                required: d.required,
            })
            .collect(),
        notes: Vec::new(),
    })
}

/// Fills a document's fields from the records.
pub fn fill(kind: DocumentKind, src: &DocumentSource<'_>) -> FilledDocument {
    let i = src.inspection;
    let e = src.enterprise;
    let relevant: Vec<&Finding> = match kind {
        DocumentKind::RectificationOrder => src
            .findings
            .iter()
            .filter(|f| f.measure == Measure::Deadline)
            .collect(),
        DocumentKind::OnSiteMeasures => src
            .findings
            .iter()
            .filter(|f| matches!(f.measure, Measure::SuspendOperations | Measure::StopWork))
            .collect(),
        _ => src.findings.iter().collect(),
    };
    let inspectors = i
        .inspectors
        .iter()
        .map(|x| format!("{}（执法证号：{}）", x.name, x.certificate_no))
        .collect::<Vec<_>>()
        .join("、");
    let date = cst_date(i.finished_at.unwrap_or(i.started_at));
    let value = |key: &str| -> String {
        match key {
            "number" => src.number.map(ToString::to_string).unwrap_or_default(),
            "enterprise" => e.name.clone(),
            "address" => e.address.clone(),
            "legal_representative" => e.legal_representative.clone(),
            "contact_phone" => e.contact_phone.clone(),
            "places" => i.places.clone(),
            "time" => match i.finished_at {
                Some(end) => format!("{} 至 {}", cst(i.started_at), cst(end)),
                None => format!("{} 起", cst(i.started_at)),
            },
            "inspectors" => inspectors.clone(),
            "situation" => {
                let mut s = i.summary.clone();
                if !relevant.is_empty() {
                    if !s.is_empty() {
                        s.push('\n');
                    }
                    s.push_str("发现的问题：\n");
                    s.push_str(&numbered(relevant.iter().copied(), |f| {
                        format!("{}（{}，{}）", f.description, f.place, f.level.label_zh())
                    }));
                } else if s.is_empty() {
                    s = "未发现问题。".to_owned();
                }
                s
            }
            "inspector_signatures" => i
                .inspector_signatures
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
            "enterprise_signature" => match &i.enterprise_signature {
                Some(EnterpriseSignature::Signed { signer_name, .. }) => signer_name.clone(),
                Some(EnterpriseSignature::Refused {
                    witness_name, note, ..
                }) => {
                    format!("拒绝签字。见证人：{witness_name}。{note}")
                }
                None => String::new(),
            },
            "problems" => format!(
                "经查，你单位存在下列问题：\n{}",
                numbered(relevant.iter().copied(), |f| format!(
                    "{}（{}）",
                    f.description, f.place
                ))
            ),
            "basis" => numbered(relevant.iter().copied(), basis_of),
            "requirement" => numbered(relevant.iter().copied(), |f| match f.deadline {
                Some(d) => format!("责令于{}前整改完毕", document_day(d)),
                None => String::new(),
            }),
            "measures" => numbered(relevant.iter().copied(), |f| {
                let by = f.deadline.map(|d| format!("，期限至{}", document_day(d)));
                format!("{}{}", f.measure.label_zh(), by.unwrap_or_default())
            }),
            "receipt" => {
                let number = src.number.map(ToString::to_string);
                let issued = i
                    .documents
                    .iter()
                    .find(|d| Some(&d.number) == number.as_ref());
                match issued.and_then(|d| d.service.as_ref()) {
                    Some(crate::model::Service::Signed { recipient, at, .. }) => {
                        format!("{recipient}（{}签收）", cst(*at))
                    }
                    Some(crate::model::Service::Left {
                        recipient, witness, ..
                    }) => format!("{recipient}拒绝签收，已留置送达（见证人：{witness}）"),
                    None => String::new(),
                }
            }
            "rights" => src.rights.notice(),
            "packs" => packs_used(src),
            "photo_index" => photo_index(&relevant),
            "recording" => recording_text(i.recording.as_ref()),
            "entry" => entry_text(&i.entry),
            "original_order" => src.original_order.to_owned(),
            "opinion" => numbered(relevant.iter().copied(), |f| {
                let verdict = match (f.status, f.deadline) {
                    (
                        crate::model::FindingStatus::Verified | crate::model::FindingStatus::Closed,
                        _,
                    ) => "已整改".to_owned(),
                    (_, Some(day)) => format!("未整改完毕，责令于{}前整改完毕", document_day(day)),
                    (_, None) => "未整改完毕".to_owned(),
                };
                format!("{}：{}", f.description, verdict)
            }),
            "date" => date.clone(),
            _ => String::new(),
        }
    };
    let mut notes = Vec::new();
    let has_rights = kind.fields().iter().any(|d| d.key == "rights");
    if has_rights && !src.rights.complete() {
        notes.push(
            "权利告知未写明行政复议机关和人民法院：请管理员在单位设置中填写后再送达。".to_owned(),
        );
    }
    for (n, f) in relevant.iter().enumerate() {
        if let Some(issue) = crate::fieldwork::description_issue(&f.description) {
            notes.push(format!("第{}项问题：{issue}", n + 1));
        }
    }
    FilledDocument {
        notes,
        kind,
        title: kind.title_zh().to_owned(),
        fields: kind
            .fields()
            .iter()
            .map(|d| FilledField {
                key: d.key.to_owned(),
                label: d.label.to_owned(),
                value: value(d.key),
                required: d.required,
            })
            .collect(),
    }
}
