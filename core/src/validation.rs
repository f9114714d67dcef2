//! Validation of inspections and findings, with field-level errors whose messages are written
//! for the inspector (zh-CN). The app shows them next to the field; the server returns the
//! first of them in the error body of a rejected mutation.
//!
//! Two kinds of rule live here: what a record needs to be complete (`validate_*`), and what any
//! record must satisfy to be stored at all (`storable*`): no NUL character anywhere (PostgreSQL
//! text cannot hold one) and bounded lengths, tighter for the values kept in indexed columns
//! (PostgreSQL refuses an index entry over about 2,700 bytes; SQLite takes anything). The
//! server applies the `storable*` rules to every pushed record so both databases accept or
//! refuse the same records; the app can use the same limits on its inputs.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{
    Enterprise, EnterpriseSignature, Finding, Inspection, InspectionKind, Level, Measure, PhotoMeta,
};
use crate::packs::{self, ChecklistPack};
use crate::protocol::ErrorBody;

/// One problem with one field. `field` is a path like `inspectors[1].certificate_no`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The protocol error body (`code` = `validation`).
    pub fn to_error_body(&self) -> ErrorBody {
        ErrorBody::new("validation", self.message.clone()).with_field(self.field.clone())
    }
}

fn finish(errors: Vec<FieldError>) -> Result<(), Vec<FieldError>> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Longest text in any one string of a record (description, summary, notes, …), in characters:
/// more than anyone types on a phone.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Longest enterprise name (单位名称), in characters; it is copied beside every finding for the
/// ledger.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest region name (旗县, 苏木镇 / 街道 / 园区), in characters: part of the ledger's and the
/// statistics' indexes.
pub const MAX_REGION_CHARS: usize = 50;
/// Longest person's name or certificate number (执法人员, 执法证号, 签字人, 见证人), in
/// characters; the inspectors' names are indexed.
pub const MAX_PERSON_CHARS: usize = 50;
/// Longest short code or line: phone number, checklist item id, MIME type, document number.
pub const MAX_SHORT_CHARS: usize = 100;
/// Longest address, in characters.
pub const MAX_ADDRESS_CHARS: usize = 500;

/// `text` in `field` as storable: no NUL character, at most `max_chars` characters.
pub fn check_text(field: &str, text: &str, max_chars: usize) -> Result<(), FieldError> {
    if text.contains('\0') {
        Err(FieldError::new(field, "内容含有无效字符"))
    } else if text.chars().count() > max_chars {
        Err(FieldError::new(
            field,
            format!("内容过长（不能超过 {max_chars} 个字）"),
        ))
    } else {
        Ok(())
    }
}

/// What any record must satisfy to be stored, whatever its kind: every string in it (at any
/// depth, keys included) is free of NUL and at most [`MAX_TEXT_CHARS`] long. Errors name the
/// field by its path, e.g. `inspectors[1].name`.
pub fn storable<T: Serialize>(record: &T) -> Result<(), Vec<FieldError>> {
    let Ok(value) = serde_json::to_value(record) else {
        return Err(vec![FieldError::new("", "记录无法保存")]);
    };
    let mut errors = Vec::new();
    let mut path = String::new();
    walk_strings(&value, &mut path, &mut errors);
    finish(errors)
}

fn walk_strings(value: &Value, path: &mut String, errors: &mut Vec<FieldError>) {
    match value {
        Value::String(text) => {
            if let Err(e) = check_text(path, text, MAX_TEXT_CHARS) {
                errors.push(e);
            }
        }
        Value::Array(items) => {
            for (n, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{n}]"));
                walk_strings(item, path, errors);
                path.truncate(len);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                if let Err(e) = check_text(path, key, MAX_SHORT_CHARS) {
                    errors.push(e);
                }
                walk_strings(item, path, errors);
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// `specific` errors, then those of [`storable`] for fields not already named: one error per
/// field.
fn storable_with<T: Serialize>(
    record: &T,
    specific: Vec<Result<(), FieldError>>,
) -> Result<(), Vec<FieldError>> {
    let mut errors: Vec<FieldError> = specific.into_iter().filter_map(Result::err).collect();
    if let Err(general) = storable(record) {
        let named: HashSet<String> = errors.iter().map(|e| e.field.clone()).collect();
        errors.extend(general.into_iter().filter(|e| !named.contains(&e.field)));
    }
    finish(errors)
}

/// [`storable`] plus the limits of an enterprise's indexed and short fields, and the shape of
/// its 统一社会信用代码.
pub fn storable_enterprise(e: &Enterprise) -> Result<(), Vec<FieldError>> {
    let mut checks = vec![
        check_text("name", &e.name, MAX_NAME_CHARS),
        check_text("county", &e.county, MAX_REGION_CHARS),
        check_text("township", &e.township, MAX_REGION_CHARS),
        check_text("address", &e.address, MAX_ADDRESS_CHARS),
        check_text(
            "legal_representative",
            &e.legal_representative,
            MAX_PERSON_CHARS,
        ),
        check_text("contact_phone", &e.contact_phone, MAX_SHORT_CHARS),
    ];
    checks.push(check_credit_code(e.credit_code.as_deref()));
    storable_with(e, checks)
}

/// [`storable`] plus the limits of an inspection's names (indexed), certificate numbers, item
/// ids and document numbers.
pub fn storable_inspection(i: &Inspection) -> Result<(), Vec<FieldError>> {
    let mut checks = Vec::new();
    for (n, person) in i.inspectors.iter().enumerate() {
        checks.push(check_text(
            &format!("inspectors[{n}].name"),
            &person.name,
            MAX_PERSON_CHARS,
        ));
        checks.push(check_text(
            &format!("inspectors[{n}].certificate_no"),
            &person.certificate_no,
            MAX_PERSON_CHARS,
        ));
    }
    for (n, signature) in i.inspector_signatures.iter().enumerate() {
        checks.push(check_text(
            &format!("inspector_signatures[{n}].name"),
            &signature.name,
            MAX_PERSON_CHARS,
        ));
    }
    match &i.enterprise_signature {
        Some(EnterpriseSignature::Signed { signer_name, .. }) => checks.push(check_text(
            "enterprise_signature.signer_name",
            signer_name,
            MAX_PERSON_CHARS,
        )),
        Some(EnterpriseSignature::Refused { witness_name, .. }) => checks.push(check_text(
            "enterprise_signature.witness_name",
            witness_name,
            MAX_PERSON_CHARS,
        )),
        None => {}
    }
    for (n, result) in i.item_results.iter().enumerate() {
        checks.push(check_text(
            &format!("item_results[{n}].item_id"),
            &result.item_id,
            MAX_SHORT_CHARS,
        ));
    }
    for (n, document) in i.documents.iter().enumerate() {
        checks.push(check_text(
            &format!("documents[{n}].number"),
            &document.number,
            MAX_SHORT_CHARS,
        ));
        checks.extend(service_checks(n, document.service.as_ref()));
    }
    storable_with(i, checks)
}

/// A served document names who received it; a 留置送达 also its witness.
fn service_checks(
    n: usize,
    service: Option<&crate::model::Service>,
) -> Vec<Result<(), FieldError>> {
    use crate::model::Service;
    let field = |name: &str| format!("documents[{n}].service.{name}");
    let named = |name: &str, text: &str, message: &str| {
        if text.trim().is_empty() {
            Err(FieldError::new(field(name), message))
        } else {
            check_text(&field(name), text, MAX_SHORT_CHARS)
        }
    };
    match service {
        None => Vec::new(),
        Some(Service::Signed { recipient, .. }) => {
            vec![named("recipient", recipient, "请填写签收人姓名")]
        }
        Some(Service::Left {
            recipient,
            witness,
            note,
            ..
        }) => vec![
            named("recipient", recipient, "请填写受送达人姓名"),
            named("witness", witness, "留置送达须有见证人"),
            check_text(&field("note"), note, MAX_SHORT_CHARS),
        ],
    }
}

/// A service record on its own, as the documents screen checks it before saving.
pub fn validate_service(service: &crate::model::Service) -> Result<(), Vec<FieldError>> {
    let errors: Vec<FieldError> = service_checks(0, Some(service))
        .into_iter()
        .filter_map(Result::err)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// [`storable`] plus the limit of a finding's checklist item id.
pub fn storable_finding(f: &Finding) -> Result<(), Vec<FieldError>> {
    let item = f
        .item_id
        .as_deref()
        .map(|id| check_text("item_id", id, MAX_SHORT_CHARS));
    storable_with(f, item.into_iter().collect())
}

/// [`storable`] plus the limit of a photo's MIME type.
pub fn storable_photo(meta: &PhotoMeta) -> Result<(), Vec<FieldError>> {
    storable_with(meta, vec![check_text("mime", &meta.mime, MAX_SHORT_CHARS)])
}

/// 统一社会信用代码: 18 characters of digits and upper-case letters (shape only).
/// The one check of an enterprise's 统一社会信用代码 (absent is allowed: unlicensed operations
/// found on site have none), with its message.
pub fn check_credit_code(code: Option<&str>) -> Result<(), FieldError> {
    match code {
        Some(code) if !is_credit_code(code) => Err(FieldError::new(
            "credit_code",
            "统一社会信用代码应为 18 位数字或大写字母",
        )),
        _ => Ok(()),
    }
}

pub fn is_credit_code(code: &str) -> bool {
    code.len() == 18
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// The rules a finding must satisfy to be saved or submitted.
pub fn validate_finding(f: &Finding) -> Result<(), Vec<FieldError>> {
    let mut e = Vec::new();
    if f.description.trim().is_empty() {
        e.push(FieldError::new("description", "请填写隐患描述"));
    }
    if f.place.trim().is_empty() {
        e.push(FieldError::new("place", "请填写隐患所在部位或场所"));
    }
    if f.level == Level::Major {
        if f.photos.is_empty() {
            e.push(FieldError::new("photos", "重大隐患至少需要一张照片"));
        }
        if f.legal_basis.trim().is_empty() {
            e.push(FieldError::new("legal_basis", "重大隐患须写明判定依据条款"));
        }
        if f.measure == Measure::Immediate {
            e.push(FieldError::new(
                "measure",
                "重大隐患须停产停业或限期治理，不能选择立即整改",
            ));
        }
    }
    if f.measure == Measure::Deadline && f.deadline.is_none() {
        e.push(FieldError::new("deadline", "限期整改须填写整改期限"));
    } else if f.measure.needs_deadline() && f.deadline.is_none() {
        e.push(FieldError::new("deadline", "请填写整改期限"));
    }
    if let Some(deadline) = f.deadline {
        let found_on = crate::time::china_date(f.created_at);
        if deadline < found_on {
            e.push(FieldError::new("deadline", "整改期限不能早于发现日期"));
        }
    }
    if f.supervised && f.level != Level::Major {
        e.push(FieldError::new("supervised", "仅重大隐患可挂牌督办"));
    }
    let mut seen = HashSet::new();
    if f.photos
        .iter()
        .chain(&f.after_photos)
        .any(|h| !seen.insert(h))
    {
        e.push(FieldError::new("photos", "同一张照片不能重复添加"));
    }
    finish(e)
}

/// The rules an inspection must satisfy whenever it is saved. A finished inspection (one with
/// `finished_at`) must also carry the check-in and the enterprise's signature or refusal.
pub fn validate_inspection(i: &Inspection) -> Result<(), Vec<FieldError>> {
    let mut e = Vec::new();
    if i.inspectors.len() < 2 {
        e.push(FieldError::new("inspectors", "检查人员不少于两人"));
    }
    let mut ids = HashSet::new();
    for (n, ins) in i.inspectors.iter().enumerate() {
        if ins.name.trim().is_empty() {
            e.push(FieldError::new(
                format!("inspectors[{n}].name"),
                "请填写执法人员姓名",
            ));
        }
        if ins.certificate_no.trim().is_empty() {
            e.push(FieldError::new(
                format!("inspectors[{n}].certificate_no"),
                "执法人员须填写执法证号",
            ));
        }
        if !ids.insert(ins.user_id) {
            e.push(FieldError::new(
                format!("inspectors[{n}]"),
                "检查人员不能重复",
            ));
        }
    }
    if i.packs.is_empty() && i.kind != InspectionKind::Reinspection {
        e.push(FieldError::new("packs", "请至少选择一个检查表"));
    }
    if let Some(c) = &i.check_in {
        if c.location.is_some_and(|l| !l.is_valid()) {
            e.push(FieldError::new("check_in.location", "签到定位数据无效"));
        }
        if c.location.is_none() && c.note.trim().is_empty() {
            e.push(FieldError::new("check_in.note", "未取得定位时须说明原因"));
        }
    }
    let mut items = HashSet::new();
    for (n, r) in i.item_results.iter().enumerate() {
        if !items.insert(r.item_id.as_str()) {
            e.push(FieldError::new(
                format!("item_results[{n}]"),
                "同一检查项不能重复填写",
            ));
        }
    }
    if let Some(end) = i.finished_at {
        if end < i.started_at {
            e.push(FieldError::new("finished_at", "结束时间不能早于开始时间"));
        }
        if i.check_in.is_none() {
            let message = if i.kind == InspectionKind::Unannounced {
                "四不两直暗访须在现场签到（时间与位置）"
            } else {
                "请完成现场签到"
            };
            e.push(FieldError::new("check_in", message));
        }
        if i.places.trim().is_empty() {
            e.push(FieldError::new("places", "请填写检查场所"));
        }
        match &i.enterprise_signature {
            // A re-inspection's person in charge signs receipt of its opinion instead (送达).
            None if i.kind == InspectionKind::Reinspection => {}
            None => e.push(FieldError::new(
                "enterprise_signature",
                "须由被检查单位负责人签字，拒签的须记录在案",
            )),
            Some(EnterpriseSignature::Signed { signer_name, .. })
                if signer_name.trim().is_empty() =>
            {
                e.push(FieldError::new("enterprise_signature", "请填写签字人姓名"));
            }
            Some(EnterpriseSignature::Refused {
                witness_name, note, ..
            }) if witness_name.trim().is_empty() && note.trim().is_empty() => {
                e.push(FieldError::new(
                    "enterprise_signature",
                    "负责人拒绝签字的，须记录见证人或情况说明",
                ));
            }
            Some(_) => {}
        }
    }
    finish(e)
}

/// Checks the item results against the pack versions the inspection recorded (not the newest
/// ones: an inspection made with version N stays valid after N+1 is published).
pub fn validate_inspection_against_packs(
    i: &Inspection,
    registry: &[ChecklistPack],
) -> Result<(), Vec<FieldError>> {
    let mut e = Vec::new();
    for (n, r) in i.packs.iter().enumerate() {
        if packs::get_in(registry, r.id.as_str(), r.version).is_none() {
            e.push(FieldError::new(
                format!("packs[{n}]"),
                format!("检查表 {} 第{}版不可用，请更新应用", r.id, r.version),
            ));
        }
    }
    if e.is_empty() {
        for (n, r) in i.item_results.iter().enumerate() {
            if packs::resolve_item(registry, &i.packs, &r.item_id).is_none() {
                e.push(FieldError::new(
                    format!("item_results[{n}].item_id"),
                    "检查项不属于本次检查所用的检查表",
                ));
            }
        }
    }
    finish(e)
}

#[cfg(test)]
mod tests {
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
        let (pack, item) =
            crate::packs::resolve_item(&registry, &read.packs, "coal-ug-4-02").unwrap();
        assert_eq!(pack.version, v1.version);
        assert_eq!(item.prompt, v1.item("coal-ug-4-02").unwrap().prompt);
        assert!(crate::packs::resolve_item(&registry, &read.packs, "coal-ug-4-01").is_some());
        // The same answers against v2 alone would not resolve: the recorded version matters.
        let mut on_v2 = read.clone();
        on_v2.packs = vec![v2.pack_ref()];
        assert!(validate_inspection_against_packs(&on_v2, &registry).is_err());
    }
}
