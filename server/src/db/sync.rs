//! Push and pull (protocol.md): idempotent, seq-checked application of device mutations, one
//! database transaction per mutation, and the change log that pull reads by cursor.
//!
//! Change-log writes are serialized by the single `change_counter` row: a transaction takes
//! its seqs with `UPDATE … RETURNING` just before commit and holds the row lock until commit,
//! so on PostgreSQL transactions commit in seq order and a reader that sees seq N also sees
//! every seq below it — a cursor can never skip a change. (SQLite has one writer anyway.)

use std::collections::{BTreeSet, HashMap};

use chrono::Utc;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{Any, AssertSqlSafe, FromRow, Transaction};
use uuid::Uuid;
use zhicha_core::ids::{DeviceId, InspectionId, MutationId, OrgId, PhotoHash};
use zhicha_core::lifecycle::{self, Actor, FindingAction};
use zhicha_core::model::{
    Enterprise, EnterpriseSignature, Finding, FindingStatus, Inspection, OrgUnit, PhotoMeta,
    PhotoOwner, Role, User,
};
use zhicha_core::protocol::{
    Ack, AckStatus, Change, EntityKind, ErrorBody, Gap, Mutation, MutationPayload, PullResponse,
    PushResponse,
};

use super::users::parse_id;
use super::{Backend, Store, is_unique_violation, now, placeholders};
use crate::auth::{Scope, directory_scope};
use crate::rules;

type Tx = Transaction<'static, Any>;

/// Who is writing: the token's user, their scope and the org tree.
#[derive(Clone, Copy)]
pub struct Author<'a> {
    pub user: &'a User,
    pub scope: &'a Scope,
    pub orgs: &'a [OrgUnit],
    /// Appended to the `SELECT` of a record about to be rewritten: `FOR UPDATE` on PostgreSQL,
    /// so concurrent writers of one record queue instead of both writing the same rev (SQLite
    /// has a single writer and no such clause).
    row_lock: &'static str,
}

impl<'a> Author<'a> {
    pub fn new(user: &'a User, scope: &'a Scope, orgs: &'a [OrgUnit]) -> Self {
        Self {
            user,
            scope,
            orgs,
            row_lock: "",
        }
    }

    /// The lifecycle's view of this user for a record of `org`.
    fn actor(&self, org: OrgId) -> Actor {
        Actor {
            user_id: self.user.id,
            role: self.user.role,
            same_team: self.user.org_id == org || self.user.role == Role::Admin,
            in_scope: self.scope.contains(org),
        }
    }

    /// Orgs whose enterprise directory this user sees: their scope and the units above them.
    fn directory_orgs(&self) -> Scope {
        directory_scope(self.user, self.scope, self.orgs)
    }
}

/// A mutation refused by the rules; the seq still advances.
type Rejection = ErrorBody;

fn reject(code: &str, message: impl Into<String>) -> Rejection {
    ErrorBody::new(code, message)
}

/// A row appended to the change log when the transaction commits.
struct ChangeRow {
    entity: EntityKind,
    id: Uuid,
    org_id: OrgId,
    rev: i64,
    detail: Option<String>,
}

/// What applying one valid mutation produced.
struct Applied {
    rev: i64,
    changes: Vec<ChangeRow>,
}

enum Outcome {
    Ack(Ack),
    Gap(u64),
}

pub(crate) fn entity_name(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Inspection => "inspection",
        EntityKind::Finding => "finding",
        EntityKind::Enterprise => "enterprise",
        EntityKind::Photo => "photo",
        EntityKind::User => "user",
        EntityKind::Org => "org",
    }
}

fn parse_entity(name: &str) -> Result<EntityKind, sqlx::Error> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn status_name(status: AckStatus) -> &'static str {
    match status {
        AckStatus::Applied => "applied",
        AckStatus::Duplicate => "duplicate",
        AckStatus::Rejected => "rejected",
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

#[derive(FromRow)]
struct AckRow {
    status: String,
    rev: Option<i64>,
    error: Option<String>,
}

#[derive(FromRow)]
struct EntityRow {
    rev: i64,
    data: String,
}

/// Parses a pull cursor (`c:<seq>`); absent means the beginning.
pub fn parse_cursor(cursor: Option<&str>) -> Option<i64> {
    match cursor {
        None | Some("") => Some(0),
        Some(text) => text
            .strip_prefix("c:")?
            .parse()
            .ok()
            .filter(|seq: &i64| *seq >= 0),
    }
}

fn format_cursor(seq: i64) -> String {
    format!("c:{seq}")
}

impl Store {
    /// Applies a batch in outbox order, one transaction per mutation, stopping at a seq gap.
    pub async fn push(
        &self,
        author: &Author<'_>,
        device: DeviceId,
        mutations: &[Mutation],
    ) -> Result<PushResponse, sqlx::Error> {
        let author = &Author {
            row_lock: match self.backend {
                Backend::Postgres => " FOR UPDATE",
                Backend::Sqlite => "",
            },
            ..*author
        };
        let mut acks = Vec::with_capacity(mutations.len());
        for mutation in mutations {
            match self.push_one(author, device, mutation).await? {
                Outcome::Ack(ack) => acks.push(ack),
                Outcome::Gap(expected) => {
                    return Ok(PushResponse {
                        acks,
                        gap: Some(Gap { expected }),
                    });
                }
            }
        }
        Ok(PushResponse { acks, gap: None })
    }

    async fn push_one(
        &self,
        author: &Author<'_>,
        device: DeviceId,
        mutation: &Mutation,
    ) -> Result<Outcome, sqlx::Error> {
        let device_id = device.to_string();
        // A concurrent push of the same device can win the race for this seq; then the second
        // look finds either its stored ack (a duplicate) or the gap. A concurrent creation of
        // the same record by another device is retried as an update.
        for _ in 0..3 {
            let mut tx = self.writer.begin().await?;
            if let Some(ack) = stored_ack(&mut tx, &device_id, mutation.mutation_id).await? {
                return Ok(Outcome::Ack(ack));
            }
            let advanced =
                match i64::try_from(mutation.seq) {
                    Ok(seq) if seq > 0 => sqlx::query(
                        "UPDATE devices SET last_seq = $1 WHERE device_id = $2 AND last_seq = $3",
                    )
                    .bind(seq)
                    .bind(&device_id)
                    .bind(seq - 1)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        == 1,
                    _ => false,
                };
            if !advanced {
                tx.rollback().await?;
                let last: i64 =
                    sqlx::query_scalar("SELECT last_seq FROM devices WHERE device_id = $1")
                        .bind(&device_id)
                        .fetch_optional(&self.writer)
                        .await?
                        .unwrap_or(0);
                let expected = u64::try_from(last).unwrap_or(0) + 1;
                if mutation.seq != expected {
                    let mut tx = self.writer.begin().await?;
                    if let Some(ack) = stored_ack(&mut tx, &device_id, mutation.mutation_id).await?
                    {
                        return Ok(Outcome::Ack(ack));
                    }
                    return Ok(Outcome::Gap(expected));
                }
                continue;
            }
            let (ack, changes) = match apply(&mut tx, author, mutation).await {
                Ok(Ok(applied)) => {
                    let ack = Ack {
                        mutation_id: mutation.mutation_id,
                        status: AckStatus::Applied,
                        rev: Some(applied.rev),
                        error: None,
                    };
                    (ack, applied.changes)
                }
                Ok(Err(error)) => {
                    let ack = Ack {
                        mutation_id: mutation.mutation_id,
                        status: AckStatus::Rejected,
                        rev: None,
                        error: Some(error),
                    };
                    (ack, Vec::new())
                }
                // Another device created the same record (or claimed the same credit code) at
                // the same moment: start over, and this time see what it wrote.
                Err(error) if is_unique_violation(&error) => {
                    tx.rollback().await?;
                    continue;
                }
                Err(error) => return Err(error),
            };
            sqlx::query(
                "INSERT INTO acks (device_id, mutation_id, seq, user_id, kind, entity_id, status, \
                 rev, error, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&device_id)
            .bind(mutation.mutation_id.to_string())
            .bind(i64::try_from(mutation.seq).unwrap_or(i64::MAX))
            .bind(author.user.id.to_string())
            .bind(mutation.kind.as_str())
            .bind(mutation.entity_id.to_string())
            .bind(status_name(ack.status))
            .bind(ack.rev)
            .bind(ack.error.as_ref().map(to_json).transpose()?)
            .bind(now())
            .execute(&mut *tx)
            .await?;
            // The change counter is taken last, so its row lock is held only for the commit.
            append_changes(&mut tx, &changes).await?;
            tx.commit().await?;
            return Ok(Outcome::Ack(ack));
        }
        Err(sqlx::Error::Protocol(
            "push kept racing with another push of the same device".into(),
        ))
    }

    /// One page of the changes visible in `scope` (and, for enterprises, `directory`) after
    /// `cursor`.
    pub async fn pull(
        &self,
        scope: &Scope,
        directory: &Scope,
        cursor: i64,
        limit: u32,
    ) -> Result<PullResponse, sqlx::Error> {
        #[derive(FromRow)]
        struct LogRow {
            seq: i64,
            entity: String,
            entity_id: String,
            detail: Option<String>,
        }
        let mut binds: Vec<String> = Vec::new();
        let record_filter = match scope.org_ids() {
            None => "entity <> 'enterprise'".to_owned(),
            Some(ids) => {
                let sql = format!(
                    "(entity <> 'enterprise' AND org_id IN ({}))",
                    placeholders(3 + binds.len(), ids.len()).if_empty("NULL")
                );
                binds.extend(ids);
                sql
            }
        };
        let directory_filter = match directory.org_ids() {
            None => "entity = 'enterprise'".to_owned(),
            Some(ids) => {
                let sql = format!(
                    "(entity = 'enterprise' AND org_id IN ({}))",
                    placeholders(3 + binds.len(), ids.len()).if_empty("NULL")
                );
                binds.extend(ids);
                sql
            }
        };
        let sql = format!(
            "SELECT seq, entity, entity_id, detail FROM change_log \
             WHERE seq > $1 AND ({record_filter} OR {directory_filter}) ORDER BY seq LIMIT $2"
        );
        let mut query = sqlx::query_as::<_, LogRow>(AssertSqlSafe(sql))
            .bind(cursor)
            .bind(i64::from(limit) + 1);
        for bind in binds {
            query = query.bind(bind);
        }
        let mut rows = query.fetch_all(&self.pool).await?;
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = rows.last().map_or(cursor, |row| row.seq);

        // Only the latest change of each record matters: its data is the current state.
        let mut latest: Vec<(EntityKind, String, Option<String>)> = Vec::new();
        let mut seen = BTreeSet::new();
        for row in rows.iter().rev() {
            let key = (
                row.entity.clone(),
                row.entity_id.clone(),
                row.detail.clone(),
            );
            if seen.insert(key) {
                latest.push((
                    parse_entity(&row.entity)?,
                    row.entity_id.clone(),
                    row.detail.clone(),
                ));
            }
        }
        latest.reverse();

        let mut current: HashMap<(EntityKind, String, Option<String>), (i64, String)> =
            HashMap::new();
        for (kind, table) in [
            (EntityKind::Inspection, "inspections"),
            (EntityKind::Finding, "findings"),
            (EntityKind::Enterprise, "enterprises"),
        ] {
            let ids: Vec<&String> = latest
                .iter()
                .filter(|(k, _, _)| *k == kind)
                .map(|(_, id, _)| id)
                .collect();
            if ids.is_empty() {
                continue;
            }
            #[derive(FromRow)]
            struct Row {
                id: String,
                rev: i64,
                data: String,
            }
            let sql = format!(
                "SELECT id, rev, data FROM {table} WHERE id IN ({})",
                placeholders(1, ids.len())
            );
            let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql));
            for id in ids {
                query = query.bind(id.clone());
            }
            for row in query.fetch_all(&self.pool).await? {
                current.insert((kind, row.id, None), (row.rev, row.data));
            }
        }
        let owners: BTreeSet<&String> = latest
            .iter()
            .filter(|(k, _, _)| *k == EntityKind::Photo)
            .map(|(_, id, _)| id)
            .collect();
        if !owners.is_empty() {
            #[derive(FromRow)]
            struct Row {
                owner_id: String,
                hash: String,
                data: Option<String>,
            }
            let sql = format!(
                "SELECT owner_id, hash, data FROM photo_refs WHERE source = 'attach' \
                 AND owner_id IN ({})",
                placeholders(1, owners.len())
            );
            let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql));
            for owner in owners {
                query = query.bind(owner.clone());
            }
            for row in query.fetch_all(&self.pool).await? {
                if let Some(data) = row.data {
                    current.insert((EntityKind::Photo, row.owner_id, Some(row.hash)), (1, data));
                }
            }
        }

        let mut changes = Vec::with_capacity(latest.len());
        for key in latest {
            let id: Uuid = parse_id(&key.1)?;
            let change = match current.remove(&key) {
                Some((rev, data)) => Change {
                    entity: key.0,
                    id,
                    rev,
                    data: Some(from_json(&data)?),
                    deleted: false,
                },
                None => Change {
                    entity: key.0,
                    id,
                    rev: 0,
                    data: None,
                    deleted: true,
                },
            };
            changes.push(change);
        }
        Ok(PullResponse {
            changes,
            cursor: format_cursor(next_cursor),
            has_more,
        })
    }

    /// The newest change-log seq (for tests and the benchmark).
    pub async fn last_change_seq(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT last FROM change_counter WHERE id = 1")
            .fetch_one(&self.pool)
            .await
    }

    /// A stored finding with its rev.
    pub async fn finding(&self, id: &str) -> Result<Option<(i64, Finding)>, sqlx::Error> {
        let row = sqlx::query_as::<_, EntityRow>("SELECT rev, data FROM findings WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((row.rev, from_json(&row.data)?)))
            .transpose()
    }

    /// A stored inspection with its rev.
    pub async fn inspection(&self, id: &str) -> Result<Option<(i64, Inspection)>, sqlx::Error> {
        let row = sqlx::query_as::<_, EntityRow>("SELECT rev, data FROM inspections WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((row.rev, from_json(&row.data)?)))
            .transpose()
    }

    /// How many revisions were kept for a record (tests: nothing silently overwritten).
    pub async fn revision_count(&self, entity: EntityKind, id: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM revisions WHERE entity = $1 AND entity_id = $2")
            .bind(entity_name(entity))
            .bind(id)
            .fetch_one(&self.pool)
            .await
    }
}

trait IfEmpty {
    fn if_empty(self, fallback: &str) -> String;
}

impl IfEmpty for String {
    fn if_empty(self, fallback: &str) -> String {
        if self.is_empty() {
            fallback.to_owned()
        } else {
            self
        }
    }
}

async fn stored_ack(
    tx: &mut Tx,
    device_id: &str,
    mutation_id: MutationId,
) -> Result<Option<Ack>, sqlx::Error> {
    let row = sqlx::query_as::<_, AckRow>(
        "SELECT status, rev, error FROM acks WHERE device_id = $1 AND mutation_id = $2",
    )
    .bind(device_id)
    .bind(mutation_id.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|row| {
        // A replay of an applied mutation answers `duplicate` with the stored rev; a replay of
        // a rejected one answers the stored rejection again, so the device still sees why.
        let status = if row.status == "rejected" {
            AckStatus::Rejected
        } else {
            AckStatus::Duplicate
        };
        Ok(Ack {
            mutation_id,
            status,
            rev: row.rev,
            error: row.error.as_deref().map(from_json).transpose()?,
        })
    })
    .transpose()
}

async fn append_changes(tx: &mut Tx, changes: &[ChangeRow]) -> Result<(), sqlx::Error> {
    if changes.is_empty() {
        return Ok(());
    }
    let count = i64::try_from(changes.len()).unwrap_or(i64::MAX);
    let last: i64 = sqlx::query_scalar(
        "UPDATE change_counter SET last = last + $1 WHERE id = 1 RETURNING last",
    )
    .bind(count)
    .fetch_one(&mut **tx)
    .await?;
    let created_at = now();
    for (seq, change) in (last - count + 1..).zip(changes) {
        sqlx::query(
            "INSERT INTO change_log (seq, entity, entity_id, org_id, rev, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(seq)
        .bind(entity_name(change.entity))
        .bind(change.id.to_string())
        .bind(change.org_id.to_string())
        .bind(change.rev)
        .bind(change.detail.clone())
        .bind(&created_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Validates and applies one mutation inside `tx`. Writes happen only once every check passed,
/// so a rejection leaves nothing behind but its ack.
async fn apply(
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
    sqlx::query(insert_or_update(
        "INSERT INTO findings (id, inspection_id, org_id, created_by, status, level, deadline, \
         flagged, rev, data, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, level = excluded.level, \
         deadline = excluded.deadline, flagged = CASE WHEN excluded.flagged = 1 THEN 1 \
         ELSE findings.flagged END, rev = excluded.rev, data = excluded.data, \
         updated_at = excluded.updated_at",
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
