//! Applying one mutation: the checks of each kind (scope, lifecycle, validation) and its writes,
//! inside the push transaction. Nothing is written unless every check passed.

use std::collections::BTreeSet;

use chrono::Utc;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::AssertSqlSafe;
use uuid::Uuid;
use zhicha_core::ids::{InspectionId, OrgId, PhotoHash};
use zhicha_core::lifecycle::{self, FindingAction};
use zhicha_core::model::{
    Enterprise, EnterpriseSignature, Finding, FindingStatus, Inspection, PhotoMeta, PhotoOwner,
    Role,
};
use zhicha_core::protocol::{EntityKind, Mutation, MutationPayload};

use super::{
    Applied, Author, ChangeRow, EntityRow, Rejection, Tx, entity_name, from_json, reject, to_json,
};
use crate::db::{ledger, now};
use crate::rules;

/// Validates and applies one mutation inside `tx`. Writes happen only once every check passed,
/// so a rejection leaves nothing behind but its ack.
pub(super) async fn apply(
    tx: &mut Tx,
    author: &Author<'_>,
    mutation: &Mutation,
) -> Result<Result<Applied, Rejection>, sqlx::Error> {
    let payload = match mutation.decode() {
        Ok(payload) => payload,
        Err(error) => return Ok(Err(error.to_error_body())),
    };
    match payload {
        MutationPayload::InspectionSave(inspection) => {
            save_inspection(tx, author, mutation, *inspection).await
        }
        MutationPayload::FindingSave(finding) => save_finding(tx, author, mutation, *finding).await,
        MutationPayload::EnterpriseSave(enterprise) => {
            save_enterprise(tx, author, *enterprise).await
        }
        MutationPayload::PhotoAttach(meta) => attach_photo(tx, author, *meta).await,
        other => {
            let Some(action) = FindingAction::from_payload(&other) else {
                return Ok(Err(reject("invalid_payload", "未知的操作")));
            };
            finding_action(tx, author, mutation, &other, &action).await
        }
    }
}

async fn load<T: DeserializeOwned>(
    tx: &mut Tx,
    table: &str,
    id: &str,
    lock: &str,
) -> Result<Option<(i64, T)>, sqlx::Error> {
    let sql = format!("SELECT rev, data FROM {table} WHERE id = $1{lock}");
    let row = sqlx::query_as::<_, EntityRow>(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|row| Ok((row.rev, from_json(&row.data)?)))
        .transpose()
}

/// The upsert `sql` for a record that exists, or only its `INSERT` part for a new one: a
/// concurrent creation of the same id then fails with a unique violation (and the mutation is
/// retried as an update) instead of silently overwriting what the other writer stored.
fn insert_or_update(sql: &'static str, new: bool) -> &'static str {
    match sql.split_once(" ON CONFLICT") {
        Some((insert, _)) if new => insert,
        _ => sql,
    }
}

/// Keeps the version being replaced: nothing is ever silently overwritten.
async fn keep_revision<T: Serialize>(
    tx: &mut Tx,
    entity: EntityKind,
    id: &str,
    rev: i64,
    old: &T,
    author: &Author<'_>,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO revisions (entity, entity_id, rev, data, replaced_by, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(entity_name(entity))
    .bind(id)
    .bind(rev)
    .bind(to_json(old)?)
    .bind(author.user.id.to_string())
    .bind(reason)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces the photo references a saved record makes (its photo lists).
async fn set_record_refs(
    tx: &mut Tx,
    owner: Uuid,
    inspection: InspectionId,
    org: OrgId,
    hashes: &BTreeSet<&PhotoHash>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM photo_refs WHERE owner_id = $1 AND source = 'record'")
        .bind(owner.to_string())
        .execute(&mut **tx)
        .await?;
    let created_at = now();
    for hash in hashes {
        sqlx::query(
            "INSERT INTO photo_refs (hash, owner_id, source, inspection_id, org_id, data, created_at) \
             VALUES ($1, $2, 'record', $3, $4, NULL, $5)",
        )
        .bind(hash.as_str())
        .bind(owner.to_string())
        .bind(inspection.to_string())
        .bind(org.to_string())
        .bind(&created_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn inspection_photos(inspection: &Inspection) -> BTreeSet<&PhotoHash> {
    let gate = inspection
        .check_in
        .as_ref()
        .and_then(|c| c.gate_photo.as_ref());
    let signature = match &inspection.enterprise_signature {
        Some(EnterpriseSignature::Signed { image, .. }) => image.as_ref(),
        _ => None,
    };
    gate.into_iter().chain(signature).collect()
}

fn finding_photos(finding: &Finding) -> BTreeSet<&PhotoHash> {
    finding.photos.iter().chain(&finding.after_photos).collect()
}

async fn save_inspection(
    tx: &mut Tx,
    author: &Author<'_>,
    mutation: &Mutation,
    mut inspection: Inspection,
) -> Result<Result<Applied, Rejection>, sqlx::Error> {
    let id = inspection.id.to_string();
    if !author.orgs.iter().any(|o| o.id == inspection.org_id) {
        return Ok(Err(
            reject("invalid", "检查所属单位不存在").with_field("org_id")
        ));
    }
    let stored: Option<(i64, Inspection)> = load(tx, "inspections", &id, author.row_lock).await?;
    let writable = match author.user.role {
        Role::Admin => true,
        Role::Inspector => author.user.org_id == inspection.org_id,
        Role::Leader => author.scope.contains(inspection.org_id),
    };
    if !writable {
        return Ok(Err(reject("forbidden", "该检查不属于您的检查组或管辖范围")));
    }
    if let Err(error) = rules::check_inspection(&inspection) {
        return Ok(Err(error));
    }
    let (rev, reason) = match &stored {
        None => {
            if inspection.created_by != author.user.id {
                return Ok(Err(
                    reject("invalid", "新建检查的创建人须为当前用户").with_field("created_by")
                ));
            }
            (1, None)
        }
        Some((rev, old)) => {
            if old.org_id != inspection.org_id {
                return Ok(Err(
                    reject("conflict", "检查不能改换所属单位").with_field("org_id")
                ));
            }
            inspection.created_by = old.created_by;
            let reason = if mutation.base_rev == Some(*rev) {
                "edit"
            } else {
                "conflict"
            };
            (rev + 1, Some(reason))
        }
    };
    if let (Some((old_rev, old)), Some(reason)) = (&stored, reason) {
        keep_revision(
            tx,
            EntityKind::Inspection,
            &id,
            *old_rev,
            old,
            author,
            reason,
        )
        .await?;
    }
    sqlx::query(insert_or_update(
        "INSERT INTO inspections (id, org_id, created_by, enterprise_id, rev, data, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
         enterprise_id = excluded.enterprise_id, rev = excluded.rev, data = excluded.data, \
         updated_at = excluded.updated_at",
        stored.is_none(),
    ))
    .bind(&id)
    .bind(inspection.org_id.to_string())
    .bind(inspection.created_by.to_string())
    .bind(inspection.enterprise_id.to_string())
    .bind(rev)
    .bind(to_json(&inspection)?)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    set_record_refs(
        tx,
        inspection.id.0,
        inspection.id,
        inspection.org_id,
        &inspection_photos(&inspection),
    )
    .await?;
    ledger::set_inspectors(tx, &inspection).await?;
    Ok(Ok(Applied {
        rev,
        changes: vec![ChangeRow {
            entity: EntityKind::Inspection,
            id: inspection.id.0,
            org_id: inspection.org_id,
            rev,
            detail: None,
        }],
    }))
}

async fn write_finding(
    tx: &mut Tx,
    finding: &Finding,
    rev: i64,
    flagged: bool,
) -> Result<(), sqlx::Error> {
    let columns = ledger::finding_columns(finding);
    sqlx::query(insert_or_update(
        "INSERT INTO findings (id, inspection_id, org_id, created_by, status, level, deadline, \
         flagged, rev, data, updated_at, found_at, found_day, closed_at, closed_day, supervised, \
         search_text, enterprise_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
         $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, level = excluded.level, \
         deadline = excluded.deadline, flagged = CASE WHEN excluded.flagged = 1 THEN 1 \
         ELSE findings.flagged END, rev = excluded.rev, data = excluded.data, \
         updated_at = excluded.updated_at, found_at = excluded.found_at, \
         found_day = excluded.found_day, closed_at = excluded.closed_at, \
         closed_day = excluded.closed_day, supervised = excluded.supervised, \
         search_text = excluded.search_text",
        rev == 1,
    ))
    .bind(finding.id.to_string())
    .bind(finding.inspection_id.to_string())
    .bind(finding.org_id.to_string())
    .bind(finding.created_by.to_string())
    .bind(rules::status_name(finding.status))
    .bind(rules::level_name(finding.level))
    .bind(finding.deadline.map(|d| d.to_string()))
    .bind(i64::from(flagged))
    .bind(rev)
    .bind(to_json(finding)?)
    .bind(now())
    .bind(columns.found_at)
    .bind(columns.found_day)
    .bind(columns.closed_at)
    .bind(columns.closed_day)
    .bind(columns.supervised)
    .bind(columns.search_text)
    .bind(finding.enterprise_id.to_string())
    .execute(&mut **tx)
    .await?;
    set_record_refs(
        tx,
        finding.id.0,
        finding.inspection_id,
        finding.org_id,
        &finding_photos(finding),
    )
    .await
}

fn finding_change(finding: &Finding, rev: i64) -> ChangeRow {
    ChangeRow {
        entity: EntityKind::Finding,
        id: finding.id.0,
        org_id: finding.org_id,
        rev,
        detail: None,
    }
}

fn lifecycle_rejection(error: &lifecycle::LifecycleError) -> Rejection {
    reject(error.code(), error.to_string())
}

async fn save_finding(
    tx: &mut Tx,
    author: &Author<'_>,
    mutation: &Mutation,
    mut finding: Finding,
) -> Result<Result<Applied, Rejection>, sqlx::Error> {
    let id = finding.id.to_string();
    let Some((_, inspection)) =
        load::<Inspection>(tx, "inspections", &finding.inspection_id.to_string(), "").await?
    else {
        return Ok(Err(reject(
            "inspection_missing",
            "所属检查尚未同步到服务器",
        )
        .with_field("inspection_id")));
    };
    if finding.org_id != inspection.org_id || finding.enterprise_id != inspection.enterprise_id {
        return Ok(Err(
            reject("invalid", "隐患的单位、企业须与所属检查一致").with_field("org_id")
        ));
    }
    let actor = author.actor(finding.org_id);
    let stored: Option<(i64, Finding)> = load(tx, "findings", &id, author.row_lock).await?;
    let now_utc = Utc::now();
    match stored {
        None => {
            // Review fields belong to the server and the leader: a new finding starts as a draft.
            finding.status = FindingStatus::Draft;
            finding.supervised = false;
            finding.history.clear();
            if let Err(error) = lifecycle::next_status(&finding, &FindingAction::Edit, &actor) {
                return Ok(Err(lifecycle_rejection(&error)));
            }
            if finding.created_by != author.user.id {
                return Ok(Err(
                    reject("invalid", "新建隐患的创建人须为当前用户").with_field("created_by")
                ));
            }
            if let Err(error) = rules::check_finding_content(&finding) {
                return Ok(Err(error));
            }
            write_finding(tx, &finding, 1, false).await?;
            ledger::set_finding_context(tx, &finding, &inspection).await?;
            Ok(Ok(Applied {
                rev: 1,
                changes: vec![finding_change(&finding, 1)],
            }))
        }
        Some((rev, old)) => {
            // The inspector's field group comes from the payload, the review group stays.
            let mut merged = finding;
            merged.inspection_id = old.inspection_id;
            merged.enterprise_id = old.enterprise_id;
            merged.org_id = old.org_id;
            merged.created_by = old.created_by;
            merged.created_at = old.created_at;
            merged.status = old.status;
            merged.supervised = old.supervised;
            merged.history = old.history.clone();
            let to = match lifecycle::next_status(&merged, &FindingAction::Edit, &actor) {
                Ok(to) => to,
                Err(error) => return Ok(Err(lifecycle_rejection(&error))),
            };
            if let Err(error) = rules::check_finding_content(&merged) {
                return Ok(Err(error));
            }
            if to != merged.status {
                // An edit after review is kept and goes back to review.
                let comment = "审核后修改，重新提交审核";
                if let Err(error) =
                    lifecycle::apply(&mut merged, &FindingAction::Edit, &actor, now_utc, comment)
                {
                    return Ok(Err(lifecycle_rejection(&error)));
                }
            }
            let conflict = mutation.base_rev != Some(rev);
            let reason = if conflict { "conflict" } else { "edit" };
            keep_revision(tx, EntityKind::Finding, &id, rev, &old, author, reason).await?;
            write_finding(tx, &merged, rev + 1, conflict).await?;
            ledger::set_finding_context(tx, &merged, &inspection).await?;
            Ok(Ok(Applied {
                rev: rev + 1,
                changes: vec![finding_change(&merged, rev + 1)],
            }))
        }
    }
}

async fn finding_action(
    tx: &mut Tx,
    author: &Author<'_>,
    mutation: &Mutation,
    payload: &MutationPayload,
    action: &FindingAction,
) -> Result<Result<Applied, Rejection>, sqlx::Error> {
    let id = mutation.entity_id.to_string();
    let Some((rev, old)) = load::<Finding>(tx, "findings", &id, author.row_lock).await? else {
        return Ok(Err(reject("not_found", "隐患尚未同步到服务器")));
    };
    let actor = author.actor(old.org_id);
    let mut finding = old.clone();
    let comment = match payload {
        MutationPayload::FindingSubmit(c)
        | MutationPayload::FindingConfirm(c)
        | MutationPayload::FindingClose(c) => c.comment.clone(),
        MutationPayload::FindingReturn(r) => r.comment.clone(),
        MutationPayload::FindingSupervise(s) => s.comment.clone(),
        MutationPayload::FindingReinspect(r) => {
            for hash in &r.after_photos {
                if !finding.after_photos.contains(hash) {
                    finding.after_photos.push(hash.clone());
                }
            }
            r.comment.clone()
        }
        _ => String::new(),
    };
    if matches!(action, FindingAction::Submit)
        && let Err(error) = rules::check_finding_complete(&finding)
    {
        return Ok(Err(error));
    }
    if let Err(error) = lifecycle::apply(&mut finding, action, &actor, Utc::now(), &comment) {
        return Ok(Err(lifecycle_rejection(&error)));
    }
    let conflict = mutation.base_rev.is_some_and(|base| base != rev);
    keep_revision(
        tx,
        EntityKind::Finding,
        &id,
        rev,
        &old,
        author,
        action.name(),
    )
    .await?;
    write_finding(tx, &finding, rev + 1, conflict).await?;
    Ok(Ok(Applied {
        rev: rev + 1,
        changes: vec![finding_change(&finding, rev + 1)],
    }))
}

async fn attach_photo(
    tx: &mut Tx,
    author: &Author<'_>,
    meta: PhotoMeta,
) -> Result<Result<Applied, Rejection>, sqlx::Error> {
    let (owner, inspection_id, org_id) = match &meta.owner {
        PhotoOwner::Finding(id) => {
            match load::<Finding>(tx, "findings", &id.to_string(), "").await? {
                Some((_, f)) => (id.0, f.inspection_id, f.org_id),
                None => return Ok(Err(reject("not_found", "照片所属隐患尚未同步到服务器"))),
            }
        }
        PhotoOwner::Inspection(id) => {
            match load::<Inspection>(tx, "inspections", &id.to_string(), "").await? {
                Some((_, i)) => (id.0, i.id, i.org_id),
                None => return Ok(Err(reject("not_found", "照片所属检查尚未同步到服务器"))),
            }
        }
    };
    let allowed = match author.user.role {
        Role::Admin => true,
        Role::Inspector => author.user.org_id == org_id,
        Role::Leader => author.scope.contains(org_id),
    };
    if !allowed {
        return Ok(Err(reject("forbidden", "该记录不属于您的检查组或管辖范围")));
    }
    if let Err(error) = rules::check_photo(&meta) {
        return Ok(Err(error));
    }
    sqlx::query(
        "INSERT INTO photo_refs (hash, owner_id, source, inspection_id, org_id, data, created_at) \
         VALUES ($1, $2, 'attach', $3, $4, $5, $6) ON CONFLICT (hash, owner_id, source) \
         DO UPDATE SET data = excluded.data",
    )
    .bind(meta.hash.as_str())
    .bind(owner.to_string())
    .bind(inspection_id.to_string())
    .bind(org_id.to_string())
    .bind(to_json(&meta)?)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(Ok(Applied {
        rev: 1,
        changes: vec![ChangeRow {
            entity: EntityKind::Photo,
            id: owner,
            org_id,
            rev: 1,
            detail: Some(meta.hash.to_string()),
        }],
    }))
}

async fn save_enterprise(
    tx: &mut Tx,
    author: &Author<'_>,
    enterprise: Enterprise,
) -> Result<Result<Applied, Rejection>, sqlx::Error> {
    let id = enterprise.id.to_string();
    if !author.orgs.iter().any(|o| o.id == enterprise.org_id) {
        return Ok(Err(
            reject("invalid", "企业所属单位不存在").with_field("org_id")
        ));
    }
    let visible = author.directory_orgs();
    let stored: Option<(i64, Enterprise)> = load(tx, "enterprises", &id, author.row_lock).await?;
    let admin = author.user.role == Role::Admin;
    let allowed = match &stored {
        _ if admin => true,
        // Inspectors and leaders add unlicensed operations found on site, and may correct
        // those; the directory itself is the admin's.
        None => enterprise.ad_hoc && visible.contains(enterprise.org_id),
        Some((_, old)) => {
            old.ad_hoc
                && enterprise.ad_hoc
                && visible.contains(old.org_id)
                && visible.contains(enterprise.org_id)
        }
    };
    if !allowed {
        return Ok(Err(reject("forbidden", "只能新增或修改现场新建的企业")));
    }
    if let Err(error) = rules::check_enterprise(&enterprise) {
        return Ok(Err(error));
    }
    if let Some(code) = &enterprise.credit_code {
        let holder: Option<String> =
            sqlx::query_scalar("SELECT id FROM enterprises WHERE credit_code = $1 AND id <> $2")
                .bind(code)
                .bind(&id)
                .fetch_optional(&mut **tx)
                .await?;
        if holder.is_some() {
            return Ok(Err(reject(
                "conflict",
                "该统一社会信用代码已登记为另一家企业",
            )
            .with_field("credit_code")));
        }
    }
    let rev = match &stored {
        None => 1,
        Some((rev, old)) => {
            keep_revision(tx, EntityKind::Enterprise, &id, *rev, old, author, "edit").await?;
            rev + 1
        }
    };
    sqlx::query(insert_or_update(
        "INSERT INTO enterprises (id, org_id, name, credit_code, township, rev, data, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET \
         org_id = excluded.org_id, name = excluded.name, credit_code = excluded.credit_code, \
         township = excluded.township, rev = excluded.rev, data = excluded.data, \
         updated_at = excluded.updated_at",
        stored.is_none(),
    ))
    .bind(&id)
    .bind(enterprise.org_id.to_string())
    .bind(&enterprise.name)
    .bind(enterprise.credit_code.clone())
    .bind(&enterprise.township)
    .bind(rev)
    .bind(to_json(&enterprise)?)
    .bind(now())
    .execute(&mut **tx)
    .await?;
    ledger::refresh_enterprise(tx, &enterprise).await?;
    Ok(Ok(Applied {
        rev,
        changes: vec![ChangeRow {
            entity: EntityKind::Enterprise,
            id: enterprise.id.0,
            org_id: enterprise.org_id,
            rev,
            detail: None,
        }],
    }))
}
