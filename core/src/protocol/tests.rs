//! Tests of the wire contract.

use super::*;
use crate::ids::*;
use crate::model::*;
use chrono::TimeZone;
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 30, 0).unwrap()
}

pub(crate) fn hash(n: u8) -> PhotoHash {
    PhotoHash::parse(&format!("{n:02x}").repeat(32)).unwrap()
}

pub(crate) fn user(role: Role) -> User {
    User {
        id: UserId::new(),
        username: "zhangsan".into(),
        display_name: "张三".into(),
        role,
        org_id: OrgId::new(),
        certificate_no: Some("15060001".into()),
    }
}

pub(crate) fn enterprise() -> Enterprise {
    Enterprise {
        key: false,
        grade: None,
        id: EnterpriseId::new(),
        org_id: OrgId::new(),
        name: "某某煤业有限公司".into(),
        credit_code: Some("91150621MA0N000000".into()),
        address: "达拉特旗树林召镇".into(),
        county: "达拉特旗".into(),
        township: "树林召镇".into(),
        sectors: vec![Sector::Coal],
        subsectors: vec![Subsector::CoalUnderground],
        legal_representative: "李四".into(),
        contact_phone: "13800000000".into(),
        location: Some(GeoPoint {
            lat: 40.4,
            lon: 110.0,
            accuracy_m: Some(8.0),
        }),
        ad_hoc: false,
        merged_into: None,
    }
}

pub(crate) fn inspection() -> Inspection {
    let a = user(Role::Inspector);
    let b = user(Role::Inspector);
    Inspection {
        entry: Default::default(),
        id: InspectionId::new(),
        org_id: a.org_id,
        enterprise_id: EnterpriseId::new(),
        kind: InspectionKind::Unannounced,
        packs: vec![PackRef {
            id: PackId::new("coal-underground"),
            version: 1,
        }],
        inspectors: vec![
            InspectorRef {
                user_id: a.id,
                name: "张三".into(),
                certificate_no: "15060001".into(),
            },
            InspectorRef {
                user_id: b.id,
                name: "王五".into(),
                certificate_no: "15060002".into(),
            },
        ],
        created_by: a.id,
        started_at: t0(),
        check_in: Some(CheckIn {
            at: t0(),
            location: Some(GeoPoint {
                lat: 40.4,
                lon: 110.0,
                accuracy_m: Some(15.0),
            }),
            gate_photo: Some(hash(1)),
            note: String::new(),
        }),
        places: "1302综采工作面".into(),
        item_results: vec![],
        summary: String::new(),
        finished_at: None,
        enterprise_signature: None,
        documents: vec![],
        reinspected_findings: vec![],
        fire_venues: vec![],
        inspector_signatures: vec![],
        recording: None,
        corrections: vec![],
    }
}

pub(crate) fn finding() -> Finding {
    Finding {
        id: FindingId::new(),
        inspection_id: InspectionId::new(),
        enterprise_id: EnterpriseId::new(),
        org_id: OrgId::new(),
        item_id: Some("coal-ug-8-03".into()),
        description: "1302工作面存在串联通风".into(),
        place: "1302综采工作面".into(),
        level: Level::Major,
        legal_basis: "《煤矿重大事故隐患判定标准》第八条（三）".into(),
        basis_unverified: false,
        measure: Measure::Deadline,
        deadline: Some(NaiveDate::from_ymd_opt(2026, 3, 20).unwrap()),
        photos: vec![hash(2)],
        after_photos: vec![],
        status: FindingStatus::Draft,
        supervised: false,
        created_by: UserId::new(),
        created_at: t0(),
        history: vec![],
        corrections: vec![],
    }
}

fn round_trip<T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) {
    let json = serde_json::to_string(v).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, v, "round trip changed {json}");
}

fn all_payloads() -> Vec<(Uuid, MutationPayload)> {
    let i = inspection();
    let f = finding();
    let e = enterprise();
    let photo = PhotoMeta {
        hash: hash(3),
        owner: PhotoOwner::Finding(f.id),
        role: PhotoRole::Evidence,
        bytes: 234_567,
        width: 1600,
        height: 1200,
        mime: "image/jpeg".into(),
        captured_at: t0(),
        offset_from_start_s: Some(125),
        location: None,
        no_fix: None,
        clock_offset_ms: None,
    };
    let case = crate::case::Case {
        id: crate::ids::CaseId::new(),
        org_id: i.org_id,
        enterprise_id: i.enterprise_id,
        inspection_id: Some(i.id),
        finding_ids: vec![f.id],
        source: crate::case::CaseSource::Inspection,
        party: crate::case::Party::Organisation,
        party_name: "某公司".into(),
        facts: "安全出口堵塞".into(),
        provisions: String::new(),
        proposal: String::new(),
        officers: vec![UserId::new(), UserId::new()],
        interviews: vec![crate::case::Interview {
            person: "张三".into(),
            position: String::new(),
            started_at: Utc::now(),
            ended_at: None,
            place: String::new(),
            answers: vec![crate::case::QuestionAnswer {
                question: "问".into(),
                answer: "答".into(),
            }],
            signature: Some(hash(5)),
            refusal: None,
        }],
        created_by: UserId::new(),
        created_at: Utc::now(),
        state: crate::case::CaseState::pre_filed(),
        history: vec![],
        decision: None,
        delivery: None,
        preserved: vec![],
    };
    vec![
        (i.id.0, MutationPayload::InspectionSave(Box::new(i.clone()))),
        (f.id.0, MutationPayload::FindingSave(Box::new(f.clone()))),
        (
            f.id.0,
            MutationPayload::FindingSubmit(CommentPayload::default()),
        ),
        (
            f.id.0,
            MutationPayload::FindingReinspect(ReinspectPayload {
                passed: false,
                new_deadline: NaiveDate::from_ymd_opt(2026, 4, 1),
                inspection_id: Some(InspectionId::new()),
                after_photos: vec![hash(4)],
                comment: "未整改完毕".into(),
            }),
        ),
        (
            f.id.0,
            MutationPayload::FindingConfirm(CommentPayload {
                comment: "同意".into(),
            }),
        ),
        (
            f.id.0,
            MutationPayload::FindingReturn(ReturnPayload {
                comment: "依据不准确".into(),
            }),
        ),
        (
            f.id.0,
            MutationPayload::FindingSupervise(SupervisePayload {
                supervised: true,
                comment: String::new(),
            }),
        ),
        (
            f.id.0,
            MutationPayload::FindingClose(CommentPayload::default()),
        ),
        (f.id.0, MutationPayload::PhotoAttach(Box::new(photo))),
        (e.id.0, MutationPayload::EnterpriseSave(Box::new(e.clone()))),
        (case.id.0, MutationPayload::CaseSave(Box::new(case.clone()))),
        (
            case.id.0,
            MutationPayload::CaseAct(Box::new(crate::case::CaseAct::Serve {
                on: NaiveDate::from_ymd_opt(2026, 12, 9).unwrap(),
                method: crate::case::DeliveryMethod::LeftWithWitness,
                recipient: "张三".into(),
                witness: "李四".into(),
            })),
        ),
    ]
}

#[test]
fn mutation_kinds_use_the_wire_names_of_protocol_md() {
    for kind in MutationKind::ALL {
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{}\"", kind.as_str()));
        assert_eq!(serde_json::from_str::<MutationKind>(&json).unwrap(), kind);
    }
    assert_eq!(MutationKind::FindingReinspect.as_str(), "finding.reinspect");
}

#[test]
fn every_payload_kind_survives_encode_and_decode() {
    let payloads = all_payloads();
    let kinds: Vec<_> = payloads.iter().map(|(_, p)| p.kind()).collect();
    for kind in MutationKind::ALL {
        assert!(kinds.contains(&kind), "no sample payload for {kind}");
    }
    for (seq, (entity, p)) in payloads.into_iter().enumerate() {
        let m = Mutation::new(MutationId::new(), seq as u64 + 1, entity, Some(3), &p);
        round_trip(&m);
        let wire: Mutation = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(wire.decode().unwrap(), p);
    }
}

#[test]
fn decode_rejects_a_payload_of_the_wrong_shape() {
    let m = Mutation {
        mutation_id: MutationId::new(),
        seq: 1,
        kind: MutationKind::FindingReturn,
        entity_id: Uuid::now_v7(),
        base_rev: None,
        payload: serde_json::json!({ "supervised": true }),
        signature: None,
    };
    let err = m.decode().unwrap_err();
    assert!(matches!(
        err,
        PayloadError::Shape {
            kind: MutationKind::FindingReturn,
            ..
        }
    ));
    assert_eq!(err.to_error_body().code, "invalid_payload");
}

#[test]
fn decode_rejects_a_save_whose_entity_id_differs_from_the_record_id() {
    let f = finding();
    let m = Mutation::new(
        MutationId::new(),
        1,
        Uuid::now_v7(),
        None,
        &MutationPayload::FindingSave(Box::new(f)),
    );
    assert!(matches!(
        m.decode(),
        Err(PayloadError::EntityMismatch { .. })
    ));
}

#[test]
fn base_rev_is_omitted_for_new_entities_and_accepted_when_absent() {
    let f = finding();
    let m = Mutation::new(
        MutationId::new(),
        1,
        f.id.0,
        None,
        &MutationPayload::FindingSave(Box::new(f)),
    );
    let v = serde_json::to_value(&m).unwrap();
    assert!(v.get("base_rev").is_none());
    let back: Mutation = serde_json::from_value(v).unwrap();
    assert_eq!(back.base_rev, None);
}

#[test]
fn push_pull_and_receipt_types_round_trip() {
    let f = finding();
    let m = Mutation::new(
        MutationId::new(),
        7,
        f.id.0,
        Some(2),
        &MutationPayload::FindingSubmit(CommentPayload::default()),
    );
    round_trip(&PushRequest {
        next_seq: Some(3),
        acked: vec![MutationId::new()],
        device_id: DeviceId::new(),
        mutations: vec![m.clone()],
        device_time: Some(t0()),
    });
    let push = PushResponse {
        acks: vec![
            Ack {
                mutation_id: m.mutation_id,
                status: AckStatus::Applied,
                rev: Some(3),
                error: None,
            },
            Ack {
                mutation_id: MutationId::new(),
                status: AckStatus::Rejected,
                rev: None,
                error: Some(
                    ErrorBody::new("validation", "限期整改须填写整改期限").with_field("deadline"),
                ),
            },
            Ack {
                mutation_id: MutationId::new(),
                status: AckStatus::Duplicate,
                rev: Some(1),
                error: None,
            },
        ],
        gap: Some(Gap { expected: 9 }),
    };
    round_trip(&push);
    let json = serde_json::to_value(&push).unwrap();
    assert_eq!(json["acks"][1]["status"], "rejected");
    assert_eq!(json["gap"]["expected"], 9);

    round_trip(&PullResponse {
        changes: vec![
            Change {
                entity: EntityKind::Finding,
                id: f.id.0,
                rev: 4,
                data: Some(serde_json::to_value(&f).unwrap()),
                deleted: false,
            },
            Change {
                entity: EntityKind::Photo,
                id: Uuid::now_v7(),
                rev: 1,
                data: None,
                deleted: true,
            },
        ],
        cursor: "c:1042".into(),
        has_more: true,
    });
    round_trip(&ReceiptResponse::new(
        InspectionId::new(),
        5,
        vec![hash(1), hash(2)],
        vec![hash(1)],
    ));
    round_trip(&ErrorResponse::from(ErrorBody::new(
        "forbidden",
        "无权操作",
    )));
    round_trip(&PullQuery {
        cursor: Some("c:1".into()),
        limit: Some(50),
    });
    round_trip(&PhotoUploadResponse {
        hash: hash(9),
        bytes: 10,
        created: true,
    });
    round_trip(&PhotoPartResponse {
        hash: hash(9),
        offset: 262_144,
        total: 3_000_000,
    });
    round_trip(&PhotoOffsetError {
        error: ErrorBody::new("upload_offset", "续传位置不符"),
        offset: 5,
    });
    round_trip(&ReceiptQuery {
        inspection: InspectionId::new(),
    });
}

#[test]
fn auth_and_bootstrap_types_round_trip() {
    let u = user(Role::Leader);
    round_trip(&LoginRequest {
        next_seq: Some(12),
        username: "zhangsan".into(),
        password: "secret".into(),
        device_id: DeviceId::new(),
        public_key: Some("04ab".into()),
    });
    round_trip(&LoginResponse {
        token: "tok".into(),
        expires_at: t0(),
        user: u.clone(),
        device_code: "A7".into(),
        key_id: Some("k1".into()),
    });
    let mut closed = finding();
    closed.status = FindingStatus::Rectifying;
    round_trip(&BootstrapResponse {
        user: u.clone(),
        roster: vec![u.clone(), user(Role::Inspector)],
        packs: vec![PackSummary {
            id: PackId::new("fire"),
            version: 1,
            title: "消防".into(),
            sector: Sector::Fire,
            subsectors: vec![],
            item_count: 48,
        }],
        enterprises: vec![enterprise()],
        open_findings: vec![closed],
        orgs: vec![OrgUnit {
            id: u.org_id,
            parent_id: None,
            name: "达拉特旗应急管理局".into(),
            doc_code: "达旗应急".into(),
            region: "达拉特旗".into(),
            review_authority: String::new(),
            court: String::new(),
        }],
        server_time: Some(t0()),
        tasks: vec![],
        caps: crate::plan::default_caps(),
        visits: vec![],
    });
}

#[cfg(feature = "openapi")]
#[test]
fn openapi_schemas_exist_for_the_wire_types() {
    use utoipa::PartialSchema;
    for schema in [
        PushRequest::schema(),
        PushResponse::schema(),
        PullResponse::schema(),
        BootstrapResponse::schema(),
        LoginResponse::schema(),
        ReceiptResponse::schema(),
        ErrorResponse::schema(),
    ] {
        let json = serde_json::to_string(&schema).unwrap();
        assert!(json.len() > 2, "{json}");
    }
}

#[test]
fn error_body_omits_absent_field() {
    let v =
        serde_json::to_value(ErrorResponse::from(ErrorBody::new("not_found", "不存在"))).unwrap();
    assert_eq!(
        v,
        serde_json::json!({ "error": { "code": "not_found", "message": "不存在" } })
    );
}

#[test]
fn receipt_is_complete_only_when_every_expected_photo_is_present() {
    let partial = ReceiptResponse::new(
        InspectionId::new(),
        1,
        vec![hash(1), hash(2)],
        vec![hash(2)],
    );
    assert!(!partial.complete);
    assert_eq!(partial.missing(), vec![&hash(1)]);
    let full = ReceiptResponse::new(
        InspectionId::new(),
        1,
        vec![hash(1)],
        vec![hash(1), hash(2)],
    );
    assert!(full.complete);
}

#[test]
fn pull_limit_defaults_and_clamps() {
    assert_eq!(PullQuery::default().effective_limit(), DEFAULT_PULL_LIMIT);
    assert_eq!(
        PullQuery {
            cursor: None,
            limit: Some(0)
        }
        .effective_limit(),
        1
    );
    assert_eq!(
        PullQuery {
            cursor: None,
            limit: Some(1_000_000)
        }
        .effective_limit(),
        MAX_PULL_LIMIT
    );
}

#[test]
fn model_records_written_before_optional_fields_existed_still_parse() {
    // A v1 finding without any of the defaulted fields.
    let f = finding();
    let v = serde_json::json!({
        "id": f.id, "inspection_id": f.inspection_id, "enterprise_id": f.enterprise_id,
        "org_id": f.org_id, "description": "d", "level": "general", "measure": "immediate",
        "status": "draft", "created_by": f.created_by, "created_at": t0(),
    });
    let parsed: Finding = serde_json::from_value(v).unwrap();
    assert!(parsed.photos.is_empty());
    assert!(!parsed.supervised);
}

#[test]
fn content_ranges_parse_and_print() {
    let part = ContentRange::parse("bytes 0-262143/3000000").unwrap();
    assert_eq!(
        part,
        ContentRange {
            start: 0,
            end: 262_143,
            total: 3_000_000
        }
    );
    assert_eq!(part.bytes(), PHOTO_PART_BYTES as u64);
    assert_eq!(part.to_string(), "bytes 0-262143/3000000");
    assert_eq!(ContentRange::of(0, 262_144, 3_000_000), Some(part));
    assert_eq!(
        ContentRange::parse(&ContentRange::of(5, 6, 6).unwrap().to_string()),
        ContentRange::of(5, 6, 6)
    );
    for bad in [
        "bytes 5-4/10",
        "bytes 0-10/10",
        "bytes */10",
        "bytes -1-3/10",
        "bytes 0-3/",
        "0-3/10",
        "bytes 0-3/+10",
        "bytes 0-3/99999999999999999999",
    ] {
        assert_eq!(ContentRange::parse(bad), None, "{bad}");
    }
    assert_eq!(ContentRange::of(3, 3, 10), None);
    assert_eq!(ContentRange::of(3, 11, 10), None);
}
