//! The server's checks on pushed records before they are applied, as protocol error bodies.
//! The rules themselves are core's; this module only adapts them to rejected acks.

use zhicha_core::model::{Enterprise, Finding, FindingStatus, Inspection, PhotoMeta};
use zhicha_core::packs;
use zhicha_core::protocol::{ErrorBody, MAX_PHOTO_BYTES, MutationPayload};
use zhicha_core::validation::{self, FieldError};

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

/// What every pushed record must satisfy to be stored at all, the same on SQLite and
/// PostgreSQL: no NUL anywhere, bounded lengths, tighter for indexed columns (core's
/// `storable*` rules). Checked before anything else of a mutation.
pub fn check_storable(payload: &MutationPayload) -> Result<(), ErrorBody> {
    match payload {
        MutationPayload::InspectionSave(i) => validation::storable_inspection(i),
        MutationPayload::FindingSave(f) => validation::storable_finding(f),
        MutationPayload::EnterpriseSave(e) => validation::storable_enterprise(e),
        MutationPayload::PhotoAttach(meta) => validation::storable_photo(meta),
        other => validation::storable(&other.to_value()),
    }
    .map_err(first)
}

pub fn check_inspection(inspection: &Inspection) -> Result<(), ErrorBody> {
    validation::validate_inspection(inspection).map_err(first)?;
    validation::validate_inspection_against_packs(inspection, packs::all()).map_err(first)
}

/// What a save of a finding must satisfy: a draft (or a returned finding being reworked) may
/// still be incomplete; once it is under review every rule of core applies.
pub fn check_finding_content(finding: &Finding) -> Result<(), ErrorBody> {
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

/// What a pushed enterprise needs beyond being storable (which checks the credit code's shape).
pub fn check_enterprise(enterprise: &Enterprise) -> Result<(), ErrorBody> {
    if enterprise.name.trim().is_empty() {
        return Err(invalid("name", "请填写企业名称"));
    }
    Ok(())
}
