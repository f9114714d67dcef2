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
        entry: Default::default(),
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
