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
mod tests;
