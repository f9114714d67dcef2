//! Finished is final, on SQLite and PostgreSQL: once an inspection's documents are issued, a
//! save that changes its content or its findings' content is applied only with a recorded
//! correction (who, why, which fields); without one it is rejected alone and changes nothing,
//! while the rest of its batch is applied. Serving a document, and the findings' lifecycle,
//! go on as before; an issued document is never removed; before issue everything is free.

mod common;

use chrono::Utc;
use common::{Backend, Device, TestApp, assert_applied, recorded};
use zhicha_core::finality;
use zhicha_core::model::{
    DocumentKind, Finding, FindingStatus, Inspection, IssuedDocument, Level, Service,
};
use zhicha_core::protocol::{Ack, AckStatus, CommentPayload, MutationPayload};

on_both_backends!(
    a_finding_edit_after_issue_is_applied_only_with_a_correction,
    an_issued_document_cannot_be_removed,
    serving_a_document_after_issue_needs_no_correction,
    an_inspection_without_documents_is_edited_freely,
    an_inspection_edit_after_issue_is_applied_only_with_a_correction,
);

fn error_of(ack: &Ack) -> (&str, &str) {
    ack.error.as_ref().map_or(("", ""), |e| {
        (e.code.as_str(), e.field.as_deref().unwrap_or(""))
    })
}

/// `inspection` with its 检记 and 责改 issued, pushed over rev 1 and applied (rev 2).
async fn issue(t: &TestApp, device: &Device, inspection: &Inspection) -> Inspection {
    let now = Utc::now();
    let mut issued = inspection.clone();
    issued.documents = vec![
        IssuedDocument {
            kind: DocumentKind::InspectionRecord,
            number: "达旗应急检记〔2026〕A7-0011号".to_owned(),
            issued_at: now,
            service: None,
        },
        IssuedDocument {
            kind: DocumentKind::RectificationOrder,
            number: "达旗应急责改〔2026〕A7-0011号".to_owned(),
            issued_at: now,
            service: None,
        },
    ];
    let response = t
        .push(device, &[device.save_inspection(&issued, Some(1))])
        .await;
    assert_applied(&response);
    issued
}

async fn stored_finding(t: &TestApp, finding: &Finding) -> (i64, Finding) {
    t.state
        .store
        .finding(&finding.id.to_string())
        .await
        .unwrap()
        .unwrap()
}

async fn stored_inspection(t: &TestApp, inspection: &Inspection) -> (i64, Inspection) {
    t.state
        .store
        .inspection(&inspection.id.to_string())
        .await
        .unwrap()
        .unwrap()
}

async fn a_finding_edit_after_issue_is_applied_only_with_a_correction(backend: Backend) {
    let t = TestApp::start(backend).await;
    let d = t.login("inspector1").await;
    let (inspection, finding) = recorded(&t, &d).await;
    let issued = issue(&t, &d, &inspection).await;

    // Without a correction: rejected alone; the other save of the batch is applied.
    let mut edited = finding.clone();
    edited.description = "安全出口被货物完全堵塞".to_owned();
    let mut other = d.finding(&issued);
    other.description = "疏散指示标志损坏".to_owned();
    let response = t
        .push(
            &d,
            &[
                d.save_finding(&edited, Some(1)),
                d.save_finding(&other, None),
            ],
        )
        .await;
    assert_eq!(response.acks[0].status, AckStatus::Rejected, "{response:?}");
    assert_eq!(
        error_of(&response.acks[0]),
        ("correction_required", "corrections")
    );
    let message = &response.acks[0].error.as_ref().unwrap().message;
    assert!(message.contains("本检查已出具执法文书"), "{message}");
    assert_eq!(response.acks[1].status, AckStatus::Applied, "{response:?}");
    let (rev, stored) = stored_finding(&t, &finding).await;
    assert_eq!(rev, 1);
    assert_eq!(stored.description, finding.description);
    assert!(stored.corrections.is_empty());

    // A correction naming another writer, or the wrong fields, is refused as well.
    let mut forged = edited.clone();
    forged.corrections.push(zhicha_core::model::Correction {
        at: Utc::now(),
        by: zhicha_core::ids::UserId::new(),
        reason: "描述不准确".to_owned(),
        fields: vec!["description".to_owned()],
    });
    let mut wrong_fields = forged.clone();
    wrong_fields.corrections[0].by = d.user.id;
    wrong_fields.corrections[0].fields = vec!["place".to_owned()];
    let response = t
        .push(
            &d,
            &[
                d.save_finding(&forged, Some(1)),
                d.save_finding(&wrong_fields, Some(1)),
            ],
        )
        .await;
    for ack in &response.acks {
        assert_eq!(ack.status, AckStatus::Rejected, "{response:?}");
        assert_eq!(error_of(ack).0, "correction_required");
    }

    // With the correction core makes on the phone: applied, the correction kept.
    let corrected =
        finality::correct_finding(&finding, edited, true, d.user.id, "描述不准确", Utc::now())
            .unwrap();
    let response = t.push(&d, &[d.save_finding(&corrected, Some(1))]).await;
    assert_applied(&response);
    let (rev, stored) = stored_finding(&t, &finding).await;
    assert_eq!(rev, 2);
    assert_eq!(stored.description, "安全出口被货物完全堵塞");
    assert_eq!(stored.corrections.len(), 1);
    let kept = &stored.corrections[0];
    assert_eq!(kept.by, d.user.id);
    assert_eq!(kept.reason, "描述不准确");
    assert_eq!(kept.fields, vec!["description".to_owned()]);

    // Removing that correction later is refused.
    let mut erased = stored.clone();
    erased.corrections.clear();
    let response = t.push(&d, &[d.save_finding(&erased, Some(2))]).await;
    assert_eq!(response.acks[0].status, AckStatus::Rejected, "{response:?}");
    assert_eq!(stored_finding(&t, &finding).await.1.corrections.len(), 1);

    // The lifecycle goes on without corrections: submit, and a leader's confirmation.
    let response = t
        .push(
            &d,
            &[d.mutation(
                finding.id.0,
                Some(2),
                &MutationPayload::FindingSubmit(CommentPayload::default()),
            )],
        )
        .await;
    assert_applied(&response);
    let leader = t.login("leader1").await;
    let response = t
        .push(
            &leader,
            &[leader.mutation(
                finding.id.0,
                Some(3),
                &MutationPayload::FindingConfirm(CommentPayload::default()),
            )],
        )
        .await;
    assert_applied(&response);
    let (_, stored) = stored_finding(&t, &finding).await;
    assert_eq!(stored.status, FindingStatus::Rectifying);
    assert_eq!(stored.corrections.len(), 1);
    t.finish().await;
}

async fn an_issued_document_cannot_be_removed(backend: Backend) {
    let t = TestApp::start(backend).await;
    let d = t.login("inspector1").await;
    let (inspection, _) = recorded(&t, &d).await;
    let issued = issue(&t, &d, &inspection).await;

    let mut removed = issued.clone();
    removed.documents.pop();
    // Not even as a correction.
    let removed_corrected = zhicha_core::model::Inspection {
        entry: Default::default(),
        corrections: vec![zhicha_core::model::Correction {
            at: Utc::now(),
            by: d.user.id,
            reason: "责改开错了".to_owned(),
            fields: vec!["documents".to_owned()],
        }],
        ..removed.clone()
    };
    let mut renumbered = issued.clone();
    renumbered.documents[0].number = "达旗应急检记〔2026〕A7-0012号".to_owned();
    let response = t
        .push(
            &d,
            &[
                d.save_inspection(&removed, Some(2)),
                d.save_inspection(&removed_corrected, Some(2)),
                d.save_inspection(&renumbered, Some(2)),
            ],
        )
        .await;
    for ack in &response.acks {
        assert_eq!(ack.status, AckStatus::Rejected, "{response:?}");
        assert_eq!(error_of(ack), ("correction_required", "documents"));
    }
    let (rev, stored) = stored_inspection(&t, &inspection).await;
    assert_eq!(rev, 2);
    assert_eq!(stored.documents, issued.documents);
    t.finish().await;
}

async fn serving_a_document_after_issue_needs_no_correction(backend: Backend) {
    let t = TestApp::start(backend).await;
    let d = t.login("inspector1").await;
    let (inspection, _) = recorded(&t, &d).await;
    let issued = issue(&t, &d, &inspection).await;

    let mut served = issued.clone();
    served.documents[1].service = Some(Service::Left {
        recipient: "张三".to_owned(),
        witness: "周六（村委会主任）".to_owned(),
        note: "拒绝签收，留置于门卫室".to_owned(),
        at: Utc::now(),
    });
    let response = t.push(&d, &[d.save_inspection(&served, Some(2))]).await;
    assert_applied(&response);
    let (rev, stored) = stored_inspection(&t, &inspection).await;
    assert_eq!(rev, 3);
    assert!(stored.documents[1].service.is_some());
    assert!(stored.corrections.is_empty());
    t.finish().await;
}

async fn an_inspection_without_documents_is_edited_freely(backend: Backend) {
    let t = TestApp::start(backend).await;
    let d = t.login("inspector1").await;
    let (inspection, finding) = recorded(&t, &d).await;

    let mut edited = inspection.clone();
    edited.places = "主井口、二层仓库".to_owned();
    edited.summary = "补充检查情况".to_owned();
    let mut changed = finding.clone();
    changed.description = "安全出口被货物完全堵塞".to_owned();
    changed.level = Level::Major;
    let response = t
        .push(
            &d,
            &[
                d.save_inspection(&edited, Some(1)),
                d.save_finding(&changed, Some(1)),
            ],
        )
        .await;
    assert_applied(&response);
    let (_, stored) = stored_inspection(&t, &inspection).await;
    assert_eq!(stored.places, "主井口、二层仓库");
    assert!(stored.corrections.is_empty());
    let (_, stored) = stored_finding(&t, &finding).await;
    assert_eq!(stored.level, Level::Major);
    assert!(stored.corrections.is_empty());
    t.finish().await;
}

async fn an_inspection_edit_after_issue_is_applied_only_with_a_correction(backend: Backend) {
    let t = TestApp::start(backend).await;
    let d = t.login("inspector1").await;
    let (inspection, _) = recorded(&t, &d).await;
    let issued = issue(&t, &d, &inspection).await;

    let mut edited = issued.clone();
    edited.places = "主井口、副井口".to_owned();
    let response = t.push(&d, &[d.save_inspection(&edited, Some(2))]).await;
    assert_eq!(response.acks[0].status, AckStatus::Rejected, "{response:?}");
    assert_eq!(
        error_of(&response.acks[0]),
        ("correction_required", "corrections")
    );
    assert_eq!(
        stored_inspection(&t, &inspection).await.1.places,
        issued.places
    );

    let corrected =
        finality::correct_inspection(&issued, edited, d.user.id, "漏记副井口", Utc::now()).unwrap();
    let response = t.push(&d, &[d.save_inspection(&corrected, Some(2))]).await;
    assert_applied(&response);
    let (rev, stored) = stored_inspection(&t, &inspection).await;
    assert_eq!(rev, 3);
    assert_eq!(stored.places, "主井口、副井口");
    assert_eq!(stored.corrections.len(), 1);
    assert_eq!(stored.corrections[0].fields, vec!["places".to_owned()]);
    t.finish().await;
}
