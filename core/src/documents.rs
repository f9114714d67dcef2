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
//! the org, and the sequence counts per device, type and year. Two devices therefore never
//! produce the same number, with no network needed at the time of issue.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{
    DocumentKind, Enterprise, EnterpriseSignature, Finding, Inspection, InspectionKind, Measure,
};
use crate::validation::FieldError;

/// Text of the 权利告知 printed on orders and decisions.
pub const RIGHTS_NOTICE: &str =
    "如不服本决定，可依法申请行政复议或者提起行政诉讼；复议、诉讼期间本决定不停止执行。";

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
        }
    }

    /// The type code inside document numbers.
    pub fn code(self) -> &'static str {
        match self {
            DocumentKind::InspectionRecord => "检记",
            DocumentKind::RectificationOrder => "责改",
            DocumentKind::OnSiteMeasures => "现决",
            DocumentKind::ReinspectionOpinion => "复查",
        }
    }

    /// The fields of the document, in print order.
    pub fn fields(self) -> &'static [DocField] {
        match self {
            DocumentKind::InspectionRecord => INSPECTION_RECORD,
            DocumentKind::RectificationOrder => RECTIFICATION_ORDER,
            DocumentKind::OnSiteMeasures => ON_SITE_MEASURES,
            DocumentKind::ReinspectionOpinion => REINSPECTION_OPINION,
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
    f("inspectors", "检查人员及执法证号", true),
    f("situation", "检查情况", true),
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

/// The findings made during `inspection` (others in `findings` are ignored).
fn own<'a>(
    inspection: &'a Inspection,
    findings: &'a [Finding],
) -> impl Iterator<Item = &'a Finding> {
    findings
        .iter()
        .filter(move |f| f.inspection_id == inspection.id)
}

/// Which documents an inspection requires: the inspection record always; a rectification order
/// when any finding is 限期整改; an on-site measures decision for 停产停业整顿 or 责令暂时停止作业;
/// a re-inspection opinion when findings were re-inspected.
pub fn required_documents(inspection: &Inspection, findings: &[Finding]) -> Vec<DocumentKind> {
    let mut kinds = vec![DocumentKind::InspectionRecord];
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

/// Why a device code is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("设备编码须为 1–4 位大写字母或数字，且以字母开头（不含 I、O）")]
pub struct InvalidDeviceCode;

/// Letters that cannot be mistaken for digits when read off paper.
const CODE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

/// A short per-org device code issued by the server at login (e.g. `A7`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct DeviceCode(String);

impl DeviceCode {
    pub fn parse(s: &str) -> Result<Self, InvalidDeviceCode> {
        let b = s.as_bytes();
        let ok = (1..=4).contains(&b.len())
            && CODE_LETTERS.contains(&b[0])
            && b[1..]
                .iter()
                .all(|c| CODE_LETTERS.contains(c) || c.is_ascii_digit());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidDeviceCode)
        }
    }

    /// The n-th code of an org, for the server to hand out in order: `A0`…`Z9` (240 codes),
    /// then `A00`…`Z99`, then `A000`…`Z999`: distinct for the first 26,640 indexes, far more
    /// devices than one authority has.
    pub fn from_index(n: u32) -> Self {
        let letters = CODE_LETTERS.len() as u32;
        let (mut n, mut digits) = (n, 1u32);
        loop {
            let block = letters * 10u32.pow(digits);
            if n < block || digits == 3 {
                break;
            }
            n -= block;
            digits += 1;
        }
        let pow = 10u32.pow(digits);
        let letter = CODE_LETTERS[((n / pow) % letters) as usize] as char;
        Self(format!(
            "{letter}{:0width$}",
            n % pow,
            width = digits as usize
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DeviceCode {
    type Error = InvalidDeviceCode;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<DeviceCode> for String {
    fn from(c: DeviceCode) -> String {
        c.0
    }
}

impl fmt::Display for DeviceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A document number; see the module docs for the format.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DocumentNumber {
    pub org_code: String,
    pub kind: DocumentKind,
    pub year: i32,
    pub device: DeviceCode,
    pub seq: u32,
}

impl fmt::Display for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}〔{}〕{}-{:04}号",
            self.org_code,
            self.kind.code(),
            self.year,
            self.device,
            self.seq
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("文书编号格式不正确")]
pub struct InvalidDocumentNumber;

impl FromStr for DocumentNumber {
    type Err = InvalidDocumentNumber;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_suffix('号').ok_or(InvalidDocumentNumber)?;
        let (head, rest) = s.split_once('〔').ok_or(InvalidDocumentNumber)?;
        let (year, tail) = rest.split_once('〕').ok_or(InvalidDocumentNumber)?;
        let (device, seq) = tail.rsplit_once('-').ok_or(InvalidDocumentNumber)?;
        let kind = DocumentKind::ALL
            .into_iter()
            .find(|k| head.ends_with(k.code()))
            .ok_or(InvalidDocumentNumber)?;
        let org_code = head
            .strip_suffix(kind.code())
            .ok_or(InvalidDocumentNumber)?;
        if org_code.is_empty() {
            return Err(InvalidDocumentNumber);
        }
        Ok(Self {
            org_code: org_code.to_owned(),
            kind,
            year: year.parse().map_err(|_| InvalidDocumentNumber)?,
            device: DeviceCode::parse(device).map_err(|_| InvalidDocumentNumber)?,
            seq: seq.parse().map_err(|_| InvalidDocumentNumber)?,
        })
    }
}

/// The last sequence used for one (type, year) on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterEntry {
    pub kind: DocumentKind,
    pub year: i32,
    pub last: u32,
}

/// The device's document counters, persisted on the device with the documents they number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentCounter {
    pub device: DeviceCode,
    #[serde(default)]
    pub entries: Vec<CounterEntry>,
}

impl DocumentCounter {
    pub fn new(device: DeviceCode) -> Self {
        Self {
            device,
            entries: Vec::new(),
        }
    }

    /// Allocates the next number of `kind` for the year of `at` (China Standard Time).
    pub fn allocate(
        &mut self,
        org_code: &str,
        kind: DocumentKind,
        at: DateTime<Utc>,
    ) -> DocumentNumber {
        use chrono::Datelike;
        let year = crate::time::china_date(at).year();
        let last = match self
            .entries
            .iter_mut()
            .find(|e| e.kind == kind && e.year == year)
        {
            Some(e) => {
                e.last += 1;
                e.last
            }
            None => {
                self.entries.push(CounterEntry {
                    kind,
                    year,
                    last: 1,
                });
                1
            }
        };
        DocumentNumber {
            org_code: org_code.to_owned(),
            kind,
            year,
            device: self.device.clone(),
            seq: last,
        }
    }
}

/// A document filled from the records, ready for the print view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilledDocument {
    pub kind: DocumentKind,
    pub title: String,
    pub fields: Vec<FilledField>,
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
            "rights" => RIGHTS_NOTICE.to_owned(),
            "original_order" => src.original_order.to_owned(),
            "opinion" => numbered(relevant.iter().copied(), |f| {
                let verdict = match f.status {
                    crate::model::FindingStatus::Verified | crate::model::FindingStatus::Closed => {
                        "已整改"
                    }
                    _ => "未整改完毕",
                };
                format!("{}：{}", f.description, verdict)
            }),
            "date" => date.clone(),
            _ => String::new(),
        }
    };
    FilledDocument {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::FindingId;
    use crate::model::{FindingStatus, IssuedDocument, Level};
    use crate::protocol::tests::{enterprise, finding, inspection, t0};
    use chrono::{Duration, TimeZone};
    use std::collections::HashSet;

    fn finding_of(i: &Inspection, measure: Measure) -> Finding {
        let mut f = finding();
        f.inspection_id = i.id;
        f.measure = measure;
        f
    }

    #[test]
    fn inspection_record_is_always_required() {
        let i = inspection();
        assert_eq!(
            required_documents(&i, &[]),
            vec![DocumentKind::InspectionRecord]
        );
    }

    #[test]
    fn a_deadline_finding_requires_a_rectification_order() {
        let i = inspection();
        let f = finding_of(&i, Measure::Deadline);
        assert_eq!(
            required_documents(&i, &[f]),
            vec![
                DocumentKind::InspectionRecord,
                DocumentKind::RectificationOrder
            ]
        );
    }

    #[test]
    fn suspension_or_stop_work_requires_an_on_site_measures_decision() {
        let i = inspection();
        for m in [Measure::SuspendOperations, Measure::StopWork] {
            let docs = required_documents(&i, &[finding_of(&i, m)]);
            assert_eq!(
                docs,
                vec![DocumentKind::InspectionRecord, DocumentKind::OnSiteMeasures]
            );
        }
        for m in [Measure::Immediate, Measure::FileCase] {
            assert_eq!(
                required_documents(&i, &[finding_of(&i, m)]),
                vec![DocumentKind::InspectionRecord]
            );
        }
    }

    #[test]
    fn reinspection_requires_a_reinspection_opinion() {
        let mut i = inspection();
        i.kind = InspectionKind::Reinspection;
        assert!(required_documents(&i, &[]).contains(&DocumentKind::ReinspectionOpinion));
        let mut j = inspection();
        j.reinspected_findings = vec![FindingId::new()];
        assert!(required_documents(&j, &[]).contains(&DocumentKind::ReinspectionOpinion));
    }

    #[test]
    fn findings_of_other_inspections_do_not_require_documents() {
        let i = inspection();
        let other = finding(); // different inspection_id
        assert_eq!(
            required_documents(&i, &[other]),
            vec![DocumentKind::InspectionRecord]
        );
    }

    #[test]
    fn missing_documents_excludes_those_already_numbered() {
        let mut i = inspection();
        let f = finding_of(&i, Measure::Deadline);
        i.documents.push(IssuedDocument {
            kind: DocumentKind::InspectionRecord,
            number: "达旗应急检记〔2026〕A0-0001号".into(),
            issued_at: t0(),
        });
        assert_eq!(
            missing_documents(&i, &[f]),
            vec![DocumentKind::RectificationOrder]
        );
    }

    #[test]
    fn document_number_formats_and_parses_back() {
        let n = DocumentNumber {
            org_code: "达旗应急".into(),
            kind: DocumentKind::RectificationOrder,
            year: 2026,
            device: DeviceCode::parse("A7").unwrap(),
            seq: 3,
        };
        assert_eq!(n.to_string(), "达旗应急责改〔2026〕A7-0003号");
        assert_eq!(n.to_string().parse::<DocumentNumber>().unwrap(), n);
        assert!(
            "达旗应急责改〔2026〕A7-0003"
                .parse::<DocumentNumber>()
                .is_err()
        );
        assert!(
            "达旗应急其他〔2026〕A7-0003号"
                .parse::<DocumentNumber>()
                .is_err()
        );
        assert!("责改〔2026〕A7-0003号".parse::<DocumentNumber>().is_err());
    }

    #[test]
    fn two_devices_offline_on_the_same_day_never_collide() {
        let mut a = DocumentCounter::new(DeviceCode::from_index(0));
        let mut b = DocumentCounter::new(DeviceCode::from_index(1));
        let day = Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap();
        let mut seen = HashSet::new();
        for n in 0..50 {
            for kind in DocumentKind::ALL {
                let at = day + Duration::minutes(n);
                assert!(seen.insert(a.allocate("达旗应急", kind, at).to_string()));
                assert!(seen.insert(b.allocate("达旗应急", kind, at).to_string()));
            }
        }
        assert_eq!(seen.len(), 400);
    }

    #[test]
    fn sequence_counts_per_type_and_restarts_each_year_in_china_time() {
        let mut c = DocumentCounter::new(DeviceCode::parse("B3").unwrap());
        let t = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
        assert_eq!(c.allocate("X", DocumentKind::InspectionRecord, t).seq, 1);
        assert_eq!(c.allocate("X", DocumentKind::InspectionRecord, t).seq, 2);
        assert_eq!(c.allocate("X", DocumentKind::RectificationOrder, t).seq, 1);
        // 2026-12-31 17:00 UTC is already 2027-01-01 in China.
        let new_year = Utc.with_ymd_and_hms(2026, 12, 31, 17, 0, 0).unwrap();
        let n = c.allocate("X", DocumentKind::InspectionRecord, new_year);
        assert_eq!((n.year, n.seq), (2027, 1));
    }

    #[test]
    fn counter_survives_persistence_without_reusing_numbers() {
        let mut c = DocumentCounter::new(DeviceCode::parse("C1").unwrap());
        let first = c.allocate("X", DocumentKind::InspectionRecord, t0());
        let stored = serde_json::to_string(&c).unwrap();
        let mut restored: DocumentCounter = serde_json::from_str(&stored).unwrap();
        assert_ne!(
            restored.allocate("X", DocumentKind::InspectionRecord, t0()),
            first
        );
    }

    #[test]
    fn device_codes_from_distinct_indexes_are_distinct_and_valid() {
        let mut seen = HashSet::new();
        for n in 0..26_640 {
            let code = DeviceCode::from_index(n);
            assert!(DeviceCode::parse(code.as_str()).is_ok(), "{code}");
            assert!(seen.insert(code), "index {n} repeats a code");
        }
        assert_eq!(DeviceCode::from_index(0).as_str(), "A0");
        assert_eq!(DeviceCode::from_index(239).as_str(), "Z9");
        assert_eq!(DeviceCode::from_index(240).as_str(), "A00");
    }

    #[test]
    fn device_code_rejects_ambiguous_or_malformed_codes() {
        for bad in ["", "7A", "a7", "O1", "I2", "ABCDE", "A-1"] {
            assert!(DeviceCode::parse(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<DeviceCode>("\"a1\"").is_err());
    }

    #[test]
    fn every_document_has_a_number_and_inspectors_field() {
        for kind in DocumentKind::ALL {
            let keys: Vec<_> = kind.fields().iter().map(|f| f.key).collect();
            assert!(
                keys.contains(&"number") && keys.contains(&"inspectors"),
                "{kind:?}"
            );
            assert!(keys.contains(&"enterprise"), "{kind:?}");
        }
        let record: Vec<_> = DocumentKind::InspectionRecord
            .fields()
            .iter()
            .map(|f| f.label)
            .collect();
        for label in [
            "被检查单位",
            "地址",
            "法定代表人（负责人）",
            "检查时间",
            "检查场所",
            "检查人员及执法证号",
            "检查情况",
        ] {
            assert!(record.contains(&label), "{label}");
        }
    }

    #[test]
    fn filled_rectification_order_lists_problems_basis_and_deadline() {
        let mut i = inspection();
        i.finished_at = Some(t0() + Duration::hours(2));
        let e = enterprise();
        let mut f = finding_of(&i, Measure::Deadline);
        f.basis_unverified = true;
        let immediate = {
            let mut g = finding_of(&i, Measure::Immediate);
            g.level = Level::General;
            g.description = "灭火器过期".into();
            g
        };
        let mut counter = DocumentCounter::new(DeviceCode::parse("A7").unwrap());
        let number = counter.allocate("达旗应急", DocumentKind::RectificationOrder, t0());
        let findings = [f, immediate];
        let doc = fill(
            DocumentKind::RectificationOrder,
            &DocumentSource {
                inspection: &i,
                enterprise: &e,
                findings: &findings,
                number: Some(&number),
                original_order: "",
            },
        );
        assert_eq!(doc.value("number"), Some("达旗应急责改〔2026〕A7-0001号"));
        assert!(
            doc.value("problems")
                .unwrap()
                .contains("1. 1302工作面存在串联通风")
        );
        assert!(
            !doc.value("problems").unwrap().contains("灭火器过期"),
            "only 限期整改 items"
        );
        assert!(
            doc.value("basis")
                .unwrap()
                .ends_with("第八条（三）（条文待核）")
        );
        assert!(
            doc.value("requirement")
                .unwrap()
                .contains("2026年3月20日前整改完毕")
        );
        assert_eq!(doc.value("rights"), Some(RIGHTS_NOTICE));
        assert!(
            doc.value("inspectors")
                .unwrap()
                .contains("张三（执法证号：15060001）")
        );
        assert!(doc.missing().is_empty(), "{:?}", doc.missing());
    }

    #[test]
    fn filled_inspection_record_shows_times_in_china_time_and_reports_missing_fields() {
        let mut i = inspection();
        i.finished_at = Some(t0() + Duration::hours(2));
        let e = enterprise();
        let doc = fill(
            DocumentKind::InspectionRecord,
            &DocumentSource {
                inspection: &i,
                enterprise: &e,
                findings: &[],
                number: None,
                original_order: "",
            },
        );
        assert_eq!(
            doc.value("time"),
            Some("2026年3月2日9时30分 至 2026年3月2日11时30分")
        );
        assert_eq!(doc.value("situation"), Some("未发现问题。"));
        let missing = doc.missing();
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].field, "number");
        assert_eq!(missing[0].message, "现场检查记录：请填写文书编号");
    }

    #[test]
    fn reinspection_opinion_states_each_finding_result() {
        let mut i = inspection();
        i.kind = InspectionKind::Reinspection;
        let e = enterprise();
        let mut done = finding();
        done.status = FindingStatus::Verified;
        let mut open = finding();
        open.status = FindingStatus::Rectifying;
        open.description = "水仓容量不足".into();
        let doc = fill(
            DocumentKind::ReinspectionOpinion,
            &DocumentSource {
                inspection: &i,
                enterprise: &e,
                findings: &[done, open],
                number: None,
                original_order: "2026年3月2日 达旗应急责改〔2026〕A7-0001号",
            },
        );
        let opinion = doc.value("opinion").unwrap();
        assert!(opinion.contains("1302工作面存在串联通风：已整改"));
        assert!(opinion.contains("水仓容量不足：未整改完毕"));
    }
}
