//! The server's checks on pushed records before they are applied, as protocol error bodies.
//! The rules themselves are core's; this module only adapts them to rejected acks.

use zhicha_core::model::{Enterprise, Finding, FindingStatus, Inspection, Level, PhotoMeta};
use zhicha_core::packs;
use zhicha_core::protocol::{ErrorBody, MAX_PHOTO_BYTES};
use zhicha_core::validation::{self, FieldError};

/// Longest free text accepted in any one field; a phone never types more.
const MAX_TEXT: usize = 20_000;

fn invalid(field: &str, message: &str) -> ErrorBody {
    ErrorBody::new("validation", message).with_field(field)
}

/// The first of core's field errors, as the body of a rejected ack.
fn first(errors: Vec<FieldError>) -> ErrorBody {
    errors.into_iter().next().map_or_else(
        || ErrorBody::new("validation", "记录不完整"),
        |e| e.to_error_body(),
    )
}

/// Bounded length, and no NUL (PostgreSQL text cannot hold it).
fn text_ok(field: &str, text: &str) -> Result<(), ErrorBody> {
    if text.chars().count() > MAX_TEXT {
        Err(invalid(field, "内容过长"))
    } else if text.contains('\0') {
        Err(invalid(field, "内容含有无效字符"))
    } else {
        Ok(())
    }
}

pub fn check_inspection(inspection: &Inspection) -> Result<(), ErrorBody> {
    text_ok("places", &inspection.places)?;
    text_ok("summary", &inspection.summary)?;
    validation::validate_inspection(inspection).map_err(first)?;
    validation::validate_inspection_against_packs(inspection, packs::all()).map_err(first)
}

/// What a save of a finding must satisfy: a draft (or a returned finding being reworked) may
/// still be incomplete; once it is under review every rule of core applies.
pub fn check_finding_content(finding: &Finding) -> Result<(), ErrorBody> {
    text_ok("description", &finding.description)?;
    text_ok("place", &finding.place)?;
    text_ok("legal_basis", &finding.legal_basis)?;
    match finding.status {
        FindingStatus::Draft | FindingStatus::Returned => Ok(()),
        _ => check_finding_complete(finding),
    }
}

/// What a finding needs before it goes to review.
pub fn check_finding_complete(finding: &Finding) -> Result<(), ErrorBody> {
    validation::validate_finding(finding).map_err(first)
}

pub fn check_photo(meta: &PhotoMeta) -> Result<(), ErrorBody> {
    if meta.bytes > MAX_PHOTO_BYTES as u64 {
        return Err(invalid("bytes", "照片超过 10 MB"));
    }
    if meta.location.is_some_and(|l| !l.is_valid()) {
        return Err(invalid("location", "定位坐标无效"));
    }
    Ok(())
}

pub fn check_enterprise(enterprise: &Enterprise) -> Result<(), ErrorBody> {
    if enterprise.name.trim().is_empty() {
        return Err(invalid("name", "请填写企业名称"));
    }
    text_ok("name", &enterprise.name)?;
    text_ok("address", &enterprise.address)?;
    text_ok("township", &enterprise.township)?;
    if let Some(code) = &enterprise.credit_code
        && !is_credit_code(code)
    {
        return Err(invalid(
            "credit_code",
            "统一社会信用代码应为 18 位数字或大写字母",
        ));
    }
    Ok(())
}

/// 统一社会信用代码: 18 characters of digits and upper-case letters (shape only).
pub fn is_credit_code(code: &str) -> bool {
    code.len() == 18
        && code
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// The stored name of a status (its wire name), for indexed columns.
pub fn status_name(status: FindingStatus) -> &'static str {
    match status {
        FindingStatus::Draft => "draft",
        FindingStatus::Submitted => "submitted",
        FindingStatus::Returned => "returned",
        FindingStatus::Rectifying => "rectifying",
        FindingStatus::Verified => "verified",
        FindingStatus::Closed => "closed",
    }
}

pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::General => "general",
        Level::Major => "major",
    }
}
