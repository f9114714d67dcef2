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
/// Most characters of a body-worn recorder's serial number.
pub const MAX_RECORDER_CHARS: usize = 64;

/// What is wrong with a 全过程记录: a serial that is missing or too long once times are given,
/// or a clip that ends before it starts.
pub fn recording_errors(r: &crate::model::Recording) -> Vec<FieldError> {
    let mut e = Vec::new();
    let serial = r.recorder.trim();
    if serial.chars().count() > MAX_RECORDER_CHARS {
        e.push(FieldError::new("recording.recorder", "执法记录仪编号过长"));
    }
    if serial.is_empty() && (r.started_at.is_some() || r.ended_at.is_some()) {
        e.push(FieldError::new(
            "recording.recorder",
            "请填写执法记录仪编号",
        ));
    }
    if let (Some(start), Some(end)) = (r.started_at, r.ended_at)
        && end < start
    {
        e.push(FieldError::new(
            "recording.ended_at",
            "录像结束时间早于开始时间",
        ));
    }
    e
}

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
    e.extend(crate::plan::validate_entry(
        &i.entry,
        i.kind == InspectionKind::Unannounced,
    ));
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
    if let Some(r) = &i.recording {
        e.extend(recording_errors(r));
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
mod tests;
