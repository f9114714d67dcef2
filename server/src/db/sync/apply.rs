//! Applying one mutation: the checks of each kind (storable, scope, lifecycle, validation,
//! photo references) and its changes, made to the batch's records in memory (see `batch`).
//! Nothing changes unless every check passed, so a rejection leaves nothing behind but its ack.
//!
//! A write is authorised against the record as stored, never against the ids its payload
//! claims: an existing record keeps its stored team, inspection and enterprise, and a new
//! finding takes them from its stored inspection.

use std::sync::Arc;

use chrono::Utc;
use zhicha_core::finality;
use zhicha_core::ids::{DeviceId, OrgId, PhotoHash};
use zhicha_core::lifecycle::{self, FindingAction};
use zhicha_core::model::{Enterprise, Finding, Inspection, PhotoMeta, PhotoOwner, Role};
use zhicha_core::protocol::{EntityKind, Mutation, MutationPayload, PayloadError};
use zhicha_core::push::{self, LastWrite};

use super::batch::{
    Batch, FindingRecord, finding_photo_fields, finding_photos, inspection_photo_fields,
    inspection_photos,
};
use super::{Applied, Author, ChangeRow, EventFacts, Rejection, Tx, reject, to_json};
use crate::db::photos::PhotoUse;
use crate::db::{ledger_columns, now};
use crate::rules;

/// Validates and applies one mutation (`payload` is its decoded payload) to `batch`.
pub(super) async fn apply(
    tx: &mut Tx,
    batch: &mut Batch,
    author: &Author<'_>,
    mutation: &Mutation,
    payload: Result<MutationPayload, PayloadError>,
) -> Result<Result<Applied, Rejection>, sqlx::Error> {
    let payload = match payload {
        Ok(payload) => payload,
        Err(error) => return Ok(Err(error.to_error_body())),
    };
    if let Err(error) = rules::check_storable(&payload) {
        return Ok(Err(error));
    }
    match payload {
        MutationPayload::InspectionSave(inspection) => {
            save_inspection(tx, batch, author, mutation, *inspection).await
        }
        MutationPayload::FindingSave(finding) => {
            save_finding(tx, batch, author, mutation, *finding).await
        }
        MutationPayload::EnterpriseSave(enterprise) => {
            save_enterprise(tx, batch, author, *enterprise).await
        }
        MutationPayload::PhotoAttach(meta) => attach_photo(tx, batch, author, *meta).await,
        MutationPayload::CaseSave(case) => super::cases::save(tx, batch, author, *case).await,
        MutationPayload::CaseAct(act) => super::cases::act(tx, batch, author, mutation, *act).await,
        other => {
            let Some(action) = FindingAction::from_payload(&other) else {
                return Ok(Err(reject("invalid_payload", "未知的操作")));
            };
            finding_action(tx, batch, author, mutation, &other, &action).await
        }
    }
}

/// The upsert `sql` for a record that exists, or only its `INSERT` part for a new one: a
/// concurrent creation of the same id then fails with a unique violation (and the batch is
/// run again) instead of silently overwriting what the other writer stored.
fn insert_or_update(sql: &'static str, new: bool) -> &'static str {
    match sql.split_once(" ON CONFLICT") {
        Some((insert, _)) if new => insert,
        _ => sql,
    }
}

/// Who may write an inspection of `org`, and add findings to it: an inspector of its team, a
/// leader or an admin whose scope holds it.
fn may_write_inspection(author: &Author<'_>, org: OrgId) -> bool {
    match author.user.role {
        Role::Inspector => author.user.org_id == org,
        Role::Leader | Role::Admin => author.scope.contains(org),
    }
}

fn inspection_forbidden() -> Rejection {
    reject("forbidden", "该检查不属于您的检查组或管辖范围")
}

/// Refuses photos a record brings in (`photos`, each with its field; those in `known`, the
/// record's photos before this write, are not new) that the author may not use: held by the
/// server, and neither uploaded by them nor in a record they may see (see `db::photos`).
pub(super) async fn check_new_photos(
    tx: &mut Tx,
    batch: &mut Batch,
    author: &Author<'_>,
    photos: Vec<(&'static str, &PhotoHash)>,
    known: &[&PhotoHash],
) -> Result<Result<(), Rejection>, sqlx::Error> {
    let new: Vec<(&'static str, &PhotoHash)> = photos
        .into_iter()
        .filter(|(_, hash)| !known.contains(hash))
        .collect();
    if new.is_empty() {
        return Ok(Ok(()));
    }
    let hashes: Vec<PhotoHash> = new.iter().map(|(_, hash)| (*hash).clone()).collect();
    batch.load_photo_uses(tx, author, &hashes).await?;
    Ok(
        match new
            .into_iter()
            .find(|(_, hash)| batch.photo_use(hash) == PhotoUse::Refused)
        {
            Some((field, _)) => Err(reject(
                "forbidden",
                "照片须由本人上传，或来自您有权查看的记录，不能引用他人的照片",
            )
            .with_field(field)),
            None => Ok(()),
        },
    )
}

async fn save_inspection(
    tx: &mut Tx,
    batch: &mut Batch,
    author: &Author<'_>,
    mutation: &Mutation,
    mut inspection: Inspection,
) -> Result<Result<Applied, Rejection>, sqlx::Error> {
    let id = inspection.id.to_string();
    let stored = batch.inspection(tx, &id, author.row_lock).await?;
    match &stored {
        // Authorised against the team it is stored under, before anything the payload says.
        Some((_, old)) => {
            if !may_write_inspection(author, old.org_id) {
                return Ok(Err(inspection_forbidden()));
            }
            if old.org_id != inspection.org_id {
                return Ok(Err(
                    reject("conflict", "检查不能改换所属单位").with_field("org_id")
                ));
            }
        }
        None => {
            if !author.orgs.iter().any(|o| o.id == inspection.org_id) {
                return Ok(Err(
                    reject("invalid", "检查所属单位不存在").with_field("org_id")
                ));
            }
            if !may_write_inspection(author, inspection.org_id) {
                return Ok(Err(inspection_forbidden()));
            }
            if inspection.created_by != author.user.id {
                return Ok(Err(
                    reject("invalid", "新建检查的创建人须为当前用户").with_field("created_by")
                ));
            }
        }
    }
    if let Err(error) = rules::check_inspection(&inspection) {
        return Ok(Err(error));
    }
    // The enterprise it names must be one the author may inspect: its name and region go into
    // the team's ledger rows. (An enterprise added on site is pushed before its inspection.)
    let mut changed_enterprise = stored
        .as_ref()
        .is_none_or(|(_, old)| old.enterprise_id != inspection.enterprise_id);
    if changed_enterprise {
        let mut enterprise = batch
            .enterprise(tx, &inspection.enterprise_id.to_string(), "")
            .await?;
        // An enterprise added on site that an admin merged into a directory entry: the
        // inspection names that entry (a phone offline during the merge must not undo it).
        if let Some(target) = enterprise.as_ref().and_then(|(_, e)| e.merged_into) {
            inspection.enterprise_id = target;
            changed_enterprise = stored
                .as_ref()
                .is_none_or(|(_, old)| old.enterprise_id != target);
            enterprise = batch.enterprise(tx, &target.to_string(), "").await?;
        }
        match enterprise {
            _ if !changed_enterprise => {}
            None => {
                return Ok(Err(reject(
                    "enterprise_missing",
                    "被检查单位尚未同步到服务器",
                )
                .with_field("enterprise_id")));
            }
            Some((_, e)) if !author.directory_orgs().contains(e.org_id) => {
                return Ok(Err(reject("forbidden", "被检查单位不在您的企业名录范围内")
                    .with_field("enterprise_id")));
            }
            Some(_) => {}
        }
    }
    // The task it was started from: the stored task's team and enterprise, not the payload's.
    let task =
        match super::tasks::check(tx, author, &inspection, stored.as_ref().map(|s| &*s.1)).await? {
            Ok(task) => task,
            Err(rejection) => return Ok(Err(rejection)),
        };
    // Finished is final: once its documents are issued, content changes only by a correction.
    if let Some((_, old)) = &stored
        && let Err(error) = finality::check_inspection(old, &inspection, author.user.id)
    {
        return Ok(Err(error.to_error_body()));
    }
    let known = stored
        .as_ref()
        .map(|(_, old)| inspection_photos(old))
        .unwrap_or_default();
    let photos = inspection_photo_fields(&inspection);
    if let Err(error) = check_new_photos(tx, batch, author, photos, &known).await? {
        return Ok(Err(error));
    }
    let rev = match &stored {
        None => 1,
        Some((rev, old)) => {
            inspection.created_by = old.created_by;
            let conflict = conflict(batch, mutation, batch.inspection_written(&id));
            let reason = if conflict { "conflict" } else { "edit" };
            batch.keep_revision(EntityKind::Inspection, &id, *rev, &**old, reason, conflict)?;
            rev + 1
        }
    };
    let change = ChangeRow {
        entity: EntityKind::Inspection,
        id: inspection.id.0,
        org_id: inspection.org_id,
        rev,
        detail: None,
        event: EventFacts::stored(&to_json(&inspection)?),
    };
    if let Some(task) = task {
        super::tasks::mark_done(tx, task, &inspection).await?;
    }
    batch.put_inspection(rev, inspection);
    Ok(Ok(Applied {
        rev,
        changes: vec![change],
    }))
}

fn finding_change(record: &FindingRecord, rev: i64) -> Result<ChangeRow, sqlx::Error> {
    Ok(ChangeRow {
        entity: EntityKind::Finding,
        id: record.finding.id.0,
        org_id: record.finding.org_id,
        rev,
        detail: None,
        event: EventFacts::stored(&to_json(&record.finding)?),
    })
}

/// Core's conflict rule for `mutation` landing on a stored record last written as `stored`.
fn conflict(batch: &Batch, mutation: &Mutation, stored: Option<LastWrite>) -> bool {
    let device = batch.device().parse::<DeviceId>().ok();
    device.is_some_and(|device| push::is_conflict(mutation.kind, mutation.base_rev, stored, device))
}

/// The stored inspection a finding belongs to, or why the finding must wait for it.
async fn finding_inspection(
    tx: &mut Tx,
    batch: &mut Batch,
    finding: &Finding,
) -> Result<Result<Arc<Inspection>, Rejection>, sqlx::Error> {
    let id = finding.inspection_id.to_string();
    Ok(match batch.inspection(tx, &id, "").await? {
        Some((_, inspection)) => Ok(inspection),
        None => {
            Err(reject("inspection_missing", "所属检查尚未同步到服务器")
                .with_field("inspection_id"))
        }
    })
}

async fn save_finding(
    tx: &mut Tx,
    batch: &mut Batch,
    author: &Author<'_>,
    mutation: &Mutation,
    mut finding: Finding,
) -> Result<Result<Applied, Rejection>, sqlx::Error> {
    let id = finding.id.to_string();
    let stored = batch.finding(tx, &id, author.row_lock).await?;
    let (rev, finding, flagged, inspection) = match stored {
        None => {
            let inspection = match finding_inspection(tx, batch, &finding).await? {
                Ok(inspection) => inspection,
                Err(rejection) => return Ok(Err(rejection)),
            };
            if !may_write_inspection(author, inspection.org_id) {
                return Ok(Err(inspection_forbidden().with_field("inspection_id")));
            }
            // Team and enterprise are the stored inspection's, whatever the payload says.
            finding.org_id = inspection.org_id;
            finding.enterprise_id = inspection.enterprise_id;
            let actor = author.actor(finding.org_id);
            // Core's step: a new finding starts as a draft of its creator; review fields are
            // the server's and the leader's.
            let payload = MutationPayload::FindingSave(Box::new(finding));
            let finding = match lifecycle::act(None, &payload, &actor, Utc::now()) {
                Ok(finding) => finding,
                Err(error) => return Ok(Err(error.to_error_body())),
            };
            if let Err(error) = rules::check_finding_content(&finding) {
                return Ok(Err(error));
            }
            let photos = finding_photo_fields(&finding);
            if let Err(error) = check_new_photos(tx, batch, author, photos, &[]).await? {
                return Ok(Err(error));
            }
            (1, finding, false, inspection)
        }
        Some((rev, old)) => {
            // Authorised against the team it is stored under; core's step keeps identity and
            // review fields as stored and takes the inspector's field group from the payload.
            let actor = author.actor(old.finding.org_id);
            let payload = MutationPayload::FindingSave(Box::new(finding));
            let merged = match lifecycle::act(Some(&old.finding), &payload, &actor, Utc::now()) {
                Ok(merged) => merged,
                Err(error) => return Ok(Err(error.to_error_body())),
            };
            if let Err(error) = rules::check_finding_content(&merged) {
                return Ok(Err(error));
            }
            let inspection = match finding_inspection(tx, batch, &merged).await? {
                Ok(inspection) => inspection,
                Err(rejection) => return Ok(Err(rejection)),
            };
            // Once its inspection's documents are issued, content changes only by a
            // correction (the lifecycle fields `act` keeps are not content).
            let issued = finality::issued(&inspection);
            if let Err(error) =
                finality::check_finding(&old.finding, &merged, issued, author.user.id)
            {
                return Ok(Err(error.to_error_body()));
            }
            let known = finding_photos(&old.finding);
            let photos = finding_photo_fields(&merged);
            if let Err(error) = check_new_photos(tx, batch, author, photos, &known).await? {
                return Ok(Err(error));
            }
            let conflict = conflict(batch, mutation, batch.finding_written(&id));
            let reason = if conflict { "conflict" } else { "edit" };
            batch.keep_revision(
                EntityKind::Finding,
                &id,
                rev,
                &old.finding,
                reason,
                conflict,
            )?;
            (rev + 1, merged, old.flagged || conflict, inspection)
        }
    };
    // The ledger's enterprise and sector columns, from the records as they are now.
    let enterprise = batch
        .enterprise(tx, &finding.enterprise_id.to_string(), "")
        .await?;
    let context = ledger_columns::finding_context(
        &finding,
        &inspection,
        enterprise.as_ref().map(|(_, e)| &**e),
    );
    let record = FindingRecord {
        finding,
        flagged,
        context,
    };
    let change = finding_change(&record, rev)?;
    batch.put_finding(rev, record);
    Ok(Ok(Applied {
        rev,
        changes: vec![change],
    }))
}

async fn finding_action(
    tx: &mut Tx,
    batch: &mut Batch,
    author: &Author<'_>,
    mutation: &Mutation,
    payload: &MutationPayload,
    action: &FindingAction,
) -> Result<Result<Applied, Rejection>, sqlx::Error> {
    let id = mutation.entity_id.to_string();
    let Some((rev, old)) = batch.finding(tx, &id, author.row_lock).await? else {
        return Ok(Err(reject("not_found", "隐患尚未同步到服务器")));
    };
    // Authorised against the team it is stored under; core's step is the state machine with
    // its comment, a re-inspection's after-photos and a submit's completeness.
    let actor = author.actor(old.finding.org_id);
    let finding = match lifecycle::act(Some(&old.finding), payload, &actor, Utc::now()) {
        Ok(finding) => finding,
        Err(error) => return Ok(Err(error.to_error_body())),
    };
    let known = finding_photos(&old.finding);
    let photos = finding_photo_fields(&finding);
    if let Err(error) = check_new_photos(tx, batch, author, photos, &known).await? {
        return Ok(Err(error));
    }
    let conflict = conflict(batch, mutation, batch.finding_written(&id));
    batch.keep_revision(
        EntityKind::Finding,
        &id,
        rev,
        &old.finding,
        action.name(),
        conflict,
    )?;
    let record = FindingRecord {
        finding,
        flagged: old.flagged || conflict,
        // A review changes no enterprise or sector column.
        context: old.context.clone(),
    };
    let change = finding_change(&record, rev + 1)?;
    batch.put_finding(rev + 1, record);
    Ok(Ok(Applied {
        rev: rev + 1,
        changes: vec![change],
    }))
}

async fn attach_photo(
    tx: &mut Tx,
    batch: &mut Batch,
    author: &Author<'_>,
    meta: PhotoMeta,
) -> Result<Result<Applied, Rejection>, sqlx::Error> {
    // The owner as stored decides the team; the photos it lists are not new to it.
    let (owner, inspection_id, org_id, listed) = match &meta.owner {
        PhotoOwner::Finding(id) => match batch.finding(tx, &id.to_string(), "").await? {
            Some((_, f)) => {
                let listed: Vec<PhotoHash> =
                    finding_photos(&f.finding).into_iter().cloned().collect();
                (id.0, f.finding.inspection_id, f.finding.org_id, listed)
            }
            None => return Ok(Err(reject("not_found", "照片所属隐患尚未同步到服务器"))),
        },
        PhotoOwner::Inspection(id) => match batch.inspection(tx, &id.to_string(), "").await? {
            Some((_, i)) => {
                let listed: Vec<PhotoHash> = inspection_photos(&i).into_iter().cloned().collect();
                (id.0, i.id, i.org_id, listed)
            }
            None => return Ok(Err(reject("not_found", "照片所属检查尚未同步到服务器"))),
        },
    };
    if !may_write_inspection(author, org_id) {
        return Ok(Err(reject("forbidden", "该记录不属于您的检查组或管辖范围")));
    }
    if let Err(error) = rules::check_photo(&meta) {
        return Ok(Err(error));
    }
    let known: Vec<&PhotoHash> = listed.iter().collect();
    let photos = vec![("hash", &meta.hash)];
    if let Err(error) = check_new_photos(tx, batch, author, photos, &known).await? {
        return Ok(Err(error));
    }
    let data = to_json(&meta)?;
    let change = ChangeRow {
        entity: EntityKind::Photo,
        id: owner,
        org_id,
        rev: 1,
        detail: Some(meta.hash.to_string()),
        event: EventFacts::default(),
    };
    batch.attach(meta.hash, owner, inspection_id, org_id, data);
    Ok(Ok(Applied {
        rev: 1,
        changes: vec![change],
    }))
}

/// Written at once, not at the end of the batch (see `batch`).
async fn save_enterprise(
    tx: &mut Tx,
    batch: &mut Batch,
    author: &Author<'_>,
    mut enterprise: Enterprise,
) -> Result<Result<Applied, Rejection>, sqlx::Error> {
    let id = enterprise.id.to_string();
    if !author.orgs.iter().any(|o| o.id == enterprise.org_id) {
        return Ok(Err(
            reject("invalid", "企业所属单位不存在").with_field("org_id")
        ));
    }
    let visible = author.directory_orgs();
    let stored = batch.enterprise(tx, &id, author.row_lock).await?;
    let admin = author.user.role == Role::Admin;
    let allowed = match &stored {
        // The directory is the admin's, within his bureau.
        _ if admin => {
            author.scope.contains(enterprise.org_id)
                && stored
                    .as_ref()
                    .is_none_or(|(_, old)| author.scope.contains(old.org_id))
        }
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
    // A merge is made only through the admin API (`db::admin`): a push keeps it as stored, and
    // an entry merged into the directory is no longer edited from the field.
    let merged_into = stored.as_ref().and_then(|(_, old)| old.merged_into);
    if merged_into.is_some() && !admin {
        return Ok(Err(reject("forbidden", "该企业已合并到名录，不能再修改")));
    }
    enterprise.merged_into = merged_into;
    // 重点 and the class are the directory's, set by import: a phone's own entry keeps what is
    // stored (nothing, for a new one).
    if !admin {
        enterprise.key = stored.as_ref().is_some_and(|(_, old)| old.key);
        enterprise.grade = stored.as_ref().and_then(|(_, old)| old.grade);
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
            batch.keep_revision(EntityKind::Enterprise, &id, *rev, &**old, "edit", false)?;
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
    let change = ChangeRow {
        entity: EntityKind::Enterprise,
        id: enterprise.id.0,
        org_id: enterprise.org_id,
        rev,
        detail: None,
        event: EventFacts::stored(&to_json(&enterprise)?),
    };
    batch.enterprise_written(rev, enterprise);
    Ok(Ok(Applied {
        rev,
        changes: vec![change],
    }))
}
