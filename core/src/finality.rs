//! Finished is final: once an inspection's documents are issued, the inspection and its findings
//! change only by a recorded correction (`model::Correction`: who, when, why, which fields),
//! never silently. The same rule runs on the phone before it saves and on the server before it
//! applies a save.
//!
//! What may still happen after issue without a correction, because the work goes on:
//! - an inspection: a document served (`service` set where it was none), documents appended,
//!   signatures drawn (`inspector_signatures`, `enterprise_signature`), the 全过程记录
//!   (`recording`), `finished_at` set the first time;
//! - a finding: its lifecycle (`status`, `history`, `supervised`, `after_photos`), which the
//!   `lifecycle` steps change and record in its history.
//!
//! Anything else is a content change. It must come with exactly one new `Correction` appended
//! to the record's list (several when a device merged several unsent saves into one mutation,
//! see `outbox::plan_edit`), each with a reason (trimmed, at most `REASON_MAX_CHARS`) by the
//! writer, naming the changed fields as `inspection_changes` / `finding_changes` compute them.
//! Earlier corrections are never removed or edited, and an issued document is never removed
//! or renumbered, correction or not.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use crate::ids::UserId;
use crate::model::{Correction, Finding, Inspection};
use crate::protocol::ErrorBody;
use crate::revision::{self, FindingField};

/// The longest reason a correction may give, in characters.
pub const REASON_MAX_CHARS: usize = 500;

/// The fields of a finding that are its content (what the documents state about it).
const FINDING_CONTENT: [FindingField; 9] = [
    FindingField::ItemId,
    FindingField::Description,
    FindingField::Place,
    FindingField::Level,
    FindingField::LegalBasis,
    FindingField::BasisUnverified,
    FindingField::Measure,
    FindingField::Deadline,
    FindingField::Photos,
];

/// The fields of an inspection that are its content, with their labels. `documents` stands for
/// a change to the service of a document already served.
const INSPECTION_CONTENT: [(&str, &str); 13] = [
    ("enterprise_id", "被检查单位"),
    ("kind", "检查类型"),
    ("packs", "检查表"),
    ("inspectors", "检查人员"),
    ("started_at", "检查开始时间"),
    ("check_in", "现场签到"),
    ("places", "检查场所"),
    ("item_results", "检查项结果"),
    ("summary", "检查情况"),
    ("reinspected_findings", "复查的隐患"),
    ("fire_venues", "火灾隐患场所类型"),
    ("finished_at", "检查结束时间"),
    ("documents", "文书送达记录"),
];

/// The JSON name of a finding field (`description`, `legal_basis`, …).
fn finding_field_name(field: FindingField) -> &'static str {
    match field {
        FindingField::InspectionId => "inspection_id",
        FindingField::EnterpriseId => "enterprise_id",
        FindingField::OrgId => "org_id",
        FindingField::ItemId => "item_id",
        FindingField::Description => "description",
        FindingField::Place => "place",
        FindingField::Level => "level",
        FindingField::LegalBasis => "legal_basis",
        FindingField::BasisUnverified => "basis_unverified",
        FindingField::Measure => "measure",
        FindingField::Deadline => "deadline",
        FindingField::Photos => "photos",
        FindingField::AfterPhotos => "after_photos",
        FindingField::Status => "status",
        FindingField::Supervised => "supervised",
        FindingField::CreatedBy => "created_by",
        FindingField::CreatedAt => "created_at",
        FindingField::History => "history",
    }
}

/// The Chinese label of a field named in a correction (a finding's or an inspection's); the
/// name itself when it is neither.
pub fn field_label_zh(name: &str) -> &str {
    FINDING_CONTENT
        .iter()
        .find(|f| finding_field_name(**f) == name)
        .map(|f| f.label_zh())
        .or_else(|| {
            INSPECTION_CONTENT
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, label)| *label)
        })
        .unwrap_or(name)
}

/// True for the name of a content field of a finding or an inspection.
fn is_content_field(name: &str) -> bool {
    FINDING_CONTENT
        .iter()
        .any(|f| finding_field_name(*f) == name)
        || INSPECTION_CONTENT.iter().any(|(n, _)| *n == name)
}

/// The labels of `fields`, joined with 、.
pub fn labels_zh(fields: &[String]) -> String {
    fields
        .iter()
        .map(|f| field_label_zh(f))
        .collect::<Vec<_>>()
        .join("、")
}

/// True once documents were issued for the inspection.
pub fn issued(inspection: &Inspection) -> bool {
    !inspection.documents.is_empty()
}

/// Why a save of a record whose documents were issued is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FinalityError {
    /// Content changed without a correction.
    #[error("本检查已出具执法文书，修改须作为更正记录并填写更正理由（修改了：{}）", labels_zh(.fields))]
    CorrectionRequired { fields: Vec<String> },
    #[error("请填写更正理由")]
    ReasonMissing,
    #[error("更正理由不能超过 {REASON_MAX_CHARS} 字")]
    ReasonTooLong,
    /// A new correction names someone other than the user who saves it.
    #[error("更正记录的更正人须为当前用户")]
    NotTheWriter,
    /// The correction's fields are not the fields that changed.
    #[error("更正记录所列字段与实际修改不符：实际修改了{}", labels_zh(.changed))]
    FieldsMismatch {
        changed: Vec<String>,
        listed: Vec<String>,
    },
    #[error("已有的更正记录不能删除或修改")]
    CorrectionsAltered,
    #[error("已出具的执法文书不能删除或改号：{number}")]
    DocumentRemoved { number: String },
}

impl FinalityError {
    /// The protocol error body of a rejected ack: `correction_required`, naming `corrections`
    /// (or `documents` for an issued document removed).
    pub fn to_error_body(&self) -> ErrorBody {
        let field = match self {
            FinalityError::DocumentRemoved { .. } => "documents",
            _ => "corrections",
        };
        ErrorBody::new("correction_required", self.to_string()).with_field(field)
    }
}

/// The content fields of a finding in which `new` differs from `stored`, by JSON name, in the
/// finding's field order. Lifecycle fields and identity (kept as stored by `lifecycle::act`)
/// are not content.
pub fn finding_changes(stored: &Finding, new: &Finding) -> Vec<String> {
    revision::changed_fields(stored, new)
        .into_iter()
        .filter(|f| FINDING_CONTENT.contains(f))
        .map(|f| finding_field_name(f).to_owned())
        .collect()
}

/// The content fields of an inspection in which `new` differs from `stored`, by JSON name.
/// Not content: what may still be added after issue (see the module's notes), `created_by` and
/// `org_id` (kept as stored by the server), and the corrections themselves.
pub fn inspection_changes(stored: &Inspection, new: &Inspection) -> Vec<String> {
    let served_changed = stored.documents.iter().any(|old| {
        old.service.is_some()
            && new
                .documents
                .iter()
                .find(|d| d.number == old.number)
                .is_some_and(|d| d.service != old.service)
    });
    let differs = |name: &str| match name {
        "enterprise_id" => stored.enterprise_id != new.enterprise_id,
        "kind" => stored.kind != new.kind,
        "packs" => stored.packs != new.packs,
        "inspectors" => stored.inspectors != new.inspectors,
        "started_at" => stored.started_at != new.started_at,
        "check_in" => stored.check_in != new.check_in,
        "places" => stored.places != new.places,
        "item_results" => stored.item_results != new.item_results,
        "summary" => stored.summary != new.summary,
        "reinspected_findings" => stored.reinspected_findings != new.reinspected_findings,
        "fire_venues" => stored.fire_venues != new.fire_venues,
        "finished_at" => stored.finished_at.is_some() && stored.finished_at != new.finished_at,
        "documents" => served_changed,
        _ => false,
    };
    INSPECTION_CONTENT
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| differs(name))
        .map(str::to_owned)
        .collect()
}

/// The reason as stored: trimmed, present, not too long.
pub fn check_reason(reason: &str) -> Result<String, FinalityError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(FinalityError::ReasonMissing);
    }
    if reason.chars().count() > REASON_MAX_CHARS {
        return Err(FinalityError::ReasonTooLong);
    }
    Ok(reason.to_owned())
}

/// The corrections `new` appends to `stored`'s, or why they are not appended ones.
fn appended<'a>(
    stored: &[Correction],
    new: &'a [Correction],
) -> Result<&'a [Correction], FinalityError> {
    match new.strip_prefix(stored) {
        Some(added) => Ok(added),
        None => Err(FinalityError::CorrectionsAltered),
    }
}

/// Checks the corrections a save appends: each well formed and by `writer`; when `changed` is
/// not empty (a content change after issue), at least one, naming exactly the changed fields
/// (together, when several saves were merged into one).
fn check_appended(
    added: &[Correction],
    changed: Vec<String>,
    writer: UserId,
) -> Result<(), FinalityError> {
    for correction in added {
        check_reason(&correction.reason)?;
        if correction.by != writer {
            return Err(FinalityError::NotTheWriter);
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    if added.is_empty() {
        return Err(FinalityError::CorrectionRequired { fields: changed });
    }
    let listed: Vec<String> = added
        .iter()
        .flat_map(|c| c.fields.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let wanted: BTreeSet<&String> = changed.iter().collect();
    let named: BTreeSet<&String> = listed.iter().collect();
    let fits = if added.len() == 1 {
        named == wanted
    } else {
        // Merged saves: every changed field named by one of them, and nothing but fields.
        wanted.is_subset(&named)
            && named.iter().all(|n| is_content_field(n))
            && added.iter().all(|c| !c.fields.is_empty())
    };
    if fits {
        Ok(())
    } else {
        Err(FinalityError::FieldsMismatch { changed, listed })
    }
}

/// May `writer` replace the stored inspection with `new`? (Before issue: yes, apart from the
/// corrections list, which only grows.)
pub fn check_inspection(
    stored: &Inspection,
    new: &Inspection,
    writer: UserId,
) -> Result<(), FinalityError> {
    let added = appended(&stored.corrections, &new.corrections)?;
    for old in &stored.documents {
        let kept = new
            .documents
            .iter()
            .any(|d| d.number == old.number && d.kind == old.kind && d.issued_at == old.issued_at);
        if !kept {
            return Err(FinalityError::DocumentRemoved {
                number: old.number.clone(),
            });
        }
    }
    let changed = if issued(stored) {
        inspection_changes(stored, new)
    } else {
        Vec::new()
    };
    check_appended(added, changed, writer)
}

/// May `writer` replace the stored finding with `new` (the finding as it would be stored, after
/// `lifecycle::act`)? `issued`: its inspection, as stored, has documents.
pub fn check_finding(
    stored: &Finding,
    new: &Finding,
    issued: bool,
    writer: UserId,
) -> Result<(), FinalityError> {
    let added = appended(&stored.corrections, &new.corrections)?;
    let changed = if issued {
        finding_changes(stored, new)
    } else {
        Vec::new()
    };
    check_appended(added, changed, writer)
}

/// The phone's side: `edited` ready to save over `stored`. When its inspection's documents are
/// issued and content changed, one correction by `by` with `reason` is appended, naming the
/// changed fields; otherwise `edited` is returned as it is. Refused without a usable reason.
pub fn correct_finding(
    stored: &Finding,
    mut edited: Finding,
    issued: bool,
    by: UserId,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<Finding, FinalityError> {
    let fields = finding_changes(stored, &edited);
    if !issued || fields.is_empty() {
        return Ok(edited);
    }
    let reason = check_reason(reason)?;
    edited.corrections = stored.corrections.clone();
    edited.corrections.push(Correction {
        at,
        by,
        reason,
        fields,
    });
    Ok(edited)
}

/// As `correct_finding`, for an inspection (issued when `stored` has documents).
pub fn correct_inspection(
    stored: &Inspection,
    mut edited: Inspection,
    by: UserId,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<Inspection, FinalityError> {
    let fields = inspection_changes(stored, &edited);
    if !issued(stored) || fields.is_empty() {
        return Ok(edited);
    }
    let reason = check_reason(reason)?;
    edited.corrections = stored.corrections.clone();
    edited.corrections.push(Correction {
        at,
        by,
        reason,
        fields,
    });
    Ok(edited)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::ids::{EnterpriseId, FindingId, InspectionId, OrgId, PhotoHash};
    use crate::model::{
        DocumentKind, EnterpriseSignature, FindingStatus, HistoryEntry, InspectionKind,
        InspectorSignature, IssuedDocument, Level, Measure, Recording, Service,
    };

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 6, 2, 0, 0).unwrap()
    }

    fn document(kind: DocumentKind, number: &str) -> IssuedDocument {
        IssuedDocument {
            kind,
            number: number.to_owned(),
            issued_at: t0(),
            service: None,
        }
    }

    fn inspection(documents: Vec<IssuedDocument>) -> Inspection {
        Inspection {
            id: InspectionId::new(),
            org_id: OrgId::new(),
            enterprise_id: EnterpriseId::new(),
            kind: InspectionKind::Unannounced,
            packs: vec![],
            inspectors: vec![],
            created_by: UserId::new(),
            started_at: t0(),
            check_in: None,
            places: "主斜井".to_owned(),
            item_results: vec![],
            summary: String::new(),
            finished_at: (!documents.is_empty()).then(t0),
            enterprise_signature: None,
            documents,
            reinspected_findings: vec![],
            fire_venues: vec![],
            inspector_signatures: vec![],
            recording: None,
            corrections: vec![],
        }
    }

    fn issued_inspection() -> Inspection {
        inspection(vec![
            document(DocumentKind::InspectionRecord, "达旗应急检记〔2026〕A1-1号"),
            document(
                DocumentKind::RectificationOrder,
                "达旗应急责改〔2026〕A1-1号",
            ),
        ])
    }

    fn finding() -> Finding {
        Finding {
            id: FindingId::new(),
            inspection_id: InspectionId::new(),
            enterprise_id: EnterpriseId::new(),
            org_id: OrgId::new(),
            item_id: None,
            description: "瓦斯检查记录不全".to_owned(),
            place: "1201 工作面".to_owned(),
            level: Level::General,
            legal_basis: String::new(),
            basis_unverified: false,
            measure: Measure::Deadline,
            deadline: chrono::NaiveDate::from_ymd_opt(2026, 6, 30),
            photos: vec![],
            after_photos: vec![],
            status: FindingStatus::Submitted,
            supervised: false,
            created_by: UserId::new(),
            created_at: t0(),
            history: vec![],
            corrections: vec![],
        }
    }

    fn correction(by: UserId, reason: &str, fields: &[&str]) -> Correction {
        Correction {
            at: t0(),
            by,
            reason: reason.to_owned(),
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    #[test]
    fn before_issue_a_finding_is_edited_freely() {
        let stored = finding();
        let mut new = stored.clone();
        new.description = "瓦斯检查记录缺三班".to_owned();
        assert_eq!(check_finding(&stored, &new, false, UserId::new()), Ok(()));
    }

    #[test]
    fn after_issue_a_finding_content_edit_needs_a_correction() {
        let stored = finding();
        let mut new = stored.clone();
        new.description = "瓦斯检查记录缺三班".to_owned();
        new.level = Level::Major;
        let error = check_finding(&stored, &new, true, UserId::new()).unwrap_err();
        assert_eq!(
            error,
            FinalityError::CorrectionRequired {
                fields: vec!["description".to_owned(), "level".to_owned()]
            }
        );
        assert!(
            error
                .to_string()
                .starts_with("本检查已出具执法文书，修改须作为更正记录")
        );
        assert!(error.to_string().contains("隐患描述、隐患等级"));
        let body = error.to_error_body();
        assert_eq!(
            (body.code.as_str(), body.field.as_deref()),
            ("correction_required", Some("corrections"))
        );
    }

    #[test]
    fn after_issue_lifecycle_fields_are_not_content() {
        let stored = finding();
        let mut new = stored.clone();
        new.status = FindingStatus::Rectifying;
        new.supervised = true;
        new.after_photos = vec![PhotoHash::of_bytes(b"after")];
        new.history.push(HistoryEntry {
            at: t0(),
            by: UserId::new(),
            action: "confirm".to_owned(),
            from: FindingStatus::Submitted,
            to: FindingStatus::Rectifying,
            comment: String::new(),
        });
        assert!(finding_changes(&stored, &new).is_empty());
        assert_eq!(check_finding(&stored, &new, true, UserId::new()), Ok(()));
    }

    #[test]
    fn a_correction_made_by_core_is_accepted_by_core() {
        let me = UserId::new();
        let stored = finding();
        let mut edited = stored.clone();
        edited.place = "1202 工作面".to_owned();
        edited.photos.push(PhotoHash::of_bytes(b"evidence"));
        let corrected = correct_finding(&stored, edited, true, me, "  部位记错  ", t0()).unwrap();
        assert_eq!(corrected.corrections.len(), 1);
        let c = &corrected.corrections[0];
        assert_eq!((c.by, c.reason.as_str()), (me, "部位记错"));
        assert_eq!(c.fields, vec!["place".to_owned(), "photos".to_owned()]);
        assert_eq!(check_finding(&stored, &corrected, true, me), Ok(()));
    }

    #[test]
    fn a_correction_needs_a_reason_of_at_most_500_characters() {
        let me = UserId::new();
        let stored = finding();
        let mut edited = stored.clone();
        edited.place = "1202 工作面".to_owned();
        assert_eq!(
            correct_finding(&stored, edited.clone(), true, me, " \n ", t0()),
            Err(FinalityError::ReasonMissing)
        );
        let long = "理".repeat(REASON_MAX_CHARS + 1);
        assert_eq!(
            correct_finding(&stored, edited.clone(), true, me, &long, t0()),
            Err(FinalityError::ReasonTooLong)
        );
        let longest = "理".repeat(REASON_MAX_CHARS);
        assert!(correct_finding(&stored, edited.clone(), true, me, &longest, t0()).is_ok());
        // Sent by hand with a blank reason: the server's check refuses it too.
        edited.corrections.push(correction(me, "   ", &["place"]));
        assert_eq!(
            check_finding(&stored, &edited, true, me),
            Err(FinalityError::ReasonMissing)
        );
    }

    #[test]
    fn no_correction_is_appended_when_none_is_needed() {
        let me = UserId::new();
        let stored = finding();
        let mut edited = stored.clone();
        edited.place = "1202 工作面".to_owned();
        let before_issue = correct_finding(&stored, edited.clone(), false, me, "", t0()).unwrap();
        assert!(before_issue.corrections.is_empty());
        let mut after_only = stored.clone();
        after_only.after_photos.push(PhotoHash::of_bytes(b"after"));
        let lifecycle = correct_finding(&stored, after_only, true, me, "", t0()).unwrap();
        assert!(lifecycle.corrections.is_empty());
    }

    #[test]
    fn a_correction_is_by_the_writer() {
        let me = UserId::new();
        let stored = finding();
        let mut new = stored.clone();
        new.place = "1202 工作面".to_owned();
        new.corrections
            .push(correction(UserId::new(), "部位记错", &["place"]));
        assert_eq!(
            check_finding(&stored, &new, true, me),
            Err(FinalityError::NotTheWriter)
        );
    }

    #[test]
    fn a_correction_names_exactly_the_changed_fields() {
        let me = UserId::new();
        let stored = finding();
        let mut new = stored.clone();
        new.place = "1202 工作面".to_owned();
        new.measure = Measure::StopWork;
        new.corrections.push(correction(me, "部位记错", &["place"]));
        let error = check_finding(&stored, &new, true, me).unwrap_err();
        assert!(
            matches!(error, FinalityError::FieldsMismatch { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("隐患部位、处理措施"), "{error}");
        new.corrections[0].fields = vec!["measure".into(), "place".into(), "level".into()];
        assert!(check_finding(&stored, &new, true, me).is_err());
        new.corrections[0].fields = vec!["measure".into(), "place".into()];
        assert_eq!(check_finding(&stored, &new, true, me), Ok(()));
    }

    #[test]
    fn merged_saves_may_carry_several_corrections_covering_the_change() {
        let me = UserId::new();
        let stored = finding();
        let mut new = stored.clone();
        new.place = "1202 工作面".to_owned();
        new.description = "瓦斯检查记录缺三班".to_owned();
        new.corrections.push(correction(me, "部位记错", &["place"]));
        new.corrections
            .push(correction(me, "描述不准", &["description"]));
        assert_eq!(check_finding(&stored, &new, true, me), Ok(()));
        new.corrections.pop();
        new.corrections
            .push(correction(me, "描述不准", &["summary_x"]));
        assert!(check_finding(&stored, &new, true, me).is_err());
    }

    #[test]
    fn earlier_corrections_are_never_removed_or_edited() {
        let me = UserId::new();
        let mut stored = finding();
        stored
            .corrections
            .push(correction(me, "部位记错", &["place"]));
        let mut removed = stored.clone();
        removed.corrections.clear();
        assert_eq!(
            check_finding(&stored, &removed, true, me),
            Err(FinalityError::CorrectionsAltered)
        );
        // Even before issue (or with the documents gone from the phone's view).
        assert_eq!(
            check_finding(&stored, &removed, false, me),
            Err(FinalityError::CorrectionsAltered)
        );
        let mut edited = stored.clone();
        edited.corrections[0].reason = "另一个理由".to_owned();
        assert_eq!(
            check_finding(&stored, &edited, true, me),
            Err(FinalityError::CorrectionsAltered)
        );
        // A second correction appended after the first is fine.
        let mut again = stored.clone();
        again.level = Level::Major;
        let again = correct_finding(&stored, again, true, me, "等级判定有误", t0()).unwrap();
        assert_eq!(again.corrections.len(), 2);
        assert_eq!(check_finding(&stored, &again, true, me), Ok(()));
    }

    #[test]
    fn an_inspection_without_documents_is_edited_freely() {
        let stored = inspection(vec![]);
        let mut new = stored.clone();
        new.places = "副斜井".to_owned();
        new.summary = "补充".to_owned();
        assert_eq!(check_inspection(&stored, &new, UserId::new()), Ok(()));
    }

    #[test]
    fn finishing_and_issuing_need_no_correction() {
        let mut stored = inspection(vec![]);
        stored.enterprise_signature = Some(EnterpriseSignature::Signed {
            signer_name: "张三".to_owned(),
            at: t0(),
            image: None,
        });
        let mut finished = stored.clone();
        finished.finished_at = Some(t0());
        finished.documents = issued_inspection().documents;
        assert_eq!(check_inspection(&stored, &finished, UserId::new()), Ok(()));
    }

    #[test]
    fn after_issue_what_still_grows_needs_no_correction() {
        let me = UserId::new();
        let mut stored = issued_inspection();
        stored.finished_at = None;
        let mut new = stored.clone();
        new.documents[1].service = Some(Service::Left {
            recipient: "张三".to_owned(),
            witness: "周六（村委会主任）".to_owned(),
            note: String::new(),
            at: t0(),
        });
        new.documents.push(document(
            DocumentKind::OnSiteMeasures,
            "达旗应急现决〔2026〕A1-1号",
        ));
        new.inspector_signatures.push(InspectorSignature {
            user_id: me,
            name: "李明".to_owned(),
            image: PhotoHash::of_bytes(b"sig"),
            at: t0(),
        });
        new.enterprise_signature = Some(EnterpriseSignature::Refused {
            witness_name: "周六".to_owned(),
            note: String::new(),
            at: t0(),
        });
        new.recording = Some(Recording {
            recorder: "DSJ-0001".to_owned(),
            ..Recording::default()
        });
        new.finished_at = Some(t0());
        assert!(inspection_changes(&stored, &new).is_empty());
        assert_eq!(check_inspection(&stored, &new, me), Ok(()));
    }

    #[test]
    fn after_issue_an_inspection_content_edit_needs_a_correction() {
        let me = UserId::new();
        let stored = issued_inspection();
        let mut new = stored.clone();
        new.places = "副斜井".to_owned();
        new.finished_at = Some(t0() + chrono::Duration::hours(1));
        assert_eq!(
            check_inspection(&stored, &new, me),
            Err(FinalityError::CorrectionRequired {
                fields: vec!["places".to_owned(), "finished_at".to_owned()]
            })
        );
        assert_eq!(
            correct_inspection(&stored, new.clone(), me, "", t0()),
            Err(FinalityError::ReasonMissing)
        );
        let corrected = correct_inspection(&stored, new, me, "场所记错", t0()).unwrap();
        assert_eq!(check_inspection(&stored, &corrected, me), Ok(()));
    }

    #[test]
    fn changing_how_a_served_document_was_served_needs_a_correction() {
        let me = UserId::new();
        let mut stored = issued_inspection();
        stored.documents[1].service = Some(Service::Signed {
            recipient: "张三".to_owned(),
            at: t0(),
            image: None,
        });
        let mut new = stored.clone();
        new.documents[1].service = Some(Service::Signed {
            recipient: "李四".to_owned(),
            at: t0(),
            image: None,
        });
        assert_eq!(
            inspection_changes(&stored, &new),
            vec!["documents".to_owned()]
        );
        assert!(check_inspection(&stored, &new, me).is_err());
    }

    #[test]
    fn an_issued_document_is_never_removed_or_renumbered() {
        let me = UserId::new();
        let stored = issued_inspection();
        let mut removed = stored.clone();
        removed.documents.pop();
        removed
            .corrections
            .push(correction(me, "多开了文书", &["documents"]));
        let error = check_inspection(&stored, &removed, me).unwrap_err();
        assert_eq!(
            error,
            FinalityError::DocumentRemoved {
                number: "达旗应急责改〔2026〕A1-1号".to_owned()
            }
        );
        assert_eq!(error.to_error_body().field.as_deref(), Some("documents"));
        let mut renumbered = stored.clone();
        renumbered.documents[0].number = "达旗应急检记〔2026〕A1-2号".to_owned();
        assert!(matches!(
            check_inspection(&stored, &renumbered, me),
            Err(FinalityError::DocumentRemoved { .. })
        ));
    }

    #[test]
    fn inspection_corrections_are_never_removed() {
        let me = UserId::new();
        let mut stored = issued_inspection();
        stored
            .corrections
            .push(correction(me, "场所记错", &["places"]));
        let mut new = stored.clone();
        new.corrections.clear();
        assert_eq!(
            check_inspection(&stored, &new, me),
            Err(FinalityError::CorrectionsAltered)
        );
    }

    #[test]
    fn fields_are_labelled_in_chinese() {
        assert_eq!(field_label_zh("description"), "隐患描述");
        assert_eq!(field_label_zh("places"), "检查场所");
        assert_eq!(
            labels_zh(&["deadline".to_owned(), "photos".to_owned()]),
            "整改期限、隐患照片"
        );
    }
}
