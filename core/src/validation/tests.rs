use super::*;
use crate::model::*;
use crate::protocol::tests::{finding, hash, inspection, t0};
use chrono::{Duration, NaiveDate};

fn fields(r: Result<(), Vec<FieldError>>) -> Vec<(String, String)> {
    r.err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.field, e.message))
        .collect()
}

fn has(r: Result<(), Vec<FieldError>>, field: &str, message: &str) -> bool {
    fields(r).iter().any(|(f, m)| f == field && m == message)
}

fn finished() -> Inspection {
    let mut i = inspection();
    i.finished_at = Some(t0() + Duration::hours(3));
    i.enterprise_signature = Some(EnterpriseSignature::Signed {
        signer_name: "李四".into(),
        at: t0() + Duration::hours(3),
        image: None,
    });
    i
}

#[test]
fn a_complete_finding_and_inspection_are_valid() {
    assert_eq!(validate_finding(&finding()), Ok(()));
    assert_eq!(validate_inspection(&inspection()), Ok(()));
    assert_eq!(validate_inspection(&finished()), Ok(()));
}

#[test]
fn major_finding_needs_a_photo() {
    let mut f = finding();
    f.photos.clear();
    assert!(has(
        validate_finding(&f),
        "photos",
        "重大隐患至少需要一张照片"
    ));
    f.level = Level::General;
    assert_eq!(validate_finding(&f), Ok(()));
}

#[test]
fn major_finding_needs_a_legal_basis() {
    let mut f = finding();
    f.legal_basis = " ".into();
    assert!(has(
        validate_finding(&f),
        "legal_basis",
        "重大隐患须写明判定依据条款"
    ));
}

#[test]
fn major_finding_cannot_be_rectified_immediately() {
    let mut f = finding();
    f.measure = Measure::Immediate;
    f.deadline = None;
    assert!(has(
        validate_finding(&f),
        "measure",
        "重大隐患须停产停业或限期治理，不能选择立即整改"
    ));
}

#[test]
fn deadline_measure_needs_a_deadline() {
    let mut f = finding();
    f.deadline = None;
    assert!(has(
        validate_finding(&f),
        "deadline",
        "限期整改须填写整改期限"
    ));
    f.measure = Measure::SuspendOperations;
    assert!(has(validate_finding(&f), "deadline", "请填写整改期限"));
    f.measure = Measure::FileCase;
    assert_eq!(validate_finding(&f), Ok(()));
}

#[test]
fn deadline_before_the_finding_date_is_refused() {
    let mut f = finding();
    f.deadline = NaiveDate::from_ymd_opt(2026, 3, 1);
    assert!(has(
        validate_finding(&f),
        "deadline",
        "整改期限不能早于发现日期"
    ));
    f.deadline = NaiveDate::from_ymd_opt(2026, 3, 2);
    assert_eq!(validate_finding(&f), Ok(()));
}

#[test]
fn description_and_place_are_required() {
    let mut f = finding();
    f.description.clear();
    f.place.clear();
    let errs = fields(validate_finding(&f));
    assert!(errs.contains(&("description".into(), "请填写隐患描述".into())));
    assert!(errs.contains(&("place".into(), "请填写隐患所在部位或场所".into())));
}

#[test]
fn only_major_findings_may_be_supervised() {
    let mut f = finding();
    f.level = Level::General;
    f.supervised = true;
    assert!(has(
        validate_finding(&f),
        "supervised",
        "仅重大隐患可挂牌督办"
    ));
}

#[test]
fn the_same_photo_may_not_be_attached_twice() {
    let mut f = finding();
    f.after_photos = vec![hash(2)];
    assert!(has(
        validate_finding(&f),
        "photos",
        "同一张照片不能重复添加"
    ));
}

#[test]
fn at_least_two_inspectors_are_required() {
    let mut i = inspection();
    i.inspectors.truncate(1);
    assert!(has(
        validate_inspection(&i),
        "inspectors",
        "检查人员不少于两人"
    ));
}

#[test]
fn every_inspector_needs_a_name_certificate_and_distinct_identity() {
    let mut i = inspection();
    i.inspectors[1].certificate_no = "".into();
    assert!(has(
        validate_inspection(&i),
        "inspectors[1].certificate_no",
        "执法人员须填写执法证号"
    ));
    let mut i = inspection();
    i.inspectors[0].name = " ".into();
    assert!(has(
        validate_inspection(&i),
        "inspectors[0].name",
        "请填写执法人员姓名"
    ));
    let mut i = inspection();
    i.inspectors[1].user_id = i.inspectors[0].user_id;
    assert!(has(
        validate_inspection(&i),
        "inspectors[1]",
        "检查人员不能重复"
    ));
}

#[test]
fn a_pack_is_required_except_for_reinspections() {
    let mut i = inspection();
    i.packs.clear();
    assert!(has(
        validate_inspection(&i),
        "packs",
        "请至少选择一个检查表"
    ));
    i.kind = InspectionKind::Reinspection;
    assert_eq!(validate_inspection(&i), Ok(()));
}

#[test]
fn check_in_location_must_be_valid_or_explained() {
    let mut i = inspection();
    i.check_in.as_mut().unwrap().location = Some(GeoPoint {
        lat: 100.0,
        lon: 0.0,
        accuracy_m: None,
    });
    assert!(has(
        validate_inspection(&i),
        "check_in.location",
        "签到定位数据无效"
    ));
    i.check_in.as_mut().unwrap().location = None;
    assert!(has(
        validate_inspection(&i),
        "check_in.note",
        "未取得定位时须说明原因"
    ));
    i.check_in.as_mut().unwrap().note = "井下无信号".into();
    assert_eq!(validate_inspection(&i), Ok(()));
}

#[test]
fn an_item_may_be_answered_once() {
    let mut i = inspection();
    let r = ItemResult {
        item_id: "coal-ug-4-01".into(),
        outcome: Outcome::Compliant,
        finding_ids: vec![],
        note: String::new(),
    };
    i.item_results = vec![r.clone(), r];
    assert!(has(
        validate_inspection(&i),
        "item_results[1]",
        "同一检查项不能重复填写"
    ));
}

#[test]
fn a_finished_unannounced_inspection_needs_a_check_in() {
    let mut i = finished();
    i.check_in = None;
    assert!(has(
        validate_inspection(&i),
        "check_in",
        "四不两直暗访须在现场签到（时间与位置）"
    ));
    i.kind = InspectionKind::Routine;
    assert!(has(validate_inspection(&i), "check_in", "请完成现场签到"));
    // An unfinished draft may still lack it.
    i.finished_at = None;
    assert_eq!(validate_inspection(&i), Ok(()));
}

#[test]
fn finish_time_cannot_precede_start() {
    let mut i = finished();
    i.finished_at = Some(t0() - Duration::minutes(1));
    assert!(has(
        validate_inspection(&i),
        "finished_at",
        "结束时间不能早于开始时间"
    ));
}

#[test]
fn a_finished_inspection_needs_places_and_a_signature_or_recorded_refusal() {
    let mut i = finished();
    i.places.clear();
    assert!(has(validate_inspection(&i), "places", "请填写检查场所"));
    let mut i = finished();
    i.enterprise_signature = None;
    assert!(has(
        validate_inspection(&i),
        "enterprise_signature",
        "须由被检查单位负责人签字，拒签的须记录在案"
    ));
    i.enterprise_signature = Some(EnterpriseSignature::Signed {
        signer_name: "".into(),
        at: t0(),
        image: None,
    });
    assert!(has(
        validate_inspection(&i),
        "enterprise_signature",
        "请填写签字人姓名"
    ));
    i.enterprise_signature = Some(EnterpriseSignature::Refused {
        witness_name: "".into(),
        note: "".into(),
        at: t0(),
    });
    assert!(has(
        validate_inspection(&i),
        "enterprise_signature",
        "负责人拒绝签字的，须记录见证人或情况说明"
    ));
    i.enterprise_signature = Some(EnterpriseSignature::Refused {
        witness_name: "赵六".into(),
        note: "".into(),
        at: t0(),
    });
    assert_eq!(validate_inspection(&i), Ok(()));
}

fn enterprise() -> Enterprise {
    Enterprise {
        key: false,
        grade: None,
        id: crate::ids::EnterpriseId::new(),
        org_id: crate::ids::OrgId::new(),
        name: "达拉特旗某煤业有限公司".into(),
        credit_code: Some("91150621MA0N000000".into()),
        address: "树林召镇".into(),
        county: "达拉特旗".into(),
        township: "树林召镇".into(),
        sectors: vec![Sector::Coal],
        subsectors: vec![],
        legal_representative: "王五".into(),
        contact_phone: "0477-0000000".into(),
        location: None,
        ad_hoc: false,
        merged_into: None,
    }
}

#[test]
fn ordinary_records_are_storable() {
    assert_eq!(storable_finding(&finding()), Ok(()));
    assert_eq!(storable_inspection(&finished()), Ok(()));
    assert_eq!(storable_enterprise(&enterprise()), Ok(()));
}

#[test]
fn a_nul_character_anywhere_is_refused_with_its_path() {
    let mut i = inspection();
    i.check_in.as_mut().unwrap().note = "井下\0无信号".into();
    assert!(has(
        storable_inspection(&i),
        "check_in.note",
        "内容含有无效字符"
    ));
    let mut i = inspection();
    i.inspectors[1].name = "张\0三".into();
    assert_eq!(
        fields(storable_inspection(&i)),
        [(
            "inspectors[1].name".to_owned(),
            "内容含有无效字符".to_owned()
        )],
        "one error per field"
    );
    let mut f = finding();
    f.history.push(HistoryEntry {
        at: t0(),
        by: f.created_by,
        action: "return".into(),
        from: FindingStatus::Submitted,
        to: FindingStatus::Returned,
        comment: "\0".into(),
    });
    assert!(has(
        storable_finding(&f),
        "history[0].comment",
        "内容含有无效字符"
    ));
    let mut e = enterprise();
    e.name = "某\0公司".into();
    assert!(has(storable_enterprise(&e), "name", "内容含有无效字符"));
}

#[test]
fn indexed_values_are_limited_tighter_than_free_text() {
    let mut e = enterprise();
    e.township = "镇".repeat(MAX_REGION_CHARS + 1);
    assert!(has(
        storable_enterprise(&e),
        "township",
        "内容过长（不能超过 50 个字）"
    ));
    e.township = "镇".repeat(MAX_REGION_CHARS);
    assert_eq!(storable_enterprise(&e), Ok(()));
    e.county = "旗".repeat(MAX_REGION_CHARS + 1);
    assert!(fields(storable_enterprise(&e))[0].0 == "county");
    let mut e = enterprise();
    e.name = "名".repeat(MAX_NAME_CHARS + 1);
    assert!(fields(storable_enterprise(&e))[0].0 == "name");
    e.name = "名".repeat(MAX_NAME_CHARS);
    e.credit_code = Some("not-a-code".into());
    assert!(has(
        storable_enterprise(&e),
        "credit_code",
        "统一社会信用代码应为 18 位数字或大写字母"
    ));
    let mut i = inspection();
    i.inspectors[0].name = "名".repeat(MAX_PERSON_CHARS + 1);
    assert!(fields(storable_inspection(&i))[0].0 == "inspectors[0].name");
}

#[test]
fn free_text_is_limited_to_max_text_chars() {
    let mut f = finding();
    f.description = "字".repeat(MAX_TEXT_CHARS);
    assert_eq!(storable_finding(&f), Ok(()));
    f.description.push('字');
    assert!(has(
        storable_finding(&f),
        "description",
        "内容过长（不能超过 20000 个字）"
    ));
}

#[test]
fn credit_codes_are_18_digits_or_capitals() {
    assert!(is_credit_code("91150621MA0N000000"));
    assert!(!is_credit_code("91150621ma0n000000"));
    assert!(!is_credit_code("91150621MA0N00000"));
    assert!(!is_credit_code("９1150621MA0N00000"));
}

#[test]
fn field_error_becomes_a_validation_error_body() {
    let b = FieldError::new("deadline", "限期整改须填写整改期限").to_error_body();
    assert_eq!(b.code, "validation");
    assert_eq!(b.field.as_deref(), Some("deadline"));
}

#[test]
fn item_results_must_belong_to_the_recorded_pack_version() {
    let mut i = inspection();
    i.item_results = vec![ItemResult {
        item_id: "fire-6-1".into(),
        outcome: Outcome::Compliant,
        finding_ids: vec![],
        note: String::new(),
    }];
    assert!(has(
        validate_inspection_against_packs(&i, crate::packs::all()),
        "item_results[0].item_id",
        "检查项不属于本次检查所用的检查表"
    ));
    i.item_results[0].item_id = "coal-ug-4-01".into();
    assert_eq!(
        validate_inspection_against_packs(&i, crate::packs::all()),
        Ok(())
    );
    i.packs[0].version = 99;
    assert!(has(
        validate_inspection_against_packs(&i, crate::packs::all()),
        "packs[0]",
        "检查表 coal-underground 第99版不可用，请更新应用"
    ));
}

/// Pack version N+1 is published (an item dropped, one reworded, one added): an inspection
/// made with N must still resolve every answer to N's wording and validate.
#[test]
fn inspection_made_with_pack_version_n_stays_valid_after_n_plus_1() {
    let v1 = crate::packs::latest("coal-underground").unwrap().clone();
    let mut v2 = v1.clone();
    v2.version = v1.version + 1;
    v2.items.retain(|it| it.id != "coal-ug-4-01");
    v2.items
        .iter_mut()
        .find(|it| it.id == "coal-ug-4-02")
        .unwrap()
        .prompt = "（新版）生产计划是否超能力？".into();
    let mut added = v2.items[0].clone();
    added.id = "coal-ug-4-07".into();
    v2.items.push(added);
    let registry = vec![v1.clone(), v2.clone()];
    assert_eq!(
        crate::packs::latest_in(&registry, "coal-underground")
            .unwrap()
            .version,
        v2.version
    );

    let mut i = inspection();
    i.packs = vec![v1.pack_ref()];
    i.item_results = ["coal-ug-4-01", "coal-ug-4-02"]
        .into_iter()
        .map(|id| ItemResult {
            item_id: id.into(),
            outcome: Outcome::NonCompliant,
            finding_ids: vec![],
            note: String::new(),
        })
        .collect();
    // Stored on the device / server and read back after the update.
    let stored = serde_json::to_string(&i).unwrap();
    let read: Inspection = serde_json::from_str(&stored).unwrap();
    assert_eq!(validate_inspection(&read), Ok(()));
    assert_eq!(validate_inspection_against_packs(&read, &registry), Ok(()));
    let (pack, item) = crate::packs::resolve_item(&registry, &read.packs, "coal-ug-4-02").unwrap();
    assert_eq!(pack.version, v1.version);
    assert_eq!(item.prompt, v1.item("coal-ug-4-02").unwrap().prompt);
    assert!(crate::packs::resolve_item(&registry, &read.packs, "coal-ug-4-01").is_some());
    // The same answers against v2 alone would not resolve: the recorded version matters.
    let mut on_v2 = read.clone();
    on_v2.packs = vec![v2.pack_ref()];
    assert!(validate_inspection_against_packs(&on_v2, &registry).is_err());
}

#[test]
fn a_recording_needs_its_serial_and_a_clip_that_ends_after_it_starts() {
    use crate::model::Recording;
    let t = chrono::Utc::now();
    let ok = Recording {
        recorder: "DSJ-2026-0107".into(),
        started_at: Some(t),
        ended_at: Some(t + chrono::Duration::minutes(40)),
        announcement: None,
    };
    assert!(recording_errors(&ok).is_empty());
    // An announcement alone, with no recorder, is fine (a phone-only record).
    assert!(recording_errors(&Recording::default()).is_empty());
    let backwards = Recording {
        ended_at: Some(t - chrono::Duration::minutes(1)),
        ..ok.clone()
    };
    let fields: Vec<_> = recording_errors(&backwards)
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(fields, ["recording.ended_at"]);
    let nameless = Recording {
        recorder: "  ".into(),
        ..ok.clone()
    };
    assert_eq!(recording_errors(&nameless)[0].field, "recording.recorder");
    let long = Recording {
        recorder: "号".repeat(MAX_RECORDER_CHARS + 1),
        ..ok
    };
    assert_eq!(recording_errors(&long)[0].message, "执法记录仪编号过长");
}
